"""The replicated state machine backed by the Wasm execution layer (``node.ic``).

The ``StateMachine`` of ``node.state_machine``: a finalized batch goes in,
one ``RequestResult`` per request comes out. Management lifecycle calls (Candid arguments
as in ``vocab.management``) are decoded here and performed by ``ExecutionEnvironment``'s
typed operations; a call to any other canister is an update call executed in Wasm. The
execution layer's errors are ``RejectError``s with IC codes, passed through unchanged;
an argument that is not the method's Candid is rejected with ``IC0408`` and changes nothing.

Besides the lifecycle and code methods it serves, through consensus, ``canister_info``
(to any caller, ingress included: a deviation from the IC, where only canisters may call
it, explained in ``vocab.management``) and the snapshot methods (controllers only, as the
execution layer enforces). ``fetch_canister_logs`` and ``canister_metadata`` are
query-only, as ``fetch_canister_logs`` is on the IC: ``query`` answers them on the fast
path, and as updates they are rejected.

Messages of one batch run at the batch's time plus their position (one nanosecond
apart), because execution never lets time stand still between replicated operations
with observable effects; the offset is the same on every replica.

Code travels once: ``install_code`` carries the module in the (gossiped, then finalized)
request itself, and a module larger than the ~2 MiB ingress limit goes up in chunks with
``upload_chunk`` and is assembled by ``install_chunked_code`` from the list of chunk
hashes, checked against the expected module hash (IC semantics). The chunk store is
replicated state: it is part of ``state_hash``.
"""

from __future__ import annotations

import hashlib
from typing import Self

from node.ic.call_context import INGRESS, Origin
from node.ic.canister import CanisterSettings, CanisterState, require_controller
from node.ic.config import DEFAULT_SUBNET_MEMORY_CAPACITY, ExecutionConfig
from node.ic.environment import ExecutionEnvironment
from node.ic.lifecycle import InstallMode
from node.ic.messages import CallResult
from node.ic.paused import WaitingMessage
from node.ic.query_instances import QueryInstances, QueryJob, prepare_query
from node.ic.rehearsal import UpgradeRehearsal, rehearse_upgrade
from node.ic.slicing import slice_from_genesis
from node.state_machine import Batch
from vocab import management
from vocab.candid import encode
from vocab.certificate import RequestResult
from vocab.envelope import SignedEnvelope
from vocab.errors import CandidError, RejectCode, RejectError
from vocab.genesis import Genesis, GenesisError
from vocab.principal import CanisterId, Principal

MAX_CHUNK_BYTES = 1024 * 1024
"""The IC's ``upload_chunk`` limit (1 MiB per chunk)."""
MAX_STORED_CHUNKS = 100
"""The IC's chunk store holds at most 100 chunks per canister."""


_EFFECTIVE_CANISTER_METHODS = frozenset(
    (
        *(m for m in management.LIFECYCLE_METHODS if m != management.CREATE),
        *management.CODE_METHODS,
        management.CANISTER_INFO,
        *management.SNAPSHOT_METHODS,
    )
)
"""Management methods with an effective canister: those that wait while it is paused."""
_INSTALL_METHODS = frozenset((management.INSTALL_CODE, management.INSTALL_CHUNKED_CODE))
"""Management methods that wait while any long install is paused (one at a time)."""


def _rejected(request_id: bytes, height: int, reject: RejectError) -> RequestResult:
    return RequestResult.rejected(request_id, height, reject.code, reject.message, reject.error_code or "")


def _contract_violation(message: str) -> RejectError:
    return RejectError(RejectCode.CANISTER_ERROR, message, "IC0504")


def _bad_candid(method: str, exc: Exception) -> RejectError:
    """A management argument that is not the method's Candid (InvalidManagementPayload)."""
    return RejectError(
        RejectCode.CANISTER_REJECT,
        f"Error decoding candid for the management method {method}: {exc}",
        "IC0408",
    )


