"""The representation-independent hash of the IC Interface Specification.

A request is identified by a hash of its content that does not depend on how the content
was serialized (CBOR on the IC, msgpack here), so that any party can recompute the id a
sender signed from the fields alone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

from vocab.leb128 import encode_leb128

_sha256 = hashlib.sha256

HashableValue = bytes | str | int | Sequence["HashableValue"] | Mapping[str, "HashableValue"]


def hash_value(value: HashableValue) -> bytes:
    kind = type(value)  # the common exact types first, without the chain of isinstance
    if kind is bytes:
        return _sha256(value).digest()  # type: ignore[arg-type]
    if kind is str:
        return _sha256(value.encode("utf-8")).digest()  # type: ignore[union-attr]
    if kind is int:
        return _sha256(encode_leb128(value)).digest()  # type: ignore[arg-type]
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


_KEY_HASHES: dict[str, bytes] = {}
"""SHA-256 of field names seen so far: a few dozen names recur in every request and block."""


def key_hash(key: str) -> bytes:
    """SHA-256 of a field name, remembered (at most 4,096 distinct names)."""
    digest = _KEY_HASHES.get(key)
    if digest is None:
        digest = hashlib.sha256(key.encode("utf-8")).digest()
        if len(_KEY_HASHES) < 4096:
            _KEY_HASHES[key] = digest
    return digest


def hash_of_map(fields: Mapping[str, HashableValue]) -> bytes:
    """SHA-256 over the sorted concatenation of SHA-256(key) . hash(value) pairs."""
    keys = _KEY_HASHES
    pairs = sorted((keys.get(key) or key_hash(key)) + hash_value(value) for key, value in fields.items())
    return _sha256(b"".join(pairs)).digest()


def hash_of_record(order: Sequence[tuple[str, bytes]], values: Mapping[str, HashableValue]) -> bytes:
    """``hash_of_map`` of ``values`` for a record whose keys are known in advance:
    ``order`` holds each key with its hash, sorted by that hash (``record_order``), so
    that nothing is sorted per value. Distinct keys have distinct hashes, so the order of
    the pairs is the order of their key hashes."""
    return _sha256(b"".join(digest + hash_value(values[key]) for key, digest in order)).digest()


def record_order(keys: Sequence[str]) -> tuple[tuple[str, bytes], ...]:
    """The keys of a record with their hashes, in the order ``hash_of_map`` sorts them."""
    return tuple(sorted(((key, key_hash(key)) for key in keys), key=lambda pair: pair[1]))


def hash_of_hashed_map(hashed: Mapping[str, bytes]) -> bytes:
    """``hash_of_map`` of a map whose values are given by their hashes already, so that a
    caller holding the hash of a nested map (a request id) need not compute it again."""
    pairs = sorted(key_hash(key) + digest for key, digest in hashed.items())
    return hashlib.sha256(b"".join(pairs)).digest()
