"""Objects as Sui stores them, their references and owners.

An ``ObjectRef`` names one version of an object: (id, version, digest); a transaction
passes owned and immutable objects by reference, so a stale reference is refused. An
``Owner`` says who may use an object: one address, another object, everyone (shared, with
the version at which it became shared) or no one may change it (immutable). An
:class:`Object` is a Move value (its type, version and BCS contents) or a package (its
modules, type origins and linkage), with its owner, the transaction that last wrote it
and its storage rebate; its digest, ``Blake2b-256("Object::" · BCS)``, is the third part
of its reference, so these bytes must be Sui's exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

from vocab import bcs
from vocab.sui.address import ADDRESS, OBJECT_ID, ObjectId, SuiAddress
from vocab.sui.bcs_helpers import record, union
from vocab.sui.digests import DIGEST, OBJECT, Digest, salted
from vocab.sui.type_tag import STRUCT_TAG, TYPE_TAG, StructTag

MAX_VERSION = 2**63 - 1
"""Sui's SequenceNumber ceiling."""


@dataclass(frozen=True, order=True)
class ObjectRef:
    object_id: ObjectId
    version: int
    digest: Digest


OBJECT_REF = bcs.Mapped(
    bcs.Tuple(OBJECT_ID, bcs.U64, DIGEST),
    lambda t: ObjectRef(*t),
    lambda r: (r.object_id, r.version, r.digest),
    "ObjectRef",
)
"""An object reference in BCS: id (32 bytes), version (u64), digest (length 32 + bytes)."""


@dataclass(frozen=True)
class AddressOwner:
    address: SuiAddress


@dataclass(frozen=True)
class ObjectOwner:
    """Owned by another object (dynamic fields, objects held by objects)."""

    address: SuiAddress


@dataclass(frozen=True)
class Shared:
    initial_shared_version: int


@dataclass(frozen=True)
class Immutable:
    pass


@dataclass(frozen=True)
class ConsensusAddressOwner:
    """Sui's fifth kind (an address-owned object sequenced by consensus); read and written
    so that objects carrying it decode, not used by this subnet."""

    start_version: int
    owner: SuiAddress


Owner = AddressOwner | ObjectOwner | Shared | Immutable | ConsensusAddressOwner

OWNER = union(
    "Owner",
    [
        ("AddressOwner", AddressOwner, ADDRESS),
        ("ObjectOwner", ObjectOwner, ADDRESS),
        ("Shared", Shared, bcs.U64),
        ("Immutable", Immutable, None),
        ("ConsensusAddressOwner", ConsensusAddressOwner, bcs.Tuple(bcs.U64, ADDRESS)),
    ],
)
"""Owner in BCS: AddressOwner 0, ObjectOwner 1, Shared{initial_shared_version} 2,
Immutable 3, ConsensusAddressOwner{start_version, owner} 4."""


# -- objects ------------------------------------------------------------------------------

_SUI_FRAMEWORK = SuiAddress(bytes(31) + b"\x02")
_SUI_SYSTEM = SuiAddress(bytes(31) + b"\x03")
GAS_COIN_TYPE = StructTag(_SUI_FRAMEWORK, "coin", "Coin", (StructTag(_SUI_FRAMEWORK, "sui", "SUI"),))
STAKED_SUI_TYPE = StructTag(_SUI_SYSTEM, "staking_pool", "StakedSui")


def _object_type_from(variant: bcs.Variant) -> StructTag:
    if variant.name == "Other":
        return variant.value
    if variant.name == "GasCoin":
        return GAS_COIN_TYPE
    if variant.name == "StakedSui":
        return STAKED_SUI_TYPE
    return StructTag(_SUI_FRAMEWORK, "coin", "Coin", (variant.value,))


def _object_type_to(tag: StructTag) -> bcs.Variant:
    """Sui's compact forms: the gas coin and staked SUI by name, any other coin by its
    currency, everything else as the full struct tag."""
    if tag == GAS_COIN_TYPE:
        return bcs.Variant("GasCoin")
    if tag == STAKED_SUI_TYPE:
        return bcs.Variant("StakedSui")
    if (tag.address, tag.module, tag.name) == (_SUI_FRAMEWORK, "coin", "Coin") and len(tag.type_params) == 1:
        return bcs.Variant("Coin", tag.type_params[0])
    return bcs.Variant("Other", tag)


