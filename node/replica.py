"""One replica as a sans-IO state machine: ``Replica.handle(event) -> list[Action]``.

It combines ingress (``node.ingress``), consensus (``node.consensus.icc``), execution
(``node.execution``: canisters over ``node.ic`` and ``node.wasm``, Sui packages and objects
over ``node.sui``) and certification (``node.certification``), and does no I/O and
reads no clock: an adapter feeds it events and performs the actions it returns, in order.
The same object runs in the simulation (``subnet.sim``), in the process backend
(``node.runtime``: TCP, SQLite, wall clock) and in unit tests.

Events (``node.events``), each with ``now`` in integer nanoseconds:

- ``Started(now)`` first, after construction (boot or restart);
- ``MessageReceived(peer, message, now)``: ``peer`` is the sender's index in
  ``genesis.nodes``, ``message`` a decoded ``vocab.codec.Message`` (the consensus
  protocol's artifacts, ``CertificationShare``, ``IngressGossip``...). Consensus sits
  behind ``node.consensus.protocol.Consensus``: the replica acts on the ``Step`` each
  call returns, and sees finalized blocks only as ``node.consensus.block.ChainBlock``;
- ``TimerExpired(timer, now)`` for a timer it set;
- ``ClientSubmitted(envelope, now)`` for a client's ``SubmitRequest``;
- ``VoteRequested(transaction, now)`` and ``CertificateDelivered(certificate, now)``: the
  Sui fast path (``vocab.sui.certificate``). A vote checks the transaction against the fast
  view, locks its owned inputs (``node.sui.locks``) and signs; a certificate of owned
  objects executes at once on the fast layer (``node.sui.fast_layer``), is put in this
  replica's pool so that consensus sequences it, and its effects are signed. Each is
  answered by one ``Answer`` action, after the ``PersistLocks`` / ``PersistFastCertificate``
  that must be durable first.

Queries are not events: ``Replica.query(envelope, now)`` answers a client's
``QueryRequest`` at once, without consensus, from the replica's latest certified state
(the execution layer throws the query's changes away) and returns a ``QueryResponse``
signed by the node key. It changes nothing a later event could observe. ``query_ready()``
says whether the executed state is certified yet; an adapter waits for it, bounded.
``Replica.sui_read(request, now)`` answers a read of Sui state (``SuiReadRequest``) the
same way.

Actions (``node.actions``), to perform in list order:

- ``Send(peer, message)``, ``Broadcast(message)``: best-effort delivery to peers;
- ``SetTimer(timer, at)``: one pending deadline per timer name, the latest setting wins;
- ``PersistHighWater(height)``, ``PersistBlock(block, proof)``,
  ``PersistCertificate(certificate)``: make durable before performing later actions;
- ``PersistCheckpoint(height, state_hash, state_bytes)``: a checkpoint of the execution
  state after ``height`` (``node.checkpoint``), every ``checkpoint_interval`` heights
  (multiples of it, so every replica checkpoints the same heights, with the same bytes).
  Keep the newest few; losing one loses nothing, since blocks remain the source of truth;
- ``PersistLocks(epoch, digest, locks)``, ``PersistFastCertificate(certificate)``: the
  fast path's own state, durable before the ``Answer`` that follows; a restarted replica
  gets them back (``sui_locks=``, ``fast_certificates=``), keeps the locks of the current
  epoch, and executes again the certificates consensus has not sequenced yet;
- ``Answer(message)``: the answer to a ``VoteRequested`` or ``CertificateDelivered``;
- ``AcceptIngress(request_id)`` / ``RejectIngress(request_id, code, reason, message)``:
  the answer to ``ClientSubmitted``, exactly one of them per submission;
- ``Reply(request_id, certified_reply)``: the certified result of a request this replica
  accepted (``lookup_reply`` answers for any request it executed recently);
- ``Notice(kind, height, detail)``: for logs and traces (``divergence`` and ``conflict``
  are alarms).

Restart: construct with the persisted pairs (``finalized=[(block, proof), ...]``), the
largest persisted high-water mark, the persisted certificates and the persisted
checkpoints (``checkpoints=[node.checkpoint.Checkpoint, ...]``). Consensus proves and
adopts the kept finalized run (from genesis, or from its first block once pruned:
``node.pruning``; ``PruneBelow`` and ``PersistAnchor`` say what to delete and what a
catch-up package replaces, ``node.state_sync``); execution loads the newest usable checkpoint and
replays only the blocks above it (``restored_checkpoint_height``, ``replayed_heights``
and a ``checkpoint_restored`` notice say what happened). A checkpoint is unusable, and
refused with a ``checkpoint_refused`` notice (the next older one is tried, then a full
replay from height 1), when it is corrupt or of an unknown format, lies above the proven
chain, was taken after another block than the finalized one, restores to a different
state hash than it records, or records a state hash that contradicts a persisted
certificate of its height. The replica then refuses any finalization that contradicts
its chain, and fetches what it missed from peers (``CatchUpRequest``/
``CatchUpResponse``) once it hears of a later finalized block.
"""

from __future__ import annotations

