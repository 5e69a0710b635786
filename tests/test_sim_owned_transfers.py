"""The ``owned-transfer`` workload (issues 13 and 14): clients run owned-object transactions
through the Sui fast path as messages of the simulated network, their history is checked,
and each path's latency is reported in message delays. Virtual time only."""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path

import pytest

from subnet.checks.history import Event
from subnet.cli import main
from subnet.scenario import ScenarioError, parse_scenario, run_scenario
from subnet.scenario.checks import durability, linearizable
from subnet.sim.clients import ClientsConfig
from subnet.sim.faults import Crash, Restart, SetBehaviour
from subnet.sim.latency import parse_latency
from subnet.sim.path_latency import latency_report, percentile
from subnet.sim.runner import SECOND, SimConfig, Simulation

SHIPPED = Path(__file__).resolve().parent.parent / "subnet" / "scenarios"
MS = 1_000_000


def owned(seed: int = 3, duration_s: int = 5, clients: int = 3, **config: object) -> Simulation:
    options: dict[str, object] = {"workload": None, "keep_trace": True}
    options.update(config)
    return Simulation(
        SimConfig(
            replicas=4,
            seed=seed,
            duration_ns=duration_s * SECOND,
            clients=ClientsConfig("owned-transfer", clients=clients, keys=2),
            **options,  # type: ignore[arg-type]
        )
    )


def ok_times(events: list[Event]) -> list[float]:
    return [event.time / SECOND for event in events if event.type == "ok"]


def test_owned_transfers_are_final_without_any_block() -> None:
    """With blocks an hour apart no height is ever finalized, yet the owned transfers are
    final: each took four message delays or so, and every step was a network message."""
    sim = owned(genesis_params={"block_interval_ns": 3600 * SECOND})
    sim.run()
    assert max(len(disk.finalized) for disk in sim.disks) == 0
    clients = sim.clients
    assert clients is not None
    outcomes = Counter(event.type for event in clients.events if event.type != "invoke")
    assert outcomes["ok"] > 50 and outcomes["info"] == 0
    assert linearizable(sim, 1_000_000).verdict == "valid"
    report = latency_report(clients.events, "owned-transfer", sim.config.latency.mean_delay_ns(4))
    fast = report["fast"]
    assert 4.0 <= fast["p50_delays"] <= 6.0 and fast["p99_delays"] < 9, fast
    trace = sim.trace.lines
    kinds = Counter(json.loads(line)[1] for line in trace)
    # Per operation: a request to each of the 4 replicas, twice (transaction, certificate).
    assert kinds["fast_send"] >= 8 * outcomes["ok"]
    assert kinds["vote_request"] >= 4 * outcomes["ok"] and kinds["certificate"] >= 4 * outcomes["ok"]
    assert kinds["fast_final"] == outcomes["ok"] + outcomes["fail"] + 2  # + the setup's publish and create


