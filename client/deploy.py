"""The deploy workflow, like dfx's: create a canister unless the project already has it,
then install its module into an empty canister or upgrade the one it runs.

`subnet canister create | install` and `subnet deploy` are these steps run for each
canister; they print what happened, these functions only do it and say what they did.
An upgrade first runs dfx's checks (``client.upgrade_check``): the new Candid service must
be a subtype of the deployed one and Motoko stable types must stay compatible. A
reinstall wipes the canister's state. Either goes on after a problem only with ``yes``
or a "yes" from ``ask`` (typed or piped, as dfx reads it from standard input).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from client import manage
from client.agent import Agent
from client.canister_ids import CanisterIds
from client.install import install_module
from client.metadata import fetch_metadata
from client.project import Project, ProjectError
from client.service import local_service
from client.upgrade_check import (
    CANDID_SERVICE,
    STABLE_TYPES,
    UpgradeMetadata,
    UpgradeProblem,
    check_upgrade,
    confirm_upgrade,
    consents,
    upgrade_metadata,
)
from vocab import candid, management
from vocab.errors import SubnetError
from vocab.principal import Principal

ENHANCED_ORTHOGONAL_PERSISTENCE = "enhanced-orthogonal-persistence"
"""The metadata a Motoko module with enhanced orthogonal persistence carries."""
DEFAULT_CYCLES = 100_000_000_000_000
"""What `dfx canister create` gives a canister on a local replica."""
INSTALL_MODES = ("install", "reinstall", "upgrade", "auto")
"""``auto``: install if the canister is empty, else upgrade."""

Ask = Callable[[str], str]
"""Asks the user a question and returns the answer line ("" when nothing answers)."""


def ask_for_consent(message: str, ask: Ask | None) -> bool:
    """dfx's consent: the warning, then "yes" or "y" (any case) goes on, anything else
    (an empty line, the end of input, no ``ask`` at all) declines (``consents``)."""
    if ask is None:
        return False
    return consents(ask(f"WARNING!\n{message}\nDo you want to proceed? yes/No\n"))


async def ensure_created(
    agent: Agent,
    ids: CanisterIds,
    name: str,
    network: str,
    *,
    cycles: int = DEFAULT_CYCLES,
    controllers: tuple[Principal, ...] | None = None,
) -> tuple[Principal, bool]:
    """Create ``name`` unless canister_ids.json already has it; returns its id and whether
    it was created now (the new id is recorded in canister_ids.json)."""
    existing = ids.get(name, network)
    if existing is not None:
        return existing, False
    canister_id = await manage.create_canister(agent, cycles, controllers)
    ids.set(name, network, canister_id)
    return canister_id, True


@dataclass(frozen=True)
class InstallOptions:
    """What `canister install` and `deploy` were asked for, per canister."""

    mode: str = "auto"
    argument: str = "()"
    wasm: Path | None = None
    skip_pre_upgrade: bool = False
    wasm_memory_persistence: str | None = None
    yes: bool = False
    upgrade_unchanged: bool = False

    def check(self, *, single_canister: bool, command: str = "install") -> None:
        """dfx's rules for these options (``src/dfx/src/util/clap/install_mode.rs``,
        ``commands/deploy.rs``, ``commands/canister/install.rs``), checked before anything
        runs, with dfx's words: the upgrade options only with mode ``upgrade`` or ``auto``
        (with ``auto`` they are a hint, ignored when the canister turns out empty), and a
        reinstall only of one named canister, as it destroys its data."""
        if self.mode not in INSTALL_MODES:
            raise SubnetError(f"unknown install mode {self.mode!r} (one of {', '.join(INSTALL_MODES)})")
        if (self.skip_pre_upgrade or self.wasm_memory_persistence) and self.mode in ("install", "reinstall"):
            raise SubnetError(
                "--skip-pre-upgrade and --wasm-memory-persistence can only be used with mode 'upgrade' or 'auto'."
            )
        if self.mode == "reinstall" and not single_canister:
            what = "deploying" if command == "deploy" else "specifying"
            raise SubnetError(
                f"The --mode=reinstall is only valid when {what} a single canister, because "
                "reinstallation destroys all data in the canister."
            )


def project_module(name: str, wasm: Path | None) -> bytes:
    """The module to install: ``wasm``, else the project's built (or custom) module."""
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


@dataclass(frozen=True)
class Installed:
    """What ``install_canister`` did: the mode that ran, or nothing when the same module
    was already installed (``unchanged``, with that module's hash), as dfx skips it."""

    mode: str
    module_hash: bytes
    unchanged: bool = False


