/// ASCII strings and characters: bytes checked to be at most 0x7F.
module std::ascii;

use std::option::{Self, Option};
use std::vector;

/// `.to_string()` turns an `ascii::String` into a `string::String`.
public use fun std::string::from_ascii as String.to_string;

/// An invalid ASCII character was encountered when creating an ASCII string.
const EInvalidASCIICharacter: u64 = 0x10000;
/// An invalid index was encountered when creating a substring.
const EInvalidIndex: u64 = 0x10001;

/// Bytes that are all valid ASCII characters (not necessarily printable).
public struct String has copy, drop, store {
    bytes: vector<u8>,
}

/// One ASCII character.
public struct Char has copy, drop, store {
    byte: u8,
}

/// The character `byte`; aborts with `EInvalidASCIICharacter` above 0x7F.
public fun char(byte: u8): Char {
    assert!(is_valid_char(byte), EInvalidASCIICharacter);
    Char { byte }
}

/// The string of `bytes`; aborts with `EInvalidASCIICharacter` if a byte is above 0x7F.
public fun string(bytes: vector<u8>): String {
    let x = try_string(bytes);
    assert!(option::is_some(&x), EInvalidASCIICharacter);
    option::destroy_some(x)
}

/// `some(String)` of `bytes`, `none()` if a byte is above 0x7F.
public fun try_string(bytes: vector<u8>): Option<String> {
    let len = vector::length(&bytes);
    let mut i = 0;
    while (i < len) {
        if (!is_valid_char(*vector::borrow(&bytes, i))) return option::none();
        i = i + 1;
    };
    option::some(String { bytes })
}

/// Whether every character of `string` is printable (0x20..=0x7E).
public fun all_characters_printable(string: &String): bool {
    let len = vector::length(&string.bytes);
    let mut i = 0;
    while (i < len) {
        if (!is_printable_char(*vector::borrow(&string.bytes, i))) return false;
        i = i + 1;
    };
    true
}

/// Append `char` to `string`.
public fun push_char(string: &mut String, char: Char) {
    vector::push_back(&mut string.bytes, char.byte);
}

/// Remove and return the last character; aborts if `string` is empty.
public fun pop_char(string: &mut String): Char {
    Char { byte: vector::pop_back(&mut string.bytes) }
}

/// The length of `string` in bytes.
public fun length(string: &String): u64 {
    vector::length(&string.bytes)
}

/// Append `other` to `string`.
public fun append(string: &mut String, other: String) {
    vector::append(&mut string.bytes, into_bytes(other))
}

/// Insert `o` at index `at`; aborts with `EInvalidIndex` if `at > length(s)`.
public fun insert(s: &mut String, at: u64, o: String) {
    assert!(at <= length(s), EInvalidIndex);
    let mut bytes = into_bytes(o);
    while (!vector::is_empty(&bytes)) {
        vector::insert(&mut s.bytes, vector::pop_back(&mut bytes), at);
    };
}

/// The characters `[i, j)`; aborts with `EInvalidIndex` unless `i <= j <= length`.
public fun substring(string: &String, mut i: u64, j: u64): String {
    assert!(i <= j && j <= length(string), EInvalidIndex);
    let mut bytes = vector::empty();
    while (i < j) {
        vector::push_back(&mut bytes, *vector::borrow(&string.bytes, i));
        i = i + 1;
    };
    String { bytes }
}

/// The bytes of `string`.
public fun as_bytes(string: &String): &vector<u8> {
    &string.bytes
}

/// Unpack `string` into its bytes.
public fun into_bytes(string: String): vector<u8> {
    let String { bytes } = string;
    bytes
}

/// The byte of `char`.
public fun byte(char: Char): u8 {
    let Char { byte } = char;
    byte
}

/// Whether `b` is an ASCII character (at most 0x7F).
public fun is_valid_char(b: u8): bool {
    b <= 0x7F
}

/// Whether `byte` is a printable ASCII character (0x20..=0x7E).
public fun is_printable_char(byte: u8): bool {
    byte >= 0x20 && byte <= 0x7E
}

/// Whether `string` is empty.
public fun is_empty(string: &String): bool {
    vector::is_empty(&string.bytes)
}

/// `string` with a..z turned into A..Z.
public fun to_uppercase(string: &String): String {
    let mut bytes = vector::empty();
    let mut i = 0;
    while (i < length(string)) {
        vector::push_back(&mut bytes, char_to_uppercase(*vector::borrow(&string.bytes, i)));
        i = i + 1;
    };
    String { bytes }
}

/// `string` with A..Z turned into a..z.
public fun to_lowercase(string: &String): String {
    let mut bytes = vector::empty();
    let mut i = 0;
    while (i < length(string)) {
        vector::push_back(&mut bytes, char_to_lowercase(*vector::borrow(&string.bytes, i)));
        i = i + 1;
    };
    String { bytes }
}

/// The index of the first occurrence of `substr`, `length(string)` if none, 0 if `substr` is empty.
public fun index_of(string: &String, substr: &String): u64 {
    let n = length(string);
    let m = length(substr);
    if (n < m) return n;
    let mut i = 0;
    while (i <= n - m) {
        let mut j = 0;
        while (j < m && *vector::borrow(&string.bytes, i + j) == *vector::borrow(&substr.bytes, j)) {
            j = j + 1;
        };
        if (j == m) return i;
        i = i + 1;
    };
    n
}

fun char_to_uppercase(byte: u8): u8 {
    if (byte >= 0x61 && byte <= 0x7A) byte - 0x20 else byte
}

fun char_to_lowercase(byte: u8): u8 {
    if (byte >= 0x41 && byte <= 0x5A) byte + 0x20 else byte
}
