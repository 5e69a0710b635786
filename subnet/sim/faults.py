"""Scheduled faults for simulated runs: crash, restart, pause, resume, partition (by
groups or by cut links), heal, a change of the network's latency, loss or duplication,
a change of a replica's behaviour (``subnet.sim.behaviour``), a skewed clock, a lost
disk, an upgrade of the clients' canister (or package) under load and the migration of the
versioned counter, at a given time.

``OnBlockMaker`` picks its replica when it happens (the leader of the height being
decided) and schedules its own undoing, since its target is not known in advance.

A fault is plain data with a time; ``apply`` acts on the simulation through
``FaultTarget``, the few operations the runner offers, so that faults depend on that
small interface and not on the runner (which imports them to schedule them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

__all__ = [
    "ClockSkew",
    "Crash",
    "DiskLoss",
    "Cut",
    "Fault",
    "FaultTarget",
    "Heal",
    "Migrate",
    "NetworkChange",
    "OnBlockMaker",
    "Partition",
    "Pause",
    "Restart",
    "Resume",
    "SetBehaviour",
    "Upgrade",
]


class FaultTarget(Protocol):
    """What a fault may do to a running simulation."""

    n: int
    """The number of replicas."""

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

    def pause(self, node: int) -> None:
        """Freeze a replica: it handles nothing and its timers stall (as under SIGSTOP)."""

    def resume(self, node: int) -> None:
        """Let a paused replica handle, in order, what arrived while it was frozen."""

    def cut(self, links: tuple[tuple[int, int], ...]) -> None:
        """Drop messages on these directed links (until ``heal``)."""

    def set_network(
        self, *, extra_delay_ns: dict[int, int] | None, loss: float | None, duplication: float | None
    ) -> None:
        """Change the network: extra delay on messages from each given sender (None: keep;
        an empty dict: none), the loss and duplication probabilities (None: keep)."""

    def block_maker(self) -> int:
        """The replica that leads the height being decided now."""

    def set_skew(self, node: int, offset_ns: int) -> None:
        """Shift a replica's clock by ``offset_ns`` from the true time (0: exact again)."""

    def wipe(self, node: int) -> None:
        """Lose a (crashed) replica's persisted state: it restarts from nothing."""

    def schedule_fault(self, at_ns: int, fault: Fault) -> None:
        """Apply ``fault`` at ``at_ns`` after the start of the run."""

    def upgrade(self, module: str) -> None:
        """Have the clients' setup identity upgrade their canister to ``module``."""

    def migrate(self) -> None:
        """Have the versioned-counter workload's admin migrate its counter."""


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
class ClockSkew:
    """The replica's clock runs ``offset_ns`` ahead of true time (behind if negative); 0
    sets it right again. Every event it handles carries its own time, and its timers fire
    when its own clock reaches them."""

    at_ns: int
    node: int
    offset_ns: int

    def apply(self, sim: FaultTarget) -> None:
        sim.set_skew(self.node, self.offset_ns)


@dataclass(frozen=True)
class DiskLoss:
    """The replica crashes and its disk is lost (blocks, votes, certificates,
    checkpoints): when restarted it has to fetch everything from its peers."""

    at_ns: int
    node: int

    def apply(self, sim: FaultTarget) -> None:
        sim.crash(self.node)
        sim.wipe(self.node)


@dataclass(frozen=True)
class Upgrade:
    """The clients' canister is upgraded, under their load, to a variant of its module
    (``subnet.sim.clients.UPGRADE_MODULES``)."""

    at_ns: int
    module: str

    def apply(self, sim: FaultTarget) -> None:
        sim.upgrade(self.module)


@dataclass(frozen=True)
class Migrate:
    """The admin migrates the versioned-counter workload's counter to the newest package
    (``subnet.sim.versioned_counter``), under its callers' load."""

    at_ns: int

    def apply(self, sim: FaultTarget) -> None:
        sim.migrate()


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


@dataclass(frozen=True)
class Pause:
    """The replica is frozen: nothing it receives is handled and its timers do not fire."""

    at_ns: int
    node: int

    def apply(self, sim: FaultTarget) -> None:
        sim.pause(self.node)


@dataclass(frozen=True)
class Resume:
    at_ns: int
    node: int

    def apply(self, sim: FaultTarget) -> None:
        sim.resume(self.node)


@dataclass(frozen=True)
class Cut:
    """Directed links that drop every message (shapes a group partition cannot express:
    a ring, a bridge). ``Heal`` restores them."""

    at_ns: int
    links: tuple[tuple[int, int], ...]

    def apply(self, sim: FaultTarget) -> None:
        sim.cut(self.links)


@dataclass(frozen=True)
class NetworkChange:
    """New network conditions from ``at_ns`` on; a field left None is kept as it is."""

    at_ns: int
    extra_delay_ns: dict[int, int] | None = None
    loss: float | None = None
    duplication: float | None = None

    def apply(self, sim: FaultTarget) -> None:
        sim.set_network(extra_delay_ns=self.extra_delay_ns, loss=self.loss, duplication=self.duplication)


@dataclass(frozen=True)
class OnBlockMaker:
    """A fault on whichever replica leads when it happens: ``action`` is ``crash``,
    ``pause``, ``isolate`` or a behaviour's name; undone ``duration_ns`` later (restart,
    resume, heal, honest again) unless that is None."""

    at_ns: int
    action: str
    duration_ns: int | None = None

    def apply(self, sim: FaultTarget) -> None:
        node = sim.block_maker()
        undo: Fault | None
        if self.action == "crash":
            sim.crash(node)
            undo = Restart(0, node)
        elif self.action == "pause":
            sim.pause(node)
            undo = Resume(0, node)
        elif self.action == "isolate":
            sim.partition(((node,), tuple(peer for peer in range(sim.n) if peer != node)))
            undo = Heal(0)
        else:
            sim.set_behaviour(node, self.action)
            undo = SetBehaviour(0, node, "honest")
        if self.duration_ns is not None:
            sim.schedule_fault(self.at_ns + self.duration_ns, undo)


Fault = (
    Crash
    | Restart
    | Partition
    | Heal
    | SetBehaviour
    | Pause
    | Resume
    | Cut
    | NetworkChange
    | OnBlockMaker
    | ClockSkew
    | DiskLoss
    | Upgrade
    | Migrate
)
