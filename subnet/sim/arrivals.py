"""How a history workload's clients are driven, the same for every workload.

Closed loop (no rate): each client invokes at once (staggered by ``THINK_NS``), then again
``THINK_NS`` after its answer, as Jepsen's clients do. Open loop (``rate_per_s``):
arrivals come at exponential intervals from the workload's seeded generator, each handed
to an idle client drawn from the same generator; an arrival that finds every client busy
is dropped and counted (``arrivals_dropped_all_busy``), since a closed client cannot take
a second operation. The draws consume the generator in one order on every run, so the
history is a function of the seed.
"""

from __future__ import annotations

import functools
import random
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

from vocab.genesis import MS, SECOND

__all__ = ["THINK_NS", "Arrivals"]

THINK_NS = MS
"""A closed-loop client's pause between an answer and its next operation."""


class _Load(Protocol):
    @property
    def clients(self) -> int: ...

    @property
    def rate_per_s(self) -> float | None: ...


LoadT = TypeVar("LoadT", bound=_Load)


class Arrivals(ABC, Generic[LoadT]):
    """The start and the open-loop arrivals of a workload's clients (a mixin: the
    workload holds ``config``, ``rng`` and ``stats`` and schedules with ``_at``)."""

    config: LoadT
    rng: random.Random
    stats: Counter[str]

    @abstractmethod
    def _at(self, delay_ns: int, action: Callable[[], None]) -> None: ...

    @abstractmethod
    def _invoke(self, client: int) -> None:
        """Start the client's next operation (if it is idle and the run goes on)."""

    @abstractmethod
    def _idle_clients(self) -> list[int]:
        """The clients that could take an arrival now, in client order."""

    def _arrivals_over(self) -> bool:
        """Whether arrivals have stopped (a workload with an end says so)."""
        return False

    def _start_load(self) -> None:
        if self.config.rate_per_s is None:
            for client in range(self.config.clients):
                self._at(THINK_NS * (client + 1), functools.partial(self._invoke, client))
        else:
            self._at(self._arrival_delay(), self._arrive)

    def _arrival_delay(self) -> int:
        assert self.config.rate_per_s is not None
        return max(1, int(self.rng.expovariate(self.config.rate_per_s) * SECOND))

    def _arrive(self) -> None:
        if self._arrivals_over():
            return
        idle = self._idle_clients()
        if idle:
            self._invoke(self.rng.choice(idle))
        else:
            self.stats["arrivals_dropped_all_busy"] += 1
        self._at(self._arrival_delay(), self._arrive)
