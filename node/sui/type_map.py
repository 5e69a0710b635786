"""Between the transaction's type names and the VM's types, and what a pure input may be.

A transaction names types as ``TypeTag`` (``vocab.sui.type_tag``: what users write and
sign); the VM and the compiler use ``move.types`` (``StructType`` with a ``ModuleId``).
Both spell a struct by its package's original id, so the mapping is one to one.

Pure inputs are untyped bytes until a command uses them; Sui then checks that the
parameter's type is one a pure value may have (primitives, vectors of them, ``String``,
``ascii::String``, ``ID``, ``Option`` of these) and that the bytes are a valid BCS value of
that type, strings included (UTF-8, ASCII). ``pure_schema`` gives the strict BCS schema
of such a type, or ``None`` when the type cannot come from a pure input.
"""

from __future__ import annotations

from move.types import ModuleId, Prim, PrimType, StructType, Type, VectorType
from vocab import bcs
from vocab.sui.address import SuiAddress
from vocab.sui.type_tag import PrimitiveTag, StructTag, TypeTag, VectorTag

STD = bytes(31) + b"\x01"
SUI = bytes(31) + b"\x02"
STRING = StructType(ModuleId(STD, "string"), "String")
ASCII_STRING = StructType(ModuleId(STD, "ascii"), "String")
OBJECT_ID = StructType(ModuleId(SUI, "object"), "ID")
UID = StructType(ModuleId(SUI, "object"), "UID")
UPGRADE_CAP = StructType(ModuleId(SUI, "package"), "UpgradeCap")
UPGRADE_TICKET = StructType(ModuleId(SUI, "package"), "UpgradeTicket")
UPGRADE_RECEIPT = StructType(ModuleId(SUI, "package"), "UpgradeReceipt")
TX_CONTEXT = StructType(ModuleId(SUI, "tx_context"), "TxContext")


class TypeMapError(ValueError):
    """A type the VM cannot name as a tag (a signer, a type parameter, a reference)."""


def tag_to_type(tag: TypeTag) -> Type:
    if isinstance(tag, PrimitiveTag):
        if tag.name == "signer":
            raise TypeMapError("signer is not a Sui Move type")
        return PrimType(Prim(tag.name))
    if isinstance(tag, VectorTag):
        return VectorType(tag_to_type(tag.element))
    return StructType(
        ModuleId(tag.address.raw, tag.module), tag.name, tuple(tag_to_type(t) for t in tag.type_params)
    )


def type_to_tag(ty: Type) -> TypeTag:
    if isinstance(ty, PrimType):
        return PrimitiveTag(ty.prim.value)
    if isinstance(ty, VectorType):
        return VectorTag(type_to_tag(ty.element))
    if isinstance(ty, StructType):
        return StructTag(
            SuiAddress(ty.module.address), ty.module.name, ty.name, tuple(type_to_tag(a) for a in ty.args)
        )
    raise TypeMapError(f"{ty} is not a value type")


def struct_tag(ty: StructType) -> StructTag:
    tag = type_to_tag(ty)
    assert isinstance(tag, StructTag)
    return tag


_INTEGERS: dict[Prim, bcs.Schema] = {Prim.U8: bcs.U8, Prim.U16: bcs.U16, Prim.U32: bcs.U32, Prim.U64: bcs.U64}
_INTEGERS.update({Prim.U128: bcs.U128, Prim.U256: bcs.U256, Prim.BOOL: bcs.BOOL, Prim.ADDRESS: bcs.ADDRESS})


def _ascii(raw: bytes) -> bytes:
    if any(b > 0x7F for b in raw):
        raise ValueError("an ascii::String holds only ASCII bytes")
    return raw


_ASCII = bcs.Mapped(bcs.BYTES, _ascii, lambda b: b, "ascii::String")


def pure_schema(ty: Type) -> bcs.Schema | None:
    """The strict BCS schema of a type a pure input may have, else ``None``."""
    if isinstance(ty, PrimType):
        return _INTEGERS[ty.prim]
    if isinstance(ty, VectorType):
        inner = pure_schema(ty.element)
        return None if inner is None else bcs.Vector(inner)
    if isinstance(ty, StructType):
        if ty == STRING:
            return bcs.STRING
        if ty == ASCII_STRING:
            return _ASCII
        if ty == OBJECT_ID:
            return bcs.ADDRESS
        if ty.module == ModuleId(STD, "option") and ty.name == "Option" and len(ty.args) == 1:
            inner = pure_schema(ty.args[0])
            return None if inner is None else bcs.Option(inner)
    return None


__all__ = [
    "ASCII_STRING",
    "OBJECT_ID",
    "STRING",
    "TX_CONTEXT",
    "UID",
    "UPGRADE_CAP",
    "UPGRADE_RECEIPT",
    "UPGRADE_TICKET",
    "TypeMapError",
    "pure_schema",
    "struct_tag",
    "tag_to_type",
    "type_to_tag",
]
