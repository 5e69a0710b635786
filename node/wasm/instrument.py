"""Instrumentation: the module rewritten so that the host can snapshot and roll it back.

wasmtime only lets the host read *exported* globals and has no way to report which memory
pages a call touched, so instrumentation rewrites the module: it exports the memory and
every mutable global (through two generated save/load functions), moves the start function
into an export the host calls itself, and keeps an *undo log of first writes*: before a
store, bulk memory operation or host write changes a 4 KiB page for the first time in a
call, the page's old contents (its pre-image) are copied into a third private memory, the
"undo" memory, at the same offset, and the page is marked in a second private memory, the
"dirty" memory (``global.set`` marks its global there too). Commit then only clears the
marks; rollback copies the marked pages' pre-images back. Nothing holds a second full copy
of the heap: the undo memory is as large as the heap but only pages written since the
last commit are ever touched (and the host gives them back to the OS now and then).

The dirty memory holds three maps of one byte per tracking page:

- the *written* map (``PAGE_FLAGS_OFFSET``): pages a store started in, a bulk operation or
  a host function wrote; their pre-images are saved (or they are new in this call, beyond
  the undo memory);
- the *neighbour* map (``NEIGHBOUR_FLAGS_OFFSET``): pages whose pre-image was saved because
  a store into the page before might spill into them (a store marks the page it starts in);
- the *pair* map (``PAIR_FLAGS_OFFSET``): the page *and the next one* are saved. A store
  checks only the pair flag of the page it starts in (one load and one branch, the fuel of
  the plain mark it replaces), so a store that starts near the end of a page and spills
  into the next finds both saved.

A store whose pair flag is not set, and every bulk operation, calls the host through a
private table of two host functions (``SAVE_PAIR_SLOT``, ``SAVE_RANGE_SLOT``; a table, not
an import, so that no function index of the module moves): the host copies the pre-images
(wasmtime charges a ``memory.copy`` one instruction per byte, which a copy in Wasm would
add to every message's count) and sets the flags. Each call carries the number of
instructions its call sequence cost beyond the mark that instrumentation used to write,
and the host gives them back (a bulk operation is charged what that mark's ``memory.fill``
of the map cost), so that a call's instruction count is what it was with a full committed
copy. Every byte a call changed lies in a page of the written or the neighbour map.

The instruction walker is deliberately strict: an instruction it does not know (exceptions,
tail calls, threads, relaxed SIMD) is refused with a message naming the feature, because a
module the rewriter cannot walk is a module whose rollback it cannot guarantee.
"""

from __future__ import annotations

from dataclasses import dataclass

from vocab.leb128 import encode_leb128 as uleb
from vocab.leb128 import encode_sleb128 as sleb
from vocab.wasm.module import (
    F32,
    F64,
    I32,
    I64,
    KIND_FUNC,
    KIND_MEMORY,
    KIND_TABLE,
    MAGIC,
    NUMERIC_CONSTS,
    SECTION_CODE,
    SECTION_CUSTOM,
    SECTION_ELEMENT,
    SECTION_EXPORT,
    SECTION_FUNCTION,
    SECTION_MEMORY,
    SECTION_RANK,
    SECTION_START,
    SECTION_TABLE,
    SECTION_TYPE,
    V128,
    VALTYPE_NAMES,
    VERSION,
    FuncType,
    WasmModule,
    parse_module,
    read_valtype,
    skip_numeric_const,
)
from vocab.wasm.reader import Reader, WasmFormatError, encode_name

