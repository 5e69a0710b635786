"""ICC's artifacts: what replicas send each other to agree on blocks, and ICC's block.

Every vote is an Ed25519 signature by a node key under its own domain separator, over
fixed-width bytes (height, then hashes), so a signature made for one purpose can never
count for another: a notarization share is not a finalization share, and neither is a
block proposal or a certification share (``vocab.certificate``).

An aggregate (notarization, finalization, certificate) is the plain list of n - f
signatures with their signers; the IC uses BLS multi-signatures for the same role.

A block's hash is the representation-independent hash of its fields, with the payload
hashed envelope by envelope (signatures included), so any party recomputes it from the
decoded fields whatever the wire encoding was.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import ClassVar, Self

from node.consensus.block import ChainBlock
from vocab import crypto
from vocab.certificate import Certificate
from vocab.codec import Message
from vocab.genesis import Genesis
from vocab.hashing import hash_of_map
from vocab.ingress_message import IngressMessage
from vocab.principal import Principal

PROPOSAL_DOMAIN = "subnet-block-proposal"
NOTARIZATION_DOMAIN = "subnet-notarization"
FINALIZATION_DOMAIN = "subnet-finalization"

MAX_CATCH_UP_BLOCKS = 200
"""Blocks in one catch-up response, before it is extended to the block its proof covers."""

__all__ = [
    "FINALIZATION_DOMAIN",
    "MAX_CATCH_UP_BLOCKS",
    "NOTARIZATION_DOMAIN",
    "PROPOSAL_DOMAIN",
    "Block",
    "BlockProposal",
    "CatchUpPackage",
    "CatchUpRequest",
    "CatchUpResponse",
    "Finalization",
    "FinalizationShare",
    "Notarization",
    "NotarizationShare",
    "envelope_digest",
    "genesis_block",
    "vote_message",
]


def envelope_digest(envelope: IngressMessage) -> bytes:
    """The hash that binds a request (an envelope, signature and key included, or a Sui
    transaction with its signatures) into a block."""
    return envelope.wire_digest


def vote_message(height: int, block_hash: bytes) -> bytes:
    return height.to_bytes(8, "big") + block_hash


def _check_hash(name: str, value: bytes) -> None:
    if len(value) != 32:
        raise ValueError(f"{name} must be a 32-byte hash, not {len(value)} bytes")


def _check_height(height: int, minimum: int = 1) -> None:
    if not minimum <= height < 2**64:
        raise ValueError(f"height must be between {minimum} and 2**64 - 1, not {height}")


@dataclass(frozen=True)
class Block(ChainBlock):
    """A block: its parent's hash, height, the proposer's rank and time, and ingress.

    Rank and proposer are ICC's own; the rest of the replica sees only the ``ChainBlock``
    fields. Height 0 is the genesis block, which nobody proposes: its parent field holds
    the hash of the genesis configuration, so two subnets with different configurations
    never share a chain.
    """

    TAG = "block"
    parent: bytes
    height: int
    rank: int
    proposer: Principal
    timestamp: int
    payload: tuple[IngressMessage, ...] = ()

    def __post_init__(self) -> None:
        _check_hash("parent", self.parent)
        _check_height(self.height, minimum=0)
        if not 0 <= self.rank < 2**16:
            raise ValueError(f"rank must be between 0 and 65535, not {self.rank}")
        if not 0 <= self.timestamp < 2**64:
            raise ValueError(f"timestamp must be a 64-bit natural number, not {self.timestamp}")
        object.__setattr__(self, "payload", tuple(self.payload))

    @cached_property
    def hash(self) -> bytes:
        return hash_of_map(
            {
                "parent": self.parent,
                "height": self.height,
                "rank": self.rank,
                "proposer": self.proposer.raw,
                "timestamp": self.timestamp,
                "payload": [envelope_digest(envelope) for envelope in self.payload],
            }
        )

    @classmethod
    def genesis(cls, config_hash: bytes, time_ns: int) -> Block:
        return cls(parent=config_hash, height=0, rank=0, proposer=Principal.management(), timestamp=time_ns)


@dataclass(frozen=True)
class BlockProposal(Message):
    """A block signed by its proposer; relayed unchanged by the replicas that vote for it."""

    TAG = "block-proposal"
    SHARED_DECODE = True
    block: Block
    signature: bytes

    def __post_init__(self) -> None:
        if self.block.height < 1:
            raise ValueError("nobody proposes the genesis block")

    @cached_property
    def signed_bytes(self) -> bytes:
        return vote_message(self.block.height, self.block.hash)

    @classmethod
    def create(cls, key: crypto.Ed25519PrivateKey, block: Block) -> BlockProposal:
        return cls(block, crypto.sign(key, PROPOSAL_DOMAIN, vote_message(block.height, block.hash)))


@dataclass(frozen=True)
class _Share(Message):
    DOMAIN: ClassVar[str] = ""
    """The domain separator the share's signature is made under."""
    height: int
    block_hash: bytes
    signer: Principal
    signature: bytes

    def __post_init__(self) -> None:
        _check_height(self.height)
        _check_hash("block_hash", self.block_hash)

    @cached_property
    def signed_bytes(self) -> bytes:
        return vote_message(self.height, self.block_hash)

    @classmethod
    def create(cls, key: crypto.Ed25519PrivateKey, signer: Principal, block: Block) -> Self:
        """The signer's vote for ``block``, signed with its node key."""
        signature = crypto.sign(key, cls.DOMAIN, vote_message(block.height, block.hash))
        return cls(block.height, block.hash, signer, signature)


