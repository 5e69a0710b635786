"""Inter-canister calls: call contexts, callbacks, queues, and their deterministic scheduling.

The IC's abstract behaviour, on one subnet, inside the execution of a batch:

- executing a call opens a *call context*; ``ic0.call_perform`` stages a call, and when the
  message commits each staged call becomes a *callback* of that context and a ``Request``
  in the callee's input queue (a full queue answers at once with a SYS_TRANSIENT reject);
- :meth:`Calls.run` executes queued messages round-robin: canisters in the order of their
  raw ids (the management canister, ``b""``, first), one message each per pass, until the
  queues are empty or the batch's budget (``ExecutionConfig.round_message_limit``) is
  spent; what is left waits, in the replicated state, for the next batch;
- a request to a missing canister is rejected with DESTINATION_INVALID, to a stopping or
  stopped one with CANISTER_ERROR (IC0509 / IC0508), to a method that does not exist with
  DESTINATION_INVALID (IC0302), all with the attached cycles given back;
- a response runs the reply or reject callback in the caller (refunded cycles are credited
  first and stay, whatever the callback does); a callback that traps is rolled back and
  its ``call_on_cleanup`` function runs instead;
- a call context is answered when its canister replies or rejects (the cycles still
  available go back with the answer); once it has no outstanding calls and was never
  answered it is rejected (the trap that ended it, or IC0506 "did not reply"); an answered
  context with no outstanding calls is closed, and a canister that is Stopping becomes
  Stopped when its last context closes, which answers the pending ``stop_canister``s.

Answers to users' requests (ingress) are collected in ``ExecutionState.completed`` by
token (the request id); the replicated state machine turns them into request results.
Everything is ordered by integers and byte strings, never by hashing, so every replica
runs the same messages in the same order.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping

from node.ic.call_context import (
    CANISTER,
    INGRESS,
    SYSTEM,
    Callback,
    CallContext,
    Origin,
    QueuedMessage,
    Request,
    Response,
)
from node.ic.canister import CanisterInstance, CanisterState, CanisterStatus
from node.ic.errors import CanisterNotFound, CanisterTrap, trap_log
from node.ic.ic0 import Context
from node.ic.messages import CallResult, Messages
from node.ic.paused import MessageInputs, QueryRequest, WaitingMessage
from node.ic.slicing import TimeSlicing
from node.ic.state import ExecutionState
from node.ic.system_api import ApiContext
from node.ic.transaction import apply_effects, message_transaction
from vocab import management
from vocab.errors import RejectCode, RejectError
from vocab.principal import CanisterId, Principal, PrincipalError

MANAGEMENT_RAW = b""
"""The management canister's raw id, which keys its input queue."""

ManagementHandler = Callable[[Principal, str, bytes, int, Origin], "tuple[bytes, int] | None"]
"""Serves a canister's call to the management canister: (caller, method, arg, attached
cycles, origin) -> (the Candid reply, the cycles given back), ``None`` when the answer comes
later (a ``stop_canister`` waiting for the canister to stop); raises ``RejectError``."""


def _stop_reply() -> bytes:
    return management.encode_reply(management.STOP)


