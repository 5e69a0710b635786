"""A replica's owned-object locks: the one rule that makes the fast path safe.

When a replica votes for a transaction it locks each owned input version, ``(object id,
version)``, to that transaction's digest for the current epoch, and never votes for
another transaction on a locked version in that epoch. Two conflicting transactions
then cannot both gather 2f+1 votes (two quorums share an honest replica); if their votes
split so that neither does, the object stays unusable until the epoch ends, when every
lock resets (Sui's rule, ``reference/sui.md`` 4). Locking is all or nothing: a refused
vote locks nothing.

Locks are not part of the replicated state (each replica has its own); they must survive
a crash, or a restarted replica could vote twice: the replica emits ``PersistLocks``
before the vote leaves it, and rebuilds the table from what was persisted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from vocab.sui.address import ObjectId


@dataclass(frozen=True)
class LockConflict:
    """The version that is locked, and by which transaction."""

    object_id: ObjectId
    version: int
    holder: bytes


class LockTable:
    """``(object id, version) -> transaction digest`` for one epoch."""

    def __init__(self, epoch: int = 0) -> None:
        self.epoch = epoch
        self._locks: dict[tuple[ObjectId, int], bytes] = {}

    def __len__(self) -> int:
        return len(self._locks)

    def holder(self, object_id: ObjectId, version: int) -> bytes | None:
        return self._locks.get((object_id, version))

    def acquire(self, refs: Sequence[tuple[ObjectId, int]], digest: bytes) -> LockConflict | None:
        """Lock every version in ``refs`` for ``digest``, or none of them: the first version
        locked for another transaction, if any. Locking again for the same transaction is
        allowed (a client may ask twice, or another replica's vote was lost)."""
        assert len(digest) == 32, "locks are held by transaction digests"
        for object_id, version in refs:
            holder = self._locks.get((object_id, version))
            if holder is not None and holder != digest:
                return LockConflict(object_id, version, holder)
        for object_id, version in refs:
            self._locks[(object_id, version)] = digest
        return None

    def restore(self, epoch: int, entries: Iterable[tuple[ObjectId, int, bytes]]) -> None:
        """Reload persisted locks of ``epoch`` (older epochs' locks are void)."""
        if epoch != self.epoch:
            return
        for object_id, version, digest in entries:
            self._locks.setdefault((object_id, version), digest)

    def new_epoch(self, epoch: int) -> None:
        """The epoch changed (agreed through consensus): every lock resets."""
        assert epoch >= self.epoch, "epochs only grow"
        if epoch != self.epoch:
            self.epoch = epoch
            self._locks.clear()


__all__ = ["LockConflict", "LockTable"]
