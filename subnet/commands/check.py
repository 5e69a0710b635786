"""`subnet check`: checkers run on a recorded history alone.

``subnet check linearizable FILE`` reads a client history (Jepsen's register log, Jepsen's
kv maps or the project's ``history.jsonl``) and says whether it is linearizable. Exit 0:
linearizable; 1: not (the operations involved are printed); 2: unknown (the budget ran
out, with the reason) or the file could not be read as a history (``Error: ...`` naming
the line). Exit 1 means only "not linearizable", so that a script can tell a violation
from a history it could not judge.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from subnet.checks.history import FORMATS, HistoryError, infer_format, operations, read_history
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
        "first line decides; without --model the functions do (get/put/append: kv, add: counter, "
        "else register).",
    )
    lin.add_argument("file", metavar="FILE", help="the history file")
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


def run_linearizable(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    try:
        fmt = args.fmt or infer_format(args.file)
        ops = operations(read_history(args.file, fmt), args.file)
        model = args.model or infer_model(ops)
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
