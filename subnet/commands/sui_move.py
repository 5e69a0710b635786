"""`subnet move new | build`: Move packages as `sui move new` and `sui move build` make them.

`new` scaffolds a package folder (Move.toml with `[package]` and `[addresses]`, and a
module in `sources/`); `build` compiles it with the project's own compiler (``move.build``)
and writes `build/<Package>/bytecode_modules/<module>.wasm`, where Sui writes `.mv` files.
Compile errors print located, as the Move compiler prints them, and exit 1.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from move.build import build_package, write_bytecode
from move.source import CompileError
from subnet.commands.options import add_output_option
from vocab.errors import SubnetError

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")

MANIFEST = """[package]
name = "{name}"
edition = "2024"

[dependencies]
# Sui and MoveStdlib are the subnet's own framework (0x2 and 0x1), implicit as in Sui 1.45+.

[addresses]
{name} = "0x0"
"""

MODULE = """/// Module: {name}
module {name}::{name};

// For Move coding conventions, see
// https://docs.sui.io/concepts/sui-move-concepts/conventions
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("move", help="create and build Sui Move packages (like `sui move`)")
    commands = parser.add_subparsers(dest="move_command", metavar="COMMAND")
    commands.required = True
    new = commands.add_parser("new", help="create a Move package folder NAME")
    new.add_argument("name", metavar="NAME")
    new.set_defaults(handler=_new)
    build = commands.add_parser("build", help="compile a package to build/<Package>/bytecode_modules/*.wasm")
    build.add_argument("path", nargs="?", type=Path, default=Path("."), metavar="PATH")
    add_output_option(build)
    build.set_defaults(handler=_build)


def _new(args: argparse.Namespace) -> int:
    name = args.name
    if not _NAME.match(name):
        raise SubnetError(
            f"'{name}' is not a valid package name: letters, digits and _, starting with a letter"
        )
    root = Path(name)
    if root.exists():
        raise SubnetError(f"'{root}' already exists")
    (root / "sources").mkdir(parents=True)
    (root / "Move.toml").write_text(MANIFEST.format(name=name))
    (root / "sources" / f"{name}.move").write_text(MODULE.format(name=name))
    print(f"Created Move package '{name}' in ./{name}")
    return 0


def _build(args: argparse.Namespace) -> int:
    root: Path = args.path
    try:
        built = build_package(root)
    except CompileError as exc:
        print(str(exc), file=sys.stderr)
        count = len(exc.diagnostics)
        raise SubnetError(
            f"failed to build package at '{root}': {count} error{'s' if count != 1 else ''}"
        ) from None
    written = write_bytecode(root, built)
    if args.output == "json":
        print(
            json.dumps(
                {
                    "package": built.name,
                    "modules": [
                        {"name": name, "path": str(path), "bytes": len(wasm)}
                        for (name, wasm), path in zip(built.modules, written)
                    ],
                },
                indent=2,
            )
        )
        return 0
    print("INCLUDING DEPENDENCY Sui")
    print("INCLUDING DEPENDENCY MoveStdlib")
    print(f"BUILDING {built.name}")
    for (name, wasm), path in zip(built.modules, written):
        print(f"  {name}: {path} ({len(wasm):,} bytes)")
    return 0
