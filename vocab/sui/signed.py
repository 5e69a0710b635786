"""A signed transaction: the transaction's bytes and its serialized signatures.

This is what ``sui client execute-signed-tx --tx-bytes B64 --signatures B64...`` takes and
what a replica checks before it orders a transaction: every signature must parse and
verify over the transaction under the transaction intent, every signer must be one that
has to sign (the sender, and the gas owner if another address pays), and every one that
has to sign must have signed. Failures are ``SuiError`` with Sui's error names.
In BCS the envelope is Sui's ``SenderSignedData``: a vector holding one
``SenderSignedTransaction { intent_message: IntentMessage<TransactionData>, tx_signatures }``.

Between a client and the replicas, and inside blocks, a signed transaction travels as the
codec map ``{"sui_tx": bytes, "sui_signatures": [bytes]}`` next to the IC's envelopes
(``vocab.ingress_message``): its request id is the transaction digest, so a client awaits
its certified result as it awaits a canister call's.
"""

from __future__ import annotations

import base64
import binascii
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from vocab import bcs
from vocab.errors import CodecError, SuiError
from vocab.hashing import hash_of_map
from vocab.sui.address import SuiAddress
from vocab.sui.digests import Digest, transaction_digest
from vocab.sui.intent import TRANSACTION
from vocab.sui.signature import SerializedSignature, sign
from vocab.sui.transaction import TRANSACTION_DATA, TransactionData

_SENDER_SIGNED_DATA = bcs.Vector(
    bcs.Struct(
        "SenderSignedTransaction",
        [
            ("intent", bcs.FixedBytes(3, "Intent")),
            ("transaction", bcs.Lazy(lambda: TRANSACTION_DATA, "TransactionData", 1)),
            ("signatures", bcs.Vector(bcs.BYTES)),
        ],
    )
)


def _base64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SuiError("InvalidBase64", f"{what} is not Base64: {exc}") from exc


MAX_SIGNATURE_BYTES = 1024
"""A serialized signature's size on the wire, at most (Ed25519's is 97 bytes; multisig and
zkLogin ones are larger, and refused later by name)."""
DECODED_CACHE = 4096
"""Decoded transactions remembered by their bytes (``_decoded``)."""
MAX_WIRE_SIGNATURES = 8
"""Signatures a transaction may carry on the wire (Sui requires at most two: sender, sponsor)."""


@functools.lru_cache(maxsize=DECODED_CACHE)
def _decoded(tx_bytes: bytes) -> TransactionData:
    """``tx_bytes`` decoded, remembered across the copies of one transaction a replica
    receives (the vote request, the certificate, each peer's copy, the block): each copy
    arrives as a new ``SignedTransaction``, and decoding costs about 0.1 ms. A decoded
    transaction is immutable, so the copies may share it; bytes that do not decode raise
    and are not remembered."""
    try:
        return TransactionData.from_bcs(tx_bytes)
    except bcs.BcsError as exc:
        raise SuiError("InvalidTransaction", f"the transaction bytes do not decode: {exc}") from exc


@functools.lru_cache(maxsize=DECODED_CACHE)
def _wire_digest(tx_bytes: bytes, signatures: tuple[bytes, ...]) -> bytes:
    return hash_of_map({"sui_tx": tx_bytes, "sui_signatures": list(signatures)})


