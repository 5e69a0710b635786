// The subnet's Move standard library, written after the API and semantics of
// MystenLabs/sui crates/sui-framework/packages/move-stdlib (re-written in the
// subset the project's compiler accepts; see move/framework/NATIVES.md).

/// A growable, 0-indexed container of any type. The primitive operations are
/// natives (bytecode instructions in the Move VM); the rest is plain Move.
module std::vector;

/// `b"..".to_string()` makes a utf8 `String` (aborts on invalid utf8).
public use fun std::string::utf8 as vector.to_string;

/// `b"..".try_to_string()` is `option::none()` on invalid utf8.
public use fun std::string::try_utf8 as vector.try_to_string;

/// `b"..".to_ascii_string()` makes an `ascii::String` (aborts on a byte above 0x7F).
public use fun std::ascii::string as vector.to_ascii_string;

/// `b"..".try_to_ascii_string()` is `option::none()` on a byte above 0x7F.
public use fun std::ascii::try_string as vector.try_to_ascii_string;

/// The index into the vector is out of bounds.
const EINDEX_OUT_OF_BOUNDS: u64 = 0x20000;

/// An empty vector.
public native fun empty<Element>(): vector<Element>;

/// The number of elements of `v`.
public native fun length<Element>(v: &vector<Element>): u64;

/// A reference to the `i`th element; aborts if `i` is out of bounds.
public native fun borrow<Element>(v: &vector<Element>, i: u64): &Element;

/// Add `e` at the end of `v`.
public native fun push_back<Element>(v: &mut vector<Element>, e: Element);

/// A mutable reference to the `i`th element; aborts if `i` is out of bounds.
public native fun borrow_mut<Element>(v: &mut vector<Element>, i: u64): &mut Element;

/// Remove and return the last element; aborts if `v` is empty.
public native fun pop_back<Element>(v: &mut vector<Element>): Element;

/// Destroy `v`; aborts if it is not empty.
public native fun destroy_empty<Element>(v: vector<Element>);

/// Swap the `i`th and `j`th elements; aborts if either is out of bounds.
public native fun swap<Element>(v: &mut vector<Element>, i: u64, j: u64);

/// A vector holding just `e`.
public fun singleton<Element>(e: Element): vector<Element> {
    let mut v = empty();
    push_back(&mut v, e);
    v
}

/// Reverse the order of the elements of `v` in place.
public fun reverse<Element>(v: &mut vector<Element>) {
    let len = length(v);
    if (len == 0) return;
    let mut front = 0;
    let mut back = len - 1;
    while (front < back) {
        swap(v, front, back);
        front = front + 1;
        back = back - 1;
    }
}

/// Move every element of `other` to the end of `lhs`, keeping their order.
public fun append<Element>(lhs: &mut vector<Element>, mut other: vector<Element>) {
    reverse(&mut other);
    while (!is_empty(&other)) {
        push_back(lhs, pop_back(&mut other));
    };
    destroy_empty(other);
}

/// Whether `v` has no elements.
public fun is_empty<Element>(v: &vector<Element>): bool {
    length(v) == 0
}

/// Whether `e` is an element of `v`.
public fun contains<Element>(v: &vector<Element>, e: &Element): bool {
    let mut i = 0;
    let len = length(v);
    while (i < len) {
        if (borrow(v, i) == e) return true;
        i = i + 1;
    };
    false
}

/// `(true, i)` for the first index `i` holding `e`, `(false, 0)` if there is none.
public fun index_of<Element>(v: &vector<Element>, e: &Element): (bool, u64) {
    let mut i = 0;
    let len = length(v);
    while (i < len) {
        if (borrow(v, i) == e) return (true, i);
        i = i + 1;
    };
    (false, 0)
}

/// Remove and return the `i`th element, shifting the later ones down (keeps order, O(n)).
/// Aborts with `EINDEX_OUT_OF_BOUNDS` if `i` is out of bounds.
public fun remove<Element>(v: &mut vector<Element>, mut i: u64): Element {
    let mut len = length(v);
    if (i >= len) abort EINDEX_OUT_OF_BOUNDS;
    len = len - 1;
    while (i < len) {
        swap(v, i, i + 1);
        i = i + 1;
    };
    pop_back(v)
}

/// Insert `e` at index `i`, shifting `v[i..]` up; `i == length(v)` appends.
/// Aborts with `EINDEX_OUT_OF_BOUNDS` if `i > length(v)`.
public fun insert<Element>(v: &mut vector<Element>, e: Element, mut i: u64) {
    let len = length(v);
    if (i > len) abort EINDEX_OUT_OF_BOUNDS;
    push_back(v, e);
    while (i < len) {
        swap(v, i, len);
        i = i + 1;
    }
}

