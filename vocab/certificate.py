"""Certified state and certified replies, checkable by a client without any replica code.

After executing height h every replica signs the root of its state tree, an IC hash tree
(``vocab.hash_tree``) as the IC certifies its state, with the separator "ic-state-root":

    /canister/<id>/certified_data   what each canister set with ic0.certified_data_set
    /height                         h (LEB128)
    /results                        the root of a Merkle tree over the results at h
    /state                          the hash of everything execution can change
    /time                           the block's time, nanoseconds (LEB128)

n - f matching signatures (2f + 1 when n = 3f + 1) make a ``Certificate``, which carries
the leaves and the hash of the ``canister`` subtree, enough to recompute the root. A
query's data certificate is the same signatures with the tree pruned to what the
canister needs (``data_certificate``). A reply travels as a ``CertifiedReply``: the result, the certificate,
and the Merkle path from the result to ``results_root``. ``verify_certified_reply`` is
all a client needs, with the committee's public keys from the genesis file; a single
replica cannot forge it, because at least f + 1 honest replicas signed the root.

The Merkle tree: leaves sorted by request id, leaf = SHA-256(0x00 . result hash), inner
node = SHA-256(0x01 . left . right), an odd node out is promoted unchanged, and the empty
tree's root is SHA-256 of nothing. The prefixes keep a leaf from passing for a node.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

import cbor2

from vocab import crypto, leb128
from vocab.codec import Message
from vocab.committee import Committee, Verifier
from vocab.errors import RejectCode, RejectError, SubnetError
from vocab.hash_tree import (
    EMPTY,
    HashTree,
    HashTreeError,
    Leaf,
    Pruned,
    from_cbor_value,
    labeled_tree,
    lookup,
    prune,
    reconstruct,
    to_cbor_value,
)
from vocab.hashing import hash_of_record, record_order
from vocab.principal import Principal

CERTIFICATION_DOMAIN = "ic-state-root"
"""What a certification signature is separated by, as the IC's state signatures are."""
EMPTY_ROOT = hashlib.sha256(b"").digest()
NO_CANISTERS = reconstruct(EMPTY)
"""The ``canister`` subtree's hash when no canister has certified data."""
RESULT_STATUSES = ("replied", "rejected")


Certified = tuple[bytes, bytes, int, bytes]
"""What a certificate vouches for besides its height: (state hash, results root, time,
the ``canister`` subtree's hash)."""


class CertificateError(SubnetError):
    """A certificate or certified reply that does not prove what it claims."""


def state_tree(
    height: int, state_hash: bytes, results_root: bytes, time_ns: int, canisters: HashTree
) -> HashTree:
    """The certified state tree of a height; ``canisters`` is the ``canister`` subtree
    (whole, or pruned to its hash)."""
    return labeled_tree(
        [
            (b"canister", canisters),
            (b"height", Leaf(leb128.encode_leb128(height))),
            (b"results", Leaf(results_root)),
            (b"state", Leaf(state_hash)),
            (b"time", Leaf(leb128.encode_leb128(time_ns))),
        ]
    )


def canister_tree(certified_data: Sequence[tuple[bytes, bytes]]) -> HashTree:
    """The ``canister`` subtree: ``<id>/certified_data`` for each (raw id, data)."""
    return labeled_tree(
        [(raw, labeled_tree([(b"certified_data", Leaf(data))])) for raw, data in certified_data]
    )


@functools.lru_cache(maxsize=1024)
def certification_message(
    height: int, state_hash: bytes, results_root: bytes, time_ns: int = 0, canister_root: bytes = NO_CANISTERS
) -> bytes:
    """The bytes a replica signs for a height: the root hash of its state tree (remembered:
    every share of a height asks for the same one)."""
    return reconstruct(state_tree(height, state_hash, results_root, time_ns, Pruned(canister_root)))


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
    time_ns: int = 0
    canister_root: bytes = NO_CANISTERS

    def __post_init__(self) -> None:
        _check_height(self.height)
        _check_hash("state_hash", self.state_hash)
        _check_hash("results_root", self.results_root)
        _check_hash("canister_root", self.canister_root)
        _check_height(self.time_ns)

    @cached_property
    def certified(self) -> Certified:
        return (self.state_hash, self.results_root, self.time_ns, self.canister_root)

    @cached_property
    def signed_bytes(self) -> bytes:
        """Remembered, as ``certified``: one share object reaches every peer."""
        return certification_message(self.height, *self.certified)

    @classmethod
    def create(
        cls,
        key: crypto.Ed25519PrivateKey,
        signer: Principal,
        height: int,
        state_hash: bytes,
        results_root: bytes,
        time_ns: int = 0,
        canister_root: bytes = NO_CANISTERS,
    ) -> CertificationShare:
        message = certification_message(height, state_hash, results_root, time_ns, canister_root)
        signature = crypto.sign(key, CERTIFICATION_DOMAIN, message)
        return cls(height, state_hash, results_root, signer, signature, time_ns, canister_root)


