"""Query threads for the process backend: bounded, fairly shared, below consensus.

A query's Wasm may run up to the query instruction limit (5 billion instructions, seconds
of CPU). The replica's trio loop must keep making blocks meanwhile, so the process adapter
(``node.runtime``) runs a query's middle step (``PendingQuery.run``) here:

- on one of ``QUERY_THREADS`` dedicated threads (the IC runs 4 per replica; two replicas
  share a core here), whose OS priority is lowered by ``QUERY_THREAD_NICE`` so that the
  consensus thread wins the CPU when both want it. wasmtime runs Wasm without Python's
  lock, so the loop runs on while a query computes;
- in turns shared fairly between callers: each caller (the sender principal; anonymous
  callers by connection) has a lane, and a free thread takes the oldest query of the lane
  served least recently (a caller with nothing waiting or running counts as never served):
  round robin, in which a caller that arrives goes first. A caller with a flood of looping
  queries holds at most its share of threads, and another caller's query takes the next
  thread that is free, waiting for at most one running query to end;
- with a bounded wait: at most ``MAX_QUEUED_PER_CALLER`` queries of one caller and
  ``MAX_QUEUED_QUERIES`` in all wait for a thread; beyond that a query is refused at once
  with a SYS_TRANSIENT reject that names the limit (``QueueFull``).

The simulator has no threads: it calls ``Replica.query``, the same three steps in a row.
"""

from __future__ import annotations

import os
import queue
import sys
import threading
from collections import Counter, deque
from collections.abc import AsyncIterator, Callable, Hashable
from contextlib import asynccontextmanager
from typing import TypeVar

import outcome
import trio

from vocab.errors import RejectCode, RejectError

QUERY_THREADS = 2
"""Queries running at once on one replica."""
MAX_QUEUED_QUERIES = 64
"""Queries waiting for a thread, over all callers."""
MAX_QUEUED_PER_CALLER = 8
"""Queries of one caller waiting for a thread."""
QUERY_INLINE_INSTRUCTIONS = 10_000_000
"""A query first runs on the replica's thread with this budget (milliseconds of Wasm): most
queries fit, and a thread's hand-off costs more than they do. One that does not fit is run
again from the start on a query thread with the full limit (the same answer: nothing of
the first try is kept)."""
QUERY_INLINE_SECONDS = 0.005
"""The first try's wall-clock limit too: System API calls cost microseconds of Python each,
so 10 million instructions of them could hold the replica's thread for many seconds."""
QUERY_TIME_LIMIT_SECONDS = 10.0
"""A query on a query thread is stopped (SYS_TRANSIENT) at its first System API call after
this long: a loop around a cheap System API call could run for hours within the
instruction limit. Pure Wasm reaches the instruction limit in seconds."""
QUERY_THREAD_NICE = 10
"""How much lower than the replica's the query threads' OS scheduling priority is (Linux)."""

T = TypeVar("T")


class QueueFull(RejectError):
    """A query refused because too many wait already; the message names the limit."""

    def __init__(self, message: str) -> None:
        super().__init__(RejectCode.SYS_TRANSIENT, message, "")


