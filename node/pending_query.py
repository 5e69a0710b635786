"""A client's query between the replica's thread and a query thread.

``Replica.prepare_query`` does on the replica's thread what needs its state (the readiness
rule, the envelope's checks, the read point, the data certificate, the canister's query
instance brought up to date) and returns a ``PendingQuery``. ``run`` executes the
canister's Wasm and may be called on any thread (the process backend's query threads,
``node.query_pool``); ``finish`` is called back on the replica's thread and returns the
signed ``QueryResponse``. The simulator calls the three in a row.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from vocab.errors import RejectError
from vocab.messages import QueryResponse


class Outcome(Protocol):
    def unwrap(self) -> bytes:
        """The reply, or raise the reject."""
        ...


class PreparedRun(Protocol):
    """What a state machine's ``prepare_query`` returns (``node.ic.query_instances.QueryJob``)."""

    def run(self, seconds: float | None = None) -> None: ...

    @property
    def exhausted(self) -> bool: ...

    def abandon(self) -> None: ...

    def finish(self) -> Outcome: ...


Sign = Callable[[bytes, RejectError | None], QueryResponse]
"""Signs a reply (or a reject) for this query's request at its read point."""


class PendingQuery:
    """A query prepared on the replica's thread; ``job`` is None when it is already
    answered (``reject``: a transient or a bad request)."""

    def __init__(self, sign: Sign, job: PreparedRun | None = None, reject: RejectError | None = None) -> None:
        self._sign = sign
        self._job = job
        self._reject = reject
        self._finished = False

    def run(self, seconds: float | None = None) -> None:
        """Run the canister's Wasm (any thread; at most once); ``seconds``: a wall-clock
        limit (the process backend's, never the simulator's)."""
        if self._job is not None:
            self._job.run(seconds)

    @property
    def exhausted(self) -> bool:
        """Whether it ran out of the instruction budget it was prepared with."""
        return self._job is not None and self._job.exhausted

    def abandon(self) -> None:
        """Give up without an answer (it is prepared again with a larger budget)."""
        if self._finished:
            raise RuntimeError("a pending query is finished once")
        self._finished = True
        if self._job is not None:
            self._job.abandon()

    def finish(self) -> QueryResponse:
        """The signed answer (the replica's thread; once)."""
        if self._finished:
            raise RuntimeError("a pending query is finished once")
        self._finished = True
        if self._job is None:
            assert self._reject is not None
            return self._sign(b"", self._reject)
        try:
            reply = self._job.finish().unwrap()
        except RejectError as reject:
            return self._sign(b"", reject)
        return self._sign(reply, None)


__all__ = ["Outcome", "PendingQuery", "PreparedRun", "Sign"]
