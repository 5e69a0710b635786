"""Certified state and certified replies, checkable by a client without any replica code.

After executing height h every replica signs ``(h, state_hash, results_root)``: the hash of
everything execution can change, and the root of a Merkle tree over the results of the
requests executed at h. n - f matching signatures (2f + 1 when n = 3f + 1) make a
``Certificate``. A reply travels as a ``CertifiedReply``: the result, the certificate,
and the Merkle path from the result to ``results_root``. ``verify_certified_reply`` is
all a client needs, with the committee's public keys from the genesis file; a single
replica cannot forge it, because at least f + 1 honest replicas signed the root.

The Merkle tree: leaves sorted by request id, leaf = SHA-256(0x00 . result hash), inner
node = SHA-256(0x01 . left . right), an odd node out is promoted unchanged, and the empty
tree's root is SHA-256 of nothing. The prefixes keep a leaf from passing for a node.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from vocab import crypto
from vocab.codec import Message
from vocab.committee import Committee, Verifier
from vocab.errors import RejectCode, RejectError, SubnetError
from vocab.hashing import hash_of_map
from vocab.principal import Principal

CERTIFICATION_DOMAIN = "subnet-certification"
EMPTY_ROOT = hashlib.sha256(b"").digest()
RESULT_STATUSES = ("replied", "rejected")


class CertificateError(SubnetError):
    """A certificate or certified reply that does not prove what it claims."""


def certification_message(height: int, state_hash: bytes, results_root: bytes) -> bytes:
    """The bytes a replica signs for a height: fixed-width, so nothing is ambiguous."""
    return height.to_bytes(8, "big") + state_hash + results_root


def _check_hash(name: str, value: bytes) -> None:
    if len(value) != 32:
        raise ValueError(f"{name} must be a 32-byte hash, not {len(value)} bytes")


def _check_height(height: int) -> None:
    if not 0 <= height < 2**64:
        raise ValueError(f"height must be a 64-bit natural number, not {height}")


@dataclass(frozen=True)
class CertificationShare(Message):
    """One replica's signature on the state it reached after executing ``height``."""

    TAG = "certification-share"
    height: int
    state_hash: bytes
    results_root: bytes
    signer: Principal
    signature: bytes

    def __post_init__(self) -> None:
        _check_height(self.height)
        _check_hash("state_hash", self.state_hash)
        _check_hash("results_root", self.results_root)

    @property
    def signed_bytes(self) -> bytes:
        return certification_message(self.height, self.state_hash, self.results_root)

    @classmethod
    def create(
        cls,
        key: crypto.Ed25519PrivateKey,
        signer: Principal,
        height: int,
        state_hash: bytes,
        results_root: bytes,
    ) -> CertificationShare:
        signature = crypto.sign(
            key, CERTIFICATION_DOMAIN, certification_message(height, state_hash, results_root)
        )
        return cls(height, state_hash, results_root, signer, signature)


@dataclass(frozen=True)
class Certificate(Message):
    """A quorum of certification shares on one ``(height, state_hash, results_root)``."""

    TAG = "certificate"
    height: int
    state_hash: bytes
    results_root: bytes
    signers: tuple[Principal, ...]
    signatures: tuple[bytes, ...]

    def __post_init__(self) -> None:
        _check_height(self.height)
        _check_hash("state_hash", self.state_hash)
        _check_hash("results_root", self.results_root)
        if len(self.signers) != len(self.signatures):
            raise ValueError("signers and signatures differ in number")

    @property
    def signed_bytes(self) -> bytes:
        return certification_message(self.height, self.state_hash, self.results_root)


@dataclass(frozen=True)
class RequestResult(Message):
    """What executing one request produced: a reply blob, or a reject with IC codes."""

    TAG = "request-result"
    request_id: bytes
    height: int
    status: str
    reply: bytes = b""
    reject_code: int = 0
    reject_message: str = ""
    error_code: str = ""

    def __post_init__(self) -> None:
        _check_hash("request_id", self.request_id)
        _check_height(self.height)
        if self.status not in RESULT_STATUSES:
            raise ValueError(f"status must be one of {', '.join(RESULT_STATUSES)}, not {self.status!r}")
        if self.status == "rejected" and self.reject_code not in tuple(int(code) for code in RejectCode):
            raise ValueError(f"a rejected result needs an IC reject code, not {self.reject_code}")

    @classmethod
    def replied(cls, request_id: bytes, height: int, reply: bytes) -> RequestResult:
        return cls(request_id, height, "replied", reply=reply)

    @classmethod
    def rejected(
        cls, request_id: bytes, height: int, code: RejectCode, message: str, error_code: str = ""
    ) -> RequestResult:
        return cls(
            request_id,
            height,
            "rejected",
            reject_code=int(code),
            reject_message=message,
            error_code=error_code,
        )

    @cached_property
    def digest(self) -> bytes:
        return hash_of_map(
            {
                "request_id": self.request_id,
                "height": self.height,
                "status": self.status,
                "reply": self.reply,
                "reject_code": self.reject_code,
                "reject_message": self.reject_message,
                "error_code": self.error_code,
            }
        )

    @cached_property
    def leaf(self) -> bytes:
        return hashlib.sha256(b"\x00" + self.digest).digest()

    def raise_if_rejected(self) -> bytes:
        """The reply blob, or the reject as the RejectError a caller would expect."""
        if self.status == "rejected":
            raise RejectError(RejectCode(self.reject_code), self.reject_message, self.error_code or None)
        return self.reply


