"""The Move VM of a replica: compiled Move modules linked in one wasmtime store, one call run
with BCS arguments under a fuel limit, its results and object log returned as values.

A module is the Wasm the Move compiler wrote (``move.codegen``) with its ``move.module``
metadata. ``MoveVM.add_modules`` compiles each once (cached by digest: the framework is
shared by every package). A call links the modules its function reaches through imports,
dependencies first, into one store with one memory (``move.abi``): each module's constants
at its own data base, then the heap. The linked store is kept for the next call of the
same module (adding modules drops it): a call only resets the heap pointer, so the
per-call cost is writing the arguments, the Wasm itself, and reading the results.

Determinism: fuel is wasmtime's instruction count plus fixed charges for natives and heap
growth; the heap's logical end is reset every call, so a reused store charges exactly what
a fresh one would; nothing reads memory the call has not written.

Errors are typed, as Sui's execution statuses: ``MoveAbort`` (module, function, code),
``MovePrimitiveRuntimeError`` (arithmetic, vector bounds), ``InsufficientGas``,
``InvalidCall`` (unknown function, visibility, bad arguments), ``LinkError``.
"""

from __future__ import annotations

import ctypes
import hashlib
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import wasmtime

from move import abi
from move.types import Ability, ModuleId, Prim, PrimType, RefType, StructType, Type, VectorType, substitute
from node.sui.heap import U64_MASK, WASM_PAGE, BcsDecodeError, Heap, HeapError, Marshal, signed
from node.sui.natives import (
    NATIVE_FUEL,
    NATIVE_FUEL_PER_BYTE,
    NATIVES,
    NativeAbort,
    NativeFrame,
    NativeUnavailable,
    ObjectLog,
    TxContext,
    native_module,
)
from node.wasm import WasmEngine, default_engine
from vocab.wasm import KIND_FUNC, KIND_GLOBAL, KIND_MEMORY, WasmFormatError, parse_module

DEFAULT_HEAP_LIMIT = 64 * 1024 * 1024
"""Most bytes of memory one call may use."""
GROW_FUEL_PER_PAGE = 2000
"""Fuel charged per 64 KiB page the heap grows by."""
_SETUP_FUEL = 1 << 40
_I32 = wasmtime.ValType.i32()
_I64 = wasmtime.ValType.i64()
TX_CONTEXT = StructType(ModuleId(abi.FRAMEWORK, "tx_context"), "TxContext")


# -- errors -----------------------------------------------------------------------------------


class MoveError(Exception):
    """A Move call failed; ``status`` is the name of Sui's execution failure status.
    ``gas_used`` is the fuel the call burned before it failed (a failed transaction is
    charged for the work it did, as Sui charges an aborted one)."""

    status = "MoveError"
    gas_used = 0


class MoveAbort(MoveError):
    """``abort code`` in ``module::function`` (Sui's ``MoveAbort``)."""

    status = "MoveAbort"

    def __init__(self, module: ModuleId, function: str, code: int) -> None:
        super().__init__(f"MoveAbort in {module}::{function} with code {code}")
        self.module = module
        self.function = function
        self.code = code


class MovePrimitiveRuntimeError(MoveError):
    """Arithmetic error (overflow, zero divisor, shift, cast) or a vector operation error."""

    status = "MovePrimitiveRuntimeError"

    def __init__(self, module: ModuleId, function: str, kind: str) -> None:
        super().__init__(f"{kind} in {module}::{function}")
        self.module = module
        self.function = function
        self.kind = kind


class InsufficientGas(MoveError):
    status = "InsufficientGas"

    def __init__(self, limit: int) -> None:
        super().__init__(f"the call ran out of gas (limit {limit})")
        self.limit = limit


class InvalidCall(MoveError):
    """The call itself is wrong: no such function, not callable, bad arguments."""

    status = "InvalidCall"


class LinkError(MoveError):
    """A module cannot be loaded or linked (missing module, function or native; bad imports)."""

    status = "LinkError"


class VMError(MoveError):
    """The Wasm trapped in a way Move code cannot cause (a bad module), or memory ran out."""

    status = "VMError"


# -- modules ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FunctionInfo:
    name: str
    index: int
    visibility: str
    entry: bool
    native: bool
    type_params: tuple[Ability, ...]
    params: tuple[Type, ...]
    returns: tuple[Type, ...]


@dataclass(frozen=True)
class StructInfo:
    name: str
    abilities: Ability
    type_params: int
    fields: tuple[tuple[str, Type], ...]
    phantoms: tuple[bool, ...] = ()
    variants: tuple[tuple[str, tuple[tuple[str, Type], ...]], ...] | None = None
    """An enum's variants (name, fields), in declaration order; None for a struct."""


@dataclass(frozen=True)
class CompiledMoveModule:
    """A compiled module and what its metadata says."""

    id: ModuleId
    digest: bytes
    wasm: bytes
    module: wasmtime.Module
    functions: Mapping[str, FunctionInfo]
    function_names: tuple[str, ...]
    structs: Mapping[str, StructInfo]
    types: tuple[Type, ...]
    data_size: int
    dependencies: tuple[ModuleId, ...]
    """Modules this one imports functions from."""


