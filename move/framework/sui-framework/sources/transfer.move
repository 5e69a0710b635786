/// Ownership changes of objects: transfer to an address, share, freeze, and receive.
///
/// `transfer`, `share_object`, `freeze_object` and `receive` may only be called from the
/// module that defines the object's type (a Sui verifier rule, `move/sui_rules.py`); the
/// `public_*` forms work anywhere for objects that also have `store`.
module sui::transfer;

use sui::object::{Self, ID, UID};

/// The ability to receive an object of type `T` sent to another object, at `version`.
public struct Receiving<phantom T: key> has drop {
    id: ID,
    version: u64,
}

/// Sharing an object that was not created in this transaction.
const ESharedNonNewObject: u64 = 0;
/// The received object's contents could not be decoded as `T`.
const EBCSSerializationFailure: u64 = 1;
/// The object to receive is not of type `T`.
const EReceivingObjectTypeMismatch: u64 = 2;
/// The object to receive does not exist, is not owned by the parent, or is at another version.
const EUnableToReceiveObject: u64 = 3;
/// Shared objects cannot be transferred, frozen or wrapped.
const ESharedObjectOperationNotSupported: u64 = 4;

/// Make `recipient` the owner of `obj` (only in `T`'s module).
public fun transfer<T: key>(obj: T, recipient: address) {
    transfer_impl(obj, recipient)
}

/// Make `recipient` the owner of `obj`, from any module.
public fun public_transfer<T: key + store>(obj: T, recipient: address) {
    transfer_impl(obj, recipient)
}

/// Make `obj` immutable forever (only in `T`'s module).
public fun freeze_object<T: key>(obj: T) {
    freeze_object_impl(obj)
}

/// Make `obj` immutable forever, from any module.
public fun public_freeze_object<T: key + store>(obj: T) {
    freeze_object_impl(obj)
}

/// Make `obj` a shared object that everyone can use and mutate, forever (only in `T`'s
/// module). The object must have been created in this transaction.
public fun share_object<T: key>(obj: T) {
    share_object_impl(obj)
}

/// Make `obj` a shared object, from any module.
public fun public_share_object<T: key + store>(obj: T) {
    share_object_impl(obj)
}

/// Take the object `to_receive` names out of `parent`'s ownership (only in `T`'s module).
public fun receive<T: key>(parent: &mut UID, to_receive: Receiving<T>): T {
    let Receiving { id, version } = to_receive;
    receive_impl(object::uid_to_address(parent), id, version)
}

/// Take the object `to_receive` names out of `parent`'s ownership, from any module.
public fun public_receive<T: key + store>(parent: &mut UID, to_receive: Receiving<T>): T {
    let Receiving { id, version } = to_receive;
    receive_impl(object::uid_to_address(parent), id, version)
}

/// The id of the object a `Receiving` refers to.
public fun receiving_object_id<T: key>(receiving: &Receiving<T>): ID {
    receiving.id
}

public(package) native fun freeze_object_impl<T: key>(obj: T);

public(package) native fun share_object_impl<T: key>(obj: T);

public(package) native fun transfer_impl<T: key>(obj: T, recipient: address);

native fun receive_impl<T: key>(parent: address, to_receive: ID, version: u64): T;
