"""`subnet start | stop | status`: a local subnet of replica processes, like `dfx start`.

Argument checks and printing only; the work is ``subnet.processes``.
"""

from __future__ import annotations

import argparse
import json
import sys

from client.network import load_genesis, local_root
from subnet.commands.feedback import Feedback, print_table
from subnet.commands.options import add_output_option, bounded
from subnet.processes import launcher
from subnet.processes.status import status_records
from subnet.processes.supervision import run_until_signalled, start_subnet
from vocab.errors import SubnetError


def register(subparsers: argparse._SubParsersAction) -> None:
    start = subparsers.add_parser("start", help="start a local subnet of replica processes")
    start.add_argument("--replicas", type=int, default=4, help="number of replicas, n = 3f + 1 (default 4)")
    start.add_argument("--background", action="store_true", help="return once the subnet is up")
    start.add_argument("--clean", action="store_true", help="forget all state and start an empty subnet")
    start.add_argument("--port", type=int, default=4943, help="port of replica 0; replica i uses PORT + i")
    start.add_argument(
        "--block-time", type=int, default=200, metavar="MS", help="target block interval in ms"
    )
    start.add_argument(
        "--memory-capacity",
        type=bounded(int, "a memory capacity in bytes", 1 << 20, 1 << 50),
        metavar="BYTES",
        help="memory all canisters may use together, per replica (default 2 GiB); fixed at creation",
    )
    start.add_argument(
        "--epoch-duration",
        type=bounded(int, "an epoch length in ms", 1000, 1 << 40),
        metavar="MS",
        help="how long a Sui epoch lasts, in ms (default a day, as on Sui); owned-object locks "
        "reset when an epoch ends; fixed at creation",
    )
    start.add_argument(
        "--instructions-per-slice",
        type=bounded(int, "a number of instructions", 0, 1 << 40),
        metavar="N",
        help="instructions an update runs per block before it is paused and continued in the "
        "next (deterministic time slicing; 0: none; default 40M per second of block time); "
        "fixed at creation",
    )
    start.add_argument(
        "--allow-adding-abilities",
        action="store_true",
        help="let compatible package upgrades add abilities to structs (the rule Sui documented "
        "before forbidding it); fixed at creation",
    )
    start.set_defaults(handler=_start)

    stop = subparsers.add_parser("stop", help="stop the local subnet and wait until its processes are gone")
    stop.set_defaults(handler=_stop)

    status = subparsers.add_parser("status", help="show each replica's height, peers and errors")
    add_output_option(status)
    status.set_defaults(handler=_status)


def _start(args: argparse.Namespace) -> int:
    if args.replicas < 1 or args.replicas > 64:
        raise SubnetError(f"--replicas must be between 1 and 64, not {args.replicas}")
    if not 1024 <= args.port <= 65535 - args.replicas:
        raise SubnetError(f"--port must leave room for {args.replicas} ports between 1024 and 65535")
    if args.block_time < 10:
        raise SubnetError("--block-time must be at least 10 ms")
    root = local_root()
    feedback = Feedback()

    def progress(line: str) -> None:
        # above the spinner on a terminal, a plain line of standard error otherwise
        feedback.console.print(line, markup=False, highlight=False, soft_wrap=True)

    with feedback.step(f"Starting {args.replicas} replicas..."):
        genesis = start_subnet(
            root,
            replicas=args.replicas,
            port=args.port,
            block_time_ms=args.block_time,
            clean=args.clean,
            memory_capacity=args.memory_capacity,
            epoch_duration_ms=args.epoch_duration,
            allow_adding_abilities=args.allow_adding_abilities,
            instructions_per_slice=args.instructions_per_slice,
            progress=progress,
        )
    addresses = ", ".join(entry.address for entry in genesis.nodes)
    print(f"Subnet of {len(genesis.nodes)} replicas running on {addresses}")
    if args.background:
        return 0
    print("Press Ctrl-C to stop.", file=sys.stderr)
    run_until_signalled(root)
    return 0


def _stop(args: argparse.Namespace) -> int:
    stopped = launcher.stop_processes(local_root())
    if stopped:
        print(f"Stopped replicas {', '.join(str(i) for i in stopped)}.")
    else:
        print("No local subnet is running.")
    return 0


def _status(args: argparse.Namespace) -> int:
    root = local_root()
    records = status_records(root, load_genesis(root))
    if args.output == "json":
        print(json.dumps({"replicas": records}, indent=2))
    else:
        rows = [
            [
                str(r["replica"]),
                str(r["pid"] or "-"),
                r["address"],
                _dash(r["height"]),
                _dash(r["finalized_height"]),
                _dash(r["certified_height"]),
                _dash(r["sui_epoch"]),
                ",".join(str(p) for p in r["peers"]) if r["up"] else "-",
                r["last_error"] or "",
            ]
            for r in records
        ]
        print_table(
            ["replica", "pid", "address", "height", "final", "cert", "epoch", "peers", "last error"], rows
        )
    return 0 if all(r["up"] for r in records) else 1


def _dash(value: object) -> str:
    return "-" if value is None else str(value)
