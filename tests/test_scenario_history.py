"""Client histories in scenario runs: register and counter clients record invoke/ok/fail/info
in simulated time, the durability and linearizability checks judge them in the run and
again from the results folder (`subnet check`), and the no-replay-protection bug switch
is caught by both, naming the operations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from node.ingress import Ingress
from subnet.checks.durability import check_durability
from subnet.checks.history import Event, Recorder, operations, read_jsonl
from subnet.checks.linearizable import check_linearizable
from subnet.cli import main
from subnet.scenario import ScenarioError, parse_scenario, run_scenario
from subnet.sim.bugs import ForgetfulIngress
from vocab.genesis import local_genesis

SHIPPED = Path(__file__).resolve().parent.parent / "subnet" / "scenarios"
BUG = SHIPPED / "bug-no-replay-protection.toml"


def run_json(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict]:
    code = main([*args, "--output", "json"])
    return code, json.loads(capsys.readouterr().out)


def test_the_replay_bug_is_caught_by_both_history_checks_naming_the_operations(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["scenario", "run", str(BUG), "--results", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "durability    invalid" in out and "linearizable  invalid" in out
    # The consensus checks cannot see it: the replicas agree on a chain that executes a request twice.
    assert "agreement     valid" in out and "convergence   valid" in out
    assert "executed 2 times" in out and "none of these can take effect next:" in out
    assert "the counter model refuses it in state" in out
    folder = next(tmp_path.glob("*/*"))
    summary = json.loads((folder / "summary.json").read_text())
    lin = summary["checks"]["linearizable"]
    assert lin["verdict"] == "invalid" and lin["evidence"]["piece"] and lin["evidence"]["unplaced"]
    twice = summary["checks"]["durability"]["evidence"]["executed_twice"]
    assert twice and any(" add " in line for line in twice)

    # The same verdicts from the folder alone.
    assert main(["check", "linearizable", str(folder)]) == 1
    assert "NOT linearizable" in capsys.readouterr().out
    code, data = run_json(["check", "durability", str(folder)], capsys)
    assert code == 1 and data["executed_twice"] == twice


def test_without_the_bug_the_same_run_is_valid() -> None:
    scenario = parse_scenario(BUG.read_text().replace('bugs = ["no-replay-protection"]', "bugs = []"))
    outcome = run_scenario(scenario)
    assert outcome.verdict == "valid", [check.summary for check in outcome.checks]
    clients = outcome.simulation.clients
    assert clients is not None and clients.stats["resubmitted"] > 0  # the retries happened, and were refused


def test_a_retried_request_is_a_replay_unless_the_bug_is_on() -> None:
    genesis = local_genesis(4, "replay")[0]
    for ingress, expected in ((Ingress(genesis), True), (ForgetfulIngress(genesis), False)):
        ingress.history[b"\x01" * 32] = 10**20
        assert ingress.is_replay(b"\x01" * 32, ()) is expected
        assert ingress.is_replay(b"\x02" * 32, [b"\x02" * 32]) is expected


def test_same_seed_same_history_bytes_and_trace(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folders = []
    for _ in range(2):
        code, data = run_json(
            ["scenario", "run", "counter-partition", "--seed", "4", "--results", str(tmp_path)], capsys
        )
        assert code == 0, data["checks"]
        folders.append(Path(data["results"]))
    first, second = folders
    for name in ("scenario.toml", "summary.json", "trace.jsonl", "history.jsonl", "executions.json"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    events = read_jsonl(first / "history.jsonl")
    kinds = {event.type for event in events}
    assert {"invoke", "ok"} <= kinds and {event.f for event in events} == {"add", "read"}
    assert all(a.time <= b.time for a, b in zip(events, events[1:], strict=False))
    summary = json.loads((first / "summary.json").read_text())
    assert summary["counts"]["history_events"] == len(events)
    assert set(summary["checks"]) >= {"durability", "linearizable"}
    # Another seed, another history.
    code, data = run_json(
        ["scenario", "run", "counter-partition", "--seed", "5", "--results", str(tmp_path)], capsys
    )
    assert (Path(data["results"]) / "history.jsonl").read_bytes() != (first / "history.jsonl").read_bytes()
    # Replay reproduces the trace, clients included.
    assert main(["scenario", "replay", str(first)]) == 0
    # The folder checks agree with the run.
    assert main(["check", "linearizable", str(first)]) == 0
    assert main(["check", "durability", str(first)]) == 0
    capsys.readouterr()


def test_a_crashed_replica_gives_fail_or_info_outcomes_and_the_register_stays_linearizable() -> None:
    outcome = run_scenario(parse_scenario((SHIPPED / "register-crash.toml").read_text()))
    assert outcome.verdict == "valid", [check.summary for check in outcome.checks]
    clients = outcome.simulation.clients
    assert clients is not None
    events = clients.recorder.events
    types = {event.type for event in events}
    assert {"invoke", "ok", "fail"} <= types
    assert {event.f for event in events} == {"read", "write", "cas"}
    ops = operations(events)
    # A register read returns the value of some write (or nil before any).
    written = {op.input for op in ops if op.f == "write"} | {op.input[1] for op in ops if op.f == "cas"}
    assert all(op.output is None or op.output in written for op in ops if op.f == "read" and op.known)
    assert check_linearizable(ops, "register").result == "valid"


def _history(*records: tuple[int, str, str, object]) -> list[Event]:
    recorder = Recorder()
    for time, (process, kind, f, value) in enumerate(records):
        if kind == "invoke":
            recorder.invoke(process, f, value, time)
        else:
            recorder.complete(process, kind, value, time)
    return recorder.events


def test_durability_on_hand_made_histories() -> None:
    events = _history(
        (0, "invoke", "write", 1),
        (1, "invoke", "write", 2),
        (0, "ok", "write", 1),
        (1, "info", "write", 2),
        (0, "invoke", "read", None),
        (0, "ok", "read", 1),
    )
    # invocations are events 0, 1, 4
    assert check_durability(events, {0: 1, 1: 0, 4: 1}).result == "valid"  # the unknown write may be lost
    lost = check_durability(events, {0: 0, 1: 1, 4: 1})
    assert lost.result == "invalid" and lost.lost == ["#0 p0 write 1 -> ok"] and lost.exit_code == 1
    twice = check_durability(events, {0: 1, 1: 2, 4: 1})
    assert twice.result == "invalid" and twice.twice_count == 1 and "executed 2 times" in twice.twice[0]
    reads = _history((0, "invoke", "read", None), (0, "ok", "read", None))
    assert check_durability(reads, {0: 1}).result == "unknown"


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            '[[workload]]\nkind = "register"\n[[workload]]\nkind = "counter"\n',
            "line 16: workload[1].kind: a second history workload (counter",
        ),
        (
            '[[workload]]\nkind = "lifecycle"\nclients = 3\n',
            "line 15: workload[0].clients: applies to register",
        ),
        (
            '[[workload]]\nkind = "register"\ntimeout = "1s"\nretry = "2s"\n',
            "workload[0].timeout: must be at least",
        ),
        ('[[workload]]\nkind = "counter"\nkeys = 300\n', "workload[0].keys: must be in [1, 256], not 300"),
        (
            '[[workload]]\nkind = "owned-transfer"\nclients = 100\nkeys = 41\n',
            "line 16: workload[0].keys: the owned-transfer workload gives each client keys registers: "
            "clients x keys must be at most 4096, not 4100",
        ),
        (
            '[[workload]]\nkind = "canister-counter"\nkeys = 2\n',
            "line 15: workload[0].keys: the canister-counter workload's Motoko canister holds one counter",
        ),
        ("[checks]\nlinearizable = true\n", "line 14: checks.linearizable: needs a register or counter"),
    ],
)
def test_history_workload_errors_name_key_and_line(extra: str, expected: str) -> None:
    text = (
        'name = "x"\nseed = 1\nduration = "8s"\n\n[subnet]\nreplicas = 4\n\n[network]\nloss = 0.0\n\n\n\n'
        + extra
    )
    with pytest.raises(ScenarioError) as error:
        parse_scenario(text)
    assert expected in str(error.value)


def test_check_refuses_a_folder_without_a_history(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "durability", str(tmp_path)]) == 2
    assert "executions.json: no such file" in capsys.readouterr().err
    assert main(["check", "durability", str(tmp_path / "nope")]) == 2
    (tmp_path / "executions.json").write_text('{"executions": {"x": 1}}')
    (tmp_path / "history.jsonl").write_text("")
    assert main(["check", "durability", str(tmp_path)]) == 2
    assert "invocation index" in capsys.readouterr().err
