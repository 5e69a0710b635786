"""A deterministic WebAssembly engine, knowing nothing of canisters or packages.

``WasmEngine`` holds the wasmtime configuration (fuel, NaN canonicalization, no threads),
a compiled-module cache keyed by module hash, and one linker per host import table;
``WasmEngine.compile`` runs the engine's own checks, the caller's module rules, and the
instrumentation that makes rollback cheap. ``WasmInstance`` runs ``() -> ()`` exports under
a fuel limit, commits or rolls back what a call changed, and snapshots and restores heap
and globals. A host API (the IC's ``ic0`` in ``node.ic``; Sui packages later) hands the
engine its imports as a ``HostImports`` table and turns the engine's errors into its own.
"""

from node.wasm.engine import CompiledModule, ModuleRules, WasmEngine, default_engine, deterministic_config
from node.wasm.errors import (
    InstantiationFailed,
    MissingExport,
    ModuleRejected,
    OutOfFuel,
    Trapped,
    WasmTrap,
)
from node.wasm.host import HostFunction, HostImports
from node.wasm.instance import InstanceState, Meter, WasmInstance

__all__ = [
    "CompiledModule",
    "HostFunction",
    "HostImports",
    "InstanceState",
    "InstantiationFailed",
    "Meter",
    "MissingExport",
    "ModuleRejected",
    "ModuleRules",
    "OutOfFuel",
    "Trapped",
    "WasmEngine",
    "WasmInstance",
    "WasmTrap",
    "default_engine",
    "deterministic_config",
]
