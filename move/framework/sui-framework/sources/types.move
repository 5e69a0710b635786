/// Sui-specific facts about types.
module sui::types;

/// Whether `T` is a one-time witness: the struct named as its module in upper case, with
/// only `drop`, no type parameters, and no fields or a single `bool` field.
public native fun is_one_time_witness<T: drop>(_: &T): bool;
