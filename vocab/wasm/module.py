"""The WebAssembly binary format: a module's sections, types, imports, exports and
custom sections, read strictly.

Both sides of the project read modules: a replica checks and instruments a module before it
compiles it, and a client reads a module's metadata (``icp:public``/``icp:private`` custom
sections) before it asks for an upgrade. They share this one reader, so a module means the
same to both.

The reader is deliberately strict: anything it does not understand (GC types, exceptions,
tail calls, threads) is rejected with a message naming the feature, because a module the
execution layer cannot walk is a module whose rollback it cannot guarantee. It reads the
module structure, not the instructions of function bodies (which only instrumentation walks).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from vocab.wasm.reader import Reader, WasmFormatError

MAGIC = b"\x00asm"
VERSION = b"\x01\x00\x00\x00"

I32, I64, F32, F64, V128 = 0x7F, 0x7E, 0x7D, 0x7C, 0x7B
FUNCREF, EXTERNREF = 0x70, 0x6F
VALTYPE_NAMES = {
    I32: "i32",
    I64: "i64",
    F32: "f32",
    F64: "f64",
    V128: "v128",
    FUNCREF: "funcref",
    EXTERNREF: "externref",
}

SECTION_CUSTOM = 0
SECTION_TYPE = 1
SECTION_IMPORT = 2
SECTION_FUNCTION = 3
SECTION_TABLE = 4
SECTION_MEMORY = 5
SECTION_GLOBAL = 6
SECTION_EXPORT = 7
SECTION_START = 8
SECTION_ELEMENT = 9
SECTION_CODE = 10
SECTION_DATA = 11
SECTION_DATA_COUNT = 12
SECTION_TAG = 13

# The order in which non-custom sections must appear (the tag section sits between memory
# and global in the exception-handling proposal).
SECTION_RANK = {
    SECTION_TYPE: 1,
    SECTION_IMPORT: 2,
    SECTION_FUNCTION: 3,
    SECTION_TABLE: 4,
    SECTION_MEMORY: 5,
    SECTION_TAG: 6,
    SECTION_GLOBAL: 7,
    SECTION_EXPORT: 8,
    SECTION_START: 9,
    SECTION_ELEMENT: 10,
    SECTION_DATA_COUNT: 11,
    SECTION_CODE: 12,
    SECTION_DATA: 13,
}

KIND_FUNC, KIND_TABLE, KIND_MEMORY, KIND_GLOBAL, KIND_TAG = 0, 1, 2, 3, 4
KIND_NAMES = {
    KIND_FUNC: "func",
    KIND_TABLE: "table",
    KIND_MEMORY: "memory",
    KIND_GLOBAL: "global",
    KIND_TAG: "tag",
}


@dataclass(frozen=True)
class FuncType:
    params: tuple[int, ...]
    results: tuple[int, ...]

    def describe(self) -> str:
        p = ", ".join(VALTYPE_NAMES.get(t, hex(t)) for t in self.params)
        r = ", ".join(VALTYPE_NAMES.get(t, hex(t)) for t in self.results)
        return f"({p}) -> ({r})"


@dataclass(frozen=True)
class Limits:
    minimum: int
    maximum: int | None
    is64: bool = False
    shared: bool = False


@dataclass(frozen=True)
class Import:
    module: str
    name: str
    kind: int
    type_index: int | None = None  # for functions
    limits: Limits | None = None  # for memories and tables
    global_type: tuple[int, bool] | None = None


@dataclass(frozen=True)
class Global:
    valtype: int
    mutable: bool
    init: bytes  # the raw constant expression including its `end`


@dataclass(frozen=True)
class Export:
    name: str
    kind: int
    index: int


@dataclass(frozen=True)
class CustomSection:
    name: str
    data: bytes


@dataclass
class Section:
    id: int
    payload: bytes
    custom_name: str | None = None


@dataclass
class WasmModule:
    """The parsed view of a module: enough to validate and instrument it."""

    sections: list[Section] = field(default_factory=list)
    types: list[FuncType] = field(default_factory=list)
    imports: list[Import] = field(default_factory=list)
    functions: list[int] = field(default_factory=list)  # type index per defined function
    tables: list[tuple[int, Limits]] = field(default_factory=list)
    memories: list[Limits] = field(default_factory=list)
    globals: list[Global] = field(default_factory=list)
    exports: list[Export] = field(default_factory=list)
    start: int | None = None
    custom_sections: list[CustomSection] = field(default_factory=list)
    code_bodies: list[bytes] = field(default_factory=list)
    data_segment_count: int = 0
    element_segment_count: int = 0

    # -- derived views --------------------------------------------------------------------

    @property
    def imported_functions(self) -> list[Import]:
        return [i for i in self.imports if i.kind == KIND_FUNC]

    @property
    def imported_memories(self) -> list[Import]:
        return [i for i in self.imports if i.kind == KIND_MEMORY]

    @property
    def imported_globals(self) -> list[Import]:
        return [i for i in self.imports if i.kind == KIND_GLOBAL]

    @property
    def function_count(self) -> int:
        return len(self.imported_functions) + len(self.functions)

    def function_type(self, index: int) -> FuncType:
        """The type of function ``index`` in the function index space (imports first)."""
        imported = self.imported_functions
        if index < len(imported):
            type_index = imported[index].type_index
        else:
            local = index - len(imported)
            if not 0 <= local < len(self.functions):
                raise WasmFormatError(f"function index {index} out of range")
            type_index = self.functions[local]
        assert type_index is not None
        if not 0 <= type_index < len(self.types):
            raise WasmFormatError(f"type index {type_index} out of range")
        return self.types[type_index]

    @property
    def memory(self) -> Limits | None:
        """The module's single memory (declared or imported), if any."""
        mems = [i.limits for i in self.imported_memories if i.limits] + list(self.memories)
        return mems[0] if mems else None

    def custom_section(self, name: str) -> bytes | None:
        for section in self.custom_sections:
            if section.name == name:
                return section.data
        return None


