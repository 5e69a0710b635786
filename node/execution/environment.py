"""The execution environment: a sans-IO state machine over a subnet's canisters.

It takes operations that carry their own time (an ingress update, a query, a management
request, a round of system tasks) and returns results. It reads no clock and no entropy:
two environments fed the same operations end in the same state, which
:func:`node.execution.state_hash.state_hash` proves. Consensus will later feed it finalized
blocks; tests and :mod:`subnet.pocket` feed it directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from node.execution.canister import CanisterState, CanisterStatus
from node.execution.config import ExecutionConfig
from node.execution.engine import ExecutionEngine, default_engine
from node.execution.errors import (
    CanisterEmpty,
    CanisterNotFound,
    CanisterStopped,
    CanisterTrap,
    ExecutionError,
    MethodNotFound,
    OutOfCycles,
)
from node.execution.lifecycle import LifecycleOperations
from node.execution.management import ManagementOperations
from node.execution.system_api import ApiContext, Context
from vocab.errors import RejectCode, RejectError
from vocab.principal import CanisterId, Principal

if TYPE_CHECKING:
    from node.execution.instance import WasmInstance

MANAGEMENT = Principal.management()


@dataclass(frozen=True)
class CallResult:
    """The outcome of one message: a reply or a reject, and what it cost."""

    reply: bytes | None = None
    reject: RejectError | None = None
    instructions: int = 0
    cycles_charged: int = 0

    @property
    def ok(self) -> bool:
        return self.reject is None

    def unwrap(self) -> bytes:
        """The reply bytes, or raise the reject."""
        if self.reject is not None:
            raise self.reject
        assert self.reply is not None
        return self.reply


@dataclass(frozen=True)
class TaskResult:
    """The outcome of a heartbeat or global timer run by :meth:`run_system_tasks`."""

    canister_id: CanisterId
    task: str
    error: RejectError | None
    instructions: int


class ExecutionEnvironment(LifecycleOperations, ManagementOperations):
    """All canisters of a subnet and the operations that change them.

    Messages are executed here; installing code lives in
    :class:`~node.execution.lifecycle.LifecycleOperations` and the rest of the management
    canister in :class:`~node.execution.management.ManagementOperations`.
    """

    def __init__(
        self, config: ExecutionConfig | None = None, engine: ExecutionEngine | None = None, time: int = 0
    ) -> None:
        self.config = config or ExecutionConfig()
        self.engine = engine or default_engine()
        self.time = time
        self.canisters: dict[bytes, CanisterState] = {}
        self.next_canister_index = self.config.first_canister_index
        self.deleted: set[int] = set()
        self._settings_views: dict[int, tuple] = {}

    # -- time and lookup -------------------------------------------------------------------

    def advance_time(self, time: int) -> None:
        """Move to ``time``; replicated state never sees time go backwards."""
        if time < self.time:
            raise ValueError(f"time cannot go backwards: {time} < {self.time}")
        self.time = time

    def canister(self, canister_id: CanisterId | Principal) -> CanisterState:
        if isinstance(canister_id, CanisterId):
            raw = canister_id.index.to_bytes(8, "big") + b"\x01\x01"  # = .principal.raw, cheaper
        else:
            raw = canister_id.raw
        state = self.canisters.get(raw)
        if state is None:
            text = canister_id.to_text()
            raise CanisterNotFound(text)
        return state

    def canister_ids(self) -> list[CanisterId]:
        return [self.canisters[raw].canister_id for raw in sorted(self.canisters)]

    # -- contexts --------------------------------------------------------------------------

    def api_context(
        self,
        canister: CanisterState,
        kind: Context,
        *,
        caller: Principal,
        arg: bytes = b"",
        method_name: str = "",
        time: int | None = None,
        cycles: int = 0,
        data_certificate: bytes | None = None,
        version: int | None = None,
    ) -> ApiContext:
        settings = canister.settings
        cached = self._settings_views.get(id(settings))
        if cached is None or cached[0] is not settings:
            # per-settings views, rebuilt only when the settings object is replaced
            cached = (
                settings,
                tuple(p.raw for p in settings.controllers),
                tuple(sorted(settings.environment_variables)),
            )
            self._settings_views[id(settings)] = cached
        config = self.config
        return ApiContext(
            kind,
            canister_id=canister.principal_raw,
            caller=caller.raw,
            arg=arg,
            method_name=method_name,
            time=self.time if time is None else time,
            controllers=cached[1],
            status=canister.status.code,
            canister_version=canister.version if version is None else version,
            balance=canister.cycles,
            stable=canister.stable,
            max_stable_pages=config.max_stable_pages,
            global_timer=canister.global_timer,
            subnet_id=config.subnet_id.raw,
            root_key=config.root_key,
            cycles_available=cycles,
            data_certificate=data_certificate,
            env_vars=cached[2],
            certified_data=canister.certified_data,
        )

    def check_cycles(self, canister: CanisterState, limit: int) -> None:
        needed = self.config.execution_fee(limit)
        if canister.cycles < needed:
            raise OutOfCycles(canister.canister_id.to_text(), needed, canister.cycles)

    def charge(self, canister: CanisterState, instructions: int) -> int:
        fee = min(canister.cycles, self.config.execution_fee(instructions))
        canister.cycles -= fee
        return fee

    def _runnable(self, canister: CanisterState) -> WasmInstance:
        if canister.instance is None:
            raise CanisterEmpty(canister.canister_id.to_text())
        if canister.status is not CanisterStatus.RUNNING:
            raise CanisterStopped(canister.canister_id.to_text(), canister.status.value)
        return canister.instance

    @staticmethod
    def _trap_log(trap: CanisterTrap) -> bytes:
        return f"[TRAP]: {trap.message}".encode()

    # -- messages --------------------------------------------------------------------------

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
        """Execute an update call (or a query method in replicated mode) at ``time``."""
        self.advance_time(time)
        try:
            canister = self.canister(canister_id)
            instance = self._runnable(canister)
            info = instance.compiled.info
            kind = info.method_kind(method)
            if kind is None:
                raise MethodNotFound(canister_id.to_text(), method, "update or query")
            if kind == "composite_query":
                raise ExecutionError(
                    RejectCode.CANISTER_ERROR,
                    f"Composite query method '{method}' of canister {canister_id.to_text()} "
                    "cannot be called in replicated mode.",
                    "IC0527",
                )
            limit = self.config.update_limit
            self.check_cycles(canister, limit)
        except RejectError as exc:
            return CallResult(reject=exc)
        if kind == "update":
            return self._run_replicated(
                canister,
                instance,
                f"canister_update {method}",
                Context.UPDATE,
                caller,
                arg,
                cycles,
                limit,
                persist=True,
            )
        return self._run_replicated(
            canister,
            instance,
            f"canister_query {method}",
            Context.REPLICATED_QUERY,
            caller,
            arg,
            cycles,
            limit,
            persist=False,
        )

    def _run_replicated(
        self,
        canister: CanisterState,
        instance: WasmInstance,
        export: str,
        kind: Context,
        caller: Principal,
        arg: bytes,
        cycles: int,
        limit: int,
        persist: bool,
    ) -> CallResult:
        ctx = self.api_context(canister, kind, caller=caller, arg=arg, cycles=cycles)
        canister.stable.begin()
        try:
            used = instance.call(export, ctx, limit)
            self._check_memory_limit(canister, instance)
        except CanisterTrap as trap:
            instance.rollback()
            canister.stable.rollback()
            used = getattr(trap, "instructions", 0)
            canister.append_logs(ctx.logs + [self._trap_log(trap)], self.time)
            fee = self.charge(canister, used)
            return CallResult(
                reject=self._from_canister(canister, trap), instructions=used, cycles_charged=fee
            )
        except BaseException:
            instance.rollback()
            canister.stable.rollback()
            raise
        if persist:
            instance.commit()
            canister.stable.commit()
            canister.cycles = ctx.balance
            if ctx.new_certified_data is not None:
                canister.certified_data = ctx.new_certified_data
            if ctx.new_global_timer is not None:
                canister.global_timer = ctx.new_global_timer
        else:
            instance.rollback()
            canister.stable.rollback()
        canister.version += 1
        canister.append_logs(ctx.logs, self.time)
        fee = self.charge(canister, used)
        return self._response(canister, ctx, used, fee)

    def _check_memory_limit(self, canister: CanisterState, instance: WasmInstance) -> None:
        limit = canister.settings.wasm_memory_limit
        if limit and instance._heap_len() > limit:
            raise CanisterTrap(
                f"Canister exceeded its current Wasm memory limit of {limit} bytes. The peak "
                f"Wasm memory usage was {instance._heap_len()} bytes.",
                "wasm_memory_limit",
                "IC0539",
            )

    @staticmethod
    def _from_canister(canister: CanisterState, error: RejectError) -> RejectError:
        wrapped = type(error).__new__(type(error))
        RejectError.__init__(
            wrapped,
            error.code,
            f"Error from Canister {canister.canister_id.to_text()}: {error.message}",
            error.error_code,
        )
        if isinstance(error, CanisterTrap):
            wrapped.kind = error.kind  # type: ignore[attr-defined]
        return wrapped

    def _response(self, canister: CanisterState, ctx: ApiContext, used: int, fee: int) -> CallResult:
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
        try:
            canister = self.canister(canister_id)
            instance = self._runnable(canister)
            kind = instance.compiled.info.method_kind(method)
            if kind not in ("query", "composite_query"):
                raise MethodNotFound(canister_id.to_text(), method, "query")
        except RejectError as exc:
            return CallResult(reject=exc)
        context = Context.NON_REPLICATED_QUERY if kind == "query" else Context.COMPOSITE_QUERY
        export = f"canister_query {method}" if kind == "query" else f"canister_composite_query {method}"
        ctx = self.api_context(
            canister, context, caller=caller, arg=arg, time=time, data_certificate=data_certificate
        )
        limit = self.config.query_limit
        canister.stable.begin()
        try:
            used = instance.call(export, ctx, limit)
        except CanisterTrap as trap:
            used = getattr(trap, "instructions", 0)
            return CallResult(reject=self._from_canister(canister, trap), instructions=used)
        finally:
            instance.rollback()
            canister.stable.rollback()
        canister.query_calls += 1
        canister.query_instructions += used
        return self._response(canister, ctx, used, 0)

    def inspect_message(
        self, canister_id: CanisterId, method: str, arg: bytes, *, caller: Principal, time: int | None = None
    ) -> RejectError | None:
        """Run ``canister_inspect_message`` if exported; ``None`` means the message is accepted."""
        try:
            canister = self.canister(canister_id)
            instance = self._runnable(canister)
        except RejectError as exc:
            return exc
        if not instance.compiled.info.has("canister_inspect_message"):
            return None
        ctx = self.api_context(
            canister, Context.INSPECT_MESSAGE, caller=caller, arg=arg, method_name=method, time=time
        )
        canister.stable.begin()
        try:
            instance.call("canister_inspect_message", ctx, self.config.inspect_limit)
        except CanisterTrap as trap:
            return self._from_canister(canister, trap)
        finally:
            instance.rollback()
            canister.stable.rollback()
        if not ctx.accepted_message:
            return RejectError(
                RejectCode.CANISTER_REJECT,
                f"Canister {canister_id.to_text()} rejected the message",
                "IC0406",
            )
        return None

    def run_system_tasks(self, time: int) -> list[TaskResult]:
        """One round of heartbeats and due global timers, canisters in id order."""
        self.advance_time(time)
        results: list[TaskResult] = []
        for raw in sorted(self.canisters):
            canister = self.canisters[raw]
            instance = canister.instance
            if instance is None or canister.status is not CanisterStatus.RUNNING:
                continue
            info = instance.compiled.info
            if info.has("canister_heartbeat"):
                results.append(self._system_task(canister, instance, "canister_heartbeat"))
            if canister.global_timer and canister.global_timer <= self.time:
                # Scheduling the timer deactivates it, whatever the handler then does.
                canister.global_timer = 0
                if info.has("canister_global_timer"):
                    results.append(self._system_task(canister, instance, "canister_global_timer"))
        return results

    def _system_task(self, canister: CanisterState, instance: WasmInstance, export: str) -> TaskResult:
        limit = self.config.update_limit
        try:
            self.check_cycles(canister, limit)
        except RejectError as exc:
            return TaskResult(canister.canister_id, export, exc, 0)
        result = self._run_task(canister, instance, export, limit)
        return TaskResult(canister.canister_id, export, result.reject, result.instructions)

    def _run_task(
        self, canister: CanisterState, instance: WasmInstance, export: str, limit: int
    ) -> CallResult:
        ctx = self.api_context(canister, Context.SYSTEM_TASK, caller=MANAGEMENT)
        canister.stable.begin()
        try:
            used = instance.call(export, ctx, limit)
            self._check_memory_limit(canister, instance)
        except CanisterTrap as trap:
            instance.rollback()
            canister.stable.rollback()
            used = getattr(trap, "instructions", 0)
            canister.append_logs(ctx.logs + [self._trap_log(trap)], self.time)
            fee = self.charge(canister, used)
            return CallResult(
                reject=self._from_canister(canister, trap), instructions=used, cycles_charged=fee
            )
        except BaseException:
            instance.rollback()
            canister.stable.rollback()
            raise
        instance.commit()
        canister.stable.commit()
        canister.cycles = ctx.balance
        if ctx.new_certified_data is not None:
            canister.certified_data = ctx.new_certified_data
        if ctx.new_global_timer is not None:
            canister.global_timer = ctx.new_global_timer
        canister.version += 1
        canister.append_logs(ctx.logs, self.time)
        fee = self.charge(canister, used)
        return CallResult(reply=b"", instructions=used, cycles_charged=fee)

    def state_hash(self) -> bytes:
        from node.execution.state_hash import state_hash

        return state_hash(self)
