"""Canisters on the process backend: build, install and call a Motoko counter on four
replica processes, kill -9 one of them, keep calling, restart it, and check that every
replica rebuilds the same state (replaying its blocks through Wasm execution).

Real processes in real time: waits are on conditions with a bound, never fixed sleeps.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path

import trio

from client.motoko import NodeNotFound, compile_motoko
from node.genesis import Genesis
from node.replica import Replica
from node.storage import BlockStore
from subnet import launcher
from subnet.commands.local import collect_status, load_node_key
from tests.test_canister_consensus import COUNTER_V1
from tests.test_process_backend import local_subnet, subnet_cli  # noqa: F401 - the fixture

import pytest


def test_install_and_call_a_counter_through_a_replica_crash(local_subnet: Path) -> None:  # noqa: F811
    try:
        compile_motoko(COUNTER_V1)  # warms the cache; skips without Node.js
    except NodeNotFound as exc:
        pytest.skip(str(exc))
    project = local_subnet
    (project / "src").mkdir()
    (project / "src" / "main.mo").write_text(COUNTER_V1)
    (project / "subnet.json").write_text(json.dumps({"version": 1, "canisters": {"counter": {"type": "motoko", "main": "src/main.mo"}}}))
    subnet_cli(project, "build", "counter")
    assert (project / ".subnet/local/canisters/counter/counter.did").read_text().count("greet") == 1
    subnet_cli(project, "canister", "create", "counter")
    assert "Installed" in subnet_cli(project, "canister", "install", "counter").stdout
    assert subnet_cli(project, "canister", "call", "counter", "inc").stdout.strip() == "(1)"
    assert subnet_cli(project, "canister", "call", "counter", "greet", '("Sam")').stdout.strip() == '("Hello, Sam!")'

    root = project / launcher.LOCAL_DIR
    launcher.kill_replica(root, 0, signal.SIGKILL)
    assert subnet_cli(project, "canister", "call", "counter", "inc").stdout.strip() == "(2)"
    assert subnet_cli(project, "canister", "call", "counter", "get", "--replicas-agree", "2").stdout.strip() == "(2)"
    assert "Upgraded" in subnet_cli(project, "canister", "install", "counter", "--mode", "upgrade").stdout
    assert subnet_cli(project, "canister", "call", "counter", "inc", "--output", "json").stdout.split() == ["[", "3", "]"]
    subnet_cli(project, "start", "--background")  # restarts replica 0 only
    genesis = Genesis.from_json((root / "genesis.json").read_text())

    async def caught_up() -> None:
        with trio.fail_after(60):
            while True:
                rows = await collect_status(genesis)
                heights = [reply.finalized_height for _, reply, _ in rows if reply is not None]
                if len(heights) == 4 and min(heights) >= max(heights) - 2 and min(heights) > 0:
                    return
                await trio.sleep(0.1)

    trio.run(caught_up)
    subnet_cli(project, "stop")
    stores = [BlockStore(launcher.replica_dir(root, i) / "replica.db") for i in range(4)]
    common = min(store.finalized_height() for store in stores)
    hashes = set()
    for index, store in enumerate(stores):
        blocks = list(store.finalized_blocks(1, common + 1))
        replica = Replica.restore(genesis, index, load_node_key(root, index), [b.block for b in blocks], [b.proof for b in blocks])
        assert replica.executed_height == common
        hashes.add(replica.state_hash())
    assert len(hashes) == 1
