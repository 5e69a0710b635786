"""A replica's durable record: finalized blocks with their proofs, certified state hashes,
and checkpoints, in SQLite (WAL mode).

The store holds opaque bytes (encoded artifacts), so it does not change when the artifact
types do. It refuses to record a second, different block at a height it has finalized: a
replica's disk is the last line of defence against a fork, and a conflict there is a loud
error, never an overwrite. Writes use ``synchronous=FULL`` so that a height the replica
acknowledged survives the process being killed, and the machine losing power.

Damage is reported, never a traceback: every read goes through ``_reading``, which turns
``sqlite3.DatabaseError`` ("database disk image is malformed", "file is not a
database") and rows of the wrong shape into ``DamagedStore`` naming the file, what was
being read and the damage. ``check`` runs SQLite's own ``quick_check``.
``move_aside`` renames a damaged database (with its WAL) out of the way, never deleting
it, and ``salvage`` copies what is still readable of it into a fresh store;
``quarantine_blocks_from`` moves blocks that failed verification out of the chain into
``damaged_blocks`` so that the same heights can be written again from peers.
``node.recovery`` decides when to do which.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from vocab.errors import SubnetError

SCHEMA_VERSION = 1
WAL_SIZE_LIMIT = 16 * 1024 * 1024
"""Bytes the write-ahead log is truncated to after a checkpoint (``journal_size_limit``)."""


class StorageError(SubnetError):
    """The data directory is unusable or would be made inconsistent."""


class DamagedStore(StorageError):
    """The database file is damaged: SQLite refuses it, or a row has the wrong shape."""

    def __init__(self, path: Path, what: str, damage: str) -> None:
        super().__init__(f"{path}: damaged ({what}): {damage}")
        self.path = path
        self.what = what
        self.damage = damage


T = TypeVar("T")


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
        self._reclaim_due = False
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(path, isolation_level=None)
            # Before the first table exists: freed pages can then be given back to the
            # file system (``prune_below``); a database made before keeps its pages for
            # reuse, which bounds it all the same.
            self._db.execute("PRAGMA auto_vacuum=INCREMENTAL")
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            # The -wal file is cut back to this after each checkpoint of it.
            self._db.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")
            self._create()
        except sqlite3.DatabaseError as exc:
            raise DamagedStore(path, "opening", f"not a usable replica database ({exc})") from exc

    @contextmanager
    def _reading(self, what: str) -> Iterator[None]:
        """Turn SQLite's complaints and malformed rows met inside into ``DamagedStore``."""
        try:
            yield
        except sqlite3.DatabaseError as exc:
            raise DamagedStore(self.path, what, str(exc)) from exc
        except (TypeError, ValueError, IndexError) as exc:
            raise DamagedStore(self.path, what, f"a malformed row ({exc})") from exc

    def _one(self, what: str, query: str, params: tuple[Any, ...], shape: Callable[[Any], T]) -> T | None:
        with self._reading(what):
            row = self._db.execute(query, params).fetchone()
            return None if row is None else shape(row)

    def _all(self, what: str, query: str, params: tuple[Any, ...], shape: Callable[[Any], T]) -> list[T]:
        with self._reading(what):
            return [shape(row) for row in self._db.execute(query, params).fetchall()]

    def check(self) -> None:
        """SQLite's ``quick_check`` of every page and index; ``DamagedStore`` if it fails."""
        problems = self._all(
            "quick_check", "PRAGMA quick_check(5)", (), lambda row: " ".join(str(row[0]).split())
        )
        if problems != ["ok"]:
            raise DamagedStore(self.path, "quick_check", "; ".join(problems))

    def _create(self) -> None:
        with self._transaction(), self._reading("creating the tables"):
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
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS damaged_blocks (height INTEGER NOT NULL, block_hash BLOB, "
                "block BLOB, proof BLOB, reason TEXT NOT NULL)"
            )
            # The Sui fast path's own state (``node.sui.locks``, ``node.sui.fast_layer``).
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS sui_locks (epoch INTEGER NOT NULL, object_id BLOB NOT NULL, "
                "version INTEGER NOT NULL, digest BLOB NOT NULL, PRIMARY KEY (epoch, object_id, version))"
            )
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS sui_fast_certificates (position INTEGER PRIMARY KEY AUTOINCREMENT, "
                "digest BLOB NOT NULL UNIQUE, certificate BLOB NOT NULL)"
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

    def batch(self) -> _Transaction:
        """One transaction (one sync) around several writes: ``with store.batch(): ...``.
        Writes inside join it; it commits at the end, or rolls all of them back on an error."""
        return _Transaction(self._db)

    def close(self) -> None:
        self._db.close()

    # -- metadata -----------------------------------------------------------------------------

    def get_meta(self, key: str) -> bytes | None:
        return self._one(
            f"meta {key!r}", "SELECT value FROM meta WHERE key = ?", (key,), lambda row: _blob(row[0])
        )

    def set_meta(self, key: str, value: bytes) -> None:
        with self._transaction(), self._reading(f"writing meta {key!r}"):
            self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    # -- finalized blocks --------------------------------------------------------------------

    def finalized_height(self) -> int:
        """The highest contiguous finalized height stored (0 if none)."""
        top = self._one(
            "the finalized height", "SELECT MAX(height) FROM finalized", (), lambda row: _int(row[0] or 0)
        )
        return top or 0

    def append_finalized(self, blocks: list[StoredBlock]) -> None:
        """Record finalized blocks, in order, atomically; re-recording the same block is a no-op.
        An empty store may start at any height (a pruned chain salvaged, a package's)."""
        with self._transaction(), self._reading("writing finalized blocks"):
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
                if top and stored.height != top + 1:
                    raise StorageError(
                        f"finalized blocks are stored contiguously: expected height {top + 1}, got {stored.height}"
                    )
                self._db.execute(
                    "INSERT INTO finalized VALUES (?, ?, ?, ?)",
                    (stored.height, stored.block_hash, stored.block, stored.proof),
                )
                top = stored.height

    def finalized_block(self, height: int) -> StoredBlock | None:
        return self._one(
            f"the block of height {height}", "SELECT * FROM finalized WHERE height = ?", (height,), _block_row
        )

    def finalized_blocks(self, start: int, stop: int | None = None) -> Iterator[StoredBlock]:
        """Blocks with start <= height < stop (to the end if stop is None), in height order."""
        query = "SELECT * FROM finalized WHERE height >= ?"
        params: tuple[int, ...] = (start,)
        if stop is not None:
            query += " AND height < ?"
            params = (start, stop)
        yield from self._all(
            f"the blocks from height {start}", query + " ORDER BY height", params, _block_row
        )

    def quarantine_blocks_from(self, height: int, reason: str) -> int:
        """Move the finalized blocks from ``height`` up into ``damaged_blocks`` (kept as
        evidence, with ``reason``), so that those heights can be written again from
        verified copies; returns how many were moved."""
        with self._transaction(), self._reading(f"quarantining the blocks from height {height}"):
            moved = self._db.execute(
                "INSERT INTO damaged_blocks SELECT height, block_hash, block, proof, ? FROM finalized "
                "WHERE height >= ?",
                (reason, height),
            ).rowcount
            self._db.execute("DELETE FROM finalized WHERE height >= ?", (height,))
        return int(moved)

    def damaged_blocks(self) -> list[tuple[int, str]]:
        """(height, reason) of every block moved out of the chain, oldest move first."""
        return self._all(
            "damaged blocks",
            "SELECT height, reason FROM damaged_blocks ORDER BY rowid",
            (),
            lambda r: (_int(r[0]), str(r[1])),
        )

    def lowest_finalized_height(self) -> int:
        """The lowest finalized height stored (0 if none): above 1 once pruned."""
        low = self._one(
            "the lowest finalized height",
            "SELECT MIN(height) FROM finalized",
            (),
            lambda row: _int(row[0] or 0),
        )
        return low or 0

    # -- bounded disk (node.pruning, node.state_sync) ----------------------------------------

    def prune_below(self, height: int) -> int:
        """Delete the blocks, certificates and checkpoints below ``height`` in one
        transaction, then give the freed pages back (``incremental_vacuum``) and cut the
        write-ahead log back. Returns how many blocks went. Refuses to delete the newest
        checkpoint: the heights below are only forgettable because it is kept."""
        with self._transaction(), self._reading(f"pruning below height {height}"):
            newest = self._db.execute("SELECT MAX(height) FROM checkpoints").fetchone()[0]
            if newest is None or newest < height:
                raise StorageError(
                    f"refusing to prune below height {height}: no checkpoint at or above it is stored"
                )
            removed = self._db.execute("DELETE FROM finalized WHERE height < ?", (height,)).rowcount
            self._db.execute("DELETE FROM certified WHERE height < ?", (height,))
            self._db.execute("DELETE FROM checkpoints WHERE height < ?", (height,))
        self._reclaim_due = True
        self.reclaim()
        return int(removed)

    def reclaim(self) -> None:
        """After pruning: free pages go back to the file system and the log is
        checkpointed and truncated. Inside a batch this waits for its end (the runtime
        calls it again after each batch); otherwise it does nothing."""
        if not self._reclaim_due or self._db.in_transaction:
            return
        self._reclaim_due = False
        with self._reading("reclaiming free pages"):
            # executescript steps the pragma to its end (``execute`` frees one page).
            self._db.executescript("PRAGMA incremental_vacuum;")
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()

    def replace_chain(
        self,
        blocks: list[StoredBlock],
        certificate: tuple[int, bytes, bytes],
        checkpoint: StoredCheckpoint,
    ) -> None:
        """Adopt a catch-up package: every stored block, certificate below the package
        and checkpoint goes, the package's consecutive ``blocks`` (the checkpoint's block
        among them), its certificate ``(height, state hash, bytes)`` and its checkpoint
        are written, all in one transaction."""
        heights = [stored.height for stored in blocks]
        if not heights or heights != list(range(heights[0], heights[0] + len(heights))):
            raise StorageError(f"a package's blocks are consecutive, not heights {heights[:3]}...")
        if not heights[0] <= checkpoint.height <= heights[-1]:
            raise StorageError(f"the package's checkpoint {checkpoint.height} is not among its blocks")
        with self._transaction(), self._reading("writing a catch-up package"):
            self._db.execute("DELETE FROM finalized")
            self._db.execute("DELETE FROM certified WHERE height < ?", (heights[0],))
            self._db.execute("DELETE FROM checkpoints")
            self._db.executemany(
                "INSERT INTO finalized VALUES (?, ?, ?, ?)",
                [(b.height, b.block_hash, b.block, b.proof) for b in blocks],
            )
            self._db.execute("INSERT OR REPLACE INTO certified VALUES (?, ?, ?)", certificate)
            self._db.execute(
                "INSERT INTO checkpoints VALUES (?, ?, ?)",
                (checkpoint.height, checkpoint.state_hash, checkpoint.state),
            )

    def row_counts(self) -> dict[str, int]:
        """Rows per table (what pruning bounds, for status and the disk benchmark)."""
        counts = {}
        for table in ("finalized", "certified", "checkpoints", "damaged_blocks"):
            counts[table] = (
                self._one(
                    f"the rows of {table}", f"SELECT COUNT(*) FROM {table}", (), lambda row: _int(row[0])
                )
                or 0
            )
        return counts

    # -- certified state hashes -------------------------------------------------------------

    def put_certificate(self, height: int, state_hash: bytes, certificate: bytes) -> None:
        with self._transaction(), self._reading(f"writing the certificate of height {height}"):
            existing = self._db.execute(
                "SELECT state_hash FROM certified WHERE height = ?", (height,)
            ).fetchone()
            if existing is not None:
                if bytes(existing[0]) != state_hash:
                    raise StorageError(f"conflicting certified state hash at height {height}")
                return
            self._db.execute("INSERT INTO certified VALUES (?, ?, ?)", (height, state_hash, certificate))

    def certificate(self, height: int) -> tuple[bytes, bytes] | None:
        return self._one(
            f"the certificate of height {height}",
            "SELECT state_hash, certificate FROM certified WHERE height = ?",
            (height,),
            lambda row: (_blob(row[0]), _blob(row[1])),
        )

    def latest_certified_height(self) -> int:
        top = self._one(
            "the certified height", "SELECT MAX(height) FROM certified", (), lambda row: _int(row[0] or 0)
        )
        return top or 0

    # -- the Sui fast path ------------------------------------------------------------------------

    def put_locks(self, epoch: int, digest: bytes, locks: Iterable[tuple[bytes, int]]) -> None:
        """Owned object versions locked for a transaction (the first lock of a version wins,
        as in the replica's table); older epochs' locks are void and dropped."""
        with self._transaction(), self._reading("writing Sui locks"):
            self._db.execute("DELETE FROM sui_locks WHERE epoch < ?", (epoch,))
            self._db.executemany(
                "INSERT OR IGNORE INTO sui_locks VALUES (?, ?, ?, ?)",
                [(epoch, object_id, version, digest) for object_id, version in locks],
            )

    def locks(self) -> list[tuple[int, bytes, bytes, int]]:
        """Every persisted lock as ``(epoch, digest, object id, version)``."""
        return self._all(
            "Sui locks",
            "SELECT epoch, digest, object_id, version FROM sui_locks ORDER BY epoch, object_id, version",
            (),
            lambda row: (_int(row[0]), _blob(row[1]), _blob(row[2]), _int(row[3])),
        )

    def put_fast_certificate(self, digest: bytes, certificate: bytes) -> None:
        with self._transaction(), self._reading("writing a fast-path certificate"):
            self._db.execute(
                "INSERT OR IGNORE INTO sui_fast_certificates (digest, certificate) VALUES (?, ?)",
                (digest, certificate),
            )

    def fast_certificates(self) -> list[tuple[bytes, bytes]]:
        """``(digest, certificate)`` in the order this replica executed them."""
        return self._all(
            "fast-path certificates",
            "SELECT digest, certificate FROM sui_fast_certificates ORDER BY position",
            (),
            lambda row: (_blob(row[0]), _blob(row[1])),
        )

    def forget_fast_certificates(self, digests: Iterable[bytes]) -> None:
        """Drop certificates consensus has sequenced (the blocks hold them now)."""
        with self._transaction(), self._reading("pruning fast-path certificates"):
            self._db.executemany(
                "DELETE FROM sui_fast_certificates WHERE digest = ?", [(d,) for d in digests]
            )

    # -- checkpoints ----------------------------------------------------------------------------

    def put_checkpoint(self, checkpoint: StoredCheckpoint, keep: int = 2) -> None:
        """Store a checkpoint and drop all but the newest ``keep``, in one transaction.

        Blocks go only below a certified checkpoint (``prune_below``)."""
        if keep < 1:
            raise StorageError(f"keep at least one checkpoint, not {keep}")
        with self._transaction(), self._reading(f"writing the checkpoint of height {checkpoint.height}"):
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
        return self._one(
            "the newest checkpoint",
            "SELECT * FROM checkpoints ORDER BY height DESC LIMIT 1",
            (),
            _checkpoint_row,
        )

    def checkpoints(self) -> list[StoredCheckpoint]:
        """Every stored checkpoint, newest first: a replica tries them in this order and
        uses the first that proves valid (a corrupt newest one must not cost the older)."""
        return self._all(
            "the checkpoints", "SELECT * FROM checkpoints ORDER BY height DESC", (), _checkpoint_row
        )

    def checkpoint_heights(self) -> list[int]:
        return self._all(
            "the checkpoint heights",
            "SELECT height FROM checkpoints ORDER BY height DESC",
            (),
            lambda r: _int(r[0]),
        )

    def checkpoint(self, height: int) -> StoredCheckpoint | None:
        return self._one(
            f"the checkpoint of height {height}",
            "SELECT * FROM checkpoints WHERE height = ?",
            (height,),
            _checkpoint_row,
        )

    def certified_heights(self) -> list[int]:
        return self._all(
            "the certified heights", "SELECT height FROM certified ORDER BY height", (), lambda r: _int(r[0])
        )


def _int(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"expected an integer, found {type(value).__name__}")
    return value


def _blob(value: object) -> bytes:
    if not isinstance(value, bytes):
        raise TypeError(f"expected bytes, found {type(value).__name__}")
    return value


def _block_row(row: Any) -> StoredBlock:
    height = _int(row[0])
    try:
        return StoredBlock(height, _blob(row[1]), _blob(row[2]), _blob(row[3]))
    except TypeError as exc:
        raise TypeError(f"the block row of height {height}: {exc}") from exc


def _checkpoint_row(row: Any) -> StoredCheckpoint:
    height = _int(row[0])
    try:
        return StoredCheckpoint(height, _blob(row[1]), _blob(row[2]))
    except TypeError as exc:
        raise TypeError(f"the checkpoint row of height {height}: {exc}") from exc


def move_aside(path: Path) -> Path:
    """Rename a damaged database (and its ``-wal``/``-shm`` files) to the first free
    ``<name>.damaged-<n>``: out of the replica's way, kept as evidence."""
    number = 1
    while any(Path(f"{path}.damaged-{number}{suffix}").exists() for suffix in ("", "-wal", "-shm")):
        number += 1
    target = Path(f"{path}.damaged-{number}")
    for suffix in ("-wal", "-shm", ""):
        source = Path(f"{path}{suffix}")
        if source.exists():
            os.replace(source, Path(f"{target}{suffix}"))
    return target


@dataclass
class Salvage:
    """What ``salvage`` copied out of a damaged database, and what it could not."""

    blocks: int = 0
    first: int = 1
    """The height of the first block kept (above 1 for a pruned chain)."""
    certificates: int = 0
    checkpoints: int = 0
    high_water: bool = False
    lost: list[str] | None = None


def salvage(damaged: Path, into: BlockStore) -> Salvage:
    """Copy what still reads of the database at ``damaged`` into ``into``: the vote
    high-water mark, the finalized blocks from height 1 up to the first unreadable one,
    and each readable certificate and checkpoint. Nothing here is trusted: the replica
    verifies the blocks against their proofs and the checkpoints against the chain."""
    result = Salvage(lost=[])
    assert result.lost is not None
    try:
        old = sqlite3.connect(f"file:{damaged}?mode=ro", uri=True)
    except sqlite3.DatabaseError as exc:
        result.lost.append(f"everything ({exc})")
        return result
    source = BlockStore.__new__(BlockStore)
    source.path, source._db = damaged, old
    try:
        for attempt in (_salvage_high_water, _salvage_blocks, _salvage_certificates, _salvage_checkpoints):
            try:
                attempt(source, into, result)
            except DamagedStore as exc:
                result.lost.append(f"{exc.what}: {exc.damage}")
    finally:
        old.close()
    return result


def _salvage_high_water(source: BlockStore, into: BlockStore, result: Salvage) -> None:
    value = source.get_meta("high_water")
    if value is not None:
        into.set_meta("high_water", value)
        result.high_water = True


def _salvage_blocks(source: BlockStore, into: BlockStore, result: Salvage) -> None:
    height, batch = max(1, source.lowest_finalized_height()), []
    result.first = height
    try:
        while (block := source.finalized_block(height)) is not None:
            batch.append(block)
            height += 1
            if len(batch) == 512:
                into.append_finalized(batch)
                result.blocks, batch = result.blocks + len(batch), []
    finally:
        if batch:
            into.append_finalized(batch)
            result.blocks += len(batch)


def _salvage_certificates(source: BlockStore, into: BlockStore, result: Salvage) -> None:
    for height in source.certified_heights():
        try:
            found = source.certificate(height)
        except DamagedStore:
            continue
        if found is not None:
            into.put_certificate(height, found[0], found[1])
            result.certificates += 1


def _salvage_checkpoints(source: BlockStore, into: BlockStore, result: Salvage) -> None:
    for height in sorted(source.checkpoint_heights()):
        try:
            found = source.checkpoint(height)
        except DamagedStore:
            continue
        if found is not None:
            into.put_checkpoint(found, keep=2)
            result.checkpoints += 1


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
