"""The Sui store's tables, each keeping its part of the state hash in key order.

The store's hash feeds, table by table, every entry's record (its 32-byte key, then what
it hashes to) in the order of the keys' bytes. Sorting every table again for each block
made a block's cost grow with everything ever executed (``executed`` only grows). A
``Section`` is the table itself (a dict) that, once hashed, keeps its records as one byte
string in key order and updates it on every write, whoever writes: a block then costs
what it changed plus one hash update over the bytes. Blake2b's ``update`` is a stream, so
feeding the string at once gives the same digest as feeding its records one by one.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable
from typing import Any, Protocol, TypeVar

__all__ = ["Section", "SortedRecords"]

KEY_BYTES = 32
K = TypeVar("K")
V = TypeVar("V")


class _Digest(Protocol):
    def update(self, data: bytes | bytearray, /) -> None: ...


class SortedRecords:
    """Fixed-width records, each starting with its 32-byte key, in the keys' byte order."""

    __slots__ = ("_blob", "_keys", "width")

    def __init__(self, width: int, records: Iterable[bytes] = ()) -> None:
        """``records`` in any order, at most one per key."""
        assert width >= KEY_BYTES, width
        self.width = width
        ordered = sorted(records)  # a record starts with its key: this is key order
        self._keys = [record[:KEY_BYTES] for record in ordered]
        self._blob = bytearray(b"".join(ordered))
        assert len(self._blob) == len(self._keys) * width
        assert all(a < b for a, b in zip(self._keys, self._keys[1:])), "one record per key"

    def __len__(self) -> int:
        return len(self._keys)

    def put(self, record: bytes) -> None:
        """Insert ``record``, or replace the one with the same key."""
        assert len(record) == self.width, (len(record), self.width)
        key = record[:KEY_BYTES]
        index = bisect_left(self._keys, key)
        start = index * self.width
        if index < len(self._keys) and self._keys[index] == key:
            self._blob[start : start + self.width] = record
        else:
            self._keys.insert(index, key)
            self._blob[start:start] = record

    def remove(self, key: bytes) -> None:
        """Drop the record of ``key``, if there is one."""
        index = bisect_left(self._keys, key)
        if index < len(self._keys) and self._keys[index] == key:
            del self._keys[index]
            del self._blob[index * self.width : (index + 1) * self.width]

    def feed(self, digest: _Digest) -> None:
        """Update ``digest`` with every record, in key order."""
        digest.update(self._blob)


class Section(dict[K, V]):
    """A table of the store (keys with a 32-byte ``raw``) whose state-hash records, once
    asked for, follow every write."""

    def __init__(self, record: Callable[[Any, Any], bytes], width: int, items: Iterable[Any] = ()) -> None:
        super().__init__(items)
        self._record = record
        self._width = width
        self._sorted: SortedRecords | None = None

    def records(self) -> SortedRecords:
        """The table's records in key order (sorted once, then kept)."""
        if self._sorted is None:
            self._sorted = SortedRecords(self._width, (self._record(k, v) for k, v in self.items()))
        assert len(self._sorted) == len(self)
        return self._sorted

    def __setitem__(self, key: K, value: V) -> None:
        super().__setitem__(key, value)
        if self._sorted is not None:
            self._sorted.put(self._record(key, value))

    def __delitem__(self, key: K) -> None:
        super().__delitem__(key)
        if self._sorted is not None:
            self._sorted.remove(_raw(key))

    def pop(self, key: K, *default: Any) -> Any:
        if key not in self:
            return super().pop(key, *default)
        value = super().pop(key)
        if self._sorted is not None:
            self._sorted.remove(_raw(key))
        return value

    def setdefault(self, key: K, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return self[key]

    def update(self, *others: Any, **more: Any) -> None:
        for key, value in dict(*others, **more).items():
            self[key] = value

    def __ior__(self, other: Any) -> Section[K, V]:  # type: ignore[override,misc]
        self.update(other)
        return self

    def popitem(self) -> tuple[K, V]:
        key, value = super().popitem()
        if self._sorted is not None:
            self._sorted.remove(_raw(key))
        return key, value

    def clear(self) -> None:
        super().clear()
        self._sorted = None

    def __reduce__(self) -> Any:  # a copy or pickle is a plain dict: its records are rebuilt
        return (dict, (dict(self),))

    def copy(self) -> dict[K, V]:
        return dict(self)


def _raw(key: Any) -> bytes:
    raw: bytes = key.raw
    return raw