def test_the_fast_path_takes_a_few_message_delays_and_consensus_many(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`subnet sim --workload` reports each path's latency; the history checks pass."""
    reports = {}
    for workload in ("owned-transfer", "shared-counter"):
        args = ["sim", "--workload", workload, "--duration", "4", "--seed", "2", "--output", "json"]
        assert main(args) == 0
        data = json.loads(capsys.readouterr().out)
        history = data["history"]
        assert {name: check["verdict"] for name, check in history["checks"].items()} == {
            "durability": "valid",
            "linearizable": "valid",
        }
        reports.update(history["latency"])
    assert history["workload"] == "sui-counter"  # shared-counter is its other name
    fast, consensus = reports["fast"], reports["consensus"]
    assert fast["mean_delay_ms"] == consensus["mean_delay_ms"] == 15.0  # uniform:5ms:25ms
    assert 4.0 <= fast["p50_delays"] <= 6.0, fast
    assert consensus["p50_delays"] > 2 * fast["p50_delays"], (fast, consensus)
    # Every link 50 ms: each operation takes exactly the protocol's four one-way hops.
    args = [
        "sim",
        "--workload",
        "owned-transfer",
        "--latency",
        "constant:50ms",
        "--duration",
        "4",
        "--clients",
        "2",
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "latency fast:        p50 200 ms (4 message delays), p99 200 ms (4) over" in out
    assert "1 delay = 50 ms" in out and "linearizable:        valid" in out


def test_one_crashed_replica_leaves_a_quorum_and_the_transfers_go_on() -> None:
    text = (SHIPPED / "owned-transfer-crash.toml").read_text()
    text = text.replace('duration = "10s"', 'duration = "7s"').replace('at = "3s"', 'at = "2s"')
    outcome = run_scenario(parse_scenario(text))
    assert outcome.verdict == "valid", [(check.name, check.summary) for check in outcome.checks]
    (crashed,) = [line for line in outcome.schedule.resolved if line.startswith("crash")]
    sim = outcome.simulation
    assert sim.clients is not None
    during = [t for t in ok_times(sim.clients.events) if 2.1 < t < 4.9]
    assert len(during) > 30, crashed  # 3 of 4 is a quorum: no pause at all
    assert {check.name for check in outcome.checks} >= {"durability", "linearizable"}


def test_a_two_two_partition_stops_the_transfers_until_the_heal() -> None:
    text = (SHIPPED / "owned-transfer-partition.toml").read_text()
    text = text.replace('duration = "10s"', 'duration = "8s"').replace('at = "3s"', 'at = "2s"')
    outcome = run_scenario(parse_scenario(text))
    assert outcome.verdict == "valid", [(check.name, check.summary) for check in outcome.checks]
    sim = outcome.simulation
    assert sim.clients is not None
    events = sim.clients.events
    oks = ok_times(events)
    assert [t for t in oks if 2.1 < t < 5.0] == []  # no half holds 2f+1 replicas
    assert [t for t in oks if t < 2.0] and [
        t for t in oks if 5.0 <= t < 6.0
    ]  # before, and soon after the heal
    infos = [event.time / SECOND for event in events if event.type == "info"]
    assert infos and all(2.0 < t < 5.0 for t in infos)  # timed out meanwhile (timeout 2s)
    assert sim.clients.stats["final_after_timeout"] == len(infos)  # and finished after the heal


def test_the_same_seed_gives_the_same_trace_also_with_loss_and_duplication() -> None:
    runs = [owned(seed=9, duration_s=4, loss=0.05, duplication=0.05) for _ in range(2)]
    hashes = [sim.run().trace_hash for sim in runs]
    assert hashes[0] == hashes[1]
    assert owned(seed=10, duration_s=3).run().trace_hash != hashes[0]
    sim = runs[0]
    assert sim.clients is not None and sim.clients.stats["fast_retries"] > 0  # lost messages were asked again
    assert durability(sim).verdict == "valid" and linearizable(sim, 1_000_000).verdict == "valid"


def test_scenario_file_rules_for_owned_transfers() -> None:
    base = 'name = "x"\nduration = "8s"\n\n[[workload]]\nkind = "{kind}"\n'
    assert parse_scenario(base.format(kind="shared-counter")).workloads[0].kind == "sui-counter"
    scenario = parse_scenario(base.format(kind="owned-transfer"))
    assert scenario.checks.durability and scenario.checks.linearizable  # a history: checked by default
    with pytest.raises(
        ScenarioError, match="line 6: workload.0..kind: the owned-transfer workload runs on the sim"
    ):
        parse_scenario('backend = "processes"\n' + base.format(kind="owned-transfer"))
    with pytest.raises(ScenarioError, match="fault.0..kind: an upgrade upgrades the clients' canister"):
        parse_scenario(base.format(kind="owned-transfer") + '[[fault]]\nat = "1s"\nkind = "upgrade"\n')


def test_mean_delays_and_percentiles_against_hand_computed_values() -> None:
    assert parse_latency("uniform:5ms:25ms").mean_delay_ns(4) == 15 * MS
    assert parse_latency("constant:8ms").mean_delay_ns(4) == 8 * MS
    assert parse_latency("bimodal:0.25:10ms:50ms:0").mean_delay_ns(4) == 40 * MS
    assert parse_latency("matrix:0,10ms,20ms;10ms,0,30ms;20ms,30ms,0").mean_delay_ns(3) == 20 * MS
    # Truncated at 0: E[max(0, X)], X ~ N(5, 10) ms = 5 Phi(0.5) + 10 phi(0.5) = 6.97797 ms.
    assert math.isclose(parse_latency("normal:5ms:10ms").mean_delay_ns(4), 6.97797 * MS, rel_tol=1e-5)
    assert [percentile(list(range(1, 101)), p) for p in (50, 99, 100)] == [50, 99, 100]
    events = [
        Event(0, 0, "invoke", "read", 1, None, 0),
        Event(1, 1, "invoke", "write", 1, 4, 10 * MS),
        Event(2, 0, "ok", "read", 1, None, 60 * MS),
        Event(3, 1, "info", "write", 1, None, 5000 * MS),
        Event(4, 0, "invoke", "read", 1, None, 6000 * MS),
        Event(5, 0, "ok", "read", 1, 4, 6090 * MS),
    ]
    report = latency_report(events, "owned-transfer", 15 * MS)
    assert report == {
        "fast": {
            "operations": 2,
            "mean_delay_ms": 15.0,
            "p50_ms": 60.0,
            "p50_delays": 4.0,
            "p99_ms": 90.0,
            "p99_delays": 6.0,
        }
    }


def test_a_garbage_signer_is_refused_by_the_clients_and_a_silent_one_ignored() -> None:
    """Byzantine replicas reach the fast path too: one signing its votes and effects with
    random bytes is refused by the clients' checks (the other three make the quorum); one
    mute replica and one crashed leave two, and nothing is final until the crash ends."""
    sim = owned(seed=4, duration_s=3, clients=2, behaviours={1: "garbage"})
    sim.run()
    assert sim.clients is not None and sim.clients.stats["fast_refused:InvalidSignature"] > 10
    assert durability(sim).verdict == "valid" and linearizable(sim, 1_000_000).verdict == "valid"

    sim = owned(
        seed=4,
        duration_s=5,
        clients=2,
        faults=(
            SetBehaviour(1 * SECOND, 1, "silent"),
            Crash(1 * SECOND, 2),
            SetBehaviour(3 * SECOND, 1, "honest"),
            Restart(3 * SECOND, 2),
        ),
    )
    sim.run()
    assert sim.clients is not None
    oks = ok_times(sim.clients.events)
    assert [t for t in oks if 1.1 < t < 3.0] == [] and [t for t in oks if 3.0 < t < 4.5]


def _ok_gaps(events: list[Event]) -> dict[int, tuple[float, float, float]]:
    """Per key: (longest gap between two oks, where it starts, the last ok), in seconds."""
    times: dict[int, list[float]] = {}
    for event in events:
        if event.type == "ok":
            times.setdefault(int(event.key), []).append(event.time / SECOND)  # type: ignore[arg-type]
    gaps = {}
    for key, found in times.items():
        gap, start = max((b - a, a) for a, b in zip(found, found[1:]))
        gaps[key] = (gap, start, found[-1])
    return gaps


def test_equivocating_clients_lock_a_register_until_the_epoch_ends() -> None:
    """Two clients with one wallet's keys race on one version: a 2/2 split of the votes
    certifies neither, both are abandoned (fail), and the register is locked until the
    epoch changes; with a day-long epoch it stays locked to the end of the run."""
    text = (SHIPPED / "owned-transfer-equivocation.toml").read_text()
    outcome = run_scenario(parse_scenario(text))
    assert outcome.verdict == "valid", [(check.name, check.summary) for check in outcome.checks]
    clients = outcome.simulation.clients
    assert clients is not None
    assert clients.stats["fast_refused:ObjectLockConflict"] > 0 and clients.stats["abandoned"] > 0
    assert any(e.type == "fail" and e.value is None for e in clients.events)  # abandoned: did not happen
    gaps = _ok_gaps(clients.events)
    assert any(gap > 1.0 and last > start + gap for gap, start, last in gaps.values()), (
        gaps
    )  # locked, then free

    outcome = run_scenario(parse_scenario(text.replace('epoch = "3s"\n', "")))
    assert outcome.verdict == "valid", [(check.name, check.summary) for check in outcome.checks]
    clients = outcome.simulation.clients
    assert clients is not None
    last_oks = [last for _, _, last in _ok_gaps(clients.events).values()]
    assert min(last_oks) < 4.0 < max(last_oks)  # one register locked for good, the other going on


def test_equivocation_and_epoch_keys_are_checked() -> None:
    base = 'name = "x"\nduration = "8s"\n\n[[workload]]\nkind = "{kind}"\nclients = 4\n{extra}'
    with pytest.raises(
        ScenarioError, match=r"line 7: workload\[0\].equivocators: must be in \[0, 2\], not 3"
    ):
        parse_scenario(base.format(kind="owned-transfer", extra="equivocators = 3\n"))
    with pytest.raises(
        ScenarioError, match="equivocators: applies to the owned-transfer workload, not register"
    ):
        parse_scenario(base.format(kind="register", extra="equivocators = 1\n"))
    with pytest.raises(ScenarioError, match=r"subnet.epoch: '3' has no unit"):
        parse_scenario('name = "x"\nduration = "8s"\n[subnet]\nepoch = "3"\n')
    scenario = parse_scenario('name = "x"\nduration = "8s"\n[subnet]\nepoch = "3s"\n')
    assert scenario.subnet.epoch_ns == 3 * SECOND
