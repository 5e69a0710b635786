"""Queries on query instances: copies of canisters' certified state, runnable off the
thread that executes blocks.

On the IC a query does not run on the replicated execution's instance of a canister: it
runs on query threads, against the certified state, with its own instruction limit
(``ExecutionConfig.query_limit``, 5 billion at scale 1), while execution goes on. Here
each canister that is queried gets a *query instance*: a ``node.wasm.follower`` of its
executing instance (the same compiled module, a Store of its own) kept equal to the
executing instance's committed heap and globals by copying only the pages that changed.

A query has three steps:

- ``prepare_query``, on the executing thread, between blocks: the checks (canister,
  status, method), the System API context (time, caller, data certificate, the canister's
  fields as they are now), a view of the committed stable memory
  (``StableMemory.committed_view``: no page copied) and a query instance brought up to date.
- ``QueryJob.run``, on any thread: the Wasm, through ``QUERY_API``, whose current context
  is per thread and whose host functions never raise into wasmtime. It reads nothing
  the executing thread changes.
- ``QueryJob.finish``, back on the executing thread: the query instance is returned to
  the pool, the canister's query statistics counted.

What the query wrote (heap, globals, stable memory) stays in its instance and view, and
the next sync puts the instance back; the executing instance never sees it. Composite
queries run the same way (this execution layer gives them no calls to other canisters).
Idle query instances are kept, at most ``MAX_IDLE_PER_CANISTER`` per canister and
``QUERY_INSTANCE_CACHE_BYTES`` of heap in all (the least recently used canisters' go first,
never the last queried one's); one is made (a full heap copy, on the executing thread)
when none is idle.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from node.ic.canister import CanisterState
from node.ic.errors import CanisterTrap, MethodNotFound, canister_trap, from_canister
from node.ic.ic0 import Context
from node.ic.messages import CallResult, response
from node.ic.module_rules import ModuleInfo
from node.ic.runtime import CanisterRuntime
from node.ic.state import ExecutionState
from node.ic.system_api import ApiContext, SystemApi
from node.wasm.errors import WasmTrap
from node.wasm.follower import FollowerInstance, TimeLimitExceeded, isolated_imports, time_limit
from node.wasm.host import HostImports
from vocab.errors import RejectCode, RejectError
from vocab.principal import CanisterId, Principal

QueryInstance = FollowerInstance[ModuleInfo]

MAX_IDLE_PER_CANISTER = 2
"""Idle query instances kept per canister (the IC runs at most 2 query threads per canister)."""
QUERY_INSTANCE_CACHE_BYTES = 1 << 30
"""Heap bytes of idle query instances kept over all canisters (those of the canister queried
last are kept whatever their size: making one copies the whole heap)."""


class QuerySystemApi(SystemApi):
    """The System API of query instances: the current context is per thread, and the
    import tables are isolated (``node.wasm.follower.isolated_imports``)."""

    def __init__(self) -> None:
        self._local = threading.local()
        self._isolated: dict[bool, HostImports] = {}
        super().__init__()

    @property
    def current(self) -> ApiContext | None:
        current: ApiContext | None = getattr(self._local, "current", None)
        return current

    @current.setter
    def current(self, ctx: ApiContext | None) -> None:
        self._local.current = ctx

    def imports(self, memory64: bool) -> HostImports:
        table = self._isolated.get(memory64)
        if table is None:
            table = isolated_imports(super().imports(memory64))
            self._isolated[memory64] = table
        return table


QUERY_API = QuerySystemApi()
"""The process's one System API for query instances."""


class QueryInstances:
    """Idle query instances by canister, and what keeping them up to date cost."""

    def __init__(self, runtime: CanisterRuntime, cache_bytes: int = QUERY_INSTANCE_CACHE_BYTES) -> None:
        self.runtime = CanisterRuntime(runtime.engine)
        self.runtime.api = QUERY_API
        self.cache_bytes = cache_bytes
        self._idle: OrderedDict[bytes, list[QueryInstance]] = OrderedDict()
        self.created = 0
        self.pages_copied = 0
        """4 KiB pages copied into query instances, over all syncs."""

    def checkout(self, canister: CanisterState) -> QueryInstance:
        """A query instance of ``canister`` holding its committed state (executing thread)."""
        source = canister.instance
        assert source is not None
        raw = canister.principal.raw
        idle = self._idle.get(raw, [])
        instance = None
        while idle and instance is None:
            candidate = idle.pop()
            if candidate.source is source:
                instance = candidate
            else:  # the canister's instance was replaced (install, snapshot load, restore)
                candidate.detach()
        if not idle:
            self._idle.pop(raw, None)
        if instance is None:
            compiled = source.compiled
            try:
                instance = FollowerInstance(
                    self.runtime.engine,
                    compiled,
                    QUERY_API.imports(compiled.memory64),
                    source.heap_hard_limit,
                    source,
                )
            except WasmTrap as stop:
                raise canister_trap(stop) from None
            self.created += 1
        self.pages_copied += instance.sync()
        return instance

    def checkin(self, canister: CanisterState, instance: QueryInstance) -> None:
        """Keep ``instance`` for the next query of ``canister`` (executing thread), within bounds."""
        if canister.instance is not instance.source:
            instance.detach()
            return
        raw = canister.principal.raw
        idle = self._idle.setdefault(raw, [])
        idle.append(instance)
        self._idle.move_to_end(raw)
        while len(idle) > MAX_IDLE_PER_CANISTER:
            idle.pop(0).detach()
        while self.idle_bytes() > self.cache_bytes:
            oldest, instances = next(iter(self._idle.items()))
            if oldest == raw:  # the canister just queried keeps its own, whatever its size
                break
            instances.pop(0).detach()
            if not instances:
                del self._idle[oldest]

    def prune(self, canisters: dict[bytes, CanisterState]) -> None:
        """Drop idle query instances whose canister is gone or has another instance now
        (they would keep the old instance alive)."""
        for raw in [raw for raw, instances in self._idle.items() if _stale(canisters.get(raw), instances)]:
            for instance in self._idle.pop(raw):
                instance.detach()

    def idle_bytes(self) -> int:
        return sum(instance.heap_len() for instances in self._idle.values() for instance in instances)

    def idle(self, canister: CanisterState) -> int:
        return len(self._idle.get(canister.principal.raw, []))


