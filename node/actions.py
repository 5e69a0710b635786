"""What a replica asks its adapter to do: the only outputs of ``Replica.handle``.

The adapter performs the actions of one ``handle`` call in list order. Persistence
actions come before the sends that depend on them (a vote is persisted as a high-water
mark before it is broadcast, a block before replies about it), so an adapter that makes
each ``Persist*`` durable before performing the next action never sends anything it
would forget in a crash.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from node.consensus.block import ChainBlock
from vocab.certificate import Certificate, CertifiedReply
from vocab.codec import Message
from vocab.sui.certificate import CertifiedTransaction


@dataclass(frozen=True)
class Send:
    """Send a message to one peer, by its position in ``genesis.nodes`` (best effort:
    consensus tolerates loss)."""

    peer: int
    message: Message


@dataclass(frozen=True)
class Broadcast:
    """Send a message to every other committee member (best effort)."""

    message: Message


@dataclass(frozen=True)
class SetTimer:
    """Deliver ``TimerExpired(timer, now)`` at time ``at``, replacing any earlier setting
    of the same timer name."""

    timer: str
    at: int


@dataclass(frozen=True)
class PersistBlock:
    """Store a finalized block with the proof that it is final (opaque here: for ICC, the
    block's own finalization or a descendant's, which is then persisted in the same
    batch). Emitted in height order; give the stored pairs back to
    ``Replica(..., finalized=...)`` on restart."""

    block: ChainBlock
    proof: Message

    @property
    def height(self) -> int:
        return self.block.height

    @property
    def block_hash(self) -> bytes:
        return self.block.hash


@dataclass(frozen=True)
class PersistHighWater:
    """Durably record that this replica has signed votes up to ``height``; pass the largest
    value back as ``Replica(..., high_water=...)`` on restart so that it never signs a
    vote contradicting one it forgot (make it durable before the next Send/Broadcast)."""

    height: int


@dataclass(frozen=True)
class PersistCertificate:
    """Store a certificate of the state after a height (give them back on restart)."""

    certificate: Certificate

    @property
    def height(self) -> int:
        return self.certificate.height

    @property
    def state_hash(self) -> bytes:
        return self.certificate.state_hash


@dataclass(frozen=True)
class PersistCheckpoint:
    """Store a checkpoint of the execution state after ``height`` (``node.checkpoint``):
    ``state_bytes`` restores to a state whose hash is ``state_hash``. Emitted every
    ``checkpoint_interval`` heights; keep the newest few and give them back on restart
    (``Replica(..., checkpoints=...)``) to replay only the blocks above one. Drop no
    block because a checkpoint covers it until the replica says so (``PruneBelow``, once
    n - f replicas certified the checkpoint's state hash)."""

    height: int
    state_hash: bytes
    state_bytes: bytes


@dataclass(frozen=True)
class PruneBelow:
    """Delete the finalized blocks, their proofs, the certificates and the checkpoints
    below ``height`` (``node.pruning``): everything there is covered by a checkpoint
    whose state hash n - f replicas certified, which is kept, as are the blocks from
    ``height`` up. One transaction; a crash before it leaves the rows, which is harmless."""

    height: int


@dataclass(frozen=True)
class PersistAnchor:
    """Replace the stored chain with the run of a verified catch-up package
    (``node.state_sync``): every stored block goes, ``blocks`` (consecutive, each proven
    by ``proof``, the checkpoint's block among them) are written, with the certificate and
    the checkpoint of ``checkpoint_height``. Durable before the blocks above are persisted."""

    blocks: tuple[ChainBlock, ...]
    proof: Message
    certificate: Certificate
    checkpoint_height: int
    state_hash: bytes
    state_bytes: bytes


@dataclass(frozen=True)
class PersistLocks:
    """The owned object versions this replica locked for a transaction in ``epoch``
    (``node.sui.locks``): durable before the vote leaves the replica, or a restarted
    replica could vote for a conflicting transaction."""

    epoch: int
    digest: bytes
    locks: tuple[tuple[bytes, int], ...]
    """(object id, version) pairs."""


@dataclass(frozen=True)
class PersistFastCertificate:
    """A certificate this replica executed on the fast path: durable before its effects
    signature leaves, so that a restarted replica executes it again and sequences it."""

    certificate: CertifiedTransaction


@dataclass(frozen=True)
class Answer:
    """The answer to the event that asked for one (a vote, signed effects): the adapter
    returns ``message`` to whoever sent the request."""

    message: Message


@dataclass(frozen=True)
class AcceptIngress:
    """Tell the client its request passed the ingress checks (``RequestAccepted``); a
    ``Reply`` follows once it is executed and certified."""

    request_id: bytes


@dataclass(frozen=True)
class RejectIngress:
    """A client's request failed the ingress checks; ``code`` is an IC reject code and
    ``reason`` the tag it is counted under. Answer the client with ``RequestRejected``."""

    request_id: bytes
    code: int
    reason: str
    message: str


@dataclass(frozen=True)
class Reply:
    """The certified result of a request this replica accepted from a client."""

    request_id: bytes
    reply: CertifiedReply


@dataclass(frozen=True)
class Notice:
    """Something worth logging or tracing: ``proposed``, ``notarized``, ``finalized``,
    ``executed``, ``certified``, ``equivocation``, ``catch_up``, ``divergence``,
    ``conflict``... ``divergence`` and ``conflict`` are alarms: this replica's state or
    chain disagrees with a quorum of its peers."""

    kind: str
    height: int
    detail: dict[str, Any] = field(default_factory=dict)


Action = (
    Send
    | Broadcast
    | SetTimer
    | PersistBlock
    | PersistHighWater
    | PersistCertificate
    | PersistCheckpoint
    | PruneBelow
    | PersistAnchor
    | PersistLocks
    | PersistFastCertificate
    | Answer
    | AcceptIngress
    | RejectIngress
    | Reply
    | Notice
)
