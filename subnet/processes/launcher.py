"""Replica processes of a local subnet: spawn, signal, stop, and find them again.

One OS process per replica (``python -m node``), the way `dfx start` runs a replica; their
pids are kept in ``pids.json`` so that a later command finds them. ``stop_processes``
returns only when every replica process is gone. The files they use are described in
``subnet.processes.layout``.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from subnet.processes.layout import replica_dir
from vocab.errors import SubnetError

STOP_GRACE_SECONDS = 10.0


class LauncherError(SubnetError):
    """The local subnet cannot be started, found or stopped as asked."""


@dataclass(frozen=True)
class ReplicaProcess:
    index: int
    pid: int


def pid_alive(pid: int) -> bool:
    """True while the process exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def read_pids(root: Path) -> dict[int, int]:
    try:
        data = json.loads((root / "pids.json").read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise LauncherError(f"{root / 'pids.json'}: unreadable ({exc})") from exc
    return {int(index): int(pid) for index, pid in data.items()}


def write_pids(root: Path, pids: dict[int, int]) -> None:
    temporary = root / "pids.json.tmp"
    temporary.write_text(json.dumps({str(i): pid for i, pid in sorted(pids.items())}) + "\n")
    os.replace(temporary, root / "pids.json")


EPHEMERAL_PORTS = Path("/proc/sys/net/ipv4/ip_local_port_range")
LOWEST_PORT = 20_000


def free_port_range(count: int) -> int:
    """A base port with ``count`` consecutive free ports above it.

    The ports come from below the kernel's ephemeral range: a port there can be free when
    probed and taken a moment later by some process's outgoing connection (the agent's,
    the replicas' own), which would stop a replica from binding. Where to start probing
    depends on the process id, so that concurrent test workers rarely probe the same ports.
    """
    try:
        ephemeral_low = int(EPHEMERAL_PORTS.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        ephemeral_low = 32_768
    span = ephemeral_low - LOWEST_PORT - count
    if span <= 0:
        raise LauncherError(f"no room for {count} ports below the ephemeral range ({ephemeral_low})")
    start = (os.getpid() * 7_919) % span
    for attempt in range(200):
        base = LOWEST_PORT + (start + attempt * (count + 3)) % span
        sockets = []
        try:
            for offset in range(count):
                sock = socket.socket()
                sockets.append(sock)
                sock.bind(("127.0.0.1", base + offset))
            return base
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
    raise LauncherError(f"no {count} consecutive free ports on 127.0.0.1 below {ephemeral_low}")


def running(root: Path) -> list[ReplicaProcess]:
    return [ReplicaProcess(i, pid) for i, pid in sorted(read_pids(root).items()) if pid_alive(pid)]


def spawn_replica(root: Path, index: int) -> int:
    """Start replica ``index`` as a detached process; its output goes to its log file."""
    directory = replica_dir(root, index)
    directory.mkdir(parents=True, exist_ok=True)
    # The child keeps its own copy of the log's descriptor; ours closes with the block.
    with open(directory / "replica.log", "ab") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "node",
                "--data-dir",
                str(directory),
                "--genesis",
                str(root / "genesis.json"),
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    pids = read_pids(root)
    pids[index] = process.pid
    write_pids(root, pids)
    return process.pid


def stop_processes(root: Path, grace: float = STOP_GRACE_SECONDS) -> list[int]:
    """SIGTERM every replica, SIGKILL what is left after ``grace``; return the stopped indices.

    This waits on real processes, so it reads the wall clock; it is orchestration, not part
    of what replicas compute.
    """
    pids = read_pids(root)
    alive = {index: pid for index, pid in pids.items() if pid_alive(pid)}
    for pid in alive.values():
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while any(pid_alive(pid) for pid in alive.values()) and time.monotonic() < deadline:
        _reap()
        time.sleep(0.05)
    for pid in alive.values():
        if pid_alive(pid):
            _signal(pid, signal.SIGKILL)
    while any(pid_alive(pid) for pid in alive.values()):
        _reap()
        time.sleep(0.02)
    (root / "pids.json").unlink(missing_ok=True)
    return sorted(alive)


def kill_replica(root: Path, index: int, sig: int = signal.SIGKILL) -> None:
    pid = read_pids(root).get(index)
    if pid is None or not pid_alive(pid):
        raise LauncherError(f"replica {index} is not running")
    _signal(pid, sig)
    if sig == signal.SIGKILL:
        while pid_alive(pid):
            _reap()
            time.sleep(0.01)


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _reap() -> None:
    """Collect exited children of this process so they do not linger as zombies."""
    try:
        while True:
            pid, _status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                return
    except ChildProcessError:
        return
