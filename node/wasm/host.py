"""The host imports a module is linked against, given to the engine by its user.

The engine links whatever table it is handed: the IC's ``ic0`` System API is one such
table (``node.ic.system_api``), a second programming model brings its own. A table is
built once by its host API and reused, so that the engine can keep one wasmtime linker
per table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class HostFunction:
    """One import: Wasm parameter and result types (``vocab.wasm.I32`` ...) and the code.

    ``call`` receives wasmtime's caller first (for heap access and fuel), then the
    arguments; it stops the Wasm call by raising a ``node.wasm.errors.WasmTrap``.
    """

    params: tuple[int, ...]
    results: tuple[int, ...]
    call: Callable[..., Any]


class HostImports:
    """A host API's functions by ``(module, name)``; identity matters (linkers are cached by it)."""

    def __init__(self, functions: Mapping[tuple[str, str], HostFunction]) -> None:
        self.functions: dict[tuple[str, str], HostFunction] = dict(functions)
