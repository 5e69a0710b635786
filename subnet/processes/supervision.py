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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import trio

from client.agent import Agent
from client.network import LOCAL_DIR, endpoints, load_genesis
from subnet.processes import launcher, ports
from subnet.processes.layout import create_subnet, replica_dir
from vocab.errors import CodecError, SubnetError
from vocab.genesis import SUI_ALLOW_ADDING_ABILITIES, Genesis

READY_BOUND = 900.0
"""Seconds a replica may take to answer after it is spawned, as long as it makes progress:
restoring a large state (a canister of 1 GiB, thousands of blocks to replay) takes minutes."""
STALL_SECONDS = 30.0
"""Seconds without progress (no CPU time used, no line logged, no answer) after which a
spawned replica counts as failed."""
PROGRESS_EVERY = 5.0
"""Seconds between progress lines while replicas are starting."""


def start_subnet(
    root: Path,
    *,
    replicas: int,
    port: int,
    block_time_ms: int,
    clean: bool = False,
    progress: Callable[[str], None] | None = None,
    memory_capacity: int | None = None,
    epoch_duration_ms: int | None = None,
    allow_adding_abilities: bool = False,
    instructions_per_slice: int | None = None,
) -> Genesis:
    """Start the subnet under ``root`` (created with these parameters if it has no genesis
    yet) and return its genesis once every replica answers.

    Refuses to wipe a running subnet (``clean``), to start one that is fully running, to
    change the size of an existing one, and to spawn anything while one of the ports it
    needs is taken (naming the port and its holder): all before changing anything. Only
    the replicas that are down are started; those running are left alone. A replica that
    dies or stops making progress is reported with the tail of its log, and stopped if it
    still runs; the replicas that came up stay up. ``progress`` receives a line now and
    then while replicas start.
    """
    alive = {process.index for process in launcher.running(root)}
    if alive and clean:
        raise SubnetError("the local subnet is running; `subnet stop` before starting it --clean")
    existing = None if clean or not (root / "genesis.json").exists() else load_genesis(root)
    if existing is not None:
        if len(existing.nodes) != replicas:
            raise SubnetError(
                f"the local subnet has {len(existing.nodes)} replicas, not {replicas}; use --clean to start a new one"
            )
        if memory_capacity is not None and existing.extra.get("subnet_memory_capacity") != memory_capacity:
            raise SubnetError(
                "--memory-capacity is fixed when a subnet is created; use --clean to start a new one"
            )
        if (
            instructions_per_slice is not None
            and existing.extra.get("instructions_per_slice") != instructions_per_slice
        ):
            raise SubnetError(
                "--instructions-per-slice is fixed when a subnet is created; use --clean to start a new one"
            )
        if allow_adding_abilities and not existing.extra.get(SUI_ALLOW_ADDING_ABILITIES):
            raise SubnetError(
                "--allow-adding-abilities is fixed when a subnet is created; use --clean to start a new one"
            )
        if epoch_duration_ms is not None and existing.sui_epoch_duration_ns != epoch_duration_ms * 1_000_000:
            raise SubnetError(
                "--epoch-duration is fixed when a subnet is created; use --clean to start a new one"
            )
        addresses = [entry.address for entry in existing.nodes]
    else:
        addresses = [f"127.0.0.1:{port + index}" for index in range(replicas)]
    missing = [index for index in range(len(addresses)) if index not in alive]
    if not missing:
        raise SubnetError("the local subnet is already running; `subnet stop` first")
    wanted = []
    for index in missing:
        host, _, number = addresses[index].rpartition(":")
        wanted.append((host.strip("[]"), int(number)))
    taken = ports.taken_ports(wanted)
    if taken:
        raise SubnetError(
            f"port{'s' if len(taken) > 1 else ''} in use:\n"
            + "".join(f"  {item.describe()}\n" for item in taken)
            + "Nothing was started; stop what holds them, or start a new subnet with --clean --port BASE"
        )
    if clean:
        shutil.rmtree(root, ignore_errors=True)
    genesis = (
        existing
        if existing is not None
        else create_subnet(
            root,
            replicas,
            port,
            block_time_ms,
            memory_capacity,
            epoch_duration_ms,
            allow_adding_abilities,
            instructions_per_slice,
        )
    )
    spawned = {index: launcher.spawn_replica(root, index) for index in missing}
    failures = trio.run(wait_for_replicas, root, genesis, spawned, progress)
    if failures:
        launcher.stop_processes(root, indices=sorted(failures))
        up = sorted(set(range(len(genesis.nodes))) - set(failures))
        details = "\n".join(
            f"replica {index} ({genesis.nodes[index].address}): {reason}\n"
            + _indent(launcher.log_tail(root, index))
            for index, reason in sorted(failures.items())
        )
        raise SubnetError(
            f"replica{'s' if len(failures) > 1 else ''} {', '.join(str(i) for i in sorted(failures))} "
            f"did not come up (replicas {', '.join(str(i) for i in up) or 'none'} are running; "
            f"logs in {LOCAL_DIR}/replica-*/replica.log):\n{details}"
        )
    return genesis


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


