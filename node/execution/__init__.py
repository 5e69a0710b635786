"""Deterministic execution of Internet Computer canisters on wasmtime.

The entry point is :class:`ExecutionEnvironment`, a sans-IO state machine: operations
(messages, management requests, rounds of system tasks) come in with their time; results
go out; :meth:`ExecutionEnvironment.state_hash` summarizes the state for comparison across
replicas.
"""

from node.execution.canister import CanisterSettings, CanisterState, CanisterStatus
from node.execution.config import ExecutionConfig
from node.execution.engine import CompiledModule, ExecutionEngine, default_engine
from node.execution.environment import CallResult, ExecutionEnvironment, TaskResult
from node.execution.errors import (
    CanisterTrap,
    ContractViolation,
    ExecutionError,
    InvalidModule,
)
from node.execution.lifecycle import InstallMode

__all__ = [
    "CallResult",
    "CanisterSettings",
    "CanisterState",
    "CanisterStatus",
    "CanisterTrap",
    "CompiledModule",
    "ContractViolation",
    "ExecutionConfig",
    "ExecutionEngine",
    "ExecutionEnvironment",
    "ExecutionError",
    "InstallMode",
    "InvalidModule",
    "TaskResult",
    "default_engine",
]
