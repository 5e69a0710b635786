"""Scenarios on replica processes (``backend = "processes"``): the nemesis kills and
restarts a replica (SIGKILL), pauses and resumes another (SIGSTOP/SIGCONT), cuts a third
off through its control channel (a link filter), deletes the first one's database and
restarts it empty, counter
clients record their history over TCP, and the same checks judge the run. A few seconds
of run time; marked ``processes`` (run by default, deselect with ``-m "not processes"``)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from node.runtime import ReplicaRuntime
from subnet.checks.history import operations, read_jsonl
from subnet.cli import main
from subnet.processes.control import link_control
from subnet.scenario import parse_scenario
from subnet.scenario.processes import run_on_processes
from vocab.genesis import local_genesis
from vocab.messages import LinkControlReply

pytestmark = [pytest.mark.processes, pytest.mark.slow]

SHIPPED = Path(__file__).resolve().parent.parent / "subnet" / "scenarios"

SCENARIO = """\
name = "processes-crash-pause"
seed = 2
duration = "7s"
backend = "processes"

[subnet]
replicas = 4
block_time = "100ms"

[[workload]]
kind = "counter"
clients = 3

[[fault]]
at = "800ms"
kind = "crash"
target = 1
duration = "700ms"

[[fault]]
at = "2s"
kind = "partition"
shape = "one"
target = 3
duration = "600ms"

[[fault]]
at = "3s"
kind = "pause"
target = 2
duration = "500ms"

[[fault]]
at = "4s"
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
        ("partition", -1),
        ("heal", -1),
        ("stop", 2),
        ("continue", 2),
        ("wipe", 1),
        ("restart", 1),
    ]
    partition = summary["nemesis"][2]["detail"]
    assert "3: blocks [0, 1, 2]" in partition and "0: blocks [3]" in partition
    assert "removed replica.db" in summary["nemesis"][6]["detail"]
    folder = Path(summary["results"])
    heights = summary["counts"]["finalized_heights"]
    polled = [json.loads(line) for line in (folder / "heights.jsonl").read_text().splitlines()]
    at_heal = max(sample["heights"][0] or 0 for sample in polled if sample["time_s"] <= 4.5)
    assert min(heights[0], heights[2], heights[3]) > at_heal  # the three kept going after the last fault
    for name in ("scenario.toml", "history.jsonl", "executions.json", "nemesis.jsonl", "heights.jsonl"):
        assert (folder / name).is_file(), name
    assert all((folder / "logs" / f"replica-{index}.log").read_text() for index in range(4))
    assert "link filter" in (folder / "logs" / "replica-3.log").read_text()
    events = read_jsonl(folder / "history.jsonl")
    assert {event.f for event in events} == {"add", "read"} and len(operations(events)) > 20
    assert main(["check", "linearizable", str(folder)]) == 0
    assert main(["check", "durability", str(folder)]) == 0
    assert main(["scenario", "replay", str(folder)]) == 2
    assert "no trace" in capsys.readouterr().err


def test_a_replica_applies_only_link_filters_signed_with_its_own_key(tmp_path: Path) -> None:
    genesis, keys = local_genesis(4, "link-control")
    runtime = ReplicaRuntime(genesis, 0, keys[0], tmp_path)
    try:
        first = link_control(keys[0], 0, [2, 1], sequence=10)
        assert runtime._link_control(first) == LinkControlReply(10, True, "")
        assert runtime.mesh._blocked == {1, 2}
        refusals = [
            (first, "sequence 10 is not above 10"),  # a replayed filter
            (link_control(keys[1], 0, [], sequence=11), "not signed with this replica's node key"),
            (link_control(keys[1], 1, [], sequence=12), "addressed to replica 1, this is 0"),
            (link_control(keys[0], 0, [0], sequence=13), "no peer 0 to block"),
            (link_control(keys[0], 0, [4], sequence=14), "no peer 4 to block"),
        ]
        for message, reason in refusals:
            reply = runtime._link_control(message)
            assert not reply.applied and reply.reason == reason
            assert runtime.mesh._blocked == {1, 2}
        assert runtime._link_control(link_control(keys[0], 0, [], sequence=20)).applied
        assert runtime.mesh._blocked == set()
    finally:
        runtime.store.close()


NETWORK_SCENARIO = """\
name = "processes-network"
seed = 5
duration = "7s"
backend = "processes"

[subnet]
replicas = 4
block_time = "100ms"

[network]
loss = 0.05
duplication = 0.05

[[workload]]
kind = "counter"
clients = 3

[[fault]]
at = "1s"
kind = "latency"
delay = "250ms"
target = [0, 1]
duration = "2s"

[[fault]]
at = "1s"
kind = "clock-skew"
target = 3
offset = "-1s"
duration = "4s"

[checks]
liveness = "2s"
"""

