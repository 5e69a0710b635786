"""`subnet build [NAME|--all]`: compile the project's canisters, like `dfx build`
(the work is ``client.build``): dependencies first, each knowing the ids (from
canister_ids.json) and Candid of the canisters it depends on."""

from __future__ import annotations

import argparse
import sys

from client.build import Built, build_canister
from client.canister_ids import CanisterIds
from client.project import Project
from subnet.commands.feedback import Feedback


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("build", help="compile the project's canisters")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("name", nargs="?", metavar="NAME")
    group.add_argument("--all", action="store_true", help="every canister (the default)")
    parser.add_argument(
        "--network", default="local", help="network whose canister ids dependencies use (default: local)"
    )
    parser.set_defaults(handler=_build)


def find_project() -> Project:
    """The project around the working directory; says so on stderr when a ``dfx.json``
    beside its ``subnet.json`` is not the file read."""
    project = Project.find()
    notice = project.notice()
    if notice is not None:
        print(notice, file=sys.stderr)
    return project


def _build(args: argparse.Namespace) -> int:
    project = find_project()
    names = project.build_order([args.name] if args.name else sorted(project.canisters))
    ids = CanisterIds.in_directory()
    feedback = Feedback()
    for name in names:
        with feedback.step(f"Building canister {name}..."):
            built = build_canister(project, name, lambda dependency: ids.get(dependency, args.network))
        print_built(name, built)
    return 0


def print_built(name: str, built: Built) -> None:
    if built.compiled_bytes is None:
        print(f"{name}: custom canister, {built.wasm}")
    else:
        print(f"{name}: built {built.wasm} ({built.compiled_bytes:,} bytes)")
