"""Round trips of generated types and values: binary, typed text, and untyped text.

The strategies here generate Candid types (including recursive ones) and values of
those types in the Python value model; ``test_candid_differential`` reuses them.
"""

from __future__ import annotations

import functools
import math
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vocab.candid import (
    BOOL,
    FLOAT32,
    FLOAT64,
    INT,
    INT8,
    INT16,
    INT32,
    INT64,
    NAT,
    NAT8,
    NAT16,
    NAT32,
    NAT64,
    NULL,
    PRINCIPAL,
    RESERVED,
    TEXT,
    Field,
    FuncRef,
    FuncType,
    OptType,
    PrimType,
    RecordType,
    ServiceType,
    Some,
    Type,
    Variant,
    VariantType,
    VarType,
    VecType,
    decode,
    decode_to_text,
    encode,
    encode_text,
    format_args,
    idl_hash,
    parse_value_text,
)
from vocab.candid.testsuite import values_equal
from vocab.candid.types import resolve
from vocab.principal import Principal

SETTINGS = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

NAMES = ["a", "b", "name", "owner", "amount", "ok", "err", "x_1", "snow☃", "with space", "type"]

# -- types ------------------------------------------------------------------------------------

PRIM_TYPES = [
    NULL,
    BOOL,
    NAT,
    INT,
    NAT8,
    NAT16,
    NAT32,
    NAT64,
    INT8,
    INT16,
    INT32,
    INT64,
    FLOAT32,
    FLOAT64,
    TEXT,
    RESERVED,
    PRINCIPAL,
]

labels = st.one_of(st.sampled_from(NAMES), st.integers(min_value=0, max_value=2**32 - 1))


def _field(label: str | int, t: Type) -> Field:
    if isinstance(label, str):
        return Field(idl_hash(label), label, t)
    return Field(label, None, t)


def _unique_fields(pairs: list[tuple[str | int, Type]]) -> tuple[Field, ...]:
    seen: dict[int, Field] = {}
    for label, t in pairs:
        item = _field(label, t)
        seen.setdefault(item.id, item)
    return tuple(seen.values())


def _records(children: st.SearchStrategy[Type]) -> st.SearchStrategy[Type]:
    named = st.lists(st.tuples(labels, children), max_size=4).map(
        lambda pairs: RecordType(_unique_fields(pairs))
    )
    tuples = st.lists(children, max_size=3).map(
        lambda ts: RecordType(tuple(Field(i, None, t) for i, t in enumerate(ts)))
    )
    return st.one_of(named, tuples)


def _variants(children: st.SearchStrategy[Type]) -> st.SearchStrategy[Type]:
    return st.lists(st.tuples(labels, children), min_size=1, max_size=4).map(
        lambda pairs: VariantType(_unique_fields(pairs))
    )


def _funcs(children: st.SearchStrategy[Type]) -> st.SearchStrategy[Type]:
    return st.builds(
        lambda args, results, mode: FuncType(
            tuple(args), () if mode == ("oneway",) else tuple(results), mode
        ),
        st.lists(children, max_size=2),
        st.lists(children, max_size=2),
        st.sampled_from([(), ("query",), ("oneway",), ("composite_query",)]),
    )


def _services(children: st.SearchStrategy[Type]) -> st.SearchStrategy[Type]:
    methods = st.dictionaries(
        st.sampled_from(["get", "put", "go", "☃"]),
        _funcs(children),
        max_size=2,
    )
    return methods.map(lambda m: ServiceType(tuple(m.items())))


def _list_of(t: Type) -> Type:
    var = VarType("List")
    var.target = OptType(
        RecordType((Field(idl_hash("head"), "head", t), Field(idl_hash("tail"), "tail", var)))
    )
    return var


def _tree_of(t: Type) -> Type:
    var = VarType("Tree")
    var.target = VariantType(
        (Field(0, None, t), Field(1, None, RecordType((Field(0, None, var), Field(1, None, var)))))
    )
    return var


def candid_types(references: bool = True) -> st.SearchStrategy[Type]:
    """Candid types: primitives, composites, recursive lists and trees, and references."""

    def extend(children: st.SearchStrategy[Type]) -> st.SearchStrategy[Type]:
        options = [
            children.map(OptType),
            children.map(VecType),
            _records(children),
            _variants(children),
            children.map(_list_of),
            children.map(_tree_of),
        ]
        if references:
            options += [_funcs(children), _services(children)]
        return st.one_of(*options)

    return st.recursive(st.sampled_from(PRIM_TYPES), extend, max_leaves=6)


# -- values ------------------------------------------------------------------------------------

principals = st.binary(max_size=29).map(Principal)
_RANGES = {
    "nat8": (0, 2**8 - 1),
    "nat16": (0, 2**16 - 1),
    "nat32": (0, 2**32 - 1),
    "nat64": (0, 2**64 - 1),
    "int8": (-(2**7), 2**7 - 1),
    "int16": (-(2**15), 2**15 - 1),
    "int32": (-(2**31), 2**31 - 1),
    "int64": (-(2**63), 2**63 - 1),
}


