"""A scenario's faults as the simulator's schedule (``subnet.sim.faults``).

Targets and shapes are resolved here, before the run, from a generator seeded with the
scenario's seed (and separate from the simulation's, so that naming a random target
does not shift any other draw): ``"random"`` picks replicas, a ring and a bridge are
laid out over a shuffled order. Only ``"block-maker"`` is resolved during the run, when
the fault happens (``subnet.sim.faults.OnBlockMaker``).

Partition shapes (n replicas, f = (n - 1) // 3 of them may fail):

- ``one``: the target (or a random replica) is cut off from everyone;
- ``minority``: a random ⌊(n - 1)/2⌋ replicas (or the target list) against the rest;
- ``majority``: two halves, ⌊n/2⌋ against the rest: neither side holds a quorum of
  n - f for n ≥ 3, so nothing is finalized until the heal;
- ``ring``: the replicas on a ring, each reaching only its ⌈⌊n/2⌋/2⌉ nearest on either
  side: each sees a majority, no two the same one;
- ``bridge``: two halves that cannot reach each other, and one replica (the target, or
  a random one) that reaches both;
- ``groups``: explicit groups; a replica in no group is alone.

Every partition and cut heals at its end; overlapping partitions heal together.
"""

from __future__ import annotations

import random

from subnet.scenario.nemesis import concrete_faults
from subnet.scenario.spec import FaultSpec, Scenario, Target, format_duration
from subnet.sim.faults import (
    ClockSkew,
    Crash,
    Cut,
    DiskLoss,
    Fault,
    Heal,
    Migrate,
    NetworkChange,
    OnBlockMaker,
    Partition,
    Pause,
    Restart,
    Resume,
    SetBehaviour,
    Upgrade,
)
from subnet.sim.versioned_counter import VERSIONED_UPGRADES

__all__ = ["Schedule", "compile_faults"]


class Schedule:
    """The simulator's faults for a scenario, and what each scenario fault became."""

    def __init__(self) -> None:
        self.faults: list[Fault] = []
        self.resolved: list[str] = []
        """One line per scenario fault saying whom it hits (for the summary)."""
        self.byzantine: dict[int, None] = {}


def compile_faults(scenario: Scenario) -> Schedule:
    rng = random.Random(f"subnet-scenario-targets:{scenario.seed}")
    n = scenario.subnet.replicas
    schedule = Schedule()
    drawn_counts: dict[int, int] = {}
    for item in concrete_faults(scenario):
        line = _compile(item.fault, n, rng, scenario, schedule)
        if item.draw is not None:
            drawn_counts[item.source] = drawn_counts.get(item.source, 0) + 1
            line = (
                f"random fault[{item.source}] #{item.draw + 1} at {format_duration(item.fault.at_ns)} "
                f"for {format_duration(item.fault.duration_ns or 0)}: {line}"
            )
        schedule.resolved.append(line)
    for index, fault in enumerate(scenario.faults):
        if fault.kind == "random" and drawn_counts.get(index, 0) < (fault.count or 0):
            schedule.resolved.append(
                f"random fault[{index}]: drew {drawn_counts.get(index, 0)} of {fault.count} faults "
                "within its bounds"
            )
    return schedule


def _nodes(target: Target | None, n: int, rng: random.Random, count: int = 1) -> tuple[int, ...]:
    if target is None or target == "random":
        return tuple(sorted(rng.sample(range(n), count)))
    if isinstance(target, int):
        return (target,)
    assert isinstance(target, tuple)
    return target


