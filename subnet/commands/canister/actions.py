"""What each `subnet canister` subcommand does with its arguments.

Canister names resolve through `canister_ids.json` in the current directory (a textual
canister id works too); `--all` means every canister of the project's `subnet.json`, or
of `canister_ids.json` when there is no project. Every operation is a signed request that
goes through consensus (the client's workflow in ``client.deploy``, ``client.manage`` and
``client.call``); a result counts only with a certificate from a quorum of the committee,
checked by the agent. This module resolves what the user named, runs that workflow and
prints through ``output``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import trio

from client import manage
from client.agent import Agent
from client.call import call_method
from client.canister_ids import CanisterIds
from client.deploy import Ask, InstallOptions, ensure_created, install_canister
from client.identity import IdentityStore
from client.network import network_agent
from client.project import Project, ProjectError
from client.rehearse import CanisterRehearsal, rehearse_upgrade
from subnet.commands.canister import output
from subnet.commands.feedback import Feedback
from subnet.commands.install_options import install_options
from vocab import management
from vocab.errors import PrincipalError, SubnetError
from vocab.principal import Principal

MAX_CHANGES = 20
"""``canister_info`` returns at most this many recent changes, as on the IC."""


# -- what the user named -----------------------------------------------------------------------


def agent_for(args: argparse.Namespace) -> Agent:
    """An agent for ``--network``, signing as ``--identity``."""
    return network_agent(args.network, getattr(args, "identity", None))


def stdin_ask() -> Ask:
    """Asks on stderr and reads the answer line from standard input, as dfx does: typed at
    a terminal or piped (``echo yes | subnet ...``); at the end of input the answer is
    empty, which declines, so a script with nothing to say never waits nor goes on."""

    def ask(prompt: str) -> str:
        print(prompt, end="", file=sys.stderr, flush=True)
        try:
            return sys.stdin.readline() if sys.stdin is not None else ""
        except (OSError, ValueError):
            return ""

    return ask


def target_names(args: argparse.Namespace, ids: CanisterIds, *, creating: bool = False) -> list[str]:
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


def principal_or_identity(text: str) -> Principal:
    try:
        return Principal.from_text(text)
    except PrincipalError:
        pass
    store = IdentityStore()
    if store.exists(text):
        return store.load(text).principal
    raise SubnetError(f"{text!r} is neither a principal nor an identity name")


def snapshot_id(text: str) -> bytes:
    try:
        snapshot = bytes.fromhex(text)
    except ValueError:
        snapshot = b""
    if not snapshot:
        raise SubnetError(
            f"{text!r} is not a snapshot id: expected the hexadecimal id `canister snapshot list` prints"
        )
    return snapshot


def for_each(
    args: argparse.Namespace,
    ids: CanisterIds,
    names: list[str],
    action: Callable[[Agent, str, Principal], Awaitable[None]],
) -> int:
    """Run ``action`` for each named canister in turn, with one agent."""
    agent = agent_for(args)

    async def run() -> None:
        for name in names:
            await action(agent, name, ids.resolve(name, args.network))

    trio.run(run)
    return 0


# -- the subcommands ---------------------------------------------------------------------------


def create(args: argparse.Namespace) -> int:
    ids = CanisterIds.in_directory()
    names = target_names(args, ids, creating=True)
    controllers = tuple(principal_or_identity(c) for c in args.controller) or None
    if args.with_cycles < 0:
        raise SubnetError("--with-cycles must not be negative")
    agent = agent_for(args)

    async def run() -> None:
        for name in names:
            canister_id, created = await ensure_created(
                agent, ids, name, args.network, cycles=args.with_cycles, controllers=controllers
            )
            print(output.created_line(name, args.network, canister_id, created))

    trio.run(run)
    return 0


def show_id(args: argparse.Namespace) -> int:
    print(CanisterIds.in_directory().resolve(args.name, args.network))
    return 0


def status(args: argparse.Namespace) -> int:
    ids = CanisterIds.in_directory()
    records: list[dict[str, Any]] = []

    async def one(agent: Agent, name: str, canister_id: Principal) -> None:
        record = output.status_record(name, canister_id, await manage.canister_status(agent, canister_id))
        records.append(record)
        if args.output == "text":
            print("\n".join(output.status_lines(record)))

    for_each(args, ids, target_names(args, ids), one)
    if args.output == "json":
        print(output.status_json(records if args.all else records[0]))
    return 0


def stop_start_delete(args: argparse.Namespace) -> int:
    ids = CanisterIds.in_directory()
    verbs = {management.STOP: "Stopping", management.START: "Starting", management.DELETE: "Deleting"}

    async def one(agent: Agent, name: str, canister_id: Principal) -> None:
        print(f"{verbs[args.method]} code for canister {name}, with canister_id {canister_id}")
        await manage.canister_operation(agent, args.method, canister_id)
        if args.method == management.DELETE and ids.get(name, args.network) is not None:
            ids.remove(name, args.network)

    return for_each(args, ids, target_names(args, ids), one)


def update_settings(args: argparse.Namespace) -> int:
    ids = CanisterIds.in_directory()
    canister_id = ids.resolve(args.name, args.network)
    agent = agent_for(args)

    async def run() -> tuple[Principal, ...]:
        if args.set_controller:
            given = tuple(principal_or_identity(c) for c in args.set_controller)
            return await manage.change_controllers(agent, canister_id, set_to=given, name=args.name)
        add = tuple(principal_or_identity(c) for c in args.add_controller or ())
        remove = tuple(principal_or_identity(c) for c in args.remove_controller or ())
        return await manage.change_controllers(agent, canister_id, add=add, remove=remove, name=args.name)

    controllers = trio.run(run)
    print(
        f"Updated settings of {args.name}: controllers {' '.join(c.to_text() for c in controllers) or '(none)'}"
    )
    return 0


def install(args: argparse.Namespace) -> int:
    options = install_options(args, args.wasm)
    options.check(single_canister=not args.all)
    ids = CanisterIds.in_directory()
    names = target_names(args, ids)
    if args.wasm is not None and len(names) != 1:
        raise SubnetError("--wasm needs exactly one canister")
    agent = agent_for(args)

    if args.rehearse:
        return _rehearse(args, agent, ids, names, options)
    if args.output != "text" or args.replicas_agree != 1:
        raise SubnetError("--output and --replicas-agree go with --rehearse")
    feedback = Feedback()
    ask = feedback.pausing(stdin_ask())

    async def run() -> None:
        for name in names:
            canister_id = ids.resolve(name, args.network)
            with feedback.step(f"Installing code for canister {name}, with canister ID {canister_id}"):
                installed = await install_canister(agent, name, canister_id, options, ask)
            print(output.installed_line(name, canister_id, installed))

    trio.run(run)
    return 0


def _rehearse(
    args: argparse.Namespace, agent: Agent, ids: CanisterIds, names: list[str], options: InstallOptions
) -> int:
    """`install --mode upgrade --rehearse`: exit 1 when a real upgrade would fail."""
    if args.mode != "upgrade":
        raise SubnetError("--rehearse rehearses an upgrade: pass --mode upgrade")
    feedback = Feedback()

    async def run() -> list[CanisterRehearsal]:
        done = []
        for name in names:
            canister_id = ids.resolve(name, args.network)
            with feedback.step(f"Rehearsing the upgrade of canister {name}, with canister ID {canister_id}"):
                done.append(await rehearse_upgrade(agent, name, canister_id, options, args.replicas_agree))
        return done

    rehearsals = trio.run(run)
    if args.output == "json":
        shown: Any = [r.to_json() for r in rehearsals]
        print(json.dumps(shown[0] if len(shown) == 1 else shown, indent=2))
    else:
        print("\n\n".join(output.rehearsal_text(r) for r in rehearsals))
    failed = [r for r in rehearsals if r.failure() is not None]
    for rehearsal in failed:
        print(f"Error: the upgrade of {rehearsal.name} would fail: {rehearsal.failure()}", file=sys.stderr)
    return 1 if failed else 0


def call_argument(args: argparse.Namespace) -> str | bytes:
    """The argument as dfx takes it: the positional text or ``--argument-file`` (``-`` is
    standard input), Candid text (``--type idl``) or the message's bytes in hex (``raw``)."""
    if args.argument_file is not None:
        if args.argument is not None:
            raise SubnetError("give the argument or --argument-file, not both")
        try:
            if args.argument_file == "-":
                text = sys.stdin.read()
            else:
                with open(args.argument_file, encoding="utf-8") as file:
                    text = file.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise SubnetError(f"cannot read the argument from {args.argument_file}: {exc}") from exc
    else:
        text = "()" if args.argument is None else args.argument
    if args.type == "idl":
        return text
    try:
        return bytes.fromhex(text.strip())
    except ValueError:
        raise SubnetError(f"--type raw takes the message in hex, not {text.strip()[:40]!r}") from None


