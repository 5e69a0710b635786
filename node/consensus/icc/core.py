"""Internet Computer Consensus (Camenisch et al., PODC 2022), simplified as DESIGN.md 3.2.

Per height h (a "round"), with t0 the local time the round started:

- the ranking of the committee for h is one per height, whatever the parent (``ranking``);
- the replica of rank r proposes at t0 + interval + 2Δr, on the notarized block of h-1
  that ended its previous round;
- a replica signs a notarization share for a valid block of rank r once that rank's wait
  has passed, if it has not signed one for a block of lower rank; a proposer seen with two
  different blocks at h is disqualified for h (equivocation);
- n - f shares make a notarization; a notarized block ends round h. A replica that signed
  notarization shares for no block at h other than the one that ended it signs a
  finalization share for it;
- n - f finalization shares make a finalization, which finalizes the block and all its
  ancestors. Since f + 1 honest replicas behind a finalization signed nothing else at h,
  no other block at h can ever be notarized, let alone finalized.

Liveness under loss and partitions comes from two mechanisms the paper leaves to its
gossip layer: a replica whose round does not move for ``retransmit_ns`` re-sends what
its peers need to catch up with it, and a replica that hears a peer speak about an old
height sends that peer what it needs to catch up. A replica that learns of a finalized
block it cannot link to its chain asks a peer for the missing finalized blocks
(``CatchUpRequest``); the reply is checked by ``chain.prove_run``.

A replica restored with ``high_water`` (the highest height it may have voted at before
it crashed) signs no finalization share at or below it: the only way an honest replica
could otherwise contradict a vote it has forgotten. It does not propose there in its
rank's slot either, since it may have proposed before. But proposals live only in
memory: when the whole committee restarts after voting for a block none of them kept,
nobody could ever propose at that height again and the subnet would stall for good. So
once the slots of every rank have passed with no block for the height in its pool, a
restored replica proposes anyway (a recovery proposal). At worst that is a second block
of its rank, which peers still holding the first treat as equivocation (the proposer is
passed over at that height); safety rests on the finalization rule, which still holds.

``Icc`` implements ``node.consensus.protocol.Consensus``: it does no I/O and reads no
clock; every entry point takes ``now`` and returns one ``Step`` (Send, Broadcast,
PersistHighWater and Notice actions, blocks newly finalized in height order, drops).

The protocol's safety rests on a few facts about this replica's own state, asserted
where they could break (cheap checks, TigerBeetle style: a failure is a bug here, never
bad input, which is refused and counted instead):

- a finalized block never changes: the chain only grows by a child of the tip, and a
  height once finalized keeps its hash;
- the finalized height and the round height only grow;
- as an honest replica it never signs notarization shares for two different blocks of
  one height and rank, never two finalization shares at one height, and proposes at
  most once per height.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from node.actions import Action, Broadcast, Notice, PersistHighWater, Send
from node.consensus.block import ChainBlock, Finalized, PayloadRules
from node.consensus.icc.artifacts import (
    FINALIZATION_DOMAIN,
    MAX_CATCH_UP_BLOCKS,
    NOTARIZATION_DOMAIN,
    PROPOSAL_DOMAIN,
    Block,
    BlockProposal,
    CatchUpRequest,
    CatchUpResponse,
    Finalization,
    FinalizationShare,
    Notarization,
    NotarizationShare,
    genesis_block,
)
from node.consensus.icc.chain import prove_run
from node.consensus.icc.pool import ConsensusPool
from node.consensus.icc.ranking import rank_delay_ns, rank_of
from node.consensus.icc.validation import from_the_future, size_error, structural_error
from node.consensus.protocol import CertificateLookup, Consensus, Step
from vocab import crypto
from vocab.codec import Message
from vocab.committee import Verifier
from vocab.genesis import Genesis
from vocab.ingress_message import IngressMessage
from vocab.principal import Principal

RETAINED_BLOCKS = 100_000
"""Finalized blocks kept in memory to serve catch-up; older ones need a checkpoint."""


def _no_certificate(height: int) -> None:
    return None


class Icc(Consensus):
    """ICC on one replica: ``payloads`` builds and checks block payloads, ``size_of``
    measures an envelope against the block limits (``node.ingress.envelope_size``),
    ``certificates`` finds the certificate of a height to send along with catch-up."""

    def __init__(
        self,
        genesis: Genesis,
        key: Ed25519PrivateKey,
        payloads: PayloadRules,
        *,
        verify: Verifier = crypto.verify,
        size_of: Callable[[IngressMessage], int],
        certificates: CertificateLookup = _no_certificate,
    ) -> None:
        self.genesis = genesis
        self.committee = genesis.committee
        self.members = self.committee.members
        self.key = key
        self.me = Principal.from_ed25519_public_key(crypto.raw_public_key(key))
        index = self.committee.index_of(self.me)
        if index is None:
            raise ValueError(f"node {self.me} is not in the genesis committee")
        self.index = index
        self.payloads = payloads
        self.verify = verify
        self.size_of = size_of
        self.certificates = certificates
        self.n = self.committee.n
        self.pool = ConsensusPool(self.n, genesis.pool_window)
        self._my_rank: tuple[int, int] | None = None
        """(height, parent hash, our rank there): asked on every step of a round."""

        first = genesis_block(genesis)
        self.finalized_tip: Block = first
        self.tip_proof: Finalization | None = None
        self.finalized_blocks: dict[int, Block] = {0: first}
        self.highest_finalized = 0
        """The finalized height, recorded apart from the tip so that a regressed tip shows."""
        self.proofs: dict[int, Finalization] = {}
        self.lowest_kept = 1
        """The lowest finalized height held (above 1 once pruned or restored from a package)."""

        self.restored_high_water = 0
        self.persisted_high_water = 0
        self.proposed_height = 0
        """The height of our last proposal since this replica (re)started: within one life,
        proposals never repeat a height (before a restart, see the recovery proposal)."""

        self.round_height = 1
        self.round_parent: Block = first
        self.round_start: int | None = None
        self.proposed = False
        self.signed: dict[bytes, tuple[int, Principal]] = {}
        """N: the blocks we signed notarization shares for this round: rank and proposer."""
        self.notarization_votes: dict[tuple[int, int], bytes] = {}
        """(height, rank) -> the block we signed a notarization share for, above the
        finalized height: what the invariant "one block per height and rank" checks."""
        self.disqualified: dict[Principal, None] = {}
        self.own_finalization_shares: dict[int, FinalizationShare] = {}
        self.formed_notarizations: dict[bytes, None] = {}

        self.validity: dict[bytes, str | None] = {}
        self.deferred_until: int | None = None
        self.best_finalization: Finalization | None = None
        self.finalization_sources: dict[bytes, int] = {}
        self.catch_up_retry_at = 0
        self.catch_up_cursor = 0
        self.catch_up_wait_from: int | None = None
        self.retransmit_at: int | None = None
        self.helped_at: dict[int, int] = {}

        self._wakeup: tuple[tuple[object, ...], int, int | None] | None = None
        """The last ``next_wakeup``: the fields it read, the time asked, the answer."""
        self._settled = False
        """True when the last step ran to its end (``_progress``) and every entry point
        since returned without changing what a step reads, or with nothing due."""

        self._step: Step | None = None
        """The output of the entry point running now (None between calls)."""

    # -- restart ---------------------------------------------------------------------------

    def restore(self, finalized: Sequence[Finalized], high_water: int) -> Step:
        """Adopt previously persisted finalized blocks (before ``start``); the step's
        ``finalized`` is the proven prefix, which the owner replays through execution."""
        self._open()
        self.restored_high_water = max(self.restored_high_water, high_water)
        self.persisted_high_water = max(self.persisted_high_water, high_water)
        blocks: list[Block] = []
        proofs: dict[bytes, Finalization] = {}
        problem: str | None = None
        for block, proof in finalized:
            if not isinstance(block, Block) or not isinstance(proof, Finalization):
                problem = f"the pair at position {len(blocks)} is not an ICC block and finalization"
                break
            blocks.append(block)
            proofs.setdefault(proof.block_hash, proof)
        # A pruned store starts above height 1: its first block is the base, proven like
        # the others by the finalization that covers it (``chain.prove_run``).
        pruned = bool(blocks) and blocks[0].height > 1
        proven, proof_problem = prove_run(
            None if pruned else self.finalized_tip, blocks, list(proofs.values()), self.committee, self.verify
        )
        problem = proof_problem or problem
        if problem is not None:
            first = proven[0][0].height - 1 if proven else (blocks[0].height - 1 if pruned else 0)
            self._emit(Notice("restore_truncated", first + len(proven), {"problem": problem}))
        for position, (block, proof) in enumerate(proven):
            if pruned and position == 0:
                self._set_base(block, proof)
            else:
                self._adopt_finalized(block, proof)
            self._output().finalized.append(Finalized(block, proof))
        if proven:
            self.pool.advance(self.finalized_tip.height)
            self.round_height = self.finalized_tip.height + 1
            self.round_parent = self.finalized_tip
        return self._close()

    # -- entry points ------------------------------------------------------------------------

    def start(self, now: int) -> Step:
        self._open()
        if self.round_start is None:
            self._new_round(self.round_height, self.round_parent, now)
        self._progress(now)
        return self._close()

    def on_message(self, peer: int, message: Message, now: int) -> Step:
        self._open()
        if isinstance(message, CatchUpRequest):
            # Served from the finalized chain alone: no round starts, nothing is decided.
            self._passed_over(now)
            if message.from_height < self.lowest_kept <= self.finalized_height:
                self._output().behind.append(peer)  # pruned here: it needs a package
                return self._close()
            response = self._catch_up_response(message)
            if response is not None:
                self._emit(Send(peer, response))
            return self._close()
        fresh_round = self.round_start is None
        if fresh_round:
            self._new_round(self.round_height, self.round_parent, now)
        changed = True
        if isinstance(message, BlockProposal):
            changed = self._on_proposal(peer, message, now)
        elif isinstance(message, (NotarizationShare, FinalizationShare)):
            if isinstance(message, NotarizationShare):
                formed = self._on_notarization_share(peer, message, now)
            else:
                formed = self._on_finalization_share(peer, message, now)
            if not formed and not fresh_round:
                # A share that forms nothing changes nothing a step reads (the shares
                # are only counted): what the time alone allows, a timer at
                # ``next_wakeup`` does. Most shares are such (n-1 of every n), and this
                # step was most of the simulator's time with 13 replicas.
                self._passed_over(now)
                return self._close()
        elif isinstance(message, Notarization):
            changed = self._on_notarization(peer, message, now)
        elif isinstance(message, Finalization):
            changed = self._on_finalization(peer, message, now)
        elif isinstance(message, CatchUpResponse):
            self._on_catch_up_response(peer, message, now)
            self._output().certificates.extend(message.certificates)
        else:
            self._drop("unexpected_message")
            self._passed_over(now)
            return self._close()
        if not changed and not fresh_round and self._settled and not self._due(now):
            # A copy of what we hold (each voter relays the block it votes for, and each
            # replica that forms a notarization sends it), a stale or refused artifact:
            # nothing a step reads changed since the last one settled, and nothing the
            # time allows is due, so a step would do nothing (most proposals and
            # notarizations a replica receives are such).
            return self._close()
        self._progress(now)
        return self._close()

    def on_timer(self, now: int) -> Step:
        self._open()
        if self.round_start is None:
            self._new_round(self.round_height, self.round_parent, now)
        if self.retransmit_at is not None and now >= self.retransmit_at:
            self.retransmit_at = now + self.genesis.retransmit_ns
            self._retransmit()
        self._progress(now)
        return self._close()

    def _wake_key(self) -> tuple[object, ...]:
        """The fields ``next_wakeup`` reads."""
        return (
            self.round_start,
            self.round_height,
            self.proposed,
            self.restored_high_water,
            self.deferred_until,
            self.retransmit_at,
            self.catch_up_wait_from,
            self.catch_up_retry_at,
        )

    def _due(self, now: int) -> bool:
        """Whether something the time allows may be due at ``now``: the last wake-up
        computed (for these fields) is not ahead of it, or none is known, or a catch-up
        is awaited and its retry time has come (a finalization well ahead of the round
        asks again as soon as ``catch_up_retry_at`` passes, sooner than the wake-up)."""
        if self.catch_up_wait_from is not None and now >= self.catch_up_retry_at:
            return True
        last = self._wakeup
        return last is None or last[0] != self._wake_key() or (last[2] is not None and last[2] <= now)

    def _passed_over(self, now: int) -> None:
        """An entry point returns without a step: if one could have been due, the state
        is no longer known to be settled (the next message then takes the step)."""
        if self._due(now):
            self._settled = False

    def next_wakeup(self, now: int) -> int | None:
        """The earliest future time at which a timeout could change what this replica does.

        Asked after every event. Every candidate is the first of its kind after ``now``
        (a slot, a deadline), so while the fields below stay as they were and the last
        answer is still ahead, the answer at a later ``now`` is the same one: it is
        remembered, and computed again only when one of them changed (most events, a
        share that forms nothing among them, change none)."""
        key = self._wake_key()
        last = self._wakeup
        if last is not None and last[0] == key and last[1] <= now and (last[2] is None or last[2] > now):
            return last[2]
        wake = self._next_wakeup(now)
        self._wakeup = (key, now, wake)
        return wake

    def _next_wakeup(self, now: int) -> int | None:
        candidates: list[int] = []
        if self.round_start is not None:
            # The first rank whose slot is still ahead (slots are 2Δ apart after the
            # block interval), found by arithmetic rather than a walk over the ranks.
            late = now - self.round_start - self.genesis.block_interval_ns
            step = 2 * self.genesis.delta_ns
            rank = 0 if late < 0 else (late // step + 1 if step else self.n)
            if rank < self.n:
                at = self.round_start + self._delay(rank)
                assert at > now and (rank == 0 or self.round_start + self._delay(rank - 1) <= now)
                candidates.append(at)
            if self.round_height <= self.restored_high_water and not self.proposed:
                at = self._recovery_at()
                if at > now:
                    candidates.append(at)
        if self.deferred_until is not None and self.deferred_until > now:
            candidates.append(self.deferred_until)
        if self.retransmit_at is not None:
            candidates.append(max(self.retransmit_at, now + 1))
        if self.catch_up_wait_from is not None:
            candidates.append(
                max(self.catch_up_retry_at, self.catch_up_wait_from + 4 * self.genesis.delta_ns, now + 1)
            )
        return min(candidates) if candidates else None

    # -- views -------------------------------------------------------------------------------

    @property
    def finalized_height(self) -> int:
        return self.finalized_tip.height

    @property
    def height(self) -> int:
        """The highest height seen notarized (the round in progress is the next one)."""
        return self.round_height - 1

    def finalized_block(self, height: int) -> ChainBlock | None:
        return self.finalized_blocks.get(height)

    # -- bounded memory and state sync -------------------------------------------------------

    def prune_below(self, height: int) -> None:
        height = min(height, self.finalized_height)
        for old in range(self.lowest_kept, height):
            self.finalized_blocks.pop(old, None)
            self.proofs.pop(old, None)
        self.lowest_kept = max(self.lowest_kept, height)

    def package_proof(self, height: int) -> tuple[list[Block], Finalization] | None:
        proof = self.proofs.get(height)
        if proof is None or height < self.lowest_kept:
            return None
        blocks = [self.finalized_blocks.get(h) for h in range(height, proof.height + 1)]
        if any(block is None for block in blocks):
            return None
        return [block for block in blocks if block is not None], proof

    def package_problem(self, blocks: Sequence[ChainBlock], proof: Message) -> str | None:
        if not isinstance(proof, Finalization) or not all(isinstance(b, Block) for b in blocks):
            return "not ICC blocks and a finalization"
        if not blocks or blocks[0].height <= self.finalized_height:
            return f"it starts at or below this replica's finalized height {self.finalized_height}"
        run = [block for block in blocks if isinstance(block, Block)]
        proven, problem = prove_run(None, run, [proof], self.committee, self.verify)
        if len(proven) != len(run):
            return problem or "its finalization does not cover its blocks"
        if proof.height != run[-1].height:
            return f"its finalization names height {proof.height}, not its last block's {run[-1].height}"
        return None

    def adopt_package(self, blocks: Sequence[ChainBlock], proof: Message, now: int) -> Step:
        self._open()
        problem = self.package_problem(blocks, proof)
        assert problem is None, f"adopting a package that does not prove: {problem}"
        assert isinstance(proof, Finalization)
        run = [block for block in blocks if isinstance(block, Block)]
        self._set_base(run[0], proof)
        self._output().finalized.append(Finalized(run[0], proof))
        for block in run[1:]:
            self._finalize(block, proof)
        self.catch_up_retry_at = 0
        self._after_finalization(now)
        self._progress(now)
        return self._close()

    def _set_base(self, block: Block, proof: Finalization) -> None:
        """Make ``block`` the finalized tip with nothing kept below it: a pruned store's
        first block, or a catch-up package's checkpoint block."""
        assert block.height > self.highest_finalized, (
            f"a base at height {block.height} after finalizing {self.highest_finalized}"
        )
        self.highest_finalized = block.height
        self.finalized_tip = block
        self.finalized_blocks = {0: self.finalized_blocks[0], block.height: block}
        self.proofs = {block.height: proof}
        self.tip_proof = proof if proof.height == block.height else None
        self.lowest_kept = block.height

    # -- output ------------------------------------------------------------------------------

    def _open(self) -> None:
        assert self._step is None, "an entry point was called from inside another"
        self._step = Step()

    def _close(self) -> Step:
        step = self._output()
        self._step = None
        return step

    def _output(self) -> Step:
        assert self._step is not None, "output outside an entry point"
        return self._step

    def _emit(self, action: Action) -> None:
        self._output().actions.append(action)

    def _drop(self, reason: str) -> None:
        self._output().drop(reason)

    # -- helpers -----------------------------------------------------------------------------

    def _delay(self, rank: int) -> int:
        return rank_delay_ns(rank, self.genesis.delta_ns, self.genesis.block_interval_ns)

    def _verified(self, signer: Principal, separator: str, message: bytes, signature: bytes) -> bool:
        key = self.committee.public_key(signer)
        return key is not None and self.verify(key, signature, separator, message)

    def _sign_at(self, height: int) -> None:
        """Record the high-water mark durably before the first vote at a new height."""
        if height > self.persisted_high_water:
            self.persisted_high_water = height
            self._emit(PersistHighWater(height))

    def _block(self, block_hash: bytes) -> Block | None:
        proposal = self.pool.proposals.get(block_hash)
        if proposal is not None:
            return proposal.block
        if block_hash == self.finalized_tip.hash:
            return self.finalized_tip
        return None

    def _chain_below(self, parent_hash: bytes, child_height: int) -> list[Block] | None:
        """Unfinalized ancestors of a block at ``child_height`` on ``parent_hash``, nearest
        first, if all are in the pool and the chain reaches the finalized tip; else None."""
        chain: list[Block] = []
        height = child_height - 1
        while height > self.finalized_height:
            proposal = self.pool.proposals.get(parent_hash)
            if proposal is None:
                return None
            chain.append(proposal.block)
            parent_hash = proposal.block.parent
            height -= 1
        if height != self.finalized_height or parent_hash != self.finalized_tip.hash:
            return None
        return chain

    def _maybe_help(self, peer: int, height: int, now: int) -> None:
        """A peer spoke about a height we are past: send it what it needs to catch up."""
        if peer == self.index or height >= self.round_height:
            return
        last = self.helped_at.get(peer)
        if last is not None and now < last + self.genesis.retransmit_ns:
            return
        self.helped_at[peer] = now
        for message in self._status_bundle():
            self._emit(Send(peer, message))

    def _status_bundle(self) -> list[Message]:
        """The finalization of our tip and the notarized blocks above it."""
        bundle: list[Message] = []
        if self.tip_proof is not None:
            bundle.append(self.tip_proof)
        parent = self.round_parent
        notarized: list[Message] = []
        while parent.height > self.finalized_height:
            proposal = self.pool.proposals.get(parent.hash)
            notarization = self.pool.notarizations.get(parent.hash)
            if proposal is None:
                break
            if notarization is not None:
                notarized[:0] = [proposal, notarization]
            else:
                notarized[:0] = [proposal]
            parent = self._block(parent.parent) or self.finalized_tip
        return bundle + notarized

    def _retransmit(self) -> None:
        messages = self._status_bundle()
        for block_hash in self.signed:
            proposal = self.pool.proposals.get(block_hash)
            signature = self.pool.notarization_shares.get(block_hash, {}).get(self.me)
            if proposal is not None:
                messages.append(proposal)
                if signature is not None:
                    messages.append(NotarizationShare(proposal.block.height, block_hash, self.me, signature))
        for block_hash in self.pool.proposals_by(self.round_height, self.me):
            if block_hash not in self.signed:
                messages.append(self.pool.proposals[block_hash])
        for height in sorted(self.own_finalization_shares):
            messages.append(self.own_finalization_shares[height])
        self._emit(Notice("retransmit", self.round_height, {"messages": len(messages)}))
        for message in messages:
            self._emit(Broadcast(message))

    # -- incoming artifacts ------------------------------------------------------------------

    def _on_proposal(self, peer: int, proposal: BlockProposal, now: int) -> bool:
        """A proposal: True if it entered the pool."""
        block = proposal.block
        if block.height <= self.finalized_height:
            self._maybe_help(peer, block.height, now)
            return False
        if block.hash in self.pool.proposals:
            return False
        if not self.pool.in_window(block.height):
            self._drop("out_of_window")
            return False
        if not self._verified(block.proposer, PROPOSAL_DOMAIN, proposal.signed_bytes, proposal.signature):
            self._drop("bad_proposal_signature")
            return False
        if not self.pool.add_proposal(proposal):
            self._drop("pool_bound")
            return False
        self._maybe_help(peer, block.height, now)
        others = self.pool.proposals_by(block.height, block.proposer)
        if len(others) > 1:
            self._emit(
                Notice(
                    "equivocation",
                    block.height,
                    {"proposer": block.proposer.to_text(), "blocks": [h.hex()[:16] for h in others]},
                )
            )
            if block.height == self.round_height:
                self.disqualified[block.proposer] = None
            # Pass the evidence on, so that every honest replica disqualifies it too.
            self._emit(Broadcast(proposal))
        return True

    def _on_notarization_share(self, peer: int, share: NotarizationShare, now: int) -> bool:
        """Take a share; True if it formed a notarization."""
        if share.height <= self.finalized_height:
            self._maybe_help(peer, share.height, now)
            return False
        if share.signer in self.pool.notarization_shares.get(share.block_hash, {}):
            return False
        if not self.pool.in_window(share.height):
            self._drop("out_of_window")
            return False
        if not self._verified(share.signer, NOTARIZATION_DOMAIN, share.signed_bytes, share.signature):
            self._drop("bad_notarization_share")
            return False
        self.pool.add_notarization_share(share.height, share.block_hash, share.signer, share.signature)
        self._maybe_help(peer, share.height, now)
        return self._aggregate_notarization(share.height, share.block_hash)

    def _on_finalization_share(self, peer: int, share: FinalizationShare, now: int) -> bool:
        """Take a share; True if it formed a finalization."""
        if share.height <= self.finalized_height:
            self._maybe_help(peer, share.height, now)
            return False
        if share.signer in self.pool.finalization_shares.get(share.block_hash, {}):
            return False
        if not self.pool.in_window(share.height):
            self._drop("out_of_window")
            return False
        if not self._verified(share.signer, FINALIZATION_DOMAIN, share.signed_bytes, share.signature):
            self._drop("bad_finalization_share")
            return False
        self.pool.add_finalization_share(share.height, share.block_hash, share.signer, share.signature)
        self._maybe_help(peer, share.height, now)
        return self._aggregate_finalization(share.height, share.block_hash, peer)

    def _on_notarization(self, peer: int, notarization: Notarization, now: int) -> bool:
        """A notarization: True if it entered the pool."""
        if notarization.height <= self.finalized_height:
            self._maybe_help(peer, notarization.height, now)
            return False
        if notarization.block_hash in self.pool.notarizations:
            return False
        if not self.pool.in_window(notarization.height):
            self._drop("out_of_window")
            return False
        problem = self.committee.quorum_error(
            NOTARIZATION_DOMAIN,
            notarization.signed_bytes,
            notarization.signers,
            notarization.signatures,
            self.verify,
            self.pool.notarization_shares.get(notarization.block_hash),
        )
        if problem is not None:
            self._drop("bad_notarization")
            return False
        self.pool.add_notarization(notarization)
        return True

    def _on_finalization(self, peer: int, finalization: Finalization, now: int) -> bool:
        """A finalization: True if it was taken (pool, best seen or source)."""
        if finalization.height <= self.finalized_height:
            ours = self.finalized_blocks.get(finalization.height)
            if (
                ours is not None
                and ours.hash != finalization.block_hash
                and self.committee.quorum_error(
                    FINALIZATION_DOMAIN,
                    finalization.signed_bytes,
                    finalization.signers,
                    finalization.signatures,
                    self.verify,
                )
                is None
            ):
                # Only possible with more than f Byzantine replicas: say it loudly.
                self._emit(
                    Notice(
                        "conflict",
                        finalization.height,
                        {"ours": ours.hash.hex(), "theirs": finalization.block_hash.hex()},
                    )
                )
            self._maybe_help(peer, finalization.height, now)
            return False
        if finalization.block_hash in self.pool.finalizations:
            return False
        best = self.best_finalization
        if (
            not self.pool.in_window(finalization.height)
            and best is not None
            and best.height >= finalization.height
        ):
            return False
        problem = self.committee.quorum_error(
            FINALIZATION_DOMAIN,
            finalization.signed_bytes,
            finalization.signers,
            finalization.signatures,
            self.verify,
            self.pool.finalization_shares.get(finalization.block_hash),
        )
        if problem is not None:
            self._drop("bad_finalization")
            return False
        self.finalization_sources[finalization.block_hash] = peer
        if self.pool.in_window(finalization.height):
            self.pool.add_finalization(finalization)
        if best is None or finalization.height > best.height:
            self.best_finalization = finalization
        return True

    def _aggregate_notarization(self, height: int, block_hash: bytes) -> bool:
        """Form the block's notarization from its shares if they reach the threshold;
        True if this formed it."""
        if block_hash in self.pool.notarizations:
            return False
        shares = self.pool.notarization_shares.get(block_hash, {})
        if len(shares) < self.committee.threshold:
            return False
        signers = tuple(sorted(shares, key=lambda signer: self.committee.index_of(signer) or 0))
        self.pool.add_notarization(
            Notarization(height, block_hash, signers, tuple(shares[s] for s in signers))
        )
        self.formed_notarizations[block_hash] = None
        return True

    def _aggregate_finalization(self, height: int, block_hash: bytes, source: int) -> bool:
        """Form the block's finalization from its shares if they reach the threshold;
        True if this formed it."""
        if block_hash in self.pool.finalizations:
            return False
        shares = self.pool.finalization_shares.get(block_hash, {})
        if len(shares) < self.committee.threshold:
            return False
        signers = tuple(sorted(shares, key=lambda signer: self.committee.index_of(signer) or 0))
        finalization = Finalization(height, block_hash, signers, tuple(shares[s] for s in signers))
        self.pool.add_finalization(finalization)
        self.finalization_sources.setdefault(block_hash, source)
        return True

    # -- the protocol ------------------------------------------------------------------------

    def _progress(self, now: int) -> None:
        for _ in range(10_000):
            if self._try_finalize(now):
                continue
            if self._try_end_round(now):
                continue
            if self._round_step(now):
                continue
            self._settled = True
            return
        raise RuntimeError("consensus made no decision after 10000 steps")  # a bug, not input

    def _new_round(self, height: int, parent: Block, now: int) -> None:
        assert height >= self.round_height, f"round {height} after round {self.round_height}"
        assert parent.height == height - 1, f"round {height} on a parent at {parent.height}"
        self.round_height = height
        self.round_parent = parent
        self.round_start = now
        self.proposed = False
        self.signed = {}
        self.disqualified = {}
        self.deferred_until = None
        self.retransmit_at = now + self.genesis.retransmit_ns
        if self.pool.proposals_by(height, self.me):
            # A block of ours already at this height (relayed back after a restart) counts.
            self.proposed = True
        for proposal in self.pool.blocks_at(height):
            if len(self.pool.proposals_by(height, proposal.block.proposer)) > 1:
                self.disqualified[proposal.block.proposer] = None

    def _catch_up_target(self) -> Finalization | None:
        best = self.best_finalization
        if best is not None and best.height > self.finalized_height:
            return best
        return None

    def _try_finalize(self, now: int) -> bool:
        candidates = self.pool.finalizations_above(self.finalized_height)
        best = self._catch_up_target()
        if best is not None and all(item.block_hash != best.block_hash for item in candidates):
            candidates.insert(0, best)
        for finalization in candidates:
            top = self.pool.proposals.get(finalization.block_hash)
            if top is None:
                continue
            chain = self._chain_below(top.block.parent, top.block.height)
            if chain is None:
                continue
            blocks = list(reversed(chain)) + [top.block]
            for block in blocks:
                self._finalize(block, finalization)
            self._after_finalization(now)
            return True
        if candidates:
            target = candidates[0]
            if self.catch_up_wait_from is None:
                self.catch_up_wait_from = now
            # The block a fresh finalization names is usually just late; ask peers only if
            # we are clearly behind or it has stayed missing for a while.
            if (
                target.height > self.round_height
                or now >= self.catch_up_wait_from + 4 * self.genesis.delta_ns
            ):
                self._request_catch_up(target, now)
        return False

    def _finalize(self, block: Block, proof: Finalization) -> None:
        self._adopt_finalized(block, proof)
        self._output().finalized.append(Finalized(block, proof))
        self._emit(
            Notice(
                "finalized",
                block.height,
                {"block": block.hash.hex()[:16], "proposer": block.proposer.to_text()},
            )
        )

    def _adopt_finalized(self, block: Block, proof: Finalization) -> None:
        # A finalized block never changes, and the finalized height only grows: the chain
        # grows by one child of the tip at a time, at a height never finalized before.
        known = self.finalized_blocks.get(block.height)
        assert known is None or known.hash == block.hash, f"height {block.height} finalized twice"
        assert block.height > self.highest_finalized, (
            f"finalizing height {block.height} after {self.highest_finalized}"
        )
        tip = self.finalized_tip
        assert block.height == tip.height + 1, f"finalizing height {block.height} on {tip.height}"
        assert block.parent == tip.hash, f"block {block.height} does not extend the finalized tip"
        assert proof.height >= block.height, f"block {block.height} proven by a lower finalization"
        self.highest_finalized = block.height
        self.finalized_tip = block
        self.finalized_blocks[block.height] = block
        self.proofs[block.height] = proof
        if block.height == proof.height:
            self.tip_proof = proof
        stale = block.height - RETAINED_BLOCKS
        if stale > 0:
            self.finalized_blocks.pop(stale, None)
            self.proofs.pop(stale, None)
            self.lowest_kept = max(self.lowest_kept, stale + 1)

    def _after_finalization(self, now: int) -> None:
        height = self.finalized_height
        self.catch_up_wait_from = None
        self.pool.advance(height)
        for old in [h for h in self.own_finalization_shares if h <= height]:
            del self.own_finalization_shares[old]
        self.notarization_votes = {
            key: value for key, value in self.notarization_votes.items() if key[0] > height
        }
        self.validity = {key: value for key, value in self.validity.items() if key in self.pool.proposals}
        self.formed_notarizations = {
            key: None for key in self.formed_notarizations if key in self.pool.proposals
        }
        self.finalization_sources = {
            key: value
            for key, value in self.finalization_sources.items()
            if key in self.pool.finalizations
            or (self.best_finalization is not None and key == self.best_finalization.block_hash)
        }
        if self.round_height <= height:
            self._new_round(height + 1, self.finalized_tip, now)

    def _request_catch_up(self, finalization: Finalization, now: int) -> None:
        if now < self.catch_up_retry_at:
            return
        self.catch_up_retry_at = now + self.genesis.retransmit_ns
        signers = [self.committee.index_of(signer) for signer in finalization.signers if signer != self.me]
        first = self.finalization_sources.get(finalization.block_hash)
        if first is not None and first != self.index:
            signers.insert(0, first)
        sources = [source for source in signers if source is not None]
        if not sources:
            return
        peer = sources[self.catch_up_cursor % len(sources)]
        self.catch_up_cursor += 1
        request = CatchUpRequest(self.finalized_height + 1, finalization.height)
        self._emit(Notice("catch_up", self.finalized_height, {"to": finalization.height, "peer": peer}))
        self._emit(Send(peer, request))

    def _on_catch_up_response(self, peer: int, response: CatchUpResponse, now: int) -> None:
        blocks = [block for block in response.blocks if block.height > self.finalized_height]
        if not blocks:
            return
        proven, problem = prove_run(
            self.finalized_tip, blocks, response.finalizations, self.committee, self.verify
        )
        if problem is not None:
            self._drop("bad_catch_up")
        if not proven:
            return
        for block, proof in proven:
            self._finalize(block, proof)
        self.catch_up_retry_at = 0
        self._after_finalization(now)

    def _catch_up_response(self, request: CatchUpRequest) -> CatchUpResponse | None:
        """What we can prove of the requested run of finalized blocks, with the
        certificates we hold for those heights; None if we have none of it."""
        start = request.from_height
        if start > self.finalized_height or start not in self.finalized_blocks:
            return None
        end = min(request.to_height, self.finalized_height, start + MAX_CATCH_UP_BLOCKS - 1)
        if end < start:
            return None
        end = max(end, self.proofs[end].height)
        blocks = tuple(self.finalized_blocks[h] for h in range(start, end + 1))
        proofs: dict[int, Finalization] = {}
        for height in range(start, end + 1):
            proof = self.proofs[height]
            proofs[proof.height] = proof
        certificates = tuple(
            certificate
            for certificate in (self.certificates(block.height) for block in blocks)
            if certificate is not None
        )
        return CatchUpResponse(blocks, tuple(proofs[h] for h in sorted(proofs)), certificates)

    def _notarized_top(self) -> tuple[Block, list[Block]] | None:
        """The highest notarized block at or above the round whose chain we hold."""
        best: tuple[Block, list[Block]] | None = None
        for notarization in self.pool.notarizations.values():
            if notarization.height < self.round_height:
                continue
            proposal = self.pool.proposals.get(notarization.block_hash)
            if proposal is None:
                continue
            block = proposal.block
            if best is not None and (block.height, -block.rank) <= (best[0].height, -best[0].rank):
                continue
            chain = self._chain_below(block.parent, block.height)
            if chain is None:
                continue
            best = (block, chain)
        return best

    def _try_end_round(self, now: int) -> bool:
        found = self._notarized_top()
        if found is None:
            return False
        top, chain = found
        path = [block for block in reversed(chain) if block.height >= self.round_height] + [top]
        for block in path:
            self._end_round(block, now)
        return True

    def _end_round(self, block: Block, now: int) -> None:
        height = block.height
        self._emit(Notice("notarized", height, {"block": block.hash.hex()[:16], "rank": block.rank}))
        if block.hash in self.formed_notarizations and block.hash in self.pool.notarizations:
            self._emit(Broadcast(self.pool.notarizations[block.hash]))
        others = [h for h in self.signed if h != block.hash] if height == self.round_height else []
        if not others and height > self.restored_high_water:
            assert height not in self.own_finalization_shares, f"a second finalization share at {height}"
            self._sign_at(height)
            share = FinalizationShare.create(self.key, self.me, block)
            self.own_finalization_shares[height] = share
            self.pool.add_finalization_share(height, block.hash, self.me, share.signature)
            self._emit(Broadcast(share))
            self._aggregate_finalization(height, block.hash, self.index)
        self._new_round(height + 1, block, now)

    def _recovery_at(self) -> int:
        """When a restored replica may propose at or below its high-water mark: after
        the slot of every rank of the round."""
        assert self.round_start is not None
        return self.round_start + self._delay(self.n)

    def _rank_here(self, height: int) -> int:
        """Our rank at ``height`` (the same whichever notarized parent we build on)."""
        cached = self._my_rank
        if cached is not None and cached[0] == height:
            return cached[1]
        rank = rank_of(self.me, self.members, height)
        self._my_rank = (height, rank)
        return rank

    def _may_propose(self, height: int, now: int) -> bool:
        if height > self.restored_high_water:
            return True
        return now >= self._recovery_at() and not self.pool.blocks_at(height)

    def _round_step(self, now: int) -> bool:
        """Propose or vote if the time has come; True if something was signed."""
        assert self.round_start is not None
        height = self.round_height
        elapsed_ok = lambda rank: now >= self.round_start + self._delay(rank)
        if not self.proposed and self._may_propose(height, now):
            my_rank = self._rank_here(height)
            if elapsed_ok(my_rank):
                self._propose(my_rank, now)
                return True
        candidates = []
        self.deferred_until = None
        for proposal in self.pool.blocks_at(height):
            block = proposal.block
            if block.proposer in self.disqualified:
                continue
            verdict = self._validate(block, now)
            if verdict == "deferred":
                wake = block.timestamp - self.genesis.max_clock_skew_ns
                self.deferred_until = wake if self.deferred_until is None else min(self.deferred_until, wake)
                continue
            if verdict is None:
                candidates.append(block)
        candidates.sort(key=lambda block: block.rank)
        for block in candidates:
            if not elapsed_ok(block.rank):
                break
            # A better block we voted for blocks this one, unless its maker equivocated:
            # then the next rank gets its chance (the paper's disqualified ranks D).
            if any(
                rank < block.rank and proposer not in self.disqualified
                for rank, proposer in self.signed.values()
            ):
                break
            if block.hash in self.signed:
                continue
            same_rank = [h for h, (rank, _) in self.signed.items() if rank == block.rank]
            if same_rank:
                # Two different blocks of one rank: the proposer equivocated.
                self.disqualified[block.proposer] = None
                continue
            self._notarize(block)
            return True
        return False

    def _validate(self, block: Block, now: int) -> str | None:
        """None if valid, "deferred" if it cannot be judged yet, or why it is invalid."""
        if block.hash in self.validity:
            return self.validity[block.hash]
        parent = self._block(block.parent)
        if parent is None:
            return "deferred"
        if parent.hash != self.finalized_tip.hash and parent.hash not in self.pool.notarizations:
            return "deferred"
        chain = self._chain_below(block.parent, block.height)
        if chain is None:
            return "deferred"
        if from_the_future(block, now, self.genesis.max_clock_skew_ns):
            return "deferred"
        problem = structural_error(block, parent, self.members) or size_error(
            block, self.genesis.max_block_messages, self.genesis.max_block_bytes, self.size_of
        )
        if problem is None:
            problem = self.payloads.payload_error(block, chain)
        if problem is not None:
            self._emit(
                Notice("invalid_block", block.height, {"block": block.hash.hex()[:16], "problem": problem})
            )
        self.validity[block.hash] = problem
        return problem

    def _propose(self, rank: int, now: int) -> None:
        parent = self.round_parent
        height = self.round_height
        chain = self._chain_below(parent.hash, height)
        if chain is None:
            # Our parent's ancestry is incomplete; we cannot build a valid payload.
            self.proposed = True
            return
        timestamp = max(now, parent.timestamp + 1)
        payload = tuple(self.payloads.build_payload(chain, timestamp))
        block = Block(parent.hash, height, rank, self.me, timestamp, payload)
        assert height > self.proposed_height, f"a second proposal at {height} (last {self.proposed_height})"
        self.proposed_height = height
        self._sign_at(height)
        proposal = BlockProposal.create(self.key, block)
        self.proposed = True
        self.pool.add_proposal(proposal)
        self.validity[block.hash] = None
        self._emit(
            Notice(
                "proposed", height, {"block": block.hash.hex()[:16], "rank": rank, "messages": len(payload)}
            )
        )
        self._emit(Broadcast(proposal))

    def _notarize(self, block: Block) -> None:
        voted = self.notarization_votes.setdefault((block.height, block.rank), block.hash)
        assert voted == block.hash, (
            f"notarization shares for two blocks of height {block.height}, rank {block.rank}"
        )
        self._sign_at(block.height)
        share = NotarizationShare.create(self.key, self.me, block)
        self.signed[block.hash] = (block.rank, block.proposer)
        self.pool.add_notarization_share(block.height, block.hash, self.me, share.signature)
        if block.proposer != self.me:
            self._emit(Broadcast(self.pool.proposals[block.hash]))
        self._emit(Broadcast(share))
        self._aggregate_notarization(block.height, block.hash)
