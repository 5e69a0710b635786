"""The checks Sui makes before a transaction runs, and the input objects they load.

A transaction that fails one is refused outright: nothing runs, nothing is recorded, and
the sender gets Sui's ``UserInputError`` name (``vocab.errors.SuiError``) with Sui's
wording where it has one (``crates/sui-transaction-checks``): an owned or immutable
object must exist at exactly the referenced version and digest
(``ObjectNotFound``, ``ObjectVersionUnavailableForConsumption``, ``InvalidObjectDigest``);
an address-owned object passes only for its owner (``IncorrectUserSignature``); an object
owned by an object cannot be an input (``InvalidChildObjectArgument``); a shared object
must be passed as shared, at its initial shared version (``NotSharedObjectError``,
``SharedObjectStartingVersionMismatch``, ``NotOwnedObjectError``); a package is not an
object and an object is not a package (``MovePackageAsObject``,
``MoveObjectAsPackage``, ``DependentPackageNotFound``); an object appears once
(``DuplicateObjectRefInput``); the expiration has not passed (``TransactionExpired``).

A shared object that was deleted after the transaction was sequenced is not an input
error: as in Sui, the transaction runs and fails with ``InputObjectDeleted``.
"""

from __future__ import annotations

from dataclasses import dataclass

from node.sui.store import ObjectStore, SuiObject, SuiPackage
from vocab.errors import SuiError
from vocab.sui.address import ObjectId, SuiAddress
from vocab.sui.objects import AddressOwner, Immutable, ObjectOwner, ObjectRef, Shared
from vocab.sui.transaction import (
    EpochExpiration,
    ImmOrOwnedObject,
    MoveCall,
    Publish,
    Pure,
    Receiving,
    SharedObject,
    TransactionData,
    Upgrade,
    ValidDuring,
)


@dataclass
class InputObject:
    """An object input as loaded: the object, how it was passed, whether it may change."""

    index: int
    object: SuiObject
    shared: bool
    mutable: bool
    """Owned inputs and shared inputs passed ``mutable`` may change; immutable ones never."""

    @property
    def immutable(self) -> bool:
        return isinstance(self.object.owner, Immutable)


@dataclass
class DeletedShared:
    """A shared input that no longer exists: the transaction fails with ``InputObjectDeleted``."""

    index: int
    object_id: ObjectId
    initial_shared_version: int
    version: int
    mutable: bool


LoadedInput = bytes | InputObject | DeletedShared


@dataclass
class CheckedInputs:
    inputs: list[LoadedInput]
    packages: dict[ObjectId, SuiPackage]
    """The packages the commands name (MoveCall packages, Publish/Upgrade dependencies, the
    package an Upgrade upgrades)."""


def _ref_text(ref: ObjectRef) -> str:
    return f"({ref.object_id}, SequenceNumber({ref.version}), o#{ref.digest})"


def _owned(store: ObjectStore, ref: ObjectRef, sender: SuiAddress, index: int) -> InputObject:
    object_id = ref.object_id
    if object_id in store.packages:
        raise SuiError("MovePackageAsObject", f"{object_id} is a package, not an object (input {index})")
    obj = store.get(object_id)
    if obj is None or obj.version != ref.version:
        tomb = store.tombstones.get(object_id)
        current = obj.version if obj is not None else tomb.version if tomb is not None else None
        if current is not None and current >= ref.version:
            raise SuiError(
                "ObjectVersionUnavailableForConsumption",
                f"Object {_ref_text(ref)} is not available for consumption, its current version: "
                f"SequenceNumber({current}).",
            )
        raise SuiError(
            "ObjectNotFound", f"Could not find the referenced object {object_id} at version {ref.version}."
        )
    if obj.digest != ref.digest:
        raise SuiError(
            "InvalidObjectDigest",
            f"Object {object_id} digest is {ref.digest}, the object's digest is {obj.digest}",
        )
    owner = obj.owner
    if isinstance(owner, AddressOwner):
        if owner.address != sender:
            raise SuiError(
                "IncorrectUserSignature",
                f"Object {object_id} is owned by account address {owner.address}, "
                f"but given owner/signer address is {sender}",
            )
        return InputObject(index, obj, shared=False, mutable=True)
    if isinstance(owner, Immutable):
        return InputObject(index, obj, shared=False, mutable=False)
    if isinstance(owner, ObjectOwner):
        raise SuiError(
            "InvalidChildObjectArgument",
            f"Argument {object_id} is a child of object {owner.address}: it is used through its parent",
        )
    raise SuiError(
        "NotOwnedObjectError", f"Object {object_id} is shared: pass it as a shared object, not by reference"
    )


