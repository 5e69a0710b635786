/// `String`: bytes guaranteed to be valid UTF-8. Only the UTF-8 check is native; the
/// boundary, sub-string and search helpers are plain Move over the bytes.
module std::string;

use std::ascii;
use std::option::{Self, Option};
use std::vector;

/// An invalid UTF8 encoding.
const EInvalidUTF8: u64 = 1;

/// Index out of range.
const EInvalidIndex: u64 = 2;

/// A sequence of bytes in valid UTF-8.
public struct String has copy, drop, store {
    bytes: vector<u8>,
}

/// A `String` of `bytes`; aborts with `EInvalidUTF8` if they are not valid UTF-8.
public fun utf8(bytes: vector<u8>): String {
    assert!(internal_check_utf8(&bytes), EInvalidUTF8);
    String { bytes }
}

/// An ASCII string as a UTF-8 one (always valid).
public fun from_ascii(s: ascii::String): String {
    String { bytes: ascii::into_bytes(s) }
}

/// A UTF-8 string as an ASCII one; aborts (in `ascii`) if a byte is above 0x7F.
public fun to_ascii(s: String): ascii::String {
    let String { bytes } = s;
    ascii::string(bytes)
}

/// `some(String)` of `bytes`, `none()` if they are not valid UTF-8.
public fun try_utf8(bytes: vector<u8>): Option<String> {
    if (internal_check_utf8(&bytes)) option::some(String { bytes }) else option::none()
}

/// Alias aligning the API with `ascii`.
public use fun bytes as String.as_bytes;

/// The bytes of `s`.
public fun bytes(s: &String): &vector<u8> {
    &s.bytes
}

/// Unpack `s` into its bytes.
public fun into_bytes(s: String): vector<u8> {
    let String { bytes } = s;
    bytes
}

/// Whether `s` is empty.
public fun is_empty(s: &String): bool {
    vector::is_empty(&s.bytes)
}

/// The length of `s` in bytes.
public fun length(s: &String): u64 {
    vector::length(&s.bytes)
}

/// Append `r` to `s`.
public fun append(s: &mut String, r: String) {
    vector::append(&mut s.bytes, r.bytes)
}

/// Append `bytes`; aborts with `EInvalidUTF8` if they are not valid UTF-8.
public fun append_utf8(s: &mut String, bytes: vector<u8>) {
    append(s, utf8(bytes))
}

/// Insert `o` at byte index `at`, which must be a character boundary (else `EInvalidIndex`).
public fun insert(s: &mut String, at: u64, o: String) {
    let bytes = &s.bytes;
    assert!(at <= vector::length(bytes) && internal_is_char_boundary(bytes, at), EInvalidIndex);
    let l = length(s);
    let mut front = sub_string(s, 0, at);
    let end = sub_string(s, at, l);
    append(&mut front, o);
    append(&mut front, end);
    *s = front;
}

/// Alias standardising the name with `ascii`.
public use fun sub_string as String.substring;

/// The bytes `[i, j)` of `s`; both must be character boundaries with `i <= j <= length`
/// (else `EInvalidIndex`), so the result is valid UTF-8.
public fun sub_string(s: &String, i: u64, j: u64): String {
    let bytes = &s.bytes;
    let l = vector::length(bytes);
    assert!(
        j <= l && i <= j && internal_is_char_boundary(bytes, i) && internal_is_char_boundary(bytes, j),
        EInvalidIndex,
    );
    String { bytes: internal_sub_string(bytes, i, j) }
}

/// The byte index of the first occurrence of `r` in `s`, or `length(s)` if there is none.
public fun index_of(s: &String, r: &String): u64 {
    internal_index_of(&s.bytes, &r.bytes)
}

/// Whether `v` is valid UTF-8 (RFC 3629: no overlong forms, no surrogates, at most U+10FFFF).
native fun internal_check_utf8(v: &vector<u8>): bool;

/// Whether byte index `i` starts a character (or is the end): not a continuation byte.
fun internal_is_char_boundary(v: &vector<u8>, i: u64): bool {
    let len = vector::length(v);
    if (i == len) return true;
    if (i > len) return false;
    let b = *vector::borrow(v, i);
    b < 0x80 || b >= 0xC0
}

/// A copy of the bytes `[i, j)` of `v` (the caller checked the bounds).
fun internal_sub_string(v: &vector<u8>, mut i: u64, j: u64): vector<u8> {
    let mut r = vector::empty();
    while (i < j) {
        vector::push_back(&mut r, *vector::borrow(v, i));
        i = i + 1;
    };
    r
}

/// The first index at which `r` occurs in `v`, or `length(v)` if it does not.
fun internal_index_of(v: &vector<u8>, r: &vector<u8>): u64 {
    let n = vector::length(v);
    let m = vector::length(r);
    if (n < m) return n;
    let mut i = 0;
    while (i <= n - m) {
        let mut j = 0;
        while (j < m && *vector::borrow(v, i + j) == *vector::borrow(r, j)) {
            j = j + 1;
        };
        if (j == m) return i;
        i = i + 1;
    };
    n
}