MOVE_OBJECT_TYPE = bcs.Mapped(
    bcs.Enum(
        "MoveObjectType",
        [
            ("Other", STRUCT_TAG),
            ("GasCoin", None),
            ("StakedSui", None),
            ("Coin", TYPE_TAG),
            ("AccumulatorBalanceWrapper", bcs.Refused("MoveObjectType::AccumulatorBalanceWrapper")),
        ],
    ),
    _object_type_from,
    _object_type_to,
    "MoveObjectType",
)
"""An object's type in BCS, in Sui's compact encoding (``MoveObjectType``)."""


@dataclass(frozen=True)
class MoveObject:
    """A Move value stored as an object; ``contents`` is its BCS, starting with its id."""

    type_: StructTag
    has_public_transfer: bool
    version: int
    contents: bytes

    @property
    def object_id(self) -> ObjectId:
        if len(self.contents) < 32:
            raise ValueError("an object's contents start with its 32-byte id")
        return ObjectId(self.contents[:32])


@dataclass(frozen=True)
class TypeOrigin:
    """Which package version first defined a type (kept across upgrades)."""

    module_name: str
    datatype_name: str
    package: ObjectId


@dataclass(frozen=True)
class UpgradeInfo:
    """For a dependency's original id: the version of it this package links against."""

    upgraded_id: ObjectId
    upgraded_version: int


@dataclass(frozen=True)
class MovePackage:
    id: ObjectId
    version: int
    module_map: dict[str, bytes]
    type_origin_table: tuple[TypeOrigin, ...]
    linkage_table: dict[ObjectId, UpgradeInfo]

    def __post_init__(self) -> None:
        object.__setattr__(self, "type_origin_table", tuple(self.type_origin_table))

    def __hash__(self) -> int:
        return hash((self.id, self.version))


Data = MoveObject | MovePackage

MOVE_OBJECT = record(
    MoveObject,
    "MoveObject",
    [
        ("type_", MOVE_OBJECT_TYPE),
        ("has_public_transfer", bcs.BOOL),
        ("version", bcs.U64),
        ("contents", bcs.BYTES),
    ],
)
MOVE_PACKAGE = record(
    MovePackage,
    "MovePackage",
    [
        ("id", OBJECT_ID),
        ("version", bcs.U64),
        ("module_map", bcs.Map(bcs.STRING, bcs.BYTES)),
        (
            "type_origin_table",
            bcs.Vector(
                record(
                    TypeOrigin,
                    "TypeOrigin",
                    [("module_name", bcs.STRING), ("datatype_name", bcs.STRING), ("package", OBJECT_ID)],
                )
            ),
        ),
        (
            "linkage_table",
            bcs.Map(
                OBJECT_ID,
                record(
                    UpgradeInfo, "UpgradeInfo", [("upgraded_id", OBJECT_ID), ("upgraded_version", bcs.U64)]
                ),
            ),
        ),
    ],
)
DATA = union("Data", [("Move", MoveObject, MOVE_OBJECT), ("Package", MovePackage, MOVE_PACKAGE)])


@dataclass(frozen=True)
class Object:
    data: Data
    owner: Owner
    previous_transaction: Digest
    storage_rebate: int = 0

    @property
    def object_id(self) -> ObjectId:
        return self.data.object_id if isinstance(self.data, MoveObject) else self.data.id

    @property
    def version(self) -> int:
        return self.data.version

    def to_bcs(self) -> bytes:
        return OBJECT_SCHEMA.encode(self)

    @classmethod
    def from_bcs(cls, data: bytes) -> Object:
        value = OBJECT_SCHEMA.decode(data)
        assert isinstance(value, cls)
        return value

    def digest(self) -> Digest:
        """``Blake2b-256("Object::" · BCS(object))``: the digest in the object's reference."""
        return salted(OBJECT, self.to_bcs())

    def reference(self) -> ObjectRef:
        return ObjectRef(self.object_id, self.version, self.digest())


OBJECT_SCHEMA = record(
    Object,
    "Object",
    [("data", DATA), ("owner", OWNER), ("previous_transaction", DIGEST), ("storage_rebate", bcs.U64)],
)
"""An object in BCS, as Sui hashes and stores it."""

__all__ = [
    "DATA",
    "GAS_COIN_TYPE",
    "MAX_VERSION",
    "MOVE_OBJECT",
    "MOVE_OBJECT_TYPE",
    "MOVE_PACKAGE",
    "OBJECT_SCHEMA",
    "STAKED_SUI_TYPE",
    "OBJECT_REF",
    "OWNER",
    "AddressOwner",
    "ConsensusAddressOwner",
    "Data",
    "Immutable",
    "MoveObject",
    "MovePackage",
    "Object",
    "ObjectOwner",
    "ObjectRef",
    "Owner",
    "Shared",
    "TypeOrigin",
    "UpgradeInfo",
]
