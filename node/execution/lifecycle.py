"""Installing, reinstalling, upgrading and uninstalling canister code.

The rule that shapes this module: a failing ``install_code`` at any step leaves the canister
exactly as it was. Install and reinstall therefore build the new instance and stable memory
on the side and swap them in only on success. An upgrade runs ``pre_upgrade`` on the live old
instance (its heap is the input to a ``keep`` upgrade), so on failure the old instance is
rolled back through the same dirty-page machinery as a trapped message, and the stable
memory's undo log, opened before ``pre_upgrade``, covers the whole sequence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from node.execution.canister import CanisterState
from node.execution.errors import (
    CanisterStateError,
    CanisterTrap,
    InvalidArgument,
    NotAController,
)
from node.execution.instance import WasmInstance
from node.execution.stable_memory import StableMemory
from node.execution.system_api import ApiContext, Context
from vocab import management
from vocab.principal import CanisterId, Principal

if TYPE_CHECKING:
    from node.execution.engine import CompiledModule
    from node.execution.environment import ExecutionEnvironment


@dataclass(frozen=True)
class InstallMode:
    """``install_code``'s mode, including the upgrade options of the specification."""

    mode: str
    skip_pre_upgrade: bool | None = None
    wasm_memory_persistence: str | None = None

    def __post_init__(self) -> None:
        if self.mode not in ("install", "reinstall", "upgrade"):
            raise InvalidArgument(f"unknown install mode {self.mode!r}")
        if self.mode != "upgrade" and (
            self.skip_pre_upgrade is not None or self.wasm_memory_persistence is not None
        ):
            raise InvalidArgument("upgrade options are only valid with mode upgrade")
        if self.wasm_memory_persistence not in (None, "keep", "replace"):
            raise InvalidArgument(
                f"wasm_memory_persistence must be keep or replace, not {self.wasm_memory_persistence!r}"
            )

    @classmethod
    def install(cls) -> InstallMode:
        return cls("install")

    @classmethod
    def reinstall(cls) -> InstallMode:
        return cls("reinstall")

    @classmethod
    def upgrade(
        cls, skip_pre_upgrade: bool | None = None, wasm_memory_persistence: str | None = None
    ) -> InstallMode:
        return cls("upgrade", skip_pre_upgrade, wasm_memory_persistence)


def require_controller(canister: CanisterState, caller: Principal) -> None:
    if not canister.is_controller(caller):
        raise NotAController(
            canister.canister_id.to_text(),
            " ".join(p.to_text() for p in canister.controllers),
            caller.to_text(),
        )


