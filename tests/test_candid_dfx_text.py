"""dfx's printing of Candid values (``vocab.candid.pretty``), against known answers.

Each expected string is copied from outside this project: dfx's end-to-end tests
(dfinity/sdk ``e2e/tests-dfx/*.bash``, which assert ``dfx canister call``'s output) or the
candid crate's own tests of its printer (dfinity/candid
``rust/candid_parser/tests/parse_value.rs``, ``format!("{args}")``). The values are built
at the types those outputs had (the interface dfx knew, or only the wire types), encoded,
and decoded again, so the whole path of ``subnet canister call`` is exercised.
"""

from __future__ import annotations

import pytest

from vocab.candid import (
    BOOL,
    FLOAT32,
    FLOAT64,
    INT,
    NAT,
    NAT64,
    NULL,
    PRINCIPAL,
    TEXT,
    OptType,
    Some,
    Variant,
    decode_to_text,
    encode,
    parse_did,
    parse_types,
)
from vocab.candid.pretty import format_args_dfx
from vocab.principal import Principal

PRELUDE = """
type List = opt record { head : int; tail : List };
type List2 = variant { nil; cons : record { int; List2 } };
"""

# (types as Candid text, values, whether dfx knew the interface, style, what dfx printed)
KNOWN = [
    # dfinity/sdk e2e/tests-dfx: `dfx canister call` (default output: pp)
    ("(nat)", [1], True, "pp", "(1 : nat)"),
    ("(nat)", [1_000_000], True, "pp", "(1_000_000 : nat)"),  # print.bash / deploy
    ("(nat)", [1_337], True, "pp", "(1_337 : nat)"),
    ("(nat64)", [0], True, "pp", "(0 : nat64)"),
    ("(int)", [1], True, "pp", "(1 : int)"),
    ("(opt text)", [Some("")], True, "pp", '(opt "")'),
    ("()", [], True, "pp", "()"),
    ("(bool)", [True], True, "pp", "(true)"),
    ("(text)", ["Hello, ☃!"], True, "pp", '("Hello, ☃!")'),
    ("(vec nat)", [[]], True, "pp", "(vec {})"),
    ("(record { batch_id : nat })", [{"batch_id": 2}], True, "pp", "(record { batch_id = 2 : nat })"),
    ("(record { c : text; d : text })", [{"c": "A", "d": "B"}], True, "pp", '(record { c = "A"; d = "B" })'),
    # call.bash: "if no candid file known, then no field names"
    (
        "(record { c : text; d : text })",
        [{"c": "A", "d": "B"}],
        False,
        "pp",
        '(record { 99 = "A"; 100 = "B" })',
    ),
    (
        "(record { a : text; b : text })",
        [{"a": "A query by principal", "b": "B query by principal"}],
        True,
        "pp",
        '(record { a = "A query by principal"; b = "B query by principal" })',
    ),
    ("(blob)", [b"XWV"], True, "pp", '(blob "XWV")'),
    (
        "(blob)",
        [b"cherries\nit's cherry season\nCHERRIES"],
        True,
        "pp",
        '(blob "cherries\\0ait\\27s cherry season\\0aCHERRIES")',
    ),
    (
        "(blob)",
        [bytes.fromhex("b8012080 0a773132 20007879 0a4b4c0b 0a6a6b".replace(" ", ""))],
        True,
        "pp",
        '(blob "\\b8\\01\\20\\80\\0a\\77\\31\\32\\20\\00\\78\\79\\0a\\4b\\4c\\0b\\0a\\6a\\6b")',
    ),
    # wallet.bash: a wallet_call's result, printed without the wallet's interface
    (
        "(variant { Ok : record { return : blob } })",
        [Variant("Ok", {"return": b"DIDL\x00\x01\x7e\x01"})],
        False,
        "pp",
        '(variant { 17_724 = record { 153_986_224 = blob "\\44\\49\\44\\4c\\00\\01\\7e\\01" } })',
    ),
    # basic-project.bash, `--output idl` of counter_idl's inc
    (
        "(int, bool, text, vec nat, List, variant { nil; cons : record { int; List2 } })",
        [
            43,
            True,
            "uftu{[",
            [2, 3, 4],
            Some({"head": 43, "tail": Some({"head": 44, "tail": None})}),
            Variant("cons", {0: 43, 1: Variant("cons", {0: 44, 1: Variant("nil", None)})}),
        ],
        True,
        "idl",
        '(43 : int, true, "uftu{[", vec { 2 : nat; 3 : nat; 4 : nat;}, opt record { head = 43 : int; '
        "tail = opt record { head = 44 : int; tail = null;};}, variant { cons = record { 43 : int; "
        "variant { cons = record { 44 : int; variant { nil };} };} })",
    ),
    # dfinity/candid rust/candid_parser/tests/parse_value.rs (IDLArgs' Display)
    (
        "(bool, null, nat, text, text, int, int, bool)",
        [True, None, 42, "哈哈", "string with whitespace", 42, -42, False],
        True,
        "pp",
        '(\n  true,\n  null : null,\n  42 : nat,\n  "哈哈",\n  "string with whitespace",\n  42 : int,\n'
        "  -42 : int,\n  false,\n)",
    ),
    ("(vec nat)", [[1, 2, 3, 4]], True, "pp", "(vec { 1 : nat; 2 : nat; 3 : nat; 4 : nat })"),
    (
        "(opt record {}, record { 1 : nat; 44 : text; 2 : bool }, variant { 5 : null })",
        [Some({}), {1: 42, 44: "test", 2: False}, Variant(5, None)],
        True,
        "pp",
        '(opt record {}, record { 1 = 42 : nat; 2 = false; 44 = "test" }, variant { 5 })',
    ),
    (
        '(record { label : nat; 43 : record { test : text; "opt" : text }; long_label : opt null })',
        [{"label": 42, 43: {"test": "test", "opt": "hello"}, "long_label": Some(None)}],
        True,
        "pp",
        '(\n  record {\n    43 = record { "opt" = "hello"; test = "test" };\n    long_label = opt (null : null);\n'
        "    label = 42 : nat;\n  },\n)",
    ),
    ("(record { label : nat })", [{"label": 42}], True, "pp", "(record { label = 42 : nat })"),
    (
        "(variant { 42 : null }, variant { label })",
        [Variant(42, None), Variant("label", None)],
        True,
        "pp",
        "(variant { 42 }, variant { label })",
    ),
]


