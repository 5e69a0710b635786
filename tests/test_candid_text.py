"""Candid text: literals, escapes, annotations, and how values print."""

from __future__ import annotations

import pytest

from vocab.candid import (
    BLOB,
    FLOAT32,
    FLOAT64,
    INT,
    INT8,
    NAT,
    NAT8,
    NAT64,
    NULL,
    PRINCIPAL,
    RESERVED,
    TEXT,
    CandidError,
    FuncRef,
    OptType,
    Some,
    Variant,
    VecType,
    decode,
    decode_to_text,
    encode,
    encode_text,
    format_args,
    parse_types,
    parse_value_text,
    record,
    tuple_record,
    variant,
)
from vocab.candid.errors import CandidSyntaxError
from vocab.principal import Principal


def values(text: str, types=None):  # type: ignore[no-untyped-def]
    return parse_value_text(text, types)[0]


def test_the_issue_examples() -> None:
    got, types = parse_value_text("(42, vec {1; 2; -3})")
    assert got == [42, [1, 2, -3]]
    assert [str(t) for t in types] == ["int", "vec int"]
    assert values('(record { a = 1; b = "x" })') == [{"a": 1, "b": "x"}]
    assert values("(variant { ok = 5 })") == [Variant("ok", 5)]
    assert values("(opt 5, null, opt null)") == [Some(5), None, Some(None)]
    assert values('(blob "\\00\\ff")') == [b"\x00\xff"]
    assert values('(principal "aaaaa-aa")') == [Principal(b"")]
    assert values('(service "aaaaa-aa")') == [Principal(b"")]
    assert values('(func "aaaaa-aa"."m", func "aaaaa-aa".m)') == [FuncRef(Principal(b""), "m")] * 2
    assert parse_value_text("(5 : nat8)")[1] == [NAT8]


def test_numbers() -> None:
    assert values("(1_000_000, 0xff, 0xFF_FF, -7, +7)") == [1_000_000, 255, 65535, -7, 7]
    assert values("(1.5, 1., .5, 1e3, -2.5e-3, 0x1.8p1, 1_0.2_5)") == [
        1.5,
        1.0,
        0.5,
        1000.0,
        -0.0025,
        3.0,
        10.25,
    ]
    assert values("(42)", [NAT]) == [42]
    assert values("(42)", [INT8]) == [42]
    assert values("(42)", [FLOAT64]) == [42.0]
    assert values("(0.1)", [FLOAT32]) == [pytest.approx(0.1, rel=1e-7)]
    assert values("(0.1)", [FLOAT32])[0] != 0.1  # rounded to float32
    with pytest.raises(CandidError, match="out of the range of nat8"):
        values("(256)", [NAT8])
    with pytest.raises(CandidError, match="negative"):
        values("(-1)", [NAT])
    with pytest.raises(CandidError, match="not an integer"):
        values("(1.5)", [INT])
    with pytest.raises(CandidError, match="out of the range of float32"):
        values("(1e39)", [FLOAT32])


def test_text_escapes_and_unicode() -> None:
    text = r'("\n\t\r\"\'\\ \u{1F600} \u{26_03} \e2\98\83 ☃")'
    assert values(text) == ["\n\t\r\"'\\ 😀 ☃ ☃ ☃"]
    with pytest.raises(CandidError, match="not valid UTF-8"):
        values('("\\ff")')
    assert values('(blob "\\ff")') == [b"\xff"]
    with pytest.raises(CandidError, match="not a Unicode scalar value"):
        values('("\\u{d800}")')
    with pytest.raises(CandidError, match="unknown escape"):
        values('("\\q")')
    with pytest.raises(CandidError, match="unclosed text"):
        values('("abc')


def test_comments_and_layout() -> None:
    text = """(
        // a line comment
        record { /* a /* nested */ block */ a = 1; },
        vec { 1; 2; },
    )"""
    assert values(text) == [{"a": 1}, [1, 2]]


def test_reading_at_a_type_follows_the_coercion_rules() -> None:
    t = record({"name": TEXT, "age": OptType(NAT8), "tag": NULL, "extra": RESERVED})
    got = values('(record { name = "Sam"; ignored = 5 })', [t])
    assert got == [{"name": "Sam", "age": None, "tag": None, "extra": None}]
    assert values("(5)", [OptType(NAT)]) == [Some(5)]
    assert values("(null)", [OptType(OptType(NAT))]) == [None]
    assert values("(opt null)", [OptType(OptType(NAT))]) == [Some(None)]
    assert values("()", [OptType(NAT), NULL]) == [None, None]
    assert values("(1, 2, 3)", [NAT]) == [1]  # extra arguments are ignored
    assert values('(record { 1; "a" })', [tuple_record(NAT, TEXT)]) == [{0: 1, 1: "a"}]
    assert values("(vec { 1; 2 })", [BLOB]) == [b"\x01\x02"]
    assert values('(blob "ab")', [VecType(NAT)]) == [[97, 98]]
    with pytest.raises(CandidError, match="record field name of type text is missing"):
        values("(record {})", [t])
    with pytest.raises(CandidError, match="not a case"):
        values("(variant { nope })", [variant({"ok": NAT})])
    with pytest.raises(CandidError, match="argument 1 of type nat is missing"):
        values("(1)", [NAT, NAT])


