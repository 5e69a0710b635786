"""The mixed-version callers experiment (issue 12): what callers of versions 1 and 2 of the
versioned counter saw, per version and phase, and the **upgrade_outcomes** check.

Phases are cut by the chain, not by a clock: a call's phase is where the final chain (the
honest replica that finalized most, as ``checks.executions``) executed it, relative to the
upgrade's and the migration's transactions: ``before`` the upgrade, ``upgraded`` (after
it, before the migration), ``migrated``. A call no block executed (refused at ingress,
lost) is placed by the time it was invoked against the time the step's block was first
finalized. Outcomes: ``ok``; ``aborted``, by Sui's abort code named after the example's
constant (``EWrongVersion (1)``) with the location (module by the package's original id,
function); ``failed`` otherwise, by reason; ``unknown`` (no answer within the timeout, or
none by the end of the run).

The hazard the Sui documentation describes, as a check that can fail: a version 1 call
executed before the migration succeeds and one after it aborts with ``EWrongVersion``;
a version 2 call is never executed before the upgrade, aborts with ``EWrongVersion``
between the upgrade and the migration and succeeds after it; each abort names the
package's original id; every live honest replica holds version 2 at its own id with the
original id kept, and the counter at version 2 once it executed the migration (equal
values at equal heights).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from node.execution import SubnetStateMachine
from subnet.checks.history import Event
from subnet.scenario.checks import INVALID, UNKNOWN, VALID, CheckResult, honest
from subnet.sim.runner import SECOND, Simulation
from subnet.sim.versioned_counter import (
    VersionedCounterClients,
    abort_constants,
    describe_failure,
    parse_failure,
)

__all__ = [
    "EXPECTED",
    "PHASES",
    "Call",
    "calls",
    "mixed_callers_report",
    "version_phases_check",
    "violations",
    "write_mixed_plot",
]

PHASES = ("before", "upgraded", "migrated")
PHASE_TITLES = {"before": "before the upgrade", "upgraded": "upgraded, not migrated", "migrated": "migrated"}
OUTCOMES = ("ok", "aborted", "failed", "unknown")
SHOWN = 10
"""How many violating calls the evidence lists."""


@dataclass(frozen=True)
class Call:
    index: int
    """The invocation's index in ``history.jsonl``."""
    client: int
    version: int
    invoked_s: float
    completed_s: float | None
    outcome: str
    """``ok``, ``aborted``, ``failed`` or ``unknown``."""
    detail: str
    """The abort (``EWrongVersion (1)``), the failure's reason, or why unknown."""
    location: str
    """An abort's module and function (``0x…::counter::increment``)."""
    phase: str
    position: tuple[int, int] | None
    """(height, index in the block) where the final chain executed it."""

    def describe(self) -> str:
        where = f"height {self.position[0]}" if self.position is not None else "not executed"
        return (
            f"call {self.index} (client {self.client}, v{self.version}, invoked {self.invoked_s:.3f}s, "
            f"{where}): {self.outcome}{' ' + self.detail if self.detail else ''}"
        )


def _final_chain(sim: Simulation) -> dict[bytes, tuple[int, int]]:
    good = honest(sim) or list(range(sim.n))
    best = max(good, key=lambda node: (len(sim.chain(node)), -node))
    return {
        envelope.request_id: (block.height, index)
        for block in sim.chain(best)
        for index, envelope in enumerate(block.payload)
    }


def _first_finalized_ns(sim: Simulation, height: int) -> int | None:
    return min((time for time, _, reached in sim.persisted if reached >= height), default=None)


Boundary = tuple[tuple[int, int], int | None] | None
"""Where a phase begins: the step's (height, index) in the final chain and when that height
was first finalized (since the start); None when the step did not succeed."""


def _boundaries(
    sim: Simulation, clients: VersionedCounterClients, chain: dict[bytes, tuple[int, int]]
) -> list[Boundary]:
    """The upgrade's and the migration's boundaries, in order."""
    found: list[Boundary] = []
    for name in ("upgrade", "migrate"):
        record = clients.steps.get(name, {})
        position = chain.get(bytes.fromhex(record["request_id"])) if "request_id" in record else None
        if record.get("status") != "success" or position is None:
            found.append(None)
            continue
        first = _first_finalized_ns(sim, position[0])
        found.append((position, None if first is None else first - sim.start_ns))
    return found


