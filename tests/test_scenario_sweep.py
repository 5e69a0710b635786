"""The random nemesis (a schedule drawn from the seed within bounds), seed sweeps over a
local process pool with a table of verdicts, and the plots of a results folder."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from subnet.cli import main
from subnet.scenario import ScenarioError, parse_scenario, run_scenario
from subnet.scenario.nemesis import concrete_faults
from subnet.scenario.results import scenario_toml
from subnet.scenario.schedule import compile_faults
from subnet.scenario.sweep import parse_seeds, sweep

SHIPPED = Path(__file__).resolve().parent.parent / "subnet" / "scenarios"

RANDOM = """\
name = "r"
seed = {seed}
duration = "20s"

[subnet]
replicas = {replicas}

[[fault]]
at = "1s"
kind = "random"
duration = "15s"
count = {count}
{extra}
"""


def random_scenario(seed: int = 1, replicas: int = 4, count: int = 12, extra: str = ""):
    return parse_scenario(RANDOM.format(seed=seed, replicas=replicas, count=count, extra=extra))


def faulty_at(faults, time_ns: int) -> set[int]:
    down: set[int] = set()
    for fault in faults:
        if fault.at_ns <= time_ns < fault.end_ns and fault.kind in ("crash", "pause", "partition"):
            down |= {fault.target} if isinstance(fault.target, int) else set(fault.target)
    return down


@pytest.mark.parametrize("replicas", [4, 7])
def test_a_random_nemesis_stays_within_its_bounds_for_every_seed(replicas: int) -> None:
    f = (replicas - 1) // 3
    for seed in range(40):
        scenario = random_scenario(seed, replicas)
        faults = [item.fault for item in concrete_faults(scenario)]
        assert 1 <= len(faults) <= 12
        for fault in faults:
            assert 1_000_000_000 <= fault.at_ns < fault.end_ns <= 16_000_000_000
            assert 500_000_000 <= fault.duration_ns <= 3_000_000_000 or fault.end_ns == 16_000_000_000
            assert fault.at_ns % 1_000_000 == 0 and fault.duration_ns % 1_000_000 == 0
        for fault in faults:  # the fault count can only change at a start
            assert len(faulty_at(faults, fault.at_ns)) <= f
        partitions = sorted((fault.at_ns, fault.end_ns) for fault in faults if fault.kind == "partition")
        assert all(a[1] <= b[0] for a, b in zip(partitions, partitions[1:]))


def test_the_same_seed_draws_the_same_schedule_and_another_seed_another() -> None:
    first = compile_faults(random_scenario(5)).resolved
    assert first == compile_faults(random_scenario(5)).resolved
    assert first != compile_faults(random_scenario(6)).resolved
    assert all(line.startswith("random fault[0] #") for line in first)


def test_max_faulty_and_kinds_bound_the_draws() -> None:
    scenario = random_scenario(3, 7, 30, 'kinds = ["crash"]\nmax_faulty = 1')
    faults = [item.fault for item in concrete_faults(scenario)]
    assert faults and {fault.kind for fault in faults} == {"crash"}
    assert all(len(faulty_at(faults, fault.at_ns)) <= 1 for fault in faults)
    resolved = compile_faults(scenario).resolved
    if len(faults) < 30:
        assert f"drew {len(faults)} of 30 faults within its bounds" in resolved[-1]
    none = random_scenario(3, 4, 5, 'kinds = ["crash", "pause"]\nmax_faulty = 0')
    assert concrete_faults(none) == []
    # The resolved file keeps the nemesis, not its draws: reading it back draws them again.
    assert parse_scenario(scenario_toml(scenario)) == scenario


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            'kinds = ["crash", "byzantine"]',
            "fault[0].kinds: 'byzantine' is not a kind a random nemesis draws",
        ),
        ('shortest = "20s"', "fault[0].shortest: is longer than the window (duration = 15s)"),
        ('shortest = "2s"\nlongest = "1s"', "fault[0].longest: must be at least shortest (2s)"),
        ("max_faulty = 9", "fault[0].max_faulty: must be in [0, 4], not 9"),
        ("target = 1", "fault[0].target: does not apply to a random fault"),
    ],
)
def test_random_nemesis_errors_name_key_and_line(extra: str, expected: str) -> None:
    with pytest.raises(ScenarioError) as error:
        random_scenario(extra=extra)
    assert expected in str(error.value) and str(error.value).startswith("line ")
    with pytest.raises(ScenarioError, match="fault\\[0\\]: a random fault needs a duration"):
        parse_scenario(RANDOM.format(seed=1, replicas=4, count=1, extra="").replace('duration = "15s"\n', ""))


def test_the_shipped_random_scenario_runs_valid() -> None:
    outcome = run_scenario(parse_scenario((SHIPPED / "random-swarm.toml").read_text()))
    assert outcome.verdict == "valid", [check.summary for check in outcome.checks]
    assert len(outcome.schedule.resolved) >= 3


def test_parse_seeds() -> None:
    assert parse_seeds("1..3") == [1, 2, 3] and parse_seeds("1-3,7, 2") == [1, 2, 3, 7]
    for bad in ("", "3..1", "a", "1..2..3", "0-200000"):
        with pytest.raises(ValueError):
            parse_seeds(bad)


def test_a_sweep_in_a_pool_gives_the_verdicts_of_single_runs() -> None:
    text = (SHIPPED / "minority-partition.toml").read_text().replace('liveness = "3s"', 'liveness = "1s"')
    pooled = sweep(text, [4, 2, 3], jobs=2)
    assert [result.seed for result in pooled] == [4, 2, 3]
    alone = sweep(text, [2], jobs=1)[0]
    assert pooled[1].trace_hash == alone.trace_hash and pooled[1].verdict == alone.verdict == "valid"
    assert len({result.trace_hash for result in pooled}) == 3


def test_the_sweep_command_lists_failing_seeds_with_their_replay(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "bug.toml"
    file.write_text((SHIPPED / "bug-wrong-execution.toml").read_text())
    assert main(["scenario", "sweep", str(file), "--seeds", "1,2", "--jobs", "2"]) == 1
    out = capsys.readouterr().out
    assert "seed" in out and "invalid" in out and "convergence: invalid" in out
    assert f"replay: subnet scenario run {file} --seed 1" in out
    assert f"replay: subnet scenario run {file} --seed 2" in out
    assert main(["scenario", "sweep", str(file), "--seeds", "1", "--output", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["verdict"] == "invalid" and data["seeds"][0]["failing"] == ["convergence: invalid"]
    assert main(["scenario", "sweep", str(file), "--seeds", "9..1"]) == 2
    assert "--seeds 9..1" in capsys.readouterr().err
    if importlib.util.find_spec("distributed") is None:
        assert main(["scenario", "sweep", str(file), "--seeds", "1", "--scheduler", "tcp://127.0.0.1:1"]) == 2
        assert "--scheduler needs dask.distributed" in capsys.readouterr().err


def test_the_results_folder_has_plots_with_fault_windows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("matplotlib")
    assert main(["scenario", "run", "counter-partition", "--results", str(tmp_path), "--output", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    folder = Path(data["results"])
    assert data["plots"] == ["timeline.png", "latency-cdf.png"]
    for name in data["plots"]:
        assert (folder / name).read_bytes().startswith(b"\x89PNG")


def test_a_sweep_on_a_local_dask_cluster_matches_the_pool(capsys: pytest.CaptureFixture[str]) -> None:
    distributed = pytest.importorskip("distributed")
    text = (SHIPPED / "minority-partition.toml").read_text().replace('liveness = "3s"', 'liveness = "1s"')
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        on_dask = sweep(text, [2, 3], scheduler=cluster.scheduler_address)
        assert (
            main(
                [
                    "scenario",
                    "sweep",
                    "minority-partition",
                    "--seeds",
                    "2",
                    "--scheduler",
                    cluster.scheduler_address,
                ]
            )
            == 0
        )
    assert f"--scheduler {cluster.scheduler_address}" in capsys.readouterr().out
    assert [result.trace_hash for result in on_dask] == [
        result.trace_hash for result in sweep(text, [2, 3], jobs=1)
    ]
