// The subnet's Sui framework (0x2), written after the API and semantics of MystenLabs/sui
// crates/sui-framework/packages/sui-framework (re-written in the subset the project's
// compiler accepts; natives in move/framework/NATIVES.md).

/// The transaction being executed, as the runtime hands it to an entry function.
///
/// This is the older Sui shape: the runtime builds the struct (its fields, in this order,
/// are its BCS form) and passes it as `&TxContext` / `&mut TxContext`; the accessors read
/// fields, and fresh ids are derived by one native from the digest and the counter the
/// struct carries. The executor passes the same value to every command of a transaction
/// and keeps the `ids_created` each call leaves, so ids never repeat within a transaction.
module sui::tx_context;

use std::option::{Self, Option};

/// Information about the transaction being executed. Only the runtime makes one.
public struct TxContext has drop {
    /// The address of the user that signed the transaction.
    sender: address,
    /// The transaction digest (32 bytes).
    tx_hash: vector<u8>,
    /// The current epoch.
    epoch: u64,
    /// When the epoch started, in milliseconds since the Unix epoch.
    epoch_timestamp_ms: u64,
    /// How many fresh ids this transaction has derived so far (0 at its start).
    ids_created: u64,
}

/// The address of the user that signed the transaction.
public fun sender(self: &TxContext): address {
    self.sender
}

/// The transaction digest. Not a source of randomness.
public fun digest(self: &TxContext): &vector<u8> {
    &self.tx_hash
}

/// The current epoch.
public fun epoch(self: &TxContext): u64 {
    self.epoch
}

/// The epoch's start time in milliseconds.
public fun epoch_timestamp_ms(self: &TxContext): u64 {
    self.epoch_timestamp_ms
}

/// The sponsor of the transaction: always `none()` on the subnet, which has no gas coins
/// and therefore no sponsored transactions.
public fun sponsor(_self: &TxContext): Option<address> {
    option::none()
}

/// A fresh object address: never used before, never a user's address.
public fun fresh_object_address(ctx: &mut TxContext): address {
    let ids_created = ctx.ids_created;
    let id = derive_id(*&ctx.tx_hash, ids_created);
    ctx.ids_created = ids_created + 1;
    id
}

/// Blake2b-256(0xF1 · tx_hash · ids_created as u64 little endian), recorded by the object
/// runtime as a new id of this transaction.
native fun derive_id(tx_hash: vector<u8>, ids_created: u64): address;
