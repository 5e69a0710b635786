"""What the rest of a replica knows of a block, whatever consensus protocol made it.

Execution, ingress, certification and storage never look inside a protocol: they see a
finalized block as a ``ChainBlock`` (its height, its parent's hash and its own, the time
every canister sees, and the payload of signed envelopes and Sui transactions) and carry its proof as an
opaque message to persist and give back on restart. So ICC's ranks, proposers and vote
aggregates stay inside ``node.consensus.icc``, and a second protocol (HotStuff, a Raft
baseline) only has to produce blocks of this shape to run the same execution.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple, Protocol

from vocab.codec import Message
from vocab.ingress_message import IngressMessage

__all__ = ["ChainBlock", "Finalized", "PayloadRules"]


class ChainBlock(Message):
    """A block of some protocol, as the rest of the replica may know it.

    A base class rather than a structural protocol because a block must also be a wire
    ``Message`` (it is persisted and sent in catch-up as a codec frame), and Python has
    no intersection type to say both. A protocol's block is a frozen dataclass deriving
    from it that declares these fields itself (and its own wire ``TAG``); this class adds
    no field and no tag, so it does not change any block's encoding or hash.
    """

    height: int
    """0 for the genesis block, then consecutive."""
    parent: bytes
    """The hash of the block at ``height - 1`` (of the genesis configuration at 0)."""
    timestamp: int
    """Nanoseconds, greater than the parent's: the time every canister sees (``ic0.time``)."""
    payload: tuple[IngressMessage, ...]
    """The signed requests (IC envelopes, Sui transactions) to execute, in order."""

    @property
    def hash(self) -> bytes:
        """The block's 32-byte identity, which its child names as ``parent``."""
        raise NotImplementedError


class Finalized(NamedTuple):
    """A finalized block and the proof that it is final.

    The proof is opaque outside the protocol that made it (an ICC ``Finalization`` that
    may name a descendant of the block): persist it next to the block and hand the pair
    back on restart; the protocol checks it again then.
    """

    block: ChainBlock
    proof: Message


class PayloadRules(Protocol):
    """The payload side of block making and validation (implemented by ``node.ingress``).

    ``chain`` is the list of not yet finalized ancestors of the block being built or
    checked, nearest first, ending just above the finalized tip; together with the
    finalized history the implementation keeps, it tells which requests are already
    included, so that none is included twice. Any protocol that builds blocks ahead of
    finalization needs exactly this, so the rules are stated here and not in ICC.
    """

    def build_payload(self, chain: Sequence[ChainBlock], timestamp: int) -> tuple[IngressMessage, ...]: ...

    def payload_error(self, block: ChainBlock, chain: Sequence[ChainBlock]) -> str | None: ...
