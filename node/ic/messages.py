"""Executing messages: updates, queries, message inspection, heartbeats and global timers.

Each execution runs one exported function in one :func:`message_transaction`: an update or
a system task that returns commits its changes and its staged effects; a trap rolls
everything back and still charges the instructions used; a query and an inspection never
commit. Replicated executions advance the canister's version and keep its logs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from node.ic.canister import CanisterInstance, CanisterState, CanisterStatus
from node.ic.errors import (
    CanisterTrap,
    ExecutionError,
    MethodNotFound,
    from_canister,
    trap_log,
)
from node.ic.ic0 import Context
from node.ic.state import ExecutionState
from node.ic.system_api import ApiContext
from node.ic.transaction import apply_effects, message_transaction
from vocab.errors import RejectCode, RejectError
from vocab.principal import CanisterId, Principal

MANAGEMENT = Principal.management()


@dataclass(frozen=True)
class CallResult:
    """The outcome of one message: a reply or a reject, and what it cost."""

    reply: bytes | None = None
    reject: RejectError | None = None
    instructions: int = 0
    cycles_charged: int = 0
    trapped: bool = False
    """The execution trapped (``reject`` says how) and left no change but its fee."""

    @property
    def ok(self) -> bool:
        return self.reject is None

    def unwrap(self) -> bytes:
        """The reply bytes, or raise the reject."""
        if self.reject is not None:
            raise self.reject
        assert self.reply is not None
        return self.reply


def trapped(
    state: ExecutionState, canister: CanisterState, ctx: ApiContext, trap: CanisterTrap
) -> CallResult:
    """The result of a message that trapped (its changes already rolled back): its logs
    and the trap's line kept, the instructions it used charged, a reject for the caller."""
    canister.append_logs([*ctx.logs, trap_log(trap)], state.time)
    fee = state.charge(canister, trap.instructions)
    return CallResult(
        reject=from_canister(canister.canister_id.to_text(), trap),
        instructions=trap.instructions,
        cycles_charged=fee,
        trapped=True,
    )


def response(canister: CanisterState, ctx: ApiContext, used: int, fee: int) -> CallResult:
    """A message's answer from what it left in ``ctx``: its reply, its reject, or IC0506
    "did not reply" (a replicated query, or a non-replicated one, that returned without either)."""
    if ctx.reply is not None:
        return CallResult(reply=ctx.reply, instructions=used, cycles_charged=fee)
    if ctx.reject_message is not None:
        return CallResult(
            reject=RejectError(RejectCode.CANISTER_REJECT, ctx.reject_message, "IC0406"),
            instructions=used,
            cycles_charged=fee,
        )
    return CallResult(
        reject=CanisterTrap(
            f"Error from Canister {canister.canister_id.to_text()}: Canister did not reply to the call.",
            "no_response",
            "IC0506",
        ),
        instructions=used,
        cycles_charged=fee,
    )


class SliceExhausted(Exception):
    """A message run with one slice's instructions (``node.ic.slicing``) needs more: it
    was rolled back and nothing was charged."""


@dataclass(frozen=True)
class TaskResult:
    """The outcome of a heartbeat or global timer run by :meth:`Messages.run_system_tasks`."""

    canister_id: CanisterId
    task: str
    error: RejectError | None
    instructions: int
    paused: bool = False
    """It needs more than one slice and continues in later rounds (``node.ic.slicing``);
    ``error`` and ``instructions`` are then not known yet."""


class TaskSlicer(Protocol):
    """Deterministic time slicing as system tasks use it (``node.ic.slicing.TimeSlicing``)."""

    def active(self, limit: int) -> bool: ...

    def first_slice(
        self,
        canister: CanisterState,
        instance: CanisterInstance,
        function: str | tuple[int, int],
        ctx: ApiContext,
        limit: int,
        context: int | None,
        cleanup: tuple[int, int] | None,
    ) -> CallResult | None: ...


