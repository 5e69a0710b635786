/// A shared counter: anyone creates one and anyone increments it; its owner sets its value;
/// the holder of the package's `AdminCap` resets any counter and migrates counters to a new
/// version of the package.
///
/// The counter is versioned as Sui's documentation advises for shared objects ("Versioned
/// shared objects"): every published version of a package stays callable, so each function
/// that changes a `Counter` checks that the counter was made for this version of the code.
/// After an upgrade that raises `VERSION`, the admin calls the new package's `migrate` on
/// each counter; from then on only the new code changes it.
module counter::counter;

use sui::event;

/// The version of this code. Raise it in an upgrade that must stop older versions of the
/// package from changing counters (then `migrate` each counter).
const VERSION: u64 = 1;

/// The sender is not the counter's owner.
const ENotOwner: u64 = 0;
/// The counter belongs to another version of this package: upgrade or migrate.
const EWrongVersion: u64 = 1;
/// `migrate` found the counter already at this package's version.
const ENotUpgrade: u64 = 2;

/// A shared counter.
public struct Counter has key {
    id: UID,
    /// The address that created it; only it may `set_value`.
    owner: address,
    value: u64,
    /// The package version whose code may change this counter.
    version: u64,
}

/// The right to reset any counter and to migrate counters; one exists, made for the
/// publisher when the package is published.
public struct AdminCap has key {
    id: UID,
}

/// Emitted by `increment`: which counter, and its value after the increment.
public struct Incremented has copy, drop {
    counter_id: ID,
    value: u64,
}

/// Runs once, when the package is published: the publisher receives the `AdminCap`.
fun init(ctx: &mut TxContext) {
    transfer::transfer(AdminCap { id: object::new(ctx) }, ctx.sender());
}

/// Create a counter at 0, owned (for `set_value`) by the sender, and share it.
public fun create(ctx: &mut TxContext) {
    transfer::share_object(Counter {
        id: object::new(ctx),
        owner: ctx.sender(),
        value: 0,
        version: VERSION,
    })
}

/// Add 1 to the counter; anyone may.
public fun increment(counter: &mut Counter) {
    assert!(counter.version == VERSION, EWrongVersion);
    counter.value = counter.value + 1;
    event::emit(Incremented { counter_id: object::id(counter), value: counter.value });
}

/// Set the counter to `value`; only its owner may.
public fun set_value(counter: &mut Counter, value: u64, ctx: &TxContext) {
    assert!(counter.version == VERSION, EWrongVersion);
    assert!(counter.owner == ctx.sender(), ENotOwner);
    counter.value = value;
}

/// Set any counter back to 0; needs the `AdminCap`.
public fun reset(_: &AdminCap, counter: &mut Counter) {
    assert!(counter.version == VERSION, EWrongVersion);
    counter.value = 0;
}

/// Bring a counter made by an older version of the package to this one; needs the
/// `AdminCap`. Called through the upgraded package, after an upgrade that raised `VERSION`.
public fun migrate(_: &AdminCap, counter: &mut Counter) {
    assert!(counter.version < VERSION, ENotUpgrade);
    counter.version = VERSION;
}

public fun value(counter: &Counter): u64 {
    counter.value
}

public fun owner(counter: &Counter): address {
    counter.owner
}

public fun version(counter: &Counter): u64 {
    counter.version
}
