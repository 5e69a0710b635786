"""A smoke test of `python -m bench canister`: the benchmark runs end to end on four replica
processes at a tiny duration, and its report is complete and correct.

It checks counts and the correctness checks the benchmark makes (the final count equals
the successful increments, every query saw it), never timings: those are the benchmark's
to report, and a loaded test machine would make any timed assertion flaky.
"""

from __future__ import annotations

import json

import pytest

from bench import __main__ as bench_main
from bench import canister
from client.motoko import NodeNotFound, compile_motoko
from subnet import samples

pytestmark = pytest.mark.slow  # replica processes: the slow tier (tests/README.md)

PHASES = ("updates", "queries")


def test_canister_benchmark_reports_correct_counts(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    try:
        compile_motoko(samples.source("counter_v1"))  # warms the cache; skips without Node.js
    except NodeNotFound as exc:
        pytest.skip(str(exc))
    assert "canister" in bench_main.available()
    closed: list[canister.Agent] = []  # the agents themselves, kept alive so their ids stay distinct
    aclose = canister.Agent.aclose

    async def counting_aclose(self: canister.Agent) -> None:
        closed.append(self)
        await aclose(self)

    monkeypatch.setattr(canister.Agent, "aclose", counting_aclose)

    code = bench_main.main(["canister", "--replicas", "4", "--clients", "2", "--duration", "0.5", "--json"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)

    assert report["replicas"] == 4 and report["clients"] == 2
    # Every agent is closed inside the run: the setup agent, and each client's in each phase.
    assert len(closed) == len({id(agent) for agent in closed}) == 1 + 2 * len(PHASES)
    for phase in PHASES:
        assert report[f"{phase}_ok"] > 0, phase
        assert report[f"{phase}_errors"] == sum(report[f"{phase}_errors_by_kind"].values())
        assert report[f"{phase}_per_s"] > 0
        for key in ("p50", "p90", "p99"):
            assert report[f"{phase}_latency_{key}_ms"] > 0
        assert report[f"{phase}_client_cpu_us_per_call"] >= 0

    # Correctness: every successful increment counted once, every query saw the result.
    assert report["initial_count"] == 0
    assert report["final_count"] == report["updates_ok"]
    assert report["check_final_equals_successful_updates"] is True
    assert report["check_update_replies_distinct"] is True
    assert report["check_queries_return_final"] is True
    assert "WrongAnswer" not in report["queries_errors_by_kind"]
    assert sum(report["queries_by_replica"].values()) == report["queries_ok"]
    assert {"0", "1"} <= set(report["queries_by_replica"])  # two clients start at replicas 0 and 1

    # The targets are reported as met or missed, never asserted here.
    assert report["throughput_target"] in ("met", "missed")
    assert report["latency_target"] in ("met", "missed")
    for key in (
        "ed25519_verifications_per_s",
        "ed25519_signs_per_s",
        "wasm_queries_per_s_in_process",
        "wasm_updates_per_s_in_process",
        "loopback_round_trip_us",
        "loopback_connect_and_round_trip_us",
    ):
        assert report[key] > 0, key
    # The kept-connection diagnostic phase is gone: the agent keeps its connections itself.
    assert not any(key.startswith("kept_connection") for key in report)

    canister._print_text(report)  # the text form renders the same report
    text = capsys.readouterr().out
    assert f"final count {report['final_count']}" in text and "correct" in text
    assert "diagnostic" not in text and "kept connection" not in text
