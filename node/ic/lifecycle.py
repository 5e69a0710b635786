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

from node.ic.canister import CanisterInstance, CanisterState
from node.ic.errors import CanisterStateError, CanisterTrap, InvalidArgument, from_canister, trap_log
from node.ic.ic0 import Context
from node.ic.runtime import CanisterModule, CanisterRuntime
from node.ic.stable_memory import StableMemory
from node.ic.state import ExecutionState
from node.ic.system_api import ApiContext
from node.ic.transaction import message_transaction
from vocab import management
from vocab.principal import CanisterId, Principal


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


class _Budget:
    """The instructions an install_code request may still use across its steps."""

    def __init__(self, runtime: CanisterRuntime, limit: int) -> None:
        self.runtime = runtime
        self.limit = limit
        self.used = 0
        self.logs: list[bytes] = []

    @property
    def remaining(self) -> int:
        return self.limit - self.used

    def run(self, instance: CanisterInstance, export: str, ctx: ApiContext) -> None:
        try:
            self.used += self.runtime.run(instance, export, ctx, self.remaining)
        except CanisterTrap as trap:
            self.used += trap.instructions
            self.logs.extend(ctx.logs)
            raise
        self.logs.extend(ctx.logs)


class Lifecycle:
    """``install_code`` and ``uninstall_code`` of the management canister."""

    def __init__(self, state: ExecutionState) -> None:
        self.state = state

    def install_code(
        self,
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
        state = self.state
        canister = state.controlled(caller, canister_id, time)
        compiled = state.runtime.compile(wasm_module)
        limit = state.config.install_limit
        state.check_cycles(canister, limit)
        if mode.mode == "install" and canister.instance is not None:
            raise CanisterStateError(
                f"Canister {canister_id.to_text()} cannot be installed because the canister is not "
                "empty. Try installing with mode='reinstall' instead.",
                "IC0538",
            )
        if mode.mode == "upgrade":
            self._upgrade(canister, caller, compiled, wasm_module, arg, mode, limit)
        else:
            self._install(canister, caller, compiled, wasm_module, arg, mode, limit)

    def uninstall_code(self, caller: Principal, canister_id: CanisterId, *, time: int) -> None:
        """Drop code and state; cycles, controllers, history, status and snapshots remain."""
        state = self.state
        canister = state.controlled(caller, canister_id, time)
        canister.instance = None
        canister.raw_module = None
        canister.stable = StableMemory()
        canister.certified_data = b""
        canister.global_timer = 0
        canister.logs = []
        canister.version += 1
        canister.record_change(state.time, caller, "code_uninstall")

    def _fail(self, canister: CanisterState, budget: _Budget, trap: CanisterTrap) -> CanisterTrap:
        state = self.state
        canister.append_logs([*budget.logs, trap_log(trap)], state.time)
        state.charge(canister, budget.used)
        wrapped = from_canister(canister.canister_id.to_text(), trap)
        assert isinstance(wrapped, CanisterTrap)
        return wrapped

    def _context(
        self,
        canister: CanisterState,
        kind: Context,
        caller: Principal,
        arg: bytes,
        stable: StableMemory,
        version: int,
        global_timer: int,
    ) -> ApiContext:
        ctx = self.state.api_context(canister, kind, caller=caller, arg=arg, version=version)
        ctx.stable = stable
        ctx.global_timer = global_timer
        return ctx

    def _install(
        self,
        canister: CanisterState,
        caller: Principal,
        compiled: CanisterModule,
        raw: bytes,
        arg: bytes,
        mode: InstallMode,
        limit: int,
    ) -> None:
        """Install or reinstall: the new instance and stable memory are built on the side."""
        state = self.state
        budget = _Budget(state.runtime, limit)
        stable = StableMemory()
        new_version = canister.version + 1
        try:
            state.check_declared_memory(canister, compiled, len(raw))
            instance = state.runtime.instantiate(compiled)
            ctx = self._context(canister, Context.START, caller, b"", stable, new_version, 0)
            if compiled.plan.start_export:
                budget.run(instance, compiled.plan.start_export, ctx)
            balance = ctx.balance
            ctx = self._context(canister, Context.INIT, caller, arg, stable, new_version, 0)
            ctx.balance = balance
            ctx.certified_data = b""
            if compiled.info.has("canister_init"):
                budget.run(instance, "canister_init", ctx)
            state.check_memory_limit(canister, instance, stable, raw)
        except CanisterTrap as trap:
            raise self._fail(canister, budget, trap) from None
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
        canister.append_logs(budget.logs, state.time)
        canister.record_change(state.time, caller, management.CodeDeployment(mode.mode, compiled.module_hash))
        state.charge(canister, budget.used)

    def _upgrade(
        self,
        canister: CanisterState,
        caller: Principal,
        compiled: CanisterModule,
        raw: bytes,
        arg: bytes,
        mode: InstallMode,
        limit: int,
    ) -> None:
        """``pre_upgrade`` on the old instance, then start and ``post_upgrade`` on the new one,
        all in one transaction over the old instance and the stable memory."""
        state = self.state
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
        budget = _Budget(state.runtime, limit)
        stable = canister.stable
        pre_certified: bytes | None = None
        balance = canister.cycles
        new_version = canister.version + 1
        try:
            state.check_declared_memory(canister, compiled, len(raw))
            with message_transaction(old, stable) as transaction:
                if not mode.skip_pre_upgrade and old.compiled.info.has("canister_pre_upgrade"):
                    ctx = self._context(
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
                new = state.runtime.instantiate(compiled)
                if persistence == "keep":
                    state.runtime.carry_heap(new, old.live_heap())
                ctx = self._context(canister, Context.START, caller, b"", stable, new_version, 0)
                ctx.balance = balance
                if compiled.plan.start_export:
                    budget.run(new, compiled.plan.start_export, ctx)
                balance = ctx.balance
                ctx = self._context(canister, Context.INIT, caller, arg, stable, new_version, 0)
                ctx.balance = balance
                if compiled.info.has("canister_post_upgrade"):
                    budget.run(new, "canister_post_upgrade", ctx)
                state.check_memory_limit(canister, new, stable, raw)
                new.commit()
                # the stable memory keeps what the upgrade wrote; the old instance, which
                # pre_upgrade may have changed, is dropped right after
                transaction.commit()
        except CanisterTrap as trap:
            raise self._fail(canister, budget, trap) from None
        canister.instance = new
        canister.raw_module = raw
        canister.cycles = ctx.balance
        if ctx.new_certified_data is not None:
            canister.certified_data = ctx.new_certified_data
        elif pre_certified is not None:
            canister.certified_data = pre_certified
        canister.global_timer = ctx.new_global_timer if ctx.new_global_timer is not None else 0
        canister.version = new_version
        canister.append_logs(budget.logs, state.time)
        canister.record_change(state.time, caller, management.CodeDeployment("upgrade", compiled.module_hash))
        state.charge(canister, budget.used)
