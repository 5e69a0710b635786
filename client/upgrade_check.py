"""The checks ``dfx`` makes before it upgrades a canister, as plain functions.

An upgrade can break two things that the replica never looks at: the canister's callers,
when the new Candid service is not a subtype of the deployed one (a method removed, an
argument it now requires, a result it no longer promises, a query turned into an update),
and a Motoko canister's own data, when the new stable variable types cannot take over the
old values (moc then refuses the upgrade, or a variable is lost). Both are known before any
code is installed, from two custom sections of the modules: ``candid:service`` and
``motoko:stable-types`` (each ``icp:public`` or ``icp:private``). Like dfx, a caller shows
every problem and asks before it goes on (``confirm_upgrade``).

The Candid check is the project's own ``vocab.candid`` subtyping, run per method so that
each broken method is one problem. The stable-type check is the real compiler's
(``moc --stable-compatible``, from the pinned npm ``motoko`` under Node.js), because the
compatibility rules (implicit migration, dropped variables, mutability) are moc's to define.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TextIO

from client.motoko import MotokoDiagnostic, stable_compatible
from vocab.candid import CandidError, ServiceType, parse_did, subtype_report
from vocab.errors import SubnetError
from vocab.wasm import WasmFormatError, custom_sections, unwrap_module

__all__ = [
    "CANDID_SERVICE",
    "STABLE_TYPES",
    "ModuleMetadataError",
    "ProblemKind",
    "UpgradeCheckError",
    "UpgradeMetadata",
    "UpgradeProblem",
    "Severity",
    "StableTypesIncompatible",
    "UpgradeRefused",
    "check_candid",
    "check_stable_types",
    "check_upgrade",
    "confirm_upgrade",
    "consents",
    "metadata_section",
    "upgrade_metadata",
]

CANDID_SERVICE = "candid:service"
STABLE_TYPES = "motoko:stable-types"

ProblemKind = Literal["candid", "stable-types"]
Severity = Literal["error", "warning"]

# moc names the module a stable signature came from only when that signature itself is at
# fault (it does not parse); these names make such a message say which module it was.
_DEPLOYED_MOST = "deployed.most"
_NEW_MOST = "new.most"
_SOURCES = {_DEPLOYED_MOST: "the deployed module's", _NEW_MOST: "the new module's"}
_STABLE_VARIABLE = re.compile(r"stable variable `([^`]+)`")

_CANDID_FAILED = (
    "Candid interface compatibility check failed for canister '{name}'.\n"
    "You are making a BREAKING change. Other canisters or frontend clients relying on "
    "your canister may stop working."
)
_STABLE_ERROR = (
    "Stable interface compatibility check issued an ERROR for canister '{name}'.\n"
    "Upgrade will either FAIL or LOSE some stable variable data."
)
_STABLE_WARNING = "Stable interface compatibility check issued a WARNING for canister '{name}'."
# dfx's wording (src/dfx/src/lib/operations/canister/install_canister.rs), kept word for
# word: scripts and dfx's own end-to-end tests match on it.


class UpgradeCheckError(SubnetError):
    """The upgrade checks could not run on these inputs, or their result stops the upgrade."""


class ModuleMetadataError(UpgradeCheckError):
    """Module bytes whose custom sections cannot be read (not Wasm, truncated, duplicated)."""


@dataclass(frozen=True)
class UpgradeProblem:
    """One way the upgrade would break callers (``candid``) or stored data (``stable-types``).

    ``subject`` is the method or stable variable the problem is about, when there is one,
    so that a caller can act on it without parsing ``message``.
    """

    kind: ProblemKind
    message: str
    subject: str | None = None
    severity: Severity = "error"
    """moc's severity for a stable-type problem; Candid problems are always errors."""

    def __str__(self) -> str:
        return self.message


class StableTypesIncompatible(UpgradeCheckError):
    """moc found an error in the stable types: dfx stops here whatever the user says, because
    the upgrade would trap in the canister or silently drop stable data."""

    def __init__(self, name: str, problems: Sequence[UpgradeProblem]) -> None:
        super().__init__(_STABLE_ERROR.format(name=name) + "\n\n" + _details(problems))
        self.name = name
        self.problems = tuple(problems)


