"""ICC behind the consensus interface: every call answers with one ``Step``, and the
invariants asserted inside the core are live. Each invariant test tampers with one
replica's state the way a bug would (forgetting a guard, regressing a record) and drives
it through its ordinary entry points into the assertion."""

from __future__ import annotations

import pytest

from node.actions import Broadcast, PersistHighWater
from node.consensus.block import Finalized
from node.consensus.icc.artifacts import (
    Block,
    BlockProposal,
    CatchUpRequest,
    CatchUpResponse,
    Finalization,
    FinalizationShare,
    NotarizationShare,
    genesis_block,
)
from node.consensus.icc.core import Icc
from node.consensus.icc.ranking import ranking
from node.consensus.protocol import Consensus, Step
from node.ingress import Ingress, envelope_size
from node.replica import Replica
from tests.test_consensus_core import drive
from vocab.genesis import Genesis, local_genesis


@pytest.fixture(scope="module")
def subnet4() -> tuple[Genesis, list]:
    return local_genesis(4, "invariant-tests")


def make_icc(genesis: Genesis, key) -> Icc:
    return Icc(genesis, key, Ingress(genesis), size_of=envelope_size)


def leader_and_follower(genesis: Genesis) -> tuple[int, int]:
    """The rank-0 maker of height 1 and another replica."""
    leader = genesis.node_ids.index(ranking(genesis.node_ids, 1)[0])
    return leader, (leader + 1) % genesis.committee.n


def late(genesis: Genesis) -> int:
    """A time by which every rank's wait at height 1 has passed."""
    return genesis.genesis_time_ns + 10 * genesis.block_interval_ns


def finalized_chain(genesis: Genesis, keys: list, heights: int) -> Icc:
    """Replica 0's ICC after the subnet of four finalized at least ``heights`` blocks."""
    replicas = [Replica(genesis, key) for key in keys]
    start = genesis.genesis_time_ns
    drive(replicas, start + (heights + 2) * genesis.block_interval_ns, start)
    icc = replicas[0].consensus
    assert isinstance(icc, Icc) and icc.finalized_height >= heights
    return icc


def follower_with_leaders_block(genesis: Genesis, keys: list) -> tuple[Icc, int, Block]:
    """A replica other than the leader of height 1 that received (and notarized) the
    leader's block once every rank's wait had passed; the leader and its block."""
    leader, me = leader_and_follower(genesis)
    icc = make_icc(genesis, keys[me])
    icc.start(genesis.genesis_time_ns)
    block = Block(genesis_block(genesis).hash, 1, 0, genesis.node_ids[leader], genesis.genesis_time_ns + 1)
    step = icc.on_message(leader, BlockProposal.create(keys[leader], block), late(genesis))
    shares = [a.message for a in step.actions if isinstance(a, Broadcast)]
    assert any(isinstance(s, NotarizationShare) and s.block_hash == block.hash for s in shares)
    return icc, leader, block


def finalization_of(block: Block, genesis: Genesis, keys: list) -> Finalization:
    signers = range(genesis.committee.threshold)
    return Finalization(
        block.height,
        block.hash,
        tuple(genesis.node_ids[i] for i in signers),
        tuple(FinalizationShare.create(keys[i], genesis.node_ids[i], block).signature for i in signers),
    )


# -- the interface ---------------------------------------------------------------------------


def test_icc_is_a_consensus_and_answers_every_call_with_a_step(subnet4) -> None:
    genesis, keys = subnet4
    leader, _ = leader_and_follower(genesis)
    icc = make_icc(genesis, keys[leader])
    assert isinstance(icc, Consensus)
    assert icc.restore((), 0) == Step()
    assert icc.start(genesis.genesis_time_ns) == Step()  # the leader waits the block interval
    step = icc.on_timer(late(genesis))
    assert isinstance(step, Step)
    # The leader proposed: the high-water mark first, then the proposal.
    kinds = [type(action) for action in step.actions]
    assert kinds.index(PersistHighWater) < kinds.index(Broadcast)
    # Nothing is kept on the object for the caller to collect: the next call starts empty.
    assert icc.on_timer(late(genesis)).actions == []
    unknown = icc.on_message(1, CatchUpRequest(5, 9), late(genesis))
    assert unknown == Step()  # nothing to serve above our finalized height
    noise = icc.on_message(1, genesis_block(genesis), late(genesis))
    assert noise.dropped == {"unexpected_message": 1}


