"""The linearizability checker against Porcupine's verdicts, hand-made histories, and the command.

Known answers from outside the code: every history in
``../shared/conformance/linearizability/`` (Jepsen's etcd register logs and Porcupine's kv
logs) must get the verdict its ``VERDICTS`` file states, Porcupine's own.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from subnet.checks.history import (
    Event,
    HistoryError,
    infer_format,
    operations,
    read_history,
    read_jsonl,
    write_jsonl,
)
from subnet.checks.linearizable import Budget, Verdict, check_linearizable
from subnet.cli import main

CONFORMANCE = Path(__file__).resolve().parents[2] / "shared" / "conformance" / "linearizability"
FOLDERS = {"etcd": ("jepsen", "register"), "kv": ("jepsen-kv", "kv")}

# Measured: the 44 conformance histories take 0.5 s of CPU together on the 2-core build
# machine (1-3.5 s of wall time at load averages from 3 to 15); the heaviest, etcd_002.log
# and etcd_007.log (linearizable, with many timed-out writes and cas), need 490,000 and
# 320,000 search steps and every other file fewer than 4,000. The budget below is 40x the
# heaviest in steps, so a pathological slowdown shows as an `unknown` verdict (a failure
# naming the reason), never as a slow or timed assertion.
CONFORMANCE_BUDGET = Budget(max_steps=20_000_000, timeout=60.0)


def _conformance_cases() -> list[Any]:
    cases = []
    for folder, (fmt, model) in FOLDERS.items():
        for line in (CONFORMANCE / folder / "VERDICTS").read_text().splitlines():
            name, verdict = line.split()
            expected = {"linearizable": "valid", "not-linearizable": "invalid"}[verdict]
            cases.append(pytest.param(CONFORMANCE / folder / name, fmt, model, expected, id=name))
    return cases


CASES = _conformance_cases()


def test_the_conformance_set_is_all_there() -> None:
    assert len(CASES) == 44


@pytest.mark.parametrize(("path", "fmt", "model", "expected"), CASES)
def test_porcupine_verdicts(path: Path, fmt: str, model: str, expected: str) -> None:
    assert infer_format(path) == fmt
    ops = operations(read_history(path, fmt), str(path))
    verdict = check_linearizable(ops, model, CONFORMANCE_BUDGET)
    assert verdict.result == expected, verdict.reason
    if expected == "invalid":
        # The evidence names real operations of the file: the one whose completion could
        # not be passed is among those that could not be placed.
        assert verdict.blocking is not None
        assert verdict.blocking in verdict.unplaced
        assert {op.index for op in verdict.linearized}.isdisjoint(op.index for op in verdict.unplaced)


@pytest.mark.parametrize(
    "name", ["etcd/etcd_000.log", "etcd/etcd_018.log", "kv/c10-bad.txt", "kv/c10-ok.txt"]
)
def test_conversion_to_jsonl_keeps_the_verdict(tmp_path: Path, name: str) -> None:
    path = CONFORMANCE / name
    events = read_history(path, infer_format(path))
    target = tmp_path / "history.jsonl"
    write_jsonl(target, events)
    again = read_jsonl(target)
    assert [(e.process, e.type, e.f, e.key, e.value, e.time) for e in again] == [
        (e.process, e.type, e.f, e.key, e.value, e.time) for e in events
    ]
    before = check_linearizable(
        operations(events), budget=CONFORMANCE_BUDGET, model=FOLDERS[name.split("/")[0]][1]
    )
    after = check_linearizable(
        operations(again), budget=CONFORMANCE_BUDGET, model=FOLDERS[name.split("/")[0]][1]
    )
    assert (before.result, before.steps) == (after.result, after.steps)


# --- hand-made histories ---------------------------------------------------------------


def history(*records: tuple[Any, ...]) -> list[Event]:
    """Events from ``(process, type, f, value)`` or ``(process, type, f, value, key)``, one
    time unit apart, in the order given."""
    events = []
    for index, record in enumerate(records):
        process, kind, f, value = record[:4]
        key = record[4] if len(record) > 4 else None
        events.append(Event(index, process, kind, f, key, value, (index + 1) * 1000))
    return events


def check(events: list[Event], model: str = "register", budget: Budget | None = None) -> Verdict:
    return check_linearizable(operations(events), model, budget)


def test_sequential_write_then_read() -> None:
    events = history(
        (0, "invoke", "write", 1), (0, "ok", "write", 1), (1, "invoke", "read", None), (1, "ok", "read", 1)
    )
    assert check(events).result == "valid"


def test_absent_register_reads_nil() -> None:
    assert check(history((0, "invoke", "read", None), (0, "ok", "read", None))).result == "valid"
    assert check(history((0, "invoke", "read", None), (0, "ok", "read", 0))).result == "invalid"


def test_a_stale_read_is_invalid_and_the_evidence_names_it() -> None:
    events = history(
        (0, "invoke", "write", 1),
        (0, "ok", "write", 1),
        (0, "invoke", "write", 2),
        (0, "ok", "write", 2),
        (1, "invoke", "read", None),
        (1, "ok", "read", 1),
    )
    verdict = check(events)
    assert verdict.result == "invalid"
    assert verdict.exit_code == 1
    assert [op.index for op in verdict.linearized] == [0, 2]
    assert verdict.state == 2
    assert verdict.blocking is not None and verdict.blocking.index == 4
    assert [op.index for op in verdict.unplaced] == [4]
    assert verdict.to_json()["blocking"]["describe"] == "#4 p1 read -> 1"
    assert verdict.why == {4: "the register model refuses it in state 2"}


@pytest.mark.parametrize("seen", [None, 1])
def test_a_read_concurrent_with_a_write_may_see_either(seen: int | None) -> None:
    events = history(
        (0, "invoke", "write", 1),
        (1, "invoke", "read", None),
        (1, "ok", "read", seen),
        (0, "ok", "write", 1),
    )
    assert check(events).result == "valid"


def test_two_reads_cannot_see_a_concurrent_write_in_opposite_orders() -> None:
    # Both reads overlap the write, but read 1 completes before read 2 starts: once 1 is
    # seen, a later read cannot see the old value again.
    events = history(
        (0, "invoke", "write", 1),
        (1, "invoke", "read", None),
        (1, "ok", "read", 1),
        (2, "invoke", "read", None),
        (2, "ok", "read", None),
        (0, "ok", "write", 1),
    )
    assert check(events).result == "invalid"


def test_an_info_write_may_take_effect_late() -> None:
    events = history(
        (0, "invoke", "write", 1),
        (0, "info", "write", None),
        (1, "invoke", "read", None),
        (1, "ok", "read", None),
        (1, "invoke", "read", None),
        (1, "ok", "read", 1),
    )
    assert check(events).result == "valid"


def test_an_info_write_may_never_take_effect() -> None:
    events = history(
        (0, "invoke", "write", 1),
        (0, "info", "write", None),
        (1, "invoke", "read", None),
        (1, "ok", "read", None),
    )
    assert check(events).result == "valid"


def test_an_info_write_takes_effect_once() -> None:
    events = history(
        (0, "invoke", "write", 1),
        (0, "info", "write", None),
        (1, "invoke", "read", None),
        (1, "ok", "read", 1),
        (1, "invoke", "read", None),
        (1, "ok", "read", None),
    )
    assert check(events).result == "invalid"


def test_an_info_write_cannot_take_effect_before_its_invocation() -> None:
    events = history(
        (1, "invoke", "read", None),
        (1, "ok", "read", 1),
        (0, "invoke", "write", 1),
        (0, "info", "write", None),
    )
    assert check(events).result == "invalid"


def test_an_invocation_without_completion_counts_as_info() -> None:
    events = history((0, "invoke", "write", 1), (1, "invoke", "read", None), (1, "ok", "read", 1))
    ops = operations(events)
    assert [op.ret for op in ops] == [None, 3000]
    assert check(events).result == "valid"


def test_a_failed_write_is_dropped() -> None:
    failed = ((0, "invoke", "write", 1), (0, "fail", "write", None))
    assert operations(history(*failed)) == []
    assert check(history(*failed, (1, "invoke", "read", None), (1, "ok", "read", None))).result == "valid"
    assert check(history(*failed, (1, "invoke", "read", None), (1, "ok", "read", 1))).result == "invalid"


def test_cas_swaps_only_from_the_expected_value() -> None:
    start = ((0, "invoke", "write", 0), (0, "ok", "write", 0))
    swap = ((0, "invoke", "cas", [0, 1]), (0, "ok", "cas", [0, 1]))
    read_1 = ((1, "invoke", "read", None), (1, "ok", "read", 1))
    assert check(history(*start, *swap, *read_1)).result == "valid"
    # From 2 a cas [0 1] cannot have swapped.
    assert check(history((0, "invoke", "write", 2), (0, "ok", "write", 2), *swap)).result == "invalid"
    # A failed compare (Jepsen's `:fail :cas`, value false) says the value was not FROM.
    no_swap = ((0, "invoke", "cas", [0, 1]), (0, "fail", "cas", False))
    assert check(history(*start, *no_swap)).result == "invalid"
    assert check(history((0, "invoke", "write", 5), (0, "ok", "write", 5), *no_swap)).result == "valid"
    # A cas whose outcome is unknown may have swapped, or not.
    unknown = ((0, "invoke", "cas", [0, 1]), (0, "info", "cas", None))
    assert check(history(*start, *unknown, *read_1)).result == "valid"
    assert (
        check(history(*start, *unknown, (1, "invoke", "read", None), (1, "ok", "read", 0))).result == "valid"
    )
    assert (
        check(history(*start, *unknown, (1, "invoke", "read", None), (1, "ok", "read", 7))).result
        == "invalid"
    )


def test_counter_model() -> None:
    adds = ((0, "invoke", "add", 1), (1, "invoke", "add", 2), (0, "ok", "add", 1), (1, "ok", "add", 2))
    for seen, expected in ((3, "valid"), (1, "invalid"), (4, "invalid")):
        events = history(*adds, (2, "invoke", "read", None), (2, "ok", "read", seen))
        assert check(events, "counter").result == expected, seen
    concurrent = history(
        (0, "invoke", "add", 1), (1, "invoke", "read", None), (1, "ok", "read", 1), (0, "ok", "add", 1)
    )
    assert check(concurrent, "counter").result == "valid"
    lost = history(
        (0, "invoke", "add", 5), (0, "info", "add", None), (1, "invoke", "read", None), (1, "ok", "read", 5)
    )
    assert check(lost, "counter").result == "valid"


def test_kv_keys_are_checked_alone_and_the_failing_key_is_named() -> None:
    events = history(
        (0, "invoke", "put", "a", "x"),
        (0, "ok", "put", "a", "x"),
        (0, "invoke", "append", "b", "y"),
        (0, "ok", "append", "b", "y"),
        (1, "invoke", "get", None, "x"),
        (1, "ok", "get", "a", "x"),
        (1, "invoke", "get", None, "y"),
        (1, "ok", "get", "", "y"),
    )
    verdict = check(events, "kv")
    assert (verdict.result, verdict.key, verdict.keys) == ("invalid", "y", 2)
    assert verdict.blocking is not None and verdict.blocking.index == 6
    # Key "y": the append of "b" completed before the get began, which read "".
    assert [op.index for op in verdict.linearized] == [2]
    assert verdict.state == "b"


def test_the_budget_gives_unknown_with_the_reason() -> None:
    path = CONFORMANCE / "etcd" / "etcd_002.log"
    ops = operations(read_history(path, "jepsen"))
    verdict = check_linearizable(ops, "register", Budget(max_steps=1000))
    assert (verdict.result, verdict.exit_code, verdict.steps) == ("unknown", 2, 1000)
    assert verdict.reason == "the search exceeded its budget of 1000 steps"
    timed = check_linearizable(ops, "register", Budget(max_steps=None, timeout=1e-9))
    assert timed.result == "unknown"
    assert timed.reason is not None and "time budget" in timed.reason


def test_an_operation_outside_the_model_is_an_error() -> None:
    events = history((0, "invoke", "put", "x", "k"), (0, "ok", "put", "x", "k"))
    with pytest.raises(
        HistoryError,
        match=r"operation #0 \(put\) is not a function of the register model \(read, write, cas\)",
    ):
        check(events, "register")


# --- malformed input --------------------------------------------------------------------


def jsonl_line(index: int, process: Any, kind: str, f: str, value: Any, time: int, key: Any = None) -> str:
    return json.dumps(
        {"index": index, "process": process, "type": kind, "f": f, "key": key, "value": value, "time": time}
    )


GOOD = [jsonl_line(0, 0, "invoke", "write", 1, 10), jsonl_line(1, 0, "ok", "write", 1, 20)]


@pytest.mark.parametrize(
    ("third", "problem"),
    [
        ("{not json", "line 3: not JSON"),
        ("[1, 2]", "line 3: a line holds one JSON object"),
        ('{"index": 2, "process": 1}', "line 3: missing field(s): type, f, key, value, time"),
        (jsonl_line(7, 1, "invoke", "read", None, 30), "line 3: index is 7, expected 2"),
        (jsonl_line(2, 1, "start", "read", None, 30), "line 3: type is 'start'"),
        (jsonl_line(2, 1, "invoke", "delete", None, 30), "line 3: f is 'delete'"),
        (jsonl_line(2, 1, "invoke", "read", None, 5), "line 3: time 5 goes back"),
        (jsonl_line(2, 1, "invoke", "read", None, 1.5), "line 3: time is integer nanoseconds"),
        (jsonl_line(2, 1, "invoke", "cas", [1], 30), "line 3: a cas value is [FROM, TO]"),
        (jsonl_line(2, 1, "ok", "read", 1, 30), "line 3: ok read for process 1 with no invocation"),
        (jsonl_line(2, 0, "invoke", "add", "x", 30), "line 3: add takes an integer"),
    ],
)
def test_bad_jsonl_names_the_line(tmp_path: Path, third: str, problem: str) -> None:
    path = tmp_path / "history.jsonl"
    path.write_text("\n".join([*GOOD, third]) + "\n")
    with pytest.raises(HistoryError) as caught:
        operations(read_jsonl(path), str(path))
    assert str(caught.value).startswith(str(path))
    assert problem.replace("line 3", f"{path}:3") in str(caught.value)


def test_a_second_invocation_while_one_is_outstanding(tmp_path: Path) -> None:
    path = tmp_path / "history.jsonl"
    path.write_text("\n".join([GOOD[0], jsonl_line(1, 0, "invoke", "read", None, 20)]) + "\n")
    with pytest.raises(
        HistoryError, match=r":2: process 0 invokes read while its write \(line 1\) has not completed"
    ):
        operations(read_jsonl(path), str(path))


def test_bad_kv_and_jepsen_lines_name_the_line(tmp_path: Path) -> None:
    kv = tmp_path / "kv.txt"
    kv.write_text('{:process 0, :type :invoke, :f :get, :key "1", :value nil}\n{:process 0, :type :ok}\n')
    with pytest.raises(HistoryError, match=r"kv.txt:2: not a kv map"):
        read_history(kv, "jepsen-kv")
    log = tmp_path / "etcd.log"
    log.write_text("INFO  jepsen.util - 0\t:invoke\t:cas\t[1 2 3]\n")
    with pytest.raises(HistoryError, match=r"etcd.log:1: a cas value is \[FROM TO\]"):
        read_history(log, "jepsen")
    noise = tmp_path / "noise.log"
    noise.write_text("hello\n")
    with pytest.raises(HistoryError, match="no Jepsen operation lines"):
        read_history(noise, "jepsen")


# --- the command ------------------------------------------------------------------------


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["check", "linearizable", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_command_valid_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, str(CONFORMANCE / "etcd" / "etcd_005.log"))
    assert code == 0
    assert out.startswith("linearizable (79 operations, 1 key(s), register model, jepsen format")


def test_command_invalid_exits_1_and_names_the_operations(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, str(CONFORMANCE / "etcd" / "etcd_000.log"))
    assert code == 1
    assert out.startswith("NOT linearizable")
    assert (
        "none of these can take effect next:\n  #84 p11 read -> 2: the register model refuses it in state 0\n"
        in out
    )


def test_command_json_output(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, str(CONFORMANCE / "kv" / "c01-bad.txt"), "--output", "json", "--model", "kv")
    data = json.loads(out)
    assert code == 1
    assert (data["verdict"], data["format"], data["model"], data["key"]) == (
        "invalid",
        "jepsen-kv",
        "kv",
        "7",
    )
    assert data["blocking"]["index"] in [op["index"] for op in data["unplaced"]]


def test_command_unknown_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, str(CONFORMANCE / "etcd" / "etcd_002.log"), "--max-steps", "500")
    assert code == 2
    assert out.startswith("unknown: the search exceeded its budget of 500 steps")


def test_command_bad_input_exits_2_with_an_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "history.jsonl"
    path.write_text(GOOD[0] + "\n{oops\n")
    code, out, err = run(capsys, str(path))
    assert (code, out) == (2, "")
    assert err.startswith(f"Error: {path}:2: not JSON")
    code, _, err = run(capsys, str(tmp_path / "absent.jsonl"))
    assert code == 2 and err == f"Error: {tmp_path / 'absent.jsonl'}: no such file\n"
    code, _, err = run(capsys, str(CONFORMANCE / "kv" / "c01-ok.txt"), "--model", "register")
    assert code == 2
    assert err.endswith(
        "c01-ok.txt: operation #0 (append) is not a function of the register model (read, write, cas); is the model right?\n"
    )


def test_command_reads_its_own_jsonl(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "history.jsonl"
    lines = [
        jsonl_line(0, 0, "invoke", "add", 2, 10),
        jsonl_line(1, 1, "invoke", "read", None, 11),
        jsonl_line(2, 0, "ok", "add", 2, 12),
        jsonl_line(3, 1, "ok", "read", 2, 13),
    ]
    path.write_text("\n".join(lines) + "\n")
    code, out, _ = run(capsys, str(path))
    assert code == 0 and "counter model, jsonl format" in out


# --- against a brute force on small random histories -------------------------------------


def brute_force(ops: list[Any], model: str) -> bool:
    """Linearizable iff some order of all known operations plus any subset of the unknown
    ones respects real time (a before b when a returned before b was invoked) and is a legal
    run of the model: the definition, checked by enumeration."""
    from itertools import combinations, permutations

    from subnet.checks.linearizable import MODELS

    spec = MODELS[model]
    known = [op for op in ops if op.ret is not None]
    unknown = [op for op in ops if op.ret is None]
    for size in range(len(unknown) + 1):
        for chosen in combinations(unknown, size):
            for order in permutations(known + list(chosen)):
                if any(
                    later.ret is not None and later.ret < earlier.call
                    for i, earlier in enumerate(order)
                    for later in order[i + 1 :]
                ):
                    continue
                state = spec.initial
                for op in order:
                    legal, state = spec.step(state, op)
                    if not legal:
                        break
                else:
                    return True
    return False


def random_history(seed: int, model: str) -> list[Event]:
    import random

    draw = random.Random(seed)
    functions = {"register": ("read", "write", "cas"), "counter": ("read", "add")}[model]
    values = {"register": [None, 0, 1], "counter": [0, 1, 2, 3]}[model]
    pending: dict[int, tuple[str, Any]] = {}
    events: list[Event] = []
    invoked = 0
    while invoked < 6 or pending:
        process = draw.randrange(3)
        time = (len(events) + 1) * 10
        if process not in pending:
            if invoked >= 6:
                continue
            f = draw.choice(functions)
            value: Any = None
            if f == "write":
                value = draw.choice([0, 1])
            elif f == "cas":
                value = [draw.choice([0, 1]), draw.choice([0, 1])]
            elif f == "add":
                value = 1
            pending[process] = (f, value)
            invoked += 1
            events.append(Event(len(events), process, "invoke", f, None, value, time))
            continue
        f, value = pending.pop(process)
        kind = draw.choice(["ok", "ok", "ok", "info", "fail"])
        if kind == "ok" and f == "read":
            value = draw.choice(values)
        elif kind == "fail":
            value = False if f == "cas" else None
        elif kind == "info":
            value = None
        events.append(Event(len(events), process, kind, f, None, value, time))
    return events


@pytest.mark.parametrize("model", ["register", "counter"])
def test_agrees_with_brute_force_on_small_random_histories(model: str) -> None:
    results = []
    for seed in range(300):
        ops = operations(random_history(seed, model))
        expected = brute_force(ops, model)
        verdict = check_linearizable(ops, model)
        assert verdict.result == ("valid" if expected else "invalid"), (seed, [op.describe() for op in ops])
        results.append(expected)
    assert 30 < sum(results) < 270  # both verdicts are well represented


def test_recorder_writes_a_history_the_reader_and_checker_accept(tmp_path: Path) -> None:
    from subnet.checks.history import Recorder

    recorder = Recorder()
    recorder.invoke(0, "write", 1, 100)
    recorder.invoke("client-2", "cas", [1, 2], 150)
    recorder.complete(0, "ok", 1, 200)
    recorder.complete("client-2", "info", None, 900)
    recorder.invoke(0, "read", None, 1000)
    recorder.complete(0, "ok", 2, 1100)
    with pytest.raises(ValueError, match="no operation outstanding"):
        recorder.complete(0, "ok", 2, 1200)
    with pytest.raises(ValueError, match="time 5 goes back"):
        recorder.invoke(0, "read", None, 5)
    path = tmp_path / "history.jsonl"
    write_jsonl(path, recorder.events)
    assert path.read_text().splitlines()[1] == (
        '{"index": 1, "process": "client-2", "type": "invoke", "f": "cas", "key": null, "value": [1, 2], "time": 150}'
    )
    assert read_jsonl(path) == [
        Event(e.index, e.process, e.type, e.f, e.key, e.value, e.time, e.index + 1) for e in recorder.events
    ]
    assert check(read_jsonl(path)).result == "valid"


def test_timed_out_operations_that_do_the_same_thing_are_interchangeable() -> None:
    # 30 adds of 1 time out; later reads see some of them take effect. As subsets that
    # would be 2^30 configurations; counted per kind the search stays small.
    timeouts = [(p, "invoke", "add", 1) for p in range(30)] + [(p, "info", "add", None) for p in range(30)]
    reads = [r for seen in (0, 5, 12, 30) for r in ((99, "invoke", "read", None), (99, "ok", "read", seen))]
    verdict = check(history(*timeouts, *reads), "counter", Budget(max_steps=200_000))
    assert verdict.result == "valid", verdict.reason
    going_back = [r for seen in (5, 3) for r in ((99, "invoke", "read", None), (99, "ok", "read", seen))]
    verdict = check(history(*timeouts, *going_back), "counter", Budget(max_steps=200_000))
    assert verdict.result == "invalid", verdict.reason
    too_many = [(99, "invoke", "read", None), (99, "ok", "read", 31)]
    assert check(history(*timeouts, *too_many), "counter", Budget(max_steps=200_000)).result == "invalid"
