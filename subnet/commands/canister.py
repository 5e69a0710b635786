"""`subnet canister ...`: manage canisters on the running subnet, shaped like `dfx canister`.

Canister names resolve through `canister_ids.json` in the current directory (a textual
canister id works too); `--all` means every canister of the project's `subnet.json`, or
of `canister_ids.json` when there is no project. Every operation is a signed request that
goes through consensus; a result counts only with a certificate from a quorum of the
committee, checked here.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import trio

from client.agent import Agent
from client.canister_ids import CanisterIds
from client.identity import IdentityStore, resolve
from client.project import Project, ProjectError
from subnet import candid, management
from subnet.cli_options import add_identity_option, add_output_option
from subnet.commands.local import endpoints, load_genesis
from subnet.errors import PrincipalError, RejectCode, RejectError, SubnetError
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

    install = commands.add_parser("install", help="install, reinstall or upgrade canister code")
    target(install)
    install.add_argument("--mode", choices=("install", "reinstall", "upgrade", "auto"), default="auto",
                         help="auto: install if the canister is empty, else upgrade (default)")
    install.add_argument("--argument", default="()", metavar="'(...)'", help="init/post_upgrade argument, Candid text")
    install.add_argument("--wasm", type=Path, metavar="FILE", help="the module (default: the project's built .wasm)")
    install.add_argument("--skip-pre-upgrade", action="store_true")
    install.add_argument("--wasm-memory-persistence", choices=("keep", "replace"),
                         help="default with upgrade: keep for modules with enhanced orthogonal persistence")
    install.add_argument("--yes", "-y", action="store_true", help="do not ask before a reinstall wipes state")
    install.set_defaults(handler=_install)

    call = commands.add_parser("call", help="call a canister method (update through consensus, or query)")
    call.add_argument("name", metavar="NAME")
    call.add_argument("method", metavar="METHOD")
    call.add_argument("argument", nargs="?", default="()", metavar="'(...)'")
    kind = call.add_mutually_exclusive_group()
    kind.add_argument("--query", action="store_true", help="the fast path: one replica answers, signed")
    kind.add_argument("--update", action="store_true", help="through consensus, certified (default unless the method is a query)")
    call.add_argument("--output", choices=("idl", "json", "raw"), default="idl")
    call.add_argument("--candid", type=Path, metavar="FILE", help="the canister's .did (default: project or module metadata)")
    call.add_argument("--replicas-agree", type=int, default=1, metavar="K", help="queries: accept only K matching answers")
    common(call)
    call.set_defaults(handler=_call)

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


async def create_canister(
    agent: Agent, ids: CanisterIds, name: str, network: str, *,
    cycles: int = DEFAULT_CYCLES, controllers: tuple[Principal, ...] | None = None,
) -> Principal:
    """Create ``name`` unless canister_ids.json already has it; returns its id."""
    existing = ids.get(name, network)
    if existing is not None:
        print(f'{name} canister was already created on network "{network}" and has canister id: {existing}')
        return existing
    settings = management.Settings(controllers=controllers) if controllers else None
    reply = await _management(agent, management.CREATE, management.encode_create_args(cycles, settings))
    canister_id = management.decode_create_reply(reply)
    ids.set(name, network, canister_id)
    print(f'{name} canister created on network "{network}" with canister id: {canister_id}')
    return canister_id


def _create(args: argparse.Namespace) -> int:
    ids = CanisterIds.in_directory()
    names = _names(args, ids, creating=True)
    controllers = tuple(_principal_or_identity(c) for c in args.controller) or None
    if args.with_cycles < 0:
        raise SubnetError("--with-cycles must not be negative")
    agent = _agent(args)

    async def run() -> None:
        for name in names:
            await create_canister(agent, ids, name, args.network, cycles=args.with_cycles, controllers=controllers)

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


# -- code --------------------------------------------------------------------------------------

CHUNK_BYTES = 1024 * 1024
"""Modules above this go up with upload_chunk / install_chunked_code (ingress is ~2 MiB)."""


def _module_for(name: str, wasm: Path | None) -> bytes:
    if wasm is None:
        try:
            project = Project.find()
            config = project.canister(name)
        except ProjectError as exc:
            raise SubnetError(f"{exc}; pass --wasm FILE") from None
        wasm = config.wasm if config.type == "custom" else project.output_dir(name) / f"{name}.wasm"
        assert wasm is not None
        if not wasm.is_file():
            raise SubnetError(f"{wasm} does not exist: run `subnet build {name}` first")
    try:
        return wasm.read_bytes()
    except OSError as exc:
        raise SubnetError(f"cannot read {wasm}: {exc}") from exc


def _metadata(module: bytes, name: str) -> bytes | None:
    """An ``icp:public``/``icp:private`` custom section of a module, such as candid:service."""
    from node.execution.validation import decode_module_bytes
    from node.execution.wasm_binary import WasmFormatError, parse_module

    try:
        parsed = parse_module(decode_module_bytes(module))
    except (WasmFormatError, SubnetError, ValueError):
        return None
    for section in parsed.custom_sections:
        if section.name in (f"icp:public {name}", f"icp:private {name}"):
            return section.data
    return None


def _is_eop(module: bytes) -> bool:
    return _metadata(module, "enhanced-orthogonal-persistence") is not None


def _service_for(name: str, explicit: Path | None, module: bytes | None = None) -> candid.ServiceDescription | None:
    """The canister's Candid: --candid, else the project's .did, else the module's metadata."""
    if explicit is not None:
        return candid.load_did(str(explicit))
    try:
        project = Project.find()
        config = project.canister(name)
    except ProjectError:
        config = None
    if config is not None:
        did = config.candid if config.type == "custom" else project.output_dir(name) / f"{name}.did"
        if did is not None and did.is_file():
            return candid.load_did(str(did))
        if module is None and config.type == "custom" and config.wasm is not None and config.wasm.is_file():
            module = config.wasm.read_bytes()
        elif module is None:
            built = project.output_dir(name) / f"{name}.wasm"
            module = built.read_bytes() if built.is_file() else None
    if module is not None:
        text = _metadata(module, "candid:service")
        if text is not None:
            return candid.parse_did(text.decode("utf-8", "replace"))
    return None


