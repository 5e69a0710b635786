"""Bad input: whatever bytes or text arrive, Candid raises CandidError and nothing else.

Random blobs rarely get past the magic number, so most inputs here are valid messages
(from the round-trip strategies) with bytes flipped, inserted, removed or cut, and
printed values with characters mangled: inputs that reach deep into the decoder.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.test_candid_roundtrip import candid_types, typed_args
from vocab.candid import (
    CandidError,
    DecodeLimits,
    OptType,
    Type,
    VarType,
    check_subtype,
    decode,
    decode_to_text,
    encode,
    encode_text,
    format_args,
    parse_did,
    parse_types,
    parse_value_text,
)
from vocab.candid.errors import CandidDecodeError
from vocab.candid.testsuite import parse_test_file

FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _only_candid_errors(function: Any, *args: Any) -> Any:
    try:
        return function(*args)
    except CandidError:
        return None


@st.composite
def mutated(draw: st.DrawFn, data: bytes) -> bytes:
    blob = bytearray(data)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        action = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "big"]))
        position = draw(st.integers(min_value=0, max_value=max(len(blob), 1)))
        if action == "flip" and blob:
            blob[position % len(blob)] = draw(st.integers(0, 255))
        elif action == "insert":
            blob[position:position] = draw(st.binary(min_size=1, max_size=4))
        elif action == "delete" and blob:
            del blob[position % len(blob)]
        elif action == "truncate":
            del blob[position:]
        elif action == "big":
            blob[position:position] = bytes.fromhex("8094ebdc03")  # a LEB128 billion
    return bytes(blob)


@FUZZ
@given(st.binary(max_size=64))
def test_random_bytes(blob: bytes) -> None:
    _only_candid_errors(decode, blob)
    _only_candid_errors(decode, b"DIDL" + blob)
    _only_candid_errors(decode_to_text, b"DIDL" + blob)


@FUZZ
@given(typed_args(), st.data())
def test_mutated_messages(args: tuple[list[Any], list[Type]], data: st.DataObject) -> None:
    values, types = args
    blob = data.draw(mutated(encode(values, types)))
    _only_candid_errors(decode, blob, types)
    _only_candid_errors(decode, blob)
    _only_candid_errors(decode, blob, [OptType(t) for t in types])
    _only_candid_errors(decode_to_text, blob)


@FUZZ
@given(st.binary(max_size=48), st.lists(candid_types(), max_size=3))
def test_random_bytes_at_random_types(blob: bytes, types: list[Type]) -> None:
    _only_candid_errors(decode, b"DIDL" + blob, types)


@FUZZ
@given(st.text(max_size=80))
def test_random_text(text: str) -> None:
    _only_candid_errors(parse_value_text, text)
    _only_candid_errors(parse_value_text, f"({text})")
    _only_candid_errors(encode_text, f"({text})")
    _only_candid_errors(parse_types, text)
    _only_candid_errors(parse_did, text)
    _only_candid_errors(parse_did, f"service : {{ {text} }}")
    _only_candid_errors(parse_test_file, text)


@FUZZ
@given(typed_args(), st.data())
def test_mangled_text(args: tuple[list[Any], list[Type]], data: st.DataObject) -> None:
    values, types = args
    text = format_args(values, types)
    if text:
        position = data.draw(st.integers(min_value=0, max_value=len(text)))
        cut = data.draw(st.integers(min_value=0, max_value=3))
        insert = data.draw(
            st.sampled_from(["", "(", ")", "{", "}", ";", ",", '"', "\\", "opt ", "-", "0x", ".", ":"])
        )
        text = text[:position] + insert + text[position + cut :]
    _only_candid_errors(parse_value_text, text, types)
    _only_candid_errors(parse_value_text, text)


@FUZZ
@given(st.lists(candid_types(), min_size=1, max_size=2), st.data())
def test_wrong_python_values(types: list[Type], data: st.DataObject) -> None:
    junk = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(),
        st.text(max_size=5),
        st.binary(max_size=5),
        st.lists(st.integers(), max_size=3),
        st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
        st.tuples(st.integers(), st.text()),
    )
    values = [data.draw(junk) for _ in types]
    _only_candid_errors(encode, values, types)
    _only_candid_errors(format_args, values, types)


@pytest.mark.parametrize(
    "text",
    [
        "(" * 100_000,
        "(" + "opt " * 50_000 + "1)",
        "(" + "vec {" * 20_000 + "}" * 20_000 + ")",
        '("' + "\\" * 10 + ")",
        "(" + "1" * 5000 + ")",
        "(record {" + "a = 1;" * 3 + "})",
        "(0x" + "f" * 100_000 + ")",
        "(" + "(" * 900 + "1" + " : nat)" * 900 + ")",
        "(" + "record { a = " * 3000 + "1" + " }" * 3000 + ")",
    ],
)
def test_hostile_text(text: str) -> None:
    _only_candid_errors(parse_value_text, text)


def test_hostile_types() -> None:
    with pytest.raises(CandidError):
        parse_types("(" + "opt " * 50_000 + "nat)")
    with pytest.raises(CandidError):
        parse_did("type A = B; type B = A; service : {}")
    with pytest.raises(CandidError):
        parse_did("type A = record { A }; service : { f : (Undefined) -> () }")


def test_deep_binary_nesting_is_refused_not_crashed() -> None:
    # opt opt opt ... through a recursive type: one byte per level.
    deep = VarType("Deep")
    deep.target = OptType(deep)
    blob = b"DIDL\x01\x6e\x00\x01\x00" + b"\x01" * 200_000 + b"\x00"
    with pytest.raises(CandidDecodeError, match="nest deeper"):
        decode(blob, [deep])
    with pytest.raises(CandidDecodeError, match="nest deeper"):
        decode(blob)
    shallow = b"DIDL\x01\x6e\x00\x01\x00" + b"\x01" * 900 + b"\x00"
    (value,) = decode(shallow, [deep])
    assert value is not None
    limited = DecodeLimits(max_depth=10)
    with pytest.raises(CandidDecodeError):
        decode(shallow, [deep], limits=limited)


def test_long_leb_numbers_decode_in_reasonable_time() -> None:
    # A nat of half a megabyte of LEB128 digits: assembled in O(n log n), not O(n^2).
    digits = b"\xff" * 500_000 + b"\x01"
    blob = b"DIDL\x00\x01\x7d" + digits
    (value,) = decode(blob)
    assert value.bit_length() == 7 * 500_000 + 1
    text = decode_to_text(blob)
    assert text.startswith("(0x") or text[1].isdigit()


def test_self_referential_python_value() -> None:
    from vocab.candid import VecType

    nested = VarType("Nested")
    nested.target = VecType(nested)
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(CandidError):
        encode([loop], [nested])


def test_check_subtype_of_hostile_services() -> None:
    new = parse_did("type T = opt T; service : { f : (T) -> (T) }")
    old = parse_did("type U = vec U; service : { f : (U) -> (U) }")
    assert check_subtype(new, old)
