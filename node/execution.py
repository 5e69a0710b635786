"""The subnet's state machine: canisters and Sui objects side by side, under one consensus.

A finalized block carries IC envelopes and Sui transactions in one order
(``vocab.ingress_message``). The two programming models share no state, so each model
executes its own messages in the block's order: the IC's through ``WasmStateMachine``
(``node.ic``), Sui's through the ledger (``node.sui.ledger``: the object store, the Move
VM and the executor, with the framework published at genesis). Results come back in the
block's order, one per message answered (a canister call that waits on other canisters is
answered in a later batch, after that batch's own), and the state hash covers both models.

What this adds to each model is only the split and the combination; why it is a class of
its own and not a branch inside either model: replicas, checkpoints and the simulator
then see one state machine (``node.state_machine.StateMachine``), and neither model knows
the other exists.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Self

from node.ic.messages import CallResult
from node.ic.query_instances import QueryJob
from node.ic.state_machine import WasmStateMachine
from node.state_machine import Batch
from node.sui.ledger import SuiLedger
from vocab.certificate import RequestResult
from vocab.envelope import SignedEnvelope
from vocab.genesis import SUI_ALLOW_ADDING_ABILITIES, Genesis
from vocab.principal import Principal
from vocab.sui.certificate import CertifiedTransaction
from vocab.sui.signed import SignedTransaction

STATE_HASH_DOMAIN = b"subnet-state"
ALLOW_ADDING_ABILITIES = SUI_ALLOW_ADDING_ABILITIES


class SubnetStateMachine:
    """``ic`` (canisters) and ``sui`` (packages and objects) behind one ``execute``."""

    @property
    def EMPTY_BATCH_UNCHANGED(self) -> bool:  # the name the replica looks up
        """Whether the last batch, if empty, changed nothing: the Sui half changes only
        with a transaction, an epoch change or a waiting transaction's time running out
        (the ``Clock`` is not advanced by empty blocks), and the canisters' half says for
        itself (it runs inter-canister messages carried over)."""
        return self.ic.EMPTY_BATCH_UNCHANGED and not self._sui_changed

    def __init__(self, ic: WasmStateMachine, sui: SuiLedger | None = None) -> None:
        self.ic = ic
        self.sui = sui if sui is not None else SuiLedger.genesis()
        self._sui_changed = False

    @classmethod
    def from_genesis(cls, genesis: Genesis) -> Self:
        machine = cls(WasmStateMachine.from_genesis(genesis))
        machine.sui.store.epoch_starts_ms[0] = genesis.genesis_time_ns // 1_000_000
        machine.sui.epoch_duration_ms = genesis.sui_epoch_duration_ns // 1_000_000
        allowed = genesis.extra.get(ALLOW_ADDING_ABILITIES, False)
        if not isinstance(allowed, bool):
            raise ValueError(f"genesis extra.{ALLOW_ADDING_ABILITIES} must be true or false, not {allowed!r}")
        machine.sui.allow_adding_abilities = allowed
        return machine

    def execute(self, batch: Batch) -> list[RequestResult]:
        epoch_changed = self.sui.advance_epoch(batch.time_ns)
        ic_messages: list[SignedEnvelope] = []
        positions: list[tuple[bool, int]] = []
        for message in batch.messages:
            if isinstance(message, SignedEnvelope):
                positions.append((True, len(ic_messages)))
                ic_messages.append(message)
            else:
                positions.append((False, 0))
        # The canisters' half answers a message when its call is answered: most in the
        # batch, in any order; one that waits for other canisters in a later batch, after
        # that batch's own (``WasmStateMachine.execute``). Its results go where its
        # messages are, and the later answers to earlier batches' messages at the end.
        ic_results = self.ic.execute(dataclasses.replace(batch, messages=tuple(ic_messages)))
        answered: dict[bytes, list[RequestResult]] = {}
        for result in ic_results:
            answered.setdefault(result.request_id, []).append(result)
        results: list[RequestResult] = []
        for message, (is_ic, index) in zip(batch.messages, positions, strict=True):
            if is_ic:
                mine = answered.get(ic_messages[index].request_id)
                if mine:
                    results.append(mine.pop(0))
            else:
                assert isinstance(message, (SignedTransaction, CertifiedTransaction))
                results += self.sui.execute_sequenced(message, height=batch.height)
        sui_results = self.sui.end_of_batch(batch.height)
        self._sui_changed = epoch_changed or bool(sui_results)
        results += sui_results
        in_batch = {envelope.request_id for envelope in ic_messages}
        results += [result for result in ic_results if result.request_id not in in_batch]
        return results

    def state_hash(self) -> bytes:
        """SHA-256 over the domain, the canister state's hash and the Sui store's hash."""
        return hashlib.sha256(STATE_HASH_DOMAIN + self.ic.state_hash() + self.sui.state_hash()).digest()

    def replace(self, ic: WasmStateMachine, sui: SuiLedger) -> None:
        """Swap in restored parts (a checkpoint); the epoch length and the upgrade rule are
        configuration, kept."""
        sui.epoch_duration_ms = self.sui.epoch_duration_ms
        sui.allow_adding_abilities = self.sui.allow_adding_abilities
        self.ic, self.sui = ic, sui

    # -- reads outside consensus -----------------------------------------------------------------

    def executed(self, request_id: bytes) -> bool:
        """Whether a Sui transaction with this digest ran (replay protection for good)."""
        return self.sui.has_executed(request_id)

    def query(
        self,
        canister_id: Principal,
        method: str,
        arg: bytes,
        *,
        caller: Principal,
        time: int,
        data_certificate: bytes | None = None,
    ) -> CallResult:
        """A canister query (``WasmStateMachine.query``)."""
        return self.ic.query(
            canister_id, method, arg, caller=caller, time=time, data_certificate=data_certificate
        )

    def prepare_query(
        self,
        canister_id: Principal,
        method: str,
        arg: bytes,
        *,
        caller: Principal,
        time: int,
        data_certificate: bytes | None = None,
        instruction_limit: int | None = None,
    ) -> QueryJob:
        """A canister query prepared to run off this thread (``WasmStateMachine.prepare_query``)."""
        return self.ic.prepare_query(
            canister_id,
            method,
            arg,
            caller=caller,
            time=time,
            data_certificate=data_certificate,
            instruction_limit=instruction_limit,
        )

    def certified_data(self) -> list[tuple[bytes, bytes]]:
        """The canisters' certified data (``WasmStateMachine.certified_data``)."""
        return self.ic.certified_data()

    def rehearse_upgrade(self, caller: Principal, arg: bytes, *, time: int) -> bytes:
        """A canister upgrade rehearsed on a copy (``WasmStateMachine.rehearse_upgrade``);
        the report as canonical JSON, the same bytes on every replica of this state."""
        report = self.ic.rehearse_upgrade(caller, arg, time=time).to_json()
        return json.dumps(report, sort_keys=True, separators=(",", ":")).encode()

    def sui_read(self, method: str, params: bytes) -> bytes:
        """A read of Sui state (``SuiLedger.read``)."""
        return self.sui.read(method, params)


__all__ = ["ALLOW_ADDING_ABILITIES", "STATE_HASH_DOMAIN", "SubnetStateMachine"]
