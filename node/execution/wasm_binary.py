"""A small reader and editor for the WebAssembly binary format.

The execution layer needs to see inside a canister module before wasmtime does: to check
the IC's module rules (which imports, which exports, how many globals, which custom
sections) and to instrument it. wasmtime only lets the host read *exported* globals and has
no way to report which memory pages a message touched, so instrumentation rewrites the code
section: it exports every mutable global, moves the start function into an export the host
calls itself, and makes every store, bulk memory operation and ``global.set`` leave a mark
in a second, private "dirty" memory. The host then copies only the marked pages when it
commits or rolls back a message, which is what makes per-message atomicity cheap for
canisters with large heaps.

The reader is deliberately strict: anything it does not understand (GC types, exceptions,
tail calls, threads, relaxed SIMD) is rejected with a message naming the feature, because a
module the editor cannot walk is a module whose rollback it cannot guarantee.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vocab.leb128 import encode_leb128 as uleb
from vocab.leb128 import encode_sleb128 as sleb

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
_SECTION_RANK = {
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

PAGE_SIZE_LOG2 = 12
"""Dirty tracking granularity: 4 KiB, the OS page size the IC also tracks."""
TRACK_PAGE_SIZE = 1 << PAGE_SIZE_LOG2
GLOBAL_FLAGS_SIZE = 1024
"""Bytes reserved at the start of the dirty memory for one flag per mutable global (the IC
allows at most 1,000 globals)."""
GLOBAL_MIRROR_OFFSET = 1024
"""Where the generated save/load functions keep mutable globals, 8 bytes each, bit-exact."""
PAGE_FLAGS_OFFSET = 16384
"""Where the per-page dirty flags of the heap start in the dirty memory."""


class WasmFormatError(ValueError):
    """The bytes are not a module this reader can parse; the message says where and why."""


# -- low-level reading ----------------------------------------------------------------------


class Reader:
    """A cursor over bytes with the LEB128 decoders the format uses."""

    __slots__ = ("data", "pos", "end")

    def __init__(self, data: bytes, pos: int = 0, end: int | None = None) -> None:
        self.data = data
        self.pos = pos
        self.end = len(data) if end is None else end

    def at_end(self) -> bool:
        return self.pos >= self.end

    def byte(self) -> int:
        if self.pos >= self.end:
            raise WasmFormatError(f"unexpected end of data at offset {self.pos}")
        value = self.data[self.pos]
        self.pos += 1
        return value

    def bytes(self, count: int) -> bytes:
        if count < 0 or self.pos + count > self.end:
            raise WasmFormatError(f"unexpected end of data at offset {self.pos} (need {count} bytes)")
        value = self.data[self.pos : self.pos + count]
        self.pos += count
        return bytes(value)

    def uleb(self, max_bits: int = 64) -> int:
        result = 0
        shift = 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
            if shift >= max_bits + 7:
                raise WasmFormatError(f"LEB128 integer too long at offset {self.pos}")
        if result >> max_bits:
            raise WasmFormatError(f"integer out of range for u{max_bits} at offset {self.pos}")
        return result

    def u32(self) -> int:
        return self.uleb(32)

    def sleb(self, bits: int) -> int:
        result = 0
        shift = 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
            if shift >= bits + 7:
                raise WasmFormatError(f"LEB128 integer too long at offset {self.pos}")
        if b & 0x40:
            result -= 1 << shift
        return result

    def name(self) -> str:
        raw = self.bytes(self.u32())
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise WasmFormatError(f"name is not valid UTF-8 at offset {self.pos}") from exc


def encode_name(text: str) -> bytes:
    raw = text.encode("utf-8")
    return uleb(len(raw)) + raw


# -- module structure -----------------------------------------------------------------------


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


def _read_limits(r: Reader, for_memory: bool) -> Limits:
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


def _read_valtype(r: Reader) -> int:
    t = r.byte()
    if t not in VALTYPE_NAMES:
        raise WasmFormatError(
            f"value type {t:#x} at offset {r.pos - 1} belongs to a proposal this simulator "
            "does not support (typed function references or GC)"
        )
    return t


def _skip_const_expr(r: Reader) -> bytes:
    """Read a constant expression up to and including its ``end``."""
    start = r.pos
    while True:
        op = r.byte()
        if op == 0x0B:
            return bytes(r.data[start : r.pos])
        if op == 0x41:
            r.sleb(32)
        elif op == 0x42:
            r.sleb(64)
        elif op == 0x43:
            r.bytes(4)
        elif op == 0x44:
            r.bytes(8)
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


def parse_module(data: bytes) -> WasmModule:
    """Parse the module structure (not the function bodies' instructions)."""
    if len(data) < 8 or data[:4] != MAGIC:
        raise WasmFormatError("not a WebAssembly binary: missing the \\0asm magic number")
    if data[4:8] != VERSION:
        raise WasmFormatError(f"unsupported WebAssembly version {data[4:8].hex()}")
    module = WasmModule()
    r = Reader(data, 8)
    last_rank = 0
    seen: set[int] = set()
    while not r.at_end():
        section_id = r.byte()
        size = r.u32()
        start = r.pos
        if start + size > len(data):
            raise WasmFormatError(f"section {section_id} runs past the end of the module")
        payload = bytes(data[start : start + size])
        r.pos = start + size
        if section_id == SECTION_CUSTOM:
            cr = Reader(payload)
            name = cr.name()
            module.sections.append(Section(section_id, payload, name))
            module.custom_sections.append(CustomSection(name, payload[cr.pos :]))
            continue
        rank = _SECTION_RANK.get(section_id)
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
            params = tuple(_read_valtype(r) for _ in range(r.u32()))
            results = tuple(_read_valtype(r) for _ in range(r.u32()))
            module.types.append(FuncType(params, results))
    elif section_id == SECTION_IMPORT:
        for _ in range(r.u32()):
            mod = r.name()
            name = r.name()
            kind = r.byte()
            if kind == KIND_FUNC:
                module.imports.append(Import(mod, name, kind, type_index=r.u32()))
            elif kind == KIND_TABLE:
                _read_valtype(r)
                module.imports.append(Import(mod, name, kind, limits=_read_limits(r, False)))
            elif kind == KIND_MEMORY:
                module.imports.append(Import(mod, name, kind, limits=_read_limits(r, True)))
            elif kind == KIND_GLOBAL:
                vt = _read_valtype(r)
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
            vt = _read_valtype(r)
            module.tables.append((vt, _read_limits(r, False)))
    elif section_id == SECTION_MEMORY:
        module.memories = [_read_limits(r, True) for _ in range(r.u32())]
    elif section_id == SECTION_GLOBAL:
        for _ in range(r.u32()):
            vt = _read_valtype(r)
            mut = r.byte()
            if mut > 1:
                raise WasmFormatError(f"bad global mutability flag {mut}")
            module.globals.append(Global(vt, bool(mut), _skip_const_expr(r)))
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


# -- instruction walking --------------------------------------------------------------------

# Opcodes whose immediates are a single u32 index.
_ONE_INDEX = {0x0C, 0x0D, 0x10, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0xD2}
_BLOCKS = {0x02, 0x03, 0x04}
_LOADS = set(range(0x28, 0x36))
_STORES = {0x36: I32, 0x37: I64, 0x38: F32, 0x39: F64, 0x3A: I32, 0x3B: I32, 0x3C: I64, 0x3D: I64, 0x3E: I64}
_UNSUPPORTED = {
    0x06: "exception handling (try)",
    0x07: "exception handling (catch)",
    0x08: "exception handling (throw)",
    0x09: "exception handling (rethrow)",
    0x0A: "exception handling (throw_ref)",
    0x12: "tail calls (return_call)",
    0x13: "tail calls (return_call_indirect)",
    0x14: "typed function references (call_ref)",
    0x15: "typed function references (return_call_ref)",
    0x18: "exception handling (delegate)",
    0x19: "exception handling (catch_all)",
    0x1F: "exception handling (try_table)",
    0xD3: "GC (ref.eq)",
    0xD4: "typed function references (ref.as_non_null)",
    0xD5: "typed function references (br_on_null)",
    0xD6: "typed function references (br_on_non_null)",
    0xFB: "GC",
    0xFE: "threads (atomic instructions)",
}
_MIRROR_STORE = {I32: 0x36, I64: 0x37, F32: 0x38, F64: 0x39}
_SIMD_MEMARG = set(range(0, 12)) | set(range(84, 94))
_SIMD_STORES = {11, 88, 89, 90, 91}
_TABLE_MUTATIONS_FC = {
    12: "table.init",
    13: "elem.drop",
    14: "table.copy",
    15: "table.grow",
    17: "table.fill",
}


def _read_blocktype(r: Reader) -> None:
    b = r.data[r.pos] if r.pos < r.end else None
    if b is None:
        raise WasmFormatError("unexpected end of code")
    if b == 0x40 or b in VALTYPE_NAMES:
        r.pos += 1
        return
    if r.sleb(33) < 0:
        raise WasmFormatError("unsupported block type")


@dataclass
class _Memarg:
    align: int
    memory: int
    offset: int


def _read_memarg(r: Reader) -> _Memarg:
    align = r.u32()
    memory = 0
    if align & 0x40:
        align &= ~0x40
        memory = r.u32()
    return _Memarg(align, memory, r.uleb(64))


def _encode_memarg(align: int, memory: int, offset: int) -> bytes:
    if memory:
        return uleb(align | 0x40) + uleb(memory) + uleb(offset)
    return uleb(align) + uleb(offset)


@dataclass(frozen=True)
class InstrumentationPlan:
    """What the instrumented module exports for the host, by name."""

    memory_export: str | None
    dirty_export: str
    start_export: str | None
    save_globals_export: str
    load_globals_export: str
    mutable_globals: tuple[tuple[int, int], ...]  # (global index, valtype), in slot order
    dirty_memory_index: int
    memory64: bool
    table_mutations: tuple[str, ...]
    simd: bool


@dataclass(frozen=True)
class InstrumentedModule:
    wasm: bytes
    plan: InstrumentationPlan


class _FunctionRewriter:
    """Rewrites one function body, inserting dirty marks before every heap write."""

    def __init__(self, module: WasmModule, body: bytes, param_count: int, plan: dict) -> None:
        self.module = module
        self.body = body
        self.param_count = param_count
        self.plan = plan
        self.pt = I64 if plan["memory64"] else I32  # pointer type of the canister memory
        self.dirty = plan["dirty_index"]
        self.global_flags: dict[int, int] = plan["global_flags"]
        self.out = bytearray()
        self.extra: list[int] = []  # types of added locals, in order
        self.local_index: dict[str, int] = {}
        self.base_locals = 0

    def local(self, key: str, valtype: int) -> int:
        index = self.local_index.get(key)
        if index is None:
            index = self.param_count + self.base_locals + len(self.extra)
            self.extra.append(valtype)
            self.local_index[key] = index
        return index

    # instruction emitters ------------------------------------------------------------

    def emit(self, *parts: bytes | int) -> None:
        for part in parts:
            if isinstance(part, int):
                self.out.append(part)
            else:
                self.out += part

    def emit_mark_page_from_local(self, addr_local: int, offset: int) -> None:
        """Mark the tracking page holding ``local[addr] + offset`` as dirty."""
        if self.pt == I64:
            self.emit(0x20, uleb(addr_local))
            if offset:
                self.emit(0x42, sleb(offset - (1 << 64) if offset >= 1 << 63 else offset), 0x7C)
            self.emit(0x42, sleb(PAGE_SIZE_LOG2), 0x88, 0xA7)  # i64.shr_u, i32.wrap_i64
        else:
            self.emit(0x20, uleb(addr_local))
            if offset:
                self.emit(0x41, sleb(offset - (1 << 32) if offset >= 1 << 31 else offset), 0x6A)
            self.emit(0x41, sleb(PAGE_SIZE_LOG2), 0x76)  # i32.shr_u
        self.emit(0x41, sleb(1), 0x3A, _encode_memarg(0, self.dirty, PAGE_FLAGS_OFFSET))

    def emit_mark_range(self, dst_local: int, len_local: int, len_type: int) -> None:
        """Mark every tracking page of ``[dst, dst+len)`` with a bulk fill of the dirty map."""

        # All arithmetic in i64 so that 32-bit addresses cannot wrap around.
        def push_i64(local: int, valtype: int) -> None:
            self.emit(0x20, uleb(local))
            if valtype == I32:
                self.emit(0xAD)  # i64.extend_i32_u

        # start page (as i32, biased by the flag area) -> stack
        push_i64(dst_local, self.pt)
        self.emit(0x42, sleb(PAGE_SIZE_LOG2), 0x88, 0xA7)
        self.emit(0x41, sleb(PAGE_FLAGS_OFFSET), 0x6A)
        # value 1
        self.emit(0x41, sleb(1))
        # count = ((dst + len + page-1) >> log2) - (dst >> log2)
        push_i64(dst_local, self.pt)
        push_i64(len_local, len_type)
        self.emit(0x7C, 0x42, sleb(TRACK_PAGE_SIZE - 1), 0x7C)
        self.emit(0x42, sleb(PAGE_SIZE_LOG2), 0x88)
        push_i64(dst_local, self.pt)
        self.emit(0x42, sleb(PAGE_SIZE_LOG2), 0x88, 0x7D, 0xA7)  # i64.sub, wrap
        self.emit(0xFC, uleb(11), uleb(self.dirty))  # memory.fill on the dirty map

    # the walk ------------------------------------------------------------------------

    def rewrite(self) -> bytes:
        r = Reader(self.body)
        groups = []
        for _ in range(r.u32()):
            count = r.u32()
            vt = _read_valtype(r)
            groups.append((count, vt))
            self.base_locals += count
        if self.base_locals > 50_000:
            raise WasmFormatError("function declares too many locals")
        code_start = r.pos
        data = self.body
        while r.pos < r.end:
            op_pos = r.pos
            op = r.byte()
            if op in _STORES:
                m = _read_memarg(r)
                if m.memory == 0:
                    vt = _STORES[op]
                    a = self.local("addr", self.pt)
                    v = self.local(f"v{vt}", vt)
                    self.emit(0x21, uleb(v), 0x21, uleb(a))
                    self.emit_mark_page_from_local(a, m.offset)
                    self.emit(0x20, uleb(a), 0x20, uleb(v))
                self.emit(data[op_pos : r.pos])
                continue
            if op == 0x24:  # global.set
                index = r.u32()
                self.emit(data[op_pos : r.pos])
                flag = self.global_flags.get(index)
                if flag is not None:
                    # keep the mirror of live values current, and flag the global as dirty
                    valtype = self.module.globals[index].valtype
                    self.emit(
                        0x41,
                        sleb(GLOBAL_MIRROR_OFFSET + 8 * flag),
                        0x23,
                        uleb(index),
                        _MIRROR_STORE[valtype],
                        _encode_memarg(0, self.dirty, 0),
                    )
                    self.emit(0x41, sleb(flag), 0x41, sleb(1), 0x3A, _encode_memarg(0, self.dirty, 0))
                continue
            if op == 0xFC:
                sub = r.u32()
                if sub == 9:  # data.drop: kept segments make rollback exact (documented)
                    r.u32()
                    self.emit(0x01)  # nop keeps byte-for-byte structure simple
                    continue
                if sub in (8, 10, 11):
                    if sub == 8:
                        r.u32()
                        mem = r.u32()
                        dst_mem = mem
                    elif sub == 10:
                        dst_mem = r.u32()
                        r.u32()
                    else:
                        dst_mem = r.u32()
                    if dst_mem == 0:
                        self._instrument_bulk(sub)
                    self.emit(data[op_pos : r.pos])
                    continue
                if sub in _TABLE_MUTATIONS_FC:
                    self.plan["table_mutations"].add(_TABLE_MUTATIONS_FC[sub])
                if sub <= 7:
                    pass
                elif sub in (12, 14):
                    r.u32()
                    r.u32()
                elif sub in (13, 15, 16, 17):
                    r.u32()
                else:
                    raise WasmFormatError(f"unsupported instruction 0xfc {sub}")
                self.emit(data[op_pos : r.pos])
                continue
            if op == 0xFD:
                sub = r.u32()
                self.plan["simd"] = True
                if sub in _SIMD_MEMARG:
                    m = _read_memarg(r)
                    lane = 84 <= sub <= 91
                    if lane:
                        r.byte()
                    if sub in _SIMD_STORES and m.memory == 0:
                        a = self.local("addr", self.pt)
                        v = self.local(f"v{V128}", V128)
                        self.emit(0x21, uleb(v), 0x21, uleb(a))
                        self.emit_mark_page_from_local(a, m.offset)
                        self.emit(0x20, uleb(a), 0x20, uleb(v))
                elif sub in (12, 13):
                    r.bytes(16)
                elif 21 <= sub <= 34:
                    r.byte()
                elif sub > 255:
                    raise WasmFormatError(f"relaxed SIMD instruction 0xfd {sub} is not supported")
                self.emit(data[op_pos : r.pos])
                continue
            # everything else is copied unchanged after skipping its immediates
            if op in _UNSUPPORTED:
                raise WasmFormatError(f"the module uses {_UNSUPPORTED[op]}, which is not supported")
            if op in _BLOCKS:
                _read_blocktype(r)
            elif op in _ONE_INDEX:
                r.u32()
                if op == 0x26:
                    self.plan["table_mutations"].add("table.set")
            elif op == 0x0E:
                for _ in range(r.u32()):
                    r.u32()
                r.u32()
            elif op == 0x11:
                r.u32()
                r.u32()
            elif op == 0x1C:
                for _ in range(r.u32()):
                    _read_valtype(r)
            elif op in _LOADS:
                _read_memarg(r)
            elif op in (0x3F, 0x40):
                r.u32()
            elif op == 0x41:
                r.sleb(32)
            elif op == 0x42:
                r.sleb(64)
            elif op == 0x43:
                r.bytes(4)
            elif op == 0x44:
                r.bytes(8)
            elif op == 0xD0:
                _read_valtype(r)
            elif op in (0x00, 0x01, 0x05, 0x0B, 0x0F, 0x1A, 0x1B, 0xD1) or 0x45 <= op <= 0xC4:
                pass
            else:
                raise WasmFormatError(f"unknown opcode {op:#x} at offset {op_pos} of a function body")
            self.emit(data[op_pos : r.pos])
        # re-assemble: locals (old groups + new ones), then code
        header = bytearray()
        new_groups = list(groups) + [(1, vt) for vt in self.extra]
        header += uleb(len(new_groups))
        for count, vt in new_groups:
            header += uleb(count) + bytes([vt])
        del code_start
        return bytes(header) + bytes(self.out)

    def _instrument_bulk(self, sub: int) -> None:
        pt = self.pt
        if sub == 11:  # memory.fill: [d:I, val:i32, n:I]
            n = self.local("bn", pt)
            x = self.local("bx32", I32)
            d = self.local("bd", pt)
            self.emit(0x21, uleb(n), 0x21, uleb(x), 0x21, uleb(d))
            self.emit_mark_range(d, n, pt)
            self.emit(0x20, uleb(d), 0x20, uleb(x), 0x20, uleb(n))
        elif sub == 10:  # memory.copy: [d:I, s:I, n:I]
            n = self.local("bn", pt)
            s = self.local("bs", pt)
            d = self.local("bd", pt)
            self.emit(0x21, uleb(n), 0x21, uleb(s), 0x21, uleb(d))
            self.emit_mark_range(d, n, pt)
            self.emit(0x20, uleb(d), 0x20, uleb(s), 0x20, uleb(n))
        else:  # memory.init: [d:I, s:i32, n:i32]
            n = self.local("bn32", I32)
            s = self.local("bx32", I32)
            d = self.local("bd", pt)
            self.emit(0x21, uleb(n), 0x21, uleb(s), 0x21, uleb(d))
            self.emit_mark_range(d, n, I32)
            self.emit(0x20, uleb(d), 0x20, uleb(s), 0x20, uleb(n))


def _section_bytes(section_id: int, payload: bytes) -> bytes:
    return bytes([section_id]) + uleb(len(payload)) + payload


def _unique_prefix(module: WasmModule) -> str:
    prefix = "__subnet_"
    names = [e.name for e in module.exports]
    while any(n.startswith(prefix) for n in names):
        prefix += "_"
    return prefix


def instrument(data: bytes, module: WasmModule | None = None) -> InstrumentedModule:
    """Return the module rewritten for host-side snapshots and dirty-page tracking.

    The result exports its memory and its start function under reserved names, has no start
    section (the host runs start itself, after it has decided what memory the instance begins
    with), carries an extra memory in which stores mark the 4 KiB pages and globals they
    change, and has two generated functions that save all mutable globals into that memory
    and load them back.
    """
    if module is None:
        module = parse_module(data)
    if module.imported_memories or module.imported_globals:
        raise WasmFormatError("modules that import memories or globals cannot be instrumented")
    if len(module.memories) > 1:
        raise WasmFormatError("modules with more than one memory cannot be instrumented")
    memory = module.memory
    memory64 = bool(memory and memory.is64)
    dirty_index = len(module.memories)
    prefix = _unique_prefix(module)

    mutable = [i for i, g in enumerate(module.globals) if g.mutable]
    if len(mutable) > GLOBAL_FLAGS_SIZE:
        raise WasmFormatError(f"too many mutable globals to track ({len(mutable)})")
    for index in mutable:
        valtype = module.globals[index].valtype
        if valtype not in _MIRROR_STORE:
            raise WasmFormatError(
                f"mutable global {index} has type {VALTYPE_NAMES.get(valtype, hex(valtype))}, "
                "which cannot be saved for rollback"
            )
    global_flags = {i: n for n, i in enumerate(mutable)}
    plan_state: dict = {
        "memory64": memory64,
        "dirty_index": dirty_index,
        "global_flags": global_flags,
        "table_mutations": set(),
        "simd": False,
    }

    imported_funcs = len(module.imported_functions)
    new_bodies = []
    for i, body in enumerate(module.code_bodies):
        ftype = module.function_type(imported_funcs + i)
        new_bodies.append(_FunctionRewriter(module, body, len(ftype.params), plan_state).rewrite())

    # dirty map: flags + one byte per 4 KiB page of the largest heap the canister may have
    max_heap_pages = (1 << 48) // TRACK_PAGE_SIZE if memory64 else (1 << 32) // TRACK_PAGE_SIZE
    dirty_bytes = PAGE_FLAGS_OFFSET + min(max_heap_pages, (8 << 30) // TRACK_PAGE_SIZE)
    dirty_pages = (dirty_bytes + 65535) // 65536 + 1
    dirty_limits = uleb(0x01) + uleb(dirty_pages) + uleb(dirty_pages)

    memory_export = f"{prefix}memory" if memory else None
    dirty_export = f"{prefix}dirty"
    start_export = f"{prefix}start" if module.start is not None else None
    save_export = f"{prefix}save_globals"
    load_export = f"{prefix}load_globals"
    mutable_globals = tuple((i, module.globals[i].valtype) for i in mutable)

    # Two generated functions move all mutable globals to and from the dirty memory, so that
    # the host saves or restores them with one call instead of one FFI call per global.
    unit = FuncType((), ())
    types_out = list(module.types)
    if unit in types_out:
        unit_index = types_out.index(unit)
        new_type_payload = None
    else:
        unit_index = len(types_out)
        new_type_payload = (
            uleb(len(types_out) + 1)
            + b"".join(
                b"\x60" + uleb(len(t.params)) + bytes(t.params) + uleb(len(t.results)) + bytes(t.results)
                for t in types_out
            )
            + b"\x60\x00\x00"
        )
    save_body = bytearray(b"\x00")
    load_body = bytearray(b"\x00")
    store_ops = {I32: 0x36, I64: 0x37, F32: 0x38, F64: 0x39}
    load_ops = {I32: 0x28, I64: 0x29, F32: 0x2A, F64: 0x2B}
    for slot, (index, valtype) in enumerate(mutable_globals):
        address = sleb(GLOBAL_MIRROR_OFFSET + 8 * slot)
        save_body += b"\x41" + address + b"\x23" + uleb(index)
        save_body += bytes([store_ops[valtype]]) + _encode_memarg(0, dirty_index, 0)
        load_body += b"\x41" + address + bytes([load_ops[valtype]]) + _encode_memarg(0, dirty_index, 0)
        load_body += b"\x24" + uleb(index)
    save_body += b"\x0b"
    load_body += b"\x0b"
    new_bodies.append(bytes(save_body))
    new_bodies.append(bytes(load_body))
    save_index = imported_funcs + len(module.functions)
    load_index = save_index + 1
    function_payload = uleb(len(module.functions) + 2) + b"".join(
        uleb(t) for t in module.functions + [unit_index, unit_index]
    )

    extra_exports: list[tuple[str, int, int]] = []
    if memory_export:
        extra_exports.append((memory_export, KIND_MEMORY, 0))
    extra_exports.append((dirty_export, KIND_MEMORY, dirty_index))
    if start_export:
        assert module.start is not None
        extra_exports.append((start_export, KIND_FUNC, module.start))
    extra_exports.append((save_export, KIND_FUNC, save_index))
    extra_exports.append((load_export, KIND_FUNC, load_index))

    code_payload = bytearray(uleb(len(new_bodies)))
    for body in new_bodies:
        code_payload += uleb(len(body)) + body

    out_sections: list[tuple[int, bytes]] = []
    have = {s.id for s in module.sections}
    for s in module.sections:
        if s.id == SECTION_CUSTOM:
            out_sections.append((s.id, s.payload))
        elif s.id == SECTION_TYPE:
            out_sections.append((s.id, new_type_payload if new_type_payload is not None else s.payload))
        elif s.id == SECTION_FUNCTION:
            out_sections.append((s.id, function_payload))
        elif s.id == SECTION_MEMORY:
            r = Reader(s.payload)
            count = r.u32()
            out_sections.append((s.id, uleb(count + 1) + s.payload[r.pos :] + dirty_limits))
        elif s.id == SECTION_EXPORT:
            r = Reader(s.payload)
            count = r.u32()
            payload = uleb(count + len(extra_exports)) + s.payload[r.pos :]
            for name, kind, index in extra_exports:
                payload += encode_name(name) + bytes([kind]) + uleb(index)
            out_sections.append((s.id, payload))
        elif s.id == SECTION_START:
            continue
        elif s.id == SECTION_CODE:
            out_sections.append((s.id, bytes(code_payload)))
        else:
            out_sections.append((s.id, s.payload))

    def insert(section_id: int, payload: bytes) -> None:
        rank = _SECTION_RANK[section_id]
        for pos, (sid, _p) in enumerate(out_sections):
            if sid != SECTION_CUSTOM and _SECTION_RANK[sid] > rank:
                out_sections.insert(pos, (section_id, payload))
                return
        out_sections.append((section_id, payload))

    if SECTION_TYPE not in have:
        assert new_type_payload is not None
        insert(SECTION_TYPE, new_type_payload)
    if SECTION_FUNCTION not in have:
        insert(SECTION_FUNCTION, function_payload)
    if SECTION_MEMORY not in have:
        insert(SECTION_MEMORY, uleb(1) + dirty_limits)
    if SECTION_EXPORT not in have:
        payload = uleb(len(extra_exports))
        for name, kind, index in extra_exports:
            payload += encode_name(name) + bytes([kind]) + uleb(index)
        insert(SECTION_EXPORT, payload)
    if SECTION_CODE not in have:
        insert(SECTION_CODE, bytes(code_payload))

    wasm = MAGIC + VERSION + b"".join(_section_bytes(i, p) for i, p in out_sections)
    plan = InstrumentationPlan(
        memory_export=memory_export,
        dirty_export=dirty_export,
        start_export=start_export,
        save_globals_export=save_export,
        load_globals_export=load_export,
        mutable_globals=mutable_globals,
        dirty_memory_index=dirty_index,
        memory64=memory64,
        table_mutations=tuple(sorted(plan_state["table_mutations"])),
        simd=plan_state["simd"],
    )
    return InstrumentedModule(wasm, plan)
