"""`python -m bench canister --replicas 4`: a Motoko counter's update and query paths on the
process backend, measured side by side in one run.

Why this benchmark: the subnet's promise is that reads need no consensus. An update
(`increment`) waits for a block to be proposed, notarized, finalized, executed on every
replica and certified by n-f of them; a query (`get`) is answered at once by one replica
from its executed state and signed with its node key. This measures how much that buys
on real replica processes talking TCP, and reports it against two targets (never
asserted): queries reach at least 10x the updates' throughput, and the query p50 is under
a tenth of the update p50. With the same number of closed-loop clients on both paths,
Little's law ties the two (latency = clients / throughput once a path is saturated), so
``--clients 1`` is the way to see the paths' unloaded latencies.

What it does: starts a local subnet of ``--replicas`` processes in a temporary directory,
compiles `subnet/samples/counter_v1.mo`, creates and installs it through consensus with
the client agent, then runs two phases of ``--duration`` seconds each with ``--clients``
closed-loop clients:

1. updates: `Agent.call("increment")`, the certified reply through consensus;
2. queries: `Agent.query("get")`, the signed reply on the fast path.

In each phase every client has its own agent whose endpoint list starts at replica
``client % n``, so the load spreads over the replicas instead of piling on replica 0 (the
agent tries its endpoints in order). The agent keeps its query connections open between
queries and the client closes it (`Agent.aclose`) when its phase ends.

Correctness is checked, not assumed: every successful `increment` returns a distinct
count, the final `get` (asked of every replica, which must all agree) equals the number
of successful increments, and every query afterwards must return that number. Failures
are counted by kind and reported; wrong answers count as errors.

Beside the results, measured in the same run: the CPU seconds the client process and the
replica processes spent in each phase (from /proc, where there is one), Ed25519
signatures and verifications per second (a query costs one signature and two
verifications), Wasm `get` and `increment` calls per second in-process (the execution
floor of each call), and the loopback TCP round trip, on a kept connection and with a
fresh connection per exchange (the agent keeps its query connections; an update's
submission opens a fresh one).

    python -m bench canister [--replicas 4] [--clients 16] [--duration 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import trio

from bench._load import percentile
from bench._subnet import benchmark_subnet
from bench.consensus import ed25519_verifications_per_second
from client.agent import Agent, Endpoint
from client.identity import Identity
from client.install import install_module
from client.motoko import compile_motoko
from client.network import endpoints
from node.ic import ExecutionConfig, ExecutionEnvironment, InstallMode
from subnet import samples
from vocab import candid, crypto, management
from vocab.certificate import CertificateError
from vocab.errors import CodecError, RejectCode, RejectError
from vocab.genesis import Genesis
from vocab.messages import QueryResponse
from vocab.principal import Principal

NO_ARGS = candid.encode([], [])
NAT_RESULT = [candid.NAT]
THROUGHPUT_TARGET = 10.0
"""Queries should reach at least this multiple of the updates' throughput."""
LATENCY_TARGET = 10.0
"""The update p50 should be more than this multiple of the query p50."""
CYCLES = 100_000_000_000_000
CALL_FAILURES = (
    RejectError,
    CertificateError,
    CodecError,
    OSError,
    trio.BrokenResourceError,
    trio.TooSlowError,
)
"""What a call may fail with and still leave the benchmark meaningful: counted, by kind.
Anything else is a bug and propagates."""


# -- the machine's own limits, measured in the same run ------------------------------------


def _rate(operation: Callable[[], object], seconds: float, batch: int = 50) -> float:
    """Calls per second of ``operation`` over about ``seconds`` of wall time."""
    count = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(batch):
            operation()
        count += batch
    return count / (time.perf_counter() - start)


def ed25519_signs_per_second(seconds: float = 0.5) -> float:
    """Signatures per second, each of a new message (``crypto.sign`` remembers the
    signatures it made lately: signing one message again would measure a look-up)."""
    key = crypto.private_key_from_seed(b"\x02" * 32)
    counter = iter(range(1 << 62))
    return _rate(lambda: crypto.sign(key, "bench", next(counter).to_bytes(32, "big")), seconds)