@pytest.mark.parametrize(("types", "values", "typed", "style", "expected"), KNOWN)
def test_prints_as_dfx(types: str, values: list, typed: bool, style: str, expected: str) -> None:
    parsed = list(parse_did(f"{PRELUDE}service : {{ m : () -> {types} }}").method("m").results)
    blob = encode(values, parsed)
    assert decode_to_text(blob, parsed if typed else None, dfx=style) == expected


@pytest.mark.parametrize(
    ("types", "values", "expected"),
    [
        # Rust's float Display: shortest digits, never an exponent, ".0" after whole numbers
        ([FLOAT64], [42.0], "(42.0 : float64)"),
        ([FLOAT64], [-42e5], "(-4200000.0 : float64)"),
        ([FLOAT64], [42.42e-5], "(0.0004242 : float64)"),
        ([FLOAT64], [1e20], "(100000000000000000000.0 : float64)"),
        ([FLOAT64], [1e-7], "(0.0000001 : float64)"),
        ([FLOAT64], [float("nan")], "(NaN : float64)"),
        ([FLOAT64], [float("-inf")], "(-inf : float64)"),
        ([FLOAT32], [0.1], "(0.1 : float32)"),
        ([FLOAT32], [789.0], "(789.0 : float32)"),
        # digits grouped except in nat8/int8; an absent opt is a bare null
        ([INT], [-12345678], "(-12_345_678 : int)"),
        ([NAT64], [18446744073709551615], "(18_446_744_073_709_551_615 : nat64)"),
        ([OptType(NAT)], [None], "(null)"),
        ([OptType(NAT)], [Some(1)], "(opt (1 : nat))"),
        ([TEXT], ['it\'s "x"\n'], '("it\\\'s \\"x\\"\\n")'),
        ([PRINCIPAL], [Principal.from_text("aaaaa-aa")], '(principal "aaaaa-aa")'),
    ],
)
def test_rust_number_and_text_rules(types: list, values: list, expected: str) -> None:
    assert format_args_dfx(values, types) == expected


def test_long_vectors_and_deep_values_print_on_one_line() -> None:
    """candid lays out at most 10 elements, and 10 levels, with the pretty printer."""
    eleven = list(range(11))
    assert format_args_dfx([eleven], parse_types("(vec nat)")) == (
        "(\n  vec { 0 : nat; 1 : nat; 2 : nat; 3 : nat; 4 : nat; 5 : nat; 6 : nat; 7 : nat; 8 : nat;"
        " 9 : nat; 10 : nat;},\n)"
    )
    ten = [[1]] * 10
    assert format_args_dfx([ten], parse_types("(vec vec nat)")).startswith("(\n  vec {\n    vec { 1 : nat };")
    # the idl style has a text's single quote unescaped ({:?}), pp escapes it (escape_debug)
    assert format_args_dfx(["it's"], [TEXT], "idl") == '("it\'s")'
    assert format_args_dfx([True, "a"], [BOOL, TEXT], "idl") == '(true, "a")'
    assert format_args_dfx([None], [NULL], "idl") == "(null : null)"
