/// Base16 (hex) encoding of bytes.
module sui::hex;

use std::vector;

/// An odd number of hex digits.
const EInvalidHexLength: u64 = 0;
/// A character that is not a hex digit.
const ENotValidHexCharacter: u64 = 1;

/// The lower-case hex digits of `bytes`, two per byte.
public fun encode(bytes: vector<u8>): vector<u8> {
    let digits = b"0123456789abcdef";
    let mut r = vector::empty();
    let mut i = 0;
    let l = vector::length(&bytes);
    while (i < l) {
        let b = *vector::borrow(&bytes, i);
        vector::push_back(&mut r, *vector::borrow(&digits, ((b >> 4) as u64)));
        vector::push_back(&mut r, *vector::borrow(&digits, ((b & 15) as u64)));
        i = i + 1;
    };
    r
}

/// The bytes of the hex digits `hex` (either case); aborts with `EInvalidHexLength` for an
/// odd count and `ENotValidHexCharacter` for a character that is not a hex digit.
public fun decode(hex: vector<u8>): vector<u8> {
    let l = vector::length(&hex);
    assert!(l % 2 == 0, EInvalidHexLength);
    let mut r = vector::empty();
    let mut i = 0;
    while (i < l) {
        let hi = decode_byte(*vector::borrow(&hex, i));
        let lo = decode_byte(*vector::borrow(&hex, i + 1));
        vector::push_back(&mut r, (hi << 4) | lo);
        i = i + 2;
    };
    r
}

fun decode_byte(c: u8): u8 {
    if (c >= 48 && c <= 57) c - 48
    else if (c >= 65 && c <= 70) c - 55
    else if (c >= 97 && c <= 102) c - 87
    else abort ENotValidHexCharacter
}
