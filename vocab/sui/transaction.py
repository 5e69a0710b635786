"""``TransactionData`` as Sui encodes it: what a user signs and a replica executes.

``TransactionData::V1 { kind, sender, gas_data { payment, owner, price, budget },
expiration }``, where the kind this subnet runs is a programmable transaction: inputs
(pure BCS bytes, or objects by reference or as shared objects) and commands whose
arguments name the gas coin, an input, or an earlier command's result. Enum variants are
in Sui's order (``crates/sui-types/src/transaction.rs``, the TypeScript SDK's
``bcs.ts``), so the bytes are Sui's byte for byte and the digest is the one Sui computes.
The other transaction kinds (system transactions) and the newest argument and expiration
variants decode to an ``Unsupported`` error naming them, never to a wrong value.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from vocab import bcs
from vocab.sui.address import ADDRESS, OBJECT_ID, ObjectId, SuiAddress
from vocab.sui.bcs_helpers import record, union
from vocab.sui.digests import DIGEST, Digest, transaction_digest
from vocab.sui.intent import TRANSACTION, signing_digest
from vocab.sui.objects import OBJECT_REF, ObjectRef
from vocab.sui.type_tag import IDENTIFIER, TYPE_TAG, TypeTag


def _freeze(instance: Any) -> None:
    """Lists in a frozen dataclass's fields become tuples, so values compare and hash the
    same however they were built (decoding gives lists)."""
    for field in fields(instance):
        value = getattr(instance, field.name)
        if isinstance(value, list):
            object.__setattr__(instance, field.name, tuple(value))


# -- arguments ----------------------------------------------------------------------------


@dataclass(frozen=True)
class GasCoin:
    """The transaction's gas coin (this subnet has no gas coins: refused at execution)."""


@dataclass(frozen=True)
class Input:
    index: int


@dataclass(frozen=True)
class Result:
    """The result of an earlier command (a command with one result)."""

    index: int


@dataclass(frozen=True)
class NestedResult:
    """One of several results of an earlier command."""

    command: int
    result: int


Argument = GasCoin | Input | Result | NestedResult

ARGUMENT = union(
    "Argument",
    [
        ("GasCoin", GasCoin, None),
        ("Input", Input, bcs.U16),
        ("Result", Result, bcs.U16),
        ("NestedResult", NestedResult, bcs.Tuple(bcs.U16, bcs.U16)),
    ],
)


# -- inputs -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pure:
    """A pure input: the BCS bytes of a value of a primitive type (u64, address,
    vector<u8>, string...), typed only by the function that receives it."""

    value: bytes


@dataclass(frozen=True)
class ImmOrOwnedObject:
    ref: ObjectRef


@dataclass(frozen=True)
class SharedObject:
    object_id: ObjectId
    initial_shared_version: int
    mutable: bool


@dataclass(frozen=True)
class Receiving:
    ref: ObjectRef


ObjectArg = ImmOrOwnedObject | SharedObject | Receiving
CallArg = Pure | ObjectArg

OBJECT_ARG = union(
    "ObjectArg",
    [
        ("ImmOrOwnedObject", ImmOrOwnedObject, OBJECT_REF),
        (
            "SharedObject",
            SharedObject,
            bcs.Tuple(OBJECT_ID, bcs.U64, bcs.BOOL),
        ),
        ("Receiving", Receiving, OBJECT_REF),
    ],
)


def _call_arg_from(variant: bcs.Variant) -> CallArg:
    if variant.name == "Pure":
        return Pure(variant.value)
    return variant.value


def _call_arg_to(arg: CallArg) -> bcs.Variant:
    if isinstance(arg, Pure):
        return bcs.Variant("Pure", arg.value)
    if isinstance(arg, (ImmOrOwnedObject, SharedObject, Receiving)):
        return bcs.Variant("Object", arg)
    raise TypeError(f"CallArg has no variant for {type(arg).__name__}")


CALL_ARG = bcs.Mapped(
    bcs.Enum(
        "CallArg",
        [
            ("Pure", bcs.BYTES),
            ("Object", OBJECT_ARG),
            ("FundsWithdrawal", bcs.Refused("CallArg::FundsWithdrawal")),
        ],
    ),
    _call_arg_from,
    _call_arg_to,
    "CallArg",
)


# -- commands -----------------------------------------------------------------------------


@dataclass(frozen=True)
class MoveCall:
    package: ObjectId
    module: str
    function: str
    type_arguments: tuple[TypeTag, ...] = ()
    arguments: tuple[Argument, ...] = ()

    def __post_init__(self) -> None:
        _freeze(self)