import functools
import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from node.actions import (
    AcceptIngress,
    Action,
    Answer,
    Broadcast,
    Notice,
    PersistAnchor,
    PersistBlock,
    PersistCertificate,
    PersistCheckpoint,
    PersistFastCertificate,
    PersistLocks,
    PruneBelow,
    RejectIngress,
    Reply,
    Send,
    SetTimer,
)
from node.certification import Certifier
from node.checkpoint import Checkpoint, CheckpointError, encode_checkpoint, restore_checkpoint
from node.consensus.block import ChainBlock, Finalized
from node.consensus.icc import CatchUpPackage, Icc
from node.consensus.icc.artifacts import Block, Finalization
from node.consensus.protocol import Consensus, Step
from node.events import (
    CertificateDelivered,
    ClientSubmitted,
    Event,
    MessageReceived,
    Started,
    TimerExpired,
    VoteRequested,
)
from node.execution import SubnetStateMachine
from node.ingress import Ingress, IngressGossip, envelope_size, reason_of
from node.pending_query import PendingQuery, PreparedRun
from node.pruning import PruningPolicy, prune_floor
from node.state_machine import Batch, StateMachine
from node.state_sync import RESEND_NS, Assembled, Receiver, Served, StateChunk, build_package
from node.sui.fast_layer import has_shared_inputs
from node.sui.ledger import CertificateOutcome, SuiLedger
from node.sui.locks import LockTable
from vocab import crypto, management
from vocab.certificate import (
    Certificate,
    CertificateError,
    CertificationShare,
    CertifiedReply,
    RequestResult,
    canister_tree,
    data_certificate,
    results_paths,
    results_root,
    verify_certificate,
)
from vocab.codec import Message, decode_frame
from vocab.committee import Verifier
from vocab.envelope import SignedEnvelope
from vocab.errors import CandidError, EnvelopeError, RejectCode, RejectError, SuiError
from vocab.genesis import Genesis
from vocab.hash_tree import EMPTY, HashTree, reconstruct
from vocab.messages import (
    QUERY_RESPONSE_DOMAIN,
    QueryResponse,
    RehearseUpgradeRequest,
    SuiReadRequest,
    SuiSignedEffects,
    SuiVote,
    query_response_digest,
)
from vocab.principal import Principal
from vocab.sui.address import ObjectId
from vocab.sui.certificate import CertifiedTransaction, sign_effects, sign_vote
from vocab.sui.digests import Digest

CONSENSUS_TIMER = "consensus"
REPLY_CACHE = 100_000
"""Certified replies kept for ``lookup_reply`` (oldest forgotten first)."""
CHECKPOINT_INTERVAL = 100
"""Heights between checkpoints. Measured with a Motoko counter: a checkpoint is 507 KB
(the module and the 4 non-zero pages of a 5 MiB heap), 3.9 ms to encode and 3.8 ms to
write to SQLite with a sync, while replaying costs 1.3 ms per block on average (5 ms for
a block with an update call). Every 100 heights that is 0.08 ms per height (0.04% of a
200 ms block), and a restart replays at most 99 blocks (0.1-0.5 s) instead of the whole
chain. Cost grows with the non-zero pages of the state, and so does replay's."""


@functools.lru_cache(maxsize=16)
def _canister_subtree(certified: tuple[tuple[bytes, bytes], ...]) -> tuple[HashTree, bytes]:
    """The ``canister`` subtree of these certified data and its hash, remembered: a
    block that changes no certified data (most do not) leaves the same subtree, and in a
    simulation every replica asks for the same one at each height."""
    tree = canister_tree(certified)
    return tree, reconstruct(tree)


def _decoded(item: object, kind: type[Message]) -> Message:
    if isinstance(item, (bytes, bytearray)):
        item = decode_frame(bytes(item))
    if not isinstance(item, kind):
        raise TypeError(f"expected a {kind.__name__}, got {type(item).__name__}")
    return item


def _decoded_block(item: object) -> ChainBlock:
    block = _decoded(item, ChainBlock)
    assert isinstance(block, ChainBlock)
    return block


