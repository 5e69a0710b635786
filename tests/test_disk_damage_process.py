"""A replica whose database was overwritten in the middle while it was stopped comes
back from its peers on four replica processes, while the other three stay up.

Real processes in real time: waits are on conditions with a bound, never fixed sleeps.
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import pytest
import trio

from client.network import LOCAL_DIR
from subnet.processes import launcher
from subnet.processes.layout import replica_dir
from subnet.processes.status import wait_for_heights
from tests.processes import restored_state_hashes, subnet_cli
from vocab.genesis import Genesis

pytestmark = pytest.mark.slow  # replica processes: the slow tier (tests/README.md)


def test_an_overwritten_database_is_set_aside_and_the_replica_catches_up(local_subnet: Path) -> None:
    root = local_subnet / LOCAL_DIR
    genesis = Genesis.from_json((root / "genesis.json").read_text())
    trio.run(partial(wait_for_heights, genesis, within=None, at_least=60, timeout=60))
    pids = launcher.read_pids(root)
    launcher.stop_processes(root, indices=[3])
    database = replica_dir(root, 3) / "replica.db"
    size = database.stat().st_size
    with open(database, "r+b") as file:
        file.seek(size // 3)
        file.write(b"\xde\xad\xbe\xef" * (size // 12))

    subnet_cli(local_subnet, "start", "--background")  # only replica 3; it answers
    assert {p.index: p.pid for p in launcher.running(root)}.items() >= {i: pids[i] for i in range(3)}.items()
    top = trio.run(partial(wait_for_heights, genesis, within=2, at_least=1, timeout=40))
    rows = json.loads(subnet_cli(local_subnet, "status", "--output", "json").stdout)["replicas"]
    assert all(row["up"] for row in rows)
    assert rows[3]["finalized_height"] >= top
    aside = replica_dir(root, 3) / "replica.db.damaged-1"
    assert aside.stat().st_size == size  # the damaged copy is kept, not deleted
    log = (replica_dir(root, 3) / "replica.log").read_text()
    assert f"damaged_store: {database}: damaged" in log and "Traceback" not in log

    subnet_cli(local_subnet, "stop")
    assert len(restored_state_hashes(root)) == 1  # all four, replica 3's rewritten chain too