/// Remove the `i`th element by swapping the last one into its place (O(1), order not kept).
/// Aborts with `EINDEX_OUT_OF_BOUNDS` if `v` is empty; out of bounds `i` aborts in `swap`.
public fun swap_remove<Element>(v: &mut vector<Element>, i: u64): Element {
    assert!(length(v) != 0, EINDEX_OUT_OF_BOUNDS);
    let last = length(v) - 1;
    swap(v, i, last);
    pop_back(v)
}

/// The elements of the vectors of `v`, in order.
public fun flatten<Element>(mut v: vector<vector<Element>>): vector<Element> {
    let mut r = empty();
    reverse(&mut v);
    while (!is_empty(&v)) {
        append(&mut r, pop_back(&mut v));
    };
    destroy_empty(v);
    r
}

// === Macros (expanded where they are called; each takes its vector argument once) ===

/// A vector of `$n` elements, element `i` being `$f(i)`, computed in order.
public macro fun tabulate<$T>($n: u64, $f: |u64| -> $T): vector<$T> {
    let count = $n;
    let mut out = vector[];
    let mut i = 0;
    while (i < count) {
        out.push_back($f(i));
        i = i + 1;
    };
    out
}

/// Consumes `$v`, handing every element to `$f`, the last element first.
public macro fun destroy<$T, $R: drop>($v: vector<$T>, $f: |$T| -> $R) {
    let mut items = $v;
    while (!items.is_empty()) {
        $f(items.pop_back());
    };
    items.destroy_empty();
}

/// Consumes `$v`, handing every element to `$f`, in order.
public macro fun do<$T, $R: drop>($v: vector<$T>, $f: |$T| -> $R) {
    let mut items = $v;
    items.reverse();
    while (!items.is_empty()) {
        $f(items.pop_back());
    };
    items.destroy_empty();
}

/// Calls `$f` on a reference to every element, in order; the vector is unchanged.
public macro fun do_ref<$T, $R: drop>($v: &vector<$T>, $f: |&$T| -> $R) {
    let items = $v;
    let count = items.length();
    let mut i = 0;
    while (i < count) {
        $f(&items[i]);
        i = i + 1;
    }
}

/// Calls `$f` on a mutable reference to every element, in order.
public macro fun do_mut<$T, $R: drop>($v: &mut vector<$T>, $f: |&mut $T| -> $R) {
    let items = $v;
    let count = items.length();
    let mut i = 0;
    while (i < count) {
        $f(&mut items[i]);
        i = i + 1;
    }
}

/// A new vector of `$f` applied to every element of `$v` (consumed), in order.
public macro fun map<$T, $U>($v: vector<$T>, $f: |$T| -> $U): vector<$U> {
    let mut out = vector[];
    $v.do!(|e| out.push_back($f(e)));
    out
}

/// A new vector of `$f` applied to a reference to every element of `$v`, in order.
public macro fun map_ref<$T, $U>($v: &vector<$T>, $f: |&$T| -> $U): vector<$U> {
    let mut out = vector[];
    $v.do_ref!(|e| out.push_back($f(e)));
    out
}

/// The elements of `$v` (consumed) for which `$f` holds, in order; the others are dropped.
public macro fun filter<$T: drop>($v: vector<$T>, $f: |&$T| -> bool): vector<$T> {
    let mut kept = vector[];
    $v.do!(|e| if ($f(&e)) kept.push_back(e));
    kept
}

/// `$f` applied left to right, starting from `$init`: `$f(..$f($f($init, v[0]), v[1]).., v[n-1])`.
public macro fun fold<$T, $Acc>($v: vector<$T>, $init: $Acc, $f: |$Acc, $T| -> $Acc): $Acc {
    let mut acc = $init;
    $v.do!(|e| acc = $f(acc, e));
    acc
}

/// Whether `$f` holds for some element (false for an empty vector); stops at the first.
public macro fun any<$T>($v: &vector<$T>, $f: |&$T| -> bool): bool {
    let items = $v;
    let count = items.length();
    let mut i = 0;
    let mut found = false;
    while (!found && i < count) {
        found = $f(&items[i]);
        i = i + 1;
    };
    found
}

/// Whether `$f` holds for every element (true for an empty vector); stops at the first miss.
public macro fun all<$T>($v: &vector<$T>, $f: |&$T| -> bool): bool {
    let items = $v;
    let count = items.length();
    let mut i = 0;
    let mut holds = true;
    while (holds && i < count) {
        holds = $f(&items[i]);
        i = i + 1;
    };
    holds
}

