"""BCS (vocab.bcs): the examples of the BCS specification (the ``bcs`` crate's README and
tests), strict decoding (each error names the problem and the offset), round trips of
generated schemas and values."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vocab import bcs
from vocab.bcs import Variant

# -- the specification's examples ---------------------------------------------------------

SERVICE = bcs.Struct(
    "Service",
    [
        ("ip", bcs.FixedBytes(4)),
        ("port", bcs.Vector(bcs.U16)),
        ("connection_max", bcs.Option(bcs.U32)),
        ("enabled", bcs.BOOL),
    ],
)
MY_STRUCT = bcs.Struct("MyStruct", [("boolean", bcs.BOOL), ("bytes", bcs.BYTES), ("label", bcs.STRING)])
WRAPPER = bcs.Struct("Wrapper", [("inner", MY_STRUCT), ("name", bcs.STRING)])
E = bcs.Enum("E", [("Variant0", bcs.U16), ("Variant1", bcs.U8), ("Variant2", bcs.STRING)])

SPEC_EXAMPLES: list[tuple[bcs.Schema, Any, str]] = [
    (bcs.Option(bcs.U8), 8, "0108"),
    (bcs.Option(bcs.U8), None, "00"),
    (bcs.Tuple(bcs.U16, bcs.U16, bcs.U16), (1, 2, 3), "010002000300"),
    (bcs.Vector(bcs.U16), [1, 2], "0201000200"),
    (bcs.Vector(bcs.Tuple()), [()] * 9487, "8f4a"),
    (bcs.STRING, "çå∞≠¢õß∂ƒ∫", "18c3a7c3a5e2889ee289a0c2a2c3b5c39fe28882c692e288ab"),
    (bcs.Tuple(bcs.U8, bcs.STRING), (0xFF, "diem"), "ff046469656d"),
    (MY_STRUCT, {"boolean": True, "bytes": b"\xc0\xde", "label": "a"}, "0102c0de0161"),
    (
        WRAPPER,
        {"inner": {"boolean": True, "bytes": b"\xc0\xde", "label": "a"}, "name": "b"},
        "0102c0de01610162",
    ),
    (E, Variant("Variant0", 8000), "00401f"),
    (E, Variant("Variant1", 255), "01ff"),
    (E, Variant("Variant2", "e"), "020165"),
    (bcs.Map(bcs.U8, bcs.U8), {ord("e"): ord("f"), ord("a"): ord("b"), ord("c"): ord("d")}, "03616263646566"),
    (
        SERVICE,
        {"ip": bytes([192, 168, 1, 1]), "port": [8001, 8002, 8003], "connection_max": 5000, "enabled": False},
        "c0a8010103411f421f431f018813000000",
    ),
    (bcs.U32, 0x12345678, "78563412"),
    (bcs.U64, 0x1234567890ABCDEF, "efcdab9078563412"),
    (bcs.U128, 1, "01" + "00" * 15),
    (bcs.U256, 2**256 - 1, "ff" * 32),
    (bcs.BOOL, True, "01"),
]


@pytest.mark.parametrize(
    ("schema", "value", "expected"), SPEC_EXAMPLES, ids=lambda x: getattr(x, "name", None)
)
def test_specification_examples(schema: bcs.Schema, value: Any, expected: str) -> None:
    assert schema.encode(value).hex() == expected
    assert schema.decode(bytes.fromhex(expected)) == value


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, "01"),
        (0x80, "8001"),
        (0x4000, "808001"),
        (0x200000, "80808001"),
        (0x10000000, "8080808001"),
        (0x250F, "8f4a"),
    ],
)
def test_uleb128_examples(value: int, expected: str) -> None:
    """The ULEB128 table of the BCS specification."""
    assert bcs.ULEB128.encode(value).hex() == expected
    assert bcs.ULEB128.decode(bytes.fromhex(expected)) == value


def test_socket_address_decodes() -> None:
    socket = bcs.Struct("SocketAddr", [("ip", bcs.FixedBytes(4)), ("port", bcs.U16)])
    assert socket.decode(bytes.fromhex("7f000001411f")) == {"ip": bytes([127, 0, 0, 1]), "port": 8001}


# -- strict decoding ----------------------------------------------------------------------

NESTED = bcs.Struct("Outer", [("items", bcs.Vector(bcs.Struct("Inner", [("flag", bcs.BOOL)])))])


@pytest.mark.parametrize(
    ("schema", "data", "error", "offset", "words"),
    [
        (bcs.U64, "0102", bcs.Truncated, 0, "u64 needs 8 bytes, 2 left"),
        (bcs.U8, "0102", bcs.TrailingBytes, 1, "1 bytes left after the u8"),
        (bcs.BOOL, "02", bcs.InvalidBool, 0, "bool byte is 0x02"),
        (NESTED, "0201" + "05", bcs.InvalidBool, 2, "in items[1].flag"),
        (bcs.BYTES, "8000", bcs.NonCanonicalUleb128, 0, "superfluous zero byte"),
        (bcs.BYTES, "808080808001", bcs.NonCanonicalUleb128, 0, "does not fit 32 bits"),
        (bcs.BYTES, "ffffffff0f", bcs.LengthTooLarge, 0, "exceeds the BCS maximum"),
        (bcs.BYTES, "80808080", bcs.Truncated, 0, "runs past the end"),
        (bcs.BYTES, "0501", bcs.Truncated, 1, "bytes needs 5 bytes, 1 left"),
        (bcs.Vector(bcs.U64), "0a00", bcs.Truncated, 0, "needs at least 80 bytes"),
        (E, "03", bcs.UnknownVariant, 0, "no variant index 3"),
        (bcs.Option(bcs.U8), "02", bcs.UnknownVariant, 0, "not 0 (None) or 1 (Some)"),
        (bcs.STRING, "02c328", bcs.InvalidUtf8, 1, "not UTF-8"),
        (bcs.Map(bcs.U8, bcs.U8), "020201" + "0102", bcs.NonCanonicalMap, 3, "out of order"),
        (bcs.Map(bcs.U8, bcs.U8), "0201010102", bcs.NonCanonicalMap, 3, "repeated"),
        (bcs.Enum("X", [("A", bcs.Refused("X::A"))]), "00", bcs.Unsupported, 1, "X::A is not supported"),
    ],
)
def test_decoding_errors_name_problem_and_offset(
    schema: bcs.Schema, data: str, error: type[bcs.BcsError], offset: int, words: str
) -> None:
    with pytest.raises(error) as caught:
        schema.decode(bytes.fromhex(data))
    assert caught.value.offset == offset
    assert words in str(caught.value)
    assert f"at offset {offset}" in str(caught.value)


def _nested_enums(depth: int) -> bytes:
    """``depth`` nested ``Node::Branch`` then a ``Node::Leaf``."""
    return b"\x01" * depth + b"\x00"


NODE: bcs.Schema = bcs.Lazy(lambda: _NODE, "Node")
_NODE = bcs.Enum("Node", [("Leaf", None), ("Branch", NODE)])


def test_container_depth_limit_is_500() -> None:
    """499 branches and the leaf are 500 containers, as deep as Sui's bcs allows."""
    value = NODE.decode(_nested_enums(bcs.MAX_CONTAINER_DEPTH - 1))
    assert NODE.encode(value) == _nested_enums(bcs.MAX_CONTAINER_DEPTH - 1)
    with pytest.raises(bcs.DepthExceeded, match="nested deeper than 500") as caught:
        NODE.decode(_nested_enums(bcs.MAX_CONTAINER_DEPTH))
    assert caught.value.offset == bcs.MAX_CONTAINER_DEPTH
    deep = Variant("Leaf")
    for _ in range(bcs.MAX_CONTAINER_DEPTH):
        deep = Variant("Branch", deep)
    with pytest.raises(bcs.BcsEncodeError, match="nested deeper than 500"):
        NODE.encode(deep)


