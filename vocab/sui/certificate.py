"""Certificates of the owned-object fast path (Sui Lutris, the classic client-driven form).

A client sends its signed transaction to every replica; each checks it, locks the owned
input versions for it and answers with a *vote*: its node key's signature over the epoch
and the transaction digest. 2f+1 votes of one epoch, from distinct members of the
committee, make a ``CertifiedTransaction``: no other transaction can be certified on the
same owned object versions in that epoch, because two quorums share an honest replica and
an honest replica locks a version for one transaction only. A replica executes a
certificate of owned objects at once, without consensus, and signs the *effects*: the
epoch, the transaction digest, the effects digest and the hash of the response it gives;
2f+1 matching effects signatures are finality, checked by the client against the genesis
committee. Certificates also travel in blocks (``vocab.ingress_message``), so that
consensus orders every transaction and the certified state hash covers every object.

Signatures are the replicas' Ed25519 node keys under this subnet's own domain separators
(Sui signs with BLS12-381 over ``IntentMessage``s; its names for the refusals are kept:
``CertificateRequiresQuorum``, ``StakeAggregatorRepeatedSigner``, ``InvalidSignature``,
``UnknownSigner``, ``WrongEpoch``).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import msgpack
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from vocab import crypto
from vocab.committee import Committee, Verifier
from vocab.errors import CodecError, SuiError
from vocab.hashing import hash_of_map
from vocab.sui.signed import SignedTransaction

VOTE_DOMAIN = "sui-transaction-vote"
"""A replica's vote: ``sign(VOTE_DOMAIN, epoch (8, big-endian) · transaction digest)``."""
EFFECTS_DOMAIN = "sui-transaction-effects"
"""A replica's effects signature: over ``effects_message``."""


def vote_message(epoch: int, digest: bytes) -> bytes:
    """What a vote signs: the epoch and the transaction digest (a vote of one epoch is
    worth nothing in another, where locks have been reset)."""
    assert len(digest) == 32, "a transaction digest has 32 bytes"
    return epoch.to_bytes(8, "big") + digest


def sign_vote(key: Ed25519PrivateKey, epoch: int, digest: bytes) -> bytes:
    return crypto.sign(key, VOTE_DOMAIN, vote_message(epoch, digest))


def effects_message(epoch: int, digest: bytes, effects_digest: bytes, response: bytes) -> bytes:
    """What an effects signature signs: the epoch, the transaction, the effects digest and
    the SHA-256 of the JSON response (so 2f+1 signatures vouch for what the client shows)."""
    return vote_message(epoch, digest) + effects_digest + hashlib.sha256(response).digest()


def sign_effects(
    key: Ed25519PrivateKey, epoch: int, digest: bytes, effects_digest: bytes, response: bytes
) -> bytes:
    return crypto.sign(key, EFFECTS_DOMAIN, effects_message(epoch, digest, effects_digest, response))


def check_quorum(
    committee: Committee,
    signers: Sequence[int],
    signatures: Sequence[bytes],
    domain: str,
    message: bytes,
    verify: Verifier = crypto.verify,
) -> None:
    """Raise the ``SuiError`` that refuses these signatures as a quorum over ``message``:
    fewer than the committee's threshold, a signer twice, a signer outside the committee,
    or a signature that does not verify."""
    if len(signers) != len(signatures):
        raise SuiError("InvalidSignature", f"{len(signers)} signers but {len(signatures)} signatures")
    if len(signers) < committee.threshold:
        raise SuiError(
            "CertificateRequiresQuorum",
            f"{len(signers)} signatures; a quorum of this committee is {committee.threshold} of {committee.n}",
        )
    seen: set[int] = set()
    for signer, signature in zip(signers, signatures, strict=True):
        if not 0 <= signer < committee.n:
            raise SuiError("UnknownSigner", f"signer {signer} is not in the committee of {committee.n}")
        if signer in seen:
            raise SuiError("StakeAggregatorRepeatedSigner", f"signer {signer} appears twice")
        seen.add(signer)
        if not verify(committee.public_keys[signer], signature, domain, message):
            raise SuiError("InvalidSignature", f"the signature of replica {signer} does not verify")


MAX_CERTIFICATE_SIGNERS = 256
"""Signatures a certificate may carry on the wire (one per committee member at most)."""


