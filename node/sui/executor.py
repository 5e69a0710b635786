"""Execute one programmable transaction against the object store, as Sui's adapter does.

``Executor.execute`` takes a ``TransactionData`` whose sender has been verified (or
``execute_signed`` a ``SignedTransaction``, whose signatures it checks), the epoch and the
consensus time, and returns the transaction's ``TransactionEffects``, having committed
them to the store. Pure and deterministic: the result depends only on the store, the
transaction and those two numbers.

The order of work, Sui's:

1. A digest already executed returns its recorded effects (replay protection).
2. Input checks (``node.sui.inputs``): refused transactions raise ``SuiError`` and change
   nothing, not even the record.
3. The commands run in order, on values: pure inputs (typed by the parameter that takes
   them), object inputs (by value, ``&`` or ``&mut``), and earlier commands' results
   (``Result``, ``NestedResult``). ``MoveCall`` runs a function on the VM (``node.sui.vm``);
   ``TransferObjects`` moves ``key + store`` values to an address; ``MakeMoveVec`` builds a
   vector; ``Publish`` gives the package a fresh id before anything runs, moves its modules
   there (``node.sui.relocate``), runs every module's ``init`` once and creates the
   ``0x2::package::UpgradeCap`` (version 1, policy 0) as the command's result.
   ``Upgrade`` consumes an ``UpgradeTicket`` (from ``package::authorize_upgrade``) and
   returns an ``UpgradeReceipt`` (for ``package::commit_upgrade``), in Sui's order: the
   ticket must name the command's package (``PackageIDDoesNotMatch``) and carry the
   package digest of the new modules and dependency ids (``DigestDoesNotMatch``;
   ``vocab.sui.digests.package_digest`` over the modules' bytes as sent, which are Wasm
   here, not Move bytecode); the modules move to the package's original id; the new
   version takes a fresh storage id, version + 1, a type origin table keeping each old
   type's first version and a linkage table that downgrades no dependency
   (``PublishUpgradeDependencyDowngrade``); the upgrade must pass the ticket's policy
   (``move.compat``; ``IncompatibleUpgrade``, ``UnknownUpgradePolicy``); ``init`` never
   runs, not even in a new module. Every version stays callable through its own id.
4. The outcome: every object written gets the Lamport version (1 + the highest input
   version, packages included); created, mutated, unwrapped, deleted, wrapped and
   unwrapped-then-deleted objects are told apart; shared objects may be mutated or deleted
   but never wrapped, transferred or frozen (``SharedObjectOperationNotAllowed``); a value
   left without ``drop`` is ``UnusedValueWithoutDrop``.

A failure (a Move abort, an argument error, gas) discards every change the commands made;
as in Sui, the effects are still recorded and the transaction's mutable inputs (owned
objects, shared objects passed mutably) still move to the Lamport version with their
contents unchanged, so references to the old versions are spent either way.

Gas: the gas budget is a fuel limit for the Wasm of all the commands' Move calls; the gas
payment objects are ignored (no coins on this subnet) and ``gas_used`` is fuel, also for a
transaction that failed: the fuel its calls burned up to the failure.

Type names: inside the VM every struct is named by its package's original id; objects,
events, effects and type arguments name it as Sui does, by the storage id of the version
that first defined it (the type origin table), so a type added by an upgrade carries that
version's id. The executor converts at the boundary (``MoveVM.defining_type`` and
``runtime_type``).

Differences from Sui, on purpose: a Publish whose ``UpgradeCap`` result is left unused
transfers it to the sender (what ``sui client publish`` builds explicitly; Sui would fail
with ``UnusedValueWithoutDrop``); the ``SplitCoins`` and ``MergeCoins``
commands, the gas coin argument and ``Receiving`` inputs are refused
(``FeatureNotYetSupported``, ``InvalidGasCoinUsage``, ``UnsupportedFeatureError``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from move import abi, compat
from move.types import ADDRESS, Ability, ModuleId, PrimType, RefType, StructType, Type, VectorType, substitute
from node.sui.effects import (
    DELETED_DIGEST,
    WRAPPED_DIGEST,
    Event,
    ExecutionFailure,
    MoveLocation,
    TransactionEffects,
)
from node.sui.inputs import CheckedInputs, DeletedShared, InputObject, check_inputs
from node.sui.natives import ObjectLog, TxContext, derive_object_id
from node.sui.relocate import RelocationError, module_identity, relocate
from node.sui.store import ObjectStore, SuiObject, SuiPackage, Tombstone, TypeOrigin, UpgradeInfo
from node.sui.type_map import (
    TX_CONTEXT,
    UPGRADE_CAP,
    UPGRADE_RECEIPT,
    UPGRADE_TICKET,
    TypeMapError,
    pure_schema,
    struct_tag,
    tag_to_type,
    type_to_tag,
)
from node.sui.vm import (
    InsufficientGas,
    InvalidCall,
    LinkError,
    MoveAbort,
    MoveError,
    MovePrimitiveRuntimeError,
    MoveVM,
)
from vocab import bcs
from vocab.errors import SuiError
from vocab.leb128 import encode_leb128
from vocab.sui.address import ObjectId, SuiAddress
from vocab.sui.digests import Digest, package_digest
from vocab.sui.objects import AddressOwner, Immutable, ObjectRef, Owner, Shared
from vocab.sui.signed import SignedTransaction
from vocab.sui.transaction import (
    Argument,
    GasCoin,
    Input,
    MakeMoveVec,
    MoveCall,
    NestedResult,
    Publish,
    Result,
    TransactionData,
    TransferObjects,
    Upgrade,
)
from vocab.sui.type_tag import StructTag, TypeTag, VectorTag

ZERO = bytes(32)


class _Failure(Exception):
    def __init__(self, failure: ExecutionFailure) -> None:
        super().__init__(str(failure))
        self.failure = failure


def _fail(error: str, message: str, **extra: object) -> _Failure:
    return _Failure(ExecutionFailure(error, message, **extra))  # type: ignore[arg-type]


def _upgrade_error(kind: str, message: str) -> _Failure:
    """Sui's ``PackageUpgradeError { upgrade_error }``; the kind leads the message."""
    return _fail("PackageUpgradeError", f"{kind}: {message}")


