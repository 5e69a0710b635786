/// An owned register in Sui Move: one address owns it and only that address may use it, so
/// its transactions take the fast path (votes, a certificate, signed effects; no consensus).
/// Simulated runs use it as the `owned-transfer` workload: each client writes, compares and
/// sets, and reads its own registers, passing each on to another of its own addresses in
/// the same transaction.
module registers::register;

/// A register: absent until the first `write`, as a register of a client history starts.
public struct Register has key, store {
    id: UID,
    written: bool,
    value: u64,
}

/// What `read` tells, as an event of the transaction's effects (a transaction has no
/// return value; Sui clients read results from events).
public struct Value has copy, drop {
    present: bool,
    value: u64,
}

/// A new, unwritten register, returned to the caller (to transfer in the same transaction).
public fun new(ctx: &mut TxContext): Register {
    Register { id: object::new(ctx), written: false, value: 0 }
}

public fun write(register: &mut Register, value: u64) {
    register.written = true;
    register.value = value;
}

/// Set `value` if the register holds `expected`; abort with 1 otherwise (nothing changes).
public fun cas(register: &mut Register, expected: u64, value: u64) {
    assert!(register.written && register.value == expected, 1);
    register.value = value;
}

public fun read(register: &Register) {
    sui::event::emit(Value { present: register.written, value: register.value })
}
