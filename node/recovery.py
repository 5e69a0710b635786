"""Reading a replica's store at startup, whatever state the disk is in.

A replica's disk can be damaged under it: a truncated or overwritten file, a flipped
byte in one row. None of that may stop it with a traceback, and none of it may make it
trust bytes it cannot prove; what it cannot prove it fetches again from its peers
(consensus catch-up: blocks with their finalization proofs) and writes again. So:

- the database is checked (``BlockStore.check``, SQLite's ``quick_check``) and read
  whole; if SQLite refuses it, it is moved aside (``<name>.damaged-<n>``, kept as
  evidence, never deleted), a ``damaged_store`` notice names the file and the damage,
  and whatever still reads of it (the vote high-water mark, the blocks up to the first
  unreadable one, certificates and checkpoints) is copied into a fresh database;
- each block is decoded and checked against the hash its row records, from height 1
  up; the first one that fails is a ``damaged_block`` notice with its height, and it and
  every block above it move to ``damaged_blocks`` so that catch-up writes them again;
- a certificate that does not decode is skipped (peers send certificates with catch-up);
  checkpoints are checked by the replica itself (``Replica._restore_checkpoint``).

Consensus then proves the chain against its finalization proofs; where that stops
(``restore_truncated``), ``ReplicaRuntime`` quarantines the unproven rest the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from node.checkpoint import Checkpoint
from node.consensus.block import ChainBlock
from node.storage import BlockStore, DamagedStore, move_aside, salvage
from vocab.certificate import Certificate
from vocab.codec import Message, decode_frame
from vocab.errors import CodecError

__all__ = ["Loaded", "load_store"]


@dataclass
class Loaded:
    """What a replica restarts from: an open store and the verified contents read from it."""

    store: BlockStore
    blocks: list[ChainBlock] = field(default_factory=list)
    proofs: list[Message] = field(default_factory=list)
    high_water: int = 0
    checkpoints: list[Checkpoint] = field(default_factory=list)
    certificates: list[Certificate] = field(default_factory=list)
    notices: list[tuple[str, str]] = field(default_factory=list)
    """(kind, detail) of every damage met and what was done about it."""


def load_store(path: Path, pool_window: int) -> Loaded:
    """Open the store at ``path`` and read what the replica restores from, repairing what
    is damaged as the module says. Raises ``DamagedStore`` only if a fresh database at
    ``path`` cannot be used either (the disk itself refuses)."""
    notices: list[tuple[str, str]] = []
    store: BlockStore | None = None
    try:
        store = BlockStore(path)
        store.check()
        return _read(store, pool_window, notices)
    except DamagedStore as exc:
        if store is not None:
            store.close()
        moved = move_aside(path)
        fresh = BlockStore(path)
        saved = salvage(moved, fresh)
        lost = f"; unreadable: {'; '.join(saved.lost)}" if saved.lost else ""
        notices.append(
            (
                "damaged_store",
                f"{exc}; moved to {moved.name}, kept blocks {saved.first}..{saved.first + saved.blocks - 1}, {saved.certificates} "
                f"certificates, {saved.checkpoints} checkpoints, "
                f"{'the' if saved.high_water else 'no'} vote high-water mark{lost}; "
                "the rest comes from peers",
            )
        )
        return _read(fresh, pool_window, notices)


def _read(store: BlockStore, pool_window: int, notices: list[tuple[str, str]]) -> Loaded:
    loaded = Loaded(store, notices=notices)
    high_water = store.get_meta("high_water")
    loaded.high_water = int.from_bytes(high_water, "big") if high_water else 0
    for stored in store.finalized_blocks(1):
        problem = _block_problem(stored.height, stored.block_hash, stored.block, stored.proof, loaded)
        if problem is not None:
            top = store.finalized_height()
            store.quarantine_blocks_from(stored.height, problem)
            notices.append(
                (
                    "damaged_block",
                    f"{store.path}: block {stored.height}: {problem}; blocks {stored.height}..{top} "
                    "moved to damaged_blocks, to be fetched again from peers",
                )
            )
            break
    stored_checkpoints = store.checkpoints()
    loaded.checkpoints = [Checkpoint(c.height, c.state_hash, c.state) for c in stored_checkpoints]
    latest = store.latest_certified_height()
    heights = list(range(max(1, latest - pool_window), latest + 1))
    # The certificates of the checkpoints' heights too: a checkpoint that contradicts one
    # is refused.
    heights += sorted({c.height for c in stored_checkpoints} - set(heights))
    for height in heights:
        found = store.certificate(height)
        if found is None:
            continue
        try:
            certificate = decode_frame(found[1])
        except CodecError as exc:
            notices.append(("damaged_certificate", f"{store.path}: certificate {height}: {exc}; skipped"))
            continue
        if isinstance(certificate, Certificate) and certificate.height == height:
            loaded.certificates.append(certificate)
        else:
            notices.append(("damaged_certificate", f"{store.path}: certificate {height}: not one; skipped"))
    return loaded


def _block_problem(height: int, block_hash: bytes, block: bytes, proof: bytes, loaded: Loaded) -> str | None:
    """Why the stored block at ``height`` cannot be used (None: it decodes and matches its
    row); a good one is appended to ``loaded``."""
    try:
        decoded = decode_frame(block)
        decoded_proof = decode_frame(proof)
    except (CodecError, ValueError, TypeError) as exc:
        return f"does not decode ({exc})"
    if not isinstance(decoded, ChainBlock):
        return f"holds a {type(decoded).__name__}, not a block"
    if decoded.height != height:
        return f"holds the block of height {decoded.height}"
    if decoded.hash != block_hash:
        return f"its bytes hash to {decoded.hash.hex()[:16]}, not the recorded {block_hash.hex()[:16]}"
    loaded.blocks.append(decoded)
    loaded.proofs.append(decoded_proof)
    return None
