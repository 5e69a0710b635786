"""A smoke test of `python -m bench move`: it runs end to end at a tiny size and its report
is complete; the benchmark itself checks that the Move counter counted every call. No timing
is asserted (a loaded test machine would make that flaky)."""

from __future__ import annotations

import json

import pytest

from bench import __main__ as bench_main
from bench.execution import COUNTER
from client.motoko import NodeNotFound, compile_motoko


def test_move_benchmark_reports(capsys: pytest.CaptureFixture[str]) -> None:
    try:
        compile_motoko(COUNTER)  # warms the cache; skips without Node.js
    except NodeNotFound as exc:
        pytest.skip(str(exc))
    assert bench_main.main(["move", "--calls", "20", "--rounds", "2", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["calls"] == 40
    assert report["framework_modules"] >= 20
    assert set(report["build_examples_s"]) == {"counter", "owned"}
    assert report["move_increment_gas"] > 0
    assert report["move_increments_per_second"] > 0 and report["motoko_updates_per_second"] > 0
