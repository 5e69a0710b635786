"""A replica's durable record: finalized blocks with their proofs, certified state hashes,
and checkpoints, in SQLite (WAL mode).

The store holds opaque bytes (encoded artifacts), so it does not change when the artifact
types do. It refuses to record a second, different block at a height it has finalized: a
replica's disk is the last line of defence against a fork, and a conflict there is a loud
error, never an overwrite. Writes use ``synchronous=FULL`` so that a height the replica
acknowledged survives the process being killed, and the machine losing power.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from vocab.errors import SubnetError

SCHEMA_VERSION = 1


class StorageError(SubnetError):
    """The data directory is unusable or would be made inconsistent."""


@dataclass(frozen=True)
class StoredBlock:
    height: int
    block_hash: bytes
    block: bytes
    proof: bytes


@dataclass(frozen=True)
class StoredCheckpoint:
    height: int
    state_hash: bytes
    state: bytes


class BlockStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(path, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._create()
        except sqlite3.DatabaseError as exc:
            raise StorageError(f"{path}: not a usable replica database ({exc})") from exc

    def _create(self) -> None:
        with self._transaction():
            self._db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL)")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS finalized (height INTEGER PRIMARY KEY, block_hash BLOB NOT NULL, "
                "block BLOB NOT NULL, proof BLOB NOT NULL)"
            )
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS certified (height INTEGER PRIMARY KEY, state_hash BLOB NOT NULL, "
                "certificate BLOB NOT NULL)"
            )
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS checkpoints (height INTEGER PRIMARY KEY, state_hash BLOB NOT NULL, "
                "state BLOB NOT NULL)"
            )
            row = self._db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            if row is None:
                self._db.execute("INSERT INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
            elif row[0] != SCHEMA_VERSION:
                raise StorageError(
                    f"{self.path}: schema version {row[0]}, this replica reads {SCHEMA_VERSION}"
                )

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)

    def close(self) -> None:
        self._db.close()

    # -- metadata -----------------------------------------------------------------------------

    def get_meta(self, key: str) -> bytes | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else bytes(row[0])

    def set_meta(self, key: str, value: bytes) -> None:
        with self._transaction():
            self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    # -- finalized blocks --------------------------------------------------------------------

    def finalized_height(self) -> int:
        """The highest contiguous finalized height stored (0 if none)."""
        row = self._db.execute("SELECT MAX(height) FROM finalized").fetchone()
        return int(row[0] or 0)

    def append_finalized(self, blocks: list[StoredBlock]) -> None:
        """Record finalized blocks, in order, atomically; re-recording the same block is a no-op."""
        with self._transaction():
            top = self.finalized_height()
            for stored in blocks:
                existing = self._db.execute(
                    "SELECT block_hash FROM finalized WHERE height = ?", (stored.height,)
                ).fetchone()
                if existing is not None:
                    if bytes(existing[0]) != stored.block_hash:
                        raise StorageError(
                            f"conflicting finalized block at height {stored.height}: stored "
                            f"{bytes(existing[0]).hex()[:16]}, offered {stored.block_hash.hex()[:16]}"
                        )
                    continue
                if stored.height != top + 1:
                    raise StorageError(
                        f"finalized blocks are stored contiguously: expected height {top + 1}, got {stored.height}"
                    )
                self._db.execute(
                    "INSERT INTO finalized VALUES (?, ?, ?, ?)",
                    (stored.height, stored.block_hash, stored.block, stored.proof),
                )
                top = stored.height

    def finalized_block(self, height: int) -> StoredBlock | None:
        row = self._db.execute("SELECT * FROM finalized WHERE height = ?", (height,)).fetchone()
        return None if row is None else StoredBlock(int(row[0]), bytes(row[1]), bytes(row[2]), bytes(row[3]))

    def finalized_blocks(self, start: int, stop: int | None = None) -> Iterator[StoredBlock]:
        """Blocks with start <= height < stop (to the end if stop is None), in height order."""
        query = "SELECT * FROM finalized WHERE height >= ?"
        params: tuple[int, ...] = (start,)
        if stop is not None:
            query += " AND height < ?"
            params = (start, stop)
        for row in self._db.execute(query + " ORDER BY height", params).fetchall():
            yield StoredBlock(int(row[0]), bytes(row[1]), bytes(row[2]), bytes(row[3]))

    # -- certified state hashes -------------------------------------------------------------

    def put_certificate(self, height: int, state_hash: bytes, certificate: bytes) -> None:
        with self._transaction():
            existing = self._db.execute(
                "SELECT state_hash FROM certified WHERE height = ?", (height,)
            ).fetchone()
            if existing is not None:
                if bytes(existing[0]) != state_hash:
                    raise StorageError(f"conflicting certified state hash at height {height}")
                return
            self._db.execute("INSERT INTO certified VALUES (?, ?, ?)", (height, state_hash, certificate))

    def certificate(self, height: int) -> tuple[bytes, bytes] | None:
        row = self._db.execute(
            "SELECT state_hash, certificate FROM certified WHERE height = ?", (height,)
        ).fetchone()
        return None if row is None else (bytes(row[0]), bytes(row[1]))

    def latest_certified_height(self) -> int:
        row = self._db.execute("SELECT MAX(height) FROM certified").fetchone()
        return int(row[0] or 0)

    # -- checkpoints ----------------------------------------------------------------------------

    def put_checkpoint(self, checkpoint: StoredCheckpoint, keep: int = 2) -> None:
        """Store a checkpoint and drop all but the newest ``keep``, in one transaction.

        Only checkpoints are ever pruned, never blocks: blocks are the source of truth, and
        a checkpoint is a shortcut through them."""
        if keep < 1:
            raise StorageError(f"keep at least one checkpoint, not {keep}")
        with self._transaction():
            self._db.execute(
                "INSERT OR REPLACE INTO checkpoints VALUES (?, ?, ?)",
                (checkpoint.height, checkpoint.state_hash, checkpoint.state),
            )
            self._db.execute(
                "DELETE FROM checkpoints WHERE height NOT IN "
                "(SELECT height FROM checkpoints ORDER BY height DESC LIMIT ?)",
                (keep,),
            )

    def latest_checkpoint(self) -> StoredCheckpoint | None:
        row = self._db.execute("SELECT * FROM checkpoints ORDER BY height DESC LIMIT 1").fetchone()
        return None if row is None else StoredCheckpoint(int(row[0]), bytes(row[1]), bytes(row[2]))

    def checkpoints(self) -> list[StoredCheckpoint]:
        """Every stored checkpoint, newest first: a replica tries them in this order and
        uses the first that proves valid (a corrupt newest one must not cost the older)."""
        rows = self._db.execute("SELECT * FROM checkpoints ORDER BY height DESC").fetchall()
        return [StoredCheckpoint(int(row[0]), bytes(row[1]), bytes(row[2])) for row in rows]


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any error."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db
        self._outer = False

    def __enter__(self) -> None:
        self._outer = not self._db.in_transaction
        if self._outer:
            self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if not self._outer:
            return
        if exc_type is None:
            self._db.execute("COMMIT")
        else:
            self._db.execute("ROLLBACK")
