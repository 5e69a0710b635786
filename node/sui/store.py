"""The Sui object store: the replicated state of Sui's programming model on the subnet.

It holds the live objects (one version each: the latest, which is the only one a
transaction may use), the published packages (immutable; an upgrade is a new package at
a fresh id), tombstones of deleted and wrapped objects (the version at which they left),
and every executed transaction's effects under its digest (replay protection: a digest
executes once). Everything here is a value; the executor computes what a transaction
writes and ``commit`` applies it at once, so a transaction's changes are atomic.

Digests are Sui's: an object's is ``Blake2b-256("Object::" · BCS(ObjectInner))`` with
``ObjectInner { data, owner, previous_transaction, storage_rebate }`` and ``data`` either
``Move(MoveObject { type_, has_public_transfer, version, contents })`` or
``Package(MovePackage { id, version, module_map, type_origin_table, linkage_table })``, as
in ``crates/sui-types/src/object.rs`` and ``move_package.rs``. ``type_`` is Sui's
``MoveObjectType``, variant ``Other(StructTag)`` (the variants for coins and staked SUI
never occur: there are no coins here). ``storage_rebate`` is 0 (no storage fund). One
difference: a package's ``module_map`` holds the modules' Wasm (what this subnet runs),
not Move bytecode, so a package digest cannot equal the one Sui gives the same source.

Beside the objects it holds the two pieces of Sui state that consensus orders but no
object carries: the current epoch with each epoch's start (``epoch_starts_ms``: what
``tx_context::epoch_timestamp_ms`` gives), and the *deferred* transactions: sequenced
ones whose inputs the store has not reached yet (``node.sui.fast_layer``), waiting in
block order for the certificate that makes them.

The state hash is ``Blake2b-256("SuiState::" · body)`` where ``body`` is the checkpoint
encoding (``encode``): objects, packages and tombstones sorted by id, executed
transactions sorted by digest, each in BCS. Sorting by bytes, never by insertion order or
hash order, makes the bytes and the hash equal on every replica with the same state.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from move.types import StructType
from node.sui.effects import TransactionEffects
from node.sui.relocate import module_address
from node.sui.sorted_records import Section
from node.sui.type_map import struct_tag, tag_to_type
from vocab import bcs
from vocab.leb128 import encode_leb128
from vocab.sui.address import OBJECT_ID, ObjectId
from vocab.sui.digests import DIGEST, OBJECT, Digest, salted
from vocab.sui.objects import OWNER, Immutable, ObjectRef, Owner
from vocab.sui.type_tag import STRUCT_TAG

CHECKPOINT_MAGIC = b"subnet-suistore\x00"
CHECKPOINT_VERSION = 2
GENESIS_DIGEST = Digest(bytes(32))
"""Sui's ``TransactionDigest::genesis_marker()``: the previous transaction of genesis objects."""


class StoreError(ValueError):
    """A checkpoint that cannot be restored, or a commit that breaks the store's rules."""


# -- objects ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SuiObject:
    """A Move object at one version."""

    id: ObjectId
    version: int
    owner: Owner
    type: StructType
    """The object's struct type as Sui names it: each struct by the package version that
    first defined it (its defining id; the original id for types of the first version)."""
    has_public_transfer: bool
    """The type has ``store`` (``public_transfer`` and ``TransferObjects`` may move it)."""
    contents: bytes
    """The BCS of the Move value; its first 32 bytes are the id (the ``UID``)."""
    previous_transaction: Digest
    storage_rebate: int = 0

    def to_bcs(self) -> bytes:
        return _object_bcs(self)

    @functools.cached_property
    def digest(self) -> Digest:
        return salted(OBJECT, self.to_bcs())

    @property
    def ref(self) -> ObjectRef:
        return ObjectRef(self.id, self.version, self.digest)


@dataclass(frozen=True, order=True)
class TypeOrigin:
    """The package (storage id) whose version first defined a struct."""

    module_name: str
    datatype_name: str
    package: ObjectId


@dataclass(frozen=True, order=True)
class UpgradeInfo:
    """The version of a dependency a package links against."""

    upgraded_id: ObjectId
    upgraded_version: int