@functools.lru_cache(maxsize=4096)
def _wire_digest(
    transaction: bytes, epoch: int, signers: tuple[int, ...], signatures: tuple[bytes, ...]
) -> bytes:
    return hash_of_map(
        {
            "sui_certificate": transaction,
            "epoch": epoch,
            "signers": list(signers),
            "signatures": list(signatures),
        }
    )


@dataclass(frozen=True)
class CertifiedTransaction:
    """A signed transaction and a quorum of votes for it in ``epoch``: what the fast path
    executes and what a block carries so that consensus orders it too."""

    transaction: SignedTransaction
    epoch: int
    signers: tuple[int, ...]
    signatures: tuple[bytes, ...]

    @property
    def request_id(self) -> bytes:
        """The transaction's digest: a certificate and its bare transaction are one request
        (consensus orders it once, whichever form arrives first)."""
        return self.transaction.request_id

    @property
    def digest(self) -> bytes:
        return self.transaction.request_id

    @cached_property
    def wire_digest(self) -> bytes:
        """The hash that binds the certificate, votes included, into a block (remembered
        across the copies of one certificate a replica receives: from the client, from
        each peer, in a block)."""
        return _wire_digest(self.transaction.wire_digest, self.epoch, self.signers, self.signatures)

    def verify(self, committee: Committee, verify: Verifier = crypto.verify) -> None:
        """Raise the ``SuiError`` that refuses the votes (see ``check_quorum``)."""
        check_quorum(
            committee,
            self.signers,
            self.signatures,
            VOTE_DOMAIN,
            vote_message(self.epoch, self.digest),
            verify,
        )

    def to_wire(self) -> dict[str, Any]:
        return {
            "sui_certificate": self.transaction.to_wire(),
            "epoch": self.epoch,
            "signers": list(self.signers),
            "signatures": list(self.signatures),
        }

    @staticmethod
    def wire_matches(wire: Any) -> bool:
        return isinstance(wire, dict) and "sui_certificate" in wire

    def to_bytes(self) -> bytes:
        """The wire form packed (what a replica persists)."""
        return bytes(msgpack.packb(self.to_wire()))

    @classmethod
    def from_bytes(cls, data: bytes) -> CertifiedTransaction:
        try:
            wire = msgpack.unpackb(data, raw=False)
        except (ValueError, msgpack.ExtraData, msgpack.FormatError, msgpack.StackError) as exc:
            raise CodecError(f"a certificate does not unpack: {exc}") from exc
        return cls.from_wire(wire)

    @classmethod
    def from_wire(cls, wire: Any) -> CertifiedTransaction:
        if not isinstance(wire, dict):
            raise CodecError("a certificate is a map")
        unknown = sorted(
            str(k) for k in wire if k not in ("sui_certificate", "epoch", "signers", "signatures")
        )
        if unknown:
            raise CodecError(f"unknown certificate fields: {', '.join(unknown)}")
        epoch, signers, signatures = wire.get("epoch"), wire.get("signers"), wire.get("signatures")
        if not isinstance(epoch, int) or isinstance(epoch, bool) or not 0 <= epoch < 2**64:
            raise CodecError("a certificate's epoch is a u64")
        if not isinstance(signers, list) or not isinstance(signatures, list):
            raise CodecError("a certificate's signers and signatures are lists")
        if len(signers) > MAX_CERTIFICATE_SIGNERS or len(signatures) > MAX_CERTIFICATE_SIGNERS:
            raise CodecError(f"a certificate carries at most {MAX_CERTIFICATE_SIGNERS} signatures")
        if not all(isinstance(s, int) and not isinstance(s, bool) and 0 <= s < 2**16 for s in signers):
            raise CodecError("a certificate's signers are committee indices")
        if not all(isinstance(s, bytes) and len(s) == 64 for s in signatures):
            raise CodecError("a certificate's signatures are 64-byte Ed25519 signatures")
        return cls(
            SignedTransaction.from_wire(wire.get("sui_certificate")), epoch, tuple(signers), tuple(signatures)
        )


__all__ = [
    "EFFECTS_DOMAIN",
    "VOTE_DOMAIN",
    "CertifiedTransaction",
    "check_quorum",
    "effects_message",
    "sign_effects",
    "sign_vote",
    "vote_message",
]
