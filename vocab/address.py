"""Sui-style 32-byte identifiers: account addresses and object ids.

Both print as ``0x`` followed by 64 lower-case hex digits. Parsing accepts the short forms
Sui tools accept (``0x2`` is the framework's address, left-padded with zeros).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from vocab.errors import AddressError

LENGTH = 32
ED25519_FLAG = 0x00
"""Sui's signature-scheme flag for Ed25519, hashed in front of the public key."""

_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


def _parse_hex32(text: str, what: str) -> bytes:
    if not isinstance(text, str):
        raise AddressError(f"a {what} is text like 0x2a..., not {type(text).__name__}")
    if not text.startswith("0x"):
        raise AddressError(f"a {what} starts with 0x: {text!r}")
    digits = text[2:]
    if not digits:
        raise AddressError(f"a {what} has hex digits after 0x: {text!r}")
    if len(digits) > 2 * LENGTH:
        raise AddressError(f"{what} too long: {len(digits)} hex digits, at most {2 * LENGTH}")
    bad = next((char for char in digits if char not in _HEX_DIGITS), None)
    if bad is not None:
        raise AddressError(f"bad character {bad!r} in {what} {text!r}: only hex digits follow 0x")
    return bytes.fromhex(digits.rjust(2 * LENGTH, "0"))


@dataclass(frozen=True, order=True)
class SuiAddress:
    raw: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.raw, (bytes, bytearray)) or len(self.raw) != LENGTH:
            raise AddressError(f"a Sui address has {LENGTH} bytes")
        object.__setattr__(self, "raw", bytes(self.raw))

    @classmethod
    def from_ed25519_public_key(cls, raw_public_key: bytes) -> SuiAddress:
        """BLAKE2b-256 over the flag byte 0x00 and the 32-byte public key."""
        if len(raw_public_key) != 32:
            raise AddressError(f"an Ed25519 public key has 32 bytes, not {len(raw_public_key)}")
        digest = hashlib.blake2b(bytes([ED25519_FLAG]) + raw_public_key, digest_size=LENGTH).digest()
        return cls(digest)

    @classmethod
    def from_text(cls, text: str) -> SuiAddress:
        return cls(_parse_hex32(text, "Sui address"))

    def to_text(self) -> str:
        return "0x" + self.raw.hex()

    def __str__(self) -> str:
        return self.to_text()


@dataclass(frozen=True, order=True)
class ObjectId:
    raw: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.raw, (bytes, bytearray)) or len(self.raw) != LENGTH:
            raise AddressError(f"an object id has {LENGTH} bytes")
        object.__setattr__(self, "raw", bytes(self.raw))

    @classmethod
    def from_text(cls, text: str) -> ObjectId:
        return cls(_parse_hex32(text, "object id"))

    def to_text(self) -> str:
        return "0x" + self.raw.hex()

    def __str__(self) -> str:
        return self.to_text()
