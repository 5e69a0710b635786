"""Upgrade compatibility per policy (``move.compat``), on modules compiled from Move source.

Each rule of Sui's three policies (reference/sui.md section 2; ``compatibility.rs``,
``upgrade_compatibility/mod.rs``) gets one change it allows and one it refuses, the refusal
named with the kind Sui's CLI gives it.
"""

from __future__ import annotations

import functools
import itertools
from pathlib import Path

import pytest

from move import compat
from move.build import build_package
from move.compat import ADDITIVE, COMPATIBLE, DEP_ONLY, check_upgrade

BASE = """
module pkg::m;

public struct S has key, store {
    id: UID,
    a: u64,
}

public struct Box<phantom T> has store, drop {
    x: u64,
}

public struct Plain has drop {
    b: bool,
}

public fun get(s: &S): u64 {
    s.a
}

public fun wrap<T: drop + copy>(x: T): T {
    x
}

fun helper(x: u64): u64 {
    x + 1
}

public(package) fun inner(): u64 {
    1
}

entry fun go(s: &mut S) {
    s.a = helper(s.a);
}
"""

OTHER = """
module pkg::n;

public fun one(): u64 {
    1
}
"""

_counter = itertools.count()


@functools.cache
def _root() -> Path:
    import tempfile

    return Path(tempfile.mkdtemp(prefix="compat-"))


@functools.cache
def build(*sources: str, address: str = "0x0") -> tuple[bytes, ...]:
    root = _root() / f"p{next(_counter)}"
    (root / "sources").mkdir(parents=True)
    (root / "Move.toml").write_text(
        f'[package]\nname = "pkg"\nedition = "2024"\n\n[addresses]\npkg = "{address}"\n'
    )
    for i, source in enumerate(sources):
        (root / "sources" / f"s{i}.move").write_text(source)
    return tuple(build_package(root).module_bytes)


def kinds(
    new: tuple[bytes, ...], policy: int, old: tuple[bytes, ...] | None = None, **options: bool
) -> list[str]:
    return [p.kind for p in check_upgrade(old or build(BASE, OTHER), new, policy, **options)]


def edit(*pairs: tuple[str, str]) -> tuple[bytes, ...]:
    source = BASE
    for before, after in pairs:
        assert before in source, before
        source = source.replace(before, after)
    return build(source, OTHER)


# -- compatible ---------------------------------------------------------------------------------


def test_compatible_allows_new_code_and_private_changes() -> None:
    changed = edit(
        ("x + 1", "x + 2"),  # a body
        ("fun helper(x: u64): u64", "fun helper(x: u64, _y: bool): u64"),  # a private signature
        ("s.a = helper(s.a);", "s.a = helper(s.a, true);"),
        ("public(package) fun inner(): u64 {\n    1\n}", ""),  # a public(package) function goes
        ("public fun get(", "public fun added(): u64 { 7 }\n\npublic fun get("),  # a new function
        ("public struct Plain", "public struct Fresh has drop { c: u8 }\n\npublic struct Plain"),
    )
    assert kinds(changed, COMPATIBLE) == []
    assert kinds(build(BASE, OTHER, "module pkg::extra;\n"), COMPATIBLE) == []  # a new module


def test_compatible_refuses_a_changed_layout() -> None:
    assert kinds(edit(("    a: u64,\n", "    a: u64,\n    b: u64,\n")), COMPATIBLE) == ["StructFieldMismatch"]
    assert kinds(edit(("    a: u64,\n", "    z: u64,\n"), ("s.a", "s.z")), COMPATIBLE) == [
        "StructFieldMismatch"
    ]


def test_compatible_refuses_added_abilities_unless_the_older_rule_is_chosen() -> None:
    added = edit(("public struct Plain has drop", "public struct Plain has copy, drop"))
    assert kinds(added, COMPATIBLE) == ["StructAbilityMismatch"]
    assert kinds(added, COMPATIBLE, allow_adding_abilities=True) == []
    removed = edit(("public struct Box<phantom T> has store, drop", "public struct Box<phantom T> has store"))
    assert kinds(removed, COMPATIBLE, allow_adding_abilities=True) == ["StructAbilityMismatch"]


def test_compatible_refuses_changed_struct_type_parameters() -> None:
    assert kinds(edit(("Box<phantom T>", "Box<T>")), COMPATIBLE) == ["StructTypeParamMismatch"]
    assert kinds(edit(("Box<phantom T>", "Box<phantom T, phantom U>")), COMPATIBLE) == [
        "StructTypeParamMismatch"
    ]


def test_compatible_refuses_a_removed_struct() -> None:
    problems = check_upgrade(
        build(BASE, OTHER), edit(("public struct Plain has drop {\n    b: bool,\n}", "")), 0
    )
    assert [(p.kind, p.module, p.item) for p in problems] == [("StructMissing", "m", "Plain")]


def test_compatible_public_signatures() -> None:
    assert kinds(edit(("public fun get(s: &S): u64", "public fun get(s: &mut S): u64")), COMPATIBLE) == [
        "FunctionSignatureMismatch"
    ]
    assert kinds(
        edit(("public fun get(s: &S): u64 {\n    s.a", "public fun get(s: &S): u128 {\n    (s.a as u128)")), 0
    ) == ["FunctionSignatureMismatch"]
    # a type parameter's constraints may be removed, not added
    assert kinds(edit(("wrap<T: drop + copy>", "wrap<T: drop>")), COMPATIBLE) == []
    assert kinds(edit(("wrap<T: drop + copy>", "wrap<T: drop + copy + store>")), COMPATIBLE) == [
        "FunctionSignatureMismatch"
    ]


