"""The framework packages, compiled: 0x1 (MoveStdlib) and 0x2 (Sui) as checked IR.

Every package a researcher builds depends on them, and every replica publishes them at
genesis, so they are compiled from the Move sources in ``move/framework/`` by the same
compiler as user code (no separate hand-written IR to drift from the sources). The result
is deterministic (files in name order, no clock, no randomness) and cached for the
process: compiling the framework is the largest part of building a small package.

The cached packages are shared; callers must not mutate them.
"""

from __future__ import annotations

import functools
from pathlib import Path

from move import ir
from move.compiler import compile_package
from move.types import address_of

__all__ = [
    "FRAMEWORK_ROOT",
    "STDLIB_ADDRESS",
    "SUI_ADDRESS",
    "framework",
    "native_functions",
    "stdlib",
    "sui_framework",
]

FRAMEWORK_ROOT = Path(__file__).resolve().parent / "framework"
"""The folder holding ``move-stdlib/`` and ``sui-framework/`` (each a package with Move.toml)."""

STDLIB_ADDRESS = address_of(1)
SUI_ADDRESS = address_of(2)


@functools.cache
def stdlib() -> ir.Package:
    """``MoveStdlib`` at ``0x1`` (``std``)."""
    return compile_package(FRAMEWORK_ROOT / "move-stdlib", named_addresses={"std": STDLIB_ADDRESS}, deps=[])


@functools.cache
def sui_framework() -> ir.Package:
    """``Sui`` at ``0x2`` (``sui``), compiled against ``stdlib()``."""
    return compile_package(
        FRAMEWORK_ROOT / "sui-framework",
        named_addresses={"std": STDLIB_ADDRESS, "sui": SUI_ADDRESS},
        deps=[stdlib()],
    )


def framework() -> list[ir.Package]:
    """Both packages, a dependency before its dependents: what a user package compiles against."""
    return [stdlib(), sui_framework()]


def native_functions() -> list[ir.FunctionRef]:
    """Every ``native fun`` of the framework, in module and declaration order: what the host
    must implement (move/framework/NATIVES.md says how)."""
    return [
        ir.FunctionRef(module.id, fun.name)
        for package in framework()
        for module in package.modules
        for fun in module.functions.values()
        if fun.native
    ]
