"""What the engine reports when a module is refused or a call into Wasm stops early.

The engine knows nothing of canisters, so these errors carry facts (a rule's name, the
trap's text, the instructions used) and no reject codes; the host API that uses the engine
turns them into its own errors (``node.ic.errors.canister_trap`` for the IC).
"""

from __future__ import annotations


class ModuleRejected(Exception):
    """A module the engine (or the host API's module rules) refuses; ``rule`` names why."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message


class WasmTrap(Exception):
    """A call into Wasm stopped before it returned; the caller decides what to roll back.

    Host functions stop a call by raising a subclass of this: the engine then fills in
    ``instructions`` (what the call used up to the stop) and lets it through unchanged.
    """

    instructions: int = 0


class OutOfFuel(WasmTrap):
    """The call used more than ``limit`` instructions (Wasm fuel plus host charges)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"out of fuel (limit {limit})")
        self.limit = limit


class Trapped(WasmTrap):
    """Wasm trapped (``unreachable``, a bad memory access, ...); ``text`` says which trap."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


class MissingExport(WasmTrap):
    """The module exports no function named ``export``."""

    def __init__(self, export: str) -> None:
        super().__init__(f"no exported function '{export}'")
        self.export = export


class InstantiationFailed(WasmTrap):
    """Instantiating the module failed (a data segment out of bounds, a trap in init)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text
