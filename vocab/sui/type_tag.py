"""Move type tags: the runtime names of types (``u64``, ``vector<u8>``,
``0x2::coin::Coin<0x2::sui::SUI>``), in BCS and as text.

Three textual forms, as Move and Sui have them: ``str(tag)`` is Move's display form (short
addresses, ``", "`` between type arguments: what the Sui CLI and JSON show),
``tag.canonical()`` the stable form (64-digit addresses, ``","``, no spaces: what Move's
``type_name`` returns, with or without ``0x``). :func:`parse_type_tag` reads what
``sui client call --type-args`` takes: any of these, spaces allowed between tokens, short
or long hex addresses, and the named addresses ``std``, ``sui``, ``sui_system`` (plus
any the caller passes, e.g. from ``Move.toml``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from vocab import bcs
from vocab.errors import SubnetError
from vocab.sui.address import ADDRESS, SuiAddress, parse_hex32

PRIMITIVES = ("bool", "u8", "u16", "u32", "u64", "u128", "u256", "address", "signer")
WELL_KNOWN_ADDRESSES = {
    "std": SuiAddress(bytes(31) + b"\x01"),
    "sui": SuiAddress(bytes(31) + b"\x02"),
    "sui_system": SuiAddress(bytes(31) + b"\x03"),
}
"""The named addresses the Sui CLI resolves in type arguments."""

_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]*|_[A-Za-z0-9_]+")


class TypeTagError(SubnetError, ValueError):
    """A type written wrongly, or a name that is not a Move identifier."""


def check_identifier(name: str, what: str = "identifier") -> str:
    """``name`` if it is a Move identifier (a letter, or ``_`` and more, then letters,
    digits and ``_``), else a :class:`TypeTagError` saying why."""
    if not isinstance(name, str) or _IDENTIFIER.fullmatch(name) is None:
        raise TypeTagError(f"{name!r} is not a Move {what}: letters, digits and _, not starting with a digit")
    return name


@dataclass(frozen=True)
class PrimitiveTag:
    name: str

    def __post_init__(self) -> None:
        if self.name not in PRIMITIVES:
            raise TypeTagError(f"{self.name!r} is not a primitive type; those are {', '.join(PRIMITIVES)}")

    def canonical(self, with_prefix: bool = True) -> str:
        return self.name

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class VectorTag:
    element: TypeTag

    def canonical(self, with_prefix: bool = True) -> str:
        return f"vector<{self.element.canonical(with_prefix)}>"

    def __str__(self) -> str:
        return f"vector<{self.element}>"


@dataclass(frozen=True)
class StructTag:
    """A struct type: the defining package's address, the module, the name, type arguments."""

    address: SuiAddress
    module: str
    name: str
    type_params: tuple[TypeTag, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.address, SuiAddress):
            raise TypeTagError(f"a struct tag's address is a SuiAddress, not {type(self.address).__name__}")
        check_identifier(self.module, "module name")
        check_identifier(self.name, "struct name")
        object.__setattr__(self, "type_params", tuple(self.type_params))

    def canonical(self, with_prefix: bool = True) -> str:
        address = self.address.raw.hex()
        head = f"{'0x' if with_prefix else ''}{address}::{self.module}::{self.name}"
        if not self.type_params:
            return head
        return head + "<" + ",".join(t.canonical(with_prefix) for t in self.type_params) + ">"

    def __str__(self) -> str:
        head = f"{self.address.short_text()}::{self.module}::{self.name}"
        if not self.type_params:
            return head
        return head + "<" + ", ".join(str(t) for t in self.type_params) + ">"


TypeTag = PrimitiveTag | VectorTag | StructTag

BOOL = PrimitiveTag("bool")
U8 = PrimitiveTag("u8")
U16 = PrimitiveTag("u16")
U32 = PrimitiveTag("u32")
U64 = PrimitiveTag("u64")
U128 = PrimitiveTag("u128")
U256 = PrimitiveTag("u256")
ADDRESS_TAG = PrimitiveTag("address")
SIGNER = PrimitiveTag("signer")


# -- text ---------------------------------------------------------------------------------

_TOKEN = re.compile(r"\s*(?:(0x[0-9A-Za-z]*)|([A-Za-z_][A-Za-z0-9_]*)|(::|<|>|,)|(\S))")


