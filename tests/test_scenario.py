"""Scenario files: parse errors name the key and the line; each fault changes a simulated
run as it should; the checks decide valid, invalid and unknown; results folders are a
function of the scenario and seed; replay confirms; the shipped scenarios run."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from node.consensus.icc.ranking import ranking
from subnet.cli import main
from subnet.scenario import (
    ScenarioError,
    parse_scenario,
    run_scenario,
    scenario_toml,
    shipped,
)
from subnet.scenario.spec import KeyLines
from subnet.sim.runner import SECOND

SHIPPED = Path(__file__).resolve().parent.parent / "subnet" / "scenarios"

BASE = """\
name = "t"
seed = {seed}
duration = "{duration}"

[subnet]
replicas = 4

[[workload]]
kind = "lifecycle"
rate = 4
"""


def scenario(faults: str = "", *, seed: int = 1, duration: str = "8s", checks: str = "") -> str:
    text = BASE.format(seed=seed, duration=duration) + faults
    if checks:
        text += "\n[checks]\n" + checks
    return text


def parse_error(text: str) -> str:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text)
    return str(caught.value)


# -- parsing -----------------------------------------------------------------------------------


def test_unknown_keys_are_named_with_their_line() -> None:
    message = parse_error(scenario() + '\n[network]\nlatency = "10ms"\njitter = 3\n')
    assert "line 14" in message and "network.jitter" in message and "unknown key" in message
    message = parse_error('colour = "red"\n' + scenario())
    assert message.startswith("line 1: colour: unknown key")


def test_an_error_in_the_second_fault_names_its_line() -> None:
    faults = """
[[fault]]
at = "1s"
kind = "crash"
target = 1
duration = "1s"

[[fault]]
at = "2s"
groups = [
  [0, 1],
  [2, 3],
]
kind = "explode"
"""
    message = parse_error(scenario(faults))
    assert message.startswith("line 24: fault[1].kind: 'explode' is not one of"), message


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ('\n[[fault]]\nat = "1"\nkind = "crash"\ntarget = 0\n', "line 13: fault[0].at: '1' has no unit"),
        ('\n[[fault]]\nat = "1s"\nkind = "crash"\ntarget = 9\n', "line 15: fault[0].target: no replica 9"),
        ('\n[[fault]]\nat = "1s"\nkind = "crash"\n', "line 12: fault[0]: a crash fault needs a target"),
        (
            '\n[[fault]]\nat = "9s"\nkind = "crash"\ntarget = 0\n',
            "line 13: fault[0].at: is not before the end of the run",
        ),
        (
            '\n[[fault]]\nat = "1s"\nkind = "partition"\nshape = "ring"\nduration = "1s"\ntarget = 1\n',
            "line 17: fault[0].target: a ring partition takes no target",
        ),
        (
            '\n[[fault]]\nat = "1s"\nkind = "loss"\nprobability = 1.5\nduration = "1s"\n',
            "line 15: fault[0].probability: must be in [0.0, 1.0)",
        ),
        (
            '\n[[fault]]\nat = "1s"\nkind = "latency"\ndelay = "5ms"\ntarget = "block-maker"\nduration = "1s"\n',
            'line 16: fault[0].target: "block-maker" is not a target of a latency fault',
        ),
        (
            '\n[[fault]]\nat = "1s"\nkind = "crash"\ntarget = 0\nbehaviour = "silent"\n',
            "line 16: fault[0].behaviour: does not apply to a crash fault",
        ),
        ("\n[checks]\nliveness = 5\n", "line 13: checks.liveness: must be a duration with a unit"),
    ],
)
def test_bad_values_name_key_and_line(extra: str, expected: str) -> None:
    assert parse_error(scenario() + extra).startswith(expected)


def test_subnet_and_network_errors() -> None:
    assert parse_error(scenario().replace("replicas = 4", "replicas = 0")).startswith(
        "line 6: subnet.replicas: must be in [1, 64], not 0"
    )
    text = scenario().replace("replicas = 4", 'replicas = 4\nbugs = ["no-such-bug"]')
    assert parse_error(text).startswith("line 7: subnet.bugs: unknown bug 'no-such-bug'")
    text = scenario() + '\n[network]\nlatency = "sideways:1ms"\n'
    assert parse_error(text).startswith("line 13: network.latency: bad latency spec")
    assert parse_error(scenario().replace('kind = "lifecycle"', 'kind = "owned-transfers"')).startswith(
        "line 9: workload[0].kind: 'owned-transfers' is not one of lifecycle, register"
    )
    assert parse_error('seed = 1\nduration = "1s"\n') == "name: is required"
    assert "not valid TOML" in parse_error('name = "x"\nseed = = 1\n')
    assert "line 2" in parse_error('name = "x"\nseed = = 1\n')


def test_key_lines_survive_comments_strings_and_multiline_values() -> None:
    text = """\
