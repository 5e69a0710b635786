"""Candid types as immutable Python objects.

Composite types are frozen dataclasses compared by structure. Recursion goes through
``VarType``, a named reference whose ``target`` is filled in once every definition is
known (a .did file's ``type List = opt record { head : nat; tail : List }``, or a type
table entry of a binary message). A ``VarType`` compares by identity, which is what keeps
equality and hashing of recursive types finite.

Printing a type gives Candid syntax; a ``VarType`` prints as its name, so recursive types
print finitely too.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from vocab.candid.errors import CandidTypeError
from vocab.candid.lexer import quote_name

__all__ = [
    "Type",
    "PrimType",
    "OptType",
    "VecType",
    "Field",
    "RecordType",
    "VariantType",
    "FuncType",
    "ServiceType",
    "FutureType",
    "VarType",
    "PRIMS",
    "NULL",
    "BOOL",
    "NAT",
    "INT",
    "NAT8",
    "NAT16",
    "NAT32",
    "NAT64",
    "INT8",
    "INT16",
    "INT32",
    "INT64",
    "FLOAT32",
    "FLOAT64",
    "TEXT",
    "RESERVED",
    "EMPTY",
    "PRINCIPAL",
    "BLOB",
    "idl_hash",
    "resolve",
    "is_null_like",
    "record",
    "variant",
    "tuple_record",
    "func",
    "service",
    "type_to_text",
]

MAX_FIELD_ID = 2**32 - 1
FUNC_MODES = ("query", "oneway", "composite_query")
"""Function annotations, in the order of their binary codes 1, 2, 3."""


def idl_hash(name: str) -> int:
    """The field id of a field name: sum of utf8(name)[i] * 223^(k-i), mod 2^32."""
    value = 0
    for byte in name.encode("utf-8"):
        value = (value * 223 + byte) & 0xFFFFFFFF
    return value


class Type:
    """Base of every Candid type."""

    __slots__ = ()

    def __str__(self) -> str:
        return type_to_text(self)


@dataclass(frozen=True, slots=True, repr=False)
class PrimType(Type):
    """A primitive type, identified by its Candid name."""

    name: str

    @property
    def opcode(self) -> int:
        return PRIM_OPCODES[self.name]

    def __repr__(self) -> str:
        return self.name.upper()


PRIM_OPCODES = {
    "null": -1,
    "bool": -2,
    "nat": -3,
    "int": -4,
    "nat8": -5,
    "nat16": -6,
    "nat32": -7,
    "nat64": -8,
    "int8": -9,
    "int16": -10,
    "int32": -11,
    "int64": -12,
    "float32": -13,
    "float64": -14,
    "text": -15,
    "reserved": -16,
    "empty": -17,
    "principal": -24,
}
PRIMS: dict[str, PrimType] = {name: PrimType(name) for name in PRIM_OPCODES}
PRIM_BY_OPCODE: dict[int, PrimType] = {code: PRIMS[name] for name, code in PRIM_OPCODES.items()}

NULL = PRIMS["null"]
BOOL = PRIMS["bool"]
NAT = PRIMS["nat"]
INT = PRIMS["int"]
NAT8 = PRIMS["nat8"]
NAT16 = PRIMS["nat16"]
NAT32 = PRIMS["nat32"]
NAT64 = PRIMS["nat64"]
INT8 = PRIMS["int8"]
INT16 = PRIMS["int16"]
INT32 = PRIMS["int32"]
INT64 = PRIMS["int64"]
FLOAT32 = PRIMS["float32"]
FLOAT64 = PRIMS["float64"]
TEXT = PRIMS["text"]
RESERVED = PRIMS["reserved"]
EMPTY = PRIMS["empty"]
PRINCIPAL = PRIMS["principal"]

INT_RANGES: dict[str, tuple[int, int]] = {
    "nat8": (0, 2**8 - 1),
    "nat16": (0, 2**16 - 1),
    "nat32": (0, 2**32 - 1),
    "nat64": (0, 2**64 - 1),
    "int8": (-(2**7), 2**7 - 1),
    "int16": (-(2**15), 2**15 - 1),
    "int32": (-(2**31), 2**31 - 1),
    "int64": (-(2**63), 2**63 - 1),
}
INTEGER_TYPES = frozenset({"nat", "int", *INT_RANGES})
FLOAT_TYPES = frozenset({"float32", "float64"})


@dataclass(frozen=True, slots=True)
class OptType(Type):
    inner: Type


@dataclass(frozen=True, slots=True)
class VecType(Type):
    inner: Type


BLOB = VecType(NAT8)


@dataclass(frozen=True, slots=True)
class Field:
    """A record field or variant case. ``name`` is None when only the id is known."""

    id: int
    name: str | None
    type: Type

    @property
    def key(self) -> str | int:
        """The key of this field in a decoded record dict (or a Variant's tag)."""
        return self.name if self.name is not None else self.id

    @property
    def label(self) -> str:
        return quote_name(self.name) if self.name is not None else str(self.id)


def _sorted_fields(fields: tuple[Field, ...], what: str) -> tuple[Field, ...]:
    ordered = tuple(sorted(fields, key=lambda f: f.id))
    for index, item in enumerate(ordered):
        if not 0 <= item.id <= MAX_FIELD_ID:
            raise CandidTypeError(f"{what} field id {item.id} is outside 0..2^32-1")
        if index and ordered[index - 1].id == item.id:
            other = ordered[index - 1]
            raise CandidTypeError(f"{what} fields {other.label} and {item.label} have the same id {item.id}")
    return ordered


class _FieldsType(Type):
    """What records and variants share: fields kept sorted by id, ids unique, lookup by key."""

    __slots__ = ()
    fields: tuple[Field, ...]
    KIND: ClassVar[str] = "composite"

    def __post_init__(self) -> None:
        object.__setattr__(self, "fields", _sorted_fields(tuple(self.fields), self.KIND))

    def field(self, key: str | int) -> Field | None:
        """The field (or case) named ``key``, or with id ``key``."""
        for item in self.fields:
            if item.name == key or item.id == key:
                return item
        return None


@dataclass(frozen=True, slots=True)
class RecordType(_FieldsType):
    """A record; fields are kept sorted by id and ids are unique."""

    KIND = "record"
    fields: tuple[Field, ...] = ()

    @property
    def is_tuple(self) -> bool:
        """A record whose fields are 0, 1, 2... without names: printed as a tuple."""
        return all(f.id == i and f.name is None for i, f in enumerate(self.fields))


@dataclass(frozen=True, slots=True)
class VariantType(_FieldsType):
    """A variant; cases are kept sorted by id (the binary index is the position)."""

    KIND = "variant"
    fields: tuple[Field, ...] = ()


@dataclass(frozen=True, slots=True)
class FuncType(Type):
    """A function (or method) type. Argument names are documentation and not compared."""

    args: tuple[Type, ...] = ()
    results: tuple[Type, ...] = ()
    modes: tuple[str, ...] = ()
    arg_names: tuple[str | None, ...] = field(default=(), compare=False)
    result_names: tuple[str | None, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "args", tuple(self.args))
        object.__setattr__(self, "results", tuple(self.results))
        modes = tuple(self.modes)
        for mode in modes:
            if mode not in FUNC_MODES:
                raise CandidTypeError(f"unknown function annotation {mode!r}")
        if len(set(modes)) != len(modes):
            raise CandidTypeError(f"repeated function annotation in {modes}")
        object.__setattr__(self, "modes", tuple(sorted(modes, key=FUNC_MODES.index)))

    @property
    def is_query(self) -> bool:
        return "query" in self.modes or "composite_query" in self.modes

    @property
    def is_oneway(self) -> bool:
        return "oneway" in self.modes


def _name_order(name: str) -> bytes:
    return name.encode("utf-8", "surrogatepass")


@dataclass(frozen=True, slots=True)
class ServiceType(Type):
    """A service (actor) type; methods sorted by name (UTF-8 order), names unique."""

    methods: tuple[tuple[str, Type], ...] = ()

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.methods, key=lambda m: _name_order(m[0])))
        for index in range(1, len(ordered)):
            if ordered[index - 1][0] == ordered[index][0]:
                raise CandidTypeError(f"service method {ordered[index][0]!r} is declared twice")
        object.__setattr__(self, "methods", ordered)

    def method(self, name: str) -> Type | None:
        for method_name, method_type in self.methods:
            if method_name == name:
                return method_type
        return None


