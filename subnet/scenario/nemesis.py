"""The random nemesis: a ``kind = "random"`` fault draws a schedule of concrete faults from
the scenario's seed, within bounds, for swarm runs (``subnet scenario sweep``).

In its window (``at`` for ``duration``) it draws ``count`` faults, each of a kind from
``kinds``, starting at a uniform time and lasting between ``shortest`` and ``longest``
(cut at the end of the window), in whole milliseconds:

- ``crash``, ``pause``: a random replica;
- ``partition``: one replica alone, or a minority of ⌊(n-1)/2⌋ against the rest;
- ``latency``: 50 to 500 ms more on every message; ``loss``, ``duplication``: a
  probability from 0.05 to 0.5.

Bounds: at no time are more than ``max_faulty`` replicas (default f = ⌊(n-1)/3⌋, what
the protocol tolerates) crashed, paused or cut off, counting every drawn fault that
overlaps; two partitions never overlap (a heal heals all), nor two network faults of
one kind. A draw that would break a bound is drawn again, up to ``ATTEMPTS`` times, and
then left out (the resolved schedule says how many were drawn). Network faults do not
count as faulty replicas.

The generator is seeded with the scenario's seed and the nemesis' position in the file,
apart from every other draw, so the same file and seed give the same schedule.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from subnet.scenario.spec import FaultSpec, Scenario
from vocab.genesis import MS

__all__ = ["ATTEMPTS", "Drawn", "concrete_faults"]

ATTEMPTS = 50


@dataclass(frozen=True)
class Drawn:
    """A concrete fault and where it came from: the index of its ``[[fault]]`` table, and
    for a drawn one its position among that nemesis' draws."""

    source: int
    fault: FaultSpec
    draw: int | None = None


def concrete_faults(scenario: Scenario) -> list[Drawn]:
    """The scenario's faults with every random nemesis replaced by what it draws, each
    nemesis' draws in time order."""
    out: list[Drawn] = []
    for index, fault in enumerate(scenario.faults):
        if fault.kind != "random":
            out.append(Drawn(index, fault))
            continue
        drawn = _draw(fault, index, scenario)
        out += [Drawn(index, item, number) for number, item in enumerate(drawn)]
    return out


def _faulty(fault: FaultSpec, n: int) -> frozenset[int]:
    if fault.kind in ("crash", "pause"):
        assert isinstance(fault.target, int)
        return frozenset((fault.target,))
    if fault.kind == "partition":
        assert isinstance(fault.target, tuple)
        return frozenset(fault.target)
    return frozenset()


def _draw(nemesis: FaultSpec, index: int, scenario: Scenario) -> list[FaultSpec]:
    n = scenario.subnet.replicas
    rng = random.Random(f"subnet-random-nemesis:{scenario.seed}:{index}")
    assert nemesis.duration_ns is not None and nemesis.count is not None
    assert nemesis.shortest_ns is not None and nemesis.longest_ns is not None
    start = nemesis.at_ns
    end = min(nemesis.at_ns + nemesis.duration_ns, scenario.duration_ns)
    limit = (n - 1) // 3 if nemesis.max_faulty is None else nemesis.max_faulty
    kept: list[FaultSpec] = []
    for _ in range(nemesis.count):
        for _ in range(ATTEMPTS):
            candidate = _candidate(rng, nemesis, start, end, n)
            if candidate is not None and _fits(candidate, kept, n, limit):
                kept.append(candidate)
                break
    return sorted(kept, key=lambda fault: (fault.at_ns, fault.kind))


def _candidate(rng: random.Random, nemesis: FaultSpec, start: int, end: int, n: int) -> FaultSpec | None:
    assert nemesis.shortest_ns is not None and nemesis.longest_ns is not None
    kind = rng.choice(nemesis.kinds)
    latest = end - nemesis.shortest_ns
    if latest < start:
        return None
    # Whole milliseconds: a schedule a person reads, and writes back into a file.
    at = -(-start // MS) * MS + rng.randrange(max(0, (latest - -(-start // MS) * MS) // MS) + 1) * MS
    length = min(rng.randrange(nemesis.shortest_ns // MS, nemesis.longest_ns // MS + 1) * MS, end - at)
    if length <= 0:
        return None
    line = nemesis.line
    if kind in ("crash", "pause"):
        return FaultSpec(at, kind, length, rng.randrange(n), line=line)
    if kind == "partition":
        minority = (n - 1) // 2
        if minority > 1 and rng.random() < 0.5:
            side = tuple(sorted(rng.sample(range(n), minority)))
            return FaultSpec(at, kind, length, side, shape="minority", line=line)
        if n < 2:
            return None
        return FaultSpec(at, kind, length, (rng.randrange(n),), shape="one", line=line)
    if kind == "latency":
        return FaultSpec(at, kind, length, delay_ns=rng.randrange(50, 501) * MS, line=line)
    return FaultSpec(at, kind, length, probability=rng.randrange(5, 51) / 100, line=line)


def _fits(candidate: FaultSpec, kept: list[FaultSpec], n: int, limit: int) -> bool:
    assert candidate.end_ns is not None
    down = set(_faulty(candidate, n))
    if len(down) > limit:
        return False
    for other in kept:
        assert other.end_ns is not None
        if other.at_ns >= candidate.end_ns or candidate.at_ns >= other.end_ns:
            continue
        if other.kind == candidate.kind and other.kind in ("partition", "latency", "loss", "duplication"):
            return False
        down |= _faulty(other, n)
        if len(down) > limit:
            return False
    return True