/// How many elements `$f` holds for.
public macro fun count<$T>($v: &vector<$T>, $f: |&$T| -> bool): u64 {
    let mut total = 0;
    $v.do_ref!(|e| if ($f(e)) total = total + 1);
    total
}

/// The index of the first element `$f` holds for, or `none()`.
public macro fun find_index<$T>($v: &vector<$T>, $f: |&$T| -> bool): Option<u64> {
    let items = $v;
    let count = items.length();
    let mut i = 0;
    while (i < count && !$f(&items[i])) {
        i = i + 1;
    };
    if (i < count) std::option::some(i) else std::option::none()
}

/// The elements of `$v` (consumed) split by `$f`: those it holds for, then the others, in order.
public macro fun partition<$T>($v: vector<$T>, $f: |&$T| -> bool): (vector<$T>, vector<$T>) {
    let mut yes = vector[];
    let mut no = vector[];
    $v.do!(|e| if ($f(&e)) yes.push_back(e) else no.push_back(e));
    (yes, no)
}

/// The indices of the elements `$f` holds for, ascending.
public macro fun find_indices<$T>($v: &vector<$T>, $f: |&$T| -> bool): vector<u64> {
    let items = $v;
    let mut found = vector[];
    let count = items.length();
    let mut i = 0;
    while (i < count) {
        if ($f(&items[i])) found.push_back(i);
        i = i + 1;
    };
    found
}

/// Consumes `$v1` and `$v2` (equally long, else an abort), handing `$f` each pair in order.
public macro fun zip_do<$T1, $T2, $R: drop>($v1: vector<$T1>, $v2: vector<$T2>, $f: |$T1, $T2| -> $R) {
    let mut left = $v1;
    let mut right = $v2;
    assert!(left.length() == right.length());
    left.reverse();
    right.reverse();
    while (!left.is_empty()) {
        $f(left.pop_back(), right.pop_back());
    };
    left.destroy_empty();
    right.destroy_empty();
}

/// Like `zip_do!`, from the last pair to the first.
public macro fun zip_do_reverse<$T1, $T2, $R: drop>($v1: vector<$T1>, $v2: vector<$T2>, $f: |$T1, $T2| -> $R) {
    let mut left = $v1;
    let mut right = $v2;
    assert!(left.length() == right.length());
    while (!left.is_empty()) {
        $f(left.pop_back(), right.pop_back());
    };
    left.destroy_empty();
    right.destroy_empty();
}

/// Calls `$f` on references to each pair of elements (equally long vectors, else an abort).
public macro fun zip_do_ref<$T1, $T2, $R: drop>($v1: &vector<$T1>, $v2: &vector<$T2>, $f: |&$T1, &$T2| -> $R) {
    let left = $v1;
    let right = $v2;
    let count = left.length();
    assert!(count == right.length());
    let mut i = 0;
    while (i < count) {
        $f(&left[i], &right[i]);
        i = i + 1;
    }
}

/// Calls `$f` on mutable references to each pair of elements (equally long, else an abort).
public macro fun zip_do_mut<$T1, $T2, $R: drop>(
    $v1: &mut vector<$T1>,
    $v2: &mut vector<$T2>,
    $f: |&mut $T1, &mut $T2| -> $R,
) {
    let left = $v1;
    let right = $v2;
    let count = left.length();
    assert!(count == right.length());
    let mut i = 0;
    while (i < count) {
        $f(&mut left[i], &mut right[i]);
        i = i + 1;
    }
}

/// `$f` of each pair of elements of `$v1` and `$v2` (consumed, equally long), in order.
public macro fun zip_map<$T1, $T2, $U>($v1: vector<$T1>, $v2: vector<$T2>, $f: |$T1, $T2| -> $U): vector<$U> {
    let mut out = vector[];
    zip_do!($v1, $v2, |a, b| out.push_back($f(a, b)));
    out
}

/// `$f` of references to each pair of elements (equally long vectors), in order.
public macro fun zip_map_ref<$T1, $T2, $U>($v1: &vector<$T1>, $v2: &vector<$T2>, $f: |&$T1, &$T2| -> $U): vector<$U> {
    let mut out = vector[];
    zip_do_ref!($v1, $v2, |a, b| out.push_back($f(a, b)));
    out
}

/// Sorts `$v` in place, stably, by the "less or equal" `$le` (insertion sort).
public macro fun insertion_sort_by<$T>($v: &mut vector<$T>, $le: |&$T, &$T| -> bool) {
    let items = $v;
    let count = items.length();
    let mut i = 1;
    while (i < count) {
        let mut j = i;
        while (j > 0 && !$le(&items[j - 1], &items[j])) {
            items.swap(j - 1, j);
            j = j - 1;
        };
        i = i + 1;
    }
}
