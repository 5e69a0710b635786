"""`subnet check`: checkers run on a recorded history alone.

``subnet check linearizable FILE`` reads a client history (Jepsen's register log, Jepsen's
kv maps or the project's ``history.jsonl``) and says whether it is linearizable. Exit 0:
linearizable; 1: not (the operations involved are printed); 2: unknown (the budget ran
out, with the reason) or the file could not be read as a history (``Error: ...`` naming
the line). Exit 1 means only "not linearizable", so that a script can tell a violation
from a history it could not judge. FILE may be a scenario results folder: its
``history.jsonl`` is checked against the model its ``executions.json`` names.

``subnet check durability RESULT_DIR`` checks a results folder's history against its
``executions.json``: every acknowledged write executed, exactly once (exit 0/1/2 alike).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from subnet.checks.durability import check_durability
from subnet.checks.history import FORMATS, HistoryError, infer_format, operations, read_history, read_jsonl
from subnet.checks.linearizable import MODELS, Budget, Verdict, check_linearizable, infer_model
from subnet.commands.options import add_output_option, bounded

DEFAULT_TIMEOUT_S = 60.0
SHOWN_PREFIX = 8
"""How many of the last linearized operations the text output shows."""


_timeout = bounded(float, "the timeout in seconds", 0.0, 24 * 3600.0, low_open=True)
_steps = bounded(int, "the step budget", 1)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "check",
        help="check a recorded client history (linearizability)",
        description="Run a checker on a recorded history alone.",
    )
    checks = parser.add_subparsers(dest="check", metavar="CHECK")
    checks.required = True
    lin = checks.add_parser(
        "linearizable",
        help="is a history linearizable? (exit 0 yes, 1 no, 2 unknown or unreadable)",
        description="Check a client history for linearizability (Wing-Gong search with Lowe's "
        "memoization, one key at a time). Exit 0: linearizable; 1: not linearizable (the "
        "operations involved are printed); 2: unknown (the budget ran out, with the reason) "
        "or the file is not a readable history (an Error naming the line).",
        epilog="Formats: jepsen (Jepsen's register log, INFO jepsen.util - P<TAB>:type<TAB>:f<TAB>value), "
        'jepsen-kv ({:process P, :type :ok, :f :get, :key "K", :value "V"}), jsonl (history.jsonl: '
        '{"index", "process", "type", "f", "key", "value", "time"} per line). Without --format the '
        "first line decides; without --model the functions do (get/put/append: kv, add/incr: counter, "
        "else register).",
    )
    lin.add_argument("file", metavar="FILE", help="the history file, or a scenario results folder")
    lin.add_argument(
        "--model", choices=tuple(MODELS), default=None, help="the sequential model (default: inferred)"
    )
    lin.add_argument(
        "--format", choices=FORMATS, default=None, dest="fmt", help="the file format (default: inferred)"
    )
    lin.add_argument(
        "--timeout",
        type=_timeout,
        default=DEFAULT_TIMEOUT_S,
        metavar="SECONDS",
        help=f"give up with 'unknown' after this long (default {DEFAULT_TIMEOUT_S:g})",
    )
    lin.add_argument(
        "--max-steps",
        type=_steps,
        default=None,
        metavar="N",
        help="give up with 'unknown' after N search steps (deterministic; default no limit)",
    )
    add_output_option(lin)
    lin.set_defaults(handler=run_linearizable)
    durable = checks.add_parser(
        "durability",
        help="did every acknowledged write of a scenario run survive, exactly once? (exit 0/1/2)",
        description="Check a scenario results folder: every write its history.jsonl acknowledges "
        "must be executed by the final chain, exactly once (executions.json). Exit 0: durable; 1: "
        "a lost or twice-executed write (named); 2: nothing to judge, or not a results folder.",
    )
    durable.add_argument("folder", metavar="RESULT_DIR", help="a `subnet scenario run` results folder")
    add_output_option(durable)
    durable.set_defaults(handler=run_durability)


def _executions(folder: Path) -> dict[str, Any]:
    """A results folder's ``executions.json``, checked for the shape it must have."""
    path = folder / "executions.json"
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise HistoryError(
            str(path), None, "no such file: not the results folder of a register or counter workload"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise HistoryError(str(path), None, f"cannot be read: {exc}") from None
    counts = data.get("executions") if isinstance(data, dict) else None
    if not isinstance(counts, dict) or not all(
        isinstance(key, str) and key.isdigit() and isinstance(value, int) and not isinstance(value, bool)
        for key, value in counts.items()
    ):
        raise HistoryError(str(path), None, 'must hold "executions": {"<invocation index>": <count>, ...}')
    return data


def run_durability(args: argparse.Namespace) -> int:
    folder = Path(args.folder)
    try:
        if not folder.is_dir():
            raise HistoryError(str(folder), None, "not a directory (a `subnet scenario run` results folder)")
        data = _executions(folder)
        events = read_jsonl(folder / "history.jsonl")
        operations(events, str(folder / "history.jsonl"))  # the same pairing rules as the other checks
    except HistoryError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    verdict = check_durability(events, {int(key): value for key, value in data["executions"].items()})
    if args.output == "json":
        print(json.dumps({**verdict.to_json(), "folder": str(folder)}, indent=2, sort_keys=True))
        return verdict.exit_code
    print(f"{'durable' if verdict.result == 'valid' else verdict.result.upper()}: {verdict.summary}")
    for title, items, count in (
        ("lost acknowledged writes", verdict.lost, verdict.lost_count),
        ("executed more than once", verdict.twice, verdict.twice_count),
    ):
        if items:
            print(f"{title} ({count}):")
            for item in items:
                print(f"  {item}")
    return verdict.exit_code


def run_linearizable(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    try:
        model = args.model
        if Path(args.file).is_dir():
            folder = Path(args.file)
            if model is None and (folder / "executions.json").exists():
                model = _executions(folder).get("model")
                if model not in MODELS:
                    raise HistoryError(str(folder / "executions.json"), None, f"unknown model {model!r}")
            args.file = str(folder / "history.jsonl")
        fmt = args.fmt or infer_format(args.file)
        ops = operations(read_history(args.file, fmt), args.file)
        model = model or infer_model(ops)
        verdict = check_linearizable(
            ops, model, Budget(max_steps=args.max_steps, timeout=args.timeout), args.file
        )
    except HistoryError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    elapsed = time.perf_counter() - started
    if args.output == "json":
        data = verdict.to_json()
        data["file"] = args.file
        data["format"] = fmt
        data["wall_seconds"] = round(elapsed, 3)
        print(json.dumps(data, indent=2, sort_keys=True))
    else:
        _print_text(verdict, fmt, elapsed)
    return verdict.exit_code


def _print_text(verdict: Verdict, fmt: str, elapsed: float) -> None:
    what = (
        f"{verdict.operations} operations, {verdict.keys} key(s), {verdict.model} model, {fmt} format, "
        f"{verdict.steps} steps, {elapsed:.2f} s"
    )
    if verdict.result == "valid":
        print(f"linearizable ({what})")
        return
    if verdict.result == "unknown":
        print(f"unknown: {verdict.reason} ({what})")
        return
    key = "" if verdict.key is None else f" on key {verdict.key!r}"
    print(f"NOT linearizable{key} ({what})")
    print(verdict.reason)
    placed = verdict.linearized
    print(
        f"the longest partial linearization places {len(placed)} operation(s), leaving the state {verdict.state!r}:"
    )
    if len(placed) > SHOWN_PREFIX:
        print(f"  ... {len(placed) - SHOWN_PREFIX} earlier")
    for op in placed[-SHOWN_PREFIX:]:
        print(f"  {op.describe()}")
    print("none of these can take effect next:")
    for op in verdict.unplaced:
        print(f"  {op.describe()}: {verdict.why.get(op.index, '')}")