@dataclass(frozen=True, slots=True)
class FutureType(Type):
    """A type from a newer Candid version: known only by its opcode, skipped when read."""

    opcode: int


class VarType(Type):
    """A named reference to a type, for recursion; compared by identity."""

    __slots__ = ("name", "target")

    def __init__(self, name: str, target: Type | None = None) -> None:
        self.name = name
        self.target = target

    def __repr__(self) -> str:
        return f"VarType({self.name!r})"


def resolve(t: Type) -> Type:
    """Follow VarType references to the type they name."""
    steps = 0
    while isinstance(t, VarType):
        target = t.target
        if target is None:
            raise CandidTypeError(f"type {t.name} is not defined")
        t = target
        steps += 1
        if steps > 100_000:
            raise CandidTypeError("type definitions refer to each other without end")
    return t


def is_null_like(t: Type) -> bool:
    """``null <: t``: the types a missing field or argument may take (null, opt, reserved)."""
    t = resolve(t)
    return isinstance(t, OptType) or (isinstance(t, PrimType) and t.name in ("null", "reserved"))


# -- constructors that read well in Python code ------------------------------------------


def _as_field(key: str | int, t: Type) -> Field:
    if isinstance(key, int) and not isinstance(key, bool):
        return Field(key, None, t)
    if isinstance(key, str):
        return Field(idl_hash(key), key, t)
    raise CandidTypeError(f"a field is named by a str or an int id, not {key!r}")


