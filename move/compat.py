"""Whether a new version of a package may replace the old one, per Sui's upgrade policies.

The check runs on compiled modules only (their ``move.module`` metadata, ``move.abi``), so
that a client can run it before sending an upgrade and every replica runs the same check
when executing one (``node.sui.executor``). The rules are Sui's
(``move-binary-format/src/compatibility.rs`` and ``compatibility_mode.rs`` for the chain,
``crates/sui/src/upgrade_compatibility`` for the problems the CLI names; reference/sui.md
section 2):

- **compatible** (policy 0, ``Compatibility::upgrade_check``): every existing module is
  kept; no struct is removed (private ones included); abilities are unchanged (adding one
  is refused unless ``allow_adding_abilities``, the rule before Sui's protocol flag, which
  still refuses removing one); struct type parameters are unchanged (count, ``phantom``,
  constraints); struct fields are identical (names, types, order); every public function
  is kept, kept public, with identical parameters and results, and its type parameters'
  constraints may only be removed. Private, ``public(package)`` and private ``entry``
  functions may change or disappear.
- **additive** (128, ``InclusionCheck::Subset``): every existing struct and function is
  kept unchanged, code included (``move.fingerprint``: even a private function's body may
  not change); new structs, functions and modules are allowed.
- **dependency-only** (192, ``InclusionCheck::Equal``): the modules are equal, code
  included; nothing new, not even a module.

Each problem is reported with the name Sui's CLI gives it (``StructFieldMismatch``,
``FunctionSignatureMismatch``, ``FunctionMissingPublic``...) and the module and item it
concerns; ``report`` words them as ``sui client upgrade`` does before it stops. Enums and
friend declarations do not exist in this subnet's Move, so their kinds never occur.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from move import abi
from move.types import Ability

COMPATIBLE = 0
ADDITIVE = 128
DEP_ONLY = 192
POLICY_NAMES = {COMPATIBLE: "compatible", ADDITIVE: "additive", DEP_ONLY: "dependency only"}
SKIP_FLAG = "--skip-verify-compatibility"


class CompatError(ValueError):
    """A module whose interface cannot be read."""


class UnknownUpgradePolicy(CompatError):
    """A policy byte that is none of Sui's three (Sui's ``UnknownUpgradePolicy``)."""

    def __init__(self, policy: int) -> None:
        super().__init__(f"unknown upgrade policy {policy} (compatible 0, additive 128, dependency only 192)")
        self.policy = policy


@dataclass(frozen=True)
class Problem:
    """One reason the upgrade is refused: Sui's kind name, the module and item, what changed."""

    kind: str
    module: str
    item: str
    message: str

    def __str__(self) -> str:
        where = f"{self.module}::{self.item}" if self.item else self.module
        return f"{self.kind} in {where}: {self.message}"


# -- interfaces -------------------------------------------------------------------------------


@dataclass(frozen=True)
class StructSig:
    abilities: Ability
    type_params: tuple[tuple[int, bool], ...]
    """(constraints, phantom) per type parameter."""
    fields: tuple[tuple[str, str], ...]
    """(name, type) with the module's own address written ``self``."""


@dataclass(frozen=True)
class FunctionSig:
    visibility: str
    entry: bool
    type_params: tuple[int, ...]
    params: tuple[str, ...]
    returns: tuple[str, ...]
    code: str


@dataclass(frozen=True)
class ModuleInterface:
    name: str
    structs: dict[str, StructSig]
    functions: dict[str, FunctionSig]


def _self_relative(value: Any, address: str) -> Any:
    if isinstance(value, list):
        if len(value) == 5 and value[0] == "struct" and value[1] == address:
            return ["struct", "self", value[2], value[3], [_self_relative(a, address) for a in value[4]]]
        return [_self_relative(v, address) for v in value]
    return value


def _type_text(value: Any, address: str) -> str:
    return json.dumps(_self_relative(value, address), separators=(",", ":"))