@dataclass(frozen=True)
class TransferObjects:
    objects: tuple[Argument, ...]
    address: Argument

    def __post_init__(self) -> None:
        _freeze(self)


@dataclass(frozen=True)
class SplitCoins:
    coin: Argument
    amounts: tuple[Argument, ...]

    def __post_init__(self) -> None:
        _freeze(self)


@dataclass(frozen=True)
class MergeCoins:
    destination: Argument
    sources: tuple[Argument, ...]

    def __post_init__(self) -> None:
        _freeze(self)


@dataclass(frozen=True)
class Publish:
    modules: tuple[bytes, ...]
    dependencies: tuple[ObjectId, ...]

    def __post_init__(self) -> None:
        _freeze(self)


@dataclass(frozen=True)
class MakeMoveVec:
    """A vector of the arguments; ``type_`` is needed only when it cannot be inferred
    (no elements, or pure elements)."""

    type_: TypeTag | None
    elements: tuple[Argument, ...]

    def __post_init__(self) -> None:
        _freeze(self)


@dataclass(frozen=True)
class Upgrade:
    modules: tuple[bytes, ...]
    dependencies: tuple[ObjectId, ...]
    package: ObjectId
    ticket: Argument

    def __post_init__(self) -> None:
        _freeze(self)


Command = MoveCall | TransferObjects | SplitCoins | MergeCoins | Publish | MakeMoveVec | Upgrade

_ARGUMENTS = bcs.Vector(ARGUMENT)
COMMAND = union(
    "Command",
    [
        (
            "MoveCall",
            MoveCall,
            record(
                MoveCall,
                "ProgrammableMoveCall",
                [
                    ("package", OBJECT_ID),
                    ("module", IDENTIFIER),
                    ("function", IDENTIFIER),
                    ("type_arguments", bcs.Vector(TYPE_TAG)),
                    ("arguments", _ARGUMENTS),
                ],
            ),
        ),
        (
            "TransferObjects",
            TransferObjects,
            record(TransferObjects, "TransferObjects", [("objects", _ARGUMENTS), ("address", ARGUMENT)]),
        ),
        (
            "SplitCoins",
            SplitCoins,
            record(SplitCoins, "SplitCoins", [("coin", ARGUMENT), ("amounts", _ARGUMENTS)]),
        ),
        (
            "MergeCoins",
            MergeCoins,
            record(MergeCoins, "MergeCoins", [("destination", ARGUMENT), ("sources", _ARGUMENTS)]),
        ),
        (
            "Publish",
            Publish,
            record(
                Publish,
                "Publish",
                [("modules", bcs.Vector(bcs.BYTES)), ("dependencies", bcs.Vector(OBJECT_ID))],
            ),
        ),
        (
            "MakeMoveVec",
            MakeMoveVec,
            record(MakeMoveVec, "MakeMoveVec", [("type_", bcs.Option(TYPE_TAG)), ("elements", _ARGUMENTS)]),
        ),
        (
            "Upgrade",
            Upgrade,
            record(
                Upgrade,
                "Upgrade",
                [
                    ("modules", bcs.Vector(bcs.BYTES)),
                    ("dependencies", bcs.Vector(OBJECT_ID)),
                    ("package", OBJECT_ID),
                    ("ticket", ARGUMENT),
                ],
            ),
        ),
    ],
)


# -- the transaction ----------------------------------------------------------------------


@dataclass(frozen=True)
class ProgrammableTransaction:
    inputs: tuple[CallArg, ...]
    commands: tuple[Command, ...]

    def __post_init__(self) -> None:
        _freeze(self)


PROGRAMMABLE_TRANSACTION = record(
    ProgrammableTransaction,
    "ProgrammableTransaction",
    [("inputs", bcs.Vector(CALL_ARG)), ("commands", bcs.Vector(COMMAND))],
)

TRANSACTION_KIND = union(
    "TransactionKind",
    [
        ("ProgrammableTransaction", ProgrammableTransaction, PROGRAMMABLE_TRANSACTION),
        ("ChangeEpoch", None, None),
        ("Genesis", None, None),
        ("ConsensusCommitPrologue", None, None),
        ("AuthenticatorStateUpdate", None, None),
        ("EndOfEpochTransaction", None, None),
        ("RandomnessStateUpdate", None, None),
        ("ConsensusCommitPrologueV2", None, None),
        ("ConsensusCommitPrologueV3", None, None),
        ("ConsensusCommitPrologueV4", None, None),
        ("ProgrammableSystemTransaction", None, None),
    ],
)


