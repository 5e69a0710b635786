"""Move source through the whole compiler (front end, code generation) and the VM: known
answers of Move's semantics (reference/sui.md section 5, the Move Book), the language's
constructs, the standard library, and a shared counter as the Sui documentation writes it."""

from __future__ import annotations

import pytest

import subnet.samples
from move.types import U8, U16, U32, U64, U128, U256, ModuleId, PrimType, StructType
from node.sui import (
    InvalidCall,
    MoveAbort,
    MovePrimitiveRuntimeError,
    MoveVM,
    TxContext,
    VMError,
    derive_object_id,
)
from tests.move_source import CTX, DIGEST, SENDER, Package
from tests.vectors import SUI_COUNTER_TX_CREATED_IDS, SUI_COUNTER_TX_DIGEST_HEX
from vocab import bcs
from vocab.leb128 import encode_leb128

WIDTHS = [U8, U16, U32, U64, U128, U256]


def enc(value: int, ty: PrimType = U64) -> bytes:
    return value.to_bytes(ty.prim.bits // 8, "little")


def vec(values: list[int]) -> bytes:
    return encode_leb128(len(values)) + b"".join(enc(v) for v in values)


def _arith_source() -> str:
    lines = ["module t::arith;"]
    for ty in WIDTHS:
        for name, op in [("add", "+"), ("sub", "-"), ("mul", "*"), ("div", "/"), ("mod", "%")]:
            lines.append(f"public fun {name}_{ty}(a: {ty}, b: {ty}): {ty} {{ a {op} b }}")
        lines.append(f"public fun shl_{ty}(a: {ty}, b: u8): {ty} {{ a << b }}")
        lines.append(f"public fun shr_{ty}(a: {ty}, b: u8): {ty} {{ a >> b }}")
        lines.append(f"public fun to_u8_{ty}(a: {ty}): u8 {{ (a as u8) }}")
        lines.append(f"public fun to_u256_{ty}(a: {ty}): u256 {{ (a as u256) }}")
    return "\n".join(lines) + "\n"


LANG = """module t::lang;

use std::string::{Self, String};

const EBad: u64 = 7;

public struct Point has copy, drop, store { x: u64, y: u64 }

public struct Box<T> has copy, drop, store { value: T }

public fun checked(x: u64): u64 {
    assert!(x < 100, EBad);
    if (x == 42) return 0;
    x * 2
}

public fun odd_sum(n: u64): u64 {
    let mut i = 0;
    let mut s = 0;
    loop {
        if (i >= n) break;
        i = i + 1;
        if (i % 2 == 0) continue;
        s = s + i;
    };
    s
}

public fun squares(n: u64): vector<u64> {
    let mut v = vector[];
    let mut i = 0;
    while (i < n) {
        v.push_back(i * i);
        i = i + 1;
    };
    v
}

public fun vec_ops(mut v: vector<u64>): (vector<u64>, u64, u64) {
    v.push_back(7);
    v.swap(0, 1);
    let top = v.pop_back();
    let n = v.length();
    (v, top, n)
}

public fun nth(v: &vector<u64>, i: u64): u64 { v[i] }

public fun bump(p: &mut Point) {
    p.x = p.x + 1;
    let y = &mut p.y;
    *y = 100;
}

public fun points(): (u64, bool, bool) {
    let p = Point { x: 1, y: 2 };
    let mut q = p;
    bump(&mut q);
    let Point { x, y: _ } = q;
    (x, p == Point { x: 1, y: 2 }, p == q)
}

public fun wrap<T>(value: T): Box<T> { Box { value } }

public fun unwrap<T>(b: Box<T>): T {
    let Box { value } = b;
    value
}

public fun boxes(): u64 {
    let mut v = vector[wrap(5u64), wrap(6u64)];
    let b = v.pop_back();
    unwrap(b) + unwrap(v[0])
}

public fun greet(name: vector<u8>): String {
    let mut s = string::utf8(b"hello, ");
    s.append(string::utf8(name));
    s
}

public fun maybe(x: u64): u64 {
    let o = if (x > 10) option::some(x) else option::none();
    o.get_with_default(0) + if (o.is_some()) 1 else 0
}

public fun literals(): (u8, u128, u256, address, vector<u8>) {
    (255, 1 << 100, 0xffu256, @0x2, x"00ff")
}

public struct Token has drop { v: u64 }

public fun twice<T: copy>(x: &T): vector<T> { vector[*x, *x] }

public fun deep(n: u64): u64 { if (n == 0) 0 else deep(n - 1) + 1 }

public fun hog(n: u64): u64 {
    let mut v = vector[];
    let mut i = 0;
    while (i < n) {
        v.push_back(i);
        i = i + 1;
    };
    v.length()
}
"""

COUNTER = subnet.samples.move_module("counter")


@pytest.fixture(scope="module")
def arith() -> Package:
    return Package({"arith.move": _arith_source()})


@pytest.fixture(scope="module")
def lang() -> Package:
    return Package({"lang.move": LANG})


def run(
    p: Package, name: str, ty: PrimType, a: int, b: int | None = None, rhs: PrimType | None = None
) -> int:
    args = [enc(a, ty)] if b is None else [enc(a, ty), enc(b, rhs or ty)]
    return int.from_bytes(p.returns("arith", f"{name}_{ty}", *args)[0], "little")


def arithmetic_error(
    p: Package, name: str, ty: PrimType, a: int, b: int | None = None, rhs: PrimType | None = None
) -> None:
    with pytest.raises(MovePrimitiveRuntimeError, match="arithmetic error"):
        run(p, name, ty, a, b, rhs)


@pytest.mark.parametrize("ty", WIDTHS, ids=str)
def test_arithmetic_known_answers(arith: Package, ty: PrimType) -> None:
    bits = ty.prim.bits
    top = (1 << bits) - 1
    assert run(arith, "add", ty, top - 1, 1) == top
    arithmetic_error(arith, "add", ty, top, 1)  # 255u8 + 1 aborts
    arithmetic_error(arith, "sub", ty, 0, 1)
    assert run(arith, "mul", ty, top, 1) == top
    arithmetic_error(arith, "mul", ty, top, 2)
    assert run(arith, "div", ty, top, 2) == top // 2
    arithmetic_error(arith, "div", ty, 1, 0)
    arithmetic_error(arith, "mod", ty, 1, 0)
    assert run(arith, "shl", ty, top, 1, U8) == top - 1  # << drops the high bits
    assert run(arith, "shr", ty, top, bits - 1, U8) == 1
    if bits < 256:
        arithmetic_error(arith, "shl", ty, 1, bits, U8)  # 1u8 << 8 aborts
    assert run(arith, "to_u256", ty, top) == top
    assert run(arith, "to_u8", ty, 255) == 255
    if bits > 8:
        arithmetic_error(arith, "to_u8", ty, 256)  # (256u16 as u8) aborts


def test_u256_max(arith: Package) -> None:
    top = (1 << 256) - 1
    assert run(arith, "sub", U256, top, top) == 0
    assert run(arith, "mod", U256, top, 1 << 128) == (1 << 128) - 1
    arithmetic_error(arith, "add", U256, top, 1)


def test_control_flow_and_aborts(lang: Package) -> None:
    assert lang.returns("lang", "checked", enc(5)) == [enc(10)]
    assert lang.returns("lang", "checked", enc(42)) == [enc(0)]
    with pytest.raises(MoveAbort) as err:
        lang.returns("lang", "checked", enc(100))
    assert (err.value.module.name, err.value.function, err.value.code) == ("lang", "checked", 7)
    assert lang.returns("lang", "odd_sum", enc(10)) == [enc(25)]


def test_vectors(lang: Package) -> None:
    assert lang.returns("lang", "squares", enc(4)) == [vec([0, 1, 4, 9])]
    assert lang.returns("lang", "vec_ops", vec([1, 2])) == [vec([2, 1]), enc(7), enc(2)]
    assert lang.returns("lang", "nth", vec([1, 2]), enc(1)) == [enc(2)]
    with pytest.raises(MovePrimitiveRuntimeError, match="index out of bounds"):
        lang.returns("lang", "nth", vec([1, 2]), enc(2))


def test_structs_references_generics(lang: Package) -> None:
    assert lang.returns("lang", "points") == [enc(2), b"\x01", b"\x00"]
    bumped = lang.call("lang", "bump", enc(5) + enc(6))
    assert bumped.mutated == {0: enc(6) + enc(100)}
    assert lang.returns("lang", "boxes") == [enc(11)]
    point = StructType(ModuleId(lang.address, "lang"), "Point")
    assert lang.call("lang", "wrap", enc(3) + enc(4), type_args=(point,)).returns == [enc(3) + enc(4)]


def test_standard_library(lang: Package) -> None:
    assert lang.returns("lang", "greet", b"\x03bob") == [b"\x0ahello, bob"]
    with pytest.raises(MoveAbort) as err:  # std::string::EInvalidUTF8 = 1
        lang.returns("lang", "greet", b"\x01\xff")
    assert (err.value.module.name, err.value.code) == ("string", 1)
    assert lang.returns("lang", "maybe", enc(5)) == [enc(0)]
    assert lang.returns("lang", "maybe", enc(50)) == [enc(51)]
    assert lang.returns("lang", "literals") == [
        b"\xff",
        enc(1 << 100, U128),
        enc(0xFF, U256),
        bytes(31) + b"\x02",
        b"\x02\x00\xff",
    ]


def test_counter_through_the_vm() -> None:
    package = Package({"counter.move": COUNTER}, name="counter", address=0xC0)
    created = package.call("counter", "create")
    first = derive_object_id(DIGEST, 0)
    assert created.log.created == [first]
    [shared] = created.log.objects
    assert shared.kind == "share" and shared.type.name == "Counter"
    assert shared.contents == first + SENDER + enc(0)
    state = shared.contents
    for expected in (1, 2, 3):
        state = package.call("counter", "increment", state).mutated[0]
        assert state == first + SENDER + enc(expected)
    assert package.returns("counter", "value", state) == [enc(3)]
    assert package.call("counter", "set_value", state, enc(77)).mutated[0] == first + SENDER + enc(77)
    stranger = first + bytes(32) + enc(3)
    with pytest.raises(MoveAbort) as err:
        package.call("counter", "set_value", stranger, enc(77))
    assert (err.value.function, err.value.code) == ("set_value", 0)


# -- BCS and ids against the shared vocabulary and VECTORS.md -----------------------------------

TWO_COUNTERS = """module counter::pair;

public struct Counter has key {
    id: UID,
    owner: address,
    value: u64,
}

public struct Tagged has copy, drop, store {
    name: vector<u8>,
    flags: vector<bool>,
    big: u128,
    nested: vector<vector<u16>>,
}

public fun create_two(ctx: &mut TxContext) {
    transfer::transfer(Counter { id: object::new(ctx), owner: ctx.sender(), value: 1 }, ctx.sender());
    transfer::share_object(Counter { id: object::new(ctx), owner: ctx.sender(), value: 2 });
}

public fun echo(t: Tagged): Tagged {
    let mut t = t;
    t.flags.push_back(true);
    t.nested.push_back(vector[65535]);
    t.big = t.big + 1;
    t
}
"""


def test_ids_and_contents_match_the_vocabulary_and_vectors() -> None:
    package = Package({"pair.move": TWO_COUNTERS}, name="counter", address=0xC0)
    digest = bytes.fromhex(SUI_COUNTER_TX_DIGEST_HEX)
    vm: MoveVM = package.vm
    result = vm.call(
        ModuleId(package.address, "pair"), "create_two", [], ctx=TxContext(SENDER, digest), gas_limit=10**7
    )
    # VECTORS.md: the ids this transaction digest creates, in order
    assert ["0x" + i.hex() for i in result.log.created] == SUI_COUNTER_TX_CREATED_IDS
    counter = bcs.Struct("Counter", [("id", bcs.ADDRESS), ("owner", bcs.ADDRESS), ("value", bcs.U64)])
    transferred, shared = result.log.objects
    assert (transferred.kind, transferred.recipient) == ("transfer", SENDER)
    assert counter.decode(transferred.contents) == {
        "id": bytes.fromhex(SUI_COUNTER_TX_CREATED_IDS[0][2:]),
        "owner": SENDER,
        "value": 1,
    }
    assert shared.kind == "share" and counter.decode(shared.contents)["value"] == 2


def test_nested_values_round_trip_as_the_bcs_vocabulary_encodes_them() -> None:
    tagged = bcs.Struct(
        "Tagged",
        [
            ("name", bcs.BYTES),
            ("flags", bcs.Vector(bcs.BOOL)),
            ("big", bcs.U128),
            ("nested", bcs.Vector(bcs.Vector(bcs.U16))),
        ],
    )
    value = {"name": b"move", "flags": [False, True], "big": 2**127, "nested": [[1, 2], []]}
    package = Package({"pair.move": TWO_COUNTERS}, name="counter", address=0xC0)
    [out] = package.returns("pair", "echo", tagged.encode(value))
    assert tagged.decode(out) == {
        "name": b"move",
        "flags": [False, True, True],
        "big": 2**127 + 1,
        "nested": [[1, 2], [], [65535]],
    }


def test_type_arguments_must_have_the_required_abilities(lang: Package) -> None:
    module = ModuleId(lang.address, "lang")
    token = StructType(module, "Token")
    box = StructType(module, "Box", (U64,))
    assert lang.call("lang", "twice", enc(3), type_args=(box,)).returns == [b"\x02" + enc(3) * 2]
    with pytest.raises(InvalidCall, match=r"lacks copy"):
        lang.call("lang", "twice", enc(3), type_args=(token,))
    with pytest.raises(InvalidCall, match=r"lacks copy"):  # Box<Token> is not copy: its argument is not
        lang.call("lang", "twice", enc(3), type_args=(StructType(module, "Box", (token,)),))


def test_limits_stop_a_call_cleanly(lang: Package) -> None:
    assert lang.returns("lang", "deep", enc(1000)) == [enc(1000)]
    with pytest.raises(VMError, match="stack overflow"):
        lang.call("lang", "deep", enc(10**7), gas=10**10)
    small = MoveVM(heap_limit=1 << 20)
    small.add_modules(lang.vm.modules[m].wasm for m in lang.vm.modules)
    hog = ModuleId(lang.address, "lang")
    assert small.call(hog, "hog", [enc(1000)], ctx=CTX, gas_limit=10**7).returns == [enc(1000)]
    with pytest.raises(VMError, match="more than its limit"):
        small.call(hog, "hog", [enc(10**6)], ctx=CTX, gas_limit=10**9)
    # the VM is still usable after each failure
    assert small.call(hog, "hog", [enc(10)], ctx=CTX, gas_limit=10**7).returns == [enc(10)]
    assert lang.returns("lang", "deep", enc(3)) == [enc(3)]
