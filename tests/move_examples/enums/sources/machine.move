/// Enums inside a stored object, in events and through `bcs::to_bytes`: what the
/// differential test reads back with the TypeScript SDK's `bcs.enum`.
module book::machine;

use std::string::String;
use sui::event;

public enum Action has copy, drop, store {
    Stop,
    Pause { duration: u32 },
    Jump(u64),
}

public enum Slot<T> has copy, drop, store {
    Empty,
    Full(T),
}

public struct Machine has key {
    id: UID,
    state: Action,
    history: vector<Action>,
    label: Slot<String>,
    last: Option<Slot<u8>>,
}

public struct Moved has copy, drop {
    from: Action,
    to: Action,
}

public fun create(ctx: &mut TxContext) {
    transfer::share_object(Machine {
        id: object::new(ctx),
        state: Action::Stop,
        history: vector[],
        label: Slot::Empty,
        last: option::none(),
    })
}

/// Moves the machine: 0 stops, 1 pauses for `arg` seconds, anything else jumps by `arg`.
public fun step(m: &mut Machine, kind: u8, arg: u64) {
    let to = match (kind) {
        0 => Action::Stop,
        1 => Action::Pause { duration: arg as u32 },
        _ => Action::Jump(arg),
    };
    let from = m.state;
    m.history.push_back(from);
    m.state = to;
    m.last = option::some(Slot::Full(kind));
    event::emit(Moved { from, to });
}

public fun name(m: &mut Machine, label: String) {
    m.label = Slot::Full(label);
}

/// The total of the jumps and pauses in the history, through a match on references.
public fun distance(m: &Machine): u64 {
    let mut total = 0;
    let mut i = 0;
    while (i < m.history.length()) {
        total = total + match (&m.history[i]) {
            Action::Stop => 0,
            Action::Pause { duration } => (*duration as u64),
            Action::Jump(n) => *n,
        };
        i = i + 1;
    };
    total
}

public fun encode(kind: u8, arg: u64): vector<u8> {
    let action = match (kind) {
        0 => Action::Stop,
        1 => Action::Pause { duration: arg as u32 },
        _ => Action::Jump(arg),
    };
    std::bcs::to_bytes(&action)
}
