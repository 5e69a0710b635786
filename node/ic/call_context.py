"""The replicated records of inter-canister calls: call contexts, callbacks, queued messages.

A *call context* is opened when a canister starts executing a call (from a user or from
another canister) and stays open until it has been answered and none of the calls it made
is still waiting for its response. A *callback* is one outstanding call a canister made:
the reply, reject and cleanup functions (table indices with their ``env``) that
``ic0.call_new`` / ``call_on_cleanup`` named. Messages between canisters wait in one input
queue per receiving canister (the management canister's is keyed by its empty raw id): a
``Request`` for a method, or a ``Response`` to a callback.

Everything here is plain data with integer and byte fields, so that the state hash and
checkpoints can cover it exactly; the behaviour lives in :mod:`node.ic.calls`.
"""

from __future__ import annotations

from dataclasses import dataclass

INGRESS = "ingress"
CANISTER = "canister"
SYSTEM = "system"
ORIGIN_KINDS = (INGRESS, CANISTER, SYSTEM)

DEFAULT_QUEUE_CAPACITY = 500
"""Requests an input queue holds at most (the IC's per-queue capacity); responses always
have room, as on the IC, where a slot is reserved for each outstanding call's response."""


@dataclass(frozen=True)
class Origin:
    """Who is waiting for a call context's answer.

    ``ingress``: a user's request, known by ``token`` (its request id); ``canister``: the
    caller's callback ``callback``; ``system``: a heartbeat or timer, which waits for no
    answer.
    """

    kind: str
    token: bytes = b""
    callback: int = 0

    def __post_init__(self) -> None:
        if self.kind not in ORIGIN_KINDS:
            raise ValueError(f"unknown call origin {self.kind!r}")


@dataclass
class CallContext:
    """One call being executed by ``canister`` (raw id) for ``caller`` (raw principal)."""

    id: int
    canister: bytes
    caller: bytes
    origin: Origin
    available: int
    """Cycles the caller attached that the callee has neither accepted nor given back yet."""
    responded: bool = False
    outstanding: int = 0
    """How many calls made from this context still wait for their response."""


@dataclass(frozen=True)
class Callback:
    """A call ``canister`` made from call context ``context`` to ``callee``."""

    id: int
    canister: bytes
    context: int
    callee: bytes
    reply: tuple[int, int]
    reject: tuple[int, int]
    cleanup: tuple[int, int] | None


@dataclass(frozen=True)
class Request:
    """A call from ``sender`` waiting in ``receiver``'s input queue."""

    sender: bytes
    receiver: bytes
    method: str
    arg: bytes
    cycles: int
    callback: int


@dataclass(frozen=True)
class Response:
    """The answer to callback ``callback`` of ``receiver``: a reply (``reply`` not None) or
    a reject (``reject_code``, ``reject_message``), with the cycles given back."""

    receiver: bytes
    callback: int
    reply: bytes | None
    reject_code: int
    reject_message: str
    refund: int


QueuedMessage = Request | Response


__all__ = [
    "CANISTER",
    "DEFAULT_QUEUE_CAPACITY",
    "INGRESS",
    "ORIGIN_KINDS",
    "SYSTEM",
    "CallContext",
    "Callback",
    "Origin",
    "QueuedMessage",
    "Request",
    "Response",
]
