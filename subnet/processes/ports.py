"""Which of a subnet's ports are taken, and by whom, before `subnet start` spawns anything.

A replica that cannot bind its port dies with EADDRINUSE a moment after it was spawned;
worse, a status request to that port is then answered by whatever holds it (another
project's subnet). So the ports are probed first, and a taken one is reported with its
holder where the OS says: Linux lists listening sockets in ``/proc/net/tcp`` and
``/proc/net/tcp6`` (by inode) and each process's sockets in ``/proc/<pid>/fd``. Without
``/proc``, or for a process of another user, the holder is simply unknown.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
LISTEN = "0A"
"""The TCP state LISTEN as ``/proc/net/tcp`` writes it."""


@dataclass(frozen=True)
class TakenPort:
    host: str
    port: int
    holder: str
    """``pid 123 (python -m node ...)``, or why it is unknown."""

    def describe(self) -> str:
        return f"{self.host}:{self.port} (held by {self.holder})"


def port_free(host: str, port: int) -> bool:
    """True if a listener could bind ``host:port`` now (SO_REUSEADDR, as trio's listener)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def taken_ports(addresses: list[tuple[str, int]]) -> list[TakenPort]:
    """The addresses of ``addresses`` that cannot be bound, each with its holder."""
    taken = [(host, port) for host, port in addresses if not port_free(host, port)]
    if not taken:
        return []
    listeners = _listening_inodes()
    owners = _socket_owners({inode for port, inode in listeners if port in {p for _, p in taken}})
    result = []
    for host, port in taken:
        pids = sorted({owners[inode] for p, inode in listeners if p == port and inode in owners})
        if pids:
            holder = ", ".join(f"pid {pid} ({_command(pid)})" for pid in pids)
        elif any(p == port for p, _ in listeners):
            holder = "a process this user cannot inspect"
        else:
            holder = "an unknown process"
        result.append(TakenPort(host, port, holder))
    return result


def _listening_inodes() -> list[tuple[int, int]]:
    """(port, socket inode) of every listening TCP socket the kernel lists."""
    found = []
    for name in ("tcp", "tcp6"):
        try:
            lines = (PROC / "net" / name).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 10 or fields[3] != LISTEN:
                continue
            try:
                port = int(fields[1].rpartition(":")[2], 16)
                inode = int(fields[9])
            except ValueError:
                continue
            found.append((port, inode))
    return found


def _socket_owners(inodes: set[int]) -> dict[int, int]:
    """socket inode -> pid, for the processes whose descriptors this user may read."""
    owners: dict[int, int] = {}
    if not inodes:
        return owners
    try:
        pids = [int(entry) for entry in os.listdir(PROC) if entry.isdigit()]
    except OSError:
        return owners
    wanted = {f"socket:[{inode}]": inode for inode in inodes}
    for pid in sorted(pids):
        try:
            descriptors = os.listdir(PROC / str(pid) / "fd")
        except OSError:
            continue
        for fd in descriptors:
            try:
                target = os.readlink(PROC / str(pid) / "fd" / fd)
            except OSError:
                continue
            inode = wanted.get(target)
            if inode is not None:
                owners.setdefault(inode, pid)
    return owners


def command_line(pid: int) -> list[str] | None:
    """The process's argv, or None if it is gone or unreadable."""
    try:
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return None
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def _command(pid: int) -> str:
    argv = command_line(pid)
    if not argv:
        return "command unknown"
    text = " ".join(argv)
    return text if len(text) <= 120 else text[:117] + "..."
