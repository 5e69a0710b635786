"""Macro functions and lambdas (Move 2024): ``macro fun`` with ``$`` parameters and lambda
parameters, ``m!(..)`` and ``x.m!(..)`` calls expanded where they are written (hygienic,
by name), the framework's macros after Sui's move-stdlib API (``vector::tabulate!``,
``do!``, ``map!``, ``fold!``..., ``option::destroy_or!``..., ``u64::do!``...), known answers
run on the Move VM, and the Move Book's macro chapter compiled unchanged and run."""

from __future__ import annotations

from pathlib import Path

import pytest

from move import codegen, framework
from move.build import build_package
from move.types import ModuleId, address_of
from node.sui import MoveAbort, MoveVM
from tests.move_frontend import compile_sources, fails, module, returns, vm_with

EXAMPLES = Path(__file__).resolve().parent / "move_examples"
PROBE = address_of(0xE3)

SOURCE = """
module probe::mac;

public macro fun twice<$T>($x: $T, $f: |$T| -> $T): $T { $f($f($x)) }
public macro fun both($x: u64): u64 { $x + $x }
public macro fun once(x: u64): u64 { x + x }
public macro fun apply_all($v: vector<u64>, $f: |u64| -> u64): vector<u64> { vector::map!($v, |e| $f(e)) }

public fun tab(): vector<u64> { vector::tabulate!(4, |i| i * i) }
public fun total(v: vector<u64>): u64 { let mut s = 0; v.do!(|x| s = s + x); s }
public fun back(v: vector<u64>): vector<u64> { let mut out = vector[]; v.destroy!(|x| out.push_back(x)); out }
public fun refs(v: &vector<u64>): u64 { let mut s = 0; v.do_ref!(|x| s = s + *x); s }
public fun muts(mut v: vector<u64>): vector<u64> { v.do_mut!(|x| *x = *x + 1); v }
public fun maps(v: vector<u64>): vector<u8> { v.map!(|x| (x as u8)) }
public fun maprefs(v: &vector<u64>): vector<u64> { v.map_ref!(|x| *x * 2) }
public fun evens(v: vector<u64>): vector<u64> { v.filter!(|x| *x % 2 == 0) }
public fun folded(v: vector<u64>): u64 { v.fold!(100, |acc, x| acc - x) }
public fun anys(v: &vector<u64>): bool { v.any!(|x| *x > 10) }
public fun alls(v: &vector<u64>): bool { v.all!(|x| *x > 10) }
public fun counts(v: &vector<u64>): u64 { v.count!(|x| *x > 10) }
public fun find(v: &vector<u64>): Option<u64> { v.find_index!(|x| *x == 5) }
public fun or(o: Option<u64>): u64 { o.destroy_or!(7) }
public fun omap(o: Option<u64>): Option<u64> { o.map!(|x| x * 2) }
public fun odo(o: Option<u64>): u64 { let mut r = 0; o.do!(|x| r = x + 1); r }
public fun some_and(o: &Option<u64>): bool { o.is_some_and!(|x| *x > 3) }
public fun ints(): u64 { let mut s = 0; 10u64.do!(|i| s = s + i); s }
public fun range(): u16 { let mut s = 0; std::u16::range_do!(3, 6, |i| s = s + i); s }
public fun maxes(): u256 {
    std::u256::max_value!() - (std::u64::max_value!() as u256) + (std::u8::max_value!() as u256)
}
public fun hygiene(): u64 {
    // `items`, `count`, `i` are names the framework's macros use inside: no capture
    let items = 5;
    let count = 100;
    let mut n = 0;
    vector[1u64, 2].do!(|x| n = n + x + items);
    let i = 1000;
    vector[7u64].do_ref!(|x| n = n + *x + i + count);
    n
}
public fun annotated(): u64 { twice!(3, |x: u64| -> u64 { x * 5 }) }
public fun by_name(): u64 { let mut k = 1; let r = both!({ k = k * 10; k }); r + k }
public fun by_value(): u64 { let mut k = 1; let r = once!({ k = k * 10; k }); r + k }
public fun forwarded(): vector<u64> { apply_all!(vector[1, 2, 3], |x| x + 100) }
public fun nested(): u64 {
    let mut s = 0;
    vector::tabulate!(3, |i| i).do!(|i| 2u64.do!(|j| s = s + i * 10 + j));
    s
}
public fun aborting(v: vector<u64>): u64 { v.fold!(0, |acc, x| { assert!(x != 13, 77); acc + x }) }
public fun parts(v: vector<u64>): (vector<u64>, vector<u64>) { v.partition!(|x| *x > 2) }
public fun indices(v: &vector<u64>): vector<u64> { v.find_indices!(|x| *x == 1) }
public fun zipped(a: vector<u64>, b: vector<u64>): vector<u64> { a.zip_map!(b, |x, y| x * 10 + y) }
public fun zipped_back(a: vector<u64>, b: vector<u64>): vector<u64> {
    let mut out = vector[];
    a.zip_do_reverse!(b, |x, y| out.push_back(x + y));
    out
}
public fun zipped_refs(a: &vector<u64>, b: &vector<u64>): vector<u64> { a.zip_map_ref!(b, |x, y| *x - *y) }
public fun zip_bump(mut a: vector<u64>, mut b: vector<u64>): vector<u64> {
    a.zip_do_mut!(&mut b, |x, y| { *x = *x + *y; *y = 0 });
    a.append(b);
    a
}
public fun sorted(mut v: vector<u64>): vector<u64> { v.insertion_sort_by!(|a, b| *a <= *b); v }
public fun ors(a: Option<u64>): Option<u64> { a.or!(option::some(9)) }
public fun ands(a: Option<u64>): Option<u64> { a.and!(|x| if (x > 1) option::some(x - 1) else option::none()) }
public fun filtered(a: Option<u64>): Option<u64> { a.filter!(|x| *x % 2 == 0) }
public fun extracted(mut a: Option<u64>): (u64, Option<u64>) { let x = a.extract_or!(5); (x, a) }
public fun bumped(mut a: Option<u64>): Option<u64> { a.do_mut!(|x| *x = *x + 1); a }
public fun destroyed(a: Option<u64>): u64 { let mut r = 0; a.destroy!(|x| r = x); r }
public fun to_max(): u64 { let mut n = 0; std::u8::range_do_eq!(250, 255, |_| n = n + 1); 3u8.do_eq!(|i| n = n + (i as u64) * 100); n }
"""


