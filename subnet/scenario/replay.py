"""Replaying a stored run: the scenario in a results folder, run again, must give the
trace hash its summary recorded; if not, the first trace line that differs says where."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from subnet.scenario.run import Outcome, run_scenario
from subnet.scenario.spec import ScenarioError, parse_scenario

__all__ = ["Replay", "replay"]


@dataclass(frozen=True)
class Replay:
    same: bool
    recorded_hash: str
    replayed_hash: str
    first_difference: int | None = None
    """The 1-based line of ``trace.jsonl`` where the runs part (None: same, or no trace kept)."""
    recorded_line: str | None = None
    replayed_line: str | None = None
    outcome: Outcome | None = None


def replay(folder: Path) -> Replay:
    try:
        text = (folder / "scenario.toml").read_text()
        recorded = json.loads((folder / "summary.json").read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ScenarioError(f"{folder} is not a scenario results folder: {exc}") from None
    recorded_hash = recorded.get("trace_hash")
    if recorded.get("backend") == "processes":
        raise ScenarioError(
            f"{folder} is a run on replica processes: real time does not repeat, so it has no trace "
            "to replay (run its scenario.toml again instead)"
        )
    if not isinstance(recorded_hash, str):
        raise ScenarioError(f"{folder / 'summary.json'} records no trace_hash")
    outcome = run_scenario(parse_scenario(text))
    replayed_hash = outcome.result.trace_hash
    if replayed_hash == recorded_hash:
        return Replay(True, recorded_hash, replayed_hash, outcome=outcome)
    trace = folder / "trace.jsonl"
    old = trace.read_text().splitlines() if trace.exists() else []
    new = outcome.simulation.trace.lines
    for index in range(max(len(old), len(new))):
        before = old[index] if index < len(old) else None
        after = new[index] if index < len(new) else None
        if before != after:
            return Replay(False, recorded_hash, replayed_hash, index + 1, before, after, outcome)
    return Replay(False, recorded_hash, replayed_hash, outcome=outcome)