def read_interface(wasm: bytes) -> ModuleInterface:
    """A compiled module's interface, types naming the module's own package as ``self`` (so
    a new version at ``0x0`` compares with the old one at its published id)."""
    try:
        meta = abi.read_metadata(wasm)
    except abi.MetadataError as exc:
        raise CompatError(str(exc)) from exc
    try:
        address, name = meta["id"]
        structs = {
            s["name"]: StructSig(
                Ability(s["abilities"]),
                tuple((int(c), bool(p)) for _, c, p in s["type_params"]),
                tuple((f, _type_text(t, address)) for f, t in s["fields"]),
            )
            for s in meta["structs"]
        }
        functions = {
            f["name"]: FunctionSig(
                f["visibility"],
                bool(f["entry"]),
                tuple(int(c) for _, c in f["type_params"]),
                tuple(_type_text(t, address) for t in f["params"]),
                tuple(_type_text(t, address) for t in f["returns"]),
                str(f.get("code", "")),
            )
            for f in meta["functions"]
        }
    except (ValueError, KeyError, TypeError) as exc:
        raise CompatError(f"the module's metadata is malformed: {exc}") from exc
    return ModuleInterface(str(name), structs, functions)


# -- the checks -------------------------------------------------------------------------------


def _abilities(a: Ability) -> str:
    return ", ".join(a.names()) or "none"


def _compatible(old: ModuleInterface, new: ModuleInterface, allow_adding_abilities: bool) -> list[Problem]:
    """``Compatibility::upgrade_check``, keeping only what breaks it (the CLI's
    ``breaks_compatibility``: private entry functions may change)."""
    out: list[Problem] = []
    m = old.name
    for name, before in old.structs.items():
        after = new.structs.get(name)
        if after is None:
            out.append(Problem("StructMissing", m, name, f"struct '{name}' is missing"))
            continue
        added = after.abilities & ~before.abilities
        if (before.abilities & ~after.abilities) or (added and not allow_adding_abilities):
            out.append(
                Problem(
                    "StructAbilityMismatch",
                    m,
                    name,
                    f"abilities were '{_abilities(before.abilities)}', are '{_abilities(after.abilities)}'",
                )
            )
        if before.type_params != after.type_params:
            out.append(
                Problem(
                    "StructTypeParamMismatch",
                    m,
                    name,
                    "type parameters changed (count, phantom or constraints)",
                )
            )
        if before.fields != after.fields:
            out.append(
                Problem(
                    "StructFieldMismatch",
                    m,
                    name,
                    f"fields were ({_fields(before.fields)}), are ({_fields(after.fields)})",
                )
            )
    for name, fb in old.functions.items():
        if fb.visibility != "public":
            continue  # private and public(package) functions (entry or not) may change or go
        fa = new.functions.get(name)
        if fa is None:
            out.append(Problem("FunctionMissingPublic", m, name, f"public function '{name}' is missing"))
            continue
        if fa.visibility != "public":
            out.append(
                Problem(
                    "FunctionLostPublicVisibility",
                    m,
                    name,
                    f"function '{name}' has lost its public visibility (now {fa.visibility})",
                )
            )
        constraints_ok = len(fb.type_params) == len(fa.type_params) and all(
            (n & ~o) == 0 for o, n in zip(fb.type_params, fa.type_params, strict=True)
        )
        if fb.params != fa.params or fb.returns != fa.returns or not constraints_ok:
            out.append(
                Problem(
                    "FunctionSignatureMismatch",
                    m,
                    name,
                    f"signature was {_signature(fb)}, is {_signature(fa)}",
                )
            )
    return out


def _inclusion(old: ModuleInterface, new: ModuleInterface, equal: bool) -> list[Problem]:
    """``InclusionCheck::Subset`` (additive) or ``Equal`` (dependency-only)."""
    return [
        *_included("Struct", "struct", old.name, old.structs, new.structs, equal),
        *_included("Function", "function", old.name, old.functions, new.functions, equal),
    ]