PAGE_SIZE_LOG2 = 12
"""Dirty tracking granularity: 4 KiB, the OS page size the IC also tracks."""
TRACK_PAGE_SIZE = 1 << PAGE_SIZE_LOG2
GLOBAL_FLAGS_SIZE = 1024
"""Bytes reserved at the start of the dirty memory for one flag per mutable global (the IC
allows at most 1,000 globals)."""
GLOBAL_MIRROR_OFFSET = 1024
"""Where the generated save/load functions keep mutable globals, 8 bytes each, bit-exact."""
PAGE_FLAGS_OFFSET = 16384
"""Where the per-page *written* flags of the heap start in the dirty memory."""
MAX_TRACKED_PAGES = (8 << 30) >> PAGE_SIZE_LOG2
"""Tracking pages of the largest heap the maps cover (8 GiB: beyond any heap limit)."""
NEIGHBOUR_FLAGS_OFFSET = PAGE_FLAGS_OFFSET + MAX_TRACKED_PAGES + 64
"""Where the per-page *neighbour* flags start (pre-image saved for a store's spill)."""
PAIR_FLAGS_OFFSET = NEIGHBOUR_FLAGS_OFFSET + MAX_TRACKED_PAGES + 64
"""Where the per-page *pair* flags start (the page and its successor saved)."""
SAVE_PAIR_SLOT = 0
"""``save_pair(page, refund)``: the page a store starts in and the next one."""
SAVE_RANGE_SLOT = 1
"""``save_range(first, end, adjust)``: the pages ``[first, end)`` of a bulk operation; the
host charges ``adjust + (end - first)`` instructions (negative: gives them back)."""


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
    table_export: str | None = None
    """Table 0, exported so that the host can call a function by its table index (the IC's
    callbacks: ``ic0.call_new`` names its reply and reject functions that way)."""
    undo_export: str | None = None
    """The undo memory (pre-images of the pages written since the last commit, each at its
    page's offset); None for a module without memory."""
    undo_table_export: str | None = None
    """The table the host fills with its save functions (``SAVE_PAIR_SLOT``,
    ``SAVE_RANGE_SLOT``); None for a module without memory."""


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
        self.pt = I64 if plan["memory64"] else I32  # pointer type of the module's memory
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

    def emit_page_from_local(self, addr_local: int, offset: int) -> int:
        """Push the tracking page (i32) holding ``local[addr] + offset``; the instructions."""
        if self.pt == I64:
            self.emit(0x20, uleb(addr_local))
            if offset:
                self.emit(0x42, sleb(offset - (1 << 64) if offset >= 1 << 63 else offset), 0x7C)
            self.emit(0x42, sleb(PAGE_SIZE_LOG2), 0x88, 0xA7)  # i64.shr_u, i32.wrap_i64
            return 6 if offset else 4
        self.emit(0x20, uleb(addr_local))
        if offset:
            self.emit(0x41, sleb(offset - (1 << 32) if offset >= 1 << 31 else offset), 0x6A)
        self.emit(0x41, sleb(PAGE_SIZE_LOG2), 0x76)  # i32.shr_u
        return 5 if offset else 3

    def emit_mark_page_from_local(self, addr_local: int, offset: int) -> None:
        """Have the pre-images of the page holding ``local[addr] + offset`` and of the next
        page saved, unless the page's pair flag says both are saved already.

        The fast path (the flag set) executes as many instructions as the plain mark that
        instrumentation used to write (address, shift, a load instead of a constant, a
        branch instead of a store); the slow path's extra instructions are given back by
        the host."""
        self.emit(0x02, 0x40)  # block
        self.emit_page_from_local(addr_local, offset)
        self.emit(0x2D, _encode_memarg(0, self.dirty, PAIR_FLAGS_OFFSET))  # i32.load8_u
        self.emit(0x0D, 0x00)  # br_if 0: both pages saved
        extra = self.emit_page_from_local(addr_local, offset) + 3
        self.emit(0x41, sleb(extra), 0x41, sleb(SAVE_PAIR_SLOT))
        self.emit(0x11, uleb(self.plan["pair_type"]), uleb(self.plan["undo_table"]))  # call_indirect
        self.emit(0x0B)

    def emit_mark_range(self, dst_local: int, len_local: int, len_type: int) -> None:
        """Have the pre-images of every tracking page of ``[dst, dst+len)`` saved: the host's
        ``save_range`` over the first page and the page after the last one, computed in i64
        so that 32-bit addresses cannot wrap around (an operation that would not fit traps
        anyway)."""
        ops = 0

        def push_i64(local: int, valtype: int) -> int:
            self.emit(0x20, uleb(local))
            if valtype == I32:
                self.emit(0xAD)  # i64.extend_i32_u
                return 2
            return 1

        ops += push_i64(dst_local, self.pt)
        self.emit(0x42, sleb(PAGE_SIZE_LOG2), 0x88, 0xA7)  # first page
        ops += 3
        ops += push_i64(dst_local, self.pt)
        ops += push_i64(len_local, len_type)
        self.emit(0x7C, 0x42, sleb(TRACK_PAGE_SIZE - 1), 0x7C)
        self.emit(0x42, sleb(PAGE_SIZE_LOG2), 0x88, 0xA7)  # end page (exclusive)
        ops += 6
        # What the mark this replaces cost: three address pushes, two lengths pushes' worth
        # of arithmetic and a memory.fill of the map (one instruction per page byte, which
        # the host adds): see ``_old_range_cost``.
        old = _old_range_cost(self.pt, len_type)
        ops += 3  # the two constants and the call
        self.emit(0x41, sleb(old - ops), 0x41, sleb(SAVE_RANGE_SLOT))
        self.emit(0x11, uleb(self.plan["range_type"]), uleb(self.plan["undo_table"]))

    # the walk ------------------------------------------------------------------------

    def rewrite(self) -> bytes:
        r = Reader(self.body)
        groups = []
        for _ in range(r.u32()):
            count = r.u32()
            vt = read_valtype(r)
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
                    read_valtype(r)
            elif op in _LOADS:
                _read_memarg(r)
            elif op in (0x3F, 0x40):
                r.u32()
            elif op in NUMERIC_CONSTS:
                skip_numeric_const(r, op)
            elif op == 0xD0:
                read_valtype(r)
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
    undo_index = dirty_index + 1
    # the host's save functions sit in a table of their own, after the module's tables
    undo_table = len(module.tables) + sum(1 for i in module.imports if i.kind == KIND_TABLE)
    types_out = list(module.types)

    def type_index(wanted: FuncType) -> int:
        if wanted not in types_out:
            types_out.append(wanted)
        return types_out.index(wanted)

    plan_state["undo_table"] = undo_table
    plan_state["pair_type"] = type_index(FuncType((I32, I32), ()))
    plan_state["range_type"] = type_index(FuncType((I32, I32, I32), ()))
    new_bodies = []
    for i, body in enumerate(module.code_bodies):
        ftype = module.function_type(imported_funcs + i)
        new_bodies.append(_FunctionRewriter(module, body, len(ftype.params), plan_state).rewrite())

    # dirty memory: global flags and mirror, then the pair and saved maps (one byte per 4 KiB
    # page of the largest heap tracked, and one more for a successor page)
    dirty_bytes = PAIR_FLAGS_OFFSET + MAX_TRACKED_PAGES + 64
    dirty_pages = (dirty_bytes + 65535) // 65536 + 1
    dirty_limits = uleb(0x01) + uleb(dirty_pages) + uleb(dirty_pages)

    memory_export = f"{prefix}memory" if memory else None
    undo_export = f"{prefix}undo" if memory else None
    undo_table_export = f"{prefix}undo_calls"
    dirty_export = f"{prefix}dirty"
    start_export = f"{prefix}start" if module.start is not None else None
    save_export = f"{prefix}save_globals"
    load_export = f"{prefix}load_globals"
    table_export = (
        f"{prefix}table" if module.tables or any(i.kind == KIND_TABLE for i in module.imports) else None
    )
    mutable_globals = tuple((i, module.globals[i].valtype) for i in mutable)

    # Two generated functions move all mutable globals to and from the dirty memory, so that
    # the host saves or restores them with one call instead of one FFI call per global.
    unit_index = type_index(FuncType((), ()))
    generated_types = [unit_index, unit_index]
    generated_bodies: list[bytes] = []
    if memory is not None:
        generated_types += [plan_state["pair_type"], plan_state["range_type"]]
        generated_bodies = _undo_functions(memory64, dirty_index, undo_index)
    new_type_payload = None
    if len(types_out) != len(module.types):
        new_type_payload = uleb(len(types_out)) + b"".join(
            b"\x60" + uleb(len(t.params)) + bytes(t.params) + uleb(len(t.results)) + bytes(t.results)
            for t in types_out
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
    new_bodies += generated_bodies
    save_index = imported_funcs + len(module.functions)
    load_index = save_index + 1
    function_payload = uleb(len(module.functions) + len(generated_types)) + b"".join(
        uleb(t) for t in module.functions + generated_types
    )

    extra_exports: list[tuple[str, int, int]] = []
    if memory_export:
        extra_exports.append((memory_export, KIND_MEMORY, 0))
    extra_exports.append((dirty_export, KIND_MEMORY, dirty_index))
    if undo_export:
        extra_exports.append((undo_export, KIND_MEMORY, undo_index))
        extra_exports.append((undo_table_export, KIND_TABLE, undo_table))
    if start_export:
        assert module.start is not None
        extra_exports.append((start_export, KIND_FUNC, module.start))
    extra_exports.append((save_export, KIND_FUNC, save_index))
    if table_export:
        extra_exports.append((table_export, KIND_TABLE, 0))
    extra_exports.append((load_export, KIND_FUNC, load_index))

    # the undo table starts out holding Wasm versions of the save functions (the host puts
    # its own in their place: ``node.wasm.instance``), so the module also runs on its own
    undo_elements = (
        b"\x02"
        + uleb(undo_table)
        + b"\x41\x00\x0b\x00"
        + uleb(2)
        + uleb(load_index + 1)
        + uleb(load_index + 2)
    )
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
            # the undo memory has the heap's own limits (index type, minimum, maximum), so
            # that it can always grow as far as the heap
            undo_limits = s.payload[r.pos :] if count else b""
            out_sections.append(
                (s.id, uleb(count + 1 + bool(count)) + s.payload[r.pos :] + dirty_limits + undo_limits)
            )
        elif s.id == SECTION_EXPORT:
            r = Reader(s.payload)
            count = r.u32()
            payload = uleb(count + len(extra_exports)) + s.payload[r.pos :]
            for name, kind, index in extra_exports:
                payload += encode_name(name) + bytes([kind]) + uleb(index)
            out_sections.append((s.id, payload))
        elif s.id == SECTION_TABLE and memory is not None:
            r = Reader(s.payload)
            count = r.u32()
            out_sections.append((s.id, uleb(count + 1) + s.payload[r.pos :] + _UNDO_TABLE))
        elif s.id == SECTION_ELEMENT and memory is not None:
            r = Reader(s.payload)
            count = r.u32()
            out_sections.append((s.id, uleb(count + 1) + s.payload[r.pos :] + undo_elements))
        elif s.id == SECTION_START:
            continue
        elif s.id == SECTION_CODE:
            out_sections.append((s.id, bytes(code_payload)))
        else:
            out_sections.append((s.id, s.payload))

    def insert(section_id: int, payload: bytes) -> None:
        rank = SECTION_RANK[section_id]
        for pos, (sid, _p) in enumerate(out_sections):
            if sid != SECTION_CUSTOM and SECTION_RANK[sid] > rank:
                out_sections.insert(pos, (section_id, payload))
                return
        out_sections.append((section_id, payload))

    if SECTION_TYPE not in have:
        assert new_type_payload is not None
        insert(SECTION_TYPE, new_type_payload)
    if SECTION_FUNCTION not in have:
        insert(SECTION_FUNCTION, function_payload)
    if SECTION_TABLE not in have and memory is not None:
        insert(SECTION_TABLE, uleb(1) + _UNDO_TABLE)
    if SECTION_ELEMENT not in have and memory is not None:
        insert(SECTION_ELEMENT, uleb(1) + undo_elements)
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
        table_export=table_export,
        undo_export=undo_export,
        undo_table_export=undo_table_export if memory is not None else None,
    )
    return InstrumentedModule(wasm, plan)