def test_vectors_do_not_count_towards_depth() -> None:
    """Only structs and enums are containers for the limit (as in Sui's bcs)."""
    schema: bcs.Schema = bcs.U8
    for _ in range(300):
        schema = bcs.Vector(schema)
    data = b"\x01" * 300 + b"\x07"
    value = schema.decode(data)
    assert schema.encode(value) == data


@pytest.mark.parametrize(
    ("schema", "value", "words"),
    [
        (bcs.U8, 256, "256 does not fit u8"),
        (bcs.U64, -1, "does not fit u64"),
        (bcs.U16, True, "needs an int, not bool"),
        (bcs.BOOL, 1, "True or False"),
        (bcs.FixedBytes(4), b"abc", "exactly 4 bytes, not 3"),
        (bcs.STRING, b"x", "needs str"),
        (bcs.STRING, "\ud800", "not valid Unicode"),
        (MY_STRUCT, {"boolean": True, "bytes": b""}, "missing field 'label'"),
        (MY_STRUCT, {"boolean": True, "bytes": b"", "label": "", "x": 1}, "has no field 'x'"),
        (E, Variant("Nope"), "no variant 'Nope'"),
        (bcs.Vector(bcs.U8), [1, 300], "300 does not fit u8 at [1]"),
        (WRAPPER, {"inner": {"boolean": 2, "bytes": b"", "label": ""}, "name": ""}, "at inner.boolean"),
    ],
)
def test_encoding_errors_name_the_place(schema: bcs.Schema, value: Any, words: str) -> None:
    with pytest.raises(bcs.BcsEncodeError) as caught:
        schema.encode(value)
    assert words in str(caught.value)


