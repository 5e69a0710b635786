"""Service descriptions (.did) and the upgrade check between two of them."""

from __future__ import annotations

import pytest

from vocab.candid import (
    NAT,
    NAT8,
    TEXT,
    CandidError,
    FuncType,
    OptType,
    RecordType,
    check_subtype,
    decode,
    encode_text,
    is_subtype,
    parse_did,
    parse_types,
)
from vocab.candid.subtype import format_report, subtype_report

LEDGER = """
// A small ledger, in the style of real canisters' interfaces.
type Account = record { owner : principal; subaccount : opt blob };
type Tokens = nat;
type TransferError = variant {
  InsufficientFunds : record { balance : Tokens };
  BadFee : record { expected_fee : Tokens };
  TooOld;
};
type List = opt record { head : Account; tail : List };
type Callback = func (Tokens) -> () oneway;
service ledger : (record { minting_account : Account }) -> {
  transfer : (to : Account, amount : Tokens) -> (variant { Ok : nat64; Err : TransferError });
  balance_of : (Account) -> (Tokens) query;
  "holders list" : () -> (List) composite_query;
  notify : Callback;
  subscribe : (callback : Callback) -> ();
}
"""


def test_parse_a_service_constructor() -> None:
    ledger = parse_did(LEDGER)
    assert ledger.name == "ledger"
    assert ledger.init_args is not None and len(ledger.init_args) == 1
    assert list(ledger.methods) == ["balance_of", "holders list", "notify", "subscribe", "transfer"]
    transfer = ledger.method("transfer")
    assert [str(t) for t in transfer.args] == ["Account", "Tokens"]
    assert transfer.arg_names == ("to", "amount")
    assert ledger.method("balance_of").modes == ("query",)
    assert ledger.method("holders list").modes == ("composite_query",)
    assert ledger.method("notify").is_oneway
    assert isinstance(ledger.lookup("Account").target, RecordType)  # type: ignore[attr-defined]
    with pytest.raises(CandidError, match="no method 'mint'.*balance_of"):
        ledger.method("mint")


def test_method_types_encode_and_decode_arguments() -> None:
    ledger = parse_did(LEDGER)
    transfer = ledger.method("transfer")
    blob = encode_text('(record { owner = principal "aaaaa-aa"; subaccount = null }, 100)', transfer.args)
    account, amount = decode(blob, transfer.args)
    assert amount == 100 and account["subaccount"] is None


def test_printed_description_parses_back() -> None:
    ledger = parse_did(LEDGER)
    again = parse_did(ledger.to_did())
    assert again.to_did() == ledger.to_did()
    assert check_subtype(again, ledger) == [] and check_subtype(ledger, again) == []


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ('import "other.did"; service : {}', "imports are not supported"),
        ("service : { f : (Missing) -> () }", "Missing is not defined"),
        ("type A = B; type B = A; service : {}", "only in terms of itself"),
        ("type A = nat; type A = text;", "defined twice"),
        ("type nat = text;", "cannot redefine the primitive type nat"),
        ("service : { f : () -> (); f : () -> () }", "declared twice"),
        ("service : { f : () -> (nat) oneway }", "oneway function has no results"),
        ("type T = nat; service : { f : T }", "not a function type"),
        ("type S = nat; service : S", "not a service"),
        ("service : { f : (record { a : nat; a : text }) -> () }", "same id"),
        ("service : { f : (x : nat, x : nat) -> () }", "used twice"),
        ("service : { f : () -> () query query }", "given twice"),
        ("service : { f : () -> () } extra", "expected a type definition or the service"),
        ("type record = nat;", "keyword"),
    ],
)
def test_bad_descriptions(source: str, message: str) -> None:
    with pytest.raises(CandidError, match=message):
        parse_did(source)


def test_recursive_and_mutually_recursive_types() -> None:
    did = parse_did(
        "type Tree = variant { leaf : nat; node : Forest }; type Forest = vec Tree; "
        "type Stream = opt record { head : nat; next : func () -> (Stream) query }; "
        "service : { tree : () -> (Tree); stream : () -> (Stream) }"
    )
    tree = did.method("tree").results
    blob = encode_text("(variant { node = vec { variant { leaf = 1 }; variant { node = vec {} } } })", tree)
    assert len(decode(blob, tree)[0].value) == 2


# -- subtyping -------------------------------------------------------------------------------


def test_is_subtype_basics() -> None:
    (rec,) = parse_types("(record { a : nat; b : opt text })")
    (smaller,) = parse_types("(record { a : nat })")
    assert is_subtype(NAT, parse_types("(int)")[0])
    assert not is_subtype(parse_types("(int)")[0], NAT)
    assert is_subtype(rec, smaller)
    assert is_subtype(smaller, rec)  # the missing field is optional
    assert not is_subtype(NAT8, NAT)
    assert is_subtype(TEXT, OptType(NAT))  # the special opt rule
    assert is_subtype(FuncType((NAT,), ()), FuncType((NAT, OptType(TEXT)), ()))