_UNDO_TABLE = b"\x70\x01\x02\x02"
"""The host-call table: funcref, exactly two elements."""


def _old_range_cost(pointer_type: int, len_type: int) -> int:
    """Instructions of the range mark instrumentation used to write before a bulk
    operation, but for the bytes its ``memory.fill`` of the map charged: the start page
    (push, shift, wrap, map offset, value), the page count (three pushes, four arithmetic,
    shift, subtract, wrap) and the fill."""
    push = 2 if pointer_type == I32 else 1
    push_len = 2 if len_type == I32 else 1
    return 3 * push + push_len + 16


def _undo_functions(memory64: bool, dirty: int, undo: int) -> list[bytes]:
    """Wasm versions of the host's ``save_pair(page, refund)`` and ``save_range(first, end,
    adjust)``, the undo table's initial elements: the same flags and pre-images, but their
    instructions (a ``memory.copy`` costs one per byte) are not given back, nor is the
    bulk charge made. Pages at or beyond the heap's end are left alone (the write traps),
    pages beyond the undo memory (new in this call) are only marked."""
    wrap = b"\xa7" if memory64 else b""  # i32.wrap_i64 after memory.size of a 64-bit memory
    extend = b"\xad" if memory64 else b""  # i64.extend_i32_u
    const_ = b"\x42" if memory64 else b"\x41"
    shl = b"\x86" if memory64 else b"\x74"
    written = _encode_memarg(0, dirty, PAGE_FLAGS_OFFSET)
    neighbour = _encode_memarg(0, dirty, NEIGHBOUR_FLAGS_OFFSET)
    pair = _encode_memarg(0, dirty, PAIR_FLAGS_OFFSET)

    def get(local: int) -> bytes:
        return b"\x20" + uleb(local)

    def pages_of(memory: int) -> bytes:  # the memory's size in tracking pages, as i32
        return b"\x3f" + uleb(memory) + wrap + b"\x41" + sleb(16 - PAGE_SIZE_LOG2) + b"\x74"

    def address(local: int) -> bytes:  # page << 12 in the memories' index type
        return get(local) + extend + const_ + sleb(PAGE_SIZE_LOG2) + shl

    def save_one(page: int, mark: bytes) -> bytes:
        return (
            get(page) + b"\x2d" + written + get(page) + b"\x2d" + neighbour
            + b"\x72\x45\x04\x40"  # if neither written nor saved as a neighbour
            + get(page) + pages_of(undo) + b"\x49\x04\x40"  # and within the undo memory
            + address(page) + address(page) + const_ + sleb(TRACK_PAGE_SIZE)
            + b"\xfc" + uleb(10) + uleb(undo) + uleb(0)  # memory.copy undo <- heap
            + b"\x0b\x0b"
            + get(page) + b"\x41\x01\x3a" + mark
        )  # fmt: skip

    # save_pair: params 0 (page), 1 (refund, unused); locals 2 (heap pages), 3 (next page)
    save_pair = (
        b"\x01\x02\x7f"
        + get(0) + pages_of(0) + b"\x22\x02\x4f\x04\x40\x0f\x0b"  # beyond the heap: return
        + save_one(0, written)
        + get(0) + b"\x41\x01\x6a\x22\x03" + get(2) + b"\x49\x04\x40"  # if page + 1 is in the heap
        + save_one(3, neighbour)
        + get(0) + b"\x41\x01\x3a" + pair
        + b"\x0b\x0b"
    )  # fmt: skip
    # save_range: params 0 (first page), 1 (end page), 2 (adjust, unused); local 3 (heap pages)
    save_range = (
        b"\x01\x01\x7f"
        + pages_of(0) + b"\x21\x03"
        + get(1) + get(3) + b"\x4b\x04\x40" + get(3) + b"\x21\x01\x0b"  # end = min(end, heap)
        + b"\x02\x40\x03\x40"
        + get(0) + get(1) + b"\x4f\x0d\x01"
        + save_one(0, written)
        + get(0) + b"\x41\x01\x6a\x21\x00\x0c\x00"
        + b"\x0b\x0b\x0b"
    )  # fmt: skip
    return [save_pair, save_range]
