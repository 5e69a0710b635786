"""The framework packages (0x1 MoveStdlib, 0x2 Sui): their sources follow Sui's API, the
natives they declare are exactly those NATIVES.md specifies, and `0x2::package` has the
error codes and policies of reference/sui.md section 1."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from move.syntax import ast as A
from move.syntax.parser import parse_file

FRAMEWORK = Path(__file__).resolve().parent.parent / "move" / "framework"
REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "sui.md"
PACKAGES = {"move-stdlib": "std", "sui-framework": "sui"}


def modules() -> dict[str, A.ModuleDef]:
    """Every framework module by ``address::name``, parsed from its file."""
    found: dict[str, A.ModuleDef] = {}
    for folder, address in PACKAGES.items():
        for path in sorted((FRAMEWORK / folder / "sources").glob("*.move")):
            file = parse_file(path.read_text(), str(path))
            assert len(file.modules) == 1, path
            module = file.modules[0]
            assert isinstance(module.address, A.Name) and module.address.text == address, path
            assert module.name.text == path.stem, path
            found[f"{address}::{module.name.text}"] = module
    return found


def test_the_framework_has_the_modules_the_issue_names() -> None:
    names = set(modules())
    required = {
        "std::vector",
        "std::option",
        "std::string",
        "std::ascii",
        "std::bcs",
        "std::hash",
        "std::address",
        "std::type_name",
        *(f"std::u{w}" for w in (8, 16, 32, 64, 128, 256)),
        "sui::object",
        "sui::tx_context",
        "sui::transfer",
        "sui::event",
        "sui::address",
        "sui::types",
        "sui::package",
        "sui::hash",
    }
    assert required <= names, required - names


def declared_natives() -> set[str]:
    return {
        f"{name}::{fun.name.text}"
        for name, module in modules().items()
        for fun in module.functions
        if fun.native
    }


def documented_natives() -> set[str]:
    text = (FRAMEWORK / "NATIVES.md").read_text()
    found: set[str] = set()
    section = ""
    for line in text.splitlines():
        if line.startswith("## 0x1"):
            section = "std"
        elif line.startswith("## 0x2"):
            section = "sui"
        elif line.startswith("## "):
            section = ""
        m = re.match(r"\| `(\w+)::(\w+)[<(]", line)
        if section and m:
            found.add(f"{section}::{m.group(1)}::{m.group(2)}")
    return found


def test_natives_md_documents_exactly_the_declared_natives() -> None:
    declared = declared_natives()
    assert len(declared) > 20
    assert documented_natives() == declared


def constants(module: A.ModuleDef) -> dict[str, int]:
    out: dict[str, int] = {}
    for const in module.constants:
        if isinstance(const.value, A.NumLit):
            out[const.name.text] = const.value.value
    return out


def test_package_error_codes_and_policies_are_the_references() -> None:
    reference = REFERENCE.read_text()
    codes_row = next(line for line in reference.splitlines() if line.startswith("| error codes (u64)"))
    expected = {name: int(code) for name, code in re.findall(r"(E\w+) (\d+)", codes_row)}
    policies_row = next(line for line in reference.splitlines() if line.startswith("| policies (u8)"))
    expected |= {name: int(v) for name, v in re.findall(r"([A-Z_]+) = (\d+)", policies_row)}
    assert len(expected) == 10
    assert constants(modules()["sui::package"]) == expected


def struct(module: str, name: str) -> A.StructDef:
    return next(s for s in modules()[module].structs if s.name.text == name)


@pytest.mark.parametrize(
    ("name", "abilities", "fields"),
    [
        ("UpgradeCap", ["key", "store"], ["id", "package", "version", "policy"]),
        ("UpgradeTicket", [], ["cap", "package", "policy", "digest"]),
        ("UpgradeReceipt", [], ["cap", "package"]),
        ("Publisher", ["key", "store"], ["id", "package", "module_name"]),
    ],
)
def test_package_structs_have_suis_abilities_and_fields(
    name: str, abilities: list[str], fields: list[str]
) -> None:
    decl = struct("sui::package", name)
    assert [a.text for a in decl.abilities] == abilities
    assert [f.text for f, _ in decl.fields] == fields


def test_package_functions_are_the_references() -> None:
    functions = {f.name.text: f for f in modules()["sui::package"].functions}
    for name in ("make_immutable", "only_additive_upgrades", "only_dep_upgrades"):
        assert functions[name].visibility == "public" and functions[name].entry, name
    for name in (
        "authorize_upgrade",
        "commit_upgrade",
        "upgrade_package",
        "version",
        "upgrade_policy",
        "ticket_package",
        "ticket_policy",
        "ticket_digest",
        "receipt_cap",
        "receipt_package",
        "claim",
        "claim_and_keep",
        "burn_publisher",
    ):
        assert functions[name].visibility == "public" and not functions[name].entry, name


def test_object_ids_and_tx_context_have_suis_layout() -> None:
    assert [f.text for f, _ in struct("sui::object", "UID").fields] == ["id"]
    assert [a.text for a in struct("sui::object", "UID").abilities] == ["store"]
    assert [a.text for a in struct("sui::object", "ID").abilities] == ["copy", "drop", "store"]
    ctx = struct("sui::tx_context", "TxContext")
    assert [f.text for f, _ in ctx.fields] == [
        "sender",
        "tx_hash",
        "epoch",
        "epoch_timestamp_ms",
        "ids_created",
    ]
    assert [a.text for a in ctx.abilities] == ["drop"]


def test_abort_codes_keep_suis_values() -> None:
    mods = modules()
    assert constants(mods["std::vector"])["EINDEX_OUT_OF_BOUNDS"] == 0x20000
    assert constants(mods["std::option"]) == {"EOPTION_IS_SET": 0x40000, "EOPTION_NOT_SET": 0x40001}
    assert constants(mods["std::string"]) == {"EInvalidUTF8": 1, "EInvalidIndex": 2}
    assert constants(mods["std::ascii"]) == {"EInvalidASCIICharacter": 0x10000, "EInvalidIndex": 0x10001}
    assert constants(mods["sui::transfer"])["ESharedNonNewObject"] == 0
    assert constants(mods["sui::address"])["EAddressParseError"] == 0
