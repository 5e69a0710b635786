"""A Sui ledger in one process: the object store, the VM with every published module, and
the executor over them; for tests today and for the replica's state machine later.

``SuiLedger.genesis()`` publishes the framework, compiled by the project's own compiler
(``move.framework``, sources in ``move/framework``) (``0x1`` MoveStdlib, ``0x2`` Sui), as immutable packages at
version 1 whose previous transaction is Sui's genesis marker (32 zero bytes). After that
everything goes through transactions: ``execute`` / ``execute_signed`` take what a user
signs; ``publish``, ``upgrade`` and ``call`` build the transaction a ``sui client
publish`` / ``upgrade`` / ``call`` would (the sender is taken as verified: tests and the in-process harness only). Reading:
``object``, ``owned_by``, ``package``, ``effects``; the state: ``state_hash``,
``checkpoint`` and ``restore`` (which reloads the VM from the stored packages).

On a replica (``node.execution``) the ledger executes the signed transactions of finalized
blocks (``execute_request``: the certified result's reply is the transaction's JSON
response, so every replica certifies the same bytes) and answers reads of its state
(``read``: ``sui_getObject``, ``suix_getOwnedObjects``, ``sui_getTransactionBlock``, as
Sui's JSON-RPC names and shapes them).

Pure: no I/O beyond reading the framework sources once, no clock, no randomness. The
convenience builders make otherwise equal transactions distinct with a nonce in
``ValidDuring`` (what the TypeScript SDK does when a transaction has no gas coin), so two
increments of one counter are two transactions, not a replay.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from move import ir
from move.build import build_package
from move.codegen import compile_package as generate
from move.framework import framework
from move.types import ModuleId
from node.sui import dry_run, responses
from node.sui.effects import TransactionEffects
from node.sui.executor import Executor, load_package
from node.sui.store import GENESIS_DIGEST, ObjectStore, SuiObject, SuiPackage, TypeOrigin, UpgradeInfo
from node.sui.type_map import UPGRADE_CAP
from node.sui.vm import InvalidCall, MoveVM
from vocab.certificate import RequestResult
from vocab.errors import AddressError, RejectCode, RejectError, SubnetError, SuiError
from vocab.sui.address import STD_PACKAGE, SUI_PACKAGE, ObjectId, SuiAddress
from vocab.sui.builder import ProgrammableTransactionBuilder
from vocab.sui.digests import Digest, package_digest
from vocab.sui.signed import SignedTransaction
from vocab.sui.transaction import (
    DEFAULT_GAS_BUDGET,
    REFERENCE_GAS_PRICE,
    Argument,
    CallArg,
    Command,
    GasData,
    ImmOrOwnedObject,
    Input,
    MoveCall,
    ProgrammableTransaction,
    Publish,
    Pure,
    Result,
    SharedObject,
    TransactionData,
    TransferObjects,
    ValidDuring,
)
from vocab.sui.type_tag import TypeTag

STD = STD_PACKAGE
SUI = SUI_PACKAGE
DEFAULT_BUDGET = DEFAULT_GAS_BUDGET
GAS_PRICE = REFERENCE_GAS_PRICE


def framework_packages() -> tuple[ir.Package, ir.Package]:
    """The framework compiled to IR (0x1, 0x2, ``move.framework``): what packages compile against."""
    std, sui = framework()
    return std, sui


@functools.cache
def framework_modules() -> tuple[tuple[tuple[str, bytes], ...], ...]:
    """The framework's modules as Wasm, (name, bytes) sorted by name, for 0x1 and for 0x2."""
    return tuple(
        tuple(sorted((module_id.name, wasm) for module_id, wasm in generate(package).items()))
        for package in framework_packages()
    )


def compile_for_publish(root: Path) -> list[bytes]:
    """The package in folder ``root`` built as ``subnet move build`` builds it (``move.build``):
    its modules' Wasm, sorted by module name, ready for a ``Publish`` command."""
    return build_package(root).module_bytes


def _genesis_package(
    package_id: ObjectId, modules: tuple[tuple[str, bytes], ...], vm: MoveVM, deps: Sequence[SuiPackage]
) -> SuiPackage:
    linkage = tuple((d.id, UpgradeInfo(d.id, d.version)) for d in deps)
    ids = vm.add_package(
        package_id.raw, package_id.raw, 1, (wasm for _, wasm in modules), {d.id.raw: d.id.raw for d in deps}
    )
    origins = tuple(
        sorted(TypeOrigin(m.name, struct, package_id) for m in ids for struct in vm.modules[m].structs)
    )
    return SuiPackage(package_id, package_id, 1, modules, origins, linkage, GENESIS_DIGEST)


