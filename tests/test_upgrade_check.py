"""dfx-style upgrade checks against modules built by the real Motoko compiler.

Each variant of the sample counter is compiled by the pinned ``moc``; the known answers are
the Candid specification's subtyping rules (a removed method, a changed result, a query
turned update, a new required argument break callers; an added method or optional argument
does not) and moc's own verdict on stable types, which is cross-checked here against what
the compiled canisters actually do when upgraded.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import pytest

from client import motoko
from client.motoko import MotokoCanister, NodeNotFound, compile_motoko
from client.upgrade_check import (
    ModuleMetadataError,
    StableTypesIncompatible,
    UpgradeMetadata,
    UpgradeProblem,
    UpgradeRefused,
    check_candid,
    check_stable_types,
    check_upgrade,
    confirm_upgrade,
    metadata_section,
    upgrade_metadata,
)
from subnet.samples import source

V1 = source("counter_v1")

INCREMENT = """  public func increment() : async Nat {
    count += 1;
    count
  };
"""
GET = """  public query func get() : async Nat {
    count
  };
"""


def variant(*edits: tuple[str, str], prefix: str = "") -> str:
    """The v1 counter with each (old, new) edit applied; an edit that misses is a test bug."""
    text = V1
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    return prefix + text


NO_INCREMENT = variant((INCREMENT, ""))
GET_TEXT = variant((GET, "  public query func get() : async Text {\n    debug_show count\n  };\n"))
GET_UPDATE = variant(("public query func get()", "public func get()"))
INCREMENT_NEEDS_ARG = variant(
    ("increment() : async Nat {\n    count += 1;", "increment(by : Nat) : async Nat {\n    count += by;")
)
INCREMENT_OPT_ARG = variant(("increment() : async Nat {", "increment(_by : ?Nat) : async Nat {"))
COUNT_TEXT = variant(
    ("var count : Nat = 0;", 'var count : Text = "";'),
    ("count += 1;\n    count\n", 'count #= "x";\n    count.size()\n'),
    (GET, "  public query func get() : async Nat {\n    count.size()\n  };\n"),
)
COUNT_INT = variant(
    ("var count : Nat = 0;", "var count : Int = 0;"),
    ("count += 1;\n    count\n", "count += 1;\n    Prim.abs(count)\n"),
    (GET, "  public query func get() : async Int {\n    count\n  };\n"),
    prefix='import Prim "mo:⛔";\n',
)
WITH_TOTAL = variant(("var count : Nat = 0;", "var count : Nat = 0;\n  var total : Nat = 0;"))


def compiled(text: str) -> MotokoCanister:
    try:
        return compile_motoko(text)
    except NodeNotFound as exc:
        pytest.skip(str(exc))
    raise AssertionError("unreachable")


def meta(canister: MotokoCanister) -> UpgradeMetadata:
    """The metadata as the checks get it: read back from the compiled module's bytes."""
    return upgrade_metadata(canister.wasm)


@pytest.fixture(scope="module")
def v1() -> MotokoCanister:
    return compiled(V1)


# -- metadata ------------------------------------------------------------------------------


