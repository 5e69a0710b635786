"""`make demo`: the walkthrough a new user would do, with the project's own commands.

It starts four replica processes, scaffolds a project, deploys a Motoko counter through
consensus, calls it, upgrades it to a version with a new method while keeping its count,
publishes a Sui Move package on the same subnet and changes a shared object with Move
calls (read back with every replica agreeing), kills one replica with SIGKILL and keeps calling, brings it back, compares the latency of
queries (one replica answers, signed) with updates (consensus, certified), prints a
summary and stops the subnet, whatever happened before.

Everything lives under ``.subnet/demo/`` in the current directory: its identities, the
project and the subnet's data; nothing of the user's is touched. Each step prints the
command it runs, the way a user would type it.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import signal
import statistics
import sys
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import trio

from client.agent import Agent
from client.canister_ids import CanisterIds
from client.identity import IdentityStore
from client.network import LOCAL_DIR, endpoints, load_genesis
from subnet.cli import main as subnet_main
from subnet.processes import launcher
from subnet.processes.status import wait_for_heights
from subnet.samples import move_module, source
from vocab import candid

PROJECT = "counter"
CANISTER = f"{PROJECT}_backend"
REPLICAS = 4
LATENCY_SAMPLES = 20
CATCH_UP_TIMEOUT = 60.0


def run(*argv: str) -> str:
    """Run ``subnet ARGV`` in this process, echoing the command and its output."""
    print(f"$ subnet {' '.join(argv)}")
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = subnet_main(list(argv))
    output = buffer.getvalue()
    if output.strip():
        print(output.rstrip("\n"))
    if code != 0:
        raise SystemExit(f"demo step failed with exit code {code}: subnet {' '.join(argv)}")
    return output


def section(title: str) -> None:
    print(f"\n== {title} ==")


@contextlib.contextmanager
def inside(directory: Path) -> Iterator[None]:
    previous = Path.cwd()
    os.chdir(directory)
    try:
        yield
    finally:
        os.chdir(previous)


def write(path: Path, text: str, what: str) -> None:
    print(f"# {what}: {path}")
    path.write_text(text)


def main() -> int:
    base = (Path(".subnet") / "demo").resolve()
    shutil.rmtree(base, ignore_errors=True)
    base.mkdir(parents=True)
    os.environ["SUBNET_CONFIG_DIR"] = str(base / "config")

    section("An identity: an Ed25519 key, its IC principal and its Sui address")
    run("identity", "new", "alice")
    run("identity", "use", "alice")
    run("identity", "get-principal")

    section("A project, like `dfx new`")
    with inside(base):
        run("new", PROJECT)
    project = base / PROJECT
    main_mo = project / "src" / CANISTER / "main.mo"
    write(main_mo, source("counter_v1"), "the backend becomes a counter")

    with inside(project):
        port = launcher.free_port_range(REPLICAS)
        section(f"A subnet of {REPLICAS} replica processes (f = 1), in the background")
        run("start", "--background", "--clean", "--replicas", str(REPLICAS), "--port", str(port))
        try:
            summary = walkthrough(project, main_mo)
        finally:
            section("Stop")
            run("stop")
    section("Summary")
    width = max(len(label) for label, _ in summary)
    for label, value in summary:
        print(f"{label:<{width}}  {value}")
    print(f"\nThe project, its subnet's data and the identities are under {base}")
    return 0


def walkthrough(project: Path, main_mo: Path) -> list[tuple[str, str]]:
    summary: list[tuple[str, str]] = []
    section("Deploy: create, build, install, each step through consensus")
    run("deploy")
    canister_id = CanisterIds.in_directory(project).resolve(CANISTER, "local")
    summary.append(("canister", f"{CANISTER} {canister_id}"))

    section("Calls: updates go through consensus, the query takes the fast path")
    for _ in range(3):
        run("canister", "call", CANISTER, "increment")
    count = run("canister", "call", CANISTER, "get").strip()
    summary.append(("count after 3 increments", count))

    section("Upgrade to a version with a new method, `add`; the count is kept")
    write(main_mo, source("counter_v2"), "version 2 of the counter")
    run("deploy")
    run("canister", "call", CANISTER, "add", "(10)")
    upgraded = run("canister", "call", CANISTER, "get", "--replicas-agree", "3").strip()
    summary.append(("count after upgrade + add(10)", f"{upgraded}, 3 replicas agreeing"))

    summary += sui_walkthrough(project.parent / "move")

    section("Kill replica 0 with SIGKILL; the subnet keeps going with 3 of 4")
    root = project / LOCAL_DIR
    launcher.kill_replica(root, 0, signal.SIGKILL)
    print("# kill -9 replica 0")
    run("canister", "call", CANISTER, "increment")
    after_kill = run("canister", "call", CANISTER, "get").strip()
    summary.append(("count with replica 0 dead", after_kill))

    section("Latency: queries (one replica, signed) against updates (consensus, certified)")
    updates, queries = trio.run(measure_latency, project)
    update_p50, query_p50 = statistics.median(updates), statistics.median(queries)
    print(f"update p50 {update_p50 * 1000:8.1f} ms over {len(updates)} calls")
    print(f"query  p50 {query_p50 * 1000:8.1f} ms over {len(queries)} calls")
    summary.append(("update p50 (consensus)", f"{update_p50 * 1000:.1f} ms"))
    summary.append(
        ("query p50 (fast path)", f"{query_p50 * 1000:.1f} ms ({update_p50 / query_p50:.0f}x faster)")
    )

    section("Restart replica 0: it replays its blocks and catches up from its peers")
    run("start", "--background")
    heights = trio.run(partial(wait_for_heights, load_genesis(), within=2, timeout=CATCH_UP_TIMEOUT))
    run("status")
    final = run("canister", "call", CANISTER, "get", "--replicas-agree", str(REPLICAS)).strip()
    summary.append(("replica 0 after restart", f"caught up at height {heights}"))
    summary.append(("final count, all 4 replicas agreeing", final))
    run("canister", "status", CANISTER)
    run("canister", "info", CANISTER)
    return summary


def sui_walkthrough(folder: Path) -> list[tuple[str, str]]:
    """A Sui Move package on the same subnet: published, a shared counter created and
    incremented, read with every replica agreeing."""
    section("Sui: a Move package, like `sui move new` / `sui client publish`")
    folder.mkdir()
    with inside(folder):
        run("move", "new", "counter")
    package_dir = folder / "counter"
    write(package_dir / "sources" / "counter.move", move_module("counter"), "a shared counter in Sui Move")
    published = run("client", "publish", str(package_dir))
    package = field(published, "PackageID")

    section("Sui: a shared object, changed through consensus by Move calls")
    created = run("client", "call", "--package", package, "--module", "counter", "--function", "create")
    counter = field(created, "ObjectID")
    for _ in range(2):
        run(
            "client",
            "call",
            "--package",
            package,
            "--module",
            "counter",
            "--function",
            "increment",
            "--args",
            counter,
        )
    shown = json.loads(
        run("client", "object", counter, "--replicas-agree", str(REPLICAS), "--output", "json")
    )
    return [
        ("Sui package", package),
        (
            "Sui counter after 2 increments",
            f"{shown['content']['fields']['value']} (version {shown['version']}, {REPLICAS} replicas agreeing)",
        ),
    ]


def field(output: str, name: str) -> str:
    """The value of the first ``│ NAME: value`` line of `sui client`-style output."""
    for line in output.splitlines():
        key, _, value = line.strip(" │").partition(": ")
        if key == name:
            return value
    raise SystemExit(f"demo step printed no {name}")


async def measure_latency(project: Path) -> tuple[list[float], list[float]]:
    """Wall-clock latency of the counter's update and query, one call at a time.

    This is the demo's stopwatch, not part of any replica: the replicas never read a clock
    for their state; only this client measures how long answers take.
    """
    with inside(project):
        genesis = load_genesis()
        canister_id = CanisterIds.in_directory().resolve(CANISTER, "local")
    agent = Agent(endpoints(genesis), genesis.committee, IdentityStore().current())
    empty = candid.encode([], [])
    updates: list[float] = []
    queries: list[float] = []
    for _ in range(LATENCY_SAMPLES):
        started = time.perf_counter()
        (await agent.call(canister_id, "increment", empty)).raise_if_rejected()
        updates.append(time.perf_counter() - started)
    for _ in range(LATENCY_SAMPLES * 5):
        started = time.perf_counter()
        answer = await agent.query(canister_id, "get", empty)
        if answer.status != "replied":
            raise SystemExit(f"demo: the query was rejected: {answer.reject_message}")
        queries.append(time.perf_counter() - started)
    return updates, queries


if __name__ == "__main__":
    sys.exit(main())
