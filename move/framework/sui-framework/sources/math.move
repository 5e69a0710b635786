/// Older u64 helpers, kept because older packages call them; new code uses `std::u64`.
module sui::math;

/// The larger of `x` and `y`.
public fun max(x: u64, y: u64): u64 {
    std::u64::max(x, y)
}

/// The smaller of `x` and `y`.
public fun min(x: u64, y: u64): u64 {
    std::u64::min(x, y)
}

/// The absolute difference of `x` and `y`.
public fun diff(x: u64, y: u64): u64 {
    std::u64::diff(x, y)
}

/// `base` to the power `exponent`; aborts on overflow.
public fun pow(base: u64, exponent: u8): u64 {
    std::u64::pow(base, exponent)
}

/// The integer square root of `x`, rounded down.
public fun sqrt(x: u64): u64 {
    std::u64::sqrt(x)
}

/// The integer square root of `x`, rounded down.
public fun sqrt_u128(x: u128): u128 {
    std::u128::sqrt(x)
}

/// `x / y` rounded up.
public fun divide_and_round_up(x: u64, y: u64): u64 {
    std::u64::divide_and_round_up(x, y)
}
