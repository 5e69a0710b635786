"""Checkpoints of the replicated execution state (DESIGN 3.4): encode, check, restore.

A replica that restarts could rebuild its state by replaying every finalized block from
height 1, but that costs time proportional to the chain's age. A checkpoint is the whole
state that ``SubnetStateMachine.state_hash`` covers (canisters and Sui objects), written down after some height h, so
that a restart loads it and replays only the blocks above h. Blocks remain the source of
truth: a checkpoint only saves time, and one that is unusable is refused loudly
(``CheckpointError``) and the replica falls back to a full replay.

What is captured, the same things ``take_canister_snapshot`` captures per canister plus
what the environment keeps around them:

- the environment: time, next canister index, deleted canister indices, and the
  inter-canister calls in flight (call contexts, callbacks, queues, pending stops);
- per canister: settings (controllers in their order, which replies expose), status,
  cycles, version, certified data, global timer, history, logs, snapshots, stable memory,
  the raw module and, if code is installed, the instance's committed heap (linear memory)
  and mutable globals. A Wasm instance holds nothing else a later message can observe:
  tables cannot change (modules that change them are refused), ``data.drop`` is
  neutralized by the instrumentation, and the start function runs only at install. So a
  fresh instance of the same module loaded with heap and globals
  (``WasmInstance.restore``, as ``load_canister_snapshot`` does) behaves identically;
- the chunk store of ``install_chunked_code``;
- the executions paused by deterministic time slicing (``node.ic.paused``): a long
  message's inputs and the messages waiting for it, and for a paused ``install_code`` its
  mode, module and caller, for a paused cleanup callback the reject it settles with (a
  restored replica runs them again and completes them in the same round);
- the Sui store (``node.sui.store.ObjectStore.encode``: objects, packages, tombstones and
  the effects of every executed transaction), from which the Move VM is reloaded.

Per-replica statistics (query counters) are left out: they differ between replicas, and
every replica must write the same bytes for the same state.

The format (version 3; version 2, without ``env.calls``, is still read, as having no calls
in flight; version 1 had no Sui store and is refused, which costs a replay)::

    MAGIC (16 bytes) | version (u16, big-endian) | SHA-256 of body (32 bytes) | body

``body`` is msgpack: a map with fixed keys in a fixed order; canisters, snapshots and
chunks sorted by their id bytes; heaps and stable memories as sparse lists of 64 KiB pages
(all-zero pages are left out: a Motoko counter's 5 MiB heap has four non-zero pages);
integers too wide for msgpack (cycles can exceed 2^64) as signed big-endian bytes. The
body names the height, the hash of the block finalized at that height, the state hash
and the results root of that height, so a checkpoint cannot be mistaken for the state
after another block. No floats, no compression (whose output could differ between
library versions), no iteration over hash-ordered collections: the same state gives the
same bytes on every replica.

Restoring checks, in order: magic, version, the body's digest, the structure and types
of every field, the chunk hashes, and finally the state hash recomputed from the
restored state against the recorded one. Any failure is a ``CheckpointError`` and
leaves the state machine untouched.
"""

from __future__ import annotations

import hashlib
from collections import deque
from dataclasses import dataclass
from typing import Any

import msgpack

from node.execution import SubnetStateMachine
from node.ic.call_context import CANISTER, Callback, CallContext, Origin, QueuedMessage, Request, Response
from node.ic.canister import (
    CanisterInstance,
    CanisterSettings,
    CanisterState,
    CanisterStatus,
    SnapshotState,
    change_details,
    change_row,
)
from node.ic.config import MAX_HEAP_64
from node.ic.environment import ExecutionEnvironment
from node.ic.paused import decode_paused, encode_paused
from node.ic.stable_memory import PAGE_SIZE, StableMemory
from node.ic.state import ExecutionState
from node.sui.ledger import SuiLedger
from node.sui.store import ObjectStore, StoreError
from vocab import management
from vocab.errors import PrincipalError, RejectError, SubnetError
from vocab.principal import CanisterId, Principal