def execution_config(genesis: Genesis) -> ExecutionConfig:
    """``ExecutionConfig`` from a genesis: equal on every replica, because genesis is
    (``extra.subnet_memory_capacity``, ``extra.round_message_limit`` and
    ``extra.instructions_per_slice`` tune it)."""
    capacity = genesis.extra.get("subnet_memory_capacity", DEFAULT_SUBNET_MEMORY_CAPACITY)
    if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 0:
        raise GenesisError(f"extra.subnet_memory_capacity must be a number of bytes, not {capacity!r}")
    limit = genesis.extra.get("round_message_limit", ExecutionConfig.round_message_limit)
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise GenesisError(f"extra.round_message_limit must be a positive number of messages, not {limit!r}")
    return ExecutionConfig(
        first_canister_index=genesis.canister_range_start,
        last_canister_index=genesis.canister_range_end - 1,
        subnet_memory_capacity=capacity,
        round_message_limit=limit,
        instructions_per_slice=slice_from_genesis(genesis),
    )


class WasmStateMachine:
    def __init__(self, range_start: int, range_end: int, config: ExecutionConfig | None = None) -> None:
        if config is None:
            config = ExecutionConfig(first_canister_index=range_start, last_canister_index=range_end - 1)
        self.chunks: dict[bytes, dict[bytes, bytes]] = {}
        """Per canister (raw principal): its chunk store, SHA-256 of a chunk -> the chunk."""
        self._ran_messages = False
        self._randomness = b"\x00" * 32
        """The current batch's randomness, which ``raw_rand`` draws from."""
        self._draws = 0
        self._attached = 0
        """The cycles attached to the canister's management call being served."""
        self.env = ExecutionEnvironment(config)
        self.query_instances = QueryInstances(self.env.state.runtime)
        """The canisters' query instances (``node.ic.query_instances``)."""

    @property
    def env(self) -> ExecutionEnvironment:
        return self._env

    @env.setter
    def env(self, env: ExecutionEnvironment) -> None:
        # calls from canisters to the management canister are decoded here
        self._env = env
        env.calls.management = self._canister_management

    @property
    def EMPTY_BATCH_UNCHANGED(self) -> bool:
        """Whether the last batch, if it had no messages, changed nothing: it ran no
        timers or heartbeats (none was due) and did not advance the time, and, unless
        inter-canister messages were carried over to it, ran nothing at all. The replica then keeps the
        previous state hash instead of hashing the whole state again."""
        return not self._ran_messages

    @classmethod
    def from_genesis(cls, genesis: Genesis) -> Self:
        """The execution layer a replica of ``genesis`` runs: its canister range, and the
        settings genesis carries for execution (``extra.subnet_memory_capacity``)."""
        return cls(genesis.canister_range_start, genesis.canister_range_end, execution_config(genesis))

    def execute(self, batch: Batch) -> list[RequestResult]:
        """The batch's messages in order, then the inter-canister messages they caused (and
        those carried over from earlier batches), up to ``round_message_limit``.

        The results are those of the batch's messages answered during the batch, in the
        order they were answered, then those of earlier batches' messages answered now (a
        call that waited for other canisters past its own batch). A message whose call
        is still waiting has no result yet: it appears in the batch that answers it.
        """
        env = self.env
        results = []
        self._randomness, self._draws = batch.randomness, 0
        if env.config.instructions_per_slice:
            env.state.round = batch.height
        for position, envelope in enumerate(batch.messages):
            time = max(env.time, batch.time_ns + position)
            try:
                if not isinstance(envelope, SignedEnvelope):
                    raise RejectError(
                        RejectCode.SYS_FATAL, "the canister state machine executes no Sui transactions"
                    )
                reply = self._execute_one(envelope, time)
            except RejectError as reject:
                results.append(_rejected(envelope.request_id, batch.height, reject))
            else:
                if reply is not None:
                    results.append(RequestResult.replied(envelope.request_id, batch.height, reply))
        # The round's system tasks, as the IC's scheduler runs them in every round: each
        # heartbeat, and each global timer now due, canisters in id order, on every replica
        # at the block's time; then the messages they and the batch caused (a Motoko timer
        # runs its job as a call to itself).
        round_time = max(env.time, batch.time_ns + len(batch.messages))
        tasks = env.system_tasks_due(round_time)
        if tasks:
            env.run_system_tasks(round_time)
        ran = 0
        if env.messages_pending():
            env.advance_time(round_time)
            ran = env.run_messages(env.config.round_message_limit)
        self._ran_messages = ran > 0 or tasks
        if env.state.paused:
            self._ran_messages |= self._complete_paused(batch.height, round_time)
        for token, answer in env.state.completed:
            assert isinstance(answer, CallResult)
            if answer.reject is not None:
                results.append(_rejected(token, batch.height, answer.reject))
            else:
                assert answer.reply is not None
                results.append(RequestResult.replied(token, batch.height, answer.reply))
        env.state.completed.clear()
        return results

    def _complete_paused(self, height: int, time: int) -> bool:
        """End of the round: paused long updates that complete in it apply their effects
        (``node.ic.slicing``), then the messages that waited for those canisters run, in
        arrival order (one may pause its canister again, and the rest wait again).
        Whether anything completed."""
        env = self.env
        completed, waiting = env.calls.complete_paused(height)
        for position, (canister, message) in enumerate(waiting):
            at = max(env.time, time + position)
            caller, origin = Principal(message.sender), message.origin
            if message.kind == "update":
                target = CanisterId.from_principal(Principal(canister))
                result = self._submit(target, caller, origin.token, message.method, message.arg, at)
                if result is not None:
                    env.state.completed.append((origin.token, result))
                continue
            env.advance_time(at)
            self._attached = message.cycles
            try:
                reply = self._management(message.method, caller, message.arg, at, origin)
            except RejectError as reject:
                env.calls.answer(origin, None, reject, message.cycles)
            else:
                if reply is not None:
                    env.calls.answer(origin, reply, None, message.cycles)
            finally:
                self._attached = 0
        return completed > 0

    def _waits_for_paused(self, method: str, caller: Principal, arg: bytes, origin: Origin) -> bool:
        """Whether this management call is for a canister paused by a long message: then it
        waits behind it, as on the IC (a subnet message for a canister with a paused
        execution is not executed until it completes), and is answered later. An install
        (``install_code``, ``install_chunked_code``) also waits while any long install is
        paused, whatever its canister: the IC runs one long install at a time."""
        paused = self.env.state.paused
        if not paused or method not in _EFFECTIVE_CANISTER_METHODS:
            return False
        try:
            request = management.decode_args(method, arg)
        except (CandidError, ValueError):
            return False  # the normal path names what is wrong with it
        target = getattr(request, "canister_id", None) or getattr(request, "target_canister", None)
        entry = paused.get(target.raw) if isinstance(target, Principal) else None
        if entry is None and method in _INSTALL_METHODS:
            entry = self.env.calls.slicing.installing()
        if entry is None:
            return False
        entry.waiting.append(WaitingMessage("management", caller.raw, method, arg, origin, self._attached))
        return True

    def _submit(
        self, canister: CanisterId, caller: Principal, token: bytes, method: str, arg: bytes, time: int
    ) -> CallResult | None:
        """A user's update, or, while its canister is paused by a long message, queued
        behind it (``None``: answered later, as a call waiting for other canisters is)."""
        env = self.env
        paused = env.state.paused.get(canister.principal.raw)
        if paused is not None:
            paused.waiting.append(WaitingMessage("update", caller.raw, method, arg, Origin(INGRESS, token)))
            return None
        return env.submit(canister, method, arg, caller=caller, time=time, token=token)

    def state_hash(self) -> bytes:
        digest = hashlib.sha256(b"subnet-wasm-state")
        digest.update(self.env.state_hash())
        paused = self.env.calls.slicing.state_bytes()
        if paused:  # absent while nothing is paused: the hash of every other state unchanged
            digest.update(b"paused" + paused)
        for owner in sorted(self.chunks):
            store = self.chunks[owner]
            digest.update(len(owner).to_bytes(1, "big") + owner + len(store).to_bytes(4, "big"))
            for chunk_hash in sorted(store):
                digest.update(chunk_hash)
        return digest.digest()

    def certified_data(self) -> list[tuple[bytes, bytes]]:
        """Each canister's certified data (``ic0.certified_data_set``), by raw id in order:
        what the subnet's state tree certifies under ``/canister/<id>/certified_data``."""
        canisters = self.env.state.canisters
        return [(raw, canisters[raw].certified_data) for raw in sorted(canisters)]

    def query(
        self,
        canister_id: Principal,
        method: str,
        arg: bytes,
        *,
        caller: Principal,
        time: int,
        data_certificate: bytes | None = None,
    ) -> CallResult:
        """A non-replicated query, run here and now: ``prepare_query``'s three steps on
        this thread (what the simulator does; the process backend runs the middle one on
        a query thread). ``data_certificate``: what ``ic0.data_certificate_copy`` gives
        the canister.
        """
        job = self.prepare_query(
            canister_id, method, arg, caller=caller, time=time, data_certificate=data_certificate
        )
        job.run()
        return job.finish()

    def prepare_query(
        self,
        canister_id: Principal,
        method: str,
        arg: bytes,
        *,
        caller: Principal,
        time: int,
        data_certificate: bytes | None = None,
        instruction_limit: int | None = None,
    ) -> QueryJob:
        """A query prepared on the executing thread, to run on a canister's query instance
        (``node.ic.query_instances``): nothing it does reaches the executing instance.
        ``instruction_limit``: a budget below the query limit (a first try).

        To the management canister only ``management.QUERY_METHODS`` are queries; they
        read the state and change nothing, and are answered here.
        """
        try:
            if canister_id.is_management:
                return QueryJob.answered(CallResult(reply=self._management_query(method, arg, caller)))
            target = _canister_id(canister_id)
        except RejectError as reject:
            return QueryJob.answered(CallResult(reject=reject))
        return prepare_query(
            self.env.state,
            self.query_instances,
            target,
            method,
            arg,
            caller=caller,
            time=time,
            data_certificate=data_certificate,
            instruction_limit=instruction_limit,
        )

    def rehearse_upgrade(self, caller: Principal, arg: bytes, *, time: int) -> UpgradeRehearsal:
        """``install_code`` (Candid ``arg``, as the management canister takes it) in mode
        upgrade, run on a copy of the canister (``node.ic.rehearsal``): this state is not
        changed. ``RejectError`` for an argument that is not an upgrade of a canister here."""
        try:
            request: management.InstallCodeArgs = management.decode_args(management.INSTALL_CODE, arg)
        except CandidError as exc:
            raise _bad_candid(management.INSTALL_CODE, exc) from exc
        mode = _mode(request.mode)
        if mode.mode != "upgrade":
            raise RejectError(
                RejectCode.CANISTER_REJECT,
                f"only an upgrade can be rehearsed, not mode {mode.mode}",
                "IC0503",
            )
        return rehearse_upgrade(
            self.env.state,
            caller,
            _canister_id(request.canister_id),
            mode,
            request.wasm_module,
            request.arg,
            time=time,
        )

    def _management_query(self, method: str, arg: bytes, caller: Principal) -> bytes:
        """``fetch_canister_logs`` (visible per the canister's ``log_visibility``) and
        ``canister_metadata`` (``icp:public`` sections to anyone, ``icp:private`` ones to
        controllers), the stand-in for the IC's ``read_state`` metadata path."""
        management.require_query_method(method)
        try:
            if method == management.FETCH_LOGS:
                canister = _canister_id(management.decode_args(method, arg).canister_id)
                records = tuple(self.env.fetch_canister_logs(caller, canister))
                return management.encode_reply(method, management.FetchCanisterLogsResult(records))
            request = management.decode_args(method, arg)
            value = self.env.canister_metadata(caller, _canister_id(request.canister_id), request.name)
            return management.encode_reply(method, management.CanisterMetadataResult(value))
        except CandidError as exc:
            raise _bad_candid(method, exc) from exc

    def _execute_one(self, envelope: SignedEnvelope, time: int) -> bytes | None:
        """The reply to one ingress message, ``None`` while it waits for other canisters."""
        content = envelope.content
        caller = content.sender
        if not content.canister_id.is_management:
            target = _canister_id(content.canister_id)
            result = self._submit(target, caller, envelope.request_id, content.method_name, content.arg, time)
            return None if result is None else result.unwrap()
        return self._management(
            content.method_name, caller, content.arg, time, Origin(INGRESS, envelope.request_id)
        )

    def _canister_management(
        self, caller: Principal, method: str, arg: bytes, cycles: int, origin: Origin
    ) -> tuple[bytes, int] | None:
        """A canister's call to the management canister, at the scheduler's time: the
        methods users call, plus ``create_canister`` (the attached cycles become the new
        canister's balance), ``deposit_cycles`` and ``raw_rand``; other attached cycles are
        given back."""
        time = self.env.time
        try:
            if method == "create_canister":
                create: management.CreateCanisterArgs = management.decode_args(management.CREATE, arg)
                created = self.env.create_canister(
                    caller,
                    time=time,
                    cycles=cycles,
                    settings=None if create.settings is None else _settings(create.settings, caller),
                )
                return management.encode_reply(
                    management.CREATE, management.CanisterIdRecord(created.principal)
                ), 0
            if method == "raw_rand":
                # 32 bytes from the batch's randomness (the same on every replica), a fresh
                # draw for each call in the batch
                self._draws += 1
                drawn = hashlib.sha256(
                    b"raw_rand" + self._randomness + self._draws.to_bytes(8, "big")
                ).digest()
                return encode([drawn], "(blob)"), cycles
            if method == "deposit_cycles":
                record = management.decode_args(management.STATUS, arg)
                self.env.add_cycles(_canister_id(record.canister_id), cycles, time=time)
                return management.encode_reply(management.STOP), 0
        except (CandidError, ValueError) as exc:
            if isinstance(exc, RejectError):
                raise
            raise _bad_candid(method, exc) from exc
        self._attached = cycles
        try:
            reply = self._management(method, caller, arg, time, origin)
        finally:
            self._attached = 0
        return None if reply is None else (reply, cycles)

    def _management(
        self, method: str, caller: Principal, arg: bytes, time: int, origin: Origin
    ) -> bytes | None:
        """A management method, for a user or a canister; ``None`` while a ``stop_canister``
        waits for the canister's open calls (``origin`` is answered when it stops), or while
        the call waits for its canister's long message (``_waits_for_paused``)."""
        if self._waits_for_paused(method, caller, arg, origin):
            return None
        try:
            if method in management.CODE_METHODS:
                return self._code(method, caller, arg, time, origin)
            if method == management.CREATE:
                create: management.CreateCanisterArgs = management.decode_args(method, arg)
                specified = create.specified_id
                created = self.env.create_canister(
                    caller,
                    time=time,
                    cycles=create.amount,
                    specified_id=None if specified is None else CanisterId.from_principal(specified),
                    settings=None if create.settings is None else _settings(create.settings, caller),
                )
                return management.encode_reply(method, management.CanisterIdRecord(created.principal))
            if method == management.UPDATE_SETTINGS:
                update: management.UpdateSettingsArgs = management.decode_args(method, arg)
                settings = update.settings
                self.env.update_settings(
                    caller,
                    CanisterId.from_principal(update.canister_id),
                    time=time,
                    controllers=None if settings.controllers is None else list(settings.controllers),
                    compute_allocation=settings.compute_allocation,
                    memory_allocation=settings.memory_allocation,
                    freezing_threshold=settings.freezing_threshold,
                    log_visibility=settings.log_visibility,
                )
                return management.encode_reply(method)
            if method in (management.STATUS, management.STOP, management.START, management.DELETE):
                target = CanisterId.from_principal(management.decode_args(method, arg).canister_id)
                if method == management.STATUS:
                    self.env.advance_time(time)
                    status = self.env.canister_status(caller, target)
                    return management.encode_reply(
                        method,
                        management.CanisterStatusResult(
                            status=status.status,
                            settings=management.DefiniteSettings(
                                controllers=tuple(status.controllers),
                                compute_allocation=status.settings.compute_allocation,
                                memory_allocation=status.settings.memory_allocation,
                                freezing_threshold=status.settings.freezing_threshold,
                                reserved_cycles_limit=status.settings.reserved_cycles_limit,
                                wasm_memory_limit=status.settings.wasm_memory_limit,
                            ),
                            module_hash=status.module_hash,
                            memory_size=status.memory_size,
                            cycles=status.cycles,
                            reserved_cycles=status.reserved_cycles,
                            idle_cycles_burned_per_day=status.idle_cycles_burned_per_day,
                        ),
                    )
                if method == management.STOP:
                    if not self.env.stop_canister(caller, target, time=time, origin=origin):
                        return None
                    return management.encode_reply(method)
                operation = {
                    management.START: self.env.start_canister,
                    management.DELETE: self.env.delete_canister,
                }[method]
                operation(caller, target, time=time)
                if method == management.DELETE:
                    self.chunks.pop(target.principal.raw, None)
                return management.encode_reply(method)
            if method == management.CANISTER_INFO:
                request: management.CanisterInfoArgs = management.decode_args(method, arg)
                info = self.env.canister_info(
                    _canister_id(request.canister_id), request.num_requested_changes
                )
                return management.encode_reply(method, info)
            if method in management.SNAPSHOT_METHODS:
                return self._snapshot(method, caller, arg, time)
            if method in management.QUERY_METHODS:
                raise RejectError(
                    RejectCode.CANISTER_REJECT,
                    f"{method} API is only accessible in non-replicated mode: send it as a query",
                    "IC0406",
                )
        except (CandidError, ValueError) as exc:
            if isinstance(exc, RejectError):
                raise
            raise _bad_candid(method, exc) from exc
        raise RejectError(
            RejectCode.CANISTER_REJECT, f"Management canister has no method '{method}'", "IC0407"
        )

    def _snapshot(self, method: str, caller: Principal, arg: bytes, time: int) -> bytes:
        """take / load / list / delete_canister_snapshot; the execution layer checks that
        the caller controls the canister and leaves everything as it was when it refuses."""
        request = management.decode_args(method, arg)
        canister = _canister_id(request.canister_id)
        if method == management.TAKE_SNAPSHOT:
            taken = self.env.take_canister_snapshot(
                caller, canister, time=time, replace_snapshot=request.replace_snapshot
            )
            return management.encode_reply(method, taken)
        if method == management.LOAD_SNAPSHOT:
            # sender_canister_version only matters to calls from canisters, which this subnet has none of.
            self.env.load_canister_snapshot(caller, canister, request.snapshot_id, time=time)
            return management.encode_reply(method)
        if method == management.DELETE_SNAPSHOT:
            self.env.delete_canister_snapshot(caller, canister, request.snapshot_id, time=time)
            return management.encode_reply(method)
        assert method == management.LIST_SNAPSHOTS
        return management.encode_reply(method, tuple(self.env.list_canister_snapshots(caller, canister)))

    def _code(self, method: str, caller: Principal, arg: bytes, time: int, origin: Origin) -> bytes | None:
        """install_code, uninstall_code and the chunk store; ``None`` while a long install
        is paused (``origin`` is answered when it completes, ``node.ic.slicing``)."""
        if method == management.INSTALL_CODE:
            request: management.InstallCodeArgs = management.decode_args(method, arg)
            done = self.env.install_code(
                caller,
                _canister_id(request.canister_id),
                _mode(request.mode),
                request.wasm_module,
                request.arg,
                time=time,
                sender_canister_version=request.sender_canister_version,
                answer=origin,
                refund=self._attached,
            )
            return management.encode_reply(method) if done else None
        if method == management.INSTALL_CHUNKED_CODE:
            chunked: management.InstallChunkedCodeArgs = management.decode_args(method, arg)
            target = _canister_id(chunked.target_canister)
            store_id = chunked.store_canister or chunked.target_canister
            store_canister = self._controlled(caller, store_id)
            store = self.chunks.get(store_canister.principal.raw, {})
            parts = []
            for listed in chunked.chunk_hashes_list:
                chunk_hash = listed.hash
                chunk = store.get(chunk_hash)
                if chunk is None:
                    raise _contract_violation(
                        f"Error from Wasm chunk store: chunk {chunk_hash.hex()} is not in the store of {store_id}"
                    )
                parts.append(chunk)
            module = b"".join(parts)
            actual = hashlib.sha256(module).digest()
            if actual != chunked.wasm_module_hash:
                raise _contract_violation(
                    f"Error from Wasm chunk store: wasm module hash {actual.hex()} does not match the given hash "
                    f"{chunked.wasm_module_hash.hex()}"
                )
            done = self.env.install_code(
                caller,
                target,
                _mode(chunked.mode),
                module,
                chunked.arg,
                time=time,
                sender_canister_version=chunked.sender_canister_version,
                answer=origin,
                refund=self._attached,
            )
            return management.encode_reply(method) if done else None
        if method == management.UNINSTALL_CODE:
            uninstall = management.decode_args(method, arg)
            self.env.uninstall_code(caller, _canister_id(uninstall.canister_id), time=time)
            return management.encode_reply(method)
        if method == management.UPLOAD_CHUNK:
            upload: management.UploadChunkArgs = management.decode_args(method, arg)
            chunk = upload.chunk
            canister = self._controlled(caller, upload.canister_id, time)
            if len(chunk) > MAX_CHUNK_BYTES:
                raise _contract_violation(
                    f"Error from Wasm chunk store: chunk of {len(chunk)} bytes exceeds the {MAX_CHUNK_BYTES} bytes limit"
                )
            store = self.chunks.setdefault(canister.principal.raw, {})
            chunk_hash = hashlib.sha256(chunk).digest()
            if chunk_hash not in store and len(store) >= MAX_STORED_CHUNKS:
                raise _contract_violation(
                    f"Error from Wasm chunk store: the store is full ({MAX_STORED_CHUNKS} chunks)"
                )
            store[chunk_hash] = chunk
            return management.encode_reply(method, management.ChunkHash(chunk_hash))
        canister = self._controlled(caller, management.decode_args(method, arg).canister_id, time)
        if method == management.CLEAR_CHUNK_STORE:
            self.chunks.pop(canister.principal.raw, None)
            return management.encode_reply(method)
        assert method == management.STORED_CHUNKS
        stored = sorted(self.chunks.get(canister.principal.raw, {}))
        return management.encode_reply(method, tuple(management.ChunkHash(digest) for digest in stored))

    def _controlled(
        self, caller: Principal, canister_id: Principal, time: int | None = None
    ) -> CanisterState:
        if time is not None:
            self.env.advance_time(time)
        canister = self.env.canister(_canister_id(canister_id))
        require_controller(canister, caller)
        return canister


def _canister_id(principal: Principal) -> CanisterId:
    try:
        return CanisterId.from_principal(principal)
    except ValueError:
        raise RejectError(
            RejectCode.DESTINATION_INVALID, f"Canister {principal} not found", "IC0301"
        ) from None


def _mode(mode: management.CanisterInstallMode) -> InstallMode:
    if isinstance(mode, management.UpgradeFlags):
        return InstallMode("upgrade", mode.skip_pre_upgrade, mode.wasm_memory_persistence)
    return InstallMode(mode)


def _settings(settings: management.Settings, caller: Principal) -> CanisterSettings:
    result = CanisterSettings(
        controllers=[caller] if settings.controllers is None else list(settings.controllers)
    )
    if settings.compute_allocation is not None:
        result.compute_allocation = settings.compute_allocation
    if settings.memory_allocation is not None:
        result.memory_allocation = settings.memory_allocation
    if settings.freezing_threshold is not None:
        result.freezing_threshold = settings.freezing_threshold
    if settings.log_visibility is not None:
        result.log_visibility = settings.log_visibility
    return result
