"""Latency models for the simulated network, and the ``--latency`` spec that names them.

A model draws a one-way delay for a message from ``src`` to ``dst`` from the simulation's
single seeded generator. Floats are fine here (they only shape the network), but what
leaves a model is an integer number of nanoseconds, which is all the rest of the
simulation ever compares.

Spec grammar (durations as ``10ms``, ``1.5s``, ``250us``, ``800ns``; bare numbers are ms):

    constant:D            every message takes D           (also just ``D``)
    uniform:LO:HI         uniform in [LO, HI]
    normal:MEAN:SD        normal, truncated at 0
    bimodal:P:A:B[:SD]    normal around A with probability P, else around B (SD default 10% of each)
    matrix:D,D;D,D        per-link constants, row = sender, column = receiver
    matrix:FILE.json      the same matrix from a JSON list of lists (ms)
"""

from __future__ import annotations

import abc
import json
import math
import random
import re
from dataclasses import dataclass
from pathlib import Path

_UNITS = {"ns": 1, "us": 1_000, "ms": 1_000_000, "s": 1_000_000_000}
_DURATION = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(ns|us|ms|s)?\s*$")


class LatencySpecError(ValueError):
    """A latency spec that does not parse; the message says what was expected."""


def parse_duration_ns(text: str) -> int:
    match = _DURATION.match(text)
    if not match:
        raise LatencySpecError(f"not a duration: {text!r} (expected e.g. 10ms, 1.5s, 250us)")
    value, unit = match.groups()
    return int(round(float(value) * _UNITS[unit or "ms"]))


class LatencyModel(abc.ABC):
    @abc.abstractmethod
    def sample(self, rng: random.Random, src: int, dst: int) -> int:
        """One link delay in integer nanoseconds, drawn from the run's seeded generator."""

    @abc.abstractmethod
    def mean_delay_ns(self, n: int) -> float:
        """The mean one-way delay between the ``n`` replicas of a run: the unit in which a
        path's latency counts message delays. Only reported, never compared by the run."""


@dataclass(frozen=True)
class Constant(LatencyModel):
    delay_ns: int

    def sample(self, rng: random.Random, src: int, dst: int) -> int:
        return self.delay_ns

    def mean_delay_ns(self, n: int) -> float:
        return float(self.delay_ns)


@dataclass(frozen=True)
class Uniform(LatencyModel):
    low_ns: int
    high_ns: int

    def sample(self, rng: random.Random, src: int, dst: int) -> int:
        return rng.randrange(self.low_ns, self.high_ns + 1)  # randint's own definition, one call less

    def mean_delay_ns(self, n: int) -> float:
        return (self.low_ns + self.high_ns) / 2


@dataclass(frozen=True)
class Normal(LatencyModel):
    mean_ns: int
    stddev_ns: int

    def sample(self, rng: random.Random, src: int, dst: int) -> int:
        return max(0, int(rng.gauss(self.mean_ns, self.stddev_ns)))

    def mean_delay_ns(self, n: int) -> float:
        # E[max(0, X)] for X ~ N(mean, sd): the draw is truncated at 0.
        if self.stddev_ns == 0:
            return float(max(0, self.mean_ns))
        z = self.mean_ns / self.stddev_ns
        density = math.exp(-z * z / 2) / math.sqrt(2 * math.pi)
        return self.mean_ns * (1 + math.erf(z / math.sqrt(2))) / 2 + self.stddev_ns * density


@dataclass(frozen=True)
class Bimodal(LatencyModel):
    probability_first: float
    first: Normal
    second: Normal

    def sample(self, rng: random.Random, src: int, dst: int) -> int:
        mode = self.first if rng.random() < self.probability_first else self.second
        return mode.sample(rng, src, dst)

    def mean_delay_ns(self, n: int) -> float:
        first = self.probability_first
        return first * self.first.mean_delay_ns(n) + (1 - first) * self.second.mean_delay_ns(n)


@dataclass(frozen=True)
class Matrix(LatencyModel):
    delays_ns: tuple[tuple[int, ...], ...]

    def sample(self, rng: random.Random, src: int, dst: int) -> int:
        try:
            return self.delays_ns[src][dst]
        except IndexError:
            raise LatencySpecError(f"the latency matrix has no entry for link {src} -> {dst}") from None

    def mean_delay_ns(self, n: int) -> float:
        """The mean over the links between distinct replicas (one replica: its own link)."""
        links = [self.delays_ns[a][b] for a in range(n) for b in range(n) if a != b or n == 1]
        return sum(links) / len(links)

    def check_size(self, n: int) -> None:
        if len(self.delays_ns) < n or any(len(row) < n for row in self.delays_ns):
            raise LatencySpecError(f"the latency matrix must be at least {n} x {n}")


def parse_latency(spec: str) -> LatencyModel:
    """A model from its spec (see the module docstring)."""
    kind, _, rest = spec.strip().partition(":")
    kind = kind.lower()
    parts = rest.split(":") if rest else []
    if kind == "matrix":
        return _parse_matrix(rest)
    try:
        if not rest and kind not in ("constant", "uniform", "normal", "bimodal"):
            return Constant(parse_duration_ns(spec))
        if kind == "constant" and len(parts) == 1:
            return Constant(parse_duration_ns(parts[0]))
        if kind == "uniform" and len(parts) == 2:
            low, high = (parse_duration_ns(part) for part in parts)
            if low > high:
                raise LatencySpecError("uniform: the low bound is above the high one")
            return Uniform(low, high)
        if kind == "normal" and len(parts) == 2:
            return Normal(parse_duration_ns(parts[0]), parse_duration_ns(parts[1]))
        if kind == "bimodal" and len(parts) in (3, 4):
            probability = float(parts[0])
            if not 0.0 <= probability <= 1.0:
                raise LatencySpecError("bimodal: the probability must be between 0 and 1")
            first, second = parse_duration_ns(parts[1]), parse_duration_ns(parts[2])
            sd_first = sd_second = parse_duration_ns(parts[3]) if len(parts) == 4 else None
            return Bimodal(
                probability,
                Normal(first, sd_first if sd_first is not None else first // 10),
                Normal(second, sd_second if sd_second is not None else second // 10),
            )
    except ValueError as exc:
        if isinstance(exc, LatencySpecError):
            raise
        raise LatencySpecError(f"bad latency spec {spec!r}: {exc}") from exc
    raise LatencySpecError(
        f"bad latency spec {spec!r}: expected constant:D, uniform:LO:HI, normal:MEAN:SD, "
        "bimodal:P:A:B[:SD] or matrix:ROWS"
    )


def _parse_matrix(rest: str) -> Matrix:
    if rest.endswith(".json"):
        try:
            rows = json.loads(Path(rest).read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise LatencySpecError(f"cannot read latency matrix {rest}: {exc}") from exc
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise LatencySpecError("a latency matrix file holds a JSON list of lists of milliseconds")
        try:
            return Matrix(tuple(tuple(int(round(float(v) * 1_000_000)) for v in row) for row in rows))
        except (TypeError, ValueError) as exc:
            raise LatencySpecError(f"latency matrix entries must be numbers of ms: {exc}") from exc
    if not rest:
        raise LatencySpecError("matrix: give rows like 10ms,20ms;20ms,10ms or a .json file")
    return Matrix(tuple(tuple(parse_duration_ns(cell) for cell in row.split(",")) for row in rest.split(";")))
