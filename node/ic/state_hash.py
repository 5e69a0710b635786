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

from node.ic.canister import CanisterChange, CanisterState, Snapshot
from node.ic.state import ExecutionState

DOMAIN = b"subnet/execution-state/v1"


class _Hasher:
    def __init__(self) -> None:
        self._h = hashlib.sha256()

    def blob(self, data: bytes) -> None:
        self._h.update(len(data).to_bytes(8, "big"))
        self._h.update(data)

    def integer(self, value: int) -> None:
        # arbitrary-size non-negative or negative integers, framed
        length = max(1, (value.bit_length() + 8) // 8)
        self.blob(value.to_bytes(length, "big", signed=True))

    def text(self, value: str) -> None:
        self.blob(value.encode("utf-8"))

    def opt(self, value: bytes | None) -> None:
        if value is None:
            self._h.update(b"\x00")
        else:
            self._h.update(b"\x01")
            self.blob(value)

    def digest(self) -> bytes:
        return self._h.digest()


def _change(h: _Hasher, change: CanisterChange) -> None:
    h.integer(change.timestamp_nanos)
    h.integer(change.canister_version)
    h.blob(change.origin.raw)
    h.text(change.kind)
    h.integer(len(change.controllers))
    for principal in change.controllers:
        h.blob(principal.raw)
    h.opt(change.mode.encode() if change.mode is not None else None)
    h.opt(change.module_hash)
    h.opt(change.snapshot_id)
    h.integer(-1 if change.taken_at_timestamp is None else change.taken_at_timestamp)
    h.integer(-1 if change.snapshot_canister_version is None else change.snapshot_canister_version)


def _snapshot(h: _Hasher, snapshot: Snapshot) -> None:
    h.blob(snapshot.snapshot_id)
    h.integer(snapshot.taken_at_timestamp)
    h.integer(snapshot.canister_version)
    h.blob(hashlib.sha256(snapshot.raw_module).digest())
    h.blob(hashlib.sha256(snapshot.heap).digest())
    h.blob(snapshot.globals)
    h.blob(snapshot.stable.digest())
    h.blob(snapshot.certified_data)
    h.integer(snapshot.global_timer)


def canister_hash(canister: CanisterState) -> bytes:
    """The digest of one canister's replicated state."""
    h = _Hasher()
    h.blob(canister.principal.raw)
    h.text(canister.status.value)
    h.integer(canister.version)
    h.integer(canister.cycles)
    settings = canister.settings
    h.integer(len(settings.controllers))
    for raw in sorted(p.raw for p in settings.controllers):
        h.blob(raw)
    for value in (
        settings.compute_allocation,
        settings.memory_allocation,
        settings.freezing_threshold,
        settings.reserved_cycles_limit,
        settings.wasm_memory_limit,
        settings.wasm_memory_threshold,
    ):
        h.integer(value)
    h.text(settings.log_visibility)
    h.integer(len(settings.environment_variables))
    for name, text in sorted(settings.environment_variables):
        h.text(name)
        h.text(text)
    h.blob(canister.certified_data)
    h.integer(canister.global_timer)
    h.opt(canister.module_hash)
    instance = canister.instance
    if instance is None:
        h.opt(None)
    else:
        h.opt(instance.heap_digest())
        h.integer(instance.heap_size)
        h.blob(instance.committed_globals)
    h.blob(canister.stable.digest())
    h.integer(canister.total_num_changes)
    h.integer(len(canister.history))
    for change in canister.history:
        _change(h, change)
    h.integer(canister.next_log_idx)
    h.integer(len(canister.logs))
    for record in canister.logs:
        h.integer(record.idx)
        h.integer(record.timestamp_nanos)
        h.blob(record.content)
    h.integer(canister.next_snapshot_index)
    h.integer(len(canister.snapshots))
    for snapshot_id in sorted(canister.snapshots):
        _snapshot(h, canister.snapshots[snapshot_id])
    return h.digest()


def state_hash(state: ExecutionState) -> bytes:
    """SHA-256 over the execution's replicated state, canisters in id-byte order."""
    h = _Hasher()
    h.blob(DOMAIN)
    h.integer(state.time)
    h.integer(state.next_canister_index)
    h.integer(len(state.deleted))
    for index in sorted(state.deleted):
        h.integer(index)
    h.integer(len(state.canisters))
    for raw in sorted(state.canisters):
        h.blob(canister_hash(state.canisters[raw]))
    return h.digest()
