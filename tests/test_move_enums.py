"""Move 2024 enums and ``match``: the front end's rules and errors (Move's codes and wording),
known answers run on the Move VM, the Move Book's enum chapter compiled unchanged, and enum
values inside a stored object, an event and ``bcs::to_bytes`` read back by the TypeScript
SDK's ``bcs.enum`` (npm ``@mysten/bcs`` 2.1.2) as the oracle of Sui's encoding."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from move import framework, sui_rules
from move.compiler import compile_package
from move.source import CompileError
from move.types import ModuleId, StructType, address_of
from node.sui import MoveAbort, MoveVM, TxContext
from node.sui.ledger import SuiLedger, compile_for_publish
from node.sui.responses import move_value_json
from tests import npm
from tests.move_frontend import compile_sources, fails, module, returns, vm_with
from vocab import bcs
from vocab.sui.address import SuiAddress
from vocab.sui.transaction import Pure

EXAMPLES = Path(__file__).resolve().parent / "move_examples"
PROBE = address_of(0xE1)

ACTION = """
public enum Action has copy, drop, store { Stop, Pause { duration: u32 }, Jump(u64) }
"""


# -- the front end ------------------------------------------------------------------------------


def test_enums_compile_with_variants_in_declaration_order() -> None:
    m = module(ACTION + "public enum Opt<T> has drop { None, Some(T) }")
    action = m.structs["Action"]
    assert action.variants is not None
    assert [(v.name, [f.name for f in v.fields], v.positional) for v in action.variants] == [
        ("Stop", [], False),
        ("Pause", ["duration"], False),
        ("Jump", ["0"], True),
    ]
    assert m.structs["Opt"].variants is not None and m.structs["Opt"].type_params[0].name == "T"


@pytest.mark.parametrize(
    ("body", "code", "words"),
    [
        (
            "fun f(a: Action): u64 { match (a) { Action::Stop => 0, Action::Pause { .. } => 1 } }",
            "E04029",
            "non-exhaustive pattern: Pattern 'Action::Jump(_)' not covered",
        ),
        (
            "fun f(a: Action): u64 { match (a) { Action::Stop => 0, Action::Jump(_) => 1, "
            "Action::Pause { duration: 1 } => 2 } }",
            "E04029",
            "Pattern 'Action::Pause { duration: _0 }' not covered. When '_0' is not 1",
        ),
        (
            "fun f(a: Action): u64 { match (a) { Action::Jump(n) if (*n > 1) => 0, Action::Stop => 1, "
            "Action::Pause { .. } => 2 } }",
            "E04029",
            "Pattern 'Action::Jump(_)' not covered. Match arms with guards are not considered for coverage.",
        ),
        ("fun f(b: bool): u8 { match (b) { true => 0 } }", "E04029", "Pattern 'false' not covered"),
        ("fun f(x: u8): u8 { match (x) { 0 => 1, 1 => 2 } }", "E04029", "When '_0' is not 0 or 1"),
        ("public enum K has key { A }", "E02022", "Enums cannot have the 'key' ability"),
        ("public enum Nothing {}", "E02022", "An 'enum' must define at least one variant"),
        ("enum Hidden { A }", "E01003", "Visibility annotations are required on enum declarations"),
        ("public enum D { A, A }", "E02001", "Duplicate variant 'A'"),
        ("fun f(): Action { Action::Run }", "E03016", "Unbound variant 'Run' in enum"),
        ("fun f(): Action { Action::Jump }", "E03010", "it has fields"),
        ("fun f(): Action { Action::Jump { x: 1 } }", "E03013", "its fields are positional"),
        ("fun f(a: Action): u64 { a.duration }", "E03010", "Enum fields are reached only through 'match'"),
        ("fun f(a: Action) { let Action::Jump(_) = a; }", "E03015", "taken apart with 'match'"),
        (
            "fun f(a: Action): u64 { match (a) { Action::Jump(n) | Action::Pause { .. } => 1, _ => 0 } }",
            "E03015",
            "every alternative must bind the same variables",
        ),
        (
            # guards see their bindings as immutable references (the Move reference, "Guards")
            "fun f(a: Action): u64 { match (a) { Action::Jump(n) if (n > 2) => 1, _ => 0 } }",
            "E04003",
            "Invalid argument to '>'. Found: '&u64'",
        ),
        (
            "public struct NoDrop(u64)\nfun f(x: NoDrop): u64 { match (x) { NoDrop(1) => 1, _ => 2 } }",
            "E06001",
            "Cannot ignore values without the 'drop' ability",
        ),
    ],
)
def test_enum_and_match_errors_have_moves_codes(body: str, code: str, words: str) -> None:
    d = fails(ACTION + body)
    assert d.code == code, d.message
    assert words in d.message, d.message


def test_enums_of_another_module_are_built_and_matched_only_at_home() -> None:
    home = "module a::h {\n" + ACTION + "\npublic fun stop(): Action { Action::Stop }\n}"
    compile_sources(home)
    away_pack = "module a::o { use a::h::Action; fun f(): Action { Action::Stop } }"
    away_match = (
        "module a::o { use a::h::Action; fun f(x: &Action): u8 { match (x) { Action::Stop => 0, _ => 1 } } }"
    )
    for away, words in ((away_pack, "can only be constructed"), (away_match, "can only be matched")):
        with pytest.raises(CompileError) as info:
            compile_sources(home, away)
        assert info.value.diagnostics[0].code == "E04001" and words in info.value.diagnostics[0].message


def test_a_one_time_witness_must_be_a_struct() -> None:
    src = "module a::m { public enum M has drop { A }\nfun init(_w: M, _ctx: &mut TxContext) {} }"
    package = compile_sources(src)
    problems = sui_rules.check_package(package, framework.framework())
    assert any("must be structs, not enums" in p.message for p in problems)


def test_the_move_book_enum_chapter_compiles_unchanged() -> None:
    source = (EXAMPLES / "enums" / "sources" / "segment.move").read_text()
    (m,) = compile_package(
        sources={"segment.move": source},
        named_addresses={"book": address_of(0xB00C)},
        deps=framework.framework(),
    ).modules
    assert {"is_empty", "is_special", "is_string", "to_string", "try_into_inner_string"} <= set(m.functions)


# -- known answers on the VM -------------------------------------------------------------------

SOURCE = (
    "module probe::p;\n"
    + ACTION
    + """
