"""The Internet Computer's canister model, on top of the Wasm engine (``node.wasm``).

The ``ic0`` System API and the import tables it hands the engine (``system_api``,
``ic0``), the IC's module rules (``module_rules``), canister state and stable memory,
message execution in one transaction per message (``messages``, ``transaction``), code
installation (``lifecycle``), the management canister (``management``, ``snapshots``), the
state hash, and the replicated state machine consensus drives (``state_machine``).

The entry point is :class:`ExecutionEnvironment`, a sans-IO state machine: operations
(messages, management requests, rounds of system tasks) come in with their time; results
go out; :meth:`ExecutionEnvironment.state_hash` summarizes the state for comparison across
replicas.
"""

from node.ic.canister import CanisterSettings, CanisterState, CanisterStatus
from node.ic.config import ExecutionConfig
from node.ic.environment import ExecutionEnvironment
from node.ic.errors import CanisterTrap, ContractViolation, ExecutionError, InvalidModule
from node.ic.lifecycle import InstallMode
from node.ic.messages import CallResult, TaskResult
from node.ic.runtime import CanisterModule, CanisterRuntime

__all__ = [
    "CallResult",
    "CanisterModule",
    "CanisterRuntime",
    "CanisterSettings",
    "CanisterState",
    "CanisterStatus",
    "CanisterTrap",
    "ContractViolation",
    "ExecutionConfig",
    "ExecutionEnvironment",
    "ExecutionError",
    "InstallMode",
    "InvalidModule",
    "TaskResult",
]