@functools.lru_cache(maxsize=4096)
def values_of(t: Type, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values of type ``t`` in the Python value model, bounded for recursive types."""
    deep = depth > 3
    t = resolve(t)
    if isinstance(t, PrimType):
        name = t.name
        if name in ("null", "reserved"):
            return st.none()
        if name == "bool":
            return st.booleans()
        if name == "nat":
            return st.integers(min_value=0)
        if name == "int":
            return st.integers()
        if name in _RANGES:
            low, high = _RANGES[name]
            return st.integers(min_value=low, max_value=high)
        if name == "float32":
            return st.floats(width=32)
        if name == "float64":
            return st.floats()
        if name == "text":
            return st.text(max_size=12)
        if name == "principal":
            return principals
        raise AssertionError(name)
    if isinstance(t, OptType):
        if deep:
            return st.none()
        return st.one_of(st.none(), values_of(t.inner, depth + 1).map(Some))
    if isinstance(t, VecType):
        inner = resolve(t.inner)
        if isinstance(inner, PrimType) and inner.name == "nat8":
            return st.binary(max_size=16)
        if deep:
            return st.just([])
        return st.lists(values_of(inner, depth + 1), max_size=3)
    if isinstance(t, RecordType):
        return st.fixed_dictionaries({f.key: values_of(f.type, depth + 1) for f in t.fields})
    if isinstance(t, VariantType):
        cases = t.fields[:1] if deep else t.fields
        return st.one_of(
            *[values_of(f.type, depth + 1).map(lambda v, key=f.key: Variant(key, v)) for f in cases]
        )
    if isinstance(t, FuncType):
        return st.builds(FuncRef, principals, st.text(min_size=1, max_size=8))
    if isinstance(t, ServiceType):
        return principals
    raise AssertionError(t)


@st.composite
def typed_args(draw: st.DrawFn, references: bool = True) -> tuple[list[Any], list[Type]]:
    types = draw(st.lists(candid_types(references), min_size=0, max_size=3))
    values = [draw(values_of(t)) for t in types]
    return values, types


def _has_references(t: Type, seen: set[int] | None = None) -> bool:
    seen = set() if seen is None else seen
    t = resolve(t)
    if id(t) in seen:
        return False
    seen.add(id(t))
    if isinstance(t, (FuncType, ServiceType)):
        return True
    if isinstance(t, (OptType, VecType)):
        return _has_references(t.inner, seen)
    if isinstance(t, (RecordType, VariantType)):
        return any(_has_references(f.type, seen) for f in t.fields)
    return False


# -- properties ------------------------------------------------------------------------------


@SETTINGS
@given(typed_args())
def test_binary_round_trip(args: tuple[list[Any], list[Type]]) -> None:
    values, types = args
    blob = encode(values, types)
    assert values_equal(decode(blob, types), values)


@SETTINGS
@given(typed_args())
def test_typed_text_round_trip(args: tuple[list[Any], list[Type]]) -> None:
    values, types = args
    text = format_args(values, types)
    again, _ = parse_value_text(text, types)
    assert values_equal(again, values), text


@SETTINGS
@given(typed_args(references=False))
def test_untyped_text_round_trip(args: tuple[list[Any], list[Type]]) -> None:
    """``decode_to_text`` without types annotates enough to encode the text again."""
    values, types = args
    blob = encode(values, types)
    text = decode_to_text(blob)
    assert values_equal(decode(encode_text(text), types), values), text


@SETTINGS
@given(typed_args())
def test_untyped_decode_reads_every_message(args: tuple[list[Any], list[Type]]) -> None:
    """Reading at the message's own types always works, and re-encodes to a readable blob."""
    values, types = args
    blob = encode(values, types)
    wire_values = decode(blob)
    assert len(wire_values) == len(types)
    from vocab.candid import decode_with_types

    again, wire_types = decode_with_types(blob)
    assert values_equal(decode(encode(again, wire_types), types), values)


@SETTINGS
@given(candid_types(), st.data())
def test_value_reads_at_opt_of_its_type(t: Type, data: st.DataObject) -> None:
    """Any value reads at ``opt`` of its type as present (unless it is null-like)."""
    value = data.draw(values_of(t))
    blob = encode([value], [t])
    (got,) = decode(blob, [OptType(t)])
    inner = resolve(t)
    if isinstance(inner, OptType) or (isinstance(inner, PrimType) and inner.name in ("null", "reserved")):
        assert got is None or isinstance(got, Some)
    else:
        assert isinstance(got, Some) and values_equal(got.value, value)


def test_float_specials_round_trip() -> None:
    for t in (FLOAT32, FLOAT64):
        for value in (math.inf, -math.inf, -0.0, 1.5):
            assert decode(encode([value], [t]), [t]) == [value]
        (nan,) = decode(encode([math.nan], [t]), [t])
        assert math.isnan(nan)
        text = format_args([math.nan, math.inf], [t, t])
        again, _ = parse_value_text(text, [t, t])
        assert math.isnan(again[0]) and again[1] == math.inf
