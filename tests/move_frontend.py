"""Helpers for the Move front-end tests: the framework compiled once, and small packages."""

from __future__ import annotations

from pathlib import Path

from move import codegen, ir
from move.compiler import compile_package
from move.framework import stdlib, sui_framework
from move.source import CompileError, Diagnostic
from move.types import ModuleId, address_of
from node.sui import MoveVM, TxContext

EXAMPLES = Path(__file__).resolve().parent / "move_examples"


def framework() -> tuple[ir.Package, ir.Package]:
    """MoveStdlib and Sui as the project builds them (``move.framework``, cached there)."""
    return stdlib(), sui_framework()


def compile_sources(*texts: str, deps: tuple[ir.Package, ...] | None = None) -> ir.Package:
    """Compile modules given as texts (files ``m0.move``, ``m1.move``...) against the framework."""
    sources = {f"m{i}.move": t for i, t in enumerate(texts)}
    return compile_package(
        sources=sources,
        deps=list(framework()) if deps is None else list(deps),
        named_addresses={"a": address_of(0xA), "b": address_of(0xB)},
    )


def module(src: str) -> ir.ModuleDecl:
    """The one module of ``src`` (a module body is wrapped in ``module a::m { ... }``)."""
    text = src if src.lstrip().startswith(("module", "#")) else "module a::m {\n" + src + "\n}"
    (m,) = compile_sources(text).modules
    return m


def fails(src: str) -> Diagnostic:
    """The first diagnostic compiling ``src`` (wrapped as in ``module``) raises."""
    text = src if src.lstrip().startswith(("module", "#")) else "module a::m {\n" + src + "\n}"
    try:
        compile_sources(text)
    except CompileError as e:
        return e.diagnostics[0]
    raise AssertionError("compiled, but an error was expected")


def vm_with(file: str, source: str, named_addresses: dict[str, bytes]) -> MoveVM:
    """A Move VM holding the framework and the package compiled from one source file."""
    machine = MoveVM()
    for package in framework():
        machine.add_modules(codegen.compile_package(package).values())
    package = compile_package(sources={file: source}, named_addresses=named_addresses, deps=list(framework()))
    machine.add_modules(codegen.compile_package(package).values())
    return machine


def returns(vm: MoveVM, where: ModuleId, name: str, *args: bytes) -> list[bytes]:
    """The BCS results of calling ``where::name`` (private functions too) with BCS arguments."""
    ctx = TxContext(sender=bytes(32), digest=bytes(32))
    return vm.call(where, name, list(args), (), ctx=ctx, gas_limit=10**8, public_only=False).returns