class UpgradeRefused(UpgradeCheckError):
    """The upgrade was not confirmed; ``problems`` are the reasons that were shown."""

    def __init__(self, name: str, problems: Sequence[UpgradeProblem]) -> None:
        count = len(problems)
        super().__init__(
            f"upgrade of canister '{name}' cancelled: {count} compatibility "
            f"problem{'' if count == 1 else 's'} (listed above); pass --yes to upgrade anyway"
        )
        self.name = name
        self.problems = tuple(problems)


@dataclass(frozen=True)
class UpgradeMetadata:
    """The two texts the checks compare, as a module carries them (None when absent)."""

    candid_service: str | None = None
    stable_types: str | None = None


# -- reading a module's metadata ---------------------------------------------------------------


def _icp_sections(module: bytes) -> dict[str, bytes]:
    """The ``icp:public``/``icp:private`` custom sections, by their name without the prefix.

    A name that appears twice (in either visibility) is refused, as the IC refuses such a
    module: which of the two texts counts would otherwise depend on who reads it.
    """
    found: dict[str, bytes] = {}
    try:
        for section in custom_sections(unwrap_module(module)):
            for visibility in ("icp:public ", "icp:private "):
                if section.name.startswith(visibility):
                    key = section.name[len(visibility) :]
                    if key in found:
                        raise ModuleMetadataError(f"the module declares metadata {key!r} twice")
                    found[key] = section.data
    except WasmFormatError as exc:
        raise ModuleMetadataError(str(exc)) from None
    return found


def metadata_section(module: bytes, name: str) -> bytes | None:
    """The payload of metadata ``name`` (``icp:public`` or ``icp:private``), None if absent."""
    return _icp_sections(module).get(name)


def upgrade_metadata(module: bytes) -> UpgradeMetadata:
    """The ``candid:service`` and ``motoko:stable-types`` texts of module bytes."""
    sections = _icp_sections(module)
    texts: list[str | None] = []
    for name in (CANDID_SERVICE, STABLE_TYPES):
        payload = sections.get(name)
        if payload is None:
            texts.append(None)
            continue
        try:
            texts.append(payload.decode("utf-8"))
        except UnicodeDecodeError:
            raise ModuleMetadataError(f"the module's {name} metadata is not UTF-8 text") from None
    return UpgradeMetadata(candid_service=texts[0], stable_types=texts[1])


# -- the checks ----------------------------------------------------------------------------------


def check_candid(deployed: str | None, new: str | None) -> list[UpgradeProblem]:
    """Every deployed method that the new service breaks, one problem per method.

    The new service must be a subtype of the deployed one: it may add methods, and for
    each old method it may accept more (arguments are contravariant) and promise more
    (results are covariant), with the same annotations. As dfx does, a pair that holds
    only by Candid's special rule for ``opt`` counts as a problem too: values that no
    longer fit would silently read as ``null``. Nothing deployed means nothing to break.
    """
    if deployed is None:
        return []
    try:
        old = parse_did(deployed).service
    except CandidError as exc:
        return [
            UpgradeProblem(
                "candid",
                f"the deployed candid:service does not parse, so the "
                f"new interface cannot be checked against it: {exc}",
            )
        ]
    if old is None or not old.methods:
        return []
    if new is None:
        names = ", ".join(name for name, _ in old.methods)
        return [
            UpgradeProblem(
                "candid",
                "the new module has no candid:service metadata, so it "
                f"cannot be checked against the deployed methods ({names})",
            )
        ]
    try:
        service = parse_did(new).service
    except CandidError as exc:
        return [UpgradeProblem("candid", f"the new candid:service does not parse: {exc}")]
    current = service if service is not None else ServiceType()
    problems: list[UpgradeProblem] = []
    for name, old_type in old.methods:
        new_type = current.method(name)
        if new_type is None:
            problems.append(
                UpgradeProblem(
                    "candid",
                    f'method "{name}" was removed: clients of the deployed interface that call it '
                    "would be rejected",
                    name,
                )
            )
            continue
        errors, opt_only = subtype_report(new_type, old_type)
        reasons = [str(item) for item in (*errors, *opt_only)]
        if reasons:
            problems.append(UpgradeProblem("candid", f'method "{name}": ' + "; ".join(reasons), name))
    return problems


