"""`subnet sim`: run a whole subnet in simulated time and report what it agreed on.

The same seed and options give the same ``trace_hash`` on any machine and in any Python
process, which is how a run is shown to be reproducible.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from subnet.commands.options import add_output_option, bounded
from subnet.sim.latency import LatencySpecError, parse_latency
from subnet.sim.runner import SECOND, SimConfig, Simulation
from subnet.sim.workload import WorkloadConfig

MAX_REPLICAS = 64
MAX_DURATION_S = 24 * 3600


_positive_int = bounded(int, "the committee size", 1)
_seed = bounded(lambda text: int(text, 0), "a seed", 0)
_duration = bounded(float, "the duration in seconds", 0.0, float(MAX_DURATION_S), low_open=True)
_probability = bounded(float, "a probability", 0.0, 1.0, high_open=True)
_rate = bounded(float, "the rate in operations per second", 0.0, 10_000.0)


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
        default=2.0,
        metavar="OPS",
        help="workload submissions per simulated second (0: none)",
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
    config = SimConfig(
        replicas=args.replicas,
        seed=args.seed,
        duration_ns=int(round(args.duration * SECOND)),
        latency=latency,
        loss=args.loss,
        duplication=args.duplication,
        workload=WorkloadConfig(rate_per_s=args.rate) if args.rate > 0 else None,
    )
    try:
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
    if args.output == "json":
        data = result.to_json()
        data.update(speed)
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
        print(f"trace_hash:          {result.trace_hash}")
        print(
            f"wall seconds:        {elapsed:.2f} ({speed['speedup_wall']}x real time; "
            f"{speed['speedup_cpu']}x per CPU second)",
            file=sys.stderr,
        )
    return 0 if result.agreement else 1
