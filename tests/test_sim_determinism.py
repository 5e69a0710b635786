"""Simulated runs are reproducible from their seed, across processes and hash seeds; the
network models and the `subnet sim` command behave."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from subnet.cli import main
from subnet.sim.faults import Crash, Restart
from subnet.sim.latency import (
    Bimodal,
    Constant,
    LatencySpecError,
    Matrix,
    Normal,
    Uniform,
    parse_duration_ns,
    parse_latency,
)
from subnet.sim.network import SimNetwork
from subnet.sim.runner import SECOND, SimConfig, Simulation

ROOT = Path(__file__).resolve().parent.parent


def sim_in_subprocess(seed: int, hash_seed: str) -> dict:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "subnet",
            "sim",
            "--replicas",
            "4",
            "--seed",
            str(seed),
            "--duration",
            "6",
            "--loss",
            "0.05",
            "--output",
            "json",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(completed.stdout)


@pytest.mark.slow  # three simulated runs in fresh interpreters: the slow tier (tests/README.md)
def test_same_seed_same_trace_in_separate_processes_with_different_hash_seeds() -> None:
    first = sim_in_subprocess(7, "1")
    second = sim_in_subprocess(7, "2024")
    assert first["trace_hash"] == second["trace_hash"]
    assert first["finalized_height"] == second["finalized_height"] > 10
    assert first["operations_executed"] == second["operations_executed"] > 0
    other = sim_in_subprocess(8, "1")
    assert other["trace_hash"] != first["trace_hash"]


def test_same_seed_same_trace_with_faults_in_process() -> None:
    def once(seed: int) -> tuple[str, list[str]]:
        config = SimConfig(
            replicas=4,
            seed=seed,
            duration_ns=6 * SECOND,
            loss=0.05,
            duplication=0.05,
            faults=[Crash(1 * SECOND, 3), Restart(3 * SECOND, 3)],
            behaviours={1: "garbage"},
            keep_trace=True,
        )
        sim = Simulation(config)
        result = sim.run()
        return result.trace_hash, sim.trace.lines

    hash_a, lines_a = once(3)
    hash_b, lines_b = once(3)
    assert hash_a == hash_b and lines_a == lines_b
    kinds = {json.loads(line)[1] for line in lines_a}
    assert {"send", "deliver", "proposed", "notarized", "finalized", "executed", "crash", "restart"} <= kinds
    assert once(4)[0] != hash_a


def test_latency_specs_parse_into_models() -> None:
    assert parse_duration_ns("10ms") == 10_000_000
    assert parse_duration_ns("1.5s") == 1_500_000_000
    assert parse_duration_ns("250us") == 250_000
    assert parse_duration_ns("7") == 7_000_000
    assert parse_latency("constant:10ms") == Constant(10_000_000)
    assert parse_latency("12ms") == Constant(12_000_000)
    assert parse_latency("uniform:5ms:20ms") == Uniform(5_000_000, 20_000_000)
    assert parse_latency("normal:20ms:5ms") == Normal(20_000_000, 5_000_000)
    bimodal = parse_latency("bimodal:0.9:10ms:200ms")
    assert isinstance(bimodal, Bimodal) and bimodal.first.mean_ns == 10_000_000
    assert parse_latency("matrix:1ms,2ms;3ms,4ms") == Matrix(((1_000_000, 2_000_000), (3_000_000, 4_000_000)))
    for bad in ("uniform:20ms:5ms", "bimodal:2:1ms:2ms", "normal:1ms", "wobbly:3", "matrix:", "uniform:a:b"):
        with pytest.raises(LatencySpecError):
            parse_latency(bad)


def test_latency_matrix_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "links.json"
    path.write_text(json.dumps([[0, 5], [10, 0]]))
    model = parse_latency(f"matrix:{path}")
    assert model.sample(random.Random(0), 1, 0) == 10_000_000


def test_network_models_loss_duplication_and_partitions() -> None:
    rng = random.Random(1)
    network = SimNetwork(4, rng, Uniform(1, 100), loss=0.5, duplication=0.5)
    outcomes = [len(network.delays(0, 1)) for _ in range(2000)]
    assert 0.4 < outcomes.count(0) / 2000 < 0.6
    assert outcomes.count(2) > 300
    assert all(1 <= d <= 100 for _ in range(100) for d in network.delays(0, 1))
    network = SimNetwork(4, rng, Constant(5))
    network.partition(((0, 1), (2,)))
    assert network.delays(0, 1) == [5] and network.delays(0, 2) == [] and network.delays(3, 2) == []
    network.heal()
    assert network.delays(0, 2) == [5]
    samples = [Normal(10, 3).sample(rng, 0, 1) for _ in range(200)]
    assert all(isinstance(sample, int) and sample >= 0 for sample in samples)


def test_the_sim_command(capsys) -> None:
    assert (
        main(["sim", "--replicas", "4", "--seed", "2", "--duration", "3", "--latency", "constant:10ms"]) == 0
    )
    out = capsys.readouterr().out
    assert "finalized height:" in out and "operations executed:" in out and "trace_hash:" in out
    assert main(["sim", "--replicas", "4", "--seed", "2", "--duration", "3", "--output", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["agreement"] is True and data["finalized_height"] >= 8 and len(data["trace_hash"]) == 64


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["sim", "--replicas", "0"], "at least 1"),
        (["sim", "--duration", "-3"], "duration"),
        (["sim", "--seed", "x"], "seed"),
        (["sim", "--loss", "1.5"], "probability"),
    ],
)
def test_the_sim_command_refuses_bad_arguments(capsys, argv: list[str], message: str) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code != 0
    assert message in capsys.readouterr().err


def test_the_sim_command_refuses_a_bad_latency_spec(capsys) -> None:
    assert main(["sim", "--latency", "uniform:9ms:1ms"]) == 2
    assert "--latency" in capsys.readouterr().err
    assert main(["sim", "--latency", "matrix:1ms,1ms;1ms,1ms"]) == 2
    assert "matrix" in capsys.readouterr().err


def test_the_documented_trace_hash_is_kept(capsys) -> None:
    """The reference run (the working rules' command): speed-ups of the simulator and the
    replica (reused state hashes for empty blocks, memoized decoding and hashing) must not
    change a trace. The Sui genesis (the framework's compiled modules) is part of the state
    hash, so a change to the framework or to its code generation moves it. History: 711c1ca8...
    before issue 17's 3 GiB default wasm_memory_limit; 0221cd6c... before the Sui store
    joined the state hash; 874a70ff... before enums/macros in the compiler and issue 12's
    code digests (for upgrade checks) and `sui::package::original_package_id` in the framework;
    16072370... before the Sui epoch in genesis and in the store's state hash, issue 13;
    0263b90a... before certification signed the IC-style state tree (time and certified data
    joined what replicas sign), issue 15.)"""
    assert main(["sim", "--replicas", "4", "--seed", "1", "--duration", "20", "--output", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["trace_hash"] == "c6002221e698ff526fb5297f2acb66e3111d8ba715f99daebd5ac64a8ae5c4de"
    assert data["speedup_cpu"] > 0 and data["speedup_wall"] > 0
