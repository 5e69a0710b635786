/// Time for Move calls: the `Clock`, one shared object at `0x6` made at genesis and set by
/// the system before each consensus commit.
module sui::clock;

use sui::object::{Self, UID};
use sui::transfer;
use sui::tx_context::{Self, TxContext};

/// Sender is not @0x0 the system address.
const ENotSystemAddress: u64 = 0;

/// The singleton clock at `0x6`. Entry functions may take it only as `&Clock` (a Sui rule).
public struct Clock has key {
    id: UID,
    /// Milliseconds since the Unix epoch, as of the consensus commit being executed.
    timestamp_ms: u64,
}

/// The clock's time in milliseconds.
public fun timestamp_ms(clock: &Clock): u64 {
    clock.timestamp_ms
}

/// Create and share the clock at `0x6`; genesis calls it once, as the system address.
fun create(ctx: &TxContext) {
    assert!(tx_context::sender(ctx) == @0x0, ENotSystemAddress);
    transfer::share_object(Clock { id: object::clock(), timestamp_ms: 0 })
}

/// Set the time; the system calls it before each consensus commit.
fun consensus_commit_prologue(clock: &mut Clock, timestamp_ms: u64, ctx: &TxContext) {
    assert!(tx_context::sender(ctx) == @0x0, ENotSystemAddress);
    clock.timestamp_ms = timestamp_ms
}
