"""`python -m bench paths --replicas 4`: every path of the subnet measured side by side, in
one run, on the same replica processes.

The subnet's headline (DESIGN.md 4.3) is that only shared state needs consensus. This
puts numbers on it. On one local subnet of ``--replicas`` processes, phases of
``--duration`` seconds with ``--clients`` closed-loop clients each:

- ``immutable-read``: ``sui_getObject`` of a published package, answered and signed by one
  replica (the queries' fast path);
- ``dev-inspect``: ``counter::value`` run by one replica on a copy of its latest certified
  state (``sui_devInspectTransactionBlock``, what ``sui client call --dev-inspect`` sends),
  answered and signed by it, nothing kept;
- ``owned-transfer``: each client moves its own ``Note`` (``examples/sui/owned``) to itself:
  votes from 2f+1 replicas make a certificate, 2f+1 signed effects are finality
  (``client.fast_path``), no block waited for;
- ``shared-increment``: ``counter::increment`` on a shared counter through consensus, the
  load spread over ``--hot`` counters (1: every client on one counter, the hottest case);
- ``canister-query`` and ``canister-update``: a Motoko counter's ``get`` and
  ``increment`` (``--no-canister`` leaves them out).

Then, with ``--rates R1,R2,...``, each Sui path again open-loop at those offered rates
(requests due at fixed times whether or not earlier ones were answered; latency from the
due time, so queueing shows): throughput and p99 against offered load, whose knee is the
path's saturation.

Reported per path: throughput, p50/p90/p99/p99.9 latency, errors by kind; the targets as
ratios in this run (never asserted): the fast path's p50 at most a third of the shared
path's and its throughput at least twice; immutable reads at least 10x the shared
throughput. The machine's own limits, measured in the same run after the subnet stops:
Ed25519 signatures and verifications per second, Move ``increment`` transactions per second
in process, and the loopback round trip. Output: a table (or ``--output json``), and with
``--out DIR`` the JSON and PNG plots beside it (latency CDF per path; throughput and p99
against offered load), drawn with matplotlib.

Correctness is checked, not assumed: after the shared phase every replica agrees on each
counter's value, which equals the successful increments; every owned transfer's effects
are finality (2f+1 signatures checked against the committee).

    python -m bench paths [--replicas 4] [--clients 16] [--duration 5] [--hot 1]
                          [--rates 50,100,200] [--out DIR] [--output json]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trio

import subnet.samples
from bench._load import percentile
from bench.canister import (
    CALL_FAILURES,
    NO_ARGS,
    Call,
    Phase,
    _cpu_spent,
    _error_kind,
    _ratio,
    _rotated,
    benchmark_subnet,
    closed_loop,
    ed25519_signs_per_second,
    loopback_round_trips,
    process_cpu_seconds,
)
from bench.consensus import ed25519_verifications_per_second
from client.agent import Agent
from client.identity import Identity
from client.install import install_module
from client.motoko import compile_motoko
from client.network import endpoints
from client.sui import SuiClient
from move.build import build_package, build_sources
from node.sui.ledger import SuiLedger
from vocab import crypto, management
from vocab.errors import RejectCode, RejectError, SubnetError
from vocab.genesis import Genesis
from vocab.principal import Principal
from vocab.sui.address import ObjectId
from vocab.sui.builder import ProgrammableTransactionBuilder
from vocab.sui.digests import Digest
from vocab.sui.objects import ObjectRef
from vocab.sui.pure import encode_pure
from vocab.sui.signed import SignedTransaction
from vocab.sui.transaction import TRANSACTION_KIND, ImmOrOwnedObject, SharedObject
from vocab.sui.type_tag import PrimitiveTag, VectorTag

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "sui"
PATHS = (
    "immutable-read",
    "dev-inspect",
    "owned-transfer",
    "shared-increment",
    "canister-query",
    "canister-update",
)
SUI_PATHS = PATHS[:4]
FAST_LATENCY_TARGET = 3.0
"""The shared p50 should be at least this multiple of the owned (fast) p50."""
FAST_THROUGHPUT_TARGET = 2.0
"""The fast path's throughput should be at least this multiple of the shared path's."""
READ_THROUGHPUT_TARGET = 10.0
"""Immutable reads should reach at least this multiple of the shared throughput."""
CYCLES = 100_000_000_000_000


@dataclass
class Setup:
    """What the phases use: the packages, the shared counters, each client's note."""

    package: ObjectId
    notes_package: ObjectId
    counters: list[ObjectId]
    notes: dict[int, ObjectRef] = field(default_factory=dict)
    canister: Principal | None = None


