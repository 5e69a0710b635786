"""The framework's compiled modules on disk (``node.sui.framework_cache``): compiled once,
read back by the next process as the same bytes, and compiled again when the file is
missing or damaged."""

from __future__ import annotations

from pathlib import Path

import pytest

from node.sui import framework_cache
from node.sui.ledger import _compile_framework_modules

MODULES = ((("a", b"\x00asm-a"), ("b", b"\x00asm-b")), (("c", b"\x00asm-c"),))


def test_modules_are_compiled_once_then_read_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(framework_cache.CACHE_ENV, str(tmp_path))
    calls = []

    def compile_modules() -> framework_cache.FrameworkModules:
        calls.append(1)
        return MODULES

    assert framework_cache.cached(compile_modules) == MODULES
    assert framework_cache.cached(compile_modules) == MODULES
    assert len(calls) == 1
    (stored,) = tmp_path.glob("framework-*.msgpack")
    assert stored.name == f"framework-{framework_cache.source_key()}.msgpack"
    stored.write_bytes(b"\x93damaged")  # not the shape: compiled again and rewritten
    assert framework_cache.cached(compile_modules) == MODULES
    assert len(calls) == 2 and framework_cache.cached(compile_modules) == MODULES and len(calls) == 2


def test_an_unwritable_folder_only_costs_a_compilation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    monkeypatch.setenv(framework_cache.CACHE_ENV, str(blocked / "cache"))
    assert framework_cache.cached(lambda: MODULES) == MODULES


def test_the_cached_framework_is_the_compiled_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(framework_cache.CACHE_ENV, str(tmp_path))
    compiled = _compile_framework_modules()
    assert framework_cache.cached(_compile_framework_modules) == compiled  # written
    assert framework_cache.cached(lambda: pytest.fail("compiled again")) == compiled  # read back