@pytest.fixture(scope="module")
def vm() -> MoveVM:
    return vm_with("mac.move", SOURCE, {"probe": PROBE})


def call(vm: MoveVM, name: str, *args: bytes, module_id: ModuleId | None = None) -> list[bytes]:
    return returns(vm, module_id or ModuleId(PROBE, "mac"), name, *args)


def u64(v: int) -> bytes:
    return v.to_bytes(8, "little")


def vec(*xs: int) -> bytes:
    return bytes([len(xs)]) + b"".join(u64(x) for x in xs)


def some(x: int) -> bytes:
    return b"\x01" + u64(x)


def test_vector_macros_give_the_known_answers(vm: MoveVM) -> None:
    assert call(vm, "tab") == [vec(0, 1, 4, 9)]
    assert call(vm, "total", vec(1, 2, 3)) == [u64(6)]
    assert call(vm, "back", vec(1, 2, 3)) == [vec(3, 2, 1)]  # destroy! starts from the end
    assert call(vm, "refs", vec(4, 5)) == [u64(9)]
    assert call(vm, "muts", vec(1, 2)) == [vec(2, 3)]
    assert call(vm, "maps", vec(1, 2)) == [b"\x02\x01\x02"]
    assert call(vm, "maprefs", vec(3)) == [vec(6)]
    assert call(vm, "evens", vec(1, 2, 3, 4)) == [vec(2, 4)]
    assert call(vm, "folded", vec(1, 2, 3)) == [u64(94)]  # ((100 - 1) - 2) - 3: left to right
    assert [call(vm, "anys", v)[0] for v in (vec(1, 20), vec(1, 2), vec())] == [b"\x01", b"\x00", b"\x00"]
    assert [call(vm, "alls", v)[0] for v in (vec(11, 20), vec(1, 20), vec())] == [b"\x01", b"\x00", b"\x01"]
    assert call(vm, "counts", vec(11, 2, 30)) == [u64(2)]
    assert call(vm, "find", vec(1, 5, 5)) == [some(1)] and call(vm, "find", vec(1)) == [b"\x00"]


