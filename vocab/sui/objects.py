"""Object references and owners, as Sui encodes them.

An ``ObjectRef`` names one version of an object: (id, version, digest); a transaction
passes owned and immutable objects by reference, so a stale reference is refused. An
``Owner`` says who may use an object: one address, another object, everyone (shared, with
the version at which it became shared) or no one may change it (immutable).
"""

from __future__ import annotations

from dataclasses import dataclass

from vocab import bcs
from vocab.sui.address import ADDRESS, OBJECT_ID, ObjectId, SuiAddress
from vocab.sui.bcs_helpers import union
from vocab.sui.digests import DIGEST, Digest

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

__all__ = [
    "MAX_VERSION",
    "OBJECT_REF",
    "OWNER",
    "AddressOwner",
    "ConsensusAddressOwner",
    "Immutable",
    "ObjectOwner",
    "ObjectRef",
    "Owner",
    "Shared",
]
