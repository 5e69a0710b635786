"""Bring a local subnet up, keep it in the foreground, take it down.

``start_subnet`` is `subnet start` without its printing: it creates the subnet on first
use (or after ``clean``), starts every replica that is not running (with some still up,
this restarts the ones that died; they replay their blocks and catch up from the
others) and returns once every replica answers. The demo, the benchmarks and the tests
call it as the command does.

These functions wait on real processes and sockets, so they read the wall clock; they
are orchestration, not part of what replicas compute.
"""

from __future__ import annotations

import shutil
import signal
import time
from pathlib import Path

import trio

from client.agent import Agent
from client.network import LOCAL_DIR, endpoints, load_genesis
from subnet.processes import launcher
from subnet.processes.layout import create_subnet
from vocab.errors import CodecError, SubnetError
from vocab.genesis import Genesis

READY_TIMEOUT = 30.0
"""Seconds the replicas have to answer a status request after they are spawned."""


def start_subnet(root: Path, *, replicas: int, port: int, block_time_ms: int, clean: bool = False) -> Genesis:
    """Start the subnet under ``root`` (created with these parameters if it has no genesis
    yet) and return its genesis once every replica answers.

    Refuses to wipe a running subnet (``clean``), to start one that is fully running, or
    to change the size of an existing one. If the replicas do not come up, they are
    stopped again before the error is raised.
    """
    alive = {process.index for process in launcher.running(root)}
    if alive and clean:
        raise SubnetError("the local subnet is running; `subnet stop` before starting it --clean")
    if clean:
        shutil.rmtree(root, ignore_errors=True)
    if (root / "genesis.json").exists():
        genesis = load_genesis(root)
        if len(genesis.nodes) != replicas:
            raise SubnetError(
                f"the local subnet has {len(genesis.nodes)} replicas, not {replicas}; use --clean to start a new one"
            )
    else:
        genesis = create_subnet(root, replicas, port, block_time_ms)
    missing = [index for index in range(len(genesis.nodes)) if index not in alive]
    if not missing:
        raise SubnetError("the local subnet is already running; `subnet stop` first")
    for index in missing:
        launcher.spawn_replica(root, index)
    try:
        trio.run(wait_until_ready, genesis, READY_TIMEOUT)
    except SubnetError:
        launcher.stop_processes(root)
        raise
    return genesis


async def wait_until_ready(genesis: Genesis, timeout: float) -> None:
    """Until every replica answers a status request; the wait is bounded by ``timeout``."""
    agent = Agent(endpoints(genesis), genesis.committee)
    pending = set(range(len(genesis.nodes)))
    with trio.move_on_after(timeout):
        while pending:
            for endpoint in agent.endpoints:
                if endpoint.index in pending:
                    try:
                        await agent.status(endpoint, timeout=1.0)
                    except (OSError, trio.TooSlowError, trio.BrokenResourceError, CodecError):
                        continue
                    pending.discard(endpoint.index)
            if pending:
                await trio.sleep(0.1)
    if pending:
        raise SubnetError(
            f"replicas {sorted(pending)} did not come up within {timeout:g} s; see {LOCAL_DIR}/replica-*/replica.log"
        )


def run_until_signalled(root: Path) -> None:
    """Keep the subnet under ``root`` running until SIGINT or SIGTERM (or until all its
    replicas are gone), then stop it: `subnet start` without ``--background``."""
    stop_requested = False

    def request_stop(signum: int, frame: object) -> None:
        nonlocal stop_requested
        stop_requested = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    while not stop_requested and launcher.running(root):
        time.sleep(0.2)
    launcher.stop_processes(root)