def read_limits(r: Reader, for_memory: bool) -> Limits:
    flags = r.byte()
    if flags & ~0x07:
        raise WasmFormatError(f"unsupported limits flags {flags:#x}")
    has_max = bool(flags & 1)
    shared = bool(flags & 2)
    is64 = bool(flags & 4)
    if shared and not for_memory:
        raise WasmFormatError("shared tables are not supported")
    minimum = r.uleb(64 if is64 else 32)
    maximum = r.uleb(64 if is64 else 32) if has_max else None
    return Limits(minimum, maximum, is64, shared)


def read_valtype(r: Reader) -> int:
    t = r.byte()
    if t not in VALTYPE_NAMES:
        raise WasmFormatError(
            f"value type {t:#x} at offset {r.pos - 1} belongs to a proposal this simulator "
            "does not support (typed function references or GC)"
        )
    return t


NUMERIC_CONSTS = frozenset({0x41, 0x42, 0x43, 0x44})
"""The opcodes of ``i32.const``, ``i64.const``, ``f32.const`` and ``f64.const``."""


def skip_numeric_const(r: Reader, op: int) -> None:
    """Skip the immediate of the numeric constant instruction ``op`` (in ``NUMERIC_CONSTS``)."""
    if op == 0x41:
        r.sleb(32)
    elif op == 0x42:
        r.sleb(64)
    elif op == 0x43:
        r.bytes(4)
    else:
        assert op == 0x44, op
        r.bytes(8)


def read_const_expr(r: Reader) -> bytes:
    """Read a constant expression up to and including its ``end``."""
    start = r.pos
    while True:
        op = r.byte()
        if op == 0x0B:
            return bytes(r.data[start : r.pos])
        if op in NUMERIC_CONSTS:
            skip_numeric_const(r, op)
        elif op == 0x23 or op == 0xD2:
            r.u32()
        elif op == 0xD0:
            r.byte()
        elif op in (0x6A, 0x6B, 0x6C, 0x7C, 0x7D, 0x7E):  # extended-const arithmetic
            pass
        elif op == 0xFD:
            sub = r.u32()
            if sub != 12:
                raise WasmFormatError(f"unsupported SIMD opcode {sub} in a constant expression")
            r.bytes(16)
        else:
            raise WasmFormatError(f"unsupported opcode {op:#x} in a constant expression")


def walk_sections(data: bytes) -> Iterator[tuple[int, int, int]]:
    """Each section of a Wasm binary as ``(id, payload start, payload end)``, in order.

    Only the header and the section framing are checked here; what a section holds is its
    reader's business. This is the one section walker of the project.
    """
    if len(data) < 8 or data[:4] != MAGIC:
        raise WasmFormatError("not a WebAssembly binary: missing the \\0asm magic number")
    if data[4:8] != VERSION:
        raise WasmFormatError(f"unsupported WebAssembly version {data[4:8].hex()}")
    r = Reader(data, 8)
    while not r.at_end():
        offset = r.pos
        section_id = r.byte()
        size = r.u32()
        start = r.pos
        if start + size > len(data):
            raise WasmFormatError(
                f"section {section_id} at byte {offset} claims {size} bytes; the module ends first"
            )
        r.pos = start + size
        yield section_id, start, start + size


def _custom_section(data: bytes, start: int, end: int) -> CustomSection:
    r = Reader(data, start, end)
    name = r.name()
    return CustomSection(name, bytes(data[r.pos : end]))


