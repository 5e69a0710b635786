"""The Wasm engine as canisters use it: the IC's module rules, the ``ic0`` imports, IC traps.

This is the one place where the IC canister model meets the generic engine: modules are
compiled against :func:`~node.ic.module_rules.canister_module_rules`, instances are linked
against the System API's import table for their pointer width and bounded by the IC's heap
limits, and every way a call into Wasm can stop comes back as a
:class:`~node.ic.errors.CanisterTrap` worded as the IC words it.
"""

from __future__ import annotations

from node.ic.canister import CanisterInstance
from node.ic.config import MAX_HEAP_32, MAX_HEAP_64
from node.ic.errors import CanisterTrap, InvalidModule, canister_trap
from node.ic.module_rules import ModuleInfo, canister_module_rules
from node.ic.system_api import SYSTEM_API, ApiContext
from node.wasm.engine import CompiledModule, WasmEngine
from node.wasm.errors import ModuleRejected, WasmTrap
from node.wasm.instance import InstanceState, WasmInstance

CanisterModule = CompiledModule[ModuleInfo]


class CanisterRuntime:
    """Compiles, instantiates and runs canister modules on one engine."""

    def __init__(self, engine: WasmEngine) -> None:
        self.engine = engine
        self.api = SYSTEM_API

    def compile(self, raw: bytes) -> CanisterModule:
        """Validate, instrument and compile ``raw`` (plain or gzip), or raise InvalidModule."""
        try:
            return self.engine.compile(raw, canister_module_rules)
        except ModuleRejected as exc:
            raise InvalidModule.from_rejected(exc) from exc

    def instantiate(self, compiled: CanisterModule, state: InstanceState | None = None) -> CanisterInstance:
        """A fresh instance of ``compiled``, holding ``state`` (heap and globals) if given."""
        heap_limit = MAX_HEAP_64 if compiled.memory64 else MAX_HEAP_32
        try:
            instance = WasmInstance(self.engine, compiled, self.api.imports(compiled.memory64), heap_limit)
            if state is not None:
                instance.restore(state)
        except CanisterTrap:
            raise
        except WasmTrap as stop:
            raise canister_trap(stop) from None
        return instance

    def instantiate_pages(
        self, compiled: CanisterModule, length: int, pages: list[tuple[int, bytes]], globals_: bytes
    ) -> CanisterInstance:
        """A fresh instance of ``compiled`` holding a sparse heap (``length`` bytes, zero but
        for ``pages``) and ``globals_``: a checkpoint's heap written page by page into the
        instance, without a full copy of it on the way."""
        instance = self.instantiate(compiled)
        try:
            instance.load_pages(length, pages, globals_)
        except CanisterTrap:
            raise
        except WasmTrap as stop:
            raise canister_trap(stop) from None
        return instance

    def carry_heap(self, instance: CanisterInstance, heap: bytes) -> None:
        """Load another instance's heap into ``instance`` (an upgrade that keeps Wasm memory)."""
        try:
            instance.load_state(heap, None)
        except CanisterTrap:
            raise
        except WasmTrap as stop:
            raise canister_trap(stop) from None

    def run(self, instance: CanisterInstance, export: str, ctx: ApiContext, limit: int) -> int:
        """Run ``export`` with ``ctx`` as the System API context; return instructions used.

        Raises :class:`CanisterTrap` (with ``instructions``) when the function traps, breaks
        the System API contract or exceeds ``limit``; commits and rolls back nothing.
        """
        ctx.instance = instance
        ctx.fuel_limit = limit
        api = self.api
        api.current = ctx
        try:
            return instance.call(export, limit, ctx)
        except CanisterTrap:
            raise
        except WasmTrap as stop:
            raise canister_trap(stop) from None
        finally:
            api.current = None

    def run_callback(
        self, instance: CanisterInstance, function: tuple[int, int], ctx: ApiContext, limit: int
    ) -> int:
        """Run a callback, ``(table index, env)`` as ``ic0.call_new`` named it, like :meth:`run`."""
        ctx.instance = instance
        ctx.fuel_limit = limit
        api = self.api
        api.current = ctx
        try:
            return instance.call_table(function[0], function[1], limit, ctx)
        except CanisterTrap:
            raise
        except WasmTrap as stop:
            raise canister_trap(stop) from None
        finally:
            api.current = None
