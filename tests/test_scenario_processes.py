"""Scenarios on replica processes (``backend = "processes"``): the nemesis kills and
restarts a replica (SIGKILL), pauses and resumes another (SIGSTOP/SIGCONT), deletes the
first one's database and restarts it empty (at most one replica faulty at a time, even
when a restart is slow on a loaded machine), counter
clients record their history over TCP, and the same checks judge the run. A few seconds
of run time; marked ``processes`` (run by default, deselect with ``-m "not processes"``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from subnet.checks.history import operations, read_jsonl
from subnet.cli import main

pytestmark = pytest.mark.processes

SCENARIO = """\
name = "processes-crash-pause"
seed = 2
duration = "6s"
backend = "processes"

[subnet]
replicas = 4
block_time = "100ms"

[[workload]]
kind = "counter"
clients = 3

[[fault]]
at = "1s"
kind = "crash"
target = 1
duration = "800ms"

[[fault]]
at = "2s"
kind = "pause"
target = 2
duration = "600ms"

[[fault]]
at = "3s"
kind = "disk-loss"
target = 1
duration = "500ms"

[checks]
liveness = "2s"
"""


def test_crash_and_pause_on_processes_keep_the_counter_linearizable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "scenario.toml"
    file.write_text(SCENARIO)
    code = main(["scenario", "run", str(file), "--results", str(tmp_path / "results"), "--output", "json"])
    summary = json.loads(capsys.readouterr().out)
    assert code == 0, summary["checks"]
    assert summary["backend"] == "processes" and summary["trace_hash"] is None
    assert set(summary["checks"]) == {"agreement", "convergence", "liveness", "durability", "linearizable"}
    assert [(item["action"], item["replica"]) for item in summary["nemesis"]] == [
        ("kill", 1),
        ("restart", 1),
        ("stop", 2),
        ("continue", 2),
        ("wipe", 1),
        ("restart", 1),
    ]
    assert "removed replica.db" in summary["nemesis"][4]["detail"]
    folder = Path(summary["results"])
    heights = summary["counts"]["finalized_heights"]
    polled = [json.loads(line) for line in (folder / "heights.jsonl").read_text().splitlines()]
    at_heal = max(sample["heights"][0] or 0 for sample in polled if sample["time_s"] <= 3.5)
    assert min(heights[0], heights[2], heights[3]) > at_heal  # the three kept going after the last fault
    for name in ("scenario.toml", "history.jsonl", "executions.json", "nemesis.jsonl", "heights.jsonl"):
        assert (folder / name).is_file(), name
    assert all((folder / "logs" / f"replica-{index}.log").read_text() for index in range(4))
    events = read_jsonl(folder / "history.jsonl")
    assert {event.f for event in events} == {"add", "read"} and len(operations(events)) > 20
    assert main(["check", "linearizable", str(folder)]) == 0
    assert main(["check", "durability", str(folder)]) == 0
    assert main(["scenario", "replay", str(folder)]) == 2
    assert "no trace" in capsys.readouterr().err
