"""Internet Computer principals: the ids of users, canisters and the management canister.

A principal is at most 29 opaque bytes whose last byte says what kind it is. Its textual
form, ``Grouped(Base32(CRC32(b) . b))``, carries a checksum so that a mistyped id is caught
before it reaches a replica; parsing therefore names precisely what is wrong with a text.
"""

from __future__ import annotations

import base64
import enum
import functools
import hashlib
import zlib
from dataclasses import dataclass

from vocab.errors import PrincipalError

MAX_LENGTH = 29
"""The specification's upper bound on a principal's length in bytes."""

ED25519_DER_PREFIX = bytes.fromhex("302a300506032b6570032100")
"""RFC 8410 SubjectPublicKeyInfo header for a raw 32-byte Ed25519 public key."""

_BASE32_ALPHABET = frozenset("abcdefghijklmnopqrstuvwxyz234567")
_MAX_TEXT_LENGTH = 63  # 29 bytes + 4 checksum bytes = 33 bytes = 53 base32 chars + 10 dashes


class PrincipalClass(enum.Enum):
    """The kinds of principal the specification distinguishes by their last byte."""

    MANAGEMENT = "management"
    OPAQUE = "opaque"
    SELF_AUTHENTICATING = "self-authenticating"
    DERIVED = "derived"
    ANONYMOUS = "anonymous"
    RESERVED = "reserved"
    UNKNOWN = "unknown"


_CLASS_BY_SUFFIX = {
    0x01: PrincipalClass.OPAQUE,
    0x02: PrincipalClass.SELF_AUTHENTICATING,
    0x03: PrincipalClass.DERIVED,
    0x04: PrincipalClass.ANONYMOUS,
    0x7F: PrincipalClass.RESERVED,
}


@functools.lru_cache(maxsize=4096)
def _text(raw: bytes) -> str:
    """The textual form of a principal's bytes (remembered: the same few node ids and
    canister ids are written into every finalization notice and log line)."""
    body = zlib.crc32(raw).to_bytes(4, "big") + raw
    compact = base64.b32encode(body).decode("ascii").lower().rstrip("=")
    return "-".join(compact[i : i + 5] for i in range(0, len(compact), 5))