def test_option_and_integer_macros_give_the_known_answers(vm: MoveVM) -> None:
    assert call(vm, "or", b"\x00") == [u64(7)] and call(vm, "or", some(3)) == [u64(3)]
    assert call(vm, "omap", some(3)) == [some(6)] and call(vm, "omap", b"\x00") == [b"\x00"]
    assert call(vm, "odo", some(3)) == [u64(4)] and call(vm, "odo", b"\x00") == [u64(0)]
    assert call(vm, "some_and", some(4)) == [b"\x01"] and call(vm, "some_and", some(2)) == [b"\x00"]
    assert call(vm, "ints") == [u64(45)]
    assert call(vm, "range") == [(3 + 4 + 5).to_bytes(2, "little")]
    assert call(vm, "maxes") == [(2**256 - 1 - (2**64 - 1) + 255).to_bytes(32, "little")]


def test_the_remaining_stdlib_macros_give_the_known_answers(vm: MoveVM) -> None:
    assert call(vm, "parts", vec(1, 3, 2, 4)) == [vec(3, 4), vec(1, 2)]
    assert call(vm, "indices", vec(1, 0, 1)) == [vec(0, 2)]
    assert call(vm, "zipped", vec(1, 2), vec(3, 4)) == [vec(13, 24)]
    assert call(vm, "zipped_back", vec(1, 2), vec(30, 40)) == [vec(42, 31)]
    assert call(vm, "zipped_refs", vec(9, 8), vec(1, 2)) == [vec(8, 6)]
    assert call(vm, "zip_bump", vec(1, 2), vec(10, 20)) == [vec(11, 22, 0, 0)]
    with pytest.raises(MoveAbort):
        call(vm, "zipped", vec(1), vec(1, 2))  # unequal lengths abort, as Sui's `assert!`
    assert call(vm, "sorted", vec(3, 1, 2, 1)) == [vec(1, 1, 2, 3)]
    assert call(vm, "ors", b"\x00") == [some(9)] and call(vm, "ors", some(1)) == [some(1)]
    assert call(vm, "ands", some(5)) == [some(4)] and call(vm, "ands", some(1)) == [b"\x00"]
    assert call(vm, "filtered", some(4)) == [some(4)] and call(vm, "filtered", some(3)) == [b"\x00"]
    assert call(vm, "extracted", some(3)) == [u64(3), b"\x00"]
    assert call(vm, "extracted", b"\x00") == [u64(5), b"\x00"]
    assert call(vm, "bumped", some(3)) == [some(4)] and call(vm, "destroyed", some(8)) == [u64(8)]
    # range_do_eq! reaches the largest u8 without overflowing; do_eq! includes its bound
    assert call(vm, "to_max") == [u64(6 + (0 + 1 + 2 + 3) * 100)]


