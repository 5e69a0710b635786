"""`subnet identity ...`: named identities, shaped like `dfx identity`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from client.identity import IdentityStore, resolve
from subnet.commands.options import add_identity_option, add_output_option
from vocab.errors import IdentityError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("identity", help="manage identities (Ed25519 keys)")
    commands = parser.add_subparsers(dest="identity_command", metavar="SUBCOMMAND")
    commands.required = True

    new = commands.add_parser("new", help="create a new identity")
    new.add_argument("name")
    new.add_argument("--force", action="store_true", help="replace an existing identity of that name")
    new.set_defaults(handler=_new)

    use = commands.add_parser("use", help="select the current identity")
    use.add_argument("name")
    use.set_defaults(handler=_use)

    listing = commands.add_parser("list", help="list identities; the current one is marked *")
    add_output_option(listing)
    listing.set_defaults(handler=_list)

    for command, help_text, handler in (
        ("whoami", "print the current identity's name", _whoami),
        ("get-principal", "print the identity's IC principal", _principal),
        ("get-address", "print the identity's Sui address (BLAKE2b-256 of 0x00 . public key)", _address),
    ):
        sub = commands.add_parser(command, help=help_text)
        add_identity_option(sub)
        sub.set_defaults(handler=handler)

    imported = commands.add_parser("import", help="import an Ed25519 PKCS#8 PEM file")
    imported.add_argument("name")
    imported.add_argument("pem_file", metavar="PEM_FILE")
    imported.add_argument("--force", action="store_true", help="replace an existing identity of that name")
    imported.set_defaults(handler=_import)

    export = commands.add_parser("export", help="print an identity's PEM")
    export.add_argument("name")
    export.set_defaults(handler=_export)

    remove = commands.add_parser("remove", help="delete an identity (not the current one)")
    remove.add_argument("name")
    remove.set_defaults(handler=_remove)


def _new(args: argparse.Namespace) -> int:
    identity = IdentityStore().new(args.name, force=args.force)
    print(f'Created identity: "{identity.name}".', file=sys.stderr)
    print(identity.principal)
    return 0


def _use(args: argparse.Namespace) -> int:
    IdentityStore().use(args.name)
    print(f'Using identity: "{args.name}".', file=sys.stderr)
    return 0


def _list(args: argparse.Namespace) -> int:
    store = IdentityStore()
    current = store.current().name
    names = store.names()
    if args.output == "json":
        print(json.dumps({"current": current, "identities": names}))
        return 0
    for name in names:
        print(f"{name} *" if name == current else name)
    return 0


def _whoami(args: argparse.Namespace) -> int:
    print(resolve(args.identity).name)
    return 0


def _principal(args: argparse.Namespace) -> int:
    print(resolve(args.identity).principal)
    return 0


def _address(args: argparse.Namespace) -> int:
    print(resolve(args.identity).sui_address)
    return 0


def _import(args: argparse.Namespace) -> int:
    path = Path(args.pem_file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise IdentityError(f"cannot read {path}: {exc.strerror}") from exc
    identity = IdentityStore().import_pem(args.name, data, str(path), force=args.force)
    print(f'Imported identity: "{identity.name}".', file=sys.stderr)
    print(identity.principal)
    return 0


def _export(args: argparse.Namespace) -> int:
    sys.stdout.write(IdentityStore().load(args.name).to_pem().decode("ascii"))
    return 0


def _remove(args: argparse.Namespace) -> int:
    IdentityStore().remove(args.name)
    print(f'Removed identity "{args.name}".', file=sys.stderr)
    return 0
