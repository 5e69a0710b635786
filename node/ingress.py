"""Ingress: which requests a replica lets in, and which a block may carry.

Two kinds of request share the pool and the blocks (``vocab.ingress_message``): the IC's
signed envelopes and Sui's transactions, bare or certified. The rules below are the IC's;
a Sui transaction instead must decode, carry valid signatures by every required signer,
be within its expiration, and not have been executed before (its digest is remembered for
good by the Sui state: ``executed``); a certificate must also carry a quorum of the
committee's votes (``vocab.sui.certificate``). Refusals carry Sui's error names as
reasons. The epoch bounds of an expiration are judged against the replica's epoch when a
client submits, but not in blocks: a block's validity may not depend on how far a replica
has executed, so execution judges them there, in consensus order.

The same rules judge a request twice: when a client submits it (against the replica's
clock) and when it appears in a proposed block (against the block's timestamp, so that
every replica reaches the same verdict). A request must be a signed ``call`` to this
subnet (the management canister or a canister in the subnet's range), not larger than
``max_ingress_bytes``, inside its expiry window, and new: a request id is accepted once
and then remembered until it expires, after which the expiry check refuses it anyway.

Every refusal is counted under its reason (``EnvelopeError.reason``: ``bad_signature``,
``expired``, ``expiry_too_far``, ``unsigned``, ``sender_mismatch``, ``oversized``..., and
``replayed``, ``wrong_subnet``, ``not_a_call``, ``pool_full``), and carries an IC reject
code.

The pool of accepted, not yet included requests is bounded in count and bytes; payloads
take requests in arrival order, so a block maker's choice is a function of what it saw.
A replica passes each request it accepted to its peers' pools (``IngressGossip``), so
that whichever replica makes the next block can include it.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from node.consensus.block import ChainBlock
from node.sui.inputs import check_shape
from vocab import crypto
from vocab.codec import Message
from vocab.committee import Verifier
from vocab.envelope import MAX_INGRESS_TTL_NS, PERMITTED_DRIFT_NS, SignedEnvelope
from vocab.errors import EnvelopeError, RejectCode, RejectError, SuiError
from vocab.genesis import Genesis
from vocab.ingress_message import IngressMessage
from vocab.sui.certificate import CertifiedTransaction
from vocab.sui.signed import SignedTransaction

ENVELOPE_OVERHEAD_BYTES = 128
"""Fixed cost counted per request for framing and field tags."""


@dataclass(frozen=True)
class IngressGossip(Message):
    """A request that passed a replica's ingress checks, passed on to its peers' pools."""

    TAG = "ingress-gossip"
    envelope: IngressMessage


class IngressError(RejectError):
    """A request refused by ingress for a reason other than its envelope's own checks."""

    def __init__(self, code: RejectCode, reason: str, message: str, error_code: str | None = None) -> None:
        super().__init__(code, message, error_code)
        self.reason = reason


def sui_refusal(error: SuiError) -> IngressError:
    """A Sui transaction's refusal as ingress reports it: Sui's name is the reason and the
    error code, under the IC's SYS_FATAL (the request as sent can never succeed)."""
    return IngressError(RejectCode.SYS_FATAL, error.name, error.message, error.name)


def envelope_size(envelope: IngressMessage) -> int:
    """The bytes a request occupies in a block, as counted against the limits (computed
    once per envelope and kept with it: admission, payload building and block validation
    all ask)."""
    size = envelope.__dict__.get("_ingress_size")
    if size is None:
        size = _envelope_size(envelope)
        object.__setattr__(envelope, "_ingress_size", size)
    return size


def _envelope_size(envelope: IngressMessage) -> int:
    if isinstance(envelope, CertifiedTransaction):
        return _envelope_size(envelope.transaction) + 68 * len(envelope.signatures)
    if isinstance(envelope, SignedTransaction):
        return (
            ENVELOPE_OVERHEAD_BYTES
            + len(envelope.tx_bytes)
            + sum(len(signature) for signature in envelope.signatures)
        )
    content = envelope.content
    return (
        ENVELOPE_OVERHEAD_BYTES
        + len(content.arg)
        + len(content.method_name.encode("utf-8"))
        + len(content.sender.raw)
        + len(content.canister_id.raw)
        + len(content.nonce or b"")
        + len(envelope.sender_pubkey or b"")
        + len(envelope.sender_sig or b"")
    )


def reason_of(error: RejectError) -> str:
    return getattr(error, "reason", "rejected")


