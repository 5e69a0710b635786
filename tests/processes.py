"""Helpers for tests that run real replica processes: the `subnet` command as a user runs
it, and a project deployed on the running subnet. The ``local_subnet`` fixture that starts
four replicas (and always stops them) is in ``conftest.py``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from node.replica import Replica
from node.storage import BlockStore
from subnet.processes.layout import load_node_key, replica_dir
from vocab.genesis import Genesis

REPO = Path(__file__).resolve().parents[1]


def subnet_cli(
    cwd: Path, *argv: str, check: bool = True, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    """Run ``subnet ARGV`` in ``cwd``; ``stdin`` is what is piped to it (nothing by default,
    so that a confirmation is declined rather than waiting for the terminal)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-m", "subnet", *argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        input=stdin,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"subnet {' '.join(argv)} failed: {result.stdout}\n{result.stderr}")
    return result


def restored_state_hashes(root: Path) -> set[bytes]:
    """Rebuild every stopped replica from its own database up to the lowest finalized
    height they all have, and return their state hashes (one, when they agree)."""
    genesis = Genesis.from_json((root / "genesis.json").read_text())
    stores = [BlockStore(replica_dir(root, i) / "replica.db") for i in range(len(genesis.nodes))]
    common = min(store.finalized_height() for store in stores)
    hashes = set()
    for index, store in enumerate(stores):
        blocks = list(store.finalized_blocks(1, common + 1))
        replica = Replica.restore(
            genesis, index, load_node_key(root, index), [b.block for b in blocks], [b.proof for b in blocks]
        )
        assert replica.executed_height == common
        hashes.add(replica.state_hash())
    return hashes


def motoko_project(directory: Path, name: str, source: str) -> Path:
    """A project with one Motoko canister ``name``, deployed on the running subnet."""
    (directory / "src").mkdir()
    (directory / "src" / "main.mo").write_text(source)
    canisters = {name: {"type": "motoko", "main": "src/main.mo"}}
    (directory / "subnet.json").write_text(json.dumps({"version": 1, "canisters": canisters}))
    subnet_cli(directory, "deploy", name)
    return directory
