"""A signed transaction: the transaction's bytes and its serialized signatures.

This is what ``sui client execute-signed-tx --tx-bytes B64 --signatures B64...`` takes and
what a replica checks before it orders a transaction: every signature must parse and
verify over the transaction under the transaction intent, every signer must be one that
has to sign (the sender, and the gas owner if another address pays), and every one that
has to sign must have signed. Failures are ``SuiError`` with Sui's error names.
In BCS the envelope is Sui's ``SenderSignedData``: a vector holding one
``SenderSignedTransaction { intent_message: IntentMessage<TransactionData>, tx_signatures }``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from vocab import bcs
from vocab.errors import SuiError
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


@dataclass(frozen=True)
class SignedTransaction:
    tx_bytes: bytes
    signatures: tuple[bytes, ...]

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

    @property
    def digest(self) -> Digest:
        return transaction_digest(self.tx_bytes)

    def transaction(self) -> TransactionData:
        """The decoded transaction, or ``SuiError('InvalidTransaction')`` saying why not."""
        try:
            return TransactionData.from_bcs(self.tx_bytes)
        except bcs.BcsError as exc:
            raise SuiError("InvalidTransaction", f"the transaction bytes do not decode: {exc}") from exc

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
