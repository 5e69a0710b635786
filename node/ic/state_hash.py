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
import struct

from node.ic.call_context import Origin, Request
from node.ic.canister import CanisterState, SnapshotState, change_row
from node.ic.state import ExecutionState
from vocab import management

DOMAIN = b"subnet/execution-state/v1"


_frame_length = struct.Struct(">Q").pack
"""Every field is framed by its length as 8 bytes, big-endian."""


def _blob(data: bytes) -> bytes:
    return _frame_length(len(data)) + data


def _encode_integer(value: int) -> bytes:
    # arbitrary-size non-negative or negative integers, framed
    length = max(1, (value.bit_length() + 8) // 8)
    return _blob(value.to_bytes(length, "big", signed=True))


_SMALL_INTEGERS = {value: _encode_integer(value) for value in range(-1, 1024)}


def _integer(value: int) -> bytes:
    framed = _SMALL_INTEGERS.get(value)
    return framed if framed is not None else _encode_integer(value)


def _text(value: str) -> bytes:
    return _blob(value.encode("utf-8"))


def _opt(value: bytes | None) -> bytes:
    return b"\x00" if value is None else b"\x01" + _blob(value)


def _change_bytes(change: management.Change) -> bytes:
    controllers, mode, module_hash, snapshot_id, taken_at, snapshot_version = change_row(change.details)
    parts = [
        _integer(change.timestamp_nanos),
        _integer(change.canister_version),
        _blob(change.origin.principal.raw),
        _text(change.kind),
        _integer(len(controllers)),
    ]
    parts += [_blob(principal.raw) for principal in controllers]
    parts += [
        _opt(mode.encode() if mode is not None else None),
        _opt(module_hash),
        _opt(snapshot_id),
        _integer(-1 if taken_at is None else taken_at),
        _integer(-1 if snapshot_version is None else snapshot_version),
    ]
    return b"".join(parts)


_CHANGES: dict[int, tuple[management.Change, bytes]] = {}
"""The framed bytes of history entries by object (kept alive here, so an id is not reused
while it is remembered): an entry never changes, and every state hash covers the whole
history of every canister again."""


def _change(change: management.Change) -> bytes:
    known = _CHANGES.get(id(change))
    if known is not None and known[0] is change:
        return known[1]
    framed = _change_bytes(change)
    if len(_CHANGES) >= 65_536:
        _CHANGES.clear()
    _CHANGES[id(change)] = (change, framed)
    return framed


def _snapshot(snapshot: SnapshotState) -> bytes:
    return b"".join(
        (
            _blob(snapshot.snapshot_id),
            _integer(snapshot.taken_at_timestamp),
            _integer(snapshot.canister_version),
            _blob(hashlib.sha256(snapshot.raw_module).digest()),
            _blob(hashlib.sha256(snapshot.heap).digest()),
            _blob(snapshot.globals),
            _blob(snapshot.stable.digest()),
            _blob(snapshot.certified_data),
            _integer(snapshot.global_timer),
        )
    )


def canister_hash(canister: CanisterState) -> bytes:
    """The digest of one canister's replicated state.

    The fields are framed into one byte string and hashed once (the same bytes a running
    hash would be fed field by field)."""
    settings = canister.settings
    parts = [
        _blob(canister.principal.raw),
        _text(canister.status.value),
        _integer(canister.version),
        _integer(canister.cycles),
        _integer(len(settings.controllers)),
    ]
    parts += [_blob(raw) for raw in sorted(p.raw for p in settings.controllers)]
    parts += [
        _integer(value)
        for value in (
            settings.compute_allocation,
            settings.memory_allocation,
            settings.freezing_threshold,
            settings.reserved_cycles_limit,
            settings.wasm_memory_limit,
            settings.wasm_memory_threshold,
        )
    ]
    parts.append(_text(settings.log_visibility))
    parts.append(_integer(len(settings.environment_variables)))
    for name, text in sorted(settings.environment_variables):
        parts.append(_text(name))
        parts.append(_text(text))
    parts.append(_blob(canister.certified_data))
    parts.append(_integer(canister.global_timer))
    parts.append(_opt(canister.module_hash))
    instance = canister.instance
    if instance is None:
        parts.append(_opt(None))
    else:
        parts.append(_opt(instance.heap_digest()))
        parts.append(_integer(instance.heap_size))
        parts.append(_blob(instance.committed_globals))
    parts.append(_blob(canister.stable.digest()))
    parts.append(_integer(canister.total_num_changes))
    parts.append(_integer(len(canister.history)))
    parts += [_change(change) for change in canister.history]
    parts.append(_integer(canister.next_log_idx))
    parts.append(_integer(len(canister.logs)))
    for record in canister.logs:
        parts.append(_integer(record.idx))
        parts.append(_integer(record.timestamp_nanos))
        parts.append(_blob(record.content))
    parts.append(_integer(canister.next_snapshot_index))
    parts.append(_integer(len(canister.snapshots)))
    parts += [_snapshot(canister.snapshots[snapshot_id]) for snapshot_id in sorted(canister.snapshots)]
    return hashlib.sha256(b"".join(parts)).digest()


def _origin(origin: Origin) -> bytes:
    return _text(origin.kind) + _blob(origin.token) + _integer(origin.callback)


def _callback_function(function: tuple[int, int] | None) -> bytes:
    if function is None:
        return b"\x00"
    return b"\x01" + _integer(function[0]) + _integer(function[1])


def calls_bytes(state: ExecutionState) -> bytes:
    """The framed bytes of the inter-canister calls' state: call contexts and callbacks in
    id order, queues in raw-id order (messages in queue order), pending stops in raw-id
    order. Empty when nothing is in flight (then it adds nothing to the hash, which is
    therefore the one from before calls existed)."""
    if not (state.call_contexts or state.callbacks or state.queues or state.stop_waiters):
        return b""
    parts = [_text("calls"), _integer(len(state.call_contexts))]
    for key in sorted(state.call_contexts):
        context = state.call_contexts[key]
        parts += [
            _integer(context.id),
            _blob(context.canister),
            _blob(context.caller),
            _origin(context.origin),
            _integer(context.available),
            _integer(int(context.responded)),
            _integer(context.outstanding),
        ]
    parts.append(_integer(len(state.callbacks)))
    for key in sorted(state.callbacks):
        callback = state.callbacks[key]
        parts += [
            _integer(callback.id),
            _blob(callback.canister),
            _integer(callback.context),
            _blob(callback.callee),
            _callback_function(callback.reply),
            _callback_function(callback.reject),
            _callback_function(callback.cleanup),
        ]
    parts.append(_integer(len(state.queues)))
    for raw in sorted(state.queues):
        queue = state.queues[raw]
        parts += [_blob(raw), _integer(len(queue))]
        for message in queue:
            if isinstance(message, Request):
                parts += [
                    _text("request"),
                    _blob(message.sender),
                    _blob(message.receiver),
                    _text(message.method),
                    _blob(message.arg),
                    _integer(message.cycles),
                    _integer(message.callback),
                ]
            else:
                parts += [
                    _text("response"),
                    _blob(message.receiver),
                    _integer(message.callback),
                    _opt(message.reply),
                    _integer(message.reject_code),
                    _text(message.reject_message),
                    _integer(message.refund),
                ]
    parts.append(_integer(len(state.stop_waiters)))
    for raw in sorted(state.stop_waiters):
        waiters = state.stop_waiters[raw]
        parts += [_blob(raw), _integer(len(waiters))]
        parts += [_origin(origin) for origin in waiters]
    return b"".join(parts)


def state_hash(state: ExecutionState) -> bytes:
    """SHA-256 over the execution's replicated state, canisters in id-byte order, then
    the calls in flight (:func:`calls_bytes`)."""
    parts = [
        _blob(DOMAIN),
        _integer(state.time),
        _integer(state.next_canister_index),
        _integer(len(state.deleted)),
    ]
    parts += [_integer(index) for index in sorted(state.deleted)]
    parts.append(_integer(len(state.canisters)))
    parts += [_blob(canister_hash(state.canisters[raw])) for raw in sorted(state.canisters)]
    parts.append(calls_bytes(state))
    return hashlib.sha256(b"".join(parts)).digest()
