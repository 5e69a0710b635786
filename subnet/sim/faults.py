"""Scheduled faults for simulated runs: crash, restart, partition, heal, and a change of
a replica's behaviour (``subnet.sim.behaviour``) at a given time.

A fault is plain data with a time; ``apply`` acts on the simulation through
``FaultTarget``, the few operations the runner offers, so that faults depend on that
small interface and not on the runner (which imports them to schedule them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

__all__ = ["Crash", "Fault", "FaultTarget", "Heal", "Partition", "Restart", "SetBehaviour"]


class FaultTarget(Protocol):
    """What a fault may do to a running simulation."""

    def crash(self, node: int) -> None:
        """Stop a replica; its memory is lost, its persisted state kept."""

    def restart(self, node: int) -> None:
        """Start a crashed replica again from what it persisted."""

    def partition(self, groups: tuple[tuple[int, ...], ...]) -> None:
        """Drop messages between different groups (nodes in no group are isolated)."""

    def heal(self) -> None:
        """Connect everyone again."""

    def set_behaviour(self, node: int, name: str) -> None:
        """Make a replica behave as the named behaviour from now on."""


@dataclass(frozen=True)
class Crash:
    """The replica stops; its memory is lost, its persisted blocks and votes are kept."""

    at_ns: int
    node: int

    def apply(self, sim: FaultTarget) -> None:
        sim.crash(self.node)


@dataclass(frozen=True)
class Restart:
    """The replica restarts from what it persisted."""

    at_ns: int
    node: int

    def apply(self, sim: FaultTarget) -> None:
        sim.restart(self.node)


@dataclass(frozen=True)
class Partition:
    """Messages between different groups are dropped (nodes in no group are isolated)."""

    at_ns: int
    groups: tuple[tuple[int, ...], ...]

    def apply(self, sim: FaultTarget) -> None:
        sim.partition(self.groups)


@dataclass(frozen=True)
class Heal:
    at_ns: int

    def apply(self, sim: FaultTarget) -> None:
        sim.heal()


@dataclass(frozen=True)
class SetBehaviour:
    at_ns: int
    node: int
    behaviour: str

    def apply(self, sim: FaultTarget) -> None:
        sim.set_behaviour(self.node, self.behaviour)


Fault = Crash | Restart | Partition | Heal | SetBehaviour
