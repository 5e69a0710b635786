"""The replicated state of a subnet's execution, and the bookkeeping every operation shares.

Time, the canisters by raw id, the next canister index and the deleted indices are what
the state hash covers (with each canister's own state). The operations on this state
(messages, code installation, the management canister, snapshots) are separate parts
that all hold the one :class:`ExecutionState`; the environment composes them.
"""

from __future__ import annotations

from collections import deque

from node.ic.call_context import Callback, CallContext, Origin, QueuedMessage
from node.ic.canister import CanisterInstance, CanisterState, CanisterStatus, require_controller
from node.ic.config import ExecutionConfig
from node.ic.errors import CanisterEmpty, CanisterNotFound, CanisterStopped, CanisterTrap, OutOfCycles
from node.ic.ic0 import Context
from node.ic.paused import PausedExecution
from node.ic.runtime import CanisterModule, CanisterRuntime
from node.ic.stable_memory import StableMemory
from node.ic.system_api import ApiContext
from node.wasm.instance import WASM_PAGE
from vocab.principal import CanisterId, Principal

_SettingsView = tuple[object, tuple[bytes, ...], tuple[tuple[str, str], ...]]


class ExecutionState:
    """All canisters of a subnet, the time, and the runtime that executes their code."""

    def __init__(self, config: ExecutionConfig, runtime: CanisterRuntime, time: int = 0) -> None:
        self.config = config
        self.runtime = runtime
        self.time = time
        self.canisters: dict[bytes, CanisterState] = {}
        self.next_canister_index = config.first_canister_index
        self.deleted: set[int] = set()
        # Inter-canister calls (node.ic.calls): open call contexts and outstanding callbacks
        # by id, the input queue of each canister (raw id; the management canister's is
        # b""), and the canisters' pending stop requests. A new id is one more than the
        # largest in use, so ids follow from the state alone (no counter to keep in step).
        self.call_contexts: dict[int, CallContext] = {}
        self.callbacks: dict[int, Callback] = {}
        self.queues: dict[bytes, deque[QueuedMessage]] = {}
        self.stop_waiters: dict[bytes, list[Origin]] = {}
        self.completed: list[tuple[bytes, object]] = []
        self.paused: dict[bytes, PausedExecution] = {}
        """Long updates in flight, by raw canister id (``node.ic.slicing``)."""
        self.round: int | None = None
        """The round (block height) executing, set by the replicated state machine; ``None``
        when execution is driven directly (tools, tests): no message is then sliced."""
        """Answers to ingress call contexts, (token, CallResult), in the order they were
        given; the caller of the scheduler takes them out before the batch ends, so they
        are never part of the state between batches."""
        self._settings_views: dict[int, _SettingsView] = {}

    # -- time and lookup -------------------------------------------------------------------

    def advance_time(self, time: int) -> None:
        """Move to ``time``; replicated state never sees time go backwards."""
        if time < self.time:
            raise ValueError(f"time cannot go backwards: {time} < {self.time}")
        self.time = time

    def canister(self, canister_id: CanisterId | Principal) -> CanisterState:
        if isinstance(canister_id, CanisterId):
            raw = canister_id.index.to_bytes(8, "big") + b"\x01\x01"  # = .principal.raw, cheaper
        else:
            raw = canister_id.raw
        state = self.canisters.get(raw)
        if state is None:
            raise CanisterNotFound(canister_id.to_text())
        return state

    def controlled(
        self, caller: Principal, canister_id: CanisterId, time: int | None = None
    ) -> CanisterState:
        """The canister, after moving to ``time`` (if given), if ``caller`` controls it."""
        if time is not None:
            self.advance_time(time)
        canister = self.canister(canister_id)
        require_controller(canister, caller)
        return canister

    def canister_ids(self) -> list[CanisterId]:
        return [self.canisters[raw].canister_id for raw in sorted(self.canisters)]

    # -- contexts and accounting -----------------------------------------------------------

    def api_context(
        self,
        canister: CanisterState,
        kind: Context,
        *,
        caller: Principal,
        arg: bytes = b"",
        method_name: str = "",
        time: int | None = None,
        cycles: int = 0,
        data_certificate: bytes | None = None,
        version: int | None = None,
    ) -> ApiContext:
        settings = canister.settings
        cached = self._settings_views.get(id(settings))
        if cached is None or cached[0] is not settings:
            # per-settings views, rebuilt only when the settings object is replaced
            cached = (
                settings,
                tuple(p.raw for p in settings.controllers),
                tuple(sorted(settings.environment_variables)),
            )
            self._settings_views[id(settings)] = cached
        config = self.config
        return ApiContext(
            kind,
            canister_id=canister.principal_raw,
            caller=caller.raw,
            arg=arg,
            method_name=method_name,
            time=self.time if time is None else time,
            controllers=cached[1],
            status=canister.status.code,
            canister_version=canister.version if version is None else version,
            balance=canister.cycles,
            stable=canister.stable,
            max_stable_pages=config.max_stable_pages,
            global_timer=canister.global_timer,
            subnet_id=config.subnet_id.raw,
            root_key=config.root_key,
            cycles_available=cycles,
            data_certificate=data_certificate,
            env_vars=cached[2],
            certified_data=canister.certified_data,
        )

    def check_cycles(self, canister: CanisterState, limit: int) -> None:
        needed = self.config.execution_fee(limit)
        if canister.cycles < needed:
            raise OutOfCycles(canister.canister_id.to_text(), needed, canister.cycles)

    def charge(self, canister: CanisterState, instructions: int) -> int:
        fee = min(canister.cycles, self.config.execution_fee(instructions))
        canister.cycles -= fee
        return fee

    def runnable(self, canister: CanisterState) -> CanisterInstance:
        """The canister's instance, if it has code and is running."""
        if canister.instance is None:
            raise CanisterEmpty(canister.canister_id.to_text())
        if canister.status is not CanisterStatus.RUNNING:
            raise CanisterStopped(canister.canister_id.to_text(), canister.status.value)
        return canister.instance

    def check_declared_memory(self, canister: CanisterState, compiled: CanisterModule, raw_size: int) -> None:
        """Refuse, before instantiating it, a module whose declared initial memory is above
        the canister's ``wasm_memory_limit``: instantiation would allocate it all on every
        replica, only for the install to fail afterwards."""
        limit = canister.settings.wasm_memory_limit
        declared = compiled.info.initial_memory_bytes
        if limit and declared > limit:
            raise CanisterTrap(
                f"Canister exceeded its current Wasm memory limit of {limit} bytes: the module "
                f"declares an initial Wasm memory of {declared} bytes "
                f"({declared // WASM_PAGE} pages of 64 KiB).",
                "wasm_memory_limit",
                "IC0539",
            )
        snapshots = sum(s.total_size for s in canister.snapshots.values())
        self.check_subnet_memory(canister, declared + raw_size + canister.stable.size_bytes + snapshots)

    def check_subnet_memory(self, canister: CanisterState, own: int) -> None:
        """Refuse a message or install after which all canisters together (this one at
        ``own`` bytes) would use more than the subnet's memory capacity: without it, one
        canister could grow every replica's memory until the machine gives out."""
        capacity = self.config.subnet_memory_capacity
        if not capacity:
            return
        others = sum(c.memory_size for c in self.canisters.values() if c is not canister)
        if others + own > capacity:
            raise CanisterTrap(
                f"Canister {canister.canister_id.to_text()} cannot grow its memory usage to {own} bytes: "
                f"the subnet's memory capacity of {capacity} bytes would be exceeded "
                f"({others} bytes are used by other canisters).",
                "subnet_memory_capacity",
                "IC0501",
            )

    def check_memory_limit(
        self,
        canister: CanisterState,
        instance: CanisterInstance,
        stable: StableMemory | None = None,
        raw_module: bytes | None = None,
    ) -> None:
        """After a message: the heap within ``wasm_memory_limit``, and the canister (with the
        ``stable`` memory and ``raw_module`` the message leaves it with) within the subnet's
        capacity."""
        limit = canister.settings.wasm_memory_limit
        if limit and instance.heap_len() > limit:
            raise CanisterTrap(
                f"Canister exceeded its current Wasm memory limit of {limit} bytes. The peak "
                f"Wasm memory usage was {instance.heap_len()} bytes.",
                "wasm_memory_limit",
                "IC0539",
            )
        stable = stable if stable is not None else canister.stable
        raw_module = raw_module if raw_module is not None else canister.raw_module
        snapshots = sum(s.total_size for s in canister.snapshots.values())
        module = len(raw_module) if raw_module is not None else 0
        self.check_subnet_memory(canister, instance.heap_len() + stable.size_bytes + module + snapshots)
