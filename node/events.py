"""What happens to a replica: the only inputs ``Replica.handle`` accepts.

Every event carries ``now``, the adapter's clock in integer nanoseconds (virtual time in
the simulation, wall-clock time in the process backend): the replica never reads a clock
itself, so the same code runs in both and in unit tests with hand-picked times. ``now``
should not go backwards between events given to one replica.
"""

from __future__ import annotations

from dataclasses import dataclass

from vocab.codec import Message
from vocab.ingress_message import IngressMessage
from vocab.sui.certificate import CertifiedTransaction
from vocab.sui.signed import SignedTransaction


@dataclass(frozen=True)
class Started:
    """The replica runs (first boot or restart); deliver it before any other event."""

    now: int


@dataclass(frozen=True)
class MessageReceived:
    """A decoded message from an authenticated peer.

    ``peer`` is the sender's position in ``genesis.nodes`` (its node id is
    ``genesis.node_ids[peer]``). The transport authenticates the peer by its node key;
    the replica checks every signature inside the message anyway, since artifacts are
    relayed.
    """

    peer: int
    message: Message
    now: int


@dataclass(frozen=True)
class TimerExpired:
    """A timer set by ``SetTimer`` fired; stale or early firings are harmless."""

    timer: str
    now: int


@dataclass(frozen=True)
class ClientSubmitted:
    """A client handed this replica a signed request (``SubmitRequest``)."""

    envelope: IngressMessage
    now: int


@dataclass(frozen=True)
class VoteRequested:
    """A client asks for this replica's vote on a Sui transaction (``SuiVoteRequest``);
    the replica answers with an ``Answer(SuiVote)`` action."""

    transaction: SignedTransaction
    now: int


@dataclass(frozen=True)
class CertificateDelivered:
    """A client hands this replica an owned-object certificate to execute on the fast
    path (``SuiCertificateRequest``); the answer is an ``Answer(SuiSignedEffects)``."""

    certificate: CertifiedTransaction
    now: int


Event = Started | MessageReceived | TimerExpired | ClientSubmitted | VoteRequested | CertificateDelivered
