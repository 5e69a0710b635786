"""How Sui derives object ids, so that every replica creates the same ids.

A new object's id is ``Blake2b-256(0xF1 · transaction digest · n)``, n being how many ids
the transaction created before it (u64 little-endian, from 0). A dynamic field's id is
``Blake2b-256(0xF0 · parent · len(key) as u64 LE · BCS(key) · BCS(key type tag))``. The
leading byte (Sui's ``HashingIntentScope``) keeps both apart from addresses, which hash a
signature flag (0x00..0x06) first.
"""

from __future__ import annotations

from vocab.sui.address import ObjectId, SuiAddress
from vocab.sui.digests import Digest, blake2b256
from vocab.sui.type_tag import TYPE_TAG, TypeTag

REGULAR_OBJECT_ID = 0xF1
CHILD_OBJECT_ID = 0xF0


def derive_object_id(tx_digest: Digest, creation_index: int) -> ObjectId:
    """The id of the ``creation_index``-th object (from 0) created by the transaction."""
    if not 0 <= creation_index < 2**64:
        raise ValueError(f"an id-creation counter is a u64, not {creation_index}")
    return ObjectId(
        blake2b256(bytes([REGULAR_OBJECT_ID]) + tx_digest.raw + creation_index.to_bytes(8, "little"))
    )


def dynamic_field_id(parent: ObjectId | SuiAddress, key_type: TypeTag, key_bcs: bytes) -> ObjectId:
    """The id of the dynamic field of ``parent`` under a key of type ``key_type``."""
    data = (
        bytes([CHILD_OBJECT_ID])
        + parent.raw
        + len(key_bcs).to_bytes(8, "little")
        + key_bcs
        + TYPE_TAG.encode(key_type)
    )
    return ObjectId(blake2b256(data))


__all__ = ["CHILD_OBJECT_ID", "REGULAR_OBJECT_ID", "derive_object_id", "dynamic_field_id"]