def calls(sim: Simulation) -> list[Call]:
    """Every call of the run's versioned-counter callers, with its outcome and phase."""
    clients = sim.clients
    assert isinstance(clients, VersionedCounterClients)
    chain = _final_chain(sim)
    boundaries = _boundaries(sim, clients, chain)
    names = abort_constants()
    invoked: dict[Any, Event] = {}
    paired: list[tuple[Event, Event | None]] = []
    for event in clients.events:
        if event.type == "invoke":
            invoked[event.process] = event
        else:
            paired.append((invoked.pop(event.process), event))
    paired += [(event, None) for event in invoked.values()]
    found = []
    for invoke, done in sorted(paired, key=lambda pair: pair[0].index):
        request_id = clients.request_of[invoke.index]
        kind, why = clients.outcomes.get(request_id, ("pending", ""))
        detail, location = why, ""
        outcome = {"ok": "ok", "info": "unknown", "pending": "unknown"}.get(kind, "failed")
        if why == "down":
            detail = "replica down"  # the first replica asked refused the connection
        if kind == "pending":
            detail = "no outcome by the end of the run"
        elif kind == "info":
            detail = why or "timeout"
        elif why.startswith("aborted:"):
            parts = parse_failure(why.removeprefix("aborted:"))
            if "code" in parts:
                outcome = "aborted"
                detail = f"{names.get(parts['code'], 'code')} ({parts['code']})"
                location = f"{parts['module']}::{parts['function']}"
            else:
                detail = parts["error"]
        position = chain.get(request_id)
        phase = PHASES[0]
        for name, boundary in zip(PHASES[1:], boundaries):
            if boundary is None:
                break
            at, first_ns = boundary
            if (position is not None and position > at) or (
                position is None and first_ns is not None and invoke.time >= first_ns
            ):
                phase = name
        found.append(
            Call(
                invoke.index,
                int(invoke.process),
                clients.version_of[request_id],
                invoke.time / SECOND,
                None if done is None else done.time / SECOND,
                outcome,
                detail,
                location,
                phase,
                position,
            )
        )
    return found


def _table(found: list[Call]) -> list[dict[str, Any]]:
    rows = []
    for version in (1, 2):
        for phase in PHASES:
            mine = [call for call in found if call.version == version and call.phase == phase]
            rows.append(
                {
                    "version": version,
                    "phase": phase,
                    "calls": len(mine),
                    "ok": sum(call.outcome == "ok" for call in mine),
                    "aborted": dict(
                        sorted(Counter(c.detail for c in mine if c.outcome == "aborted").items())
                    ),
                    "failed": dict(sorted(Counter(c.detail for c in mine if c.outcome == "failed").items())),
                    "unknown": sum(call.outcome == "unknown" for call in mine),
                }
            )
    return rows


def mixed_callers_report(sim: Simulation) -> dict[str, Any] | None:
    """The experiment's numbers for ``summary.json`` (``mixed_callers``); None without the
    versioned-counter workload."""
    clients = sim.clients
    if not isinstance(clients, VersionedCounterClients):
        return None
    found = calls(sim)
    steps = {
        name: {
            **{key: value for key, value in record.items() if not key.endswith("_ns")},
            "at_s": record["at_ns"] / SECOND,
            **({"answered_s": record["answered_ns"] / SECOND} if "answered_ns" in record else {}),
        }
        for name, record in clients.steps.items()
    }
    locations = sorted({f"{c.detail} at {c.location}" for c in found if c.outcome == "aborted"})
    return {
        "packages": {
            f"v{version}": package.to_text() for version, package in sorted(clients.packages.items())
        },
        "counter": clients.counter.object_id.to_text() if clients.counter is not None else None,
        "callers": {
            f"v{version}": [c for c, v in enumerate(clients.version_of_client) if v == version]
            for version in (1, 2)
        },
        "v2_callers_started_s": None if clients.v2_ready_at is None else clients.v2_ready_at / SECOND,
        "abort_codes": {str(code): name for code, name in sorted(abort_constants().items())},
        "abort_locations": locations,
        "steps": steps,
        "phases": {phase: PHASE_TITLES[phase] for phase in PHASES},
        "table": _table(found),
        "calls": [
            [c.index, c.client, c.version, c.phase, c.outcome, c.detail, c.invoked_s, c.completed_s]
            for c in found
        ],
        "calls_columns": [
            "index",
            "client",
            "version",
            "phase",
            "outcome",
            "detail",
            "invoked_s",
            "completed_s",
        ],
    }


