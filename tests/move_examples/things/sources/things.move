/// Objects for the executor's tests: created, returned, wrapped, unwrapped, shared,
/// frozen, deleted, transferred, with an event and an abort code.
module things::things;

use std::string::String;
use sui::event;

public struct Thing has key, store {
    id: UID,
    value: u64,
}

public struct Box has key {
    id: UID,
    thing: Thing,
}

public struct Pinned has key {
    id: UID,
}

public struct Made has copy, drop {
    id: ID,
    value: u64,
}

const ETooBig: u64 = 7;

public fun make(value: u64, ctx: &mut TxContext): Thing {
    assert!(value < 1000, ETooBig);
    let thing = Thing { id: object::new(ctx), value };
    event::emit(Made { id: object::id(&thing), value });
    thing
}

public fun make_two(ctx: &mut TxContext): (Thing, Thing) {
    let first = make(1, ctx);
    let second = make(2, ctx);
    (first, second)
}

public fun value(thing: &Thing): u64 {
    thing.value
}

public fun set(thing: &mut Thing, value: u64) {
    thing.value = value;
}

public fun sum(values: vector<u64>): u64 {
    let mut total = 0;
    let mut i = 0;
    while (i < values.length()) {
        total = total + *values.borrow(i);
        i = i + 1;
    };
    total
}

public fun label(text: String): u64 {
    text.length()
}

public fun wrap(thing: Thing, ctx: &mut TxContext) {
    transfer::transfer(Box { id: object::new(ctx), thing }, ctx.sender())
}

public fun unwrap(boxed: Box, ctx: &TxContext) {
    let Box { id, thing } = boxed;
    id.delete();
    transfer::public_transfer(thing, ctx.sender())
}

public fun destroy(thing: Thing) {
    let Thing { id, value: _ } = thing;
    id.delete()
}

public fun share(thing: Thing) {
    transfer::public_share_object(thing)
}

public fun freeze_it(thing: Thing) {
    transfer::public_freeze_object(thing)
}

public fun give(thing: Thing, to: address) {
    transfer::public_transfer(thing, to)
}

public fun pin(ctx: &mut TxContext) {
    transfer::share_object(Pinned { id: object::new(ctx) })
}