def _included(
    kind: str, noun: str, module: str, old: Mapping[str, object], new: Mapping[str, object], equal: bool
) -> list[Problem]:
    """Items missing (``<kind>Missing``), changed in any way, code included
    (``<kind>Change``), or new under ``Equal`` (``<kind>New``)."""
    out: list[Problem] = []
    for name in sorted(old.keys() | new.keys()):
        before, after = old.get(name), new.get(name)
        if after is None:
            out.append(Problem(f"{kind}Missing", module, name, f"{noun} '{name}' is missing"))
        elif before is None:
            if equal:
                out.append(Problem(f"{kind}New", module, name, f"{noun} '{name}' is new"))
        elif before != after:
            what = ""
            if isinstance(before, FunctionSig) and isinstance(after, FunctionSig):
                same_declaration = replace(before, code="") == replace(after, code="")
                what = " (its code)" if same_declaration else " (its declaration)"
            out.append(Problem(f"{kind}Change", module, name, f"{noun} '{name}' changed{what}"))
    return out


def _fields(fields: tuple[tuple[str, str], ...]) -> str:
    return ", ".join(f"{n}: {_short(t)}" for n, t in fields)


def _signature(f: FunctionSig) -> str:
    params = ", ".join(_short(p) for p in f.params)
    returns = ", ".join(_short(r) for r in f.returns)
    generics = f"<{len(f.type_params)} type parameters>" if f.type_params else ""
    return f"{generics}({params})" + (f": ({returns})" if returns else "")


def _short(text: str) -> str:
    """A type from its JSON text, written as Move writes it."""
    return _move_type(json.loads(text))


def _move_type(value: Any) -> str:
    if isinstance(value, str):
        return value
    tag = value[0]
    if tag == "vector":
        return f"vector<{_move_type(value[1])}>"
    if tag == "struct":
        args = f"<{', '.join(_move_type(a) for a in value[4])}>" if value[4] else ""
        return f"{value[2]}::{value[3]}{args}"
    if tag == "param":
        return str(value[2])
    if tag == "ref":
        return ("&mut " if value[1] else "&") + _move_type(value[2])
    return "(" + ", ".join(_move_type(v) for v in value[1]) + ")"


def check_upgrade(
    old_modules: Iterable[bytes],
    new_modules: Iterable[bytes],
    policy: int,
    *,
    allow_adding_abilities: bool = False,
) -> list[Problem]:
    """Every problem that makes ``new_modules`` an upgrade of ``old_modules`` that
    ``policy`` refuses; empty when the upgrade is allowed. ``UnknownUpgradePolicy`` for a
    policy byte Sui does not know, ``CompatError`` for a module that cannot be read."""
    if policy not in POLICY_NAMES:
        raise UnknownUpgradePolicy(policy)
    old = {i.name: i for i in map(read_interface, old_modules)}
    new = {i.name: i for i in map(read_interface, new_modules)}
    problems: list[Problem] = []
    for name in sorted(old):
        if name not in new:
            problems.append(Problem("ModuleMissing", name, "", f"Package is missing module '{name}'"))
            continue
        if policy == COMPATIBLE:
            problems += _compatible(old[name], new[name], allow_adding_abilities)
        else:
            problems += _inclusion(old[name], new[name], equal=policy == DEP_ONLY)
    if policy == DEP_ONLY:
        for name in sorted(new.keys() - old.keys()):
            problems.append(
                Problem(
                    "ModuleNew",
                    name,
                    "",
                    f"module '{name}' is new: a dependency-only upgrade keeps the package's "
                    f"{len(old)} modules",
                )
            )
    return problems


def report(problems: Iterable[Problem], policy: int) -> str:
    """The problems, one per line, then what ``sui client upgrade`` says when it stops."""
    lines = [str(p) for p in problems]
    lines.append(
        "Upgrade failed, this package requires changes to be compatible with the existing package. "
        f"Its upgrade policy is set to '{POLICY_NAMES.get(policy, str(policy))}'. "
        f"Use {SKIP_FLAG} to bypass this check locally."
    )
    return "\n".join(lines)


__all__ = [
    "ADDITIVE",
    "COMPATIBLE",
    "DEP_ONLY",
    "POLICY_NAMES",
    "SKIP_FLAG",
    "CompatError",
    "FunctionSig",
    "ModuleInterface",
    "Problem",
    "StructSig",
    "UnknownUpgradePolicy",
    "check_upgrade",
    "read_interface",
    "report",
]
