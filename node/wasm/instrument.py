"""Instrumentation: the module rewritten so that the host can snapshot and roll it back.

wasmtime only lets the host read *exported* globals and has no way to report which memory
pages a call touched, so instrumentation rewrites the module: it exports the memory and
every mutable global (through two generated save/load functions), moves the start function
into an export the host calls itself, and makes every store, bulk memory operation and
``global.set`` leave a mark in a second, private "dirty" memory. The host then copies only
the marked pages when it commits or rolls back a call, which is what makes per-call
atomicity cheap for modules with large heaps.

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
    SECTION_EXPORT,
    SECTION_FUNCTION,
    SECTION_MEMORY,
    SECTION_RANK,
    SECTION_START,
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
"""Where the per-page dirty flags of the heap start in the dirty memory."""


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
    new_bodies = []
    for i, body in enumerate(module.code_bodies):
        ftype = module.function_type(imported_funcs + i)
        new_bodies.append(_FunctionRewriter(module, body, len(ftype.params), plan_state).rewrite())

    # dirty map: flags + one byte per 4 KiB page of the largest heap the module may have
    max_heap_pages = (1 << 48) // TRACK_PAGE_SIZE if memory64 else (1 << 32) // TRACK_PAGE_SIZE
    dirty_bytes = PAGE_FLAGS_OFFSET + min(max_heap_pages, (8 << 30) // TRACK_PAGE_SIZE)
    dirty_pages = (dirty_bytes + 65535) // 65536 + 1
    dirty_limits = uleb(0x01) + uleb(dirty_pages) + uleb(dirty_pages)

    memory_export = f"{prefix}memory" if memory else None
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
    if table_export:
        extra_exports.append((table_export, KIND_TABLE, 0))
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
    )
    return InstrumentedModule(wasm, plan)