def _stable_problem(diagnostic: MotokoDiagnostic) -> UpgradeProblem:
    owner = _SOURCES.get(diagnostic.source)
    prefix = f"{owner} stable types: " if owner else ""
    match = _STABLE_VARIABLE.search(diagnostic.message)
    return UpgradeProblem(
        "stable-types",
        f"{prefix}{diagnostic.message.strip()} [{diagnostic.code}]",
        match.group(1) if match else None,
        "error" if diagnostic.severity == "error" else "warning",
    )


def check_stable_types(
    deployed: str | None, new: str | None, *, cache_dir: Path | str | None = None
) -> list[UpgradeProblem]:
    """moc's verdict on upgrading stable variables of signature ``deployed`` to ``new``.

    Every message moc gives is returned with its severity: under dfx an error stops the
    upgrade and a warning only asks for consent (``confirm_upgrade``). Identical
    signatures are compatible without asking moc, so an upgrade that keeps the stable
    types needs no Node.js. Raises ``NodeNotFound`` (a ``MotokoError``) when Node.js is
    missing and the check cannot run.
    """
    if deployed is None:
        return []
    if new is None:
        return [
            UpgradeProblem(
                "stable-types",
                "the deployed module has Motoko stable variables (motoko:stable-types) and the new "
                "module declares none: their data would not survive the upgrade",
            )
        ]
    if deployed == new:
        return []
    diagnostics = stable_compatible(
        deployed, new, pre_name=_DEPLOYED_MOST, post_name=_NEW_MOST, cache_dir=cache_dir
    )
    return [_stable_problem(item) for item in diagnostics]


def check_upgrade(
    deployed: UpgradeMetadata, new: UpgradeMetadata, *, cache_dir: Path | str | None = None
) -> list[UpgradeProblem]:
    """Both checks, Candid first, as dfx runs them before an upgrade."""
    return [
        *check_candid(deployed.candid_service, new.candid_service),
        *check_stable_types(deployed.stable_types, new.stable_types, cache_dir=cache_dir),
    ]


def _details(problems: Sequence[UpgradeProblem]) -> str:
    return "\n".join("  - " + problem.message.replace("\n", "\n    ") for problem in problems)


def confirm_upgrade(
    problems: Sequence[UpgradeProblem],
    *,
    yes: bool,
    name: str,
    ask: Callable[[str], str] | None = None,
    file: TextIO | None = None,
) -> None:
    """dfx's three outcomes, in dfx's order and words, each shown on stderr.

    - Candid problems: "Candid interface compatibility check failed", then consent.
    - A stable-type error: "Stable interface compatibility check issued an ERROR" and the
      upgrade stops (``StableTypesIncompatible``) even with ``yes``, as dfx bails there:
      the canister would trap in its upgrade or lose data. A reinstall is the way through.
    - Stable-type warnings only: "... issued a WARNING", then consent.

    Consent is ``yes``, or "y"/"yes" from ``ask`` (``input``, say, passed only when someone
    can answer); otherwise ``UpgradeRefused``, so a script never breaks a canister by
    accident. No problems: nothing is printed and the upgrade goes on.
    """
    out = file if file is not None else sys.stderr
    candid = [problem for problem in problems if problem.kind == "candid"]
    stable = [problem for problem in problems if problem.kind == "stable-types"]
    if candid:
        _consent(_CANDID_FAILED.format(name=name), candid, yes=yes, name=name, ask=ask, out=out)
    if any(problem.severity == "error" for problem in stable):
        raise StableTypesIncompatible(name, stable)
    if stable:
        _consent(_STABLE_WARNING.format(name=name), stable, yes=yes, name=name, ask=ask, out=out)


def consents(answer: str) -> bool:
    """Whether an answer to "Do you want to proceed? yes/No" is consent, by dfx's rule
    (``src/dfx/src/util/mod.rs``: the line with its end trimmed, lowercased, is "yes" or
    "y"). Anything else, an empty line and the end of input decline."""
    return answer.rstrip().lower() in ("y", "yes")


def _consent(
    header: str,
    problems: Sequence[UpgradeProblem],
    *,
    yes: bool,
    name: str,
    ask: Callable[[str], str] | None,
    out: TextIO,
) -> None:
    print("WARNING!", file=out)
    print(header + "\n\n" + _details(problems) + "\n", file=out)
    if yes:
        return
    if ask is not None and consents(ask("Do you want to proceed? yes/No\n")):
        return
    raise UpgradeRefused(name, problems)
