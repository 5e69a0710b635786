"""Agreement, liveness and recovery of simulated subnets under crashes, partitions and
Byzantine replicas. Everything runs in virtual time; nothing sleeps on the wall clock."""

from __future__ import annotations

import dataclasses
import inspect
import random
from collections.abc import Sequence
from dataclasses import dataclass

import pytest

from node.actions import Action, PersistBlock
from node.consensus.icc.artifacts import CatchUpRequest
from node.consensus.icc.ranking import rank_of
from subnet.sim import behaviour
from subnet.sim.behaviour import Behaviour, SimView
from subnet.sim.faults import Crash, Heal, Partition, Restart
from subnet.sim.runner import SECOND, SimConfig, Simulation, check_agreement
from vocab.codec import Message


def run(config: SimConfig) -> Simulation:
    sim = Simulation(config)
    sim.run()
    return sim


def honest_agree(sim: Simulation, honest: Sequence[int]) -> None:
    chains = [sim.chain(node) for node in honest]
    assert check_agreement(chains)
    assert sim.disagreements == [], "checked at every finalization"
    for chain in chains:
        assert [block.height for block in chain] == list(range(1, len(chain) + 1))
    # Convergence: equal state hashes at every height two replicas both executed.
    for height in range(1, max(len(chain) for chain in chains) + 1):
        hashes = {
            sim.replicas[node].state_hashes[height]
            for node in honest
            if sim.replicas[node] is not None and height in sim.replicas[node].state_hashes
        }
        assert len(hashes) <= 1, f"state divergence at height {height}"
    assert not [notice for _, _, notice in sim.notices if notice.kind in ("divergence", "conflict")]


def heights_over_time(sim: Simulation, offsets_s: Sequence[float]) -> dict[float, int]:
    seen: dict[float, int] = {}
    for offset in offsets_s:
        sim.call_at(
            int(offset * SECOND),
            lambda s, o=offset: seen.__setitem__(o, max(len(d.finalized) for d in s.disks)),
        )
    return seen


@pytest.mark.parametrize("n", [4, 7])
def test_every_honest_replica_finalizes_the_same_chain(n: int) -> None:
    sim = run(SimConfig(replicas=n, seed=10 + n, duration_ns=10 * SECOND))
    honest_agree(sim, range(n))
    heights = [len(sim.chain(node)) for node in range(n)]
    assert min(heights) >= 25, heights
    # Requests were executed and their certified replies reached the clients.
    assert sum(len(block.payload) for block in sim.chain(0)) > 5
    assert sim.replies
    assert all(replica.certified_height >= min(heights) - 2 for replica in sim.replicas)


@pytest.mark.parametrize(("n", "behaviour"), [(4, "crash"), (7, "crash"), (4, "silent"), (7, "silent")])
def test_progress_continues_with_f_faulty_replicas(n: int, behaviour: str) -> None:
    f = (n - 1) // 3
    faulty = list(range(n - f, n))
    faults = [Crash(1 * SECOND, node) for node in faulty] if behaviour == "crash" else []
    behaviours = {node: "silent" for node in faulty} if behaviour == "silent" else {}
    sim = Simulation(
        SimConfig(replicas=n, seed=20 + n, duration_ns=12 * SECOND, faults=faults, behaviours=behaviours)
    )
    seen = heights_over_time(sim, [4, 12])
    sim.run()
    honest = [node for node in range(n) if node not in faulty]
    honest_agree(sim, honest)
    assert seen[12] - seen[4] >= 15, seen


def test_a_crashed_leader_is_replaced_by_the_next_rank() -> None:
    n, crashed = 4, 1
    sim = run(SimConfig(replicas=n, seed=31, duration_ns=12 * SECOND, faults=[Crash(0, crashed)]))
    honest_agree(sim, [0, 2, 3])
    chain = sim.chain(0)
    members = sim.genesis.node_ids
    replaced = 0
    for block in chain:
        if rank_of(members[crashed], members, block.height) == 0:
            assert block.proposer != members[crashed]
            assert block.rank >= 1
            replaced += 1
    assert replaced >= 2, "the crashed replica should have led some heights"
    assert len(chain) >= 20


def test_with_f_plus_one_crashed_progress_stops_and_resumes_after_restart() -> None:
    sim = Simulation(
        SimConfig(
            replicas=4,
            seed=41,
            duration_ns=20 * SECOND,
            faults=[
                Crash(3 * SECOND, 2),
                Crash(3 * SECOND, 3),
                Restart(9 * SECOND, 2),
                Restart(9 * SECOND, 3),
            ],
        )
    )
    seen = heights_over_time(sim, [3, 5, 8.9, 20])
    sim.run()
    assert seen[8.9] - seen[5] <= 1, f"no progress without a quorum: {seen}"
    assert seen[20] - seen[8.9] >= 20, f"progress resumes after the restart: {seen}"
    honest_agree(sim, range(4))
    # The restarted replicas caught up with blocks they never saw, and replayed their own.
    heights = [len(sim.chain(node)) for node in range(4)]
    assert min(heights) >= seen[20] - 2, heights


def test_a_crashed_replica_catches_up_with_what_it_missed() -> None:
    sim = run(
        SimConfig(
            replicas=4,
            seed=43,
            duration_ns=16 * SECOND,
            faults=[Crash(2 * SECOND, 0), Restart(10 * SECOND, 0)],
        )
    )
    honest_agree(sim, range(4))
    kinds = [notice.kind for _, node, notice in sim.notices if node == 0]
    assert "catch_up" in kinds
    heights = [len(sim.chain(node)) for node in range(4)]
    assert heights[0] >= max(heights) - 2, heights


