/// Owned objects: a `Note` belongs to one address, and only that address may use it in a
/// transaction. It has `store`, so besides this module's functions `sui client transfer`
/// (a `TransferObjects` command) moves it too. Frozen, it becomes immutable: anyone may
/// read it, no one may change or delete it.
module owned::note;

use std::string::String;

/// A note owned by one address.
public struct Note has key, store {
    id: UID,
    text: String,
    /// How many times `update` changed the text.
    edits: u64,
}

/// A new note, returned to the caller (to pass on in the same transaction, or transfer).
public fun new(text: String, ctx: &mut TxContext): Note {
    Note { id: object::new(ctx), text, edits: 0 }
}

/// Make a note and keep it: the sender owns it.
entry fun create(text: String, ctx: &mut TxContext) {
    transfer::transfer(new(text, ctx), ctx.sender());
}

/// Give the note to `recipient`; from then on only the recipient may use it.
public fun transfer(note: Note, recipient: address) {
    transfer::public_transfer(note, recipient);
}

/// Replace the text. Takes `&mut Note`: the owner may call it, and no one may on a frozen note.
public fun update(note: &mut Note, text: String) {
    note.text = text;
    note.edits = note.edits + 1;
}

/// Make the note immutable, for good.
public fun freeze(note: Note) {
    transfer::public_freeze_object(note);
}

/// Delete the note: unpack it and delete its id (a frozen note cannot be passed by value).
public fun delete(note: Note) {
    let Note { id, text: _, edits: _ } = note;
    id.delete();
}

public fun text(note: &Note): String {
    note.text
}

public fun edits(note: &Note): u64 {
    note.edits
}
