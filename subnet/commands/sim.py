"""`subnet sim`: run a whole subnet in simulated time and report what it agreed on.

The same seed and options give the same ``trace_hash`` on any machine and in any Python
process, which is how a run is shown to be reproducible.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from typing import Any

from subnet.commands.options import add_output_option, bounded
from subnet.scenario.checks import durability, linearizable
from subnet.scenario.spec import DEFAULT_LINEARIZABLE_STEPS
from subnet.sim.clients import CLIENT_KINDS, KIND_ALIASES, MAX_KEYS, OWNED_KINDS, ClientsConfig
from subnet.sim.latency import LatencySpecError, parse_latency
from subnet.sim.owned_transfers import DRAIN_NS
from subnet.sim.path_latency import describe, latency_report
from subnet.sim.runner import SECOND, SimConfig, Simulation
from subnet.sim.workload import WorkloadConfig

MAX_REPLICAS = 64
MAX_DURATION_S = 24 * 3600


_positive_int = bounded(int, "the committee size", 1)
_seed = bounded(lambda text: int(text, 0), "a seed", 0)
_duration = bounded(float, "the duration in seconds", 0.0, float(MAX_DURATION_S), low_open=True)
_probability = bounded(float, "a probability", 0.0, 1.0, high_open=True)
_rate = bounded(float, "the rate in operations per second", 0.0, 10_000.0)
_clients = bounded(int, "the number of clients", 1, 1000)
_keys = bounded(int, "the number of keys", 1, MAX_KEYS)
WORKLOADS = ("lifecycle", *CLIENT_KINDS, *KIND_ALIASES)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sim",
        help="run a subnet in simulated time (deterministic from --seed)",
        description="Run n replicas in one process in virtual time, with a seeded workload of "
        "lifecycle operations, and print the finalized height, the operations executed and "
        "the trace hash.",
    )
    parser.add_argument(
        "--replicas", type=_positive_int, default=4, metavar="N", help="committee size (default 4)"
    )
    parser.add_argument(
        "--seed", type=_seed, default=0, metavar="S", help="the seed of every random draw (default 0)"
    )
    parser.add_argument(
        "--duration", type=_duration, default=10.0, metavar="SECONDS", help="simulated seconds (default 10)"
    )
    parser.add_argument(
        "--latency",
        default="uniform:5ms:25ms",
        metavar="SPEC",
        help="constant:D | uniform:LO:HI | normal:MEAN:SD | bimodal:P:A:B[:SD] | matrix:ROWS|FILE.json (default uniform:5ms:25ms)",
    )
    parser.add_argument(
        "--loss", type=_probability, default=0.0, metavar="P", help="message loss probability"
    )
    parser.add_argument(
        "--duplication", type=_probability, default=0.0, metavar="P", help="message duplication probability"
    )
    parser.add_argument(
        "--rate",
        type=_rate,
        default=None,
        metavar="OPS",
        help="workload submissions per simulated second (lifecycle: default 2, 0: none; a history "
        "workload: open loop at this rate, default closed loop)",
    )
    parser.add_argument(
        "--workload",
        choices=WORKLOADS,
        default="lifecycle",
        metavar="KIND",
        help="lifecycle (default) or clients recording a history: "
        + ", ".join(WORKLOADS[1:])
        + "; a history workload reports each path's latency and the history checks",
    )
    parser.add_argument(
        "--clients", type=_clients, default=4, metavar="N", help="a history workload's clients (default 4)"
    )
    parser.add_argument(
        "--keys",
        type=_keys,
        default=1,
        metavar="K",
        help="registers or counters (owned-transfer: registers per client; default 1)",
    )
    add_output_option(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.replicas > MAX_REPLICAS:
        print(f"Error: at most {MAX_REPLICAS} replicas, not {args.replicas}", file=sys.stderr)
        return 2
    try:
        latency = parse_latency(args.latency)
    except LatencySpecError as exc:
        print(f"Error: --latency: {exc}", file=sys.stderr)
        return 2
    kind = KIND_ALIASES.get(args.workload, args.workload)
    lifecycle_rate = (2.0 if args.rate is None else args.rate) if kind == "lifecycle" else 0.0
    try:
        clients = (
            None
            if kind == "lifecycle"
            else ClientsConfig(kind, clients=args.clients, keys=args.keys, rate_per_s=args.rate or None)
        )
        config = SimConfig(
            replicas=args.replicas,
            seed=args.seed,
            duration_ns=int(round(args.duration * SECOND)),
            latency=latency,
            loss=args.loss,
            duplication=args.duplication,
            workload=WorkloadConfig(rate_per_s=lifecycle_rate) if lifecycle_rate > 0 else None,
            clients=clients,
        )
        simulation = Simulation(config)
    except ValueError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    started, started_cpu = time.perf_counter(), time.process_time()
    result = simulation.run()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - started_cpu
    simulated = result.duration_ns / SECOND
    # Virtual seconds per real second: per wall second as asked, per CPU second as a
    # figure that other work on the machine does not change.
    speed = {
        "wall_seconds": round(elapsed, 3),
        "cpu_seconds": round(cpu, 3),
        "speedup_wall": round(simulated / elapsed, 1) if elapsed > 0 else None,
        "speedup_cpu": round(simulated / cpu, 1) if cpu > 0 else None,
    }
    history = _history(simulation, kind)
    if args.output == "json":
        data = result.to_json()
        data.update(speed)
        if history:
            data["history"] = history
        print(json.dumps(data, indent=2, sort_keys=True))
    else:
        print(f"replicas:            {result.replicas}")
        print(f"seed:                {result.seed}")
        print(f"simulated seconds:   {result.duration_ns / SECOND:g}")
        print(f"finalized height:    {result.finalized_height}")
        print(f"operations executed: {result.operations_executed}")
        print(f"agreement:           {'yes' if result.agreement else 'NO'}")
        for disagreement in result.disagreements:
            print(f"disagreement:        {disagreement}")
        if history:
            _print_history(history)
        print(f"trace_hash:          {result.trace_hash}")
        print(
            f"wall seconds:        {elapsed:.2f} ({speed['speedup_wall']}x real time; "
            f"{speed['speedup_cpu']}x per CPU second)",
            file=sys.stderr,
        )
    failed = any(check["verdict"] == "invalid" for check in history.get("checks", {}).values())
    return 0 if result.agreement and not failed else 1


def _history(simulation: Simulation, kind: str) -> dict[str, Any]:
    """What a history workload's clients saw: outcomes, each path's latency (ms and message
    delays), and the durability and linearizability checks; empty without one."""
    clients = simulation.clients
    if clients is None:
        return {}
    outcomes = Counter(event.type for event in clients.events if event.type != "invoke")
    mean = simulation.config.latency.mean_delay_ns(simulation.n)
    return {
        "workload": kind,
        "clients": clients.config.clients,
        "outcomes": {name: outcomes.get(name, 0) for name in ("ok", "fail", "info")},
        "latency": latency_report(clients.events, kind, mean),
        "checks": {
            check.name: {"verdict": check.verdict, "summary": check.summary}
            for check in (durability(simulation), linearizable(simulation, DEFAULT_LINEARIZABLE_STEPS))
        },
    }


def _print_history(history: dict[str, Any]) -> None:
    outcomes = history["outcomes"]
    print(f"workload:            {history['workload']} ({history['clients']} clients)")
    print(f"operations:          {outcomes['ok']} ok, {outcomes['fail']} fail, {outcomes['info']} info")
    if not history["latency"]:
        note = (
            f" (its clients start nothing in the last {DRAIN_NS / SECOND:g} s)"
            if history["workload"] in OWNED_KINDS
            else ""
        )
        print(f"latency:             no operation completed{note}")
    for path, figures in history["latency"].items():
        print(describe(path, figures))
    for name, check in history["checks"].items():
        print(f"{name + ':':<21}{check['verdict']} ({check['summary']})")
