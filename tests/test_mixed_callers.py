"""The mixed-version callers experiment (issue 12) on the simulator: callers of versions 1
and 2 of the shipped versioned counter (``examples/sui/counter``) increment one shared
counter through the package upgrade and the ``migrate``; the phase table, the
``upgrade_outcomes`` check (and that it fails when the pattern breaks), linearizability,
determinism, the spec's errors. Virtual time only; two short runs (seconds).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest

from move.build import build_package, build_sources
from subnet.checks.history import Event, operations
from subnet.checks.linearizable import check_linearizable
from subnet.cli import main
from subnet.scenario.mixed_callers import Call, calls, version_phases_check, violations
from subnet.scenario.processes import UnsupportedOnProcesses, check_supported
from subnet.scenario.results import summary
from subnet.scenario.run import Outcome, run_scenario
from subnet.scenario.spec import ScenarioError, parse_scenario
from subnet.sim.versioned_counter import EXAMPLE, VersionedCounterClients, versioned_counter_modules
from vocab.sui.address import ObjectId

SOURCE = (
    Path(__file__).resolve().parent.parent / "examples" / "sui" / "counter" / "sources" / "counter.move"
).read_text()
SCENARIO = """\
name = "mixed-callers-test"
seed = 3
duration = "6s"

[subnet]
replicas = 4
block_time = "100ms"

