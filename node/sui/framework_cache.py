"""The framework's compiled modules kept on disk between replica processes.

Compiling the Move framework is deterministic: the same compiler and framework sources
give the same Wasm bytes. So the bytes are stored under a key that is the SHA-256 of
every source that can change them (the ``move`` package, Move and Python files alike,
and the Wasm writer in ``vocab/wasm``) and of the Python version, and read back by the
next process instead of compiling again. A missing, unreadable or malformed file is
simply compiled again and rewritten (atomically: a temporary file, then a rename, so two
replicas starting together never read half a file). ``SUBNET_CACHE_DIR`` names the
folder; by default ``~/.cache/subnet``.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import msgpack

import move
import vocab.wasm

__all__ = ["CACHE_ENV", "FrameworkModules", "cache_dir", "cached", "source_key"]

CACHE_ENV = "SUBNET_CACHE_DIR"
FrameworkModules = tuple[tuple[tuple[str, bytes], ...], ...]
"""The modules of 0x1 and of 0x2: (name, Wasm) sorted by name."""


def cache_dir() -> Path:
    named = os.environ.get(CACHE_ENV)
    return Path(named) if named else Path.home() / ".cache" / "subnet"


def source_key() -> str:
    """A hash of every file that can change the framework's Wasm, in path order."""
    digest = hashlib.sha256(sys.version.encode())
    for root in (Path(move.__file__).parent, Path(vocab.wasm.__file__).parent):
        for path in sorted(p for p in root.rglob("*") if p.suffix in (".py", ".move", ".toml")):
            digest.update(str(path.relative_to(root.parent)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:32]


def _valid(value: object) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 2
        and all(
            isinstance(package, list)
            and all(
                isinstance(module, list)
                and len(module) == 2
                and isinstance(module[0], str)
                and isinstance(module[1], bytes)
                for module in package
            )
            for package in value
        )
    )


def cached(compile_modules: Callable[[], FrameworkModules]) -> FrameworkModules:
    """The framework's modules from the disk cache, or ``compile_modules()`` (then kept)."""
    path = cache_dir() / f"framework-{source_key()}.msgpack"
    try:
        value = msgpack.unpackb(path.read_bytes())
    except (OSError, ValueError, msgpack.UnpackException):
        value = None
    if _valid(value):
        assert isinstance(value, list)
        return tuple(tuple((name, wasm) for name, wasm in package) for package in value)
    modules = compile_modules()
    _store(path, msgpack.packb([[list(module) for module in package] for package in modules]))
    return modules


def _store(path: Path, data: bytes) -> None:
    """Write ``data`` at ``path`` whole or not at all; a folder that refuses it (a
    read-only home) leaves the cache empty, and each process compiles as before."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    except OSError:
        return
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except OSError:
        Path(temporary).unlink(missing_ok=True)