async def install_canister(
    agent: Agent, name: str, canister_id: Principal, options: InstallOptions, ask: Ask | None = None
) -> Installed:
    """Install, reinstall or upgrade one canister, in dfx's order.

    ``auto`` installs into an empty canister and upgrades one with code. Before a reinstall
    or an upgrade the Candid check runs (and before an upgrade the stable-type check) unless
    ``yes``; an upgrade to the module already installed is skipped unless
    ``upgrade_unchanged``. An upgrade without explicit options keeps the Wasm memory when
    the *installed* module uses Motoko's enhanced orthogonal persistence (its
    ``enhanced-orthogonal-persistence`` metadata), as dfx sets ``wasm_memory_persistence``,
    so a downgrade to a classic module is refused by the subnet rather than wiping the heap.
    (dfx does this in mode ``auto`` only; with an explicit ``upgrade`` it sends no option and
    the IC refuses any upgrade of such a canister, so here ``upgrade`` does it too.) With
    ``auto`` the upgrade options are a hint, ignored when the canister is empty, as in dfx.
    A reinstall wipes state, so it needs ``yes`` or a "y" from ``ask``.
    """
    options.check(single_canister=True)
    module, arg = module_and_argument(name, options)
    new_hash = hashlib.sha256(module).digest()
    mode_name = options.mode
    installed_hash = (await manage.canister_status(agent, canister_id)).module_hash
    if mode_name == "auto":
        mode_name = "install" if installed_hash is None else "upgrade"
    if mode_name in ("reinstall", "upgrade"):
        await check_before_upgrade(
            agent, name, canister_id, module, yes=options.yes, ask=ask, stable=mode_name == "upgrade"
        )
    if mode_name == "upgrade" and installed_hash == new_hash and not options.upgrade_unchanged:
        return Installed(mode_name, new_hash, unchanged=True)
    if mode_name == "reinstall" and not options.yes:
        consent = (
            f"You are about to reinstall the {name} canister\n"
            "This will OVERWRITE all the data and code in the canister.\n\n"
            "YOU WILL LOSE ALL DATA IN THE CANISTER.\n"
        )
        if not ask_for_consent(consent, ask):
            raise SubnetError(
                "Refusing to install canister without approval: User declined consent. "
                "(Answer yes, or pass --yes.)"
            )
    mode: management.CanisterInstallMode = mode_name
    if mode_name == "upgrade":
        mode = await upgrade_mode(agent, canister_id, options)
    await install_module(agent, canister_id, mode, module, arg)
    return Installed(mode_name, new_hash)


def module_and_argument(name: str, options: InstallOptions) -> tuple[bytes, bytes]:
    """The module to install and its init/post_upgrade argument in Candid (typed by the
    module's own service, when it declares one)."""
    module = project_module(name, options.wasm)
    service = local_service(name, None, module)
    init_types = list(service.init_args) if service is not None and service.init_args is not None else None
    return module, candid.encode_text(options.argument, init_types)


async def upgrade_mode(
    agent: Agent, canister_id: Principal, options: InstallOptions
) -> management.CanisterInstallMode:
    """The upgrade mode with its options as dfx sets them: the Wasm memory kept when the
    installed module uses enhanced orthogonal persistence, unless told otherwise."""
    persistence = options.wasm_memory_persistence
    if persistence is None and not options.skip_pre_upgrade:
        embedded = await fetch_metadata(agent, canister_id, ENHANCED_ORTHOGONAL_PERSISTENCE)
        persistence = "keep" if embedded is not None else None
    skip = True if options.skip_pre_upgrade else None
    if skip is not None or persistence is not None:
        return management.UpgradeFlags(skip, persistence)
    return "upgrade"


async def check_before_upgrade(
    agent: Agent,
    name: str,
    canister_id: Principal,
    module: bytes,
    *,
    yes: bool,
    ask: Ask | None,
    stable: bool = True,
) -> None:
    """dfx's checks before a reinstall (Candid) or an upgrade (Candid, then stable types).
    The deployed side comes from the installed module's metadata; problems are printed on
    stderr and handled as ``confirm_upgrade`` says."""
    problems = await upgrade_problems(agent, canister_id, module, stable=stable)
    confirm_upgrade(problems, yes=yes, name=name, ask=ask)


async def upgrade_problems(
    agent: Agent, canister_id: Principal, module: bytes, *, stable: bool = True
) -> list[UpgradeProblem]:
    """dfx's checks (Candid, and with ``stable`` the stable types) of ``module`` against
    the installed module's metadata."""
    deployed = []
    for section in (CANDID_SERVICE, STABLE_TYPES) if stable else (CANDID_SERVICE,):
        payload = await fetch_metadata(agent, canister_id, section)
        deployed.append(None if payload is None else payload.decode("utf-8", "replace"))
    new = upgrade_metadata(module)
    if not stable:
        new = UpgradeMetadata(new.candid_service, None)
    return check_upgrade(UpgradeMetadata(*deployed), new)
