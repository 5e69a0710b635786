/// A set backed by a vector: no duplicates, insertion order, every operation O(n).
module sui::vec_set;

use std::option::{Self, Option};
use std::vector;

/// This key already exists in the set.
const EKeyAlreadyExists: u64 = 0;
/// This key does not exist in the set.
const EKeyDoesNotExist: u64 = 1;

/// The set.
public struct VecSet<K: copy + drop> has copy, drop, store {
    contents: vector<K>,
}

/// An empty set.
public fun empty<K: copy + drop>(): VecSet<K> {
    VecSet { contents: vector::empty() }
}

/// The set holding `key`.
public fun singleton<K: copy + drop>(key: K): VecSet<K> {
    VecSet { contents: vector::singleton(key) }
}

/// Add `key`; aborts with `EKeyAlreadyExists` if present.
public fun insert<K: copy + drop>(self: &mut VecSet<K>, key: K) {
    assert!(!contains(self, &key), EKeyAlreadyExists);
    vector::push_back(&mut self.contents, key)
}

/// Remove `key`; aborts with `EKeyDoesNotExist` if absent.
public fun remove<K: copy + drop>(self: &mut VecSet<K>, key: &K) {
    let idx = get_idx(self, key);
    vector::remove(&mut self.contents, idx);
}

/// Whether `key` is in the set.
public fun contains<K: copy + drop>(self: &VecSet<K>, key: &K): bool {
    option::is_some(&get_idx_opt(self, key))
}

/// The number of keys.
public fun size<K: copy + drop>(self: &VecSet<K>): u64 {
    vector::length(&self.contents)
}

/// Whether the set is empty.
public fun is_empty<K: copy + drop>(self: &VecSet<K>): bool {
    size(self) == 0
}

/// The keys, in insertion order.
public fun into_keys<K: copy + drop>(self: VecSet<K>): vector<K> {
    let VecSet { contents } = self;
    contents
}

/// The set of `keys`; aborts with `EKeyAlreadyExists` on a repeated key.
public fun from_keys<K: copy + drop>(mut keys: vector<K>): VecSet<K> {
    vector::reverse(&mut keys);
    let mut set = empty();
    while (!vector::is_empty(&keys)) {
        insert(&mut set, vector::pop_back(&mut keys));
    };
    set
}

/// The keys, in insertion order.
public fun keys<K: copy + drop>(self: &VecSet<K>): &vector<K> {
    &self.contents
}

fun get_idx_opt<K: copy + drop>(self: &VecSet<K>, key: &K): Option<u64> {
    let mut i = 0;
    let n = vector::length(&self.contents);
    while (i < n) {
        if (vector::borrow(&self.contents, i) == key) return option::some(i);
        i = i + 1;
    };
    option::none()
}

fun get_idx<K: copy + drop>(self: &VecSet<K>, key: &K): u64 {
    let idx = get_idx_opt(self, key);
    assert!(option::is_some(&idx), EKeyDoesNotExist);
    option::destroy_some(idx)
}
