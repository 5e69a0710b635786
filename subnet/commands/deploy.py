"""`subnet deploy [NAME]`: create if needed, build, install or upgrade, like `dfx deploy`.

Every step is the command of the same name, for each canister of the project (or just NAME
and the canisters it depends on), dependencies first: `canister create` for all of them
(skipped when canister_ids.json already knows the canister), then for each `build` (which
tells the compiler the ids and Candid of its dependencies) and `canister install --mode
auto`, which installs into an empty canister and upgrades one that has code, with the
upgrade checks `canister install` makes.
The steps are ``client.deploy`` and ``client.build``; this module prints them.
"""

from __future__ import annotations

import argparse

import trio

from client.build import build_canister
from client.canister_ids import CanisterIds
from client.deploy import ensure_created, install_canister
from subnet.commands.build import find_project, print_built
from subnet.commands.canister import output
from subnet.commands.canister.actions import agent_for, stdin_ask
from subnet.commands.feedback import Feedback
from subnet.commands.install_options import add_install_options, install_options
from subnet.commands.options import add_identity_option


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "deploy", help="create, build and install (or upgrade) the project's canisters"
    )
    parser.add_argument("name", nargs="?", metavar="NAME", help="one canister (default: all of subnet.json)")
    add_install_options(parser)
    parser.add_argument("--network", default="local", help="network in canister_ids.json (default: local)")
    add_identity_option(parser)
    parser.set_defaults(handler=_deploy)


def _deploy(args: argparse.Namespace) -> int:
    options = install_options(args)
    options.check(single_canister=args.name is not None, command="deploy")
    project = find_project()
    for name in [args.name] if args.name else []:
        project.canister(name)  # an unknown name fails before anything is created
    # a canister's dependencies are deployed before it, as dfx does
    names = project.build_order([args.name] if args.name else sorted(project.canisters))
    ids = CanisterIds.in_directory()
    agent = agent_for(args)

    feedback = Feedback()
    ask = feedback.pausing(stdin_ask())

    async def run() -> None:
        # every canister is created first, so that each build knows its dependencies' ids
        canister_ids = {}
        for name in names:
            with feedback.step(f"Creating canister {name}..."):
                canister_id, created = await ensure_created(agent, ids, name, args.network)
            canister_ids[name] = canister_id
            print(output.created_line(name, args.network, canister_id, created))
        for name in names:
            canister_id = canister_ids[name]
            with feedback.step(f"Building canister {name}..."):
                built = build_canister(project, name, canister_ids.get)
            print_built(name, built)
            with feedback.step(f"Installing code for canister {name}, with canister ID {canister_id}"):
                installed = await install_canister(agent, name, canister_id, options, ask)
            print(output.installed_line(name, canister_id, installed))
            print(f"Deployed canister {name}: {canister_id}")

    trio.run(run)
    return 0
