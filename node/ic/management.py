"""The management canister (``aaaaa-aa``) apart from code installation and snapshots.

Creating canisters (provisional, with cycles), starting, stopping, deleting, settings,
status and info, logs, metadata, and direct stable-memory access for testing tools. Every operation that changes a canister checks that
the caller controls it, and leaves the canister untouched when it refuses.

Starting and stopping live with the call contexts they depend on, in :mod:`node.ic.calls`:
a canister stops only once its open call contexts are closed.
"""

from __future__ import annotations

from dataclasses import dataclass

from node.ic.canister import (
    MAX_CONTROLLERS,
    CanisterSettings,
    CanisterState,
    CanisterStatus,
    require_controller,
)
from node.ic.errors import CanisterStateError, ExecutionError, InvalidArgument
from node.ic.stable_memory import StableMemory
from node.ic.state import ExecutionState
from vocab import management
from vocab.errors import RejectCode
from vocab.principal import CanisterId, Principal


@dataclass(frozen=True)
class CanisterStatusReport:
    """What execution knows of a canister's status: more than the ``canister_status`` reply
    (``vocab.management.CanisterStatusResult``) carries, such as the version, the memory
    by kind and this replica's query statistics."""

    status: str
    version: int
    controllers: tuple[Principal, ...]
    module_hash: bytes | None
    memory_size: int
    wasm_memory_size: int
    stable_memory_size: int
    cycles: int
    settings: CanisterSettings
    idle_cycles_burned_per_day: int
    reserved_cycles: int
    query_calls: int
    query_instructions: int


def _validate_controllers(controllers: list[Principal]) -> list[Principal]:
    if len(controllers) > MAX_CONTROLLERS:
        raise InvalidArgument(
            "Could not validate the settings: Invalid settings: 'controllers' length exceeds "
            f"maximum size allowed of {MAX_CONTROLLERS}."
        )
    unique: list[Principal] = []
    for principal in controllers:
        if principal not in unique:
            unique.append(principal)
    return unique