MAGIC = b"subnet-checkpnt\x00"
FORMAT_VERSION = 3
READABLE_VERSIONS = (2, 3)
"""Version 3 added the inter-canister calls in flight (``env.calls``); a version 2
checkpoint was written before calls existed and restores with none in flight."""
_HEADER = len(MAGIC) + 2 + 32
_ZERO_PAGE = bytes(PAGE_SIZE)
_INT64_MIN = -(1 << 63)
_UINT64_END = 1 << 64


class CheckpointError(SubnetError):
    """A checkpoint that cannot be used: corrupt, of an unknown format version, naming
    another height or block, or restoring to a state whose hash is not the recorded one."""


@dataclass(frozen=True)
class Checkpoint:
    """A checkpoint as it is persisted and handed back on restart (``PersistCheckpoint``
    carries the same three things): the height, the state hash after it, and the blob."""

    height: int
    state_hash: bytes
    state: bytes


@dataclass(frozen=True)
class CheckpointHeader:
    """What a checkpoint says about itself, read and checked before anything is restored."""

    version: int
    height: int
    block_hash: bytes
    state_hash: bytes
    results_root: bytes


# -- encoding ------------------------------------------------------------------------------------


def _big(value: int) -> int | bytes:
    """An integer msgpack can hold as is, or (beyond 64 bits) signed big-endian bytes."""
    if _INT64_MIN <= value < _UINT64_END:
        return value
    return value.to_bytes((value.bit_length() + 8) // 8, "big", signed=True)


def _sparse(data: bytes | bytearray | memoryview) -> list[Any]:
    """``[length, [[page_index, page], ...]]`` with the all-zero 64 KiB pages left out
    (``data`` may be a view of a live heap: only its non-zero pages are copied)."""
    pages = []
    length = len(data)
    for start in range(0, length, PAGE_SIZE):
        page = bytes(data[start : start + PAGE_SIZE])
        if page.count(0) != len(page):
            pages.append([start // PAGE_SIZE, page])
    return [length, pages]


def _stable(memory: StableMemory) -> list[Any]:
    if memory.in_transaction:
        raise CheckpointError("cannot checkpoint a stable memory in the middle of a message")
    pages = []
    for index in sorted(memory._pages):
        page = memory._pages[index]
        if index < memory.size_pages and page != _ZERO_PAGE:
            pages.append([index, bytes(page)])
    return [memory.size_pages, pages]


def _settings(settings: CanisterSettings) -> list[Any]:
    return [
        [principal.raw for principal in settings.controllers],
        _big(settings.compute_allocation),
        _big(settings.memory_allocation),
        _big(settings.freezing_threshold),
        _big(settings.reserved_cycles_limit),
        _big(settings.wasm_memory_limit),
        _big(settings.wasm_memory_threshold),
        settings.log_visibility,
        [[key, value] for key, value in settings.environment_variables],
    ]


def _change(change: management.Change) -> list[Any]:
    controllers, *rest = change_row(change.details)
    return [
        change.timestamp_nanos,
        change.canister_version,
        change.origin.principal.raw,
        change.kind,
        [principal.raw for principal in controllers],
        *rest,
    ]


def _snapshot(snapshot: SnapshotState) -> list[Any]:
    return [
        snapshot.snapshot_id,
        snapshot.taken_at_timestamp,
        snapshot.canister_version,
        snapshot.raw_module,
        _sparse(snapshot.heap),
        snapshot.globals,
        _stable(snapshot.stable),
        snapshot.certified_data,
        snapshot.global_timer,
    ]


def _canister(canister: CanisterState) -> dict[str, Any]:
    instance = canister.instance
    if instance is not None and canister.raw_module is None:
        raise CheckpointError(
            f"canister {canister.canister_id} runs code but keeps no module to restore it from"
        )
    return {
        "id": canister.canister_id.index,
        "settings": _settings(canister.settings),
        "cycles": _big(canister.cycles),
        "status": canister.status.value,
        "version": canister.version,
        "certified_data": canister.certified_data,
        "global_timer": canister.global_timer,
        "stable": _stable(canister.stable),
        "module": canister.raw_module,
        "instance": None
        if instance is None
        else [_sparse(instance.committed_view()), instance.committed_globals],
        "history": [_change(change) for change in canister.history],
        "total_num_changes": canister.total_num_changes,
        "logs": [[record.idx, record.timestamp_nanos, record.content] for record in canister.logs],
        "next_log_idx": canister.next_log_idx,
        "snapshots": [_snapshot(canister.snapshots[key]) for key in sorted(canister.snapshots)],
        "next_snapshot_index": canister.next_snapshot_index,
    }


def _origin(origin: Origin) -> list[Any]:
    return [origin.kind, origin.token, origin.callback]


def _calls(env: ExecutionState) -> list[Any]:
    """Call contexts and callbacks by id, queues and pending stops by raw canister id."""
    contexts = [
        [c.id, c.canister, c.caller, _origin(c.origin), _big(c.available), int(c.responded), c.outstanding]
        for c in (env.call_contexts[key] for key in sorted(env.call_contexts))
    ]
    callbacks = [
        [
            b.id,
            b.canister,
            b.context,
            b.callee,
            list(b.reply),
            list(b.reject),
            None if b.cleanup is None else list(b.cleanup),
        ]
        for b in (env.callbacks[key] for key in sorted(env.callbacks))
    ]
    queues = []
    for raw in sorted(env.queues):
        messages: list[Any] = []
        for message in env.queues[raw]:
            if isinstance(message, Request):
                messages.append(
                    [
                        "request",
                        message.sender,
                        message.receiver,
                        message.method,
                        message.arg,
                        _big(message.cycles),
                        message.callback,
                    ]
                )
            else:
                messages.append(
                    [
                        "response",
                        message.receiver,
                        message.callback,
                        message.reply,
                        message.reject_code,
                        message.reject_message,
                        _big(message.refund),
                    ]
                )
        queues.append([raw, messages])
    stops = [[raw, [_origin(origin) for origin in env.stop_waiters[raw]]] for raw in sorted(env.stop_waiters)]
    return [contexts, callbacks, queues, stops]


def encode_checkpoint(
    subnet: SubnetStateMachine, *, height: int, block_hash: bytes, state_hash: bytes, results_root: bytes
) -> bytes:
    """The checkpoint of ``subnet``'s state after ``height``, whose block is ``block_hash``.

    ``state_hash`` must be ``subnet.state_hash()`` (the caller has just computed it for
    certification; it is not recomputed here). Call between messages, never during one.
    """
    machine = subnet.ic
    env = machine.env.state
    body = {
        "height": height,
        "block_hash": block_hash,
        "state_hash": state_hash,
        "results_root": results_root,
        "env": {
            "time": env.time,
            "next_canister_index": env.next_canister_index,
            "deleted": sorted(env.deleted),
            "canisters": [_canister(env.canisters[raw]) for raw in sorted(env.canisters)],
            "calls": _calls(env),
            # long updates in flight (node.ic.slicing); the key is absent when none is,
            # so checkpoints of every other state keep their bytes
            **({"paused": encode_paused(env.paused)} if env.paused else {}),
        },
        "chunks": [
            [
                owner,
                [
                    [chunk_hash, machine.chunks[owner][chunk_hash]]
                    for chunk_hash in sorted(machine.chunks[owner])
                ],
            ]
            for owner in sorted(machine.chunks)
        ],
        "sui": subnet.sui.store.encode(),
    }
    packed = msgpack.packb(body, use_bin_type=True)
    return MAGIC + FORMAT_VERSION.to_bytes(2, "big") + hashlib.sha256(packed).digest() + packed


# -- decoding: every field checked, every failure a CheckpointError --------------------------------


def _fail(where: str, expected: str, value: Any) -> CheckpointError:
    return CheckpointError(f"corrupt checkpoint: {where} should be {expected}, not {type(value).__name__}")


def _int(value: Any, where: str) -> int:
    if isinstance(value, bytes):
        return int.from_bytes(value, "big", signed=True)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(where, "an integer", value)
    return value


def _nat(value: Any, where: str) -> int:
    number = _int(value, where)
    if number < 0:
        raise CheckpointError(f"corrupt checkpoint: {where} is negative ({number})")
    return number


def _bytes(value: Any, where: str) -> bytes:
    if not isinstance(value, bytes):
        raise _fail(where, "bytes", value)
    return value


def _opt_bytes(value: Any, where: str) -> bytes | None:
    return None if value is None else _bytes(value, where)


def _opt_int(value: Any, where: str) -> int | None:
    return None if value is None else _int(value, where)


def _str(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise _fail(where, "text", value)
    return value


def _list(value: Any, where: str, length: int | None = None) -> list[Any]:
    if not isinstance(value, list):
        raise _fail(where, "an array", value)
    if length is not None and len(value) != length:
        raise CheckpointError(f"corrupt checkpoint: {where} has {len(value)} items, not {length}")
    return value


def _map(value: Any, where: str, keys: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(where, "a map", value)
    if tuple(value) != keys:
        raise CheckpointError(f"corrupt checkpoint: {where} has fields {list(value)}, expected {list(keys)}")
    return value


def _principal(value: Any, where: str) -> Principal:
    try:
        return Principal(_bytes(value, where))
    except PrincipalError as exc:
        raise CheckpointError(f"corrupt checkpoint: {where}: {exc}") from None


def _sparse_pages(value: Any, where: str) -> tuple[int, list[tuple[int, bytes]]]:
    """The length and the (offset, bytes) pages of a ``_sparse`` heap, checked."""
    length_field, pages = _list(value, where, 2)
    length = _nat(length_field, f"{where} length")
    if length > MAX_HEAP_64:
        raise CheckpointError(f"corrupt checkpoint: {where} of {length} bytes exceeds any Wasm heap")
    out = []
    previous = -1
    for item in _list(pages, f"{where} pages"):
        index_field, page = _list(item, f"{where} page", 2)
        index = _nat(index_field, f"{where} page index")
        data = _bytes(page, f"{where} page {index}")
        start = index * PAGE_SIZE
        if index <= previous or len(data) != min(PAGE_SIZE, length - start) or start >= length:
            raise CheckpointError(
                f"corrupt checkpoint: {where} page {index} is out of order or of the wrong size"
            )
        out.append((start, data))
        previous = index
    return length, out


def _unsparse(value: Any, where: str) -> bytes:
    length, pages = _sparse_pages(value, where)
    out = bytearray(length)
    for start, data in pages:
        out[start : start + len(data)] = data
    return bytes(out)


def _stable_memory(value: Any, where: str) -> StableMemory:
    size_field, pages = _list(value, where, 2)
    size_pages = _nat(size_field, f"{where} size")
    restored: dict[int, bytearray] = {}
    for item in _list(pages, f"{where} pages"):
        index_field, page = _list(item, f"{where} page", 2)
        index = _nat(index_field, f"{where} page index")
        data = _bytes(page, f"{where} page {index}")
        if index >= size_pages or len(data) != PAGE_SIZE or index in restored:
            raise CheckpointError(
                f"corrupt checkpoint: {where} page {index} is out of range, repeated or of the wrong size"
            )
        restored[index] = bytearray(data)
    return StableMemory(size_pages, restored)


def _settings_from(value: Any, where: str) -> CanisterSettings:
    (controllers, compute, memory, freezing, reserved, wasm_limit, wasm_threshold, visibility, variables) = (
        _list(value, where, 9)
    )
    return CanisterSettings(
        controllers=[
            _principal(raw, f"{where} controller") for raw in _list(controllers, f"{where} controllers")
        ],
        compute_allocation=_nat(compute, f"{where} compute_allocation"),
        memory_allocation=_nat(memory, f"{where} memory_allocation"),
        freezing_threshold=_nat(freezing, f"{where} freezing_threshold"),
        reserved_cycles_limit=_nat(reserved, f"{where} reserved_cycles_limit"),
        wasm_memory_limit=_nat(wasm_limit, f"{where} wasm_memory_limit"),
        wasm_memory_threshold=_nat(wasm_threshold, f"{where} wasm_memory_threshold"),
        log_visibility=_str(visibility, f"{where} log_visibility"),
        environment_variables=tuple(
            (_str(pair[0], f"{where} variable"), _str(pair[1], f"{where} variable"))
            for pair in (
                _list(item, f"{where} variable", 2) for item in _list(variables, f"{where} variables")
            )
        ),
    )


def _change_from(value: Any, where: str) -> management.Change:
    (
        timestamp,
        version,
        origin,
        kind,
        controllers,
        mode,
        module_hash,
        snapshot_id,
        taken_at,
        snapshot_version,
    ) = _list(value, where, 10)
    row = (
        tuple(_principal(raw, f"{where} controller") for raw in _list(controllers, f"{where} controllers")),
        None if mode is None else _str(mode, f"{where} mode"),
        _opt_bytes(module_hash, f"{where} module_hash"),
        _opt_bytes(snapshot_id, f"{where} snapshot_id"),
        _opt_int(taken_at, f"{where} taken_at_timestamp"),
        _opt_int(snapshot_version, f"{where} snapshot_canister_version"),
    )
    try:
        details = change_details(_str(kind, f"{where} kind"), row)
    except ValueError as exc:
        raise CheckpointError(f"corrupt checkpoint: {where}: {exc}") from None
    return management.Change(
        _nat(timestamp, f"{where} timestamp"),
        _nat(version, f"{where} version"),
        management.change_origin(_principal(origin, f"{where} origin")),
        details,
    )


def _snapshot_from(value: Any, where: str) -> SnapshotState:
    (snapshot_id, taken_at, version, module, heap, globals_, stable, certified, timer) = _list(
        value, where, 9
    )
    return SnapshotState(
        snapshot_id=_bytes(snapshot_id, f"{where} id"),
        taken_at_timestamp=_nat(taken_at, f"{where} taken_at_timestamp"),
        canister_version=_nat(version, f"{where} canister_version"),
        raw_module=_bytes(module, f"{where} module"),
        heap=_unsparse(heap, f"{where} heap"),
        globals=_bytes(globals_, f"{where} globals"),
        stable=_stable_memory(stable, f"{where} stable memory"),
        certified_data=_bytes(certified, f"{where} certified_data"),
        global_timer=_nat(timer, f"{where} global_timer"),
    )


_CANISTER_KEYS = (
    "id",
    "settings",
    "cycles",
    "status",
    "version",
    "certified_data",
    "global_timer",
    "stable",
    "module",
    "instance",
    "history",
    "total_num_changes",
    "logs",
    "next_log_idx",
    "snapshots",
    "next_snapshot_index",
)


def _canister_from(env: ExecutionState, value: Any, where: str) -> CanisterState:
    fields = _map(value, where, _CANISTER_KEYS)
    try:
        canister_id = CanisterId(_nat(fields["id"], f"{where} id"))
    except PrincipalError as exc:
        raise CheckpointError(f"corrupt checkpoint: {where}: {exc}") from None
    where = f"canister {canister_id}"
    try:
        status = CanisterStatus(_str(fields["status"], f"{where} status"))
    except ValueError:
        raise CheckpointError(
            f"corrupt checkpoint: {where} has the unknown status {fields['status']!r}"
        ) from None
    module = _opt_bytes(fields["module"], f"{where} module")
    instance: CanisterInstance | None = None
    if fields["instance"] is not None:
        heap_field, globals_field = _list(fields["instance"], f"{where} instance", 2)
        if module is None:
            raise CheckpointError(f"corrupt checkpoint: {where} has an instance but no module")
        length, pages = _sparse_pages(heap_field, f"{where} heap")
        globals_ = _bytes(globals_field, f"{where} globals")
        try:
            # the checkpoint's pages go straight into the instance's memory, no heap between
            instance = env.runtime.instantiate_pages(env.runtime.compile(module), length, pages, globals_)
        except (RejectError, ValueError) as exc:
            raise CheckpointError(f"{where}: its module cannot be brought back to life: {exc}") from None
        if instance.heap_size != length or instance.committed_globals != globals_:
            raise CheckpointError(
                f"{where}: the restored instance does not hold the checkpointed heap and globals"
            )
    canister = CanisterState(
        canister_id=canister_id,
        settings=_settings_from(fields["settings"], f"{where} settings"),
        cycles=_nat(fields["cycles"], f"{where} cycles"),
        status=status,
        version=_nat(fields["version"], f"{where} version"),
        certified_data=_bytes(fields["certified_data"], f"{where} certified_data"),
        global_timer=_nat(fields["global_timer"], f"{where} global_timer"),
        stable=_stable_memory(fields["stable"], f"{where} stable memory"),
        instance=instance,
        raw_module=module,
        history=[
            _change_from(item, f"{where} change") for item in _list(fields["history"], f"{where} history")
        ],
        total_num_changes=_nat(fields["total_num_changes"], f"{where} total_num_changes"),
        next_log_idx=_nat(fields["next_log_idx"], f"{where} next_log_idx"),
        next_snapshot_index=_nat(fields["next_snapshot_index"], f"{where} next_snapshot_index"),
    )
    for item in _list(fields["logs"], f"{where} logs"):
        idx, timestamp, content = _list(item, f"{where} log record", 3)
        canister.logs.append(
            management.CanisterLogRecord(
                _nat(idx, f"{where} log idx"),
                _nat(timestamp, f"{where} log time"),
                _bytes(content, f"{where} log"),
            )
        )
    for item in _list(fields["snapshots"], f"{where} snapshots"):
        snapshot = _snapshot_from(item, f"{where} snapshot")
        if snapshot.snapshot_id in canister.snapshots:
            raise CheckpointError(
                f"corrupt checkpoint: {where} has snapshot {snapshot.snapshot_id.hex()} twice"
            )
        canister.snapshots[snapshot.snapshot_id] = snapshot
    return canister


def _origin_from(value: Any, where: str) -> Origin:
    kind, token, callback = _list(value, where, 3)
    try:
        return Origin(
            _str(kind, f"{where} kind"), _bytes(token, f"{where} token"), _nat(callback, f"{where} callback")
        )
    except ValueError as exc:
        raise CheckpointError(f"corrupt checkpoint: {where}: {exc}") from None


def _function_from(value: Any, where: str) -> tuple[int, int]:
    index, env = _list(value, where, 2)
    return _nat(index, f"{where} index"), _nat(env, f"{where} env")


def _calls_from(env: ExecutionState, value: Any) -> None:
    contexts, callbacks, queues, stops = _list(value, "calls", 4)
    for item in _list(contexts, "call contexts"):
        id_, canister, caller, origin, available, responded, outstanding = _list(item, "a call context", 7)
        where = f"call context {id_!r}"
        context = CallContext(
            _nat(id_, where),
            _bytes(canister, f"{where} canister"),
            _bytes(caller, f"{where} caller"),
            _origin_from(origin, f"{where} origin"),
            _nat(available, f"{where} available cycles"),
            bool(_nat(responded, f"{where} responded")),
            _nat(outstanding, f"{where} outstanding"),
        )
        if context.id in env.call_contexts:
            raise CheckpointError(f"corrupt checkpoint: {where} appears twice")
        env.call_contexts[context.id] = context
    for item in _list(callbacks, "callbacks"):
        id_, canister, context_id, callee, reply, reject, cleanup = _list(item, "a callback", 7)
        where = f"callback {id_!r}"
        callback = Callback(
            _nat(id_, where),
            _bytes(canister, f"{where} canister"),
            _nat(context_id, f"{where} context"),
            _bytes(callee, f"{where} callee"),
            _function_from(reply, f"{where} reply"),
            _function_from(reject, f"{where} reject"),
            None if cleanup is None else _function_from(cleanup, f"{where} cleanup"),
        )
        if callback.id in env.callbacks or callback.context not in env.call_contexts:
            raise CheckpointError(f"corrupt checkpoint: {where} is repeated or names no open call context")
        env.callbacks[callback.id] = callback
    for item in _list(queues, "queues"):
        raw_field, messages = _list(item, "a queue", 2)
        raw = _bytes(raw_field, "a queue's canister")
        if raw in env.queues:
            raise CheckpointError("corrupt checkpoint: a canister has two queues")
        queue: deque[QueuedMessage] = deque()
        for entry in _list(messages, "queued messages"):
            tag = _list(entry, "a queued message")[0] if entry else None
            if tag == "request":
                _tag, sender, receiver, method, arg, cycles, callback_id = _list(entry, "a request", 7)
                queue.append(
                    Request(
                        _bytes(sender, "a request's sender"),
                        _bytes(receiver, "a request's receiver"),
                        _str(method, "a request's method"),
                        _bytes(arg, "a request's argument"),
                        _nat(cycles, "a request's cycles"),
                        _nat(callback_id, "a request's callback"),
                    )
                )
            elif tag == "response":
                _tag, receiver, callback_id, reply, code, message, refund = _list(entry, "a response", 7)
                queue.append(
                    Response(
                        _bytes(receiver, "a response's receiver"),
                        _nat(callback_id, "a response's callback"),
                        _opt_bytes(reply, "a response's reply"),
                        _nat(code, "a response's reject code"),
                        _str(message, "a response's reject message"),
                        _nat(refund, "a response's refund"),
                    )
                )
            else:
                raise CheckpointError(f"corrupt checkpoint: a queued message of unknown kind {tag!r}")
        env.queues[raw] = queue
    for item in _list(stops, "pending stops"):
        raw_field, origins = _list(item, "pending stops", 2)
        env.stop_waiters[_bytes(raw_field, "a stopping canister")] = [
            _origin_from(origin, "a pending stop") for origin in _list(origins, "pending stops")
        ]


def _split(blob: bytes) -> tuple[int, dict[str, Any]]:
    if len(blob) < _HEADER or blob[: len(MAGIC)] != MAGIC:
        raise CheckpointError("not a checkpoint: the magic bytes are missing")
    version = int.from_bytes(blob[len(MAGIC) : len(MAGIC) + 2], "big")
    if version not in READABLE_VERSIONS:
        raise CheckpointError(
            f"checkpoint format version {version} is unknown; this replica reads versions "
            f"{', '.join(str(v) for v in READABLE_VERSIONS)}"
        )
    digest = blob[len(MAGIC) + 2 : _HEADER]
    body = blob[_HEADER:]
    if hashlib.sha256(body).digest() != digest:
        raise CheckpointError("corrupt checkpoint: the body does not match its digest")
    try:
        decoded = msgpack.unpackb(body, raw=False, use_list=True, strict_map_key=True)
    except (msgpack.UnpackException, ValueError, TypeError, OverflowError, RecursionError) as exc:
        raise CheckpointError(
            f"corrupt checkpoint: the body is not valid msgpack ({type(exc).__name__})"
        ) from None
    return version, _map(
        decoded, "the body", ("height", "block_hash", "state_hash", "results_root", "env", "chunks", "sui")
    )


def _header(version: int, body: dict[str, Any]) -> CheckpointHeader:
    return CheckpointHeader(
        version=version,
        height=_nat(body["height"], "height"),
        block_hash=_bytes(body["block_hash"], "block_hash"),
        state_hash=_bytes(body["state_hash"], "state_hash"),
        results_root=_bytes(body["results_root"], "results_root"),
    )


def read_header(blob: bytes) -> CheckpointHeader:
    """Check a checkpoint's framing and digest and return what it says about itself."""
    return _header(*_split(blob))


def restore_checkpoint(
    subnet: SubnetStateMachine,
    blob: bytes,
    *,
    height: int | None = None,
    state_hash: bytes | None = None,
    block_hash: bytes | None = None,
) -> CheckpointHeader:
    """Replace ``subnet``'s state with the checkpoint's, or raise ``CheckpointError``.

    ``height`` and ``state_hash``, when given, are what the checkpoint was stored under,
    and ``block_hash`` the block finalized at that height: all must agree with what the
    checkpoint says about itself (checked before any module is compiled). The restored
    state's hash is recomputed and must equal the recorded one; on any failure
    ``subnet`` keeps the state it had.
    """
    machine = subnet.ic
    version, body = _split(blob)
    header = _header(version, body)
    if height is not None and header.height != height:
        raise CheckpointError(f"the checkpoint stored for height {height} is of height {header.height}")
    if state_hash is not None and header.state_hash != state_hash:
        raise CheckpointError(
            f"the checkpoint stored with state hash {state_hash.hex()[:16]} records {header.state_hash.hex()[:16]}"
        )
    if block_hash is not None and header.block_hash != block_hash:
        raise CheckpointError(
            f"the checkpoint of height {header.height} was taken after block {header.block_hash.hex()[:16]}, "
            f"but the finalized block there is {block_hash.hex()[:16]}"
        )
    env_keys = ("time", "next_canister_index", "deleted", "canisters")
    env_body = body["env"]
    paused_field = env_body.pop("paused", None) if isinstance(env_body, dict) else None
    fields = _map(env_body, "env", env_keys if version == 2 else (*env_keys, "calls"))
    restored = ExecutionEnvironment(
        machine.env.config, machine.env.engine, time=_nat(fields["time"], "env time")
    )
    env = restored.state
    env.next_canister_index = _nat(fields["next_canister_index"], "env next_canister_index")
    env.deleted = {_nat(index, "deleted canister") for index in _list(fields["deleted"], "env deleted")}
    for item in _list(fields["canisters"], "env canisters"):
        canister = _canister_from(env, item, "a canister")
        raw = canister.canister_id.principal.raw
        if raw in env.canisters:
            raise CheckpointError(f"corrupt checkpoint: canister {canister.canister_id} appears twice")
        env.canisters[raw] = canister
    if version > 2:
        _calls_from(env, fields["calls"])
    if paused_field is not None:
        try:
            env.paused = decode_paused(paused_field)
        except ValueError as exc:
            raise CheckpointError(f"corrupt checkpoint: {exc}") from None
        for raw, paused in env.paused.items():
            query = paused.query
            if (
                raw not in env.canisters
                or (paused.context is not None and paused.context not in env.call_contexts)
                or (
                    query is not None
                    and query.origin.kind == CANISTER
                    and query.origin.callback not in env.callbacks
                )
            ):
                raise CheckpointError(
                    "corrupt checkpoint: a paused execution names no canister, call context or callback"
                )
    chunks: dict[bytes, dict[bytes, bytes]] = {}
    for item in _list(body["chunks"], "chunks"):
        owner_field, entries = _list(item, "chunk store", 2)
        owner = _bytes(owner_field, "chunk store owner")
        store = chunks.setdefault(owner, {})
        for entry in _list(entries, "chunk store entries"):
            chunk_hash, chunk = (_bytes(part, "chunk") for part in _list(entry, "chunk", 2))
            if hashlib.sha256(chunk).digest() != chunk_hash:
                raise CheckpointError(
                    f"corrupt checkpoint: chunk {chunk_hash.hex()[:16]} does not match its hash"
                )
            store[chunk_hash] = chunk

    try:
        sui = SuiLedger.from_store(ObjectStore.decode(_bytes(body["sui"], "sui")))
    except StoreError as exc:
        raise CheckpointError(f"corrupt checkpoint: {exc}") from None

    previous = machine.env, machine.chunks, subnet.sui

    def put_back() -> None:
        machine.env, machine.chunks = previous[0], previous[1]
        subnet.replace(machine, previous[2])

    machine.env, machine.chunks = restored, chunks
    subnet.replace(machine, sui)
    try:
        actual = subnet.state_hash()
    except BaseException:
        put_back()
        raise
    if actual != header.state_hash:
        put_back()
        raise CheckpointError(
            f"the checkpoint of height {header.height} restores to state hash {actual.hex()[:16]}, "
            f"not the recorded {header.state_hash.hex()[:16]}"
        )
    return header
