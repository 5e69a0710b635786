"""Two ways of tying a BCS schema to Python classes, used by every Sui structure here:
a struct read as a frozen dataclass (:func:`record`), and an enum read as one class per
variant (:func:`union`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from vocab import bcs


class Record(bcs.Mapped):
    """A struct schema read as instances of ``cls``."""

    def __init__(self, cls: type, inner: bcs.Struct, decode: Any, encode: Any) -> None:
        super().__init__(inner, decode, encode, inner.name)
        self.cls = cls


def record(cls: type, name: str, fields: Sequence[tuple[str, bcs.Schema]]) -> Record:
    """A BCS struct whose fields are the dataclass ``cls``'s fields of the same names."""
    names = [field for field, _ in fields]
    declared = [f.name for f in dataclasses.fields(cls)]
    if names != declared:
        raise ValueError(f"{cls.__name__} has fields {declared}, the schema {names}")

    def to_plain(value: Any) -> dict[str, Any]:
        if not isinstance(value, cls):
            raise TypeError(f"{name} needs a {cls.__name__}, not {type(value).__name__}")
        return {field: getattr(value, field) for field in names}

    return Record(cls, bcs.Struct(name, fields), lambda d: cls(**d), to_plain)


def union(name: str, variants: Sequence[tuple[str, type | None, bcs.Schema | None]]) -> bcs.Mapped:
    """A BCS enum with one Python class per variant, in the enum's order.

    A variant's class is built from its payload this way: no payload, no arguments; a
    payload that is a :func:`record` of the same class, the record itself; a tuple payload,
    one argument per element; anything else, the one argument. A variant whose class is
    None is refused (``bcs.Refused``) with a message naming it.
    """
    schema_variants: list[tuple[str, bcs.Schema | None]] = []
    by_class: dict[type, tuple[str, str]] = {}
    modes: dict[str, tuple[type, str]] = {}
    for variant, cls, payload in variants:
        if cls is None:
            schema_variants.append((variant, payload or bcs.Refused(f"{name}::{variant}")))
            continue
        if payload is None:
            mode = "unit"
        elif isinstance(payload, Record) and payload.cls is cls:
            mode = "record"
        elif isinstance(payload, bcs.Tuple):
            mode = "tuple"
        else:
            mode = "single"
        schema_variants.append((variant, payload))
        by_class[cls] = (variant, mode)
        modes[variant] = (cls, mode)
    enum = bcs.Enum(name, schema_variants)

    def from_plain(value: bcs.Variant) -> Any:
        cls, mode = modes[value.name]
        if mode == "unit":
            return cls()
        if mode == "record":
            return value.value
        if mode == "tuple":
            return cls(*value.value)
        return cls(value.value)

    def to_plain(value: Any) -> bcs.Variant:
        entry = by_class.get(type(value))
        if entry is None:
            raise TypeError(f"{name} has no variant for {type(value).__name__}")
        variant, mode = entry
        if mode == "unit":
            return bcs.Variant(variant)
        if mode == "record":
            return bcs.Variant(variant, value)
        values = [getattr(value, f.name) for f in dataclasses.fields(value)]
        if mode == "tuple":
            return bcs.Variant(variant, tuple(values))
        return bcs.Variant(variant, values[0])

    return bcs.Mapped(enum, from_plain, to_plain, name)


__all__ = ["Record", "record", "union"]
