"""Positional structs (Move 2024): ``public struct Wrapper(u64) has drop;``, built as
``Wrapper(5)``, read as ``w.0``, taken apart by ``let Wrapper(x) = w;`` and by ``match``;
their fields are ``pos0``, ``pos1``... in object JSON, as Move's compiler names them."""

from __future__ import annotations

import pytest

from move.types import ModuleId, StructType, address_of
from node.sui import MoveVM
from node.sui.responses import move_value_json
from tests.move_frontend import fails, module, returns, vm_with

PROBE = address_of(0xE2)
SOURCE = """
module probe::w;

public struct Wrapper(u64) has copy, drop;
public struct Pair<T: copy + drop>(T, T) has copy, drop;
public struct Unit() has drop;
public struct Deep(Wrapper, vector<u8>) has drop;

public fun make(x: u64): Wrapper { Wrapper(x) }
public fun first(w: Wrapper): u64 { w.0 }
public fun unwrap(w: Wrapper): u64 { let Wrapper(x) = w; x }
public fun swap(p: Pair<u64>): Pair<u64> { let Pair(a, b) = p; Pair(b, a) }
public fun bump(p: &mut Pair<u64>) { p.1 = p.0 + p.1; }
public fun bumped(mut p: Pair<u64>): Pair<u64> { bump(&mut p); p }
public fun sum(p: &Pair<u64>): u64 { let Pair(a, b) = p; *a + *b }
public fun unit(): Unit { Unit() }
public fun deep(d: Deep): u64 { let Deep(Wrapper(x), bytes) = d; x + bytes.length() }
public fun last(p: Pair<u8>): u8 { match (p) { Pair(.., 0) => 100, Pair(_, y) => y } }
"""


@pytest.fixture(scope="module")
def vm() -> MoveVM:
    return vm_with("w.move", SOURCE, {"probe": PROBE})


def call(vm: MoveVM, name: str, *args: bytes) -> bytes:
    (out,) = returns(vm, ModuleId(PROBE, "w"), name, *args)
    return out


def u64(v: int) -> bytes:
    return v.to_bytes(8, "little")


def test_positional_structs_build_read_and_unpack(vm: MoveVM) -> None:
    assert call(vm, "make", u64(5)) == u64(5)  # one field: the BCS of a struct is its fields in order
    assert call(vm, "first", u64(9)) == u64(9) and call(vm, "unwrap", u64(11)) == u64(11)
    assert call(vm, "swap", u64(1) + u64(2)) == u64(2) + u64(1)
    assert call(vm, "sum", u64(3) + u64(4)) == u64(7)
    assert call(vm, "unit") == b"\x00"  # no fields: Move's dummy_field, false
    assert call(vm, "deep", u64(40) + b"\x02ab") == u64(42)
    assert call(vm, "last", b"\x07\x00") == b"\x64" and call(vm, "last", b"\x07\x03") == b"\x03"


def test_mutation_through_a_positional_field(vm: MoveVM) -> None:
    assert call(vm, "bumped", u64(3) + u64(4)) == u64(3) + u64(7)


def test_positional_fields_are_pos0_in_json(vm: MoveVM) -> None:
    ty = StructType(ModuleId(PROBE, "w"), "Pair", (StructType(ModuleId(PROBE, "w"), "Wrapper"),))
    assert move_value_json(vm, ty, u64(1) + u64(2)) == {"pos0": {"pos0": "1"}, "pos1": {"pos0": "2"}}


def test_positional_declarations_and_errors() -> None:
    m = module("public struct W(u64, bool) has drop;")
    assert m.structs["W"].positional and [f.name for f in m.structs["W"].fields] == ["0", "1"]
    w = "public struct W(u64) has drop;\n"
    for body, code, words in [
        ("fun f(): W { W(1, 2) }", "E04017", "Expected 1 argument(s) but got 2"),
        ("fun f(): W { W() }", "E04016", "Expected 1 argument(s) but got 0"),
        ("fun f(w: W): u64 { w.1 }", "E03010", "Unbound field '1'"),
        ("fun f(w: W): u64 { let W(a, b) = w; a + b }", "E03015", "Expected 1 field(s) but got 2"),
        ("fun f(w: W): u64 { let W { x } = w; x }", "E03013", "its fields are positional"),
        ("public struct N { x: u64 }\nfun f(): N { N(1) }", "E03013", "its fields are named"),
    ]:
        d = fails(w + body)
        assert d.code == code and words in d.message, d.message
