"""Sui's 32-byte identifiers: account addresses and object ids.

Both print as ``0x`` and 64 lower-case hex digits. Parsing accepts the short forms Sui tools
accept (``0x2`` is the framework's address, left-padded with zeros) and upper-case digits,
and names what is wrong with anything else. An address is Blake2b-256 over a signature
scheme's flag byte and the public key (0x00 for Ed25519), so it commits to the scheme too.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from vocab import bcs
from vocab.errors import AddressError

LENGTH = 32
ED25519_FLAG = 0x00
"""Sui's signature-scheme flag for Ed25519, hashed in front of the public key."""

_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


def parse_hex32(text: str, what: str) -> bytes:
    """The 32 bytes of ``0x``-prefixed hex, short forms left-padded; ``what`` names the
    kind of id in the error."""
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


def _checked(raw: object, what: str) -> bytes:
    if not isinstance(raw, (bytes, bytearray)) or len(raw) != LENGTH:
        size = len(raw) if isinstance(raw, (bytes, bytearray)) else type(raw).__name__
        raise AddressError(f"a {what} has {LENGTH} bytes, not {size}")
    return bytes(raw)


@dataclass(frozen=True, order=True)
class SuiAddress:
    """An account address (also an object's address when it owns other objects)."""

    raw: bytes

    def __post_init__(self) -> None:
        object.__setattr__(self, "raw", _checked(self.raw, "Sui address"))

    @classmethod
    def from_ed25519_public_key(cls, raw_public_key: bytes) -> SuiAddress:
        """Blake2b-256 over the flag byte 0x00 and the 32-byte public key."""
        if len(raw_public_key) != 32:
            raise AddressError(f"an Ed25519 public key has 32 bytes, not {len(raw_public_key)}")
        digest = hashlib.blake2b(bytes([ED25519_FLAG]) + raw_public_key, digest_size=LENGTH).digest()
        return cls(digest)

    @classmethod
    def from_text(cls, text: str) -> SuiAddress:
        return cls(parse_hex32(text, "Sui address"))

    def to_text(self) -> str:
        return "0x" + self.raw.hex()

    def short_text(self) -> str:
        """``0x2`` for the framework: the hex without leading zeros, as Move prints it."""
        return "0x" + (self.raw.hex().lstrip("0") or "0")

    def __str__(self) -> str:
        return self.to_text()


@dataclass(frozen=True, order=True)
class ObjectId:
    """An object's id: derived from the creating transaction's digest (``vocab.sui.ids``)."""

    raw: bytes

    def __post_init__(self) -> None:
        object.__setattr__(self, "raw", _checked(self.raw, "object id"))

    @classmethod
    def from_text(cls, text: str) -> ObjectId:
        return cls(parse_hex32(text, "object id"))

    def to_text(self) -> str:
        return "0x" + self.raw.hex()

    def short_text(self) -> str:
        return "0x" + (self.raw.hex().lstrip("0") or "0")

    def to_address(self) -> SuiAddress:
        """The same 32 bytes as an address: objects own objects through it."""
        return SuiAddress(self.raw)

    def __str__(self) -> str:
        return self.to_text()


def normalize(text: str) -> str:
    """Any accepted form of an address or id as ``0x`` and 64 lower-case hex digits."""
    return "0x" + parse_hex32(text, "Sui address").hex()


ADDRESS = bcs.Mapped(bcs.ADDRESS, SuiAddress, lambda a: a.raw, "SuiAddress")
"""An address in BCS: 32 bytes, no length."""
OBJECT_ID = bcs.Mapped(bcs.ADDRESS, ObjectId, lambda a: a.raw, "ObjectID")
"""An object id in BCS: 32 bytes, no length."""

STD_PACKAGE = ObjectId(bytes(31) + b"\x01")
"""0x1, MoveStdlib, published at genesis."""
SUI_PACKAGE = ObjectId(bytes(31) + b"\x02")
"""0x2, the Sui framework, published at genesis."""
FRAMEWORK_PACKAGES = (STD_PACKAGE, SUI_PACKAGE)
"""What every package depends on, as ``sui client publish`` lists the dependencies."""

__all__ = [
    "FRAMEWORK_PACKAGES",
    "STD_PACKAGE",
    "SUI_PACKAGE",
    "ADDRESS",
    "ED25519_FLAG",
    "LENGTH",
    "OBJECT_ID",
    "ObjectId",
    "SuiAddress",
    "normalize",
    "parse_hex32",
]
