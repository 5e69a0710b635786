"""A live Wasm instance, with commit and rollback per call and snapshots of its state.

The instance holds its heap once. Instrumented code keeps an *undo log of first writes*
(``node.wasm.instrument``): before a call changes a 4 KiB page for the first time, the
page's old contents are copied into a private undo memory at the same offset and the page
is marked in a private dirty map; ``global.set`` marks its global. After a call:

- commit only clears the marks (and now and then gives the undo memory's pages back to
  the operating system, so that only pages written since then take memory), and
- rollback copies the marked pages' pre-images back, and the committed globals.

Both cost time proportional to what the call touched, not to the heap size. Between calls
the live heap *is* the committed heap: digests, snapshots, checkpoints and followers read
it directly (``committed_view``, ``copy_committed``); during a call (from the same thread,
say a snapshot taken while a message is paused halfway) the committed bytes are the live
ones with the saved pre-images laid over them, and these readers get exactly that. Wasm
memories cannot shrink, so a failed call that grew the heap (rare) is undone in the old
instance and then copied into a fresh one.

What a call may use is counted in fuel plus the instructions host functions charge
(``Meter.host_instructions``); the instance knows nothing else about its host API.
"""

from __future__ import annotations

import ctypes
import hashlib
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, Protocol

import wasmtime

from node.wasm.engine import CompiledModule, InfoT, WasmEngine, call_unit
from node.wasm.errors import InstantiationFailed, MissingExport, OutOfFuel, Trapped, WasmTrap
from node.wasm.host import HostImports
from node.wasm.instrument import (
    GLOBAL_MIRROR_OFFSET,
    NEIGHBOUR_FLAGS_OFFSET,
    PAGE_FLAGS_OFFSET,
    PAGE_SIZE_LOG2,
    PAIR_FLAGS_OFFSET,
    SAVE_PAIR_SLOT,
    SAVE_RANGE_SLOT,
    TRACK_PAGE_SIZE,
)

_INTERNAL_FUEL = 1 << 40
"""Fuel for the generated save/load functions, which run a few instructions per global."""

WASM_PAGE = 65536
UNDO_RESIDENT_PAGES = 2048
"""Pre-image pages (8 MiB) an instance may hold in memory before it gives its undo memory's
pages back to the operating system (``madvise(MADV_DONTNEED)``): a message that writes the
same few pages keeps them mapped (no page fault per message), a message that writes many
frees them right after it ends."""
_MADV_DONTNEED = 4


def _libc_madvise() -> Callable[[int, int], None] | None:
    """``madvise(address, length, MADV_DONTNEED)`` on Linux; None elsewhere (the pages
    then stay mapped, which costs memory, not correctness)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        function = libc.madvise
    except (OSError, AttributeError):
        return None
    function.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
    function.restype = ctypes.c_int

    def release(address: int, length: int) -> None:
        function(address, length, _MADV_DONTNEED)

    return release


_RELEASE = _libc_madvise()

_TRAP_MESSAGES = {
    wasmtime.TrapCode.UNREACHABLE: "unreachable",
    wasmtime.TrapCode.MEMORY_OUT_OF_BOUNDS: "heap out of bounds",
    wasmtime.TrapCode.INTEGER_DIVISION_BY_ZERO: "integer division by 0",
    wasmtime.TrapCode.INTEGER_OVERFLOW: "integer overflow",
    wasmtime.TrapCode.BAD_CONVERSION_TO_INTEGER: "invalid conversion to integer",
    wasmtime.TrapCode.STACK_OVERFLOW: "stack overflow",
    wasmtime.TrapCode.TABLE_OUT_OF_BOUNDS: "table out of bounds",
    wasmtime.TrapCode.INDIRECT_CALL_TO_NULL: "indirect call to null",
    wasmtime.TrapCode.BAD_SIGNATURE: "indirect call type mismatch",
    wasmtime.TrapCode.HEAP_MISALIGNED: "misaligned heap access",
}


class Meter(Protocol):
    """What the instance reads of a call's host side: instructions charged by host functions."""

    host_instructions: int


