"""Move types as the checker, the code generator and the runtime all see them.

One representation for every stage: the checker produces these, code generation
chooses a Wasm layout from them, and the runtime maps them to BCS schemas for object
contents. Addresses are kept as 32 bytes, never as text, so that ``0x2`` and
``0x0000…02`` are the same module.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass


class Ability(enum.IntFlag):
    """Move's four abilities; a set of them is an ``Ability`` value (``COPY | DROP``)."""

    NONE = 0
    COPY = 1
    DROP = 2
    STORE = 4
    KEY = 8

    def names(self) -> list[str]:
        """In Move's order (copy, drop, store, key), as source spells them."""
        return [
            a.name.lower()
            for a in (Ability.COPY, Ability.DROP, Ability.STORE, Ability.KEY)
            if a in self and a.name
        ]


ALL_ABILITIES = Ability.COPY | Ability.DROP | Ability.STORE | Ability.KEY


@dataclass(frozen=True, order=True)
class ModuleId:
    """A module's address (32 bytes) and name: ``0x2::transfer``."""

    address: bytes
    name: str

    def __post_init__(self) -> None:
        assert len(self.address) == 32, "a Move address is 32 bytes"

    def __str__(self) -> str:
        return f"{short_address(self.address)}::{self.name}"


def short_address(address: bytes) -> str:
    """``0x2`` for the framework addresses, full 64 hex digits otherwise (as Sui prints types)."""
    value = int.from_bytes(address, "big")
    if value < 0x100:
        return hex(value)
    return "0x" + address.hex()


def address_of(value: int) -> bytes:
    """The 32-byte address of a number (``address_of(2)`` is ``0x2``)."""
    return value.to_bytes(32, "big")


class Prim(enum.Enum):
    """The primitive types."""

    BOOL = "bool"
    U8 = "u8"
    U16 = "u16"
    U32 = "u32"
    U64 = "u64"
    U128 = "u128"
    U256 = "u256"
    ADDRESS = "address"

    @property
    def bits(self) -> int:
        """The width of an unsigned integer type (0 for bool and address)."""
        return {"u8": 8, "u16": 16, "u32": 32, "u64": 64, "u128": 128, "u256": 256}.get(self.value, 0)

    @property
    def is_integer(self) -> bool:
        return self.bits > 0

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class PrimType:
    prim: Prim

    def __str__(self) -> str:
        return str(self.prim)


@dataclass(frozen=True)
class VectorType:
    element: Type

    def __str__(self) -> str:
        return f"vector<{self.element}>"


@dataclass(frozen=True)
class StructType:
    """An instantiated struct type: ``0x2::coin::Coin<0x2::sui::SUI>``.

    ``module`` is the module's *original* (runtime) id: a type keeps the id of the
    package that first defined it across upgrades, as Sui's type origin table says.
    """

    module: ModuleId
    name: str
    args: tuple[Type, ...] = ()

    def __str__(self) -> str:
        inner = f"<{', '.join(str(a) for a in self.args)}>" if self.args else ""
        return f"{self.module}::{self.name}{inner}"


@dataclass(frozen=True)
class TypeParam:
    """The ``index``-th type parameter of the enclosing function or struct (``name`` for messages)."""

    index: int
    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class RefType:
    """``&T`` or ``&mut T``; only in parameters, locals and expression results, never in fields."""

    mutable: bool
    inner: Type

    def __str__(self) -> str:
        return f"&mut {self.inner}" if self.mutable else f"&{self.inner}"


@dataclass(frozen=True)
class TupleType:
    """The type of a multi-value expression (a call returning several values, ``()`` is empty)."""

    items: tuple[Type, ...]

    def __str__(self) -> str:
        return "(" + ", ".join(str(i) for i in self.items) + ")"


Type = PrimType | VectorType | StructType | TypeParam | RefType | TupleType

BOOL = PrimType(Prim.BOOL)
U8 = PrimType(Prim.U8)
U16 = PrimType(Prim.U16)
U32 = PrimType(Prim.U32)
U64 = PrimType(Prim.U64)
U128 = PrimType(Prim.U128)
U256 = PrimType(Prim.U256)
ADDRESS = PrimType(Prim.ADDRESS)
UNIT = TupleType(())


def contains(ty: object, leaf: Callable[[object], bool]) -> bool:
    """Whether ``leaf`` holds for ``ty`` or any type inside it (vector elements, struct type
    arguments, referenced and tuple types): one walk for "mentions a type parameter",
    "still has an inference variable" and the like."""
    if leaf(ty):
        return True
    if isinstance(ty, VectorType):
        return contains(ty.element, leaf)
    if isinstance(ty, StructType):
        return any(contains(a, leaf) for a in ty.args)
    if isinstance(ty, RefType):
        return contains(ty.inner, leaf)
    if isinstance(ty, TupleType):
        return any(contains(i, leaf) for i in ty.items)
    return False


def substitute(ty: Type, args: tuple[Type, ...]) -> Type:
    """``ty`` with every ``TypeParam(i)`` replaced by ``args[i]`` (instantiating a generic)."""
    if isinstance(ty, TypeParam):
        return args[ty.index]
    if isinstance(ty, VectorType):
        return VectorType(substitute(ty.element, args))
    if isinstance(ty, StructType):
        return StructType(ty.module, ty.name, tuple(substitute(a, args) for a in ty.args))
    if isinstance(ty, RefType):
        return RefType(ty.mutable, substitute(ty.inner, args))
    if isinstance(ty, TupleType):
        return TupleType(tuple(substitute(i, args) for i in ty.items))
    return ty
