"""The local subnet's files, under the project's ``.subnet/local/`` (``client.network``)::

genesis.json               the committee and parameters every replica starts from
replica-<i>/node_key.pem   replica i's Ed25519 node key (mode 0600)
replica-<i>/replica.db     its finalized blocks, certificates, checkpoints (SQLite)
replica-<i>/replica.log    its log
pids.json                  {"<i>": pid} of the running replicas (``launcher``)
"""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from vocab import crypto
from vocab.genesis import MS, SUI_ALLOW_ADDING_ABILITIES, Genesis, NodeEntry
from vocab.principal import Principal


def replica_dir(root: Path, index: int) -> Path:
    return root / f"replica-{index}"


def create_subnet(
    root: Path,
    replicas: int,
    port: int,
    block_time_ms: int,
    memory_capacity: int | None = None,
    epoch_duration_ms: int | None = None,
    allow_adding_abilities: bool = False,
    instructions_per_slice: int | None = None,
) -> Genesis:
    """Fresh node keys and a genesis for ``replicas`` replicas on 127.0.0.1 from ``port`` up,
    written under ``root``; ``memory_capacity`` (bytes) for all canisters together, else the
    execution layer's default; ``epoch_duration_ms`` for Sui epochs, else a day;
    ``allow_adding_abilities`` for the older upgrade rule (``vocab.genesis``);
    ``instructions_per_slice`` for deterministic time slicing (``node.ic.slicing``), else
    its default for the block time."""
    keys = [Ed25519PrivateKey.generate() for _ in range(replicas)]
    nodes = []
    for index, key in enumerate(keys):
        raw = crypto.raw_public_key(key)
        nodes.append(
            NodeEntry(
                node_id=Principal.from_ed25519_public_key(raw).to_text(),
                public_key=raw.hex(),
                address=f"127.0.0.1:{port + index}",
            )
        )
    genesis = Genesis(
        nodes=tuple(nodes),
        # The process backend runs in real time: the chain starts now, and block times
        # (what canisters see as ic0.time) are the proposers' clocks.
        genesis_time_ns=time.time_ns(),
        block_interval_ns=block_time_ms * MS,
        extra={
            **({} if memory_capacity is None else {"subnet_memory_capacity": memory_capacity}),
            **({SUI_ALLOW_ADDING_ABILITIES: True} if allow_adding_abilities else {}),
            **({} if instructions_per_slice is None else {"instructions_per_slice": instructions_per_slice}),
        },
    )
    if epoch_duration_ms is not None:
        genesis = dataclasses.replace(genesis, sui_epoch_duration_ns=epoch_duration_ms * MS)
    root.mkdir(parents=True, exist_ok=True)
    for index, key in enumerate(keys):
        directory = replica_dir(root, index)
        directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(directory / "node_key.pem", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(crypto.private_key_pem(key))
    (root / "genesis.json").write_text(genesis.to_json() + "\n")
    return genesis


def load_node_key(root: Path, index: int) -> Ed25519PrivateKey:
    path = replica_dir(root, index) / "node_key.pem"
    return crypto.parse_private_key_pem(path.read_bytes(), str(path))