def call(args: argparse.Namespace) -> int:
    argument = call_argument(args)
    ids = CanisterIds.in_directory()
    canister_id = ids.resolve(args.name, args.network)
    agent = agent_for(args)
    outcome = trio.run(
        partial(
            call_method,
            agent,
            args.name,
            canister_id,
            args.method,
            argument,
            candid_file=args.candid,
            query=args.query,
            update=args.update,
            replicas_agree=args.replicas_agree,
        )
    )
    print(output.reply_text(outcome.reply, outcome.result_types, args.output))
    return 0


def info(args: argparse.Namespace) -> int:
    """Controllers, module hash and the history of changes from ``canister_info``."""
    canister_id = CanisterIds.in_directory().resolve(args.name, args.network)
    agent = agent_for(args)
    found = trio.run(manage.canister_info, agent, canister_id, MAX_CHANGES)
    if args.output == "json":
        print(output.info_json(args.name, canister_id, found))
    else:
        print("\n".join(output.info_lines(found)))
    return 0


def logs(args: argparse.Namespace) -> int:
    """Like `dfx canister logs`: one line per record, oldest first. A query on the fast
    path; who may read follows the canister's log_visibility."""
    canister_id = CanisterIds.in_directory().resolve(args.name, args.network)
    agent = agent_for(args)
    for record in trio.run(manage.canister_logs, agent, canister_id):
        print(output.log_line(record))
    return 0


