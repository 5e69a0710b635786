"""A small WebAssembly binary writer: types, imports, functions, globals, exports, data.

The Move compiler writes one Wasm module per Move module, and it learns which imports a
module needs only while it generates the bodies. Wasm numbers imports before defined
functions (and imported globals before defined ones), so indices are not known until the
module is complete. The writer therefore hands out *handles* (``Func``, ``GlobalRef``) and
instruction sequences (``Code``) refer to handles; ``ModuleBuilder.build`` numbers them
and encodes the bodies. Equal input gives equal bytes: nothing depends on dict or set
order beyond insertion order.

Only what a code generator needs is here (no tables, no element segments, no SIMD); the
output is read back by ``vocab.wasm.parse_module`` and validated by wasmtime in the tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vocab.leb128 import encode_leb128 as uleb
from vocab.leb128 import encode_sleb128 as sleb
from vocab.wasm.module import (
    I32,
    I64,
    KIND_FUNC,
    KIND_GLOBAL,
    KIND_MEMORY,
    MAGIC,
    SECTION_CODE,
    SECTION_CUSTOM,
    SECTION_DATA,
    SECTION_EXPORT,
    SECTION_FUNCTION,
    SECTION_GLOBAL,
    SECTION_IMPORT,
    SECTION_MEMORY,
    SECTION_TYPE,
    VERSION,
    FuncType,
)
from vocab.wasm.reader import encode_name

EMPTY_BLOCK = 0x40
"""The block type of a block that takes and leaves nothing."""


class Func:
    """A function handle: imported or defined; its index is known once the module is built."""

    __slots__ = ("name", "type", "index", "imported")

    def __init__(self, name: str, type_: FuncType, imported: bool) -> None:
        self.name = name
        self.type = type_
        self.imported = imported
        self.index = -1


class GlobalRef:
    """A global handle (imported or defined)."""

    __slots__ = ("name", "valtype", "mutable", "index", "imported")

    def __init__(self, name: str, valtype: int, mutable: bool, imported: bool) -> None:
        self.name = name
        self.valtype = valtype
        self.mutable = mutable
        self.imported = imported
        self.index = -1


class Code:
    """An instruction sequence; immediates are encoded as the format says (LEB128 etc.).

    Calls and global accesses name handles, resolved when the module is built.
    """

    __slots__ = ("parts", "_buf")

    def __init__(self) -> None:
        self.parts: list[bytes | tuple[int, Func | GlobalRef]] = []
        self._buf = bytearray()

    def _flush(self) -> None:
        if self._buf:
            self.parts.append(bytes(self._buf))
            self._buf = bytearray()

    def raw(self, data: bytes) -> Code:
        self._buf += data
        return self

    def op(self, opcode: int) -> Code:
        self._buf.append(opcode)
        return self

    def extend(self, other: Code) -> Code:
        other._flush()
        self._flush()
        self.parts.extend(other.parts)
        return self

    # -- constants and variables --------------------------------------------------------
    def i32_const(self, value: int) -> Code:
        if value >= 1 << 31:
            value -= 1 << 32
        self._buf.append(0x41)
        self._buf += sleb(value)
        return self

    def i64_const(self, value: int) -> Code:
        if value >= 1 << 63:
            value -= 1 << 64
        self._buf.append(0x42)
        self._buf += sleb(value)
        return self

    def local_get(self, index: int) -> Code:
        self._buf.append(0x20)
        self._buf += uleb(index)
        return self

    def local_set(self, index: int) -> Code:
        self._buf.append(0x21)
        self._buf += uleb(index)
        return self

    def local_tee(self, index: int) -> Code:
        self._buf.append(0x22)
        self._buf += uleb(index)
        return self

    def global_get(self, ref: GlobalRef) -> Code:
        return self._ref(0x23, ref)

    def global_set(self, ref: GlobalRef) -> Code:
        assert ref.mutable, f"global {ref.name} is immutable"
        return self._ref(0x24, ref)

    def call(self, func: Func) -> Code:
        return self._ref(0x10, func)

    def _ref(self, opcode: int, ref: Func | GlobalRef) -> Code:
        self._flush()
        self.parts.append((opcode, ref))
        return self

    # -- control ------------------------------------------------------------------------
    def block(self, blocktype: int | tuple[int, ...] = EMPTY_BLOCK) -> Code:
        return self._blocky(0x02, blocktype)

    def loop(self, blocktype: int | tuple[int, ...] = EMPTY_BLOCK) -> Code:
        return self._blocky(0x03, blocktype)

    def if_(self, blocktype: int | tuple[int, ...] = EMPTY_BLOCK) -> Code:
        return self._blocky(0x04, blocktype)

    def _blocky(self, opcode: int, blocktype: int | tuple[int, ...]) -> Code:
        """``blocktype``: ``EMPTY_BLOCK``, a value type, or ``(type_index,)`` for a block with
        several results (a type from ``ModuleBuilder.type_index``)."""
        self._buf.append(opcode)
        if isinstance(blocktype, tuple):
            self._buf += sleb(blocktype[0])
        else:
            self._buf.append(blocktype)
        return self

    def else_(self) -> Code:
        return self.op(0x05)

    def end(self) -> Code:
        return self.op(0x0B)

    def br(self, depth: int) -> Code:
        self._buf.append(0x0C)
        self._buf += uleb(depth)
        return self

    def br_if(self, depth: int) -> Code:
        self._buf.append(0x0D)
        self._buf += uleb(depth)
        return self

    def unreachable(self) -> Code:
        return self.op(0x00)

    def return_(self) -> Code:
        return self.op(0x0F)

    def drop(self) -> Code:
        return self.op(0x1A)

    def select(self) -> Code:
        return self.op(0x1B)

    # -- memory -------------------------------------------------------------------------
    def mem(self, opcode: int, align: int, offset: int = 0) -> Code:
        """A load or store: ``align`` is log2 of the natural alignment."""
        self._buf.append(opcode)
        self._buf += uleb(align)
        self._buf += uleb(offset)
        return self

    def i64_load(self, offset: int = 0) -> Code:
        return self.mem(0x29, 3, offset)

    def i64_store(self, offset: int = 0) -> Code:
        return self.mem(0x37, 3, offset)

    def i32_load(self, offset: int = 0) -> Code:
        return self.mem(0x28, 2, offset)

    def i32_store(self, offset: int = 0) -> Code:
        return self.mem(0x36, 2, offset)

    def i64_load8_u(self, offset: int = 0) -> Code:
        return self.mem(0x31, 0, offset)

    def i64_store8(self, offset: int = 0) -> Code:
        return self.mem(0x3C, 0, offset)

    def memory_size(self) -> Code:
        return self.raw(b"\x3f\x00")

    def memory_grow(self) -> Code:
        return self.raw(b"\x40\x00")

    def memory_copy(self) -> Code:
        return self.raw(b"\xfc\x0a\x00\x00")

    def resolved(self) -> bytes:
        """The encoded instructions (handles must have their indices)."""
        self._flush()
        out = bytearray()
        for part in self.parts:
            if isinstance(part, bytes):
                out += part
            else:
                opcode, ref = part
                assert ref.index >= 0, f"{ref.name} has no index (not part of this module?)"
                out.append(opcode)
                out += uleb(ref.index)
        return bytes(out)


@dataclass
class _Defined:
    func: Func
    locals: list[int]
    body: Code


@dataclass
class _GlobalDef:
    ref: GlobalRef
    init: bytes


@dataclass
class ModuleBuilder:
    """Collects a module's parts; ``build()`` numbers the handles and writes the binary."""

    types: list[FuncType] = field(default_factory=list)
    _type_index: dict[FuncType, int] = field(default_factory=dict)
    _imports: list[tuple[str, str, Func | GlobalRef | tuple[int, int | None]]] = field(default_factory=list)
    _import_keys: dict[tuple[str, str], Func | GlobalRef] = field(default_factory=dict)
    _defined: list[_Defined] = field(default_factory=list)
    _globals: list[_GlobalDef] = field(default_factory=list)
    _memories: list[tuple[int, int | None]] = field(default_factory=list)
    _exports: list[tuple[str, int, Func | GlobalRef | int]] = field(default_factory=list)
    _data: list[tuple[Code, bytes]] = field(default_factory=list)
    _custom: list[tuple[str, bytes]] = field(default_factory=list)

    def type_index(self, params: tuple[int, ...], results: tuple[int, ...]) -> int:
        ft = FuncType(tuple(params), tuple(results))
        index = self._type_index.get(ft)
        if index is None:
            index = len(self.types)
            self.types.append(ft)
            self._type_index[ft] = index
        return index

    # -- imports ------------------------------------------------------------------------
    def import_func(self, module: str, name: str, params: tuple[int, ...], results: tuple[int, ...]) -> Func:
        """Import a function (the same ``module``/``name`` twice gives the same handle)."""
        found = self._import_keys.get((module, name))
        if found is not None:
            assert isinstance(found, Func) and found.type == FuncType(params, results), f"{module}.{name}"
            return found
        func = Func(f"{module}.{name}", FuncType(tuple(params), tuple(results)), imported=True)
        self.type_index(func.type.params, func.type.results)
        self._imports.append((module, name, func))
        self._import_keys[(module, name)] = func
        return func

    def import_global(self, module: str, name: str, valtype: int, mutable: bool = False) -> GlobalRef:
        found = self._import_keys.get((module, name))
        if found is not None:
            assert isinstance(found, GlobalRef) and found.valtype == valtype, f"{module}.{name}"
            return found
        ref = GlobalRef(f"{module}.{name}", valtype, mutable, imported=True)
        self._imports.append((module, name, ref))
        self._import_keys[(module, name)] = ref
        return ref

    def import_memory(self, module: str, name: str, minimum: int, maximum: int | None = None) -> None:
        self._imports.append((module, name, (minimum, maximum)))

    # -- definitions --------------------------------------------------------------------
    def declare(self, name: str, params: tuple[int, ...], results: tuple[int, ...]) -> Func:
        """A function to be defined later with ``define`` (so that bodies can call it first)."""
        func = Func(name, FuncType(tuple(params), tuple(results)), imported=False)
        self.type_index(func.type.params, func.type.results)
        return func

    def define(self, func: Func, locals_: list[int], body: Code) -> Func:
        """Give ``func`` its extra locals (value types, after the parameters) and its body.

        Functions are numbered in the order they are defined.
        """
        assert not func.imported and all(d.func is not func for d in self._defined), func.name
        self._defined.append(_Defined(func, list(locals_), body))
        return func

    def function(
        self, name: str, params: tuple[int, ...], results: tuple[int, ...], locals_: list[int], body: Code
    ) -> Func:
        return self.define(self.declare(name, params, results), locals_, body)

    def global_(self, name: str, valtype: int, mutable: bool, value: int) -> GlobalRef:
        ref = GlobalRef(name, valtype, mutable, imported=False)
        init = Code()
        (init.i64_const(value) if valtype == I64 else init.i32_const(value)).end()
        self._globals.append(_GlobalDef(ref, init.resolved()))
        return ref

    def memory(self, minimum: int, maximum: int | None = None) -> None:
        self._memories.append((minimum, maximum))

    def export(self, name: str, target: Func | GlobalRef) -> None:
        kind = KIND_FUNC if isinstance(target, Func) else KIND_GLOBAL
        self._exports.append((name, kind, target))

    def export_memory(self, name: str, index: int = 0) -> None:
        self._exports.append((name, KIND_MEMORY, index))

    def data(self, offset: int | GlobalRef, payload: bytes, delta: int = 0) -> None:
        """An active data segment at ``offset``, or at the value of an imported i32 global
        plus ``delta`` (so that a linker can place the segment)."""
        expr = Code()
        if isinstance(offset, GlobalRef):
            assert offset.imported and offset.valtype == I32, "a data offset global is an imported i32"
            expr.global_get(offset)
            if delta:
                expr.i32_const(delta).op(0x6A)  # i32.add (extended constant expressions)
        else:
            expr.i32_const(offset + delta)
        expr.end()
        self._data.append((expr, payload))

    def custom(self, name: str, payload: bytes) -> None:
        self._custom.append((name, payload))

    # -- output -------------------------------------------------------------------------
    def build(self) -> bytes:
        func_index = 0
        global_index = 0
        for _, _, item in self._imports:
            if isinstance(item, Func):
                item.index = func_index
                func_index += 1
            elif isinstance(item, GlobalRef):
                item.index = global_index
                global_index += 1
        for d in self._defined:
            d.func.index = func_index
            func_index += 1
        for g in self._globals:
            g.ref.index = global_index
            global_index += 1

        out = bytearray(MAGIC + VERSION)

        def section(section_id: int, payload: bytes) -> None:
            out.append(section_id)
            out.extend(uleb(len(payload)))
            out.extend(payload)

        def vector(items: list[bytes]) -> bytes:
            return uleb(len(items)) + b"".join(items)

        section(
            SECTION_TYPE,
            vector(
                [
                    b"\x60" + vector([bytes([p]) for p in t.params]) + vector([bytes([r]) for r in t.results])
                    for t in self.types
                ]
            ),
        )
        if self._imports:
            entries = []
            for module, name, item in self._imports:
                head = encode_name(module) + encode_name(name)
                if isinstance(item, Func):
                    entries.append(head + bytes([KIND_FUNC]) + uleb(self._type_index[item.type]))
                elif isinstance(item, GlobalRef):
                    entries.append(head + bytes([KIND_GLOBAL, item.valtype, int(item.mutable)]))
                else:
                    entries.append(head + bytes([KIND_MEMORY]) + _limits(*item))
            section(SECTION_IMPORT, vector(entries))
        if self._defined:
            section(SECTION_FUNCTION, vector([uleb(self._type_index[d.func.type]) for d in self._defined]))
        if self._memories:
            section(SECTION_MEMORY, vector([_limits(*m) for m in self._memories]))
        if self._globals:
            section(
                SECTION_GLOBAL,
                vector([bytes([g.ref.valtype, int(g.ref.mutable)]) + g.init for g in self._globals]),
            )
        if self._exports:
            entries = []
            for name, kind, target in self._exports:
                index = target if isinstance(target, int) else target.index
                entries.append(encode_name(name) + bytes([kind]) + uleb(index))
            section(SECTION_EXPORT, vector(entries))
        if self._defined:
            bodies = []
            for d in self._defined:
                body = _locals(d.locals) + d.body.resolved()
                bodies.append(uleb(len(body)) + body)
            section(SECTION_CODE, vector(bodies))
        if self._data:
            segments = []
            for expr_code, payload in self._data:
                expr = expr_code.resolved()  # may name an imported global, numbered above
                segments.append(b"\x00" + expr + uleb(len(payload)) + payload)
            section(SECTION_DATA, vector(segments))
        for name, payload in self._custom:
            section(SECTION_CUSTOM, encode_name(name) + payload)
        return bytes(out)


def _limits(minimum: int, maximum: int | None) -> bytes:
    if maximum is None:
        return b"\x00" + uleb(minimum)
    return b"\x01" + uleb(minimum) + uleb(maximum)


def _locals(types: list[int]) -> bytes:
    """Run-length groups of local types, as the code section writes them."""
    groups: list[tuple[int, int]] = []
    for t in types:
        if groups and groups[-1][1] == t:
            groups[-1] = (groups[-1][0] + 1, t)
        else:
            groups.append((1, t))
    return uleb(len(groups)) + b"".join(uleb(n) + bytes([t]) for n, t in groups)


__all__ = ["EMPTY_BLOCK", "I32", "I64", "Code", "Func", "GlobalRef", "ModuleBuilder"]