def custom_sections(data: bytes) -> Iterator[CustomSection]:
    """The custom sections of a Wasm binary, in order, without parsing the other sections."""
    for section_id, start, end in walk_sections(data):
        if section_id == SECTION_CUSTOM:
            yield _custom_section(data, start, end)


def parse_module(data: bytes) -> WasmModule:
    """Parse the module structure (not the function bodies' instructions)."""
    module = WasmModule()
    last_rank = 0
    seen: set[int] = set()
    for section_id, start, end in walk_sections(data):
        payload = bytes(data[start:end])
        if section_id == SECTION_CUSTOM:
            custom = _custom_section(data, start, end)
            module.sections.append(Section(section_id, payload, custom.name))
            module.custom_sections.append(custom)
            continue
        rank = SECTION_RANK.get(section_id)
        if rank is None:
            raise WasmFormatError(f"unknown section id {section_id}")
        if section_id in seen:
            raise WasmFormatError(f"duplicate section id {section_id}")
        if rank <= last_rank:
            raise WasmFormatError(f"section id {section_id} out of order")
        seen.add(section_id)
        last_rank = rank
        module.sections.append(Section(section_id, payload))
        _parse_section(module, section_id, payload)
    if len(module.functions) != len(module.code_bodies):
        raise WasmFormatError(
            f"function and code section disagree: {len(module.functions)} functions, "
            f"{len(module.code_bodies)} bodies"
        )
    return module


def _parse_section(module: WasmModule, section_id: int, payload: bytes) -> None:
    r = Reader(payload)
    if section_id == SECTION_TYPE:
        for _ in range(r.u32()):
            form = r.byte()
            if form != 0x60:
                raise WasmFormatError(
                    f"type form {form:#x} belongs to the GC proposal, which is not supported"
                )
            params = tuple(read_valtype(r) for _ in range(r.u32()))
            results = tuple(read_valtype(r) for _ in range(r.u32()))
            module.types.append(FuncType(params, results))
    elif section_id == SECTION_IMPORT:
        for _ in range(r.u32()):
            mod = r.name()
            name = r.name()
            kind = r.byte()
            if kind == KIND_FUNC:
                module.imports.append(Import(mod, name, kind, type_index=r.u32()))
            elif kind == KIND_TABLE:
                read_valtype(r)
                module.imports.append(Import(mod, name, kind, limits=read_limits(r, False)))
            elif kind == KIND_MEMORY:
                module.imports.append(Import(mod, name, kind, limits=read_limits(r, True)))
            elif kind == KIND_GLOBAL:
                vt = read_valtype(r)
                mut = r.byte()
                module.imports.append(Import(mod, name, kind, global_type=(vt, bool(mut))))
            elif kind == KIND_TAG:
                r.byte()
                module.imports.append(Import(mod, name, kind, type_index=r.u32()))
            else:
                raise WasmFormatError(f"unknown import kind {kind}")
    elif section_id == SECTION_FUNCTION:
        module.functions = [r.u32() for _ in range(r.u32())]
    elif section_id == SECTION_TABLE:
        for _ in range(r.u32()):
            vt = read_valtype(r)
            module.tables.append((vt, read_limits(r, False)))
    elif section_id == SECTION_MEMORY:
        module.memories = [read_limits(r, True) for _ in range(r.u32())]
    elif section_id == SECTION_GLOBAL:
        for _ in range(r.u32()):
            vt = read_valtype(r)
            mut = r.byte()
            if mut > 1:
                raise WasmFormatError(f"bad global mutability flag {mut}")
            module.globals.append(Global(vt, bool(mut), read_const_expr(r)))
    elif section_id == SECTION_EXPORT:
        for _ in range(r.u32()):
            name = r.name()
            kind = r.byte()
            module.exports.append(Export(name, kind, r.u32()))
    elif section_id == SECTION_START:
        module.start = r.u32()
    elif section_id == SECTION_ELEMENT:
        module.element_segment_count = r.u32()
    elif section_id == SECTION_DATA_COUNT:
        module.data_segment_count = r.u32()
    elif section_id == SECTION_CODE:
        for _ in range(r.u32()):
            size = r.u32()
            module.code_bodies.append(r.bytes(size))
    elif section_id == SECTION_DATA:
        module.data_segment_count = r.u32()
    elif section_id == SECTION_TAG:
        raise WasmFormatError("the exception-handling proposal (tag section) is not supported")
    if section_id != SECTION_ELEMENT and section_id != SECTION_DATA and not r.at_end():
        raise WasmFormatError(f"section {section_id} has {r.end - r.pos} trailing bytes")
