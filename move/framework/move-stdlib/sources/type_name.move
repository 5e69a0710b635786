/// Move types as values: a `TypeName` holds the type's name as Sui prints it in type names
/// (`0000…0002::object::UID`, `u64`, `vector<u8>`; addresses as 64 lower-case hex digits).
module std::type_name;

use std::address;
use std::ascii::{Self, String};
use std::vector;

/// ASCII `:`.
const ASCII_COLON: u8 = 58;
/// ASCII `v`, `e`, `c`, `t`, `o`, `r`.
const ASCII_V: u8 = 118;
const ASCII_E: u8 = 101;
const ASCII_C: u8 = 99;
const ASCII_T: u8 = 116;
const ASCII_O: u8 = 111;
const ASCII_R: u8 = 114;

/// The type is not from a package/module. It is a primitive type.
const ENonModuleType: u64 = 0;

/// The name of a type.
public struct TypeName has copy, drop, store {
    name: String,
}

/// The name of `T`, with the *defining* id of each package (the storage id of the package
/// version that first introduced the type).
public native fun get<T>(): TypeName;

/// The name of `T`, with the *original* id of each package (its first version's id).
public native fun get_with_original_ids<T>(): TypeName;

/// Newer name of `get`.
public fun with_defining_ids<T>(): TypeName {
    get<T>()
}

/// Newer name of `get_with_original_ids`.
public fun with_original_ids<T>(): TypeName {
    get_with_original_ids<T>()
}

/// Whether `self` names a primitive type (u8..u256, bool, address, vector<..>).
public fun is_primitive(self: &TypeName): bool {
    let bytes = ascii::as_bytes(&self.name);
    bytes == &b"bool" || bytes == &b"u8" || bytes == &b"u16" || bytes == &b"u32" ||
        bytes == &b"u64" || bytes == &b"u128" || bytes == &b"u256" || bytes == &b"address" ||
        (
            vector::length(bytes) >= 6 &&
            *vector::borrow(bytes, 0) == ASCII_V &&
            *vector::borrow(bytes, 1) == ASCII_E &&
            *vector::borrow(bytes, 2) == ASCII_C &&
            *vector::borrow(bytes, 3) == ASCII_T &&
            *vector::borrow(bytes, 4) == ASCII_O &&
            *vector::borrow(bytes, 5) == ASCII_R
        )
}

/// The name as a string.
public fun borrow_string(self: &TypeName): &String {
    &self.name
}

/// Newer name of `borrow_string`.
public fun as_string(self: &TypeName): &String {
    &self.name
}

/// The package address, 64 hex digits; aborts with `ENonModuleType` for a primitive type.
public fun address_string(self: &TypeName): String {
    assert!(!is_primitive(self), ENonModuleType);
    let len = address::length() * 2;
    let str_bytes = ascii::as_bytes(&self.name);
    let mut addr_bytes = vector::empty();
    let mut i = 0;
    while (i < len) {
        vector::push_back(&mut addr_bytes, *vector::borrow(str_bytes, i));
        i = i + 1;
    };
    ascii::string(addr_bytes)
}

/// The module's name; aborts with `ENonModuleType` for a primitive type.
public fun module_string(self: &TypeName): String {
    assert!(!is_primitive(self), ENonModuleType);
    let mut i = address::length() * 2 + 2;
    let str_bytes = ascii::as_bytes(&self.name);
    let mut module_name = vector::empty();
    while (*vector::borrow(str_bytes, i) != ASCII_COLON) {
        vector::push_back(&mut module_name, *vector::borrow(str_bytes, i));
        i = i + 1;
    };
    ascii::string(module_name)
}

/// Older name of `address_string`.
public fun get_address(self: &TypeName): String {
    address_string(self)
}

/// Older name of `module_string`.
public fun get_module(self: &TypeName): String {
    module_string(self)
}

/// Unpack into the name.
public fun into_string(self: TypeName): String {
    self.name
}