def _created(response: dict[str, Any], suffix: str) -> ObjectRef:
    for change in response["objectChanges"]:
        if change["type"] in ("created", "mutated") and change.get("objectType", "").endswith(suffix):
            return ObjectRef(
                ObjectId.from_text(change["objectId"]),
                int(change["version"]),
                Digest.from_text(change["digest"]),
            )
    raise SubnetError(f"no {suffix} in the response {response['digest']}")


def _published(response: dict[str, Any]) -> ObjectId:
    return ObjectId.from_text(
        next(c["packageId"] for c in response["objectChanges"] if c["type"] == "published")
    )


def _ok(response: dict[str, Any]) -> dict[str, Any]:
    status = response["effects"]["status"]
    if status["status"] != "success":
        raise RejectError(
            RejectCode.CANISTER_ERROR, f"transaction failed: {status.get('error')}", "MoveAbort"
        )
    return response


async def set_up(sui: SuiClient, clients: int, hot: int) -> Setup:
    counter = build_sources("counter", {"counter.move": subnet.samples.move_module("counter")})
    notes = build_package(EXAMPLES / "owned")
    package = _published(_ok(await sui.publish(counter.module_bytes)))
    notes_package = _published(_ok(await sui.publish(notes.module_bytes)))
    counters = []
    for _ in range(hot):
        builder = ProgrammableTransactionBuilder()
        builder.move_call(package, "counter", "create", [], [])
        counters.append(
            _created(_ok(await sui.sign_and_execute(builder.finish())), "::counter::Counter").object_id
        )
    setup = Setup(package, notes_package, counters)
    text = encode_pure(VectorTag(PrimitiveTag("u8")), b"bench")
    for number in range(clients):
        builder = ProgrammableTransactionBuilder()
        builder.move_call(notes_package, "note", "create", [], [builder.pure_bytes(text)])
        setup.notes[number] = _created(_ok(await sui.sign_and_execute(builder.finish())), "::note::Note")
    return setup


def _transfer(sui: SuiClient, ref: ObjectRef) -> SignedTransaction:
    builder = ProgrammableTransactionBuilder()
    builder.transfer_objects([builder.object(ImmOrOwnedObject(ref))], sui.address)
    return SignedTransaction.sign(sui.transaction(builder.finish()), [sui.identity.key])


def _increment(
    sui: SuiClient, package: ObjectId, counter: ObjectId, initial_version: int
) -> SignedTransaction:
    builder = ProgrammableTransactionBuilder()
    shared = builder.object(SharedObject(counter, initial_version, True))
    builder.move_call(package, "counter", "increment", [], [shared])
    return SignedTransaction.sign(sui.transaction(builder.finish()), [sui.identity.key])


@dataclass
class Paths:
    """How each path's call is made for client ``number`` with ``agent``."""

    genesis: Genesis
    identity: Identity
    setup: Setup
    shared_versions: dict[ObjectId, int]
    increments: dict[ObjectId, int] = field(default_factory=dict)

    def call(self, path: str, number: int, agent: Agent) -> Call:
        sui = SuiClient(agent, self.identity)
        setup = self.setup
        if path == "immutable-read":

            async def read(phase: Phase) -> None:
                answer = await agent.sui_read("sui_getObject", [setup.package.to_text()])
                if "data" not in answer:
                    raise RejectError(RejectCode.SYS_FATAL, f"no package in {answer}", "ObjectNotFound")

            return read
        if path == "dev-inspect":
            # ``counter::value`` on the counter, run by one replica on a copy of its state
            # (``sui client call --dev-inspect``): built once, sent as base64 BCS each time.
            builder = ProgrammableTransactionBuilder()
            shared = builder.object(
                SharedObject(setup.counters[0], self.shared_versions[setup.counters[0]], False)
            )
            builder.move_call(setup.package, "counter", "value", [], [shared])
            inspect = [
                sui.address.to_text(),
                base64.b64encode(TRANSACTION_KIND.encode(builder.finish())).decode(),
            ]

            async def dev_inspect(phase: Phase) -> None:
                answer = await agent.sui_read("sui_devInspectTransactionBlock", inspect)
                if answer.get("error") or answer["effects"]["status"]["status"] != "success":
                    raise RejectError(
                        RejectCode.SYS_FATAL, f"dev-inspect failed: {answer}", "DevInspectFailed"
                    )

            return dev_inspect
        if path == "owned-transfer":

            async def transfer(phase: Phase) -> None:
                response = _ok(await sui.execute(_transfer(sui, setup.notes[number])))
                if response["path"] != "fast":
                    raise RejectError(RejectCode.SYS_FATAL, f"took the {response['path']} path", "WrongPath")
                setup.notes[number] = _created(response, "::note::Note")

            return transfer
        if path == "shared-increment":
            counter = setup.counters[number % len(setup.counters)]

            async def increment(phase: Phase) -> None:
                _ok(await sui.execute(_increment(sui, setup.package, counter, self.shared_versions[counter])))
                self.increments[counter] = self.increments.get(counter, 0) + 1

            return increment
        canister = setup.canister
        assert canister is not None
        if path == "canister-query":

            async def get(phase: Phase) -> None:
                answer = await agent.query(canister, "get", NO_ARGS)
                if answer.status != "replied":
                    raise RejectError(RejectCode(answer.reject_code), answer.reject_message)

            return get

        async def update(phase: Phase) -> None:
            (await agent.call(canister, "increment", NO_ARGS)).raise_if_rejected()

        return update


