"""`subnet new NAME`: scaffold a project, like `dfx new`."""

from __future__ import annotations

import argparse
from pathlib import Path

from client.project import scaffold


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("new", help="create a project with a Motoko backend canister")
    parser.add_argument("name")
    parser.set_defaults(handler=_new)


def _new(args: argparse.Namespace) -> int:
    root = scaffold(Path.cwd(), args.name)
    print(f"Created project {args.name} in {root}")
    print(f"  cd {args.name} && subnet deploy")
    return 0