public enum Opt<T> has copy, drop, store { None, Some(T) }
public enum Nest has drop { Leaf(u8), Pair(Opt<u64>, bool) }
public struct Wrapper(u64) has copy, drop;

public fun make(k: u8, arg: u64): Action {
    if (k == 0) Action::Stop else if (k == 1) Action::Pause { duration: arg as u32 } else Action::Jump(arg)
}
public fun score(a: Action): u64 {
    match (a) {
        Action::Stop => 0,
        Action::Pause { duration } => duration as u64 + 1000,
        Action::Jump(n) if (*n > 2) => n * 10,
        _ => 7,
    }
}
public fun peek(a: &Action): u64 {
    match (a) { Action::Stop => 0, Action::Pause { duration } => (*duration as u64), Action::Jump(n) => *n }
}
public fun bump(mut a: Action): Action {
    match (&mut a) { Action::Jump(n) => *n = *n + 1, Action::Pause { duration } => *duration = 0, _ => () };
    a
}
public fun small(x: u64): u64 { match (x) { 1 | 2 => 10, y @ (3 | 4) => y * 2, mut z => { z = z + 100; z } } }
public fun wide(x: u256): u8 { match (x) { 0 => 0, 115792089237316195423570985008687907853269984665640564039457584007913129639935 => 2, _ => 1 } }
public fun flags(a: bool, b: u8): u8 { match (a) { true => b, false => match (b) { 255 => 1, _ => 0 } } }
public fun nest(n: Nest): u64 {
    match (n) {
        Nest::Leaf(7 | 9) => 1,
        Nest::Leaf(x) => x as u64,
        Nest::Pair(Opt::Some(v), true) => v,
        Nest::Pair(Opt::Some(_), false) => 3,
        Nest::Pair(Opt::None, _) => 4,
    }
}
public fun leaf(x: u8): Nest { Nest::Leaf(x) }
public fun pair(v: u64, some: bool, b: bool): Nest { Nest::Pair(if (some) Opt::Some(v) else Opt::None, b) }
public fun unwrap(w: Wrapper): u64 { match (w) { Wrapper(0) => 100, Wrapper(x) => x } }
public fun same(a: Action, b: Action): bool { a == b }
public fun encode(a: Action): vector<u8> { std::bcs::to_bytes(&a) }
public fun strict(a: &Action): u64 { match (a) { Action::Jump(n) => *n, _ => abort 42 } }
"""
)


@pytest.fixture(scope="module")
def vm() -> MoveVM:
    return vm_with("p.move", SOURCE, {"probe": PROBE})


def call(vm: MoveVM, name: str, *args: bytes) -> list[bytes]:
    return returns(vm, ModuleId(PROBE, "p"), name, *args)


def u64(v: int) -> bytes:
    return v.to_bytes(8, "little")


def num(data: bytes) -> int:
    return int.from_bytes(data, "little")


STOP, PAUSE5, JUMP3, JUMP1 = b"\x00", b"\x01" + (5).to_bytes(4, "little"), b"\x02" + u64(3), b"\x02" + u64(1)


def test_values_are_built_and_encoded_as_sui_encodes_enums(vm: MoveVM) -> None:
    # BCS: the variant index (ULEB128) then the variant's fields
    assert call(vm, "make", b"\x00", u64(9)) == [STOP]
    assert call(vm, "make", b"\x01", u64(5)) == [PAUSE5]
    assert call(vm, "make", b"\x02", u64(3)) == [JUMP3]
    assert call(vm, "encode", JUMP3) == [bytes([len(JUMP3)]) + JUMP3]


def test_match_by_value_reference_and_mutable_reference(vm: MoveVM) -> None:
    assert [num(call(vm, "score", a)[0]) for a in (STOP, PAUSE5, JUMP3, JUMP1)] == [0, 1005, 30, 7]
    assert [num(call(vm, "peek", a)[0]) for a in (STOP, PAUSE5, JUMP3)] == [0, 5, 3]
    assert call(vm, "bump", JUMP3) == [b"\x02" + u64(4)]
    assert call(vm, "bump", PAUSE5) == [b"\x01" + bytes(4)]
    assert call(vm, "bump", STOP) == [STOP]
    assert num(call(vm, "strict", JUMP3)[0]) == 3
    with pytest.raises(MoveAbort) as info:
        call(vm, "strict", STOP)
    assert info.value.code == 42


def test_literals_alternatives_at_bindings_and_mut_bindings(vm: MoveVM) -> None:
    assert [num(call(vm, "small", u64(x))[0]) for x in (1, 2, 3, 4, 5, 0)] == [10, 10, 6, 8, 105, 100]
    top = (2**256 - 1).to_bytes(32, "little")
    assert [call(vm, "wide", v)[0] for v in (bytes(32), top, u64(1) + bytes(24))] == [
        b"\x00",
        b"\x02",
        b"\x01",
    ]
    assert [
        call(vm, "flags", a, b)[0] for a, b in ((b"\x01", b"\x09"), (b"\x00", b"\xff"), (b"\x00", b"\x02"))
    ] == [
        b"\x09",
        b"\x01",
        b"\x00",
    ]


def test_nested_patterns_and_positional_structs(vm: MoveVM) -> None:
    def nest(value: bytes) -> int:
        return num(call(vm, "nest", value)[0])

    assert [nest(call(vm, "leaf", bytes([x]))[0]) for x in (7, 9, 8)] == [1, 1, 8]
    pairs = [
        call(vm, "pair", u64(77), s, b)[0]
        for s, b in ((b"\x01", b"\x01"), (b"\x01", b"\x00"), (b"\x00", b"\x01"))
    ]
    assert [nest(p) for p in pairs] == [77, 3, 4]
    assert [num(call(vm, "unwrap", u64(x))[0]) for x in (0, 12)] == [100, 12]
    assert call(vm, "same", JUMP3, JUMP3) == [b"\x01"] and call(vm, "same", JUMP3, JUMP1) == [b"\x00"]


# -- enums in stored objects, events and bcs::to_bytes, against the SDK ---------------------------

SCRIPT = r"""
import { bcs } from '@mysten/bcs';
import { readFileSync } from 'node:fs';

