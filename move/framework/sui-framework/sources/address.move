/// Conversions of `address` values.
module sui::address;

use std::ascii;
use std::bcs;
use std::string;
use std::vector;
use sui::hex;

/// The length of an address, in bytes.
const LENGTH: u64 = 32;

/// The largest integer that fits in 32 bytes: 2^256 - 1.
const MAX: u256 = 115792089237316195423570985008687907853269984665640564039457584007913129639935;

/// `from_bytes` was given a number of bytes other than 32, or `from_ascii_bytes` bad text.
const EAddressParseError: u64 = 0;

/// `a` read as a big-endian integer (`to_u256(@0x1) == 1`).
public native fun to_u256(a: address): u256;

/// `n` as a big-endian address (`from_u256(1) == @0x1`).
public native fun from_u256(n: u256): address;

/// The address of 32 bytes; aborts with `EAddressParseError` for any other length.
public native fun from_bytes(bytes: vector<u8>): address;

/// The BCS bytes of `a` (its 32 bytes, big-endian).
public fun to_bytes(a: address): vector<u8> {
    bcs::to_bytes(&a)
}

/// The 64 lower-case hex digits of `a`, as ASCII.
public fun to_ascii_string(a: address): ascii::String {
    ascii::string(hex::encode(to_bytes(a)))
}

/// The 64 lower-case hex digits of `a`.
public fun to_string(a: address): string::String {
    string::from_ascii(to_ascii_string(a))
}

/// The address written as exactly 64 hex digits (either case, no `0x`); aborts with
/// `EAddressParseError` otherwise.
public fun from_ascii_bytes(bytes: &vector<u8>): address {
    assert!(vector::length(bytes) == 64, EAddressParseError);
    let mut hex_bytes = vector::empty();
    let mut i = 0;
    while (i < 64) {
        let hi = hex_char_value(*vector::borrow(bytes, i));
        let lo = hex_char_value(*vector::borrow(bytes, i + 1));
        vector::push_back(&mut hex_bytes, (hi << 4) | lo);
        i = i + 2;
    };
    from_bytes(hex_bytes)
}

fun hex_char_value(c: u8): u8 {
    if (c >= 48 && c <= 57) c - 48
    else if (c >= 65 && c <= 70) c - 55
    else if (c >= 97 && c <= 102) c - 87
    else abort EAddressParseError
}

/// The length of an address in bytes.
public fun length(): u64 {
    LENGTH
}

/// The largest address as an integer.
public fun max(): u256 {
    MAX
}