def test_a_two_two_partition_heals_into_agreement() -> None:
    sim = Simulation(
        SimConfig(
            replicas=4,
            seed=51,
            duration_ns=20 * SECOND,
            faults=[Partition(3 * SECOND, ((0, 1), (2, 3))), Heal(10 * SECOND)],
        )
    )
    seen = heights_over_time(sim, [4, 9.9, 20])
    sim.run()
    assert seen[9.9] - seen[4] <= 1, f"neither half has a quorum: {seen}"
    assert seen[20] - seen[9.9] >= 20, seen
    honest_agree(sim, range(4))


def test_an_equivocating_block_maker_cannot_finalize_two_blocks_at_one_height() -> None:
    n = 7
    byzantine = {1: "equivocator", 4: "equivocator"}
    sim = run(SimConfig(replicas=n, seed=61, duration_ns=12 * SECOND, behaviours=byzantine))
    honest = [node for node in range(n) if node not in byzantine]
    honest_agree(sim, honest)
    assert any(notice.kind == "equivocation" for _, _, notice in sim.notices)
    # No two finalizations, anywhere, name different blocks at one height.
    finalized: dict[int, bytes] = {}
    for node in range(n):
        for block, proof in sim.disks[node].finalized:
            if proof.height == block.height:
                assert finalized.setdefault(block.height, block.hash) == block.hash
    assert len(sim.chain(honest[0])) >= 20


def test_a_replica_signing_garbage_does_not_disturb_the_others() -> None:
    sim = run(SimConfig(replicas=4, seed=71, duration_ns=10 * SECOND, behaviours={2: "garbage"}))
    honest = [0, 1, 3]
    honest_agree(sim, honest)
    assert len(sim.chain(0)) >= 25
    dropped = sum(
        sim.replicas[node].dropped[reason]
        for node in honest
        for reason in ("bad_proposal_signature", "bad_notarization_share", "bad_finalization_share")
    )
    assert dropped > 0
    assert sum(sim.replicas[node].certifier.dropped.get("bad_certification_share", 0) for node in honest) > 0


class ForkedDisk(Behaviour):
    """Persists another block than the one it finalized at height 3 (a corrupted disk);
    sends exactly what an honest replica sends."""

    def outgoing(self, sim: SimView, node: int, actions: list[Action]) -> list[Action]:
        return [
            PersistBlock(dataclasses.replace(a.block, timestamp=a.block.timestamp + 1), a.proof)
            if isinstance(a, PersistBlock) and a.block.height == 3
            else a
            for a in actions
        ]


def test_agreement_is_checked_at_every_finalization_without_touching_the_trace() -> None:
    config = SimConfig(replicas=4, seed=101, duration_ns=4 * SECOND)
    honest = run(config)
    assert honest.disagreements == [] and honest.result().agreement
    sim = Simulation(config)
    sim.behaviours[2] = ForkedDisk()
    result = sim.run()
    assert not result.agreement
    (disagreement,) = result.disagreements  # only node 2 differs from the first
    assert disagreement.height == 3 and disagreement.node == 2 and disagreement.first_node != 2
    assert disagreement.block_hash != disagreement.first_hash
    assert disagreement.first_hash == honest.chain(2)[2].hash
    # Reported when it happened: when node 2 finalized height 3.
    (when,) = [
        time
        for time, node, notice in honest.notices
        if (node, notice.kind, notice.height) == (2, "finalized", 3)
    ]
    assert disagreement.time_ns == when
    assert result.to_json()["disagreements"][0]["height"] == 3
    # The check reads what replicas persist and nothing else: the trace is the honest one.
    assert result.trace_hash == honest.result().trace_hash


@dataclass(frozen=True)
class _Vote(Message):
    height: int
    signature: bytes


@dataclass(frozen=True)
class _Quorum(Message):
    height: int
    signatures: tuple[bytes, ...]


def test_garbage_signatures_need_no_knowledge_of_the_protocol() -> None:
    assert "node.consensus" not in inspect.getsource(behaviour)
    rng = random.Random(1)
    vote = behaviour.garble(rng, _Vote(3, b"s" * 64))
    assert isinstance(vote, _Vote) and vote.height == 3 and vote.signature != b"s" * 64
    quorum = behaviour.garble(rng, _Quorum(3, (b"a" * 64, b"b" * 64)))
    assert isinstance(quorum, _Quorum) and len(quorum.signatures) == 2
    assert not {b"a" * 64, b"b" * 64} & set(quorum.signatures)
    unsigned = CatchUpRequest(1, 2)
    assert behaviour.garble(rng, unsigned) is unsigned


def test_loss_and_duplication_delay_but_do_not_break_agreement() -> None:
    sim = run(SimConfig(replicas=4, seed=81, duration_ns=10 * SECOND, loss=0.15, duplication=0.1))
    honest_agree(sim, range(4))
    assert min(len(sim.chain(node)) for node in range(4)) >= 15


def test_the_workload_runs_on_the_wasm_execution_layer() -> None:
    sim = run(SimConfig(replicas=4, seed=91, duration_ns=8 * SECOND))
    honest_agree(sim, range(4))
    assert sim.workload is not None
    assert sum(sim.workload.stats.values()) > 5
