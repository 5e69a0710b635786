"""The engine's own module checks: what it needs to run a module deterministically and to
roll it back, whatever host API the module is written against.

A module must fit the size limits (decompressed bytes, functions, globals), have at most
one memory and no shared one (threads are off), and keep its mutable globals to types the
instrumentation can save bit-exactly. A host API adds its own rules (imports, exports,
custom sections) on top; each failed check raises :class:`ModuleRejected` with the rule's
name.
"""

from __future__ import annotations

from node.wasm.errors import ModuleRejected
from vocab.wasm import (
    EXTERNREF,
    FUNCREF,
    MAX_MODULE_SIZE,
    V128,
    ModuleBytesError,
    WasmFormatError,
    WasmModule,
    parse_module,
    unwrap_module,
)

MAX_FUNCTIONS = 50_000
MAX_GLOBALS = 1_000
"""The IC's limits, which the engine adopts: the dirty map reserves 1,024 global flags."""


def decode_module_bytes(raw: bytes, max_size: int = MAX_MODULE_SIZE) -> bytes:
    """The Wasm binary of installed module bytes (plain or gzip)."""
    try:
        return unwrap_module(raw, max_size)
    except ModuleBytesError as exc:
        raise ModuleRejected(exc.rule, str(exc)) from exc


def parse(data: bytes) -> WasmModule:
    try:
        return parse_module(data)
    except WasmFormatError as exc:
        raise ModuleRejected("module-format", str(exc)) from exc


def check_engine_limits(module: WasmModule) -> None:
    """The checks every module passes before a host API's rules see it."""
    memory_count = len(module.memories) + len(module.imported_memories)
    if memory_count > 1:
        raise ModuleRejected(
            "memory-count", f"the module declares {memory_count} memories, at most 1 is allowed"
        )
    memory = module.memory
    if memory is not None and memory.shared:
        raise ModuleRejected("memory-shared", "shared memories (threads) are not allowed")
    if module.function_count > MAX_FUNCTIONS:
        raise ModuleRejected("function-count", f"{module.function_count} functions, at most {MAX_FUNCTIONS}")
    if len(module.globals) > MAX_GLOBALS:
        raise ModuleRejected("global-count", f"{len(module.globals)} globals, at most {MAX_GLOBALS}")
    for index, g in enumerate(module.globals):
        if g.mutable and g.valtype in (FUNCREF, EXTERNREF, V128):
            raise ModuleRejected(
                "global-type",
                f"mutable global {index} has a reference or v128 type, which this execution "
                "layer cannot snapshot for rollback",
            )
