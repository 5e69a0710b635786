"""Run canisters without consensus, through an API named after PocketIC's Python library.

``PocketIC`` here wraps one deterministic :class:`~node.ic.ExecutionEnvironment` in
the calling process: no server, no network, simulated time. Method names follow
``pocket_ic.PocketIC`` (``create_canister``, ``add_cycles``, ``install_code``,
``update_call``, ``query_call``, ``set_time``, ``get_time``, ``advance_time``, ``tick``,
``get_stable_memory``, ``set_stable_memory``, ``get_cycles_balance``, ...), with additions
for the rest of the lifecycle (``reinstall_code``, ``upgrade_canister``,
``canister_status``, snapshots) and ``state_hash``.

Differences a user of the real library should know:

- arguments and replies are Candid *bytes* (encode with ``vocab.candid`` or by hand);
- errors are raised as :class:`vocab.errors.RejectError` with the IC reject code (a trap is
  code 5, ``CANISTER_ERROR``) instead of ``ValueError``;
- time starts at a fixed epoch and moves only by ``set_time`` / ``advance_time`` and by
  one nanosecond after every replicated operation, as successive IC blocks do;
- ``tick`` runs one round of heartbeats and due global timers, and the calls they make;
- an update call returns once every call it caused was answered (inter-canister calls
  run to completion inside it, each message one nanosecond after the last); calls from
  canisters to the management canister are served as on the replicated subnet.
"""

from __future__ import annotations

import gzip
from fractions import Fraction
from typing import Any

from node.ic import CanisterSettings, ExecutionConfig, ExecutionEnvironment, InstallMode, TaskResult
from node.ic.management import CanisterStatusReport
from node.ic.state_machine import WasmStateMachine
from node.wasm import WasmEngine
from vocab import management
from vocab.errors import RejectCode, RejectError
from vocab.principal import CanisterId, Principal

DEFAULT_START_TIME = 1_700_000_000_000_000_000
"""2023-11-14T22:13:20Z in nanoseconds: a fixed, reproducible start of simulated time."""

CanisterRef = Principal | CanisterId


def _canister_id(canister: CanisterRef) -> CanisterId:
    if isinstance(canister, CanisterId):
        return canister
    return CanisterId.from_principal(canister)


