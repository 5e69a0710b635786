"""The subnet a process benchmark measures: fresh replica processes in a temporary
directory, started as ``subnet start`` starts them, stopped when the benchmark ends.
Every process benchmark (``consensus``, ``canister``, ``paths``) starts its subnet here."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from client.network import LOCAL_DIR
from subnet.processes import launcher
from subnet.processes.layout import replica_dir
from subnet.processes.supervision import start_subnet
from vocab.errors import SubnetError
from vocab.genesis import Genesis

__all__ = ["benchmark_subnet"]


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError as exc:
        return f"({exc})"


@contextmanager
def benchmark_subnet(
    prefix: str, replicas: int, block_time_ms: int, port: int = 0
) -> Iterator[tuple[Genesis, list[int]]]:
    """A fresh local subnet of replica processes in a temporary directory, its genesis and
    the replicas' pids; stopped when the block ends. A start that fails exits with the tail
    of every replica's log."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        root = Path(tmp) / LOCAL_DIR
        try:
            try:
                genesis = start_subnet(
                    root,
                    replicas=replicas,
                    port=port or launcher.free_port_range(replicas),
                    block_time_ms=block_time_ms,
                    clean=True,
                )
            except SubnetError as exc:
                logs = "".join(
                    f"\n--- replica-{i}/replica.log (tail) ---\n"
                    + _tail(replica_dir(root, i) / "replica.log")
                    for i in range(replicas)
                )
                raise SystemExit(f"subnet start failed: {exc}{logs}") from exc
            yield genesis, [pid for _, pid in sorted(launcher.read_pids(root).items())]
        finally:
            launcher.stop_processes(root)
