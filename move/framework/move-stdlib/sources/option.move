/// An optional value: `Option<T>` holds zero or one element (a vector of length 0 or 1,
/// which is also its BCS form).
module std::option;

use std::vector;

/// A value that may be absent.
public struct Option<Element> has copy, drop, store {
    vec: vector<Element>,
}

/// The `Option` is `Some` while it should be `None`.
const EOPTION_IS_SET: u64 = 0x40000;
/// The `Option` is `None` while it should be `Some`.
const EOPTION_NOT_SET: u64 = 0x40001;

/// No value.
public fun none<Element>(): Option<Element> {
    Option { vec: vector::empty() }
}

/// The value `e`.
public fun some<Element>(e: Element): Option<Element> {
    Option { vec: vector::singleton(e) }
}

/// Whether `t` holds no value.
public fun is_none<Element>(t: &Option<Element>): bool {
    vector::is_empty(&t.vec)
}

/// Whether `t` holds a value.
public fun is_some<Element>(t: &Option<Element>): bool {
    !vector::is_empty(&t.vec)
}

/// Whether `t` holds a value equal to `e_ref`.
public fun contains<Element>(t: &Option<Element>, e_ref: &Element): bool {
    vector::contains(&t.vec, e_ref)
}

/// The value inside `t`; aborts with `EOPTION_NOT_SET` if there is none.
public fun borrow<Element>(t: &Option<Element>): &Element {
    assert!(is_some(t), EOPTION_NOT_SET);
    vector::borrow(&t.vec, 0)
}

/// The value inside `t`, or `default_ref` if there is none.
public fun borrow_with_default<Element>(t: &Option<Element>, default_ref: &Element): &Element {
    let vec_ref = &t.vec;
    if (vector::is_empty(vec_ref)) default_ref else vector::borrow(vec_ref, 0)
}

/// A copy of the value inside `t`, or `default` if there is none.
public fun get_with_default<Element: copy + drop>(t: &Option<Element>, default: Element): Element {
    let vec_ref = &t.vec;
    if (vector::is_empty(vec_ref)) default else *vector::borrow(vec_ref, 0)
}

/// Put `e` into the empty `t`; aborts with `EOPTION_IS_SET` if `t` holds a value.
public fun fill<Element>(t: &mut Option<Element>, e: Element) {
    let vec_ref = &mut t.vec;
    if (vector::is_empty(vec_ref)) vector::push_back(vec_ref, e) else abort EOPTION_IS_SET
}

/// Take the value out of `t`, leaving it empty; aborts with `EOPTION_NOT_SET` if there is none.
public fun extract<Element>(t: &mut Option<Element>): Element {
    assert!(is_some(t), EOPTION_NOT_SET);
    vector::pop_back(&mut t.vec)
}

/// A mutable reference to the value inside `t`; aborts with `EOPTION_NOT_SET` if there is none.
public fun borrow_mut<Element>(t: &mut Option<Element>): &mut Element {
    assert!(is_some(t), EOPTION_NOT_SET);
    vector::borrow_mut(&mut t.vec, 0)
}

/// Replace the value inside `t` by `e` and return the old one; aborts with `EOPTION_NOT_SET`
/// if there is none.
public fun swap<Element>(t: &mut Option<Element>, e: Element): Element {
    assert!(is_some(t), EOPTION_NOT_SET);
    let vec_ref = &mut t.vec;
    let old_value = vector::pop_back(vec_ref);
    vector::push_back(vec_ref, e);
    old_value
}

/// Put `e` into `t` and return what it held before (if anything).
public fun swap_or_fill<Element>(t: &mut Option<Element>, e: Element): Option<Element> {
    let vec_ref = &mut t.vec;
    let old_value = if (vector::is_empty(vec_ref)) none() else some(vector::pop_back(vec_ref));
    vector::push_back(vec_ref, e);
    old_value
}

/// The value of `t`, or `default` if there is none.
public fun destroy_with_default<Element: drop>(t: Option<Element>, default: Element): Element {
    let Option { mut vec } = t;
    if (vector::is_empty(&vec)) default else vector::pop_back(&mut vec)
}