async def open_loop(
    rate: float, duration: float, issue: Callable[[int], Awaitable[None]], replica_pids: list[int]
) -> Phase:
    """Requests due at ``start + i / rate`` for ``duration`` seconds, each on its own task;
    latency from its due time. The phase ends when every request has been answered or
    failed (bounded by the clients' own timeouts)."""
    phase = Phase()
    start = trio.current_time()
    due_count = max(1, int(rate * duration))
    cpu_before = [process_cpu_seconds(pid) for pid in replica_pids]
    own_before = time.process_time()
    wall = time.perf_counter()

    async def one(index: int, due: float) -> None:
        try:
            await issue(index)
        except CALL_FAILURES as exc:
            phase.errors[_error_kind(exc)] += 1
            return
        phase.latencies.append(trio.current_time() - due)

    async with trio.open_nursery() as nursery:
        for index in range(due_count):
            due = start + index / rate
            await trio.sleep_until(due)
            nursery.start_soon(one, index, due)
    phase.elapsed = time.perf_counter() - wall
    phase.client_cpu_s = time.process_time() - own_before
    spent = _cpu_spent(cpu_before, [process_cpu_seconds(pid) for pid in replica_pids])
    if replica_pids and spent is not None:
        phase.replica_cpu_s = spent
    return phase


async def run_paths(
    genesis: Genesis,
    replica_pids: list[int],
    clients: int,
    duration: float,
    hot: int,
    rates: list[float],
    canister_wasm: bytes | None,
) -> dict[str, Any]:
    identity = Identity("bench", crypto.private_key_from_seed(b"\x08" * 32))
    all_endpoints = endpoints(genesis)
    setup_agent = Agent(all_endpoints, genesis.committee, identity)
    sui = SuiClient(setup_agent, identity)
    started = time.perf_counter()
    try:
        setup = await set_up(sui, clients, hot)
        shared_versions: dict[ObjectId, int] = {}
        for counter in setup.counters:
            data = (await setup_agent.sui_read("sui_getObject", [counter.to_text()]))["data"]
            shared_versions[counter] = int(data["owner"]["Shared"]["initial_shared_version"])
        initial = {
            c: int((await sui.object(c))["data"]["content"]["fields"]["value"]) for c in setup.counters
        }
        if canister_wasm is not None:
            created = await setup_agent.call(
                Principal.management(),
                management.CREATE,
                management.encode_args(management.CREATE, management.CreateCanisterArgs(CYCLES)),
            )
            setup.canister = management.decode_reply(
                management.CREATE, created.raise_if_rejected()
            ).canister_id
            await install_module(setup_agent, setup.canister, "install", canister_wasm, NO_ARGS)
        setup_s = time.perf_counter() - started
        paths = Paths(genesis, identity, setup, shared_versions)
        chosen = [p for p in PATHS if canister_wasm is not None or not p.startswith("canister")]
        phases: dict[str, Phase] = {}
        for path in chosen:

            @asynccontextmanager
            async def client(number: int, path: str = path) -> AsyncIterator[Call]:
                agent = Agent(_rotated(all_endpoints, number), genesis.committee, identity)
                try:
                    yield paths.call(path, number, agent)
                finally:
                    await agent.aclose()

            phases[path] = await closed_loop(clients, duration, client, replica_pids)
        sweeps: dict[str, list[tuple[float, Phase]]] = {}
        for path in SUI_PATHS if rates else ():
            sweep: list[tuple[float, Phase]] = []
            agents = [Agent(_rotated(all_endpoints, n), genesis.committee, identity) for n in range(clients)]
            calls = [paths.call(path, n, agents[n]) for n in range(clients)]
            busy = [trio.Lock() for _ in range(clients)]
            scratch = Phase()  # what the calls record besides latency is not needed here

            async def issue(
                index: int,
                calls: list[Call] = calls,
                busy: list[trio.Lock] = busy,
                scratch: Phase = scratch,
                owned: bool = path == "owned-transfer",
            ) -> None:
                # Requests go round the clients. One client's owned transfers must not
                # overlap (each uses the version the previous one made): a lock per client,
                # so the owned path's open-loop throughput is bounded by clients / latency.
                number = index % clients
                if owned:
                    async with busy[number]:
                        await calls[number](scratch)
                else:
                    await calls[number](scratch)

            try:
                for rate in rates:
                    sweep.append((rate, await open_loop(rate, duration, issue, replica_pids)))
            finally:
                for agent in agents:
                    await agent.aclose()
            sweeps[path] = sweep
        finals: dict[ObjectId, int] = {}
        for counter in setup.counters:
            finals[counter] = await _agreed_value(sui, counter, len(all_endpoints))
    finally:
        await setup_agent.aclose()
    check_shared = all(finals[c] == initial[c] + paths.increments.get(c, 0) for c in setup.counters)
    return {
        "setup_s": round(setup_s, 2),
        "package": setup.package.to_text(),
        "phases": phases,
        "sweeps": sweeps,
        "check_shared_counters_equal_increments": check_shared,
        "shared_counter_values": {c.to_text(): v for c, v in finals.items()},
    }