def wasm_calls_per_second(wasm: bytes, seconds: float = 0.5) -> tuple[float, float]:
    """In-process `get` (query) and `increment` (update) rates on the replica's execution
    layer with its default configuration: what one call costs without I/O or crypto."""
    user = Principal.from_ed25519_public_key(bytes(range(32)))
    env = ExecutionEnvironment(ExecutionConfig())
    now = 1_000
    canister = env.create_canister(user, time=now)
    env.install_code(user, canister, InstallMode.install(), wasm, NO_ARGS, time=now + 1)
    now += 2

    def update() -> None:
        nonlocal now
        now += 1
        env.update(canister, "increment", NO_ARGS, caller=user, time=now).unwrap()

    def query() -> None:
        env.query(canister, "get", NO_ARGS, caller=user, time=now).unwrap()

    return _rate(query, seconds, 20), _rate(update, seconds, 20)


async def loopback_round_trips(seconds: float = 0.5) -> tuple[float, float]:
    """Microseconds per 64-byte echo on a kept TCP connection, and per connect + echo +
    close (both ends in this process): the difference is what a fresh connection per
    request costs on this machine."""
    payload = b"x" * 64

    async def echo(stream: trio.SocketStream) -> None:
        async with stream:
            try:
                while data := await stream.receive_some(4096):
                    await stream.send_all(data)
            except trio.BrokenResourceError:
                return

    async def exchange(stream: trio.SocketStream) -> None:
        await stream.send_all(payload)
        received = 0
        while received < len(payload):
            received += len(await stream.receive_some(4096))

    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(partial(trio.serve_tcp, echo, 0, host="127.0.0.1"))
        port = listeners[0].socket.getsockname()[1]
        kept = 0
        async with await trio.open_tcp_stream("127.0.0.1", port) as stream:
            start = time.perf_counter()
            while time.perf_counter() - start < seconds:
                await exchange(stream)
                kept += 1
            kept_us = (time.perf_counter() - start) / kept * 1e6
        fresh = 0
        start = time.perf_counter()
        while time.perf_counter() - start < seconds:
            async with await trio.open_tcp_stream("127.0.0.1", port) as stream:
                await exchange(stream)
            fresh += 1
        fresh_us = (time.perf_counter() - start) / fresh * 1e6
        nursery.cancel_scope.cancel()
    return kept_us, fresh_us


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a process so far (Linux /proc); None elsewhere."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- load --------------------------------------------------------------------------------------


@dataclass
class Phase:
    """One closed-loop phase: latencies of successful calls, failures by kind, and the CPU
    the processes involved spent on it."""

    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    values: list[int] = field(default_factory=list)
    by_replica: Counter[int] = field(default_factory=Counter)
    elapsed: float = 0.0
    client_cpu_s: float = 0.0
    replica_cpu_s: float | None = None

    @property
    def ok(self) -> int:
        return len(self.latencies)

    def summary(self, prefix: str) -> dict[str, Any]:
        ms = [latency * 1000 for latency in self.latencies]
        calls = max(self.ok, 1)
        return {
            f"{prefix}_ok": self.ok,
            f"{prefix}_errors": sum(self.errors.values()),
            f"{prefix}_errors_by_kind": dict(sorted(self.errors.items())),
            f"{prefix}_per_s": round(self.ok / self.elapsed, 1) if self.elapsed > 0 else 0.0,
            f"{prefix}_elapsed_s": round(self.elapsed, 2),
            f"{prefix}_latency_p50_ms": round(percentile(ms, 50), 2),
            f"{prefix}_latency_p90_ms": round(percentile(ms, 90), 2),
            f"{prefix}_latency_p99_ms": round(percentile(ms, 99), 2),
            f"{prefix}_latency_mean_ms": round(statistics.fmean(ms), 2) if ms else None,
            f"{prefix}_client_cpu_us_per_call": round(self.client_cpu_s / calls * 1e6),
            f"{prefix}_replica_cpu_us_per_call": (
                round(self.replica_cpu_s / calls * 1e6) if self.replica_cpu_s is not None else None
            ),
            f"{prefix}_cpu_cores_used": (
                round((self.client_cpu_s + self.replica_cpu_s) / self.elapsed, 2)
                if self.replica_cpu_s is not None and self.elapsed > 0
                else None
            ),
        }


Call = Callable[[Phase], Awaitable[None]]
"""One call of a client; it records what it learned in the phase, raises on failure."""


def _error_kind(exc: BaseException) -> str:
    if isinstance(exc, RejectError):
        return f"reject {exc.code.name}"
    return type(exc).__name__


