/// Helpers for `u256`, as plain functions (Sui writes them as macros over every width).
module std::u256;

use std::option::{Self, Option};
use std::string::{Self, String};
use std::vector;

/// Every bit of `x` flipped.
public fun bitwise_not(x: u256): u256 {
    x ^ 0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff
}

/// The larger of `x` and `y`.
public fun max(x: u256, y: u256): u256 {
    if (x > y) x else y
}

/// The smaller of `x` and `y`.
public fun min(x: u256, y: u256): u256 {
    if (x < y) x else y
}

/// The absolute difference of `x` and `y`.
public fun diff(x: u256, y: u256): u256 {
    if (x > y) x - y else y - x
}

/// `x / y` rounded up; a zero `y` aborts (arithmetic error).
public fun divide_and_round_up(x: u256, y: u256): u256 {
    if (x % y == 0) x / y else x / y + 1
}

/// `base` to the power `exponent` (square and multiply); aborts on overflow.
public fun pow(base: u256, exponent: u8): u256 {
    let mut base = base;
    let mut exponent = exponent;
    let mut res = 1;
    while (exponent >= 1) {
        if (exponent % 2 == 0) {
            base = base * base;
            exponent = exponent / 2;
        } else {
            res = res * base;
            exponent = exponent - 1;
        }
    };
    res
}

/// `some(x as u8)` if `x` fits in u8, else `none()`.
public fun try_as_u8(x: u256): Option<u8> {
    if (x > 0xff) option::none() else option::some((x as u8))
}

/// `some(x as u16)` if `x` fits in u16, else `none()`.
public fun try_as_u16(x: u256): Option<u16> {
    if (x > 0xffff) option::none() else option::some((x as u16))
}

/// `some(x as u32)` if `x` fits in u32, else `none()`.
public fun try_as_u32(x: u256): Option<u32> {
    if (x > 0xffffffff) option::none() else option::some((x as u32))
}

/// `some(x as u64)` if `x` fits in u64, else `none()`.
public fun try_as_u64(x: u256): Option<u64> {
    if (x > 0xffffffffffffffff) option::none() else option::some((x as u64))
}

/// `some(x as u128)` if `x` fits in u128, else `none()`.
public fun try_as_u128(x: u256): Option<u128> {
    if (x > 0xffffffffffffffffffffffffffffffff) option::none() else option::some((x as u128))
}

/// The decimal digits of `x`.
public fun to_string(x: u256): String {
    if (x == 0) return string::utf8(b"0");
    let mut x = x;
    let mut buffer = vector::empty();
    while (x != 0) {
        vector::push_back(&mut buffer, ((48 + x % 10) as u8));
        x = x / 10;
    };
    vector::reverse(&mut buffer);
    string::utf8(buffer)
}

// === Macros (expanded where they are called) ===

/// The largest `u256`.
public macro fun max_value(): u256 {
    0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff
}

/// Calls `$f` with 0, 1, ... up to `$stop` (excluded), in order.
public macro fun do<$R: drop>($stop: u256, $f: |u256| -> $R) {
    let stop = $stop;
    let mut i = 0;
    while (i < stop) {
        $f(i);
        i = i + 1;
    }
}

/// Calls `$f` with `$start`, `$start + 1`, ... up to `$stop` (excluded), in order.
public macro fun range_do<$R: drop>($start: u256, $stop: u256, $f: |u256| -> $R) {
    let mut i = $start;
    let stop = $stop;
    while (i < stop) {
        $f(i);
        i = i + 1;
    }
}

/// Calls `$f` with 0, 1, ... up to `$stop` (included), in order.
public macro fun do_eq<$R: drop>($stop: u256, $f: |u256| -> $R) {
    range_do_eq!(0, $stop, $f)
}

/// Calls `$f` with `$start`, `$start + 1`, ... up to `$stop` (included), in order; the
/// largest `u256` may be the last without an overflow.
public macro fun range_do_eq<$R: drop>($start: u256, $stop: u256, $f: |u256| -> $R) {
    let mut i = $start;
    let stop = $stop;
    if (i <= stop) {
        loop {
            $f(i);
            if (i == stop) break;
            i = i + 1;
        }
    }
}
