"""What a transaction did: its status, the objects it wrote, removed and read, its events.

The shape follows Sui's ``TransactionEffectsV1`` (``crates/sui-types/src/effects``): status,
epoch, gas, the versions the inputs were modified at, the shared objects read, the
transaction digest, then created / mutated / unwrapped objects with their owners, deleted /
unwrapped-then-deleted / wrapped objects (their digest is Sui's marker: 32 bytes of 99 for
deleted, 88 for wrapped), the events' digest and the transactions this one depends on. It
is encoded in BCS in that order and hashed with the ``TransactionEffects::`` salt, so every
replica agrees on one digest. Two differences from Sui's bytes, both because the subnet
has no gas coin: there is no ``gas_object`` entry, and the status carries the failure as
its name, message, command index and abort location rather than as Sui's numbered enum
(``ExecutionFailureStatus``), whose names it uses.

Events are Sui's ``Event { package_id, transaction_module, sender, type_, contents }``;
their digest is ``TransactionEvents::`` over the BCS vector, as Sui computes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vocab import bcs
from vocab.sui.address import ADDRESS, OBJECT_ID, ObjectId, SuiAddress
from vocab.sui.digests import DIGEST, TRANSACTION_EFFECTS, TRANSACTION_EVENTS, Digest, salted
from vocab.sui.objects import OBJECT_REF, OWNER, ObjectRef, Owner
from vocab.sui.type_tag import IDENTIFIER, STRUCT_TAG, StructTag

DELETED_DIGEST = Digest(bytes([99]) * 32)
"""Sui's ``ObjectDigest::OBJECT_DIGEST_DELETED``: the digest in a deleted object's reference."""
WRAPPED_DIGEST = Digest(bytes([88]) * 32)
"""Sui's ``ObjectDigest::OBJECT_DIGEST_WRAPPED``."""


@dataclass(frozen=True)
class MoveLocation:
    """Where an abort or runtime error happened: module (``0x…::counter``) and function."""

    package: ObjectId
    module: str
    function: str

    def __str__(self) -> str:
        return f"{self.package.short_text()}::{self.module}::{self.function}"


@dataclass(frozen=True)
class ExecutionFailure:
    """A failed transaction's status: Sui's ``ExecutionFailureStatus`` name (``MoveAbort``,
    ``InsufficientGas``, ``CommandArgumentError``...), a message, the failing command (from
    0) and, for Move errors, the location and abort code."""

    error: str
    message: str
    command: int | None = None
    location: MoveLocation | None = None
    code: int | None = None

    def __str__(self) -> str:
        where = f" in command {self.command}" if self.command is not None else ""
        return f"{self.error}{where}: {self.message}"


@dataclass(frozen=True)
class Event:
    package_id: ObjectId
    transaction_module: str
    sender: SuiAddress
    type: StructTag
    contents: bytes


@dataclass(frozen=True)
class TransactionEffects:
    transaction_digest: Digest
    status: ExecutionFailure | None
    """``None`` is success."""
    executed_epoch: int
    gas_used: int
    lamport_version: int
    modified_at_versions: tuple[tuple[ObjectId, int], ...]
    shared_objects: tuple[ObjectRef, ...]
    created: tuple[tuple[ObjectRef, Owner], ...]
    mutated: tuple[tuple[ObjectRef, Owner], ...]
    unwrapped: tuple[tuple[ObjectRef, Owner], ...]
    deleted: tuple[ObjectRef, ...]
    unwrapped_then_deleted: tuple[ObjectRef, ...]
    wrapped: tuple[ObjectRef, ...]
    events: tuple[Event, ...]
    dependencies: tuple[Digest, ...]
    object_types: tuple[tuple[ObjectId, StructTag], ...] = ()
    """The type of every object the effects name (sorted by id), so that clients can show
    what was deleted or wrapped; kept with the record, not part of the hashed effects
    (Sui's full nodes read these types from the objects' previous versions)."""

    @property
    def success(self) -> bool:
        return self.status is None

    def events_digest(self) -> Digest | None:
        if not self.events:
            return None
        return salted(TRANSACTION_EVENTS, EVENTS.encode(list(self.events)))

    def to_bcs(self) -> bytes:
        """The bytes the digest covers (events by their digest); encoded once, as effects
        are immutable and a transaction's are asked for several times (its digest, the
        signed effects, the response, the store)."""
        encoded = self.__dict__.get("_bcs")
        if encoded is None:
            encoded = EFFECTS.encode(self)
            object.__setattr__(self, "_bcs", encoded)
        return encoded

    def to_record(self) -> bytes:
        """The effects and the events themselves, as the store keeps them."""
        return EFFECTS_WITH_EVENTS.encode(self)

    @classmethod
    def from_record(cls, data: bytes) -> TransactionEffects:
        value = EFFECTS_WITH_EVENTS.decode(data)
        assert isinstance(value, cls)
        return value

    def digest(self) -> Digest:
        return salted(TRANSACTION_EFFECTS, self.to_bcs())