FRAMES = re.compile(r"frames so far: (\d+) delayed, (\d+) lost, (\d+) duplicated")
FRAMES_ALL = re.compile(
    r"frames so far: (\d+) delayed, (\d+) lost, (\d+) duplicated, (\d+) muted, (\d+) garbled"
)


def test_latency_loss_duplication_and_a_slow_clock_through_the_control_channel(tmp_path: Path) -> None:
    outcome = run_on_processes(parse_scenario(NETWORK_SCENARIO), keep=tmp_path / "subnet")
    assert outcome.verdict == "valid", [check.summary for check in outcome.checks]
    actions = [(item["action"], item["replica"]) for item in outcome.nemesis]
    assert actions[0] == ("network", -1)  # [network] loss and duplication from the start
    assert sorted(actions[1:]) == [("clock-skew", 3), ("clock-skew", 3), ("latency", -1), ("latency", -1)]
    start = outcome.nemesis[0]["detail"]
    assert "3: blocks nobody, loss 0.05, duplication 0.05" in start
    latency = next(item["detail"] for item in outcome.nemesis if item["action"] == "latency")
    assert "0: blocks nobody, +250ms, loss 0.05" in latency and "2: already" in latency  # unchanged
    # Each replica's transport counted what its conditions did, logged when they changed.
    counts = {index: [int(n) for n in FRAMES.findall(log)[-1]] for index, log in outcome.logs.items()}
    assert all(lost > 0 and doubled > 0 for _, lost, doubled in counts.values()), counts
    assert counts[0][0] > 0 and counts[1][0] > 0 and counts[2][0] == 0 == counts[3][0], counts
    # Replica 3's clock ran 1 s slow: the blocks it made meanwhile are stamped one
    # nanosecond after their parents (time never goes back), and no honest clock does that.
    ids = list(outcome.record.genesis.node_ids)
    chain = outcome.record.chain(0)
    assert all(b.timestamp > a.timestamp for a, b in zip(chain, chain[1:]))
    just_after = {ids.index(b.proposer) for a, b in zip(chain, chain[1:]) if b.timestamp == a.timestamp + 1}
    assert just_after == {3}, just_after


def test_the_motoko_counter_workload_on_processes(tmp_path: Path) -> None:
    """``canister-counter``: moc's counter installed at the start, incremented and read
    over TCP while a replica crashes (the shipped scenario). Installing moc's 240 KB module
    costs each replica seconds of compilation on a loaded machine, hence its 9 s."""
    outcome = run_on_processes(parse_scenario((SHIPPED / "canister-counter-crash.toml").read_text()))
    assert outcome.verdict == "valid", [check.summary for check in outcome.checks]
    history = outcome.record.history
    assert history is not None and history.config.kind == "canister-counter"
    ops = operations(history.events)
    adds = [op for op in ops if op.known and op.f == "add"]
    reads = [op for op in ops if op.known and op.f == "read"]
    assert len(adds) > 5 and len(reads) > 5 and all(op.input == 1 for op in adds)
    # The canister's Candid count: at least the increments acknowledged before the read began.
    for read in reads:
        assert read.output >= sum(1 for op in adds if op.ret is not None and op.ret < read.call)
    assert [item["action"] for item in outcome.nemesis] == ["kill", "restart"]


def test_garbage_signatures_and_a_mute_replica_through_the_control_channel() -> None:
    """The shipped ``mute-and-garble``: replica 1 garbles its signatures, then replica 2
    sends nothing; both are left out of the checks, which hold for the other two."""
    outcome = run_on_processes(parse_scenario((SHIPPED / "mute-and-garble.toml").read_text()))
    assert outcome.verdict == "valid", [check.summary for check in outcome.checks]
    assert outcome.record.byzantine == {1: None, 2: None}
    actions = [(item["action"], item["replica"]) for item in outcome.nemesis]
    assert actions == [
        ("byzantine garbage", 1),
        ("byzantine honest", 1),
        ("byzantine silent", 2),
        ("byzantine honest", 2),
    ]
    assert "1: blocks nobody, garbage" in outcome.nemesis[0]["detail"]
    counts = {index: FRAMES_ALL.findall(log)[-1] for index, log in outcome.logs.items()}
    garbled = {index: int(found[4]) for index, found in counts.items()}
    muted = {index: int(found[3]) for index, found in counts.items()}
    assert garbled[1] > 0 and muted[2] > 0, counts
    assert garbled[0] == garbled[2] == garbled[3] == 0 and muted[0] == muted[1] == muted[3] == 0
    # The others kept finalizing while replica 2 was mute.
    polled = outcome.heights
    during = [sample["heights"][0] or 0 for sample in polled if 4.2 <= sample["time_s"] <= 6.0]
    assert during and during[-1] > during[0]