def test_expansion_is_hygienic_by_name_and_nests(vm: MoveVM) -> None:
    assert call(vm, "hygiene") == [u64(1 + 5 + 2 + 5 + 7 + 1000 + 100)]
    assert call(vm, "annotated") == [u64(75)]
    # `$x` is substituted by name: evaluated at each use (k: 10, then 100); `x` once
    assert call(vm, "by_name") == [u64(10 + 100 + 100)]
    assert call(vm, "by_value") == [u64(20 + 10)]
    assert call(vm, "forwarded") == [vec(101, 102, 103)]
    assert call(vm, "nested") == [u64(sum(i * 10 + j for i in range(3) for j in range(2)))]
    assert call(vm, "aborting", vec(1, 2)) == [u64(3)]
    with pytest.raises(MoveAbort) as info:
        call(vm, "aborting", vec(1, 13))
    assert info.value.code == 77 and info.value.module == ModuleId(PROBE, "mac")


@pytest.mark.parametrize(
    ("src", "code", "words"),
    [
        ("fun f(): u64 { nope!(1) }", "E03012", "Unbound macro 'nope'"),
        ("fun f(): u64 { std::vector::length!(1) }", "E03012", "a function, not a macro"),
        (
            "macro fun m($f: |u64| -> u64): u64 { $f(1) }\nfun f(): u64 { m!(|_x| { return 5 }) }",
            "E04025",
            "Invalid 'return' inside a lambda",
        ),
        (
            "macro fun m($x: u64): u64 { $x }\nfun f(): u64 { m!(1, 2) }",
            "E04017",
            "expected 1 argument(s) but got 2",
        ),
        (
            "macro fun m($x: u64): u64 { $x }\nfun f(): u64 { m!(true) }",
            "E04007",
            "Expected: 'u64'. Given: 'bool'",
        ),
        (
            "macro fun m($f: |u64| -> u64): u64 { $f(1) }\nfun f(): u64 { m!(3) }",
            "E04007",
            "expected a lambda",
        ),
        (
            "fun f(): u64 { let _g = |x: u64| x; 1 }",
            "E04007",
            "A lambda can only be an argument of a macro call",
        ),
        ("macro fun m($x: u64): u64 { m!($x) }\nfun f(): u64 { m!(1) }", "E04025", "recursive macros"),
        (
            "macro fun m($f: |u64|) { $f(1) }\nfun f() { while (true) { m!(|_x| break) } }",
            "E04014",
            "'break' can only be used inside a loop body",
        ),
        (
            "macro fun m($f: |u64| -> u64): u64 { $f(1, 2) }\nfun f(): u64 { m!(|x| x) }",
            "E04017",
            "Invalid call of lambda '$f'",
        ),
        (
            "fun f(): u64 { let mut n = 0; vector[1u64].do!(|x| n = n + y); n }",
            "E03009",
            "Unbound variable 'y'",
        ),
        (
            # hygiene: the caller cannot see the macro's locals (`items` inside `do!`)
            "fun f(): u64 { let mut n = 0; vector[1u64].do!(|_x| n = items.length()); n }",
            "E03009",
            "Unbound variable 'items'",
        ),
        ("fun f(): vector<u64> { vector[1u64].map!(|x| x == 1) }", "E04007", "vector<u64>"),
        ("fun f(): u64 { vector[1u64].fold!(0, |a, 1| a) }", "E03015", "may only appear in 'match' arms"),
        ("fun f(x: u64) { let 1 | 2 = x; }", "E03015", "may only appear in 'match' arms"),
    ],
)
def test_macro_errors_have_moves_codes(src: str, code: str, words: str) -> None:
    d = fails(src)
    assert d.code == code, d.message
    assert words in d.message, d.message


def test_macros_of_other_modules_and_their_visibility() -> None:
    lib = "module a::lib { public macro fun inc($x: u64): u64 { $x + 1 }\nmacro fun hidden(): u64 { 1 } }"
    ok = "module a::user { use a::lib; public fun f(): u64 { lib::inc!(1) + a::lib::inc!(2) } }"
    package = compile_sources(lib, ok)
    assert {m.id.name for m in package.modules} == {"lib", "user"}
    assert "inc" in next(m for m in package.modules if m.id.name == "lib").macros
    with pytest.raises(Exception, match="E04001"):
        compile_sources(lib, "module a::user { fun f(): u64 { a::lib::hidden!() } }")