@dataclass(frozen=True)
class SuiPackage:
    """A published package: immutable, at its storage id; ``original_id`` is its first
    version's id, the address its modules and types are known by."""

    id: ObjectId
    original_id: ObjectId
    version: int
    modules: tuple[tuple[str, bytes], ...]
    """(module name, Wasm) sorted by name; each module's interface (structs, functions and
    their types) is the ``move.module`` metadata section of its Wasm."""
    type_origins: tuple[TypeOrigin, ...]
    linkage: tuple[tuple[ObjectId, UpgradeInfo], ...]
    """original id -> the version linked, for every transitive dependency, sorted."""
    previous_transaction: Digest

    def module(self, name: str) -> bytes | None:
        for module_name, wasm in self.modules:
            if module_name == name:
                return wasm
        return None

    def to_bcs(self) -> bytes:
        return _package_bcs(self)

    @functools.cached_property
    def digest(self) -> Digest:
        return salted(OBJECT, self.to_bcs())

    @property
    def ref(self) -> ObjectRef:
        return ObjectRef(self.id, self.version, self.digest)

    @property
    def owner(self) -> Owner:
        return Immutable()


@dataclass(frozen=True, order=True)
class Tombstone:
    """An object that left the store at ``version``: deleted, or wrapped inside another."""

    id: ObjectId
    version: int
    wrapped: bool


@dataclass(frozen=True)
class Deferred:
    """A sequenced transaction waiting for its inputs: the height that sequenced it and the
    message as the block carried it (its codec wire form, packed)."""

    height: int
    message: bytes


# -- BCS ----------------------------------------------------------------------------------------

_MOVE_OBJECT_TYPE = bcs.Enum(
    "MoveObjectType", [("Other", STRUCT_TAG), ("GasCoin", None), ("StakedSui", None)]
)
_MOVE_OBJECT = bcs.Struct(
    "MoveObject",
    [
        ("type_", _MOVE_OBJECT_TYPE),
        ("has_public_transfer", bcs.BOOL),
        ("version", bcs.U64),
        ("contents", bcs.BYTES),
    ],
)
_TYPE_ORIGIN = bcs.Struct(
    "TypeOrigin", [("module_name", bcs.STRING), ("datatype_name", bcs.STRING), ("package", OBJECT_ID)]
)
_UPGRADE_INFO = bcs.Struct("UpgradeInfo", [("upgraded_id", OBJECT_ID), ("upgraded_version", bcs.U64)])
_MOVE_PACKAGE = bcs.Struct(
    "MovePackage",
    [
        ("id", OBJECT_ID),
        ("version", bcs.U64),
        ("module_map", bcs.Map(bcs.STRING, bcs.BYTES)),
        ("type_origin_table", bcs.Vector(_TYPE_ORIGIN)),
        ("linkage_table", bcs.Map(bcs.ADDRESS, _UPGRADE_INFO)),
    ],
)
_OBJECT_INNER = bcs.Struct(
    "Object",
    [
        ("data", bcs.Enum("Data", [("Move", _MOVE_OBJECT), ("Package", _MOVE_PACKAGE)])),
        ("owner", OWNER),
        ("previous_transaction", DIGEST),
        ("storage_rebate", bcs.U64),
    ],
)


@functools.lru_cache(maxsize=4096)
def _type_bcs(ty: StructType) -> bytes:
    return STRUCT_TAG.encode(struct_tag(ty))


def _object_bcs(obj: SuiObject) -> bytes:
    """``ObjectInner`` with ``Data::Move``, written directly (the hot path of every
    transaction: each object written is hashed); ``_OBJECT_INNER`` reads it back."""
    return b"".join(
        (
            b"\x00\x00",  # Data::Move, MoveObjectType::Other
            _type_bcs(obj.type),
            b"\x01" if obj.has_public_transfer else b"\x00",
            obj.version.to_bytes(8, "little"),
            encode_leb128(len(obj.contents)),
            obj.contents,
            OWNER.encode(obj.owner),
            b"\x20",
            obj.previous_transaction.raw,
            obj.storage_rebate.to_bytes(8, "little"),
        )
    )


def _package_bcs(package: SuiPackage) -> bytes:
    data = {
        "id": package.id,
        "version": package.version,
        "module_map": dict(package.modules),
        "type_origin_table": [
            {"module_name": t.module_name, "datatype_name": t.datatype_name, "package": t.package}
            for t in package.type_origins
        ],
        "linkage_table": {
            original.raw: {"upgraded_id": info.upgraded_id, "upgraded_version": info.upgraded_version}
            for original, info in package.linkage
        },
    }
    return _OBJECT_INNER.encode(
        {
            "data": bcs.Variant("Package", data),
            "owner": Immutable(),
            "previous_transaction": package.previous_transaction,
            "storage_rebate": 0,
        }
    )


