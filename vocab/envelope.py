"""Signed request envelopes and their verification.

Verification is a pure function of the envelope and a time the caller supplies: a replica
checks against its block time, a test against any time it likes, and nothing here reads a
clock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from vocab import crypto
from vocab.errors import EnvelopeError
from vocab.hashing import hash_of_hashed_map, hash_value
from vocab.principal import Principal
from vocab.request import RequestContent

REQUEST_DOMAIN = "ic-request"
"""Signatures cover ``"\\x0Aic-request" . request_id``."""

MAX_INGRESS_TTL_NS = 5 * 60 * 1_000_000_000
"""A request may expire at most five minutes after it is checked, as on the IC."""

PERMITTED_DRIFT_NS = 60 * 1_000_000_000
"""Tolerated clock difference between a client and the replicas."""

MAX_ARG_BYTES = 2 * 1024 * 1024
"""The IC's limit on an ingress message's payload."""


@dataclass(frozen=True)
class SignedEnvelope:
    content: RequestContent
    sender_pubkey: bytes | None = None
    sender_sig: bytes | None = None

    @classmethod
    def sign(cls, content: RequestContent, key: Ed25519PrivateKey) -> SignedEnvelope:
        der = crypto.der_public_key(key)
        if content.sender != Principal.self_authenticating(der):
            raise EnvelopeError("sender_mismatch", "the sender is not the principal of the signing key")
        signature = crypto.sign(key, REQUEST_DOMAIN, content.request_id)
        return cls(content, der, signature)

    @classmethod
    def anonymous(cls, content: RequestContent) -> SignedEnvelope:
        return cls(content)

    @property
    def request_id(self) -> bytes:
        return self.content.request_id

    @cached_property
    def wire_digest(self) -> bytes:
        """The hash of the whole envelope, signature and key included, computed once."""
        hashed = {"content": self.content.request_id}  # hash_of_map of the content map
        if self.sender_pubkey is not None:
            hashed["sender_pubkey"] = hash_value(self.sender_pubkey)
        if self.sender_sig is not None:
            hashed["sender_sig"] = hash_value(self.sender_sig)
        return hash_of_hashed_map(hashed)

    def verify(
        self,
        now_ns: int,
        *,
        max_ttl_ns: int = MAX_INGRESS_TTL_NS,
        drift_ns: int = PERMITTED_DRIFT_NS,
        verifier: Callable[[bytes, bytes, str, bytes], bool] = crypto.verify,
    ) -> None:
        """Raise EnvelopeError naming the first check that fails; return None if valid.
        ``verifier`` checks the signature (``crypto.verify``'s signature; a simulation
        shares one memoizing verifier between its replicas)."""
        content = self.content
        if len(content.arg) > MAX_ARG_BYTES:
            raise EnvelopeError(
                "oversized", f"arg of {len(content.arg)} bytes exceeds the limit of {MAX_ARG_BYTES}"
            )
        if content.ingress_expiry < now_ns:
            raise EnvelopeError(
                "expired",
                f"request expired: ingress_expiry {content.ingress_expiry} is before the replica's time {now_ns}",
            )
        if content.ingress_expiry > now_ns + max_ttl_ns + drift_ns:
            raise EnvelopeError(
                "expiry_too_far",
                f"request not yet valid: ingress_expiry {content.ingress_expiry} is more than "
                f"{(max_ttl_ns + drift_ns) // 1_000_000_000} s after the replica's time {now_ns}",
            )
        if content.sender.is_anonymous:
            if self.sender_pubkey is not None or self.sender_sig is not None:
                raise EnvelopeError("bad_signature", "an anonymous request carries no key or signature")
            return
        if self.sender_pubkey is None or self.sender_sig is None:
            raise EnvelopeError("unsigned", f"request from {content.sender} is not signed")
        raw = crypto.raw_from_der(self.sender_pubkey)
        if raw is None:
            raise EnvelopeError("bad_public_key", "sender_pubkey is not a DER-encoded Ed25519 public key")
        if Principal.self_authenticating(self.sender_pubkey) != content.sender:
            raise EnvelopeError(
                "sender_mismatch", f"sender {content.sender} is not the principal of sender_pubkey"
            )
        if not verifier(raw, self.sender_sig, REQUEST_DOMAIN, content.request_id):
            raise EnvelopeError("bad_signature", "sender_sig does not verify for this request")

    @staticmethod
    def wire_matches(wire: Any) -> bool:
        """Whether a codec value is meant as an envelope (rather than a Sui transaction)."""
        return isinstance(wire, dict) and "content" in wire

    def to_wire(self) -> dict[str, Any]:
        wire: dict[str, Any] = {"content": self.content.to_map()}
        if self.sender_pubkey is not None:
            wire["sender_pubkey"] = self.sender_pubkey
        if self.sender_sig is not None:
            wire["sender_sig"] = self.sender_sig
        return wire

    @classmethod
    def from_wire(cls, wire: Any) -> SignedEnvelope:
        """The envelope a decoded wire map describes.

        A replica decodes each request more than once (from its client or a peer's gossip,
        then in a block): a signed map equal to one decoded lately gives back that same
        (immutable) envelope, with its request id and digest already computed, instead of
        being checked and hashed again (``_DECODED``, by signature, equality checked)."""
        sig = wire.get("sender_sig") if isinstance(wire, dict) else None
        if isinstance(sig, bytes):
            known = _DECODED.get(sig)
            if known is not None and known[0] == wire:
                return known[1]
        envelope = cls._from_wire(wire)
        if isinstance(sig, bytes):
            if len(_DECODED) >= _MAX_DECODED:
                _DECODED.pop(next(iter(_DECODED)))
            _DECODED[sig] = (wire, envelope)
        return envelope

    @classmethod
    def _from_wire(cls, wire: Any) -> SignedEnvelope:
        if not isinstance(wire, dict) or "content" not in wire:
            raise EnvelopeError("malformed", "an envelope is a map with a content field")
        unknown = sorted(str(key) for key in wire if key not in ("content", "sender_pubkey", "sender_sig"))
        if unknown:
            raise EnvelopeError("malformed", f"unknown envelope fields: {', '.join(unknown)}")
        pubkey = wire.get("sender_pubkey")
        sig = wire.get("sender_sig")
        for name, value in (("sender_pubkey", pubkey), ("sender_sig", sig)):
            if value is not None and (not isinstance(value, bytes) or len(value) > 1024):
                raise EnvelopeError("malformed", f"{name} must be a blob of at most 1024 bytes")
        return cls(RequestContent.from_map(wire["content"]), pubkey, sig)


_DECODED: dict[bytes, tuple[dict[str, Any], SignedEnvelope]] = {}
"""Recently decoded signed envelopes by signature, with the wire map they came from."""
_MAX_DECODED = 65_536
