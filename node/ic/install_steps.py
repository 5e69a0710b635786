"""The steps of one ``install_code``, run as one unit against one instruction budget.

Install and reinstall run the new module's start function, then ``canister_init``, on a
fresh instance and a fresh stable memory; an upgrade runs ``canister_pre_upgrade`` on the
old instance, then the new module's start function and ``canister_post_upgrade`` on a
fresh instance (holding the old heap with ``wasm_memory_persistence = keep``), over the
canister's stable memory. The IC counts all steps against one limit (300B instructions)
and, with deterministic time slicing, slices them together: a long ``post_upgrade`` pauses
the canister like a long update does (``node.ic.slicing``).

The same code serves the synchronous path (``node.ic.lifecycle``: the canister's live old
instance inside a transaction) and a paused install's worker (:func:`install_job`: copies,
with contexts built from the inputs the install started with), so that a sliced install
ends exactly as the same install unsliced.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from node.ic.canister import CanisterInstance
from node.ic.config import ExecutionConfig
from node.ic.errors import CanisterTrap
from node.ic.ic0 import Context
from node.ic.paused import InstallRequest, Job, MessageInputs, ObservedSystemApi, Outcome
from node.ic.runtime import CanisterModule, CanisterRuntime
from node.ic.stable_memory import StableMemory
from node.ic.system_api import ApiContext
from node.wasm.instance import InstanceState


class Budget:
    """The instructions an install_code request may still use across its steps, and the
    logs its steps wrote."""

    def __init__(self, runtime: CanisterRuntime, limit: int) -> None:
        self.runtime = runtime
        self.limit = limit
        self.used = 0
        self.logs: list[bytes] = []

    @property
    def remaining(self) -> int:
        return self.limit - self.used

    def run(self, instance: CanisterInstance, export: str, ctx: ApiContext) -> None:
        api = getattr(self.runtime, "api", None)
        if isinstance(api, ObservedSystemApi):  # a worker's run: its reports count earlier steps
            api.offset = self.used
        try:
            self.used += self.runtime.run(instance, export, ctx, self.remaining)
        except CanisterTrap as trap:
            self.used += trap.instructions
            self.logs.extend(ctx.logs)
            raise
        self.logs.extend(ctx.logs)


@dataclass(frozen=True)
class Steps:
    """What the steps left, to be committed by the caller."""

    instance: CanisterInstance
    """The new instance (its changes not committed yet)."""
    ctx: ApiContext
    """The last step's context: the balance, certified data and global timer it leaves."""
    pre_certified: bytes | None = None
    """An upgrade's certified data as ``pre_upgrade`` set it, if it did."""


def _context(
    config: ExecutionConfig,
    canister: bytes,
    inputs: MessageInputs,
    kind: Context,
    arg: bytes,
    stable: StableMemory,
    version: int,
    global_timer: int,
    balance: int,
) -> ApiContext:
    step = replace(inputs, kind=kind, arg=arg, version=version, global_timer=global_timer, balance=balance)
    return step.context(config, canister, stable)


def run_steps(
    runtime: CanisterRuntime,
    config: ExecutionConfig,
    canister: bytes,
    inputs: MessageInputs,
    upgrade: tuple[bool | None, str | None] | None,
    compiled: CanisterModule,
    old: CanisterInstance | None,
    stable: StableMemory,
    budget: Budget,
) -> Steps:
    """Run the steps: install or reinstall when ``upgrade`` is ``None``, else an upgrade with
    those options (``skip_pre_upgrade``, ``wasm_memory_persistence``) from ``old``.

    ``inputs`` is the canister as the install found it (``caller``, ``arg``: the install's
    argument, ``time``, ``version``, ``balance``, ``global_timer``, ...). Raises
    :class:`CanisterTrap` when a step fails; ``budget`` then holds what was used.
    Nothing is committed: the caller keeps or drops the instances and ``stable``.
    """
    new_version = inputs.version + 1
    balance = inputs.balance
    pre_certified: bytes | None = None
    if upgrade is None:
        instance = runtime.instantiate(compiled)
        ctx = _context(config, canister, inputs, Context.START, b"", stable, new_version, 0, balance)
        if compiled.plan.start_export:
            budget.run(instance, compiled.plan.start_export, ctx)
        ctx = _context(
            config, canister, inputs, Context.INIT, inputs.arg, stable, new_version, 0, ctx.balance
        )
        ctx.certified_data = b""
        if compiled.info.has("canister_init"):
            budget.run(instance, "canister_init", ctx)
        return Steps(instance, ctx)
    skip_pre_upgrade, persistence = upgrade
    assert old is not None
    if not skip_pre_upgrade and old.compiled.info.has("canister_pre_upgrade"):
        ctx = _context(
            config,
            canister,
            inputs,
            Context.PRE_UPGRADE,
            b"",
            stable,
            inputs.version,
            inputs.global_timer,
            balance,
        )
        budget.run(old, "canister_pre_upgrade", ctx)
        pre_certified = ctx.new_certified_data
        balance = ctx.balance
    new = runtime.instantiate(compiled)
    if persistence == "keep":
        runtime.carry_heap(new, old.live_heap())
    ctx = _context(config, canister, inputs, Context.START, b"", stable, new_version, 0, balance)
    if compiled.plan.start_export:
        budget.run(new, compiled.plan.start_export, ctx)
    ctx = _context(config, canister, inputs, Context.INIT, inputs.arg, stable, new_version, 0, ctx.balance)
    if compiled.info.has("canister_post_upgrade"):
        budget.run(new, "canister_post_upgrade", ctx)
    return Steps(new, ctx, pre_certified)


def upgrade_options(request: InstallRequest) -> tuple[bool | None, str | None] | None:
    """What :func:`run_steps` takes as ``upgrade`` for a paused install's request."""
    if request.mode != "upgrade":
        return None
    return request.skip_pre_upgrade, request.wasm_memory_persistence


def install_job(
    config: ExecutionConfig,
    canister: bytes,
    inputs: MessageInputs,
    request: InstallRequest,
    compiled: CanisterModule,
    old: tuple[CanisterModule, InstanceState] | None,
    stable: StableMemory,
) -> Job:
    """A paused install's run for its worker: every step from the start with the run's fuel,
    on a fresh copy of the old instance (an upgrade's ``old``: module and committed heap)
    and of ``stable`` (the canister's for an upgrade, an empty one otherwise)."""
    upgrade = upgrade_options(request)

    def run(runtime: CanisterRuntime, fuel: int) -> Outcome:
        budget = Budget(runtime, fuel)
        memory = stable.copy()
        memory.begin()
        try:
            previous = None if old is None else runtime.instantiate(old[0], old[1])
            steps = run_steps(runtime, config, canister, inputs, upgrade, compiled, previous, memory, budget)
        except CanisterTrap as trap:
            ctx = inputs.context(config, canister, memory)
            return Outcome(budget.used, ctx, trap=trap, logs=budget.logs)
        return Outcome(
            budget.used,
            steps.ctx,
            instance=steps.instance,
            stable=memory,
            logs=budget.logs,
            pre_certified=steps.pre_certified,
        )

    return run


__all__ = ["Budget", "Steps", "install_job", "run_steps", "upgrade_options"]