def test_restore_returns_the_proven_prefix_and_refuses_foreign_pairs(subnet4) -> None:
    genesis, keys = subnet4
    icc = finalized_chain(genesis, keys, 2)
    stored = [Finalized(icc.finalized_blocks[h], icc.proofs[h]) for h in (1, 2)]
    again = make_icc(genesis, keys[0])
    step = again.restore(stored, high_water=7)
    assert step.finalized == stored and step.actions == []
    assert again.finalized_height == 2 and again.restored_high_water == 7
    other = make_icc(genesis, keys[0])
    step = other.restore([Finalized(stored[0].block, stored[0].block), *stored[1:]], 0)
    assert step.finalized == [] and other.finalized_height == 0
    assert [getattr(action, "kind", None) for action in step.actions] == ["restore_truncated"]


# -- invariants ------------------------------------------------------------------------------


def test_a_finalized_block_never_changes(subnet4) -> None:
    genesis, keys = subnet4
    icc = finalized_chain(genesis, keys, 3)
    one = icc.finalized_blocks[1]
    other = Block(one.hash, 2, 3, genesis.node_ids[3], one.timestamp + 7)
    assert other.hash != icc.finalized_blocks[2].hash
    # A bug regresses the tip; a (more than f Byzantine) quorum then proves another block.
    icc.finalized_tip = one
    response = CatchUpResponse((other,), (finalization_of(other, genesis, keys),))
    with pytest.raises(AssertionError, match="height 2 finalized twice"):
        icc.on_message(1, response, late(genesis) + 10 * genesis.block_interval_ns)


def test_the_finalized_height_only_grows(subnet4) -> None:
    genesis, keys = subnet4
    icc = finalized_chain(genesis, keys, 3)
    top = icc.finalized_height
    response = icc.on_message(1, CatchUpRequest(2, top), late(genesis)).actions[0].message
    assert isinstance(response, CatchUpResponse)
    # A bug regresses the tip; the same, genuine blocks would be finalized a second time.
    icc.finalized_tip = icc.finalized_blocks[1]
    with pytest.raises(AssertionError, match=f"finalizing height 2 after {top}"):
        icc.on_message(1, response, late(genesis) + 10 * genesis.block_interval_ns)


def test_the_round_height_only_grows(subnet4) -> None:
    genesis, keys = subnet4
    icc = finalized_chain(genesis, keys, 2)
    current = icc.round_height
    # The rounds are started by the core alone; a bug there would start an older one.
    with pytest.raises(AssertionError, match=f"round 2 after round {current}"):
        icc._new_round(2, icc.finalized_blocks[1], late(genesis))


def test_an_honest_replica_never_notarizes_two_blocks_of_one_height_and_rank(subnet4) -> None:
    genesis, keys = subnet4
    icc, leader, block = follower_with_leaders_block(genesis, keys)
    now = late(genesis)
    twin = Block(block.parent, 1, 0, block.proposer, block.timestamp + 1)
    step = icc.on_message(leader, BlockProposal.create(keys[leader], twin), now)
    assert "equivocation" in [getattr(a, "kind", None) for a in step.actions]
    assert twin.hash not in icc.signed  # the guard: one block per rank, and D
    # A bug forgets both guards and the first block: the twin would be signed too.
    icc.signed = {}
    icc.disqualified = {}
    del icc.pool.proposals[block.hash]
    with pytest.raises(AssertionError, match="two blocks of height 1, rank 0"):
        icc.on_timer(now + 1)


