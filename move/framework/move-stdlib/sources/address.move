/// Facts about the `address` type.
module std::address;

/// The length of an address in bytes (32 on Sui).
public fun length(): u64 {
    32
}
