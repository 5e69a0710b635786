"""`subnet start | stop | status`: a local subnet of replica processes, like `dfx start`."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import time
from pathlib import Path

import trio
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from client.agent import Agent, Endpoint
from client.identity import parse_pem
from subnet import launcher
from subnet.cli_options import add_output_option
from vocab import crypto
from vocab.errors import CodecError, SubnetError
from vocab.genesis import MS, Genesis, GenesisError, NodeEntry
from vocab.messages import StatusReply
from vocab.principal import Principal

READY_TIMEOUT = 30.0


def register(subparsers: argparse._SubParsersAction) -> None:
    start = subparsers.add_parser("start", help="start a local subnet of replica processes")
    start.add_argument("--replicas", type=int, default=4, help="number of replicas, n = 3f + 1 (default 4)")
    start.add_argument("--background", action="store_true", help="return once the subnet is up")
    start.add_argument("--clean", action="store_true", help="forget all state and start an empty subnet")
    start.add_argument("--port", type=int, default=4943, help="port of replica 0; replica i uses PORT + i")
    start.add_argument(
        "--block-time", type=int, default=200, metavar="MS", help="target block interval in ms"
    )
    start.set_defaults(handler=_start)

    stop = subparsers.add_parser("stop", help="stop the local subnet and wait until its processes are gone")
    stop.set_defaults(handler=_stop)

    status = subparsers.add_parser("status", help="show each replica's height, peers and errors")
    add_output_option(status)
    status.set_defaults(handler=_status)


def local_root() -> Path:
    return Path.cwd() / launcher.LOCAL_DIR


def load_genesis(root: Path | None = None) -> Genesis:
    path = (root or local_root()) / "genesis.json"
    try:
        return Genesis.from_json(path.read_text())
    except FileNotFoundError as exc:
        raise SubnetError(f"no local subnet here ({path} is missing); run `subnet start` first") from exc
    except GenesisError as exc:
        raise SubnetError(f"{path}: {exc}") from exc


def endpoints(genesis: Genesis) -> list[Endpoint]:
    out = []
    for index, entry in enumerate(genesis.nodes):
        host, _, port = entry.address.rpartition(":")
        out.append(Endpoint(index, host, int(port)))
    return out


def _create_subnet(root: Path, replicas: int, port: int, block_time_ms: int) -> Genesis:
    keys = [Ed25519PrivateKey.generate() for _ in range(replicas)]
    nodes = []
    for index, key in enumerate(keys):
        raw = crypto.raw_public_key(key)
        nodes.append(
            NodeEntry(
                node_id=Principal.from_ed25519_public_key(raw).to_text(),
                public_key=raw.hex(),
                address=f"127.0.0.1:{port + index}",
            )
        )
    genesis = Genesis(
        nodes=tuple(nodes),
        # The process backend runs in real time: the chain starts now, and block times
        # (what canisters see as ic0.time) are the proposers' clocks.
        genesis_time_ns=time.time_ns(),
        block_interval_ns=block_time_ms * MS,
    )
    root.mkdir(parents=True, exist_ok=True)
    for index, key in enumerate(keys):
        directory = launcher.replica_dir(root, index)
        directory.mkdir(parents=True, exist_ok=True)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        path = directory / "node_key.pem"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
    (root / "genesis.json").write_text(genesis.to_json() + "\n")
    return genesis


def load_node_key(root: Path, index: int) -> Ed25519PrivateKey:
    path = launcher.replica_dir(root, index) / "node_key.pem"
    return parse_pem(path.read_bytes(), str(path))


def _start(args: argparse.Namespace) -> int:
    if args.replicas < 1 or args.replicas > 64:
        raise SubnetError(f"--replicas must be between 1 and 64, not {args.replicas}")
    if not 1024 <= args.port <= 65535 - args.replicas:
        raise SubnetError(f"--port must leave room for {args.replicas} ports between 1024 and 65535")
    if args.block_time < 10:
        raise SubnetError("--block-time must be at least 10 ms")
    root = local_root()
    alive = {process.index for process in launcher.running(root)}
    if alive and args.clean:
        raise SubnetError("the local subnet is running; `subnet stop` before starting it --clean")
    if args.clean:
        _remove_tree(root)
    if (root / "genesis.json").exists():
        genesis = load_genesis(root)
        if len(genesis.nodes) != args.replicas:
            raise SubnetError(
                f"the local subnet has {len(genesis.nodes)} replicas, not {args.replicas}; use --clean to start a new one"
            )
    else:
        genesis = _create_subnet(root, args.replicas, args.port, args.block_time)
    missing = [index for index in range(len(genesis.nodes)) if index not in alive]
    if not missing:
        raise SubnetError("the local subnet is already running; `subnet stop` first")
    for index in missing:
        # With some replicas still up, this restarts the ones that died (after a crash or
        # `kill -9`): they replay their blocks and catch up from the others.
        launcher.spawn_replica(root, index)
    try:
        trio.run(wait_until_ready, genesis, READY_TIMEOUT)
    except SubnetError:
        launcher.stop_processes(root)
        raise
    addresses = ", ".join(entry.address for entry in genesis.nodes)
    print(f"Subnet of {len(genesis.nodes)} replicas running on {addresses}")
    if args.background:
        return 0
    print("Press Ctrl-C to stop.", file=sys.stderr)
    stop_requested = False

    def request_stop(signum: int, frame: object) -> None:
        nonlocal stop_requested
        stop_requested = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    while not stop_requested and launcher.running(root):
        time.sleep(0.2)
    launcher.stop_processes(root)
    return 0


async def wait_until_ready(genesis: Genesis, timeout: float) -> None:
    """Until every replica answers a status request; the wait is bounded by ``timeout``."""
    agent = Agent(endpoints(genesis), genesis.committee)
    pending = set(range(len(genesis.nodes)))
    with trio.move_on_after(timeout):
        while pending:
            for endpoint in agent.endpoints:
                if endpoint.index in pending:
                    try:
                        await agent.status(endpoint, timeout=1.0)
                    except (OSError, trio.TooSlowError, trio.BrokenResourceError, CodecError):
                        continue
                    pending.discard(endpoint.index)
            if pending:
                await trio.sleep(0.1)
    if pending:
        raise SubnetError(
            f"replicas {sorted(pending)} did not come up within {timeout:g} s; see {launcher.LOCAL_DIR}/replica-*/replica.log"
        )


def _stop(args: argparse.Namespace) -> int:
    root = local_root()
    stopped = launcher.stop_processes(root)
    if stopped:
        print(f"Stopped replicas {', '.join(str(i) for i in stopped)}.")
    else:
        print("No local subnet is running.")
    return 0


async def collect_status(genesis: Genesis) -> list[tuple[Endpoint, StatusReply | None, str]]:
    agent = Agent(endpoints(genesis), genesis.committee)
    rows: list[tuple[Endpoint, StatusReply | None, str]] = []
    for endpoint in agent.endpoints:
        try:
            rows.append((endpoint, await agent.status(endpoint, timeout=2.0), ""))
        except (OSError, trio.TooSlowError, trio.BrokenResourceError, CodecError) as exc:
            rows.append((endpoint, None, f"{type(exc).__name__}: {exc}".rstrip(": ")))
    return rows


async def wait_for_heights(
    genesis: Genesis, *, within: int | None = 0, at_least: int = 1, timeout: float = 60.0
) -> int:
    """Wait until every replica answers, has finalized ``at_least`` heights and is within
    ``within`` heights of the others (a restarted replica has caught up; None: any spread).
    Returns the lowest finalized height; raises ``trio.TooSlowError`` after ``timeout`` s."""
    with trio.fail_after(timeout):
        while True:
            rows = await collect_status(genesis)
            heights = [reply.finalized_height for _, reply, _ in rows if reply is not None]
            if (
                len(heights) == len(rows)
                and min(heights) >= at_least
                and (within is None or max(heights) - min(heights) <= within)
            ):
                return min(heights)
            await trio.sleep(0.2)


def _status(args: argparse.Namespace) -> int:
    root = local_root()
    genesis = load_genesis(root)
    pids = launcher.read_pids(root)
    rows = trio.run(collect_status, genesis)
    records = []
    for endpoint, reply, error in rows:
        pid = pids.get(endpoint.index)
        records.append(
            {
                "replica": endpoint.index,
                "pid": reply.pid if reply else (pid if pid and launcher.pid_alive(pid) else None),
                "address": endpoint.address,
                "up": reply is not None,
                "height": reply.height if reply else None,
                "finalized_height": reply.finalized_height if reply else None,
                "certified_height": reply.certified_height if reply else None,
                "peers": sorted(set(reply.peers_out) & set(reply.peers_in)) if reply else [],
                "last_error": reply.last_error if reply else error,
                "rejected": reply.rejected if reply else {},
                "checkpoint_height": reply.checkpoint_height if reply else None,
                "replayed_heights": reply.replayed_heights if reply else None,
            }
        )
    if args.output == "json":
        print(json.dumps({"replicas": records}, indent=2))
    else:
        header = f"{'replica':<8}{'pid':<9}{'address':<18}{'height':>7}{'final':>7}{'cert':>7}  {'peers':<12}last error"
        print(header)
        for r in records:
            peers = ",".join(str(p) for p in r["peers"]) if r["up"] else "-"
            print(
                f"{r['replica']:<8}{str(r['pid'] or '-'):<9}{r['address']:<18}"
                f"{_dash(r['height']):>7}{_dash(r['finalized_height']):>7}{_dash(r['certified_height']):>7}  "
                f"{peers:<12}{r['last_error'] or ''}"
            )
    return 0 if all(r["up"] for r in records) else 1


def _dash(value: object) -> str:
    return "-" if value is None else str(value)


def _remove_tree(root: Path) -> None:
    shutil.rmtree(root, ignore_errors=True)