class Replica:
    def __init__(
        self,
        genesis: Genesis,
        key: Ed25519PrivateKey,
        *,
        finalized: Sequence[Finalized] = (),
        certificates: Iterable[Certificate] = (),
        high_water: int = 0,
        verify: Verifier = crypto.verify,
        state_machine: StateMachine | None = None,
        checkpoints: Iterable[Checkpoint] = (),
        checkpoint_interval: int = CHECKPOINT_INTERVAL,
        ingress: Ingress | None = None,
        sui_locks: Iterable[tuple[int, bytes, bytes, int]] = (),
        fast_certificates: Sequence[CertifiedTransaction] = (),
        pruning: PruningPolicy | None = None,
    ) -> None:
        if checkpoint_interval < 0:
            raise ValueError(
                f"checkpoint_interval must be positive (or 0: no checkpoints), not {checkpoint_interval}"
            )
        self.genesis = genesis
        self.committee = genesis.committee
        self.key = key
        self.node_id = Principal.from_ed25519_public_key(crypto.raw_public_key(key))
        index = self.committee.index_of(self.node_id)
        if index is None:
            raise ValueError(f"this node key ({self.node_id}) is not in the genesis committee")
        self.index = index
        self.n = self.committee.n
        # Canisters and Sui objects under consensus; a test may hand in its own state machine.
        self.state: StateMachine = state_machine or SubnetStateMachine.from_genesis(genesis)
        # A test or a simulated bug switch may hand in its own ingress rules. Sui
        # transactions count as replays once the state executed them, for good.
        executed = getattr(self.state, "executed", None)
        self.ingress = ingress if ingress is not None else Ingress(genesis, executed, self._sui_epoch)
        self.ingress.verify = verify
        if ingress is not None and executed is not None:
            ingress.executed = executed
            ingress.epoch = self._sui_epoch
        self.locks = LockTable()
        """This replica's owned-object locks (the fast path's votes), not replicated."""
        self.verify = verify
        self.consensus: Consensus = self._new_consensus()
        self.certifier = Certifier(self.committee, key, verify=verify, window=genesis.pool_window)
        self.pruning = pruning or PruningPolicy()
        self.lowest_kept = 1
        """The lowest finalized height this replica keeps (``node.pruning``)."""
        self._written: dict[int, tuple[bytes, bytes]] = {}
        """Checkpoints written and not yet certified: height -> (state hash, bytes)."""
        self._serving: tuple[int, bytes] | None = None
        """The newest certified checkpoint (height, bytes): what a peer behind is sent."""
        self._served: Served | None = None
        self._package_sent_at: dict[int, int] = {}
        self._receiver = Receiver()
        self._now = 0
        self.executed_height = 0
        self.state_hashes: dict[int, bytes] = {}
        self._canisters: tuple[int, HashTree, bytes] = (0, EMPTY, reconstruct(EMPTY))
        """The ``canister`` subtree of the state tree at the last executed height (what
        that height's certificate signs, and what queries' data certificates prove)."""
        self.results: dict[int, list[RequestResult]] = {}
        self.replies: dict[bytes, CertifiedReply] = {}
        self.awaiting: dict[bytes, None] = {}
        self.dropped: Counter[str] = Counter()
        self._timer_at: int | None = None
        self._reported_divergence: dict[int, None] = {}
        self._out: list[Action] = []
        # Only the subnet's state machine has a checkpoint format (node.checkpoint).
        self.checkpoint_interval = checkpoint_interval if isinstance(self.state, SubnetStateMachine) else 0
        self.restored_checkpoint_height = 0
        """The height of the checkpoint execution restarted from (0: replayed from height 1)."""
        self.replayed_heights = 0
        """Finalized blocks executed again at construction (those above the checkpoint)."""
        self._replay_checkpoint_at = 0

        restored = self.consensus.restore(finalized, high_water)
        proven = restored.finalized
        certificates = list(certificates)
        base = self._restore_checkpoint(checkpoints, proven, certificates)
        if proven and proven[0].block.height > 1 and not base:
            # A pruned chain without a usable checkpoint at or above its first block
            # cannot be executed: start empty and sync from the peers (node.state_sync).
            self._out.append(
                Notice(
                    "pruned_chain_unusable",
                    proven[0].block.height,
                    {"reason": "no usable checkpoint in the stored chain; syncing from peers"},
                )
            )
            self.consensus = self._new_consensus()
            restored = self.consensus.restore((), high_water)
            proven = []
        if proven:
            self.lowest_kept = proven[0].block.height
        top = proven[-1].block.height if proven else 0
        if self.checkpoint_interval:
            # Replaying past checkpoint heights, keep only the newest: the older ones would
            # be outdated as soon as they were written.
            due = top - top % self.checkpoint_interval
            self._replay_checkpoint_at = due if due > base else 0
        for block, _ in proven:
            self.ingress.on_finalized(block)  # every block: replay protection needs them all
            if block.height > base:
                self._execute(block, replay=True)
                self.replayed_heights += 1
        if base:
            self._out.append(
                Notice(
                    "checkpoint_restored",
                    base,
                    {"state_hash": self.state_hashes[base].hex(), "replayed": self.replayed_heights},
                )
            )
        for certificate in certificates:
            self.certifier.add_certificate(certificate)
        if base:
            self._on_certificate_added(base)
        self._out.extend(restored.actions)
        self._restore_fast_path(sui_locks, fast_certificates)

    def _new_consensus(self) -> Consensus:
        return Icc(
            self.genesis,
            self.key,
            self.ingress,
            verify=self.verify,
            size_of=envelope_size,
            certificates=lambda height: self.certifier.certificates.get(height),
        )

    @classmethod
    def restore(
        cls,
        genesis: Genesis,
        index: int,
        key: Ed25519PrivateKey,
        blocks: Sequence[ChainBlock | bytes],
        proofs: Sequence[Message | bytes],
        now: int | None = None,
        **options: object,
    ) -> Replica:
        """Rebuild from a store's parallel lists of blocks and proofs (objects or the
        frames ``vocab.codec.encode_message`` made of them). ``now`` is not needed: time
        enters with ``Started``."""
        del now
        pairs = [
            Finalized(_decoded_block(block), _decoded(proof, Message)) for block, proof in zip(blocks, proofs)
        ]
        replica = cls(genesis, key, finalized=pairs, **options)  # type: ignore[arg-type]
        if replica.index != index:
            raise ValueError(f"the key belongs to node {replica.index}, not {index}")
        return replica

    def _restore_checkpoint(
        self,
        checkpoints: Iterable[Checkpoint],
        proven: Sequence[Finalized],
        certificates: Sequence[Certificate],
    ) -> int:
        """Load the newest usable checkpoint into execution; the height it stands for, or
        0 when none is usable (each refusal is a ``checkpoint_refused`` notice).

        The state is trusted only as far as the chain: the checkpoint must name the block
        consensus proved at its height, restore to the state hash it records, and that
        hash must be the certified one if this replica persisted a certificate there.
        """
        certified = {certificate.height: certificate.state_hash for certificate in certificates}
        chain = {block.height: block for block, _ in proven}
        first, last = (proven[0].block.height, proven[-1].block.height) if proven else (1, 0)
        for checkpoint in sorted(checkpoints, key=lambda c: c.height, reverse=True):
            height = checkpoint.height
            try:
                if not isinstance(self.state, SubnetStateMachine):
                    raise CheckpointError(
                        f"this replica's state machine ({type(self.state).__name__}) has no checkpoints"
                    )
                if height not in chain:
                    raise CheckpointError(
                        f"height {height} is not in the finalized chain proven from the blocks ({first}..{last})"
                    )
                quorum = certified.get(height)
                if quorum is not None and quorum != checkpoint.state_hash:
                    raise CheckpointError(
                        f"its state hash {checkpoint.state_hash.hex()[:16]} is not the certified {quorum.hex()[:16]}"
                    )
                header = restore_checkpoint(
                    self.state,
                    checkpoint.state,
                    height=height,
                    state_hash=checkpoint.state_hash,
                    block_hash=chain[height].hash,
                )
            except CheckpointError as exc:
                self._out.append(Notice("checkpoint_refused", height, {"reason": str(exc)}))
                continue
            self.executed_height = height
            self.state_hashes[height] = header.state_hash
            self.certifier.executed(
                height,
                header.state_hash,
                header.results_root,
                time_ns=chain[height].timestamp,
                canister_root=self._certify_canisters(height, unchanged=False),
                sign=False,
            )
            self.restored_checkpoint_height = height
            self._written[height] = (header.state_hash, checkpoint.state)
            return height
        return 0

    # -- views -------------------------------------------------------------------------------

    @property
    def height(self) -> int:
        """The highest height this replica has seen agreed on (notarized, for ICC)."""
        return self.consensus.height

    @property
    def finalized_height(self) -> int:
        return self.consensus.finalized_height

    @property
    def certified_height(self) -> int:
        return self.certifier.certified_height

    @property
    def rejected(self) -> Counter[str]:
        """Refused client requests by reason (``EnvelopeError.reason`` and ingress's own)."""
        return self.ingress.rejections

    def state_hash(self) -> bytes:
        return self.state.state_hash()

    def finalized_block(self, height: int) -> ChainBlock | None:
        return self.consensus.finalized_block(height)

    def lookup_reply(self, request_id: bytes) -> CertifiedReply | None:
        return self.replies.get(request_id)

    # -- the Sui fast path: votes and certificates --------------------------------------------

    def _ledger(self) -> SuiLedger | None:
        sui = getattr(self.state, "sui", None)
        return sui if isinstance(sui, SuiLedger) else None

    def _sui_epoch(self) -> int:
        ledger = self._ledger()
        return ledger.epoch if ledger is not None else 0

    @property
    def sui_epoch(self) -> int:
        """The Sui epoch of the executed state (``subnet status`` shows it)."""
        return self._sui_epoch()

    def _sync_epoch(self) -> None:
        """Locks reset when consensus begins a new epoch."""
        epoch = self._sui_epoch()
        if epoch != self.locks.epoch:
            self.locks.new_epoch(epoch)
            self._out.append(Notice("epoch", self.executed_height, {"epoch": epoch}))

    def _restore_fast_path(
        self, locks: Iterable[tuple[int, bytes, bytes, int]], certificates: Sequence[CertifiedTransaction]
    ) -> None:
        """After a restart: the persisted locks of the current epoch, and the certificates
        executed before the crash that consensus has not sequenced yet, executed again
        (in their order) and put back in the pool."""
        self.locks = LockTable(self._sui_epoch())
        by_epoch: dict[int, list[tuple[ObjectId, int, bytes]]] = {}
        for epoch, digest, object_id, version in locks:
            by_epoch.setdefault(epoch, []).append((ObjectId(object_id), version, digest))
        self.locks.restore(self.locks.epoch, by_epoch.get(self.locks.epoch, ()))
        ledger = self._ledger()
        if ledger is None:
            return
        for certificate in certificates:
            if ledger.has_executed(certificate.request_id):
                continue
            try:
                ledger.execute_certificate(certificate)
            except SuiError:
                continue  # its inputs went another way meanwhile: never final, nothing to keep
            self.ingress.admit(certificate, self._read_point()[1])

    def _on_vote_request(self, event: VoteRequested, now: int) -> None:
        signed = event.transaction
        digest = signed.request_id
        epoch = self._sui_epoch()
        ledger = self._ledger()
        try:
            if ledger is None:
                raise SuiError("UnsupportedFeatureError", "this replica's state machine holds no Sui state")
            refusal = self.ingress.check_submission(signed, now)
            if refusal is not None:
                raise SuiError(refusal.error_code or reason_of(refusal), refusal.message)
            locks = ledger.vote_locks(signed)
            conflict = self.locks.acquire(locks, digest)
            if conflict is not None:
                raise SuiError(
                    "ObjectLockConflict",
                    f"Object ({conflict.object_id}, SequenceNumber({conflict.version})) already locked by a "
                    f"different transaction: TransactionDigest({Digest(conflict.holder)})",
                )
        except SuiError as error:
            self._out.append(Answer(SuiVote(digest, self.index, epoch, b"", error.name, error.message)))
            return
        if locks:
            self._out.append(PersistLocks(epoch, digest, tuple((o.raw, v) for o, v in locks)))
        signature = sign_vote(self.key, epoch, digest)
        self._out.append(Answer(SuiVote(digest, self.index, epoch, signature, "", "")))

    def _on_certificate(self, event: CertificateDelivered, now: int) -> None:
        certificate = event.certificate
        digest = certificate.digest
        ledger = self._ledger()

        def refuse(error: SuiError) -> None:
            self._out.append(
                Answer(
                    SuiSignedEffects(
                        digest, self.index, certificate.epoch, b"", b"", b"", error.name, error.message
                    )
                )
            )

        try:
            if ledger is None:
                raise SuiError("UnsupportedFeatureError", "this replica's state machine holds no Sui state")
            refusal = self.ingress.check_submission(certificate, now)
            if refusal is not None:
                raise SuiError(refusal.error_code or reason_of(refusal), refusal.message)
            if has_shared_inputs(certificate.transaction.transaction()):
                raise SuiError(
                    "CertificateHasSharedInputs",
                    "a certificate with shared inputs is ordered through consensus first: submit it",
                )
            outcome = self._fast_execute(ledger, certificate, now)
        except SuiError as error:
            refuse(error)
            return
        effects_digest = outcome.effects.digest().raw
        signature = sign_effects(self.key, certificate.epoch, digest, effects_digest, outcome.response)
        self._out.append(
            Answer(
                SuiSignedEffects(
                    digest, self.index, certificate.epoch, effects_digest, outcome.response, signature, "", ""
                )
            )
        )

    def _fast_execute(
        self, ledger: SuiLedger, certificate: CertifiedTransaction, now: int
    ) -> CertificateOutcome:
        """Execute an owned-object certificate on the fast layer; the first time, persist it
        (before anything derived from it leaves), put it in the pool so that consensus
        sequences it when this replica makes a block, and pass it to the peers, which
        execute it too (so that every replica's fast view has it, not only those the
        client reached before it had its quorum)."""
        first = ledger.effects(Digest(certificate.digest)) is None
        outcome = ledger.execute_certificate(certificate)
        if first:
            self._out.append(PersistFastCertificate(certificate))
            if (
                not self.ingress.known(certificate.request_id)
                and self.ingress.admit(certificate, now) is None
            ):
                self._out.append(Broadcast(IngressGossip(certificate)))
        return outcome

    # -- the fast path for reads ---------------------------------------------------------------

    def query_ready(self) -> bool:
        """Whether this replica's executed state is certified, so queries may read it.

        Queries read the state after the last executed block, but only once a quorum
        certified that state's hash and it is ours: a replica whose state diverged, or
        whose last block's certification has not arrived yet, does not answer from it.
        Certification follows execution within one exchange of shares, so an adapter
        waits for the next ``certified`` notice rather than keeping an older copy.
        """
        height = self.executed_height
        if height == 0:
            return True
        certificate = self.certifier.certificates.get(height)
        return certificate is not None and certificate.state_hash == self.state_hashes.get(height)

    def query(self, envelope: SignedEnvelope, now: int) -> QueryResponse:
        """Run a query on this replica's latest certified state and sign the answer.

        The state is the one after the last executed block (``executed_height``) once it
        is certified (``query_ready``); until then the answer is a SYS_TRANSIENT reject
        that names the height, which a client retries or sends elsewhere. The query sees
        that block's time, and the response names the height so that a client can tell
        how fresh it is. Anything the query changes is rolled back by the execution
        layer. Bad requests are answered (signed) with IC reject codes, never raised.
        """
        pending = self.prepare_query(envelope, now)
        pending.run()
        return pending.finish()

    def prepare_query(
        self, envelope: SignedEnvelope, now: int, instruction_limit: int | None = None
    ) -> PendingQuery:
        """``query`` in three steps (``node.pending_query``): this prepares, on the
        replica's thread, what the query reads (its read point, data certificate and the
        canister's query instance); the returned ``run`` may go to another thread, and
        ``finish`` comes back here to sign. Nothing between the steps changes what the
        query sees: it holds its own copy of the state at the read point.
        ``instruction_limit``: a budget below the query limit, for a first try."""
        height, time_ns = self._read_point()

        def sign(reply: bytes, reject: RejectError | None) -> QueryResponse:
            return self._signed_response(envelope.request_id, height, time_ns, reply=reply, reject=reject)

        try:
            self._require_ready(height)
            job = self._prepare_query(envelope, now, time_ns, instruction_limit)
        except RejectError as reject:
            return PendingQuery(sign, reject=reject)
        return PendingQuery(sign, job)

    def refuse_query(self, envelope: SignedEnvelope, reject: RejectError) -> QueryResponse:
        """A signed reject of a query that is not run (a full query queue)."""
        height, time_ns = self._read_point()
        return self._signed_response(envelope.request_id, height, time_ns, reject=reject)

    def _read_point(self) -> tuple[int, int]:
        """The height reads see (the last executed) and that block's time."""
        height = self.executed_height
        block = self.finalized_block(height) if height else None
        return height, block.timestamp if block is not None else self.genesis.genesis_time_ns

    def _require_ready(self, height: int) -> None:
        if not self.query_ready():
            raise RejectError(
                RejectCode.SYS_TRANSIENT,
                f"Certified state is not available yet (height {height} on this replica). Please try again.",
                "IC0208",
            )

    def _signed_response(
        self,
        request_id: bytes,
        height: int,
        time_ns: int,
        *,
        reply: bytes = b"",
        reject: RejectError | None = None,
    ) -> QueryResponse:
        """A query's or a read's outcome, signed by this replica's node key."""
        if reject is not None:
            outcome = ("rejected", b"", int(reject.code), reject.message, reject.error_code or "")
        else:
            outcome = ("replied", reply, 0, "", "")
        status, reply_bytes, code, message, error_code = outcome
        digest = query_response_digest(
            request_id, height, time_ns, status, reply_bytes, code, message, error_code
        )
        return QueryResponse(
            request_id,
            self.index,
            height,
            time_ns,
            status,
            reply_bytes,
            code,
            message,
            error_code,
            crypto.sign(self.key, QUERY_RESPONSE_DOMAIN, digest),
        )

    def sui_read(self, request: SuiReadRequest, now: int) -> QueryResponse:
        """Read Sui state (an object, an address's objects, an executed transaction) from
        this replica's latest certified state and sign the answer, as ``query`` does for
        canisters: the same readiness rule, the same signed response, the reply being the
        JSON Sui's RPC gives. Bad parameters are answered (signed) with ``InvalidParams``."""
        del now
        height, time_ns = self._read_point()
        try:
            self._require_ready(height)
            read = getattr(self.state, "sui_read", None)
            if read is None:
                raise RejectError(
                    RejectCode.SYS_FATAL, "this replica's state machine holds no Sui state", "MethodNotFound"
                )
            reply = read(request.method, request.params)
        except RejectError as reject:
            return self._signed_response(request.request_id, height, time_ns, reject=reject)
        return self._signed_response(request.request_id, height, time_ns, reply=reply)

    def rehearse_upgrade(self, request: RehearseUpgradeRequest, now: int) -> QueryResponse:
        """Rehearse a canister upgrade on a copy of this replica's latest certified state
        (``node.ic.rehearsal``) and sign the report, as ``query`` signs an answer: the same
        readiness rule, the envelope's signature and expiry checked, nothing changed. Only
        a signed ``install_code`` to the management canister with request type ``query``
        is rehearsed (a call could be replayed as the real upgrade)."""
        envelope = request.envelope
        height, time_ns = self._read_point()
        try:
            self._require_ready(height)
            content = envelope.content
            if not (
                content.request_type == "query"
                and content.canister_id.is_management
                and content.method_name == management.INSTALL_CODE
            ):
                raise RejectError(
                    RejectCode.SYS_FATAL,
                    "a rehearsal is an install_code to the management canister with request type query",
                    "IC0201",
                )
            try:
                envelope.verify(now)
            except EnvelopeError as exc:
                raise RejectError(
                    RejectCode.SYS_FATAL, f"invalid rehearsal request: {exc}", "IC0201"
                ) from None
            rehearse = getattr(self.state, "rehearse_upgrade", None)
            if rehearse is None:
                raise RejectError(
                    RejectCode.SYS_FATAL, "this replica's state machine does not execute canisters", "IC0504"
                )
            reply = rehearse(content.sender, content.arg, time=time_ns)
        except RejectError as reject:
            return self._signed_response(envelope.request_id, height, time_ns, reject=reject)
        return self._signed_response(envelope.request_id, height, time_ns, reply=reply)

    def _prepare_query(
        self, envelope: SignedEnvelope, now: int, time_ns: int, instruction_limit: int | None
    ) -> PreparedRun:
        content = envelope.content
        if content.request_type != "query":
            raise RejectError(
                RejectCode.SYS_FATAL,
                f"a query must have request_type query, not {content.request_type!r}",
                "IC0201",
            )
        try:
            envelope.verify(now)
        except EnvelopeError as exc:
            raise RejectError(RejectCode.SYS_FATAL, f"invalid query: {exc}", "IC0201") from None
        if content.canister_id.is_management:
            self._check_management_query(content.method_name, content.arg)
        elif not self.genesis.owns_canister(content.canister_id):
            raise RejectError(
                RejectCode.DESTINATION_INVALID,
                f"Canister {content.canister_id} has no query methods on this subnet",
                "IC0301",
            )
        prepare = getattr(self.state, "prepare_query", None)
        if prepare is None:
            raise RejectError(
                RejectCode.SYS_FATAL, "this replica's state machine does not execute canisters", "IC0504"
            )
        certificate = (
            None if content.canister_id.is_management else self._data_certificate(content.canister_id)
        )
        job: PreparedRun = prepare(
            content.canister_id,
            content.method_name,
            content.arg,
            caller=content.sender,
            time=time_ns,
            data_certificate=certificate,
            instruction_limit=instruction_limit,
        )
        return job

    def _data_certificate(self, canister: Principal) -> bytes | None:
        """The data certificate a query of ``canister`` gets: the certificate of the
        executed height (queries run only once it exists) with the state tree pruned to
        the canister's certified data and the time (``vocab.certificate.data_certificate``)."""
        height, canisters, _ = self._canisters
        certificate = self.certifier.certificates.get(height)
        if certificate is None or height != self.executed_height:
            return None
        try:
            return data_certificate(certificate, canisters, canister.raw, self.committee)
        except CertificateError:
            # not the tree that height's certificate signs: the query runs without one,
            # as a query on an uncertified state would, rather than answer wrongly
            return None

    def _check_management_query(self, method: str, arg: bytes) -> None:
        """Of the management canister only ``fetch_canister_logs`` and ``canister_metadata``
        (the stand-in for read_state's metadata path) are queries, and only about a
        canister this subnet owns: the state machine answers them from this replica's state."""
        management.require_query_method(method)
        try:
            target = management.decode_args(method, arg).canister_id
        except CandidError as exc:
            raise RejectError(
                RejectCode.CANISTER_REJECT,
                f"Error decoding candid for the management method {method}: {exc}",
                "IC0408",
            ) from None
        if not self.genesis.owns_canister(target):
            raise RejectError(
                RejectCode.DESTINATION_INVALID, f"Canister {target} is not on this subnet", "IC0301"
            )

    # -- the one entry point --------------------------------------------------------------------

    def handle(self, event: Event) -> list[Action]:
        now = event.now
        self._now = now
        if isinstance(event, Started):
            self._act(self.consensus.start(now))
        elif isinstance(event, MessageReceived):
            self._on_message(event.peer, event.message, now)
        elif isinstance(event, TimerExpired):
            self._act(self.consensus.on_timer(now))
        elif isinstance(event, ClientSubmitted):
            self._on_submit(event, now)
        elif isinstance(event, VoteRequested):
            self._on_vote_request(event, now)
        elif isinstance(event, CertificateDelivered):
            self._on_certificate(event, now)
        else:
            raise TypeError(f"not a replica event: {type(event).__name__}")
        wake = self.consensus.next_wakeup(now)
        if wake is not None and wake != self._timer_at:
            self._timer_at = wake
            self._out.append(SetTimer(CONSENSUS_TIMER, wake))
        out, self._out = self._out, []
        return out

    # -- inputs ------------------------------------------------------------------------------

    def _on_submit(self, event: ClientSubmitted, now: int) -> None:
        envelope = event.envelope
        request_id = envelope.request_id
        error = self.ingress.admit(envelope, now)
        if error is not None:
            self._out.append(RejectIngress(request_id, int(error.code), reason_of(error), error.message))
            return
        self.awaiting[request_id] = None
        self._out.append(AcceptIngress(request_id))
        self._out.append(Broadcast(IngressGossip(envelope)))

    def _on_message(self, peer: int, message: Message, now: int) -> None:
        if not 0 <= peer < self.n or peer == self.index:
            self.dropped["unknown_peer"] += 1
            return
        if isinstance(message, IngressGossip):
            envelope = message.envelope
            if self.ingress.gossip_received(envelope, now) and isinstance(envelope, CertifiedTransaction):
                ledger = self._ledger()
                if ledger is not None and not has_shared_inputs(envelope.transaction.transaction()):
                    try:
                        self._fast_execute(ledger, envelope, now)
                    except SuiError as error:  # its inputs are not here yet: consensus brings it
                        self.dropped[f"fast_{error.name}"] += 1
        elif isinstance(message, CertificationShare):
            if self.certifier.add_share(message):
                self._try_certify(message.height)
        elif isinstance(message, Certificate):
            if self.certifier.add_certificate(message):
                self._on_certificate_added(message.height)
        elif isinstance(message, CatchUpPackage):
            self._on_package(peer, message, now)
        elif isinstance(message, StateChunk):
            self._settle_package(self._receiver.add(message, now), message.height, peer, now)
        else:
            self._act(self.consensus.on_message(peer, message, now))

    # -- consensus outputs: persistence, execution, certification ------------------------------------

    def _act(self, step: Step) -> None:
        """Act on one step of consensus: its actions, then the newly finalized blocks
        (persisted before anything derived from them, then executed in order), then the
        certificates that came with caught-up blocks, for heights now executed."""
        self._out.extend(step.actions)
        for block, proof in step.finalized:
            self._out.append(PersistBlock(block, proof))
        for block, _ in step.finalized:
            self.ingress.on_finalized(block)
            self._execute(block, replay=False)
        for certificate in step.certificates:
            if certificate.height <= self.executed_height and self.certifier.add_certificate(certificate):
                self._on_certificate_added(certificate.height)
        for reason, count in step.dropped.items():
            self.dropped[reason] += count
        for peer in step.behind:
            self._send_package(peer)

    def _execute(self, block: ChainBlock, *, replay: bool) -> None:
        if block.height != self.executed_height + 1:
            raise RuntimeError(
                f"executing height {block.height} after {self.executed_height}"
            )  # a bug, not input
        batch = Batch(
            height=block.height,
            time_ns=block.timestamp,
            messages=block.payload,
            randomness=hashlib.sha256(b"subnet-randomness" + block.hash).digest(),
        )
        results = self.state.execute(batch)
        self._sync_epoch()
        previous = self.state_hashes.get(block.height - 1)
        if not block.payload and previous is not None and getattr(self.state, "EMPTY_BATCH_UNCHANGED", False):
            # Nothing ran, so nothing changed: hashing every canister again for each empty
            # block was the simulator's largest cost.
            state_hash = previous
        else:
            state_hash = self.state.state_hash()
        root = results_root(results)
        self.executed_height = block.height
        self.state_hashes[block.height] = state_hash
        self.state_hashes.pop(block.height - REPLY_CACHE, None)
        canister_root = self._certify_canisters(block.height, unchanged=state_hash == previous)
        if replay:
            self.certifier.executed(
                block.height,
                state_hash,
                root,
                time_ns=block.timestamp,
                canister_root=canister_root,
                sign=False,
            )
            if block.height == self._replay_checkpoint_at:
                self._checkpoint(block, state_hash, root)
            return
        self._out.append(
            Notice("executed", block.height, {"messages": len(results), "state_hash": state_hash.hex()})
        )
        if results:
            self.results[block.height] = results
        for old in [h for h in self.results if h <= block.height - self.genesis.pool_window]:
            del self.results[old]
        share = self.certifier.executed(
            block.height, state_hash, root, time_ns=block.timestamp, canister_root=canister_root
        )
        if share is not None:
            self._out.append(Broadcast(share))
        self._try_certify(block.height)
        if self.checkpoint_interval and block.height % self.checkpoint_interval == 0:
            self._checkpoint(block, state_hash, root)

    def _certify_canisters(self, height: int, *, unchanged: bool) -> bytes:
        """The ``canister`` subtree at ``height`` (kept for data certificates) and its
        hash; an unchanged state keeps the previous height's subtree."""
        if not unchanged or self._canisters[0] != height - 1:
            certified = getattr(self.state, "certified_data", None)
            tree, root = _canister_subtree(tuple(certified() if certified is not None else ()))
            self._canisters = (height, tree, root)
        else:
            self._canisters = (height, self._canisters[1], self._canisters[2])
        return self._canisters[2]

    def _checkpoint(self, block: ChainBlock, state_hash: bytes, root: bytes) -> None:
        """Emit a checkpoint of the state after ``block`` (after the share is broadcast,
        so that writing it never delays certification)."""
        state = self.state
        if not isinstance(state, SubnetStateMachine):
            return
        blob = encode_checkpoint(
            state, height=block.height, block_hash=block.hash, state_hash=state_hash, results_root=root
        )
        self._out.append(PersistCheckpoint(block.height, state_hash, blob))
        if self.pruning.enabled:
            # Kept until a certificate says n - f replicas have the same state there.
            self._written[block.height] = (state_hash, blob)
            for old in sorted(self._written)[:-2]:
                del self._written[old]
            if block.height in self.certifier.certificates:
                self._on_certificate_added(block.height)

    def _try_certify(self, height: int) -> None:
        certificate = self.certifier.try_certify(height)
        if certificate is not None:
            self._out.append(PersistCertificate(certificate))
            self._out.append(Notice("certified", height, {"state_hash": certificate.state_hash.hex()}))
            self._on_certificate_added(height)
            paths = results_paths(self.results.pop(height, []))
            for result, index, path in paths:
                self._remember(result, CertifiedReply(result, certificate, index, len(paths), path))
        diverged = self.certifier.divergent.get(height)
        if diverged is not None and height not in self._reported_divergence:
            self._reported_divergence[height] = None
            self._out.append(
                Notice(
                    "divergence",
                    height,
                    {"ours": self.state_hashes.get(height, b"").hex(), "quorum": diverged[0].hex()},
                )
            )

    def _remember(self, result: RequestResult, reply: CertifiedReply) -> None:
        if len(self.replies) >= REPLY_CACHE:
            self.replies.pop(next(iter(self.replies)))
        self.replies[result.request_id] = reply
        if result.request_id in self.awaiting:
            del self.awaiting[result.request_id]
            self._out.append(Reply(result.request_id, reply))

    # -- bounded disk and state sync (node.pruning, node.state_sync) --------------------------

    def _on_certificate_added(self, height: int) -> None:
        """A certificate of ``height`` is now held: if it certifies a checkpoint this
        replica wrote, that checkpoint is what peers behind are sent, and what lies
        below it (``node.pruning``) is forgotten, in memory and on disk."""
        written = self._written.get(height)
        certificate = self.certifier.certificates.get(height)
        if written is None or certificate is None or certificate.state_hash != written[0]:
            return
        self._serving = (height, written[1])
        self._served = None
        for old in [h for h in self._written if h <= height]:
            del self._written[old]
        self._prune(height)

    def _prune(self, checkpoint_height: int) -> None:
        def timestamp_of(height: int) -> int | None:
            block = self.consensus.finalized_block(height)
            return None if block is None else block.timestamp

        floor = prune_floor(self.pruning, checkpoint_height, self.lowest_kept, timestamp_of)
        if floor <= self.lowest_kept:
            return
        self.lowest_kept = floor
        self.consensus.prune_below(floor)
        for table in (self.state_hashes, self.certifier.certificates):
            for old in [h for h in table if h < floor]:
                del table[old]
        self._out.append(PruneBelow(floor))

    def _send_package(self, peer: int) -> None:
        """A peer asked for heights pruned here: send it the catch-up package of the
        newest certified checkpoint (at most once per ``RESEND_NS`` per peer)."""
        if self._serving is None:
            return
        last = self._package_sent_at.get(peer)
        if last is not None and self._now < last + RESEND_NS:
            return
        height, state = self._serving
        served = self._served
        if served is None or served.package.height != height:
            found = self.consensus.package_proof(height)
            certificate = self.certifier.certificates.get(height)
            if found is None or certificate is None:
                return
            blocks = [block for block in found[0] if isinstance(block, Block)]
            proof = found[1]
            history: list[Block] = []
            for below in range(height - 1, self.lowest_kept - 1, -1):
                block = self.consensus.finalized_block(below)
                if not isinstance(block, Block):
                    break
                history.append(block)
            if len(blocks) != len(found[0]) or not isinstance(proof, Finalization):
                return
            served = self._served = build_package(blocks, proof, certificate, state, history[::-1])
        self._package_sent_at[peer] = self._now
        self._out.append(Notice("package_sent", height, {"peer": peer, "chunks": len(served.chunks)}))
        self._out.append(Send(peer, served.package))
        for chunk in served.chunks:
            self._out.append(Send(peer, chunk))

    def _refuse_package(self, height: int, peer: int, reason: str) -> None:
        self.dropped["bad_catch_up_package"] += 1
        self._out.append(Notice("package_refused", height, {"peer": peer, "reason": reason}))

    def _on_package(self, peer: int, package: CatchUpPackage, now: int) -> None:
        """A catch-up package: taken up (its chunks then awaited) only if it is ahead of
        this replica, its blocks are proven and its certificate is the committee's."""
        if package.height <= self.consensus.finalized_height:
            self.dropped["stale_catch_up_package"] += 1
            return
        if self._receiver.busy(package, now):
            self.dropped["catch_up_package_busy"] += 1
            return
        problem = self._package_problem(package)
        if problem is None:
            problem = self._receiver.start(package, now)
        if problem is not None:
            self._refuse_package(package.height, peer, problem)
            return
        self._settle_package(None, package.height, peer, now)

    def _package_problem(self, package: CatchUpPackage) -> str | None:
        if not isinstance(self.state, SubnetStateMachine):
            return f"this replica's state machine ({type(self.state).__name__}) has no checkpoints"
        problem = self.consensus.package_problem(package.blocks, package.finalization)
        if problem is not None:
            return f"its blocks: {problem}"
        certificate = package.certificate
        if certificate.height != package.height:
            return f"its certificate is of height {certificate.height}, its checkpoint of {package.height}"
        try:
            verify_certificate(certificate, self.committee, self.verify)
        except CertificateError as exc:
            return f"its certificate: {exc}"
        return None

    def _settle_package(self, problem: str | None, height: int, peer: int, now: int) -> None:
        """After a package or a chunk arrived: refuse, wait for more, or adopt."""
        if problem is not None:
            self._refuse_package(height, peer, problem)
            return
        done = self._receiver.complete()
        if isinstance(done, str):
            self._refuse_package(height, peer, done)
        elif isinstance(done, Assembled):
            self._adopt_package(done, peer, now)

    def _adopt_package(self, assembled: Assembled, peer: int, now: int) -> None:
        """Restore the package's checkpoint; if its state hash is the certified one,
        start again from it: the stored chain is replaced by the package's, consensus
        jumps to its blocks, and the blocks above its checkpoint are executed."""
        package = assembled.package
        height, block = package.height, package.blocks[0]
        problem = None if package.height > self.consensus.finalized_height else "this replica moved past it"
        problem = problem or self._package_problem(package)
        if problem is not None:
            self._refuse_package(height, peer, problem)
            return
        assert isinstance(self.state, SubnetStateMachine)
        try:
            header = restore_checkpoint(
                self.state,
                assembled.state,
                height=height,
                state_hash=package.certificate.state_hash,
                block_hash=block.hash,
            )
        except CheckpointError as exc:
            self._refuse_package(height, peer, f"its state: {exc}")
            return
        for below in assembled.history:
            self.ingress.on_finalized(below)
        self.ingress.on_finalized(block)
        self.executed_height = height
        self.state_hashes = {height: header.state_hash}
        self.results = {}
        self._sync_epoch()
        self.certifier.executed(
            height,
            header.state_hash,
            header.results_root,
            time_ns=block.timestamp,
            canister_root=self._certify_canisters(height, unchanged=False),
            sign=False,
        )
        self.certifier.add_certificate(package.certificate)
        self.restored_checkpoint_height = height
        self.lowest_kept = assembled.history[0].height if assembled.history else height
        self._written = {}
        self._serving, self._served = (height, assembled.state), None
        self._out.append(
            PersistAnchor(
                (*assembled.history, block),
                package.finalization,
                package.certificate,
                height,
                header.state_hash,
                assembled.state,
            )
        )
        self._out.append(
            Notice(
                "state_synced",
                height,
                {"peer": peer, "state_hash": header.state_hash.hex(), "history": len(assembled.history)},
            )
        )
        # Consensus keeps the history too (above what it finalized itself), so that this
        # replica's own packages carry it; only the blocks above the checkpoint execute.
        above = self.consensus.finalized_height
        run = [*(b for b in assembled.history if b.height > above), *package.blocks]
        step = self.consensus.adopt_package(run, package.finalization, now)
        step.finalized = [pair for pair in step.finalized if pair.block.height > height]
        self._act(step)
