"""`subnet scenario run|replay|list`: fault-injection scenarios on the simulator.

``run`` exits 0 when every check is valid, 1 when one is invalid, 2 when one could not
decide (unknown) or the file is wrong (nothing runs then). ``replay`` exits 0 when the
stored run's trace hash is reproduced, 1 when it is not.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from subnet.commands.options import add_output_option, bounded
from subnet.commands.sim import _seed
from subnet.scenario import (
    CheckResult,
    Outcome,
    Scenario,
    ScenarioError,
    find_shipped,
    parse_scenario,
    replay,
    run_scenario,
    shipped,
    with_seed,
    write_results,
)
from subnet.scenario.processes import check_supported, run_on_processes
from subnet.scenario.results import latency, write_process_results
from subnet.scenario.sweep import SeedResult, default_jobs, parse_seeds, sweep, sweep_verdict
from subnet.sim.path_latency import describe
from subnet.sim.versioned_counter import describe_failure
from vocab.errors import SubnetError

EXIT = {"valid": 0, "invalid": 1, "unknown": 2}
SHOWN_OPERATIONS = 5
BAD_INPUT = 2


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "scenario",
        help="run fault-injection scenarios (TOML) and check the outcome",
        description="Run a scenario file on the simulator, check agreement, convergence and "
        "liveness, and keep the results; replay a stored run; list the shipped scenarios.",
    )
    commands = parser.add_subparsers(dest="scenario_command", metavar="COMMAND")
    commands.required = True
    run_parser = commands.add_parser(
        "run",
        help="run a scenario: exit 0 valid, 1 invalid, 2 unknown",
        description="Run FILE (or a shipped scenario by name, see `subnet scenario list`). "
        "Exit 0 when every check is valid, 1 when one is invalid, 2 when one is unknown "
        "or the file is wrong.",
    )
    run_parser.add_argument("file", metavar="FILE", help="a scenario .toml file or a shipped scenario's name")
    run_parser.add_argument("--seed", type=_seed, default=None, metavar="S", help="override the file's seed")
    run_parser.add_argument(
        "--backend",
        choices=("sim", "processes"),
        default=None,
        help="override the file's backend (processes: crash, pause, disk-loss, partition, latency, loss, "
        "duplication and clock-skew faults; register and counter workloads)",
    )
    run_parser.add_argument(
        "--results",
        type=Path,
        default=Path("results"),
        metavar="DIR",
        help="results root (default ./results)",
    )
    add_output_option(run_parser)
    run_parser.set_defaults(handler=run)
    replay_parser = commands.add_parser(
        "replay",
        help="rerun a stored run and confirm its trace hash",
        description="Rerun the scenario.toml of RESULT_DIR; exit 0 if the trace hash is the "
        "recorded one, 1 (with the first differing trace line) if not.",
    )
    replay_parser.add_argument("folder", type=Path, metavar="RESULT_DIR")
    replay_parser.set_defaults(handler=run_replay)
    sweep_parser = commands.add_parser(
        "sweep",
        help="run a scenario under many seeds: exit 0 all valid, 1 one invalid, 2 one unknown",
        description="Run FILE (or a shipped scenario) on the simulator once per seed, in parallel, "
        "and print a table of the verdicts with the command that replays each failing seed. "
        "Exit 0 when every seed is valid, 1 when one is invalid, 2 when one is unknown (and none "
        "invalid) or the input is wrong.",
    )
    sweep_parser.add_argument(
        "file", metavar="FILE", help="a scenario .toml file or a shipped scenario's name"
    )
    sweep_parser.add_argument(
        "--seeds", required=True, metavar="SEEDS", help="seeds: 1..100, 1-100 (ends included) or 3,7,9"
    )
    sweep_parser.add_argument(
        "--jobs",
        type=bounded(int, "the number of worker processes", 1, 1024),
        default=None,
        metavar="N",
        help="worker processes (default: one per core)",
    )
    sweep_parser.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="run the seeds on this Dask scheduler instead (needs the dask extra)",
    )
    add_output_option(sweep_parser)
    sweep_parser.set_defaults(handler=run_sweep)
    list_parser = commands.add_parser("list", help="the shipped scenarios")
    list_parser.set_defaults(handler=run_list)


def _load(file: str) -> tuple[Path, str]:
    path = Path(file)
    if not path.exists():
        found = find_shipped(file)
        if found is None:
            raise ScenarioError(f"{file}: no such file, nor a shipped scenario (see `subnet scenario list`)")
        path = found
    try:
        return path, path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{file}: cannot read it: {exc}") from None


def _quietly(scenario: Scenario) -> Outcome:
    """Run with the simulator's own error log muted: a disagreement it logs as it happens
    is reported by the agreement check, with its evidence, in the table and the summary."""
    logger = logging.getLogger("subnet.sim")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        return run_scenario(scenario)
    finally:
        logger.setLevel(level)


def run(args: argparse.Namespace) -> int:
    try:
        path, text = _load(args.file)
        scenario = with_seed(parse_scenario(text), args.seed)
        if args.backend is not None:
            scenario = dataclasses.replace(scenario, backend=args.backend)
        if scenario.backend == "processes":
            check_supported(scenario, text)
            return _run_processes(args, path, scenario, text)
        outcome = _quietly(scenario)
    except ScenarioError as exc:
        print(f"Error: {args.file}: {exc}", file=sys.stderr)
        return BAD_INPUT
    stamp = _stamp()
    try:
        folder = write_results(args.results, outcome, stamp)
    except OSError as exc:
        print(f"Error: cannot write the results under {args.results}: {exc}", file=sys.stderr)
        return BAD_INPUT
    if args.output == "json":
        data = json.loads((folder / "summary.json").read_text())
        data["results"] = str(folder)
        print(json.dumps(data, indent=2, sort_keys=True))
    else:
        print(f"scenario: {scenario.name} (seed {scenario.seed}, {path})")
        for line in outcome.schedule.resolved:
            print(f"  fault: {line}")
        if "mixed_callers" in outcome.reports:
            _print_mixed_callers(outcome.reports["mixed_callers"])
        _print_checks(outcome.checks, outcome.verdict)
        for path_name, figures in latency(outcome).items():
            print(describe(path_name, figures))
        print(f"finalized height: {outcome.result.finalized_height}  trace_hash: {outcome.result.trace_hash}")
        print(f"results: {folder}")
    return EXIT[outcome.verdict]


def _print_mixed_callers(report: dict[str, Any]) -> None:
    """The versioned counter's callers per version and phase (``summary.json``'s
    ``mixed_callers``), with the steps that cut the phases."""
    out = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 120)
    for name, step in report["steps"].items():
        answered = (
            f", answered at {step['answered_s']:.3f}s (height {step.get('height')})"
            if "answered_s" in step
            else ""
        )
        failure = step.get("failure")
        status = step.get("status", step.get("outcome"))
        if failure:
            status = f"{status}: {describe_failure(failure)}"
        if "package_version" in step:
            status += f" (through package v{step['package_version']})"
        out.print(f"  {name} at {step['at_s']:g}s: {status}{answered}")
    started = report["v2_callers_started_s"]
    table = Table(
        title="calls by package version and phase"
        + ("" if started is None else f" (v2 callers waited for the upgraded package until {started:.3f}s)")
    )
    for column in ("version", "phase", "calls", "ok", "aborted", "other failures", "unknown"):
        table.add_column(column, justify="right" if column in ("calls", "ok", "unknown") else "left")
    for row in report["table"]:
        table.add_row(
            f"v{row['version']}",
            row["phase"],
            str(row["calls"]),
            str(row["ok"]),
            ", ".join(f"{count} {name}" for name, count in row["aborted"].items()) or "0",
            ", ".join(f"{count} {why}" for why, count in row["failed"].items()) or "0",
            str(row["unknown"]),
        )
    out.print(table)
    for location in report["abort_locations"]:
        out.print(f"  abort: {location}")


def _stamp() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")


def _print_checks(checks: list[CheckResult], verdict: str) -> None:
    width = max([len(check.name) for check in checks] + [5])
    print(f"{'check':<{width}}  {'verdict':<8} summary")
    for check in checks:
        print(f"{check.name:<{width}}  {check.verdict:<8} {check.summary}")
    for check in checks:
        if check.verdict == "invalid":
            _print_violation(check)
    print(f"verdict: {verdict}")


def _run_processes(args: argparse.Namespace, path: Path, scenario: Scenario, text: str) -> int:
    """The scenario on replica processes (``subnet.scenario.processes``)."""
    if args.output != "json":
        print(
            f"scenario: {scenario.name} (seed {scenario.seed}, {path}) on {scenario.subnet.replicas} replica processes"
        )
    try:
        outcome = run_on_processes(scenario, text)
    except (SubnetError, OSError) as exc:
        print(f"Error: the process backend failed: {exc}", file=sys.stderr)
        return BAD_INPUT
    try:
        folder = write_process_results(args.results, outcome, _stamp())
    except OSError as exc:
        print(f"Error: cannot write the results under {args.results}: {exc}", file=sys.stderr)
        return BAD_INPUT
    if args.output == "json":
        data = json.loads((folder / "summary.json").read_text())
        data["results"] = str(folder)
        print(json.dumps(data, indent=2, sort_keys=True))
    else:
        for item in outcome.nemesis:
            whom = "every replica" if item["replica"] < 0 else f"replica {item['replica']}"
            print(f"  {item['time_s']:8.3f}s {item['action']} {whom} ({item['detail']})")
        _print_checks(outcome.checks, outcome.verdict)
        heights = [len(chain) for chain in outcome.record.chains]
        print(f"finalized heights: {heights}")
        print(f"results: {folder}")
    return EXIT[outcome.verdict]


def _print_violation(check: CheckResult) -> None:
    """The operations a history check names: the failing piece of a non-linearizable
    history, the lost or twice-executed writes."""
    evidence = check.evidence
    lines: list[str] = list(evidence.get("piece", []))
    for key, title in (("lost", "lost acknowledged writes"), ("executed_twice", "executed more than once")):
        items = evidence.get(key) or []
        if items:
            count = evidence.get(f"{key}_count", len(items))
            lines.append(f"{title} ({count}):")
            lines += [f"  {item}" for item in items[:SHOWN_OPERATIONS]]
            if count > SHOWN_OPERATIONS:
                lines.append(f"  ... {count - SHOWN_OPERATIONS} more in summary.json")
    if lines:
        print(f"{check.name}:")
        for line in lines:
            print(f"  {line}")


def run_sweep(args: argparse.Namespace) -> int:
    try:
        seeds = parse_seeds(args.seeds)
    except ValueError as exc:
        print(f"Error: --seeds {args.seeds}: {exc}", file=sys.stderr)
        return BAD_INPUT
    jobs = args.jobs or default_jobs()
    console = Console(stderr=True)
    try:
        path, text = _load(args.file)
        parse_scenario(text)
        with Progress(
            TextColumn("seeds"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[failed]} failing"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=not console.is_terminal,
        ) as bar:
            task = bar.add_task("sweep", total=len(seeds), failed=0)
            failed = 0

            def advance(result: SeedResult) -> None:
                nonlocal failed
                failed += result.verdict != "valid"
                bar.update(task, advance=1, failed=failed)

            started = time.perf_counter()
            results = sweep(text, seeds, jobs=jobs, scheduler=args.scheduler, progress=advance)
            elapsed = time.perf_counter() - started
    except ScenarioError as exc:
        print(f"Error: {args.file}: {exc}", file=sys.stderr)
        return BAD_INPUT
    verdict = sweep_verdict(results)
    where = f"--scheduler {args.scheduler}" if args.scheduler else f"{jobs} job(s)"
    if args.output == "json":
        print(
            json.dumps(
                {
                    "file": str(path),
                    "verdict": verdict,
                    "seeds": [result.to_json() for result in results],
                    "wall_seconds": round(elapsed, 3),
                },
                indent=2,
            )
        )
        return EXIT[verdict]
    out = Console(highlight=False, soft_wrap=True)
    table = Table(title=f"{len(results)} seeds of {path} ({where}, {elapsed:.1f} s)")
    for column in ("seed", "verdict", "height", "history", "trace hash", "not valid"):
        table.add_column(column, justify="right" if column in ("seed", "height", "history") else "left")
    style = {"valid": "green", "invalid": "bold red", "unknown": "yellow"}
    for result in results:
        table.add_row(
            str(result.seed),
            f"[{style[result.verdict]}]{result.verdict}[/]",
            str(result.finalized_height),
            str(result.operations),
            result.trace_hash[:12],
            "; ".join(result.failing),
        )
    out.print(table)
    counts = {
        name: sum(result.verdict == name for result in results) for name in ("valid", "invalid", "unknown")
    }
    out.print(f"valid {counts['valid']}, invalid {counts['invalid']}, unknown {counts['unknown']}: {verdict}")
    for result in results:
        if result.verdict != "valid":
            out.print(f"seed {result.seed}: {'; '.join(result.summaries)}")
            out.print(f"  replay: subnet scenario run {path} --seed {result.seed}")
    return EXIT[verdict]


def run_replay(args: argparse.Namespace) -> int:
    try:
        result = replay(args.folder)
    except ScenarioError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return BAD_INPUT
    if result.same:
        print(f"same trace hash: {result.replayed_hash}")
        return 0
    print(f"DIFFERENT trace hash: recorded {result.recorded_hash}, replayed {result.replayed_hash}")
    if result.first_difference is not None:
        print(f"first difference at trace.jsonl line {result.first_difference}:")
        print(f"  recorded: {result.recorded_line}")
        print(f"  replayed: {result.replayed_line}")
    return 1


def run_list(args: argparse.Namespace) -> int:
    items = shipped()
    width = max([len(item.stem) for item in items] + [4])
    for item in items:
        print(f"{item.stem:<{width}}  {item.description or item.name}")
    return 0