_ENV_IMPORTS = {abi.MEMORY: KIND_MEMORY, abi.DATA_BASE: KIND_GLOBAL}
_RUNTIME_IMPORTS = {"fail", "grow", "big", "eq", "copy"} | {f"type{k}" for k in range(33)}


def _module_of_import(name: str) -> ModuleId | None:
    if not name.startswith("0x") or "::" not in name:
        return None
    address, module = name.split("::", 1)
    try:
        raw = bytes.fromhex(address[2:])
    except ValueError:
        return None
    if len(raw) != 32 or not module.isidentifier():
        return None
    return ModuleId(raw, module)


def load_module(engine: wasmtime.Engine, wasm: bytes) -> CompiledMoveModule:
    """Check a module's imports and metadata and compile it; ``LinkError`` says what is wrong."""
    try:
        parsed = parse_module(wasm)
        meta = abi.read_metadata(wasm)
    except WasmFormatError as exc:
        raise LinkError(f"not a Wasm module: {exc}") from exc
    except abi.MetadataError as exc:
        raise LinkError(str(exc)) from exc
    try:
        module_id = ModuleId(bytes.fromhex(meta["id"][0]), meta["id"][1])
        functions = {}
        for i, f in enumerate(meta["functions"]):
            functions[f["name"]] = FunctionInfo(
                f["name"],
                i,
                f["visibility"],
                bool(f["entry"]),
                bool(f["native"]),
                tuple(Ability(c) for _, c in f["type_params"]),
                tuple(abi.type_from_json(t) for t in f["params"]),
                tuple(abi.type_from_json(t) for t in f["returns"]),
            )
        structs = {
            s["name"]: StructInfo(
                s["name"],
                Ability(s["abilities"]),
                len(s["type_params"]),
                tuple((name, abi.type_from_json(t)) for name, t in s["fields"]),
                tuple(bool(p[2]) for p in s["type_params"]),
                None
                if "variants" not in s
                else tuple(
                    (str(v[0]), tuple((name, abi.type_from_json(t)) for name, t in v[1]))
                    for v in s["variants"]
                ),
            )
            for s in meta["structs"]
        }
        types = tuple(abi.type_from_json(t) for t in meta["types"])
        data_size = int(meta["data_size"])
    except (ValueError, KeyError, TypeError, IndexError, AssertionError) as exc:
        raise LinkError(f"the module's metadata is malformed: {exc}") from exc
    deps: list[ModuleId] = []
    if parsed.memories:
        raise LinkError("a Move module imports its memory and defines none")
    for imp in parsed.imports:
        where = f"import {imp.module}.{imp.name}"
        if imp.module == abi.ENV:
            if _ENV_IMPORTS.get(imp.name) != imp.kind:
                raise LinkError(f"{where} is not part of the Move ABI")
        elif imp.module == abi.RUNTIME:
            if imp.name not in _RUNTIME_IMPORTS or imp.kind != KIND_FUNC:
                raise LinkError(f"{where} is not part of the Move ABI")
        elif imp.module == abi.TYPES:
            if imp.kind != KIND_GLOBAL or not imp.name.isdigit() or int(imp.name) >= len(types):
                raise LinkError(f"{where} names no entry of the module's type table")
        elif imp.module == abi.NATIVE:
            if imp.kind != KIND_FUNC:
                raise LinkError(f"{where} is not a function")
        else:
            dep = _module_of_import(imp.module)
            if dep is None or imp.kind != KIND_FUNC:
                raise LinkError(f"{where} is not part of the Move ABI")
            if dep not in deps:
                deps.append(dep)
    try:
        compiled = wasmtime.Module(engine, wasm)
    except wasmtime.WasmtimeError as exc:
        raise LinkError(f"the module does not validate: {str(exc).splitlines()[0]}") from exc
    return CompiledMoveModule(
        module_id,
        hashlib.sha256(wasm).digest(),
        wasm,
        compiled,
        functions,
        tuple(f["name"] for f in meta["functions"]),
        structs,
        types,
        data_size,
        tuple(deps),
    )


# -- results ----------------------------------------------------------------------------------


@dataclass
class CallResult:
    """What a call returned (BCS), what it wrote through ``&mut`` arguments, and its object log."""

    returns: list[bytes]
    mutated: dict[int, bytes]
    """Argument position (as passed, the TxContext not counted) -> the value after the call."""
    log: ObjectLog
    gas_used: int
    return_types: list[Type] = field(default_factory=list)


# -- the VM -----------------------------------------------------------------------------------