def _stale(canister: CanisterState | None, instances: list[QueryInstance]) -> bool:
    return canister is None or any(instance.source is not canister.instance for instance in instances)


class QueryJob:
    """A query prepared on the executing thread: ``run`` once on any thread, then
    ``finish`` on the executing thread (see the module docstring)."""

    def __init__(
        self,
        result: CallResult | None = None,
        *,
        pool: QueryInstances | None = None,
        canister: CanisterState | None = None,
        instance: QueryInstance | None = None,
        export: str = "",
        ctx: ApiContext | None = None,
        limit: int = 0,
    ) -> None:
        self._result = result
        self._pool = pool
        self._canister = canister
        self._instance = instance
        self._export = export
        self._ctx = ctx
        self._limit = limit
        self._error: Exception | None = None
        self._trapped = False
        self._late = False

    @property
    def exhausted(self) -> bool:
        """Whether the query used up its instruction budget: run with a small one (the
        process backend's first try, on its own thread), it is prepared again with the
        query limit; the answer would be the same with any budget it fits in."""
        result = self._result
        return self._late or (self._trapped and result is not None and result.instructions >= self._limit)

    @classmethod
    def answered(cls, result: CallResult) -> QueryJob:
        """A query answered while it was prepared (a reject, a management query)."""
        return cls(result)

    def run(self, seconds: float | None = None) -> None:
        """The Wasm, on this thread; touches only the query instance and the context.

        ``seconds``: a wall-clock limit, checked at System API calls (see
        ``node.wasm.follower.time_limit``); a query over it is answered with a
        SYS_TRANSIENT reject and counts as ``exhausted``. None (the simulator): no limit."""
        if self._result is not None or self._error is not None:
            return
        canister, instance, ctx = self._canister, self._instance, self._ctx
        assert self._pool is not None and canister is not None and instance is not None and ctx is not None
        try:
            with time_limit(seconds):
                used = self._pool.runtime.run(instance, self._export, ctx, self._limit)
        except TimeLimitExceeded as late:
            self._late = True
            self._result = CallResult(
                reject=RejectError(
                    RejectCode.SYS_TRANSIENT,
                    f"Query of canister {canister.canister_id.to_text()} {late} on this replica "
                    "(the query time limit; its System API calls take time the instruction count "
                    "does not show). Please try again later.",
                    "",
                )
            )
        except CanisterTrap as trap:
            self._trapped = True
            self._result = CallResult(
                reject=from_canister(canister.canister_id.to_text(), trap), instructions=trap.instructions
            )
        except Exception as exc:  # a bug, not the canister: raised again by ``finish``
            self._error = exc
        else:
            self._result = response(canister, ctx, used, 0)

    def abandon(self) -> None:
        """Return the query instance without counting the query (executing thread)."""
        canister, instance = self._canister, self._instance
        if self._pool is not None and canister is not None and instance is not None:
            self._instance = None
            self._pool.checkin(canister, instance)

    def finish(self) -> CallResult:
        """Return the query instance and count the query (executing thread); the result."""
        if self._instance is not None and self._canister is not None:
            self.abandon()
            result = self._result
            canister = self._canister
            if result is not None and not self._trapped and not self._late:
                canister.query_calls += 1
                canister.query_instructions += result.instructions
        if self._error is not None:
            raise self._error
        assert self._result is not None, "finish before run"
        return self._result


def prepare_query(
    state: ExecutionState,
    pool: QueryInstances,
    canister_id: CanisterId,
    method: str,
    arg: bytes,
    *,
    caller: Principal,
    time: int,
    data_certificate: bytes | None = None,
    instruction_limit: int | None = None,
) -> QueryJob:
    """A query of ``method`` on ``canister_id``, prepared on the executing thread: the
    same checks and context as ``Messages.query``, on a query instance, with the query
    limit (or ``instruction_limit``, if lower)."""
    pool.prune(state.canisters)
    try:
        canister = state.canister(canister_id)
        source = state.runnable(canister)
        kind = source.compiled.info.method_kind(method)
        if kind not in ("query", "composite_query"):
            raise MethodNotFound(canister_id.to_text(), method, "query")
        instance = pool.checkout(canister)
    except RejectError as exc:
        return QueryJob.answered(CallResult(reject=exc))
    context = Context.NON_REPLICATED_QUERY if kind == "query" else Context.COMPOSITE_QUERY
    export = f"canister_query {method}" if kind == "query" else f"canister_composite_query {method}"
    ctx = state.api_context(
        canister, context, caller=caller, arg=arg, time=time, data_certificate=data_certificate
    )
    ctx.stable = canister.stable.committed_view()
    ctx.stable.begin()  # the query's writes go to pages of its own, as a message's do
    return QueryJob(
        pool=pool,
        canister=canister,
        instance=instance,
        export=export,
        ctx=ctx,
        limit=min(state.config.query_limit, instruction_limit or state.config.query_limit),
    )


__all__ = [
    "MAX_IDLE_PER_CANISTER",
    "QUERY_API",
    "QUERY_INSTANCE_CACHE_BYTES",
    "QueryInstance",
    "QueryInstances",
    "QueryJob",
    "QuerySystemApi",
    "prepare_query",
]
