"""Intents: the three bytes Sui puts in front of everything it signs.

An intent names what a signature is for (scope), the version of that format and the
application, so that a signature over a transaction can never be replayed as a signature
over a personal message or a checkpoint, even when the bytes after it coincide. What is
signed is ``Blake2b-256(intent · BCS(value))``; for a transaction the intent is
``[0, 0, 0]``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from vocab import bcs
from vocab.sui.digests import blake2b256


class IntentScope(enum.IntEnum):
    """What is signed, in Sui's order (one byte each)."""

    TransactionData = 0
    TransactionEffects = 1
    CheckpointSummary = 2
    PersonalMessage = 3
    SenderSignedTransaction = 4
    ProofOfPossession = 5
    HeaderDigest = 6
    BridgeEventUnused = 7
    ConsensusBlock = 8


class IntentVersion(enum.IntEnum):
    V0 = 0


class AppId(enum.IntEnum):
    Sui = 0
    Narwhal = 1
    Consensus = 2


@dataclass(frozen=True)
class Intent:
    scope: IntentScope
    version: IntentVersion = IntentVersion.V0
    app_id: AppId = AppId.Sui

    def to_bytes(self) -> bytes:
        return bytes((self.scope, self.version, self.app_id))

    @classmethod
    def from_bytes(cls, raw: bytes) -> Intent:
        if len(raw) != 3:
            raise ValueError(f"an intent has 3 bytes, not {len(raw)}")
        try:
            return cls(IntentScope(raw[0]), IntentVersion(raw[1]), AppId(raw[2]))
        except ValueError as exc:
            raise ValueError(f"intent {raw.hex()} is not one Sui defines: {exc}") from exc


TRANSACTION = Intent(IntentScope.TransactionData)
PERSONAL_MESSAGE = Intent(IntentScope.PersonalMessage)


def intent_message(intent: Intent, value_bcs: bytes) -> bytes:
    """``IntentMessage { intent, value }`` in BCS: the intent's bytes, then the value's."""
    return intent.to_bytes() + value_bcs


def signing_digest(intent: Intent, value_bcs: bytes) -> bytes:
    """The 32 bytes a Sui signature is made over."""
    return blake2b256(intent_message(intent, value_bcs))


def personal_message_bcs(message: bytes) -> bytes:
    """A personal message as Sui signs it: the bytes as a BCS ``vector<u8>``."""
    return bcs.BYTES.encode(message)


__all__ = [
    "PERSONAL_MESSAGE",
    "TRANSACTION",
    "AppId",
    "Intent",
    "IntentScope",
    "IntentVersion",
    "intent_message",
    "personal_message_bcs",
    "signing_digest",
]
