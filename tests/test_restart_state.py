"""State across `subnet stop` / `subnet start` on four replica processes: a Motoko
counter keeps its count, replicas come back from their checkpoints (replaying only the
blocks above them), and `subnet start --clean` starts an empty subnet.

Real processes in real time: waits are on conditions with a bound, never fixed sleeps.
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import pytest
import trio

import subnet.samples
from client.motoko import NodeNotFound, compile_motoko
from client.network import LOCAL_DIR
from node.replica import CHECKPOINT_INTERVAL
from node.storage import BlockStore
from subnet.processes.layout import replica_dir
from subnet.processes.status import wait_for_heights
from tests.processes import motoko_project, subnet_cli
from vocab.genesis import Genesis

pytestmark = pytest.mark.slow  # replica processes: the slow tier (tests/README.md)


def status(project: Path) -> list[dict]:
    return json.loads(subnet_cli(project, "status", "--output", "json").stdout)["replicas"]


def test_a_counter_survives_stop_and_start_through_checkpoints_and_clean_forgets_it(
    local_subnet: Path,
) -> None:
    source = subnet.samples.source("counter_v1")
    try:
        compile_motoko(source)  # warms the cache; skips without Node.js
    except NodeNotFound as exc:
        pytest.skip(str(exc))
    project = motoko_project(local_subnet, "counter", source)
    for count in (1, 2, 3):
        assert (
            subnet_cli(project, "canister", "call", "counter", "increment").stdout.strip()
            == f"({count} : nat)"
        )

    root = project / LOCAL_DIR
    genesis = Genesis.from_json((root / "genesis.json").read_text())
    port = int(genesis.nodes[0].address.rpartition(":")[2])
    trio.run(partial(wait_for_heights, genesis, within=None, at_least=CHECKPOINT_INTERVAL + 5, timeout=90))
    subnet_cli(project, "stop")

    tops = []
    for index in range(4):
        store = BlockStore(replica_dir(root, index) / "replica.db")
        try:
            checkpoints = store.checkpoints()
            tops.append(store.finalized_height())
            assert checkpoints and all(c.height % CHECKPOINT_INTERVAL == 0 for c in checkpoints)
            assert len(checkpoints) <= 2  # only the newest few are kept...
            assert [b.height for b in store.finalized_blocks(1)] == list(
                range(1, tops[-1] + 1)
            )  # ...and every block
        finally:
            store.close()

    subnet_cli(project, "start", "--background")
    rows = status(project)
    for row, top in zip(rows, tops):
        assert row["up"]
        assert row["checkpoint_height"] >= CHECKPOINT_INTERVAL
        assert 0 <= row["replayed_heights"] == top - row["checkpoint_height"] < CHECKPOINT_INTERVAL
    assert (
        subnet_cli(project, "canister", "call", "counter", "get", "--replicas-agree", "3").stdout.strip()
        == "(3 : nat)"
    )
    assert subnet_cli(project, "canister", "call", "counter", "increment").stdout.strip() == "(4 : nat)"
    subnet_cli(project, "stop")

    subnet_cli(project, "start", "--background", "--clean", "--port", str(port), "--block-time", "50")
    rows = status(project)
    assert all(row["up"] and row["checkpoint_height"] == 0 and row["replayed_heights"] == 0 for row in rows)
    gone = subnet_cli(project, "canister", "call", "counter", "get", check=False)
    assert gone.returncode == 1 and "not found" in gone.stderr + gone.stdout
    fresh = Genesis.from_json((root / "genesis.json").read_text())
    assert fresh.genesis_time_ns != genesis.genesis_time_ns  # a new subnet, not the old one restarted
