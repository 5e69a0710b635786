/// A map backed by a vector: no duplicate keys, entries in insertion order, every operation
/// O(n). For small maps inside objects.
module sui::vec_map;

use std::option::{Self, Option};
use std::vector;

/// This key already exists in the map.
const EKeyAlreadyExists: u64 = 0;
/// This key does not exist in the map.
const EKeyDoesNotExist: u64 = 1;
/// Trying to destroy a map that is not empty.
const EMapNotEmpty: u64 = 2;
/// Trying to access an element of the map at an invalid index.
const EIndexOutOfBounds: u64 = 3;
/// Trying to pop from a map that is empty.
const EMapEmpty: u64 = 4;
/// Trying to construct a map from keys and values of different lengths.
const EUnequalLengths: u64 = 5;

/// The map.
public struct VecMap<K: copy, V> has copy, drop, store {
    contents: vector<Entry<K, V>>,
}

/// One binding of the map.
public struct Entry<K: copy, V> has copy, drop, store {
    key: K,
    value: V,
}

/// An empty map.
public fun empty<K: copy, V>(): VecMap<K, V> {
    VecMap { contents: vector::empty() }
}

/// Bind `key` to `value`; aborts with `EKeyAlreadyExists` if `key` is bound.
public fun insert<K: copy, V>(self: &mut VecMap<K, V>, key: K, value: V) {
    assert!(!contains(self, &key), EKeyAlreadyExists);
    vector::push_back(&mut self.contents, Entry { key: move key, value })
}

/// Remove and return the binding of `key`; aborts with `EKeyDoesNotExist` if there is none.
public fun remove<K: copy, V>(self: &mut VecMap<K, V>, key: &K): (K, V) {
    let idx = get_idx(self, key);
    let Entry { key, value } = vector::remove(&mut self.contents, idx);
    (move key, value)
}

/// Remove and return the most recently inserted binding; aborts with `EMapEmpty` if empty.
public fun pop<K: copy, V>(self: &mut VecMap<K, V>): (K, V) {
    assert!(!vector::is_empty(&self.contents), EMapEmpty);
    let Entry { key, value } = vector::pop_back(&mut self.contents);
    (move key, value)
}

/// A mutable reference to the value of `key`; aborts with `EKeyDoesNotExist` if unbound.
public fun get_mut<K: copy, V>(self: &mut VecMap<K, V>, key: &K): &mut V {
    let idx = get_idx(self, key);
    let entry = vector::borrow_mut(&mut self.contents, idx);
    &mut entry.value
}

/// A reference to the value of `key`; aborts with `EKeyDoesNotExist` if unbound.
public fun get<K: copy, V>(self: &VecMap<K, V>, key: &K): &V {
    let idx = get_idx(self, key);
    let entry = vector::borrow(&self.contents, idx);
    &entry.value
}

/// A copy of the value of `key`, or `none()`.
public fun try_get<K: copy, V: copy>(self: &VecMap<K, V>, key: &K): Option<V> {
    if (contains(self, key)) option::some(*get(self, key)) else option::none()
}

/// Whether `key` is bound.
public fun contains<K: copy, V>(self: &VecMap<K, V>, key: &K): bool {
    option::is_some(&get_idx_opt(self, key))
}

/// The number of bindings.
public fun size<K: copy, V>(self: &VecMap<K, V>): u64 {
    vector::length(&self.contents)
}

/// Whether the map is empty.
public fun is_empty<K: copy, V>(self: &VecMap<K, V>): bool {
    size(self) == 0
}

/// Destroy an empty map; aborts with `EMapNotEmpty` otherwise.
public fun destroy_empty<K: copy, V>(self: VecMap<K, V>) {
    let VecMap { contents } = self;
    assert!(vector::is_empty(&contents), EMapNotEmpty);
    vector::destroy_empty(contents)
}

/// The keys and the values, in insertion order.
public fun into_keys_values<K: copy, V>(self: VecMap<K, V>): (vector<K>, vector<V>) {
    let VecMap { mut contents } = self;
    vector::reverse(&mut contents);
    let mut keys = vector::empty();
    let mut values = vector::empty();
    while (!vector::is_empty(&contents)) {
        let Entry { key, value } = vector::pop_back(&mut contents);
        vector::push_back(&mut keys, move key);
        vector::push_back(&mut values, value);
    };
    vector::destroy_empty(contents);
    (move keys, values)
}

/// The map binding `keys[i]` to `values[i]`; aborts with `EUnequalLengths` if the lengths
/// differ and `EKeyAlreadyExists` on a repeated key.
public fun from_keys_values<K: copy, V>(mut keys: vector<K>, mut values: vector<V>): VecMap<K, V> {
    assert!(vector::length(&keys) == vector::length(&values), EUnequalLengths);
    vector::reverse(&mut keys);
    vector::reverse(&mut values);
    let mut map = empty();
    while (!vector::is_empty(&keys)) {
        insert(&mut map, vector::pop_back(&mut keys), vector::pop_back(&mut values));
    };
    vector::destroy_empty(move keys);
    vector::destroy_empty(values);
    map
}

/// The keys, in insertion order.
public fun keys<K: copy, V>(self: &VecMap<K, V>): vector<K> {
    let mut keys = vector::empty();
    let mut i = 0;
    let n = vector::length(&self.contents);
    while (i < n) {
        vector::push_back(&mut keys, vector::borrow(&self.contents, i).key);
        i = i + 1;
    };
    move keys
}

/// The index of `key`'s binding, or `none()`.
public fun get_idx_opt<K: copy, V>(self: &VecMap<K, V>, key: &K): Option<u64> {
    let mut i = 0;
    let n = vector::length(&self.contents);
    while (i < n) {
        if (&vector::borrow(&self.contents, i).key == key) return option::some(i);
        i = i + 1;
    };
    option::none()
}

/// The index of `key`'s binding; aborts with `EKeyDoesNotExist` if unbound.
public fun get_idx<K: copy, V>(self: &VecMap<K, V>, key: &K): u64 {
    let idx = get_idx_opt(self, key);
    assert!(option::is_some(&idx), EKeyDoesNotExist);
    option::destroy_some(idx)
}

/// The `idx`th binding; aborts with `EIndexOutOfBounds` if `idx >= size`.
public fun get_entry_by_idx<K: copy, V>(self: &VecMap<K, V>, idx: u64): (&K, &V) {
    assert!(idx < size(self), EIndexOutOfBounds);
    let entry = vector::borrow(&self.contents, idx);
    (&entry.key, &entry.value)
}

/// The `idx`th binding, its value mutable; aborts with `EIndexOutOfBounds` if `idx >= size`.
public fun get_entry_by_idx_mut<K: copy, V>(self: &mut VecMap<K, V>, idx: u64): (&K, &mut V) {
    assert!(idx < size(self), EIndexOutOfBounds);
    let entry = vector::borrow_mut(&mut self.contents, idx);
    (&entry.key, &mut entry.value)
}

/// Remove the `idx`th binding; aborts with `EIndexOutOfBounds` if `idx >= size`.
public fun remove_entry_by_idx<K: copy, V>(self: &mut VecMap<K, V>, idx: u64): (K, V) {
    assert!(idx < size(self), EIndexOutOfBounds);
    let Entry { key, value } = vector::remove(&mut self.contents, idx);
    (move key, value)
}
