"""A live Wasm instance, with commit and rollback per call and snapshots of its state.

The instance holds its heap once. The *committed* heap (the state as of the last committed
call) lives in a shared-memory file (``node.wasm.backing``) and the live heap is that file
mapped privately: a page the live heap has not written since it was mapped is the file's
own page, and only pages written since then take memory of their own (the kernel copies a
page on its first write, which is the pre-image an undo log would save). Instrumented code
marks every 4 KiB page and every global it writes in a private dirty map, so after a call:

- commit copies only the marked pages into the file (and, once more than
  ``PRIVATE_PAGES_BUDGET`` pages have been written since, gives the live heap's private
  copies back, so that they read as the file's again), and
- rollback copies only the marked pages back from it.

Both cost time proportional to what the call touched, not to the heap size. The file is
the committed state at every moment, even in the middle of a call: digests, snapshots,
checkpoints and followers read it (``committed_view``, ``copy_committed``) without copying
the heap. Wasm memories cannot shrink, so a failed call that grew the heap (rare) is
replaced by a fresh instance mapped over the same file (no copy at all).

What a call may use is counted in fuel plus the instructions host functions charge
(``Meter.host_instructions``); the instance knows nothing else about its host API.
"""

from __future__ import annotations

import ctypes
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, Protocol

import wasmtime

from node.wasm.backing import HeapBacking
from node.wasm.engine import CompiledModule, InfoT, WasmEngine, call_unit
from node.wasm.errors import InstantiationFailed, MissingExport, OutOfFuel, Trapped, WasmTrap
from node.wasm.host import HostImports
from node.wasm.instrument import GLOBAL_MIRROR_OFFSET, PAGE_FLAGS_OFFSET, PAGE_SIZE_LOG2

_INTERNAL_FUEL = 1 << 40
"""Fuel for the generated save/load functions, which run a few instructions per global."""

