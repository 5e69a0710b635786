/// A shared counter that knows which version of its package may use it: the pattern
/// the Sui documentation gives for upgrading packages with shared objects ("Versioned
/// shared objects"). Version 2: `increment` reports every hundredth step, and `migrate`
/// moves a counter from version 1 to this version (only its admin may).
module versioned_counter::counter;

use sui::event;

/// The version of the package this code is (each upgrade raises it).
const VERSION: u64 = 2;

/// Not the admin of this counter.
const ENotAdmin: u64 = 0;
/// The counter belongs to another version of the package.
const EWrongVersion: u64 = 1;
/// The counter is at this version already.
const ENotUpgrade: u64 = 2;

public struct Counter has key {
    id: UID,
    /// The package version that may use this counter.
    version: u64,
    /// The `AdminCap` allowed to migrate it.
    admin: ID,
    value: u64,
}

/// The right to migrate the counter to a newer version.
public struct AdminCap has key {
    id: UID,
}

/// Emitted when the counter reaches a multiple of 100.
public struct Progress has copy, drop {
    reached: u64,
}

fun init(ctx: &mut TxContext) {
    let admin = AdminCap { id: object::new(ctx) };
    transfer::share_object(Counter {
        id: object::new(ctx),
        version: VERSION,
        admin: object::id(&admin),
        value: 0,
    });
    transfer::transfer(admin, ctx.sender());
}

public entry fun increment(c: &mut Counter) {
    assert!(c.version == VERSION, EWrongVersion);
    c.value = c.value + 1;
    if (c.value % 100 == 0) {
        event::emit(Progress { reached: c.value })
    }
}

public fun value(c: &Counter): u64 {
    c.value
}

public fun version(c: &Counter): u64 {
    c.version
}

public fun check_admin(c: &Counter, a: &AdminCap) {
    assert!(c.admin == object::id(a), ENotAdmin);
}

/// Move `c` to this version: from now on only this version's functions may use it.
entry fun migrate(c: &mut Counter, a: &AdminCap) {
    check_admin(c, a);
    assert!(c.version < VERSION, ENotUpgrade);
    c.version = VERSION;
}
