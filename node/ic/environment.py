"""The execution environment: a sans-IO state machine over a subnet's canisters.

It takes operations that carry their own time (an ingress update, a query, a management
request, a round of system tasks) and returns results. It reads no clock and no entropy:
two environments fed the same operations end in the same state, which
:func:`node.ic.state_hash.state_hash` proves. Consensus feeds it finalized blocks through
:class:`node.ic.state_machine.WasmStateMachine`; tests and :mod:`subnet.pocket` feed it
directly.

The environment is composed of parts that share one :class:`ExecutionState`: messages
(:class:`Messages`), code installation (:class:`Lifecycle`), the rest of the management
canister (:class:`Management`), snapshots (:class:`Snapshots`) and inter-canister calls
(:class:`Calls`, which also starts and stops canisters). Its operations are
theirs, bound as attributes, so each keeps its own signature and documentation.
"""

from __future__ import annotations

from node.ic.calls import Calls
from node.ic.config import ExecutionConfig
from node.ic.lifecycle import Lifecycle
from node.ic.management import Management
from node.ic.messages import Messages
from node.ic.runtime import CanisterRuntime
from node.ic.snapshots import Snapshots
from node.ic.state import ExecutionState
from node.ic.state_hash import state_hash
from node.wasm.engine import WasmEngine, default_engine


class ExecutionEnvironment:
    """All canisters of a subnet and the operations that change them."""

    def __init__(
        self, config: ExecutionConfig | None = None, engine: WasmEngine | None = None, time: int = 0
    ) -> None:
        self.state = ExecutionState(
            config or ExecutionConfig(), CanisterRuntime(engine or default_engine()), time
        )
        self.messages = Messages(self.state)
        self.lifecycle = Lifecycle(self.state)
        self.management = Management(self.state)
        self.snapshots = Snapshots(self.state, self.lifecycle)
        self.calls = Calls(self.state, self.messages)
        self.lifecycle.slicer = self.calls.slicing

        self.update = self.calls.update
        self.submit = self.calls.submit
        self.run_messages = self.calls.run
        self.take_answer = self.calls.take
        self.messages_pending = self.calls.pending
        self.query = self.messages.query
        self.inspect_message = self.messages.inspect_message
        self.run_system_tasks = self.messages.run_system_tasks
        self.system_tasks_due = self.messages.system_tasks_due

        self.install_code = self.lifecycle.install_code
        self.uninstall_code = self.lifecycle.uninstall_code

        self.create_canister = self.management.create_canister
        self.add_cycles = self.management.add_cycles
        self.start_canister = self.calls.start_canister
        self.stop_canister = self.calls.stop_canister
        self.delete_canister = self.management.delete_canister
        self.update_settings = self.management.update_settings
        self.canister_status = self.management.canister_status
        self.canister_info = self.management.canister_info
        self.fetch_canister_logs = self.management.fetch_canister_logs
        self.canister_metadata = self.management.canister_metadata
        self.get_stable_memory = self.management.get_stable_memory
        self.set_stable_memory = self.management.set_stable_memory

        self.take_canister_snapshot = self.snapshots.take_canister_snapshot
        self.load_canister_snapshot = self.snapshots.load_canister_snapshot
        self.list_canister_snapshots = self.snapshots.list_canister_snapshots
        self.delete_canister_snapshot = self.snapshots.delete_canister_snapshot

        self.advance_time = self.state.advance_time
        self.canister = self.state.canister
        self.canister_ids = self.state.canister_ids

    @property
    def config(self) -> ExecutionConfig:
        return self.state.config

    @property
    def engine(self) -> WasmEngine:
        return self.state.runtime.engine

    @property
    def time(self) -> int:
        return self.state.time

    def state_hash(self) -> bytes:
        return state_hash(self.state)
