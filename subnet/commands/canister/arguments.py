"""The subcommands of `subnet canister` and their options, as `dfx canister` has them.

Each subcommand's handler is in ``actions``; options shared with other commands
(``--identity``, ``--output``) come from ``subnet.commands.options``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from client.deploy import DEFAULT_CYCLES
from subnet.commands.canister import actions
from subnet.commands.install_options import add_install_options
from subnet.commands.options import add_identity_option, add_output_option, bounded
from vocab import management


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
    create.add_argument(
        "--controller",
        action="append",
        default=[],
        metavar="P",
        help="principal or identity name; repeatable",
    )
    create.add_argument("--with-cycles", type=int, default=DEFAULT_CYCLES, metavar="N")
    create.set_defaults(handler=actions.create)

    ident = commands.add_parser("id", help="print a canister's id")
    ident.add_argument("name", metavar="NAME")
    ident.add_argument("--network", default="local")
    ident.set_defaults(handler=actions.show_id)

    status = commands.add_parser("status", help="status, controllers, module hash, cycles")
    target(status)
    add_output_option(status)
    status.set_defaults(handler=actions.status)

    for command, help_text, method in (
        ("stop", "stop canisters", management.STOP),
        ("start", "start canisters", management.START),
        ("delete", "delete stopped canisters (their ids are never reused)", management.DELETE),
    ):
        sub = commands.add_parser(command, help=help_text)
        target(sub)
        sub.set_defaults(handler=actions.stop_start_delete, method=method)

    install = commands.add_parser("install", help="install, reinstall or upgrade canister code")
    target(install)
    add_install_options(install)
    install.add_argument(
        "--wasm", type=Path, metavar="FILE", help="the module (default: the project's built .wasm)"
    )
    install.add_argument(
        "--rehearse",
        action="store_true",
        help="with --mode upgrade: run the upgrade on a copy of a replica's certified state and "
        "report (compatibility, instructions against the limit, memory, a trap); change nothing",
    )
    install.add_argument(
        "--replicas-agree",
        type=bounded(int, "the number of replicas that must agree", 1),
        default=1,
        metavar="K",
        help="with --rehearse: ask K replicas and accept only a report they all give (default 1)",
    )
    add_output_option(install)
    install.set_defaults(handler=actions.install)

    call = commands.add_parser("call", help="call a canister method (update through consensus, or query)")
    call.add_argument("name", metavar="NAME")
    call.add_argument("method", metavar="METHOD")
    call.add_argument("argument", nargs="?", default=None, metavar="'(...)'", help="default: ()")
    call.add_argument(
        "--argument-file",
        metavar="FILE",
        help="read the argument from FILE ('-': standard input), as dfx does",
    )
    call.add_argument(
        "--type",
        choices=("idl", "raw"),
        default="idl",
        help="the argument is Candid text (idl, the default) or the message's bytes in hex (raw)",
    )
    kind = call.add_mutually_exclusive_group()
    kind.add_argument("--query", action="store_true", help="the fast path: one replica answers, signed")
    kind.add_argument(
        "--update",
        action="store_true",
        help="through consensus, certified (default unless the method is a query)",
    )
    call.add_argument(
        "--output",
        choices=("pp", "idl", "json", "raw"),
        default="pp",
        help="pp: dfx's default Candid text, idl: dfx's one-line form, json: dfx's (idl2json), or raw hex",
    )
    call.add_argument(
        "--candid",
        type=Path,
        metavar="FILE",
        help="the canister's .did (default: project or module metadata)",
    )
    call.add_argument(
        "--replicas-agree", type=int, default=1, metavar="K", help="queries: accept only K matching answers"
    )
    common(call)
    call.set_defaults(handler=actions.call)

    settings = commands.add_parser("update-settings", help="change a canister's controllers")
    settings.add_argument("name", metavar="NAME")
    common(settings)
    change = settings.add_mutually_exclusive_group(required=True)
    change.add_argument("--add-controller", action="append", metavar="P")
    change.add_argument("--remove-controller", action="append", metavar="P")
    change.add_argument("--set-controller", action="append", metavar="P")
    settings.set_defaults(handler=actions.update_settings)
    _register_info_logs_snapshot(commands, common)


def _register_info_logs_snapshot(
    commands: argparse._SubParsersAction, common: Callable[[argparse.ArgumentParser], None]
) -> None:
    """`canister info`, `canister logs` and `canister snapshot create|load|list|delete`."""
    info = commands.add_parser("info", help="controllers, module hash and the history of changes")
    info.add_argument("name", metavar="NAME")
    common(info)
    add_output_option(info)
    info.set_defaults(handler=actions.info)

    logs = commands.add_parser("logs", help="the canister's log (debug prints, traps); a query")
    logs.add_argument("name", metavar="NAME")
    common(logs)
    logs.set_defaults(handler=actions.logs)

    snapshot = commands.add_parser(
        "snapshot", help="take, load, list and delete snapshots of a canister's state"
    )
    snapshots = snapshot.add_subparsers(dest="snapshot_command", metavar="SUBCOMMAND")
    snapshots.required = True
    create = snapshots.add_parser("create", help="take a new snapshot; the canister must be stopped")
    create.add_argument("name", metavar="NAME")
    create.add_argument(
        "--replace", metavar="SNAPSHOT_ID", help="replace this snapshot (hex) instead of adding one"
    )
    load = snapshots.add_parser(
        "load", help="load a snapshot, overwriting the canister's state; the canister must be stopped"
    )
    load.add_argument("name", metavar="NAME")
    load.add_argument("snapshot", metavar="SNAPSHOT_ID")
    listing = snapshots.add_parser("list", help="list a canister's snapshots")
    listing.add_argument("name", metavar="NAME")
    add_output_option(listing)
    delete = snapshots.add_parser("delete", help="delete a snapshot")
    delete.add_argument("name", metavar="NAME")
    delete.add_argument("snapshot", metavar="SNAPSHOT_ID")
    for sub in (create, load, listing, delete):
        common(sub)
        sub.set_defaults(handler=actions.snapshot)
