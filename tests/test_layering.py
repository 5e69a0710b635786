"""The layers hold and no import cycle exists: read from the code, and shown to fail on
fabricated graphs and sources that break them."""

from __future__ import annotations

import functools
import importlib
import importlib.util
import warnings
from pathlib import Path

from tests.layering import (
    PACKAGES,
    Import,
    cycles,
    imports_of,
    layer_violations,
    project_modules,
    read_graph,
    type_checking_imports,
)

ROOT = Path(__file__).resolve().parent.parent


@functools.cache
def project_graph() -> tuple[Import, ...]:
    """The tree's imports, read once for the three tests below (each read is seconds)."""
    return tuple(read_graph(ROOT))


def test_the_project_keeps_its_layers() -> None:
    edges = list(project_graph())
    assert len({edge.source for edge in edges}) > 50, (
        "the reader found too few modules to be reading the tree"
    )
    assert layer_violations(edges) == []


def test_the_project_has_no_import_cycle() -> None:
    edges = list(project_graph())
    found = cycles(edges)
    assert found == [], "import cycles: " + "; ".join(" <-> ".join(cycle) for cycle in found)


def test_type_checking_imports_are_reported_and_name_real_modules() -> None:
    edges = [e for e in project_graph() if e.type_checking and e.target.split(".")[0] in PACKAGES]
    modules = project_modules(ROOT)
    assert [e for e in edges if e.target not in modules] == []
    if edges:
        warnings.warn(
            "imports for type checkers only: " + "; ".join(type_checking_imports(edges)), stacklevel=1
        )


# -- the checker itself, on fabricated graphs ------------------------------------------------


def edge(source: str, target: str, **flags: bool) -> Import:
    return Import(source, target, 1, **flags)


def test_a_wrong_way_import_is_named() -> None:
    problems = layer_violations(
        [
            edge("vocab.codec", "vocab.principal"),
            edge("node.replica", "vocab.codec"),
            edge("vocab.codec", "node.replica", lazy=True),
            edge("node.main", "client.identity"),
            edge("client.agent", "node.transport"),
            edge("vocab.framing", "trio"),
            edge("bench.canister", "subnet.commands.canister"),
            edge("bench.canister", "subnet.processes"),
            edge("subnet.cli", "node.replica"),
        ]
    )
    assert problems == [
        "vocab.codec:1 imports node.replica: vocab may import only vocab",
        "node.main:1 imports client.identity: node may import only move, node, vocab",
        "client.agent:1 imports node.transport: client may import only client, move, vocab",
        "vocab.framing:1 imports trio: vocab must not use trio",
        "bench.canister:1 imports subnet.commands.canister: bench uses library modules, not the command line",
    ]


def test_a_type_checking_import_is_allowed_but_reported() -> None:
    edges = [edge("vocab.codec", "node.replica", type_checking=True)]
    assert layer_violations(edges) == []
    assert type_checking_imports(edges) == ["vocab.codec:1 imports node.replica (TYPE_CHECKING)"]


def test_cycles_are_found_through_lazy_and_type_checking_imports() -> None:
    edges = [
        edge("node.a", "node.b"),
        edge("node.b", "node.c"),
        edge("node.c", "node.a", lazy=True),
        edge("node.d", "node.e"),
        edge("node.e", "node.d", type_checking=True),
        edge("node.f", "node.f"),
        edge("node.g", "vocab.x"),
    ]
    assert cycles(edges) == [["node.a", "node.b", "node.c"], ["node.d", "node.e"], ["node.f"]]


def test_a_long_chain_without_a_cycle_is_fine() -> None:
    chain = [edge(f"node.m{i}", f"node.m{i + 1}") for i in range(5000)]
    assert cycles(chain) == []
    assert cycles([*chain, edge("node.m5000", "node.m0")]) == [sorted(f"node.m{i}" for i in range(5001))]


def test_the_reader_sees_lazy_relative_and_guarded_imports(tmp_path: Path) -> None:
    package = tmp_path / "node"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "b.py").write_text("X = 1\n")
    source = package / "a.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "import trio\n"
        "from . import b\n"
        "from .b import X\n"
        "from vocab.codec import encode\n"
        "if TYPE_CHECKING:\n"
        "    from client.agent import Agent\n"
        "def later():\n"
        "    import client.identity\n"
    )
    known = ["node", "node.a", "node.b", "vocab.codec", "client.agent", "client.identity"]
    found = {(e.target, e.lazy, e.type_checking) for e in imports_of("node.a", source, known)}
    assert ("node.b", False, False) in found
    assert ("vocab.codec", False, False) in found
    assert ("client.agent", False, True) in found
    assert ("client.identity", True, False) in found
    assert ("trio", False, False) in found


def test_every_package_says_what_it_offers() -> None:
    """Each package has a docstring and an ``__all__`` whose names all exist (a name or a
    submodule), so a reader knows where a package's public surface is."""
    problems: list[str] = []
    for name, path in project_modules(ROOT).items():
        if path.name != "__init__.py":
            continue
        package = importlib.import_module(name)
        if not (package.__doc__ or "").strip():
            problems.append(f"{name}: no docstring")
        offered = getattr(package, "__all__", None)
        if offered is None:
            problems.append(f"{name}: no __all__")
            continue
        for item in offered:
            if not hasattr(package, item) and importlib.util.find_spec(f"{name}.{item}") is None:
                problems.append(f"{name}: __all__ names {item}, which does not exist")
    assert problems == []
