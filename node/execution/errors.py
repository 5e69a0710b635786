"""The errors execution raises, each mapped to an IC reject code.

A canister's own failure (a trap, running out of instructions, breaking the System API
contract) is ``CANISTER_ERROR`` (5); a request that names something that does not exist is
``DESTINATION_INVALID`` (3); a management request the caller may not make, or that the
canister's state does not allow, is ``CANISTER_ERROR`` as the IC reports it. The textual
``error_code`` follows the IC's ``IC05xx`` labels where one exists, so a client can match on
it instead of parsing English.
"""

from __future__ import annotations

from vocab.errors import RejectCode, RejectError


class ExecutionError(RejectError):
    """Base class of every error the execution layer reports to a caller."""


class CanisterTrap(ExecutionError):
    """A message's execution failed; its changes were rolled back.

    ``kind`` is a short stable tag (``trap``, ``explicit_trap``, ``out_of_instructions``,
    ``contract_violation``, ``no_response``) for tests and metrics.
    """

    def __init__(self, message: str, kind: str = "trap", error_code: str = "IC0502") -> None:
        super().__init__(RejectCode.CANISTER_ERROR, message, error_code)
        self.kind = kind


class ContractViolation(CanisterTrap):
    """The canister called the System API in a way the specification forbids."""

    def __init__(self, message: str) -> None:
        super().__init__(f"Canister violated contract: {message}", "contract_violation", "IC0504")


class InvalidModule(ExecutionError):
    """A module that breaks one of the IC's module rules; ``rule`` names which one."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(
            RejectCode.CANISTER_ERROR,
            f"Wasm module is not valid for the IC [{rule}]: {message}",
            "IC0505",
        )
        self.rule = rule


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
    def __init__(self, canister: str, status: str) -> None:
        code = "IC0508" if status == "stopped" else "IC0509"
        super().__init__(RejectCode.CANISTER_ERROR, f"Canister {canister} is {status}.", code)


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