class SuiLedger:
    """The store, the VM and the executor of one Sui state."""

    def __init__(self, store: ObjectStore, vm: MoveVM, *, allow_adding_abilities: bool = False) -> None:
        self.store = store
        self.vm = vm
        self.executor = Executor(store, vm, allow_adding_abilities=allow_adding_abilities)
        self._nonce = 0

    @classmethod
    def genesis(cls, *, allow_adding_abilities: bool = False) -> SuiLedger:
        """The framework published; ``allow_adding_abilities`` lets compatible upgrades add
        abilities to structs (the rule before Sui's protocol flag; ``move.compat``)."""
        std_modules, sui_modules = framework_modules()
        vm = MoveVM()
        store = ObjectStore()
        std = _genesis_package(STD, std_modules, vm, ())
        sui = _genesis_package(SUI, sui_modules, vm, (std,))
        store.packages[std.id] = std
        store.packages[sui.id] = sui
        return cls(store, vm, allow_adding_abilities=allow_adding_abilities)

    @classmethod
    def restore(cls, body: bytes) -> SuiLedger:
        """From ``checkpoint()``'s bytes: the store, and a VM loaded with its packages;
        ``StoreError`` if the bytes are not a checkpoint of a valid store."""
        return cls.from_store(ObjectStore.restore(body))

    @classmethod
    def from_store(cls, store: ObjectStore) -> SuiLedger:
        """A ledger over ``store``, with a VM loaded with every package it holds."""
        vm = MoveVM()
        for package_id in sorted(store.packages, key=lambda p: p.raw):
            load_package(vm, store.packages[package_id])
        return cls(store, vm)

    def fork(self) -> SuiLedger:
        """An independent copy of this state: what runs on it changes nothing here (to
        rehearse an upgrade and the calls after it, such as a ``migrate``)."""
        fork = SuiLedger.from_store(self.store.copy())
        fork.executor.allow_adding_abilities = self.executor.allow_adding_abilities
        fork._nonce = self._nonce
        return fork

    # -- transactions ------------------------------------------------------------------------
    def execute(self, tx: TransactionData, *, epoch: int = 0, timestamp_ms: int = 0) -> TransactionEffects:
        """Execute a transaction whose sender is taken as verified."""
        return self.executor.execute(tx, epoch=epoch, timestamp_ms=timestamp_ms)

    def execute_signed(
        self, signed: SignedTransaction, *, epoch: int = 0, timestamp_ms: int = 0
    ) -> TransactionEffects:
        return self.executor.execute_signed(signed, epoch=epoch, timestamp_ms=timestamp_ms)

    def transaction(
        self,
        sender: SuiAddress,
        inputs: Sequence[CallArg],
        commands: Sequence[Command],
        *,
        budget: int = DEFAULT_BUDGET,
    ) -> TransactionData:
        """A programmable transaction from ``sender``, distinct from every other one built here."""
        self._nonce += 1
        return TransactionData(
            ProgrammableTransaction(tuple(inputs), tuple(commands)),
            sender,
            GasData((), sender, GAS_PRICE, budget),
            ValidDuring(None, None, None, None, Digest(bytes(32)), self._nonce),
        )

    def publish(
        self,
        sender: SuiAddress,
        modules: Sequence[bytes],
        dependencies: Sequence[ObjectId] = (STD, SUI),
        *,
        budget: int = DEFAULT_BUDGET,
    ) -> TransactionEffects:
        """Publish compiled modules (at ``0x0``) and give the ``UpgradeCap`` to the sender,
        as ``sui client publish`` does: ``Publish`` then ``TransferObjects``."""
        tx = self.transaction(
            sender,
            [Pure(sender.raw)],
            [Publish(tuple(modules), tuple(dependencies)), TransferObjects((Result(0),), Input(0))],
            budget=budget,
        )
        return self.execute(tx)

    def upgrade(
        self,
        sender: SuiAddress,
        upgrade_cap: ObjectId,
        modules: Sequence[bytes],
        dependencies: Sequence[ObjectId] = (STD, SUI),
        *,
        policy: int | None = None,
        package: ObjectId | None = None,
        digest: bytes | None = None,
        budget: int = DEFAULT_BUDGET,
    ) -> TransactionEffects:
        """Upgrade the package ``upgrade_cap`` controls to ``modules`` (compiled at ``0x0``),
        as ``sui client upgrade --upgrade-capability`` does, in one transaction:
        ``package::authorize_upgrade(cap, policy, digest)``, ``Upgrade(modules,
        dependencies, package, ticket)``, ``package::commit_upgrade(cap, receipt)``.

        ``policy`` defaults to the cap's, ``package`` to the cap's package (the latest
        version), ``digest`` to the package digest of ``modules`` and ``dependencies``; given,
        they are sent as they are (to exercise the checks)."""
        cap = self._require(upgrade_cap)
        if cap.type != UPGRADE_CAP:
            raise ValueError(f"object {upgrade_cap} is a {cap.type}, not an UpgradeCap")
        contents = cap.contents  # id, package, version (u64), policy (u8)
        if policy is None:
            policy = contents[72]
        if package is None:
            package = ObjectId(contents[32:64])
        if digest is None:
            digest = package_digest(modules, (d.raw for d in dependencies))
        builder = ProgrammableTransactionBuilder()
        builder.upgrade_with_cap(ImmOrOwnedObject(cap.ref), package, modules, dependencies, policy, digest)
        built = builder.finish()
        return self.execute(self.transaction(sender, built.inputs, built.commands, budget=budget))

    def call(
        self,
        sender: SuiAddress,
        package: ObjectId,
        module: str,
        function: str,
        arguments: Sequence[CallArg] = (),
        type_arguments: Sequence[TypeTag] = (),
        *,
        budget: int = DEFAULT_BUDGET,
    ) -> TransactionEffects:
        """One ``MoveCall`` with the given inputs, each passed as the argument of its position."""
        args: tuple[Argument, ...] = tuple(Input(i) for i in range(len(arguments)))
        command = MoveCall(package, module, function, tuple(type_arguments), args)
        return self.execute(self.transaction(sender, arguments, [command], budget=budget))

    # -- inputs ------------------------------------------------------------------------------
    def owned(self, object_id: ObjectId) -> ImmOrOwnedObject:
        """An owned or immutable object as an input, at its current version."""
        obj = self._require(object_id)
        return ImmOrOwnedObject(obj.ref)

    def shared(self, object_id: ObjectId, *, mutable: bool = True) -> SharedObject:
        obj = self._require(object_id)
        initial = getattr(obj.owner, "initial_shared_version", None)
        if initial is None:
            raise ValueError(f"object {object_id} is not shared")
        return SharedObject(object_id, initial, mutable)

    def _require(self, object_id: ObjectId) -> SuiObject:
        obj = self.store.get(object_id)
        if obj is None:
            raise KeyError(f"no object {object_id}")
        return obj

    # -- reading -----------------------------------------------------------------------------
    def object(self, object_id: ObjectId) -> SuiObject | None:
        return self.store.get(object_id)

    def package(self, package_id: ObjectId) -> SuiPackage | None:
        return self.store.package(package_id)

    def owned_by(self, address: SuiAddress) -> list[SuiObject]:
        return self.store.owned_by(address.raw)

    def effects(self, digest: Digest) -> TransactionEffects | None:
        return self.store.effects(digest)

    # -- Sui's JSON shapes --------------------------------------------------------------------
    def object_json(self, object_id: ObjectId) -> dict[str, Any] | None:
        """``sui client object ID --json``; a package too; ``None`` if there is no such object."""
        obj = self.store.get(object_id)
        if obj is not None:
            return responses.object_json(self.vm, obj)
        package = self.store.package(object_id)
        return responses.package_json(package) if package is not None else None

    def transaction_json(self, effects: TransactionEffects, sender: SuiAddress) -> dict[str, Any]:
        """``{digest, effects, objectChanges, events}`` of an executed transaction."""
        return responses.transaction_json(self.vm, effects, sender, self.store.packages)

    def state_hash(self) -> bytes:
        return self.store.state_hash()

    # -- on a replica --------------------------------------------------------------------------
    def has_executed(self, request_id: bytes) -> bool:
        """Whether the transaction of this digest ran (ingress's replay protection)."""
        return len(request_id) == 32 and Digest(request_id) in self.store.executed

    def execute_request(
        self, signed: SignedTransaction, *, height: int, time_ns: int, epoch: int = 0
    ) -> RequestResult:
        """Execute a transaction of a finalized block (its signatures were checked when the
        block was validated) at the block's time; the result to certify. A transaction
        refused before it ran (an input check) changes nothing and is a reject carrying
        Sui's error name; one that ran, even if it aborted, replies with its response."""
        request_id = signed.request_id
        try:
            tx = signed.transaction()
            effects = self.executor.execute(
                tx, epoch=epoch, timestamp_ms=time_ns // 1_000_000, digest=signed.digest
            )
        except SuiError as error:
            return RequestResult.rejected(request_id, height, RejectCode.SYS_FATAL, error.message, error.name)
        return RequestResult.replied(
            request_id, height, canonical_json(self.transaction_json(effects, tx.sender))
        )

    def read(self, method: str, params: bytes) -> bytes:
        """Answer a read of this state (``vocab.messages.SUI_READ_METHODS``) as Sui's
        JSON-RPC would, in canonical JSON; ``RejectError`` (``InvalidParams``) for
        parameters that do not name what the method needs."""
        try:
            args = json.loads(params.decode("utf-8")) if params else []
            if method in dry_run.METHODS:
                # on a fork of this state, thrown away after (``node.sui.dry_run``)
                if not isinstance(args, list):
                    raise ValueError("the parameters must be a JSON array")
                return canonical_json(dry_run.dry_run(self.fork().executor, method, args))
            if not isinstance(args, list) or not args or not isinstance(args[0], str):
                raise ValueError("the parameters must be a JSON array whose first item is a string")
            if method == "sui_getObject":
                options = args[1] if len(args) > 1 else {}
                if not isinstance(options, dict):
                    raise ValueError("the options of sui_getObject are a JSON object")
                answer = self._object_response(ObjectId.from_text(args[0]), bool(options.get("showBcs")))
            elif method == "suix_getOwnedObjects":
                owner = SuiAddress.from_text(args[0])
                answer = {
                    "data": [{"data": responses.object_json(self.vm, o)} for o in self.owned_by(owner)],
                    "nextCursor": None,
                    "hasNextPage": False,
                }
            elif method == "sui_getTransactionBlock":
                answer = self._transaction_response(Digest.from_text(args[0]))
            elif method == "sui_getNormalizedMoveFunction":
                answer = self._function_response(args)
            else:
                raise RejectError(RejectCode.SYS_FATAL, f"unknown Sui read {method!r}", "MethodNotFound")
        except (ValueError, UnicodeDecodeError, AddressError, SubnetError) as exc:
            if isinstance(exc, RejectError):
                raise
            raise RejectError(RejectCode.SYS_FATAL, f"{method}: {exc}", "InvalidParams") from None
        return canonical_json(answer)

    def _object_response(self, object_id: ObjectId, show_bcs: bool = False) -> dict[str, Any]:
        found = self.object_json(object_id)
        if found is not None:
            if show_bcs:  # Sui's SuiObjectDataOptions.showBcs
                item = self.store.get(object_id) or self.store.package(object_id)
                assert item is not None
                found["bcs"] = responses.bcs_json(item)
            return {"data": found}
        tomb = self.store.tombstones.get(object_id)
        if tomb is not None:
            return {
                "error": {"code": "deleted", "object_id": object_id.to_text(), "version": str(tomb.version)}
            }
        return {"error": {"code": "notExists", "object_id": object_id.to_text()}}

    def _function_response(self, args: list[Any]) -> dict[str, Any]:
        if len(args) != 3 or not all(isinstance(arg, str) for arg in args):
            raise ValueError("the parameters are [package id, module, function]")
        package_id = ObjectId.from_text(args[0])
        package = self.store.package(package_id)
        if package is None:
            raise RejectError(
                RejectCode.SYS_FATAL, f"Package object does not exist with ID {package_id}", "PackageNotFound"
            )
        try:
            info = self.vm.function(ModuleId(package.original_id.raw, args[1]), args[2], package.id.raw)
        except InvalidCall as exc:
            raise RejectError(RejectCode.SYS_FATAL, str(exc), "FunctionNotFound") from None
        return responses.normalized_function_json(info)

    def _transaction_response(self, digest: Digest) -> dict[str, Any]:
        effects = self.store.effects(digest)
        if effects is None:
            raise RejectError(
                RejectCode.SYS_FATAL,
                f"Could not find the referenced transaction [TransactionDigest({digest.to_text()})].",
                "TransactionNotFound",
            )
        return {
            "digest": digest.to_text(),
            "effects": responses.effects_json(effects),
            "events": responses.events_json(self.vm, effects),
        }

    def checkpoint(self) -> bytes:
        return self.store.checkpoint()


def canonical_json(value: Any) -> bytes:
    """JSON with sorted keys and no spaces: the same bytes on every replica."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


__all__ = [
    "DEFAULT_BUDGET",
    "STD",
    "SUI",
    "SuiLedger",
    "canonical_json",
    "compile_for_publish",
    "framework_modules",
    "framework_packages",
]
