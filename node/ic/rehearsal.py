"""An upgrade rehearsed on a copy of one canister: what the real ``install_code`` would do.

Before an upgrade a developer wants to know whether it will go through: whether
``pre_upgrade`` still fits the instruction limit on the canister's *current* state (a
canister that serializes a large heap in ``pre_upgrade`` can become impossible to upgrade),
whether ``post_upgrade`` traps, how memory changes. ``rehearse_upgrade`` runs the upgrade
exactly as ``Lifecycle.install_code`` runs it (the same code, the same checks, the same
budget shared by ``pre_upgrade``, the start function and ``post_upgrade``) on a fork of
the execution state in which only the target canister is copied (its instance rebuilt
from its committed heap and globals, its stable memory copied); the other canisters are
shared read-only, for the subnet's memory capacity check, and nothing in the fork is
kept. The runtime of the fork records each hook's instructions, including those of a
hook that trapped or ran out.

The report is plain data (``to_json``), the same on every replica that runs it on the
same state: integers only (the headroom is in hundredths of a percent), no floats.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from node.ic.canister import CanisterInstance, CanisterState
from node.ic.config import INSTALL_INSTRUCTIONS
from node.ic.errors import CanisterTrap
from node.ic.lifecycle import InstallMode, Lifecycle
from node.ic.runtime import CanisterRuntime
from node.ic.state import ExecutionState
from node.ic.system_api import ApiContext
from vocab.errors import RejectError
from vocab.principal import CanisterId, Principal

HOOKS = {"canister_pre_upgrade": "pre_upgrade", "canister_post_upgrade": "post_upgrade"}
"""Exports of an upgrade and the names the report gives them (anything else: ``start``)."""


class _RecordingRuntime(CanisterRuntime):
    """The canister runtime, recording each export run and the instructions it used."""

    def __init__(self, runtime: CanisterRuntime) -> None:
        super().__init__(runtime.engine)
        self.api = runtime.api
        self.runs: list[tuple[str, int, bool]] = []
        """(hook, instructions, whether it stopped the upgrade) in the order they ran."""

    def run(self, instance: CanisterInstance, export: str, ctx: ApiContext, limit: int) -> int:
        hook = HOOKS.get(export, "start")
        try:
            used = super().run(instance, export, ctx, limit)
        except CanisterTrap as trap:
            self.runs.append((hook, int(getattr(trap, "instructions", 0) or 0), True))
            raise
        self.runs.append((hook, used, False))
        return used


@dataclass
class UpgradeRehearsal:
    """What an upgrade did on the copy: per hook its instructions, the budget, memory
    before and after, and the error (with the hook it happened in) if it failed."""

    canister_id: str
    limit: int
    module_hash_before: bytes | None
    module_hash_after: bytes | None
    heap_before: int
    stable_before: int
    heap_after: int | None = None
    stable_after: int | None = None
    instructions: dict[str, int] = field(default_factory=dict)
    error: RejectError | None = None
    failed_in: str | None = None

    @property
    def used(self) -> int:
        return sum(self.instructions.values())

    @property
    def headroom_basis_points(self) -> int:
        """Hundredths of a percent of the limit left after the upgrade (negative: over it)."""
        return (self.limit - self.used) * 10_000 // self.limit

    def to_json(self) -> dict[str, Any]:
        report: dict[str, Any] = {
            "canister_id": self.canister_id,
            "ok": self.error is None,
            "instruction_limit": self.limit,
            "ic_instruction_limit": INSTALL_INSTRUCTIONS,
            "instructions": dict(sorted(self.instructions.items())),
            "instructions_total": self.used,
            "headroom_basis_points": self.headroom_basis_points,
            "module_hash_before": None if self.module_hash_before is None else self.module_hash_before.hex(),
            "module_hash_after": None if self.module_hash_after is None else self.module_hash_after.hex(),
            "heap_before": self.heap_before,
            "heap_after": self.heap_after,
            "stable_before": self.stable_before,
            "stable_after": self.stable_after,
        }
        if self.error is not None:
            report["error"] = {
                "reject_code": int(self.error.code),
                "error_code": self.error.error_code or "",
                "message": self.error.message,
                "kind": getattr(self.error, "kind", ""),
                "during": self.failed_in,
            }
        return report


def _copy(canister: CanisterState, runtime: CanisterRuntime) -> CanisterState:
    """The canister with its own instance, stable memory, settings and lists: what an
    upgrade changes of it, copied, so that the original stays untouched."""
    instance = canister.instance
    return dataclasses.replace(
        canister,
        settings=dataclasses.replace(canister.settings, controllers=list(canister.settings.controllers)),
        stable=canister.stable.copy(),
        instance=None if instance is None else runtime.instantiate(instance.compiled, instance.snapshot()),
        history=list(canister.history),
        logs=list(canister.logs),
        snapshots=dict(canister.snapshots),
    )


def rehearse_upgrade(
    state: ExecutionState,
    caller: Principal,
    canister_id: CanisterId,
    mode: InstallMode,
    wasm_module: bytes,
    arg: bytes,
    *,
    time: int,
) -> UpgradeRehearsal:
    """Run ``install_code`` in ``mode`` (an upgrade) on a fork of ``state`` and report;
    ``state`` is not changed. ``RejectError`` only when there is no such canister."""
    original = state.canister(canister_id)
    runtime = _RecordingRuntime(state.runtime)
    fork = ExecutionState(state.config, runtime, max(state.time, time))
    fork.canisters = dict(state.canisters)
    raw = original.principal.raw
    canister = _copy(original, runtime)
    fork.canisters[raw] = canister
    rehearsal = UpgradeRehearsal(
        canister_id.to_text(),
        state.config.install_limit,
        original.module_hash,
        None,
        original.instance.heap_size if original.instance is not None else 0,
        original.stable.size_bytes,
    )
    try:
        Lifecycle(fork).install_code(caller, canister_id, mode, wasm_module, arg, time=fork.time)
    except RejectError as error:
        rehearsal.error = error
        stopped = [hook for hook, _, failed in runtime.runs if failed]
        rehearsal.failed_in = stopped[0] if stopped else "install_code"
    else:
        rehearsal.module_hash_after = canister.module_hash
        rehearsal.heap_after = canister.instance.heap_size if canister.instance is not None else 0
        rehearsal.stable_after = canister.stable.size_bytes
    for hook, used, _ in runtime.runs:
        rehearsal.instructions[hook] = rehearsal.instructions.get(hook, 0) + used
    return rehearsal


__all__ = ["HOOKS", "UpgradeRehearsal", "rehearse_upgrade"]