def _uleb(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def custom_section(name: str, payload: bytes) -> bytes:
    body = _uleb(len(name.encode())) + name.encode() + payload
    return b"\x00" + _uleb(len(body)) + body


HEADER = b"\x00asm\x01\x00\x00\x00"


def test_metadata_comes_out_of_the_compiled_module(v1: MotokoCanister) -> None:
    found = upgrade_metadata(v1.wasm)
    assert found == UpgradeMetadata(candid_service=v1.candid, stable_types=v1.stable_types)
    assert "increment: () -> (nat);" in (found.candid_service or "")
    assert "stable var count : Nat" in (found.stable_types or "")
    assert metadata_section(v1.wasm, "enhanced-orthogonal-persistence") is not None
    assert metadata_section(v1.wasm, "candid:args") == b"()"
    assert metadata_section(v1.wasm, "no-such-section") is None
    # `name` and `motoko` are custom sections too, but not metadata
    assert metadata_section(v1.wasm, "motoko") is None
    # the IC accepts gzip-compressed modules; their metadata reads the same
    assert upgrade_metadata(gzip.compress(v1.wasm, mtime=0)) == found


def test_public_sections_count_and_bad_modules_are_refused(v1: MotokoCanister) -> None:
    did = b"service : { f : () -> () }"
    module = HEADER + custom_section("name", b"\x00") + custom_section("icp:public candid:service", did)
    assert upgrade_metadata(module) == UpgradeMetadata(candid_service=did.decode())
    assert upgrade_metadata(HEADER) == UpgradeMetadata()
    twice = module + custom_section("icp:private candid:service", did)
    with pytest.raises(ModuleMetadataError, match="twice"):
        upgrade_metadata(twice)
    with pytest.raises(ModuleMetadataError, match="the module ends first"):
        upgrade_metadata(v1.wasm[:-10])
    with pytest.raises(ModuleMetadataError, match="not a WebAssembly module"):
        upgrade_metadata(b"#!/bin/sh\necho hello\n")
    with pytest.raises(ModuleMetadataError, match="truncated"):
        upgrade_metadata(gzip.compress(v1.wasm, mtime=0)[:200])
    not_text = HEADER + custom_section("icp:private motoko:stable-types", b"\xff\xfe")
    with pytest.raises(ModuleMetadataError, match="not UTF-8"):
        upgrade_metadata(not_text)


# -- Candid ----------------------------------------------------------------------------------


def test_the_sample_upgrade_is_compatible_and_its_reverse_is_not(v1: MotokoCanister) -> None:
    v2 = compiled(source("counter_v2"))
    assert check_upgrade(meta(v1), meta(v2)) == []
    # going back removes `add`, which v2's callers may use
    back = check_upgrade(meta(v2), meta(v1))
    assert [(p.kind, p.subject) for p in back] == [("candid", "add")]
    assert "removed" in back[0].message


def test_a_removed_method_is_named(v1: MotokoCanister) -> None:
    problems = check_upgrade(meta(v1), meta(compiled(NO_INCREMENT)))
    assert problems == [
        UpgradeProblem(
            "candid",
            'method "increment" was removed: clients of the deployed interface that call it would '
            "be rejected",
            "increment",
        )
    ]


def test_a_changed_result_type_is_named(v1: MotokoCanister) -> None:
    problems = check_upgrade(meta(v1), meta(compiled(GET_TEXT)))
    assert [(p.kind, p.subject) for p in problems] == [("candid", "get")]
    assert problems[0].message == 'method "get": return type: text is not a subtype of nat'


def test_a_query_that_becomes_an_update_breaks_callers(v1: MotokoCanister) -> None:
    problems = check_upgrade(meta(v1), meta(compiled(GET_UPDATE)))
    assert [(p.kind, p.subject) for p in problems] == [("candid", "get")]
    assert "function annotation changed from query to update" in problems[0].message


def test_arguments_are_contravariant(v1: MotokoCanister) -> None:
    # old callers send no argument: a required one breaks them, an optional one does not
    required = check_upgrade(meta(v1), meta(compiled(INCREMENT_NEEDS_ARG)))
    assert [(p.kind, p.subject) for p in required] == [("candid", "increment")]
    assert "new service requires field 0 (type nat)" in required[0].message
    assert check_upgrade(meta(v1), meta(compiled(INCREMENT_OPT_ARG))) == []


def test_results_are_covariant_and_nat_int_is_compatible_as_a_stable_type(v1: MotokoCanister) -> None:
    as_int = compiled(COUNT_INT)
    # moc's answer: a stable Nat may become an Int (Nat <: Int), not the other way round
    assert check_stable_types(v1.stable_types, as_int.stable_types) == []
    back = check_stable_types(as_int.stable_types, v1.stable_types)
    assert [(p.kind, p.subject) for p in back] == [("stable-types", "count")]
    assert "[M0170]" in back[0].message and "var Int" in back[0].message
    # and Candid's: a result of int no longer promises a nat, a result of nat is an int
    forward = check_upgrade(meta(v1), meta(as_int))
    assert [(p.kind, p.subject) for p in forward] == [("candid", "get")]
    assert forward[0].message == 'method "get": return type: int is not a subtype of nat'
    assert check_candid(as_int.candid, v1.candid) == []


def test_the_special_opt_rule_counts_as_a_problem() -> None:
    # opt text <: opt nat holds only because a mismatched value reads as null (the spec's
    # special rule); dfx reports this as a breaking change, and so does the check
    problems = check_candid("service : { f : () -> (opt nat) }", "service : { f : () -> (opt text) }")
    assert [(p.kind, p.subject) for p in problems] == [("candid", "f")]
    assert "special rule for opt" in problems[0].message
    assert check_candid("service : { f : () -> (opt int) }", "service : { f : () -> (opt nat) }") == []


def test_missing_or_broken_candid() -> None:
    did = "service : { a : () -> (); b : (nat) -> () query }"
    assert check_candid(None, did) == []
    missing = check_candid(did, None)
    assert len(missing) == 1 and "(a, b)" in missing[0].message and missing[0].subject is None
    broken = check_candid(did, "service : { a : (nat -> () }")
    assert len(broken) == 1 and "does not parse" in broken[0].message
    # a new file without a service drops every method
    assert [p.subject for p in check_candid(did, "type t = nat;")] == ["a", "b"]


# -- stable types ----------------------------------------------------------------------------


def test_a_stable_variable_of_another_type_is_a_problem(v1: MotokoCanister) -> None:
    problems = check_upgrade(meta(v1), meta(compiled(COUNT_TEXT)))
    assert [(p.kind, p.subject) for p in problems] == [("stable-types", "count")]
    message = problems[0].message
    assert "stable variable `count` is not compatible" in message
    assert "var Nat" in message and "var Text" in message and message.endswith("[M0170]")


def test_a_dropped_stable_variable_is_a_problem(v1: MotokoCanister) -> None:
    with_total = compiled(WITH_TOTAL)
    assert check_upgrade(meta(v1), meta(with_total)) == []  # adding one is fine
    problems = check_upgrade(meta(with_total), meta(v1))
    assert [(p.kind, p.subject) for p in problems] == [("stable-types", "total")]
    assert "cannot be implicitly discarded" in problems[0].message
    assert problems[0].message.endswith("[M0169]")


def test_stable_types_without_moc(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    most = "// Version: 1.0.0\nactor {\n  stable var count : Nat\n};\n"
    monkeypatch.setenv("PATH", str(tmp_path))  # no node: only the answers moc is not needed for
    monkeypatch.setattr(motoko, "DEFAULT_CACHE_DIR", tmp_path / "cache")  # and no verdict kept from before
    assert check_stable_types(None, most) == []
    assert check_stable_types(most, most) == []
    gone = check_stable_types(most, None)
    assert len(gone) == 1 and gone[0].kind == "stable-types" and "declares none" in gone[0].message
    with pytest.raises(NodeNotFound, match="Node.js"):
        check_stable_types(most, most.replace("Nat", "Int"))


def test_unreadable_stable_types_name_the_module(v1: MotokoCanister) -> None:
    problems = check_stable_types(v1.stable_types, "actor { stable var count : }")
    assert problems and all(p.kind == "stable-types" for p in problems)
    assert problems[0].message.startswith("the new module's stable types: ")


def test_the_verdicts_match_what_the_upgrade_does(v1: MotokoCanister) -> None:
    """moc's compatibility verdict is the one the canister's own upgrade enforces."""
    from node.ic import CanisterTrap, ExecutionConfig, ExecutionEnvironment, InstallMode
    from vocab.principal import Principal

    user = Principal.from_ed25519_public_key(bytes(range(32)))
    unit = b"DIDL\x00\x00"
    for target, compatible in ((compiled(COUNT_INT), True), (compiled(COUNT_TEXT), False)):
        assert (check_stable_types(v1.stable_types, target.stable_types) == []) is compatible
        env = ExecutionEnvironment(ExecutionConfig(instruction_scale=Fraction(1, 100)))
        cid = env.create_canister(user, time=1)
        env.install_code(user, cid, InstallMode.install(), v1.wasm, unit, time=2)
        env.update(cid, "increment", unit, caller=user, time=3).unwrap()
        upgrade = InstallMode.upgrade(wasm_memory_persistence="keep")
        if compatible:
            env.install_code(user, cid, upgrade, target.wasm, unit, time=4)
            # the Int kept the Nat's value: get now answers int 1
            assert env.query(cid, "get", unit, caller=user, time=4).unwrap() == b"DIDL\x00\x01\x7c\x01"
        else:
            with pytest.raises(CanisterTrap):
                env.install_code(user, cid, upgrade, target.wasm, unit, time=4)


# -- confirmation ----------------------------------------------------------------------------


CANDID = UpgradeProblem("candid", 'method "increment" was removed', "increment")
STABLE_ERROR = UpgradeProblem("stable-types", "stable variable `count` changed\n line two [M0170]", "count")
STABLE_WARNING = UpgradeProblem(
    "stable-types", "stable variable `count` widened [M0998]", "count", severity="warning"
)


def answer(reply: str, asked: list[str]) -> Callable[[str], str]:
    def ask(prompt: str) -> str:
        asked.append(prompt)
        return reply

    return ask


def test_a_candid_problem_asks_and_refuses_without_consent(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(UpgradeRefused, match="1 compatibility problem") as info:
        confirm_upgrade([CANDID], yes=False, name="counter")
    assert info.value.problems == (CANDID,)
    # dfx's words (install_canister.rs): WARNING!, the header, a blank line, the details
    assert capsys.readouterr().err == (
        "WARNING!\n"
        "Candid interface compatibility check failed for canister 'counter'.\n"
        "You are making a BREAKING change. Other canisters or frontend clients relying on "
        "your canister may stop working.\n\n"
        '  - method "increment" was removed\n\n'
    )
    asked: list[str] = []
    confirm_upgrade([CANDID], yes=False, name="counter", ask=answer("yes\n", asked))
    with pytest.raises(UpgradeRefused):
        confirm_upgrade([CANDID], yes=False, name="counter", ask=answer("", asked))
    assert asked == ["Do you want to proceed? yes/No\n"] * 2
    confirm_upgrade([CANDID], yes=True, name="counter")
    assert 'method "increment" was removed' in capsys.readouterr().err


def test_a_stable_type_error_stops_even_with_yes(capsys: pytest.CaptureFixture[str]) -> None:
    asked: list[str] = []
    for yes, ask in ((True, None), (False, answer("yes\n", asked))):
        with pytest.raises(StableTypesIncompatible) as info:
            confirm_upgrade([STABLE_ERROR, STABLE_WARNING], yes=yes, name="counter", ask=ask)
        assert str(info.value).startswith(
            "Stable interface compatibility check issued an ERROR for canister 'counter'.\n"
            "Upgrade will either FAIL or LOSE some stable variable data.\n\n"
            "  - stable variable `count` changed\n     line two [M0170]\n"
        )
        assert "widened [M0998]" in str(info.value)
    assert asked == []  # dfx bails without asking
    # the Candid problem comes first and is asked about first
    with pytest.raises(UpgradeRefused):
        confirm_upgrade([CANDID, STABLE_ERROR], yes=False, name="counter", ask=answer("no", asked))
    assert "Stable interface" not in capsys.readouterr().err


def test_stable_type_warnings_ask_for_consent(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(UpgradeRefused):
        confirm_upgrade([STABLE_WARNING], yes=False, name="counter")
    err = capsys.readouterr().err
    assert err.startswith(
        "WARNING!\nStable interface compatibility check issued a WARNING for canister 'counter'.\n\n"
    )
    asked: list[str] = []
    confirm_upgrade([STABLE_WARNING], yes=False, name="counter", ask=answer("y", asked))
    confirm_upgrade([STABLE_WARNING], yes=True, name="counter")
    assert asked == ["Do you want to proceed? yes/No\n"]
    capsys.readouterr()
    confirm_upgrade([], yes=False, name="counter")
    assert capsys.readouterr() == ("", "")


def test_a_stable_check_verdict_is_kept_in_the_cache(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, v1: MotokoCanister
) -> None:
    """moc's verdict is a function of its version and the two signatures: asked again, the
    answer comes from ``stable/`` in the cache without starting Node.js, and it is moc's."""
    most = "// Version: 1.0.0\nactor {\n  stable var kept_verdict : Nat\n};\n"
    narrowed = most.replace("Nat", "Bool")
    first = motoko.stable_compatible(most, narrowed)
    assert [(d.severity, d.code) for d in first] == [("error", "M0170")], first
    assert "kept_verdict" in first[0].message
    monkeypatch.setenv("PATH", str(tmp_path))  # no Node.js now: only the kept verdict can answer
    assert motoko.stable_compatible(most, narrowed) == first
    with pytest.raises(NodeNotFound):  # another question still needs moc
        motoko.stable_compatible(most, most.replace("Nat", "Text"))
