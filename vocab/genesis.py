"""The genesis configuration: everything replicas must agree on before the first block.

It fixes the committee (node ids, public keys, addresses as ``host:port``) and every
parameter that decides validity (Δ, block limits, ingress limits, the canister id range),
because two replicas with different values would disagree on which blocks are valid.
It round-trips through JSON so that the process backend can hand the same file to every
replica and to clients (``vocab.committee.Committee.from_json(genesis["nodes"])``).

The hash of the canonical JSON is the parent of the genesis block, so replicas started
from different configurations never accept each other's blocks.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields
from functools import cached_property
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from vocab import crypto
from vocab.committee import Committee
from vocab.principal import CanisterId, Principal

MS = 1_000_000
SECOND = 1_000_000_000


SUI_ALLOW_ADDING_ABILITIES = "sui_allow_adding_abilities"
"""``extra`` key: compatible package upgrades may add abilities to structs (the rule Sui
documented before a protocol flag forbade it; ``subnet start --allow-adding-abilities``)."""


class GenesisError(ValueError):
    """A genesis configuration that cannot run a subnet; the message names the field."""


@dataclass(frozen=True)
class NodeEntry:
    node_id: str
    public_key: str
    address: str

    @property
    def principal(self) -> Principal:
        return Principal.from_text(self.node_id)

    @property
    def raw_public_key(self) -> bytes:
        return bytes.fromhex(self.public_key)


@dataclass(frozen=True)
class Genesis:
    """A subnet's fixed configuration. Times are integer nanoseconds, sizes bytes."""

    nodes: tuple[NodeEntry, ...]
    subnet_name: str = "local"
    genesis_time_ns: int = 1_700_000_000 * SECOND
    delta_ns: int = 50 * MS
    """Δ: the bound on message delay assumed by the timeouts; rank r waits 2·Δ·r."""
    block_interval_ns: int = 200 * MS
    """Extra wait before every proposal: the subnet's target block time, like the IC's."""
    max_clock_skew_ns: int = 500 * MS
    """How far a block's timestamp may run ahead of a validator's clock."""
    retransmit_ns: int = 1 * SECOND
    """How long a replica waits without progress before re-sending its recent artifacts."""
    max_block_messages: int = 1000
    max_block_bytes: int = 4 * 1024 * 1024
    max_ingress_bytes: int = 2 * 1024 * 1024 + 16 * 1024
    ingress_pool_max_messages: int = 10_000
    ingress_pool_max_bytes: int = 64 * 1024 * 1024
    pool_window: int = 64
    """Heights above the finalized one for which consensus artifacts are kept."""
    canister_range_start: int = 0
    canister_range_end: int = 1 << 20
    """Canister indexes [start, end) belong to this subnet."""
    sui_epoch_duration_ns: int = 24 * 3600 * SECOND
    """How long a Sui epoch lasts (Sui's is a day); 0: one epoch for ever. Owned-object
    locks reset when an epoch ends (the fast path's rule)."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Settings of other components (execution limits...), carried and hashed as they are."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "nodes", tuple(self.nodes))
        if not self.nodes:
            raise GenesisError("nodes: a subnet has at least one replica")
        for name in (
            "genesis_time_ns",
            "delta_ns",
            "block_interval_ns",
            "max_clock_skew_ns",
            "retransmit_ns",
            "max_block_messages",
            "max_block_bytes",
            "max_ingress_bytes",
            "ingress_pool_max_messages",
            "ingress_pool_max_bytes",
            "pool_window",
            "canister_range_start",
            "canister_range_end",
            "sui_epoch_duration_ns",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise GenesisError(f"{name} must be a natural number, not {value!r}")
        if self.delta_ns == 0:
            raise GenesisError("delta_ns must be positive")
        if self.retransmit_ns == 0:
            raise GenesisError("retransmit_ns must be positive")
        if self.pool_window < 2:
            raise GenesisError("pool_window must be at least 2")
        if not self.canister_range_start < self.canister_range_end <= 2**64:
            raise GenesisError("canister range must be a non-empty [start, end) within 64 bits")
        for entry in self.nodes:
            try:
                key = entry.raw_public_key
                node_id = entry.principal
            except ValueError as exc:
                raise GenesisError(f"node {entry.node_id!r}: {exc}") from exc
            if len(key) != 32:
                raise GenesisError(f"node {entry.node_id}: public_key must be 32 bytes of hex")
            if node_id != Principal.from_ed25519_public_key(key):
                raise GenesisError(f"node {entry.node_id}: node_id is not the principal of its public key")
            host, sep, port = entry.address.rpartition(":")
            if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise GenesisError(f"node {entry.node_id}: address must be host:port, not {entry.address!r}")
        try:
            _ = self.committee  # builds and checks the committee once
        except ValueError as exc:
            raise GenesisError(f"nodes: {exc}") from exc

    # -- derived -------------------------------------------------------------------------

    @cached_property
    def committee(self) -> Committee:
        return Committee.from_public_keys([entry.raw_public_key for entry in self.nodes])

    @cached_property
    def node_ids(self) -> tuple[Principal, ...]:
        return tuple(entry.principal for entry in self.nodes)

    def address_of(self, node_id: Principal) -> str:
        for entry in self.nodes:
            if entry.principal == node_id:
                return entry.address
        raise KeyError(node_id.to_text())

    def owns_canister(self, principal: Principal) -> bool:
        try:
            index = CanisterId.from_principal(principal).index
        except ValueError:
            return False
        return self.canister_range_start <= index < self.canister_range_end

    @cached_property
    def config_hash(self) -> bytes:
        return hashlib.sha256(self.to_json().encode("utf-8")).digest()

    # -- JSON ------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["nodes"] = [asdict(entry) for entry in self.nodes]
        return data

    def to_json(self) -> str:
        """Canonical JSON: sorted keys, no spaces, so that its hash is well defined."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_dict(cls, data: Any) -> Genesis:
        if not isinstance(data, dict):
            raise GenesisError("a genesis configuration is a JSON object")
        known = {item.name for item in fields(cls)}
        unknown = sorted(str(key) for key in data if key not in known)
        if unknown:
            raise GenesisError(f"unknown genesis fields: {', '.join(unknown)}")
        nodes = data.get("nodes")
        if not isinstance(nodes, list):
            raise GenesisError("nodes must be a list of {node_id, public_key, address}")
        entries = []
        for position, node in enumerate(nodes):
            if not isinstance(node, dict) or sorted(node) != ["address", "node_id", "public_key"]:
                raise GenesisError(f"nodes[{position}] must have exactly node_id, public_key and address")
            if not all(isinstance(value, str) for value in node.values()):
                raise GenesisError(f"nodes[{position}]: node_id, public_key and address are strings")
            entries.append(NodeEntry(**node))
        values = {key: value for key, value in data.items() if key != "nodes"}
        if "extra" in values and not isinstance(values["extra"], dict):
            raise GenesisError("extra must be an object")
        try:
            return cls(nodes=tuple(entries), **values)
        except TypeError as exc:
            raise GenesisError(str(exc)) from exc

    @classmethod
    def from_json(cls, text: str) -> Genesis:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise GenesisError(f"genesis is not valid JSON: {exc}") from exc
        return cls.from_dict(data)


def node_key_from_seed(seed: bytes | str | int, index: int) -> Ed25519PrivateKey:
    """A deterministic node key for simulations and local test subnets (never production)."""
    material = seed if isinstance(seed, bytes) else str(seed).encode("utf-8")
    return crypto.private_key_from_seed(
        hashlib.sha256(b"subnet-node-key" + material + index.to_bytes(4, "big")).digest()
    )


def local_genesis(
    n: int,
    seed: bytes | str | int = 0,
    *,
    host: str = "127.0.0.1",
    base_port: int = 40100,
    **params: Any,
) -> tuple[Genesis, list[Ed25519PrivateKey]]:
    """A genesis for n replicas with keys derived from ``seed``, and those keys."""
    if n < 1:
        raise GenesisError("a subnet has at least one replica")
    keys = [node_key_from_seed(seed, index) for index in range(n)]
    nodes = tuple(
        NodeEntry(
            node_id=Principal.from_ed25519_public_key(crypto.raw_public_key(key)).to_text(),
            public_key=crypto.raw_public_key(key).hex(),
            address=f"{host}:{base_port + index}",
        )
        for index, key in enumerate(keys)
    )
    return Genesis(nodes=nodes, **params), keys
