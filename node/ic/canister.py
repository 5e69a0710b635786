"""A canister's state as execution keeps it: everything the state hash covers.

A canister is an id with controllers, a status, a cycles balance, a version counter, a
history of changes, certified data, a global timer, logs, snapshots, a stable memory and,
once code is installed, a live Wasm instance holding heap and globals.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from node.ic.config import DEFAULT_WASM_MEMORY_LIMIT
from node.ic.errors import NotAController
from node.ic.module_rules import ModuleInfo
from node.ic.stable_memory import StableMemory
from node.wasm.instance import WasmInstance
from vocab import management
from vocab.principal import CanisterId, Principal

MAX_CONTROLLERS = 10
MAX_HISTORY = 20
"""The IC keeps at least the 20 most recent changes; so do we, exactly 20."""
MAX_LOG_BYTES = 4096
"""Total size of a canister's log; the oldest records go first."""
DEFAULT_FREEZING_THRESHOLD = 2_592_000
DEFAULT_RESERVED_CYCLES_LIMIT = 5_000_000_000_000


CanisterInstance = WasmInstance[ModuleInfo]
"""A canister's live Wasm instance: the engine's instance, with the IC's facts about its module."""


class CanisterStatus(enum.Enum):
    RUNNING = "running"
    STOPPING = "stopping"
    STOPPED = "stopped"

    @property
    def code(self) -> int:
        """The value ``ic0.canister_status`` returns."""
        return _STATUS_CODES[self.value]


_STATUS_CODES = {"running": 1, "stopping": 2, "stopped": 3}


@dataclass
class CanisterSettings:
    """The settings of ``create_canister`` / ``update_settings`` that execution honours."""

    controllers: list[Principal]
    compute_allocation: int = 0
    memory_allocation: int = 0
    freezing_threshold: int = DEFAULT_FREEZING_THRESHOLD
    reserved_cycles_limit: int = DEFAULT_RESERVED_CYCLES_LIMIT
    wasm_memory_limit: int = DEFAULT_WASM_MEMORY_LIMIT
    """The IC's default, 3 GiB: updates, installs and upgrades fail above it; 0 is no limit."""
    wasm_memory_threshold: int = 0
    log_visibility: str = "controllers"
    environment_variables: tuple[tuple[str, str], ...] = ()


ChangeRow = tuple[tuple[Principal, ...], str | None, bytes | None, bytes | None, int | None, int | None]
"""A history entry's details, flat: controllers, mode, module hash, snapshot id, the
snapshot's time and its canister version (each None, or empty, where the kind has none)."""


def change_row(details: management.ChangeDetails) -> ChangeRow:
    """The flat form the state hash and checkpoints keep of a change's details."""
    if isinstance(details, (management.Creation, management.ControllersChange)):
        return details.controllers, None, None, None, None, None
    if isinstance(details, management.CodeDeployment):
        return (), details.mode, details.module_hash, None, None, None
    if isinstance(details, management.LoadSnapshot):
        return (), None, None, details.snapshot_id, details.taken_at_timestamp, details.canister_version
    return (), None, None, None, None, None


def change_details(kind: str, row: ChangeRow) -> management.ChangeDetails:
    """The details of a ``kind`` of change from their flat form (``change_row``'s inverse)."""
    controllers, mode, module_hash, snapshot_id, taken_at, snapshot_version = row
    if kind == "creation":
        return management.Creation(controllers)
    if kind == "controllers_change":
        return management.ControllersChange(controllers)
    if kind == "code_deployment":
        if mode is None or module_hash is None:
            raise ValueError("a code_deployment change has a mode and a module hash")
        return management.CodeDeployment(mode, module_hash)
    if kind == "load_snapshot":
        if snapshot_id is None or taken_at is None or snapshot_version is None:
            raise ValueError("a load_snapshot change has a snapshot id, its time and its canister version")
        return management.LoadSnapshot(snapshot_version, snapshot_id, taken_at)
    if kind != "code_uninstall":
        raise ValueError(f"unknown change kind {kind!r}")
    return kind


@dataclass
class SnapshotState:
    """A canister's full state at one moment: module, heap, globals, stable memory, more.

    What ``canister_info`` and the snapshot methods tell of it is ``summary``, the IC's
    ``snapshot`` record (``vocab.management.Snapshot``).
    """

    snapshot_id: bytes
    taken_at_timestamp: int
    canister_version: int
    raw_module: bytes
    heap: bytes
    globals: bytes
    stable: StableMemory
    certified_data: bytes
    global_timer: int

    @property
    def total_size(self) -> int:
        return len(self.raw_module) + len(self.heap) + self.stable.size_bytes

    @property
    def summary(self) -> management.Snapshot:
        return management.Snapshot(self.snapshot_id, self.taken_at_timestamp, self.total_size)


@dataclass
class CanisterState:
    canister_id: CanisterId
    settings: CanisterSettings
    cycles: int
    status: CanisterStatus = CanisterStatus.RUNNING
    version: int = 0
    certified_data: bytes = b""
    global_timer: int = 0
    stable: StableMemory = field(default_factory=StableMemory)
    instance: CanisterInstance | None = None
    raw_module: bytes | None = None
    history: list[management.Change] = field(default_factory=list)
    total_num_changes: int = 0
    logs: list[management.CanisterLogRecord] = field(default_factory=list)
    next_log_idx: int = 0
    snapshots: dict[bytes, SnapshotState] = field(default_factory=dict)
    next_snapshot_index: int = 0
    # Per-replica statistics: deliberately outside the state hash (queries run on one node).
    query_calls: int = 0
    query_instructions: int = 0

    @property
    def principal(self) -> Principal:
        return self.canister_id.principal

    @property
    def principal_raw(self) -> bytes:
        return self.canister_id.index.to_bytes(8, "big") + b"\x01\x01"

    @property
    def module_hash(self) -> bytes | None:
        return self.instance.compiled.module_hash if self.instance is not None else None

    @property
    def controllers(self) -> list[Principal]:
        return self.settings.controllers

    def is_controller(self, principal: Principal) -> bool:
        return principal in self.settings.controllers

    def record_change(self, time: int, caller: Principal, details: management.ChangeDetails) -> None:
        """Append to the history what ``caller`` changed, at the canister's current version."""
        self.history.append(management.Change(time, self.version, management.change_origin(caller), details))
        self.total_num_changes += 1
        if len(self.history) > MAX_HISTORY:
            del self.history[: len(self.history) - MAX_HISTORY]

    def append_logs(self, contents: list[bytes], time: int) -> None:
        if not contents:
            return
        for content in contents:
            self.logs.append(management.CanisterLogRecord(self.next_log_idx, time, content))
            self.next_log_idx += 1
        total = sum(len(r.content) for r in self.logs)
        while self.logs and total > MAX_LOG_BYTES:
            total -= len(self.logs[0].content)
            del self.logs[0]

    @property
    def memory_size(self) -> int:
        heap = self.instance.heap_size if self.instance is not None else 0
        module = len(self.raw_module) if self.raw_module is not None else 0
        snapshots = sum(s.total_size for s in self.snapshots.values())
        return heap + self.stable.size_bytes + module + snapshots


def require_controller(canister: CanisterState, caller: Principal) -> None:
    """Raise ``NotAController`` unless ``caller`` controls ``canister``."""
    if not canister.is_controller(caller):
        raise NotAController(
            canister.canister_id.to_text(),
            " ".join(p.to_text() for p in canister.controllers),
            caller.to_text(),
        )
