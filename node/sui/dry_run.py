"""Dry runs: transactions executed on a copy of the Sui state, nothing kept.

Sui's JSON-RPC ``sui_dryRunTransactionBlock`` takes a transaction's BCS bytes (Base64, no
signatures: the sender is taken as it is written) and answers what executing it would do,
without committing it: ``{effects, events, objectChanges, balanceChanges, input}``
(``DryRunTransactionBlockResponse`` in ``crates/sui-json-rpc-types``). A replica answers it
as a read, on the fast path, from a fork of its latest certified state (``SuiLedger.fork``),
which it throws away afterwards.

Rehearsing an upgrade needs more than one transaction on the same copy: the upgrade, then
the calls that follow it (a ``migrate``), each seeing what the ones before it did. Sui has
no method for that, so the subnet adds one under its own prefix:
``subnet_dryRunTransactionBlocks([tx_bytes, ...])`` runs the transactions in order on one
fork and answers one dry-run response per transaction. A transaction refused before it ran
(an input check: a stale version, another's object) ends the sequence there: its entry is
``{"error": {"code": NAME, "message": ...}}`` with Sui's name and the later ones are not run.
A transaction that ran and aborted keeps its place (with its failure status, as Sui records
a failed transaction) and the sequence goes on.

Sui's ``sui_devInspectTransactionBlock(sender, tx_bytes, gas_price, epoch)`` runs a
transaction *kind* (``TransactionKind`` BCS, no gas data) for ``sender`` the same way and
answers ``DevInspectResults``: ``effects``, ``events``, and per command its ``results``
(``returnValues`` and the ``mutableReferenceOutputs`` of a Move call, as ``[bytes, type]``
and ``[argument, bytes, type]``), or ``error`` when it failed. Its rules are a normal
transaction's here (Sui's dev-inspect also lets a call return references and skips some
checks).

The fork's ``TxContext`` has epoch 0 and ``epoch_timestamp_ms`` 0 (a read carries no block
time), where a transaction in a block sees the block's time.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from node.sui import responses
from node.sui.effects import TransactionEffects
from node.sui.executor import CommandOutput, Executor
from vocab.errors import RejectCode, RejectError, SuiError
from vocab.sui.address import SuiAddress
from vocab.sui.transaction import (
    DEFAULT_GAS_BUDGET,
    REFERENCE_GAS_PRICE,
    TRANSACTION_KIND,
    Argument,
    GasData,
    Input,
    NestedResult,
    ProgrammableTransaction,
    Result,
    TransactionData,
)

DRY_RUN = "sui_dryRunTransactionBlock"
DRY_RUN_SEQUENCE = "subnet_dryRunTransactionBlocks"
DEV_INSPECT = "sui_devInspectTransactionBlock"
METHODS = (DRY_RUN, DRY_RUN_SEQUENCE, DEV_INSPECT)
MAX_STEPS = 16
"""Transactions one ``subnet_dryRunTransactionBlocks`` may run."""


def decode_transaction(text: Any, what: str) -> TransactionData:
    """Base64 ``TransactionData`` BCS, as Sui's RPC takes it; ``ValueError`` naming ``what``."""
    if not isinstance(text, str):
        raise ValueError(f"{what} must be Base64 text")
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"{what} is not Base64: {exc}") from None
    try:
        return TransactionData.from_bcs(raw)
    except (ValueError, SuiError) as exc:
        raise ValueError(f"{what} is not a TransactionData: {exc}") from None


def input_json(tx: TransactionData) -> dict[str, Any]:
    """The ``input`` of a dry-run response (Sui's ``TransactionBlockData``): the sender and
    the gas data; the commands are not repeated (the caller sent them)."""
    gas = tx.gas_data
    return {
        "messageVersion": "v1",
        "sender": tx.sender.to_text(),
        "gasData": {
            "payment": [],
            "owner": gas.owner.to_text(),
            "price": str(gas.price),
            "budget": str(gas.budget),
        },
    }


def response_json(executor: Executor, tx: TransactionData, effects: TransactionEffects) -> dict[str, Any]:
    """One ``DryRunTransactionBlockResponse``."""
    full = responses.transaction_json(executor.vm, effects, tx.sender, executor.store.packages)
    return {
        "effects": full["effects"],
        "events": full["events"],
        "objectChanges": full["objectChanges"],
        "balanceChanges": [],  # no coins on this subnet
        "input": input_json(tx),
    }