def load_package(vm: MoveVM, package: SuiPackage) -> list[ModuleId]:
    """Load a stored package version into ``vm`` with its linkage table."""
    return vm.add_package(
        package.id.raw,
        package.original_id.raw,
        package.version,
        (wasm for _, wasm in package.modules),
        {original.raw: info.upgraded_id.raw for original, info in package.linkage},
        {(t.module_name, t.datatype_name): t.package.raw for t in package.type_origins},
    )


def _type_origins(
    modules: list[tuple[str, bytes]], new_id: ObjectId, first: dict[tuple[str, str], ObjectId]
) -> tuple[TypeOrigin, ...]:
    """Each struct of ``modules`` with the version that first defined it: its entry in
    ``first`` (the previous version's table), else ``new_id``."""
    origins = []
    for name, wasm in modules:
        try:
            structs = [s["name"] for s in abi.read_metadata(wasm)["structs"]]
        except (abi.MetadataError, KeyError, TypeError) as error:
            raise _fail("VMVerificationOrDeserializationError", f"module {name}: {error}") from None
        origins += [TypeOrigin(name, struct, first.get((name, struct), new_id)) for struct in structs]
    return tuple(sorted(origins))


def _argument_error(kind: str, message: str) -> _Failure:
    """Sui's ``CommandArgumentError { arg_idx, kind }``; the kind leads the message."""
    return _fail("CommandArgumentError", f"{kind}: {message}")


@dataclass
class _Value:
    """A value between commands: its type (``None`` for pure bytes not yet typed) and BCS."""

    ty: Type | None
    data: bytes


@dataclass
class _ObjectSlot:
    """An object input during execution."""

    input: InputObject
    data: bytes
    moved: bool = False
    touched: bool = False


@dataclass
class _Run:
    """The state of one transaction's execution."""

    tx: TransactionData
    digest: Digest
    sender: SuiAddress
    checked: CheckedInputs
    epoch: int
    timestamp_ms: int
    log: ObjectLog = field(default_factory=ObjectLog)
    inputs: list[_Value | _ObjectSlot | DeletedShared] = field(default_factory=list)
    results: list[list[_Value | None]] = field(default_factory=list)
    transfers: dict[bytes, tuple[StructType, bytes, Owner]] = field(default_factory=dict)
    new_ids: list[bytes] = field(default_factory=list)
    packages: list[SuiPackage] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    gas_used: int = 0
    command: int = 0
    upgrade_caps: list[tuple[int, int]] = field(default_factory=list)
    mutable_refs: dict[int, list[tuple[Argument, bytes, Type]]] = field(default_factory=dict)
    """Per command, the ``&mut`` arguments of its Move call and their values after it."""


@dataclass(frozen=True)
class CommandOutput:
    """What one command gave back, for a dev-inspect (Sui's ``SuiExecutionResult``): its
    return values, and the values behind the ``&mut`` arguments of a Move call after it,
    each with its type as Sui names it."""

    return_values: tuple[tuple[bytes, TypeTag], ...]
    mutable_reference_outputs: tuple[tuple[Argument, bytes, TypeTag], ...]