class Calls:
    """The scheduler of inter-canister messages and the owner of call contexts."""

    def __init__(self, state: ExecutionState, messages: Messages) -> None:
        self.state = state
        self.messages = messages
        self.management: ManagementHandler | None = None
        """Set by the replicated state machine, which decodes management calls."""
        self.slicing = TimeSlicing(state, messages)
        """Long messages across rounds (deterministic time slicing)."""
        messages.slicer = self.slicing
        messages.after_commit = self._system_task_committed

    # -- entry points ------------------------------------------------------------------

    def submit(
        self,
        canister_id: CanisterId,
        method: str,
        arg: bytes,
        *,
        caller: Principal,
        time: int,
        token: bytes,
        cycles: int = 0,
    ) -> CallResult | None:
        """Execute a user's call at ``time``; its result, or ``None`` while the call waits
        for calls it made (its answer then appears in ``state.completed`` under ``token``)."""
        state = self.state
        state.advance_time(time)
        try:
            canister, instance, kind = self.messages.callable(canister_id, method)
        except RejectError as exc:
            return CallResult(reject=exc)
        origin = Origin(INGRESS, token=token)
        if kind == "query":
            ctx = state.api_context(canister, Context.REPLICATED_QUERY, caller=caller, arg=arg, cycles=cycles)
            # paused (None): answered under ``token`` when it completes
            return self._replicated_query(canister, instance, method, ctx, origin, 0)
        context = self._open(canister, caller.raw, origin, cycles)
        result = self._execute(canister, context, f"canister_update {method}", arg)
        answer = self.take(token)
        if answer is None:
            return None
        return CallResult(
            reply=answer.reply,
            reject=answer.reject,
            instructions=result.instructions,
            cycles_charged=result.cycles_charged,
            trapped=result.trapped,
        )

    def update(
        self,
        canister_id: CanisterId,
        method: str,
        arg: bytes,
        *,
        caller: Principal,
        time: int,
        cycles: int = 0,
    ) -> CallResult:
        """Execute an update call, and every message it causes, to its answer.

        For tests and tools that drive execution directly: the calls the update makes are
        run at once (up to ``round_message_limit`` messages); the replicated state machine
        uses :meth:`submit` and :meth:`run` instead, to bound each batch.
        """
        token = b"update:" + _next_id(self.state.call_contexts).to_bytes(8, "big")
        result = self.submit(canister_id, method, arg, caller=caller, time=time, token=token, cycles=cycles)
        if self.pending():
            self.run(self.state.config.round_message_limit)
        if result is not None:
            return result
        answer = self.take(token)
        if answer is None:
            return CallResult(
                reject=RejectError(
                    RejectCode.SYS_TRANSIENT,
                    f"The call to {canister_id.to_text()} is still waiting for its calls after "
                    f"{self.state.config.round_message_limit} messages.",
                )
            )
        return answer

    def take(self, token: bytes) -> CallResult | None:
        """Remove and return the answer to ``token`` if it has one."""
        completed = self.state.completed
        for index, (done, answer) in enumerate(completed):
            if done == token:
                del completed[index]
                assert isinstance(answer, CallResult)
                return answer
        return None

    def pending(self) -> bool:
        """Whether messages wait in some queue of a canister that can run them (so an empty
        batch still has work)."""
        paused = self.state.paused
        return any(queue and raw not in paused for raw, queue in self.state.queues.items())

    def complete_paused(self, round_: int) -> tuple[int, list[tuple[bytes, WaitingMessage]]]:
        """End of round ``round_``: the paused messages that complete in it are finished
        like any message (calls enqueued, answer given, context settled). How many
        completed, and the messages that waited for their canisters (raw id, message: users'
        updates and management calls), in order, for the state machine to run now. A
        completed install answers whoever called it."""
        waiting: list[tuple[bytes, WaitingMessage]] = []
        completions = self.slicing.end_of_round(round_)
        for done in completions:
            if done.install is not None:  # its caller gets the reply, and its cycles back
                result = done.result
                self._answer(done.install.origin, result.reply, result.reject, done.install.refund)
            elif done.query is not None:  # a replicated query: its answer, the cycles back
                result = done.result
                self._answer(done.query.origin, result.reply, result.reject, done.query.refund)
            elif done.settles:  # a cleanup: its context ends as its trapped callback left it
                assert done.context is not None
                self._settle(self.state.call_contexts[done.context], done.failure)
            elif done.context is None:  # a heartbeat or timer: its calls, if it committed
                if not done.result.trapped and done.ctx.calls:
                    self._system_task_committed(done.canister, done.ctx)
            else:
                context = self.state.call_contexts[done.context]
                self._finish(done.canister, context, done.ctx, done.result, done.cleanup)
            waiting += [(done.canister.principal_raw, message) for message in done.waiting]
        return len(completions), waiting

    def run(self, budget: int) -> int:
        """Execute queued messages round-robin until the queues are empty or ``budget``
        messages have run; return how many ran. Each runs one nanosecond after the last."""
        state = self.state
        executed = 0
        paused = state.paused
        while executed < budget:
            # a paused canister's messages wait in its queue, in order (node.ic.slicing)
            ready = sorted(raw for raw, queue in state.queues.items() if queue and raw not in paused)
            if not ready:
                break
            for raw in ready:
                if executed >= budget:
                    break
                queue = state.queues[raw]
                message = queue.popleft()
                if not queue:
                    del state.queues[raw]
                state.advance_time(state.time + 1)
                if isinstance(message, Request):
                    self._execute_request(message)
                else:
                    self._execute_response(message)
                executed += 1
        return executed

    # -- call contexts -----------------------------------------------------------------

    def _open(self, canister: CanisterState, caller: bytes, origin: Origin, cycles: int) -> CallContext:
        state = self.state
        context = CallContext(_next_id(state.call_contexts), canister.principal_raw, caller, origin, cycles)
        state.call_contexts[context.id] = context
        return context

    def open_contexts(self, canister_raw: bytes) -> int:
        """How many call contexts of the canister are open (it cannot stop before 0)."""
        return sum(1 for context in self.state.call_contexts.values() if context.canister == canister_raw)

    def _answer(self, origin: Origin, reply: bytes | None, reject: RejectError | None, refund: int) -> None:
        """Deliver a call's answer to whoever waits for it."""
        if origin.kind == INGRESS:
            self.state.completed.append((origin.token, CallResult(reply=reply, reject=reject)))
        elif origin.kind == CANISTER:
            callback = self.state.callbacks[origin.callback]
            if reject is not None:
                response = Response(
                    callback.canister, callback.id, None, int(reject.code), reject.message, refund
                )
            else:
                response = Response(callback.canister, callback.id, reply, 0, "", refund)
            self._enqueue(callback.canister, response)

    def answer(self, origin: Origin, reply: bytes | None, reject: RejectError | None, refund: int) -> None:
        """Deliver a management call's late answer (one that waited for a paused canister)."""
        self._answer(origin, reply, reject, refund)

    def _respond(
        self, context: CallContext, reply: bytes | None, reject: RejectError | None, refund: int
    ) -> None:
        context.responded = True
        context.available = 0
        self._answer(context.origin, reply, reject, refund)

    def _settle(self, context: CallContext, failure: RejectError | None = None) -> None:
        """After an execution in ``context``: reject it if it can no longer be answered,
        close it if it is done, and let a Stopping canister stop."""
        if context.outstanding:
            return
        if not context.responded:
            if failure is None:
                failure = CanisterTrap(
                    f"Error from Canister {_text(context.canister)}: Canister did not reply to the call.",
                    "no_response",
                    "IC0506",
                )
            self._respond(context, None, failure, context.available)
        del self.state.call_contexts[context.id]
        self._maybe_stopped(context.canister)

    def _maybe_stopped(self, canister_raw: bytes) -> None:
        canister = self.state.canisters.get(canister_raw)
        if canister is None or canister.status is not CanisterStatus.STOPPING:
            return
        if self.open_contexts(canister_raw):
            return
        canister.status = CanisterStatus.STOPPED
        canister.version += 1
        for origin in self.state.stop_waiters.pop(canister_raw, []):
            self._answer(origin, _stop_reply(), None, 0)

    # -- stopping ----------------------------------------------------------------------

    def stop_canister(
        self, caller: Principal, canister_id: CanisterId, *, time: int, origin: Origin | None = None
    ) -> bool:
        """``stop_canister``: at once if the canister has no open call contexts, otherwise
        it becomes Stopping and ``origin`` is answered when it stops. Returns whether it is
        stopped now."""
        canister = self.state.controlled(caller, canister_id, time)
        if canister.status is CanisterStatus.STOPPED:
            return True
        if not self.open_contexts(canister.principal_raw):
            canister.status = CanisterStatus.STOPPED
            canister.version += 1
            return True
        if canister.status is CanisterStatus.RUNNING:
            canister.status = CanisterStatus.STOPPING
            canister.version += 1
        if origin is not None:
            self.state.stop_waiters.setdefault(canister.principal_raw, []).append(origin)
        return False

    def start_canister(self, caller: Principal, canister_id: CanisterId, *, time: int) -> None:
        """``start_canister``; on a Stopping canister the pending stops are rejected."""
        canister = self.state.controlled(caller, canister_id, time)
        canister.status = CanisterStatus.RUNNING
        canister.version += 1
        for origin in self.state.stop_waiters.pop(canister.principal_raw, []):
            self._answer(
                origin,
                None,
                RejectError(
                    RejectCode.CANISTER_ERROR,
                    f"Canister {canister.canister_id.to_text()} has been restarted.",
                ),
                0,
            )

    # -- executing ---------------------------------------------------------------------

    def _execute(
        self,
        canister: CanisterState,
        context: CallContext,
        function: str | tuple[int, int],
        arg: bytes,
        *,
        kind: Context = Context.UPDATE,
        refunded: int = 0,
        reject: tuple[int, str] | None = None,
        cleanup: tuple[int, int] | None = None,
    ) -> CallResult:
        """Run a method or a callback in ``context``, then enqueue its calls, answer the
        context if it replied, and settle it."""
        state = self.state
        instance = canister.instance
        caller = Principal(context.caller)
        if instance is None:
            result = CallResult(
                reject=RejectError(
                    RejectCode.CANISTER_ERROR,
                    f"Canister {canister.canister_id.to_text()} has no Wasm module to run the callback.",
                    "IC0537",
                ),
                trapped=True,
            )
            self._settle(context, result.reject)
            return result
        ctx = state.api_context(canister, kind, caller=caller, arg=arg, cycles=context.available)
        if kind is not Context.UPDATE:
            ctx.response_required = not context.responded
            ctx.cycles_refunded = refunded
            if reject is not None:
                ctx.reject_code, ctx.reject_text = reject
        limit = state.config.update_limit
        if self.slicing.active(limit):  # an update or a callback: either may be long
            sliced = self.slicing.first_slice(canister, instance, function, ctx, limit, context.id, cleanup)
            if sliced is None:  # paused: finished by complete_paused in a later round
                return CallResult()
            result = sliced
        else:
            result = self.messages.run_replicated(
                canister, instance, function, ctx, limit, persist=True, responds=False
            )
        return self._finish(canister, context, ctx, result, cleanup)

    def _finish(
        self,
        canister: CanisterState,
        context: CallContext,
        ctx: ApiContext,
        result: CallResult,
        cleanup: tuple[int, int] | None,
    ) -> CallResult:
        """After a method or callback ran (now, or as a paused message completing): its
        calls enqueued, its answer given, its context settled."""
        if result.trapped:
            if cleanup is not None and not self._cleanup(canister, context, cleanup, result.reject):
                return result  # a long cleanup, paused: the context is settled when it completes
            self._settle(context, result.reject)
            return result
        context.available = ctx.cycles_available
        self._perform(canister, context, ctx)
        if ctx.replied:
            if ctx.reply is not None:
                self._respond(context, ctx.reply, None, ctx.refund)
            else:
                assert ctx.reject_message is not None
                self._respond(
                    context,
                    None,
                    RejectError(RejectCode.CANISTER_REJECT, ctx.reject_message, "IC0406"),
                    ctx.refund,
                )
        self._settle(context)
        return result

    def _cleanup(
        self,
        canister: CanisterState,
        context: CallContext,
        cleanup: tuple[int, int],
        failure: RejectError | None,
    ) -> bool:
        """The cleanup callback after a trapped reply or reject callback: its own
        transaction, kept if it returns, rolled back (and only logged) if it traps.

        Sliced as the IC slices it (its ``PausedCleanupExecution``): one that needs more
        than a slice is rolled back and paused (``node.ic.slicing``), and ``False`` is
        returned: the context is settled with ``failure`` when it completes."""
        state = self.state
        instance = canister.instance
        assert instance is not None
        ctx = state.api_context(canister, Context.CLEANUP, caller=Principal(context.caller))
        limit = state.config.update_limit
        sliced = self.slicing.active(limit)
        inputs = MessageInputs.of(ctx) if sliced else None  # before the run changes ctx
        run_limit = min(limit, state.config.instructions_per_slice) if sliced else limit
        try:
            with message_transaction(instance, canister.stable) as transaction:
                used = state.runtime.run_callback(instance, cleanup, ctx, run_limit)
                transaction.commit()
                apply_effects(canister, ctx)
        except CanisterTrap as trap:
            if inputs is not None and run_limit < limit and trap.kind == "out_of_instructions":
                self.slicing.pause_cleanup(canister, context.id, cleanup, inputs, limit, failure)
                return False
            canister.append_logs([*ctx.logs, trap_log(trap)], state.time)
            state.charge(canister, trap.instructions)
            return True
        canister.append_logs(ctx.logs, state.time)
        state.charge(canister, used)
        return True

    def _replicated_query(
        self,
        canister: CanisterState,
        instance: CanisterInstance,
        method: str,
        ctx: ApiContext,
        origin: Origin,
        refund: int,
    ) -> CallResult | None:
        """A ``canister_query`` method called in update context: run with the message limit
        and never committed; its answer, or ``None`` if it needs more than a slice and is
        paused (``node.ic.slicing``): ``origin`` then gets the answer, and a calling
        canister its ``refund``, when it completes."""
        limit = self.state.config.update_limit
        function = f"canister_query {method}"
        if self.slicing.active(limit):
            query = QueryRequest(origin, refund)
            return self.slicing.first_slice(canister, instance, function, ctx, limit, None, None, query)
        return self.messages.run_replicated(canister, instance, function, ctx, limit, persist=False)

    def _perform(self, canister: CanisterState, context: CallContext, ctx: ApiContext) -> None:
        """The calls a committed message staged: callbacks registered, requests enqueued."""
        state = self.state
        for call in ctx.calls:
            callback = Callback(
                _next_id(state.callbacks),
                canister.principal_raw,
                context.id,
                call.callee,
                call.reply,
                call.reject,
                call.cleanup,
            )
            state.callbacks[callback.id] = callback
            context.outstanding += 1
            self._send(
                Request(
                    canister.principal_raw,
                    call.callee,
                    call.method,
                    bytes(call.payload),
                    call.cycles,
                    callback.id,
                )
            )

    def _system_task_committed(self, canister: CanisterState, ctx: ApiContext) -> None:
        """A heartbeat or timer that made calls: their context waits for no answer."""
        context = self._open(canister, ctx.caller, Origin(SYSTEM), 0)
        context.responded = True
        self._perform(canister, context, ctx)
        self._settle(context)

    def _send(self, request: Request) -> None:
        """Put ``request`` in its callee's queue, or reject it at once if the queue is full."""
        queue = self.state.queues.get(request.receiver)
        capacity = self.state.config.queue_capacity
        if queue is not None and sum(1 for message in queue if isinstance(message, Request)) >= capacity:
            self._reject_request(
                request,
                RejectError(
                    RejectCode.SYS_TRANSIENT,
                    f"Canister {_text(request.receiver)}'s input queue is full ({capacity} requests).",
                ),
            )
            return
        self._enqueue(request.receiver, request)

    def _enqueue(self, receiver: bytes, message: QueuedMessage) -> None:
        queue = self.state.queues.get(receiver)
        if queue is None:
            queue = self.state.queues[receiver] = deque()
        queue.append(message)

    def _reject_request(self, request: Request, error: RejectError) -> None:
        self._enqueue(
            request.sender,
            Response(request.sender, request.callback, None, int(error.code), error.message, request.cycles),
        )

    def _execute_request(self, request: Request) -> None:
        state = self.state
        origin = Origin(CANISTER, callback=request.callback)
        caller = Principal(request.sender)
        if request.receiver == MANAGEMENT_RAW:
            self._management_request(request, caller, origin)
            return
        try:
            try:
                canister_id = CanisterId.from_principal(Principal(request.receiver))
            except (PrincipalError, ValueError):
                raise CanisterNotFound(_text(request.receiver)) from None
            canister, instance, kind = self.messages.callable(canister_id, request.method)
        except RejectError as error:
            self._reject_request(request, error)
            return
        if kind == "query":
            ctx = state.api_context(canister, Context.REPLICATED_QUERY, caller=caller, arg=request.arg)
            result = self._replicated_query(canister, instance, request.method, ctx, origin, request.cycles)
            if result is not None:  # else paused: answered when it completes
                self._answer(origin, result.reply, result.reject, request.cycles)
            return
        context = self._open(canister, request.sender, origin, request.cycles)
        self._execute(canister, context, f"canister_update {request.method}", request.arg)

    def _management_request(self, request: Request, caller: Principal, origin: Origin) -> None:
        handler = self.management
        try:
            if handler is None:
                raise RejectError(
                    RejectCode.CANISTER_REJECT,
                    "Calls from canisters to the management canister are served by the replicated "
                    "state machine (node.ic.state_machine.WasmStateMachine), not by a bare execution environment.",
                    "IC0407",
                )
            answer = handler(caller, request.method, request.arg, request.cycles, origin)
        except RejectError as error:
            self._reject_request(request, error)
            return
        if answer is not None:
            reply, refund = answer
            self._answer(origin, reply, None, refund)

    def _execute_response(self, response: Response) -> None:
        state = self.state
        callback = state.callbacks.pop(response.callback)
        context = state.call_contexts[callback.context]
        context.outstanding -= 1
        canister = state.canisters.get(callback.canister)
        if canister is None:
            # deleted with the call outstanding: nothing is left to run or answer
            if not context.outstanding:
                del state.call_contexts[context.id]
            return
        canister.cycles += response.refund
        if response.reply is not None:
            self._execute(
                canister,
                context,
                callback.reply,
                response.reply,
                kind=Context.REPLY,
                refunded=response.refund,
                cleanup=callback.cleanup,
            )
        else:
            self._execute(
                canister,
                context,
                callback.reject,
                b"",
                kind=Context.REJECT,
                refunded=response.refund,
                reject=(response.reject_code, response.reject_message),
                cleanup=callback.cleanup,
            )


def _next_id(table: Mapping[int, object]) -> int:
    return max(table) + 1 if table else 0


def _text(raw: bytes) -> str:
    return Principal(raw).to_text()


__all__ = ["MANAGEMENT_RAW", "Calls", "ManagementHandler"]