async def _agreed_value(sui: SuiClient, counter: ObjectId, replicas: int, timeout: float = 20.0) -> int:
    """The counter's value once every replica reports the same (they may still be executing
    the last blocks)."""
    last: Exception | None = None
    with trio.move_on_after(timeout):
        while True:
            try:
                return int(
                    (await sui.object(counter, replicas_agree=replicas))["data"]["content"]["fields"]["value"]
                )
            except RejectError as exc:
                last = exc
                await trio.sleep(0.05)
    raise RejectError(RejectCode.SYS_TRANSIENT, f"the replicas did not agree on {counter} ({last})")


def move_increments_per_second(seconds: float = 0.5) -> float:
    """In-process Move ``increment`` transactions per second (``SuiLedger``, no I/O, no
    signatures): the execution floor of the shared path."""
    counter = build_sources("counter", {"counter.move": subnet.samples.move_module("counter")})
    ledger = SuiLedger.genesis()
    sender = Identity("bench", crypto.private_key_from_seed(b"\x09" * 32)).sui_address
    effects = ledger.publish(sender, counter.module_bytes)
    package = next(ref.object_id for ref, _ in effects.created if ledger.package(ref.object_id))
    created = ledger.call(sender, package, "counter", "create")
    shared = created.created[0][0].object_id
    count = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        ledger.call(sender, package, "counter", "increment", [ledger.shared(shared)])
        count += 1
    return count / (time.perf_counter() - start)


def _summary(phase: Phase) -> dict[str, Any]:
    ms = [latency * 1000 for latency in phase.latencies]
    return {
        "ok": phase.ok,
        "errors": sum(phase.errors.values()),
        "errors_by_kind": dict(sorted(phase.errors.items())),
        "per_s": round(phase.ok / phase.elapsed, 1) if phase.elapsed > 0 else 0.0,
        "p50_ms": round(percentile(ms, 50), 2),
        "p90_ms": round(percentile(ms, 90), 2),
        "p99_ms": round(percentile(ms, 99), 2),
        "p999_ms": round(percentile(ms, 99.9), 2),
        "client_cpu_us_per_op": round(phase.client_cpu_s / max(phase.ok, 1) * 1e6),
        "replica_cpu_us_per_op": (
            round(phase.replica_cpu_s / max(phase.ok, 1) * 1e6) if phase.replica_cpu_s is not None else None
        ),
    }