async def _install_one(agent: Agent, canister_id: Principal, mode: management.Mode, module: bytes, arg: bytes) -> None:
    if len(module) <= CHUNK_BYTES:
        await _management(agent, management.INSTALL_CODE, management.encode_install_code_args(mode, canister_id, module, arg))
        return
    # Each chunk travels once; the install then names them by hash.
    hashes = []
    for start in range(0, len(module), CHUNK_BYTES):
        reply = await _management(agent, management.UPLOAD_CHUNK, management.encode_upload_chunk_args(canister_id, module[start : start + CHUNK_BYTES]))
        hashes.append(management.decode_chunk_hash_reply(reply))
    arg_bytes = management.encode_install_chunked_code_args(mode, canister_id, hashes, hashlib.sha256(module).digest(), arg)
    await _management(agent, management.INSTALL_CHUNKED_CODE, arg_bytes)
    await _management(agent, management.CLEAR_CHUNK_STORE, management.encode_canister_id_args(canister_id))


@dataclass(frozen=True)
class InstallOptions:
    """What `canister install` and `deploy` were asked for, per canister."""

    mode: str = "auto"
    argument: str = "()"
    wasm: Path | None = None
    skip_pre_upgrade: bool = False
    wasm_memory_persistence: str | None = None
    yes: bool = False


async def install_canister(agent: Agent, name: str, canister_id: Principal, options: InstallOptions) -> str:
    """Install, reinstall or upgrade one canister; returns the mode that ran.

    ``auto`` asks the subnet whether the canister has code. A reinstall wipes state, so it
    needs ``yes`` or a "y" typed at a terminal.
    """
    module = _module_for(name, options.wasm)
    service = _service_for(name, None, module)
    init_types = list(service.init_args) if service is not None and service.init_args is not None else None
    arg = candid.encode_text(options.argument, init_types)
    mode_name = options.mode
    if mode_name == "auto":
        status = management.decode_status_reply(
            await _management(agent, management.STATUS, management.encode_canister_id_args(canister_id))
        )
        mode_name = "install" if status.module_hash is None else "upgrade"
    if mode_name == "reinstall" and not options.yes:
        if not sys.stdin.isatty():
            raise SubnetError(f"reinstalling {name} wipes its state: pass --yes to confirm")
        answer = input(f"Reinstalling {name} wipes its heap and stable memory. Continue? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            raise SubnetError("reinstall cancelled")
    if mode_name == "upgrade":
        persistence = options.wasm_memory_persistence or ("keep" if _is_eop(module) else None)
        mode = management.Mode("upgrade", True if options.skip_pre_upgrade else None, persistence)
    else:
        if options.skip_pre_upgrade or options.wasm_memory_persistence:
            raise SubnetError("--skip-pre-upgrade and --wasm-memory-persistence only apply to upgrades")
        mode = management.Mode(mode_name)
    await _install_one(agent, canister_id, mode, module, arg)
    verb = {"install": "Installed", "reinstall": "Reinstalled", "upgrade": "Upgraded"}[mode_name]
    print(f"{verb} code for canister {name}, with canister ID {canister_id}")
    return mode_name


def _install(args: argparse.Namespace) -> int:
    ids = CanisterIds.in_directory()
    names = _names(args, ids)
    if args.wasm is not None and len(names) != 1:
        raise SubnetError("--wasm needs exactly one canister")
    agent = _agent(args)
    options = InstallOptions(
        mode=args.mode, argument=args.argument, wasm=args.wasm, skip_pre_upgrade=args.skip_pre_upgrade,
        wasm_memory_persistence=args.wasm_memory_persistence, yes=args.yes,
    )

    async def run() -> None:
        for name in names:
            await install_canister(agent, name, ids.resolve(name, args.network), options)

    trio.run(run)
    return 0


def _call(args: argparse.Namespace) -> int:
    ids = CanisterIds.in_directory()
    canister_id = ids.resolve(args.name, args.network)
    service = _service_for(args.name, args.candid)
    method_type = None
    if service is not None:
        method_type = service.method(args.method)
    arg = candid.encode_text(args.argument, list(method_type.args) if method_type is not None else None)
    query = args.query or (not args.update and method_type is not None and "query" in method_type.modes)
    agent = _agent(args)

    async def run() -> bytes:
        if query:
            answer = await agent.query(canister_id, args.method, arg, replicas_agree=args.replicas_agree)
            if answer.status != "replied":
                raise RejectError(RejectCode(answer.reject_code), answer.reject_message)
            return answer.reply
        result = await agent.call(canister_id, args.method, arg)
        return result.raise_if_rejected()

    reply = trio.run(run)
    results = list(method_type.results) if method_type is not None else None
    if args.output == "raw":
        print(reply.hex())
    elif args.output == "json":
        values, types = candid.decode_with_types(reply, results)
        print(json.dumps(_jsonable(values), indent=2))
    else:
        print(candid.decode_to_text(reply, results))
    return 0


def _jsonable(value: object) -> object:
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).hex()
    if isinstance(value, Principal):
        return value.to_text()
    if isinstance(value, candid.Variant):
        return {str(value.tag): _jsonable(value.value)}
    if isinstance(value, candid.Some):
        return _jsonable(value.value)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 1 << 53:
        return str(value)
    return value
