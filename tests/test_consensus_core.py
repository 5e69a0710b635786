"""The consensus core without a network: artifacts, ranking, block validity, pools, and
one height decided by four replicas driven by hand."""

from __future__ import annotations

import dataclasses

import pytest

from node.actions import Broadcast, Notice, PersistBlock, PersistHighWater, Send, SetTimer
from node.consensus.icc.artifacts import (
    FINALIZATION_DOMAIN,
    NOTARIZATION_DOMAIN,
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
from node.consensus.icc.core import Icc
from node.consensus.icc.pool import ConsensusPool
from node.consensus.icc.ranking import rank_delay_ns, rank_of, ranking
from node.events import MessageReceived, Started, TimerExpired
from node.replica import Replica
from tests.test_ingress import signed_request
from vocab import crypto
from vocab.codec import decode_frame, encode_message
from vocab.committee import Committee
from vocab.errors import CodecError
from vocab.genesis import Genesis, GenesisError, local_genesis


@pytest.fixture(scope="module")
def subnet4() -> tuple[Genesis, list]:
    return local_genesis(4, "core-tests")


def icc_of(replica: Replica) -> Icc:
    """The replica's consensus, which these tests know to be ICC."""
    assert isinstance(replica.consensus, Icc)
    return replica.consensus


def drive(replicas: list[Replica], until: int, start: int) -> list[tuple[int, object]]:
    """A tiny deterministic network: every message arrives 1 ms after it is sent."""
    queue: list[tuple[int, int, int, object]] = []
    sequence = 0
    timers: dict[int, int] = {}
    seen: list[tuple[int, object]] = []

    def push(at: int, node: int, event: object) -> None:
        nonlocal sequence
        sequence += 1
        queue.append((at, sequence, node, event))
        queue.sort(key=lambda item: (item[0], item[1]))

    for node in range(len(replicas)):
        push(start, node, Started(start))
    while queue and queue[0][0] <= until:
        at, _, node, event = queue.pop(0)
        if isinstance(event, TimerExpired) and timers.get(node) != at:
            continue
        for action in replicas[node].handle(event):
            seen.append((node, action))
            if isinstance(action, Broadcast):
                for peer in range(len(replicas)):
                    if peer != node:
                        push(at + 1_000_000, peer, MessageReceived(node, action.message, at + 1_000_000))
            elif isinstance(action, Send):
                push(at + 1_000_000, action.peer, MessageReceived(node, action.message, at + 1_000_000))
            elif isinstance(action, SetTimer):
                timers[node] = action.at
                push(action.at, node, TimerExpired(action.timer, action.at))
    return seen


# -- artifacts -------------------------------------------------------------------------------


def test_artifacts_round_trip_through_the_codec(subnet4) -> None:
    genesis, keys = subnet4
    me = genesis.node_ids[0]
    block = Block(genesis_block(genesis).hash, 1, 0, me, genesis.genesis_time_ns + 1)
    proposal = BlockProposal.create(keys[0], block)
    share = NotarizationShare.create(keys[0], me, block)
    final = FinalizationShare.create(keys[0], me, block)
    aggregate = Notarization(1, block.hash, (me,), (share.signature,))
    for message in (
        block,
        proposal,
        share,
        final,
        aggregate,
        CatchUpRequest(1, 5),
        CatchUpResponse((block,), ()),
    ):
        decoded = decode_frame(encode_message(message))
        assert decoded == message
    assert decode_frame(encode_message(proposal)).block.hash == block.hash


def test_votes_are_domain_separated(subnet4) -> None:
    genesis, keys = subnet4
    me = genesis.node_ids[0]
    block = Block(genesis_block(genesis).hash, 1, 0, me, genesis.genesis_time_ns + 1)
    share = NotarizationShare.create(keys[0], me, block)
    public = crypto.raw_public_key(keys[0])
    assert crypto.verify(public, share.signature, NOTARIZATION_DOMAIN, share.signed_bytes)
    # The same bytes under another purpose do not verify: a notarization share is not a
    # finalization share.
    assert not crypto.verify(public, share.signature, FINALIZATION_DOMAIN, share.signed_bytes)


def test_malformed_artifacts_are_codec_errors(subnet4) -> None:
    genesis, keys = subnet4
    block = Block(genesis_block(genesis).hash, 1, 0, genesis.node_ids[0], 5)
    frame = bytearray(encode_message(NotarizationShare(1, block.hash, genesis.node_ids[0], b"x" * 64)))
    import msgpack

    body = msgpack.unpackb(bytes(frame[4:]), raw=False)
    body[2]["block_hash"] = b"short"
    packed = msgpack.packb(body, use_bin_type=True)
    with pytest.raises(CodecError):
        decode_frame(len(packed).to_bytes(4, "big") + packed)
    body[2]["block_hash"] = block.hash
    body[2]["height"] = -1
    packed = msgpack.packb(body, use_bin_type=True)
    with pytest.raises(CodecError):
        decode_frame(len(packed).to_bytes(4, "big") + packed)


# -- genesis ---------------------------------------------------------------------------------


def test_genesis_round_trips_through_json_and_rejects_bad_fields(subnet4) -> None:
    genesis, _ = subnet4
    again = Genesis.from_json(genesis.to_json())
    assert again == genesis
    assert again.config_hash == genesis.config_hash
    assert Committee.from_json(genesis.to_dict()["nodes"]) == genesis.committee
    data = genesis.to_dict()
    data["nodes"][0]["address"] = "no-port"
    with pytest.raises(GenesisError, match="host:port"):
        Genesis.from_dict(data)
    data = genesis.to_dict()
    data["nodes"][1]["public_key"] = data["nodes"][0]["public_key"]
    with pytest.raises(GenesisError, match="node_id"):
        Genesis.from_dict(data)
    data = genesis.to_dict()
    data["delta_ns"] = -5
    with pytest.raises(GenesisError, match="delta_ns"):
        Genesis.from_dict(data)
    with pytest.raises(GenesisError, match="unknown"):
        Genesis.from_dict({**genesis.to_dict(), "surprise": 1})


# -- ranking ---------------------------------------------------------------------------------


def test_ranking_is_a_deterministic_permutation_per_height(subnet4) -> None:
    genesis, _ = subnet4
    members = genesis.node_ids
    first = ranking(members, 7)
    assert sorted(first) == sorted(members)
    assert ranking(list(reversed(members)), 7) == first
    leaders = {ranking(members, height)[0] for height in range(1, 33)}
    assert len(leaders) > 1  # the lead rotates with the height
    assert rank_of(first[2], members, 7) == 2
    assert rank_delay_ns(0, 50, 200) == 200
    assert rank_delay_ns(3, 50, 200) == 200 + 2 * 50 * 3


# -- one height, by hand --------------------------------------------------------------------------


def test_four_replicas_decide_one_height(subnet4) -> None:
    genesis, keys = subnet4
    replicas = [Replica(genesis, key) for key in keys]
    start = genesis.genesis_time_ns
    seen = drive(replicas, start + genesis.block_interval_ns + 10_000_000, start)

    proposals = [
        (node, a.message)
        for node, a in seen
        if isinstance(a, Broadcast)
        and isinstance(a.message, BlockProposal)
        and a.message.block.proposer == genesis.node_ids[node]
    ]
    assert len(proposals) == 1, "only the leader proposes while its block arrives in time"
    leader, proposal = proposals[0]
    assert proposal.block.rank == 0
    assert rank_of(genesis.node_ids[leader], genesis.node_ids, 1) == 0

    for node, replica in enumerate(replicas):
        assert replica.finalized_height >= 1
        assert replica.finalized_block(1) == proposal.block
        persisted = [a for n, a in seen if n == node and isinstance(a, PersistBlock)]
        assert persisted[0].block == proposal.block
        assert persisted[0].proof.block_hash == proposal.block.hash
        assert len(persisted[0].proof.signers) >= genesis.committee.threshold
        # The high-water mark is persisted before the first vote is sent.
        kinds = [type(a) for n, a in seen if n == node]
        assert kinds.index(PersistHighWater) < min(
            i
            for i, (n, a) in enumerate([(n, a) for n, a in seen if n == node])
            if isinstance(a, Broadcast) and isinstance(a.message, (NotarizationShare, BlockProposal))
        )
    assert len({replica.state_hash() for replica in replicas}) == 1
    notices = [a.kind for _, a in seen if isinstance(a, Notice)]
    assert {"proposed", "notarized", "finalized", "executed", "certified"} <= set(notices)


def test_a_replica_rejects_blocks_that_break_the_rules(subnet4) -> None:
    genesis, keys = subnet4
    parent = genesis_block(genesis)
    members = genesis.node_ids
    order = ranking(members, 1)
    maker = members.index(order[1]) if members.index(order[1]) != 0 else members.index(order[2])
    rank = order.index(members[maker])
    now = genesis.genesis_time_ns + 10 * genesis.block_interval_ns
    good_time = genesis.genesis_time_ns + 1
    cases = {
        "rank": Block(parent.hash, 1, (rank + 1) % 4, members[maker], good_time),
        "timestamp": Block(parent.hash, 1, rank, members[maker], genesis.genesis_time_ns),
        "parent": Block(b"\x07" * 32, 1, rank, members[maker], good_time),
        "height": Block(parent.hash, 2, rank, members[maker], good_time),
    }
    small = Genesis.from_dict({**genesis.to_dict(), "max_block_messages": 0})
    small_order = ranking(members, 1)
    small_maker = next(members.index(m) for m in small_order if members.index(m) != 0)
    cases["too many messages"] = Block(
        genesis_block(small).hash,
        1,
        small_order.index(members[small_maker]),
        members[small_maker],
        good_time,
        (signed_request(now),),
    )
    for name, block in cases.items():
        config = small if name == "too many messages" else genesis
        sender = small_maker if name == "too many messages" else maker
        replica = Replica(config, keys[0])
        replica.handle(Started(genesis.genesis_time_ns))
        replica.handle(MessageReceived(sender, BlockProposal.create(keys[sender], block), now))
        replica.handle(TimerExpired("consensus", now))
        assert block.hash not in icc_of(replica).signed, name
        if name in ("rank", "timestamp", "too many messages"):
            assert icc_of(replica).validity.get(block.hash), name

    # A block signed by someone else than its proposer never enters the pool.
    replica = Replica(genesis, keys[0])
    replica.handle(Started(genesis.genesis_time_ns))
    forged = Block(parent.hash, 1, rank, members[maker], good_time + 5)
    replica.handle(
        MessageReceived(
            maker, BlockProposal(forged, crypto.sign(keys[1], "subnet-block-proposal", b"x")), now
        )
    )
    assert forged.hash not in icc_of(replica).pool.proposals
    assert replica.dropped["bad_proposal_signature"] == 1


def test_pool_keeps_only_a_bounded_window(subnet4) -> None:
    genesis, keys = subnet4
    pool = ConsensusPool(4, window=3)
    me = genesis.node_ids[0]
    blocks = [Block(bytes([i]) * 32, h, 0, me, h) for i, h in enumerate([1, 1, 1, 2, 9])]
    added = [pool.add_proposal(BlockProposal.create(keys[0], block)) for block in blocks]
    assert added == [True, True, False, True, False]  # two per proposer per height; window 3
    for i in range(10):
        pool.add_notarization_share(2, bytes([i]) * 32, me, b"s" * 64)
    assert sum(1 for shares in pool.notarization_shares.values() if me in shares) == pool.votes_per_signer
    pool.advance(1)
    assert all(p.block.height > 1 for p in pool.proposals.values())
    assert pool.in_window(4) and not pool.in_window(5)


def test_proving_a_run_of_finalized_blocks_rejects_forgeries(subnet4) -> None:
    genesis, keys = subnet4
    committee = genesis.committee
    members = genesis.node_ids
    tip = genesis_block(genesis)
    chain = []
    for height in (1, 2, 3):
        parent = chain[-1] if chain else tip
        chain.append(Block(parent.hash, height, 0, members[0], parent.timestamp + 1))

    def finalization(block: Block, signers: range) -> Finalization:
        return Finalization(
            block.height,
            block.hash,
            tuple(members[i] for i in signers),
            tuple(FinalizationShare.create(keys[i], members[i], block).signature for i in signers),
        )

    good = finalization(chain[2], range(3))
    proven, problem = prove_run(tip, chain, [good], committee)
    assert [b.height for b, _ in proven] == [1, 2, 3] and problem is None
    assert all(proof == good for _, proof in proven)

    too_few = finalization(chain[2], range(2))
    proven, problem = prove_run(tip, chain, [too_few], committee)
    assert proven == [] and "quorum" in problem

    forged = dataclasses.replace(good, signatures=(good.signatures[0],) * 3)
    proven, problem = prove_run(tip, chain, [forged], committee)
    assert proven == [] and "bad signature" in problem

    # A block that does not extend the chain stops the run there.
    other = Block(b"\x09" * 32, 2, 0, members[0], 99)
    proven, problem = prove_run(tip, [chain[0], other], [finalization(chain[0], range(3))], committee)
    assert [b.height for b, _ in proven] == [1] and "does not extend" in problem


def test_restart_replays_persisted_blocks_and_refuses_a_tampered_store(subnet4) -> None:
    genesis, keys = subnet4
    replicas = [Replica(genesis, key) for key in keys]
    start = genesis.genesis_time_ns
    seen = drive(replicas, start + 5 * genesis.block_interval_ns, start)
    stored = [(a.block, a.proof) for n, a in seen if n == 0 and isinstance(a, PersistBlock)]
    assert len(stored) >= 3
    again = Replica.restore(
        genesis, 0, keys[0], [b for b, _ in stored], [encode_message(p) for _, p in stored]
    )
    assert again.finalized_height == len(stored)
    assert again.state_hash() == replicas[0].state_hashes[len(stored)]
    tampered = list(stored)
    block, proof = tampered[1]
    tampered[1] = (dataclasses.replace(block, timestamp=block.timestamp + 1), proof)
    partial = Replica(genesis, keys[0], finalized=tampered)
    assert partial.finalized_height < 2