def _object_from_bcs(raw: bytes) -> SuiObject | SuiPackage:
    inner = _OBJECT_INNER.decode(raw)
    data = inner["data"]
    if data.name == "Move":
        move = data.value
        if move["type_"].name != "Other":
            raise StoreError(f"an object of kind {move['type_'].name} cannot occur here")
        ty = tag_to_type(move["type_"].value)
        assert isinstance(ty, StructType)
        contents = move["contents"]
        if len(contents) < 32:
            raise StoreError("an object's contents start with its 32-byte id")
        return SuiObject(
            ObjectId(contents[:32]),
            move["version"],
            inner["owner"],
            ty,
            move["has_public_transfer"],
            contents,
            inner["previous_transaction"],
            inner["storage_rebate"],
        )
    pkg = data.value
    modules = tuple(sorted(pkg["module_map"].items()))
    origins = tuple(
        TypeOrigin(t["module_name"], t["datatype_name"], t["package"]) for t in pkg["type_origin_table"]
    )
    linkage = tuple(
        sorted(
            (ObjectId(k), UpgradeInfo(v["upgraded_id"], v["upgraded_version"]))
            for k, v in pkg["linkage_table"].items()
        )
    )
    original = _original_of(pkg["id"], modules)
    return SuiPackage(
        pkg["id"], original, pkg["version"], modules, origins, linkage, inner["previous_transaction"]
    )


def _original_of(storage: ObjectId, modules: tuple[tuple[str, bytes], ...]) -> ObjectId:
    """A package's original id: its modules' own address (as Sui reads it from the
    modules' self handles); a package without modules is its own original."""
    for _, wasm in modules:
        return ObjectId(module_address(wasm))
    return storage


# -- the store ----------------------------------------------------------------------------------