@dataclass(frozen=True, order=True)
class Principal:
    """A principal as raw bytes; equality and ordering are by bytes."""

    raw: bytes

    def __hash__(self) -> int:
        # The bytes' own hash (cached by the bytes object), rather than the generated
        # hash of a one-item tuple: principals are the keys of every vote table.
        return hash(self.raw)

    def __eq__(self, other: object) -> bool:
        # What the generated method compares, without building a tuple for each side.
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Principal)
        return self.raw == other.raw

    def __post_init__(self) -> None:
        if not isinstance(self.raw, (bytes, bytearray)):
            raise PrincipalError(f"a principal is bytes, not {type(self.raw).__name__}")
        if len(self.raw) > MAX_LENGTH:
            raise PrincipalError(f"a principal has at most {MAX_LENGTH} bytes, this one has {len(self.raw)}")
        object.__setattr__(self, "raw", bytes(self.raw))

    # -- constructors -------------------------------------------------------------------

    @classmethod
    def management(cls) -> Principal:
        return cls(b"")

    @classmethod
    def anonymous(cls) -> Principal:
        return cls(b"\x04")

    @classmethod
    def self_authenticating(cls, der_public_key: bytes) -> Principal:
        """The principal of a key: SHA-224 of its DER encoding, then the suffix 0x02."""
        return cls(hashlib.sha224(der_public_key).digest() + b"\x02")

    @classmethod
    def from_ed25519_public_key(cls, raw_public_key: bytes) -> Principal:
        if len(raw_public_key) != 32:
            raise PrincipalError(f"an Ed25519 public key has 32 bytes, this one has {len(raw_public_key)}")
        return cls.self_authenticating(ED25519_DER_PREFIX + raw_public_key)

    @classmethod
    def from_hex(cls, text: str) -> Principal:
        try:
            raw = bytes.fromhex(text)
        except ValueError as exc:
            raise PrincipalError(f"not hexadecimal: {text!r}") from exc
        return cls(raw)

    @classmethod
    def from_text(cls, text: str) -> Principal:
        """Parse the textual form, naming the first rule the text breaks."""
        if not isinstance(text, str):
            raise PrincipalError(f"a textual principal is a string, not {type(text).__name__}")
        if len(text) > _MAX_TEXT_LENGTH:
            raise PrincipalError(
                f"textual principal too long: {len(text)} characters, at most {_MAX_TEXT_LENGTH}"
            )
        if text == "":
            raise PrincipalError("empty textual principal")
        groups = text.split("-")
        for index, group in enumerate(groups):
            last = index == len(groups) - 1
            if len(group) != 5 and not (last and 1 <= len(group) <= 5):
                raise PrincipalError(
                    f"wrong grouping in {text!r}: group {index + 1} has {len(group)} "
                    "characters; groups have 5, separated by single dashes"
                )
            for char in group:
                if char not in _BASE32_ALPHABET:
                    raise PrincipalError(
                        f"bad character {char!r} in {text!r}: a textual principal uses lower-case a-z and 2-7"
                    )
        compact = "".join(groups)
        padded = compact.upper() + "=" * (-len(compact) % 8)
        try:
            decoded = base64.b32decode(padded)
        except ValueError as exc:
            raise PrincipalError(f"not valid base32: {text!r}") from exc
        if len(decoded) < 4:
            raise PrincipalError(f"textual principal too short to hold a checksum: {text!r}")
        checksum, raw = decoded[:4], decoded[4:]
        if len(raw) > MAX_LENGTH:
            raise PrincipalError(f"textual principal too long: {len(raw)} bytes, at most {MAX_LENGTH}")
        if zlib.crc32(raw).to_bytes(4, "big") != checksum:
            raise PrincipalError(f"bad checksum in {text!r}")
        principal = cls(raw)
        if principal.to_text() != text:
            # Non-canonical base32 (stray bits in the last character) decodes but is not
            # the text anyone would print for these bytes.
            raise PrincipalError(f"non-canonical textual principal {text!r}")
        return principal

    # -- views ----------------------------------------------------------------------------

    def to_text(self) -> str:
        return _text(self.raw)

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        return f"Principal({self.to_text()!r})"

    @property
    def kind(self) -> PrincipalClass:
        if not self.raw:
            return PrincipalClass.MANAGEMENT
        return _CLASS_BY_SUFFIX.get(self.raw[-1], PrincipalClass.UNKNOWN)

    @property
    def is_anonymous(self) -> bool:
        return self.raw == b"\x04"

    @property
    def is_management(self) -> bool:
        return self.raw == b""


@dataclass(frozen=True, order=True)
class CanisterId:
    """A canister id: an opaque principal made of a 64-bit index, big-endian, then 01 01."""

    index: int

    def __post_init__(self) -> None:
        if not isinstance(self.index, int) or not 0 <= self.index < 2**64:
            raise PrincipalError(f"a canister index is a 64-bit unsigned integer, not {self.index!r}")

    @property
    def principal(self) -> Principal:
        return Principal(self.index.to_bytes(8, "big") + b"\x01\x01")

    @classmethod
    def from_principal(cls, principal: Principal) -> CanisterId:
        raw = principal.raw
        if len(raw) != 10 or raw[8:] != b"\x01\x01":
            raise PrincipalError(f"{principal.to_text()} is not a canister id")
        return cls(int.from_bytes(raw[:8], "big"))

    @classmethod
    def from_text(cls, text: str) -> CanisterId:
        return cls.from_principal(Principal.from_text(text))

    def to_text(self) -> str:
        return self.principal.to_text()

    def __str__(self) -> str:
        return self.to_text()