def measure(
    replicas: int,
    clients: int,
    duration: float,
    hot: int,
    rates: list[float],
    block_time_ms: int,
    canister: bool,
) -> tuple[dict[str, Any], dict[str, list[float]]]:
    """Start a subnet, run every phase, stop it, measure the machine; the report and each
    closed-loop path's latencies (for the CDF plot)."""
    load_before = os.getloadavg()[0]
    wasm = compile_motoko(subnet.samples.source("counter_v1")).wasm if canister else None
    with benchmark_subnet("bench-paths-", replicas, block_time_ms) as (genesis, pids):
        run = trio.run(run_paths, genesis, pids, clients, duration, hot, rates, wasm)
    phases: dict[str, Phase] = run.pop("phases")
    sweeps: dict[str, list[tuple[float, Phase]]] = run.pop("sweeps")
    paths = {path: _summary(phase) for path, phase in phases.items()}
    owned, shared, reads = paths["owned-transfer"], paths["shared-increment"], paths["immutable-read"]
    latency_ratio = _ratio(shared["p50_ms"], owned["p50_ms"])
    throughput_ratio = _ratio(owned["per_s"], shared["per_s"])
    read_ratio = _ratio(reads["per_s"], shared["per_s"])
    report: dict[str, Any] = {
        "replicas": replicas,
        "clients": clients,
        "phase_duration_s": duration,
        "hot_counters": hot,
        "block_time_ms": block_time_ms,
        **run,
        "paths": paths,
        "sweeps": {
            path: [{"offered_per_s": rate, **_summary(phase)} for rate, phase in sweep]
            for path, sweep in sweeps.items()
        },
        "targets": {
            "shared_p50_over_fast_p50": latency_ratio,
            "shared_p50_over_fast_p50_at_least": FAST_LATENCY_TARGET,
            "fast_over_shared_throughput": throughput_ratio,
            "fast_over_shared_throughput_at_least": FAST_THROUGHPUT_TARGET,
            "reads_over_shared_throughput": read_ratio,
            "reads_over_shared_throughput_at_least": READ_THROUGHPUT_TARGET,
            "fast_latency": _met(latency_ratio, FAST_LATENCY_TARGET),
            "fast_throughput": _met(throughput_ratio, FAST_THROUGHPUT_TARGET),
            "read_throughput": _met(read_ratio, READ_THROUGHPUT_TARGET),
        },
        "machine": {
            "ed25519_verifications_per_s": round(ed25519_verifications_per_second(0.5)),
            "ed25519_signs_per_s": round(ed25519_signs_per_second()),
            "move_increments_per_s_in_process": round(move_increments_per_second()),
            "loopback_round_trip_us": None,
            "cpu_count": os.cpu_count(),
            "load_average_1m_before": round(load_before, 2),
        },
    }
    kept_us, fresh_us = trio.run(loopback_round_trips)
    report["machine"]["loopback_round_trip_us"] = round(kept_us, 1)
    report["machine"]["loopback_connect_and_round_trip_us"] = round(fresh_us, 1)
    latencies = {path: [latency * 1000 for latency in phase.latencies] for path, phase in phases.items()}
    return report, latencies


def _met(ratio: float | None, target: float) -> str:
    return "met" if ratio is not None and ratio >= target else "missed"