def test_map_keys_must_be_hashable() -> None:
    with pytest.raises(ValueError, match="hashable"):
        bcs.Map(bcs.Vector(bcs.U8), bcs.U8)


def test_read_prefix_leaves_the_rest() -> None:
    reader = bcs.Reader(bytes.fromhex("0105ff"))
    assert bcs.Option(bcs.U8).read_prefix(reader) == 5
    assert reader.pos == 2


# -- generated round trips ----------------------------------------------------------------

_NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True)
_PRIMS: list[tuple[bcs.Schema, st.SearchStrategy[Any]]] = [
    *[
        (schema, st.integers(0, 2**schema.bits - 1))
        for schema in (bcs.U8, bcs.U16, bcs.U32, bcs.U64, bcs.U128, bcs.U256)
    ],
    (bcs.BOOL, st.booleans()),
    (bcs.BYTES, st.binary(max_size=40)),
    (bcs.STRING, st.text(max_size=20)),
    (bcs.ADDRESS, st.binary(min_size=32, max_size=32)),
]


@st.composite
def schema_and_values(draw: st.DrawFn, depth: int = 3) -> tuple[bcs.Schema, st.SearchStrategy[Any]]:
    kind = draw(st.sampled_from(["prim", "prim", "vector", "option", "tuple", "struct", "enum", "map"]))
    if depth == 0 or kind == "prim":
        return draw(st.sampled_from(_PRIMS))
    if kind == "vector":
        inner, values = draw(schema_and_values(depth - 1))
        return bcs.Vector(inner), st.lists(values, max_size=4)
    if kind == "option":
        inner, values = draw(schema_and_values(depth - 1))
        if isinstance(inner, bcs.Option):
            return inner, values  # Option<Option<T>> cannot say Some(None) with None
        return bcs.Option(inner), st.none() | values
    if kind == "tuple":
        parts = draw(st.lists(schema_and_values(depth - 1), max_size=3))
        return bcs.Tuple(*(s for s, _ in parts)), st.tuples(*(v for _, v in parts))
    if kind == "struct":
        names = draw(st.lists(_NAMES, min_size=1, max_size=3, unique=True))
        parts = [draw(schema_and_values(depth - 1)) for _ in names]
        return (
            bcs.Struct("S", [(n, s) for n, (s, _) in zip(names, parts)]),
            st.fixed_dictionaries({n: v for n, (_, v) in zip(names, parts)}),
        )
    if kind == "enum":
        names = draw(st.lists(_NAMES, min_size=1, max_size=4, unique=True))
        parts = [draw(st.none() | schema_and_values(depth - 1)) for _ in names]
        schema = bcs.Enum("E", [(n, p[0] if p else None) for n, p in zip(names, parts)])
        choices = [
            st.just(Variant(n)) if p is None else p[1].map(lambda v, n=n: Variant(n, v))
            for n, p in zip(names, parts)
        ]
        return schema, st.one_of(choices)
    key, keys = draw(st.sampled_from(_PRIMS))
    value, values = draw(schema_and_values(depth - 1))
    return bcs.Map(key, value), st.dictionaries(keys, values, max_size=4)


@st.composite
def typed_values(draw: st.DrawFn) -> tuple[bcs.Schema, Any]:
    schema, values = draw(schema_and_values())
    return schema, draw(values)


@settings(max_examples=300, deadline=None)
@given(typed_values())
def test_round_trip(case: tuple[bcs.Schema, Any]) -> None:
    schema, value = case
    data = schema.encode(value)
    assert schema.decode(data) == value
    with pytest.raises(bcs.BcsError):
        schema.decode(data + b"\x00")
    if data:
        with pytest.raises(bcs.BcsError):
            schema.decode(data[:-1])


@settings(max_examples=300, deadline=None)
@given(typed_values(), st.binary(max_size=64))
def test_garbage_gives_bcs_errors_only(case: tuple[bcs.Schema, Any], garbage: bytes) -> None:
    """Any bytes either decode to a value that encodes back to them or raise BcsError."""
    schema, _ = case
    try:
        value = schema.decode(garbage)
    except bcs.BcsError:
        return
    assert schema.encode(value) == garbage
