"""A replica's database damaged on disk: a truncated file, an overwritten middle, a
damaged checkpoints table, a flipped byte in a block or its proof. Each is reported
naming the file and the damage (never a traceback), the damaged file is kept aside, what
still reads and proves is kept, and the rest is left for catch-up to write again.

The chain is a real one: the blocks and finalization proofs four simulated replicas made.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from node.consensus.block import Finalized
from node.recovery import load_store
from node.replica import Replica
from node.runtime import ReplicaRuntime
from node.storage import BlockStore, DamagedStore, StoredBlock, StoredCheckpoint
from subnet.sim.runner import SECOND, SimConfig, Simulation
from vocab.codec import encode_message

INTERVAL = 10


@pytest.fixture(scope="module")
def sim() -> Simulation:
    simulation = Simulation(
        SimConfig(replicas=4, seed=3, duration_ns=40 * SECOND, workload=None, checkpoint_interval=INTERVAL)
    )
    simulation.run()
    return simulation


def rows(finalized: list[Finalized]) -> list[StoredBlock]:
    return [
        StoredBlock(f.block.height, f.block.hash, encode_message(f.block), encode_message(f.proof))
        for f in finalized
    ]


def written(sim: Simulation, path: Path, *, checkpoints: bool = True) -> list[StoredBlock]:
    """Replica 0's disk written as the process backend writes it (without its checkpoints
    if told: they hold the Sui framework's modules and would make up most of the file);
    returns the block rows."""
    disk = sim.disks[0]
    blocks = rows(disk.finalized)
    store = BlockStore(path)
    store.append_finalized(blocks)
    for certificate in disk.certificates:
        store.put_certificate(certificate.height, certificate.state_hash, encode_message(certificate))
    for checkpoint in disk.checkpoints if checkpoints else ():
        store.put_checkpoint(StoredCheckpoint(checkpoint.height, checkpoint.state_hash, checkpoint.state))
    store.set_meta("high_water", disk.high_water.to_bytes(8, "big"))
    store.close()
    assert not Path(f"{path}-wal").exists()  # checkpointed into the file on close
    return blocks


def restored(sim: Simulation, path: Path) -> tuple[Replica, list[tuple[str, str]]]:
    loaded = load_store(path, sim.genesis.pool_window)
    replica = Replica.restore(
        sim.genesis,
        0,
        sim.keys[0],
        loaded.blocks,
        loaded.proofs,
        certificates=loaded.certificates,
        high_water=loaded.high_water,
        checkpoints=loaded.checkpoints,
        checkpoint_interval=INTERVAL,
    )
    loaded.store.close()
    return replica, loaded.notices


def test_a_truncated_file_is_moved_aside_and_the_replica_starts_from_what_reads(
    sim: Simulation, tmp_path: Path
) -> None:
    path = tmp_path / "replica.db"
    blocks = written(sim, path)
    size = path.stat().st_size
    with open(path, "r+b") as file:
        file.truncate(size // 2)
    with pytest.raises(DamagedStore, match=f"{path}: damaged .*malformed"):
        BlockStore(path).check()

    replica, notices = restored(sim, path)
    [(kind, detail)] = notices
    assert kind == "damaged_store" and str(path) in detail and "moved to replica.db.damaged-1" in detail
    aside = tmp_path / "replica.db.damaged-1"
    assert aside.stat().st_size == size // 2  # kept as evidence, not deleted
    kept = replica.finalized_height
    assert 0 <= kept < len(blocks) and f"kept blocks 1..{kept}" in detail
    for height in range(1, kept + 1):
        assert replica.finalized_block(height).hash == blocks[height - 1].block_hash
    fresh = BlockStore(path)
    fresh.check()
    assert fresh.finalized_height() == kept
    # Catch-up writes the missing heights into the fresh store.
    fresh.append_finalized(blocks[kept:])
    assert [b.height for b in fresh.finalized_blocks(1)] == list(range(1, len(blocks) + 1))


def test_an_overwritten_middle_is_a_named_error_then_repaired(sim: Simulation, tmp_path: Path) -> None:
    path = tmp_path / "replica.db"
    blocks = written(sim, path, checkpoints=False)  # the middle third is then blocks
    size = path.stat().st_size
    with open(path, "r+b") as file:
        file.seek(size // 3)
        file.write(bytes(range(256)) * (size // 3 // 256))
    store = BlockStore(path)
    with pytest.raises(DamagedStore) as raised:
        store.check()
        list(store.finalized_blocks(1))
    assert raised.value.path == path and raised.value.damage
    store.close()

    replica, notices = restored(sim, path)
    assert [kind for kind, _ in notices] == ["damaged_store"]
    assert (tmp_path / "replica.db.damaged-1").exists()
    assert replica.finalized_height < len(blocks)
    assert all(
        replica.finalized_block(h).hash == blocks[h - 1].block_hash
        for h in range(1, replica.finalized_height + 1)
    )
    # Damaged again: the first copy stays, the second goes next to it.
    with open(path, "r+b") as file:
        file.truncate(100)
    restored(sim, path)
    assert (tmp_path / "replica.db.damaged-1").exists() and (tmp_path / "replica.db.damaged-2").exists()


def test_a_damaged_checkpoints_table_costs_the_checkpoints_not_the_blocks(
    sim: Simulation, tmp_path: Path
) -> None:
    path = tmp_path / "replica.db"
    blocks = written(sim, path)
    with sqlite3.connect(path) as db:
        [(root,)] = db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'checkpoints'").fetchall()
        page_size = db.execute("PRAGMA page_size").fetchone()[0]
    with open(path, "r+b") as file:
        file.seek((root - 1) * page_size)
        file.write(b"\xee" * page_size)
    with pytest.raises(DamagedStore, match="the checkpoints"):
        BlockStore(path).checkpoints()  # was sqlite3.DatabaseError

    replica, notices = restored(sim, path)
    [(kind, detail)] = notices
    assert kind == "damaged_store" and "0 checkpoints" in detail and "unreadable: the checkpoint" in detail
    assert replica.finalized_height == len(blocks)  # every block kept
    assert replica.restored_checkpoint_height == 0 and replica.replayed_heights == len(blocks)
    assert replica.state_hash() == sim.replicas[0].state_hashes[len(blocks)]


def test_a_flipped_byte_in_a_block_is_reported_with_its_height_and_rewritten(
    sim: Simulation, tmp_path: Path
) -> None:
    path = tmp_path / "replica.db"
    blocks = written(sim, path)
    bad = 30
    flipped = bytearray(blocks[bad - 1].block)
    flipped[len(flipped) // 2] ^= 0x10
    with sqlite3.connect(path) as db:
        db.execute("UPDATE finalized SET block = ? WHERE height = ?", (bytes(flipped), bad))

    replica, notices = restored(sim, path)
    [(kind, detail)] = notices
    assert kind == "damaged_block" and f"block {bad}:" in detail and f"blocks {bad}..{len(blocks)}" in detail
    assert replica.finalized_height == bad - 1
    store = BlockStore(path)
    assert store.finalized_height() == bad - 1
    assert [h for h, _ in store.damaged_blocks()] == list(range(bad, len(blocks) + 1))  # evidence
    store.append_finalized(blocks[bad - 1 :])  # what catch-up writes
    assert store.finalized_block(bad) == blocks[bad - 1]
    store.close()
    replica, notices = restored(sim, path)
    assert notices == [] and replica.finalized_height == len(blocks)


def test_a_flipped_byte_in_a_proof_stops_the_proven_chain_there_and_is_set_aside(
    sim: Simulation, tmp_path: Path
) -> None:
    path = tmp_path / "replica.db"
    blocks = written(sim, path)
    # A finalization covers its block's ancestors too, so a bad proof lower down is
    # harmless (the one above proves the block); the newest block has only its own.
    bad = len(blocks)
    proof = bytearray(blocks[bad - 1].proof)
    proof[-5] ^= 0x01  # inside the aggregate's signatures
    with sqlite3.connect(path) as db:
        db.execute("UPDATE finalized SET proof = ? WHERE height = ?", (bytes(proof), bad))
    (tmp_path / "node_key.pem").touch()
    runtime = ReplicaRuntime(sim.genesis, 0, sim.keys[0], tmp_path, checkpoint_interval=INTERVAL)
    try:
        assert runtime.errors["damaged_block"] == 1 and f"block {bad} is not proven" in runtime.last_error
        assert runtime.replica.finalized_height == bad - 1
        assert runtime.store.finalized_height() == bad - 1
    finally:
        runtime.store.close()


def test_malformed_rows_are_a_named_error(tmp_path: Path) -> None:
    path = tmp_path / "replica.db"
    store = BlockStore(path)
    store.append_finalized([StoredBlock(1, b"h" * 32, b"block", b"proof")])
    store._db.execute("UPDATE finalized SET proof = 'text, not bytes' WHERE height = 1")
    with pytest.raises(DamagedStore, match="the block row of height 1: expected bytes, found str"):
        store.finalized_block(1)
    store.close()
