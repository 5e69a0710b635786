"""The wasmtime engine configured for deterministic execution, and its module cache.

Every replica must compute the same result from the same block, so the engine turns off
everything that could differ between machines: threads, relaxed SIMD (whose results are
implementation-defined), and NaN bit patterns (canonicalized by cranelift). Fuel metering
is on: it is the instruction counter, the instruction limit and the cycles charge at once.
WASI is never linked; the only imports a canister gets are the ``ic0`` functions.

Compilation is the expensive step (hundreds of milliseconds for a Motoko canister), so
compiled modules are cached by the SHA-256 of the module bytes: installing the same module
on many canisters, or reinstalling it, compiles once.
"""

from __future__ import annotations

import ctypes
import hashlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import wasmtime

from node.execution.errors import InvalidModule
from node.execution.system_api import IC0_FUNCTIONS, SystemApi
from node.execution.validation import ModuleInfo, decode_module_bytes, parse, validate
from node.execution.wasm_binary import InstrumentationPlan, instrument
from vocab.wasm import F32, F64, I32, I64, WasmFormatError

_VALTYPES = {
    I32: wasmtime.ValType.i32,
    I64: wasmtime.ValType.i64,
    F32: wasmtime.ValType.f32,
    F64: wasmtime.ValType.f64,
}

DEFAULT_CACHE_SIZE = 64


def deterministic_config() -> wasmtime.Config:
    """The wasmtime configuration every replica uses."""
    config = wasmtime.Config()
    config.consume_fuel = True
    config.cranelift_nan_canonicalization = True
    config.wasm_threads = False
    config.wasm_relaxed_simd = False
    config.wasm_simd = True
    config.wasm_memory64 = True
    config.wasm_bulk_memory = True
    config.wasm_multi_value = True
    config.wasm_reference_types = True
    # multi-memory is needed by instrumentation (the dirty-page map is a second memory);
    # canister modules themselves are limited to one memory by validation.
    config.wasm_multi_memory = True
    config.wasm_tail_call = False
    config.wasm_exceptions = False
    config.wasm_gc = False
    config.wasm_function_references = False
    config.wasm_component_model = False
    config.wasm_custom_page_sizes = False
    config.wasm_wide_arithmetic = False
    config.wasm_stack_switching = False
    # Deep recursion must trap the same way everywhere: a fixed stack budget.
    config.max_wasm_stack = 2 * 1024 * 1024
    return config


@dataclass(frozen=True)
class CompiledModule:
    """A validated, instrumented and compiled canister module."""

    module_hash: bytes
    """SHA-256 of the bytes as installed (compressed or not), as the IC reports it."""
    raw_size: int
    info: ModuleInfo
    plan: InstrumentationPlan
    module: wasmtime.Module
    wasm: bytes
    """The decompressed, uninstrumented module (kept for snapshots and metadata)."""


class ExecutionEngine:
    """One wasmtime engine, its ``ic0`` linkers and its compiled-module cache."""

    def __init__(self, cache_size: int = DEFAULT_CACHE_SIZE) -> None:
        self.wasm_engine = wasmtime.Engine(deterministic_config())
        self.api = SystemApi()
        self._linkers: dict[bool, wasmtime.Linker] = {}
        self._cache: OrderedDict[bytes, CompiledModule] = OrderedDict()
        self._cache_size = cache_size
        self.compilations = 0

    def linker(self, memory64: bool) -> wasmtime.Linker:
        linker = self._linkers.get(memory64)
        if linker is None:
            linker = wasmtime.Linker(self.wasm_engine)
            for spec in IC0_FUNCTIONS:
                if spec.only32 and memory64:
                    continue
                params, results = spec.signature(memory64)
                ftype = wasmtime.FuncType([_VALTYPES[t]() for t in params], [_VALTYPES[t]() for t in results])
                linker.define_func(
                    "ic0", spec.name, ftype, self.api.host_function(spec, memory64), access_caller=True
                )
            self._linkers[memory64] = linker
        return linker

    def compile(self, raw: bytes) -> CompiledModule:
        """Validate, instrument and compile ``raw`` (plain or gzip), or raise InvalidModule."""
        module_hash = hashlib.sha256(raw).digest()
        cached = self._cache.get(module_hash)
        if cached is not None:
            self._cache.move_to_end(module_hash)
            return cached
        wasm = decode_module_bytes(raw)
        parsed = parse(wasm)
        info = validate(parsed)
        try:
            wasmtime.Module.validate(self.wasm_engine, wasm)
        except wasmtime.WasmtimeError as exc:
            raise InvalidModule("wasm-validation", _first_line(str(exc))) from exc
        try:
            instrumented = instrument(wasm, parsed)
        except WasmFormatError as exc:
            raise InvalidModule("unsupported-feature", str(exc)) from exc
        if instrumented.plan.table_mutations:
            raise InvalidModule(
                "table-mutation",
                "the module changes its tables at run time ("
                + ", ".join(instrumented.plan.table_mutations)
                + "); this execution layer cannot roll such changes back and refuses the module",
            )
        try:
            module = wasmtime.Module(self.wasm_engine, instrumented.wasm)
        except wasmtime.WasmtimeError as exc:
            raise InvalidModule("wasm-validation", _first_line(str(exc))) from exc
        self.compilations += 1
        compiled = CompiledModule(module_hash, len(raw), info, instrumented.plan, module, wasm)
        self._cache[module_hash] = compiled
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return compiled


def _public_call_unit(func: wasmtime.Func, store: wasmtime.Store) -> None:
    func(store)


def _make_call_unit() -> Callable[[wasmtime.Func, wasmtime.Store], None]:
    """A caller for ``() -> ()`` functions that skips wasmtime-py's per-call type lookup.

    ``Func.__call__`` asks wasmtime for the function's type and converts arguments on every
    call, which costs as much as a small canister method. Entry points are all ``() -> ()``,
    so the call can go straight to ``wasmtime_func_call``, with traps and host exceptions
    handled exactly as ``Func.__call__`` handles them. If the installed wasmtime-py lacks the
    internals this relies on, the public (slower) call is used instead.
    """
    try:
        from wasmtime import _ffi as ffi
        from wasmtime._func import enter_wasm

        call = ffi.wasmtime_func_call
        from_ptr = wasmtime.WasmtimeError._from_ptr
    except (ImportError, AttributeError):  # pragma: no cover - depends on wasmtime-py
        return _public_call_unit

    def call_unit(func: wasmtime.Func, store: wasmtime.Store) -> None:
        with enter_wasm(store) as trap:
            error = call(store._context(), ctypes.byref(func._func), None, 0, None, 0, trap)
            if error:
                raise from_ptr(error)

    return call_unit


call_unit = _make_call_unit()


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return " / ".join(lines[:4]) if lines else text


_DEFAULT: ExecutionEngine | None = None


def default_engine() -> ExecutionEngine:
    """A process-wide engine, so that environments in one process share compiled modules.

    Sharing is safe: the engine holds no canister state, only compiled code and the host
    function table, and execution never interleaves two messages.
    """
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = ExecutionEngine()
    return _DEFAULT