async def closed_loop(
    clients: int,
    duration: float,
    open_client: Callable[[int], AbstractAsyncContextManager[Call]],
    replica_pids: list[int],
) -> Phase:
    """``clients`` tasks, each opening its client (an async context manager giving a
    `Call`) and calling it back to back until the deadline.

    A call in flight at the deadline is allowed to finish (cancelling an update would leave
    it unknown whether it ran, which would blur the correctness check); the phase's elapsed
    time runs until the last one has, so throughput is not flattered by the cut-off.
    """
    phase = Phase()
    deadline = trio.current_time() + duration

    async def client(number: int) -> None:
        async with open_client(number) as call:
            while trio.current_time() < deadline:
                started = time.perf_counter()
                try:
                    await call(phase)
                except CALL_FAILURES as exc:
                    phase.errors[_error_kind(exc)] += 1
                    continue
                phase.latencies.append(time.perf_counter() - started)

    cpu_before = [process_cpu_seconds(pid) for pid in replica_pids]
    own_before = time.process_time()
    started = time.perf_counter()
    async with trio.open_nursery() as nursery:
        for number in range(clients):
            nursery.start_soon(client, number)
    phase.elapsed = time.perf_counter() - started
    phase.client_cpu_s = time.process_time() - own_before
    cpu_after = [process_cpu_seconds(pid) for pid in replica_pids]
    spent = _cpu_spent(cpu_before, cpu_after)
    if replica_pids and spent is not None:
        phase.replica_cpu_s = spent
    return phase


async def replica_idle_cores(replica_pids: list[int], seconds: float = 1.0) -> float | None:
    """CPU cores the replicas use together with no load at all (consensus keeps making
    blocks): the background that the per-call replica CPU figures include."""
    before = [process_cpu_seconds(pid) for pid in replica_pids]
    started = time.perf_counter()
    await trio.sleep(seconds)
    after = [process_cpu_seconds(pid) for pid in replica_pids]
    spent = _cpu_spent(before, after)
    if not replica_pids or spent is None:
        return None
    return round(spent / (time.perf_counter() - started), 3)


def _cpu_spent(before: list[float | None], after: list[float | None]) -> float | None:
    """CPU seconds the processes spent together between two readings; None when a
    reading is missing (no /proc, or a process gone)."""
    total = 0.0
    for start, end in zip(before, after):
        if start is None or end is None:
            return None
        total += end - start
    return total


def _rotated(all_endpoints: list[Endpoint], number: int) -> list[Endpoint]:
    """The endpoints starting at replica ``number % n``: the agent asks them in order."""
    first = number % len(all_endpoints)
    return all_endpoints[first:] + all_endpoints[:first]


async def agreed_count(agent: Agent, canister: Principal, timeout: float = 20.0) -> int:
    """The counter as every replica reports it, once they all agree (bounded wait): after
    the update phase a replica may still be executing the last blocks. When all n agree,
    the value is the final one, since n-f of them certified the last increment's height."""
    last: Exception | None = None
    with trio.move_on_after(timeout):
        while True:
            try:
                answer = await agent.query(canister, "get", NO_ARGS, replicas_agree=len(agent.endpoints))
            except RejectError as exc:
                last = exc
                await trio.sleep(0.05)
                continue
            return _count(answer)
    raise RejectError(
        RejectCode.SYS_TRANSIENT, f"the replicas did not agree on the count within {timeout:g} s ({last})"
    )


def _count(answer: QueryResponse) -> int:
    if answer.status != "replied":
        raise RejectError(RejectCode(answer.reject_code), answer.reject_message, answer.error_code or None)
    return int(candid.decode(answer.reply, NAT_RESULT)[0])


class WrongAnswer(CodecError):
    """A query answered, verified, but not with the count every replica agreed on."""