COMPATIBLE = [
    ("identical", "service : { greet : (text) -> (text) }", "service : { greet : (text) -> (text) }"),
    (
        "new method",
        "service : { greet : (text) -> (text); hello : () -> (text) }",
        "service : { greet : (text) -> (text) }",
    ),
    ("wider input", "service : { pay : (int) -> () }", "service : { pay : (nat) -> () }"),
    ("narrower result", "service : { get : () -> (nat) }", "service : { get : () -> (int) }"),
    (
        "opt field in input",
        "type R = record { name : text; age : opt nat }; service : { f : (R) -> () }",
        "type R = record { name : text }; service : { f : (R) -> () }",
    ),
    (
        "extra field in result",
        "type R = record { id : nat; extra : text }; service : { f : () -> (R) }",
        "type R = record { id : nat }; service : { f : () -> (R) }",
    ),
    (
        "new variant case in input",
        "type V = variant { a; b; c }; service : { f : (V) -> () }",
        "type V = variant { a; b }; service : { f : (V) -> () }",
    ),
    ("new opt argument", "service : { f : (nat, opt text) -> () }", "service : { f : (nat) -> () }"),
    (
        "recursive types",
        "type L = opt record { nat; L }; service : { f : (L) -> (L) }",
        "type M = opt record { nat; M }; service : { f : (M) -> (M) }",
    ),
    ("service constructor", "service : (nat) -> { f : () -> () }", "service : { f : () -> () }"),
]


@pytest.mark.parametrize(("desc", "new", "old"), COMPATIBLE, ids=[c[0] for c in COMPATIBLE])
def test_compatible_upgrades(desc: str, new: str, old: str) -> None:
    assert check_subtype(parse_did(new), parse_did(old)) == []


INCOMPATIBLE = [
    (
        "removed method",
        "service : { greet : (text) -> (text) }",
        "service : { greet : (text) -> (text); hello : () -> (text) }",
        ['method "hello" is expected'],
    ),
    (
        "query to update",
        "service : { get : () -> (nat) }",
        "service : { get : () -> (nat) query }",
        ["function annotation changed from query to update"],
    ),
    (
        "result type",
        "service : { get : () -> (text) }",
        "service : { get : () -> (nat) }",
        ['method "get" > return type: text is not a subtype of nat'],
    ),
    (
        "wider result",
        "service : { get : () -> (int) }",
        "service : { get : () -> (nat) }",
        ["int is not a subtype of nat"],
    ),
    (
        "required input field",
        "type R = record { name : text; age : nat }; service : { f : (R) -> () }",
        "type R = record { name : text }; service : { f : (R) -> () }",
        ["new service requires field age (type nat), which old callers don't provide"],
    ),
    (
        "removed variant case",
        "type V = variant { start; stop }; service : { f : (V) -> () }",
        "type V = variant { start; stop; pause }; service : { f : (V) -> () }",
        ["old callers may send variant case pause"],
    ),
]


@pytest.mark.parametrize(("desc", "new", "old", "expected"), INCOMPATIBLE, ids=[c[0] for c in INCOMPATIBLE])
def test_incompatible_upgrades(desc: str, new: str, old: str, expected: list[str]) -> None:
    problems = check_subtype(parse_did(new), parse_did(old))
    assert len(problems) == len(expected), problems
    for problem, text in zip(problems, expected):
        assert text in problem


def test_every_problem_is_reported_with_its_path() -> None:
    old = parse_did(
        """service : {
          method_a : (nat) -> (nat);
          method_b : (text) -> (text);
          method_c : () -> (record { a : nat; b : text; c : bool });
          method_d : (nat, text) -> (bool, nat);
        }"""
    )
    new = parse_did(
        """service : {
          method_a : (nat) -> (nat);
          method_c : () -> (record { a : text; b : nat; c : bool });
          method_d : (nat, bool) -> (bool, text);
        }"""
    )
    problems = check_subtype(new, old)
    assert problems == [
        'method "method_b" is expected by the old interface but missing in the new one',
        'method "method_c" > return type > record field a: text is not a subtype of nat',
        'method "method_c" > return type > record field b: nat is not a subtype of text',
        'method "method_d" > input types > record field 1: text is not a subtype of bool',
        'method "method_d" > return types > record field 1: text is not a subtype of nat',
    ]
    errors, _ = subtype_report(new.service, old.service)  # type: ignore[arg-type]
    report = format_report(errors)
    assert report.splitlines()[0].startswith('- method "method_b"')
    assert "  return type:" in report


def test_special_opt_rule_is_a_warning() -> None:
    new = parse_did("service : { f : () -> (opt text) }")
    old = parse_did("service : { f : () -> (opt nat) }")
    errors, warnings = subtype_report(new.service, old.service)  # type: ignore[arg-type]
    assert errors == []
    assert len(warnings) == 1 and "special rule for opt" in str(warnings[0])


def test_missing_service() -> None:
    with pytest.raises(CandidError, match="no main service"):
        check_subtype(parse_did("type A = nat;"), parse_did("service : {}"))
