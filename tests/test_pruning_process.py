"""Bounded disk on four replica processes: each replica's database keeps only the blocks
above its certified checkpoint (row counts stay bounded as the chain grows, the file does
not grow with it), and a replica whose database was deleted while it was stopped comes
back from its peers' catch-up package while the other three stay up, with the same state.

Checkpoints every 20 heights, 10 heights of margin and a 2 s replay window (the default
window keeps six minutes of blocks), 50 ms blocks. Real processes in real time: waits
are on conditions with a bound, never fixed sleeps.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from functools import partial
from pathlib import Path

import pytest
import trio

from client.network import LOCAL_DIR
from node.pruning import PruningPolicy
from node.recovery import load_store
from node.replica import Replica
from node.storage import WAL_SIZE_LIMIT
from subnet.processes import launcher
from subnet.processes.layout import load_node_key, replica_dir
from subnet.processes.status import wait_for_heights
from tests.processes import subnet_cli
from vocab.genesis import Genesis

# replica processes, one of issue #17's probes: the resilience tier (tests/README.md)
pytestmark = [pytest.mark.slow, pytest.mark.resilience]

INTERVAL = 20
MARGIN = 10
WINDOW_MS = 2000


def rows(database: Path) -> tuple[int, int, int]:
    """(blocks, lowest height, checkpoints) of a live replica's database, read beside it."""
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10)) as db:
        count, low = db.execute("SELECT COUNT(*), MIN(height) FROM finalized").fetchone()
        checkpoints = db.execute("SELECT COUNT(*) FROM checkpoints").fetchone()[0]
    return int(count), int(low or 0), int(checkpoints)


@pytest.fixture
def pruning_subnet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> object:
    monkeypatch.setenv("SUBNET_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("SUBNET_CHECKPOINT_INTERVAL", str(INTERVAL))
    monkeypatch.setenv("SUBNET_PRUNE_MARGIN", str(MARGIN))
    monkeypatch.setenv("SUBNET_REPLAY_WINDOW_MS", str(WINDOW_MS))
    port = launcher.free_port_range(4)
    subnet_cli(
        tmp_path, "start", "--background", "--replicas", "4", "--port", str(port), "--block-time", "50"
    )
    try:
        yield tmp_path
    finally:
        subnet_cli(tmp_path, "stop", check=False)
        assert launcher.running(tmp_path / LOCAL_DIR) == []


def test_disks_stay_bounded_and_a_deleted_database_comes_back_from_a_package(pruning_subnet: Path) -> None:
    project = pruning_subnet
    root = project / LOCAL_DIR
    genesis = Genesis.from_json((root / "genesis.json").read_text())
    later = trio.run(partial(wait_for_heights, genesis, within=None, at_least=16 * INTERVAL, timeout=180))
    for index in range(4):
        count, low, checkpoints = rows(replica_dir(root, index) / "replica.db")
        # the replay window's blocks (at most 40 of 50 ms), the margin, the blocks above
        # the certified checkpoint: not the whole chain
        assert low > 1 and count < 6 * INTERVAL < later / 2, (index, count, low, later)
        assert checkpoints <= 2
        directory = replica_dir(root, index)
        assert (directory / "replica.db").stat().st_size < 4_000_000
        wal = directory / "replica.db-wal"
        assert not wal.exists() or wal.stat().st_size <= WAL_SIZE_LIMIT

    pids = launcher.read_pids(root)
    launcher.stop_processes(root, indices=[3])
    for suffix in ("", "-wal", "-shm"):
        Path(f"{replica_dir(root, 3) / 'replica.db'}{suffix}").unlink(missing_ok=True)
    subnet_cli(project, "start", "--background")  # only replica 3
    assert {p.index: p.pid for p in launcher.running(root)}.items() >= {i: pids[i] for i in range(3)}.items()
    trio.run(partial(wait_for_heights, genesis, within=3, at_least=later, timeout=60))
    log = (replica_dir(root, 3) / "replica.log").read_text()
    assert "state_synced" in log and "Traceback" not in log
    count, low, _ = rows(replica_dir(root, 3) / "replica.db")
    assert low > 1 and count < later / 2

    subnet_cli(project, "stop")
    hashes: dict[int, list[bytes]] = {}
    for index in range(4):
        loaded = load_store(replica_dir(root, index) / "replica.db", genesis.pool_window)
        replica = Replica.restore(
            genesis,
            index,
            load_node_key(root, index),
            loaded.blocks,
            loaded.proofs,
            certificates=loaded.certificates,
            checkpoints=loaded.checkpoints,
            checkpoint_interval=INTERVAL,
            pruning=PruningPolicy(margin=MARGIN, replay_window_ns=WINDOW_MS * 1_000_000),
        )
        loaded.store.close()
        assert replica.restored_checkpoint_height > 1  # from its checkpoint, not from genesis
        for height, state_hash in replica.state_hashes.items():
            hashes.setdefault(height, []).append(state_hash)
    assert any(len(found) == 4 for found in hashes.values())  # a height all four executed
    assert all(len(set(found)) == 1 for found in hashes.values())  # and they agree at every height
