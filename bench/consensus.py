"""`python -m bench consensus`: signed operations through consensus on the process backend.

It starts a local subnet of replica processes in a temporary directory, creates one
canister, and loads it with signed `canister_status` calls (an update through consensus):
each is submitted to one replica (requests spread round-robin over the replicas), its
certified reply awaited and verified against the committee. Loads (``bench._load``):

- ``--clients N`` (default 64): N closed-loop clients, each on its own connection;
- ``--rate R``: open loop, R requests per second due at fixed times, latency counted from
  the due time; connections come from a per-replica pool;
- ``--sweep``: open-loop rates doubling from ``--sweep-start`` then bisected, to find
  saturation: the highest rate whose p99 stays under 10 block intervals with 99% of the
  requests answered;
- ``--peer pysyncobj``: the same node count of PySyncObj (Raft) on the same machine, in
  the same run, at the same in-flight counts and at its own saturation
  (``bench._raft_peer``), reported side by side with the ratio.

Reported for each load: operations per second, latency percentiles (also in block
intervals), and CPU per operation of the replica processes and of this client process
apart, with, measured in the same run, Ed25519 verifications per CPU second: one
verification per replica per request is the floor the replicas' CPU is compared with
(``service_cpu_over_floor``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any

import trio

from bench._load import Window, closed_loop, open_loop, saturation, settle
from bench._subnet import benchmark_subnet
from client.agent import Agent
from client.identity import Identity
from client.network import endpoints
from vocab import crypto, management
from vocab.certificate import CertifiedReply, verify_certified_reply
from vocab.framing import FramedStream
from vocab.genesis import Genesis
from vocab.messages import AwaitReply, RequestAccepted, SubmitRequest
from vocab.principal import Principal

MAX_CONNECTIONS_PER_REPLICA = 200
"""Open connections the client keeps to one replica (a replica accepts 256 clients)."""
SATURATION_BOUND_INTERVALS = 10
"""Saturation: the p99 stays under this many block intervals."""


def ed25519_verifications_per_second(seconds: float = 1.0) -> float:
    """Ed25519 verifications per second of this process's CPU time: on a machine shared
    with other work, wall time would count the time other processes had the core."""
    key = crypto.private_key_from_seed(b"\x01" * 32)
    raw = crypto.raw_public_key(key)
    message = b"m" * 32
    signature = crypto.sign(key, "bench", message)
    count = 0
    start, cpu = time.perf_counter(), time.process_time()
    while time.perf_counter() - start < seconds:
        for _ in range(200):
            crypto.verify(raw, signature, "bench", message)
        count += 200
    return count / max(time.process_time() - cpu, 1e-9)


class Subnet:
    """A load generator for a running subnet: signed status calls, verified replies."""

    def __init__(self, genesis: Genesis, identity: Identity, pids: list[int]) -> None:
        self.genesis = genesis
        self.agent = Agent(endpoints(genesis), genesis.committee, identity)
        self.pids = pids
        self.arg = b""
        self._next = 0
        self._idle: dict[int, list[FramedStream[trio.SocketStream]]] = {}
        self._open: dict[int, int] = {}
        self._freed: dict[int, trio.Condition] = {}

    async def setup(self) -> None:
        created = await self.agent.call(
            Principal.management(),
            management.CREATE,
            management.encode_args(management.CREATE, management.CreateCanisterArgs(10**12)),
        )
        canister = management.decode_reply(management.CREATE, created.raise_if_rejected()).canister_id
        self.arg = management.encode_args(management.STATUS, management.CanisterIdRecord(canister))

    async def _connection(self, replica: int) -> FramedStream[trio.SocketStream]:
        idle = self._idle.setdefault(replica, [])
        freed = self._freed.setdefault(replica, trio.Condition())
        while not idle and self._open.get(replica, 0) >= MAX_CONNECTIONS_PER_REPLICA:
            async with freed:
                # Again after the lock's checkpoint: a release meanwhile notified nobody.
                if not idle and self._open.get(replica, 0) >= MAX_CONNECTIONS_PER_REPLICA:
                    await freed.wait()
        if idle:
            return idle.pop()
        self._open[replica] = self._open.get(replica, 0) + 1
        endpoint = self.agent.endpoints[replica]
        try:
            return FramedStream(await trio.open_tcp_stream(endpoint.host, endpoint.port))
        except OSError:
            self._open[replica] -= 1
            raise

    async def _release(self, replica: int, framed: FramedStream[trio.SocketStream] | None) -> None:
        if framed is None:
            self._open[replica] -= 1
        else:
            self._idle[replica].append(framed)
        freed = self._freed[replica]
        if freed.statistics().tasks_waiting:  # the lock and the notify cost per request
            with trio.CancelScope(shield=True):  # a slot given back always wakes a waiter
                async with freed:
                    freed.notify()

    async def request(self) -> bool:
        """One signed update through consensus, its certified reply verified."""
        replica = self._next % len(self.agent.endpoints)
        self._next += 1
        envelope = self.agent.envelope(Principal.management(), management.STATUS, self.arg)
        try:
            framed = await self._connection(replica)
        except OSError:
            await trio.sleep(0.05)  # a replica that is down: a failure, not a busy loop
            return False
        try:
            await framed.send(SubmitRequest(envelope))
            if not isinstance(await framed.receive(), RequestAccepted):
                await self._release(replica, framed)
                return False
            await framed.send(AwaitReply(envelope.request_id, 10_000))
            reply = await framed.receive()
        except (OSError, trio.BrokenResourceError, trio.ClosedResourceError):
            await self._release(replica, None)
            return False
        except BaseException:
            # Cancelled mid-exchange: the connection is in an unknown state. Its slot is
            # given back shielded: an await in a cancelled scope raises at its checkpoint,
            # which used to skip the bookkeeping and leak the slot, so after an overloaded
            # window every later request waited for a connection forever.
            with trio.CancelScope(shield=True):
                await framed.stream.aclose()
                await self._release(replica, None)
            raise
        await self._release(replica, framed)
        if not isinstance(reply, CertifiedReply):
            return False
        verify_certified_reply(
            reply, self.genesis.committee, envelope.request_id, self.agent.verify
        ).raise_if_rejected()
        return True

    async def aclose(self) -> None:
        for idle in self._idle.values():
            for framed in idle:
                await framed.stream.aclose()
        self._idle.clear()


def _rates(text: str) -> list[int]:
    return [int(item) for item in text.split(",") if item]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench consensus")
    parser.add_argument("--replicas", type=int, default=4)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per load (default 10)")
    parser.add_argument(
        "--clients",
        type=_rates,
        default=None,
        metavar="N[,N...]",
        help="closed-loop clients, one run per count (default 64 unless --rate/--sweep)",
    )
    parser.add_argument("--rate", type=_rates, default=None, metavar="R[,R...]", help="open-loop requests/s")
    parser.add_argument("--sweep", action="store_true", help="find saturation with open-loop rates")
    parser.add_argument("--sweep-start", type=int, default=250, metavar="R")
    parser.add_argument("--sweep-max", type=int, default=16_000, metavar="R")
    parser.add_argument("--block-time", type=int, default=100, metavar="MS")
    parser.add_argument("--port", type=int, help="port of replica 0 (default: free ports, probed)")
    parser.add_argument("--peer", choices=["pysyncobj"], help="also run this peer, same loads, same run")
    parser.add_argument("--output", choices=["text", "json"], default="text")
    args = parser.parse_args(argv)
    if args.clients is None and args.rate is None and not args.sweep:
        args.clients = [64]

    if args.peer == "pysyncobj":
        from bench._raft_peer import PeerMissing, require

        try:
            require()  # before spending a run on the subnet
        except PeerMissing as exc:
            print(f"Error: {exc}", file=sys.stderr)
            return 2
    verifications = ed25519_verifications_per_second()
    interval_ms = float(args.block_time)
    result: dict[str, Any] = {
        "replicas": args.replicas,
        "block_time_ms": args.block_time,
        "duration_s": args.duration,
        "cpu_count": os.cpu_count(),
        "ed25519_verifications_per_cpu_s": round(verifications),
        "signature_floor_ms_per_op": round(args.replicas / verifications * 1000, 3),
    }
    with benchmark_subnet("bench-consensus-", args.replicas, args.block_time, args.port) as (genesis, pids):
        identity = Identity("bench", crypto.private_key_from_seed(b"\x07" * 32))
        subnet = Subnet(genesis, identity, pids)
        result["subnet"] = trio.run(_measure, subnet, args, interval_ms)
    if args.peer == "pysyncobj":
        from bench._raft_peer import compare, run

        result["peer"] = run(args.replicas, args, interval_ms)
        result["comparison"] = compare(result["subnet"], result["peer"])
    floor = result["signature_floor_ms_per_op"]
    for window in result["subnet"]["loads"]:
        cpu = window.get("cpu_ms_per_op_service")
        window["service_cpu_over_floor"] = round(cpu / floor, 2) if cpu else None
    if args.output == "json":
        print(json.dumps(result, indent=2))
    else:
        print(render(result))
    return 0


async def _measure(subnet: Subnet, args: argparse.Namespace, interval_ms: float) -> dict[str, Any]:
    await subnet.setup()
    return await measure_loads(subnet.request, subnet.pids, args, interval_ms, subnet.aclose)


async def measure_loads(
    request: Callable[[], Any],
    pids: list[int],
    args: argparse.Namespace,
    interval_ms: float,
    close: Callable[[], Any] | None = None,
) -> dict[str, Any]:
    """Run the requested loads against one service; the reports of its windows."""
    grace = max(2.0, SATURATION_BOUND_INTERVALS * interval_ms / 1000)
    loads: list[dict[str, Any]] = []
    out: dict[str, Any] = {"loads": loads}
    bound_s = SATURATION_BOUND_INTERVALS * interval_ms / 1000
    for clients in args.clients or []:
        window = Window(f"closed {clients}", pids)
        await closed_loop(window, clients, args.duration, request)
        loads.append(window.report(interval_ms))
    for rate in args.rate or []:
        await settle(request, bound_s)  # each window starts on an idle service
        window = Window(f"open {rate}/s", pids)
        await open_loop(window, rate, args.duration, grace, request)
        loads.append(window.report(interval_ms))
    if args.sweep:

        async def run_at(rate: float) -> Window:
            await settle(request, bound_s)
            window = Window(f"open {rate:g}/s", pids)
            await open_loop(window, rate, args.duration, grace, request)
            loads.append(window.report(interval_ms))
            return window

        rate, _ = await saturation(run_at, bound_s, args.sweep_start, args.sweep_max)
        out["saturation_rate"] = rate
        out["saturation"] = next((w for w in loads if w["load"] == f"open {rate:g}/s"), None)
    if close is not None:
        await close()
    return out


def render(result: dict[str, Any]) -> str:
    lines = [
        f"{key}: {value}" for key, value in result.items() if key not in ("subnet", "peer", "comparison")
    ]
    columns = [
        "load",
        "operations",
        "failures",
        "ops_per_s",
        "latency_p50_ms",
        "latency_p99_ms",
        "p50_in_block_intervals",
        "cpu_ms_per_op_service",
        "cpu_ms_per_op_client",
        "cores_busy_service",
        "cores_busy_client",
    ]
    for name in ("subnet", "peer"):
        if name not in result:
            continue
        lines.append(f"\n{name}:")
        lines.append("  ".join(columns))
        for window in result[name]["loads"]:
            lines.append("  ".join(str(window.get(column, "")) for column in columns))
        if "saturation_rate" in result[name]:
            lines.append(f"saturation: {result[name]['saturation_rate']} requests/s offered")
        for key, value in result[name].items():
            if key not in ("loads", "saturation", "saturation_rate"):
                lines.append(f"{key}: {value}")
    if "comparison" in result:
        lines.append("\ncomparison (subnet / peer):")
        for row in result["comparison"]:
            lines.append("  ".join(f"{key}={value}" for key, value in row.items()))
    return "\n".join(lines)