@dataclass
class _Starting:
    pid: int
    since: float
    progress_at: float
    cpu: int | None = None
    log_size: int = 0
    answered_by: int | None = None
    """The pid of a process that answered at this replica's address but is not it."""


async def wait_for_replicas(
    root: Path,
    genesis: Genesis,
    spawned: dict[int, int],
    progress: Callable[[str], None] | None = None,
    *,
    bound: float = READY_BOUND,
    stall: float = STALL_SECONDS,
    report_every: float = PROGRESS_EVERY,
) -> dict[int, str]:
    """Wait until each spawned replica (index -> pid) answers a status request as itself;
    return the ones that did not, with why: its process exited, or it made no progress
    for ``stall`` s, or ``bound`` s passed. An answer from another process at the
    replica's address (another subnet on the port) does not count."""
    agent = Agent(endpoints(genesis), genesis.committee)
    now = time.monotonic()
    pending = {index: _Starting(pid, now, now) for index, pid in spawned.items()}
    failures: dict[int, str] = {}
    reported = now
    while pending:
        for endpoint in agent.endpoints:
            item = pending.get(endpoint.index)
            if item is None:
                continue
            try:
                reply = await agent.status(endpoint, timeout=1.0)
            except (OSError, trio.TooSlowError, trio.BrokenResourceError, CodecError):
                reply = None
            now = time.monotonic()
            if reply is not None and reply.pid == item.pid:
                del pending[endpoint.index]
                continue
            if reply is not None:
                item.answered_by = reply.pid
            if not launcher.pid_alive(item.pid):
                launcher.reap()
                failures[endpoint.index] = f"its process {item.pid} exited" + (
                    f" (pid {item.answered_by} answers at its address)" if item.answered_by else ""
                )
                del pending[endpoint.index]
                continue
            cpu = launcher.cpu_ticks(item.pid)
            log_size = _size(replica_dir(root, endpoint.index) / "replica.log")
            if cpu != item.cpu or log_size != item.log_size:
                item.cpu, item.log_size, item.progress_at = cpu, log_size, now
            if now - item.progress_at > stall:
                failures[endpoint.index] = f"no progress for {stall:g} s"
                del pending[endpoint.index]
            elif now - item.since > bound:
                failures[endpoint.index] = f"not answering after {bound:g} s"
                del pending[endpoint.index]
        now = time.monotonic()
        if pending and progress is not None and now - reported >= report_every:
            reported = now
            for index, item in sorted(pending.items()):
                last = launcher.log_tail(root, index, lines=1).strip()
                progress(f"replica {index}: starting for {now - item.since:.0f} s; {last[-100:]}")
        if pending:
            await trio.sleep(0.2)
    return failures


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


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