def _shared(store: ObjectStore, arg: SharedObject, index: int) -> InputObject | DeletedShared:
    object_id = arg.object_id
    if object_id in store.packages:
        raise SuiError("MovePackageAsObject", f"{object_id} is a package, not an object (input {index})")
    obj = store.get(object_id)
    if obj is None:
        tomb = store.tombstones.get(object_id)
        if tomb is not None and not tomb.wrapped and tomb.version > arg.initial_shared_version:
            return DeletedShared(index, object_id, arg.initial_shared_version, tomb.version, arg.mutable)
        raise SuiError("ObjectNotFound", f"Could not find the referenced object {object_id}.")
    owner = obj.owner
    if not isinstance(owner, Shared):
        raise SuiError("NotSharedObjectError", f"Object {object_id} is not a shared object")
    if owner.initial_shared_version != arg.initial_shared_version:
        raise SuiError(
            "SharedObjectStartingVersionMismatch",
            f"Object {object_id} became shared at version {owner.initial_shared_version}, "
            f"not {arg.initial_shared_version}",
        )
    return InputObject(index, obj, shared=True, mutable=arg.mutable)


def _package(store: ObjectStore, package_id: ObjectId, packages: dict[ObjectId, SuiPackage]) -> None:
    package = store.package(package_id)
    if package is None:
        if package_id in store.objects:
            raise SuiError("MoveObjectAsPackage", f"{package_id} is an object, not a package")
        raise SuiError("DependentPackageNotFound", f"Dependent package not found on-chain: {package_id}")
    packages[package_id] = package


def check_shape(tx: TransactionData, *, epoch: int | None, timestamp_ms: int) -> None:
    """The checks that need no state: the expiration has not passed and there is a
    command. Ingress applies them when a transaction arrives and when a block carries it;
    execution applies them again, with every other check (``check_inputs``). ``epoch``
    None skips the epoch bounds: a block's validity may not depend on the epoch a replica
    has reached, so only execution, in consensus order, judges them there."""
    expiration = tx.expiration
    if epoch is None:
        pass
    elif isinstance(expiration, EpochExpiration) and epoch > expiration.epoch:
        raise SuiError(
            "TransactionExpired", f"the transaction expired at the end of epoch {expiration.epoch}"
        )
    if isinstance(expiration, ValidDuring):
        if epoch is not None and (
            (expiration.min_epoch is not None and epoch < expiration.min_epoch)
            or (expiration.max_epoch is not None and epoch > expiration.max_epoch)
        ):
            raise SuiError("TransactionExpired", f"the transaction is not valid in epoch {epoch}")
        if (expiration.min_timestamp is not None and timestamp_ms < expiration.min_timestamp) or (
            expiration.max_timestamp is not None and timestamp_ms > expiration.max_timestamp
        ):
            raise SuiError("TransactionExpired", f"the transaction is not valid at {timestamp_ms} ms")
    if not tx.kind.commands:
        raise SuiError("EmptyCommandInput", "the transaction has no commands")


def check_inputs(
    store: ObjectStore, tx: TransactionData, sender: SuiAddress, *, epoch: int, timestamp_ms: int
) -> CheckedInputs:
    """Every pre-execution check; the loaded inputs, or ``SuiError``."""
    check_shape(tx, epoch=epoch, timestamp_ms=timestamp_ms)
    loaded: list[LoadedInput] = []
    seen: set[ObjectId] = set()
    for index, arg in enumerate(tx.kind.inputs):
        if isinstance(arg, Pure):
            loaded.append(arg.value)
            continue
        if isinstance(arg, Receiving):
            raise SuiError(
                "UnsupportedFeatureError", "receiving objects (transfer::receive) is not supported yet"
            )
        object_id = arg.ref.object_id if isinstance(arg, ImmOrOwnedObject) else arg.object_id
        if object_id in seen:
            raise SuiError("DuplicateObjectRefInput", f"object {object_id} is an input twice")
        seen.add(object_id)
        if isinstance(arg, ImmOrOwnedObject):
            loaded.append(_owned(store, arg.ref, sender, index))
        else:
            loaded.append(_shared(store, arg, index))
    packages: dict[ObjectId, SuiPackage] = {}
    for command in tx.kind.commands:
        if isinstance(command, MoveCall):
            _package(store, command.package, packages)
        elif isinstance(command, (Publish, Upgrade)):
            for dependency in command.dependencies:
                _package(store, dependency, packages)
            if isinstance(command, Upgrade):  # the package upgraded is loaded as an input too
                _package(store, command.package, packages)
    return CheckedInputs(loaded, packages)


__all__ = ["CheckedInputs", "DeletedShared", "InputObject", "LoadedInput", "check_inputs", "check_shape"]
