"""Sui's 32-byte digests: Blake2b-256 over a type-name salt and the value's BCS.

Sui hashes every signed or stored structure as ``Blake2b-256("TypeName::" · BCS(value))``,
so that a transaction's bytes can never be passed off as an object's or a checkpoint's.
Digests print in Base58. In BCS a digest is a byte vector (a length byte 32, then the
bytes), not a fixed array: that is how Sui's ``Digest`` serializes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from vocab import bcs
from vocab.sui import base58

LENGTH = 32

TRANSACTION_DATA = "TransactionData"
TRANSACTION_EFFECTS = "TransactionEffects"
TRANSACTION_EVENTS = "TransactionEvents"
OBJECT = "Object"
CHECKPOINT_SUMMARY = "CheckpointSummary"
CHECKPOINT_CONTENTS = "CheckpointContents"
SENDER_SIGNED_DATA = "SenderSignedData"


def blake2b256(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=LENGTH).digest()


@dataclass(frozen=True, order=True)
class Digest:
    """A transaction, object, effects or checkpoint digest."""

    raw: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.raw, (bytes, bytearray)) or len(self.raw) != LENGTH:
            raise ValueError(f"a digest has {LENGTH} bytes")
        object.__setattr__(self, "raw", bytes(self.raw))

    @classmethod
    def from_text(cls, text: str) -> Digest:
        """From Base58, as Sui prints digests."""
        return cls(base58.decode(text, LENGTH))

    def to_text(self) -> str:
        return base58.encode(self.raw)

    def __str__(self) -> str:
        return self.to_text()


def salted(type_name: str, bcs_bytes: bytes) -> Digest:
    """``Blake2b-256(type_name · "::" · bcs_bytes)``: Sui's digest of a typed value."""
    return Digest(blake2b256(type_name.encode("ascii") + b"::" + bcs_bytes))


def transaction_digest(tx_bytes: bytes) -> Digest:
    """The digest of BCS ``TransactionData``: the transaction's id."""
    return salted(TRANSACTION_DATA, tx_bytes)


def package_digest(modules: Iterable[bytes], dependencies: Iterable[bytes]) -> bytes:
    """What ``authorize_upgrade`` expects: Blake2b-256 over the sorted concatenation of
    each module's Blake2b-256 and each transitive dependency's 32-byte id."""
    parts = [blake2b256(module) for module in modules]
    for dependency in dependencies:
        if len(dependency) != LENGTH:
            raise ValueError(f"a dependency id has {LENGTH} bytes, not {len(dependency)}")
        parts.append(bytes(dependency))
    return blake2b256(b"".join(sorted(parts)))


def _digest(raw: bytes) -> Digest:
    if len(raw) != LENGTH:
        raise ValueError(f"a digest has {LENGTH} bytes, not {len(raw)}")
    return Digest(raw)


DIGEST = bcs.Mapped(bcs.BYTES, _digest, lambda d: d.raw, "Digest")
"""A digest in BCS: length 32 (one byte), then the 32 bytes."""

__all__ = [
    "CHECKPOINT_CONTENTS",
    "CHECKPOINT_SUMMARY",
    "DIGEST",
    "LENGTH",
    "OBJECT",
    "SENDER_SIGNED_DATA",
    "TRANSACTION_DATA",
    "TRANSACTION_EFFECTS",
    "TRANSACTION_EVENTS",
    "Digest",
    "blake2b256",
    "package_digest",
    "salted",
    "transaction_digest",
]