def snapshot(args: argparse.Namespace) -> int:
    """`canister snapshot create|load|list|delete`, with dfx's wording. Like dfx, create and
    load refuse a canister that is not stopped (a snapshot of a running canister may catch
    it between messages that belong together)."""
    canister_id = CanisterIds.in_directory().resolve(args.name, args.network)
    command = args.snapshot_command
    given = getattr(args, "snapshot", None) or getattr(args, "replace", None)
    chosen = None if given is None else snapshot_id(given)
    agent = agent_for(args)
    name = args.name

    async def run() -> None:
        if command in ("create", "load"):
            current = await manage.canister_status(agent, canister_id)
            phrasing = "taken of" if command == "create" else "applied to"
            if current.status == "running":
                raise SubnetError(
                    f"Canister {name} is running and snapshots should not be {phrasing} running canisters. "
                    "Run `subnet canister stop` first"
                )
            if current.status == "stopping":
                raise SubnetError(
                    f"Canister {name} is stopping but is not yet stopped. Wait a few seconds and try again"
                )
        if command == "create":
            taken = await manage.take_snapshot(agent, canister_id, chosen)
            print(f"Created a new snapshot of canister {name}. Snapshot ID: {taken.id.hex()}")
        elif command == "load":
            assert chosen is not None
            await manage.load_snapshot(agent, canister_id, chosen)
            print(f"Loaded snapshot {chosen.hex()} in canister {name}")
        elif command == "delete":
            assert chosen is not None
            await manage.delete_snapshot(agent, canister_id, chosen)
            print(f"Deleted snapshot {chosen.hex()} from canister {name}")
        else:
            found = await manage.list_snapshots(agent, canister_id)
            if args.output == "json":
                print(output.snapshots_json(found))
            else:
                print("\n".join(output.snapshot_lines(name, found)))

    trio.run(run)
    return 0
