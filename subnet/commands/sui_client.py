"""`subnet client ...`: Sui's client commands against the local subnet, shaped after `sui client`.

`publish`, `upgrade`, `call`, `transfer` and `execute-signed-tx` send a programmable transaction
through consensus and print its certified response; `object` and `objects` read the state
on the fast path; `active-address` prints the current identity's Sui address. Every
command takes `--output json`, which prints Sui's JSON shapes (a transaction:
`{digest, effects, objectChanges, events}`; an object: `{objectId, version, digest, type,
owner, content}`). A transaction that ran but failed (an abort, a Sui rule) prints its
response and exits 1, as `sui client` does; one refused before it ran prints Sui's name
for the refusal and exits 1.

`publish` writes `Published.toml` next to `Move.toml` (`[published.local]`: the package
id, original id, version and upgrade capability), as recent `sui` versions do; `upgrade`
reads the capability from it, checks the new build against the published package under
the capability's policy before sending (each problem named as Sui names it; exit 1), sends
authorize → `Upgrade` → commit, and records the new version there.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from functools import partial
from pathlib import Path
from typing import Any

import trio
from rich.console import Console

from client.identity import resolve
from client.network import LOCAL_NETWORK, network_agent
from client.sui import SuiClient
from move.build import build_package
from move.compat import SKIP_FLAG
from subnet.commands.feedback import Feedback, print_table
from subnet.commands.options import add_output_option, bounded
from vocab.errors import SubnetError
from vocab.sui.address import ObjectId, SuiAddress
from vocab.sui.signed import SignedTransaction
from vocab.sui.transaction import DEFAULT_GAS_BUDGET


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("client", help="Sui transactions and objects (like `sui client`)")
    commands = parser.add_subparsers(dest="client_command", metavar="COMMAND")
    commands.required = True

    address = commands.add_parser("active-address", help="the current identity's Sui address")
    add_output_option(address)
    address.set_defaults(handler=_active_address)

    publish = commands.add_parser("publish", help="build the package in PATH and publish it")
    publish.add_argument("path", nargs="?", type=Path, default=Path("."), metavar="PATH")
    _transaction_options(publish)
    publish.set_defaults(handler=_publish)

    upgrade = commands.add_parser("upgrade", help="build the package in PATH and upgrade it in place")
    upgrade.add_argument("path", nargs="?", type=Path, default=Path("."), metavar="PATH")
    upgrade.add_argument(
        "--upgrade-capability",
        type=_object_id,
        default=None,
        metavar="ID",
        help="the package's UpgradeCap (default: upgrade-capability in PATH/Published.toml)",
    )
    upgrade.add_argument(
        SKIP_FLAG,
        dest="skip_check",
        action="store_true",
        help="send without checking compatibility here first (the subnet still checks)",
    )
    _transaction_options(upgrade)
    upgrade.set_defaults(handler=_upgrade)

    call = commands.add_parser("call", help="call a Move function in a transaction")
    call.add_argument("--package", required=True, type=_object_id, metavar="ID")
    call.add_argument("--module", required=True, metavar="MODULE")
    call.add_argument("--function", required=True, metavar="FUNCTION")
    call.add_argument("--args", nargs="*", default=[], metavar="ARG")
    call.add_argument("--type-args", nargs="*", default=[], metavar="TYPE")
    _transaction_options(call)
    call.set_defaults(handler=_call)

    transfer = commands.add_parser("transfer", help="transfer an object to an address")
    transfer.add_argument("--object-id", required=True, type=_object_id, metavar="ID")
    transfer.add_argument("--to", required=True, type=_address, metavar="ADDRESS")
    _transaction_options(transfer)
    transfer.set_defaults(handler=_transfer)

    signed = commands.add_parser("execute-signed-tx", help="execute transaction bytes signed elsewhere")
    signed.add_argument("--tx-bytes", required=True, metavar="B64")
    signed.add_argument("--signatures", required=True, nargs="+", metavar="B64")
    _network_options(signed)
    add_output_option(signed)
    signed.set_defaults(handler=_execute_signed)

    obj = commands.add_parser("object", help="show an object")
    obj.add_argument("object_id", type=_object_id, metavar="ID")
    _agree_option(obj)
    _network_options(obj)
    add_output_option(obj)
    obj.set_defaults(handler=_object)

    objects = commands.add_parser("objects", help="list the objects an address owns")
    objects.add_argument("address", nargs="?", type=_address, default=None, metavar="ADDRESS")
    _agree_option(objects)
    _network_options(objects)
    add_output_option(objects)
    objects.set_defaults(handler=_objects)


def _agree_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--replicas-agree",
        type=bounded(int, "the number of replicas that must agree", 1),
        default=1,
        metavar="K",
        help="ask K replicas and accept only an answer they all give (default 1)",
    )


def _network_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--network", default=LOCAL_NETWORK, help="the subnet to talk to (only: local)")


def _transaction_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--gas-budget",
        type=bounded(int, "the gas budget", 1, 2**64 - 1),
        default=DEFAULT_GAS_BUDGET,
        metavar="N",
        help=f"fuel the transaction's Move calls may use (default {DEFAULT_GAS_BUDGET})",
    )
    _network_options(parser)
    add_output_option(parser)


def _object_id(text: str) -> ObjectId:
    try:
        return ObjectId.from_text(text)
    except (ValueError, SubnetError) as exc:
        raise argparse.ArgumentTypeError(f"not an object id: {text!r} ({exc})") from None


def _address(text: str) -> SuiAddress:
    try:
        return SuiAddress.from_text(text.removeprefix("@"))
    except (ValueError, SubnetError) as exc:
        raise argparse.ArgumentTypeError(f"not a Sui address: {text!r} ({exc})") from None


def _client(args: argparse.Namespace) -> SuiClient:
    agent = network_agent(args.network, getattr(args, "identity", None))
    assert agent.identity is not None
    return SuiClient(agent, agent.identity, budget=getattr(args, "gas_budget", DEFAULT_GAS_BUDGET))


# -- commands ----------------------------------------------------------------------------------


def _active_address(args: argparse.Namespace) -> int:
    address = resolve(getattr(args, "identity", None)).sui_address.to_text()
    print(json.dumps(address) if args.output == "json" else address)
    return 0


def _publish(args: argparse.Namespace) -> int:
    built = build_package(args.path)
    client = _client(args)
    with Feedback().step(f"Publishing {built.name}..."):
        response = trio.run(client.publish, built.module_bytes)
    if _succeeded(response):
        _write_published(args.path, response)
    return _print_transaction(response, args.output)


def _upgrade(args: argparse.Namespace) -> int:
    published = _published(args.path)
    cap = args.upgrade_capability
    if cap is None:
        if "upgrade-capability" not in published:
            raise SubnetError(
                f"no --upgrade-capability given and no upgrade-capability in {args.path / 'Published.toml'} "
                "[published.local] (written by `subnet client publish`)"
            )
        cap = _object_id(published["upgrade-capability"])
    built = build_package(args.path)
    client = _client(args)
    with Feedback().step(f"Upgrading {built.name}..."):
        response = trio.run(partial(client.upgrade, built.module_bytes, cap, check=not args.skip_check))
    if _succeeded(response):
        _write_published(args.path, response, cap=cap.to_text(), original=published.get("original-id"))
    return _print_transaction(response, args.output)


def _published(path: Path) -> dict[str, Any]:
    """``[published.local]`` of ``Published.toml`` in ``path`` (empty when there is none)."""
    file = path / "Published.toml"
    if not file.exists():
        return {}
    try:
        data = tomllib.loads(file.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise SubnetError(f"{file}: {exc}") from None
    local = data.get("published", {}).get("local", {})
    return local if isinstance(local, dict) else {}


def _call(args: argparse.Namespace) -> int:
    client = _client(args)
    response = trio.run(client.call, args.package, args.module, args.function, args.args, args.type_args)
    return _print_transaction(response, args.output)


def _transfer(args: argparse.Namespace) -> int:
    client = _client(args)
    return _print_transaction(trio.run(client.transfer, args.object_id, args.to), args.output)


def _execute_signed(args: argparse.Namespace) -> int:
    signed = SignedTransaction.from_base64(args.tx_bytes, args.signatures)
    client = _client(args)
    return _print_transaction(trio.run(client.execute, signed), args.output)


def _object(args: argparse.Namespace) -> int:
    found = trio.run(_client(args).object, args.object_id, args.replicas_agree)
    data = found.get("data")
    if data is None:
        error = found.get("error", {})
        raise SubnetError(f"object {args.object_id} {error.get('code', 'notExists')}: {json.dumps(error)}")
    if args.output == "json":
        print(json.dumps(data, indent=2))
        return 0
    rows = [
        ["objectId", data["objectId"]],
        ["version", str(data["version"])],
        ["digest", data["digest"]],
        ["objType", data.get("type", "package")],
        ["owner", _owner_text(data.get("owner"))],
    ]
    if "previousTransaction" in data:
        rows.append(["prevTx", data["previousTransaction"]])
    content = data.get("content", {})
    if content.get("fields"):
        rows.append(
            [
                "content",
                f"{content.get('dataType', '')} (hasPublicTransfer: {content.get('hasPublicTransfer')})",
            ]
        )
    for name, value in content.get("fields", {}).items():
        rows.append([f"  {name}", value if isinstance(value, str) else json.dumps(value)])
    if "modules" in content:
        rows.append(["modules", ", ".join(content["modules"])])
    print_table(["field", "value"], rows, _console())
    return 0


def _objects(args: argparse.Namespace) -> int:
    client = _client(args)
    owner = args.address or client.address
    found = trio.run(client.objects, owner, args.replicas_agree)
    if args.output == "json":
        print(json.dumps(found, indent=2))
        return 0
    rows = [[entry["objectId"], str(entry["version"]), entry["digest"], entry["type"]] for entry in found]
    print_table(["objectId", "version", "digest", "objectType"], rows, _console())
    return 0


# -- printing -----------------------------------------------------------------------------------


def _succeeded(response: dict[str, Any]) -> bool:
    return bool(response["effects"]["status"]["status"] == "success")


def _owner_text(owner: Any) -> str:
    if isinstance(owner, dict):
        ((kind, value),) = owner.items()
        if isinstance(value, dict):
            return f"{kind} ({', '.join(f'{k}: {v}' for k, v in value.items())})"
        return f"{kind} ({value})"
    return str(owner)


def _print_transaction(response: dict[str, Any], output: str) -> int:
    """The response as `sui client` shows it; exit status 1 for a failed transaction."""
    ok = _succeeded(response)
    if output == "json":
        print(json.dumps(response, indent=2))
        return 0 if ok else 1
    status = response["effects"]["status"]
    print(f"Transaction Digest: {response['digest']}")
    print(f"Status: {'Success' if ok else 'Failure: ' + status.get('error', '')}")
    print(f"Gas Used: {response['effects']['gasUsed']['computationCost']}")
    if "path" in response:  # which path it took: the fast path's certificates, or consensus
        print(f"Path: {response['path']} ({response['latencyMs']} ms)")
    _print_changes(response.get("objectChanges", []))
    events = response.get("events", [])
    if events:
        print("Events")
        print_table(
            ["type", "parsedJson"], [[e["type"], json.dumps(e["parsedJson"])] for e in events], _console()
        )
    if not ok:
        print(f"Error: transaction failed: {status.get('error', '')}", file=sys.stderr)
    return 0 if ok else 1


_CHANGE_SECTIONS = (
    ("created", "Created Objects"),
    ("mutated", "Mutated Objects"),
    ("deleted", "Deleted Objects"),
    ("wrapped", "Wrapped Objects"),
    ("published", "Published Objects"),
)


def _print_changes(changes: list[dict[str, Any]]) -> None:
    """Object changes in the `sui client` layout: a section per kind, a block per object."""
    if not changes:
        return
    print("Object Changes")
    for kind, title in _CHANGE_SECTIONS:
        of_kind = [change for change in changes if change["type"] == kind]
        if not of_kind:
            continue
        print(f"{title}:")
        for change in of_kind:
            print(" ┌──")
            if kind == "published":
                lines = [
                    ("PackageID", change["packageId"]),
                    ("Version", change["version"]),
                    ("Digest", change["digest"]),
                    ("Modules", ", ".join(change["modules"])),
                ]
            else:
                lines = [("ObjectID", change["objectId"]), ("Sender", change["sender"])]
                if "owner" in change:
                    lines.append(("Owner", _owner_text(change["owner"])))
                lines += [("ObjectType", change.get("objectType") or "?"), ("Version", change["version"])]
                if "digest" in change:
                    lines.append(("Digest", change["digest"]))
            for key, value in lines:
                print(f" │ {key}: {value}")
            print(" └──")


def _console() -> Console:
    """Tables as wide as their ids when the output is not a terminal (ids are 66 characters)."""
    return Console(soft_wrap=True, width=None if sys.stdout.isatty() else 400)


def _write_published(
    path: Path, response: dict[str, Any], *, cap: str | None = None, original: str | None = None
) -> None:
    """``Published.toml`` next to ``Move.toml``: where the package's newest version is, its
    original id, and its capability (a publish creates the cap; an upgrade keeps it)."""
    changes = response.get("objectChanges", [])
    package = next((c for c in changes if c["type"] == "published"), None)
    if cap is None:
        created = next(
            (
                c
                for c in changes
                if c["type"] == "created" and str(c.get("objectType", "")).endswith("::package::UpgradeCap")
            ),
            None,
        )
        cap = created["objectId"] if created is not None else None
    if package is None or cap is None:
        return
    (path / "Published.toml").write_text(
        "# Written by `subnet client publish` and `upgrade`; read by later upgrades.\n"
        "[published.local]\n"
        f'published-at = "{package["packageId"]}"\n'
        f'original-id = "{original or package["packageId"]}"\n'
        f"version = {package['version']}\n"
        f'upgrade-capability = "{cap}"\n'
    )