class Ingress:
    """Admission checks, the ingress pool, and the payload rules of ``PayloadRules``."""

    def __init__(
        self,
        genesis: Genesis,
        executed: Callable[[bytes], bool] | None = None,
        epoch: Callable[[], int] | None = None,
        verify: Verifier = crypto.verify,
    ) -> None:
        self.genesis = genesis
        self.verify = verify
        """Checks a request's signature (the replica's verifier: a simulation shares one)."""
        self.executed: Callable[[bytes], bool] = executed or (lambda _request_id: False)
        """Whether the state executed a Sui transaction of this digest (for good: Sui
        transactions do not expire from replay protection as IC requests do)."""
        self.epoch: Callable[[], int] = epoch or (lambda: 0)
        """The Sui epoch this replica's state is in (for admission only)."""
        self.pool: dict[bytes, tuple[IngressMessage, int]] = {}
        self.pool_bytes = 0
        self.history: dict[bytes, int] = {}
        """Request ids in finalized blocks, with their expiry, until they expire."""
        self._history_expiry: list[tuple[int, bytes]] = []
        self._pool_expiry: list[tuple[int, bytes]] = []
        self._signature_ok: dict[bytes, bytes] = {}
        """request id -> signature already verified for it, so blocks are not re-verified."""
        self.rejections: Counter[str] = Counter()

    # -- checks ------------------------------------------------------------------------------

    def _check(self, envelope: IngressMessage, now: int, *, admission: bool = False) -> None:
        """Raise the RejectError that refuses ``envelope`` at time ``now``, if any
        (``admission``: a client's submission, judged against this replica's epoch too)."""
        size = envelope_size(envelope)
        if size > self.genesis.max_ingress_bytes:
            raise EnvelopeError(
                "oversized", f"request of {size} bytes exceeds the limit of {self.genesis.max_ingress_bytes}"
            )
        epoch = self.epoch() if admission else None
        if isinstance(envelope, CertifiedTransaction):
            self._check_certificate(envelope)
            self._check_transaction(envelope.transaction, now, epoch)
            return
        if isinstance(envelope, SignedTransaction):
            self._check_transaction(envelope, now, epoch)
            return
        content = envelope.content
        if content.request_type != "call":
            raise IngressError(
                RejectCode.SYS_FATAL,
                "not_a_call",
                f"a {content.request_type} request cannot be submitted as a call",
            )
        if not (content.canister_id.is_management or self.genesis.owns_canister(content.canister_id)):
            raise IngressError(
                RejectCode.DESTINATION_INVALID,
                "wrong_subnet",
                f"canister {content.canister_id} does not belong to this subnet",
            )
        request_id = content.request_id
        if self._signature_ok.get(request_id) == envelope.sender_sig and envelope.sender_sig is not None:
            if content.ingress_expiry < now:
                raise EnvelopeError(
                    "expired", f"request expired: ingress_expiry {content.ingress_expiry} is before {now}"
                )
            if content.ingress_expiry > now + MAX_INGRESS_TTL_NS + PERMITTED_DRIFT_NS:
                raise EnvelopeError(
                    "expiry_too_far", f"ingress_expiry {content.ingress_expiry} is too far after {now}"
                )
        else:
            envelope.verify(now, verifier=self.verify)
            if envelope.sender_sig is not None:
                self._remember_signature(request_id, envelope.sender_sig)

    def _check_certificate(self, certificate: CertifiedTransaction) -> None:
        """A quorum of the committee voted for the transaction (verified once per
        certificate; the transaction's own signatures are checked as a bare one's)."""
        key = b"certificate" + certificate.request_id
        if self._signature_ok.get(key) == certificate.wire_digest:
            return
        try:
            certificate.verify(self.genesis.committee)
        except SuiError as error:
            raise sui_refusal(error) from None
        self._remember_signature(key, certificate.wire_digest)

    def _check_transaction(self, signed: SignedTransaction, now: int, epoch: int | None) -> None:
        """A Sui transaction: it decodes, every required signer signed it (verified once
        per set of signatures), and it is valid at ``now`` (in ``epoch``, if given)."""
        request_id = signed.request_id
        try:
            if self._signature_ok.get(request_id) == signed.wire_digest:
                transaction = signed.transaction()
            else:
                transaction = signed.verify()
                self._remember_signature(request_id, signed.wire_digest)
            check_shape(transaction, epoch=epoch, timestamp_ms=now // 1_000_000)
        except SuiError as error:
            raise sui_refusal(error) from None

    def _remember_signature(self, request_id: bytes, signature: bytes) -> None:
        if len(self._signature_ok) >= 4 * self.genesis.ingress_pool_max_messages:
            self._signature_ok.pop(next(iter(self._signature_ok)))
        self._signature_ok[request_id] = signature

    def check_submission(self, envelope: IngressMessage, now: int) -> RejectError | None:
        """The refusal a client's submission would get from the checks alone (not the pool
        or replay rules), without counting it: what the fast path asks before a vote or an
        execution."""
        try:
            self._check(envelope, now, admission=True)
        except RejectError as error:
            return error
        return None

    def admit(self, envelope: IngressMessage, now: int) -> RejectError | None:
        """Check a request and put it in the pool; the refusal (counted) or None."""
        try:
            self._check(envelope, now, admission=True)
            request_id = envelope.request_id
            if self.is_replay(request_id, ()) or request_id in self.pool:
                raise IngressError(
                    RejectCode.SYS_FATAL, "replayed", f"request 0x{request_id.hex()} was already received"
                )
            size = envelope_size(envelope)
            if (
                len(self.pool) >= self.genesis.ingress_pool_max_messages
                or self.pool_bytes + size > self.genesis.ingress_pool_max_bytes
            ):
                self._expire_pool(now)
                if (
                    len(self.pool) >= self.genesis.ingress_pool_max_messages
                    or self.pool_bytes + size > self.genesis.ingress_pool_max_bytes
                ):
                    raise IngressError(
                        RejectCode.SYS_TRANSIENT, "pool_full", "the ingress pool is full; retry later"
                    )
        except RejectError as error:
            self.rejections[reason_of(error)] += 1
            return error
        self.pool[request_id] = (envelope, size)
        self.pool_bytes += size
        if isinstance(envelope, SignedEnvelope):
            heapq.heappush(self._pool_expiry, (envelope.content.ingress_expiry, request_id))
        return None

    def is_replay(self, request_id: bytes, included: Collection[bytes]) -> bool:
        """Whether a request was already executed: it is in ``included`` (the ids of the
        chain a block extends), in a finalized block that has not expired, or an executed
        Sui transaction. Replay protection is this one rule, applied at admission, in
        payloads and in validation."""
        return request_id in included or request_id in self.history or self.executed(request_id)

    def known(self, request_id: bytes) -> bool:
        return request_id in self.pool or request_id in self.history or self.executed(request_id)

    # -- the pool over time -------------------------------------------------------------------

    def _drop_from_pool(self, request_id: bytes) -> None:
        entry = self.pool.pop(request_id, None)
        if entry is not None:
            self.pool_bytes -= entry[1]

    def _expire_pool(self, now: int) -> None:
        while self._pool_expiry and self._pool_expiry[0][0] < now:
            _, request_id = heapq.heappop(self._pool_expiry)
            entry = self.pool.get(request_id)
            if (
                entry is not None
                and isinstance(entry[0], SignedEnvelope)
                and entry[0].content.ingress_expiry < now
            ):
                self._drop_from_pool(request_id)

    def on_finalized(self, block: ChainBlock) -> None:
        """Remember the block's requests until they expire; forget what expired."""
        for envelope in block.payload:
            request_id = envelope.request_id
            self._drop_from_pool(request_id)
            if not isinstance(envelope, SignedEnvelope):
                continue  # the Sui state remembers it once executed, for good
            self.history[request_id] = envelope.content.ingress_expiry
            heapq.heappush(self._history_expiry, (envelope.content.ingress_expiry, request_id))
        while self._history_expiry and self._history_expiry[0][0] < block.timestamp:
            _, request_id = heapq.heappop(self._history_expiry)
            expiry = self.history.get(request_id)
            if expiry is not None and expiry < block.timestamp:
                del self.history[request_id]
                self._signature_ok.pop(request_id, None)
        self._expire_pool(block.timestamp)

    # -- payloads (node.consensus.block.PayloadRules) ---------------------------------------

    def build_payload(self, chain: Sequence[ChainBlock], timestamp: int) -> tuple[IngressMessage, ...]:
        included = {envelope.request_id for block in chain for envelope in block.payload}
        self._expire_pool(timestamp)
        payload: list[IngressMessage] = []
        spent: list[bytes] = []
        total = 0
        for request_id, (envelope, size) in self.pool.items():
            if len(payload) >= self.genesis.max_block_messages:
                break
            if self.is_replay(request_id, included):
                continue
            if total + size > self.genesis.max_block_bytes:
                continue
            try:
                self._check(envelope, timestamp)
            except RejectError:
                if isinstance(envelope, (SignedTransaction, CertifiedTransaction)):
                    spent.append(request_id)  # no expiry would ever take it out of the pool
                continue
            payload.append(envelope)
            total += size
        for request_id in spent:
            self._drop_from_pool(request_id)
        return tuple(payload)

    def payload_error(self, block: ChainBlock, chain: Sequence[ChainBlock]) -> str | None:
        included = {envelope.request_id for ancestor in chain for envelope in ancestor.payload}
        in_block: set[bytes] = set()
        for position, envelope in enumerate(block.payload):
            request_id = envelope.request_id
            if request_id in in_block:
                return f"message {position} appears twice in the block"
            if self.is_replay(request_id, included):
                return f"message {position} (0x{request_id.hex()[:16]}) is a replay"
            in_block.add(request_id)
            try:
                self._check(envelope, block.timestamp)
            except RejectError as error:
                return f"message {position} (0x{request_id.hex()[:16]}): {reason_of(error)}: {error.message}"
        return None

    def gossip_received(self, envelope: IngressMessage, now: int) -> bool:
        """A peer passed a request on: the same checks, but refusals are not the client's
        business (they are counted under ``gossip_<reason>``)."""
        if self.known(envelope.request_id):
            return False
        error = self.admit(envelope, now)
        if error is not None:
            reason = reason_of(error)
            self.rejections[reason] -= 1
            if self.rejections[reason] == 0:
                del self.rejections[reason]
            self.rejections[f"gossip_{reason}"] += 1
            return False
        return True