def test_annotations() -> None:
    assert encode_text("(5 : nat8)") == encode([5], [NAT8])
    with pytest.raises(CandidError, match="annotation nat8 does not fit the type nat"):
        values("((5 : nat8))", [NAT])  # nat8 is not a subtype of nat...
    with pytest.raises(CandidError, match="does not fit"):
        values("(5 : int)", [NAT])
    assert values("(5 : nat)", [INT]) == [5]  # ...but nat is a subtype of int
    with pytest.raises(CandidError, match="out of the range of nat8"):
        values("(300 : nat8)")
    with pytest.raises(CandidError, match="type Undefined is not defined"):
        values("(5 : Undefined)")
    env_types = {"Small": NAT8}
    assert parse_value_text("(5 : Small)", env=env_types)[0] == [5]


def test_vectors_of_mixed_literals_take_a_common_type() -> None:
    got, types = parse_value_text("(vec { null; opt 1 }, vec { variant { a }; variant { b = 2 } })")
    assert got[0] == [None, Some(1)]
    assert str(types[0]) == "vec opt int"
    assert str(types[1]) == "vec variant { a; b : int }"
    with pytest.raises(CandidError, match="different types"):
        values('(vec { 1; "one" })')


def test_syntax_errors_name_line_and_column() -> None:
    with pytest.raises(CandidSyntaxError, match=r"line 2, column 5"):
        values("(1,\n    }")
    with pytest.raises(CandidSyntaxError, match="expected a value"):
        values("(record { a = })")
    with pytest.raises(CandidSyntaxError, match="exactly one field"):
        values("(variant {})")
    with pytest.raises(CandidSyntaxError, match="bad principal"):
        values('(principal "not-a-principal")')
    with pytest.raises(CandidSyntaxError, match="given twice"):
        values("(record { a = 1; a = 2 })")


def test_printing_typed_and_untyped() -> None:
    blob = encode_text('("Hello, Sam!")')
    assert decode_to_text(blob, [TEXT]) == '("Hello, Sam!")'
    assert decode_to_text(encode([42], [NAT])) == "(42 : nat)"
    assert decode_to_text(encode([42], [NAT])) == "(42 : nat)"
    assert decode_to_text(encode([1_000_000], [NAT64])) == "(1_000_000 : nat64)"
    assert decode_to_text(encode([Some(5)], [OptType(NAT8)])) == "(opt (5 : nat8))"
    assert decode_to_text(encode([None], [NULL])) == "(null : null)"
    t = record({"name": TEXT, "with space": OptType(INT), 7: BLOB})
    value = {"name": "Sam", "with space": Some(-1), 7: b"\x00a"}
    # fields print in id order, names quoted where they are not identifiers
    assert format_args([value], [t]) == '(record { 7 = blob "\\00a"; "with space" = opt -1; name = "Sam" })'
    assert format_args([Variant("nil")], [variant({"nil": NULL})]) == "(variant { nil })"
    assert format_args([{0: 1, 1: "x"}], [tuple_record(NAT, TEXT)]) == '(record { 1; "x" })'
    assert format_args([Principal(b"")], [PRINCIPAL]) == '(principal "aaaaa-aa")'
    assert format_args([1.0, 2.5], [FLOAT64, FLOAT64]) == "(1.0, 2.5)"
    assert format_args(['tab\there "q" \x00 ☃'], [TEXT]) == '("tab\\there \\"q\\" \\u{0} ☃")'


def test_huge_numbers_print_in_hex_and_read_back() -> None:
    big = 7**6000  # beyond Python's 4300-digit decimal conversion limit
    text = format_args([big, -big], [NAT, INT])
    assert text.startswith("(0x")
    assert values(text, [NAT, INT]) == [big, -big]
    assert decode(encode([big], [NAT]), [NAT]) == [big]


def test_parse_types() -> None:
    assert parse_types("(text, opt nat)") == [TEXT, OptType(NAT)]
    assert parse_types("nat8") == [NAT8]
    assert parse_types("()") == []
    assert (
        str(parse_types("(record { a : nat; 1 : text; bool })")[0])
        == "record { 1 : text; 2 : bool; a : nat }"
    )
    with pytest.raises(CandidError, match="not defined"):
        parse_types("(Missing)")