const cases = JSON.parse(readFileSync(0, 'utf8'));
const hex = (b) => Buffer.from(b).toString('hex');
const Action = bcs.enum('Action', {
  Stop: null,
  Pause: bcs.struct('Pause', { duration: bcs.u32() }),
  Jump: bcs.u64(),
});
const Slot = (name, inner) => bcs.enum(name, { Empty: null, Full: inner });
const Machine = bcs.struct('Machine', {
  id: bcs.bytes(32),
  state: Action,
  history: bcs.vector(Action),
  label: Slot('SlotString', bcs.string()),
  last: bcs.option(Slot('SlotU8', bcs.u8())),
});
const Moved = bcs.struct('Moved', { from: Action, to: Action });
const plain = (v) =>
  JSON.parse(JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? x.toString() : x instanceof Uint8Array ? hex(x) : x)));
const bytes = (h) => Uint8Array.from(Buffer.from(h, 'hex'));

const out = {};
const parsed = Machine.parse(bytes(cases.machine));
out.machine = plain(parsed);
out.machineAgain = hex(Machine.serialize(parsed).toBytes());
out.events = cases.events.map((e) => plain(Moved.parse(bytes(e))));
out.actions = cases.actions.map((a) => hex(Action.serialize(a).toBytes()));
process.stdout.write(JSON.stringify(out));
"""


@pytest.fixture(scope="module")
def sdk() -> Path:
    if npm.NODE is None:
        pytest.skip("Node.js is not installed (no `node` on PATH), so @mysten/bcs cannot run")
    return npm.install("npm-sui", {"@mysten/sui": "2.33.1", "@mysten/bcs": "2.1.2"}, {"enum_bcs.mjs": SCRIPT})


ALICE = SuiAddress(bytes([7]) * 32)
STEPS = [(2, 40), (1, 7), (0, 0), (2, 3)]


@pytest.fixture(scope="module")
def machine() -> tuple[SuiLedger, Any, list[bytes]]:
    ledger = SuiLedger.genesis()
    published = ledger.publish(ALICE, compile_for_publish(EXAMPLES / "enums"))
    assert published.status is None, published.status
    package = next(r.object_id for r, _ in published.created if ledger.package(r.object_id) is not None)
    made = ledger.call(ALICE, package, "machine", "create")
    assert made.status is None, made.status
    machine_id = made.created[0][0].object_id
    events: list[bytes] = []
    for kind, arg in STEPS:
        args = [ledger.shared(machine_id), Pure(bytes([kind])), Pure(u64(arg))]
        done = ledger.call(ALICE, package, "machine", "step", args)
        assert done.status is None, done.status
        events.extend(e.contents for e in done.events)
    named = ledger.call(
        ALICE, package, "machine", "name", [ledger.shared(machine_id), Pure(bcs.STRING.encode("hi"))]
    )
    assert named.status is None
    return ledger, machine_id, events


def test_the_move_book_enum_cycle_runs(machine: tuple[SuiLedger, Any, list[bytes]]) -> None:
    ledger, machine_id, _ = machine
    stored = ledger.object(machine_id)
    assert stored is not None
    where = ModuleId(stored.type.module.address, "segment_use")
    (out,) = returns(ledger.vm, where, "full_enum_cycle")
    assert bcs.STRING.decode(out) == "hello move!"  # what the book's test asserts


def test_a_stored_enum_reads_back_through_the_objects_json(
    machine: tuple[SuiLedger, Any, list[bytes]],
) -> None:
    ledger, machine_id, _ = machine
    shown = ledger.object_json(machine_id)
    assert shown is not None
    fields = shown["content"]["fields"]
    assert fields["state"]["variant"] == "Jump" and fields["state"]["fields"] == {"pos0": "3"}
    assert [h["variant"] for h in fields["history"]] == ["Stop", "Jump", "Pause", "Stop"]
    assert fields["history"][2]["fields"] == {"duration": 7}
    assert fields["label"]["fields"] == {"pos0": "hi"} and fields["last"]["fields"] == {"pos0": 2}
    # the first step's event, as parsedJson shows it
    _, _, events = machine
    stored = ledger.object(machine_id)
    assert stored is not None
    moved = StructType(ModuleId(stored.type.module.address, "machine"), "Moved")
    first = move_value_json(ledger.vm, moved, events[0])
    assert first["from"]["variant"] == "Stop" and first["from"]["fields"] == {}
    assert first["to"]["type"].endswith("::machine::Action") and first["to"]["variant"] == "Jump"
    assert first["to"]["fields"] == {"pos0": "40"}


def test_enums_in_objects_events_and_to_bytes_are_what_the_sdk_reads(
    sdk: Path, machine: tuple[SuiLedger, Any, list[bytes]]
) -> None:
    ledger, machine_id, events = machine
    stored = ledger.object(machine_id)
    assert stored is not None
    actions = [{"Stop": True}, {"Pause": {"duration": 7}}, {"Jump": "18446744073709551615"}]
    answer = npm.run_node(
        sdk,
        "enum_bcs.mjs",
        {"machine": stored.contents.hex(), "events": [e.hex() for e in events], "actions": actions},
    )
    assert answer["machineAgain"] == stored.contents.hex()
    got = answer["machine"]
    assert got["id"] == machine_id.raw.hex()
    assert got["state"] == {"Jump": "3", "$kind": "Jump"}
    assert got["history"] == [
        {"Stop": True, "$kind": "Stop"},
        {"Jump": "40", "$kind": "Jump"},
        {"Pause": {"duration": 7}, "$kind": "Pause"},
        {"Stop": True, "$kind": "Stop"},
    ]
    assert got["label"] == {"Full": "hi", "$kind": "Full"} and got["last"] == {"Full": 2, "$kind": "Full"}
    moved = [(e["from"]["$kind"], e["to"]["$kind"]) for e in answer["events"]]
    assert moved == [("Stop", "Jump"), ("Jump", "Pause"), ("Pause", "Stop"), ("Stop", "Jump")]
    # bcs::to_bytes of an enum in Move is the SDK's serialization of the same value
    package = ledger.object(machine_id)
    assert package is not None
    vm = ledger.vm
    module_id = ModuleId(stored.type.module.address, "machine")
    ctx = TxContext(sender=bytes(32), digest=bytes(32))
    for (kind, arg), want in zip(((0, 0), (1, 7), (2, 2**64 - 1)), answer["actions"], strict=True):
        (out,) = vm.call(module_id, "encode", [bytes([kind]), u64(arg)], (), ctx=ctx, gas_limit=10**8).returns
        assert out[1:].hex() == want, (kind, json.dumps(want))


def test_a_literal_subject_takes_its_type_from_the_patterns() -> None:
    m = module(
        "public fun f(): u8 { match (1) { 1u8 => 10, x => x } }\npublic fun g(): u64 { match (2) { _ => 0 } }"
    )
    assert {"f", "g"} <= set(m.functions)