def _compile(fault: FaultSpec, n: int, rng: random.Random, scenario: Scenario, out: Schedule) -> str:
    at, end = fault.at_ns, fault.end_ns
    add = out.faults.append
    if fault.kind == "upgrade":
        assert fault.module is not None
        add(Upgrade(at, fault.module))
        if fault.module in VERSIONED_UPGRADES:
            return f"upgrade of the counter package to {fault.module} (authorize_upgrade, Upgrade, commit_upgrade)"
        return f"upgrade of the clients' canister to {fault.module}"
    if fault.kind == "migrate":
        add(Migrate(at))
        return "migrate of the shared counter through the newest package (AdminCap)"
    if fault.kind in ("clock-skew", "disk-loss"):
        nodes = _nodes(fault.target, n, rng)
        for node in nodes:
            if fault.kind == "clock-skew":
                assert fault.offset_ns is not None
                add(ClockSkew(at, node, fault.offset_ns))
                if end is not None:
                    add(ClockSkew(end, node, 0))
            else:
                add(DiskLoss(at, node))
                if end is not None:
                    add(Restart(end, node))
        if fault.kind == "clock-skew":
            assert fault.offset_ns is not None
            sign = "-" if fault.offset_ns < 0 else "+"
            return f"clock-skew {sign}{format_duration(abs(fault.offset_ns))} on {list(nodes)}"
        return f"disk-loss {list(nodes)} (restarted with an empty disk)"
    if fault.kind in ("crash", "pause", "byzantine"):
        action = fault.behaviour if fault.kind == "byzantine" else fault.kind
        assert action is not None
        if fault.target == "block-maker":
            add(OnBlockMaker(at, action, fault.duration_ns))
            what = f"byzantine {action}" if fault.kind == "byzantine" else fault.kind
            return f"{what}: the block maker at that time"
        nodes = _nodes(fault.target, n, rng)
        for node in nodes:
            if fault.kind == "crash":
                add(Crash(at, node))
                if end is not None:
                    add(Restart(end, node))
            elif fault.kind == "pause":
                add(Pause(at, node))
                if end is not None:
                    add(Resume(end, node))
            else:
                out.byzantine[node] = None
                add(SetBehaviour(at, node, action))
                if end is not None:
                    add(SetBehaviour(end, node, "honest"))
        what = f"byzantine {action}" if fault.kind == "byzantine" else fault.kind
        return f"{what} {list(nodes)}"
    assert end is not None
    if fault.kind == "partition":
        return _partition(fault, n, rng, out, at, end)
    if fault.kind == "latency":
        assert fault.delay_ns is not None
        senders = tuple(range(n)) if fault.target is None else _nodes(fault.target, n, rng)
        add(NetworkChange(at, extra_delay_ns={node: fault.delay_ns for node in senders}))
        add(NetworkChange(end, extra_delay_ns={}))
        return f"latency +{format_duration(fault.delay_ns)} on messages from {list(senders)}"
    assert fault.probability is not None
    if fault.kind == "loss":
        add(NetworkChange(at, loss=fault.probability))
        add(NetworkChange(end, loss=scenario.network.loss))
    else:
        add(NetworkChange(at, duplication=fault.probability))
        add(NetworkChange(end, duplication=scenario.network.duplication))
    return f"{fault.kind} {fault.probability}"


def _partition(fault: FaultSpec, n: int, rng: random.Random, out: Schedule, at: int, end: int) -> str:
    add = out.faults.append
    shape = fault.shape
    everyone = list(range(n))
    if shape == "one" and fault.target == "block-maker":
        add(OnBlockMaker(at, "isolate", fault.duration_ns))
        return "partition: the block maker at that time alone"
    if shape in ("one", "minority", "majority", "groups"):
        if shape == "groups":
            groups = fault.groups
        else:
            size = {"one": 1, "minority": (n - 1) // 2, "majority": n // 2}[shape or ""]
            side = _nodes(fault.target, n, rng, max(size, 1))
            groups = (side, tuple(node for node in everyone if node not in side))
        add(Partition(at, groups))
        add(Heal(end))
        return f"partition {shape}: {[list(group) for group in groups]}"
    order = everyone[:]
    rng.shuffle(order)
    if shape == "ring":
        reach = max(1, -(-(n // 2) // 2))
        links: list[tuple[int, int]] = []
        for i, src in enumerate(order):
            for j, dst in enumerate(order):
                distance = min((i - j) % n, (j - i) % n)
                if src != dst and distance > reach:
                    links.append((src, dst))
        add(Cut(at, tuple(sorted(links))))
        add(Heal(end))
        return f"partition ring {order}, each reaching {reach} on either side"
    bridge = _nodes(fault.target, n, rng)[0]
    rest = [node for node in order if node != bridge]
    first, second = sorted(rest[: len(rest) // 2]), sorted(rest[len(rest) // 2 :])
    cut = [(a, b) for a in first for b in second] + [(b, a) for a in first for b in second]
    add(Cut(at, tuple(sorted(cut))))
    add(Heal(end))
    return f"partition bridge: {first} | {bridge} | {second}"