class _Budget:
    """The instructions an install_code request may still use across its steps."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self.logs: list[bytes] = []

    @property
    def remaining(self) -> int:
        return self.limit - self.used

    def run(self, instance: WasmInstance, export: str, ctx: ApiContext) -> None:
        try:
            self.used += instance.call(export, ctx, self.remaining)
        except CanisterTrap as trap:
            self.used += getattr(trap, "instructions", 0)
            self.logs.extend(ctx.logs)
            raise
        self.logs.extend(ctx.logs)


class LifecycleOperations:
    """``install_code`` and ``uninstall_code`` of the management canister."""

    def install_code(
        self: ExecutionEnvironment,
        caller: Principal,
        canister_id: CanisterId,
        mode: InstallMode,
        wasm_module: bytes,
        arg: bytes = b"",
        *,
        time: int,
        sender_canister_version: int | None = None,
    ) -> None:
        """Install, reinstall or upgrade; raises a RejectError and changes nothing on failure."""
        self.advance_time(time)
        canister = self.canister(canister_id)
        require_controller(canister, caller)
        compiled = self.engine.compile(wasm_module)
        limit = self.config.install_limit
        self.check_cycles(canister, limit)
        if mode.mode == "install" and canister.instance is not None:
            raise CanisterStateError(
                f"Canister {canister_id.to_text()} cannot be installed because the canister is not "
                "empty. Try installing with mode='reinstall' instead.",
                "IC0538",
            )
        if mode.mode == "upgrade":
            _upgrade(self, canister, caller, compiled, wasm_module, arg, mode, limit)
        else:
            _install(self, canister, caller, compiled, wasm_module, arg, mode, limit)

    def uninstall_code(
        self: ExecutionEnvironment, caller: Principal, canister_id: CanisterId, *, time: int
    ) -> None:
        """Drop code and state; cycles, controllers, history, status and snapshots remain."""
        self.advance_time(time)
        canister = self.canister(canister_id)
        require_controller(canister, caller)
        canister.instance = None
        canister.raw_module = None
        canister.stable = StableMemory()
        canister.certified_data = b""
        canister.global_timer = 0
        canister.logs = []
        canister.version += 1
        canister.record_change(self.time, caller, "code_uninstall")


def _fail(
    env: ExecutionEnvironment, canister: CanisterState, budget: _Budget, trap: CanisterTrap
) -> CanisterTrap:
    canister.append_logs(budget.logs + [env._trap_log(trap)], env.time)
    env.charge(canister, budget.used)
    wrapped = env._from_canister(canister, trap)
    assert isinstance(wrapped, CanisterTrap)
    return wrapped


def _install(
    env: ExecutionEnvironment,
    canister: CanisterState,
    caller: Principal,
    compiled: CompiledModule,
    raw: bytes,
    arg: bytes,
    mode: InstallMode,
    limit: int,
) -> None:
    budget = _Budget(limit)
    stable = StableMemory()
    new_version = canister.version + 1
    try:
        instance = WasmInstance(env.engine, compiled)
        ctx = _context(env, canister, Context.START, caller, b"", stable, new_version, 0)
        if compiled.plan.start_export:
            budget.run(instance, compiled.plan.start_export, ctx)
        balance = ctx.balance
        ctx = _context(env, canister, Context.INIT, caller, arg, stable, new_version, 0)
        ctx.balance = balance
        ctx.certified_data = b""
        if compiled.info.has("canister_init"):
            budget.run(instance, "canister_init", ctx)
        env._check_memory_limit(canister, instance)
    except CanisterTrap as trap:
        raise _fail(env, canister, budget, trap) from None
    instance.commit()
    canister.instance = instance
    canister.raw_module = raw
    canister.stable = stable
    canister.cycles = ctx.balance
    canister.certified_data = ctx.new_certified_data if ctx.new_certified_data is not None else b""
    canister.global_timer = ctx.new_global_timer if ctx.new_global_timer is not None else 0
    canister.version = new_version
    if mode.mode == "reinstall":
        canister.logs = []
    canister.append_logs(budget.logs, env.time)
    canister.record_change(env.time, caller, management.CodeDeployment(mode.mode, compiled.module_hash))
    env.charge(canister, budget.used)


def _upgrade(
    env: ExecutionEnvironment,
    canister: CanisterState,
    caller: Principal,
    compiled: CompiledModule,
    raw: bytes,
    arg: bytes,
    mode: InstallMode,
    limit: int,
) -> None:
    old = canister.instance
    if old is None:
        raise CanisterStateError(
            f"Canister {canister.canister_id.to_text()} has no Wasm module to upgrade.", "IC0537"
        )
    persistence = mode.wasm_memory_persistence
    if old.compiled.info.enhanced_orthogonal_persistence and persistence is None:
        raise CanisterStateError(
            "Missing upgrade option: Enhanced orthogonal persistence requires the "
            "`wasm_memory_persistence` upgrade option.",
            "IC0541",
        )
    if persistence == "keep" and not compiled.info.enhanced_orthogonal_persistence:
        raise CanisterStateError(
            "Invalid upgrade option: The `wasm_memory_persistence: opt Keep` upgrade option "
            "requires that the new canister module supports enhanced orthogonal persistence.",
            "IC0542",
        )
    budget = _Budget(limit)
    stable = canister.stable
    stable.begin()
    pre_certified: bytes | None = None
    balance = canister.cycles
    new_version = canister.version + 1
    try:
        if not mode.skip_pre_upgrade and old.compiled.info.has("canister_pre_upgrade"):
            ctx = _context(
                env,
                canister,
                Context.PRE_UPGRADE,
                caller,
                b"",
                stable,
                canister.version,
                canister.global_timer,
            )
            budget.run(old, "canister_pre_upgrade", ctx)
            pre_certified = ctx.new_certified_data
            balance = ctx.balance
        kept = old.live_heap() if persistence == "keep" else None
        new = WasmInstance(env.engine, compiled)
        if kept is not None:
            new.load_state(kept, None)
        ctx = _context(env, canister, Context.START, caller, b"", stable, new_version, 0)
        ctx.balance = balance
        if compiled.plan.start_export:
            budget.run(new, compiled.plan.start_export, ctx)
        balance = ctx.balance
        ctx = _context(env, canister, Context.INIT, caller, arg, stable, new_version, 0)
        ctx.balance = balance
        if compiled.info.has("canister_post_upgrade"):
            budget.run(new, "canister_post_upgrade", ctx)
        env._check_memory_limit(canister, new)
    except CanisterTrap as trap:
        old.rollback()
        stable.rollback()
        raise _fail(env, canister, budget, trap) from None
    except BaseException:
        old.rollback()
        stable.rollback()
        raise
    new.commit()
    stable.commit()
    canister.instance = new
    canister.raw_module = raw
    canister.cycles = ctx.balance
    if ctx.new_certified_data is not None:
        canister.certified_data = ctx.new_certified_data
    elif pre_certified is not None:
        canister.certified_data = pre_certified
    canister.global_timer = ctx.new_global_timer if ctx.new_global_timer is not None else 0
    canister.version = new_version
    canister.append_logs(budget.logs, env.time)
    canister.record_change(env.time, caller, management.CodeDeployment("upgrade", compiled.module_hash))
    env.charge(canister, budget.used)


def _context(
    env: ExecutionEnvironment,
    canister: CanisterState,
    kind: Context,
    caller: Principal,
    arg: bytes,
    stable: StableMemory,
    version: int,
    global_timer: int,
) -> ApiContext:
    ctx = env.api_context(canister, kind, caller=caller, arg=arg, version=version)
    ctx.stable = stable
    ctx.global_timer = global_timer
    return ctx
