"""dfx's ``--output json`` (``vocab.candid.idl2json``), against known answers from outside.

- dfinity/sdk ``e2e/tests-dfx/call.bash`` ("call --output json"), which asserts the exact
  text dfx printed for the methods of ``e2e/assets/method_signatures/main.mo`` (the types
  here are those methods' result types);
- dfinity/idl2json ``samples/all_types.idl`` and ``all_types.json`` (the crate's own test
  vector, compared as JSON values, as the crate's test does);
- dtolnay/zmij ``src/tests.rs`` and ``tests/test.rs`` (the float formatter serde_json 1.0.149
  uses, as pinned in dfx's Cargo.lock).

Each value is encoded and decoded again at its type, as ``subnet canister call`` does.
"""

from __future__ import annotations

import json

import pytest

from vocab.candid import Some, Variant, decode_with_types, encode, parse_did
from vocab.candid.idl2json import format_args_json, json_float
from vocab.principal import Principal


def printed(types: str, values: list) -> str:
    results = list(parse_did(f"service : {{ m : () -> {types} }}").method("m").results)
    decoded, used = decode_with_types(encode(values, results), results)
    return format_args_json(decoded, used)


CALL_BASH = [
    ("(text)", ["Hello, you!"], '"Hello, you!"'),
    ("(opt text)", [None], "[]"),
    ("(opt text)", [Some("Hello, world!")], '[\n  "Hello, world!"\n]'),
    ("(int)", [67], '"67"'),
    ("(int)", [111222333444555666777888999], '"111_222_333_444_555_666_777_888_999"'),
    ("(int32)", [67], "67"),
    ("(principal)", [Principal.from_text("fg7gi-vyaaa-aaaal-qadca-cai")], '"fg7gi-vyaaa-aaaal-qadca-cai"'),
    (
        "(variant { foo; bar : text; baz : record { a : int32 } })",
        [Variant("foo", None)],
        '{\n  "foo": null\n}',
    ),
    (
        "(variant { foo; bar : text; baz : record { a : int32 } })",
        [Variant("bar", "a bar")],
        '{\n  "bar": "a bar"\n}',
    ),
    (
        "(variant { foo; bar : text; baz : record { a : int32 } })",
        [Variant("baz", {"a": 51})],
        '{\n  "baz": {\n    "a": 51\n  }\n}',
    ),
    ("(vec text)", [["Hello, world!", "Hello, Mars!"]], '[\n  "Hello, world!",\n  "Hello, Mars!"\n]'),
    (
        "(record { foo : text; bar : int })",
        [{"foo": "baz", "bar": 42}],
        '{\n  "bar": "42",\n  "foo": "baz"\n}',
    ),
    ("(blob)", [b"abd"], "[\n  97,\n  98,\n  100\n]"),
    (
        "(text, nat32, text)",
        ["the first element", 42, "the third element"],
        '"the first element"\n42\n"the third element"',
    ),
    ("(text)", ["the only element"], '"the only element"'),
]


@pytest.mark.parametrize(("types", "values", "expected"), CALL_BASH)
def test_prints_what_dfx_printed(types: str, values: list, expected: str) -> None:
    assert printed(types, values) == expected


ALL_TYPES = """(opt record {
  bool_true : bool; bool_false : bool; null_value : null; text_value : text;
  unconstrained_number : nat; float32_value : float32; float64_value : float64;
  maybe_record : opt record {}; maybe_number : opt nat; vec_nat8 : vec nat8;
  variant_value : variant { bob : text }; principal_value : principal;
  int_value : int; int8_min : int8; int16_min : int16; int32_min : int32; int64_min : int64;
  nat_value : nat; nat8_value : nat8; nat16_value : nat16; nat32_value : nat32; nat64_value : nat64;
})"""


def test_the_crates_all_types_sample() -> None:
    record = {
        "bool_true": True,
        "bool_false": False,
        "null_value": None,
        "text_value": "I am Bob Geldorf",
        "unconstrained_number": 5,
        "float32_value": 0.5,
        "float64_value": 0.64,
        "maybe_record": Some({}),
        "maybe_number": Some(64),
        "vec_nat8": b"\x01\x02",
        "variant_value": Variant("bob", "Geldorf"),
        "principal_value": Principal.from_text(
            "jg6qm-uw64t-m6ppo-oluwn-ogr5j-dc5pm-lgy2p-eh6px-hebcd-5v73i-nqe"
        ),
        "int_value": -911,
        "int8_min": -128,
        "int16_min": -32768,
        "int32_min": -2147483648,
        "int64_min": -9223372036854775808,
        "nat_value": 911,
        "nat8_value": 255,
        "nat16_value": 65535,
        "nat32_value": 4294967295,
        "nat64_value": 18446744073709551615,
    }
    expected = [  # samples/all_types.json
        {
            "bool_true": True,
            "bool_false": False,
            "null_value": None,
            "text_value": "I am Bob Geldorf",
            "unconstrained_number": "5",
            "float32_value": 0.5,
            "float64_value": 0.64,
            "maybe_record": [{}],
            "maybe_number": ["64"],
            "vec_nat8": [1, 2],
            "variant_value": {"bob": "Geldorf"},
            "principal_value": "jg6qm-uw64t-m6ppo-oluwn-ogr5j-dc5pm-lgy2p-eh6px-hebcd-5v73i-nqe",
            "int_value": "-911",
            "int8_min": -128,
            "int16_min": -32768,
            "int32_min": -2147483648,
            "int64_min": "-9223372036854775808",
            "nat_value": "911",
            "nat8_value": 255,
            "nat16_value": 65535,
            "nat32_value": 4294967295,
            "nat64_value": "18446744073709551615",
        }
    ]
    text = printed(ALL_TYPES, [Some(record)])
    assert json.loads(text) == expected
    keys = [line.split('"')[1] for line in text.splitlines() if line.startswith('    "')]
    assert keys == sorted(keys)  # serde_json's map is ordered by key


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (6.62607015e-34, "6.62607015e-34"),
        (5.444310685350916e14, "544431068535091.6"),
        (5e-324, "5e-324"),
        (1.234e-320, "1.234e-320"),
        (2.2250738585072004e-308, "2.2250738585072004e-308"),
        (1.0, "1.0"),
        (0.0, "0.0"),
        (-0.0, "-0.0"),
        (-4.932096661796888e-226, "-4.932096661796888e-226"),
        (3.439070283483335e35, "3.439070283483335e+35"),
        (6.606854224493745e-17, "6.606854224493745e-17"),
        (6.079537928711555e61, "6.079537928711555e+61"),
        (43210.0, "43210.0"),
        (43210.1, "43210.1"),
        (10000.0, "10000.0"),
        (-5942736479622170.0, "-5942736479622170.0"),
    ],
)
def test_floats_as_zmij_writes_them(value: float, expected: str) -> None:
    assert json_float(value) == expected


def test_floats_nans_and_labels() -> None:
    assert printed("(float32)", [0.1]) == "0.10000000149011612"  # widened to f64 first
    assert printed("(float64)", [float("inf")]) == '"NaN"'
    assert (
        printed("(record { 5_000 : nat8; 1 : text })", [{5000: 1, 1: "a"}])
        == '{\n  "1": "a",\n  "5_000": 1\n}'
    )
    assert printed("(record { text; nat16 })", [("a", 7)]) == '{\n  "0": "a",\n  "1": 7\n}'
    assert printed("()", []) == ""
    assert printed("(reserved)", [None]) == '"null : reserved"'
    assert printed("(text)", ['tab\tquote" é']) == '"tab\\tquote\\" é"'