def _record(cls: type, name: str, fields: list[tuple[str, bcs.Schema]]) -> bcs.Mapped:
    names = [f for f, _ in fields]
    return bcs.Mapped(
        bcs.Struct(name, fields),
        lambda d: cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}),
        lambda v: {
            k: list(getattr(v, k)) if isinstance(getattr(v, k), tuple) else getattr(v, k) for k in names
        },
        name,
    )


EVENT = _record(
    Event,
    "Event",
    [
        ("package_id", OBJECT_ID),
        ("transaction_module", IDENTIFIER),
        ("sender", ADDRESS),
        ("type", STRUCT_TAG),
        ("contents", bcs.BYTES),
    ],
)
EVENTS = bcs.Vector(EVENT)
LOCATION = _record(
    MoveLocation, "MoveLocation", [("package", OBJECT_ID), ("module", IDENTIFIER), ("function", IDENTIFIER)]
)
FAILURE = _record(
    ExecutionFailure,
    "ExecutionFailure",
    [
        ("error", bcs.STRING),
        ("message", bcs.STRING),
        ("command", bcs.Option(bcs.U64)),
        ("location", bcs.Option(LOCATION)),
        ("code", bcs.Option(bcs.U64)),
    ],
)
_OWNED_REF = bcs.Mapped(bcs.Tuple(OBJECT_REF, OWNER), tuple, list, "(ObjectRef, Owner)")
_TYPES = bcs.Vector(bcs.Mapped(bcs.Tuple(OBJECT_ID, STRUCT_TAG), tuple, list, "(ObjectID, StructTag)"))
_VERSIONED = bcs.Mapped(bcs.Tuple(OBJECT_ID, bcs.U64), tuple, list, "(ObjectID, SequenceNumber)")


class _Effects(bcs.Schema):
    """``TransactionEffects`` in BCS; the events' digest is computed, the events kept beside."""

    name = "TransactionEffects"
    min_size = 1
    _body = bcs.Struct(
        "TransactionEffects",
        [
            ("status", bcs.Option(FAILURE)),
            ("executed_epoch", bcs.U64),
            ("gas_used", bcs.U64),
            ("lamport_version", bcs.U64),
            ("modified_at_versions", bcs.Vector(_VERSIONED)),
            ("shared_objects", bcs.Vector(OBJECT_REF)),
            ("transaction_digest", DIGEST),
            ("created", bcs.Vector(_OWNED_REF)),
            ("mutated", bcs.Vector(_OWNED_REF)),
            ("unwrapped", bcs.Vector(_OWNED_REF)),
            ("deleted", bcs.Vector(OBJECT_REF)),
            ("unwrapped_then_deleted", bcs.Vector(OBJECT_REF)),
            ("wrapped", bcs.Vector(OBJECT_REF)),
            ("events_digest", bcs.Option(DIGEST)),
            ("dependencies", bcs.Vector(DIGEST)),
        ],
    )

    def __init__(self, with_events: bool) -> None:
        self.with_events = with_events

    def write(self, value: TransactionEffects, out: bytearray, depth: int) -> None:
        plain = {
            "status": value.status,
            "executed_epoch": value.executed_epoch,
            "gas_used": value.gas_used,
            "lamport_version": value.lamport_version,
            "modified_at_versions": list(value.modified_at_versions),
            "shared_objects": list(value.shared_objects),
            "transaction_digest": value.transaction_digest,
            "created": list(value.created),
            "mutated": list(value.mutated),
            "unwrapped": list(value.unwrapped),
            "deleted": list(value.deleted),
            "unwrapped_then_deleted": list(value.unwrapped_then_deleted),
            "wrapped": list(value.wrapped),
            "events_digest": value.events_digest(),
            "dependencies": list(value.dependencies),
        }
        self._body.write(plain, out, depth)
        if self.with_events:
            EVENTS.write(list(value.events), out, depth)
            _TYPES.write(list(value.object_types), out, depth)

    def read(self, reader: bcs.Reader, depth: int) -> TransactionEffects:
        plain = self._body.read(reader, depth)
        digest = plain.pop("events_digest")
        plain["events"] = EVENTS.read(reader, depth) if self.with_events else []
        plain["object_types"] = _TYPES.read(reader, depth) if self.with_events else []
        fields: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in plain.items()}
        effects = TransactionEffects(**fields)
        if self.with_events and effects.events_digest() != digest:
            raise bcs.BcsError("the events do not match the effects' events digest", reader.pos)
        return effects


EFFECTS = _Effects(with_events=False)
"""The effects as hashed (the events by their digest)."""
EFFECTS_WITH_EVENTS = _Effects(with_events=True)
"""The effects followed by their events and object types, as the store keeps them."""

__all__ = [
    "DELETED_DIGEST",
    "EFFECTS",
    "EFFECTS_WITH_EVENTS",
    "EVENT",
    "EVENTS",
    "WRAPPED_DIGEST",
    "Event",
    "ExecutionFailure",
    "MoveLocation",
    "TransactionEffects",
]
