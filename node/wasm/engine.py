"""The wasmtime engine configured for deterministic execution, and its module cache.

Every replica must compute the same result from the same input, so the engine turns off
everything that could differ between machines: threads, relaxed SIMD (whose results are
implementation-defined), and NaN bit patterns (canonicalized by cranelift). Fuel metering
is on: it is the instruction counter, the instruction limit and the cycles charge at once.
WASI is never linked; a module gets only the host imports its user hands over.

Compilation is the expensive step (hundreds of milliseconds for a Motoko canister), so
compiled modules are cached by the SHA-256 of the module bytes (and the rules they were
checked against): installing the same module on many canisters, or reinstalling it,
compiles once.
"""

from __future__ import annotations

import ctypes
import hashlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import wasmtime

from node.wasm.errors import ModuleRejected
from node.wasm.host import HostImports
from node.wasm.instrument import InstrumentationPlan, instrument
from node.wasm.validation import check_engine_limits, decode_module_bytes, parse
from vocab.wasm import F32, F64, I32, I64, WasmFormatError, WasmModule

_VALTYPES = {
    I32: wasmtime.ValType.i32,
    I64: wasmtime.ValType.i64,
    F32: wasmtime.ValType.f32,
    F64: wasmtime.ValType.f64,
}

DEFAULT_CACHE_SIZE = 64

InfoT = TypeVar("InfoT")

ModuleRules = Callable[[WasmModule], InfoT]
"""A host API's own module checks: raise ``ModuleRejected`` or return what it needs later."""


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
    # modules themselves are limited to one memory by validation.
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
class CompiledModule(Generic[InfoT]):
    """A validated, instrumented and compiled module, with what its rules said about it."""

    module_hash: bytes
    """SHA-256 of the bytes as given (compressed or not)."""
    raw_size: int
    info: InfoT
    plan: InstrumentationPlan
    module: wasmtime.Module
    wasm: bytes
    """The decompressed, uninstrumented module (kept for snapshots and metadata)."""

    @property
    def memory64(self) -> bool:
        return self.plan.memory64


class WasmEngine:
    """One wasmtime engine, a linker per host import table, and the compiled-module cache."""

    def __init__(self, cache_size: int = DEFAULT_CACHE_SIZE) -> None:
        self.wasm_engine = wasmtime.Engine(deterministic_config())
        self._linkers: dict[int, tuple[HostImports, wasmtime.Linker]] = {}
        self._cache: OrderedDict[tuple[bytes, Any], CompiledModule[Any]] = OrderedDict()
        self._cache_size = cache_size
        self.compilations = 0

    def linker(self, imports: HostImports) -> wasmtime.Linker:
        """The linker defining ``imports``, built once per table (kept alive with it)."""
        entry = self._linkers.get(id(imports))
        if entry is not None:
            return entry[1]
        linker = wasmtime.Linker(self.wasm_engine)
        for (module, name), function in imports.functions.items():
            ftype = wasmtime.FuncType(
                [_VALTYPES[t]() for t in function.params], [_VALTYPES[t]() for t in function.results]
            )
            linker.define_func(module, name, ftype, function.call, access_caller=True)
        self._linkers[id(imports)] = (imports, linker)
        return linker

    def compile(self, raw: bytes, rules: ModuleRules[InfoT]) -> CompiledModule[InfoT]:
        """Validate (the engine's checks, then ``rules``), instrument and compile ``raw``.

        ``raw`` is a Wasm binary or its gzip; a refused module raises ``ModuleRejected``.
        """
        module_hash = hashlib.sha256(raw).digest()
        key = (module_hash, rules)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        wasm = decode_module_bytes(raw)
        parsed = parse(wasm)
        check_engine_limits(parsed)
        info = rules(parsed)
        try:
            wasmtime.Module.validate(self.wasm_engine, wasm)
        except wasmtime.WasmtimeError as exc:
            raise ModuleRejected("wasm-validation", _first_line(str(exc))) from exc
        try:
            instrumented = instrument(wasm, parsed)
        except WasmFormatError as exc:
            raise ModuleRejected("unsupported-feature", str(exc)) from exc
        if instrumented.plan.table_mutations:
            raise ModuleRejected(
                "table-mutation",
                "the module changes its tables at run time ("
                + ", ".join(instrumented.plan.table_mutations)
                + "); this execution layer cannot roll such changes back and refuses the module",
            )
        try:
            module = wasmtime.Module(self.wasm_engine, instrumented.wasm)
        except wasmtime.WasmtimeError as exc:
            raise ModuleRejected("wasm-validation", _first_line(str(exc))) from exc
        self.compilations += 1
        compiled = CompiledModule(module_hash, len(raw), info, instrumented.plan, module, wasm)
        self._cache[key] = compiled
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return compiled


def _public_call_unit(func: wasmtime.Func, store: wasmtime.Store) -> None:
    func(store)


def _make_call_unit() -> Callable[[wasmtime.Func, wasmtime.Store], None]:
    """A caller for ``() -> ()`` functions that skips wasmtime-py's per-call type lookup.

    ``Func.__call__`` asks wasmtime for the function's type and converts arguments on every
    call, which costs as much as a small method. Entry points are all ``() -> ()``,
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


_DEFAULT: WasmEngine | None = None


def default_engine() -> WasmEngine:
    """A process-wide engine, so that users in one process share compiled modules.

    Sharing is safe: the engine holds no module state, only compiled code and linkers, and
    execution never interleaves two calls.
    """
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = WasmEngine()
    return _DEFAULT
