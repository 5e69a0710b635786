"""`subnet move new | build` as a Sui developer runs `sui move new | build`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from subnet.cli import main
from vocab.wasm import parse_module

EXAMPLES = Path(__file__).parent / "move_examples"


def test_new_then_build_writes_wasm_where_sui_writes_mv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["move", "new", "hello"]) == 0
    assert 'hello = "0x0"' in (tmp_path / "hello" / "Move.toml").read_text()
    assert main(["move", "new", "hello"]) == 1  # exists
    assert main(["move", "new", "9lives"]) == 1
    assert "not a valid package name" in capsys.readouterr().err
    assert main(["move", "build", "hello"]) == 0
    assert "BUILDING hello" in capsys.readouterr().out
    wasm = (tmp_path / "hello" / "build" / "hello" / "bytecode_modules" / "hello.wasm").read_bytes()
    assert any(s.name == "move.module" for s in parse_module(wasm).custom_sections)


def test_build_an_example_and_refuse_a_type_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    package = tmp_path / "counter"
    shutil.copytree(EXAMPLES / "counter", package)
    assert main(["move", "build", str(package), "--output", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["package"] == "basics" and [m["name"] for m in report["modules"]] == ["counter"]
    source = package / "sources" / "counter.move"
    text = source.read_text()
    assert "counter.value = counter.value + 1;" in text
    source.write_text(
        text.replace("counter.value = counter.value + 1;", "counter.value = counter.value + true;")
    )
    built = package / "build" / "basics" / "bytecode_modules" / "counter.wasm"
    before = built.read_bytes()
    assert main(["move", "build", str(package)]) == 1
    err = capsys.readouterr().err
    assert "counter.move:" in err and "error[E04007]: incompatible types" in err and "^" in err
    assert "failed to build package" in err and built.read_bytes() == before  # nothing written
