"""Sui's serialized signatures: ``flag · signature · public key``, in Base64 on the wire.

For Ed25519 that is ``0x00 · 64-byte signature · 32-byte public key`` (97 bytes), the
signature made over ``Blake2b-256(intent · BCS(value))`` (``vocab.sui.intent``). The
signer's address follows from the flag and key, so a verifier checks both the signature
and that the address is the one that had to sign. Other schemes' flags are recognised and
refused by name.
"""

from __future__ import annotations

import base64
import binascii
import enum
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from vocab import crypto
from vocab.errors import SuiError
from vocab.sui.address import SuiAddress
from vocab.sui.intent import TRANSACTION, Intent, signing_digest


class SignatureScheme(enum.IntEnum):
    """Sui's signature-scheme flags."""

    ED25519 = 0x00
    Secp256k1 = 0x01
    Secp256r1 = 0x02
    MultiSig = 0x03
    BLS12381 = 0x04
    ZkLogin = 0x05
    Passkey = 0x06


ED25519_LENGTH = 1 + 64 + 32


def _invalid(message: str) -> SuiError:
    return SuiError("InvalidSignature", message)


@dataclass(frozen=True)
class SerializedSignature:
    """An Ed25519 signature with its public key, as Sui serializes it."""

    signature: bytes
    public_key: bytes

    def __post_init__(self) -> None:
        if len(self.signature) != 64:
            raise _invalid(f"an Ed25519 signature has 64 bytes, not {len(self.signature)}")
        if len(self.public_key) != 32:
            raise _invalid(f"an Ed25519 public key has 32 bytes, not {len(self.public_key)}")

    @property
    def scheme(self) -> SignatureScheme:
        return SignatureScheme.ED25519

    @property
    def address(self) -> SuiAddress:
        """The signer's address: Blake2b-256(flag · public key)."""
        return SuiAddress.from_ed25519_public_key(self.public_key)

    def to_bytes(self) -> bytes:
        return bytes([SignatureScheme.ED25519]) + self.signature + self.public_key

    def to_base64(self) -> str:
        return base64.b64encode(self.to_bytes()).decode("ascii")

    @classmethod
    def from_bytes(cls, raw: bytes) -> SerializedSignature:
        if not raw:
            raise _invalid("a serialized signature is empty")
        flag = raw[0]
        try:
            scheme = SignatureScheme(flag)
        except ValueError:
            raise _invalid(f"unknown signature scheme flag 0x{flag:02x}") from None
        if scheme is not SignatureScheme.ED25519:
            raise SuiError(
                "UnsupportedFeatureError", f"{scheme.name} signatures are not supported, only Ed25519"
            )
        if len(raw) != ED25519_LENGTH:
            raise _invalid(f"an Ed25519 serialized signature has {ED25519_LENGTH} bytes, not {len(raw)}")
        return cls(bytes(raw[1:65]), bytes(raw[65:]))

    @classmethod
    def from_base64(cls, text: str) -> SerializedSignature:
        try:
            raw = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise _invalid(f"a serialized signature is Base64: {exc}") from exc
        return cls.from_bytes(raw)

    def verifies(self, value_bcs: bytes, intent: Intent = TRANSACTION) -> bool:
        """True if this is a valid signature over ``value_bcs`` under ``intent``."""
        return crypto.verify_plain(self.public_key, self.signature, signing_digest(intent, value_bcs))


def sign(key: Ed25519PrivateKey, value_bcs: bytes, intent: Intent = TRANSACTION) -> SerializedSignature:
    """Sign ``value_bcs`` (a transaction's BCS by default) as Sui does."""
    signature = crypto.sign_plain(key, signing_digest(intent, value_bcs))
    return SerializedSignature(signature, crypto.raw_public_key(key))


__all__ = ["ED25519_LENGTH", "SerializedSignature", "SignatureScheme", "sign"]