@dataclass(frozen=True)
class _Aggregate(Message):
    height: int
    block_hash: bytes
    signers: tuple[Principal, ...]
    signatures: tuple[bytes, ...]

    def __post_init__(self) -> None:
        _check_height(self.height)
        _check_hash("block_hash", self.block_hash)
        if len(self.signers) != len(self.signatures):
            raise ValueError("signers and signatures differ in number")

    @cached_property
    def signed_bytes(self) -> bytes:
        return vote_message(self.height, self.block_hash)


@dataclass(frozen=True)
class NotarizationShare(_Share):
    """A vote that a block is valid and the best one this replica has seen at its height."""

    TAG = "notarization-share"
    DOMAIN = NOTARIZATION_DOMAIN


@dataclass(frozen=True)
class Notarization(_Aggregate):
    """A quorum of notarization shares: the block may be built on."""

    TAG = "notarization"


@dataclass(frozen=True)
class FinalizationShare(_Share):
    """A vote from a replica that notarized no other block at this height."""

    TAG = "finalization-share"
    DOMAIN = FINALIZATION_DOMAIN


@dataclass(frozen=True)
class Finalization(_Aggregate):
    """A quorum of finalization shares: the block and all its ancestors are final."""

    TAG = "finalization"


@dataclass(frozen=True)
class CatchUpRequest(Message):
    """Ask a peer for its finalized blocks from ``from_height`` on (inclusive)."""

    TAG = "catch-up-request"
    from_height: int
    to_height: int

    def __post_init__(self) -> None:
        _check_height(self.from_height)
        _check_height(self.to_height)


@dataclass(frozen=True)
class CatchUpResponse(Message):
    """Consecutive finalized blocks and the finalizations that prove them.

    The last block is always covered by one of the finalizations (at its own height);
    the others follow from the hash chain. Certificates for those heights ride along so
    a replica that catches up can serve certified replies too.
    """

    TAG = "catch-up-response"
    blocks: tuple[Block, ...]
    finalizations: tuple[Finalization, ...]
    certificates: tuple[Certificate, ...] = ()


@dataclass(frozen=True)
class CatchUpPackage(Message):
    """The IC's catch-up package (CUP): what a replica that is further behind than its
    peers keep blocks starts again from (``node.state_sync``).

    ``blocks`` run from the block of a checkpoint's height (``certificate.height``) up to
    the block ``finalization`` names, which proves them all through the hash chain;
    ``certificate`` is n - f replicas' signature on the state hash after the first. The
    checkpoint itself (``state_size`` bytes) and the blocks below it that the replay
    window needs (``history_size`` bytes of block frames) follow as ``StateChunk``s of
    ``chunk_size`` bytes, whose concatenation hashes to ``digest``: a state of any size
    travels in frames below the transport's limit. Nothing here is trusted until the
    certificate verifies against the committee, the blocks against the finalization, and
    the restored state against the certified hash.
    """

    TAG = "catch-up-package"
    blocks: tuple[Block, ...]
    finalization: Finalization
    certificate: Certificate
    state_size: int
    history_size: int
    chunk_size: int
    digest: bytes

    def __post_init__(self) -> None:
        if not self.blocks:
            raise ValueError("a catch-up package holds at least the checkpoint's block")
        if self.state_size < 1 or self.history_size < 0:
            raise ValueError("a catch-up package's sizes are natural numbers, its state not empty")
        if self.chunk_size < 1:
            raise ValueError(f"chunk_size must be positive, not {self.chunk_size}")
        _check_hash("digest", self.digest)

    @property
    def height(self) -> int:
        """The checkpoint's height, where the adopting replica's execution starts."""
        return self.blocks[0].height

    @property
    def chunks(self) -> int:
        total = self.state_size + self.history_size
        return (total + self.chunk_size - 1) // self.chunk_size


def genesis_block(genesis: Genesis) -> Block:
    """The height-0 block of a subnet: its parent is the hash of the genesis configuration."""
    return Block.genesis(genesis.config_hash, genesis.genesis_time_ns)
