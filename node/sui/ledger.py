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

On a replica (``node.execution``) the ledger executes the Sui transactions of finalized
blocks, bare or certified (``execute_sequenced``: the certified result's reply is the
transaction's JSON response, so every replica certifies the same bytes), and the fast
path's certificates ahead of consensus (``vote_locks`` checks a transaction for a vote,
``execute_certificate`` runs an owned-object certificate on the fast layer,
``node.sui.fast_layer``); it answers reads (``read``: ``sui_getObject``,
``suix_getOwnedObjects``, ``sui_getTransactionBlock``, as Sui's JSON-RPC names and shapes
them) from the fast view, which is what a Sui full node shows.

Epochs change through consensus (``advance_epoch``, at the first block whose time is a
full ``epoch_duration_ms`` after the epoch began); a transaction runs with its epoch's
start as ``epoch_timestamp_ms`` (Sui's rule), never with the block's time, so that a
certificate gives the same effects whenever a replica executes it.

Pure: no I/O beyond reading the framework sources once, no clock, no randomness. The
convenience builders make otherwise equal transactions distinct with a nonce in
``ValidDuring`` (what the TypeScript SDK does when a transaction has no gas coin), so two
increments of one counter are two transactions, not a replay.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgpack

from move import ir
from move.build import build_package
from move.codegen import compile_package as generate
from move.framework import framework
from move.types import ModuleId
from node.sui import dry_run, framework_cache, responses
from node.sui.effects import TransactionEffects
from node.sui.executor import Executor, load_package
from node.sui.fast_layer import (
    FastExecution,
    FastLayer,
    has_shared_inputs,
    input_refs,
    not_yet_available,
    packages_named,
)
from node.sui.inputs import check_inputs
from node.sui.store import (
    GENESIS_DIGEST,
    Deferred,
    ObjectStore,
    SuiObject,
    SuiPackage,
    TypeOrigin,
    UpgradeInfo,
)
from node.sui.type_map import UPGRADE_CAP
from node.sui.vm import InvalidCall, MoveVM
from vocab.certificate import RequestResult
from vocab.errors import AddressError, RejectCode, RejectError, SubnetError, SuiError
from vocab.ingress_message import SuiMessage
from vocab.sui.address import STD_PACKAGE, SUI_PACKAGE, ObjectId, SuiAddress
from vocab.sui.builder import ProgrammableTransactionBuilder
from vocab.sui.certificate import CertifiedTransaction
from vocab.sui.digests import Digest, package_digest
from vocab.sui.objects import AddressOwner, ObjectOwner
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
DEFERRED_HEIGHTS = 100
"""Heights a sequenced transaction may wait for its inputs (``node.sui.fast_layer``); after
that it runs anyway and fails by Sui's rules (``ObjectNotFound``...). A bound, so that a
transaction naming an object that will never exist does not wait forever."""
OWNED_NEEDS_CERTIFICATE = "OwnedObjectNeedsCertificate"
"""This subnet's name for a bare transaction in a block that uses an owned object: owned
versions are locked by votes, so only a certificate may consume them (in Sui every
transaction is certified first; here a transaction of shared and immutable objects only
may go to consensus bare, which saves the voting round)."""


@dataclass(frozen=True)
class CertificateOutcome:
    """A certificate executed on the fast path: its effects and the JSON response."""

    effects: TransactionEffects
    response: bytes


def framework_packages() -> tuple[ir.Package, ir.Package]:
    """The framework compiled to IR (0x1, 0x2, ``move.framework``): what packages compile against."""
    std, sui = framework()
    return std, sui


@functools.cache
def framework_modules() -> tuple[tuple[tuple[str, bytes], ...], ...]:
    """The framework's modules as Wasm, (name, bytes) sorted by name, for 0x1 and for 0x2.

    Every replica publishes them at genesis, so every replica process would compile the
    framework as it starts (a third of a second, most of a restart's work before
    replaying). The output is a function of the compiler's and the framework's sources
    alone (compilation is deterministic), so it is kept on disk under a hash of those
    sources (``framework_cache``) and compiled only when they change."""
    return framework_cache.cached(_compile_framework_modules)


def _compile_framework_modules() -> tuple[tuple[tuple[str, bytes], ...], ...]:
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
        self.fast = FastLayer(store)
        self.fast_executor = Executor(self.fast.view, vm, allow_adding_abilities=allow_adding_abilities)  # type: ignore[arg-type]
        self.epoch_duration_ms = 0
        """Milliseconds an epoch lasts (0: one epoch for ever); set by the subnet's genesis."""
        self._nonce = 0
        self._inspection_vm: MoveVM | None = None
        """The VM that dry runs and dev-inspect calls execute on (``fork_view``), kept from
        one read to the next so that its modules stay instantiated; never the one that
        executes the subnet's transactions, so reads cannot change what consensus runs."""

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

    @property
    def allow_adding_abilities(self) -> bool:
        """Whether compatible upgrades may add abilities (a subnet setting, ``move.compat``)."""
        return self.executor.allow_adding_abilities

    @allow_adding_abilities.setter
    def allow_adding_abilities(self, allowed: bool) -> None:
        self.executor.allow_adding_abilities = self.fast_executor.allow_adding_abilities = allowed

    @classmethod
    def restore(cls, body: bytes) -> SuiLedger:
        """From ``checkpoint()``'s bytes: the store, and a VM loaded with its packages;
        ``StoreError`` if the bytes are not a checkpoint of a valid store."""
        return cls.from_store(ObjectStore.restore(body))

    @classmethod
    def from_store(cls, store: ObjectStore, vm: MoveVM | None = None) -> SuiLedger:
        """A ledger over ``store``, with a VM loaded with every package it holds (``vm``
        given: the packages it does not hold yet are added to it)."""
        vm = vm if vm is not None else MoveVM()
        for package_id in sorted(store.packages, key=lambda p: p.raw):
            if package_id.raw not in vm.packages:
                load_package(vm, store.packages[package_id])
        return cls(store, vm)

    def fork(self, vm: MoveVM | None = None) -> SuiLedger:
        """An independent copy of this state: what runs on it changes nothing here (to
        rehearse an upgrade and the calls after it, such as a ``migrate``); on ``vm`` if
        given, else on a VM of its own."""
        fork = SuiLedger.from_store(self.store.copy(), vm)
        fork.allow_adding_abilities = self.allow_adding_abilities
        fork.epoch_duration_ms = self.epoch_duration_ms
        fork._nonce = self._nonce
        return fork

    def fork_view(self) -> Executor:
        """An executor over an independent copy of what reads show (the sequenced store and
        the certificates executed ahead of it on the fast path), on the inspection VM: what
        a dry run or dev-inspect executes on, then throws away (``node.sui.dry_run``). The
        caller forgets the packages the run published (``inspected``)."""
        if self._inspection_vm is None:
            self._inspection_vm = MoveVM()
        fork = self.fork(self._inspection_vm)
        fork.fast.view.top = self.fast.view.top.copy()
        for package_id in sorted(fork.fast.view.top.packages, key=lambda p: p.raw):
            if package_id.raw not in fork.vm.packages:
                load_package(fork.vm, fork.fast.view.top.packages[package_id])
        return fork.fast_executor

    def inspected(self, method: str, args: list[Any]) -> dict[str, Any]:
        """A dry run or dev-inspect on ``fork_view``; the packages it published are then
        forgotten by the inspection VM, which must hold only what the state holds."""
        view = self.fork_view()
        loaded = set(view.vm.packages)
        try:
            return dry_run.dry_run(view, method, args)
        finally:
            for published in sorted(set(view.vm.packages) - loaded):
                view.vm.remove_package(published)

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
    # Reads see the fast view: the sequenced store and the certificates executed ahead of it.
    def object(self, object_id: ObjectId) -> SuiObject | None:
        return self.fast.view.get(object_id)

    def package(self, package_id: ObjectId) -> SuiPackage | None:
        return self.fast.view.package(package_id)

    def owned_by(self, address: SuiAddress) -> list[SuiObject]:
        return self.fast.view.owned_by(address.raw)

    def effects(self, digest: Digest) -> TransactionEffects | None:
        return self.fast.view.effects(digest)

    # -- Sui's JSON shapes --------------------------------------------------------------------
    def object_json(self, object_id: ObjectId) -> dict[str, Any] | None:
        """``sui client object ID --json``; a package too; ``None`` if there is no such object."""
        obj = self.object(object_id)
        if obj is not None:
            return responses.object_json(self.vm, obj)
        package = self.package(object_id)
        return responses.package_json(package) if package is not None else None

    def transaction_json(self, effects: TransactionEffects, sender: SuiAddress) -> dict[str, Any]:
        """``{digest, effects, objectChanges, events}`` of an executed transaction."""
        return responses.transaction_json(self.vm, effects, sender, self.fast.view.packages)

    def state_hash(self) -> bytes:
        return self.store.state_hash()

    # -- on a replica --------------------------------------------------------------------------
    def has_executed(self, request_id: bytes) -> bool:
        """Whether the transaction of this digest ran (ingress's replay protection)."""
        return len(request_id) == 32 and Digest(request_id) in self.store.executed

    # -- epochs ------------------------------------------------------------------------------
    @property
    def epoch(self) -> int:
        return self.store.epoch

    def epoch_start_ms(self, epoch: int) -> int:
        return self.store.epoch_starts_ms[epoch]

    def advance_epoch(self, time_ns: int) -> bool:
        """At a block's time: begin the next epoch if the current one has lasted its
        duration (one change per block); whether it changed."""
        time_ms = time_ns // 1_000_000
        store = self.store
        if self.epoch_duration_ms <= 0 or time_ms < store.epoch_starts_ms[-1] + self.epoch_duration_ms:
            return False
        store.epoch += 1
        store.epoch_starts_ms.append(time_ms)
        return True

    # -- transactions in consensus order ----------------------------------------------------
    def execute_sequenced(self, message: SuiMessage, *, height: int) -> list[RequestResult]:
        """Execute a transaction a finalized block carries (its signatures, and a
        certificate's votes, were checked when the block was validated); the results to
        certify: its own, unless it waits for an input (``node.sui.fast_layer``), and
        those of waiting transactions it made ready. A transaction refused before it ran
        changes nothing and is a reject carrying Sui's error name; one that ran, even if it
        aborted, replies with its response."""
        try:
            tx = (
                message.transaction.transaction()
                if isinstance(message, CertifiedTransaction)
                else message.transaction()
            )
        except SuiError as error:
            return [
                RequestResult.rejected(
                    message.request_id, height, RejectCode.SYS_FATAL, error.message, error.name
                )
            ]
        if not_yet_available(self.store, tx) is not None:
            self.store.deferred.append(Deferred(height, msgpack.packb(message.to_wire())))
            return []
        results = [self._run_sequenced(message, height)]
        results += self._run_ready(height)
        return results

    def end_of_batch(self, height: int) -> list[RequestResult]:
        """After a block's transactions: run the waiting ones whose wait is over (they fail
        by Sui's rules), and bring the fast layer up to date with the sequenced store."""
        results: list[RequestResult] = []
        while self.store.deferred and self.store.deferred[0].height + DEFERRED_HEIGHTS <= height:
            waiting = self.store.deferred.pop(0)
            results.append(self._run_sequenced(_unpack(waiting.message), height))
            results += self._run_ready(height)
        if self.fast.entries:
            self.fast.reconcile()
        return results

    def _run_ready(self, height: int) -> list[RequestResult]:
        """Run, in the order they were sequenced, the waiting transactions whose inputs the
        store now holds, until none is ready."""
        results: list[RequestResult] = []
        progress = True
        while progress and self.store.deferred:
            progress = False
            for position, waiting in enumerate(self.store.deferred):
                message = _unpack(waiting.message)
                tx = _transaction_of(message)
                if not_yet_available(self.store, tx) is None:
                    del self.store.deferred[position]
                    results.append(self._run_sequenced(message, height))
                    progress = True
                    break
        return results

    def _run_sequenced(self, message: SuiMessage, height: int) -> RequestResult:
        request_id = message.request_id
        try:
            tx = _transaction_of(message)
            if self.store.effects(Digest(request_id)) is not None:
                raise SuiError(
                    "TransactionAlreadyExecuted", f"transaction {Digest(request_id)} was already executed"
                )
            if isinstance(message, CertifiedTransaction):
                epoch = message.epoch
                if epoch > self.store.epoch:
                    raise SuiError(
                        "WrongEpoch",
                        f"the certificate is of epoch {epoch}; the subnet is in epoch {self.store.epoch}",
                    )
                taken = self.fast.take(Digest(request_id))
                if taken is not None:
                    self.store.commit(taken.effects, taken.written, taken.removed, taken.packages)
                    return RequestResult.replied(request_id, height, taken.response)
                effects = self.executor.execute(
                    tx, epoch=epoch, timestamp_ms=self.epoch_start_ms(epoch), digest=Digest(request_id)
                )
            else:
                self._refuse_owned(tx)
                effects = self.executor.execute(
                    tx,
                    epoch=self.store.epoch,
                    timestamp_ms=self.epoch_start_ms(self.store.epoch),
                    digest=Digest(request_id),
                )
        except SuiError as error:
            return RequestResult.rejected(request_id, height, RejectCode.SYS_FATAL, error.message, error.name)
        return RequestResult.replied(
            request_id, height, canonical_json(self.transaction_json(effects, tx.sender))
        )

    def _refuse_owned(self, tx: TransactionData) -> None:
        """A bare transaction may not consume an owned object (``OWNED_NEEDS_CERTIFICATE``)."""
        for ref in input_refs(tx):
            obj = self.store.get(ref.object_id)
            if obj is not None and isinstance(obj.owner, (AddressOwner, ObjectOwner)):
                raise SuiError(
                    OWNED_NEEDS_CERTIFICATE,
                    f"object {ref.object_id} is owned: a transaction using it needs a certificate "
                    "(votes of 2f+1 replicas, which lock it), not a bare submission",
                )

    # -- the fast path -----------------------------------------------------------------------
    def vote_locks(self, signed: SignedTransaction) -> list[tuple[ObjectId, int]]:
        """Check a transaction for a vote against the fast view (expiration in this epoch,
        every input as Sui checks it; its signatures were checked by the caller, as ingress
        checks a submission); the owned object versions to lock for it, or the ``SuiError``
        that refuses it. A transaction executed already gets a vote and no locks (a client
        asking again must be able to finish)."""
        tx = signed.transaction()
        if self.fast.view.effects(signed.digest) is not None:
            return []
        epoch = self.store.epoch
        checked = check_inputs(
            self.fast.view,  # type: ignore[arg-type]
            tx,
            tx.sender,
            epoch=epoch,
            timestamp_ms=self.epoch_start_ms(epoch),
        )
        del checked
        locks: list[tuple[ObjectId, int]] = []
        for ref in input_refs(tx):
            obj = self.fast.view.get(ref.object_id)
            if obj is not None and isinstance(obj.owner, (AddressOwner, ObjectOwner)):
                locks.append((ref.object_id, ref.version))
        return locks

    def execute_certificate(self, certificate: CertifiedTransaction) -> CertificateOutcome:
        """Execute an owned-object certificate on the fast layer, at once (its votes are
        checked by the caller); the effects and the response to sign. Executed before
        (here or in a block), the same effects again. ``SuiError`` if it has shared inputs
        (those go through consensus first), is of a later epoch than this replica's, or its
        inputs are not all here yet."""
        digest = Digest(certificate.digest)
        tx = certificate.transaction.transaction()
        done = self.fast.view.effects(digest)
        if done is None:
            if has_shared_inputs(tx):
                raise SuiError(
                    "CertificateHasSharedInputs",
                    "a certificate with shared inputs is ordered through consensus before it executes",
                )
            if certificate.epoch > self.store.epoch:
                raise SuiError(
                    "WrongEpoch",
                    f"the certificate is of epoch {certificate.epoch}; this replica is in epoch {self.store.epoch}",
                )
            view = self.fast.view
            before = len(view.top.executed)
            done = self.fast_executor.execute(
                tx,
                epoch=certificate.epoch,
                timestamp_ms=self.epoch_start_ms(certificate.epoch),
                digest=digest,
            )
            assert len(view.top.executed) == before + 1, "a fast execution commits once"
            written, removed, packages = view.last_commit
            response = canonical_json(self.transaction_json(done, tx.sender))
            self.fast.record(
                FastExecution(done, written, removed, packages, input_refs(tx), packages_named(tx), response)
            )
            return CertificateOutcome(done, response)
        return CertificateOutcome(done, canonical_json(self.transaction_json(done, tx.sender)))

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
                return canonical_json(self.inspected(method, args))
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
                item = self.object(object_id) or self.package(object_id)
                assert item is not None
                found["bcs"] = responses.bcs_json(item)
            return {"data": found}
        tomb = self.fast.view.tombstones.get(object_id)
        if tomb is not None:
            return {
                "error": {"code": "deleted", "object_id": object_id.to_text(), "version": str(tomb.version)}
            }
        return {"error": {"code": "notExists", "object_id": object_id.to_text()}}

    def _function_response(self, args: list[Any]) -> dict[str, Any]:
        if len(args) != 3 or not all(isinstance(arg, str) for arg in args):
            raise ValueError("the parameters are [package id, module, function]")
        package_id = ObjectId.from_text(args[0])
        package = self.package(package_id)
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
        effects = self.effects(digest)
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


def _unpack(packed: bytes) -> SuiMessage:
    """A deferred transaction back from its packed wire form (``Deferred.message``)."""
    wire = msgpack.unpackb(packed, raw=False)
    if CertifiedTransaction.wire_matches(wire):
        return CertifiedTransaction.from_wire(wire)
    return SignedTransaction.from_wire(wire)


def _transaction_of(message: SuiMessage) -> TransactionData:
    signed = message.transaction if isinstance(message, CertifiedTransaction) else message
    return signed.transaction()


def canonical_json(value: Any) -> bytes:
    """JSON with sorted keys and no spaces: the same bytes on every replica."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


__all__ = [
    "DEFAULT_BUDGET",
    "DEFERRED_HEIGHTS",
    "OWNED_NEEDS_CERTIFICATE",
    "CertificateOutcome",
    "STD",
    "SUI",
    "SuiLedger",
    "canonical_json",
    "compile_for_publish",
    "framework_modules",
    "framework_packages",
]
