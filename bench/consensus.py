"""`python -m bench consensus --replicas 4 --duration 10`: signed operations through consensus
on the process backend.

It starts a local subnet of replica processes in a temporary directory, creates one
canister, and then keeps ``--clients`` closed-loop clients busy, each on its own
connection, submitting signed `canister_status` calls (an update through consensus) and
waiting for the certified reply, which it verifies against the committee. Reported:
finalized operations per second, latency percentiles from submission to verified
certified reply, and, measured in the same run, how many Ed25519 verifications per second
this machine does, the bound every replica's ingress and every client's check live under.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import trio

from client.agent import Agent
from client.identity import Identity
from client.network import LOCAL_DIR, endpoints
from subnet.processes import launcher
from subnet.processes.supervision import start_subnet
from vocab import crypto, management
from vocab.certificate import CertifiedReply, verify_certified_reply
from vocab.framing import FramedStream
from vocab.genesis import Genesis
from vocab.messages import AwaitReply, RequestAccepted, SubmitRequest
from vocab.principal import Principal


def ed25519_verifications_per_second(seconds: float = 1.0) -> float:
    key = crypto.private_key_from_seed(b"\x01" * 32)
    raw = crypto.raw_public_key(key)
    message = b"m" * 32
    signature = crypto.sign(key, "bench", message)
    count = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(200):
            crypto.verify(raw, signature, "bench", message)
        count += 200
    return count / (time.perf_counter() - start)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


async def run_load(
    genesis: Genesis, identity: Identity, clients: int, duration: float
) -> tuple[list[float], int]:
    agent = Agent(endpoints(genesis), genesis.committee, identity)
    created = await agent.call(
        Principal.management(),
        management.CREATE,
        management.encode_args(management.CREATE, management.CreateCanisterArgs(10**12)),
    )
    canister = management.decode_reply(management.CREATE, created.raise_if_rejected()).canister_id
    arg = management.encode_args(management.STATUS, management.CanisterIdRecord(canister))
    latencies: list[float] = []
    failures = 0
    deadline = trio.current_time() + duration

    async def client(number: int) -> None:
        nonlocal failures
        endpoint = agent.endpoints[number % len(agent.endpoints)]
        stream = await trio.open_tcp_stream(endpoint.host, endpoint.port)
        async with stream:
            framed = FramedStream(stream)
            while trio.current_time() < deadline:
                envelope = agent.envelope(Principal.management(), management.STATUS, arg)
                started = time.perf_counter()
                await framed.send(SubmitRequest(envelope))
                answer = await framed.receive()
                if not isinstance(answer, RequestAccepted):
                    failures += 1
                    continue
                await framed.send(AwaitReply(envelope.request_id, 10_000))
                reply = await framed.receive()
                if not isinstance(reply, CertifiedReply):
                    failures += 1
                    continue
                verify_certified_reply(
                    reply, genesis.committee, envelope.request_id, agent.verify
                ).raise_if_rejected()
                latencies.append(time.perf_counter() - started)

    async with trio.open_nursery() as nursery:
        for number in range(clients):
            nursery.start_soon(client, number)
    return latencies, failures


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench consensus")
    parser.add_argument("--replicas", type=int, default=4)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--block-time", type=int, default=100, metavar="MS")
    parser.add_argument("--port", type=int, help="port of replica 0 (default: free ports, probed)")
    parser.add_argument("--output", choices=["text", "json"], default="text")
    args = parser.parse_args(argv)

    verifications = ed25519_verifications_per_second()
    with tempfile.TemporaryDirectory(prefix="bench-consensus-") as tmp:
        root = Path(tmp) / LOCAL_DIR
        try:
            genesis = start_subnet(
                root,
                replicas=args.replicas,
                port=args.port or launcher.free_port_range(args.replicas),
                block_time_ms=args.block_time,
                clean=True,
            )
            identity = Identity("bench", crypto.private_key_from_seed(b"\x07" * 32))
            started = time.perf_counter()
            latencies, failures = trio.run(run_load, genesis, identity, args.clients, args.duration)
            elapsed = time.perf_counter() - started
        finally:
            launcher.stop_processes(root)
    throughput = len(latencies) / elapsed
    result = {
        "replicas": args.replicas,
        "clients": args.clients,
        "duration_s": round(elapsed, 2),
        "block_time_ms": args.block_time,
        "operations": len(latencies),
        "failures": failures,
        "ops_per_s": round(throughput, 1),
        "latency_p50_ms": round(percentile(latencies, 50) * 1000, 1),
        "latency_p90_ms": round(percentile(latencies, 90) * 1000, 1),
        "latency_p99_ms": round(percentile(latencies, 99) * 1000, 1),
        "latency_mean_ms": round(statistics.fmean(latencies) * 1000, 1) if latencies else None,
        "p50_in_block_intervals": round(percentile(latencies, 50) * 1000 / args.block_time, 2),
        "ed25519_verifications_per_s": round(verifications),
        "cpu_count": os.cpu_count(),
    }
    if args.output == "json":
        print(json.dumps(result, indent=2))
    else:
        width = max(len(k) for k in result)
        for key, value in result.items():
            print(f"{key:<{width}}  {value}")
    return 0