def record(fields: dict[str | int, Type] | Iterable[tuple[str | int, Type]] = ()) -> RecordType:
    """``record({"name": TEXT, "age": NAT})``: fields by name (hashed) or numeric id."""
    items = fields.items() if isinstance(fields, dict) else fields
    return RecordType(tuple(_as_field(k, t) for k, t in items))


def tuple_record(*types: Type) -> RecordType:
    """``record { t0; t1; ... }``."""
    return RecordType(tuple(Field(i, None, t) for i, t in enumerate(types)))


def variant(cases: dict[str | int, Type] | Iterable[tuple[str | int, Type]] = ()) -> VariantType:
    """``variant({"ok": NAT, "err": TEXT})``."""
    items = cases.items() if isinstance(cases, dict) else cases
    return VariantType(tuple(_as_field(k, t) for k, t in items))


def func(args: Sequence[Type] = (), results: Sequence[Type] = (), modes: Sequence[str] = ()) -> FuncType:
    return FuncType(tuple(args), tuple(results), tuple(modes))


def service(methods: dict[str, Type] | Iterable[tuple[str, Type]] = ()) -> ServiceType:
    items = methods.items() if isinstance(methods, dict) else methods
    return ServiceType(tuple(items))


# -- printing -------------------------------------------------------------------------


def _fields_text(fields: tuple[Field, ...], is_variant: bool) -> str:
    if not fields:
        return "{}"
    parts = []
    tuple_like = not is_variant and all(f.id == i and f.name is None for i, f in enumerate(fields))
    for item in fields:
        if tuple_like:
            parts.append(type_to_text(item.type))
        elif is_variant and isinstance(item.type, PrimType) and item.type.name == "null":
            parts.append(item.label)
        else:
            parts.append(f"{item.label} : {type_to_text(item.type)}")
    return "{ " + "; ".join(parts) + " }"


def tuple_text(types: Sequence[Type], names: Sequence[str | None] = ()) -> str:
    """``(name : text, nat)``: an argument or result list, with names where given."""
    parts = []
    for index, item in enumerate(types):
        name = names[index] if index < len(names) else None
        text = type_to_text(item)
        parts.append(f"{quote_name(name)} : {text}" if name else text)
    return "(" + ", ".join(parts) + ")"


def func_signature_text(t: FuncType) -> str:
    """``(text, nat) -> (bool) query``: the function type without the ``func`` keyword."""
    text = f"{tuple_text(t.args, t.arg_names)} -> {tuple_text(t.results, t.result_names)}"
    if t.modes:
        text += " " + " ".join(t.modes)
    return text


def service_body_text(t: ServiceType) -> str:
    if not t.methods:
        return "{}"
    parts = []
    for name, method in t.methods:
        if isinstance(method, FuncType):
            parts.append(f"{quote_name(name)} : {func_signature_text(method)}")
        else:
            parts.append(f"{quote_name(name)} : {type_to_text(method)}")
    return "{ " + "; ".join(parts) + " }"


def type_to_text(t: Type) -> str:
    """Candid syntax for a type (named references print as their names)."""
    if isinstance(t, PrimType):
        return t.name
    if isinstance(t, VarType):
        return t.name
    if isinstance(t, OptType):
        return f"opt {type_to_text(t.inner)}"
    if isinstance(t, VecType):
        inner = t.inner
        if isinstance(inner, PrimType) and inner.name == "nat8":
            return "blob"
        return f"vec {type_to_text(inner)}"
    if isinstance(t, RecordType):
        return f"record {_fields_text(t.fields, False)}"
    if isinstance(t, VariantType):
        return f"variant {_fields_text(t.fields, True)}"
    if isinstance(t, FuncType):
        return f"func {func_signature_text(t)}"
    if isinstance(t, ServiceType):
        return f"service {service_body_text(t)}"
    if isinstance(t, FutureType):
        return f"<future type {t.opcode}>"
    raise TypeError(f"not a Candid type: {t!r}")


def args_to_text(types: Sequence[Type]) -> str:
    return tuple_text(types)
