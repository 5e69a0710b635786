"""Bounded disk and state sync (issue 17): blocks below the newest checkpoint n - f
replicas certified are pruned, on disk and in memory, and a replica further behind than
its peers keep catches up from a catch-up package (the checkpoint, its block and
finalization, the certificate) with the same state as everyone else. A package that is
wrong in any part is refused with a notice and changes nothing.

The chains are real: four simulated replicas running the canister workload, with
checkpoints every 10 heights, 5 heights of margin and a 1 s replay window (the default
window, the ingress expiry, would keep six minutes of blocks).
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import pytest

from node.actions import Notice, PersistAnchor, PersistBlock, PruneBelow, Send
from node.checkpoint import encode_checkpoint
from node.consensus.icc import CatchUpPackage
from node.events import MessageReceived, Started
from node.execution import SubnetStateMachine
from node.pruning import PruningPolicy, prune_floor
from node.replica import Replica
from node.state_sync import CHUNK_SIZE, STALL_NS, Receiver, StateChunk, build_package
from node.storage import BlockStore, StorageError, StoredBlock, StoredCheckpoint
from subnet.sim.faults import Crash, DiskLoss, Partition, Restart
from subnet.sim.runner import SECOND, SimConfig, Simulation
from vocab.codec import DEFAULT_MAX_FRAME, encode_message

INTERVAL = 10
POLICY = PruningPolicy(margin=5, replay_window_ns=1 * SECOND)


def pruned_sim(seed: int, duration_s: int, *faults: object) -> Simulation:
    sim = Simulation(
        SimConfig(
            replicas=4,
            seed=seed,
            duration_ns=duration_s * SECOND,
            checkpoint_interval=INTERVAL,
            pruning=POLICY,
            faults=tuple(faults),  # type: ignore[arg-type]
        )
    )
    sim.run()
    return sim


def notices(sim: Simulation, kind: str) -> list[tuple[int, Notice]]:
    return [(node, notice) for _, node, notice in sim.notices if notice.kind == kind]


def final_hashes(sim: Simulation) -> set[bytes | None]:
    """The state hashes of every live replica at the highest height all executed."""
    live = [r for r in sim.replicas if r is not None]
    common = min(r.executed_height for r in live)
    assert common > 3 * INTERVAL
    return {r.state_hashes.get(common) for r in live}


@pytest.fixture(scope="module")
def steady() -> Simulation:
    return pruned_sim(5, 30)


# -- what is kept ------------------------------------------------------------------------------


def test_the_floor_keeps_the_margin_and_the_replay_window() -> None:
    times = {height: height * SECOND for height in range(1, 200)}
    policy = PruningPolicy(margin=5, replay_window_ns=20 * SECOND)
    # the replay window (heights 80..) reaches lower than the margin (95..)
    assert prune_floor(policy, 100, 1, times.get) == 80
    assert prune_floor(PruningPolicy(margin=5, replay_window_ns=0), 100, 1, times.get) == 95
    assert prune_floor(policy, 100, 90, times.get) == 90  # the floor never falls
    assert prune_floor(PruningPolicy(enabled=False), 100, 1, times.get) == 1
    with pytest.raises(ValueError, match="margin"):
        PruningPolicy(margin=-1)


def test_disks_and_memory_stay_bounded_under_load(steady: Simulation) -> None:
    assert len(final_hashes(steady)) == 1
    top = max(r.finalized_height for r in steady.replicas if r is not None)
    assert top > 8 * INTERVAL  # a long chain, with a workload executed on it
    assert sum(len(block.payload) for block in steady.chain(0)) > 0
    for node, replica in enumerate(steady.replicas):
        assert replica is not None
        disk = steady.disks[node]
        heights = [block.height for block, _ in disk.finalized]
        # the newest certified checkpoint is kept, with its margin below and the blocks above
        certified = max(
            c.height for c in disk.checkpoints if any(x.height == c.height for x in disk.certificates)
        )
        assert heights[0] <= certified - POLICY.margin or heights[0] == replica.lowest_kept
        assert heights == list(range(heights[0], heights[-1] + 1))
        assert len(heights) < 3 * INTERVAL
        assert all(c.height >= heights[0] for c in disk.certificates)
        # memory: consensus's finalized blocks, the state hashes and certificates too
        assert len(replica.consensus.finalized_blocks) < 3 * INTERVAL  # type: ignore[attr-defined]
        assert min(replica.state_hashes) >= replica.lowest_kept
        assert min(replica.certifier.certificates) >= replica.lowest_kept
    assert notices(steady, "state_synced") == []  # nobody was behind


@pytest.fixture(scope="module")
def unpruned() -> Simulation:
    sim = Simulation(SimConfig(replicas=4, seed=5, duration_ns=20 * SECOND, checkpoint_interval=INTERVAL))
    sim.run()
    return sim


def test_without_pruning_every_block_is_kept(unpruned: Simulation) -> None:
    heights = [block.height for block, _ in unpruned.disks[0].finalized]
    assert heights[0] == 1 and len(heights) > 3 * INTERVAL


# -- state sync in the simulation -------------------------------------------------------------


def test_a_replica_down_longer_than_peers_keep_comes_back_from_a_package() -> None:
    sim = pruned_sim(7, 40, Crash(3 * SECOND, 3), Restart(25 * SECOND, 3))
    synced = notices(sim, "state_synced")
    assert [node for node, _ in synced][:1] == [3]
    assert synced[0][1].height % INTERVAL == 0
    assert len(final_hashes(sim)) == 1
    assert sim.disagreements == []
    replica = sim.replicas[3]
    assert replica is not None and replica.restored_checkpoint_height == synced[-1][1].height


def test_a_replica_with_an_empty_disk_comes_back_from_a_package() -> None:
    sim = pruned_sim(9, 30, DiskLoss(20 * SECOND, 2), Restart(21 * SECOND, 2))
    assert any(node == 2 for node, _ in notices(sim, "state_synced"))
    assert len(final_hashes(sim)) == 1
    # then it restarts from its own (pruned) disk: the run starts at a package's history
    sim2 = pruned_sim(9, 30, DiskLoss(15 * SECOND, 2), Restart(16 * SECOND, 2), Crash(24 * SECOND, 2))
    disk = sim2.disks[2]
    assert disk.finalized[0].block.height > 1
    again = Replica(
        sim2.genesis,
        sim2.keys[2],
        finalized=disk.finalized,
        certificates=disk.certificates,
        high_water=disk.high_water,
        checkpoints=disk.checkpoints,
        checkpoint_interval=INTERVAL,
        pruning=POLICY,
    )
    assert again.restored_checkpoint_height >= disk.finalized[0].block.height
    assert again.executed_height == disk.finalized[-1].block.height
    peer = sim2.replicas[0]
    assert peer is not None
    assert again.state_hash() == peer.state_hashes.get(again.executed_height, again.state_hash())


def test_a_partitioned_replica_comes_back_from_a_package() -> None:
    sim = pruned_sim(
        11, 40, Partition(2 * SECOND, ((0, 1, 2), (3,))), Partition(28 * SECOND, ((0, 1, 2, 3),))
    )
    assert any(node == 3 for node, _ in notices(sim, "state_synced"))
    assert len(final_hashes(sim)) == 1


# -- refusals ----------------------------------------------------------------------------------


def package_of(sim: Simulation) -> tuple[CatchUpPackage, list[StateChunk]]:
    """What replica 0 sends a peer behind: the package and its chunks."""
    replica = sim.replicas[0]
    assert replica is not None
    replica._package_sent_at.clear()
    replica._send_package(1)
    sent = [action.message for action in replica._out if isinstance(action, Send)]
    replica._out.clear()
    package = sent[0]
    assert isinstance(package, CatchUpPackage)
    chunks = [chunk for chunk in sent[1:] if isinstance(chunk, StateChunk)]
    assert len(chunks) == package.chunks >= 1
    return package, chunks


def fresh(sim: Simulation) -> Replica:
    replica = Replica(sim.genesis, sim.keys[3], checkpoint_interval=INTERVAL, pruning=POLICY)
    replica.handle(Started(sim.now))
    return replica


def deliver(replica: Replica, messages: list[object], now: int) -> list[object]:
    actions: list[object] = []
    for message in messages:
        actions += replica.handle(MessageReceived(0, message, now))  # type: ignore[arg-type]
    return actions


def test_a_good_package_is_adopted(steady: Simulation) -> None:
    package, chunks = package_of(steady)
    replica = fresh(steady)
    actions = deliver(replica, [package, *chunks], steady.now)
    anchors = [a for a in actions if isinstance(a, PersistAnchor)]
    assert len(anchors) == 1 and anchors[0].checkpoint_height == package.height
    assert replica.executed_height >= package.height
    peer = steady.replicas[0]
    assert peer is not None and replica.state_hashes[package.height] == package.certificate.state_hash
    assert all(len(encode_message(chunk)) < DEFAULT_MAX_FRAME for chunk in chunks)
    assert package.history_size > 0  # the replay window's blocks came along
    # and this replica serves the same package (history included) to a peer behind it
    replica._send_package(2)
    again = [a.message for a in replica._out if isinstance(a, Send)]
    assert isinstance(again[0], CatchUpPackage) and again[0].digest == package.digest


def refused(steady: Simulation, messages: list[object]) -> str:
    replica = fresh(steady)
    before = replica.state_hash()
    actions = deliver(replica, messages, steady.now)
    reasons = [a.detail["reason"] for a in actions if isinstance(a, Notice) and a.kind == "package_refused"]
    assert reasons, "the package was not refused"
    assert not [a for a in actions if isinstance(a, (PersistAnchor, PersistBlock, PruneBelow))]
    assert replica.finalized_height == 0 and replica.executed_height == 0
    assert replica.state_hash() == before
    return str(reasons[0])


def test_a_package_with_a_forged_certificate_is_refused(steady: Simulation) -> None:
    package, chunks = package_of(steady)
    forged = dataclasses.replace(package.certificate, state_hash=hashlib.sha256(b"another state").digest())
    reason = refused(steady, [dataclasses.replace(package, certificate=forged), *chunks])
    assert "certificate" in reason


def test_a_package_whose_certificate_is_of_another_height_is_refused(steady: Simulation) -> None:
    package, chunks = package_of(steady)
    peer = steady.replicas[0]
    assert peer is not None
    other = peer.certifier.certificates[package.height + 1]
    reason = refused(steady, [dataclasses.replace(package, certificate=other), *chunks])
    assert f"of height {package.height + 1}" in reason


def test_a_package_whose_state_is_not_the_certified_one_is_refused(steady: Simulation) -> None:
    package, _ = package_of(steady)
    peer = steady.replicas[0]
    assert peer is not None
    # a well-formed checkpoint that claims the certified hash and block, of another state
    lie = encode_checkpoint(
        SubnetStateMachine.from_genesis(steady.genesis),
        height=package.height,
        block_hash=package.blocks[0].hash,
        state_hash=package.certificate.state_hash,
        results_root=package.certificate.results_root,
    )
    blocks = list(package.blocks)
    served = build_package(blocks, package.finalization, package.certificate, lie, [])  # type: ignore[arg-type]
    reason = refused(steady, [served.package, *served.chunks])
    assert "its state" in reason and "restores to state hash" in reason


def test_a_package_with_a_tampered_chunk_is_refused(steady: Simulation) -> None:
    package, chunks = package_of(steady)
    first = chunks[0]
    data = bytes([first.data[0] ^ 1]) + first.data[1:]
    reason = refused(steady, [package, dataclasses.replace(first, data=data), *chunks[1:]])
    assert "digest" in reason


def test_a_package_whose_blocks_are_not_finalized_is_refused(steady: Simulation) -> None:
    package, chunks = package_of(steady)
    peer = steady.replicas[0]
    assert peer is not None
    wrong = peer.consensus.proofs[package.height + 2]  # type: ignore[attr-defined]
    reason = refused(steady, [dataclasses.replace(package, finalization=wrong), *chunks])
    assert "its blocks" in reason


def test_state_travels_in_chunks_below_the_frame_limit(steady: Simulation) -> None:
    package, _ = package_of(steady)
    big = b"\x01" * (2 * CHUNK_SIZE + 17)
    served = build_package(list(package.blocks), package.finalization, package.certificate, big, [])  # type: ignore[arg-type]
    assert served.package.chunks == 3 == len(served.chunks)
    assert b"".join(c.data for c in served.chunks) == big
    assert max(len(encode_message(c)) for c in served.chunks) < DEFAULT_MAX_FRAME


# -- the store ---------------------------------------------------------------------------------


def stored(sim: Simulation, node: int) -> list[StoredBlock]:
    return [
        StoredBlock(f.block.height, f.block.hash, encode_message(f.block), encode_message(f.proof))
        for f in sim.disks[node].finalized
    ]


def test_the_store_prunes_only_below_a_kept_checkpoint_and_shrinks(
    unpruned: Simulation, tmp_path: Path
) -> None:
    sim = unpruned
    blocks = stored(sim, 0)
    padding = b"\x00" * 20_000  # make the pages worth giving back
    path = tmp_path / "replica.db"
    store = BlockStore(path)
    store.append_finalized(blocks)
    for block in blocks:
        store.put_certificate(block.height, block.block_hash, padding)
    newest = max(c.height for c in sim.disks[0].checkpoints)
    with pytest.raises(StorageError, match="no checkpoint at or above"):
        store.prune_below(newest)  # no checkpoint stored yet: nothing may go
    assert store.row_counts()["finalized"] == len(blocks)
    store.put_checkpoint(StoredCheckpoint(newest, b"\x01" * 32, b"state"))
    with pytest.raises(StorageError, match="no checkpoint at or above"):
        store.prune_below(newest + 1)  # never the newest checkpoint itself
    size = path.stat().st_size + Path(f"{path}-wal").stat().st_size
    removed = store.prune_below(newest - 5)
    assert removed == newest - 6
    counts = store.row_counts()
    assert counts["finalized"] == len(blocks) - removed and counts["checkpoints"] == 1
    assert store.lowest_finalized_height() == newest - 5
    assert store.checkpoint(newest) is not None
    assert path.stat().st_size < size / 2  # the freed pages went back to the file system
    assert Path(f"{path}-wal").stat().st_size == 0  # and the log was cut back
    store.close()


def test_a_package_being_assembled_is_not_displaced_until_it_stalls(steady: Simulation) -> None:
    package, chunks = package_of(steady)
    receiver = Receiver()
    assert receiver.start(package, 0) is None
    other = dataclasses.replace(package, digest=hashlib.sha256(b"other").digest())
    assert receiver.busy(other, STALL_NS - 1) and receiver.start(other, STALL_NS - 1) is not None
    assert receiver.add(chunks[0], 10) is None  # progress keeps it
    assert receiver.busy(other, STALL_NS + 9)
    assert not receiver.busy(other, STALL_NS + 10) and receiver.start(other, STALL_NS + 10) is None
    assert receiver.package is other and receiver.chunks == {}
    assert receiver.start(package, STALL_NS + 11) is not None  # not a higher height, not stalled


def test_a_replica_whose_state_is_not_the_certified_one_prunes_nothing() -> None:
    # the last replica executes wrongly: its checkpoints are never certified (a quorum
    # signs other state hashes), so it keeps every block, while the others prune
    sim = Simulation(
        SimConfig(
            replicas=4,
            seed=5,
            duration_ns=20 * SECOND,
            checkpoint_interval=INTERVAL,
            pruning=POLICY,
            bugs=("wrong-execution",),
        )
    )
    sim.run()
    assert notices(sim, "divergence")
    assert sim.disks[3].finalized[0].block.height == 1
    assert sim.disks[3].checkpoints  # written, never certified
    assert sim.disks[0].finalized[0].block.height > 1


def test_a_pruned_chain_without_a_usable_checkpoint_is_synced_again(steady: Simulation) -> None:
    disk = steady.disks[1]
    replica = Replica(
        steady.genesis,
        steady.keys[1],
        finalized=disk.finalized,
        certificates=disk.certificates,
        high_water=disk.high_water,
        checkpoints=(),  # lost: the kept blocks alone cannot be executed
        checkpoint_interval=INTERVAL,
        pruning=POLICY,
    )
    actions = replica.handle(Started(steady.now))
    unusable = [a for a in actions if isinstance(a, Notice) and a.kind == "pruned_chain_unusable"]
    assert unusable and unusable[0].height == disk.finalized[0].block.height
    assert replica.finalized_height == 0 and replica.executed_height == 0
