"""Each path's latency in a client history, in virtual milliseconds and in message delays.

A message delay is the mean one-way delay of the run's latency model between its replicas
(``LatencyModel.mean_delay_ns``), so that a latency reads as a count of network hops
whatever the model: the fast path's owned-object transaction needs four (the transaction
to the replicas, their votes back, the certificate out, the signed effects back; each
waiting for the 2f+1-th answer, so a little more), consensus a block's worth of rounds.

What each workload's operations take:

- ``fast``: ``owned-transfer`` (``subnet.sim.owned_transfers``), measured from the
  invocation to 2f+1 signed effects at the client, with every message on the network;
- ``consensus``: every other workload (canister calls, Sui shared objects), measured from
  the submission to the certified reply, the client standing at the replica it submits to:
  the two hops between a remote client and that replica are not in it.

Only completed (``ok``) operations count. Percentiles are nearest-rank over integer
nanoseconds; the floats are for the report only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from subnet.checks.history import Event, Process
from subnet.sim.clients import OWNED_KINDS

__all__ = ["PERCENTILES", "describe", "latency_report", "path_of", "percentile"]

PERCENTILES = (50, 99)
NS_PER_MS = 1_000_000


def path_of(kind: str) -> str:
    """The path a workload's operations take: ``fast`` or ``consensus``."""
    return "fast" if kind in OWNED_KINDS else "consensus"


def percentile(sorted_ns: Sequence[int], p: int) -> int:
    """The nearest-rank ``p``-th percentile of a sorted, non-empty list."""
    rank = max(1, math.ceil(p * len(sorted_ns) / 100))
    return sorted_ns[rank - 1]


def _ok_latencies(events: Sequence[Event]) -> list[int]:
    pending: dict[Process, Event] = {}
    latencies: list[int] = []
    for event in events:
        if event.type == "invoke":
            pending[event.process] = event
            continue
        invoke = pending.pop(event.process, None)
        if invoke is not None and event.type == "ok":
            latencies.append(event.time - invoke.time)
    return sorted(latencies)


def latency_report(events: Sequence[Event], kind: str, mean_delay_ns: float) -> dict[str, dict[str, Any]]:
    """``{path: {operations, p50_ms, p99_ms, p50_delays, p99_delays, mean_delay_ms}}`` for a
    history of workload ``kind`` (empty if no operation completed)."""
    latencies = _ok_latencies(events)
    if not latencies:
        return {}
    report: dict[str, Any] = {
        "operations": len(latencies),
        "mean_delay_ms": round(mean_delay_ns / NS_PER_MS, 3),
    }
    for p in PERCENTILES:
        value = percentile(latencies, p)
        report[f"p{p}_ms"] = round(value / NS_PER_MS, 2)
        report[f"p{p}_delays"] = round(value / mean_delay_ns, 2) if mean_delay_ns > 0 else None
    return {path_of(kind): report}


def describe(path: str, figures: dict[str, Any]) -> str:
    """One line of a report: ``latency fast: p50 61 ms (4.1 message delays), ...``."""
    return (
        f"{'latency ' + path + ':':<21}p50 {figures['p50_ms']:g} ms ({figures['p50_delays']:g} message delays), "
        f"p99 {figures['p99_ms']:g} ms ({figures['p99_delays']:g}) over {figures['operations']} ok; "
        f"1 delay = {figures['mean_delay_ms']:g} ms"
    )