def test_an_equivocator_a_double_voter_and_a_wrong_execution_on_processes() -> None:
    """The shipped ``byzantine-replica``: replica 0 runs the attacks the simulator runs
    (``node.byzantine``, ``node.consensus.icc.attacks``) when its operator switches it to
    them through the control channel; its log names each equivocation, double vote and
    lying certification share, and the honest three agree, keep certifying, stay live and
    keep the counter linearizable."""
    outcome = run_on_processes(parse_scenario((SHIPPED / "byzantine-replica.toml").read_text()))
    assert outcome.verdict == "valid", [check.summary for check in outcome.checks]
    assert outcome.record.byzantine == {0: None}
    actions = [(item["action"], item["replica"]) for item in outcome.nemesis]
    assert actions == [
        ("byzantine equivocator", 0),
        ("byzantine honest", 0),
        ("byzantine double-voter", 0),
        ("byzantine honest", 0),
        ("byzantine wrong-execution", 0),
        ("byzantine honest", 0),
    ]
    kinds = ("equivocate", "double_vote", "wrong_execution")
    attacks = {
        index: [log.count(f"attack: {kind} ") for kind in kinds] for index, log in outcome.logs.items()
    }
    assert all(count > 0 for count in attacks[0]), attacks
    assert all(attacks[index] == [0, 0, 0] for index in (1, 2, 3)), attacks


def test_upgrades_under_load_on_processes() -> None:
    """The shipped ``upgrade-under-load`` on processes: the clients' controller upgrades
    their canister under load, as the simulator's does. The upgrade that keeps state
    replies, the trapping one is rejected and leaves no trace, and every replica's stored
    chain ends on the same module."""
    outcome = run_on_processes(parse_scenario((SHIPPED / "upgrade-under-load.toml").read_text()))
    assert outcome.verdict == "valid", [check.summary for check in outcome.checks]
    history = outcome.record.history
    assert history is not None
    assert [(item["module"], item["outcome"]) for item in history.upgrades] == [
        ("keeps-state", "replied"),
        ("traps", "rejected"),
    ]
    assert "trap" in history.upgrades[1]["reject"].lower(), history.upgrades[1]
    (upgrade,) = [check for check in outcome.checks if check.name == "upgrade"]
    kept = history.upgrades[0]["module_hash"]
    assert upgrade.evidence["module_hashes"] == {str(node): kept for node in range(4)}


def test_the_upgrade_that_loses_state_is_caught_on_processes() -> None:
    """The shipped ``bug-upgrade-loses-state`` on processes: its upgrade replies, every
    replica runs the new module, and the counter history is no longer linearizable."""
    broken = run_on_processes(parse_scenario((SHIPPED / "bug-upgrade-loses-state.toml").read_text()))
    verdicts = {check.name: check.verdict for check in broken.checks}
    assert broken.verdict == "invalid" and verdicts["linearizable"] == "invalid", verdicts
    assert verdicts["agreement"] == verdicts["convergence"] == verdicts["upgrade"] == "valid", verdicts


def test_twins_on_processes_a_second_process_with_one_key() -> None:
    """The shipped ``twins`` on processes: a twin of replica 0 (a second process with its
    key, started from a copy of its disk) talks to replica 3 while the original talks to
    1 and 2 (link filters, and replica 3 dials the twin instead); the twin keeps up with
    the chain through replica 3 alone, and the honest three agree and stay live."""
    outcome = run_on_processes(parse_scenario((SHIPPED / "twins.toml").read_text()))
    assert outcome.verdict == "valid", [check.summary for check in outcome.checks]
    assert outcome.record.byzantine == {0: None}
    start, end = outcome.nemesis
    assert start["action"] == "byzantine twins" and end["action"] == "byzantine honest"
    assert "0: blocks [3]" in start["detail"] and re.search(
        r"3: blocks nobody, peer 0 at 127\.0\.0\.1:\d+", start["detail"]
    )
    assert "3: blocks nobody;" in end["detail"] + ";" and "peer 0 at" not in end["detail"]
    (twin,) = outcome.twins.values()
    restored = int(re.search(r"restored to height (\d+)", twin["log"]).group(1))  # type: ignore[union-attr]
    assert "blocking [1, 2]" in twin["log"]
    # cut off from 1 and 2, it followed the chain through replica 3 alone
    assert twin["finalized_height"] > restored, (restored, twin["finalized_height"])
