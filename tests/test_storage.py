import subprocess
import sys
from pathlib import Path

import pytest

from node.storage import BlockStore, StorageError, StoredBlock, StoredCheckpoint


def block(height: int, tag: bytes = b"a") -> StoredBlock:
    return StoredBlock(height, tag * 32, b"block-" + tag + bytes([height]), b"proof")


def test_blocks_are_stored_contiguously_and_read_back(tmp_path: Path) -> None:
    store = BlockStore(tmp_path / "replica.db")
    store.append_finalized([block(1), block(2), block(3)])
    assert store.finalized_height() == 3
    assert [b.height for b in store.finalized_blocks(2)] == [2, 3]
    assert [b.height for b in store.finalized_blocks(1, 3)] == [1, 2]
    assert store.finalized_block(2) == block(2)
    with pytest.raises(StorageError, match="expected height 4"):
        store.append_finalized([block(5)])


def test_a_conflicting_block_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    store = BlockStore(tmp_path / "replica.db")
    store.append_finalized([block(1), block(2)])
    store.append_finalized([block(2)])  # the same block again is harmless
    with pytest.raises(StorageError, match="conflicting finalized block at height 2"):
        store.append_finalized([block(3), block(2, b"b")])
    assert store.finalized_height() == 2  # block 3 of the failed batch was rolled back


def test_certificates_and_checkpoints(tmp_path: Path) -> None:
    store = BlockStore(tmp_path / "replica.db")
    store.put_certificate(1, b"h1", b"cert")
    store.put_certificate(1, b"h1", b"cert")
    with pytest.raises(StorageError, match="conflicting certified state hash"):
        store.put_certificate(1, b"h2", b"cert")
    assert store.certificate(1) == (b"h1", b"cert")
    for height in (10, 20, 30):
        store.put_checkpoint(StoredCheckpoint(height, b"s", b"state%d" % height))
    assert store.latest_checkpoint() == StoredCheckpoint(30, b"s", b"state30")


def test_data_survives_sigkill(tmp_path: Path) -> None:
    path = tmp_path / "replica.db"
    script = (
        "import os, signal, sys\n"
        "from node.storage import BlockStore, StoredBlock\n"
        f"s = BlockStore(__import__('pathlib').Path({str(path)!r}))\n"
        "s.append_finalized([StoredBlock(h, bytes([h])*32, b'x', b'p') for h in range(1, 51)])\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=Path(__file__).resolve().parents[1])
    assert result.returncode == -9
    assert BlockStore(path).finalized_height() == 50


def test_garbage_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "replica.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StorageError, match="not a usable replica database"):
        BlockStore(path)
