"""Sui's vocabulary, shared by the node (executing transactions) and the client (building,
signing and printing them): addresses and object ids, Base58 digests salted with type
names, intents, serialized Ed25519 signatures, object ids derived from transactions,
object references, owners and stored objects, Move type tags, pure arguments,
``TransactionData`` in Sui's exact BCS with a builder, and the signed-transaction
envelope. Pure: no I/O, built on ``vocab.bcs`` and ``vocab.crypto``.
"""

__all__ = [
    "address",
    "base58",
    "bcs_helpers",
    "builder",
    "digests",
    "ids",
    "intent",
    "objects",
    "pure",
    "signature",
    "signed",
    "transaction",
    "type_tag",
]
