"""A Move package on disk: ``Move.toml`` and ``sources/*.move``, as ``sui move build`` reads them.

The manifest's ``[package]`` gives the name and edition (only ``2024`` / ``2024.beta`` /
``2024.alpha`` and legacy are accepted; this compiler speaks 2024 Move for all),
``[addresses]`` the named addresses (``"0x0"`` or ``"_"`` for the package's own, unpublished
address), ``[dependencies]`` other packages: ``Sui`` and ``MoveStdlib`` (however they are
given: git, local) resolve to the project's own framework, a ``local = "path"`` to
another package folder. The project never fetches a git dependency.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from move.codes import error
from move.source import CompileError, Loc
from move.types import address_of

FRAMEWORK_PACKAGES = ("MoveStdlib", "Sui")
"""Dependency names that mean the project's own framework (``0x1``, ``0x2``)."""

EDITIONS = ("2024", "2024.beta", "2024.alpha", "legacy")


@dataclass
class Dependency:
    name: str
    framework: bool
    path: Path | None = None


@dataclass
class Manifest:
    name: str
    edition: str
    addresses: dict[str, bytes | None]
    """Named addresses; ``None`` for ``"_"`` (to be assigned: the package's own)."""
    dependencies: list[Dependency] = field(default_factory=list)
    root: Path = Path(".")


def parse_address(text: str, where: Loc) -> bytes | None:
    """``"0x2"`` -> 32 bytes; ``"_"`` -> None."""
    if text == "_":
        return None
    body = text[2:] if text.lower().startswith("0x") else None
    if body is None or not body or len(body) > 64 or any(c not in "0123456789abcdefABCDEF" for c in body):
        raise error(
            where, "E99001", f"invalid address '{text}' in Move.toml: expected 0x and up to 64 hex digits"
        )
    return address_of(int(body, 16))


def read_manifest(root: Path) -> Manifest:
    """Read ``root/Move.toml``; raises ``CompileError`` naming what is wrong."""
    path = root / "Move.toml"
    where = Loc(str(path), 1, 1)
    if not path.is_file():
        raise error(where, "E99001", f"no Move.toml in '{root}': not a Move package folder")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise error(where, "E99001", f"Move.toml is not valid TOML: {e}") from None
    package = data.get("package")
    if not isinstance(package, dict) or not isinstance(package.get("name"), str) or not package["name"]:
        raise error(where, "E99001", "Move.toml needs a [package] table with a 'name'")
    edition = str(package.get("edition", "2024"))
    if edition not in EDITIONS:
        raise error(where, "E99001", f"unsupported edition '{edition}' (this compiler reads Move 2024)")
    addresses: dict[str, bytes | None] = {}
    raw = data.get("addresses", {})
    if not isinstance(raw, dict):
        raise error(where, "E99001", '[addresses] must be a table of name = "0x..."')
    for name, value in raw.items():
        if not isinstance(value, str):
            raise error(where, "E99001", f"address '{name}' must be a string such as \"0x0\"")
        addresses[name] = parse_address(value, where)
    deps: list[Dependency] = []
    raw_deps = data.get("dependencies", {})
    if not isinstance(raw_deps, dict):
        raise error(where, "E99001", "[dependencies] must be a table")
    for name, spec in raw_deps.items():
        if name in FRAMEWORK_PACKAGES:
            deps.append(Dependency(name, True))
            continue
        if not isinstance(spec, dict) or not isinstance(spec.get("local"), str):
            raise error(
                where, "E99001",
                f"dependency '{name}': only local dependencies ({{ local = \"../path\" }}) and the framework "
                f"({', '.join(FRAMEWORK_PACKAGES)}) are supported",
            )  # fmt: skip
        deps.append(Dependency(name, False, (root / spec["local"]).resolve()))
    return Manifest(package["name"], edition, addresses, deps, root)


def read_sources(root: Path) -> dict[str, str]:
    """``sources/**/*.move`` of a package folder, by path relative to ``root``, in name order."""
    folder = root / "sources"
    if not folder.is_dir():
        raise CompileError(
            [error(Loc(str(root), 1, 1), "E99001", f"no sources/ folder in '{root}'").diagnostics[0]]
        )
    out: dict[str, str] = {}
    for path in sorted(folder.rglob("*.move")):
        rel = str(path.relative_to(root))
        try:
            out[rel] = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise error(Loc(rel, 1, 1), "E01001", "the file is not UTF-8 text") from None
    return out
