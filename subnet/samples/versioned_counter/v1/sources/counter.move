/// A shared counter that knows which version of its package may use it: the pattern
/// the Sui documentation gives for upgrading packages with shared objects ("Versioned
/// shared objects"). Version 1.
module versioned_counter::counter;

/// The version of the package this code is (each upgrade raises it).
const VERSION: u64 = 1;

/// Not the admin of this counter.
const ENotAdmin: u64 = 0;
/// The counter belongs to another version of the package.
const EWrongVersion: u64 = 1;

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