def dry_run(executor: Executor, method: str, args: list[Any], *, epoch: int = 0) -> Any:
    """Answer ``method`` with JSON parameters ``args`` on ``executor``, whose store and VM
    are a fork the caller throws away. ``ValueError`` for parameters that name nothing
    runnable; ``RejectError`` with Sui's name for a single transaction refused before it ran."""
    if method == DRY_RUN:
        if len(args) != 1:
            raise ValueError("the parameters are [tx_bytes]")
        tx = decode_transaction(args[0], "tx_bytes")
        try:
            effects = executor.execute(tx, epoch=epoch)
        except SuiError as error:
            raise RejectError(RejectCode.SYS_FATAL, error.message, error.name) from None
        return response_json(executor, tx, effects)
    if method == DEV_INSPECT:
        return dev_inspect(executor, args, epoch=epoch)
    if method != DRY_RUN_SEQUENCE:
        raise ValueError(f"{method} is not a dry run")
    if len(args) != 1 or not isinstance(args[0], list) or not args[0]:
        raise ValueError("the parameters are [[tx_bytes, ...]] with at least one transaction")
    if len(args[0]) > MAX_STEPS:
        raise ValueError(f"{len(args[0])} transactions; a sequence runs at most {MAX_STEPS}")
    txs = [decode_transaction(text, f"transaction {i}") for i, text in enumerate(args[0])]
    answers: list[dict[str, Any]] = []
    for tx in txs:
        try:
            effects = executor.execute(tx, epoch=epoch)
        except SuiError as error:
            answers.append({"error": {"code": error.name, "message": error.message}})
            break
        answers.append(response_json(executor, tx, effects))
    return answers


def argument_json(arg: Argument) -> Any:
    """Sui's ``SuiArgument``: ``"GasCoin"``, ``{"Input": i}``, ``{"Result": i}``,
    ``{"NestedResult": [i, j]}``."""
    if isinstance(arg, Input):
        return {"Input": arg.index}
    if isinstance(arg, Result):
        return {"Result": arg.index}
    if isinstance(arg, NestedResult):
        return {"NestedResult": [arg.command, arg.result]}
    return "GasCoin"


def output_json(output: CommandOutput) -> dict[str, Any]:
    """One ``SuiExecutionResult`` (empty lists left out, as Sui leaves them out)."""
    found: dict[str, Any] = {}
    if output.mutable_reference_outputs:
        found["mutableReferenceOutputs"] = [
            [argument_json(arg), list(data), str(tag)] for arg, data, tag in output.mutable_reference_outputs
        ]
    if output.return_values:
        found["returnValues"] = [[list(data), str(tag)] for data, tag in output.return_values]
    return found


def dev_inspect(executor: Executor, args: list[Any], *, epoch: int = 0) -> dict[str, Any]:
    """``sui_devInspectTransactionBlock``: [sender, tx_bytes (``TransactionKind``), gas
    price?, epoch?]."""
    if not 2 <= len(args) <= 4:
        raise ValueError("the parameters are [sender, tx_bytes, gas_price?, epoch?]")
    if not isinstance(args[0], str):
        raise ValueError("the sender is an address")
    sender = SuiAddress.from_text(args[0])
    if not isinstance(args[1], str):
        raise ValueError("tx_bytes must be Base64 text")
    try:
        kind = TRANSACTION_KIND.decode(base64.b64decode(args[1], validate=True))
    except (binascii.Error, ValueError, SuiError) as exc:
        raise ValueError(f"tx_bytes is not a TransactionKind: {exc}") from None
    if not isinstance(kind, ProgrammableTransaction):
        raise ValueError("only programmable transactions can be inspected")
    price = args[2] if len(args) > 2 and args[2] is not None else REFERENCE_GAS_PRICE
    if isinstance(price, bool) or not isinstance(price, (int, str)) or not str(price).isdigit():
        raise ValueError(f"the gas price is a number, not {price!r}")
    tx = TransactionData(kind, sender, GasData((), sender, int(price), DEFAULT_GAS_BUDGET))
    outputs: list[CommandOutput] = []
    try:
        effects = executor.execute(tx, epoch=epoch, outputs=outputs)
    except SuiError as error:
        raise RejectError(RejectCode.SYS_FATAL, error.message, error.name) from None
    full = responses.transaction_json(executor.vm, effects, sender, executor.store.packages)
    answer: dict[str, Any] = {"effects": full["effects"], "events": full["events"]}
    if effects.status is None:
        answer["results"] = [output_json(output) for output in outputs]
    else:
        answer["error"] = str(effects.status)
    return answer


__all__ = [
    "DEV_INSPECT",
    "DRY_RUN",
    "DRY_RUN_SEQUENCE",
    "MAX_STEPS",
    "METHODS",
    "argument_json",
    "decode_transaction",
    "dev_inspect",
    "dry_run",
    "input_json",
    "output_json",
    "response_json",
]
