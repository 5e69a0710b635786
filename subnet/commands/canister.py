"""`subnet canister ...`: manage canisters on the running subnet, shaped like `dfx canister`.

Canister names resolve through `canister_ids.json` in the current directory (a textual
canister id works too); `--all` means every canister of the project's `subnet.json`, or
of `canister_ids.json` when there is no project. Every operation is a signed request that
goes through consensus; a result counts only with a certificate from a quorum of the
committee, checked here.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable

import trio

from client.agent import Agent
from client.canister_ids import CanisterIds
from client.identity import IdentityStore, resolve
from client.project import Project, ProjectError
from subnet import management
from subnet.cli_options import add_identity_option, add_output_option
from subnet.commands.local import endpoints, load_genesis
from subnet.errors import PrincipalError, SubnetError
from subnet.principal import Principal

DEFAULT_CYCLES = 100_000_000_000_000
"""What `dfx canister create` gives a canister on a local replica."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("canister", help="create and manage canisters")
    commands = parser.add_subparsers(dest="canister_command", metavar="SUBCOMMAND")
    commands.required = True

    def target(sub: argparse.ArgumentParser) -> None:
        group = sub.add_mutually_exclusive_group(required=True)
        group.add_argument("name", nargs="?", metavar="NAME", help="canister name or id")
        group.add_argument("--all", action="store_true", help="every canister of the project")
        common(sub)

    def common(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--network", default="local", help="network in canister_ids.json (default: local)")
        add_identity_option(sub)

    create = commands.add_parser("create", help="create empty canisters")
    target(create)
    create.add_argument("--controller", action="append", default=[], metavar="P", help="principal or identity name; repeatable")
    create.add_argument("--with-cycles", type=int, default=DEFAULT_CYCLES, metavar="N")
    create.set_defaults(handler=_create)

    ident = commands.add_parser("id", help="print a canister's id")
    ident.add_argument("name", metavar="NAME")
    ident.add_argument("--network", default="local")
    ident.set_defaults(handler=_id)

    status = commands.add_parser("status", help="status, controllers, module hash, cycles")
    target(status)
    add_output_option(status)
    status.set_defaults(handler=_status)

    for command, help_text, method in (
        ("stop", "stop canisters", management.STOP),
        ("start", "start canisters", management.START),
        ("delete", "delete stopped canisters (their ids are never reused)", management.DELETE),
    ):
        sub = commands.add_parser(command, help=help_text)
        target(sub)
        sub.set_defaults(handler=_simple, method=method)

    settings = commands.add_parser("update-settings", help="change a canister's controllers")
    settings.add_argument("name", metavar="NAME")
    common(settings)
    change = settings.add_mutually_exclusive_group(required=True)
    change.add_argument("--add-controller", action="append", metavar="P")
    change.add_argument("--remove-controller", action="append", metavar="P")
    change.add_argument("--set-controller", action="append", metavar="P")
    settings.set_defaults(handler=_update_settings)


# -- helpers ----------------------------------------------------------------------------------


def _agent(args: argparse.Namespace) -> Agent:
    if args.network != "local":
        raise SubnetError(f"unknown network {args.network!r}: only the local subnet is supported")
    genesis = load_genesis()
    return Agent(endpoints(genesis), genesis.committee, resolve(getattr(args, "identity", None)))


def _names(args: argparse.Namespace, ids: CanisterIds, *, creating: bool = False) -> list[str]:
    if not args.all:
        return [args.name]
    try:
        return sorted(Project.find().canisters)
    except ProjectError:
        if creating:
            raise
    names = ids.names(args.network)
    if not names:
        raise SubnetError(f"no canisters on network {args.network!r} in {ids.path}")
    return names


def _principal_or_identity(text: str) -> Principal:
    try:
        return Principal.from_text(text)
    except PrincipalError:
        pass
    store = IdentityStore()
    if store.exists(text):
        return store.load(text).principal
    raise SubnetError(f"{text!r} is neither a principal nor an identity name")


async def _management(agent: Agent, method: str, arg: bytes) -> bytes:
    result = await agent.call(Principal.management(), method, arg)
    return result.raise_if_rejected()


def _each(args: argparse.Namespace, ids: CanisterIds, names: list[str], action: Callable[[Agent, str, Principal], object]) -> int:
    agent = _agent(args)

    async def run() -> None:
        for name in names:
            await action(agent, name, ids.resolve(name, args.network))  # type: ignore[misc]

    trio.run(run)
    return 0


# -- commands ----------------------------------------------------------------------------------


def _create(args: argparse.Namespace) -> int:
    ids = CanisterIds.in_directory()
    names = _names(args, ids, creating=True)
    controllers = tuple(_principal_or_identity(c) for c in args.controller) or None
    if args.with_cycles < 0:
        raise SubnetError("--with-cycles must not be negative")
    agent = _agent(args)

    async def run() -> None:
        for name in names:
            existing = ids.get(name, args.network)
            if existing is not None:
                print(f'{name} canister was already created on network "{args.network}" and has canister id: {existing}')
                continue
            settings = management.Settings(controllers=controllers) if controllers else None
            reply = await _management(agent, management.CREATE, management.encode_create_args(args.with_cycles, settings))
            canister_id = management.decode_create_reply(reply)
            ids.set(name, args.network, canister_id)
            print(f'{name} canister created on network "{args.network}" with canister id: {canister_id}')

    trio.run(run)
    return 0


def _id(args: argparse.Namespace) -> int:
    print(CanisterIds.in_directory().resolve(args.name, args.network))
    return 0


def _status(args: argparse.Namespace) -> int:
    ids = CanisterIds.in_directory()
    records: list[dict[str, object]] = []

    async def one(agent: Agent, name: str, canister_id: Principal) -> None:
        reply = await _management(agent, management.STATUS, management.encode_canister_id_args(canister_id))
        status = management.decode_status_reply(reply)
        record = {
            "name": name,
            "canister_id": canister_id.to_text(),
            "status": status.status,
            "controllers": [c.to_text() for c in status.controllers],
            "module_hash": None if status.module_hash is None else "0x" + status.module_hash.hex(),
            "memory_size": status.memory_size,
            "cycles": status.cycles,
        }
        records.append(record)
        if args.output == "text":
            print(f"Canister status call result for {name}.")
            print(f"Status: {status.status.capitalize()}")
            print(f"Controllers: {' '.join(record['controllers'])}")  # type: ignore[arg-type]
            print(f"Module hash: {record['module_hash'] or 'None'}")
            print(f"Memory Size: {status.memory_size} Bytes")
            print(f"Balance: {status.cycles:_} Cycles")

    _each(args, ids, _names(args, ids), one)
    if args.output == "json":
        print(json.dumps(records if args.all else records[0], indent=2))
    return 0


def _simple(args: argparse.Namespace) -> int:
    ids = CanisterIds.in_directory()
    verbs = {management.STOP: "Stopping", management.START: "Starting", management.DELETE: "Deleting"}

    async def one(agent: Agent, name: str, canister_id: Principal) -> None:
        print(f"{verbs[args.method]} code for canister {name}, with canister_id {canister_id}")
        await _management(agent, args.method, management.encode_canister_id_args(canister_id))
        if args.method == management.DELETE and ids.get(name, args.network) is not None:
            ids.remove(name, args.network)

    return _each(args, ids, _names(args, ids), one)


def _update_settings(args: argparse.Namespace) -> int:
    ids = CanisterIds.in_directory()
    canister_id = ids.resolve(args.name, args.network)
    agent = _agent(args)

    async def run() -> None:
        if args.set_controller:
            controllers = tuple(_principal_or_identity(c) for c in args.set_controller)
        else:
            reply = await _management(agent, management.STATUS, management.encode_canister_id_args(canister_id))
            current = list(management.decode_status_reply(reply).controllers)
            if args.add_controller:
                for text in args.add_controller:
                    principal = _principal_or_identity(text)
                    if principal not in current:
                        current.append(principal)
            else:
                for text in args.remove_controller:
                    principal = _principal_or_identity(text)
                    if principal not in current:
                        raise SubnetError(f"{principal} is not a controller of {args.name}")
                    current.remove(principal)
            controllers = tuple(current)
        arg = management.encode_update_settings_args(canister_id, management.Settings(controllers=controllers))
        await _management(agent, management.UPDATE_SETTINGS, arg)
        print(f"Updated settings of {args.name}: controllers {' '.join(c.to_text() for c in controllers) or '(none)'}")

    trio.run(run)
    return 0
