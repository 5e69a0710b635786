"""The replicated state machine: what every replica executes, in order, on finalized blocks.

Consensus hands over a ``Batch`` (a finalized block's height, time and requests); the
state machine returns one ``RequestResult`` per request and exposes a hash of its whole
state. Execution must be a pure function of the previous state and the batch: no clock
but ``batch.time_ns``, no randomness but ``batch.randomness``, no iteration order that
depends on hashing. Replicas compare their results through certification.

``LifecycleStateMachine`` is the first implementation: the management canister's
lifecycle operations on empty canisters (create with cycles, status, stop, start, delete,
update_settings). The Wasm execution layer (``node.execution``) is meant to replace it
behind the same ``StateMachine`` protocol; until then calls to a canister itself are
rejected as calls to an empty canister are on the IC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from vocab import management
from vocab.certificate import RequestResult
from vocab.envelope import SignedEnvelope
from vocab.errors import CandidError, RejectCode
from vocab.hashing import hash_of_map
from vocab.principal import CanisterId, Principal

DEFAULT_PROVISIONAL_CYCLES = 100_000_000_000_000
DEFAULT_RESERVED_CYCLES_LIMIT = 5_000_000_000_000
"""What ``canister_status`` reports as ``reserved_cycles_limit``: the IC's default."""
MAX_CONTROLLERS = 10


@dataclass(frozen=True)
class Batch:
    """A finalized block as execution sees it."""

    height: int
    time_ns: int
    messages: tuple[SignedEnvelope, ...]
    randomness: bytes


class StateMachine(Protocol):
    def execute(self, batch: Batch) -> list[RequestResult]:
        """Apply a batch; one result per message, in the batch's order."""
        ...

    def state_hash(self) -> bytes:
        """A hash of everything execution can change, computed in a canonical order."""
        ...


@dataclass
class Canister:
    canister_id: Principal
    controllers: list[Principal]
    cycles: int
    status: str = "running"
    compute_allocation: int = 0
    memory_allocation: int = 0
    freezing_threshold: int = 2_592_000
    module_hash: bytes | None = None

    def digest(self) -> bytes:
        fields: dict = {
            "canister_id": self.canister_id.raw,
            "controllers": [controller.raw for controller in self.controllers],
            "cycles": self.cycles,
            "status": self.status,
            "compute_allocation": self.compute_allocation,
            "memory_allocation": self.memory_allocation,
            "freezing_threshold": self.freezing_threshold,
        }
        if self.module_hash is not None:
            fields["module_hash"] = self.module_hash
        return hash_of_map(fields)