[[workload]]
kind = "versioned-counter"
clients = 4
{workload}
[[fault]]
at = "2s"
kind = "upgrade"
{upgrade}
[[fault]]
at = "4s"
kind = "migrate"
{faults}"""


def text(workload: str = "", upgrade: str = "", faults: str = "") -> str:
    return SCENARIO.format(workload=workload, upgrade=upgrade, faults=faults)


@pytest.fixture(scope="module")
def outcome() -> Outcome:
    return run_scenario(parse_scenario(text()))


def rows(outcome: Outcome) -> dict[tuple[int, str], dict[str, Any]]:
    return {(row["version"], row["phase"]): row for row in outcome.reports["mixed_callers"]["table"]}


def test_the_phase_table_shows_the_upgrade_hazard(outcome: Outcome) -> None:
    table = rows(outcome)
    wrong_version = {"EWrongVersion (1)"}
    # v1: works before the upgrade and between, aborts with the wrong-version code after migrate.
    for phase in ("before", "upgraded"):
        assert table[(1, phase)]["ok"] > 5 and table[(1, phase)]["aborted"] == {}, table[(1, phase)]
    assert table[(1, "migrated")]["ok"] == 0 and set(table[(1, "migrated")]["aborted"]) == wrong_version
    assert table[(1, "migrated")]["aborted"]["EWrongVersion (1)"] > 5
    # v2: nothing before the upgrade (its callers wait), aborts until migrate, works after.
    assert table[(2, "before")]["calls"] == 0
    assert table[(2, "upgraded")]["ok"] == 0 and set(table[(2, "upgraded")]["aborted"]) == wrong_version
    assert table[(2, "migrated")]["ok"] > 5 and table[(2, "migrated")]["aborted"] == {}
    checks = {check.name: check for check in outcome.checks}
    assert checks["linearizable"].verdict == "valid"
    assert checks["durability"].verdict == "valid"
    assert checks["upgrade_outcomes"].verdict == "valid", checks["upgrade_outcomes"].summary
    assert "upgrade" not in checks  # the canister upgrade check is not run for a package
    assert outcome.verdict == "valid"
    report = outcome.reports["mixed_callers"]
    assert report["callers"] == {"v1": [0, 2], "v2": [1, 3]}
    assert report["steps"]["upgrade"]["status"] == report["steps"]["migrate"]["status"] == "success"
    # v2 callers started when the upgrade was answered, not before.
    first_v2 = min(call.invoked_s for call in calls(outcome.simulation) if call.version == 2)
    assert first_v2 >= report["v2_callers_started_s"] >= 2.0


def test_the_abort_code_is_the_examples_constant_and_names_the_original_id(outcome: Outcome) -> None:
    (code,) = re.findall(r"const EWrongVersion: u64 = (\d+);", SOURCE)
    report = outcome.reports["mixed_callers"]
    assert report["abort_codes"][code] == "EWrongVersion"
    original = report["packages"]["v1"]
    # Sui names an abort's module by the package's original id, from either version.
    assert report["abort_locations"] == [f"EWrongVersion ({code}) at {original}::counter::increment"]


def test_the_package_ids_follow_from_the_upgrade(outcome: Outcome) -> None:
    report = outcome.reports["mixed_callers"]
    upgrade = report["steps"]["upgrade"]
    # Sui's rule for a fresh id: blake2b-256(0xF1 || transaction digest || u64 LE index);
    # the upgraded package is the first id the upgrade transaction creates.
    digest = bytes.fromhex(upgrade["request_id"])
    fresh = hashlib.blake2b(b"\xf1" + digest + (0).to_bytes(8, "little"), digest_size=32).digest()
    assert report["packages"]["v2"] == upgrade["package"] == ObjectId(fresh).to_text()
    assert upgrade["version"] == 2
    evidence = {check.name: check for check in outcome.checks}["upgrade_outcomes"].evidence
    assert len(evidence["replicas"]) == 4
    for held in evidence["replicas"].values():
        assert held["v2_package"] == {
            "version": 2,
            "original_id": report["packages"]["v1"],
            "counter_type_origin": report["packages"]["v1"],
        }
        assert held["version"] == 2  # the counter was migrated on every replica


def test_the_same_seed_gives_the_same_summary(
    outcome: Outcome, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "mixed.toml"
    file.write_text(text())
    assert main(["scenario", "run", str(file), "--results", str(tmp_path / "r")]) == 0
    printed = capsys.readouterr().out
    assert "calls by package version and phase" in printed and "EWrongVersion (1)" in printed
    (folder,) = (tmp_path / "r" / "mixed-callers-test").iterdir()
    written = json.loads((folder / "summary.json").read_text())
    plots = written.pop("plots")
    assert "mixed-callers.png" in plots and (folder / "mixed-callers.png").stat().st_size > 10_000
    assert written == json.loads(json.dumps(summary(outcome)))


def test_the_check_fails_with_evidence_when_v1_succeeds_after_migrate(outcome: Outcome) -> None:
    clients = outcome.simulation.clients
    assert isinstance(clients, VersionedCounterClients)
    late_v1 = next(
        c
        for c in calls(outcome.simulation)
        if c.version == 1 and c.phase == "migrated" and c.outcome == "aborted"
    )
    request_id = clients.request_of[late_v1.index]
    kept = clients.outcomes[request_id]
    clients.outcomes[request_id] = ("ok", "")
    try:
        check = version_phases_check(outcome.simulation, outcome.reports["mixed_callers"])
    finally:
        clients.outcomes[request_id] = kept
    assert check.verdict == "invalid"
    assert check.evidence["violation_count"] == 1
    assert f"call {late_v1.index} (client {late_v1.client}, v1" in check.evidence["violations"][0]
    assert "expected abort EWrongVersion (1)" in check.evidence["violations"][0]


def test_violations_name_each_broken_rule() -> None:
    def call(
        version: int, phase: str, outcome: str, detail: str = "", location: str = "0xa::counter::increment"
    ) -> Call:
        return Call(0, 0, version, 1.0, 1.1, outcome, detail, location, phase, (5, 0))

    assert violations([call(1, "before", "ok"), call(2, "migrated", "ok")], "0xa") == []
    found = violations(
        [
            call(2, "before", "ok"),
            call(1, "upgraded", "aborted", "EWrongVersion (1)"),
            call(2, "upgraded", "ok"),
            call(1, "migrated", "aborted", "ENotUpgrade (2)"),
            call(2, "upgraded", "aborted", "EWrongVersion (1)", "0xb::counter::increment"),
        ],
        "0xa",
    )
    assert len(found) == 5
    assert "no version 2 exists before the upgrade" in found[0]
    assert found[1].endswith("aborted EWrongVersion (1): expected ok")
    assert found[2].endswith("ok: expected abort EWrongVersion (1)")
    assert found[3].endswith("aborted ENotUpgrade (2): expected abort EWrongVersion (1)")
    assert "must name the original id 0xa" in found[4]


def test_versions_compile_from_the_example() -> None:
    v1 = versioned_counter_modules(1)
    assert list(v1) == build_package(EXAMPLE).module_bytes
    assert list(v1) == build_sources("counter", {"counter.move": SOURCE}).module_bytes
    v2 = versioned_counter_modules(2)
    assert v2 != v1
    assert v2 == tuple(
        build_sources(
            "counter", {"counter.move": SOURCE.replace("const VERSION: u64 = 1;", "const VERSION: u64 = 2;")}
        ).module_bytes
    )


def test_incr_is_checked_against_the_values_it_answers() -> None:
    def history(values: list[int]) -> list[Event]:
        events = []
        for i, value in enumerate(values):
            events.append(Event(2 * i, i, "invoke", "incr", 0, 1, 10 * i))
            events.append(Event(2 * i + 1, i, "ok", "incr", 0, value, 10 * i + 5))
        return events

    assert check_linearizable(operations(history([1, 2, 3])), "counter").result == "valid"
    assert check_linearizable(operations(history([1, 3, 4])), "counter").result == "invalid"  # a lost step
    assert check_linearizable(operations(history([1, 1, 2])), "counter").result == "invalid"  # counted once


@pytest.mark.parametrize(
    ("file", "message"),
    [
        (
            text(workload="keys = 2\n"),
            "line 12: workload[0].keys: the versioned-counter workload shares one counter",
        ),
        (
            text().replace("clients = 4", "clients = 1"),
            "line 11: workload[0].clients: the versioned-counter workload needs 2",
        ),
        (
            text(upgrade='module = "keeps-state"\n'),
            "line 16: fault[0].module: 'keeps-state' is a version of the register canister",
        ),
        (
            text(upgrade='module = "v3"\n'),
            "line 16: fault[0].module: 'v3' is not one of keeps-state, traps, loses-state, v2",
        ),
        (text(faults='duration = "1s"\n'), "line 20: fault[1].duration: a migration is not undone"),
        (
            text(faults="target = 1\n"),
            "line 20: fault[1].target: does not apply to a migrate fault (it takes none)",
        ),
        (
            text().replace('at = "4s"', 'at = "1s"'),
            "line 18: fault[1].at: the migrate at 1s is not after the upgrade (fault[0] at 2s)",
        ),
        (
            text(faults='\n[[fault]]\nat = "5s"\nkind = "migrate"\n'),
            "line 23: fault[2].kind: a second migrate (the first is fault[1])",
        ),
        (
            text().replace('kind = "upgrade"', 'kind = "crash"\ntarget = 0\nduration = "1s"'),
            "line 21: fault[1].kind: a migrate follows a package upgrade",
        ),
        (
            text().replace("versioned-counter", "counter"),
            "line 19: fault[1].kind: a migrate migrates the versioned-counter",
        ),
        (
            text()
            .replace("versioned-counter", "counter")
            .replace('kind = "migrate"', 'kind = "crash"\ntarget = 0')
            .replace('kind = "upgrade"', 'kind = "upgrade"\nmodule = "v2"'),
            "line 16: fault[0].module: 'v2' upgrades the versioned-counter workload's package",
        ),
        (
            text().replace("seed = 3", 'seed = 3\nbackend = "processes"'),
            "workload[0].kind: the versioned-counter workload runs on the sim backend only",
        ),
    ],
)
def test_spec_errors_name_the_key_and_line(file: str, message: str) -> None:
    with pytest.raises(ScenarioError) as error:
        parse_scenario(file)
    assert message in str(error.value)


def test_the_process_backend_refuses_it_by_name() -> None:
    scenario = dataclasses.replace(parse_scenario(text()), backend="processes")
    with pytest.raises(
        UnsupportedOnProcesses,
        match=r"line 10: workload\[0\]\.kind: the versioned-counter workload runs only on the simulator",
    ):
        check_supported(scenario, text())


def test_a_migrate_sent_before_the_upgrade_is_answered_goes_through_v1_and_aborts() -> None:
    # A 2-2 split from 1.9 s to 3.9 s holds the upgrade (sent at 2 s) unanswered; the admin's
    # migrate at 2.5 s goes through the newest package it knows, version 1's, whose
    # `migrate` finds the counter at its own VERSION and aborts with ENotUpgrade.
    split = '\n[[fault]]\nat = "1900ms"\nkind = "partition"\nshape = "majority"\nduration = "2s"\n'
    file = text(faults=split).replace('at = "4s"\nkind = "migrate"', 'at = "2500ms"\nkind = "migrate"')
    outcome = run_scenario(parse_scenario(file))
    report = outcome.reports["mixed_callers"]
    (not_upgrade,) = re.findall(r"const ENotUpgrade: u64 = (\d+);", SOURCE)
    migrate, upgrade = report["steps"]["migrate"], report["steps"]["upgrade"]
    assert migrate["package_version"] == 1 and migrate["status"] == "failure"
    assert migrate["failure"]["code"] == int(not_upgrade)
    assert migrate["failure"]["module"] == f"{report['packages']['v1']}::counter"
    assert upgrade["status"] == "success" and upgrade["answered_s"] > 3.9
    assert report["v2_callers_started_s"] == upgrade["answered_s"]
    table = rows(outcome)
    assert table[(1, "migrated")]["calls"] == table[(2, "migrated")]["calls"] == 0
    assert table[(2, "upgraded")]["ok"] == 0 and table[(2, "upgraded")]["aborted"]
    check = {check.name: check for check in outcome.checks}["upgrade_outcomes"]
    assert check.verdict == "unknown"
    assert f"ENotUpgrade ({not_upgrade})" in check.summary and "through package v1" in check.summary
