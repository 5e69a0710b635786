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
