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
from collections.abc import Awaitable, Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import trio
import wasmtime

from client import manage
from client.agent import Agent, Endpoint
from client.install import install_module
from client.network import LOCAL_DIR, endpoints
from node.storage import BlockStore
from subnet.processes import launcher
from subnet.processes.layout import replica_dir
from subnet.processes.status import wait_for_heights
from tests.processes import restored_state_hashes, subnet_cli
from tests.test_query_instances import CANISTER as QUERY_LOOPER
from tests.test_query_load_process import looping_query
from tests.test_time_slicing import SPIN_WASM, count, n_arg
from tests.test_time_slicing_install import WORKER, work
from vocab import management
from vocab.certificate import RequestResult
from vocab.codec import HEADER_BYTES
from vocab.framing import FramedStream
from vocab.genesis import Genesis
from vocab.messages import QueryRequest, QueryResponse, StatusReply, StatusRequest
from vocab.principal import Principal

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


async def _watch_heights(target: Endpoint, heights: list[tuple[float, int]]) -> None:
    """Append (time, height) to ``heights`` each time ``target``'s finalized height moves."""
    stream = FramedStream(await trio.open_tcp_stream(target.host, target.port))
    while True:
        await stream.send(StatusRequest())
        status = await stream.receive()
        assert isinstance(status, StatusReply)
        if not heights or status.finalized_height != heights[-1][1]:
            heights.append((time.monotonic(), status.finalized_height))
        await trio.sleep(0.02)


SPIN_ITERATIONS = 50_000_000
"""The looping update: 8 instructions an iteration, 400M in all, which at the default slice
(40M instructions per second of block interval: 4M at 100 ms) runs over 100 rounds. To
its 40B limit it would run 10,000 rounds (about 19 minutes); the rounds are the same."""
QUERY_CLIENTS = 4


async def _looping_load(genesis: Genesis) -> dict[str, Any]:
    """Four clients loop queries to the query limit against replica 0 and an update loops
    over a hundred rounds, while a counter on a third canister is incremented through
    replica 0 and replica 0's finalized height is watched."""
    target = endpoints(genesis)[0]
    agent = Agent([target], genesis.committee)
    canisters = []
    for module in (bytes(wasmtime.wat2wasm(QUERY_LOOPER)), bytes(SPIN_WASM), bytes(SPIN_WASM)):
        canister = await manage.create_canister(agent, 10**13)
        await install_module(agent, canister, "install", module, b"")
        canisters.append(canister)
    looper, spinner, counter = canisters
    heights: list[tuple[float, int]] = []
    latencies: list[float] = []
    answers: list[QueryResponse] = []
    spun: list[Any] = []
    sent: list[int] = []
    nonce = 0

    async def query_client() -> None:
        nonlocal nonce
        stream = FramedStream(await trio.open_tcp_stream(target.host, target.port))
        while True:
            nonce += 1
            await stream.send(QueryRequest(looping_query(looper, nonce)))
            sent.append(nonce)
            answer = await stream.receive()
            assert isinstance(answer, QueryResponse)
            answers.append(answer)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(_watch_heights, target, heights)
        for _ in range(QUERY_CLIENTS):
            nursery.start_soon(query_client)
        with trio.fail_after(30):  # every query client has a looping query out
            while len(sent) < QUERY_CLIENTS:
                await trio.sleep(0.01)
        started = time.monotonic()
        done = trio.Event()

        async def spin() -> None:
            spun.append(await agent.call(spinner, "spin", n_arg(SPIN_ITERATIONS), timeout=180))
            done.set()

        nursery.start_soon(spin)
        increments = 0
        with trio.fail_after(240):
            while not done.is_set():
                before = time.monotonic()
                answer = await agent.call(counter, "inc", b"", timeout=30)
                latencies.append(time.monotonic() - before)
                assert answer.status == "replied", answer
                increments += 1
                assert count(answer.reply) == increments
            while not answers:  # a looping query takes seconds at its low priority
                await trio.sleep(0.1)
        ended = time.monotonic()
        nursery.cancel_scope.cancel()
    window = [(t, h) for t, h in heights if t >= started] + [(ended, -1)]
    return {
        "spin": spun[0],
        "rounds": window[-2][1] - window[0][1],
        "gaps": [b[0] - a[0] for a, b in zip(window, window[1:])],
        "latencies": latencies,
        "answers": answers,
        "seconds": ended - started,
    }


def test_a_looping_update_and_looping_queries_leave_blocks_and_updates_on_time(subnet: Path) -> None:
    """The acceptance probe: blocks keep coming (no gap above 1 s between finalized heights)
    and a counter update elsewhere answers within 2 s while an update loops over a hundred
    rounds (time slicing) and four clients loop queries to their limit (query threads)."""
    report = trio.run(_looping_load, genesis_of(subnet))
    print(
        f"looping update over {report['rounds']} heights in {report['seconds']:.1f} s; largest gap "
        f"{max(report['gaps']):.2f} s; {len(report['latencies'])} counter updates, slowest "
        f"{max(report['latencies']):.2f} s; {len(report['answers'])} looping queries answered"
    )
    assert report["spin"].status == "replied", report["spin"]
    assert report["rounds"] >= SPIN_ITERATIONS * 8 // (40_000_000 * BLOCK_TIME_MS // 1000) - 1
    assert any(
        a.status == "rejected" and "instruction" in a.reject_message.lower() for a in report["answers"]
    ), [(a.status, a.reject_message) for a in report["answers"]]
    assert max(report["gaps"]) < 1.0, sorted(report["gaps"])[-5:]
    assert max(report["latencies"]) < 2.0, sorted(report["latencies"])[-5:]
    still_finalizing(subnet)


