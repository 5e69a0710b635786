"""`python -m bench consensus` works on tiny inputs, and its load shapes do what they say.

Counts and checks only, never timings: a loaded test machine would make any timed
assertion flaky, and the numbers are the benchmark's to report.
"""

from __future__ import annotations

import json

import pytest
import trio

from bench import __main__ as bench_main
from bench._load import Window, open_loop, percentile, saturation
from bench._raft_peer import PeerMissing, require


def test_percentile_is_the_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile(values, 100) == 100.0
    assert percentile([3.0], 99) == 3.0
    assert percentile([], 50) != percentile([], 50)  # NaN


def test_saturation_doubles_then_bisects_to_the_last_rate_that_held() -> None:
    # A service whose p99 is 0.5 s up to 1,300 requests/s and 5 s above.
    tried: list[float] = []

    async def run_at(rate: float) -> Window:
        tried.append(rate)
        window = Window(f"open {rate}", [])
        window.offered = 100
        window.latencies = [0.5 if rate <= 1300 else 5.0] * 100
        return window

    best, windows = trio.run(saturation, run_at, 1.0, 250.0, 100_000.0)
    assert tried[:4] == [250.0, 500.0, 1000.0, 2000.0]
    assert tried[4:] == [1500, 1250, 1375]
    assert best == 1250 and len(windows) == 7


def test_saturation_counts_unanswered_requests_as_failing() -> None:
    async def run_at(rate: float) -> Window:
        window = Window("x", [])
        window.offered = 100
        window.latencies = [0.1] * (100 if rate < 400 else 90)  # 10% never answered
        return window

    best, _ = trio.run(saturation, run_at, 1.0, 100.0, 10_000.0)
    assert best == 375  # 100, 200 hold, 400 fails; 300, 350, 375 hold


def test_open_loop_issues_the_offered_requests_and_times_them_from_their_due_time() -> None:
    calls = 0

    async def request() -> bool:
        nonlocal calls
        calls += 1
        number = calls
        await trio.sleep(0.01)
        return number % 5 != 0  # every fifth fails

    window = Window("open", [])
    trio.run(open_loop, window, 200.0, 0.25, 1.0, request)
    assert window.offered == calls == 50
    assert len(window.latencies) == 40 and window.failures == 10
    assert all(latency >= 0.01 for latency in window.latencies)
    report = window.report(100.0)
    assert report["operations"] == 40 and report["ops_per_s"] == 160.0


@pytest.mark.slow  # four replica processes: the slow tier (tests/README.md)
def test_the_consensus_benchmark_runs_closed_and_open_loop_on_tiny_inputs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = bench_main.main(
        ["consensus", "--duration", "0.5", "--clients", "2", "--rate", "20", "--output", "json"]
    )
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    closed, opened = report["subnet"]["loads"]
    assert closed["load"] == "closed 2" and closed["operations"] > 0 and closed["failures"] == 0
    assert opened["load"] == "open 20/s" and opened["operations"] + opened["failures"] == 10
    for load in (closed, opened):
        assert load["cpu_ms_per_op_service"] > 0 and load["cpu_ms_per_op_client"] >= 0
        assert load["latency_p50_ms"] <= load["latency_p99_ms"]
    assert report["signature_floor_ms_per_op"] == round(
        4 / report["ed25519_verifications_per_cpu_s"] * 1000, 3
    )


def test_the_pysyncobj_peer_counts_every_acknowledged_increment_on_every_node(
    capsys: pytest.CaptureFixture[str],
) -> None:
    try:
        require()
    except PeerMissing as exc:
        pytest.skip(str(exc))
    import argparse

    from bench._raft_peer import run

    args = argparse.Namespace(clients=[8], rate=[40], sweep=False, duration=0.5, sweep_start=0, sweep_max=0)
    report = run(3, args, 100.0)
    closed, opened = report["loads"]
    assert closed["operations"] > 0 and opened["operations"] + opened["failures"] == 20
    assert report["check_all_counters_equal_acknowledged"] is True
    assert closed["counters"] == [closed["acknowledged_total"]] * 3
    assert opened["counters"] == [closed["operations"] + opened["operations"]] * 3