class Management:
    """The management canister's methods other than code installation and snapshots."""

    def __init__(self, state: ExecutionState) -> None:
        self.state = state

    # -- creation and cycles ----------------------------------------------------------------

    def create_canister(
        self,
        caller: Principal,
        *,
        time: int,
        controllers: list[Principal] | None = None,
        cycles: int | None = None,
        specified_id: CanisterId | None = None,
        settings: CanisterSettings | None = None,
    ) -> CanisterId:
        """``provisional_create_canister_with_cycles``: an empty canister with cycles."""
        self.state.advance_time(time)
        if settings is None:
            settings = CanisterSettings(controllers=[caller] if controllers is None else list(controllers))
        elif controllers is not None:
            settings.controllers = list(controllers)
        settings.controllers = _validate_controllers(settings.controllers)
        _validate_settings(settings)
        if cycles is not None and cycles < 0:
            raise InvalidArgument("the cycles amount must not be negative")
        if specified_id is not None:
            if specified_id.principal.raw in self.state.canisters or specified_id.index in self.state.deleted:
                raise ExecutionError(
                    RejectCode.CANISTER_ERROR,
                    f"Canister {specified_id.to_text()} is already installed or was deleted.",
                    "IC0515",
                )
            canister_id = specified_id
        else:
            index = self.state.next_canister_index
            while CanisterId(index).principal.raw in self.state.canisters or index in self.state.deleted:
                index += 1
            if index > self.state.config.last_canister_index:
                raise ExecutionError(RejectCode.SYS_TRANSIENT, "Subnet is out of canister ids.", "IC0206")
            self.state.next_canister_index = index + 1
            canister_id = CanisterId(index)
        amount = self.state.config.default_provisional_cycles if cycles is None else cycles
        canister = CanisterState(canister_id=canister_id, settings=settings, cycles=amount)
        canister.record_change(self.state.time, caller, management.Creation(tuple(settings.controllers)))
        self.state.canisters[canister_id.principal.raw] = canister
        return canister_id

    def add_cycles(self, canister_id: CanisterId, amount: int, *, time: int) -> int:
        """``provisional_top_up_canister``; returns the new balance."""
        self.state.advance_time(time)
        if amount < 0:
            raise InvalidArgument("the cycles amount must not be negative")
        canister = self.state.canister(canister_id)
        canister.cycles += amount
        return canister.cycles

    # -- status changes ---------------------------------------------------------------------

    def delete_canister(self, caller: Principal, canister_id: CanisterId, *, time: int) -> None:
        canister = self.state.controlled(caller, canister_id, time)
        if canister.status is not CanisterStatus.STOPPED:
            raise CanisterStateError(
                f"Canister {canister_id.to_text()} must be stopped before it is deleted.", "IC0510"
            )
        if caller == canister.principal:
            raise CanisterStateError(f"Canister {canister_id.to_text()} cannot delete itself.", "IC0517")
        del self.state.canisters[canister_id.principal.raw]
        self.state.deleted.add(canister_id.index)

    def update_settings(
        self,
        caller: Principal,
        canister_id: CanisterId,
        *,
        time: int,
        controllers: list[Principal] | None = None,
        compute_allocation: int | None = None,
        memory_allocation: int | None = None,
        freezing_threshold: int | None = None,
        reserved_cycles_limit: int | None = None,
        wasm_memory_limit: int | None = None,
        wasm_memory_threshold: int | None = None,
        log_visibility: str | None = None,
        environment_variables: dict[str, str] | None = None,
    ) -> None:
        canister = self.state.controlled(caller, canister_id, time)
        current = canister.settings
        new = CanisterSettings(
            controllers=_validate_controllers(list(controllers))
            if controllers is not None
            else list(current.controllers),
            compute_allocation=current.compute_allocation
            if compute_allocation is None
            else compute_allocation,
            memory_allocation=current.memory_allocation if memory_allocation is None else memory_allocation,
            freezing_threshold=current.freezing_threshold
            if freezing_threshold is None
            else freezing_threshold,
            reserved_cycles_limit=current.reserved_cycles_limit
            if reserved_cycles_limit is None
            else reserved_cycles_limit,
            wasm_memory_limit=current.wasm_memory_limit if wasm_memory_limit is None else wasm_memory_limit,
            wasm_memory_threshold=current.wasm_memory_threshold
            if wasm_memory_threshold is None
            else wasm_memory_threshold,
            log_visibility=current.log_visibility if log_visibility is None else log_visibility,
            environment_variables=current.environment_variables
            if environment_variables is None
            else tuple(sorted(environment_variables.items())),
        )
        _validate_settings(new)
        canister.settings = new
        canister.version += 1
        if controllers is not None:
            canister.record_change(
                self.state.time, caller, management.ControllersChange(tuple(new.controllers))
            )

    # -- reading --------------------------------------------------------------------------

    def canister_status(self, caller: Principal, canister_id: CanisterId) -> CanisterStatusReport:
        canister = self.state.canister(canister_id)
        if caller != canister.principal:
            require_controller(canister, caller)
        heap = canister.instance.heap_size if canister.instance is not None else 0
        return CanisterStatusReport(
            status=canister.status.value,
            version=canister.version,
            controllers=tuple(canister.controllers),
            module_hash=canister.module_hash,
            memory_size=canister.memory_size,
            wasm_memory_size=heap,
            stable_memory_size=canister.stable.size_bytes,
            cycles=canister.cycles,
            settings=canister.settings,
            idle_cycles_burned_per_day=0,
            reserved_cycles=0,
            query_calls=canister.query_calls,
            query_instructions=canister.query_instructions,
        )

    def canister_info(
        self, canister_id: CanisterId, num_requested_changes: int | None = None
    ) -> management.CanisterInfoResult:
        canister = self.state.canister(canister_id)
        count = num_requested_changes or 0
        recent = tuple(canister.history[-count:]) if count else ()
        return management.CanisterInfoResult(
            canister.total_num_changes, recent, canister.module_hash, tuple(canister.controllers)
        )

    def fetch_canister_logs(
        self, caller: Principal, canister_id: CanisterId
    ) -> list[management.CanisterLogRecord]:
        canister = self.state.canister(canister_id)
        if canister.settings.log_visibility != "public":
            require_controller(canister, caller)
        return list(canister.logs)

    def canister_metadata(self, caller: Principal, canister_id: CanisterId, name: str) -> bytes:
        canister = self.state.canister(canister_id)
        if canister.instance is None:
            raise CanisterStateError(f"Canister {canister_id.to_text()} has no Wasm module.", "IC0537")
        found = canister.instance.compiled.info.metadata(name)
        if found is None:
            raise CanisterStateError(
                f"The metadata section '{name}' is not present in canister {canister_id.to_text()}.",
                "IC0536",
            )
        visibility, data = found
        if visibility == "private":
            require_controller(canister, caller)
        return data

    # -- direct access (testing tools: PocketIC's get/set_stable_memory) -------------------

    def get_stable_memory(self, canister_id: CanisterId) -> bytes:
        return self.state.canister(canister_id).stable.to_bytes()

    def set_stable_memory(self, canister_id: CanisterId, data: bytes, *, time: int) -> None:
        self.state.advance_time(time)
        canister = self.state.canister(canister_id)
        if len(data) > self.state.config.max_stable_pages * 65536:
            raise InvalidArgument("stable memory data exceeds the stable memory limit")
        canister.stable = StableMemory.from_bytes(data)


def _validate_settings(settings: CanisterSettings) -> None:
    if not 0 <= settings.compute_allocation <= 100:
        raise InvalidArgument("compute_allocation must be between 0 and 100")
    for name in ("memory_allocation", "freezing_threshold"):
        value = getattr(settings, name)
        if not 0 <= value < 1 << 64:
            raise InvalidArgument(f"{name} must be between 0 and 2^64-1")
    if not 0 <= settings.reserved_cycles_limit < 1 << 128:
        raise InvalidArgument("reserved_cycles_limit must be between 0 and 2^128-1")
    for name in ("wasm_memory_limit", "wasm_memory_threshold"):
        value = getattr(settings, name)
        if not 0 <= value <= 1 << 48:
            raise InvalidArgument(f"{name} must be between 0 and 2^48")
    if settings.log_visibility not in ("controllers", "public"):
        raise InvalidArgument("log_visibility must be 'controllers' or 'public'")
    names = [k for k, _ in settings.environment_variables]
    if len(names) != len(set(names)):
        raise InvalidArgument("environment variable names must be unique")


__all__ = [
    "CanisterStatusReport",
    "Management",
]
