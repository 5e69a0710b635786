"""A hash over everything execution can change, in one canonical order.

Replicas compare this hash to detect divergence, so it must depend only on the state and
never on how the state is held: canisters are visited in the order of their id bytes,
controllers and snapshots sorted, stable memory hashed independently of which all-zero
pages happen to be materialized, and every field framed with its length so that no two
different states can produce the same byte stream. Per-replica statistics (query counts)
are deliberately left out: queries run on one replica only.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from node.execution.canister import CanisterState, SnapshotState, change_row
from vocab import management

if TYPE_CHECKING:
    from node.execution.environment import ExecutionEnvironment

DOMAIN = b"subnet/execution-state/v1"


class _Hasher:
    def __init__(self) -> None:
        self._h = hashlib.sha256()

    def bytes(self, data: bytes) -> None:
        self._h.update(len(data).to_bytes(8, "big"))
        self._h.update(data)

    def int(self, value: int) -> None:
        # arbitrary-size non-negative or negative integers, framed
        length = max(1, (value.bit_length() + 8) // 8)
        self.bytes(value.to_bytes(length, "big", signed=True))

    def text(self, value: str) -> None:
        self.bytes(value.encode("utf-8"))

    def opt(self, value: bytes | None) -> None:
        if value is None:
            self._h.update(b"\x00")
        else:
            self._h.update(b"\x01")
            self.bytes(value)

    def digest(self) -> bytes:
        return self._h.digest()


def _change(h: _Hasher, change: management.Change) -> None:
    h.int(change.timestamp_nanos)
    h.int(change.canister_version)
    h.bytes(change.origin.principal.raw)
    h.text(change.kind)
    controllers, mode, module_hash, snapshot_id, taken_at, snapshot_version = change_row(change.details)
    h.int(len(controllers))
    for principal in controllers:
        h.bytes(principal.raw)
    h.opt(mode.encode() if mode is not None else None)
    h.opt(module_hash)
    h.opt(snapshot_id)
    h.int(-1 if taken_at is None else taken_at)
    h.int(-1 if snapshot_version is None else snapshot_version)


def _snapshot(h: _Hasher, snapshot: SnapshotState) -> None:
    h.bytes(snapshot.snapshot_id)
    h.int(snapshot.taken_at_timestamp)
    h.int(snapshot.canister_version)
    h.bytes(hashlib.sha256(snapshot.raw_module).digest())
    h.bytes(hashlib.sha256(snapshot.heap).digest())
    h.bytes(snapshot.globals)
    h.bytes(snapshot.stable.digest())
    h.bytes(snapshot.certified_data)
    h.int(snapshot.global_timer)


def canister_hash(canister: CanisterState) -> bytes:
    """The digest of one canister's replicated state."""
    h = _Hasher()
    h.bytes(canister.principal.raw)
    h.text(canister.status.value)
    h.int(canister.version)
    h.int(canister.cycles)
    settings = canister.settings
    h.int(len(settings.controllers))
    for raw in sorted(p.raw for p in settings.controllers):
        h.bytes(raw)
    for value in (
        settings.compute_allocation,
        settings.memory_allocation,
        settings.freezing_threshold,
        settings.reserved_cycles_limit,
        settings.wasm_memory_limit,
        settings.wasm_memory_threshold,
    ):
        h.int(value)
    h.text(settings.log_visibility)
    h.int(len(settings.environment_variables))
    for key, value in sorted(settings.environment_variables):
        h.text(key)
        h.text(value)
    h.bytes(canister.certified_data)
    h.int(canister.global_timer)
    h.opt(canister.module_hash)
    instance = canister.instance
    if instance is None:
        h.opt(None)
    else:
        h.opt(instance.heap_digest())
        h.int(instance.heap_size)
        h.bytes(instance.committed_globals)
    h.bytes(canister.stable.digest())
    h.int(canister.total_num_changes)
    h.int(len(canister.history))
    for change in canister.history:
        _change(h, change)
    h.int(canister.next_log_idx)
    h.int(len(canister.logs))
    for record in canister.logs:
        h.int(record.idx)
        h.int(record.timestamp_nanos)
        h.bytes(record.content)
    h.int(canister.next_snapshot_index)
    h.int(len(canister.snapshots))
    for snapshot_id in sorted(canister.snapshots):
        _snapshot(h, canister.snapshots[snapshot_id])
    return h.digest()


def state_hash(env: ExecutionEnvironment) -> bytes:
    """SHA-256 over the environment's replicated state, canisters in id-byte order."""
    h = _Hasher()
    h.bytes(DOMAIN)
    h.int(env.time)
    h.int(env.next_canister_index)
    h.int(len(env.deleted))
    for index in sorted(env.deleted):
        h.int(index)
    h.int(len(env.canisters))
    for raw in sorted(env.canisters):
        h.bytes(canister_hash(env.canisters[raw]))
    return h.digest()