class QueryPool:
    """Lanes of waiting queries, the turns they get, and the threads they run on."""

    def __init__(
        self,
        threads: int = QUERY_THREADS,
        max_queued: int = MAX_QUEUED_QUERIES,
        max_queued_per_caller: int = MAX_QUEUED_PER_CALLER,
        nice: int = QUERY_THREAD_NICE,
    ) -> None:
        if threads < 1:
            raise ValueError(f"a query pool needs at least one thread, not {threads}")
        self.threads = threads
        self.max_queued = max_queued
        self.max_queued_per_caller = max_queued_per_caller
        self.nice = nice
        self._lanes: dict[Hashable, deque[trio.Event]] = {}
        self._served: dict[Hashable, int] = {}
        """The turn at which a lane with queries waiting or running was last served."""
        self._active: Counter[Hashable] = Counter()
        """Queries waiting or running, by lane."""
        self._turns = 0
        self._queued = 0
        self._running = 0
        self._jobs: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._workers: list[threading.Thread] = []
        self.refused = 0
        self.ran = 0

    # -- turns -------------------------------------------------------------------------------

    @property
    def queued(self) -> int:
        return self._queued

    @property
    def running(self) -> int:
        return self._running

    @asynccontextmanager
    async def turn(self, lane: Hashable, caller: str) -> AsyncIterator[None]:
        """Wait for this lane's turn at a thread, then hold it for the block's duration.

        Raises ``QueueFull`` at once when the caller (``caller`` names it in the message)
        or everyone has too many queries waiting."""
        waiting = self._lanes.get(lane)
        if waiting is not None and len(waiting) >= self.max_queued_per_caller:
            self.refused += 1
            raise QueueFull(
                f"Too many queries from {caller} are waiting on this replica: "
                f"{len(waiting)} (the limit is MAX_QUEUED_PER_CALLER = {self.max_queued_per_caller}). "
                "Please try again later."
            )
        if self._queued >= self.max_queued:
            self.refused += 1
            raise QueueFull(
                f"This replica's query queue is full: {self._queued} queries are waiting "
                f"(the limit is MAX_QUEUED_QUERIES = {self.max_queued}). Please try again later."
            )
        ticket = trio.Event()
        self._lanes.setdefault(lane, deque()).append(ticket)
        self._active[lane] += 1
        self._queued += 1
        self._dispatch()
        granted = False
        try:
            await ticket.wait()
            granted = True
        finally:
            if not granted:  # cancelled
                if not ticket.is_set():  # still waiting: leave the lane
                    self._leave(lane, ticket)
                else:  # given a turn it will not use
                    self._done(lane)
        try:
            yield
        finally:
            self.ran += 1
            self._done(lane)

    def _leave(self, lane: Hashable, ticket: trio.Event) -> None:
        waiting = self._lanes[lane]
        waiting.remove(ticket)
        self._queued -= 1
        if not waiting:
            del self._lanes[lane]
        self._forget(lane)

    def _done(self, lane: Hashable) -> None:
        self._running -= 1
        self._forget(lane)
        self._dispatch()

    def _forget(self, lane: Hashable) -> None:
        self._active[lane] -= 1
        if not self._active[lane]:
            del self._active[lane]
            self._served.pop(lane, None)

    def _dispatch(self) -> None:
        """Give free threads to the lanes in turn: the oldest query of the lane served
        least recently (never served first; ties in the order the lanes came)."""
        while self._running < self.threads and self._lanes:
            served = self._served
            lane = min(self._lanes, key=lambda candidate: served.get(candidate, -1))
            waiting = self._lanes[lane]
            ticket = waiting.popleft()
            if not waiting:
                del self._lanes[lane]
            self._turns += 1
            served[lane] = self._turns
            self._queued -= 1
            self._running += 1
            ticket.set()

    # -- threads -----------------------------------------------------------------------------

    async def in_thread(self, function: Callable[[], T]) -> T:
        """Run ``function`` on a query thread (call it holding a ``turn``: a thread is free).

        The wait cannot be cancelled: what the function uses (a query instance) is back in
        the caller's hands only when it has returned, and it returns within its limit."""
        if not self._workers:
            self._start()
        token = trio.lowlevel.current_trio_token()
        done = trio.Event()
        box: list[outcome.Outcome[T]] = []

        def job() -> None:
            box.append(outcome.capture(function))
            try:
                token.run_sync_soon(done.set)
            except trio.RunFinishedError:
                pass

        self._jobs.put(job)
        with trio.CancelScope(shield=True):
            await done.wait()
        return box[0].unwrap()

    def _start(self) -> None:
        for index in range(self.threads):
            worker = threading.Thread(target=self._work, name=f"query-{index}", daemon=True)
            worker.start()
            self._workers.append(worker)

    def _work(self) -> None:
        lower_priority(self.nice)
        while True:
            job = self._jobs.get()
            if job is None:
                return
            job()

    def close(self) -> None:
        """Stop the threads (after the jobs queued before)."""
        for _ in self._workers:
            self._jobs.put(None)
        self._workers = []


def lower_priority(nice: int) -> bool:
    """Lower the calling thread's OS scheduling priority by ``nice`` (Linux: per thread);
    whether it was done. Elsewhere ``setpriority`` would lower the whole process, so not."""
    if nice <= 0 or not sys.platform.startswith("linux"):
        return False
    tid = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + nice))
    except OSError:
        return False
    return True


__all__ = [
    "MAX_QUEUED_PER_CALLER",
    "MAX_QUEUED_QUERIES",
    "QUERY_INLINE_INSTRUCTIONS",
    "QUERY_INLINE_SECONDS",
    "QUERY_TIME_LIMIT_SECONDS",
    "QUERY_THREADS",
    "QUERY_THREAD_NICE",
    "QueryPool",
    "QueueFull",
    "lower_priority",
]