class _Parser:
    def __init__(self, text: str, named: Mapping[str, SuiAddress]) -> None:
        self.text = text
        self.named = named
        self.tokens: list[tuple[str, str, int]] = []
        pos = 0
        while True:
            match = _TOKEN.match(text, pos)
            if match is None:
                break
            hexa, word, punct, other = match.groups()
            start = match.start(match.lastindex or 0)
            if other is not None:
                raise self.error(f"unexpected character {other!r}", start)
            kind = "hex" if hexa is not None else "word" if word is not None else "punct"
            self.tokens.append((kind, hexa or word or punct or "", start))
            pos = match.end()
        self.index = 0

    def error(self, problem: str, column: int) -> TypeTagError:
        return TypeTagError(f"type {self.text!r}: {problem} at column {column + 1}")

    def peek(self) -> tuple[str, str, int]:
        if self.index < len(self.tokens):
            return self.tokens[self.index]
        return ("end", "", len(self.text))

    def next(self) -> tuple[str, str, int]:
        token = self.peek()
        self.index += 1
        return token

    def expect(self, punct: str) -> None:
        kind, value, column = self.next()
        if kind != "punct" or value != punct:
            found = "the end" if kind == "end" else repr(value)
            raise self.error(f"expected {punct!r}, found {found}", column)

    def type_tag(self) -> TypeTag:
        kind, value, column = self.next()
        if kind == "word" and value in PRIMITIVES and self.peek()[1] != "::":
            return PrimitiveTag(value)
        if kind == "word" and value == "vector" and self.peek()[1] == "<":
            self.expect("<")
            element = self.type_tag()
            self.expect(">")
            return VectorTag(element)
        if kind == "hex":
            try:
                address = SuiAddress(parse_hex32(value, "address"))
            except ValueError as exc:
                raise self.error(str(exc), column) from exc
        elif kind == "word" and value in self.named:
            address = self.named[value]
        elif kind == "word":
            raise self.error(f"unknown type or named address {value!r}", column)
        else:
            found = "the end" if kind == "end" else repr(value)
            raise self.error(f"expected a type, found {found}", column)
        self.expect("::")
        module = self.identifier("module name")
        self.expect("::")
        name = self.identifier("struct name")
        params: list[TypeTag] = []
        if self.peek()[1] == "<":
            self.next()
            params.append(self.type_tag())
            while self.peek()[1] == ",":
                self.next()
                params.append(self.type_tag())
            self.expect(">")
        return StructTag(address, module, name, tuple(params))

    def identifier(self, what: str) -> str:
        kind, value, column = self.next()
        if kind != "word" or _IDENTIFIER.fullmatch(value) is None:
            found = "the end" if kind == "end" else repr(value)
            raise self.error(f"expected a {what}, found {found}", column)
        return value

    def finish(self) -> None:
        kind, value, column = self.peek()
        if kind != "end":
            raise self.error(f"unexpected {value!r} after the type", column)


def parse_type_tag(text: str, named: Mapping[str, SuiAddress] | None = None) -> TypeTag:
    """A type from text (``u64``, ``vector<0x2::sui::SUI>``, ``sui::coin::Coin<sui::sui::SUI>``)."""
    if not isinstance(text, str):
        raise TypeTagError(f"a type is text, not {type(text).__name__}")
    parser = _Parser(text, {**WELL_KNOWN_ADDRESSES, **(named or {})})
    if not parser.tokens:
        raise TypeTagError("a type is empty")
    tag = parser.type_tag()
    parser.finish()
    return tag


def parse_struct_tag(text: str, named: Mapping[str, SuiAddress] | None = None) -> StructTag:
    tag = parse_type_tag(text, named)
    if not isinstance(tag, StructTag):
        raise TypeTagError(f"{text!r} is not a struct type (address::module::Name)")
    return tag


# -- BCS ----------------------------------------------------------------------------------


def _identifier(name: str) -> str:
    return check_identifier(name)


IDENTIFIER = bcs.Mapped(bcs.STRING, _identifier, _identifier, "Identifier")
"""A Move identifier in BCS: a string that must be a valid identifier."""

_VARIANTS = ("bool", "u8", "u64", "u128", "address", "signer", "vector", "struct", "u16", "u32", "u256")
"""TypeTag's variants in Move's order (u16, u32, u256 came later and were appended)."""


def _tag_from(variant: bcs.Variant) -> TypeTag:
    if variant.name == "vector":
        return VectorTag(variant.value)
    if variant.name == "struct":
        return variant.value
    return PrimitiveTag(variant.name)


def _tag_to(tag: TypeTag) -> bcs.Variant:
    if isinstance(tag, VectorTag):
        return bcs.Variant("vector", tag.element)
    if isinstance(tag, StructTag):
        return bcs.Variant("struct", tag)
    if isinstance(tag, PrimitiveTag):
        return bcs.Variant(tag.name)
    raise TypeError(f"not a type tag: {type(tag).__name__}")


TYPE_TAG: bcs.Schema = bcs.Lazy(lambda: _TYPE_TAG, "TypeTag", min_size=1)
"""A type tag in BCS (recursive: ``vector`` holds a type tag)."""
STRUCT_TAG: bcs.Schema = bcs.Mapped(
    bcs.Struct(
        "StructTag",
        [
            ("address", ADDRESS),
            ("module", IDENTIFIER),
            ("name", IDENTIFIER),
            ("type_params", bcs.Vector(TYPE_TAG)),
        ],
    ),
    lambda d: StructTag(d["address"], d["module"], d["name"], tuple(d["type_params"])),
    lambda s: {"address": s.address, "module": s.module, "name": s.name, "type_params": list(s.type_params)},
    "StructTag",
)
_TYPE_TAG: bcs.Schema = bcs.Mapped(
    bcs.Enum(
        "TypeTag",
        [
            (name, TYPE_TAG if name == "vector" else STRUCT_TAG if name == "struct" else None)
            for name in _VARIANTS
        ],
    ),
    _tag_from,
    _tag_to,
    "TypeTag",
)

__all__ = [
    "ADDRESS_TAG",
    "BOOL",
    "IDENTIFIER",
    "PRIMITIVES",
    "SIGNER",
    "STRUCT_TAG",
    "TYPE_TAG",
    "U8",
    "U16",
    "U32",
    "U64",
    "U128",
    "U256",
    "WELL_KNOWN_ADDRESSES",
    "PrimitiveTag",
    "StructTag",
    "TypeTag",
    "TypeTagError",
    "VectorTag",
    "check_identifier",
    "parse_struct_tag",
    "parse_type_tag",
]