DEFAULT_GAS_BUDGET = 50_000_000
"""The budget a transaction gets unless told otherwise (the Sui CLI's customary 0.05 SUI);
on this subnet, fuel for the Wasm of its Move calls."""
REFERENCE_GAS_PRICE = 1000
"""The gas price set in ``GasData`` (Sui's reference price on its networks; no coins here)."""


@dataclass(frozen=True)
class GasData:
    payment: tuple[ObjectRef, ...]
    owner: SuiAddress
    price: int
    budget: int

    def __post_init__(self) -> None:
        _freeze(self)


GAS_DATA = record(
    GasData,
    "GasData",
    [("payment", bcs.Vector(OBJECT_REF)), ("owner", ADDRESS), ("price", bcs.U64), ("budget", bcs.U64)],
)


@dataclass(frozen=True)
class NoExpiration:
    pass


@dataclass(frozen=True)
class EpochExpiration:
    """Valid up to and including this epoch."""

    epoch: int


@dataclass(frozen=True)
class ValidDuring:
    """Valid within epoch and time bounds on one chain; the nonce tells apart otherwise
    equal transactions (what the SDK sets when no gas coin is given)."""

    min_epoch: int | None
    max_epoch: int | None
    min_timestamp: int | None
    max_timestamp: int | None
    chain: Digest
    nonce: int


Expiration = NoExpiration | EpochExpiration | ValidDuring

_OPTIONAL_U64 = bcs.Option(bcs.U64)
EXPIRATION = union(
    "TransactionExpiration",
    [
        ("None", NoExpiration, None),
        ("Epoch", EpochExpiration, bcs.U64),
        (
            "ValidDuring",
            ValidDuring,
            record(
                ValidDuring,
                "ValidDuring",
                [
                    ("min_epoch", _OPTIONAL_U64),
                    ("max_epoch", _OPTIONAL_U64),
                    ("min_timestamp", _OPTIONAL_U64),
                    ("max_timestamp", _OPTIONAL_U64),
                    ("chain", DIGEST),
                    ("nonce", bcs.U32),
                ],
            ),
        ),
        ("Validity", None, None),
    ],
)


@dataclass(frozen=True)
class TransactionData:
    """``TransactionData::V1``; ``to_bcs`` gives the bytes users sign and Sui hashes."""

    kind: ProgrammableTransaction
    sender: SuiAddress
    gas_data: GasData
    expiration: Expiration = NoExpiration()

    def to_bcs(self) -> bytes:
        return TRANSACTION_DATA.encode(self)

    @classmethod
    def from_bcs(cls, data: bytes) -> TransactionData:
        """Decode strictly; anything else is a ``bcs.BcsError`` naming what and where."""
        value = TRANSACTION_DATA.decode(data)
        assert isinstance(value, cls)
        return value

    def digest(self) -> Digest:
        return transaction_digest(self.to_bcs())

    def signing_digest(self) -> bytes:
        """What the sender signs: Blake2b-256 over intent [0, 0, 0] and the BCS."""
        return signing_digest(TRANSACTION, self.to_bcs())


_TRANSACTION_DATA_V1 = record(
    TransactionData,
    "TransactionDataV1",
    [("kind", TRANSACTION_KIND), ("sender", ADDRESS), ("gas_data", GAS_DATA), ("expiration", EXPIRATION)],
)
TRANSACTION_DATA = bcs.Mapped(
    bcs.Enum("TransactionData", [("V1", _TRANSACTION_DATA_V1)]),
    lambda v: v.value,
    lambda t: bcs.Variant("V1", t),
    "TransactionData",
)

__all__ = [
    "DEFAULT_GAS_BUDGET",
    "REFERENCE_GAS_PRICE",
    "ARGUMENT",
    "CALL_ARG",
    "COMMAND",
    "EXPIRATION",
    "GAS_DATA",
    "OBJECT_ARG",
    "PROGRAMMABLE_TRANSACTION",
    "TRANSACTION_DATA",
    "TRANSACTION_KIND",
    "Argument",
    "CallArg",
    "Command",
    "EpochExpiration",
    "Expiration",
    "GasCoin",
    "GasData",
    "ImmOrOwnedObject",
    "Input",
    "MakeMoveVec",
    "MergeCoins",
    "MoveCall",
    "NestedResult",
    "NoExpiration",
    "ObjectArg",
    "Publish",
    "Pure",
    "ProgrammableTransaction",
    "Receiving",
    "Result",
    "SharedObject",
    "SplitCoins",
    "TransactionData",
    "TransferObjects",
    "Upgrade",
    "ValidDuring",
]
