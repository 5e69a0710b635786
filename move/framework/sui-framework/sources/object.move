/// Object identifiers: `UID` (the unique id inside every object) and `ID` (a copyable
/// reference to one).
module sui::object;

use std::bcs;
use sui::address;
use sui::tx_context::{Self, TxContext};

/// The id of the singleton Clock object.
const SUI_CLOCK_OBJECT_ID: address = @0x6;

/// `id.to_address()` on an `ID`.
public use fun id_to_address as ID.to_address;

/// `id.to_bytes()` on an `ID`.
public use fun id_to_bytes as ID.to_bytes;

/// `uid.as_inner()` on a `UID`.
public use fun uid_as_inner as UID.as_inner;

/// `uid.to_inner()` on a `UID`.
public use fun uid_to_inner as UID.to_inner;

/// `uid.to_address()` on a `UID`.
public use fun uid_to_address as UID.to_address;

/// `uid.to_bytes()` on a `UID`.
public use fun uid_to_bytes as UID.to_bytes;

/// An object id as a value: copyable and droppable, so not unique (many `ID`s may name one
/// object).
public struct ID has copy, drop, store {
    bytes: address,
}

/// The unique id of an object: the first field of every `key` struct. It has only `store`,
/// so it can be made only by `new` and ended only by `delete`.
public struct UID has store {
    id: ID,
}

/// The BCS bytes of `id` (its 32 address bytes).
public fun id_to_bytes(id: &ID): vector<u8> {
    bcs::to_bytes(&id.bytes)
}

/// The address inside `id`.
public fun id_to_address(id: &ID): address {
    id.bytes
}

/// An `ID` of 32 bytes; aborts (in `address::from_bytes`) for any other length.
public fun id_from_bytes(bytes: vector<u8>): ID {
    id_from_address(address::from_bytes(bytes))
}

/// An `ID` of an address.
public fun id_from_address(bytes: address): ID {
    ID { bytes }
}

/// The `UID` of the singleton `Clock` at `0x6`; only `sui::clock::create` uses it, at genesis.
public(package) fun clock(): UID {
    UID { id: ID { bytes: SUI_CLOCK_OBJECT_ID } }
}

/// The `ID` inside `uid`.
public fun uid_as_inner(uid: &UID): &ID {
    &uid.id
}

/// A copy of the `ID` inside `uid`.
public fun uid_to_inner(uid: &UID): ID {
    uid.id
}

/// The BCS bytes of `uid`'s id.
public fun uid_to_bytes(uid: &UID): vector<u8> {
    bcs::to_bytes(&uid.id.bytes)
}

/// The address of `uid`'s id.
public fun uid_to_address(uid: &UID): address {
    uid.id.bytes
}

/// A new, never used `UID` (the only way to make one).
public fun new(ctx: &mut TxContext): UID {
    UID { id: ID { bytes: tx_context::fresh_object_address(ctx) } }
}

/// End `id`, telling the runtime the object is deleted (the only way to end a `UID`).
public fun delete(id: UID) {
    let UID { id: inner } = id;
    let ID { bytes } = inner;
    delete_impl(bytes)
}

/// The `ID` of the object `obj`.
public fun id<T: key>(obj: &T): ID {
    borrow_uid(obj).id
}

/// A reference to the `ID` of the object `obj`.
public fun borrow_id<T: key>(obj: &T): &ID {
    &borrow_uid(obj).id
}

/// The BCS bytes of the `ID` of `obj`.
public fun id_bytes<T: key>(obj: &T): vector<u8> {
    bcs::to_bytes(&borrow_uid(obj).id)
}

/// The address of the `ID` of `obj`.
public fun id_address<T: key>(obj: &T): address {
    borrow_uid(obj).id.bytes
}

/// The `UID` of an object: its first field, which the Sui rules guarantee is `id: UID`.
/// Private, because access to a `UID` is the defining module's privilege.
native fun borrow_uid<T: key>(obj: &T): &UID;

/// Record the deletion of the object `id`.
native fun delete_impl(id: address);
