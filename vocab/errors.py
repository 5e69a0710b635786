"""The typed errors every part of the project raises.

Errors that reach a user carry the IC's reject codes (or, for Sui, its error names), so
that a client can react to the class of failure rather than parse a message.
"""

from __future__ import annotations

import enum


class RejectCode(enum.IntEnum):
    """The IC Interface Specification's reject codes."""

    SYS_FATAL = 1
    SYS_TRANSIENT = 2
    DESTINATION_INVALID = 3
    CANISTER_REJECT = 4
    CANISTER_ERROR = 5
    SYS_UNKNOWN = 6


class SubnetError(Exception):
    """The root of every error the project raises on purpose."""


class PrincipalError(SubnetError, ValueError):
    """A principal or canister id that is malformed; the message names the broken rule."""


class AddressError(SubnetError, ValueError):
    """A Sui address or object id that is malformed."""


class CodecError(SubnetError):
    """A wire frame or message that cannot be decoded; the peer sent garbage."""


class OversizedFrame(CodecError):
    """A frame's header announces more bytes than the limit: the receiver may answer
    naming the limit before it drops the connection, instead of resetting it."""

    def __init__(self, length: int, limit: int) -> None:
        super().__init__(f"oversized frame: {length} bytes, the limit is {limit}")
        self.length = length
        self.limit = limit


class CandidError(SubnetError):
    """A Candid value, type or blob that is malformed or does not fit the expected type."""


class IdentityError(SubnetError):
    """A problem with a stored identity: unknown name, name taken, unreadable key."""


class KeyFileError(IdentityError):
    """A PEM file that is not an unencrypted PKCS#8 Ed25519 private key (a user's identity
    or a replica's node key)."""


class RejectError(SubnetError):
    """A request rejected with an IC reject code, as a replica or the client reports it."""

    def __init__(self, code: RejectCode, message: str, error_code: str | None = None) -> None:
        super().__init__(message)
        self.code = RejectCode(code)
        self.message = message
        self.error_code = error_code

    def __str__(self) -> str:
        suffix = f" [{self.error_code}]" if self.error_code else ""
        return f"reject code {int(self.code)} ({self.code.name}): {self.message}{suffix}"


class EnvelopeError(RejectError):
    """A request envelope that fails its checks (signature, sender, expiry, size).

    ``reason`` is a short stable tag (``bad_signature``, ``expired``...) that replicas
    count rejected requests by.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(RejectCode.SYS_FATAL, message)
        self.reason = reason


class SuiError(SubnetError):
    """A Sui transaction, signature or object refused; ``name`` is Sui's own name for the
    error (``InvalidSignature``, ``SignerSignatureAbsent``...), as ``RejectError`` carries
    the IC's reject code."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.message = message

    def __str__(self) -> str:
        return f"{self.name}: {self.message}"
