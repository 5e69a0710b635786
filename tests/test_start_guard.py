"""`subnet start` on a busy machine: ports taken before anything is spawned, another
subnet answering on our ports, a replica that dies at start while the others stay up.

Real processes in real time: waits are on conditions with a bound, never fixed sleeps.
"""

from __future__ import annotations

import json
import subprocess
import sys
from functools import partial
from pathlib import Path

import pytest
import trio

from client.network import LOCAL_DIR
from subnet.processes import launcher
from subnet.processes.layout import create_subnet, replica_dir
from subnet.processes.ports import taken_ports
from subnet.processes.supervision import wait_for_replicas
from tests.processes import subnet_cli
from vocab.genesis import Genesis

pytestmark = pytest.mark.slow  # replica processes: the slow tier (tests/README.md)


def test_taken_ports_are_named_with_their_holder_and_nothing_is_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUBNET_CONFIG_DIR", str(tmp_path / "config"))
    base = launcher.free_port_range(4)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import socket, sys\n"
            f"s = socket.socket(); s.bind(('127.0.0.1', {base + 2})); s.listen()\n"
            "print('ready', flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        [taken] = taken_ports([("127.0.0.1", base + offset) for offset in range(4)])
        assert taken.port == base + 2 and f"pid {holder.pid} (" in taken.holder
        result = subnet_cli(tmp_path, "start", "--background", "--port", str(base), check=False)
        assert result.returncode == 1
        assert f"127.0.0.1:{base + 2} (held by pid {holder.pid}" in result.stderr
        assert "Nothing was started" in result.stderr
        assert not (tmp_path / LOCAL_DIR).exists()  # no genesis, no keys, no pids
    finally:
        holder.communicate("")


def test_another_subnet_on_our_ports_and_a_replica_that_dies_at_start(local_subnet: Path) -> None:
    root = local_subnet / LOCAL_DIR
    genesis = Genesis.from_json((root / "genesis.json").read_text())
    port = int(genesis.nodes[0].address.rpartition(":")[2])
    pids = launcher.read_pids(root)

    # A second project on the same ports: refused, naming the first subnet's replicas.
    other = local_subnet / "other"
    other.mkdir()
    refused = subnet_cli(other, "start", "--background", "--port", str(port), check=False)
    assert refused.returncode == 1
    for index in range(4):
        assert f"127.0.0.1:{port + index} (held by pid {pids[index]} (" in refused.stderr
    assert "-m node --data-dir" in refused.stderr
    # Its status (a genesis on the same ports, never started) shows none of those pids.
    create_subnet(other / LOCAL_DIR, 4, port, 50)
    status = subnet_cli(other, "status", "--output", "json", check=False)
    assert status.returncode == 1
    rows = json.loads(status.stdout)["replicas"]
    assert [row["pid"] for row in rows] == [None] * 4 and not any(row["up"] for row in rows)
    assert all(f"pid {pids[row['replica']]} of another subnet" in row["last_error"] for row in rows)

    # Replica 3 cannot start (its node key is damaged): reported with its log, and the
    # three healthy replicas keep running, untouched.
    launcher.stop_processes(root, indices=[3])
    key_file = replica_dir(root, 3) / "node_key.pem"
    key = key_file.read_bytes()
    key_file.write_text("not a key\n")
    failed = subnet_cli(local_subnet, "start", "--background", check=False)
    assert failed.returncode == 1
    assert "replica 3 did not come up (replicas 0, 1, 2 are running" in failed.stderr
    assert "replica cannot start" in failed.stderr  # the tail of its log
    assert {p.index: p.pid for p in launcher.running(root)} == {i: pids[i] for i in range(3)}
    rows = json.loads(subnet_cli(local_subnet, "status", "--output", "json", check=False).stdout)["replicas"]
    assert [row["up"] for row in rows] == [True, True, True, False]
    assert rows[3]["pid"] is None

    # With the key back, only replica 3 is started; the others keep their pids.
    key_file.write_bytes(key)
    subnet_cli(local_subnet, "start", "--background")
    after = {p.index: p.pid for p in launcher.running(root)}
    assert sorted(after) == [0, 1, 2, 3] and all(after[i] == pids[i] for i in range(3))


def test_the_wait_follows_progress_not_a_fixed_time(tmp_path: Path) -> None:
    """A starting replica that uses CPU is waited for past the stall limit; one that does
    nothing is given up after it; one that exits is reported as exited."""
    root = tmp_path / LOCAL_DIR
    genesis = create_subnet(root, 2, launcher.free_port_range(2), 50)
    busy = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time\nend = time.monotonic() + 2.5\nwhile time.monotonic() < end: pass",
        ]
    )
    idle = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    lines: list[str] = []
    try:
        failures = trio.run(
            partial(
                wait_for_replicas,
                root,
                genesis,
                {0: busy.pid, 1: idle.pid},
                lines.append,
                stall=1.5,
                report_every=0.5,
            )
        )
    finally:
        idle.kill()
        idle.wait()
        busy.wait()
    assert failures == {0: f"its process {busy.pid} exited", 1: "no progress for 1.5 s"}
    assert any(line.startswith("replica 0: starting for ") for line in lines)
