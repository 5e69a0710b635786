"""The ``twins`` Byzantine behaviour on the simulator: one node key on two replicas, each
honest alone and talking to its own half of the peers. The honest replicas see two
blocks from one proposer at a height and still agree; with a weakened quorum (the
``small-quorum`` bug switch) the twins alone fork the chain and the checks say so."""

from __future__ import annotations

import json
from pathlib import Path

from subnet.scenario import parse_scenario, run_scenario
from subnet.sim.behaviour import Twins

SHIPPED = Path(__file__).resolve().parent.parent / "subnet" / "scenarios"


def run(name: str):
    text = (SHIPPED / f"{name}.toml").read_text().replace('duration = "10s"', 'duration = "7s"')
    return run_scenario(parse_scenario(text.replace('duration = "6s"', 'duration = "4s"')))


def test_twins_equivocate_under_one_identity_and_the_honest_replicas_agree() -> None:
    outcome = run("twins")
    verdicts = {check.name: check.verdict for check in outcome.checks}
    assert outcome.verdict == "valid", verdicts
    sim = outcome.simulation
    assert sim.byzantine == {0: None}
    lines = [json.loads(line) for line in sim.trace.lines]
    (started,) = [line for line in lines if line[1] == "twin_started"]
    assert started[2] == 0 and started[3] > 0  # the twin began from replica 0's disk
    # Honest replicas on both sides saw two different blocks of replica 0 at one height.
    proposer = str(sim.genesis.node_ids[0])
    equivocations = [line for line in lines if line[1] == "equivocation"]
    assert equivocations and all(line[4]["proposer"] == proposer for line in equivocations)
    assert {1, 2, 3} <= {line[2] for line in equivocations}
    assert all(len(set(line[4]["blocks"])) == 2 for line in equivocations)


def test_twins_break_agreement_when_f_plus_one_signatures_make_a_quorum() -> None:
    outcome = run("bug-twins-small-quorum")
    verdicts = {check.name: check.verdict for check in outcome.checks}
    assert verdicts["agreement"] == "invalid" and outcome.verdict == "invalid", verdicts
    agreement = next(check for check in outcome.checks if check.name == "agreement")
    # The fork is between the twin's side (replica 3) and the original's (1 and 2).
    assert "replica 3" in agreement.summary


class _View:
    n = 4


def test_the_twins_split_the_peers_in_halves() -> None:
    assert Twins.halves(_View(), 0) == ([1, 2], [3])  # type: ignore[arg-type]
    assert Twins.halves(_View(), 2) == ([0, 1], [3])  # type: ignore[arg-type]
