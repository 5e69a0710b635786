"""The replicated state machine: what every replica executes, in order, on finalized blocks.

Consensus hands over a ``Batch`` (a finalized block's height, time and requests); the
state machine returns one ``RequestResult`` per request and exposes a hash of its whole
state. Execution must be a pure function of the previous state and the batch: no clock
but ``batch.time_ns``, no randomness but ``batch.randomness``, no iteration order that
depends on hashing. Replicas compare their results through certification.

The implementation is the Wasm execution layer behind ``node.ic.state_machine``; the
simulator and the process backend both run it, so the canister management rules exist
once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from vocab.certificate import RequestResult
from vocab.ingress_message import IngressMessage


@dataclass(frozen=True)
class Batch:
    """A finalized block as execution sees it."""

    height: int
    time_ns: int
    messages: tuple[IngressMessage, ...]
    randomness: bytes


class StateMachine(Protocol):
    def execute(self, batch: Batch) -> list[RequestResult]:
        """Apply a batch; one result per message, in the batch's order."""
        ...

    def state_hash(self) -> bytes:
        """A hash of everything execution can change, computed in a canonical order."""
        ...