/// The value of `t`; aborts with `EOPTION_NOT_SET` if there is none.
public fun destroy_some<Element>(t: Option<Element>): Element {
    assert!(is_some(&t), EOPTION_NOT_SET);
    let Option { mut vec } = t;
    let elem = vector::pop_back(&mut vec);
    vector::destroy_empty(vec);
    elem
}

/// Destroy the empty `t`; aborts with `EOPTION_IS_SET` if it holds a value.
public fun destroy_none<Element>(t: Option<Element>) {
    assert!(is_none(&t), EOPTION_IS_SET);
    let Option { vec } = t;
    vector::destroy_empty(vec)
}

/// The vector form of `t`: one element or none.
public fun to_vec<Element>(t: Option<Element>): vector<Element> {
    let Option { vec } = t;
    vec
}

// === Macros (expanded where they are called; each takes its option argument once) ===

/// The value inside `$o`, or `$default` (evaluated only then) when there is none.
public macro fun destroy_or<$T>($o: Option<$T>, $default: $T): $T {
    let opt = $o;
    if (opt.is_some()) opt.destroy_some()
    else {
        opt.destroy_none();
        $default
    }
}

/// Calls `$f` with the value inside `$o`, if there is one.
public macro fun do<$T, $R: drop>($o: Option<$T>, $f: |$T| -> $R) {
    let opt = $o;
    if (opt.is_some()) {
        $f(opt.destroy_some());
    } else opt.destroy_none();
}

/// Calls `$f` with a reference to the value inside `$o`, if there is one.
public macro fun do_ref<$T, $R: drop>($o: &Option<$T>, $f: |&$T| -> $R) {
    let opt = $o;
    if (opt.is_some()) {
        $f(opt.borrow());
    }
}

/// `some($f(x))` for `some(x)`, `none()` for `none()`.
public macro fun map<$T, $U>($o: Option<$T>, $f: |$T| -> $U): Option<$U> {
    let opt = $o;
    if (opt.is_some()) some($f(opt.destroy_some()))
    else {
        opt.destroy_none();
        none()
    }
}

/// `some($f(&x))` for `some(x)`, `none()` for `none()`; `$o` is unchanged.
public macro fun map_ref<$T, $U>($o: &Option<$T>, $f: |&$T| -> $U): Option<$U> {
    let opt = $o;
    if (opt.is_some()) some($f(opt.borrow())) else none()
}

/// Whether `$o` holds a value that `$f` holds for.
public macro fun is_some_and<$T>($o: &Option<$T>, $f: |&$T| -> bool): bool {
    let opt = $o;
    opt.is_some() && $f(opt.borrow())
}

/// Consumes `$o`, calling `$f` with its value if it has one.
public macro fun destroy<$T, $R: drop>($o: Option<$T>, $f: |$T| -> $R) {
    let opt = $o;
    opt.do!(|x| $f(x));
}

/// Calls `$f` with a mutable reference to the value inside `$o`, if there is one.
public macro fun do_mut<$T, $R: drop>($o: &mut Option<$T>, $f: |&mut $T| -> $R) {
    let opt = $o;
    if (opt.is_some()) {
        $f(opt.borrow_mut());
    }
}

/// `$o` if it has a value, else `$default` (evaluated only then).
public macro fun or<$T>($o: Option<$T>, $default: Option<$T>): Option<$T> {
    let opt = $o;
    if (opt.is_some()) opt
    else {
        opt.destroy_none();
        $default
    }
}

/// `$f(x)` for `some(x)`, `none()` for `none()`.
public macro fun and<$T, $U>($o: Option<$T>, $f: |$T| -> Option<$U>): Option<$U> {
    let opt = $o;
    if (opt.is_some()) $f(opt.destroy_some())
    else {
        opt.destroy_none();
        none()
    }
}

/// `$o` if it has a value `$f` holds for, else `none()` (the value is dropped).
public macro fun filter<$T: drop>($o: Option<$T>, $f: |&$T| -> bool): Option<$T> {
    let opt = $o;
    if (opt.is_some() && $f(opt.borrow())) opt else none()
}

/// Takes the value out of `$o` (leaving `none()`), or `$default` when there is none.
public macro fun extract_or<$T>($o: &mut Option<$T>, $default: $T): $T {
    let opt = $o;
    if (opt.is_some()) opt.extract() else $default
}
