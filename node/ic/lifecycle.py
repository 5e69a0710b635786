"""Installing, reinstalling, upgrading and uninstalling canister code.

The rule that shapes this module: a failing ``install_code`` at any step leaves the canister
exactly as it was. Install and reinstall therefore build the new instance and stable memory
on the side and swap them in only on success. An upgrade runs ``pre_upgrade`` on the live old
instance (its heap is the input to a ``keep`` upgrade), so on failure the old instance is
rolled back through the same dirty-page machinery as a trapped message, and the stable
memory's undo log, opened before ``pre_upgrade``, covers the whole sequence. The steps
themselves are ``node.ic.install_steps``.

Like the IC, an install that needs more than one slice of instructions (deterministic time
slicing) is not run to its end inside the round: its first slice is rolled back and the
canister is paused until the round its instructions say, as a long update is
(``node.ic.slicing``); the reply comes then.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from node.ic.call_context import Origin
from node.ic.canister import CanisterState
from node.ic.errors import CanisterStateError, CanisterTrap, InvalidArgument, from_canister, trap_log
from node.ic.ic0 import Context
from node.ic.install_steps import Budget, Steps, run_steps
from node.ic.messages import SliceExhausted
from node.ic.paused import InstallRequest, MessageInputs, PausedExecution
from node.ic.runtime import CanisterModule
from node.ic.stable_memory import StableMemory
from node.ic.state import ExecutionState
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


class InstallSlicer(Protocol):
    """Deterministic time slicing as ``install_code`` uses it (``node.ic.slicing``)."""

    def active(self, limit: int) -> bool: ...

    def pause(self, canister: CanisterState, paused: PausedExecution, compiled: CanisterModule) -> None: ...


class Lifecycle:
    """``install_code`` and ``uninstall_code`` of the management canister."""

    def __init__(self, state: ExecutionState) -> None:
        self.state = state
        self.slicer: InstallSlicer | None = None
        """Slices long installs (``node.ic.slicing``); set by the environment."""

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
        answer: Origin | None = None,
        refund: int = 0,
    ) -> bool:
        """Install, reinstall or upgrade; raises a RejectError and changes nothing on failure.

        With deterministic time slicing on and ``answer`` given (who waits for the reply,
        and the cycles the call attached, given back with it), an install that needs more
        than one slice pauses its canister and completes in a later round
        (``node.ic.slicing``): then it returns ``False`` and the answer comes at completion;
        otherwise ``True``.
        """
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
        upgrade = None
        if mode.mode == "upgrade":
            self._check_upgrade(canister, compiled, mode)
            upgrade = (mode.skip_pre_upgrade, mode.wasm_memory_persistence)
        inputs = MessageInputs.of(state.api_context(canister, Context.INIT, caller=caller, arg=arg))
        slicer = self.slicer
        sliced = answer is not None and slicer is not None and slicer.active(limit)
        run_limit = min(limit, state.config.instructions_per_slice) if sliced else limit
        try:
            self._run(canister, compiled, wasm_module, mode.mode, inputs, upgrade, limit, run_limit)
            return True
        except SliceExhausted:
            assert answer is not None and slicer is not None  # only a sliced run stops at its slice
        assert state.round is not None
        request = InstallRequest(
            mode.mode, mode.skip_pre_upgrade, mode.wasm_memory_persistence, wasm_module, answer, refund
        )
        paused = PausedExecution(
            canister.principal_raw, None, management.INSTALL_CODE, inputs, state.round, limit, install=request
        )
        slicer.pause(canister, paused, compiled)
        return False

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

    def _check_upgrade(self, canister: CanisterState, compiled: CanisterModule, mode: InstallMode) -> None:
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

    def _run(
        self,
        canister: CanisterState,
        compiled: CanisterModule,
        raw: bytes,
        mode: str,
        inputs: MessageInputs,
        upgrade: tuple[bool | None, str | None] | None,
        limit: int,
        run_limit: int,
    ) -> None:
        """The steps, synchronously, with ``run_limit`` instructions: committed if they
        succeed; on failure the canister is left as it was (its logs and the fee aside).
        Below ``limit`` (one slice), running out raises :class:`SliceExhausted` instead,
        with nothing changed and nothing charged.

        Install and reinstall build the new instance and stable memory on the side. An
        upgrade runs ``pre_upgrade`` on the live old instance (its heap is the input to a
        ``keep`` upgrade), so all steps run in one transaction over the old instance and
        the stable memory: a failure rolls both back."""
        state = self.state
        budget = Budget(state.runtime, run_limit)
        try:
            try:
                state.check_declared_memory(canister, compiled, len(raw))
                if upgrade is None:
                    stable = StableMemory()
                    steps = run_steps(
                        state.runtime,
                        state.config,
                        canister.principal_raw,
                        inputs,
                        None,
                        compiled,
                        None,
                        stable,
                        budget,
                    )
                    state.check_memory_limit(canister, steps.instance, stable, raw)
                    steps.instance.commit()
                else:
                    old = canister.instance
                    stable = canister.stable
                    assert old is not None
                    with message_transaction(old, stable) as transaction:
                        steps = run_steps(
                            state.runtime,
                            state.config,
                            canister.principal_raw,
                            inputs,
                            upgrade,
                            compiled,
                            old,
                            stable,
                            budget,
                        )
                        state.check_memory_limit(canister, steps.instance, stable, raw)
                        steps.instance.commit()
                        # the stable memory keeps what the upgrade wrote; the old instance,
                        # which pre_upgrade may have changed, is dropped right after
                        transaction.commit()
            except CanisterTrap as trap:
                if run_limit < limit and trap.kind == "out_of_instructions":
                    raise SliceExhausted(run_limit) from None
                raise
        except CanisterTrap as trap:
            raise self.fail(canister, inputs, budget.logs, budget.used, trap) from None
        self.commit(canister, inputs, mode, compiled, raw, steps, stable, budget.logs, budget.used)

    def fail(
        self, canister: CanisterState, inputs: MessageInputs, logs: list[bytes], used: int, trap: CanisterTrap
    ) -> CanisterTrap:
        """A failed install's only traces, its logs and the fee; the error for its caller."""
        canister.append_logs([*logs, trap_log(trap)], inputs.time)
        self.state.charge(canister, used)
        wrapped = from_canister(canister.canister_id.to_text(), trap)
        assert isinstance(wrapped, CanisterTrap)
        return wrapped

    def commit(
        self,
        canister: CanisterState,
        inputs: MessageInputs,
        mode: str,
        compiled: CanisterModule,
        raw: bytes,
        steps: Steps,
        stable: StableMemory,
        logs: list[bytes],
        used: int,
    ) -> None:
        """A successful install's effects (its instance and stable memory committed): the
        new code, what its steps left (cycles, certified data, timer), version, logs,
        history, fee. Cycles are applied as a change, since the balance may have changed
        while a sliced install was paused; the history and logs bear the install's time,
        as on the IC."""
        ctx = steps.ctx
        drift = canister.cycles - inputs.balance
        canister.instance = steps.instance
        canister.raw_module = raw
        canister.stable = stable
        canister.cycles = ctx.balance + drift
        if mode != "upgrade":
            canister.certified_data = ctx.new_certified_data if ctx.new_certified_data is not None else b""
        elif ctx.new_certified_data is not None:
            canister.certified_data = ctx.new_certified_data
        elif steps.pre_certified is not None:
            canister.certified_data = steps.pre_certified
        canister.global_timer = ctx.new_global_timer if ctx.new_global_timer is not None else 0
        canister.version = inputs.version + 1
        if mode == "reinstall":
            canister.logs = []
        canister.append_logs(logs, inputs.time)
        canister.record_change(
            inputs.time, Principal(inputs.caller), management.CodeDeployment(mode, compiled.module_hash)
        )
        self.state.charge(canister, used)
