"""Named unsafe behaviours ("bug switches") a simulated subnet can be told to have, so
that a scenario shows a check catching a real violation (DESIGN.md 7).

Each bug is off unless named in ``SimConfig.bugs``, lives in the narrowest place that
produces it, and is documented here with the check that must catch it:

- ``wrong-execution``: the last replica's execution layer skips the last message of
  every block that has messages. Its consensus is honest, so agreement holds, but its
  state hash differs from the others' at the first such height: convergence fails.
"""

from __future__ import annotations

import dataclasses

from node.ic.state_machine import WasmStateMachine
from node.state_machine import Batch
from vocab.certificate import RequestResult

__all__ = ["BUGS", "WrongExecution", "check_bugs"]


class WrongExecution(WasmStateMachine):
    """The canister state machine, but it drops the last message of each non-empty block."""

    def execute(self, batch: Batch) -> list[RequestResult]:
        if batch.messages:
            batch = dataclasses.replace(batch, messages=batch.messages[:-1])
        return super().execute(batch)


BUGS: dict[str, str] = {
    "wrong-execution": "the last replica skips the last message of every non-empty block it "
    "executes (a divergent state hash: convergence catches it)",
}
"""Every bug switch, by name, with what it does and which check catches it."""


def check_bugs(names: tuple[str, ...]) -> None:
    """ValueError naming any bug that does not exist."""
    unknown = [name for name in names if name not in BUGS]
    if unknown:
        raise ValueError(f"unknown bug switch {', '.join(map(repr, unknown))}: known are {', '.join(BUGS)}")