name = "a [not] header" # [[fault]]
description = \"\"\"
kind = "not a key"
[[fault]]
\"\"\"
seed = 1
duration = "5s"

[ subnet ]  # spaced
"replicas" = 4

[[fault]]
at = "1s"
kind = "partition"
shape = "groups"
groups = [
  [0, 1],  # ]]
  [2, 3],
]
duration = "1s"

[[fault]]
at = "2s"
kind = "crash"
target = 5
"""
    lines = KeyLines(text)
    assert lines.line(("description",)) == 2
    assert lines.line(("seed",)) == 6
    assert lines.line(("subnet", "replicas")) == 10
    assert lines.line(("fault", 0, "duration")) == 20
    assert lines.line(("fault", 1)) == 22
    assert lines.line(("fault", 1, "kind")) == 24
    assert lines.line(("fault", 1, "behaviour")) == 22  # absent: its table
    assert parse_error(text).startswith("line 25: fault[1].target: no replica 5 in a subnet of 4")


def test_what_only_the_simulator_runs_is_refused_on_processes_by_key_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "p.toml"
    file.write_text(scenario().replace('duration = "8s"', 'duration = "8s"\nbackend = "processes"'))
    assert main(["scenario", "run", str(file), "--results", str(tmp_path / "r")]) == 2
    assert (
        "line 10: workload[0].kind: the lifecycle workload runs only on the simulator"
        in capsys.readouterr().err
    )
    assert not (tmp_path / "r").exists()
    ring = ["scenario", "run", "ring-partition", "--backend", "processes", "--results", str(tmp_path / "r")]
    assert main(ring) == 2
    assert (
        "line 10: workload[0].kind: the lifecycle workload runs only on the simulator"
        in capsys.readouterr().err
    )
    text = scenario().replace('kind = "lifecycle"\nrate = 4', 'kind = "counter"')
    text = text.replace("replicas = 4", 'replicas = 4\nbugs = ["small-quorum"]')
    file.write_text(text.replace('duration = "8s"', 'duration = "8s"\nbackend = "processes"'))
    assert main(["scenario", "run", str(file), "--results", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert 'subnet.bugs: bug switches exist only in the simulator (backend = "sim")' in err, err
    maker = scenario().replace('kind = "lifecycle"\nrate = 4', 'kind = "counter"') + (
        '\n[[fault]]\nat = "1s"\nkind = "crash"\ntarget = "block-maker"\nduration = "1s"\n'
    )
    file.write_text(maker.replace('duration = "8s"', 'duration = "8s"\nbackend = "processes"'))
    assert main(["scenario", "run", str(file), "--results", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert 'line 15: fault[0].target: "block-maker" is not supported on the process backend' in err
    assert not (tmp_path / "r").exists()


def test_a_bad_file_runs_nothing_and_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    file = tmp_path / "bad.toml"
    file.write_text(scenario('\n[[fault]]\nat = "1s"\nkind = "crash"\ntarget = "leader"\n'))
    assert main(["scenario", "run", str(file), "--results", str(tmp_path / "r")]) == 2
    assert "line 15: fault[0].target" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()
    assert main(["scenario", "run", str(tmp_path / "missing.toml")]) == 2


def test_the_resolved_scenario_reads_back_the_same() -> None:
    for item in shipped():
        parsed = parse_scenario(item.path.read_text())
        assert parse_scenario(scenario_toml(parsed)) == parsed


# -- faults ------------------------------------------------------------------------------------


def heights_between(outcome, start_s: float, end_s: float) -> dict[int, list[int]]:
    """The heights each replica persisted in [start, end) seconds of the run."""
    sim = outcome.simulation
    found: dict[int, list[int]] = {node: [] for node in range(sim.n)}
    for time, node, height in sim.persisted:
        if sim.start_ns + start_s * SECOND <= time < sim.start_ns + end_s * SECOND:
            found[node].append(height)
    return found


def test_a_minority_partition_still_finalizes_and_the_minority_catches_up() -> None:
    outcome = run_scenario(
        parse_scenario(
            scenario(
                '\n[[fault]]\nat = "2s"\nkind = "partition"\nshape = "minority"\ntarget = 3\nduration = "3s"\n',
                checks='liveness = "2s"\n',
            )
        )
    )
    during = heights_between(outcome, 2.2, 5.0)
    assert all(len(during[node]) >= 5 for node in (0, 1, 2))
    assert during[3] == []
    assert outcome.verdict == "valid"
    heights = outcome.result.finalized_heights
    assert heights[3] >= max(heights) - 2


def test_a_majority_partition_stalls_then_recovers() -> None:
    outcome = run_scenario(
        parse_scenario(
            scenario(
                '\n[[fault]]\nat = "2s"\nkind = "partition"\nshape = "majority"\nduration = "3s"\n',
                checks='liveness = "2s"\n',
            )
        )
    )
    assert all(heights == [] for heights in heights_between(outcome, 2.5, 5.0).values())
    assert all(len(heights) >= 3 for heights in heights_between(outcome, 5.0, 8.0).values())
    assert outcome.verdict == "valid"
    assert outcome.checks[2].name == "liveness" and outcome.checks[2].verdict == "valid"


def test_ring_and_bridge_cut_the_links_of_their_shape() -> None:
    ring = run_scenario(
        parse_scenario(
            scenario('\n[[fault]]\nat = "1s"\nkind = "partition"\nshape = "ring"\nduration = "1s"\n')
        )
    )
    cut = [json.loads(line) for line in ring.simulation.trace.lines if json.loads(line)[1] == "cut"]
    assert len(cut) == 1
    links = cut[0][3]
    # 4 replicas on a ring, each reaching one neighbour on either side: the two diagonals cut.
    assert len(links) == 4 and all([b, a] in links for a, b in links)
    assert all(sum(1 for a, _ in links if a == node) == 1 for node in range(4))
    bridge = run_scenario(
        parse_scenario(
            scenario(
                '\n[[fault]]\nat = "1s"\nkind = "partition"\nshape = "bridge"\ntarget = 2\nduration = "1s"\n'
            )
        )
    )
    cut = [json.loads(line) for line in bridge.simulation.trace.lines if json.loads(line)[1] == "cut"]
    links = cut[0][3]
    assert all(2 not in link for link in links) and len(links) == 4  # 1 x 2 replicas, both ways
    assert ring.verdict == bridge.verdict == "valid"


def test_crash_and_restart_catches_up() -> None:
    outcome = run_scenario(
        parse_scenario(
            scenario(
                '\n[[fault]]\nat = "2s"\nkind = "crash"\ntarget = 1\nduration = "3s"\n',
                checks='liveness = "2s"\n',
            )
        )
    )
    assert heights_between(outcome, 2.0, 5.0)[1] == []
    assert len(heights_between(outcome, 2.0, 5.0)[0]) >= 5
    heights = outcome.result.finalized_heights
    assert heights[1] >= max(heights) - 2
    kinds = [json.loads(line)[1:3] for line in outcome.simulation.trace.lines]
    assert ["crash", 1] in kinds and ["restart", 1] in kinds
    assert outcome.verdict == "valid"


def test_pause_freezes_a_replica_then_it_resumes() -> None:
    outcome = run_scenario(
        parse_scenario(
            scenario(
                '\n[[fault]]\nat = "2s"\nkind = "pause"\ntarget = 0\nduration = "2s"\n',
                checks='liveness = "2s"\n',
            )
        )
    )
    assert heights_between(outcome, 2.0, 4.0)[0] == []
    assert len(heights_between(outcome, 2.0, 4.0)[1]) >= 4
    resumed = [json.loads(line) for line in outcome.simulation.trace.lines if json.loads(line)[1] == "resume"]
    assert resumed[0][2] == 0 and resumed[0][3] > 0  # it held what arrived meanwhile
    heights = outcome.result.finalized_heights
    assert heights[0] >= max(heights) - 2
    assert outcome.verdict == "valid"


def test_the_block_maker_target_is_the_leader_of_the_height_being_decided() -> None:
    outcome = run_scenario(
        parse_scenario(
            scenario('\n[[fault]]\nat = "3s"\nkind = "pause"\ntarget = "block-maker"\nduration = "1s"\n')
        )
    )
    sim = outcome.simulation
    pause = next(json.loads(line) for line in sim.trace.lines if json.loads(line)[1] == "pause")
    paused_at, node = pause[0], pause[2]
    height = max(h for time, _, h in sim.persisted if time <= paused_at) + 1
    chain = sim.chain(1)
    members = sim.genesis.committee.members
    leader = ranking(members, height)[0]
    assert members.index(leader) == node
    # Rank 0 was frozen, so that height's block came from another maker.
    assert chain[height - 1].proposer != leader


def test_latency_loss_and_duplication_windows_change_the_network() -> None:
    plain = run_scenario(parse_scenario(scenario(duration="6s")))
    slow = run_scenario(
        parse_scenario(
            scenario(
                '\n[[fault]]\nat = "1s"\nkind = "latency"\ndelay = "400ms"\nduration = "4s"\n', duration="6s"
            )
        )
    )
    assert slow.result.finalized_height < plain.result.finalized_height - 5
    lossy = run_scenario(
        parse_scenario(
            scenario(
                '\n[[fault]]\nat = "1s"\nkind = "loss"\nprobability = 0.5\nduration = "2s"\n'
                '\n[[fault]]\nat = "1s"\nkind = "duplication"\nprobability = 0.5\nduration = "2s"\n',
                duration="6s",
            )
        )
    )
    lines = [json.loads(line) for line in lossy.simulation.trace.lines]
    start = lossy.simulation.start_ns

    def count(kind: str, low: float, high: float) -> int:
        return sum(
            1 for line in lines if line[1] == kind and start + low * SECOND <= line[0] < start + high * SECOND
        )

    assert count("drop", 0, 1) == 0 and count("drop", 3, 4) == 0
    assert count("drop", 1, 3) > 100
    sends, drops = count("send", 1, 3), count("drop", 1, 3)
    assert 0.25 < drops / (drops + sends) < 0.6
    assert lossy.verdict == "valid"


def test_byzantine_behaviours_are_excluded_from_the_honest_set() -> None:
    outcome = run_scenario(
        parse_scenario(
            scenario(
                '\n[[fault]]\nat = "0s"\nkind = "byzantine"\nbehaviour = "equivocator"\ntarget = 0\n',
                checks='liveness = "2s"\n',
            )
        )
    )
    assert sum(1 for line in outcome.simulation.trace.lines if '"equivocate"' in line) >= 1
    assert sorted(outcome.simulation.byzantine) == [0]
    assert outcome.verdict == "valid"
    silent = run_scenario(
        parse_scenario(
            scenario(
                '\n[[fault]]\nat = "2s"\nkind = "byzantine"\nbehaviour = "silent"\ntarget = 2\nduration = "2s"\n'
            )
        )
    )
    start = silent.simulation.start_ns
    sent_by_2 = [
        json.loads(line)[0]
        for line in silent.simulation.trace.lines
        if json.loads(line)[1] == "send" and json.loads(line)[2] == 2
    ]
    assert not any(start + 2 * SECOND < time < start + 4 * SECOND for time in sent_by_2)
    assert any(time > start + 4 * SECOND for time in sent_by_2)


def test_a_random_target_is_drawn_from_the_seed() -> None:
    fault = '\n[[fault]]\nat = "1s"\nkind = "crash"\ntarget = "random"\nduration = "1s"\n'
    chosen = {
        seed: run_scenario(parse_scenario(scenario(fault, seed=seed, duration="3s"))).schedule.resolved[0]
        for seed in range(6)
    }
    assert len(set(chosen.values())) > 1
    again = run_scenario(parse_scenario(scenario(fault, seed=4, duration="3s"))).schedule.resolved[0]
    assert again == chosen[4]


# -- checks ------------------------------------------------------------------------------------


def test_liveness_is_invalid_when_a_quorum_is_lost_and_unknown_when_the_run_is_too_short() -> None:
    lost = run_scenario(
        parse_scenario(
            scenario(
                '\n[[fault]]\nat = "2s"\nkind = "crash"\ntarget = [0, 1]\n',
                duration="6s",
                checks='liveness = "2s"\n',
            )
        )
    )
    check = lost.checks[-1]
    assert (check.name, check.verdict, lost.verdict) == ("liveness", "invalid", "invalid")
    assert (
        check.evidence["last_heal_s"] == 2.0
        and check.evidence["final_height"] == check.evidence["height_at_heal"]
    )
    short = run_scenario(
        parse_scenario(
            scenario(
                '\n[[fault]]\nat = "2s"\nkind = "partition"\nshape = "majority"\nduration = "3s"\n',
                duration="5.5s",
                checks='liveness = "2s"\n',
            )
        )
    )
    check = short.checks[-1]
    assert check.verdict == "unknown" and "ended 0.5s after the last heal" in check.summary
    assert short.verdict == "unknown"
    spill = '\n[[fault]]\nat = "1s"\nkind = "pause"\ntarget = 0\nduration = "5s"\n'
    check = run_scenario(parse_scenario(scenario(spill, duration="3s", checks='liveness = "1s"\n'))).checks[
        -1
    ]
    assert check.verdict == "unknown" and check.summary.startswith("the last fault ends at 6s, not before")


def test_the_command_exits_2_when_a_check_is_unknown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "short.toml"
    file.write_text(
        scenario(
            '\n[[fault]]\nat = "1s"\nkind = "partition"\nshape = "majority"\nduration = "1s"\n',
            duration="2.5s",
            checks='liveness = "1s"\n',
        )
    )
    assert main(["scenario", "run", str(file), "--results", str(tmp_path / "r")]) == 2
    out = capsys.readouterr().out
    assert "liveness     unknown  the run ended 0.5s after the last heal" in out and "verdict: unknown" in out


def test_the_bug_scenario_exits_1_naming_convergence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["scenario", "run", str(SHIPPED / "bug-wrong-execution.toml"), "--results", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 1
    assert "convergence  invalid  height" in out and "replicas [3]" in out
    folder = next(tmp_path.glob("bug-wrong-execution/*-seed29"))
    data = json.loads((folder / "summary.json").read_text())
    assert data["verdict"] == "invalid" and data["checks"]["agreement"]["verdict"] == "valid"
    assert (
        data["checks"]["convergence"]["evidence"]["state_hashes"]["0"]
        != data["checks"]["convergence"]["evidence"]["state_hashes"]["3"]
    )


def test_the_small_quorum_bug_exits_1_naming_agreement(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["scenario", "run", "bug-small-quorum", "--results", str(tmp_path), "--output", "json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 1 and data["verdict"] == "invalid"
    agreement = data["checks"]["agreement"]
    assert agreement["verdict"] == "invalid"
    first = agreement["evidence"]["disagreements"][0]
    assert first["block_hash"] != first["first_hash"]
    # The two halves of the 2-2 partition are the two sides of the disagreement.
    halves = [group for group in json.loads(data["faults"][0].split(": ", 1)[1])]
    assert any({first["node"], first["first_node"]} & set(half) == {first["node"]} for half in halves)
    blocks = agreement["evidence"]["blocks"]
    assert blocks[str(first["node"])]["hash"] == first["block_hash"]
    assert blocks[str(first["first_node"])]["hash"] == first["first_hash"]
    # Without the bug, the same partition only stalls.
    file = parse_scenario((SHIPPED / "bug-small-quorum.toml").read_text().replace('"small-quorum"', ""))
    assert run_scenario(file).verdict == "valid"


# -- results, determinism, replay, list --------------------------------------------------------


def test_same_seed_same_results_and_replay_confirms(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = SHIPPED / "minority-partition.toml"
    assert (
        main(["scenario", "run", str(file), "--seed", "3", "--results", str(tmp_path), "--output", "json"])
        == 0
    )
    first = Path(json.loads(capsys.readouterr().out)["results"])
    assert (
        main(["scenario", "run", str(file), "--seed", "3", "--results", str(tmp_path), "--output", "json"])
        == 0
    )
    second = Path(json.loads(capsys.readouterr().out)["results"])
    assert first != second and first.name.endswith("seed3")
    for name in ("scenario.toml", "summary.json", "trace.jsonl"):
        assert (first / name).read_bytes() == (second / name).read_bytes()
    summary = json.loads((first / "summary.json").read_text())
    assert summary["verdict"] == "valid" and set(summary["checks"]) == {
        "agreement",
        "convergence",
        "liveness",
    }
    assert summary["seed"] == 3 and "seed = 3" in (first / "scenario.toml").read_text()
    assert summary["trace_hash"] and summary["config_hash"]
    lines = (first / "trace.jsonl").read_text().splitlines()
    assert len(lines) == summary["counts"]["trace_events"]

    assert main(["scenario", "replay", str(first)]) == 0
    assert f"same trace hash: {summary['trace_hash']}" in capsys.readouterr().out

    changed = next(index for index in range(100, len(lines)) if '"send"' in lines[index])
    lines[changed] = lines[changed].replace('"send"', '"sent"')
    (second / "trace.jsonl").write_text("\n".join(lines) + "\n")
    summary["trace_hash"] = "0" * 64
    (second / "summary.json").write_text(json.dumps(summary))
    assert main(["scenario", "replay", str(second)]) == 1
    out = capsys.readouterr().out
    assert "DIFFERENT trace hash" in out and f"line {changed + 1}" in out


@pytest.mark.parametrize("path", sorted(SHIPPED.glob("*.toml")), ids=lambda path: path.stem)
def test_each_shipped_scenario_gives_its_verdict(path: Path) -> None:
    # On the simulator, files made for the process backend too.
    outcome = run_scenario(dataclasses.replace(parse_scenario(path.read_text()), backend="sim"))
    assert outcome.verdict == ("invalid" if path.stem.startswith("bug-") else "valid"), [
        check.summary for check in outcome.checks
    ]
    assert outcome.scenario.duration_ns <= 12 * SECOND


def test_list_prints_the_shipped_scenarios(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenario", "list"]) == 0
    out = capsys.readouterr().out
    files = sorted(SHIPPED.glob("*.toml"))
    assert len(files) >= 7
    for path in files:
        description = parse_scenario(path.read_text()).description
        assert description
        assert f"{path.stem}" in out and description in out


def test_a_shipped_scenario_runs_by_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenario", "run", "ring-partition", "--results", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "liveness" in out and "verdict: valid" in out
