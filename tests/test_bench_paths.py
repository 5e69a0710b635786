"""`python -m bench paths` end to end on four replica processes, briefly: every Sui path and
the open-loop sweep run, the shared counters equal the increments on every replica, the
owned transfers took the fast path, and the report and plots are written. (Numbers are
the benchmark's business, not asserted here.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import paths

pytestmark = pytest.mark.slow  # replica processes: the slow tier (tests/README.md)


def test_bench_paths_measures_every_sui_path_and_writes_plots(tmp_path: Path) -> None:
    code = paths.main(
        [
            "--replicas",
            "4",
            "--clients",
            "2",
            "--duration",
            "1",
            "--no-canister",
            "--rates",
            "4",
            "--out",
            str(tmp_path),
            "--output",
            "json",
        ]
    )
    assert code == 0
    report = json.loads((tmp_path / "report.json").read_text())
    assert set(report["paths"]) == {"immutable-read", "dev-inspect", "owned-transfer", "shared-increment"}
    for row in report["paths"].values():
        assert row["ok"] > 0 and row["errors"] == 0, row
        assert row["p50_ms"] <= row["p99_ms"] <= row["p999_ms"]
    assert report["check_shared_counters_equal_increments"] is True
    assert [p["offered_per_s"] for p in report["sweeps"]["owned-transfer"]] == [4.0]
    assert set(report["targets"]) >= {"fast_latency", "fast_throughput", "read_throughput"}
    assert (tmp_path / "latency-cdf.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "offered-load.png").stat().st_size > 1000