class _Reject(Exception):
    def __init__(self, code: RejectCode, message: str, error_code: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.error_code = error_code


@dataclass
class LifecycleStateMachine:
    """Management canister lifecycle operations on empty canisters.

    Canister ids come from the subnet's range in order and are never reused, even after
    a deletion. Only a canister's controllers manage it; rejections carry the IC's reject
    codes and error codes (IC0301 not found, IC0512 not a controller, IC0510 not
    stopped...).
    """

    range_start: int
    range_end: int
    next_index: int = -1
    canisters: dict[int, Canister] = field(default_factory=dict)
    retired: dict[int, None] = field(default_factory=dict)
    """Indexes taken out of order (``specified_id``): skipped when ids are handed out."""
    height: int = 0
    time_ns: int = 0

    def __post_init__(self) -> None:
        if self.next_index < 0:
            self.next_index = self.range_start

    # -- StateMachine ------------------------------------------------------------------------

    def execute(self, batch: Batch) -> list[RequestResult]:
        self.height = batch.height
        self.time_ns = batch.time_ns
        results = []
        for envelope in batch.messages:
            request_id = envelope.request_id
            try:
                reply = self._execute_one(envelope)
            except _Reject as reject:
                results.append(
                    RequestResult.rejected(
                        request_id, batch.height, reject.code, reject.message, reject.error_code
                    )
                )
            else:
                results.append(RequestResult.replied(request_id, batch.height, reply))
        return results

    def state_hash(self) -> bytes:
        return hash_of_map(
            {
                "height": self.height,
                "time": self.time_ns,
                "next_index": self.next_index,
                "retired": sorted(self.retired),
                "canisters": [self.canisters[index].digest() for index in sorted(self.canisters)],
            }
        )

    # -- operations --------------------------------------------------------------------------

    def _execute_one(self, envelope: SignedEnvelope) -> bytes:
        content = envelope.content
        if not content.canister_id.is_management:
            canister = self._find(content.canister_id)
            if canister.status == "stopped":
                raise _Reject(
                    RejectCode.CANISTER_ERROR, f"Canister {canister.canister_id} is stopped", "IC0508"
                )
            raise _Reject(
                RejectCode.CANISTER_ERROR,
                f"Canister {canister.canister_id} contains no Wasm module.",
                "IC0537",
            )
        caller = content.sender
        method = content.method_name
        try:
            if method == management.CREATE:
                return management.encode_reply(method, self._create(caller, content.arg))
            if method == management.STATUS:
                canister_id = management.decode_args(method, content.arg).canister_id
                return management.encode_reply(method, self._status(caller, canister_id))
            if method in (management.STOP, management.START):
                canister_id = management.decode_args(method, content.arg).canister_id
                self._set_status(caller, canister_id, "stopped" if method == management.STOP else "running")
                return management.encode_reply(method)
            if method == management.DELETE:
                self._delete(caller, management.decode_args(method, content.arg).canister_id)
                return management.encode_reply(method)
            if method == management.UPDATE_SETTINGS:
                update = management.decode_args(method, content.arg)
                self._update_settings(caller, update.canister_id, update.settings)
                return management.encode_reply(method)
        except CandidError as exc:
            raise _Reject(
                RejectCode.CANISTER_REJECT,
                f"Error decoding candid for the management method {method}: {exc}",
                "IC0408",
            ) from exc
        raise _Reject(RejectCode.CANISTER_REJECT, f"Management canister has no method '{method}'", "IC0407")

    def _find(self, canister_id: Principal) -> Canister:
        try:
            index = CanisterId.from_principal(canister_id).index
        except ValueError:
            index = None
        canister = None if index is None else self.canisters.get(index)
        if canister is None:
            raise _Reject(RejectCode.DESTINATION_INVALID, f"Canister {canister_id} not found", "IC0301")
        return canister

    def _controlled(self, caller: Principal, canister_id: Principal) -> Canister:
        canister = self._find(canister_id)
        if caller not in canister.controllers:
            controllers = " ".join(str(controller) for controller in canister.controllers)
            raise _Reject(
                RejectCode.CANISTER_ERROR,
                f"Only the controllers of the canister {canister_id} can control it.\n"
                f"Canister's controllers: {controllers}\nSender's ID: {caller}",
                "IC0512",
            )
        return canister

    def _check_settings(self, settings: management.Settings | None) -> None:
        if settings is None:
            return
        if settings.controllers is not None and len(settings.controllers) > MAX_CONTROLLERS:
            raise _Reject(
                RejectCode.CANISTER_REJECT,
                f"Invalid settings: {len(settings.controllers)} controllers, at most {MAX_CONTROLLERS}",
                "IC0408",
            )
        if settings.compute_allocation is not None and settings.compute_allocation > 100:
            raise _Reject(
                RejectCode.CANISTER_REJECT,
                "Invalid settings: compute_allocation must be at most 100",
                "IC0408",
            )

    def _next_free_index(self) -> int:
        index = self.next_index
        while index in self.retired or index in self.canisters:
            index += 1
        return index

    def _create(self, caller: Principal, arg: bytes) -> management.CanisterIdRecord:
        create: management.CreateCanisterArgs = management.decode_args(management.CREATE, arg)
        amount, settings, specified = create.amount, create.settings, create.specified_id
        self._check_settings(settings)
        if specified is not None:
            try:
                index = CanisterId.from_principal(specified).index
            except ValueError:
                index = -1
            if (
                not self.range_start <= index < self.range_end
                or index in self.canisters
                or index in self.retired
                or index < self.next_index
            ):
                raise _Reject(
                    RejectCode.CANISTER_REJECT,
                    f"Canister id {specified} is not available on this subnet",
                    "IC0205",
                )
            self.retired[index] = None
        else:
            index = self._next_free_index()
            if index >= self.range_end:
                raise _Reject(
                    RejectCode.SYS_TRANSIENT, "The subnet's canister id range is exhausted", "IC0102"
                )
            self.next_index = index + 1
        controllers = (
            list(settings.controllers)
            if settings is not None and settings.controllers is not None
            else [caller]
        )
        canister = Canister(
            canister_id=CanisterId(index).principal,
            controllers=controllers,
            cycles=DEFAULT_PROVISIONAL_CYCLES if amount is None else amount,
        )
        if settings is not None:
            self._apply(canister, settings)
        self.canisters[index] = canister
        return management.CanisterIdRecord(canister.canister_id)

    def _apply(self, canister: Canister, settings: management.Settings) -> None:
        if settings.controllers is not None:
            canister.controllers = list(settings.controllers)
        if settings.compute_allocation is not None:
            canister.compute_allocation = settings.compute_allocation
        if settings.memory_allocation is not None:
            canister.memory_allocation = settings.memory_allocation
        if settings.freezing_threshold is not None:
            canister.freezing_threshold = settings.freezing_threshold

    def _status(self, caller: Principal, canister_id: Principal) -> management.CanisterStatusResult:
        canister = self._controlled(caller, canister_id)
        return management.CanisterStatusResult(
            status=canister.status,
            settings=management.DefiniteSettings(
                controllers=tuple(canister.controllers),
                compute_allocation=canister.compute_allocation,
                memory_allocation=canister.memory_allocation,
                freezing_threshold=canister.freezing_threshold,
                reserved_cycles_limit=DEFAULT_RESERVED_CYCLES_LIMIT,
                wasm_memory_limit=0,
            ),
            module_hash=canister.module_hash,
            memory_size=0,
            cycles=canister.cycles,
        )

    def _set_status(self, caller: Principal, canister_id: Principal, status: str) -> None:
        # An empty canister has no outstanding calls, so "stopping" ends at once.
        canister = self._controlled(caller, canister_id)
        canister.status = status

    def _delete(self, caller: Principal, canister_id: Principal) -> None:
        canister = self._controlled(caller, canister_id)
        if canister.status != "stopped":
            raise _Reject(
                RejectCode.CANISTER_ERROR,
                f"Canister {canister_id} must be stopped before it is deleted.",
                "IC0510",
            )
        index = CanisterId.from_principal(canister_id).index
        # Ids below next_index are never handed out again, so nothing more to remember.
        del self.canisters[index]

    def _update_settings(
        self, caller: Principal, canister_id: Principal, settings: management.Settings
    ) -> None:
        canister = self._controlled(caller, canister_id)
        self._check_settings(settings)
        self._apply(canister, settings)
