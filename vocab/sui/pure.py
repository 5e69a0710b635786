"""Pure arguments: the Move types a transaction may pass as plain BCS bytes, and their schemas.

Sui accepts as a pure input a value of a primitive type (bool, u8 .. u256, address), of
``0x1::string::String`` (UTF-8) or ``0x1::ascii::String`` (ASCII), of ``0x2::object::ID``,
or a ``vector`` or ``0x1::option::Option`` of these. The client encodes ``--args`` with
:func:`pure_schema` of the parameter's type; the executor decodes the bytes with the same
schema, so a value the function could not have been given (a string that is not UTF-8, an
option of two elements) is refused before the call. Move's ``Option<T>`` is a vector of at
most one element, which is the same bytes as BCS's option.
"""

from __future__ import annotations

from typing import Any

from vocab import bcs
from vocab.sui.address import ADDRESS, OBJECT_ID, SuiAddress
from vocab.sui.type_tag import PrimitiveTag, StructTag, TypeTag, TypeTagError, VectorTag

_STD = SuiAddress(bytes(31) + b"\x01")
_SUI = SuiAddress(bytes(31) + b"\x02")

_PRIMITIVES: dict[str, bcs.Schema] = {
    "bool": bcs.BOOL,
    "u8": bcs.U8,
    "u16": bcs.U16,
    "u32": bcs.U32,
    "u64": bcs.U64,
    "u128": bcs.U128,
    "u256": bcs.U256,
    "address": ADDRESS,
}


def _ascii(text: str) -> str:
    if not text.isascii():
        raise ValueError(f"{text!r} is not ASCII, as 0x1::ascii::String requires")
    return text


ASCII_STRING = bcs.Mapped(bcs.STRING, _ascii, _ascii, "0x1::ascii::String")
"""``0x1::ascii::String``: a length and bytes below 0x80, read as ``str``."""


def pure_schema(tag: TypeTag) -> bcs.Schema:
    """The schema of a pure argument of type ``tag``, or ``TypeTagError`` if the type cannot
    be passed as pure bytes (objects, other structs, ``signer``)."""
    if isinstance(tag, PrimitiveTag):
        schema = _PRIMITIVES.get(tag.name)
        if schema is None:
            raise TypeTagError(f"{tag} cannot be a pure argument")
        return schema
    if isinstance(tag, VectorTag):
        if tag.element == PrimitiveTag("u8"):
            return bcs.BYTES
        return bcs.Vector(pure_schema(tag.element))
    if isinstance(tag, StructTag):
        key = (tag.address, tag.module, tag.name)
        if key == (_STD, "string", "String") and not tag.type_params:
            return bcs.STRING
        if key == (_STD, "ascii", "String") and not tag.type_params:
            return ASCII_STRING
        if key == (_SUI, "object", "ID") and not tag.type_params:
            return OBJECT_ID
        if key == (_STD, "option", "Option") and len(tag.type_params) == 1:
            return bcs.Option(pure_schema(tag.type_params[0]))
    raise TypeTagError(
        f"{tag} cannot be a pure argument: only primitives, address, strings, ID, and "
        "vectors and options of these"
    )


def encode_pure(tag: TypeTag, value: Any) -> bytes:
    """``value`` as the pure bytes of type ``tag``."""
    return pure_schema(tag).encode(value)


def decode_pure(tag: TypeTag, data: bytes) -> Any:
    """The value of type ``tag`` that pure bytes hold; a ``bcs.BcsError`` names what is wrong."""
    return pure_schema(tag).decode(data)


__all__ = ["ASCII_STRING", "decode_pure", "encode_pure", "pure_schema"]
