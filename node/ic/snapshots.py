"""Canister snapshots: take, load, list and delete (controllers only).

A snapshot is the canister's whole state at one moment: the module, the instance's
committed heap and globals (the engine's :meth:`~node.wasm.instance.WasmInstance.snapshot`),
the stable memory, certified data and global timer. Loading one builds a fresh instance of
the module holding that heap and those globals, which behaves exactly as the original did.
"""

from __future__ import annotations

from dataclasses import dataclass

from node.ic.canister import CanisterChange, CanisterState, Snapshot
from node.ic.errors import CanisterStateError
from node.ic.lifecycle import Lifecycle
from node.ic.state import ExecutionState
from node.wasm.instance import InstanceState
from vocab.principal import CanisterId, Principal


@dataclass(frozen=True)
class SnapshotInfo:
    id: bytes
    taken_at_timestamp: int
    total_size: int


def _snapshot_id(canister: CanisterState, index: int) -> bytes:
    # As on the IC: the canister id followed by a per-canister counter.
    return canister.principal.raw + index.to_bytes(8, "big")


def _snapshot_not_found(canister: CanisterState, snapshot_id: bytes) -> CanisterStateError:
    return CanisterStateError(
        f"Could not find the snapshot ID {snapshot_id.hex()} for canister {canister.canister_id.to_text()}.",
        "IC0305",
    )


def _existing(canister: CanisterState, snapshot_id: bytes) -> Snapshot:
    snapshot = canister.snapshots.get(snapshot_id)
    if snapshot is None:
        raise _snapshot_not_found(canister, snapshot_id)
    return snapshot


class Snapshots:
    """``take_canister_snapshot`` and friends; taking one may uninstall the code after."""

    def __init__(self, state: ExecutionState, lifecycle: Lifecycle) -> None:
        self.state = state
        self.lifecycle = lifecycle

    def take_canister_snapshot(
        self,
        caller: Principal,
        canister_id: CanisterId,
        *,
        time: int,
        replace_snapshot: bytes | None = None,
        uninstall_code: bool = False,
    ) -> SnapshotInfo:
        canister = self.state.controlled(caller, canister_id, time)
        instance = canister.instance
        if instance is None or canister.raw_module is None:
            raise CanisterStateError(
                f"Canister {canister_id.to_text()} has no Wasm module to take a snapshot of.", "IC0537"
            )
        if replace_snapshot is not None and replace_snapshot not in canister.snapshots:
            raise _snapshot_not_found(canister, replace_snapshot)
        if replace_snapshot is None and len(canister.snapshots) >= self.state.config.max_snapshots:
            raise CanisterStateError(
                f"Canister {canister_id.to_text()} has reached the maximum of "
                f"{self.state.config.max_snapshots} snapshots; replace or delete one.",
                "IC0545",
            )
        taken = instance.snapshot()
        snapshot = Snapshot(
            snapshot_id=_snapshot_id(canister, canister.next_snapshot_index),
            taken_at_timestamp=self.state.time,
            canister_version=canister.version,
            raw_module=canister.raw_module,
            heap=taken.heap,
            globals=taken.globals,
            stable=canister.stable.copy(),
            certified_data=canister.certified_data,
            global_timer=canister.global_timer,
        )
        canister.next_snapshot_index += 1
        if replace_snapshot is not None:
            del canister.snapshots[replace_snapshot]
        canister.snapshots[snapshot.snapshot_id] = snapshot
        if uninstall_code:
            self.lifecycle.uninstall_code(caller, canister_id, time=time)
        return SnapshotInfo(snapshot.snapshot_id, snapshot.taken_at_timestamp, snapshot.total_size)

    def load_canister_snapshot(
        self,
        caller: Principal,
        canister_id: CanisterId,
        snapshot_id: bytes,
        *,
        time: int,
    ) -> None:
        canister = self.state.controlled(caller, canister_id, time)
        snapshot = _existing(canister, snapshot_id)
        runtime = self.state.runtime
        instance = runtime.instantiate(
            runtime.compile(snapshot.raw_module), InstanceState(snapshot.heap, snapshot.globals)
        )
        canister.instance = instance
        canister.raw_module = snapshot.raw_module
        canister.stable = snapshot.stable.copy()
        canister.certified_data = snapshot.certified_data
        canister.global_timer = snapshot.global_timer
        canister.version += 1
        canister.record_change(
            CanisterChange(
                self.state.time,
                canister.version,
                caller,
                "load_snapshot",
                snapshot_id=snapshot.snapshot_id,
                taken_at_timestamp=snapshot.taken_at_timestamp,
                snapshot_canister_version=snapshot.canister_version,
            )
        )

    def list_canister_snapshots(self, caller: Principal, canister_id: CanisterId) -> list[SnapshotInfo]:
        canister = self.state.controlled(caller, canister_id)
        return [
            SnapshotInfo(s.snapshot_id, s.taken_at_timestamp, s.total_size)
            for _id, s in sorted(canister.snapshots.items())
        ]

    def delete_canister_snapshot(
        self,
        caller: Principal,
        canister_id: CanisterId,
        snapshot_id: bytes,
        *,
        time: int,
    ) -> None:
        canister = self.state.controlled(caller, canister_id, time)
        del canister.snapshots[_existing(canister, snapshot_id).snapshot_id]