class Messages:
    """Update calls, queries, ``canister_inspect_message`` and system tasks."""

    def __init__(self, state: ExecutionState) -> None:
        self.state = state
        self.after_commit: Callable[[CanisterState, ApiContext], None] | None = None
        """Called after a system task commits, with what it staged: the scheduler of
        inter-canister calls (``node.ic.calls``) enqueues the calls it made."""
        self.slicer: TaskSlicer | None = None
        """Slices long heartbeats and timers; set by the scheduler (``node.ic.calls``)."""

    def callable(self, canister_id: CanisterId, method: str) -> tuple[CanisterState, CanisterInstance, str]:
        """The canister, its instance and the kind of ``method`` (``update`` or ``query``),
        if a replicated call of ``method`` may run now; otherwise the IC's reject."""
        state = self.state
        canister = state.canister(canister_id)
        instance = state.runnable(canister)
        kind = instance.compiled.info.method_kind(method)
        if kind is None:
            raise MethodNotFound(canister_id.to_text(), method, "update or query")
        if kind == "composite_query":
            raise ExecutionError(
                RejectCode.CANISTER_ERROR,
                f"Composite query method '{method}' of canister {canister_id.to_text()} "
                "cannot be called in replicated mode.",
                "IC0527",
            )
        state.check_cycles(canister, state.config.update_limit)
        return canister, instance, kind

    def run_replicated(
        self,
        canister: CanisterState,
        instance: CanisterInstance,
        function: str | tuple[int, int],
        ctx: ApiContext,
        limit: int,
        persist: bool,
        responds: bool = True,
        slice_limit: int | None = None,
    ) -> CallResult:
        """One replicated execution of an export (by name) or a callback (table index and
        env): commit (if ``persist``) or roll back, then charge.

        A message that ``responds`` must reply or reject; a system task answers no one.
        With a ``slice_limit`` below ``limit`` (deterministic time slicing,
        ``node.ic.slicing``) it runs with that many instructions only, and a message that
        needs more is rolled back, not charged, and raises :class:`SliceExhausted`.
        """
        state = self.state
        run_limit = limit if slice_limit is None else min(limit, slice_limit)
        try:
            with message_transaction(instance, canister.stable) as transaction:
                if isinstance(function, str):
                    used = state.runtime.run(instance, function, ctx, run_limit)
                else:
                    used = state.runtime.run_callback(instance, function, ctx, run_limit)
                state.check_memory_limit(canister, instance)
                if persist:
                    transaction.commit()
                    apply_effects(canister, ctx)
        except CanisterTrap as trap:
            if run_limit < limit and trap.kind == "out_of_instructions":
                raise SliceExhausted(run_limit) from None
            return trapped(state, canister, ctx, trap)
        canister.version += 1
        canister.append_logs(ctx.logs, state.time)
        fee = state.charge(canister, used)
        if not responds:
            return CallResult(reply=b"", instructions=used, cycles_charged=fee)
        return response(canister, ctx, used, fee)

    def query(
        self,
        canister_id: CanisterId,
        method: str,
        arg: bytes,
        *,
        caller: Principal,
        time: int | None = None,
        data_certificate: bytes | None = None,
    ) -> CallResult:
        """Execute a query in non-replicated mode; the state is left exactly as it was."""
        state = self.state
        try:
            canister = state.canister(canister_id)
            instance = state.runnable(canister)
            kind = instance.compiled.info.method_kind(method)
            if kind not in ("query", "composite_query"):
                raise MethodNotFound(canister_id.to_text(), method, "query")
        except RejectError as exc:
            return CallResult(reject=exc)
        context = Context.NON_REPLICATED_QUERY if kind == "query" else Context.COMPOSITE_QUERY
        export = f"canister_query {method}" if kind == "query" else f"canister_composite_query {method}"
        ctx = state.api_context(
            canister, context, caller=caller, arg=arg, time=time, data_certificate=data_certificate
        )
        try:
            with message_transaction(instance, canister.stable):
                used = state.runtime.run(instance, export, ctx, state.config.query_limit)
        except CanisterTrap as trap:
            return CallResult(
                reject=from_canister(canister_id.to_text(), trap), instructions=trap.instructions
            )
        canister.query_calls += 1
        canister.query_instructions += used
        return response(canister, ctx, used, 0)

    def inspect_message(
        self, canister_id: CanisterId, method: str, arg: bytes, *, caller: Principal, time: int | None = None
    ) -> RejectError | None:
        """Run ``canister_inspect_message`` if exported; ``None`` means the message is accepted."""
        state = self.state
        try:
            canister = state.canister(canister_id)
            instance = state.runnable(canister)
        except RejectError as exc:
            return exc
        if not instance.compiled.info.has("canister_inspect_message"):
            return None
        ctx = state.api_context(
            canister, Context.INSPECT_MESSAGE, caller=caller, arg=arg, method_name=method, time=time
        )
        try:
            with message_transaction(instance, canister.stable):
                state.runtime.run(instance, "canister_inspect_message", ctx, state.config.inspect_limit)
        except CanisterTrap as trap:
            return from_canister(canister_id.to_text(), trap)
        if not ctx.accepted_message:
            return RejectError(
                RejectCode.CANISTER_REJECT,
                f"Canister {canister_id.to_text()} rejected the message",
                "IC0406",
            )
        return None

    def system_tasks_due(self, time: int) -> bool:
        """Whether a round at ``time`` has a system task to run: a running canister that
        exports ``canister_heartbeat`` (every round), or whose global timer is due."""
        for canister in self.state.canisters.values():
            instance = canister.instance
            if instance is None or canister.status is not CanisterStatus.RUNNING:
                continue
            if canister.principal_raw in self.state.paused:
                continue
            if instance.compiled.info.has("canister_heartbeat"):
                return True
            if canister.global_timer and canister.global_timer <= max(time, self.state.time):
                return True
        return False

    def run_system_tasks(self, time: int) -> list[TaskResult]:
        """One round of heartbeats and due global timers, canisters in id order."""
        state = self.state
        state.advance_time(time)
        results: list[TaskResult] = []
        for raw in sorted(state.canisters):
            canister = state.canisters[raw]
            instance = canister.instance
            if instance is None or canister.status is not CanisterStatus.RUNNING:
                continue
            if raw in state.paused:  # a paused canister runs nothing else (node.ic.slicing)
                continue
            info = instance.compiled.info
            if info.has("canister_heartbeat"):
                results.append(self._system_task(canister, instance, "canister_heartbeat"))
                if raw in state.paused:  # a long heartbeat: the timer waits for it
                    continue
            if canister.global_timer and canister.global_timer <= state.time:
                # Scheduling the timer deactivates it, whatever the handler then does.
                canister.global_timer = 0
                if info.has("canister_global_timer"):
                    results.append(self._system_task(canister, instance, "canister_global_timer"))
        return results

    def _system_task(self, canister: CanisterState, instance: CanisterInstance, export: str) -> TaskResult:
        state = self.state
        limit = state.config.update_limit
        try:
            state.check_cycles(canister, limit)
        except RejectError as exc:
            return TaskResult(canister.canister_id, export, exc, 0)
        ctx = state.api_context(canister, Context.SYSTEM_TASK, caller=MANAGEMENT)
        slicer = self.slicer
        if slicer is not None and slicer.active(limit):
            sliced = slicer.first_slice(canister, instance, export, ctx, limit, None, None)
            if sliced is None:  # continues in later rounds; its calls are made when it completes
                return TaskResult(canister.canister_id, export, None, 0, paused=True)
            result = sliced
        else:
            result = self.run_replicated(canister, instance, export, ctx, limit, persist=True, responds=False)
        if not result.trapped and ctx.calls and self.after_commit is not None:
            self.after_commit(canister, ctx)
        return TaskResult(canister.canister_id, export, result.reject, result.instructions)
