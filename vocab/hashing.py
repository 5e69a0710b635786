"""The representation-independent hash of the IC Interface Specification.

A request is identified by a hash of its content that does not depend on how the content
was serialized (CBOR on the IC, msgpack here), so that any party can recompute the id a
sender signed from the fields alone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

from vocab.leb128 import encode_leb128

HashableValue = bytes | str | int | Sequence["HashableValue"] | Mapping[str, "HashableValue"]


def hash_value(value: HashableValue) -> bytes:
    if isinstance(value, bool):
        raise TypeError("booleans have no representation-independent hash")
    if isinstance(value, int):
        return hashlib.sha256(encode_leb128(value)).digest()
    if isinstance(value, str):
        return hashlib.sha256(value.encode("utf-8")).digest()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return hashlib.sha256(bytes(value)).digest()
    if isinstance(value, Mapping):
        return hash_of_map(value)
    if isinstance(value, Sequence):
        return hashlib.sha256(b"".join(hash_value(item) for item in value)).digest()
    raise TypeError(f"no representation-independent hash for {type(value).__name__}")


def hash_of_map(fields: Mapping[str, HashableValue]) -> bytes:
    """SHA-256 over the sorted concatenation of SHA-256(key) . hash(value) pairs."""
    pairs = sorted(
        hashlib.sha256(key.encode("utf-8")).digest() + hash_value(value) for key, value in fields.items()
    )
    return hashlib.sha256(b"".join(pairs)).digest()
