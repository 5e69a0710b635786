"""An instance that follows another instance's committed state, so that reads run elsewhere.

A read (the IC's query) must not run on the instance that executes messages: that instance
belongs to the thread that executes blocks, and a read that loops to its instruction limit
there holds up everything else. A *follower* is a second instance of the same compiled
module, in its own wasmtime Store, holding a copy of its source's committed heap and
globals. ``sync`` brings it up to date by copying only what changed since its last sync:
the heap ranges the source's commits wrote (a ``PageTracker`` listens to them, see
``WasmInstance.add_listener``) and the pages the follower's own last call wrote (its dirty
map). Its first sync, a source whose state was replaced as a whole, and a follower whose
memory grew during a call (memories cannot shrink: it is instantiated again) copy the
whole heap. ``pages_copied`` counts 4 KiB pages.

A follower may run on another thread than its source, under two rules:

- ``sync`` runs on the source's thread, never while the follower runs; it reads only the
  source's committed state (its committed heap file, see ``WasmInstance.copy_committed``:
  the middle of a message, even one executed in slices, is fine), and the follower then
  reads nothing of the source until the next ``sync``. A change to the committed heap
  other than ``commit``, ``load_state`` and ``load_pages`` must tell the listeners too.
- Its host functions never raise into wasmtime. wasmtime-py keeps an exception raised by a
  host function in one process-wide slot until the thread that called Wasm picks it up, so
  two threads that both raise could take each other's (an update on one thread would then
  fail with a query's error). ``isolated_imports`` wraps a host table so that a host
  function that stops the call records why in its own thread, sets the fuel to zero (Wasm
  stops at its next fuel check; the few instructions it runs until then touch only the
  follower, whose changes are thrown away) and returns; ``call`` raises what it recorded,
  with the instructions used up to that moment, exactly as the source's ``call`` would
  have. Calls enter Wasm without wasmtime-py's exception slot at all.
"""

from __future__ import annotations

import ctypes
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import wasmtime
from wasmtime import _ffi as ffi

from node.wasm.engine import CompiledModule, InfoT, WasmEngine
from node.wasm.errors import MissingExport, WasmTrap
from node.wasm.host import HostFunction, HostImports
from node.wasm.instance import WASM_PAGE, Meter, WasmInstance
from node.wasm.instrument import PAGE_SIZE_LOG2
from vocab.wasm import F32, F64

PAGE_BYTES = 1 << PAGE_SIZE_LOG2


class PageTracker:
    """The pages of a source's committed heap written since the last ``take``."""

    def __init__(self) -> None:
        self.flags = bytearray()
        self.everything = True
        """Copy the whole heap at the next sync (nothing copied yet, or the state replaced)."""

    def committed(self, runs: list[tuple[int, int]]) -> None:
        flags = self.flags
        for start, end in runs:
            first, last = start >> PAGE_SIZE_LOG2, (end - 1) >> PAGE_SIZE_LOG2
            if last >= len(flags):
                flags.extend(bytes(last + 1 - len(flags)))
            flags[first : last + 1] = b"\x01" * (last + 1 - first)

    def replaced(self) -> None:
        self.everything = True

    def take(self) -> tuple[bool, bytes]:
        """Whether everything changed, and the page flags; both reset."""
        everything, flags = self.everything, bytes(self.flags)
        self.everything = False
        self.flags = bytearray()
        return everything, flags


class TimeLimitExceeded(Exception):
    """A follower's call ran longer than the wall-clock ``time_limit`` it was given."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"ran longer than {seconds:g} s")
        self.seconds = seconds


class _Stop(threading.local):
    """Why a host function stopped this thread's call, the fuel left at that moment, and
    the wall-clock deadline of this thread's calls (``time_limit``)."""

    exception: Exception | None = None
    fuel: int = 0
    deadline: float | None = None
    seconds: float = 0.0


_STOP = _Stop()


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Followers' calls on this thread stop at their first host call after ``seconds`` of
    wall-clock time, with ``TimeLimitExceeded``; None: no limit.

    The instruction limit bounds pure Wasm to seconds, but a host function costs
    microseconds of Python against the few instructions it is charged, so a loop around a
    cheap System API call could run for hours within the instruction limit. Wall-clock time
    differs between machines: this is for reads that no other replica repeats (queries on
    the process backend), never for replicated execution or the simulator."""
    _STOP.deadline = None if seconds is None else time.monotonic() + seconds
    _STOP.seconds = seconds or 0.0
    try:
        yield
    finally:
        _STOP.deadline = None


def isolated_imports(imports: HostImports) -> HostImports:
    """``imports`` with every function wrapped so that it never raises into wasmtime (see
    the module docstring); a follower is linked against such a table."""
    return HostImports(
        {
            key: HostFunction(function.params, function.results, _isolated(function))
            for key, function in imports.functions.items()
        }
    )


def _isolated(function: HostFunction) -> Callable[..., Any]:
    call = function.call
    default: float | int | None = None
    if function.results:
        default = 0.0 if function.results[0] in (F32, F64) else 0

    def host(caller: Any, *args: Any) -> Any:
        stop = _STOP
        if stop.exception is not None:  # the call is already stopping: do nothing more
            return default
        deadline = stop.deadline
        try:
            if deadline is not None and time.monotonic() > deadline:
                raise TimeLimitExceeded(stop.seconds)
            return call(caller, *args)
        except Exception as exc:  # recorded for ``FollowerInstance.call``, which raises it
            stop.exception = exc
            stop.fuel = wasmtime.Store.get_fuel(caller)
            wasmtime.Store.set_fuel(caller, 0)
            return default

    host.__name__ = getattr(call, "__name__", "host")
    return host


def _enter(func: wasmtime.Func, store: wasmtime.Store) -> None:
    """Call a ``() -> ()`` function without wasmtime-py's process-wide exception slot."""
    trap = ctypes.POINTER(ffi.wasm_trap_t)()
    error = ffi.wasmtime_func_call(
        store._context(), ctypes.byref(func._func), None, 0, None, 0, ctypes.byref(trap)
    )
    if error:
        raise wasmtime.WasmtimeError._from_ptr(error)
    if trap:
        raise wasmtime.Trap._from_ptr(trap)


