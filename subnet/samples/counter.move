/// A shared counter in Sui Move: anyone creates one, anyone increments or adds to it, the
/// owner sets it. The demo publishes it; simulated runs use it as the `sui-counter` workload.
module counter::counter;

public struct Counter has key {
    id: UID,
    owner: address,
    value: u64,
}

public fun create(ctx: &mut TxContext) {
    transfer::share_object(Counter {
        id: object::new(ctx),
        owner: ctx.sender(),
        value: 0,
    })
}

public fun increment(counter: &mut Counter) {
    counter.value = counter.value + 1;
}

public fun set_value(counter: &mut Counter, value: u64, ctx: &TxContext) {
    assert!(counter.owner == ctx.sender(), 0);
    counter.value = value;
}

public fun value(counter: &Counter): u64 {
    counter.value
}

/// What `read` tells: the counter's value, as an event in the transaction's effects (a
/// transaction has no return value; Sui clients read results from events).
public struct Value has copy, drop {
    value: u64,
}

public fun add(counter: &mut Counter, delta: u64) {
    counter.value = counter.value + delta;
}

/// Read the value through consensus: the event carries it, ordered with every change.
public fun read(counter: &Counter) {
    sui::event::emit(Value { value: counter.value })
}
