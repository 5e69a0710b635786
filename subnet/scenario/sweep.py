"""Seed sweeps: one scenario run under many seeds, in parallel, each verdict summarised.

Each seed runs in a worker process of a local pool (``jobs`` of them, default one per
core) or, given a scheduler address, on a Dask cluster (``dask.distributed``, the
optional ``dask`` extra). A worker gets the scenario's text and a seed, and returns a
``SeedResult``: small, picklable, with what is needed to tell the seeds apart and to
replay a failing one (``subnet scenario run FILE --seed S`` gives the same trace hash).
Results are reported in seed order, whatever order the workers finish in.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

from subnet.scenario.checks import VALID
from subnet.scenario.run import run_scenario, with_seed
from subnet.scenario.spec import ScenarioError, parse_scenario

__all__ = ["MAX_SEEDS", "SeedResult", "default_jobs", "parse_seeds", "run_seed", "sweep", "sweep_verdict"]

MAX_SEEDS = 100_000


@dataclass(frozen=True)
class SeedResult:
    seed: int
    verdict: str
    failing: tuple[str, ...]
    """The checks that were not valid, with their verdicts (``liveness: unknown``)."""
    summaries: tuple[str, ...]
    """Their one-line summaries, in the same order."""
    finalized_height: int
    trace_hash: str
    operations: int
    """History events recorded by the clients (0 without a register or counter workload)."""
    seconds: float
    """Wall time of the run (the one number here that is not a function of the seed)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "verdict": self.verdict,
            "failing": list(self.failing),
            "summaries": list(self.summaries),
            "finalized_height": self.finalized_height,
            "trace_hash": self.trace_hash,
            "history_events": self.operations,
            "seconds": round(self.seconds, 3),
        }


def parse_seeds(text: str) -> list[int]:
    """``1..100``, ``1-100`` (both ends included) or ``3,7,9`` (or a mix: ``1-5,9``)."""
    seeds: dict[int, None] = {}
    for part in text.split(","):
        part = part.strip()
        match = re.fullmatch(r"(\d+)\s*(?:\.\.|-)\s*(\d+)", part)
        if match:
            low, high = int(match.group(1)), int(match.group(2))
            if high < low:
                raise ValueError(f"{part!r}: the range ends before it starts")
            if high - low + 1 + len(seeds) > MAX_SEEDS:
                raise ValueError(f"{part!r}: more than {MAX_SEEDS} seeds")
            seeds.update(dict.fromkeys(range(low, high + 1)))
        elif part.isdigit():
            seeds[int(part)] = None
        else:
            raise ValueError(f"{part!r} is not a seed, a range A..B or A-B, or a list A,B,C")
    if not seeds:
        raise ValueError("no seeds")
    return list(seeds)


def run_seed(text: str, seed: int) -> SeedResult:
    """Run the scenario in ``text`` with ``seed`` (in a worker)."""
    logging.getLogger("subnet.sim").setLevel(logging.CRITICAL)
    started = time.perf_counter()
    outcome = run_scenario(with_seed(parse_scenario(text), seed))
    bad = [check for check in outcome.checks if check.verdict != VALID]
    clients = outcome.simulation.clients
    return SeedResult(
        seed,
        outcome.verdict,
        tuple(f"{check.name}: {check.verdict}" for check in bad),
        tuple(check.summary for check in bad),
        outcome.result.finalized_height,
        outcome.result.trace_hash,
        len(clients.recorder.events) if clients is not None else 0,
        time.perf_counter() - started,
    )


def sweep(
    text: str,
    seeds: Iterable[int],
    *,
    jobs: int | None = None,
    scheduler: str | None = None,
    progress: Callable[[SeedResult], None] | None = None,
) -> list[SeedResult]:
    """Run every seed; the results in seed order. ``progress`` hears of each as it ends."""
    scenario = parse_scenario(text)
    if scenario.backend != "sim":
        raise ScenarioError('a sweep runs on the simulator: set backend = "sim" (or leave it out)')
    wanted = list(seeds)
    results: dict[int, SeedResult] = {}
    if scheduler is not None:
        results = _on_dask(text, wanted, scheduler, progress)
    elif (jobs or 1) == 1 or len(wanted) == 1:
        for seed in wanted:
            results[seed] = run_seed(text, seed)
            if progress is not None:
                progress(results[seed])
    else:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(run_seed, text, seed) for seed in wanted]
            for future in as_completed(futures):
                result = future.result()
                results[result.seed] = result
                if progress is not None:
                    progress(result)
    return [results[seed] for seed in wanted]


def _on_dask(
    text: str, seeds: list[int], address: str, progress: Callable[[SeedResult], None] | None
) -> dict[int, SeedResult]:
    try:
        from dask.distributed import Client
        from dask.distributed import as_completed as dask_completed
    except ImportError:
        raise ScenarioError(
            "--scheduler needs dask.distributed, which is not installed (pip install 'subnet[dask]')"
        ) from None
    results: dict[int, SeedResult] = {}
    try:
        client = Client(address, timeout=5)
    except (OSError, TimeoutError) as exc:
        raise ScenarioError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    with client:
        futures = client.map(run_seed, [text] * len(seeds), seeds, pure=False)
        for future in dask_completed(futures):
            result = future.result()
            results[result.seed] = result
            if progress is not None:
                progress(result)
    return results


def sweep_verdict(results: list[SeedResult]) -> str:
    """invalid if any seed is, else unknown if any is, else valid."""
    verdicts = {result.verdict for result in results}
    return "invalid" if "invalid" in verdicts else "unknown" if "unknown" in verdicts else "valid"


def default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