def test_an_honest_replica_signs_one_finalization_share_per_height(subnet4) -> None:
    genesis, keys = subnet4
    icc, _, block = follower_with_leaders_block(genesis, keys)
    now = late(genesis)
    others = [i for i in range(4) if i != icc.index][: genesis.committee.threshold - 1]
    step = Step()
    for i in others:
        step = icc.on_message(i, NotarizationShare.create(keys[i], genesis.node_ids[i], block), now)
    assert any(isinstance(a, Broadcast) and isinstance(a.message, FinalizationShare) for a in step.actions)
    assert icc.round_height == 2 and icc.finalized_height == 0
    # A bug moves the round back: height 1 would end, and be voted final, a second time.
    icc.round_height = 1
    icc.signed = {}
    with pytest.raises(AssertionError, match="a second finalization share at 1"):
        icc.on_timer(now + 1)


def test_an_honest_replica_proposes_once_per_height(subnet4) -> None:
    genesis, keys = subnet4
    leader, _ = leader_and_follower(genesis)
    icc = make_icc(genesis, keys[leader])
    icc.start(genesis.genesis_time_ns)
    step = icc.on_timer(late(genesis))
    assert any(isinstance(a, Broadcast) and isinstance(a.message, BlockProposal) for a in step.actions)
    # A bug forgets that this round's block was made.
    icc.proposed = False
    with pytest.raises(AssertionError, match="a second proposal at 1"):
        icc.on_timer(late(genesis) + 1)


def test_a_restored_replica_proposes_below_its_high_water_mark_only_to_recover(subnet4) -> None:
    genesis, keys = subnet4
    leader, _ = leader_and_follower(genesis)
    icc = make_icc(genesis, keys[leader])
    icc.restore((), high_water=1)
    icc.start(genesis.genesis_time_ns)

    def proposals(step: Step) -> list[BlockProposal]:
        return [
            a.message
            for a in step.actions
            if isinstance(a, Broadcast) and isinstance(a.message, BlockProposal)
        ]

    # In its own slot (and every other rank's) it may have proposed before the crash: no.
    last_slot = icc.round_start + icc._delay(genesis.committee.n - 1)
    assert proposals(icc.on_timer(last_slot)) == []
    recovery = icc.next_wakeup(last_slot)
    assert recovery is not None and recovery == icc.round_start + icc._delay(genesis.committee.n)
    # Every slot passed and no block for height 1 anywhere: the whole committee may have
    # forgotten it, so it proposes (else the subnet would stall for good).
    [made] = proposals(icc.on_timer(recovery))
    assert made.block.height == 1
    # Its own block is in its pool now, so the guard holds it back; a bug bypassing the
    # guard runs into the invariant: within one life, a proposal never repeats a height.
    assert proposals(icc.on_timer(recovery + 1)) == []
    icc.proposed = False
    icc.restored_high_water = 0
    with pytest.raises(AssertionError, match="a second proposal at 1"):
        icc.on_timer(recovery + 1)


def test_a_restored_replica_with_a_block_in_its_pool_does_not_propose_again(subnet4) -> None:
    genesis, keys = subnet4
    leader, follower = leader_and_follower(genesis)
    first = make_icc(genesis, keys[leader])
    first.start(genesis.genesis_time_ns)
    [proposal] = [
        a.message
        for a in first.on_timer(late(genesis)).actions
        if isinstance(a, Broadcast) and isinstance(a.message, BlockProposal)
    ]
    restored = make_icc(genesis, keys[follower])
    restored.restore((), high_water=1)
    restored.start(genesis.genesis_time_ns)
    restored.on_message(leader, proposal, late(genesis))
    far = restored.round_start + restored._delay(genesis.committee.n) + 1
    step = restored.on_timer(far)
    assert not any(isinstance(a, Broadcast) and isinstance(a.message, BlockProposal) for a in step.actions)