async def run_load(
    genesis: Genesis, replica_pids: list[int], wasm: bytes, clients: int, duration: float
) -> dict[str, Any]:
    identity = Identity("bench", crypto.private_key_from_seed(b"\x07" * 32))
    all_endpoints = endpoints(genesis)
    setup = Agent(all_endpoints, genesis.committee, identity)
    try:
        started = time.perf_counter()
        created = await setup.call(
            Principal.management(),
            management.CREATE,
            management.encode_args(management.CREATE, management.CreateCanisterArgs(CYCLES)),
        )
        canister = management.decode_reply(management.CREATE, created.raise_if_rejected()).canister_id
        await install_module(setup, canister, "install", wasm, NO_ARGS)
        initial = await agreed_count(setup, canister)
        setup_s = time.perf_counter() - started
        idle_cores = await replica_idle_cores(replica_pids)

        @asynccontextmanager
        async def client_agent(number: int) -> AsyncIterator[Agent]:
            """The client's agent for one phase, its kept connections closed when the phase ends."""
            agent = Agent(_rotated(all_endpoints, number), genesis.committee, identity)
            try:
                yield agent
            finally:
                await agent.aclose()

        @asynccontextmanager
        async def updating(number: int) -> AsyncIterator[Call]:
            async with client_agent(number) as agent:

                async def increment(phase: Phase) -> None:
                    result = await agent.call(canister, "increment", NO_ARGS)
                    phase.values.append(int(candid.decode(result.raise_if_rejected(), NAT_RESULT)[0]))

                yield increment

        updates = await closed_loop(clients, duration, updating, replica_pids)
        final = await agreed_count(setup, canister)

        @asynccontextmanager
        async def querying(number: int) -> AsyncIterator[Call]:
            async with client_agent(number) as agent:

                async def get(phase: Phase) -> None:
                    answer = await agent.query(canister, "get", NO_ARGS)
                    value = _count(answer)
                    phase.by_replica[answer.node_index] += 1
                    phase.values.append(value)
                    if value != final:
                        raise WrongAnswer(f"replica {answer.node_index} answered {value}, not {final}")

                yield get

        queries = await closed_loop(clients, duration, querying, replica_pids)
    finally:
        await setup.aclose()
    return {
        "canister_id": canister.to_text(),
        "setup_s": round(setup_s, 2),
        "replicas_idle_cpu_cores": idle_cores,
        "initial_count": initial,
        "final_count": final,
        "updates": updates,
        "queries": queries,
    }


# -- the run -----------------------------------------------------------------------------------


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if not numerator or not denominator or numerator != numerator or denominator != denominator:
        return None
    return round(numerator / denominator, 2)


def measure(
    replicas: int, clients: int, duration: float, block_time_ms: int, port: int = 0
) -> dict[str, Any]:
    """Start a subnet, load it, stop it, then measure the machine; return the report as a
    flat JSON-able dict."""
    load_before = os.getloadavg()[0]
    wasm = compile_motoko(samples.source("counter_v1")).wasm
    with benchmark_subnet("bench-canister-", replicas, block_time_ms, port) as (genesis, pids):
        load = trio.run(run_load, genesis, pids, wasm, clients, duration)
    # The machine's limits, once the subnet is gone so that they do not compete with it.
    verifications = ed25519_verifications_per_second(0.5)
    signs = ed25519_signs_per_second()
    wasm_queries, wasm_updates = wasm_calls_per_second(wasm)
    kept_us, fresh_us = trio.run(loopback_round_trips)

    updates: Phase = load.pop("updates")
    queries: Phase = load.pop("queries")
    expected = load["initial_count"] + updates.ok
    report: dict[str, Any] = {
        "replicas": replicas,
        "clients": clients,
        "phase_duration_s": duration,
        "block_time_ms": block_time_ms,
        "wasm_bytes": len(wasm),
        **load,
        **updates.summary("updates"),
        **queries.summary("queries"),
        "queries_by_replica": {str(k): v for k, v in sorted(queries.by_replica.items())},
        "check_final_equals_successful_updates": load["final_count"] == expected,
        "check_update_replies_distinct": len(set(updates.values)) == len(updates.values),
        "check_queries_return_final": all(value == load["final_count"] for value in queries.values),
    }
    throughput_ratio = _ratio(report["queries_per_s"], report["updates_per_s"])
    latency_ratio = _ratio(report["updates_latency_p50_ms"], report["queries_latency_p50_ms"])
    report.update(
        {
            "query_to_update_throughput": throughput_ratio,
            "target_throughput_ratio_at_least": THROUGHPUT_TARGET,
            "throughput_target": "met"
            if throughput_ratio is not None and throughput_ratio >= THROUGHPUT_TARGET
            else "missed",
            "update_p50_to_query_p50": latency_ratio,
            "target_latency_ratio_above": LATENCY_TARGET,
            "latency_target": "met"
            if latency_ratio is not None and latency_ratio > LATENCY_TARGET
            else "missed",
        }
    )
    report.update(
        {
            "ed25519_verifications_per_s": round(verifications),
            "ed25519_signs_per_s": round(signs),
            "wasm_queries_per_s_in_process": round(wasm_queries),
            "wasm_updates_per_s_in_process": round(wasm_updates),
            "loopback_round_trip_us": round(kept_us, 1),
            "loopback_connect_and_round_trip_us": round(fresh_us, 1),
            "cpu_count": os.cpu_count(),
            "load_average_1m_before": round(load_before, 2),
        }
    )
    return report