def plot(report: dict[str, Any], latencies: dict[str, list[float]], out: Path) -> list[Path]:
    """The latency CDF per path and, with a sweep, throughput and p99 against offered load,
    as PNG files in ``out``; the paths written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    figure, axes = plt.subplots(figsize=(7, 4.5))
    for path, values in latencies.items():
        ordered = sorted(values)
        if ordered:
            axes.plot(ordered, [(i + 1) / len(ordered) for i in range(len(ordered))], label=path)
    axes.set_xscale("log")
    axes.set_xlabel("latency (ms, log scale)")
    axes.set_ylabel("fraction of operations")
    axes.set_title(f"latency by path, {report['replicas']} replicas, {report['clients']} closed-loop clients")
    axes.legend()
    axes.grid(True, which="both", alpha=0.3)
    cdf = out / "latency-cdf.png"
    figure.savefig(cdf, dpi=120, bbox_inches="tight")
    plt.close(figure)
    written.append(cdf)
    if report["sweeps"]:
        figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
        for path, points in report["sweeps"].items():
            offered = [p["offered_per_s"] for p in points]
            left.plot(offered, [p["per_s"] for p in points], marker="o", label=path)
            right.plot(offered, [p["p99_ms"] for p in points], marker="o", label=path)
        left.set_xlabel("offered load (ops/s)")
        left.set_ylabel("throughput (ops/s)")
        right.set_xlabel("offered load (ops/s)")
        right.set_ylabel("p99 latency (ms)")
        right.set_yscale("log")
        for axes in (left, right):
            axes.grid(True, alpha=0.3)
            axes.legend()
        sweep = out / "offered-load.png"
        figure.savefig(sweep, dpi=120, bbox_inches="tight")
        plt.close(figure)
        written.append(sweep)
    return written


def _print_text(report: dict[str, Any]) -> None:
    print(
        f"{report['replicas']} replica processes, {report['clients']} closed-loop clients per path, "
        f"{report['phase_duration_s']:g} s per phase, block time {report['block_time_ms']} ms, "
        f"{report['hot_counters']} shared counter(s) (setup {report['setup_s']:g} s)"
    )
    print(f"  {'path':<18}{'ops/s':>9}{'p50 ms':>10}{'p90 ms':>10}{'p99 ms':>10}{'p99.9 ms':>10}  errors")
    for path, row in report["paths"].items():
        errors = ", ".join(f"{k}: {v}" for k, v in row["errors_by_kind"].items()) or "none"
        print(
            f"  {path:<18}{row['per_s']:>9.1f}{row['p50_ms']:>10.2f}{row['p90_ms']:>10.2f}"
            f"{row['p99_ms']:>10.2f}{row['p999_ms']:>10.2f}  {errors}"
        )
    for path, points in report["sweeps"].items():
        line = "; ".join(
            f"{p['offered_per_s']:g}/s -> {p['per_s']:.1f}/s p99 {p['p99_ms']:.0f} ms" for p in points
        )
        print(f"  open loop, {path}: {line}")
    targets = report["targets"]
    print(
        f"  shared p50 / fast p50 = {targets['shared_p50_over_fast_p50']} (target >= {FAST_LATENCY_TARGET:g}): "
        f"{targets['fast_latency']}; fast / shared throughput = {targets['fast_over_shared_throughput']} "
        f"(target >= {FAST_THROUGHPUT_TARGET:g}): {targets['fast_throughput']}; reads / shared throughput = "
        f"{targets['reads_over_shared_throughput']} (target >= {READ_THROUGHPUT_TARGET:g}): {targets['read_throughput']}"
    )
    print(
        f"  shared counters equal the successful increments on every replica: "
        f"{'yes' if report['check_shared_counters_equal_increments'] else 'NO'}"
    )
    machine = report["machine"]
    print(
        f"machine, same run: Ed25519 {machine['ed25519_signs_per_s']} signs/s, "
        f"{machine['ed25519_verifications_per_s']} verifications/s; Move increments in process "
        f"{machine['move_increments_per_s_in_process']}/s; loopback {machine['loopback_round_trip_us']} us; "
        f"{machine['cpu_count']} CPUs, load average {machine['load_average_1m_before']} before the run"
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench paths",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--replicas", type=int, default=4)
    parser.add_argument("--clients", type=int, default=16, help="closed-loop clients per path (default 16)")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per phase (default 5)")
    parser.add_argument(
        "--hot", type=int, default=1, help="shared counters the load spreads over (default 1)"
    )
    parser.add_argument(
        "--rates", default="", help="offered loads (ops/s, comma-separated) for the open-loop sweep"
    )
    parser.add_argument("--block-time", type=int, default=100, metavar="MS")
    parser.add_argument("--no-canister", action="store_true", help="leave out the canister paths")
    parser.add_argument("--out", type=Path, help="write report.json and the PNG plots into this folder")
    parser.add_argument("--output", choices=["text", "json"], default="text")
    args = parser.parse_args(argv)
    if args.clients < 1 or args.duration <= 0 or args.hot < 1 or args.replicas < 1:
        parser.error("--clients, --hot and --replicas must be at least 1 and --duration positive")
    try:
        rates = [float(r) for r in args.rates.split(",") if r.strip()]
    except ValueError:
        parser.error(f"--rates must be numbers separated by commas, not {args.rates!r}")
    if any(r <= 0 for r in rates):
        parser.error("--rates must be positive")
    report, latencies = measure(
        args.replicas, args.clients, args.duration, args.hot, rates, args.block_time, not args.no_canister
    )
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
        report["plots"] = [str(p) for p in plot(report, latencies, args.out)]
    if args.output == "json":
        print(json.dumps(report, indent=2))
    else:
        _print_text(report)
    return 0