def test_compatible_keeps_every_public_function_public() -> None:
    problems = check_upgrade(build(BASE, OTHER), edit(("public fun get(s: &S): u64 {\n    s.a\n}", "")), 0)
    assert [(p.kind, p.item) for p in problems] == [("FunctionMissingPublic", "get")]
    assert kinds(edit(("public fun get(", "public(package) fun get(")), COMPATIBLE) == [
        "FunctionLostPublicVisibility"
    ]
    assert kinds(edit(("public fun get(", "fun get(")), COMPATIBLE) == ["FunctionLostPublicVisibility"]
    # a private entry function may go (Sui's upgrade_check does not check private entry linking)
    assert kinds(edit(("entry fun go(s: &mut S) {\n    s.a = helper(s.a);\n}", "")), COMPATIBLE) == []


def test_every_policy_keeps_every_module() -> None:
    for policy in (COMPATIBLE, ADDITIVE, DEP_ONLY):
        problems = check_upgrade(build(BASE, OTHER), build(BASE), policy)
        assert [(p.kind, p.module) for p in problems] == [("ModuleMissing", "n")]
        assert str(problems[0]) == "ModuleMissing in n: Package is missing module 'n'"


# -- additive -----------------------------------------------------------------------------------


def test_additive_allows_only_additions() -> None:
    added = edit(
        ("public fun get(", "public fun added(): u64 { 7 }\n\npublic fun get("),
        ("public struct Plain", "public struct Fresh has drop { c: u8 }\n\npublic struct Plain"),
    )
    assert kinds(added, ADDITIVE) == []
    assert kinds(build(BASE, OTHER, "module pkg::extra;\n"), ADDITIVE) == []


def test_additive_refuses_any_change_to_existing_code() -> None:
    assert kinds(edit(("x + 1", "x + 2")), ADDITIVE) == ["FunctionChange"]  # even a private body
    assert kinds(
        edit(("fun helper(x: u64): u64 {\n    x + 1\n}", ""), ("helper(s.a)", "s.a + 1")), ADDITIVE
    ) == [
        "FunctionChange",
        "FunctionMissing",
    ]
    assert kinds(edit(("public struct Plain has drop", "public struct Plain has copy, drop")), ADDITIVE) == [
        "StructChange"
    ]
    removed = edit(("public struct Plain has drop {\n    b: bool,\n}", ""))
    assert kinds(removed, ADDITIVE) == ["StructMissing"]


def test_moving_code_or_renaming_locals_is_not_a_change() -> None:
    """Sui compares bytecode, which has no source positions or local names."""
    moved = edit(
        ("fun helper(x: u64): u64 {\n    x + 1\n}", ""),
        ("entry fun go", "fun helper(y: u64): u64 {\n    y + 1\n}\n\nentry fun go"),
    )
    assert kinds(moved, DEP_ONLY) == []


def test_the_package_s_own_address_does_not_count() -> None:
    """A version compiled at the published id (older upgrade workflows set the package's
    address so) has the same code and interface as one compiled at 0x0."""
    assert kinds(build(BASE, OTHER, address="0xabc"), DEP_ONLY) == []


# -- dependency-only ----------------------------------------------------------------------------


def test_dependency_only_allows_the_same_code() -> None:
    assert kinds(build(BASE, OTHER), DEP_ONLY) == []


def test_dependency_only_refuses_anything_new() -> None:
    assert kinds(edit(("public fun get(", "public fun added(): u64 { 7 }\n\npublic fun get(")), DEP_ONLY) == [
        "FunctionNew"
    ]
    assert kinds(
        edit(("public struct Plain", "public struct Fresh has drop { c: u8 }\n\npublic struct Plain")),
        DEP_ONLY,
    ) == ["StructNew"]
    assert kinds(build(BASE, OTHER, "module pkg::extra;\n"), DEP_ONLY) == ["ModuleNew"]
    assert kinds(edit(("x + 1", "x + 2")), DEP_ONLY) == ["FunctionChange"]


# -- policies and the report --------------------------------------------------------------------


def test_an_unknown_policy_is_sui_s_unknown_upgrade_policy() -> None:
    with pytest.raises(compat.UnknownUpgradePolicy, match="unknown upgrade policy 7"):
        check_upgrade(build(BASE, OTHER), build(BASE, OTHER), 7)


def test_the_report_names_each_problem_the_policy_and_the_flag() -> None:
    problems = check_upgrade(
        build(BASE, OTHER),
        edit(("    a: u64,\n", "    a: u64,\n    b: u64,\n"), ("public fun get(", "fun get(")),
        COMPATIBLE,
    )
    text = compat.report(problems, COMPATIBLE)
    assert text.splitlines() == [
        "StructFieldMismatch in m::S: fields were (id: object::UID, a: u64), are (id: object::UID, a: u64, b: u64)",
        "FunctionLostPublicVisibility in m::get: function 'get' has lost its public visibility (now private)",
        "Upgrade failed, this package requires changes to be compatible with the existing package. "
        "Its upgrade policy is set to 'compatible'. Use --skip-verify-compatibility to bypass this check locally.",
    ]


def test_a_module_without_metadata_is_refused_clearly() -> None:
    with pytest.raises(compat.CompatError, match="not a Wasm module|no move.module section"):
        check_upgrade([b"\x00asm\x01\x00\x00\x00"], [b"\x00asm\x01\x00\x00\x00"], COMPATIBLE)