class Executor:
    """Runs transactions on ``store`` with the modules loaded in ``vm``.

    ``allow_adding_abilities`` checks upgrades by the rule before Sui's protocol flag
    (abilities may be added to a struct, never removed); by default adding one is refused,
    as on Sui today.
    """

    def __init__(self, store: ObjectStore, vm: MoveVM, *, allow_adding_abilities: bool = False) -> None:
        self.store = store
        self.vm = vm
        self.allow_adding_abilities = allow_adding_abilities

    # -- entry points ------------------------------------------------------------------------
    def execute_signed(
        self, signed: SignedTransaction, *, epoch: int = 0, timestamp_ms: int = 0
    ) -> TransactionEffects:
        tx = signed.verify()
        return self.execute(tx, epoch=epoch, timestamp_ms=timestamp_ms, digest=signed.digest)

    def execute(
        self,
        tx: TransactionData,
        *,
        epoch: int = 0,
        timestamp_ms: int = 0,
        digest: Digest | None = None,
        outputs: list[CommandOutput] | None = None,
    ) -> TransactionEffects:
        """Execute ``tx`` (its sender already verified) and commit the outcome; with
        ``outputs``, also what each command gave back (filled when the transaction ran to
        the end: a dev-inspect's results)."""
        digest = digest or tx.digest()
        done = self.store.effects(digest)
        if done is not None:
            return done
        checked = check_inputs(self.store, tx, tx.sender, epoch=epoch, timestamp_ms=timestamp_ms)
        run = _Run(tx, digest, tx.sender, checked, epoch, timestamp_ms)
        for loaded in checked.inputs:
            if isinstance(loaded, bytes):
                run.inputs.append(_Value(None, loaded))
            elif isinstance(loaded, InputObject):
                run.inputs.append(_ObjectSlot(loaded, loaded.object.contents))
            else:
                run.inputs.append(loaded)
        lamport = 1 + max(
            [
                *(i.object.version for i in checked.inputs if isinstance(i, InputObject)),
                *(i.version for i in checked.inputs if isinstance(i, DeletedShared)),
                *(p.version for p in checked.packages.values()),
                0,
            ]
        )
        try:
            for number, command in enumerate(tx.kind.commands):
                run.command = number
                run.results.append(self._command(run, command))
            effects, written, removed = self._outcome(run, lamport)
            if outputs is not None:
                outputs.extend(self._outputs(run))
        except _Failure as stop:
            for package in run.packages:  # loaded for the commands that followed; not kept
                self.vm.remove_package(package.id.raw)
            failure = stop.failure
            if failure.command is None:
                failure = ExecutionFailure(
                    failure.error, failure.message, run.command, failure.location, failure.code
                )
            effects, written = self._failed(run, lamport, failure)
            self.store.commit(effects, written)
            return effects
        self.store.commit(effects, written, removed, run.packages)
        return effects

    def _outputs(self, run: _Run) -> list[CommandOutput]:
        found = []
        for number, values in enumerate(run.results):
            returns = tuple(
                (value.data, self._display_tag(value.ty))
                for value in values
                if value is not None and value.ty is not None
            )
            mutated = tuple(
                (arg, data, self._display_tag(ty)) for arg, data, ty in run.mutable_refs.get(number, ())
            )
            found.append(CommandOutput(returns, mutated))
        return found

    def _display_tag(self, ty: Type) -> TypeTag:
        """A value's type as Sui shows it (structs by the version that defined them)."""
        if isinstance(ty, StructType):
            return self._tag(ty)
        if isinstance(ty, VectorType):
            return VectorTag(self._display_tag(ty.element))
        return type_to_tag(ty)

    # -- arguments ---------------------------------------------------------------------------
    def _slot(
        self, run: _Run, arg: Argument
    ) -> tuple[list[_Value | None] | list[_Value | _ObjectSlot | DeletedShared], int]:
        if isinstance(arg, GasCoin):
            raise _argument_error("InvalidGasCoinUsage", "this subnet has no gas coin")
        if isinstance(arg, Input):
            if arg.index >= len(run.inputs):
                raise _argument_error("IndexOutOfBounds", f"input {arg.index} does not exist")
            return run.inputs, arg.index
        if isinstance(arg, Result):
            if arg.index >= len(run.results):
                raise _argument_error("IndexOutOfBounds", f"result {arg.index} does not exist yet")
            if len(run.results[arg.index]) != 1:
                raise _argument_error(
                    "InvalidResultArity",
                    f"command {arg.index} has {len(run.results[arg.index])} results, not 1",
                )
            return run.results[arg.index], 0
        assert isinstance(arg, NestedResult)
        if arg.command >= len(run.results):
            raise _argument_error("IndexOutOfBounds", f"result {arg.command} does not exist yet")
        if arg.result >= len(run.results[arg.command]):
            raise _argument_error(
                "SecondaryIndexOutOfBounds", f"command {arg.command} has no result {arg.result}"
            )
        return run.results[arg.command], arg.result

    def _typed(self, value: _Value, ty: Type) -> bytes:
        if value.ty is None:
            schema = pure_schema(ty)
            if schema is None:
                raise _argument_error("InvalidUsageOfPureArg", f"a pure input cannot be a {ty}")
            try:
                schema.decode(value.data)
            except bcs.BcsError as exc:
                raise _argument_error(
                    "InvalidBCSBytes", f"the pure input is not a valid {ty}: {exc}"
                ) from None
            return value.data
        if value.ty != ty:
            raise _argument_error("TypeMismatch", f"expected {ty}, got {value.ty}")
        return value.data

    def _take(self, run: _Run, arg: Argument, ty: Type | None) -> _Value:
        """The argument by value (moved, or copied when its type has ``copy``)."""
        slots, index = self._slot(run, arg)
        slot = slots[index]
        if isinstance(slot, DeletedShared):
            raise _fail("InputObjectDeleted", f"shared object {slot.object_id} was deleted")
        if isinstance(slot, _ObjectSlot):
            obj = slot.input
            if slot.moved:
                raise _argument_error("InvalidValueUsage", f"input {obj.index} was already moved")
            if not obj.mutable:
                raise _argument_error(
                    "InvalidObjectByValue", f"input {obj.index} is immutable or a read-only shared object"
                )
            held = self._runtime(obj.object.type)
            if ty is not None and held != ty:
                raise _argument_error("TypeMismatch", f"expected {ty}, got {obj.object.type}")
            slot.moved = True
            return _Value(held, slot.data)
        if slot is None:
            raise _argument_error("InvalidValueUsage", "the value was already moved")
        value = slot
        data = value.data if ty is None else self._typed(value, ty)
        vty = value.ty if value.ty is not None else ty
        if value.ty is not None and not (self._abilities(value.ty) & Ability.COPY):
            slots[index] = None  # type: ignore[call-overload]
        return _Value(vty, data)

    def _borrow(self, run: _Run, arg: Argument, ty: Type, mutable: bool) -> bytes:
        slots, index = self._slot(run, arg)
        slot = slots[index]
        if isinstance(slot, DeletedShared):
            raise _fail("InputObjectDeleted", f"shared object {slot.object_id} was deleted")
        if isinstance(slot, _ObjectSlot):
            obj = slot.input
            if slot.moved:
                raise _argument_error("InvalidValueUsage", f"input {obj.index} was already moved")
            if mutable and not obj.mutable:
                raise _argument_error(
                    "InvalidObjectByMutRef", f"input {obj.index} is immutable or a read-only shared object"
                )
            if self._runtime(obj.object.type) != ty:
                raise _argument_error("TypeMismatch", f"expected {ty}, got {obj.object.type}")
            return slot.data
        if slot is None:
            raise _argument_error("InvalidValueUsage", "the value was already moved")
        return self._typed(slot, ty)

    def _write_back(self, run: _Run, arg: Argument, data: bytes, ty: Type) -> None:
        slots, index = self._slot(run, arg)
        slot = slots[index]
        if isinstance(slot, _ObjectSlot):
            slot.data = data
            slot.touched = True
        elif isinstance(slot, _Value):
            slots[index] = _Value(ty, data)

    # -- types -------------------------------------------------------------------------------
    def _abilities(self, ty: Type) -> Ability:
        if isinstance(ty, PrimType):
            return Ability.COPY | Ability.DROP | Ability.STORE
        if isinstance(ty, VectorType):
            return self._abilities(ty.element) & (Ability.COPY | Ability.DROP | Ability.STORE)
        if isinstance(ty, StructType):
            declared = self.vm.abilities(ty)
            for arg in ty.args:
                declared &= self._abilities(arg) | Ability.KEY
            return declared
        return Ability(0)

    def _runtime(self, ty: StructType) -> StructType:
        """A stored object's type (defining ids) as the VM names it (original ids)."""
        found = self.vm.runtime_type(ty)
        assert isinstance(found, StructType)
        return found

    def _defining(self, ty: StructType) -> StructType:
        """The VM's type as Sui stores and shows it: each struct by the version that defined it."""
        found = self.vm.defining_type(ty)
        assert isinstance(found, StructType)
        return found

    def _tag(self, ty: StructType) -> StructTag:
        return struct_tag(self._defining(ty))

    # -- commands ----------------------------------------------------------------------------
    def _command(self, run: _Run, command: object) -> list[_Value | None]:
        if isinstance(command, MoveCall):
            return self._move_call(run, command)
        if isinstance(command, TransferObjects):
            return self._transfer(run, command)
        if isinstance(command, MakeMoveVec):
            return self._make_vec(run, command)
        if isinstance(command, Publish):
            return self._publish(run, command)
        if isinstance(command, Upgrade):
            return self._upgrade(run, command)
        raise _fail(
            "FeatureNotYetSupported", f"the {type(command).__name__} command is not supported on this subnet"
        )

    def _ctx(self, run: _Run) -> TxContext:
        return TxContext(
            run.sender.raw,
            run.digest.raw,
            run.epoch,
            run.timestamp_ms,
            run.tx.gas_data.price,
            run.tx.gas_data.budget,
            run.log.ids_created,
        )

    def _call(
        self,
        run: _Run,
        package: SuiPackage,
        module: str,
        function: str,
        args: list[bytes],
        type_args: tuple[Type, ...],
        *,
        public_only: bool,
    ) -> tuple[list[bytes], dict[int, bytes], list[Type]]:
        budget = run.tx.gas_data.budget - run.gas_used
        if budget <= 0:
            raise _fail("InsufficientGas", f"the gas budget {run.tx.gas_data.budget} is spent")
        module_id = ModuleId(package.original_id.raw, module)
        first_event = len(run.log.events)
        shared = frozenset(
            s.input.object.id.raw for s in run.inputs if isinstance(s, _ObjectSlot) and s.input.shared
        )
        try:
            result = self.vm.call(
                module_id,
                function,
                args,
                type_args,
                ctx=self._ctx(run),
                gas_limit=budget,
                public_only=public_only,
                log=run.log,
                shared_inputs=shared,
                package=package.id.raw,
            )
        except MoveAbort as abort:
            run.gas_used += abort.gas_used
            raise _fail(
                "MoveAbort",
                f"{abort.module}::{abort.function} aborted with code {abort.code}",
                location=self._location(abort.module, abort.function),
                code=abort.code,
            ) from None
        except MovePrimitiveRuntimeError as error:
            run.gas_used += error.gas_used
            raise _fail(
                "MovePrimitiveRuntimeError",
                f"{error.kind} in {error.module}::{error.function}",
                location=self._location(error.module, error.function),
            ) from None
        except InsufficientGas:
            run.gas_used = run.tx.gas_data.budget
            raise _fail(
                "InsufficientGas", f"the Move code ran out of gas (budget {run.tx.gas_data.budget})"
            ) from None
        except InvalidCall as error:
            raise _argument_error("TypeMismatch", str(error)) from None
        except LinkError as error:
            raise _fail("VMVerificationOrDeserializationError", str(error)) from None
        except MoveError as error:
            raise _fail("VMInvariantViolation", str(error)) from None
        run.gas_used += result.gas_used
        for emitted in run.log.events[first_event:]:
            run.events.append(
                Event(package.id, module, run.sender, self._tag(emitted.type), emitted.contents)
            )
        return result.returns, result.mutated, result.return_types

    def _location(self, module: ModuleId, function: str) -> MoveLocation:
        return MoveLocation(ObjectId(module.address), module.name, function)

    def _move_call(self, run: _Run, call: MoveCall) -> list[_Value | None]:
        package = run.checked.packages[call.package]
        if package.module(call.module) is None:
            raise _fail("FunctionNotFound", f"package {call.package} has no module {call.module}")
        try:
            info = self.vm.function(
                ModuleId(package.original_id.raw, call.module), call.function, package.id.raw
            )
        except InvalidCall:
            raise _fail(
                "FunctionNotFound", f"{call.package}::{call.module} has no function {call.function}"
            ) from None
        if info.visibility != "public" and not info.entry:
            raise _fail(
                "NonEntryFunctionInvoked",
                f"{call.module}::{call.function} is neither public nor entry: a transaction cannot call it",
            )
        try:
            type_args = tuple(self.vm.runtime_type(tag_to_type(t)) for t in call.type_arguments)
        except TypeMapError as error:
            raise _fail("TypeArgumentError", str(error)) from None
        if len(type_args) != len(info.type_params):
            raise _fail(
                "TypeArityMismatch",
                f"{call.module}::{call.function} takes {len(info.type_params)} type arguments, got {len(type_args)}",
            )
        for position, ty in enumerate(type_args):
            required = info.type_params[position]
            if required & ~self._abilities(ty):
                raise _fail("TypeArgumentError", f"type argument {position} ({ty}) lacks a required ability")
        params = [substitute(p, type_args) for p in info.params]
        if params and isinstance(params[-1], RefType) and params[-1].inner == TX_CONTEXT:
            params = params[:-1]
        if len(call.arguments) != len(params):
            raise _fail(
                "ArityMismatch",
                f"{call.module}::{call.function} takes {len(params)} arguments, got {len(call.arguments)}",
            )
        for index, ret in enumerate(info.returns):
            if isinstance(ret, RefType):
                raise _fail("InvalidPublicFunctionReturnType", f"result {index} is a reference")
        used: dict[tuple[int, int], bool] = {}
        for arg, ty in zip(call.arguments, params, strict=True):
            slots, index = self._slot(run, arg)
            key = (id(slots), index)
            slot = slots[index]
            copyable = isinstance(slot, _Value) and (
                slot.ty is None or bool(self._abilities(slot.ty) & Ability.COPY)
            )
            exclusive = ty.mutable if isinstance(ty, RefType) else not copyable
            if key in used and (exclusive or used[key]):
                raise _argument_error(
                    "InvalidValueUsage", f"{arg} is passed twice to one call, once mutably or by value"
                )
            used[key] = used.get(key, False) or exclusive
        args: list[bytes] = []
        for arg, ty in zip(call.arguments, params, strict=True):
            if isinstance(ty, RefType):
                args.append(self._borrow(run, arg, ty.inner, ty.mutable))
            else:
                args.append(self._take(run, arg, ty).data)
        returns, mutated, return_types = self._call(
            run, package, call.module, call.function, args, type_args, public_only=True
        )
        for position, data in sorted(mutated.items()):
            ty = params[position]
            assert isinstance(ty, RefType)
            self._write_back(run, call.arguments[position], data, ty.inner)
            run.mutable_refs.setdefault(run.command, []).append((call.arguments[position], data, ty.inner))
        return [_Value(t, d) for t, d in zip(return_types, returns, strict=True)]

    def _transfer(self, run: _Run, command: TransferObjects) -> list[_Value | None]:
        recipient = self._take(run, command.address, ADDRESS)
        if len(recipient.data) != 32:
            raise _argument_error("InvalidBCSBytes", "the recipient is not an address")
        for arg in command.objects:
            value = self._take(run, arg, None)
            ty = value.ty
            if not isinstance(ty, StructType) or not (self._abilities(ty) & Ability.KEY):
                raise _fail("InvalidTransferObject", f"{ty} is not an object type")
            if not self._abilities(ty) & Ability.STORE:
                raise _fail(
                    "InvalidTransferObject",
                    f"{ty} has no store ability: only its own module can transfer it",
                )
            run.transfers[value.data[:32]] = (ty, value.data, AddressOwner(SuiAddress(recipient.data)))
        return []

    def _make_vec(self, run: _Run, command: MakeMoveVec) -> list[_Value | None]:
        element: Type | None = None
        if command.type_ is not None:
            try:
                element = self.vm.runtime_type(tag_to_type(command.type_))
            except TypeMapError as error:
                raise _fail("TypeArgumentError", str(error)) from None
        parts: list[bytes] = []
        for arg in command.elements:
            value = self._take(run, arg, element)
            if element is None:
                if value.ty is None:
                    raise _argument_error(
                        "TypeMismatch", "the element type of a vector of pure inputs must be given"
                    )
                element = value.ty
            parts.append(value.data)
        if element is None:
            raise _argument_error("TypeMismatch", "an empty vector needs its element type")
        return [_Value(VectorType(element), encode_leb128(len(parts)) + b"".join(parts))]

    def _fresh_id(self, run: _Run) -> bytes:
        new = derive_object_id(run.digest.raw, run.log.ids_created)
        run.log.ids_created += 1
        run.new_ids.append(new)
        return new

    def _publish(self, run: _Run, command: Publish) -> list[_Value | None]:
        if not command.modules:
            raise _fail("VMVerificationOrDeserializationError", "a package needs at least one module")
        names: list[str] = []
        for wasm in command.modules:
            try:
                address, name = module_identity(wasm)
            except RelocationError as error:
                raise _fail("VMVerificationOrDeserializationError", str(error)) from None
            if address != ZERO:
                raise _fail(
                    "PublishErrorNonZeroAddress",
                    f"module {name} is at 0x{address.hex()}: a new package is at 0x0",
                )
            if name in names:
                raise _fail("VMVerificationOrDeserializationError", f"two modules are named {name}")
            names.append(name)
        package_id = self._fresh_id(run)
        try:
            moved = [relocate(wasm, ZERO, package_id) for wasm in command.modules]
        except RelocationError as error:
            raise _fail("VMVerificationOrDeserializationError", str(error)) from None
        linkage = self._linkage(run, command.dependencies)
        modules = sorted(zip(names, moved, strict=True))
        package = SuiPackage(
            ObjectId(package_id),
            ObjectId(package_id),
            1,
            tuple(modules),
            _type_origins(modules, ObjectId(package_id), {}),
            tuple(sorted(linkage.items(), key=lambda kv: kv[0].raw)),
            run.digest,
        )
        ids = self._load(run, package)
        for module_id in self._init_order(ids, package_id):
            init = self.vm.packages[package_id].modules[module_id.name].functions.get("init")
            if init is None:
                continue
            args = [b"\x00"] if len(init.params) == 2 else []  # the one-time witness (dummy_field: false)
            self._call(run, package, module_id.name, "init", args, (), public_only=False)
        cap_id = self._fresh_id(run)
        cap = cap_id + package_id + (1).to_bytes(8, "little") + b"\x00"
        run.upgrade_caps.append((run.command, 0))
        return [_Value(UPGRADE_CAP, cap)]

    def _linkage(self, run: _Run, dependencies: tuple[ObjectId, ...]) -> dict[ObjectId, UpgradeInfo]:
        """The linkage table of a package with these dependencies (storage ids): each one's
        original id -> (its storage id, its version), then what they link, transitively."""
        deps = [run.checked.packages[d] for d in dependencies]
        linkage: dict[ObjectId, UpgradeInfo] = {}
        for dep in deps:
            known = linkage.get(dep.original_id)
            if known is not None and known.upgraded_id != dep.id:
                raise _fail(
                    "PublishUpgradeMissingDependency",
                    f"two versions of package {dep.original_id} among the dependencies",
                )
            linkage[dep.original_id] = UpgradeInfo(dep.id, dep.version)
        for dep in deps:
            for original, info in dep.linkage:
                linkage.setdefault(original, info)
        return linkage

    def _load(self, run: _Run, package: SuiPackage) -> list[ModuleId]:
        """Load a new package version into the VM (undone if the transaction fails) and check
        that its modules use only its own modules and its dependencies."""
        try:
            ids = load_package(self.vm, package)
        except LinkError as error:
            raise _fail("VMVerificationOrDeserializationError", str(error)) from None
        run.packages.append(package)
        known = {original.raw for original, _ in package.linkage} | {package.original_id.raw}
        loaded = self.vm.packages[package.id.raw]
        for module_id in ids:
            for dependency in loaded.modules[module_id.name].dependencies:
                if dependency.address not in known:
                    raise _fail(
                        "PublishUpgradeMissingDependency",
                        f"module {module_id.name} uses 0x{dependency.address.hex()}::{dependency.name}, "
                        "which is not among the package's dependencies",
                    )
        return ids

    def _upgrade(self, run: _Run, command: Upgrade) -> list[_Value | None]:
        ticket = self._take(run, command.ticket, UPGRADE_TICKET).data
        cap_id, ticket_package, policy = ticket[:32], ticket[32:64], ticket[64]
        try:
            digest = bcs.BYTES.decode(ticket[65:])
        except bcs.BcsError:
            raise _argument_error("InvalidBCSBytes", "the upgrade ticket does not decode") from None
        if command.package.raw != ticket_package:
            raise _upgrade_error(
                "PackageIDDoesNotMatch",
                f"the command upgrades {command.package}, the ticket is for {ObjectId(ticket_package)}",
            )
        computed = package_digest(command.modules, (d.raw for d in command.dependencies))
        if computed != digest:
            raise _upgrade_error(
                "DigestDoesNotMatch",
                f"the new modules and dependencies have digest {computed.hex()}, "
                f"the ticket authorizes {digest.hex()}",
            )
        current = run.checked.packages[command.package]  # the input checks loaded it
        if not command.modules:
            raise _fail("VMVerificationOrDeserializationError", "a package needs at least one module")
        original = current.original_id.raw
        names: list[str] = []
        moved: list[bytes] = []
        for wasm in command.modules:
            try:
                address, name = module_identity(wasm)
                if address not in (ZERO, original):
                    raise RelocationError(
                        f"module {name} is at 0x{address.hex()}: an upgrade of {current.original_id} "
                        "is at 0x0 or at its original id"
                    )
                moved.append(relocate(wasm, address, original))
            except RelocationError as error:
                raise _fail("VMVerificationOrDeserializationError", str(error)) from None
            if name in names:
                raise _fail("VMVerificationOrDeserializationError", f"two modules are named {name}")
            names.append(name)
        try:
            problems = compat.check_upgrade(
                (wasm for _, wasm in current.modules),
                moved,
                policy,
                allow_adding_abilities=self.allow_adding_abilities,
            )
        except compat.UnknownUpgradePolicy as error:
            raise _upgrade_error("UnknownUpgradePolicy", str(error)) from None
        except compat.CompatError as error:
            raise _fail("VMVerificationOrDeserializationError", str(error)) from None
        if problems:
            raise _upgrade_error(
                "IncompatibleUpgrade",
                f"under the {compat.POLICY_NAMES[policy]} policy: " + "; ".join(map(str, problems)),
            )
        storage_id = self._fresh_id(run)
        linkage = self._linkage(run, command.dependencies)
        for dep_original, before in current.linkage:
            after = linkage.get(dep_original)
            if after is not None and after.upgraded_version < before.upgraded_version:
                raise _fail(
                    "PublishUpgradeDependencyDowngrade",
                    f"dependency {dep_original} at version {after.upgraded_version}; "
                    f"the package already links version {before.upgraded_version}",
                )
        modules = sorted(zip(names, moved, strict=True))
        first = {(t.module_name, t.datatype_name): t.package for t in current.type_origins}
        package = SuiPackage(
            ObjectId(storage_id),
            current.original_id,
            current.version + 1,
            tuple(modules),
            _type_origins(modules, ObjectId(storage_id), first),
            tuple(sorted(linkage.items(), key=lambda kv: kv[0].raw)),
            run.digest,
        )
        self._load(run, package)
        return [_Value(UPGRADE_RECEIPT, cap_id + storage_id)]

    def _init_order(self, ids: list[ModuleId], package_id: bytes) -> list[ModuleId]:
        """The package's modules, each after the package modules it uses (names break ties)."""
        order: list[ModuleId] = []

        def visit(module_id: ModuleId) -> None:
            if module_id in order:
                return
            for dependency in self.vm.packages[package_id].modules[module_id.name].dependencies:
                if dependency.address == package_id:
                    visit(dependency)
            order.append(module_id)

        for module_id in sorted(ids):
            visit(module_id)
        return order

    # -- the outcome -------------------------------------------------------------------------
    def _outcome(
        self, run: _Run, lamport: int
    ) -> tuple[TransactionEffects, list[SuiObject], list[Tombstone]]:
        # values left over: an UpgradeCap goes to the sender, anything without drop is an error
        for command, position in run.upgrade_caps:
            value = run.results[command][position]
            if value is not None:
                run.results[command][position] = None
                run.transfers[value.data[:32]] = (UPGRADE_CAP, value.data, AddressOwner(run.sender))
        for command, values in enumerate(run.results):
            for position, value in enumerate(values):
                if (
                    value is not None
                    and value.ty is not None
                    and not self._abilities(value.ty) & Ability.DROP
                ):
                    raise _fail(
                        "UnusedValueWithoutDrop",
                        f"result {position} of command {command} ({value.ty}) has no drop and was not used",
                        command=command,
                    )
        inputs = {s.input.object.id.raw: s for s in run.inputs if isinstance(s, _ObjectSlot)}
        final: dict[bytes, tuple[StructType, bytes, Owner]] = {}
        for entry in run.log.objects:
            if entry.kind == "transfer":
                assert entry.recipient is not None
                owner: Owner = AddressOwner(SuiAddress(entry.recipient))
            elif entry.kind == "freeze":
                owner = Immutable()
            else:
                slot = inputs.get(entry.object_id)
                shared_at = (
                    slot.input.object.owner.initial_shared_version
                    if slot is not None and isinstance(slot.input.object.owner, Shared)
                    else lamport
                )
                owner = Shared(shared_at)
            final[entry.object_id] = (entry.type, entry.contents, owner)
        final.update(run.transfers)
        for object_id, slot in inputs.items():
            if not slot.moved and slot.input.mutable:
                obj = slot.input.object
                final[object_id] = (self._runtime(obj.type), slot.data, obj.owner)
        deleted = set(run.log.deleted)
        created_now = set(run.log.created) | set(run.new_ids)
        for object_id, slot in inputs.items():
            if not slot.input.shared:
                continue
            if object_id in final and not isinstance(final[object_id][2], Shared):
                raise _fail(
                    "SharedObjectOperationNotAllowed",
                    f"shared object {ObjectId(object_id)} cannot be transferred or frozen",
                )
            if slot.moved and object_id not in final and object_id not in deleted:
                raise _fail(
                    "SharedObjectOperationNotAllowed",
                    f"shared object {ObjectId(object_id)} cannot be wrapped",
                )
        written: list[SuiObject] = []
        removed: list[Tombstone] = []
        created: list[tuple[ObjectRef, Owner]] = []
        mutated: list[tuple[ObjectRef, Owner]] = []
        unwrapped: list[tuple[ObjectRef, Owner]] = []
        for object_id in sorted(final):
            ty, contents, owner = final[object_id]
            obj = SuiObject(
                ObjectId(object_id),
                lamport,
                owner,
                self._defining(ty),
                bool(self._abilities(ty) & Ability.STORE),
                contents,
                run.digest,
            )
            written.append(obj)
            change = (obj.ref, owner)
            if object_id in inputs:
                mutated.append(change)
            elif object_id in created_now:
                created.append(change)
            else:
                unwrapped.append(change)
        for package in run.packages:  # a published package is created, immutable, at its own version
            created.append((package.ref, Immutable()))
        created.sort(key=lambda change: change[0].object_id.raw)
        deleted_refs: list[ObjectRef] = []
        unwrapped_then_deleted: list[ObjectRef] = []
        wrapped: list[ObjectRef] = []
        for object_id in sorted(deleted):
            removed.append(Tombstone(ObjectId(object_id), lamport, wrapped=False))
            ref = ObjectRef(ObjectId(object_id), lamport, DELETED_DIGEST)
            (deleted_refs if object_id in inputs else unwrapped_then_deleted).append(ref)
        for object_id, slot in sorted(inputs.items()):
            if slot.moved and object_id not in final and object_id not in deleted:
                removed.append(Tombstone(ObjectId(object_id), lamport, wrapped=True))
                wrapped.append(ObjectRef(ObjectId(object_id), lamport, WRAPPED_DIGEST))
        modified = sorted(
            (s.input.object.id, s.input.object.version) for s in inputs.values() if s.input.mutable
        )
        effects = self._effects(
            run,
            None,
            lamport,
            modified,
            created,
            mutated,
            unwrapped,
            deleted_refs,
            unwrapped_then_deleted,
            wrapped,
        )
        types = {s.input.object.id.raw: self._runtime(s.input.object.type) for s in inputs.values()}
        types.update({o.object_id: o.type for o in run.log.objects})
        types.update({object_id: ty for object_id, (ty, _, _) in final.items()})
        named = {r.object_id.raw for r in (*deleted_refs, *unwrapped_then_deleted, *wrapped)}
        named |= {r.object_id.raw for r, _ in (*created, *mutated, *unwrapped)}
        object_types = tuple((ObjectId(i), self._tag(types[i])) for i in sorted(named) if i in types)
        return replace(effects, object_types=object_types), written, removed

    def _failed(
        self, run: _Run, lamport: int, failure: ExecutionFailure
    ) -> tuple[TransactionEffects, list[SuiObject]]:
        written: list[SuiObject] = []
        mutated: list[tuple[ObjectRef, Owner]] = []
        modified: list[tuple[ObjectId, int]] = []
        for loaded in sorted(
            (i for i in run.checked.inputs if isinstance(i, InputObject) and i.mutable),
            key=lambda i: i.object.id.raw,
        ):
            old = loaded.object
            obj = SuiObject(
                old.id, lamport, old.owner, old.type, old.has_public_transfer, old.contents, run.digest
            )
            written.append(obj)
            mutated.append((obj.ref, obj.owner))
            modified.append((old.id, old.version))
        run.events.clear()
        effects = self._effects(run, failure, lamport, modified, [], mutated, [], [], [], [])
        object_types = tuple((obj.id, struct_tag(obj.type)) for obj in written)
        return replace(effects, object_types=object_types), written

    def _effects(
        self,
        run: _Run,
        status: ExecutionFailure | None,
        lamport: int,
        modified: list[tuple[ObjectId, int]],
        created: list[tuple[ObjectRef, Owner]],
        mutated: list[tuple[ObjectRef, Owner]],
        unwrapped: list[tuple[ObjectRef, Owner]],
        deleted: list[ObjectRef],
        unwrapped_then_deleted: list[ObjectRef],
        wrapped: list[ObjectRef],
    ) -> TransactionEffects:
        shared: list[ObjectRef] = []
        dependencies: set[bytes] = set()
        for loaded in run.checked.inputs:
            if isinstance(loaded, InputObject):
                dependencies.add(loaded.object.previous_transaction.raw)
                if loaded.shared:
                    shared.append(loaded.object.ref)
            elif isinstance(loaded, DeletedShared):
                shared.append(ObjectRef(loaded.object_id, loaded.version, DELETED_DIGEST))
        for package in run.checked.packages.values():
            dependencies.add(package.previous_transaction.raw)
        return TransactionEffects(
            transaction_digest=run.digest,
            status=status,
            executed_epoch=run.epoch,
            gas_used=run.gas_used,
            lamport_version=lamport,
            modified_at_versions=tuple(modified),
            shared_objects=tuple(sorted(shared, key=lambda r: r.object_id.raw)),
            created=tuple(created),
            mutated=tuple(mutated),
            unwrapped=tuple(unwrapped),
            deleted=tuple(deleted),
            unwrapped_then_deleted=tuple(unwrapped_then_deleted),
            wrapped=tuple(wrapped),
            events=tuple(run.events) if status is None else (),
            dependencies=tuple(Digest(d) for d in sorted(dependencies)),
        )


__all__ = ["CommandOutput", "Executor", "SuiError"]
