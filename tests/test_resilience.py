"""The resilience tier (``make test-resilience``): issue #17's probes, run as an attacker
and a careless user ran them, on one subnet of four replica processes with a 100 ms block
time, each with the behaviour the issue accepts.

The probes share one subnet (starting four replicas is the expensive part), so they run in
file order on one worker (``--dist loadfile``) and each leaves the subnet as it found it:
four replicas up, finalizing. After every probe the subnet is checked to still make blocks.

Real processes in real time: waits are on conditions with a bound, never fixed sleeps.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
import trio

from client.network import LOCAL_DIR
from subnet.processes import launcher
from subnet.processes.layout import replica_dir
from subnet.processes.status import wait_for_heights
from tests.processes import restored_state_hashes, subnet_cli
from vocab.codec import HEADER_BYTES
from vocab.genesis import Genesis

pytestmark = [pytest.mark.slow, pytest.mark.resilience]

BLOCK_TIME_MS = 100
EIGHT_MIB = 8 * 1024 * 1024


@pytest.fixture(scope="module")
def subnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    project = tmp_path_factory.mktemp("resilience")
    saved = os.environ.get("SUBNET_CONFIG_DIR")
    os.environ["SUBNET_CONFIG_DIR"] = str(project / "config")
    port = launcher.free_port_range(4)
    subnet_cli(
        project,
        "start",
        "--background",
        "--replicas",
        "4",
        "--port",
        str(port),
        "--block-time",
        str(BLOCK_TIME_MS),
    )
    try:
        yield project
    finally:
        subnet_cli(project, "stop", check=False)
        if saved is None:
            os.environ.pop("SUBNET_CONFIG_DIR", None)
        else:
            os.environ["SUBNET_CONFIG_DIR"] = saved
        assert launcher.running(project / LOCAL_DIR) == []


def genesis_of(project: Path) -> Genesis:
    return Genesis.from_json((project / LOCAL_DIR / "genesis.json").read_text())


def port_of(genesis: Genesis, index: int) -> int:
    return int(genesis.nodes[index].address.rpartition(":")[2])


def still_finalizing(project: Path) -> int:
    """Every replica answers and the subnet makes new blocks: the height all four reach."""
    genesis = genesis_of(project)
    start = trio.run(partial(wait_for_heights, genesis, within=None, at_least=1, timeout=30))
    return trio.run(partial(wait_for_heights, genesis, within=2, at_least=start + 5, timeout=30))


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for pid {pid}")


def memory_module(pages: int) -> bytes:
    """The smallest module that declares ``pages`` of initial memory (and nothing else)."""

    def uleb(value: int) -> bytes:
        out = bytearray()
        while True:
            byte = value & 0x7F
            value >>= 7
            out.append(byte | (0x80 if value else 0))
            if not value:
                return bytes(out)

    limits = b"\x00" + uleb(pages)
    section = b"\x01" + limits  # one memory
    return b"\x00asm\x01\x00\x00\x00" + b"\x05" + uleb(len(section)) + section


def test_a_module_declaring_4_gib_of_memory_is_refused_with_the_reason(subnet: Path) -> None:
    project = subnet
    (project / "big.wasm").write_bytes(memory_module(65536))  # 4 GiB in 64 KiB pages
    (project / "big.did").write_text("service : {}\n")
    (project / "subnet.json").write_text(
        json.dumps(
            {"version": 1, "canisters": {"big": {"type": "custom", "wasm": "big.wasm", "candid": "big.did"}}}
        )
    )
    subnet_cli(project, "canister", "create", "big")
    pids = launcher.read_pids(subnet / LOCAL_DIR)
    refused = subnet_cli(project, "canister", "install", "big", check=False)
    assert refused.returncode == 1
    assert "IC0539" in refused.stderr
    assert f"declares an initial Wasm memory of {4 << 30} bytes" in refused.stderr
    assert f"limit of {3 << 30} bytes" in refused.stderr
    # nothing was allocated for it: every replica stays small
    assert all(rss_bytes(pid) < 300 << 20 for pid in pids.values())
    info = subnet_cli(project, "canister", "status", "big").stdout
    assert "Module hash: None" in info
    still_finalizing(subnet)


async def _half_send(port: int, count: int) -> int:
    """Open ``count`` connections that each announce an 8 MiB frame and send all of it but
    its last byte; the number the replica closed on us."""
    closed = 0
    streams: list[trio.SocketStream] = []
    header = EIGHT_MIB.to_bytes(HEADER_BYTES, "big")
    body = bytes(EIGHT_MIB - 1)
    try:
        for _ in range(count):
            try:
                stream = await trio.open_tcp_stream("127.0.0.1", port)
            except OSError:
                closed += 1  # refused at the connection limit
                continue
            streams.append(stream)
            try:
                with trio.move_on_after(2):
                    await stream.send_all(header + body)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                closed += 1
        return closed
    finally:
        for stream in streams:
            with contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError):
                await stream.aclose()


def test_a_hundred_half_sent_8_mib_frames_leave_a_replica_under_300_mb(subnet: Path) -> None:
    genesis = genesis_of(subnet)
    pid = launcher.read_pids(subnet / LOCAL_DIR)[0]
    before = rss_bytes(pid)
    peak = before

    async def probe() -> int:
        nonlocal peak
        async with trio.open_nursery() as nursery:

            async def watch() -> None:
                nonlocal peak
                while True:
                    peak = max(peak, rss_bytes(pid))
                    await trio.sleep(0.05)

            nursery.start_soon(watch)
            closed = await _half_send(port_of(genesis, 0), 100)
            nursery.cancel_scope.cancel()
        return closed

    closed = trio.run(probe)
    print(f"replica 0: {before >> 20} MB before, peak {peak >> 20} MB; {closed} of 100 closed on us")
    assert peak < 300 << 20, f"replica 0 grew from {before >> 20} MB to {peak >> 20} MB"
    still_finalizing(subnet)


def test_subnet_start_in_a_second_project_on_taken_ports_exits_1_naming_them(subnet: Path) -> None:
    genesis = genesis_of(subnet)
    port = port_of(genesis, 0)
    pids = launcher.read_pids(subnet / LOCAL_DIR)
    other = subnet.parent / "second-project"  # beside it: not inside the first project
    other.mkdir()
    refused = subnet_cli(other, "start", "--background", "--port", str(port), check=False)
    assert refused.returncode == 1
    for index in range(4):
        assert f"127.0.0.1:{port + index} (held by pid {pids[index]} (" in refused.stderr
    assert not (other / LOCAL_DIR).exists()
    assert launcher.read_pids(subnet / LOCAL_DIR) == pids  # the first subnet is untouched
    still_finalizing(subnet)


def test_a_replica_whose_database_was_overwritten_comes_back_from_peers(subnet: Path) -> None:
    root = subnet / LOCAL_DIR
    genesis = genesis_of(subnet)
    trio.run(partial(wait_for_heights, genesis, within=None, at_least=40, timeout=60))
    pids = launcher.read_pids(root)
    launcher.stop_processes(root, indices=[3])
    database = replica_dir(root, 3) / "replica.db"
    size = database.stat().st_size
    with open(database, "r+b") as file:
        file.seek(size // 3)
        file.write(b"\xde\xad\xbe\xef" * (size // 12))
    started = time.monotonic()
    subnet_cli(subnet, "start", "--background")  # replica 3 only
    assert {p.index: p.pid for p in launcher.running(root)}.items() >= {i: pids[i] for i in range(3)}.items()
    top = trio.run(partial(wait_for_heights, genesis, within=2, at_least=1, timeout=60))
    rows = json.loads(subnet_cli(subnet, "status", "--output", "json").stdout)["replicas"]
    assert all(row["up"] for row in rows) and rows[3]["finalized_height"] >= top
    log = (replica_dir(root, 3) / "replica.log").read_text()
    assert f"damaged_store: {database}: damaged" in log and "Traceback" not in log
    print(f"replica 3 back within {time.monotonic() - started:.1f} s")
    still_finalizing(subnet)


def test_every_replica_ends_with_the_same_state(subnet: Path) -> None:
    """Last: after the probes, the four stored chains replay to one state hash."""
    subnet_cli(subnet, "stop")
    assert len(restored_state_hashes(subnet / LOCAL_DIR)) == 1
    subnet_cli(subnet, "start", "--background")
    still_finalizing(subnet)