EXPECTED = {
    (1, "before"): "ok",
    (1, "upgraded"): "ok",
    (1, "migrated"): "EWrongVersion",
    (2, "before"): "absent",
    (2, "upgraded"): "EWrongVersion",
    (2, "migrated"): "ok",
}
"""What each version's executed calls must do in each phase (Sui's versioned shared objects)."""


def violations(found: list[Call], original: str | None) -> list[str]:
    """The calls that break ``EXPECTED``, described: an executed call whose definite
    outcome is not the expected one, an abort that does not name the package's original
    id, a version 2 call before the upgrade."""
    wrong = []
    names = {code: name for code, name in abort_constants().items()}
    wrong_version = next(code for code, name in names.items() if name == "EWrongVersion")
    for call in found:
        expected = EXPECTED[(call.version, call.phase)]
        if expected == "absent":
            wrong.append(f"{call.describe()}: no version 2 exists before the upgrade")
            continue
        if call.position is None or call.outcome not in ("ok", "aborted"):
            continue  # not executed, or its outcome unknown: nothing to compare
        if expected == "ok" and call.outcome != "ok":
            wrong.append(f"{call.describe()}: expected ok")
        elif expected == "EWrongVersion":
            if call.detail != f"EWrongVersion ({wrong_version})":
                wrong.append(f"{call.describe()}: expected abort EWrongVersion ({wrong_version})")
            elif original is not None and not call.location.startswith(f"{original}::"):
                wrong.append(
                    f"{call.describe()} at {call.location}: the abort must name the original id {original}"
                )
    return wrong


def _replicas(sim: Simulation, clients: VersionedCounterClients) -> dict[str, dict[str, Any]]:
    """What each live honest replica holds: its executed height, the counter's value and
    version, and the upgraded package's id, version and original id."""
    good = set(honest(sim))
    held: dict[str, dict[str, Any]] = {}
    for node, replica in enumerate(sim.replicas):
        if replica is None or node not in good or not isinstance(replica.state, SubnetStateMachine):
            continue
        ledger = replica.state.sui
        entry: dict[str, Any] = {"executed_height": replica.executed_height}
        if clients.counter is not None:
            counter = ledger.store.get(clients.counter.object_id)
            if counter is not None:  # id (32), owner (32), value (u64), version (u64)
                contents = counter.contents
                entry["value"] = int.from_bytes(contents[64:72], "little")
                entry["version"] = int.from_bytes(contents[72:80], "little")
        if 2 in clients.packages:
            package = ledger.package(clients.packages[2])
            if package is not None:
                entry["v2_package"] = {
                    "version": package.version,
                    "original_id": package.original_id.to_text(),
                    "counter_type_origin": next(
                        (o.package.to_text() for o in package.type_origins if o.datatype_name == "Counter"),
                        None,
                    ),
                }
        held[str(node)] = entry
    return held


def _step_problem(record: dict[str, Any]) -> str:
    """Why a step did not succeed, in words."""
    if "failure" in record:
        through = f" through package v{record['package_version']}" if "package_version" in record else ""
        return f"{describe_failure(record['failure'])}{through}"
    return str(record.get("reject") or record.get("outcome") or "never ran")