class FollowerInstance(WasmInstance[InfoT]):
    """A copy of ``source``'s committed state in an instance of its own (see the module
    docstring); ``imports`` must come from ``isolated_imports``. It keeps no committed copy
    of its own: what a call wrote is put back from the source at the next ``sync``."""

    _backed = False

    def __init__(
        self,
        engine: WasmEngine,
        compiled: CompiledModule[InfoT],
        imports: HostImports,
        heap_limit: int,
        source: WasmInstance[InfoT],
    ) -> None:
        super().__init__(engine, compiled, imports, heap_limit)
        self.source = source
        self.tracker = PageTracker()
        source.add_listener(self.tracker)
        self.pages_copied = 0
        self.full_copies = 0
        self._globals: bytes | None = None

    def detach(self) -> None:
        """Stop following (the follower is dropped)."""
        self.source.remove_listener(self.tracker)

    def sync(self) -> int:
        """Make heap and globals the source's committed ones; the pages copied.

        The pages are copied straight from the source's committed heap file
        (``WasmInstance.copy_committed``), right even in the middle of a source's call."""
        source = self.source
        length = source.heap_size
        everything, changed = self.tracker.take()
        if self.heap_len() > length:
            self._instantiate()  # a call grew the memory, which cannot shrink
            self._globals = None
            everything = True
        current = self.heap_len()
        if current < length:
            assert self.memory is not None
            self.memory.grow(self.store, (length - current) // WASM_PAGE)
        runs, globals_dirty, clear = self._dirty(self.heap_len())
        self._clear_dirty(clear)
        self._committed_len = length
        copied = 0
        if length:
            target = self._heap_base(self.store, length)
            if everything:
                source.copy_committed(target, 0, length)
                copied = (length + PAGE_BYTES - 1) // PAGE_BYTES
                self.full_copies += 1
            else:
                # the union of what the source's commits and this follower's last call wrote
                pages = PageTracker()
                pages.flags = bytearray(changed)
                pages.committed(runs)
                for start, end in _page_runs(pages.flags):
                    end = min(end, length)
                    if start < end:
                        source.copy_committed(target + start, start, end)
                        copied += (end - start + PAGE_BYTES - 1) // PAGE_BYTES
        if globals_dirty or self._globals is not source.committed_globals:
            self._load_globals(source.committed_globals)
            self._globals = source.committed_globals
        self.pages_copied += copied
        return copied

    def call(self, export: str, limit: int, meter: Meter) -> int:
        """Run ``export`` as ``WasmInstance.call`` does, on this thread's own terms."""
        func = self._funcs.get(export)
        if func is None:
            found = self._exports.get(export)
            if not isinstance(found, wasmtime.Func):
                raise MissingExport(export)
            func = found
            self._funcs[export] = func
        _STOP.exception = None
        store = self.store
        try:
            used = self._metered(lambda: _enter(func, store), limit, meter)
        except WasmTrap as stop:
            raise self._recorded(limit, meter) or stop from None
        recorded = self._recorded(limit, meter)
        if recorded is not None:
            raise recorded
        return used

    @staticmethod
    def _recorded(limit: int, meter: Meter) -> Exception | None:
        """What a host function stopped the call with, with the instructions used then."""
        exception, _STOP.exception = _STOP.exception, None
        if isinstance(exception, WasmTrap):
            exception.instructions = min(limit, limit - _STOP.fuel + meter.host_instructions)
        return exception

    def call_table(self, index: int, argument: int, limit: int, meter: Meter) -> int:
        raise NotImplementedError("a follower runs exports only (callbacks run on the source)")

    def commit(self) -> None:
        raise NotImplementedError("a follower's committed state is its source's")

    def rollback(self) -> None:
        raise NotImplementedError("a follower is put back by sync, from its source")

    def load_pages(self, length: int, pages: Any, globals_: bytes | None) -> None:
        raise NotImplementedError("a follower's state comes from its source (sync)")


def _page_runs(flags: bytes | bytearray) -> list[tuple[int, int]]:
    """Byte ranges of the runs of set page flags."""
    runs = []
    i = flags.find(1)
    while i != -1:
        j = flags.find(0, i)
        if j == -1:
            j = len(flags)
        runs.append((i << PAGE_SIZE_LOG2, j << PAGE_SIZE_LOG2))
        i = flags.find(1, j)
    return runs


__all__ = ["FollowerInstance", "PageTracker", "TimeLimitExceeded", "isolated_imports", "time_limit"]