UPGRADE_ITERATIONS = 50_000_000
"""The looping post_upgrade: 400M instructions, over 100 rounds at the default slice (4M)."""


async def _while_counting(
    genesis: Genesis, modules: list[bytes], job: Callable[[Agent, list[Principal]], Awaitable[RequestResult]]
) -> dict[str, Any]:
    """Run ``job`` on canisters installed from ``modules`` while a counter on another canister
    is incremented through replica 0 and replica 0's finalized height is watched: its
    result, the rounds it spanned, the gaps between heights and the counter's latencies."""
    target = endpoints(genesis)[0]
    agent = Agent([target], genesis.committee)
    canisters = []
    for module in [*modules, bytes(SPIN_WASM)]:
        canister = await manage.create_canister(agent, 10**13)
        await install_module(agent, canister, "install", module, b"")
        canisters.append(canister)
    counter = canisters.pop()
    heights: list[tuple[float, int]] = []
    latencies: list[float] = []
    done: list[RequestResult] = []

    async with trio.open_nursery() as nursery:
        nursery.start_soon(_watch_heights, target, heights)
        started = time.monotonic()
        finished = trio.Event()

        async def run_job() -> None:
            done.append(await job(agent, canisters))
            finished.set()

        nursery.start_soon(run_job)
        increments = 0
        with trio.fail_after(240):
            while not finished.is_set():
                before = time.monotonic()
                answer = await agent.call(counter, "inc", b"", timeout=30)
                latencies.append(time.monotonic() - before)
                assert answer.status == "replied", answer
                increments += 1
                assert count(answer.reply) == increments
        ended = time.monotonic()
        nursery.cancel_scope.cancel()
    window = [(t, h) for t, h in heights if t >= started] + [(ended, -1)]
    return {
        "result": done[0],
        "agent": agent,
        "canisters": canisters,
        "rounds": window[-2][1] - window[0][1],
        "gaps": [b[0] - a[0] for a, b in zip(window, window[1:])],
        "latencies": latencies,
        "seconds": ended - started,
    }


async def _looping_upgrade(genesis: Genesis) -> dict[str, Any]:
    """Upgrade a canister whose ``canister_post_upgrade`` loops over a hundred rounds (time
    slicing of install_code) while a counter elsewhere is incremented."""

    async def upgrade(agent: Agent, canisters: list[Principal]) -> RequestResult:
        args = management.InstallCodeArgs("upgrade", canisters[0], WORKER, work(UPGRADE_ITERATIONS, 77))
        return await agent.call(
            Principal.management(),
            management.INSTALL_CODE,
            management.encode_args(management.INSTALL_CODE, args),
            timeout=180,
        )

    report = await _while_counting(genesis, [bytes(WORKER)], upgrade)
    report["mark"] = await report["agent"].query(report["canisters"][0], "get", b"")
    return report


def test_a_looping_post_upgrade_leaves_blocks_and_updates_on_time(subnet: Path) -> None:
    """An upgrade whose post_upgrade loops over a hundred rounds (time slicing covers
    install_code): no gap above 1 s between finalized heights, a counter update elsewhere
    answering within 2 s, and the upgrade completing with the same certified state hash on
    every replica."""
    report = trio.run(_looping_upgrade, genesis_of(subnet))
    print(
        f"looping post_upgrade over {report['rounds']} heights in {report['seconds']:.1f} s; largest gap "
        f"{max(report['gaps']):.2f} s; {len(report['latencies'])} counter updates, slowest "
        f"{max(report['latencies']):.2f} s"
    )
    result = report["result"]
    assert result.status == "replied", result
    assert report["mark"].status == "replied" and report["mark"].reply == work(0, 77)  # counter 0, mark 77
    assert report["rounds"] >= UPGRADE_ITERATIONS * 8 // (40_000_000 * BLOCK_TIME_MS // 1000) - 1
    assert max(report["gaps"]) < 1.0, sorted(report["gaps"])[-5:]
    assert max(report["latencies"]) < 2.0, sorted(report["latencies"])[-5:]
    top = still_finalizing(subnet)
    stores = [BlockStore(replica_dir(subnet / LOCAL_DIR, i) / "replica.db") for i in range(4)]
    try:
        shared = set.intersection(*(set(store.certified_heights()) for store in stores))
        after = sorted(h for h in shared if result.height <= h <= top)
        assert after, "no height from the upgrade's on certified by all four replicas"
        for height in after:
            certified = {store.certificate(height)[0] for store in stores}  # type: ignore[index]
            assert len(certified) == 1, f"state hashes differ at height {height}"
    finally:
        for store in stores:
            store.close()


def test_every_replica_ends_with_the_same_state(subnet: Path) -> None:
    """Last: after the probes, the four stored chains replay to one state hash."""
    subnet_cli(subnet, "stop")
    assert len(restored_state_hashes(subnet / LOCAL_DIR)) == 1
    subnet_cli(subnet, "start", "--background")
    still_finalizing(subnet)
