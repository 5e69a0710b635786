"""The process backend end to end: replica processes on loopback, SIGKILL mid-load, catch-up.

Real processes run in real time here, so waits are on conditions with a bound, never on
fixed sleeps.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path

import trio

from client.agent import Agent
from client.identity import IdentityStore
from client.network import LOCAL_DIR, endpoints
from node.storage import BlockStore
from subnet.processes import launcher
from subnet.processes.layout import replica_dir
from subnet.processes.status import collect_status
from tests.processes import subnet_cli
from vocab import management
from vocab.genesis import Genesis
from vocab.principal import Principal


def test_canister_commands_against_four_processes(local_subnet: Path) -> None:
    created = subnet_cli(local_subnet, "canister", "create", "hello")
    assert "rwlgt-iiaaa-aaaaa-aaaaa-cai" in created.stdout
    assert json.loads((local_subnet / "canister_ids.json").read_text()) == {
        "hello": {"local": "rwlgt-iiaaa-aaaaa-aaaaa-cai"}
    }
    status = json.loads(subnet_cli(local_subnet, "canister", "status", "hello", "--output", "json").stdout)
    assert status["status"] == "running"
    refused = subnet_cli(local_subnet, "canister", "delete", "hello", check=False)
    assert refused.returncode == 1 and "reject code 5" in refused.stderr
    subnet_cli(local_subnet, "canister", "stop", "hello")
    subnet_cli(local_subnet, "canister", "delete", "hello")
    assert json.loads((local_subnet / "canister_ids.json").read_text()) == {}
    report = json.loads(subnet_cli(local_subnet, "status", "--output", "json").stdout)
    assert [r["up"] for r in report["replicas"]] == [True] * 4
    assert [r["sui_epoch"] for r in report["replicas"]] == [0] * 4  # a day per epoch by default
    assert " epoch " in subnet_cli(local_subnet, "status").stdout


def test_sigkill_mid_load_then_restart_catches_up_to_the_same_chain(local_subnet: Path) -> None:
    root = local_subnet / LOCAL_DIR
    genesis = Genesis.from_json((root / "genesis.json").read_text())
    identity = IdentityStore().current()
    agent = Agent(endpoints(genesis), genesis.committee, identity)
    created: list[Principal] = []

    async def load() -> None:
        for i in range(12):
            if i == 4:
                # Replica 0 is the agent's first choice: the agent must fail over.
                launcher.kill_replica(root, 0, signal.SIGKILL)
            result = await agent.call(
                Principal.management(),
                management.CREATE,
                management.encode_args(management.CREATE, management.CreateCanisterArgs(10**12)),
            )
            created.append(management.decode_reply(management.CREATE, result.raise_if_rejected()).canister_id)

    trio.run(load)
    assert len(set(created)) == 12
    subnet_cli(local_subnet, "start", "--background")  # restarts the dead replica only

    async def caught_up() -> int:
        with trio.fail_after(60):
            while True:
                rows = await collect_status(genesis)
                heights = [reply.finalized_height for _, reply, _ in rows if reply is not None]
                if len(heights) == 4 and min(heights) >= max(heights) - 2 and rows[0][1].finalized_height > 0:
                    return min(heights)
                await trio.sleep(0.1)

    target = trio.run(caught_up)
    subnet_cli(local_subnet, "stop")
    stores = [BlockStore(replica_dir(root, i) / "replica.db") for i in range(4)]
    common = min(store.finalized_height() for store in stores)
    assert common >= target
    for height in range(1, common + 1):
        hashes = {store.finalized_block(height).block_hash for store in stores}
        assert len(hashes) == 1, f"replicas disagree at height {height}"
    certified = {store.certificate(common - 1) for store in stores if store.certificate(common - 1)}
    assert len({state_hash for state_hash, _ in certified}) == 1