WASM_PAGE = 65536
PRIVATE_PAGES_BUDGET = 2048
"""Pages (8 MiB) the live heap may have written since its private copies were last given
back: a message that writes the same few pages keeps them (no page fault per message), one
that writes many gives them back as it commits."""
_ZERO_CHUNK = bytes(WASM_PAGE)
MAX_STORE_SIZE = 16
"""The widest single store (v128.store); bulk operations mark every page they touch."""

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
        self._private_pages = 0
        """Pages committed since the live heap's private copies were last given back."""
        self._mapped_base = 0
        """Where the live heap is mapped over the file (0: it is not)."""
        self._backing: HeapBacking | None = None
        if self._backed and self.memory is not None:
            self._back_initial_heap()
        self.committed_globals: bytes = self._save_globals()
        """Mutable globals, 8 little-endian bytes each in slot order, bit-exact."""
        self._heap_digest: bytes | None = None
        self.rebuilds = 0

    _backed = True
    """Whether the instance keeps a committed heap (a follower reads its source's)."""

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
        ctypes.memmove(self._heap_base(caller, length) + ptr, data, size)
        first = ptr >> PAGE_SIZE_LOG2
        last = (ptr + size - 1) >> PAGE_SIZE_LOG2
        ctypes.memset(self._dirty_base + PAGE_FLAGS_OFFSET + first, 1, last - first + 1)
        return True

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

    def _dirty(self, heap_len: int) -> tuple[list[tuple[int, int]], bool, int]:
        """Dirty byte ranges of the heap, whether any global was set, and the map length to clear."""
        base = self._dirty_base
        globals_dirty = False
        if self.global_count:
            globals_dirty = ctypes.string_at(base, self.global_count).find(1) != -1
        pages = heap_len >> PAGE_SIZE_LOG2
        runs: list[tuple[int, int]] = []
        if pages:
            flags = ctypes.string_at(base + PAGE_FLAGS_OFFSET, pages)
            # memchr-speed scan: find a set flag, then the end of its run
            i = flags.find(1)
            while i != -1:
                j = flags.find(0, i)
                if j == -1:
                    j = pages
                runs.append((i, j))
                i = flags.find(1, j)
        # Stores mark the page where they start; one that starts near the end of a page
        # spills at most MAX_STORE_SIZE - 1 bytes into the next, so copy those bytes too.
        heap_end = pages << PAGE_SIZE_LOG2
        return (
            [(s << PAGE_SIZE_LOG2, min((e << PAGE_SIZE_LOG2) + MAX_STORE_SIZE, heap_end)) for s, e in runs],
            globals_dirty,
            pages,
        )

    def _clear_dirty(self, pages: int) -> None:
        """Clear the flags (not the global mirror, which holds live values)."""
        if self.global_count:
            ctypes.memset(self._dirty_base, 0, self.global_count)
        ctypes.memset(self._dirty_base + PAGE_FLAGS_OFFSET, 0, pages)

    # -- the committed heap's file -----------------------------------------------------------

    def _back_initial_heap(self) -> None:
        """A file holding the new instance's heap (its data segments: only non-zero 64 KiB
        chunks are copied, so a large declared memory takes no memory), mapped under it."""
        length = self._committed_len
        backing = HeapBacking(length)
        base = self._heap_base(self.store, length) if length else 0
        for chunk in range(0, length, WASM_PAGE):
            size = min(WASM_PAGE, length - chunk)
            if ctypes.string_at(base + chunk, size) != _ZERO_CHUNK[:size]:
                ctypes.memmove(backing.address + chunk, base + chunk, size)
        self._set_backing(backing)
        self._map_heap(0, length)

    def _set_backing(self, backing: HeapBacking) -> None:
        old, self._backing = self._backing, backing
        if old is not None:
            old.close()

    def _map_heap(self, start: int, end: int) -> None:
        """Map the file's ``[start, end)`` under the live heap (where the platform can; the
        live heap then holds the file's bytes there)."""
        backing = self._backing
        assert backing is not None
        length = self.heap_len()
        base = self._heap_base(self.store, length) if length else 0
        if start == 0:
            self._mapped_base = 0
        if backing.map_private(base, start, end):
            if start == 0 or self._mapped_base == base:
                self._mapped_base = base
        else:
            ctypes.memmove(base + start, backing.address + start, end - start)
        self._private_pages = 0

    def commit(self) -> None:
        """Make the live state the committed state."""
        heap_len = self.heap_len()
        runs, globals_dirty, clear = self._dirty(heap_len)
        backing = self._backing
        if backing is not None:
            base = self._heap_base(self.store, heap_len)
            if heap_len > backing.length:
                backing.resize(heap_len)
            target = backing.address
            for start, end in runs:
                ctypes.memmove(target + start, base + start, end - start)
            if self._mapped_base and base != self._mapped_base:  # it moved as it grew: map it again
                self._map_heap(0, heap_len)
            elif heap_len > self._committed_len:  # the pages that came with growth
                self._map_heap(self._committed_len, heap_len)
            self._give_back(runs, base, heap_len)
        if runs or heap_len != self._committed_len:
            self._heap_digest = None
        self._committed_len = heap_len
        if globals_dirty:
            self.committed_globals = self._mirrored_globals()
        self._clear_dirty(clear)
        if runs:
            for listener in self._listeners:
                listener.committed(runs)

    def rollback(self) -> None:
        """Return the live state to the committed state."""
        heap_len = self.heap_len()
        committed = self._committed_len
        runs, globals_dirty, clear = self._dirty(heap_len)
        backing = self._backing
        if runs and backing is not None:
            base = self._heap_base(self.store, heap_len)
            source = backing.address
            for start, end in runs:
                end = min(end, committed)
                if start < end:
                    ctypes.memmove(base + start, source + start, end - start)
            if heap_len == committed:
                self._give_back(runs, base, heap_len)
        if globals_dirty:
            self._load_globals(self.committed_globals)
        self._clear_dirty(clear)
        if heap_len != committed:
            self.rebuild()

    def _give_back(self, runs: list[tuple[int, int]], base: int, length: int) -> None:
        """Count the pages a call wrote; past the budget, give the live heap's private
        copies back (the live heap equals the file now: they read as its pages again)."""
        self._private_pages += sum(end - start for start, end in runs) >> PAGE_SIZE_LOG2
        if self._private_pages > PRIVATE_PAGES_BUDGET and self._mapped_base == base:
            HeapBacking.release(base, length)
            self._private_pages = 0

    def rebuild(self) -> None:
        """A fresh instance holding the committed state (memories cannot shrink): its heap
        is the file mapped anew, nothing copied."""
        old_store = self.store
        self._instantiate()
        self._grow_heap(self._committed_len)
        if self._backing is not None:
            self._map_heap(0, self._committed_len)
        self._load_globals(self.committed_globals)
        self._clear_dirty(self.heap_len() >> PAGE_SIZE_LOG2)
        self.rebuilds += 1
        del old_store

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
        are copied once, into the committed heap's file, which the live heap then maps.
        """
        self.load_pages(len(heap), [(0, heap)] if len(heap) else [], globals_)

    def load_pages(
        self,
        length: int,
        pages: Iterable[tuple[int, bytes | bytearray | memoryview]],
        globals_: bytes | None,
    ) -> None:
        """``load_state`` from a sparse heap: ``length`` bytes, zero but for ``pages``
        (offset and bytes), each written once into the committed heap's file (a
        checkpoint's heap is restored without a full copy of it on the way)."""
        pages = list(pages)
        for offset, data in pages:
            if offset < 0 or offset + len(data) > length:
                raise ValueError(
                    f"a page of {len(data)} bytes at {offset} lies outside the {length}-byte heap"
                )
        if self.memory is None:
            self._grow_heap(length)  # raises for a heap, does nothing for none
        else:
            self._grow_heap(length)
            total = self.heap_len()
            backing = HeapBacking(total)
            for offset, data in pages:
                if data:
                    ctypes.memmove(backing.address + offset, _buffer_address(data), len(data))
            self._set_backing(backing)
            self._map_heap(0, total)
        if globals_ is not None:
            self._load_globals(globals_)
        self._clear_dirty(self.heap_len() >> PAGE_SIZE_LOG2)
        self._committed_len = self.heap_len()
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

    # -- followers: who copies the committed state elsewhere ----------------------------------

    def add_listener(self, listener: CommitListener) -> None:
        """Tell ``listener`` what every later commit changes (until ``remove_listener``)."""
        self._listeners = (*self._listeners, listener)

    def remove_listener(self, listener: CommitListener) -> None:
        self._listeners = tuple(known for known in self._listeners if known is not listener)

    # -- the committed state, read from its file ----------------------------------------------

    def copy_committed(self, target: int, start: int, end: int) -> None:
        """Copy the committed heap's bytes ``[start, end)`` to address ``target`` (a
        follower's memory); right at any moment, in the middle of a call too."""
        if end <= start:
            return
        if end > self._committed_len or self._backing is None:
            raise ValueError(f"bytes up to {end} asked of a {self._committed_len}-byte committed heap")
        ctypes.memmove(target, self._backing.address + start, end - start)

    def committed_view(self) -> memoryview:
        """The committed heap, read-only and without a copy (valid until the next commit)."""
        if self._backing is None or not self._committed_len:
            return memoryview(b"")
        return self._backing.view()[: self._committed_len]

    def committed_bytes(self) -> bytes:
        """A copy of the committed heap."""
        return bytes(self.committed_view())

    @property
    def committed_heap(self) -> bytes:
        """A copy of the committed heap (for callers that want bytes)."""
        return self.committed_bytes()

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