def _phase_line(report: dict[str, Any], label: str, prefix: str, path: str) -> str:
    errors = report[f"{prefix}_errors_by_kind"]
    detail = ", ".join(f"{kind}: {count}" for kind, count in errors.items()) or "none"
    replica_cpu = report[f"{prefix}_replica_cpu_us_per_call"]
    return (
        f"  {label:<16}{report[f'{prefix}_per_s']:>9.1f}/s   p50 {report[f'{prefix}_latency_p50_ms']:>8.2f} ms"
        f"   p90 {report[f'{prefix}_latency_p90_ms']:>8.2f} ms   p99 {report[f'{prefix}_latency_p99_ms']:>8.2f} ms"
        f"   ok {report[f'{prefix}_ok']}, errors {report[f'{prefix}_errors']} ({detail})\n"
        f"  {'':<16}{path}; CPU per call: client {report[f'{prefix}_client_cpu_us_per_call']} us, "
        f"replicas {'?' if replica_cpu is None else replica_cpu} us; "
        f"client and replicas used {report[f'{prefix}_cpu_cores_used'] or '?'} of {report['cpu_count']} CPUs"
    )


def _print_text(report: dict[str, Any]) -> None:
    print(
        f"Motoko counter {report['canister_id']} on {report['replicas']} replica processes, "
        f"{report['clients']} closed-loop clients, {report['phase_duration_s']:g} s per phase, "
        f"block time {report['block_time_ms']} ms (setup {report['setup_s']:g} s)"
    )
    print(_phase_line(report, "updates", "updates", "increment through consensus, certified reply"))
    print(
        _phase_line(report, "queries", "queries", "get on the fast path (Agent.query), signed by one replica")
    )
    spread = ", ".join(f"r{k}: {v}" for k, v in report["queries_by_replica"].items())
    print(f"  {'':<16}answered by replica: {spread or 'none'}")
    idle = report["replicas_idle_cpu_cores"]
    if idle is not None:
        print(
            f"  {'':<16}(replica CPU per call includes the consensus background: {idle} cores together when idle)"
        )
    print(
        f"  final count {report['final_count']} (every replica agrees); {report['updates_ok']} successful "
        f"increments from {report['initial_count']}: "
        f"{'correct' if report['check_final_equals_successful_updates'] else 'MISMATCH'}; "
        f"update replies distinct: {'yes' if report['check_update_replies_distinct'] else 'NO'}; "
        f"every query returned the final count: {'yes' if report['check_queries_return_final'] else 'NO'}"
    )
    print(
        f"  queries reach {report['query_to_update_throughput']}x the update throughput "
        f"(target >= {THROUGHPUT_TARGET:g}x): {report['throughput_target']}"
    )
    print(
        f"  update p50 is {report['update_p50_to_query_p50']}x the query p50 "
        f"(target > {LATENCY_TARGET:g}x): {report['latency_target']}"
    )
    print(
        f"machine, same run: Ed25519 {report['ed25519_signs_per_s']} signs/s, "
        f"{report['ed25519_verifications_per_s']} verifications/s; Wasm in-process "
        f"{report['wasm_queries_per_s_in_process']} get/s, {report['wasm_updates_per_s_in_process']} increment/s;\n"
        f"  loopback TCP {report['loopback_round_trip_us']} us per round trip, "
        f"{report['loopback_connect_and_round_trip_us']} us with a fresh connection; "
        f"{report['cpu_count']} CPUs, load average {report['load_average_1m_before']} before the run"
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench canister",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--replicas", type=int, default=4)
    parser.add_argument(
        "--clients", type=int, default=16, help="closed-loop clients in each phase (default 16)"
    )
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per phase (default 5)")
    parser.add_argument("--block-time", type=int, default=100, metavar="MS")
    parser.add_argument(
        "--port",
        type=int,
        default=0,
        help="port of replica 0, replica i uses PORT + i (default: probe for free ports)",
    )
    parser.add_argument("--output", choices=["text", "json"], default="text")
    parser.add_argument(
        "--json", action="store_const", const="json", dest="output", help="same as --output json"
    )
    args = parser.parse_args(argv)
    if args.clients < 1 or args.duration <= 0:
        parser.error("--clients must be at least 1 and --duration positive")
    report = measure(args.replicas, args.clients, args.duration, args.block_time, args.port)
    if args.output == "json":
        print(json.dumps(report, indent=2))
    else:
        _print_text(report)
    return 0
