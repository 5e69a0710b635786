"""The replicated state machine backed by the Wasm execution layer (``node.execution``).

Same ``StateMachine`` protocol as ``LifecycleStateMachine``: a finalized batch goes in,
one ``RequestResult`` per request comes out. Management lifecycle calls (Candid arguments
as in ``subnet.management``) are decoded here and performed by ``ExecutionEnvironment``'s
typed operations; a call to any other canister is an update call executed in Wasm. The
execution layer's errors are ``RejectError``s with IC codes, passed through unchanged.

Messages of one batch run at the batch's time plus their position (one nanosecond
apart), because execution never lets time stand still between replicated operations
with observable effects; the offset is the same on every replica.
"""

from __future__ import annotations

from node.execution import CanisterSettings, ExecutionConfig, ExecutionEnvironment
from node.state_machine import Batch
from subnet import management
from subnet.certificate import RequestResult
from subnet.envelope import SignedEnvelope
from subnet.errors import CandidError, RejectCode, RejectError
from subnet.principal import CanisterId, Principal


class WasmStateMachine:
    def __init__(self, range_start: int, range_end: int, config: ExecutionConfig | None = None) -> None:
        if config is None:
            config = ExecutionConfig(first_canister_index=range_start, last_canister_index=range_end - 1)
        self.env = ExecutionEnvironment(config)

    def execute(self, batch: Batch) -> list[RequestResult]:
        results = []
        for position, envelope in enumerate(batch.messages):
            time = max(self.env.time, batch.time_ns + position)
            try:
                reply = self._execute_one(envelope, time)
            except RejectError as reject:
                results.append(
                    RequestResult.rejected(envelope.request_id, batch.height, reject.code, reject.message, reject.error_code or "")
                )
            else:
                results.append(RequestResult.replied(envelope.request_id, batch.height, reply))
        return results

    def state_hash(self) -> bytes:
        return self.env.state_hash()

    def _execute_one(self, envelope: SignedEnvelope, time: int) -> bytes:
        content = envelope.content
        caller = content.sender
        if not content.canister_id.is_management:
            try:
                target = CanisterId.from_principal(content.canister_id)
            except ValueError:
                raise RejectError(RejectCode.DESTINATION_INVALID, f"Canister {content.canister_id} not found", "IC0301") from None
            return self.env.update(target, content.method_name, content.arg, caller=caller, time=time).unwrap()
        method = content.method_name
        try:
            if method == management.CREATE:
                amount, settings, specified = management.decode_create_args(content.arg)
                created = self.env.create_canister(
                    caller,
                    time=time,
                    cycles=amount,
                    specified_id=None if specified is None else CanisterId.from_principal(specified),
                    settings=None if settings is None else _settings(settings, caller),
                )
                return management.encode_create_reply(created.principal)
            if method == management.UPDATE_SETTINGS:
                canister, settings = management.decode_update_settings_args(content.arg)
                self.env.update_settings(
                    caller,
                    CanisterId.from_principal(canister),
                    time=time,
                    controllers=None if settings.controllers is None else list(settings.controllers),
                    compute_allocation=settings.compute_allocation,
                    memory_allocation=settings.memory_allocation,
                    freezing_threshold=settings.freezing_threshold,
                )
                return management.encode_empty()
            if method in (management.STATUS, management.STOP, management.START, management.DELETE):
                canister = CanisterId.from_principal(management.decode_canister_id_args(content.arg, method))
                if method == management.STATUS:
                    self.env.advance_time(time)
                    status = self.env.canister_status(caller, canister)
                    return management.encode_status_reply(
                        management.CanisterStatus(
                            status=status.status,
                            controllers=tuple(status.controllers),
                            cycles=status.cycles,
                            module_hash=status.module_hash,
                            memory_size=status.memory_size,
                            compute_allocation=status.settings.compute_allocation,
                            memory_allocation=status.settings.memory_allocation,
                            freezing_threshold=status.settings.freezing_threshold,
                        )
                    )
                operation = {
                    management.STOP: self.env.stop_canister,
                    management.START: self.env.start_canister,
                    management.DELETE: self.env.delete_canister,
                }[method]
                operation(caller, canister, time=time)
                return management.encode_empty()
        except (CandidError, ValueError) as exc:
            if isinstance(exc, RejectError):
                raise
            raise RejectError(
                RejectCode.CANISTER_REJECT, f"Error decoding candid for the management method {method}: {exc}", "IC0408"
            ) from exc
        raise RejectError(RejectCode.CANISTER_REJECT, f"Management canister has no method '{method}'", "IC0407")


def _settings(settings: management.Settings, caller: Principal) -> CanisterSettings:
    result = CanisterSettings(controllers=[caller] if settings.controllers is None else list(settings.controllers))
    if settings.compute_allocation is not None:
        result.compute_allocation = settings.compute_allocation
    if settings.memory_allocation is not None:
        result.memory_allocation = settings.memory_allocation
    if settings.freezing_threshold is not None:
        result.freezing_threshold = settings.freezing_threshold
    return result
