"""Request content as the IC defines it, and its request id.

The request id is what a sender signs and what a replica remembers to refuse replays, so
it is computed from the fields alone by the representation-independent hash.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from vocab.errors import EnvelopeError
from vocab.hashing import hash_of_record, record_order
from vocab.principal import Principal

REQUEST_TYPES = ("call", "query", "read_state")
MAX_METHOD_NAME_BYTES = 20_000
MAX_NONCE_BYTES = 32


@dataclass(frozen=True)
class RequestContent:
    request_type: str
    sender: Principal
    canister_id: Principal
    method_name: str
    arg: bytes
    ingress_expiry: int
    nonce: bytes | None = None

    def __post_init__(self) -> None:
        if self.request_type not in REQUEST_TYPES:
            raise EnvelopeError(
                "malformed",
                f"request_type must be one of {', '.join(REQUEST_TYPES)}, not {self.request_type!r}",
            )
        if not isinstance(self.sender, Principal) or not isinstance(self.canister_id, Principal):
            raise EnvelopeError("malformed", "sender and canister_id must be principals")
        if not isinstance(self.method_name, str):
            raise EnvelopeError("malformed", "method_name must be text")
        if len(self.method_name.encode("utf-8")) > MAX_METHOD_NAME_BYTES:
            raise EnvelopeError("malformed", f"method_name longer than {MAX_METHOD_NAME_BYTES} bytes")
        if not isinstance(self.arg, (bytes, bytearray)):
            raise EnvelopeError("malformed", "arg must be a blob")
        if (
            isinstance(self.ingress_expiry, bool)
            or not isinstance(self.ingress_expiry, int)
            or not 0 <= self.ingress_expiry < 2**64
        ):
            raise EnvelopeError("malformed", "ingress_expiry must be a 64-bit natural number of nanoseconds")
        if self.nonce is not None and (
            not isinstance(self.nonce, (bytes, bytearray)) or len(self.nonce) > MAX_NONCE_BYTES
        ):
            raise EnvelopeError("malformed", f"nonce must be a blob of at most {MAX_NONCE_BYTES} bytes")

    def to_map(self) -> dict[str, Any]:
        """The content as the specification's map of fields (principals as blobs)."""
        fields: dict[str, Any] = {
            "request_type": self.request_type,
            "sender": self.sender.raw,
            "canister_id": self.canister_id.raw,
            "method_name": self.method_name,
            "arg": bytes(self.arg),
            "ingress_expiry": self.ingress_expiry,
        }
        if self.nonce is not None:
            fields["nonce"] = bytes(self.nonce)
        return fields

    @classmethod
    def from_map(cls, fields: Any) -> RequestContent:
        if not isinstance(fields, dict):
            raise EnvelopeError("malformed", "request content must be a map")
        allowed = {"request_type", "sender", "canister_id", "method_name", "arg", "ingress_expiry", "nonce"}
        unknown = sorted(str(key) for key in fields if key not in allowed)
        if unknown:
            raise EnvelopeError("malformed", f"unknown request fields: {', '.join(unknown)}")
        missing = [
            key
            for key in ("request_type", "sender", "canister_id", "method_name", "arg", "ingress_expiry")
            if key not in fields
        ]
        if missing:
            raise EnvelopeError("malformed", f"missing request fields: {', '.join(missing)}")
        for key in ("sender", "canister_id"):
            if not isinstance(fields[key], (bytes, bytearray)) or len(fields[key]) > 29:
                raise EnvelopeError("malformed", f"{key} must be a principal of at most 29 bytes")
        return cls(
            request_type=fields["request_type"],
            sender=Principal(fields["sender"]),
            canister_id=Principal(fields["canister_id"]),
            method_name=fields["method_name"],
            arg=fields["arg"],
            ingress_expiry=fields["ingress_expiry"],
            nonce=fields.get("nonce"),
        )

    @cached_property
    def request_id(self) -> bytes:
        """Computed once per content: ingress, gossip, blocks and replies all ask for it.

        A replica decodes the same request several times (from its client or a peer's
        gossip, then inside a block), each time as a new object: equal contents share
        one computation through ``_REQUEST_IDS`` (a dict lookup by the fields instead of
        eight SHA-256 digests)."""
        try:
            known = _REQUEST_IDS.get(self)
        except TypeError:  # a bytearray argument or nonce: not hashable, not remembered
            return self._hash()
        if known is not None:
            return known
        request_id = self._hash()
        if len(_REQUEST_IDS) >= _MAX_REMEMBERED:
            _REQUEST_IDS.pop(next(iter(_REQUEST_IDS)))
        _REQUEST_IDS[self] = request_id
        return request_id

    def _hash(self) -> bytes:
        """``hash_of_map(self.to_map())``, the keys' order fixed once (``hash_of_record``)."""
        return hash_of_record(_ORDER if self.nonce is None else _ORDER_WITH_NONCE, self.to_map())


_ORDER = record_order(("request_type", "sender", "canister_id", "method_name", "arg", "ingress_expiry"))
_ORDER_WITH_NONCE = record_order(
    ("request_type", "sender", "canister_id", "method_name", "arg", "ingress_expiry", "nonce")
)
_REQUEST_IDS: dict[RequestContent, bytes] = {}
_MAX_REMEMBERED = 65_536
