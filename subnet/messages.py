"""Wire messages between a client and a replica's ingress.

Consensus artifacts between replicas live in ``subnet.artifacts``; both share the codec.
"""

from __future__ import annotations

from dataclasses import dataclass

from subnet.codec import Message
from subnet.envelope import SignedEnvelope


@dataclass(frozen=True)
class SubmitRequest(Message):
    """A client hands a signed envelope to a replica's ingress."""

    TAG = "submit"
    envelope: SignedEnvelope


@dataclass(frozen=True)
class RequestRejected(Message):
    """Ingress refused a request; ``code`` is an IC reject code, ``reason`` a counter tag."""

    TAG = "rejected"
    request_id: bytes
    code: int
    reason: str
    message: str


@dataclass(frozen=True)
class PeerHello(Message):
    """A replica dialing another says who it claims to be."""

    TAG = "peer_hello"
    node_index: int
    protocol: str


@dataclass(frozen=True)
class PeerChallenge(Message):
    """The listener asks the dialer to prove it holds the claimed node key."""

    TAG = "peer_challenge"
    nonce: bytes


@dataclass(frozen=True)
class PeerAuth(Message):
    """Signature under the dialer's node key over the challenge and both indices."""

    TAG = "peer_auth"
    signature: bytes


@dataclass(frozen=True)
class RequestAccepted(Message):
    """Ingress checked the request and will gossip it; the result comes later, certified."""

    TAG = "accepted"
    request_id: bytes


@dataclass(frozen=True)
class AwaitReply(Message):
    """Ask a replica for the certified result of a request, waiting until it exists."""

    TAG = "await_reply"
    request_id: bytes
    timeout_ms: int


@dataclass(frozen=True)
class ReplyTimeout(Message):
    """The request has no certified result yet on this replica."""

    TAG = "reply_timeout"
    request_id: bytes


@dataclass(frozen=True)
class StatusRequest(Message):
    TAG = "status_request"


@dataclass(frozen=True)
class StatusReply(Message):
    """What `subnet status` shows for one replica."""

    TAG = "status_reply"
    node_index: int
    pid: int
    address: str
    height: int
    finalized_height: int
    certified_height: int
    peers_out: list[int]
    peers_in: list[int]
    last_error: str
    rejected: dict[str, int]