class CommitListener(Protocol):
    """Told what a commit changed of the committed state (``WasmInstance.add_listener``):
    a follower instance (``node.wasm.follower``) copies only those bytes."""

    def committed(self, runs: list[tuple[int, int]]) -> None:
        """The committed heap's byte ranges ``[start, end)`` a commit wrote."""

    def replaced(self) -> None:
        """The committed state was replaced as a whole (a snapshot loaded, a heap carried)."""


@dataclass(frozen=True)
class InstanceState:
    """Heap and mutable globals (8 little-endian bytes each, in slot order): a snapshot."""

    heap: bytes
    globals: bytes


def _out_of_fuel(limit: int) -> OutOfFuel:
    error = OutOfFuel(limit)
    error.instructions = limit
    return error


def _address(memory: wasmtime.Memory, store: Any) -> int:
    pointer = ctypes.cast(memory.data_ptr(store), ctypes.c_void_p).value
    assert pointer is not None
    return pointer


class WasmInstance(Generic[InfoT]):
    """A module instantiated in its own store, with committed state for rollback.

    ``imports`` is the host API's table the module is linked against; ``heap_limit`` the
    most bytes its memory may grow to.
    """

    def __init__(
        self, engine: WasmEngine, compiled: CompiledModule[InfoT], imports: HostImports, heap_limit: int
    ) -> None:
        self.engine = engine
        self.compiled = compiled
        self.imports = imports
        self.plan = compiled.plan
        self.heap_hard_limit = heap_limit
        self._instantiate()
        self._committed_len = self.heap_len()
        """The committed heap's length (the live heap may be longer during a call)."""
        self._pending = False
        """Whether a call (or a host write) may have changed the live state since the last
        commit or rollback: then the committed bytes are the live ones under the pre-images."""
        self._undo_held = 0
        """Pre-image pages saved since the undo memory's pages were last given back."""
        self.committed_globals: bytes = self._save_globals()
        """Mutable globals, 8 little-endian bytes each in slot order, bit-exact."""
        self._heap_digest: bytes | None = None
        self.rebuilds = 0

    _listeners: tuple[CommitListener, ...] = ()
    """Who is told what each commit changed (class default: nobody; see ``add_listener``)."""

    # -- setup -----------------------------------------------------------------------------

    def _instantiate(self) -> None:
        store = wasmtime.Store(self.engine.wasm_engine)
        store.set_limits(memory_size=self.heap_hard_limit)
        store.set_fuel(_INTERNAL_FUEL)  # segment initialization runs constant expressions
        linker = self.engine.linker(self.imports)
        try:
            instance = linker.instantiate(store, self.compiled.module)
        except (wasmtime.WasmtimeError, wasmtime.Trap) as exc:
            text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise InstantiationFailed(text) from exc
        exports = instance.exports(store)
        plan = self.plan
        self.store = store
        self.instance = instance
        self._exports = exports
        memory = exports[plan.memory_export] if plan.memory_export else None
        assert memory is None or isinstance(memory, wasmtime.Memory)
        self.memory: wasmtime.Memory | None = memory
        dirty = exports[plan.dirty_export]
        assert isinstance(dirty, wasmtime.Memory)
        self.dirty: wasmtime.Memory = dirty
        undo = exports[plan.undo_export] if plan.undo_export else None
        assert undo is None or isinstance(undo, wasmtime.Memory)
        self.undo: wasmtime.Memory | None = undo
        self._undo_base = _address(undo, store) if undo is not None else 0
        if plan.undo_table_export:
            table = exports[plan.undo_table_export]
            assert isinstance(table, wasmtime.Table)
            i32 = wasmtime.ValType.i32()
            pair = wasmtime.Func(
                store, wasmtime.FuncType([i32, i32], []), self._save_pair, access_caller=True
            )
            range_ = wasmtime.Func(
                store, wasmtime.FuncType([i32, i32, i32], []), self._save_range, access_caller=True
            )
            table.set(store, SAVE_PAIR_SLOT, pair)
            table.set(store, SAVE_RANGE_SLOT, range_)
        save = exports[plan.save_globals_export]
        load = exports[plan.load_globals_export]
        assert isinstance(save, wasmtime.Func) and isinstance(load, wasmtime.Func)
        self._save_func = save
        self._load_func = load
        self.global_count = len(plan.mutable_globals)
        self._funcs: dict[str, wasmtime.Func] = {}
        # The dirty memory never grows (minimum = maximum), so its address is fixed.
        self._dirty_base = _address(dirty, store)
        self._base = 0
        self._base_for_length = -1

    def _save_globals(self) -> bytes:
        if not self.global_count:
            return b""
        self.store.set_fuel(_INTERNAL_FUEL)
        call_unit(self._save_func, self.store)
        return ctypes.string_at(self._dirty_base + GLOBAL_MIRROR_OFFSET, 8 * self.global_count)

    def _mirrored_globals(self) -> bytes:
        """Live global values: instrumented ``global.set`` keeps the mirror current."""
        return ctypes.string_at(self._dirty_base + GLOBAL_MIRROR_OFFSET, 8 * self.global_count)

    def _load_globals(self, values: bytes) -> None:
        if not self.global_count:
            return
        if len(values) != 8 * self.global_count:
            raise ValueError(f"expected {8 * self.global_count} bytes of globals, got {len(values)}")
        ctypes.memmove(self._dirty_base + GLOBAL_MIRROR_OFFSET, values, len(values))
        self.store.set_fuel(_INTERNAL_FUEL)
        call_unit(self._load_func, self.store)

    def _read_heap_all(self) -> bytes:
        if self.memory is None:
            return b""
        return bytes(self.memory.read(self.store))

    # -- heap and fuel access for host functions -------------------------------------------

    @staticmethod
    def store_fuel(caller: Any) -> int:
        return wasmtime.Store.get_fuel(caller)

    @staticmethod
    def consume_fuel(caller: Any, amount: int) -> None:
        fuel = wasmtime.Store.get_fuel(caller)
        if amount > fuel:
            wasmtime.Store.set_fuel(caller, 0)
            raise OutOfFuel(0)
        wasmtime.Store.set_fuel(caller, fuel - amount)

    def _heap_base(self, store: Any, length: int) -> int:
        """The heap's address; a memory moves only when it grows, so cache it by length."""
        if length != self._base_for_length:
            assert self.memory is not None
            self._base = _address(self.memory, store)
            self._base_for_length = length
        return self._base

    def read_heap(self, caller: Any, ptr: int, size: int) -> bytes | None:
        memory = self.memory
        if memory is None:
            return b"" if ptr == 0 and size == 0 else None
        length = memory.data_len(caller)
        if ptr + size > length:
            return None
        if size == 0:
            return b""
        return ctypes.string_at(self._heap_base(caller, length) + ptr, size)

    def write_heap(self, caller: Any, ptr: int, data: bytes) -> bool:
        memory = self.memory
        size = len(data)
        if memory is None:
            return ptr == 0 and size == 0
        length = memory.data_len(caller)
        if ptr + size > length:
            return False
        if size == 0:
            return True
        base = self._heap_base(caller, length)
        self._save_pages(base, ptr >> PAGE_SIZE_LOG2, ((ptr + size - 1) >> PAGE_SIZE_LOG2) + 1)
        ctypes.memmove(base + ptr, data, size)
        return True

    # -- the undo log: host functions the instrumented code calls before a first write -------
    #
    # They never raise into wasmtime (wasmtime-py keeps a raised exception in one
    # process-wide slot, see ``node.wasm.follower``): a call that must stop is left with no
    # fuel and stops at Wasm's next fuel check.

    def _save_pair(self, caller: Any, page: int, refund: int) -> None:
        """A store is about to write the page ``page`` (and maybe spill into the next one)."""
        fuel = wasmtime.Store.get_fuel(caller)
        if fuel > 0:  # at 0 the call may be overdrawn by an unknown amount: leave it so
            wasmtime.Store.set_fuel(caller, fuel + refund)
        page &= 0xFFFFFFFF
        memory = self.memory
        assert memory is not None
        length = memory.data_len(caller)
        pages = length >> PAGE_SIZE_LOG2
        if page >= pages:
            return  # the store traps
        base = self._heap_base(caller, length)
        self._save_pages(base, page, page + 1)
        if page + 1 < pages:
            self._save_pages(base, page + 1, page + 2, NEIGHBOUR_FLAGS_OFFSET)
            ctypes.memset(self._dirty_base + PAIR_FLAGS_OFFSET + page, 1, 1)

    def _save_range(self, caller: Any, first: int, end: int, adjust: int) -> None:
        """A bulk operation is about to write the pages ``[first, end)``; it is charged
        ``adjust`` plus a page count, what the range mark that this replaces cost."""
        first &= 0xFFFFFFFF
        end &= 0xFFFFFFFF
        charge = adjust + ((end - first) & 0xFFFFFFFF)
        fuel = wasmtime.Store.get_fuel(caller)
        if charge > fuel:
            wasmtime.Store.set_fuel(caller, 0)  # out of instructions at the next check
        elif charge > 0 or fuel > 0:
            wasmtime.Store.set_fuel(caller, fuel - charge)
        memory = self.memory
        assert memory is not None
        length = memory.data_len(caller)
        end = min(end, length >> PAGE_SIZE_LOG2)
        if first < end:
            self._save_pages(self._heap_base(caller, length), first, end)

    def _save_pages(self, base: int, first: int, end: int, mark: int = PAGE_FLAGS_OFFSET) -> None:
        """Save the pre-images of pages ``[first, end)`` not saved yet and mark them in the
        map at ``mark`` (written, or saved as a neighbour)."""
        self._pending = True
        flags = _saved_flags(self._dirty_base, first, end)
        undo_pages = self._undo_len() >> PAGE_SIZE_LOG2
        i = flags.find(0)
        while i != -1:
            j = flags.find(1, i)
            if j == -1:
                j = len(flags)
            start, stop = first + i, min(first + j, undo_pages)
            if start < stop:
                offset = start << PAGE_SIZE_LOG2
                ctypes.memmove(self._undo_base + offset, base + offset, (stop - start) << PAGE_SIZE_LOG2)
            i = flags.find(0, j)
        ctypes.memset(self._dirty_base + mark + first, 1, end - first)

    # -- running ---------------------------------------------------------------------------

    def has_export(self, name: str) -> bool:
        return name in self._funcs or isinstance(self._exports.get(name), wasmtime.Func)

    def call(self, export: str, limit: int, meter: Meter) -> int:
        """Run ``export`` (a ``() -> ()`` function) with ``limit`` instructions; return those used.

        Raises a :class:`WasmTrap` (with ``instructions`` set) when the function traps, a host
        function stops it, or it exceeds ``limit``. Nothing is committed or rolled back
        here: the caller decides.
        """
        func = self._funcs.get(export)
        if func is None:
            found = self._exports.get(export)
            if not isinstance(found, wasmtime.Func):
                raise MissingExport(export)
            func = found
            self._funcs[export] = func
        return self._metered(lambda: call_unit(func, self.store), limit, meter)

    def call_table(self, index: int, argument: int, limit: int, meter: Meter) -> int:
        """Run the function at ``index`` of table 0 with one integer ``argument``.

        The IC's callbacks are named this way (``ic0.call_new``'s reply and reject
        functions, ``call_on_cleanup``): a ``(i32) -> ()`` function, ``(i64) -> ()`` with a
        64-bit memory. A missing table, an empty slot or another signature traps, as the
        indirect call the IC performs would.
        """
        name = self.plan.table_export
        table = self._exports.get(name) if name is not None else None
        if not isinstance(table, wasmtime.Table):
            raise Trapped("the module has no table to call a callback from")
        store = self.store
        if index >= table.size(store):
            raise Trapped(f"callback index {index} is out of the table's bounds")
        func = table.get(store, index)
        if not isinstance(func, wasmtime.Func):
            raise Trapped(f"callback index {index} is an uninitialized table element")
        ftype = func.type(store)
        wanted = wasmtime.ValType.i64() if self.compiled.memory64 else wasmtime.ValType.i32()
        if list(ftype.results) or [str(p) for p in ftype.params] != [str(wanted)]:
            raise Trapped(f"callback index {index} has the wrong signature (indirect call type mismatch)")
        bits = 64 if self.compiled.memory64 else 32
        value = argument & ((1 << bits) - 1)
        if value >> (bits - 1):
            value -= 1 << bits
        return self._metered(lambda: func(store, value), limit, meter)

    def _metered(self, run: Callable[[], object], limit: int, meter: Meter) -> int:
        """Run Wasm with ``limit`` fuel; the instructions it used (host calls counted), or
        the trap it ended in, carrying them too. One rule for exports and callbacks."""
        store = self.store
        store.set_fuel(limit)
        self._pending = True
        try:
            run()
        except WasmTrap as stop:
            stop.instructions = min(limit, limit - store.get_fuel() + meter.host_instructions)
            raise
        except wasmtime.Trap as trap:
            raise self._convert_trap(trap, limit, store, meter) from None
        except wasmtime.WasmtimeError as error:
            converted = Trapped(str(error).splitlines()[0])
            converted.instructions = min(limit, limit - store.get_fuel() + meter.host_instructions)
            raise converted from None
        used = limit - store.get_fuel() + meter.host_instructions
        if used > limit:
            raise _out_of_fuel(limit)
        return used

    @staticmethod
    def _convert_trap(trap: wasmtime.Trap, limit: int, store: wasmtime.Store, meter: Meter) -> WasmTrap:
        code = trap.trap_code
        if code == wasmtime.TrapCode.OUT_OF_FUEL:
            return _out_of_fuel(limit)
        text = _TRAP_MESSAGES.get(code) if code is not None else None
        if text is None:
            text = code.name.lower().replace("_", " ") if code is not None else "unknown trap"
        converted = Trapped(text)
        converted.instructions = min(limit, limit - store.get_fuel() + meter.host_instructions)
        return converted

    # -- commit and rollback ---------------------------------------------------------------

    def heap_len(self) -> int:
        """The live heap's size in bytes (it may exceed the committed one during a call)."""
        return self.memory.data_len(self.store) if self.memory is not None else 0

    def _undo_len(self) -> int:
        return self.undo.data_len(self.store) if self.undo is not None else 0

    def _dirty(self, heap_len: int) -> tuple[list[tuple[int, int]], bool, int]:
        """The byte ranges of the heap's saved (written) pages, whether any global was set,
        and the number of page flags to clear."""
        base = self._dirty_base
        globals_dirty = False
        if self.global_count:
            globals_dirty = ctypes.string_at(base, self.global_count).find(1) != -1
        pages = heap_len >> PAGE_SIZE_LOG2
        runs = _page_runs(_saved_flags(base, 0, pages)) if pages else []
        return runs, globals_dirty, pages

    def _clear_dirty(self, pages: int) -> None:
        """Clear the flags (not the global mirror, which holds live values). The generated
        save functions mark only pages inside the heap, so ``pages`` (the live heap's) covers
        every mark."""
        if self.global_count:
            ctypes.memset(self._dirty_base, 0, self.global_count)
        for offset in (PAGE_FLAGS_OFFSET, NEIGHBOUR_FLAGS_OFFSET, PAIR_FLAGS_OFFSET):
            ctypes.memset(self._dirty_base + offset, 0, pages)

    def _release_undo(self, saved_pages: int) -> None:
        """Count pre-image pages and give the undo memory's pages back past the budget."""
        self._undo_held += saved_pages
        if self._undo_held > UNDO_RESIDENT_PAGES:
            self._undo_held = 0
            length = self._undo_len()
            if _RELEASE is not None and length:
                _RELEASE(self._undo_base, length)

    def _grow_undo(self, length: int) -> None:
        """Make the undo memory cover ``length`` bytes of heap (the committed heap's)."""
        undo = self.undo
        if undo is None:
            return
        current = undo.data_len(self.store)
        if length > current:
            undo.grow(self.store, (length - current) // WASM_PAGE)
            self._undo_base = _address(undo, self.store)

    @staticmethod
    def _saved_pages(runs: list[tuple[int, int]], limit: int) -> int:
        return sum((min(end, limit) - start) >> PAGE_SIZE_LOG2 for start, end in runs if start < limit)

    def commit(self) -> None:
        """Make the live state the committed state."""
        heap_len = self.heap_len()
        runs, globals_dirty, clear = self._dirty(heap_len)
        if globals_dirty:
            self.committed_globals = self._mirrored_globals()
        self._clear_dirty(clear)
        saved = self._saved_pages(runs, self._committed_len)
        if heap_len != self._committed_len:
            self._grow_undo(heap_len)
            self._committed_len = heap_len
            self._heap_digest = None
        self._pending = False
        if runs:
            self._heap_digest = None
            self._release_undo(saved)
            for listener in self._listeners:
                listener.committed(runs)

    def rollback(self) -> None:
        """Return the live state to the committed state."""
        heap_len = self.heap_len()
        runs, globals_dirty, clear = self._dirty(heap_len)
        committed = self._committed_len
        if runs:
            base = self._heap_base(self.store, heap_len)
            undo = self._undo_base
            for start, end in runs:
                end = min(end, committed)
                if start < end:
                    ctypes.memmove(base + start, undo + start, end - start)
        if globals_dirty:
            self._load_globals(self.committed_globals)
        self._clear_dirty(clear)
        self._pending = False
        self._release_undo(self._saved_pages(runs, committed))
        if heap_len != committed:
            self.rebuild()

    def rebuild(self) -> None:
        """A fresh instance holding the committed state (memories cannot shrink): the
        committed bytes are copied from the old instance's memory into the new one's."""
        old_store, old_memory, old_undo = self.store, self.memory, self.undo
        old_pending, old_flags_base, old_undo_base = self._pending, self._dirty_base, self._undo_base
        length = self._committed_len
        self._instantiate()
        self._grow_heap(length)
        if length:
            assert old_memory is not None and self.memory is not None
            target = self._heap_base(self.store, self.heap_len())
            source = _address(old_memory, old_store)
            if old_pending:
                _copy_committed(
                    target,
                    source,
                    old_flags_base,
                    old_undo_base,
                    0,
                    length,
                    self._undo_len_of(old_undo, old_store),
                )
            else:
                ctypes.memmove(target, source, length)
        self._grow_undo(length)
        self._load_globals(self.committed_globals)
        self._clear_dirty(self.heap_len() >> PAGE_SIZE_LOG2)
        self._pending = False
        self._undo_held = 0
        self.rebuilds += 1
        del old_store

    @staticmethod
    def _undo_len_of(undo: wasmtime.Memory | None, store: wasmtime.Store) -> int:
        return undo.data_len(store) if undo is not None else 0

    def _grow_heap(self, length: int) -> None:
        memory = self.memory
        if memory is None:
            if length:
                raise Trapped("cannot load a heap into a module without memory")
            return
        current = memory.data_len(self.store)
        if length > current:
            try:
                memory.grow(self.store, (length - current + WASM_PAGE - 1) // WASM_PAGE)
            except wasmtime.WasmtimeError as exc:
                raise Trapped(f"the module's memory cannot hold the {length}-byte heap") from exc

    def load_state(self, heap: bytes | bytearray | memoryview, globals_: bytes | None) -> None:
        """Replace heap (and globals, if given) and make that the committed state.

        Used to restore snapshots and to carry a heap over into a new module's instance; a
        heap smaller than the module's initial memory is padded with zeros to it. The bytes
        are copied once, straight into the instance's memory.
        """
        self.load_pages(len(heap), [(0, heap)] if len(heap) else [], globals_)

    def load_pages(
        self,
        length: int,
        pages: Iterable[tuple[int, bytes | bytearray | memoryview]],
        globals_: bytes | None,
    ) -> None:
        """``load_state`` from a sparse heap: ``length`` bytes, zero but for ``pages``
        (offset and bytes), written one by one into the instance's memory (a checkpoint's
        heap is restored without a full copy of it beside the instance's)."""
        pages = list(pages)
        for offset, data in pages:
            if offset < 0 or offset + len(data) > length:
                raise ValueError(
                    f"a page of {len(data)} bytes at {offset} lies outside the {length}-byte heap"
                )
        current = self.heap_len()
        self._grow_heap(length)
        total = self.heap_len()
        base = self._heap_base(self.store, total) if total else 0
        # what grew is zero; what the instance held before (data segments, an earlier
        # state) is cleared where it is not, chunk by chunk (reading a page never written
        # maps the zero page: no memory is taken for the heap's zero pages)
        for chunk in range(0, current, WASM_PAGE):
            size = min(WASM_PAGE, current - chunk)
            if ctypes.string_at(base + chunk, size).count(0) != size:
                ctypes.memset(base + chunk, 0, size)
        for offset, data in pages:
            if data:
                ctypes.memmove(base + offset, _buffer_address(data), len(data))
        if globals_ is not None:
            self._load_globals(globals_)
        self._clear_dirty(total >> PAGE_SIZE_LOG2)
        self._grow_undo(total)
        self._committed_len = total
        self._pending = False
        self._heap_digest = None
        self.committed_globals = self._save_globals()
        for listener in self._listeners:
            listener.replaced()

    def snapshot(self) -> InstanceState:
        """The committed heap and globals, to be restored later (here or in a new instance)."""
        return InstanceState(self.committed_bytes(), self.committed_globals)

    def restore(self, state: InstanceState) -> None:
        """Make ``state`` (from :meth:`snapshot`) the live and committed state."""
        self.load_state(state.heap, state.globals)

    def live_heap(self) -> bytes:
        """The live heap (during an upgrade: the old instance after ``pre_upgrade``)."""
        return self._read_heap_all()

    # -- the committed state, read where the live heap holds it --------------------------------

    def copy_committed(self, target: int, start: int, end: int) -> None:
        """Copy the committed heap's bytes ``[start, end)`` to address ``target`` (a
        follower's memory): straight from the live heap between calls, with the saved
        pre-images laid over it during one."""
        if end <= start:
            return
        if end > self._committed_len:
            raise ValueError(f"bytes up to {end} asked of a {self._committed_len}-byte committed heap")
        source = self._heap_base(self.store, self.heap_len())
        if not self._pending:
            ctypes.memmove(target, source + start, end - start)
            return
        _copy_committed(
            target - start, source, self._dirty_base, self._undo_base, start, end, self._undo_len()
        )

    def committed_bytes(self) -> bytes:
        """A copy of the committed heap (one copy; see ``committed_view`` for none)."""
        length = self._committed_len
        if not length:
            return b""
        if not self._pending:
            return ctypes.string_at(self._heap_base(self.store, self.heap_len()), length)
        out = ctypes.create_string_buffer(length)
        self.copy_committed(ctypes.addressof(out), 0, length)
        return out.raw

    def committed_view(self) -> memoryview:
        """The committed heap without a copy: a read-only view of the live heap between
        calls (valid until the next call on this instance), a copy during one."""
        length = self._committed_len
        if not length:
            return memoryview(b"")
        if self._pending:
            return memoryview(self.committed_bytes())
        array = (ctypes.c_char * length).from_address(self._heap_base(self.store, self.heap_len()))
        return memoryview(array).cast("B").toreadonly()

    @property
    def committed_heap(self) -> bytes:
        """A copy of the committed heap (kept for callers that want bytes)."""
        return self.committed_bytes()

    # -- followers: who copies the committed state elsewhere ----------------------------------

    def add_listener(self, listener: CommitListener) -> None:
        """Tell ``listener`` what every later commit changes (until ``remove_listener``)."""
        self._listeners = (*self._listeners, listener)

    def remove_listener(self, listener: CommitListener) -> None:
        self._listeners = tuple(known for known in self._listeners if known is not listener)

    # -- views -----------------------------------------------------------------------------

    @property
    def heap_size(self) -> int:
        """The committed heap's size in bytes."""
        return self._committed_len

    def heap_digest(self) -> bytes:
        if self._heap_digest is None:
            self._heap_digest = hashlib.sha256(self.committed_view()).digest()
        return self._heap_digest


def _buffer_address(data: bytes | bytearray | memoryview) -> int | bytes:
    """What ``ctypes.memmove`` takes as a source for ``data`` without copying it."""
    if isinstance(data, bytes):
        return data
    view = memoryview(data)
    if view.readonly:
        return bytes(view)  # a read-only view of memory we cannot address: one copy
    return ctypes.addressof((ctypes.c_char * view.nbytes).from_buffer(view))


def _saved_flags(dirty_base: int, first: int, end: int) -> bytes:
    """One byte per page of ``[first, end)``: 1 where its pre-image is saved (written or
    saved as a neighbour), else 0."""
    count = end - first
    written = ctypes.string_at(dirty_base + PAGE_FLAGS_OFFSET + first, count)
    neighbours = ctypes.string_at(dirty_base + NEIGHBOUR_FLAGS_OFFSET + first, count)
    if neighbours.find(1) == -1:
        return written
    return (int.from_bytes(written, "little") | int.from_bytes(neighbours, "little")).to_bytes(
        count, "little"
    )


def _page_runs(flags: bytes) -> list[tuple[int, int]]:
    """The byte ranges of the runs of set page flags (a memchr-speed scan)."""
    runs = []
    i = flags.find(1)
    while i != -1:
        j = flags.find(0, i)
        if j == -1:
            j = len(flags)
        runs.append((i << PAGE_SIZE_LOG2, j << PAGE_SIZE_LOG2))
        i = flags.find(1, j)
    return runs


def _copy_committed(
    target: int, source: int, flags_base: int, undo_base: int, start: int, end: int, undo_len: int
) -> None:
    """Copy committed bytes ``[start, end)`` to ``target + start``: the live bytes at
    ``source``, but a saved page's pre-image from ``undo_base``."""
    first = start >> PAGE_SIZE_LOG2
    last = (end + TRACK_PAGE_SIZE - 1) >> PAGE_SIZE_LOG2
    flags = _saved_flags(flags_base, first, last)
    position = start
    while position < end:
        page = position >> PAGE_SIZE_LOG2
        saved = flags[page - first] == 1 and position < undo_len
        # the run of pages with the same answer
        index = page - first
        run = flags.find(0 if saved else 1, index)
        stop = end if run == -1 else min(end, (first + run) << PAGE_SIZE_LOG2)
        if saved:
            stop = min(stop, undo_len)
        origin = undo_base if saved else source
        ctypes.memmove(target + position, origin + position, stop - position)
        position = stop
