"""Named unsafe behaviours ("bug switches") a simulated subnet can be told to have, so
that a scenario shows a check catching a real violation (DESIGN.md 7).

Each bug is off unless named in ``SimConfig.bugs``, lives in the narrowest place that
produces it, and is documented here with the check that must catch it:

- ``wrong-execution``: the last replica's execution layer skips the last message of
  every block that has messages. Its consensus is honest, so agreement holds, but its
  state hash differs from the others' at the first such height: convergence fails.
- ``small-quorum``: every replica counts f + 1 signatures as a quorum (for notarization,
  finalization and certification) instead of n - f. Two quorums no longer need to share
  an honest member, so two sides of a partition can each finalize their own block at
  one height: agreement fails.
- ``no-replay-protection``: every replica forgets which requests it already executed
  (``ForgetfulIngress``): a request submitted again, as a client does when the replica
  it asked went down before replying, is admitted, included and executed a second time.
  Consensus and execution stay in agreement, so only the clients can tell: a counter
  read shows an add counted twice, a register read an overwritten value coming back;
  linearizability and durability (each acknowledged write executed exactly once) fail.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection

from node.execution import SubnetStateMachine
from node.ingress import Ingress
from node.state_machine import Batch
from vocab.certificate import RequestResult
from vocab.committee import Committee
from vocab.genesis import Genesis

__all__ = [
    "BUGS",
    "ForgetfulIngress",
    "SmallQuorum",
    "WrongExecution",
    "check_bugs",
    "small_quorum_genesis",
]


class WrongExecution(SubnetStateMachine):
    """The subnet's state machine, but it drops the last message of each non-empty block."""

    def execute(self, batch: Batch) -> list[RequestResult]:
        if batch.messages:
            batch = dataclasses.replace(batch, messages=batch.messages[:-1])
        return super().execute(batch)


class SmallQuorum(Committee):
    """A committee that takes f + 1 signatures for a quorum (the ``small-quorum`` bug)."""

    @property
    def threshold(self) -> int:
        return self.f + 1


class ForgetfulIngress(Ingress):
    """Ingress without replay protection (the ``no-replay-protection`` bug): no request
    counts as already executed, at admission, in payloads or in validation."""

    def is_replay(self, request_id: bytes, included: Collection[bytes]) -> bool:
        return False


def small_quorum_genesis(genesis: Genesis) -> Genesis:
    """A copy of ``genesis`` whose committee is a ``SmallQuorum`` (the genesis caches its
    committee, so the copy's cache is filled with the weakened one)."""
    copy = dataclasses.replace(genesis)
    copy.__dict__["committee"] = SmallQuorum(genesis.committee.members, genesis.committee.public_keys)
    return copy


BUGS: dict[str, str] = {
    "wrong-execution": "the last replica skips the last message of every non-empty block it "
    "executes (a divergent state hash: convergence catches it)",
    "small-quorum": "every replica counts f + 1 signatures as a quorum instead of n - f (two sides of "
    "a partition finalize different blocks: agreement catches it)",
    "no-replay-protection": "replicas forget which requests they executed: a client's retry of a "
    "request whose reply was lost executes it again (linearizability and durability catch it)",
}
"""Every bug switch, by name, with what it does and which check catches it."""


def check_bugs(names: tuple[str, ...]) -> None:
    """ValueError naming any bug that does not exist."""
    unknown = [name for name in names if name not in BUGS]
    if unknown:
        raise ValueError(f"unknown bug switch {', '.join(map(repr, unknown))}: known are {', '.join(BUGS)}")