@dataclass(frozen=True)
class CertifiedReply(Message):
    """A request's result with the certificate of its height and its Merkle path."""

    TAG = "certified-reply"
    result: RequestResult
    certificate: Certificate
    index: int
    leaf_count: int
    path: tuple[bytes, ...]


# -- the Merkle tree of a height's results ------------------------------------------------


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _levels(leaves: Sequence[bytes]) -> list[list[bytes]]:
    levels = [list(leaves)]
    while len(levels[-1]) > 1:
        current = levels[-1]
        levels.append(
            [
                _node(current[i], current[i + 1]) if i + 1 < len(current) else current[i]
                for i in range(0, len(current), 2)
            ]
        )
    return levels


def sorted_results(results: Sequence[RequestResult]) -> list[RequestResult]:
    """The leaf order of a height's tree: by request id."""
    return sorted(results, key=lambda result: result.request_id)


def results_root(results: Sequence[RequestResult]) -> bytes:
    if not results:
        return EMPTY_ROOT
    return _levels([result.leaf for result in sorted_results(results)])[-1][0]


def results_paths(results: Sequence[RequestResult]) -> list[tuple[RequestResult, int, tuple[bytes, ...]]]:
    """Every result with its leaf index and sibling path, in leaf order."""
    ordered = sorted_results(results)
    levels = _levels([result.leaf for result in ordered])
    out = []
    for index, result in enumerate(ordered):
        path: list[bytes] = []
        position = index
        for level in levels[:-1]:
            sibling = position ^ 1
            if sibling < len(level):
                path.append(level[sibling])
            position //= 2
        out.append((result, index, tuple(path)))
    return out


def root_from_path(leaf: bytes, index: int, leaf_count: int, path: Sequence[bytes]) -> bytes:
    if not 0 <= index < leaf_count:
        raise CertificateError(f"leaf index {index} outside a tree of {leaf_count} leaves")
    current, position, count, used = leaf, index, leaf_count, 0
    while count > 1:
        sibling = position ^ 1
        if sibling < count:
            if used >= len(path):
                raise CertificateError("Merkle path too short")
            other = path[used]
            used += 1
            current = _node(current, other) if position % 2 == 0 else _node(other, current)
        position //= 2
        count = (count + 1) // 2
    if used != len(path):
        raise CertificateError("Merkle path too long")
    return current


# -- what a client checks -----------------------------------------------------------------


def verify_certificate(
    certificate: Certificate, committee: Committee, verify: Verifier = crypto.verify
) -> None:
    """Raise CertificateError unless a quorum of the committee signed this certificate."""
    problem = committee.quorum_error(
        CERTIFICATION_DOMAIN, certificate.signed_bytes, certificate.signers, certificate.signatures, verify
    )
    if problem is not None:
        raise CertificateError(f"certificate for height {certificate.height} is not valid: {problem}")


def verify_certified_reply(
    reply: CertifiedReply,
    committee: Committee,
    request_id: bytes | None = None,
    verify: Verifier = crypto.verify,
) -> RequestResult:
    """The certified result, after checking the certificate and the path to its root.

    Pass ``request_id`` to also make sure the reply answers the request one asked about.
    """
    result = reply.result
    if request_id is not None and result.request_id != request_id:
        raise CertificateError("the reply is for another request")
    if result.height != reply.certificate.height:
        raise CertificateError(
            f"the result is from height {result.height}, the certificate for height {reply.certificate.height}"
        )
    verify_certificate(reply.certificate, committee, verify)
    root = root_from_path(result.leaf, reply.index, reply.leaf_count, reply.path)
    if root != reply.certificate.results_root:
        raise CertificateError("the result is not part of the certified results")
    return result