class PocketIC:
    """One simulated subnet, executed in-process and deterministically."""

    def __init__(
        self,
        *,
        instruction_scale: Fraction | int = 1,
        config: ExecutionConfig | None = None,
        engine: WasmEngine | None = None,
        start_time: int = DEFAULT_START_TIME,
    ) -> None:
        if config is None:
            config = ExecutionConfig(instruction_scale=Fraction(instruction_scale))
        self.env = ExecutionEnvironment(config, engine, time=start_time)
        # the replicated state machine's decoding of management calls, for canisters' calls
        WasmStateMachine(config.first_canister_index, config.last_canister_index + 1, config).env = self.env
        self._time = start_time
        self._rounds = 0
        self.sender = Principal.anonymous()

    # -- identity and time -----------------------------------------------------------------

    def set_sender(self, principal: Principal) -> None:
        self.sender = principal

    def set_anonymous_sender(self) -> None:
        self.sender = Principal.anonymous()

    def get_time(self) -> dict[str, int]:
        """``{'nanos_since_epoch': ...}``, as pocket_ic returns it."""
        return {"nanos_since_epoch": self._time}

    def set_time(self, time_nanosec: int) -> None:
        if time_nanosec < self.env.time:
            raise ValueError(
                f"cannot set the time to {time_nanosec}: the subnet is already at {self.env.time}"
            )
        self._time = time_nanosec

    def advance_time(self, nanosecs: int) -> None:
        if nanosecs < 0:
            raise ValueError("cannot advance time by a negative amount")
        self.set_time(self._time + nanosecs)

    def _round(self) -> int:
        """The time of the next replicated operation; afterwards time moves on by 1 ns."""
        now = self._time
        if self._rounds and self.env.time >= now:
            now = self.env.time + 1  # inter-canister messages moved the time on
        self._rounds += 1
        self._time = now + 1
        return now

    def tick(self) -> list[TaskResult]:
        """One round: heartbeats and global timers that are due, and the calls they made."""
        results = self.env.run_system_tasks(self._round())
        if self.env.messages_pending():
            self.env.run_messages(self.env.config.round_message_limit)
        return results

    # -- canisters ---------------------------------------------------------------------------

    def create_canister(
        self,
        settings: CanisterSettings | dict[str, Any] | None = None,
        subnet: Principal | None = None,
        canister_id: Principal | None = None,
        cycles: int | None = None,
    ) -> Principal:
        """Create an empty canister (provisional, with cycles); returns its id."""
        if subnet is not None and subnet != self.env.config.subnet_id:
            raise RejectError(
                RejectCode.DESTINATION_INVALID, f"subnet {subnet.to_text()} does not exist in this instance"
            )
        if isinstance(settings, dict):
            settings = CanisterSettings(**settings)
        created = self.env.create_canister(
            self.sender,
            time=self._round(),
            settings=settings,
            cycles=cycles,
            specified_id=_canister_id(canister_id) if canister_id is not None else None,
        )
        return created.principal

    def check_canister_exists(self, canister_id: CanisterRef) -> bool:
        return _canister_id(canister_id).principal.raw in self.env.state.canisters

    def add_cycles(self, canister_id: CanisterRef, amount: int) -> int:
        return self.env.add_cycles(_canister_id(canister_id), amount, time=self._round())

    def get_cycles_balance(self, canister_id: CanisterRef) -> int:
        return self.env.canister(_canister_id(canister_id)).cycles

    get_cycles = get_cycles_balance

    def get_stable_memory(self, canister_id: CanisterRef) -> bytes:
        return self.env.get_stable_memory(_canister_id(canister_id))

    def set_stable_memory(
        self, canister_id: CanisterRef, data: bytes, compression: str | None = None
    ) -> None:
        if compression == "gzip":
            data = gzip.decompress(data)
        elif compression is not None:
            raise ValueError(f"unknown compression {compression!r}; use None or 'gzip'")
        self.env.set_stable_memory(_canister_id(canister_id), data, time=self._round())

    # -- code ------------------------------------------------------------------------------

    def install_code(
        self, canister_id: CanisterRef, wasm_module: bytes, arg: bytes = b"DIDL\x00\x00"
    ) -> None:
        self._install(canister_id, InstallMode.install(), wasm_module, arg)

    def reinstall_code(
        self, canister_id: CanisterRef, wasm_module: bytes, arg: bytes = b"DIDL\x00\x00"
    ) -> None:
        self._install(canister_id, InstallMode.reinstall(), wasm_module, arg)

    def upgrade_canister(
        self,
        canister_id: CanisterRef,
        wasm_module: bytes,
        arg: bytes = b"DIDL\x00\x00",
        *,
        skip_pre_upgrade: bool | None = None,
        wasm_memory_persistence: str | None = None,
    ) -> None:
        self._install(
            canister_id, InstallMode.upgrade(skip_pre_upgrade, wasm_memory_persistence), wasm_module, arg
        )

    def _install(self, canister_id: CanisterRef, mode: InstallMode, wasm_module: bytes, arg: bytes) -> None:
        self.env.install_code(
            self.sender, _canister_id(canister_id), mode, wasm_module, arg, time=self._round()
        )

    def uninstall_code(self, canister_id: CanisterRef) -> None:
        self.env.uninstall_code(self.sender, _canister_id(canister_id), time=self._round())

    def create_and_install_canister(self, wasm_module: bytes, arg: bytes = b"DIDL\x00\x00") -> Principal:
        canister = self.create_canister()
        self.install_code(canister, wasm_module, arg)
        return canister

    # -- calls -----------------------------------------------------------------------------

    def update_call(self, canister_id: CanisterRef | None, method: str, payload: bytes) -> bytes:
        """An ingress update: ``canister_inspect_message`` first, then the method."""
        if canister_id is None or (isinstance(canister_id, Principal) and canister_id.is_management):
            raise RejectError(
                RejectCode.CANISTER_ERROR,
                "calls to the management canister take Candid arguments; use the typed methods "
                "of PocketIC (install_code, canister_status, ...) instead",
            )
        target = _canister_id(canister_id)
        refused = self.env.inspect_message(target, method, payload, caller=self.sender, time=self._time)
        if refused is not None:
            raise refused
        return self.env.update(target, method, payload, caller=self.sender, time=self._round()).unwrap()

    def query_call(self, canister_id: CanisterRef | None, method: str, payload: bytes) -> bytes:
        if canister_id is None:
            raise RejectError(
                RejectCode.CANISTER_ERROR, "query calls to the management canister are not supported here"
            )
        return self.env.query(
            _canister_id(canister_id), method, payload, caller=self.sender, time=self._time
        ).unwrap()

    # -- management ------------------------------------------------------------------------

    def canister_status(self, canister_id: CanisterRef) -> CanisterStatusReport:
        return self.env.canister_status(self.sender, _canister_id(canister_id))

    def canister_info(
        self, canister_id: CanisterRef, num_requested_changes: int | None = None
    ) -> management.CanisterInfoResult:
        return self.env.canister_info(_canister_id(canister_id), num_requested_changes)

    def start_canister(self, canister_id: CanisterRef) -> None:
        self.env.start_canister(self.sender, _canister_id(canister_id), time=self._round())

    def stop_canister(self, canister_id: CanisterRef) -> None:
        self.env.stop_canister(self.sender, _canister_id(canister_id), time=self._round())

    def delete_canister(self, canister_id: CanisterRef) -> None:
        self.env.delete_canister(self.sender, _canister_id(canister_id), time=self._round())

    def update_canister_settings(self, canister_id: CanisterRef, **settings: Any) -> None:
        self.env.update_settings(self.sender, _canister_id(canister_id), time=self._round(), **settings)

    def set_controllers(self, canister_id: CanisterRef, controllers: list[Principal]) -> None:
        self.update_canister_settings(canister_id, controllers=controllers)

    def fetch_canister_logs(self, canister_id: CanisterRef) -> list[management.CanisterLogRecord]:
        return self.env.fetch_canister_logs(self.sender, _canister_id(canister_id))

    def take_canister_snapshot(
        self, canister_id: CanisterRef, replace_snapshot: bytes | None = None
    ) -> management.Snapshot:
        return self.env.take_canister_snapshot(
            self.sender, _canister_id(canister_id), time=self._round(), replace_snapshot=replace_snapshot
        )

    def load_canister_snapshot(self, canister_id: CanisterRef, snapshot_id: bytes) -> None:
        self.env.load_canister_snapshot(
            self.sender, _canister_id(canister_id), snapshot_id, time=self._round()
        )

    def list_canister_snapshots(self, canister_id: CanisterRef) -> list[management.Snapshot]:
        return self.env.list_canister_snapshots(self.sender, _canister_id(canister_id))

    def delete_canister_snapshot(self, canister_id: CanisterRef, snapshot_id: bytes) -> None:
        self.env.delete_canister_snapshot(
            self.sender, _canister_id(canister_id), snapshot_id, time=self._round()
        )

    def get_root_key(self) -> bytes | None:
        """No root key until certification exists (pocket_ic returns None without NNS)."""
        return self.env.config.root_key or None

    def state_hash(self) -> bytes:
        return self.env.state_hash()
