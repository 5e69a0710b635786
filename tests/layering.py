"""The layers of the project, read from the source with ``ast`` and checked.

The rule (DESIGN.md section 2): the shared vocabulary imports nothing else of the
project and no trio; ``move`` (the Move compiler, a pure library) imports only the
vocabulary; ``node`` (one replica) and ``client`` (the user's side) import the
vocabulary and the compiler, and never each other; orchestration (``subnet``: simulator, process backend,
CLI, demo, PocketIC-style API) sits on top; ``bench`` sits beside orchestration and uses
its library modules, never the command line. No module may take part in an import cycle.

Every import counts, including lazy ones inside functions, because a lazy import is
still a dependency and a cycle through it still means two modules that cannot be
understood apart. Imports under ``if TYPE_CHECKING:`` never run, so they may cross the
layers (they are reported, not refused); but they still tie two modules together, so
the cycle search counts them like any other.

The checker works on a plain graph (``Import`` edges between dotted module names) so
that a test can feed it a fabricated graph and see it fail.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

PACKAGES = ("vocab", "move", "node", "client", "subnet", "bench")
"""The project's top-level packages, bottom layer first."""

ALLOWED: Mapping[str, frozenset[str]] = {
    "vocab": frozenset({"vocab"}),
    "move": frozenset({"vocab", "move"}),
    "node": frozenset({"vocab", "move", "node"}),
    "client": frozenset({"vocab", "move", "client"}),
    "subnet": frozenset({"vocab", "move", "node", "client", "subnet"}),
    "bench": frozenset({"vocab", "move", "node", "client", "subnet", "bench"}),
}
"""Which packages a module of each package may import."""

FORBIDDEN_THIRD_PARTY: Mapping[str, frozenset[str]] = {
    "vocab": frozenset({"trio"}),
    "move": frozenset({"trio"}),
}
"""Libraries a layer must not use: the vocabulary stays free of I/O."""

COMMAND_LINE = ("subnet.cli", "subnet.commands")
"""Modules that only the command line itself may import: ``bench`` uses the library."""


@dataclass(frozen=True)
class Import:
    """One import statement's dependency of ``source`` on ``target`` (dotted names)."""

    source: str
    target: str
    line: int
    lazy: bool = False
    type_checking: bool = False


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules(root: Path, packages: Iterable[str] = PACKAGES) -> dict[str, Path]:
    """Every module of the given packages below ``root``, by dotted name."""
    modules: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            modules[module_name(root, path)] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _resolve(target: str, known: Iterable[str]) -> str:
    """The most specific known module that ``target`` names (``a.b.c`` may be a name in ``a.b``)."""
    names = set(known)
    while target and target not in names and "." in target:
        target = target.rsplit(".", 1)[0]
    return target


def imports_of(source: str, path: Path, known: Iterable[str]) -> list[Import]:
    """The imports of one module, with lazy and TYPE_CHECKING ones marked."""
    known = list(known)
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[Import] = []

    def visit(node: ast.AST, lazy: bool, type_checking: bool) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                visit(child, lazy, True)
            for child in node.orelse:
                visit(child, lazy, type_checking)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append(Import(source, _resolve(alias.name, known), node.lineno, lazy, type_checking))
            return
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = source.split(".") if is_package else source.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            for alias in node.names:
                found.append(
                    Import(
                        source, _resolve(f"{module}.{alias.name}", known), node.lineno, lazy, type_checking
                    )
                )
            return
        inner_lazy = lazy or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        for child in ast.iter_child_nodes(node):
            visit(child, inner_lazy, type_checking)

    visit(tree, False, False)
    return found


def read_graph(root: Path, packages: Iterable[str] = PACKAGES) -> list[Import]:
    """Every import of every module of the project below ``root``."""
    modules = project_modules(root, packages)
    edges: list[Import] = []
    for name, path in modules.items():
        edges.extend(imports_of(name, path, modules))
    return edges


def _top(name: str) -> str:
    return name.split(".", 1)[0]


def layer_violations(edges: Iterable[Import]) -> list[str]:
    """Imports against the layers, each named with its place and the rule it breaks."""
    problems: list[str] = []
    for edge in edges:
        if edge.type_checking:
            continue
        source, target = _top(edge.source), _top(edge.target)
        where = f"{edge.source}:{edge.line} imports {edge.target}"
        if source in ALLOWED and target in ALLOWED and target not in ALLOWED[source]:
            problems.append(f"{where}: {source} may import only {', '.join(sorted(ALLOWED[source]))}")
        if target in FORBIDDEN_THIRD_PARTY.get(source, frozenset()):
            problems.append(f"{where}: {source} must not use {target}")
        if source == "bench" and any(
            edge.target == prefix or edge.target.startswith(prefix + ".") for prefix in COMMAND_LINE
        ):
            problems.append(f"{where}: bench uses library modules, not the command line")
    return problems


def cycles(edges: Iterable[Import]) -> list[list[str]]:
    """The import cycles among project modules: strongly connected components of two or
    more modules, or a module importing itself. Every import counts, TYPE_CHECKING ones
    too (two modules typed in terms of each other are one concept in two files)."""
    graph: dict[str, set[str]] = {}
    for edge in edges:
        if _top(edge.target) not in ALLOWED:
            continue
        graph.setdefault(edge.source, set()).add(edge.target)
        graph.setdefault(edge.target, set())
    # Tarjan's algorithm, iterative so that a deep graph cannot exhaust the stack.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work: list[tuple[str, list[str]]] = [(start, sorted(graph[start]))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, pending = work[-1]
            if pending:
                child = pending.pop(0)
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, sorted(graph[child])))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in graph[node]:
                    found.append(sorted(component))
    return sorted(found)


def type_checking_imports(edges: Iterable[Import]) -> list[str]:
    """The imports that only type checkers see: allowed, but worth a look."""
    return [f"{e.source}:{e.line} imports {e.target} (TYPE_CHECKING)" for e in edges if e.type_checking]