class _Session:
    """The modules one function reaches, instantiated in one store with one memory."""

    def __init__(self, vm: MoveVM, root: ModuleId, package: bytes | None) -> None:
        self.vm = vm
        resolved = vm._closure(root, package)
        order = [module.id for module in resolved]
        by_id = {module.id: module for module in resolved}
        store = wasmtime.Store(vm.engine.wasm_engine)
        store.set_fuel(_SETUP_FUEL)
        self.store = store
        cursor = abi.RESERVED  # the heap pointer and the heap's end
        bases: dict[ModuleId, int] = {}
        for mid in order:
            bases[mid] = cursor
            cursor += -(-by_id[mid].data_size // abi.SLOT) * abi.SLOT
        self.heap_base = cursor
        pages = -(-(cursor + WASM_PAGE) // WASM_PAGE)
        self.initial_end = pages * WASM_PAGE
        max_pages = vm.heap_limit // WASM_PAGE
        self.memory = wasmtime.Memory(store, wasmtime.MemoryType(wasmtime.Limits(pages, max_pages)))
        self.heap = Heap(store, self.memory, vm.heap_limit)
        self.heap.reset(self.heap_base, self.initial_end)
        self.marshal = Marshal(self.heap, vm.layout, vm.variant_layouts)
        self.limit = 0
        self.log = ObjectLog()
        self.frame = NativeFrame(
            self.heap,
            self.marshal,
            vm.type_of,
            vm.intern,
            TxContext(bytes(32), bytes(32)),
            self.log,
            self.charge,
            vm.abilities,
            vm.defining_type,
            vm.original_package,
        )
        self.caller: Any = None
        self._shared = self._shared_runtime()
        self.instances: dict[ModuleId, dict[str, wasmtime.Func]] = {}
        self._callers: dict[tuple[ModuleId, str], Callable[[list[int]], list[int]]] = {}
        for mid in order:
            self._instantiate(by_id[mid], bases[mid])

    # -- fuel ------------------------------------------------------------------------------
    def charge(self, amount: int) -> None:
        context = self.caller if self.caller is not None else self.store
        fuel = wasmtime.Store.get_fuel(context)
        if amount > fuel:
            wasmtime.Store.set_fuel(context, 0)
            raise InsufficientGas(self.limit)
        wasmtime.Store.set_fuel(context, fuel - amount)

    # -- imports ---------------------------------------------------------------------------
    def _func(
        self, params: list[wasmtime.ValType], results: list[wasmtime.ValType], fn: Any
    ) -> wasmtime.Func:
        heap = self.heap

        def call(caller: Any, *args: int) -> Any:
            self.caller = caller
            heap.refresh()  # Wasm ran: the memory may have grown
            try:
                return fn(*args)
            finally:
                self.caller = None

        return wasmtime.Func(self.store, wasmtime.FuncType(params, results), call, access_caller=True)

    def _shared_runtime(self) -> dict[str, wasmtime.Func]:
        vm = self.vm

        def grow(end: int) -> None:
            try:
                pages = self.heap.grow(end & 0xFFFFFFFF)
            except HeapError as exc:
                raise VMError(str(exc)) from exc
            self.charge(GROW_FUEL_PER_PAGE * pages)

        def eq(descriptor: int, a: int, b: int) -> int:
            ty = vm.type_of(descriptor)
            left, right = self.marshal.encode(ty, a), self.marshal.encode(ty, b)
            self.charge(NATIVE_FUEL + len(left) + len(right))
            return 1 if left == right else 0

        def copy(descriptor: int, value: int) -> int:
            ty = vm.type_of(descriptor)
            if not abi.is_boxed(ty):
                return value
            data = self.marshal.encode(ty, value)
            self.charge(NATIVE_FUEL + 2 * len(data))
            return signed(self.marshal.decode(ty, data))

        def type_of_template(template: int, *args: int) -> int:
            ty = substitute(vm.type_of(template), tuple(vm.type_of(a) for a in args))
            return vm.intern(ty)

        funcs = {
            "grow": self._func([_I32], [], grow),
            "eq": self._func([_I64, _I64, _I64], [_I64], eq),
            "copy": self._func([_I64, _I64], [_I64], copy),
        }
        for k in range(33):
            funcs[f"type{k}"] = self._func([_I64] * (k + 1), [_I64], type_of_template)
        return funcs

    def _module_runtime(self, module: CompiledMoveModule) -> dict[str, wasmtime.Func]:
        names = module.function_names

        def function(where: int) -> str:
            return names[where] if 0 <= where < len(names) else f"<function {where}>"

        def fail(kind: int, code: int, where: int) -> None:
            if kind == abi.FAIL_ABORT:
                raise MoveAbort(module.id, function(where), code & U64_MASK)
            raise MovePrimitiveRuntimeError(
                module.id, function(where), abi.FAIL_NAMES.get(kind, f"failure {kind}")
            )

        def big(op: int, bits: int, a: int, b: int, where: int) -> int:
            self.charge(NATIVE_FUEL)
            result = _big(self.heap, op, bits, a & U64_MASK, b & U64_MASK)
            if result is None:
                raise MovePrimitiveRuntimeError(
                    module.id, function(where), abi.FAIL_NAMES[abi.FAIL_ARITHMETIC]
                )
            return signed(result)

        return {
            "fail": self._func([_I32, _I64, _I32], [], fail),
            "big": self._func([_I32, _I32, _I64, _I64, _I32], [_I64], big),
        }

    def _native(self, name: str, ftype: wasmtime.FuncType) -> wasmtime.Func:
        impl = NATIVES.get(name)
        frame = self.frame
        owner = native_module(name)
        function = name.rsplit("::", 1)[1]
        single = len(ftype.results) == 1

        def call(*args: int) -> Any:
            # a module may declare a native this host lacks: it links, and fails only if called
            if impl is None:
                raise LinkError(f"native function {name} is not implemented by this host")
            self.charge(NATIVE_FUEL)
            try:
                result = impl(frame, *[a & U64_MASK for a in args])
            except NativeAbort as stop:
                raise MoveAbort(owner, function, stop.code) from None
            except NativeUnavailable as exc:
                raise VMError(str(exc)) from None
            except HeapError as exc:
                raise VMError(str(exc)) from exc
            if single:
                return signed(int(result))
            return None if result is None else [signed(int(r)) for r in result]

        return self._func(list(ftype.params), list(ftype.results), call)

    def _instantiate(self, module: CompiledMoveModule, data_base: int) -> None:
        store = self.store
        vm = self.vm
        runtime = self._module_runtime(module)
        externs: list[Any] = []
        for imp in module.module.imports:
            kind_module, name = imp.module, imp.name or ""
            if kind_module == abi.ENV:
                if name == abi.MEMORY:
                    externs.append(self.memory)
                else:
                    externs.append(
                        wasmtime.Global(store, wasmtime.GlobalType(_I32, False), wasmtime.Val.i32(data_base))
                    )
            elif kind_module == abi.RUNTIME:
                externs.append(runtime.get(name) or self._shared[name])
            elif kind_module == abi.TYPES:
                handle = vm.intern(module.types[int(name)])
                externs.append(
                    wasmtime.Global(store, wasmtime.GlobalType(_I64, False), wasmtime.Val.i64(handle))
                )
            elif kind_module == abi.NATIVE:
                ftype = imp.type
                assert isinstance(ftype, wasmtime.FuncType)
                externs.append(self._native(name, ftype))
            else:
                dep = _module_of_import(kind_module)
                assert dep is not None
                exports = self.instances.get(dep)
                target = exports.get(name) if exports is not None else None
                if target is None:
                    raise LinkError(f"{module.id} calls {dep}::{name}, which does not exist")
                externs.append(target)
        try:
            instance = wasmtime.Instance(store, module.module, externs)
        except (wasmtime.WasmtimeError, wasmtime.Trap) as exc:
            raise LinkError(f"{module.id} cannot be linked: {str(exc).splitlines()[0]}") from exc
        found = instance.exports(store)
        funcs: dict[str, wasmtime.Func] = {}
        for name in module.functions:
            func = found.get(name)
            if isinstance(func, wasmtime.Func):
                funcs[name] = func
        self.instances[module.id] = funcs

    # -- one call --------------------------------------------------------------------------
    def caller_of(
        self, module: ModuleId, function: str, nparams: int, nresults: int
    ) -> Callable[[list[int]], list[int]]:
        key = (module, function)
        found = self._callers.get(key)
        if found is None:
            found = _make_caller(self.instances[module][function], self.store, nparams, nresults)
            self._callers[key] = found
        return found

    def reset(self, ctx: TxContext, limit: int, log: ObjectLog | None, shared: frozenset[bytes]) -> ObjectLog:
        store = self.store
        self.heap.reset(self.heap_base, self.initial_end)
        if log is None:
            log = ObjectLog(ids_created=ctx.ids_created)
        self.frame.ctx = ctx
        self.frame.log = log
        self.frame.shared = shared
        self.log = log
        self.limit = limit
        store.set_fuel(_SETUP_FUEL)
        return log


_SHIFTS = {abi.BIG_OP_INDEX["<<"], abi.BIG_OP_INDEX[">>"]}
_COMPARISONS = {abi.BIG_OP_INDEX[o]: o for o in ("<", "<=", ">", ">=", "==", "!=")}


def _big(heap: Heap, op: int, bits: int, a: int, b: int) -> int | None:
    """u128/u256 arithmetic; ``None`` is Move's arithmetic error."""
    size = bits // 8
    x = int.from_bytes(heap.read(a, size), "little")
    if op in _SHIFTS:
        if b >= bits:
            return None
        r = (x << b) & ((1 << bits) - 1) if op == abi.BIG_OP_INDEX["<<"] else x >> b
    else:
        y = int.from_bytes(heap.read(b, size), "little")
        name = abi.BIG_OPS[op]
        if op in _COMPARISONS:
            return int({"<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y, "==": x == y, "!=": x != y}[name])
        if name == "+":
            r = x + y
        elif name == "-":
            r = x - y
        elif name == "*":
            r = x * y
        elif name in ("/", "%"):
            if y == 0:
                return None
            r = x // y if name == "/" else x % y
        elif name == "&":
            r = x & y
        elif name == "|":
            r = x | y
        else:
            r = x ^ y
        if r < 0 or r >> bits:
            return None
    block = heap.alloc(size)
    heap.write(block, r.to_bytes(size, "little"))
    return block


def _make_caller(
    func: wasmtime.Func, store: wasmtime.Store, nparams: int, nresults: int
) -> Callable[[list[int]], list[int]]:
    """A caller of a Move function (i64 arguments and results) that skips wasmtime-py's
    per-call type lookup and value conversion, which cost as much as a small call; traps
    and host exceptions surface exactly as ``Func.__call__`` raises them. Falls back to the
    public call if the installed wasmtime-py lacks the internals this relies on."""
    try:
        from wasmtime import _ffi as ffi
        from wasmtime._func import enter_wasm

        wasm_call = ffi.wasmtime_func_call
        from_ptr = wasmtime.WasmtimeError._from_ptr
        kind = ffi.WASMTIME_I64.value
        params_type = ffi.wasmtime_val_t * max(nparams, 1)
        results_type = ffi.wasmtime_val_t * max(nresults, 1)
    except (ImportError, AttributeError):  # pragma: no cover - depends on wasmtime-py

        def public(args: list[int]) -> list[int]:
            raw = func(store, *args)
            return [] if raw is None else list(raw) if isinstance(raw, list) else [raw]

        return public
    target = ctypes.byref(func._func)

    def call(args: list[int]) -> list[int]:
        params = params_type()
        for i, value in enumerate(args):
            params[i].kind = kind  # type: ignore[assignment]
            params[i].of.i64 = value
        results = results_type()
        with enter_wasm(store) as trap:
            error = wasm_call(store._context(), target, params, nparams, results, nresults, trap)
            if error:
                raise from_ptr(error)
        return [results[i].of.i64 for i in range(nresults)]

    return call


_COMPILED: OrderedDict[tuple[int, bytes], CompiledMoveModule] = OrderedDict()
_COMPILED_LIMIT = 256


@dataclass(frozen=True)
class LoadedPackage:
    """One version of a package as the VM links it: its modules by name, and where each
    module address it names lives (its own original id -> its storage id, each dependency's
    original id -> the storage id of the version it links against; Sui's linkage table)."""

    storage_id: bytes
    original_id: bytes
    version: int
    modules: Mapping[str, CompiledMoveModule]
    linkage: Mapping[bytes, bytes]
    type_origins: Mapping[tuple[str, str], bytes] = field(default_factory=dict)
    """(module, struct) -> the storage id of the version that first defined it."""


class MoveVM:
    """Compiled Move modules, and calls of their functions.

    ``add_package`` loads one version of a package: its modules keep the package's original
    id (the runtime id, the address types and modules are known by), and a call made
    through that version (``call(..., package=storage_id)``) links every module it reaches
    through the version's linkage, as Sui's loader does: the package's own modules from
    that version, each dependency from the version the package was published against. So
    every version of an upgraded package stays callable, each with its own code, and all
    of them name their types by the original id, so an object made by one version is a
    value of the others. Struct layouts and abilities come from the newest version loaded
    (a compatible upgrade keeps layouts; ``move.compat``).

    ``add_modules`` loads modules without a package (tests, benchmarks): a call without
    ``package`` links the newest module loaded under each id.
    """

    def __init__(self, engine: WasmEngine | None = None, heap_limit: int = DEFAULT_HEAP_LIMIT) -> None:
        self.engine = engine or default_engine()
        self.heap_limit = heap_limit
        self.modules: dict[ModuleId, CompiledMoveModule] = {}
        """The newest version of each module, by runtime id (layouts, abilities, calls without a package)."""
        self.packages: dict[bytes, LoadedPackage] = {}
        self._latest: dict[bytes, LoadedPackage] = {}
        self._loose: dict[ModuleId, CompiledMoveModule] = {}
        self._sessions: dict[tuple[bytes | None, ModuleId], _Session] = {}
        self._types: list[Type] = []
        self._type_handles: dict[Type, int] = {}
        self._layouts: dict[StructType, list[Type]] = {}

    # -- modules ---------------------------------------------------------------------------
    def _compile(self, wasm: bytes) -> CompiledMoveModule:
        key = (id(self.engine), hashlib.sha256(wasm).digest())
        compiled = _COMPILED.get(key)
        if compiled is None:
            compiled = load_module(self.engine.wasm_engine, wasm)
            _COMPILED[key] = compiled
            while len(_COMPILED) > _COMPILED_LIMIT:
                _COMPILED.popitem(last=False)
        else:
            _COMPILED.move_to_end(key)
        return compiled

    def add_modules(self, modules: Iterable[bytes]) -> list[ModuleId]:
        """Compile (or find in the cache) and add modules outside any package; returns their ids."""
        ids = []
        for wasm in modules:
            compiled = self._compile(wasm)
            self._loose[compiled.id] = compiled
            ids.append(compiled.id)
        self._refresh()
        return ids

    def add_package(
        self,
        storage_id: bytes,
        original_id: bytes,
        version: int,
        modules: Iterable[bytes],
        linkage: Mapping[bytes, bytes],
        type_origins: Mapping[tuple[str, str], bytes] | None = None,
    ) -> list[ModuleId]:
        """Load one version of a package (modules at ``original_id``); ``linkage`` maps each
        dependency's original id to the storage id linked, ``type_origins`` each (module,
        struct) to the version that defined it (the original id if absent). Returns the
        modules' ids."""
        compiled = [self._compile(wasm) for wasm in modules]
        for module in compiled:
            if module.id.address != original_id:
                raise LinkError(
                    f"module {module.id} is not at the package's original id 0x{original_id.hex()}"
                )
        self.packages[storage_id] = LoadedPackage(
            storage_id,
            original_id,
            version,
            {m.id.name: m for m in compiled},
            {**linkage, original_id: storage_id},
            dict(type_origins or {}),
        )
        self._refresh(keep_linked=True)
        return [m.id for m in compiled]

    def remove_package(self, storage_id: bytes) -> None:
        """Forget a version loaded by a transaction that then failed."""
        if self.packages.pop(storage_id, None) is not None:
            self._refresh()

    def _refresh(self, *, keep_linked: bool = False) -> None:
        """The newest version of each module. Sessions hold codecs and links, so they go,
        except with ``keep_linked`` (a package was added): a session linked through a
        package's linkage table links the same modules whatever is added later, and a layout
        known before stays right (a new package's types are new; an upgrade keeps the
        layouts of the types it keeps, ``move.compat``), so only the sessions that link the
        newest modules go."""
        newest: dict[ModuleId, tuple[int, CompiledMoveModule]] = {}
        for package in self.packages.values():
            for module in package.modules.values():
                known = newest.get(module.id)
                if known is None or known[0] < package.version:
                    newest[module.id] = (package.version, module)
        self.modules = dict(self._loose)
        self.modules.update({mid: module for mid, (_, module) in newest.items()})
        self._latest = {}
        for package in self.packages.values():
            latest = self._latest.get(package.original_id)
            if latest is None or latest.version < package.version:
                self._latest[package.original_id] = package
        if keep_linked:
            self._sessions = {key: s for key, s in self._sessions.items() if key[0] is not None}
        else:
            self._sessions.clear()
            self._layouts.clear()

    def defining_type(self, ty: Type) -> Type:
        """``ty`` with each struct named by the package version that first defined it (Sui's
        defining ids, what ``type_name::get`` spells) rather than by the original id."""
        if isinstance(ty, VectorType):
            return VectorType(self.defining_type(ty.element))
        if not isinstance(ty, StructType):
            return ty
        address = ty.module.address
        latest = self._latest.get(address)
        if latest is not None:
            address = latest.type_origins.get((ty.module.name, ty.name), address)
        return StructType(
            ModuleId(address, ty.module.name), ty.name, tuple(self.defining_type(a) for a in ty.args)
        )

    def runtime_type(self, ty: Type) -> Type:
        """The inverse of ``defining_type``: each struct named by its package's original id
        (the VM's names), whichever version's id the given type used."""
        if isinstance(ty, VectorType):
            return VectorType(self.runtime_type(ty.element))
        if not isinstance(ty, StructType):
            return ty
        loaded = self.packages.get(ty.module.address)
        address = loaded.original_id if loaded is not None else ty.module.address
        return StructType(
            ModuleId(address, ty.module.name), ty.name, tuple(self.runtime_type(a) for a in ty.args)
        )

    def original_package(self, storage_id: bytes, version: int) -> bytes | None:
        """The original id of the package stored at ``storage_id`` if that is its ``version``."""
        loaded = self.packages.get(storage_id)
        if loaded is None or loaded.version != version:
            return None
        return loaded.original_id

    def resolve(self, module: ModuleId, package: bytes | None) -> CompiledMoveModule:
        """The module a call through ``package`` (a storage id; ``None``: the newest) links."""
        if package is not None:
            loaded = self.packages.get(package)
            if loaded is None:
                raise LinkError(f"package 0x{package.hex()} is not loaded")
            storage = loaded.linkage.get(module.address)
            if storage is not None:
                target = self.packages.get(storage)
                found = target.modules.get(module.name) if target is not None else None
                if found is None:
                    raise LinkError(f"module {module} is not in package 0x{storage.hex()}")
                return found
        found = self.modules.get(module)
        if found is None:
            raise LinkError(f"module {module} is not published")
        return found

    def _closure(self, root: ModuleId, package: bytes | None) -> list[CompiledMoveModule]:
        order: list[CompiledMoveModule] = []
        done: set[ModuleId] = set()
        visiting: set[ModuleId] = set()

        def visit(mid: ModuleId) -> None:
            if mid in done:
                return
            if mid in visiting:
                raise LinkError(f"modules import each other in a cycle through {mid}")
            module = self.resolve(mid, package)
            visiting.add(mid)
            for dep in module.dependencies:
                visit(dep)
            visiting.discard(mid)
            done.add(mid)
            order.append(module)

        visit(root)
        return order

    # -- types -----------------------------------------------------------------------------
    def intern(self, ty: Type) -> int:
        handle = self._type_handles.get(ty)
        if handle is None:
            handle = len(self._types)
            self._types.append(ty)
            self._type_handles[ty] = handle
        return handle

    def type_of(self, handle: int) -> Type:
        if not 0 <= handle < len(self._types):
            raise VMError(f"no type descriptor {handle}")
        return self._types[handle]

    def layout(self, ty: StructType) -> list[Type]:
        """The field types of an instantiated struct type."""
        found = self._layouts.get(ty)
        if found is None:
            module = self.modules.get(ty.module)
            info = module.structs.get(ty.name) if module is not None else None
            if info is None:
                raise LinkError(f"struct {ty.module}::{ty.name} is not published")
            if len(ty.args) != info.type_params:
                raise InvalidCall(
                    f"{ty} has {len(ty.args)} type arguments, the struct takes {info.type_params}"
                )
            # a struct without fields is one `dummy_field: bool`, as Move's compiler makes it
            found = [substitute(t, ty.args) for _, t in info.fields] or [PrimType(Prim.BOOL)]
            self._layouts[ty] = found
        return found

    def variant_layouts(self, ty: StructType) -> list[list[Type]] | None:
        """The field types of each variant of an instantiated enum type; None for a struct."""
        self.layout(ty)  # checks the type exists and its arity
        info = self.modules[ty.module].structs[ty.name]
        if info.variants is None:
            return None
        return [[substitute(t, ty.args) for _, t in fields] for _, fields in info.variants]

    def variant_names(self, ty: StructType) -> list[tuple[str, list[str]]]:
        """An enum's variants and their field names (for the JSON of values)."""
        info = self.modules[ty.module].structs[ty.name]
        return [(name, [f for f, _ in fields]) for name, fields in info.variants or ()]

    def abilities(self, ty: StructType) -> Ability:
        module = self.modules.get(ty.module)
        info = module.structs.get(ty.name) if module is not None else None
        if info is None:
            raise LinkError(f"struct {ty.module}::{ty.name} is not published")
        return info.abilities

    def type_abilities(self, ty: Type) -> Ability:
        """The abilities of an instantiated type, as Move computes them: a struct has a declared
        ability only if every non-phantom type argument has what it requires (``store`` for
        ``key``)."""
        if isinstance(ty, PrimType):
            return Ability.COPY | Ability.DROP | Ability.STORE
        if isinstance(ty, VectorType):
            return self.type_abilities(ty.element) & (Ability.COPY | Ability.DROP | Ability.STORE)
        if isinstance(ty, StructType):
            module = self.modules.get(ty.module)
            info = module.structs.get(ty.name) if module is not None else None
            if info is None:
                raise InvalidCall(f"struct {ty.module}::{ty.name} is not published")
            result = info.abilities
            for arg, phantom in zip(ty.args, info.phantoms, strict=False):
                if phantom:
                    continue
                has = self.type_abilities(arg)
                for ability in (Ability.COPY, Ability.DROP, Ability.STORE):
                    if ability not in has:
                        result &= ~ability
                if Ability.STORE not in has:
                    result &= ~Ability.KEY
            return result
        raise InvalidCall(f"{ty} is not a type argument")

    def field_names(self, ty: StructType) -> list[str]:
        self.layout(ty)
        return [name for name, _ in self.modules[ty.module].structs[ty.name].fields]

    def function(self, module: ModuleId, name: str, package: bytes | None = None) -> FunctionInfo:
        try:
            compiled = self.resolve(module, package)
        except LinkError:
            raise InvalidCall(f"module {module} is not published") from None
        info = compiled.functions.get(name)
        if info is None:
            raise InvalidCall(f"module {module} has no function {name}")
        return info

    # -- calls -----------------------------------------------------------------------------
    def call(
        self,
        module: ModuleId,
        function: str,
        args: Sequence[bytes],
        type_args: Sequence[Type] = (),
        *,
        ctx: TxContext,
        gas_limit: int,
        public_only: bool = True,
        log: ObjectLog | None = None,
        shared_inputs: frozenset[bytes] = frozenset(),
        package: bytes | None = None,
    ) -> CallResult:
        """Run ``module::function`` with BCS ``args`` (one per parameter, the ``TxContext``
        parameter excepted: the VM supplies it from ``ctx``).

        A by-reference parameter takes the referenced value's BCS; ``CallResult.mutated``
        holds the values behind ``&mut`` parameters after the call. ``public_only`` allows
        only what a transaction may call (public or entry functions). The commands of one
        transaction pass the same ``log`` (it accumulates, and its id counter carries over);
        ``shared_inputs`` are the ids of the transaction's shared objects. ``package`` is the
        storage id of the version called (``add_package``), whose linkage the call uses.
        """
        info = self.function(module, function, package)
        if public_only and info.visibility != "public" and not info.entry:
            raise InvalidCall(f"{module}::{function} is neither public nor entry")
        if info.native:
            raise InvalidCall(f"{module}::{function} is native and cannot be called directly")
        if len(type_args) != len(info.type_params):
            raise InvalidCall(
                f"{module}::{function} takes {len(info.type_params)} type arguments, got {len(type_args)}"
            )
        type_args = tuple(type_args)
        for index, (ty, required) in enumerate(zip(type_args, info.type_params, strict=True)):
            missing = required & ~self.type_abilities(ty)
            if missing:
                raise InvalidCall(
                    f"type argument {index} of {module}::{function} ({ty}) lacks "
                    f"{', '.join(missing.names())}, which the function requires"
                )
        params = [substitute(p, type_args) for p in info.params]
        takes_ctx = bool(params) and _is_tx_context(params[-1])
        given = params[:-1] if takes_ctx else params
        if len(args) != len(given):
            raise InvalidCall(f"{module}::{function} takes {len(given)} arguments, got {len(args)}")
        session = self._sessions.get((package, module))
        if session is None:
            session = _Session(self, module, package)
            self._sessions[(package, module)] = session
        log = session.reset(ctx, gas_limit, log, shared_inputs)
        marshal, heap = session.marshal, session.heap
        wasm_args: list[int] = [self.intern(t) for t in type_args]
        cells: list[tuple[int, int, Type]] = []
        try:
            for position, (ty, data) in enumerate(zip(given, args, strict=True)):
                inner = ty.inner if isinstance(ty, RefType) else ty
                try:
                    slot = marshal.decode(inner, data)
                except BcsDecodeError as exc:
                    raise InvalidCall(
                        f"argument {position} of {module}::{function} ({inner}): {exc}"
                    ) from None
                if isinstance(ty, RefType):
                    cell = heap.alloc(abi.SLOT)
                    heap.set_u64(cell, slot)
                    if ty.mutable:
                        cells.append((position, cell, inner))
                    slot = cell
                wasm_args.append(signed(slot))
            ctx_cell = -1
            if takes_ctx:
                ctx_type = params[-1]
                assert isinstance(ctx_type, RefType) and isinstance(ctx_type.inner, StructType)
                ctx_cell = heap.alloc(abi.SLOT)
                heap.set_u64(
                    ctx_cell, marshal.decode(ctx_type.inner, self._tx_context_bcs(ctx_type.inner, ctx, log))
                )
                wasm_args.append(ctx_cell)
        except HeapError as exc:
            raise VMError(str(exc)) from exc
        caller = session.caller_of(module, function, len(wasm_args), len(info.returns))
        store = session.store
        # reading the arguments costs their bytes, as writing the results does
        arguments_fuel = NATIVE_FUEL_PER_BYTE * sum(len(a) for a in args)
        if arguments_fuel > gas_limit:
            raise InsufficientGas(gas_limit)
        store.set_fuel(gas_limit - arguments_fuel)
        try:
            values = caller(wasm_args)
        except MoveError as error:  # an abort or a runtime error raised by a host function
            error.gas_used = gas_limit - store.get_fuel()
            raise
        except wasmtime.Trap as trap:
            if trap.trap_code == wasmtime.TrapCode.OUT_OF_FUEL:
                raise InsufficientGas(gas_limit) from None
            code = trap.trap_code
            what = code.name.lower().replace("_", " ") if code is not None else str(trap).splitlines()[0]
            raise VMError(f"the Wasm trapped: {what}") from None
        except HeapError as exc:
            raise VMError(str(exc)) from exc
        gas_used = gas_limit - store.get_fuel()
        heap.refresh()
        returns = [substitute(t, type_args) for t in info.returns]
        try:
            result = CallResult(
                [marshal.encode(t, v) for t, v in zip(returns, values, strict=True)],
                {position: marshal.encode(t, heap.u64(cell)) for position, cell, t in cells},
                log,
                gas_used,
                returns,
            )
            if takes_ctx:
                self._read_back_ids(params[-1], heap, ctx_cell, log)
        except HeapError as exc:
            raise VMError(str(exc)) from exc
        written = sum(len(r) for r in result.returns) + sum(len(m) for m in result.mutated.values())
        result.gas_used += NATIVE_FUEL_PER_BYTE * written
        if result.gas_used > gas_limit:
            raise InsufficientGas(gas_limit)
        return result

    def _tx_context_bcs(self, ty: StructType, ctx: TxContext, log: ObjectLog) -> bytes:
        """The BCS of the framework's ``TxContext`` struct, field by field by name."""
        values: dict[str, bytes] = {
            "sender": ctx.sender,
            "tx_hash": bytes([len(ctx.digest)]) + ctx.digest,
            "digest": bytes([len(ctx.digest)]) + ctx.digest,
            "epoch": ctx.epoch.to_bytes(8, "little"),
            "epoch_timestamp_ms": ctx.epoch_timestamp_ms.to_bytes(8, "little"),
            "ids_created": log.ids_created.to_bytes(8, "little"),
            "gas_price": ctx.gas_price.to_bytes(8, "little"),
            "gas_budget": ctx.gas_budget.to_bytes(8, "little"),
        }
        out = b""
        for name in self.field_names(ty):
            if name not in values:
                raise LinkError(f"the VM does not know how to fill TxContext field {name!r}")
            out += values[name]
        return out

    def _read_back_ids(self, ty: Type, heap: Heap, cell: int, log: ObjectLog) -> None:
        """A framework that counts ids in Move (``ids_created`` as a field) reports it back."""
        assert isinstance(ty, RefType) and isinstance(ty.inner, StructType)
        names = self.field_names(ty.inner)
        if "ids_created" in names and ty.mutable:
            block = heap.u64(cell)
            counted = heap.u64(block + abi.SLOT * names.index("ids_created"))
            log.ids_created = max(log.ids_created, counted)


def _is_tx_context(ty: Type) -> bool:
    return isinstance(ty, RefType) and ty.inner == TX_CONTEXT


__all__ = [
    "DEFAULT_HEAP_LIMIT",
    "CallResult",
    "CompiledMoveModule",
    "FunctionInfo",
    "InsufficientGas",
    "InvalidCall",
    "LinkError",
    "LoadedPackage",
    "MoveAbort",
    "MoveError",
    "MovePrimitiveRuntimeError",
    "MoveVM",
    "StructInfo",
    "TxContext",
    "VMError",
    "load_module",
]