@dataclass
class ObjectStore:
    objects: dict[ObjectId, SuiObject] = field(default_factory=dict)
    packages: dict[ObjectId, SuiPackage] = field(default_factory=dict)
    tombstones: dict[ObjectId, Tombstone] = field(default_factory=dict)
    executed: dict[Digest, TransactionEffects] = field(default_factory=dict)
    epoch: int = 0
    epoch_starts_ms: list[int] = field(default_factory=lambda: [0])
    """When each epoch began (index: the epoch), in block time."""
    deferred: list[Deferred] = field(default_factory=list)

    def __setattr__(self, name: str, value: object) -> None:
        """Every table is a ``Section``, whoever sets it (``__init__``, a test, a restore),
        so that the state hash follows every write to it."""
        make = _SECTIONS.get(name)
        if make is not None and not isinstance(value, Section):
            assert isinstance(value, dict), (name, type(value))
            value = make(value.items())
        object.__setattr__(self, name, value)

    def copy(self) -> ObjectStore:
        """An independent store with the same contents (its values are immutable, so the
        tables are copied and the values shared)."""
        return ObjectStore(
            dict(self.objects),
            dict(self.packages),
            dict(self.tombstones),
            dict(self.executed),
            self.epoch,
            list(self.epoch_starts_ms),
            list(self.deferred),
        )

    # -- reading ---------------------------------------------------------------------------
    def get(self, object_id: ObjectId) -> SuiObject | None:
        return self.objects.get(object_id)

    def package(self, package_id: ObjectId) -> SuiPackage | None:
        return self.packages.get(package_id)

    def effects(self, digest: Digest) -> TransactionEffects | None:
        return self.executed.get(digest)

    def owned_by(self, address: bytes) -> list[SuiObject]:
        """The objects an address owns, by id."""
        found = [
            o
            for o in self.objects.values()
            if getattr(o.owner, "address", None) is not None and o.owner.address.raw == address  # type: ignore[union-attr]
        ]
        return sorted(found, key=lambda o: o.id.raw)

    # -- writing ---------------------------------------------------------------------------
    def commit(
        self,
        effects: TransactionEffects,
        written: Iterable[SuiObject] = (),
        removed: Iterable[Tombstone] = (),
        packages: Iterable[SuiPackage] = (),
    ) -> None:
        """Apply one transaction's writes and record its effects, all at once."""
        digest = effects.transaction_digest
        if digest in self.executed:
            raise StoreError(f"transaction {digest} was already executed")
        written, removed, packages = list(written), list(removed), list(packages)
        for package in packages:
            if package.id in self.packages or package.id in self.objects:
                raise StoreError(f"package {package.id} would overwrite an existing object")
        for obj in written:
            if obj.id in self.packages:
                raise StoreError(f"object {obj.id} would overwrite a package")
        for package in packages:
            self.packages[package.id] = package
        for tomb in removed:
            self.objects.pop(tomb.id, None)
            self.tombstones[tomb.id] = tomb
        for obj in written:
            self.objects[obj.id] = obj
            self.tombstones.pop(obj.id, None)  # an unwrapped object is live again
        self.executed[digest] = effects

    # -- hashing and checkpoints -------------------------------------------------------------
    def encode(self) -> bytes:
        """The canonical encoding of the whole store (the checkpoint body)."""
        return _STORE.encode(
            {
                "objects": [self.objects[k].to_bcs() for k in sorted(self.objects, key=_raw)],
                "packages": [self.packages[k].to_bcs() for k in sorted(self.packages, key=_raw)],
                "tombstones": [
                    {"id": t.id, "version": t.version, "wrapped": t.wrapped}
                    for t in sorted(self.tombstones.values(), key=lambda t: t.id.raw)
                ],
                "executed": [self.executed[d].to_record() for d in sorted(self.executed, key=_raw)],
                "epoch": self.epoch,
                "epoch_starts_ms": list(self.epoch_starts_ms),
                "deferred": [{"height": d.height, "message": d.message} for d in self.deferred],
            }
        )

    def state_hash(self) -> bytes:
        """A hash of the whole store in a canonical order: each section's entries sorted by
        key, each entry by the hash of its canonical bytes (``encode``'s entries). Entries
        are immutable values, so each one's hash is computed once (``_entry_hash``) and a
        block's cost grows with the number of entries, not with their bytes (the
        framework's packages are most of them)."""
        digest = hashlib.blake2b(b"SuiState::", digest_size=32)
        for name in _SECTIONS:
            section = getattr(self, name)
            assert isinstance(section, Section), name
            digest.update(name.encode() + len(section).to_bytes(8, "big"))
            section.records().feed(digest)
        digest.update(
            b"epochs" + self.epoch.to_bytes(8, "big") + len(self.epoch_starts_ms).to_bytes(8, "big")
        )
        for start in self.epoch_starts_ms:
            digest.update(start.to_bytes(8, "big"))
        digest.update(b"deferred" + len(self.deferred).to_bytes(8, "big"))
        for deferred in self.deferred:
            digest.update(
                deferred.height.to_bytes(8, "big")
                + hashlib.blake2b(deferred.message, digest_size=32).digest()
            )
        return digest.digest()

    @classmethod
    def decode(cls, body: bytes) -> ObjectStore:
        """A store from ``encode``'s bytes; ``StoreError`` names what is wrong."""
        try:
            plain = _STORE.decode(body)
            store = cls()
            for raw in plain["objects"]:
                obj = _object_from_bcs(raw)
                if not isinstance(obj, SuiObject):
                    raise StoreError("a package among the objects")
                store.objects[obj.id] = obj
            for raw in plain["packages"]:
                pkg = _object_from_bcs(raw)
                if not isinstance(pkg, SuiPackage):
                    raise StoreError("an object among the packages")
                store.packages[pkg.id] = pkg
            for t in plain["tombstones"]:
                store.tombstones[t["id"]] = Tombstone(t["id"], t["version"], t["wrapped"])
            for raw in plain["executed"]:
                effects = TransactionEffects.from_record(raw)
                store.executed[effects.transaction_digest] = effects
            store.epoch = plain["epoch"]
            store.epoch_starts_ms = list(plain["epoch_starts_ms"])
            store.deferred = [Deferred(d["height"], d["message"]) for d in plain["deferred"]]
        except bcs.BcsError as exc:
            raise StoreError(f"the Sui store does not decode: {exc}") from exc
        if len(store.epoch_starts_ms) != store.epoch + 1:
            raise StoreError(
                f"the Sui store is in epoch {store.epoch} but records {len(store.epoch_starts_ms)} epoch starts"
            )
        if store.encode() != bytes(body):
            raise StoreError("the Sui store's encoding is not canonical (order or duplicates)")
        return store

    def checkpoint(self) -> bytes:
        """The body framed as the IC side frames its checkpoints (``node.checkpoint``):
        ``MAGIC (16) | version (u16, big-endian) | SHA-256 of body (32) | body``."""
        body = self.encode()
        return CHECKPOINT_MAGIC + CHECKPOINT_VERSION.to_bytes(2, "big") + hashlib.sha256(body).digest() + body

    @classmethod
    def restore(cls, data: bytes) -> ObjectStore:
        """From ``checkpoint()``'s bytes, checking magic, version and digest first."""
        header = len(CHECKPOINT_MAGIC) + 2 + 32
        if len(data) < header or data[: len(CHECKPOINT_MAGIC)] != CHECKPOINT_MAGIC:
            raise StoreError("not a Sui store checkpoint (bad magic)")
        version = int.from_bytes(data[len(CHECKPOINT_MAGIC) : len(CHECKPOINT_MAGIC) + 2], "big")
        if version != CHECKPOINT_VERSION:
            raise StoreError(
                f"Sui store checkpoint version {version}; this replica reads {CHECKPOINT_VERSION}"
            )
        body = data[header:]
        if hashlib.sha256(body).digest() != data[header - 32 : header]:
            raise StoreError("the Sui store checkpoint's body does not match its digest")
        return cls.decode(body)

    def __iter__(self) -> Iterator[SuiObject]:
        return iter(sorted(self.objects.values(), key=lambda o: o.id.raw))


