"""Load shapes and measurement shared by the consensus benchmark and its Raft peer.

Two ways to load a replicated service (the names of the YCSB/wrk2 literature):

- **closed loop**: ``in_flight`` clients, each sending its next request when the previous
  one is answered, so the offered load adapts to the service and latency alone is not
  what limits throughput;
- **open loop** at ``rate``: requests are due at fixed times ``start + i / rate`` whether
  or not earlier ones were answered, and each latency runs from its due time (not from
  when a busy client got round to it), so queueing shows in the latency instead of
  silently lowering the load ("coordinated omission").

``Window`` collects latencies and the CPU seconds spent by the service's processes (from
``/proc``) and by this process, so that CPU per operation is reported apart for the
replicas and the client. The ``saturation`` search raises the rate while the p99 stays
under a bound and the service keeps up.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import trio

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile by nearest rank (NaN for no values)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))
    return ordered[k]


def process_cpu_seconds(pids: list[int]) -> float:
    """User plus system CPU the processes have used so far (those gone count 0)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, ValueError, IndexError):
            continue
    return total / CLOCK_TICKS


@dataclass
class Window:
    """One measurement: what completed, how late, and the CPU it cost."""

    label: str
    service_pids: list[int]
    latencies: list[float] = field(default_factory=list)
    failures: int = 0
    offered: int = 0
    """Requests issued (open loop: due) during the window."""
    wall: float = 0.0
    service_cpu: float = 0.0
    client_cpu: float = 0.0
    _t0: float = 0.0
    _s0: float = 0.0
    _c0: float = 0.0

    def start(self) -> None:
        self._t0 = time.perf_counter()
        self._s0 = process_cpu_seconds(self.service_pids)
        self._c0 = time.process_time()

    def stop(self) -> None:
        self.wall = time.perf_counter() - self._t0
        self.service_cpu = process_cpu_seconds(self.service_pids) - self._s0
        self.client_cpu = time.process_time() - self._c0

    def report(self, interval_ms: float | None = None) -> dict[str, Any]:
        ops = len(self.latencies)
        per_op = lambda seconds: round(seconds / ops * 1000, 3) if ops else None
        out: dict[str, Any] = {
            "load": self.label,
            "operations": ops,
            "failures": self.failures,
            "ops_per_s": round(ops / self.wall, 1) if self.wall else 0.0,
            "latency_p50_ms": round(percentile(self.latencies, 50) * 1000, 1),
            "latency_p99_ms": round(percentile(self.latencies, 99) * 1000, 1),
            "cpu_ms_per_op_service": per_op(self.service_cpu),
            "cpu_ms_per_op_client": per_op(self.client_cpu),
            "cores_busy_service": round(self.service_cpu / self.wall, 2) if self.wall else 0.0,
            "cores_busy_client": round(self.client_cpu / self.wall, 2) if self.wall else 0.0,
        }
        if interval_ms:
            out["p50_in_block_intervals"] = round(percentile(self.latencies, 50) * 1000 / interval_ms, 2)
            out["p99_in_block_intervals"] = round(percentile(self.latencies, 99) * 1000 / interval_ms, 2)
        return out


Request = Callable[[], Awaitable[bool]]
"""One operation against the service: True when it was acknowledged (a certified reply,
a committed command), False when it failed."""


async def closed_loop(window: Window, in_flight: int, duration: float, request: Request) -> None:
    """``in_flight`` loops of request-after-request for ``duration`` seconds."""
    deadline = trio.current_time() + duration

    async def loop() -> None:
        while trio.current_time() < deadline:
            started = time.perf_counter()
            window.offered += 1
            if await request():
                window.latencies.append(time.perf_counter() - started)
            else:
                window.failures += 1

    window.start()
    async with trio.open_nursery() as nursery:
        for _ in range(in_flight):
            nursery.start_soon(loop)
    window.stop()


async def open_loop(window: Window, rate: float, duration: float, grace: float, request: Request) -> None:
    """Requests due at ``rate`` per second for ``duration`` seconds, each latency counted
    from its due time; those not answered ``grace`` seconds after the last one is due are
    failures. The window's wall time is the offered duration (throughput is what was
    answered of what was offered then), its CPU all that was spent until the end."""

    async def one(due: float) -> None:
        if await request():
            window.latencies.append(time.perf_counter() - due)
        else:
            window.failures += 1

    window.start()
    origin = time.perf_counter()
    with trio.move_on_after(duration + grace) as scope:
        async with trio.open_nursery() as nursery:
            issued = 0
            total = int(rate * duration)
            while issued < total:
                now = time.perf_counter()
                due_count = min(total, int((now - origin) * rate) + 1)
                while issued < due_count:
                    nursery.start_soon(one, origin + issued / rate)
                    issued += 1
                await trio.sleep(max(0.0, origin + issued / rate - time.perf_counter()))
            window.offered = issued
    window.stop()
    window.wall = duration
    if scope.cancelled_caught:
        window.failures += window.offered - len(window.latencies) - window.failures


SETTLE_PROBES = 8
SETTLE_LIMIT_S = 60.0


async def _probe(request: Request, answered: list[bool]) -> None:
    answered.append(await request())


async def settle(request: Request, bound_s: float, limit_s: float = SETTLE_LIMIT_S) -> float:
    """Wait until the service has worked off what earlier windows left queued: a burst of
    ``SETTLE_PROBES`` requests all answered, within ``bound_s``. After an overloaded window
    the requests that timed out on the client are still queued in the service (in the
    replicas' ingress pools), so the next window would measure that backlog, not its
    own rate. Gives up after ``limit_s``; returns the seconds waited."""
    started = time.perf_counter()
    while True:
        answered: list[bool] = []
        probe = time.perf_counter()

        async with trio.open_nursery() as nursery:
            for _ in range(SETTLE_PROBES):
                nursery.start_soon(_probe, request, answered)
        waited = time.perf_counter() - started
        if (all(answered) and time.perf_counter() - probe < bound_s) or waited >= limit_s:
            return waited
        await trio.sleep(0.5)


async def saturation(
    run_at: Callable[[float], Awaitable[Window]],
    bound_s: float,
    start_rate: float,
    max_rate: float,
    steps: int = 3,
) -> tuple[float, list[Window]]:
    """The highest rate whose p99 stays under ``bound_s`` with at least 99% of the
    offered requests answered: doubling from ``start_rate`` until a rate fails, then
    ``steps`` bisections between the last rate that held and the first that did not."""
    windows: list[Window] = []

    async def holds(rate: float) -> bool:
        window = await run_at(rate)
        windows.append(window)
        answered = len(window.latencies)
        return bool(
            answered and answered >= 0.99 * window.offered and percentile(window.latencies, 99) < bound_s
        )

    good, bad = 0.0, None
    rate = start_rate
    while rate <= max_rate:
        if await holds(rate):
            good = rate
            rate *= 2
        else:
            bad = rate
            break
    if bad is not None and good:
        for _ in range(steps):
            middle = round((good + bad) / 2)
            if await holds(middle):
                good = middle
            else:
                bad = middle
    return good, windows
