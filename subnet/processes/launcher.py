"""Replica processes of a local subnet: spawn, signal, stop, and find them again.

One OS process per replica (``python -m node``), the way `dfx start` runs a replica; their
pids are kept in ``pids.json`` so that a later command finds them. ``stop_processes``
returns only when every replica process is gone. The files they use are described in
``subnet.processes.layout``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from subnet.processes.layout import replica_dir
from subnet.processes.ports import command_line
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


def is_replica_of(pid: int, root: Path, index: int) -> bool:
    """True if ``pid`` is alive and is replica ``index`` of the subnet under ``root``.

    ``pids.json`` outlives its processes, and the OS reuses pids: a recorded pid may now
    belong to anything, another project's replica included. Where ``/proc`` shows the
    command line, the process must be ``-m node --data-dir`` this replica's directory;
    without ``/proc`` a live pid is taken at its word."""
    if not pid_alive(pid):
        return False
    argv = command_line(pid)
    if argv is None:
        return not Path("/proc/self").exists()
    try:
        data_dir = Path(argv[argv.index("--data-dir") + 1])
    except (ValueError, IndexError):
        return False
    if "node" not in argv or not data_dir.is_absolute():
        try:
            data_dir = Path(os.readlink(f"/proc/{pid}/cwd")) / data_dir
        except OSError:
            return False
    return "node" in argv and os.path.realpath(data_dir) == os.path.realpath(replica_dir(root, index))


def running(root: Path) -> list[ReplicaProcess]:
    """The replicas of this subnet whose processes are alive (checked, not just recorded)."""
    return [
        ReplicaProcess(i, pid) for i, pid in sorted(read_pids(root).items()) if is_replica_of(pid, root, i)
    ]


def spawn_replica(root: Path, index: int) -> int:
    """Start replica ``index`` as a detached process; its output goes to its log file."""
    pid = _spawn(root, replica_dir(root, index))
    pids = read_pids(root)
    pids[index] = pid
    write_pids(root, pids)
    return pid


def spawn_twin(root: Path, index: int) -> tuple[int, str]:
    """Start a twin of replica ``index`` for fault injection: another process with its
    key, started from a copy of its database as it is now, listening on a port of its
    own; (its pid, its ``HOST:PORT``). It is not in the pid file: whoever starts it stops
    it (``kill_twin``). Its files are in ``twin-<index>/`` beside the replicas'."""
    source = replica_dir(root, index)
    directory = root / f"twin-{index}"
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    shutil.copy2(source / "node_key.pem", directory / "node_key.pem")
    # SQLite's backup API: a consistent copy of a database another process is writing.
    with (
        closing(sqlite3.connect(source / "replica.db")) as live,
        closing(sqlite3.connect(directory / "replica.db")) as copy,
    ):
        live.backup(copy)
    address = f"127.0.0.1:{free_port_range(1)}"
    return _spawn(root, directory, ["--listen", address]), address


def kill_twin(pid: int) -> None:
    """Stop a twin started by ``spawn_twin`` (SIGKILL: it is a ghost, nothing of it is kept)."""
    _kill_and_reap(pid)


def _spawn(root: Path, directory: Path, extra: list[str] | None = None) -> int:
    """A replica process on the data in ``directory``, detached; output to its log file."""
    directory.mkdir(parents=True, exist_ok=True)
    # The child keeps its own copy of the log's descriptor; ours closes with the block.
    with open(directory / "replica.log", "ab") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "node",
                "--data-dir",
                str(directory.resolve()),
                "--genesis",
                str((root / "genesis.json").resolve()),
                *(extra or []),
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return process.pid


def stop_processes(
    root: Path, grace: float = STOP_GRACE_SECONDS, indices: list[int] | None = None
) -> list[int]:
    """SIGTERM every replica (or those of ``indices``), SIGKILL what is left after
    ``grace``; return the stopped indices.

    This waits on real processes, so it reads the wall clock; it is orchestration, not part
    of what replicas compute.
    """
    alive = {
        process.index: process.pid for process in running(root) if indices is None or process.index in indices
    }
    for pid in alive.values():
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while any(pid_alive(pid) for pid in alive.values()) and time.monotonic() < deadline:
        reap()
        time.sleep(0.05)
    for pid in alive.values():
        if pid_alive(pid):
            _signal(pid, signal.SIGKILL)
    while any(pid_alive(pid) for pid in alive.values()):
        reap()
        time.sleep(0.02)
    if indices is None:
        (root / "pids.json").unlink(missing_ok=True)
    else:
        pids = read_pids(root)
        for index in alive:
            pids.pop(index, None)
        write_pids(root, pids)
    return sorted(alive)


def log_tail(root: Path, index: int, lines: int = 12) -> str:
    """The last ``lines`` lines of replica ``index``'s log (what it said before it died)."""
    path = replica_dir(root, index) / "replica.log"
    try:
        with open(path, "rb") as log:
            log.seek(0, os.SEEK_END)
            size = log.tell()
            log.seek(max(0, size - 16_384))
            text = log.read().decode(errors="replace")
    except OSError:
        return f"(no log at {path})"
    return "\n".join(text.splitlines()[-lines:])


def cpu_ticks(pid: int) -> int | None:
    """User plus system CPU time the process has used, in clock ticks (None: unknown):
    a replica restoring a large state shows progress here before it answers."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, ValueError, IndexError):
        return None


def kill_replica(root: Path, index: int, sig: int = signal.SIGKILL) -> None:
    pid = read_pids(root).get(index)
    if pid is None or not is_replica_of(pid, root, index):
        raise LauncherError(f"replica {index} is not running")
    if sig == signal.SIGKILL:
        _kill_and_reap(pid)
    else:
        _signal(pid, sig)


def _kill_and_reap(pid: int) -> None:
    """SIGKILL ``pid`` and wait until it is gone (reaped if it is our child)."""
    _signal(pid, signal.SIGKILL)
    while pid_alive(pid):
        reap()
        time.sleep(0.01)


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def reap() -> None:
    """Collect exited children of this process so they do not linger as zombies."""
    try:
        while True:
            pid, _status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                return
    except ChildProcessError:
        return