@dataclass(frozen=True)
class SignedTransaction:
    tx_bytes: bytes
    signatures: tuple[bytes, ...]

    @property
    def request_id(self) -> bytes:
        """The transaction digest's 32 bytes: how a replica names the transaction in its
        pools, blocks and certified results (the IC's request id plays that part)."""
        return self.digest.raw

    @cached_property
    def wire_digest(self) -> bytes:
        """The hash that binds the transaction and its signatures into a block (remembered
        across the copies of one transaction a replica receives, as ``_decoded`` is)."""
        return _wire_digest(self.tx_bytes, self.signatures)

    def to_wire(self) -> dict[str, Any]:
        return {"sui_tx": self.tx_bytes, "sui_signatures": list(self.signatures)}

    @staticmethod
    def wire_matches(wire: Any) -> bool:
        """Whether a codec value is meant as a signed transaction (rather than an envelope)."""
        return isinstance(wire, dict) and "sui_tx" in wire

    @classmethod
    def from_wire(cls, wire: Any) -> SignedTransaction:
        """From ``to_wire``'s map; ``CodecError`` names what is malformed. The bytes are not
        decoded or verified here: ingress does that, and refuses with Sui's error names."""
        if not isinstance(wire, dict):
            raise CodecError("a signed transaction is a map")
        unknown = sorted(str(key) for key in wire if key not in ("sui_tx", "sui_signatures"))
        if unknown:
            raise CodecError(f"unknown signed transaction fields: {', '.join(unknown)}")
        tx_bytes, signatures = wire.get("sui_tx"), wire.get("sui_signatures", [])
        if not isinstance(tx_bytes, bytes):
            raise CodecError("sui_tx must be the transaction's BCS bytes")
        if not isinstance(signatures, list) or len(signatures) > MAX_WIRE_SIGNATURES:
            raise CodecError(f"sui_signatures must be a list of at most {MAX_WIRE_SIGNATURES} blobs")
        for number, signature in enumerate(signatures, start=1):
            if not isinstance(signature, bytes) or len(signature) > MAX_SIGNATURE_BYTES:
                raise CodecError(f"signature {number} must be a blob of at most {MAX_SIGNATURE_BYTES} bytes")
        return cls(tx_bytes, tuple(signatures))

    @classmethod
    def from_base64(cls, tx_bytes: str, signatures: Sequence[str]) -> SignedTransaction:
        """From the CLI's and the SDK's form: Base64 transaction bytes and signatures."""
        return cls(
            _base64(tx_bytes, "the transaction bytes"),
            tuple(_base64(sig, f"signature {i + 1}") for i, sig in enumerate(signatures)),
        )

    @classmethod
    def sign(cls, transaction: TransactionData, keys: Sequence[Ed25519PrivateKey]) -> SignedTransaction:
        """Sign ``transaction`` with each key (the sender's, then a sponsor's)."""
        tx_bytes = transaction.to_bcs()
        return cls(tx_bytes, tuple(sign(key, tx_bytes).to_bytes() for key in keys))

    @cached_property
    def digest(self) -> Digest:
        return transaction_digest(self.tx_bytes)

    def transaction(self) -> TransactionData:
        """The decoded transaction, or ``SuiError('InvalidTransaction')`` saying why not
        (decoded once: ingress, block validation and execution all ask)."""
        decoded = self.__dict__.get("_transaction")
        if decoded is None:
            decoded = _decoded(self.tx_bytes)
            self.__dict__["_transaction"] = decoded
        return decoded

    def verify(self) -> TransactionData:
        """The transaction, once every signature checks out; a ``SuiError`` otherwise."""
        transaction = self.transaction()
        required = [transaction.sender]
        if transaction.gas_data.owner != transaction.sender:
            required.append(transaction.gas_data.owner)
        if not self.signatures:
            raise SuiError(
                "SignerSignatureAbsent", f"the transaction is not signed; {transaction.sender} must sign it"
            )
        if len(self.signatures) > len(required):
            raise SuiError(
                "SignerSignatureNumberMismatch",
                f"{len(self.signatures)} signatures for {len(required)} required signer(s)",
            )
        signers: list[SuiAddress] = []
        for number, raw in enumerate(self.signatures, start=1):
            signature = SerializedSignature.from_bytes(raw)
            if signature.address not in required:
                raise SuiError(
                    "IncorrectSigner",
                    f"signature {number} is by {signature.address}, which is neither the sender "
                    f"{transaction.sender} nor the gas owner {transaction.gas_data.owner}",
                )
            if not signature.verifies(self.tx_bytes, TRANSACTION):
                raise SuiError(
                    "InvalidSignature", f"signature {number} by {signature.address} does not verify"
                )
            signers.append(signature.address)
        missing = [address for address in required if address not in signers]
        if missing:
            raise SuiError("SignerSignatureAbsent", f"no signature by {missing[0]}, which must sign")
        return transaction

    def to_bcs(self) -> bytes:
        """Sui's ``SenderSignedData`` bytes."""
        return _SENDER_SIGNED_DATA.encode(
            [
                {
                    "intent": TRANSACTION.to_bytes(),
                    "transaction": self.transaction(),
                    "signatures": list(self.signatures),
                }
            ]
        )

    @classmethod
    def from_bcs(cls, data: bytes) -> SignedTransaction:
        """From ``SenderSignedData`` (exactly one transaction, under the transaction intent);
        anything else is ``SuiError('InvalidTransaction')`` saying why."""
        try:
            entries = _SENDER_SIGNED_DATA.decode(data)
        except bcs.BcsError as exc:
            raise SuiError("InvalidTransaction", f"SenderSignedData does not decode: {exc}") from exc
        if len(entries) != 1:
            raise SuiError("InvalidTransaction", f"SenderSignedData holds {len(entries)} transactions, not 1")
        entry = entries[0]
        if entry["intent"] != TRANSACTION.to_bytes():
            raise SuiError(
                "InvalidTransaction", f"intent {entry['intent'].hex()} is not the transaction intent 000000"
            )
        return cls(entry["transaction"].to_bcs(), tuple(entry["signatures"]))


__all__ = ["SignedTransaction"]
