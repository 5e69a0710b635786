"""Sui's programming model on the replica: Move modules compiled to Wasm, run by the shared
engine's wasmtime configuration with fuel as gas.

``vm`` links the modules of a call (through the called package version's linkage, so
every version of an upgraded package stays callable) and runs one function with BCS
arguments, returning BCS results, the values behind ``&mut`` arguments, and the object runtime's log;
``natives`` holds the framework's native functions and that log; ``heap`` is the call's
memory seen from the host (allocation, Move values to and from BCS).
"""

from node.sui.natives import EmittedEvent, ObjectEvent, ObjectLog, TxContext, derive_object_id
from node.sui.vm import (
    CallResult,
    InsufficientGas,
    InvalidCall,
    LinkError,
    MoveAbort,
    MoveError,
    MovePrimitiveRuntimeError,
    MoveVM,
    VMError,
)

__all__ = [
    "CallResult",
    "EmittedEvent",
    "InsufficientGas",
    "InvalidCall",
    "LinkError",
    "MoveAbort",
    "MoveError",
    "MovePrimitiveRuntimeError",
    "MoveVM",
    "ObjectEvent",
    "ObjectLog",
    "TxContext",
    "VMError",
    "derive_object_id",
]
