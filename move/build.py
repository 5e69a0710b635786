"""Building a package folder as ``sui move build`` does: compile against the framework,
check Sui's rules, generate one Wasm module per Move module, and write them under
``build/<Package>/bytecode_modules/<module>.wasm`` (where Sui writes ``.mv`` files).

One function for everyone who builds: the command line, the publish path of a client, and
the node's in-process ledger, so that what is published is what ``build`` printed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from move import ir
from move.codegen import compile_package as generate
from move.compiler import compile_package, compile_package_tree
from move.framework import framework
from move.sui_rules import verify_package
from move.types import address_of

__all__ = ["BuiltPackage", "build_package", "build_sources", "write_bytecode"]


@dataclass(frozen=True)
class BuiltPackage:
    """A compiled package: its name, and its modules' Wasm by module name, sorted."""

    name: str
    modules: tuple[tuple[str, bytes], ...]
    package: ir.Package

    @property
    def module_bytes(self) -> list[bytes]:
        """The modules' Wasm in name order, as a ``Publish`` command carries them."""
        return [wasm for _, wasm in self.modules]


def build_package(root: Path) -> BuiltPackage:
    """Compile the package in folder ``root`` (and its local dependencies) against the
    framework and check Sui's rules; ``CompileError`` with every located problem otherwise."""
    deps = list(framework())
    tree = compile_package_tree(root, framework=deps)
    package = tree[-1]
    verify_package(package, [*deps, *tree[:-1]])
    modules = tuple(sorted((module.name, wasm) for module, wasm in generate(package).items()))
    return BuiltPackage(package.name, modules, package)


def build_sources(name: str, sources: Mapping[str, str]) -> BuiltPackage:
    """Compile a package given as source texts (file name -> text), its named address
    ``name`` at ``0x0`` (unpublished), as ``build_package`` compiles a folder: for programs
    that carry their Move source with them (the simulator's workloads, the benchmarks)."""
    deps = list(framework())
    package = compile_package(sources=sources, named_addresses={name: address_of(0)}, deps=deps, name=name)
    verify_package(package, deps)
    modules = tuple(sorted((module.name, wasm) for module, wasm in generate(package).items()))
    return BuiltPackage(package.name, modules, package)


def write_bytecode(root: Path, built: BuiltPackage) -> list[Path]:
    """Write ``build/<Package>/bytecode_modules/<module>.wasm`` under ``root``; the paths written."""
    folder = root / "build" / built.name / "bytecode_modules"
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.wasm"):
        if stale.stem not in dict(built.modules):
            stale.unlink()
    written = []
    for name, wasm in built.modules:
        path = folder / f"{name}.wasm"
        path.write_bytes(wasm)
        written.append(path)
    return written
