"""The driver: a package's sources (a folder or a mapping of texts) to a checked ``ir.Package``.

``compile_package`` parses every file, then checks the package as a whole against its
dependencies (already compiled packages: normally the framework from
``move.framework``). Anything wrong raises ``CompileError`` with every diagnostic
found, located and in source order; nothing else escapes for bad input.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from move import ir
from move.check import check_package
from move.codes import error
from move.manifest import read_manifest, read_sources
from move.source import CompileError, Diagnostic, Loc
from move.syntax import ast as A
from move.syntax import parse_file
from move.types import address_of

RECURSION_LIMIT = 20_000
"""The checker recurses over expressions; a long ``a + b + ...`` chain is one level per
operator (the parser bounds other nesting), so checking raises Python's limit for its call."""

STANDARD_ADDRESSES = {"std": address_of(1), "sui": address_of(2)}


def compile_package(
    root: Path | None = None,
    *,
    sources: Mapping[str, str] | None = None,
    named_addresses: Mapping[str, bytes] | None = None,
    deps: Sequence[ir.Package] = (),
    name: str | None = None,
    edition: str = "2024",
) -> ir.Package:
    """Compile the package in folder ``root`` (its Move.toml and sources/), or the given
    ``sources`` (file name -> text). ``named_addresses`` add to (and override) the
    manifest's; ``std`` and ``sui`` are known when the framework is among ``deps``.
    A named address left as ``"_"`` in the manifest is ``0x0`` (unpublished). ``edition``
    (the manifest's when there is one) is ``2024`` or ``legacy``."""
    addresses: dict[str, bytes] = {}
    for dep in deps:
        for m in dep.modules:
            for alias, standard in STANDARD_ADDRESSES.items():
                if m.id.address == standard:
                    addresses.setdefault(alias, standard)
    if root is not None:
        if sources is not None:
            raise ValueError("give either root or sources, not both")
        manifest = read_manifest(root)
        for alias, value in manifest.addresses.items():
            addresses[alias] = value if value is not None else address_of(0)
        name = name or manifest.name
        edition = manifest.edition
        texts = read_sources(root)
        texts = {str(root / k): v for k, v in texts.items()}
    else:
        if sources is None:
            raise ValueError("give root or sources")
        texts = dict(sources)
        name = name or "package"
    addresses.update(named_addresses or {})
    own = name.replace("-", "_").lower()
    if own.isidentifier() and own not in addresses:
        addresses[own] = address_of(0)  # the package's own name, as newer Sui manifests allow
    files: list[A.FileAst] = []
    diags: list[Diagnostic] = []
    for file, text in sorted(texts.items()):
        try:
            files.append(parse_file(text, file))
        except CompileError as e:
            diags.extend(e.diagnostics)
        except RecursionError:
            diags.append(error(Loc(file, 1, 1), "E01002", "the file nests too deeply", texts).diagnostics[0])
    if diags:
        raise CompileError(diags)
    if not any(f.modules for f in files):
        raise error(Loc(name, 1, 1), "E99001", f"package '{name}' has no modules")
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, RECURSION_LIMIT))
    try:
        return check_package(name, files, addresses, deps, texts, "legacy" if edition == "legacy" else "2024")
    except RecursionError:
        where = Loc(files[0].file, 1, 1)
        raise error(where, "E01002", "an expression nests too deeply to check", texts) from None
    finally:
        sys.setrecursionlimit(limit)


def compile_package_tree(
    root: Path,
    *,
    framework: Sequence[ir.Package],
    named_addresses: Mapping[str, bytes] | None = None,
) -> list[ir.Package]:
    """The package in ``root`` and its local dependencies (``{ local = "../path" }``), each
    compiled once, dependencies first; ``Sui``/``MoveStdlib`` dependencies are ``framework``.
    A dependency's named addresses are visible to the packages that depend on it, as in Move."""
    done: dict[Path, ir.Package] = {}
    order: list[ir.Package] = []
    addresses: dict[str, bytes] = dict(named_addresses or {})

    def build(folder: Path, stack: tuple[Path, ...]) -> ir.Package:
        folder = folder.resolve()
        if folder in done:
            return done[folder]
        if folder in stack:
            chain = " -> ".join(str(p) for p in (*stack, folder))
            raise error(Loc(str(folder / "Move.toml"), 1, 1), "E99001", f"cyclic package dependency: {chain}")
        manifest = read_manifest(folder)
        local: list[ir.Package] = []
        for dep in manifest.dependencies:
            if dep.path is not None:
                local.append(build(dep.path, (*stack, folder)))
        for alias, value in manifest.addresses.items():
            if value is not None:
                addresses.setdefault(alias, value)
        pkg = compile_package(folder, named_addresses=addresses, deps=[*framework, *_closure(local)])
        done[folder] = pkg
        order.append(pkg)
        return pkg

    build(root, ())
    return order


def _closure(packages: list[ir.Package]) -> list[ir.Package]:
    """Packages without duplicates, in the order given (a package's own deps were compiled first)."""
    seen: set[str] = set()
    out = []
    for p in packages:
        if p.name not in seen:
            seen.add(p.name)
            out.append(p)
    return out
