"""The faults added for clock skew, lost disks, double votes and upgrades under load, on
the simulator: each does what it says (seen in the trace and the replicas' state), the
subnet stays safe, and a broken upgrade is caught by linearizability alone."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from subnet.scenario import ScenarioError, parse_scenario, run_scenario
from subnet.sim.clients import register_canister_wasm
from subnet.sim.runner import SECOND

SHIPPED = Path(__file__).resolve().parent.parent / "subnet" / "scenarios"


def shipped(name: str):
    return run_scenario(parse_scenario((SHIPPED / f"{name}.toml").read_text()))


def verdicts(outcome) -> dict[str, str]:
    return {check.name: check.verdict for check in outcome.checks}


def test_skewed_clocks_stamp_blocks_off_and_nothing_breaks() -> None:
    outcome = shipped("clock-skew")
    assert outcome.verdict == "valid", verdicts(outcome)
    sim = outcome.simulation
    first_persisted: dict[int, int] = {}
    for time, _, height in sim.persisted:
        first_persisted.setdefault(height, time - sim.start_ns)
    ids = list(sim.genesis.node_ids)
    during = [block for block in sim.chain(0) if 2.5 * SECOND < first_persisted[block.height] < 7 * SECOND]
    # Replica 1 runs 2s fast: its blocks come from the future, and none is finalized then.
    assert during and all(ids.index(block.proposer) != 1 for block in during)
    # Replica 3 runs 1s slow: its blocks are stamped well before they are final.
    late = [
        block
        for block in during
        if ids.index(block.proposer) == 3
        and sim.start_ns + first_persisted[block.height] - block.timestamp > SECOND // 5
    ]
    assert late
    chain = sim.chain(0)
    assert all(b.timestamp >= a.timestamp for a, b in zip(chain, chain[1:]))
    assert [line for line in sim.trace.lines if '"clock_skew"' in line]
    # After the skew, every replica proposes finalized blocks again.
    after = {ids.index(block.proposer) for block in chain if first_persisted[block.height] > 8 * SECOND}
    assert after == {0, 1, 2, 3}


def test_a_replica_that_lost_its_disk_restarts_empty_and_catches_up() -> None:
    outcome = shipped("disk-loss")
    assert outcome.verdict == "valid", verdicts(outcome)
    sim = outcome.simulation
    lines = sim.trace.lines
    assert any('"disk_lost",2' in line for line in lines)
    restart = next(line for line in lines if '"restart",2' in line)
    assert restart.endswith(",0]")  # nothing persisted when it came back
    heights = [len(sim.chain(node)) for node in range(4)]
    assert heights[2] >= max(heights) - 3 and heights[2] > 30


def test_one_double_voter_cannot_break_agreement() -> None:
    outcome = shipped("double-vote")
    assert outcome.verdict == "valid", verdicts(outcome)
    double = [line for line in outcome.simulation.trace.lines if '"double_vote"' in line]
    assert len(double) > 10
    assert outcome.simulation.byzantine == {2: None}


def test_upgrades_under_load_replied_then_rejected_leave_one_module_everywhere() -> None:
    outcome = shipped("upgrade-under-load")
    assert outcome.verdict == "valid", verdicts(outcome)
    upgrade = next(check for check in outcome.checks if check.name == "upgrade")
    records = upgrade.evidence["upgrades"]
    assert [(record["module"], record["outcome"]) for record in records] == [
        ("keeps-state", "replied"),
        ("traps", "rejected"),
    ]
    assert "post_upgrade refuses" in records[1]["reject"]
    kept = hashlib.sha256(register_canister_wasm("keeps-state")).hexdigest()
    assert set(upgrade.evidence["module_hashes"].values()) == {kept}


def test_an_upgrade_that_loses_the_state_is_caught_by_linearizability_alone() -> None:
    outcome = shipped("bug-upgrade-loses-state")
    assert verdicts(outcome) == {
        "agreement": "valid",
        "convergence": "valid",
        "durability": "valid",
        "linearizable": "invalid",
        "upgrade": "valid",
    }
    lin = next(check for check in outcome.checks if check.name == "linearizable")
    assert "the counter model refuses it" in "\n".join(lin.evidence["piece"])


def test_the_upgrade_modules_differ_only_as_described() -> None:
    modules = {name: register_canister_wasm(name) for name in ("", "keeps-state", "traps", "loses-state")}
    assert len({hashlib.sha256(wasm).digest() for wasm in modules.values()}) == 4
    with pytest.raises(ValueError, match="unknown module"):
        register_canister_wasm("nope")


BASE = 'name = "x"\nseed = 1\nduration = "8s"\n\n[subnet]\nreplicas = 4\n\n[[workload]]\nkind = "counter"\n\n'


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (
            '[[fault]]\nat = "1s"\nkind = "clock-skew"\ntarget = 1\n',
            "line 11: fault[0]: a clock-skew fault needs an offset",
        ),
        (
            '[[fault]]\nat = "1s"\nkind = "clock-skew"\ntarget = 1\noffset = "2"\n',
            "line 15: fault[0].offset: '2' has no unit",
        ),
        (
            '[[fault]]\nat = "1s"\nkind = "clock-skew"\ntarget = 1\noffset = 2\n',
            "line 15: fault[0].offset: must be a duration",
        ),
        (
            '[[fault]]\nat = "1s"\nkind = "disk-loss"\ntarget = 1\n',
            "fault[0]: a disk-loss fault needs a duration",
        ),
        (
            '[[fault]]\nat = "1s"\nkind = "upgrade"\nduration = "1s"\n',
            "line 14: fault[0].duration: an upgrade is not undone",
        ),
        (
            '[[fault]]\nat = "1s"\nkind = "upgrade"\nmodule = "v9"\n',
            "line 14: fault[0].module: 'v9' is not one of",
        ),
        (
            '[[fault]]\nat = "1s"\nkind = "upgrade"\ntarget = 1\n',
            "fault[0].target: does not apply to a upgrade fault",
        ),
    ],
)
def test_new_fault_errors_name_key_and_line(fault: str, expected: str) -> None:
    with pytest.raises(ScenarioError) as error:
        parse_scenario(BASE + fault)
    assert expected in str(error.value)


def test_an_upgrade_needs_the_clients_canister() -> None:
    text = BASE.replace('kind = "counter"', 'kind = "lifecycle"') + '[[fault]]\nat = "1s"\nkind = "upgrade"\n'
    with pytest.raises(
        ScenarioError, match=r"line 13: fault\[0\].kind: an upgrade upgrades the clients' canister"
    ):
        parse_scenario(text)


def test_a_negative_offset_reads_back() -> None:
    from subnet.scenario.results import scenario_toml

    scenario = parse_scenario(
        BASE + '[[fault]]\nat = "1s"\nkind = "clock-skew"\ntarget = 1\noffset = "-1500ms"\n'
    )
    assert scenario.faults[0].offset_ns == -1_500_000_000
    assert 'offset = "-1500ms"' in scenario_toml(scenario)
    assert parse_scenario(scenario_toml(scenario)) == scenario
