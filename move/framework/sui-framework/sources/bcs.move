/// BCS decoding in Move: a reader over bytes that peels values off the front.
///
/// `let mut r = bcs::new(bytes); let a = r.peel_address(); let n = r.peel_u64();` reads an
/// address then a u64 (reference/sui.md section 7); `into_remainder_bytes` returns the rest.
module sui::bcs;

use std::option::{Self, Option};
use std::vector;
use sui::address;

/// For when bytes length is less than required for deserialization.
const EOutOfRange: u64 = 0;
/// For when the boolean value different than `0` or `1`.
const ENotBool: u64 = 1;
/// For when ULEB byte is out of range (or not found).
const ELenOutOfRange: u64 = 2;

/// A reader; it keeps the bytes reversed so that peeling is `pop_back`.
public struct BCS has copy, drop, store {
    bytes: vector<u8>,
}

/// The BCS bytes of `*value` (`std::bcs::to_bytes`).
public fun to_bytes<T>(value: &T): vector<u8> {
    std::bcs::to_bytes(value)
}

/// A reader over `bytes`.
public fun new(mut bytes: vector<u8>): BCS {
    vector::reverse(&mut bytes);
    BCS { bytes }
}

/// The bytes not read yet.
public fun into_remainder_bytes(bcs: BCS): vector<u8> {
    let BCS { mut bytes } = bcs;
    vector::reverse(&mut bytes);
    bytes
}

/// Read an address (32 bytes); aborts with `EOutOfRange` if fewer remain.
public fun peel_address(bcs: &mut BCS): address {
    assert!(vector::length(&bcs.bytes) >= address::length(), EOutOfRange);
    let mut addr_bytes = vector::empty();
    let mut i = 0;
    while (i < address::length()) {
        vector::push_back(&mut addr_bytes, vector::pop_back(&mut bcs.bytes));
        i = i + 1;
    };
    address::from_bytes(addr_bytes)
}

/// Read a bool; aborts with `ENotBool` for a byte other than 0 or 1.
public fun peel_bool(bcs: &mut BCS): bool {
    let value = peel_u8(bcs);
    if (value == 0) false else if (value == 1) true else abort ENotBool
}

/// Read a u8; aborts with `EOutOfRange` if no byte remains.
public fun peel_u8(bcs: &mut BCS): u8 {
    assert!(vector::length(&bcs.bytes) >= 1, EOutOfRange);
    vector::pop_back(&mut bcs.bytes)
}

/// Read a u16 (little endian); aborts with `EOutOfRange` if fewer than 2 bytes remain.
public fun peel_u16(bcs: &mut BCS): u16 {
    assert!(vector::length(&bcs.bytes) >= 2, EOutOfRange);
    let mut value: u16 = 0;
    let mut i: u8 = 0;
    while (i < 16) {
        let byte = (vector::pop_back(&mut bcs.bytes) as u16);
        value = value + (byte << i);
        i = i + 8;
    };
    value
}

/// Read a u32 (little endian); aborts with `EOutOfRange` if fewer than 4 bytes remain.
public fun peel_u32(bcs: &mut BCS): u32 {
    assert!(vector::length(&bcs.bytes) >= 4, EOutOfRange);
    let mut value: u32 = 0;
    let mut i: u8 = 0;
    while (i < 32) {
        let byte = (vector::pop_back(&mut bcs.bytes) as u32);
        value = value + (byte << i);
        i = i + 8;
    };
    value
}

/// Read a u64 (little endian); aborts with `EOutOfRange` if fewer than 8 bytes remain.
public fun peel_u64(bcs: &mut BCS): u64 {
    assert!(vector::length(&bcs.bytes) >= 8, EOutOfRange);
    let mut value: u64 = 0;
    let mut i: u8 = 0;
    while (i < 64) {
        let byte = (vector::pop_back(&mut bcs.bytes) as u64);
        value = value + (byte << i);
        i = i + 8;
    };
    value
}

/// Read a u128 (little endian); aborts with `EOutOfRange` if fewer than 16 bytes remain.
public fun peel_u128(bcs: &mut BCS): u128 {
    assert!(vector::length(&bcs.bytes) >= 16, EOutOfRange);
    let mut value: u128 = 0;
    let mut i: u8 = 0;
    while (i < 128) {
        let byte = (vector::pop_back(&mut bcs.bytes) as u128);
        value = value + (byte << i);
        i = i + 8;
    };
    value
}

/// Read a u256 (little endian); aborts with `EOutOfRange` if fewer than 32 bytes remain.
public fun peel_u256(bcs: &mut BCS): u256 {
    assert!(vector::length(&bcs.bytes) >= 32, EOutOfRange);
    let mut value: u256 = 0;
    let mut i: u16 = 0;
    while (i < 256) {
        let byte = (vector::pop_back(&mut bcs.bytes) as u256);
        value = value + (byte << (i as u8));
        i = i + 8;
    };
    value
}

/// Read a ULEB128 vector length (at most 5 bytes, else `ELenOutOfRange`).
public fun peel_vec_length(bcs: &mut BCS): u64 {
    let mut total: u64 = 0;
    let mut shift: u8 = 0;
    let mut len = 0;
    loop {
        assert!(len <= 4, ELenOutOfRange);
        let byte = (vector::pop_back(&mut bcs.bytes) as u64);
        len = len + 1;
        total = total | ((byte & 0x7f) << shift);
        if ((byte & 0x80) == 0) break;
        shift = shift + 7;
    };
    total
}