@dataclass(frozen=True)
class Certificate(Message):
    """A quorum of certification shares on one ``(height, state_hash, results_root)``."""

    TAG = "certificate"
    height: int
    state_hash: bytes
    results_root: bytes
    signers: tuple[Principal, ...]
    signatures: tuple[bytes, ...]
    time_ns: int = 0
    canister_root: bytes = NO_CANISTERS

    def __post_init__(self) -> None:
        _check_height(self.height)
        _check_hash("state_hash", self.state_hash)
        _check_hash("results_root", self.results_root)
        _check_hash("canister_root", self.canister_root)
        _check_height(self.time_ns)
        if len(self.signers) != len(self.signatures):
            raise ValueError("signers and signatures differ in number")

    @property
    def certified(self) -> Certified:
        return (self.state_hash, self.results_root, self.time_ns, self.canister_root)

    @property
    def signed_bytes(self) -> bytes:
        return certification_message(self.height, *self.certified)


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
        """``hash_of_map`` of the fields, with the keys' order fixed once (``_RESULT_ORDER``)."""
        return hash_of_record(
            _RESULT_ORDER,
            {
                "request_id": self.request_id,
                "height": self.height,
                "status": self.status,
                "reply": self.reply,
                "reject_code": self.reject_code,
                "reject_message": self.reject_message,
                "error_code": self.error_code,
            },
        )

    @cached_property
    def leaf(self) -> bytes:
        return hashlib.sha256(b"\x00" + self.digest).digest()

    def raise_if_rejected(self) -> bytes:
        """The reply blob, or the reject as the RejectError a caller would expect."""
        if self.status == "rejected":
            raise RejectError(RejectCode(self.reject_code), self.reject_message, self.error_code or None)
        return self.reply


_RESULT_ORDER = record_order(
    ("request_id", "height", "status", "reply", "reject_code", "reject_message", "error_code")
)


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


SELF_DESCRIBED_CBOR = 55799
"""The CBOR tag the IC puts in front of a certificate ("self-described CBOR")."""


def data_certificate(
    certificate: Certificate, canisters: HashTree, canister: bytes, committee: Committee
) -> bytes:
    """What a query of ``canister`` (raw id) gets from ``ic0.data_certificate_copy``: the
    IC's certificate format, a self-described CBOR map ``{tree, signature}``, with the
    state tree of ``certificate``'s height pruned to ``/canister/<id>/certified_data`` and
    ``/time``. ``canisters`` is that height's whole ``canister`` subtree.

    Where the IC puts one BLS threshold signature of the subnet over
    ``domain_sep("ic-state-root") . root``, this subnet has no threshold key: ``signature``
    is a CBOR map ``{signers: [node ids], signatures: [Ed25519 signatures]}`` over the same
    bytes, n - f of them, checked against the genesis committee
    (``verify_data_certificate``). Canisters pass the certificate on without reading the
    signature; an IC agent's BLS check would refuse it."""
    if reconstruct(canisters) != certificate.canister_root:
        raise CertificateError(f"the canister tree is not the one certified at height {certificate.height}")
    tree = state_tree(
        certificate.height, certificate.state_hash, certificate.results_root, certificate.time_ns, canisters
    )
    pruned = prune(tree, [[b"canister", canister, b"certified_data"], [b"time"]])
    signature = cbor2.dumps(
        {
            "signers": [signer.raw for signer in certificate.signers],
            "signatures": list(certificate.signatures),
        }
    )
    return cbor2.dumps(
        cbor2.CBORTag(SELF_DESCRIBED_CBOR, {"tree": to_cbor_value(pruned), "signature": signature})
    )


@dataclass(frozen=True)
class CertifiedData:
    """What a verified data certificate proves about one canister."""

    certified_data: bytes
    time_ns: int
    root: bytes


def verify_data_certificate(
    blob: bytes, committee: Committee, canister: Principal, verify: Verifier = crypto.verify
) -> CertifiedData:
    """Check a data certificate (``data_certificate``, as a canister hands it on, e.g. in
    an ``IC-Certificate`` header) against the committee: the tree's root signed by a
    quorum, and the canister's certified data and the time read from the tree.
    ``CertificateError`` naming what is wrong."""
    try:
        decoded = cbor2.loads(blob)
    except (cbor2.CBORDecodeError, ValueError, TypeError, RecursionError) as exc:
        raise CertificateError(f"the certificate is not CBOR: {exc}") from None
    if isinstance(decoded, cbor2.CBORTag) and decoded.tag == SELF_DESCRIBED_CBOR:
        decoded = decoded.value
    if not isinstance(decoded, Mapping) or not isinstance(decoded.get("signature"), bytes):
        raise CertificateError("a certificate is a CBOR map with a tree and a signature")
    try:
        tree = from_cbor_value(decoded.get("tree"))
        signature = cbor2.loads(decoded["signature"])
    except (HashTreeError, cbor2.CBORDecodeError, ValueError, TypeError, RecursionError) as exc:
        raise CertificateError(f"the certificate is malformed: {exc}") from None
    if (
        not isinstance(signature, Mapping)
        or not isinstance(signature.get("signers"), (list, tuple))
        or not isinstance(signature.get("signatures"), (list, tuple))
        or not all(isinstance(item, bytes) for item in (*signature["signers"], *signature["signatures"]))
    ):
        raise CertificateError("the signature is not a map of signers and signatures")
    root = reconstruct(tree)
    try:
        signers = [Principal(raw) for raw in signature["signers"]]
    except (ValueError, SubnetError) as exc:
        raise CertificateError(f"a signer is not a principal: {exc}") from None
    problem = committee.quorum_error(CERTIFICATION_DOMAIN, root, signers, signature["signatures"], verify)
    if problem is not None:
        raise CertificateError(f"the certificate's signature is not valid: {problem}")
    found, data = lookup(tree, [b"canister", canister.raw, b"certified_data"])
    if found != "found" or data is None:
        raise CertificateError(f"the certificate has no certified data of {canister} ({found})")
    found, time = lookup(tree, [b"time"])
    if found != "found" or time is None:
        raise CertificateError(f"the certificate has no time ({found})")
    try:
        time_ns, end = leb128.read_leb128(time, 0, len(time), "time")
    except SubnetError as exc:
        raise CertificateError(f"the certificate's time is not LEB128: {exc}") from None
    if end != len(time):
        raise CertificateError("the certificate's time has bytes after its LEB128 number")
    return CertifiedData(data, time_ns, root)
