"""Durability: every write a client was told succeeded is in the final state, exactly once.

The final state of a replicated state machine is a function of its finalized chain, so
the check reads the chain rather than the state: ``executions`` says, for each operation
of a history (by the index of its invocation), how many blocks of the longest honest
replica's chain carry its request. Then

- an acknowledged write (``ok`` write, cas that swapped, add, put, append) that no block
  carries was *lost*: the client was told it happened and the subnet has no trace of it;
- an operation whose request two blocks carry was *executed twice*, which a client
  cannot ask for (a request id is unique, replay protection refuses the second copy):
  a counter counts an add twice, a register takes an old value back.

Either makes the verdict invalid, naming the operations. With no acknowledged write at
all the verdict is unknown (nothing could have been lost).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from subnet.checks.history import Event, Process

__all__ = ["WRITES", "DurabilityVerdict", "check_durability"]

WRITES = ("write", "cas", "add", "incr", "put", "append")
SHOWN = 20
"""How many operations of each kind of violation the evidence lists."""


@dataclass(frozen=True)
class DurabilityVerdict:
    result: str
    summary: str
    acknowledged: int
    lost: list[str] = field(default_factory=list)
    """The lost acknowledged writes, described (at most ``SHOWN``)."""
    lost_count: int = 0
    twice: list[str] = field(default_factory=list)
    """Operations executed more than once, described with the count (at most ``SHOWN``)."""
    twice_count: int = 0

    @property
    def exit_code(self) -> int:
        return {"valid": 0, "invalid": 1}.get(self.result, 2)

    def to_json(self) -> dict[str, Any]:
        return {
            "verdict": self.result,
            "summary": self.summary,
            "acknowledged_writes": self.acknowledged,
            "lost": self.lost,
            "lost_count": self.lost_count,
            "executed_twice": self.twice,
            "executed_twice_count": self.twice_count,
        }


def _describe(invoke: Event, completion: Event | None) -> str:
    outcome = "no outcome" if completion is None else completion.type
    key = "" if invoke.key is None else f" [{invoke.key!r}]"
    value = "" if invoke.value is None else f" {invoke.value}"
    return f"#{invoke.index} p{invoke.process} {invoke.f}{key}{value} -> {outcome}"


def check_durability(events: Sequence[Event], executions: Mapping[int, int]) -> DurabilityVerdict:
    """Check a history against how often each operation was executed (see the module)."""
    pending: dict[Process, Event] = {}
    pairs: list[tuple[Event, Event | None]] = []
    for event in events:
        if event.type == "invoke":
            pending[event.process] = event
            continue
        invoke = pending.pop(event.process, None)
        if invoke is not None:
            pairs.append((invoke, event))
    pairs.extend((invoke, None) for invoke in pending.values())
    pairs.sort(key=lambda pair: pair[0].index)
    lost: list[str] = []
    twice: list[str] = []
    acknowledged = 0
    for invoke, completion in pairs:
        count = executions.get(invoke.index, 0)
        if count > 1:
            twice.append(f"{_describe(invoke, completion)}, executed {count} times")
        if invoke.f in WRITES and completion is not None and completion.type == "ok":
            acknowledged += 1
            if count == 0:
                lost.append(_describe(invoke, completion))
    problems = []
    if lost:
        problems.append(f"{len(lost)} acknowledged write(s) lost, first {lost[0]}")
    if twice:
        problems.append(f"{len(twice)} operation(s) executed more than once, first {twice[0]}")
    if problems:
        result, summary = "invalid", "; ".join(problems)
    elif acknowledged == 0:
        result, summary = "unknown", "no write was acknowledged, so none could be lost"
    else:
        result = "valid"
        summary = f"all {acknowledged} acknowledged writes executed, each exactly once"
    return DurabilityVerdict(
        result, summary, acknowledged, lost[:SHOWN], len(lost), twice[:SHOWN], len(twice)
    )