/// Read an enum's variant tag (a ULEB128 below 2^32).
public fun peel_enum_tag(bcs: &mut BCS): u32 {
    let tag = peel_vec_length(bcs);
    assert!(tag <= 0xffffffff, EOutOfRange);
    (tag as u32)
}

/// Read a `vector<address>`.
public fun peel_vec_address(bcs: &mut BCS): vector<address> {
    let len = peel_vec_length(bcs);
    let mut i = 0;
    let mut res = vector::empty();
    while (i < len) {
        vector::push_back(&mut res, peel_address(bcs));
        i = i + 1;
    };
    res
}

/// Read a `vector<bool>`.
public fun peel_vec_bool(bcs: &mut BCS): vector<bool> {
    let len = peel_vec_length(bcs);
    let mut i = 0;
    let mut res = vector::empty();
    while (i < len) {
        vector::push_back(&mut res, peel_bool(bcs));
        i = i + 1;
    };
    res
}

/// Read a `vector<u8>`.
public fun peel_vec_u8(bcs: &mut BCS): vector<u8> {
    let len = peel_vec_length(bcs);
    let mut i = 0;
    let mut res = vector::empty();
    while (i < len) {
        vector::push_back(&mut res, peel_u8(bcs));
        i = i + 1;
    };
    res
}

/// Read a `vector<u16>`.
public fun peel_vec_u16(bcs: &mut BCS): vector<u16> {
    let len = peel_vec_length(bcs);
    let mut i = 0;
    let mut res = vector::empty();
    while (i < len) {
        vector::push_back(&mut res, peel_u16(bcs));
        i = i + 1;
    };
    res
}

/// Read a `vector<u32>`.
public fun peel_vec_u32(bcs: &mut BCS): vector<u32> {
    let len = peel_vec_length(bcs);
    let mut i = 0;
    let mut res = vector::empty();
    while (i < len) {
        vector::push_back(&mut res, peel_u32(bcs));
        i = i + 1;
    };
    res
}

/// Read a `vector<u64>`.
public fun peel_vec_u64(bcs: &mut BCS): vector<u64> {
    let len = peel_vec_length(bcs);
    let mut i = 0;
    let mut res = vector::empty();
    while (i < len) {
        vector::push_back(&mut res, peel_u64(bcs));
        i = i + 1;
    };
    res
}

/// Read a `vector<u128>`.
public fun peel_vec_u128(bcs: &mut BCS): vector<u128> {
    let len = peel_vec_length(bcs);
    let mut i = 0;
    let mut res = vector::empty();
    while (i < len) {
        vector::push_back(&mut res, peel_u128(bcs));
        i = i + 1;
    };
    res
}

/// Read a `vector<u256>`.
public fun peel_vec_u256(bcs: &mut BCS): vector<u256> {
    let len = peel_vec_length(bcs);
    let mut i = 0;
    let mut res = vector::empty();
    while (i < len) {
        vector::push_back(&mut res, peel_u256(bcs));
        i = i + 1;
    };
    res
}

/// Read a `vector<vector<u8>>`.
public fun peel_vec_vec_u8(bcs: &mut BCS): vector<vector<u8>> {
    let len = peel_vec_length(bcs);
    let mut i = 0;
    let mut res = vector::empty();
    while (i < len) {
        vector::push_back(&mut res, peel_vec_u8(bcs));
        i = i + 1;
    };
    res
}

/// Read an `Option<address>`.
public fun peel_option_address(bcs: &mut BCS): Option<address> {
    if (peel_bool(bcs)) option::some(peel_address(bcs)) else option::none()
}

/// Read an `Option<bool>`.
public fun peel_option_bool(bcs: &mut BCS): Option<bool> {
    if (peel_bool(bcs)) option::some(peel_bool(bcs)) else option::none()
}

/// Read an `Option<u8>`.
public fun peel_option_u8(bcs: &mut BCS): Option<u8> {
    if (peel_bool(bcs)) option::some(peel_u8(bcs)) else option::none()
}

/// Read an `Option<u16>`.
public fun peel_option_u16(bcs: &mut BCS): Option<u16> {
    if (peel_bool(bcs)) option::some(peel_u16(bcs)) else option::none()
}

/// Read an `Option<u32>`.
public fun peel_option_u32(bcs: &mut BCS): Option<u32> {
    if (peel_bool(bcs)) option::some(peel_u32(bcs)) else option::none()
}

/// Read an `Option<u64>`.
public fun peel_option_u64(bcs: &mut BCS): Option<u64> {
    if (peel_bool(bcs)) option::some(peel_u64(bcs)) else option::none()
}

/// Read an `Option<u128>`.
public fun peel_option_u128(bcs: &mut BCS): Option<u128> {
    if (peel_bool(bcs)) option::some(peel_u128(bcs)) else option::none()
}

/// Read an `Option<u256>`.
public fun peel_option_u256(bcs: &mut BCS): Option<u256> {
    if (peel_bool(bcs)) option::some(peel_u256(bcs)) else option::none()
}