def _raw(key: ObjectId | Digest) -> bytes:
    return key.raw


def _entry_record(key: ObjectId | Digest, entry: SuiObject | SuiPackage | TransactionEffects) -> bytes:
    """An object's, package's or transaction's record in the state hash: its key, then
    its entry hash."""
    return key.raw + _entry_hash(entry)


def _tomb_record(key: ObjectId, tomb: Tombstone) -> bytes:
    """A tombstone's record in the state hash: id, version (8 bytes), wrapped (1 byte)."""
    return key.raw + tomb.version.to_bytes(8, "big") + bytes([tomb.wrapped])


_SECTIONS: dict[str, Callable[[Iterable[Any]], Section[Any, Any]]] = {
    # the hash's order of the tables, and how each one's records are made
    "objects": functools.partial(Section, _entry_record, 64),
    "packages": functools.partial(Section, _entry_record, 64),
    "tombstones": functools.partial(Section, _tomb_record, 41),
    "executed": functools.partial(Section, _entry_record, 64),
}


def _entry_hash(entry: SuiObject | SuiPackage | TransactionEffects) -> bytes:
    """The hash of an entry's canonical bytes, kept on the (frozen) entry once computed."""
    cached = entry.__dict__.get("_entry_hash")
    if cached is None:
        raw = entry.to_record() if isinstance(entry, TransactionEffects) else entry.to_bcs()
        cached = hashlib.blake2b(raw, digest_size=32).digest()
        object.__setattr__(entry, "_entry_hash", cached)
    return cached


_STORE = bcs.Struct(
    "SuiStore",
    [
        ("objects", bcs.Vector(bcs.BYTES)),
        ("packages", bcs.Vector(bcs.BYTES)),
        (
            "tombstones",
            bcs.Vector(
                bcs.Struct("Tombstone", [("id", OBJECT_ID), ("version", bcs.U64), ("wrapped", bcs.BOOL)])
            ),
        ),
        ("executed", bcs.Vector(bcs.BYTES)),
        ("epoch", bcs.U64),
        ("epoch_starts_ms", bcs.Vector(bcs.U64)),
        ("deferred", bcs.Vector(bcs.Struct("Deferred", [("height", bcs.U64), ("message", bcs.BYTES)]))),
    ],
)

__all__ = [
    "CHECKPOINT_MAGIC",
    "CHECKPOINT_VERSION",
    "GENESIS_DIGEST",
    "Deferred",
    "ObjectStore",
    "StoreError",
    "SuiObject",
    "SuiPackage",
    "Tombstone",
    "TypeOrigin",
    "UpgradeInfo",
]
