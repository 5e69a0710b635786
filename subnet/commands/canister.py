"""`subnet canister ...`: manage canisters on the running subnet, shaped like `dfx canister`.

Canister names resolve through `canister_ids.json` in the current directory (a textual
canister id works too); `--all` means every canister of the project's `subnet.json`, or
of `canister_ids.json` when there is no project. Every operation is a signed request that
goes through consensus; a result counts only with a certificate from a quorum of the
committee, checked here.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import sys
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import trio

from client.agent import Agent
from client.canister_ids import CanisterIds
from client.identity import IdentityStore, resolve
from client.metadata import fetch_metadata
from client.project import Project, ProjectError
from client.upgrade_check import (
    CANDID_SERVICE,
    STABLE_TYPES,
    ModuleMetadataError,
    UpgradeMetadata,
    check_upgrade,
    confirm_upgrade,
    metadata_section,
    upgrade_metadata,
)
from subnet.cli_options import add_identity_option, add_output_option
from subnet.commands.local import endpoints, load_genesis
from vocab import candid, management
from vocab.errors import CandidError, PrincipalError, RejectCode, RejectError, SubnetError
from vocab.principal import Principal

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
    create.add_argument(
        "--controller",
        action="append",
        default=[],
        metavar="P",
        help="principal or identity name; repeatable",
    )
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
    install.add_argument(
        "--mode",
        choices=("install", "reinstall", "upgrade", "auto"),
        default="auto",
        help="auto: install if the canister is empty, else upgrade (default)",
    )
    install.add_argument(
        "--argument", default="()", metavar="'(...)'", help="init/post_upgrade argument, Candid text"
    )
    install.add_argument(
        "--wasm", type=Path, metavar="FILE", help="the module (default: the project's built .wasm)"
    )
    install.add_argument("--skip-pre-upgrade", action="store_true")
    install.add_argument(
        "--wasm-memory-persistence",
        choices=("keep", "replace"),
        help="default with upgrade: keep for modules with enhanced orthogonal persistence",
    )
    install.add_argument(
        "--yes",
        "-y",
        action="store_true",
        help="upgrade despite failed compatibility checks; reinstall without asking",
    )
    install.set_defaults(handler=_install)

    call = commands.add_parser("call", help="call a canister method (update through consensus, or query)")
    call.add_argument("name", metavar="NAME")
    call.add_argument("method", metavar="METHOD")
    call.add_argument("argument", nargs="?", default="()", metavar="'(...)'")
    kind = call.add_mutually_exclusive_group()
    kind.add_argument("--query", action="store_true", help="the fast path: one replica answers, signed")
    kind.add_argument(
        "--update",
        action="store_true",
        help="through consensus, certified (default unless the method is a query)",
    )
    call.add_argument("--output", choices=("idl", "json", "raw"), default="idl")
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
    call.set_defaults(handler=_call)

    settings = commands.add_parser("update-settings", help="change a canister's controllers")
    settings.add_argument("name", metavar="NAME")
    common(settings)
    change = settings.add_mutually_exclusive_group(required=True)
    change.add_argument("--add-controller", action="append", metavar="P")
    change.add_argument("--remove-controller", action="append", metavar="P")
    change.add_argument("--set-controller", action="append", metavar="P")
    settings.set_defaults(handler=_update_settings)
    _register_info_logs_snapshot(commands, common)


# -- helpers ----------------------------------------------------------------------------------


def local_agent(args: argparse.Namespace) -> Agent:
    """An agent for the local subnet of the current directory, signing as ``--identity``."""
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


async def _status_of(agent: Agent, canister_id: Principal) -> management.CanisterStatusResult:
    arg = management.encode_args(management.STATUS, management.CanisterIdRecord(canister_id))
    return management.decode_reply(management.STATUS, await _management(agent, management.STATUS, arg))


def _each(
    args: argparse.Namespace,
    ids: CanisterIds,
    names: list[str],
    action: Callable[[Agent, str, Principal], object],
) -> int:
    agent = local_agent(args)

    async def run() -> None:
        for name in names:
            await action(agent, name, ids.resolve(name, args.network))  # type: ignore[misc]

    trio.run(run)
    return 0


# -- commands ----------------------------------------------------------------------------------


async def create_canister(
    agent: Agent,
    ids: CanisterIds,
    name: str,
    network: str,
    *,
    cycles: int = DEFAULT_CYCLES,
    controllers: tuple[Principal, ...] | None = None,
) -> Principal:
    """Create ``name`` unless canister_ids.json already has it; returns its id."""
    existing = ids.get(name, network)
    if existing is not None:
        print(f'{name} canister was already created on network "{network}" and has canister id: {existing}')
        return existing
    settings = management.Settings(controllers=controllers) if controllers else None
    arg = management.encode_args(management.CREATE, management.CreateCanisterArgs(cycles, settings))
    canister_id = management.decode_reply(
        management.CREATE, await _management(agent, management.CREATE, arg)
    ).canister_id
    ids.set(name, network, canister_id)
    print(f'{name} canister created on network "{network}" with canister id: {canister_id}')
    return canister_id


def _create(args: argparse.Namespace) -> int:
    ids = CanisterIds.in_directory()
    names = _names(args, ids, creating=True)
    controllers = tuple(_principal_or_identity(c) for c in args.controller) or None
    if args.with_cycles < 0:
        raise SubnetError("--with-cycles must not be negative")
    agent = local_agent(args)

    async def run() -> None:
        for name in names:
            await create_canister(
                agent, ids, name, args.network, cycles=args.with_cycles, controllers=controllers
            )

    trio.run(run)
    return 0


def _id(args: argparse.Namespace) -> int:
    print(CanisterIds.in_directory().resolve(args.name, args.network))
    return 0


def _status(args: argparse.Namespace) -> int:
    ids = CanisterIds.in_directory()
    records: list[dict[str, object]] = []

    async def one(agent: Agent, name: str, canister_id: Principal) -> None:
        status = await _status_of(agent, canister_id)
        record = {
            "name": name,
            "canister_id": canister_id.to_text(),
            "status": status.status,
            "controllers": [c.to_text() for c in status.settings.controllers],
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
        await _management(
            agent, args.method, management.encode_args(args.method, management.CanisterIdRecord(canister_id))
        )
        if args.method == management.DELETE and ids.get(name, args.network) is not None:
            ids.remove(name, args.network)

    return _each(args, ids, _names(args, ids), one)


def _update_settings(args: argparse.Namespace) -> int:
    ids = CanisterIds.in_directory()
    canister_id = ids.resolve(args.name, args.network)
    agent = local_agent(args)

    async def run() -> None:
        if args.set_controller:
            controllers = tuple(_principal_or_identity(c) for c in args.set_controller)
        else:
            current = list((await _status_of(agent, canister_id)).settings.controllers)
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
        arg = management.encode_args(
            management.UPDATE_SETTINGS,
            management.UpdateSettingsArgs(canister_id, management.Settings(controllers=controllers)),
        )
        await _management(agent, management.UPDATE_SETTINGS, arg)
        print(
            f"Updated settings of {args.name}: controllers {' '.join(c.to_text() for c in controllers) or '(none)'}"
        )

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
    """An ``icp:public``/``icp:private`` custom section of a module; None if absent or if
    the bytes are not a readable module (the subnet then says what is wrong with it)."""
    try:
        return metadata_section(module, name)
    except ModuleMetadataError:
        return None


def _is_eop(module: bytes) -> bool:
    return _metadata(module, "enhanced-orthogonal-persistence") is not None


def _service_for(
    name: str, explicit: Path | None, module: bytes | None = None
) -> candid.ServiceDescription | None:
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


async def install_module(
    agent: Agent, canister_id: Principal, mode: management.CanisterInstallMode, module: bytes, arg: bytes
) -> None:
    """``install_code``, or for a module over ``CHUNK_BYTES`` the chunk store's path."""
    if len(module) <= CHUNK_BYTES:
        install = management.InstallCodeArgs(mode, canister_id, module, arg)
        await _management(
            agent, management.INSTALL_CODE, management.encode_args(management.INSTALL_CODE, install)
        )
        return
    # Each chunk travels once; the install then names them by hash.
    hashes = []
    for start in range(0, len(module), CHUNK_BYTES):
        upload = management.UploadChunkArgs(canister_id, module[start : start + CHUNK_BYTES])
        reply = await _management(
            agent, management.UPLOAD_CHUNK, management.encode_args(management.UPLOAD_CHUNK, upload)
        )
        hashes.append(management.decode_reply(management.UPLOAD_CHUNK, reply))
    chunked = management.InstallChunkedCodeArgs(
        mode, canister_id, tuple(hashes), hashlib.sha256(module).digest(), arg
    )
    await _management(
        agent,
        management.INSTALL_CHUNKED_CODE,
        management.encode_args(management.INSTALL_CHUNKED_CODE, chunked),
    )
    clear = management.encode_args(management.CLEAR_CHUNK_STORE, management.CanisterIdRecord(canister_id))
    await _management(agent, management.CLEAR_CHUNK_STORE, clear)


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
        status = await _status_of(agent, canister_id)
        mode_name = "install" if status.module_hash is None else "upgrade"
    if mode_name == "reinstall" and not options.yes:
        if not sys.stdin.isatty():
            raise SubnetError(f"reinstalling {name} wipes its state: pass --yes to confirm")
        answer = input(f"Reinstalling {name} wipes its heap and stable memory. Continue? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            raise SubnetError("reinstall cancelled")
    if mode_name == "upgrade":
        await _check_upgrade(agent, name, canister_id, module, yes=options.yes)
        persistence = options.wasm_memory_persistence or ("keep" if _is_eop(module) else None)
        skip = True if options.skip_pre_upgrade else None
        mode: management.CanisterInstallMode = (
            "upgrade" if skip is None and persistence is None else management.UpgradeFlags(skip, persistence)
        )
    else:
        if options.skip_pre_upgrade or options.wasm_memory_persistence:
            raise SubnetError("--skip-pre-upgrade and --wasm-memory-persistence only apply to upgrades")
        if mode_name not in ("install", "reinstall"):
            raise SubnetError(f"unknown install mode {mode_name!r}")
        mode = mode_name
    await install_module(agent, canister_id, mode, module, arg)
    verb = {"install": "Installed", "reinstall": "Reinstalled", "upgrade": "Upgraded"}[mode_name]
    print(f"{verb} code for canister {name}, with canister ID {canister_id}")
    return mode_name


async def _check_upgrade(
    agent: Agent, name: str, canister_id: Principal, module: bytes, *, yes: bool
) -> None:
    """dfx's checks before an upgrade: the new Candid service must be a subtype of the
    deployed one, and Motoko stable types must be compatible (moc decides). The deployed
    side comes from the installed module's metadata; each problem is printed, and the
    upgrade stops unless ``yes`` or the user says so at a terminal."""
    deployed = []
    for section in (CANDID_SERVICE, STABLE_TYPES):
        payload = await fetch_metadata(agent, canister_id, section)
        deployed.append(None if payload is None else payload.decode("utf-8", "replace"))
    problems = check_upgrade(UpgradeMetadata(*deployed), upgrade_metadata(module))
    confirm_upgrade(problems, yes=yes, name=name, ask=input if sys.stdin.isatty() else None)


def _install(args: argparse.Namespace) -> int:
    ids = CanisterIds.in_directory()
    names = _names(args, ids)
    if args.wasm is not None and len(names) != 1:
        raise SubnetError("--wasm needs exactly one canister")
    agent = local_agent(args)
    options = InstallOptions(
        mode=args.mode,
        argument=args.argument,
        wasm=args.wasm,
        skip_pre_upgrade=args.skip_pre_upgrade,
        wasm_memory_persistence=args.wasm_memory_persistence,
        yes=args.yes,
    )

    async def run() -> None:
        for name in names:
            await install_canister(agent, name, ids.resolve(name, args.network), options)

    trio.run(run)
    return 0


async def _deployed_service(agent: Agent, canister_id: Principal) -> candid.ServiceDescription | None:
    """The Candid service of the module the canister runs now, when its metadata is
    readable by this identity (Motoko keeps it ``icp:private``: controllers only)."""
    try:
        text = await fetch_metadata(agent, canister_id, CANDID_SERVICE)
    except RejectError:
        return None
    if text is None:
        return None
    try:
        return candid.parse_did(text.decode("utf-8", "replace"))
    except CandidError:
        return None


def _call(args: argparse.Namespace) -> int:
    ids = CanisterIds.in_directory()
    canister_id = ids.resolve(args.name, args.network)
    agent = local_agent(args)
    method_type: candid.FuncType | None = None

    async def run() -> bytes:
        nonlocal method_type
        # --candid, else what the canister runs now (a newer local build may not be
        # deployed), else the project's build.
        service = None if args.candid is not None else await _deployed_service(agent, canister_id)
        if service is None:
            service = _service_for(args.name, args.candid)
        if service is not None:
            method_type = service.method(args.method)
        arg = candid.encode_text(args.argument, list(method_type.args) if method_type is not None else None)
        query = args.query or (not args.update and method_type is not None and "query" in method_type.modes)
        if query:
            answer = await agent.query(canister_id, args.method, arg, replicas_agree=args.replicas_agree)
            if answer.status != "replied":
                raise RejectError(
                    RejectCode(answer.reject_code), answer.reject_message, answer.error_code or None
                )
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


# -- info, logs, snapshots ---------------------------------------------------------------------

MAX_CHANGES = 20
"""``canister_info`` returns at most this many recent changes, as on the IC."""


def _register_info_logs_snapshot(
    commands: argparse._SubParsersAction, common: Callable[[argparse.ArgumentParser], None]
) -> None:
    """`canister info`, `canister logs` and `canister snapshot create|load|list|delete`."""
    info = commands.add_parser("info", help="controllers, module hash and the history of changes")
    info.add_argument("name", metavar="NAME")
    common(info)
    add_output_option(info)
    info.set_defaults(handler=_info)

    logs = commands.add_parser("logs", help="the canister's log (debug prints, traps); a query")
    logs.add_argument("name", metavar="NAME")
    common(logs)
    logs.set_defaults(handler=_logs)

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
        sub.set_defaults(handler=_snapshot)


def _rfc3339(nanos: int) -> str:
    """A time as dfx prints log records: RFC 3339 in UTC, the fraction of a second to the
    nanosecond without trailing zeros (none at all on a whole second)."""
    seconds, fraction = divmod(nanos, 1_000_000_000)
    text = datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    if fraction:
        text += "." + f"{fraction:09d}".rstrip("0")
    return text + "Z"


def _utc(nanos: int) -> str:
    """A time as dfx lists snapshots: ``2024-05-06 19:17:10 UTC``."""
    moment = datetime.datetime.fromtimestamp(nanos // 1_000_000_000, tz=datetime.UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _human_bytes(size: int) -> str:
    """Binary units as dfx prints snapshot sizes: ``512 B``, ``1.50 MiB``."""
    if size < 1024:
        return f"{size} B"
    value = float(size)
    for prefix in ("Ki", "Mi", "Gi", "Ti", "Pi", "Ei"):
        value /= 1024
        if value < 1024:
            break
    return f"{value:.2f} {prefix}B"


def _log_text(content: bytes) -> str:
    """A log record's content as text, or, like dfx, ``(bytes) 0x...`` when it is not
    UTF-8 or holds characters a terminal would not show as they are."""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return f"(bytes) 0x{content.hex()}"
    for char in text:
        if char not in "\t\n\r" and unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
            return f"(bytes) 0x{content.hex()}"
    return text


def _snapshot_id(text: str) -> bytes:
    try:
        snapshot_id = bytes.fromhex(text)
    except ValueError:
        snapshot_id = b""
    if not snapshot_id:
        raise SubnetError(
            f"{text!r} is not a snapshot id: expected the hexadecimal id `canister snapshot list` prints"
        )
    return snapshot_id


async def _management_query(agent: Agent, method: str, arg: bytes) -> bytes:
    answer = await agent.query(Principal.management(), method, arg)
    if answer.status != "replied":
        code = answer.reject_code if answer.reject_code in tuple(RejectCode) else RejectCode.SYS_UNKNOWN
        raise RejectError(RejectCode(code), answer.reject_message, answer.error_code or None)
    return answer.reply


def _change_text(change: management.Change) -> str:
    """What one history entry changed, in words."""
    details = change.details
    if isinstance(details, management.Creation):
        controllers = " ".join(c.to_text() for c in details.controllers) or "(none)"
        return f"created with controllers {controllers}"
    if isinstance(details, management.CodeDeployment):
        return f"code deployed ({details.mode}), module hash 0x{details.module_hash.hex()}"
    if isinstance(details, management.ControllersChange):
        return f"controllers changed to {' '.join(c.to_text() for c in details.controllers) or '(none)'}"
    if isinstance(details, management.LoadSnapshot):
        return (
            f"loaded snapshot {details.snapshot_id.hex()} (taken at {_rfc3339(details.taken_at_timestamp)}, "
            f"canister version {details.canister_version})"
        )
    assert details == "code_uninstall"
    return "code uninstalled"


def _origin_kind(change: management.Change) -> str:
    return "from_user" if isinstance(change.origin, management.FromUser) else "from_canister"


def _change_json(change: management.Change) -> dict[str, object]:
    details: dict[str, object] = {"kind": change.kind}
    body = change.details
    if isinstance(body, (management.Creation, management.ControllersChange)):
        details["controllers"] = [c.to_text() for c in body.controllers]
    elif isinstance(body, management.CodeDeployment):
        details["mode"] = body.mode
        details["module_hash"] = "0x" + body.module_hash.hex()
    elif isinstance(body, management.LoadSnapshot):
        details["snapshot_id"] = body.snapshot_id.hex()
        details["taken_at_timestamp"] = body.taken_at_timestamp
        details["canister_version"] = body.canister_version
    origin: dict[str, object] = {"kind": _origin_kind(change), "principal": change.origin.principal.to_text()}
    if isinstance(change.origin, management.FromCanister):
        origin["canister_version"] = change.origin.canister_version
    return {
        "canister_version": change.canister_version,
        "timestamp_nanos": change.timestamp_nanos,
        "timestamp": _rfc3339(change.timestamp_nanos),
        "origin": origin,
        "details": details,
    }


def _info(args: argparse.Namespace) -> int:
    """Like `dfx canister info` (controllers, sorted, and module hash), then the history of
    changes from ``canister_info``, oldest first."""
    canister_id = CanisterIds.in_directory().resolve(args.name, args.network)
    agent = local_agent(args)

    async def run() -> management.CanisterInfoResult:
        arg = management.encode_args(
            management.CANISTER_INFO, management.CanisterInfoArgs(canister_id, MAX_CHANGES)
        )
        return management.decode_reply(
            management.CANISTER_INFO, await _management(agent, management.CANISTER_INFO, arg)
        )

    info = trio.run(run)
    controllers = sorted(c.to_text() for c in info.controllers)
    module_hash = None if info.module_hash is None else "0x" + info.module_hash.hex()
    if args.output == "json":
        record = {
            "name": args.name,
            "canister_id": canister_id.to_text(),
            "controllers": controllers,
            "module_hash": module_hash,
            "total_num_changes": info.total_num_changes,
            "recent_changes": [_change_json(change) for change in info.recent_changes],
        }
        print(json.dumps(record, indent=2))
        return 0
    print(f"Controllers: {' '.join(controllers)}")
    print(f"Module hash: {module_hash or 'None'}")
    shown = len(info.recent_changes)
    if shown == info.total_num_changes:
        print(f"History ({info.total_num_changes} change{'' if shown == 1 else 's'}):")
    else:
        print(f"History (the last {shown} of {info.total_num_changes} changes):")
    for change in info.recent_changes:
        who = "user" if _origin_kind(change) == "from_user" else "canister"
        print(
            f"  version {change.canister_version}, {_rfc3339(change.timestamp_nanos)}, by {who} {change.origin.principal}: "
            f"{_change_text(change)}"
        )
    return 0


def _logs(args: argparse.Namespace) -> int:
    """Like `dfx canister logs`: one ``[idx. time]: content`` line per record, oldest first.
    A query on the fast path; who may read follows the canister's log_visibility."""
    canister_id = CanisterIds.in_directory().resolve(args.name, args.network)
    agent = local_agent(args)

    async def run() -> tuple[management.CanisterLogRecord, ...]:
        arg = management.encode_args(management.FETCH_LOGS, management.CanisterIdRecord(canister_id))
        reply = await _management_query(agent, management.FETCH_LOGS, arg)
        return management.decode_reply(management.FETCH_LOGS, reply).canister_log_records

    for record in trio.run(run):
        print(f"[{record.idx}. {_rfc3339(record.timestamp_nanos)}]: {_log_text(record.content)}")
    return 0


def _snapshot(args: argparse.Namespace) -> int:
    """`canister snapshot create|load|list|delete`, with dfx's wording. Like dfx, create and
    load refuse a canister that is not stopped (a snapshot of a running canister may catch
    it between messages that belong together)."""
    canister_id = CanisterIds.in_directory().resolve(args.name, args.network)
    command = args.snapshot_command
    given = getattr(args, "snapshot", None) or getattr(args, "replace", None)
    snapshot_id = None if given is None else _snapshot_id(given)
    agent = local_agent(args)
    name = args.name

    async def run() -> None:
        if command in ("create", "load"):
            status = await _status_of(agent, canister_id)
            phrasing = "taken of" if command == "create" else "applied to"
            if status.status == "running":
                raise SubnetError(
                    f"Canister {name} is running and snapshots should not be {phrasing} running canisters. "
                    "Run `subnet canister stop` first"
                )
            if status.status == "stopping":
                raise SubnetError(
                    f"Canister {name} is stopping but is not yet stopped. Wait a few seconds and try again"
                )
        if command == "create":
            take = management.TakeCanisterSnapshotArgs(canister_id, snapshot_id)
            arg = management.encode_args(management.TAKE_SNAPSHOT, take)
            taken = management.decode_reply(
                management.TAKE_SNAPSHOT, await _management(agent, management.TAKE_SNAPSHOT, arg)
            )
            print(f"Created a new snapshot of canister {name}. Snapshot ID: {taken.id.hex()}")
        elif command == "load":
            assert snapshot_id is not None
            arg = management.encode_args(
                management.LOAD_SNAPSHOT, management.LoadCanisterSnapshotArgs(canister_id, snapshot_id)
            )
            await _management(agent, management.LOAD_SNAPSHOT, arg)
            print(f"Loaded snapshot {snapshot_id.hex()} in canister {name}")
        elif command == "delete":
            assert snapshot_id is not None
            arg = management.encode_args(
                management.DELETE_SNAPSHOT, management.DeleteCanisterSnapshotArgs(canister_id, snapshot_id)
            )
            await _management(agent, management.DELETE_SNAPSHOT, arg)
            print(f"Deleted snapshot {snapshot_id.hex()} from canister {name}")
        else:
            arg = management.encode_args(management.LIST_SNAPSHOTS, management.CanisterIdRecord(canister_id))
            found = management.decode_reply(
                management.LIST_SNAPSHOTS, await _management(agent, management.LIST_SNAPSHOTS, arg)
            )
            if args.output == "json":
                print(
                    json.dumps(
                        [
                            {
                                "id": s.id.hex(),
                                "taken_at_timestamp": s.taken_at_timestamp,
                                "total_size": s.total_size,
                            }
                            for s in found
                        ],
                        indent=2,
                    )
                )
            elif not found:
                print(f"No snapshots found in canister {name}")
            for s in found if args.output == "text" else ():
                print(f"{s.id.hex()}: {_human_bytes(s.total_size)}, taken at {_utc(s.taken_at_timestamp)}")

    trio.run(run)
    return 0
