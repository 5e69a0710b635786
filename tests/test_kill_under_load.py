"""SIGKILL under load at the optimised consensus path's throughput: the chains and the
certified state hashes of all four replica processes are equal afterwards.

The load is the consensus benchmark's own (``bench.consensus.Subnet``: signed updates
spread over the replicas, each certified reply verified), 32 closed-loop clients, so the
replicas are as busy as this machine lets them be. Replica 2 is killed mid-load and
restarted mid-load; it restores from its SQLite store and catches up. Waits are on
conditions with a bound, never fixed sleeps.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
import trio

from bench._load import Window, closed_loop
from bench.consensus import Subnet
from client.identity import Identity
from client.network import LOCAL_DIR
from node.storage import BlockStore
from subnet.processes import launcher
from subnet.processes.layout import replica_dir
from subnet.processes.status import collect_status
from subnet.processes.supervision import start_subnet
from vocab import crypto

pytestmark = pytest.mark.slow  # replica processes: the slow tier (tests/README.md)

VICTIM = 2


def test_sigkill_under_load_leaves_equal_chains_and_state_hashes(tmp_path: Path) -> None:
    root = tmp_path / LOCAL_DIR
    port = launcher.free_port_range(4)
    genesis = start_subnet(root, replicas=4, port=port, block_time_ms=100, clean=True)
    try:
        pids = [pid for _, pid in sorted(launcher.read_pids(root).items())]
        subnet = Subnet(genesis, Identity("kill", crypto.private_key_from_seed(b"\x09" * 32)), pids)
        windows: list[Window] = []

        async def load_and_kill() -> int:
            await subnet.setup()

            async def phase(label: str, seconds: float) -> None:
                window = Window(label, [])
                await closed_loop(window, 32, seconds, subnet.request)
                windows.append(window)

            await phase("before", 1.5)
            launcher.kill_replica(root, VICTIM, signal.SIGKILL)
            await phase("killed", 1.5)
            await trio.to_thread.run_sync(
                lambda: start_subnet(root, replicas=4, port=port, block_time_ms=100)
            )
            await phase("restarted", 1.5)
            await subnet.aclose()
            with trio.fail_after(90):
                while True:
                    rows = await collect_status(genesis)
                    heights = [reply.finalized_height for _, reply, _ in rows if reply is not None]
                    if len(heights) == 4 and min(heights) >= max(heights) - 1:
                        return min(heights)
                    await trio.sleep(0.1)

        target = trio.run(load_and_kill)
    finally:
        launcher.stop_processes(root)
    before, killed, restarted = windows
    assert len(before.latencies) > 0 and len(restarted.latencies) > 0
    assert len(killed.latencies) > 0  # three replicas kept finalizing without the fourth

    stores = [BlockStore(replica_dir(root, i) / "replica.db") for i in range(4)]
    common = min(store.finalized_height() for store in stores)
    assert common >= target > 0
    for height in range(1, common + 1):
        hashes = {store.finalized_block(height).block_hash for store in stores}  # type: ignore[union-attr]
        assert len(hashes) == 1, f"replicas disagree at height {height}"
    certified = [set(store.certified_heights()) for store in stores]
    shared = set.intersection(*certified)
    assert shared, "no height certified on all four replicas"
    for height in sorted(shared):
        state_hashes = {store.certificate(height)[0] for store in stores}  # type: ignore[index]
        assert len(state_hashes) == 1, f"state hashes differ at height {height}"
    for store in stores:
        store.close()