def version_phases_check(sim: Simulation, report: dict[str, Any]) -> CheckResult:
    """The hazard's expected pattern per version and phase, and every honest replica on
    the same package versions and counter (``violations``, ``_replicas``)."""
    clients = sim.clients
    assert isinstance(clients, VersionedCounterClients)
    found = calls(sim)
    original = clients.packages[1].to_text() if 1 in clients.packages else None
    wrong = violations(found, original)
    held = _replicas(sim, clients)
    evidence: dict[str, Any] = {
        "expected": {f"v{v} {p}": e for (v, p), e in EXPECTED.items()},
        "replicas": held,
    }
    steps = clients.steps
    upgrade = steps.get("upgrade", {})
    migrate = steps.get("migrate")
    migrated_height = None
    if migrate is not None and migrate.get("status") == "success":
        migrated_height = migrate.get("height")
    for node, entry in held.items():
        package = entry.get("v2_package")
        if upgrade.get("status") == "success" and package != {
            "version": 2,
            "original_id": original,
            "counter_type_origin": original,
        }:
            wrong.append(
                f"replica {node} holds version 2 as {package} (expected version 2, original id {original})"
            )
        if (
            migrated_height is not None
            and entry["executed_height"] >= migrated_height
            and entry.get("version") != 2
        ):
            wrong.append(
                f"replica {node} executed the migration but its counter is at version {entry.get('version')}"
            )
    by_height: dict[int, set[Any]] = {}
    for entry in held.values():
        by_height.setdefault(entry["executed_height"], set()).add((entry.get("value"), entry.get("version")))
    for height, seen in sorted(by_height.items()):
        if len(seen) > 1:
            wrong.append(f"replicas at height {height} hold different counters: {sorted(seen, key=str)}")
    if wrong:
        evidence.update(violations=wrong[:SHOWN], violation_count=len(wrong))
        return CheckResult(
            "upgrade_outcomes",
            INVALID,
            f"{len(wrong)} violation(s) of the versioned pattern: {wrong[0]}",
            evidence,
        )
    if upgrade.get("status") != "success":
        return CheckResult(
            "upgrade_outcomes",
            UNKNOWN,
            f"the package upgrade did not succeed ({_step_problem(upgrade)}), so no phase after it",
            {**evidence, "upgrade": report["steps"].get("upgrade")},
        )
    if migrate is not None and migrate.get("status") != "success":
        return CheckResult(
            "upgrade_outcomes",
            UNKNOWN,
            f"the migrate did not succeed ({_step_problem(migrate)}), so no migrated phase",
            {**evidence, "migrate": report["steps"].get("migrate")},
        )
    executed = Counter(
        (c.version, c.phase) for c in found if c.position is not None and c.outcome in ("ok", "aborted")
    )
    shown = ", ".join(f"v{v} {p} {executed[(v, p)]}" for (v, p) in EXPECTED if executed[(v, p)])
    return CheckResult(
        "upgrade_outcomes",
        VALID,
        f"every executed call as expected ({shown}); {len(held)} honest replicas on package version 2, "
        "original id kept",
        {**evidence, "executed": {f"v{v} {p}": executed[(v, p)] for (v, p) in EXPECTED}},
    )


def write_mixed_plot(folder: Path, report: dict[str, Any], title: str, duration_s: float) -> str | None:
    """``mixed-callers.png``: calls completed per half second by version and outcome, the
    steps marked; and per version and phase, the calls by outcome. Its name, or None
    without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    columns = report["calls_columns"]
    rows = [dict(zip(columns, row)) for row in report["calls"]]
    figure, (v1_axes, v2_axes, bar_axes) = plt.subplots(
        3, 1, figsize=(10, 9), gridspec_kw={"height_ratios": [1, 1, 1.4]}
    )
    figure.suptitle(f"{title}: callers of versions 1 and 2 of one shared counter")
    bins = max(1, int(duration_s * 2 + 0.999))
    colours = {"ok": "tab:green", "aborted": "tab:red", "failed": "tab:purple", "unknown": "tab:gray"}
    for version, axes in ((1, v1_axes), (2, v2_axes)):
        for outcome in OUTCOMES:
            times = [
                r["completed_s"] if r["completed_s"] is not None else duration_s
                for r in rows
                if r["version"] == version and r["outcome"] == outcome
            ]
            if times:
                axes.hist(
                    times,
                    bins=bins,
                    range=(0, bins / 2),
                    histtype="step",
                    color=colours[outcome],
                    label=outcome,
                )
        for name, step in report["steps"].items():
            if "answered_s" in step:
                axes.axvline(step["answered_s"], color="black", linestyle="--", linewidth=0.8)
                axes.annotate(name, (step["answered_s"], 0), xytext=(3, 3), textcoords="offset points")
        axes.set_xlim(0, duration_s)
        axes.set_ylabel(f"v{version} calls / 0.5 s")
        axes.legend(loc="upper left", fontsize="small")
    v2_axes.set_xlabel("seconds since the start (when each call completed; dashed: a step's reply)")
    labels = [f"v{row['version']}\n{PHASE_TITLES[row['phase']]}" for row in report["table"]]
    bottom = [0] * len(labels)
    for outcome in OUTCOMES:
        heights = []
        for row in report["table"]:
            value = row[outcome]
            heights.append(sum(value.values()) if isinstance(value, dict) else value)
        bar_axes.bar(labels, heights, bottom=bottom, color=colours[outcome], label=outcome)
        bottom = [b + h for b, h in zip(bottom, heights)]
    bar_axes.set_ylabel("calls")
    bar_axes.legend(loc="upper right", fontsize="small")
    bar_axes.tick_params(axis="x", labelsize="small")
    figure.tight_layout()
    figure.savefig(folder / "mixed-callers.png", dpi=100)
    plt.close(figure)
    return "mixed-callers.png"