def test_macro_declarations_are_checked() -> None:
    m = module("public macro fun id<$T>($x: $T): $T { $x }")
    assert "id" in m.macros and "id" not in m.functions  # no code of its own
    d = fails("entry macro fun m() {}")
    assert d.code == "E02007"


def test_the_move_book_macro_chapter_compiles_unchanged_and_runs(vm: MoveVM) -> None:
    built = build_package(EXAMPLES / "macros")
    machine = MoveVM()
    for package in framework.framework():
        machine.add_modules(codegen.compile_package(package).values())
    ids = machine.add_modules(built.module_bytes)
    uses = next(i for i in ids if i.name == "uses")
    assert call(machine, "maxes", module_id=uses) == [(2 + 10 + 200).to_bytes(32, "little")]
    assert call(machine, "repeated", module_id=uses) == [u64(6)]
    assert call(machine, "std_macros", module_id=uses) == [u64(10), some(10), u64(45)]


LABELED = """
module probe::lb;
public fun first_big(v: &vector<u64>): Option<u64> {
    'search: {
        let mut i = 0;
        while (i < v.length()) {
            if (v[i] > 10) return 'search option::some(i);
            i = i + 1;
        };
        option::none()
    }
}
public fun count_to(n: u64): u64 { let mut i = 0; loop { if (i == n) break i * 2; i = i + 1; } }
public fun nested(): u64 { let mut s = 0; 'outer: loop { loop { s = s + 1; if (s > 5) break 'outer; continue 'outer } }; s }
public macro fun find<$T>($v: &vector<$T>, $f: |&$T| -> bool): Option<u64> {
    let v = $v;
    'find: {
        v.length().do!(|i| if ($f(&v[i])) return 'find option::some(i));
        option::none()
    }
}
public fun via_macro(v: &vector<u64>): Option<u64> { find!(v, |x| *x == 3) }
public fun unit_block(): u64 { let mut x = 1; 'b: { if (x == 1) return 'b; x = 5; }; x }
"""


def test_labeled_blocks_and_loop_values_run(vm: MoveVM) -> None:
    machine = vm_with("lb.move", LABELED, {"probe": PROBE})
    lb = ModuleId(PROBE, "lb")
    assert returns(machine, lb, "first_big", vec(1, 20, 30)) == [some(1)]
    assert returns(machine, lb, "first_big", vec(1)) == [b"\x00"]
    assert returns(machine, lb, "count_to", u64(4)) == [u64(8)]
    assert returns(machine, lb, "nested") == [u64(6)]
    # a lambda written inside a labeled block leaves it, through the macro that applies it
    assert returns(machine, lb, "via_macro", vec(1, 3)) == [some(1)]
    assert returns(machine, lb, "via_macro", vec(1)) == [b"\x00"]
    assert returns(machine, lb, "unit_block") == [u64(1)]


@pytest.mark.parametrize(
    ("src", "code", "words"),
    [
        ("fun f() { 'a: { continue 'a } }", "E04014", "Leave a labeled block with 'return 'a'"),
        ("fun f(): u64 { while (true) { break 5 }; 1 }", "E04014", "only a 'loop' gives a value"),
        ("fun f() { loop { return 'x } }", "E03014", "undefined label 'x'"),
        ("fun f(): u64 { 'a: loop { return 'a 5 } }", "E04014", "Leave a loop with 'break 'a'"),
        ("fun f(): u64 { let x = 'a: { return 'a true }; x }", "E04007", "Given: 'bool'"),
    ],
)
def test_labeled_block_errors(src: str, code: str, words: str) -> None:
    d = fails(src)
    assert d.code == code and words in d.message, d.message
