"""The errors execution raises, each mapped to an IC reject code.

A canister's own failure (a trap, running out of instructions, breaking the System API
contract) is ``CANISTER_ERROR`` (5); a request that names something that does not exist is
``DESTINATION_INVALID`` (3); a management request the caller may not make, or that the
canister's state does not allow, is ``CANISTER_ERROR`` as the IC reports it. The textual
``error_code`` follows the IC's ``IC05xx`` labels where one exists, so a client can match on
it instead of parsing English.
"""

from __future__ import annotations

from node.wasm.errors import (
    InstantiationFailed,
    MissingExport,
    ModuleRejected,
    OutOfFuel,
    Trapped,
    WasmTrap,
)
from vocab.errors import RejectCode, RejectError


class ExecutionError(RejectError):
    """Base class of every error the execution layer reports to a caller."""


class CanisterTrap(ExecutionError, WasmTrap):
    """A message's execution failed; its changes were rolled back.

    ``kind`` is a short stable tag (``trap``, ``explicit_trap``, ``out_of_instructions``,
    ``contract_violation``, ``no_response``) for tests and metrics. It is a ``WasmTrap``
    too, so that an ``ic0`` function raising it stops the Wasm call, and the engine
    records the ``instructions`` used up to that point.
    """

    def __init__(self, message: str, kind: str = "trap", error_code: str = "IC0502") -> None:
        super().__init__(RejectCode.CANISTER_ERROR, message, error_code)
        self.kind = kind


class ContractViolation(CanisterTrap):
    """The canister called the System API in a way the specification forbids."""

    def __init__(self, message: str) -> None:
        super().__init__(f"Canister violated contract: {message}", "contract_violation", "IC0504")


def out_of_instructions(limit: int) -> CanisterTrap:
    trap = CanisterTrap(
        f"Canister exceeded the instruction limit for single message execution (limit {limit}).",
        "out_of_instructions",
        "IC0522",
    )
    trap.instructions = limit
    return trap


def canister_trap(stop: WasmTrap) -> CanisterTrap:
    """The engine's report of a stopped call, as the IC words it (same ``instructions``)."""
    if isinstance(stop, CanisterTrap):
        return stop
    if isinstance(stop, OutOfFuel):
        trap = out_of_instructions(stop.limit)
    elif isinstance(stop, MissingExport):
        trap = CanisterTrap(f"Canister has no exported function '{stop.export}'")
    elif isinstance(stop, InstantiationFailed):
        trap = CanisterTrap(f"Canister trapped during instantiation: {stop.text}")
    elif isinstance(stop, Trapped):
        trap = CanisterTrap(f"Canister trapped: {stop.text}")
    else:
        trap = CanisterTrap(f"Canister trapped: {stop}")
    trap.instructions = stop.instructions
    return trap


def from_canister(canister_id: str, error: RejectError) -> RejectError:
    """``error`` as the caller sees it: prefixed with the canister it came from."""
    wrapped = type(error).__new__(type(error))
    RejectError.__init__(
        wrapped, error.code, f"Error from Canister {canister_id}: {error.message}", error.error_code
    )
    if isinstance(error, CanisterTrap):
        assert isinstance(wrapped, CanisterTrap)
        wrapped.kind = error.kind
    return wrapped


def trap_log(trap: CanisterTrap) -> bytes:
    """The canister log record of a trapped message."""
    return f"[TRAP]: {trap.message}".encode()


class InvalidModule(ExecutionError):
    """A module that breaks one of the IC's module rules; ``rule`` names which one."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(
            RejectCode.CANISTER_ERROR,
            f"Wasm module is not valid for the IC [{rule}]: {message}",
            "IC0505",
        )
        self.rule = rule

    @classmethod
    def from_rejected(cls, rejected: ModuleRejected) -> InvalidModule:
        return cls(rejected.rule, rejected.message)


class CanisterNotFound(ExecutionError):
    def __init__(self, canister: str) -> None:
        super().__init__(RejectCode.DESTINATION_INVALID, f"Canister {canister} not found.", "IC0301")


class MethodNotFound(ExecutionError):
    def __init__(self, canister: str, method: str, kind: str = "update or query") -> None:
        super().__init__(
            RejectCode.DESTINATION_INVALID,
            f"Canister {canister} has no {kind} method '{method}'.",
            "IC0302",
        )


class CanisterEmpty(ExecutionError):
    def __init__(self, canister: str) -> None:
        super().__init__(
            RejectCode.DESTINATION_INVALID,
            f"Canister {canister} has no Wasm module installed.",
            "IC0537",
        )


class NotAController(ExecutionError):
    def __init__(self, canister: str, controllers: str, sender: str) -> None:
        super().__init__(
            RejectCode.CANISTER_ERROR,
            f"Only the controllers of the canister {canister} can control it.\n"
            f"Canister's controllers: {controllers}\nSender's ID: {sender}",
            "IC0512",
        )


class CanisterStateError(ExecutionError):
    """A management request the canister's current state does not allow."""

    def __init__(self, message: str, error_code: str) -> None:
        super().__init__(RejectCode.CANISTER_ERROR, message, error_code)


class CanisterStopped(ExecutionError):
    """A call to a canister that is not running, worded as the IC's replica words it."""

    def __init__(self, canister: str, status: str) -> None:
        if status == "stopped":
            message, code = (
                f"Canister {canister} is stopped and therefore does not have a CallContextManager",
                "IC0508",
            )
        else:
            message, code = f"Canister {canister} is stopping", "IC0509"
        super().__init__(RejectCode.CANISTER_ERROR, message, code)


class OutOfCycles(ExecutionError):
    def __init__(self, canister: str, needed: int, balance: int) -> None:
        super().__init__(
            RejectCode.SYS_TRANSIENT,
            f"Canister {canister} is out of cycles: please top up the canister with at least "
            f"{needed - balance} additional cycles (balance {balance}, needed {needed}).",
            "IC0207",
        )


class InvalidArgument(ExecutionError):
    """A request whose arguments are malformed or out of range."""

    def __init__(self, message: str) -> None:
        super().__init__(RejectCode.CANISTER_ERROR, message, "IC0503")
