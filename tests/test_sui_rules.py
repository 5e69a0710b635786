"""Sui's verifier rules on hand-built IR: each rule accepts the valid form and refuses the
invalid one with Sui's code and wording at the offending place (reference/sui.md section 5;
the wording is Sui's compiler's, ``move-compiler/src/sui_mode/typing.rs``)."""

from __future__ import annotations

import pytest

from move import ir, sui_rules
from move.source import CompileError, Diagnostic, Loc
from move.types import (
    ADDRESS,
    BOOL,
    U8,
    U64,
    UNIT,
    Ability,
    ModuleId,
    RefType,
    StructType,
    Type,
    VectorType,
    address_of,
)
from tests.move_builder import (
    CLOCK,
    EMIT,
    FILE,
    FRAMEWORK,
    ID,
    STRING,
    TX_CONTEXT,
    UID,
    C,
    D,
    K,
    ModuleBuilder,
    S,
    at,
    call,
    local,
    option_of,
    pack,
    package,
    param,
    receiving_of,
    transfer_fn,
)

MUT_CTX = RefType(True, TX_CONTEXT)


def check(*modules: ModuleBuilder) -> list[Diagnostic]:
    return sui_rules.check_package(package(*(m.build() for m in modules)), [FRAMEWORK])


def only(found: list[Diagnostic], code: str, loc: Loc) -> Diagnostic:
    assert [(d.code, d.loc) for d in found] == [(code, loc)], [d.render() for d in found]
    return found[0]


# -- objects ------------------------------------------------------------------------------------


def test_an_object_with_id_uid_first_is_accepted() -> None:
    m = ModuleBuilder("m")
    m.struct("Counter", K | S, [("id", UID), ("value", U64)])
    assert check(m) == []


def test_an_object_whose_first_field_is_not_id_is_refused_at_that_field() -> None:
    m = ModuleBuilder("m")
    m.struct("Counter", K, [("value", U64), ("id", UID)], line=3)
    d = only(check(m), "Sui E02007", at(4, 5))
    assert d.message == (
        "invalid object declaration: Invalid object 'Counter'. Structs with the 'key' ability must have "
        "'id: sui::object::UID' as their first field"
    )


def test_an_object_without_fields_is_refused_at_its_name() -> None:
    m = ModuleBuilder("m")
    m.struct("Empty", K, [], line=7)
    only(check(m), "Sui E02007", at(7, 15))


def test_an_id_field_of_another_type_is_refused_naming_the_type() -> None:
    m = ModuleBuilder("m")
    m.struct("Thing", K, [("id", ID)], line=2)
    d = only(check(m), "Sui E02007", at(3, 5))
    assert d.message.endswith("But found type: 'sui::object::ID'")


def test_a_non_object_struct_needs_no_id() -> None:
    m = ModuleBuilder("m")
    m.struct("Point", C | D, [("x", U64)])
    assert check(m) == []


# -- private transfers and events ---------------------------------------------------------------


@pytest.mark.parametrize("fn", ["transfer", "share_object", "freeze_object"])
def test_private_transfer_of_the_modules_own_object_is_accepted(fn: str) -> None:
    m = ModuleBuilder("m")
    obj = m.struct("Obj", K, [("id", UID)])
    args = [local(0, obj), local(1, ADDRESS)] if fn == "transfer" else [local(0, obj)]
    m.function("f", [("o", obj), ("to", ADDRESS)], body=[call(transfer_fn(fn), [obj], args, line=5)])
    assert check(m) == []


@pytest.mark.parametrize("fn", ["transfer", "share_object", "freeze_object", "receive"])
def test_private_transfer_of_another_modules_object_is_refused_at_the_call(fn: str) -> None:
    other = ModuleBuilder("other")
    thing = other.struct("Thing", K, [("id", UID)])
    m = ModuleBuilder("m")
    m.function("f", [("o", thing)], body=[call(transfer_fn(fn), [thing], [local(0, thing)], line=9, col=9)])
    d = only(check(other, m), "Sui E02009", at(9, 9))
    assert d.message == (
        f"invalid private transfer call: Invalid private transfer. The function 'sui::transfer::{fn}' is "
        "restricted to being called in the object's module, '0x0::other'. The type '0x0::other::Thing' is not "
        "declared in the current module"
    )


def test_private_transfer_of_a_store_object_suggests_the_public_form() -> None:
    other = ModuleBuilder("other")
    thing = other.struct("Thing", K | S, [("id", UID)])
    m = ModuleBuilder("m")
    m.function("f", [("o", thing)], body=[call(transfer_fn("transfer"), [thing], line=4)])
    d = only(check(other, m), "Sui E02009", at(4, 9))
    assert d.message.endswith(
        "The object has 'store' so 'sui::transfer::public_transfer' can be called instead"
    )


def test_public_transfer_of_another_modules_object_is_accepted() -> None:
    other = ModuleBuilder("other")
    thing = other.struct("Thing", K | S, [("id", UID)])
    m = ModuleBuilder("m")
    m.function("f", [("o", thing)], body=[call(transfer_fn("public_transfer"), [thing], line=4)])
    assert check(other, m) == []


def test_the_transfer_rule_is_found_inside_nested_expressions() -> None:
    other = ModuleBuilder("other")
    thing = other.struct("Thing", K, [("id", UID)])
    m = ModuleBuilder("m")
    inner = call(transfer_fn("freeze_object"), [thing], line=12, col=13)
    branch = ir.IfElse(UNIT, at(11, 9), ir.Const(BOOL, at(11, 13), True), inner)
    m.function("f", body=[ir.While(UNIT, at(10, 5), ir.Const(BOOL, at(10, 12), False), branch)])
    only(check(other, m), "Sui E02009", at(12, 13))


def test_an_event_of_the_modules_own_type_is_accepted() -> None:
    m = ModuleBuilder("m")
    ev = m.struct("Moved", C | D, [("by", ADDRESS)])
    m.function("f", body=[call(EMIT, [ev], [pack(ev, line=3)], line=3)])
    assert check(m) == []


@pytest.mark.parametrize("make", ["other", "u64"])
def test_an_event_of_another_type_is_refused_at_the_call(make: str) -> None:
    other = ModuleBuilder("other")
    theirs = other.struct("Moved", C | D, [("by", ADDRESS)])
    ty = theirs if make == "other" else U64
    m = ModuleBuilder("m")
    m.function("f", body=[call(EMIT, [ty], line=6, col=5)])
    d = only(check(other, m), "Sui E02008", at(6, 5))
    assert "must be called with a type defined in the current module" in d.message


# -- entry functions ----------------------------------------------------------------------------


def test_entry_parameters_of_every_allowed_kind_are_accepted() -> None:
    m = ModuleBuilder("m")
    obj = m.struct("Obj", K | S, [("id", UID)])
    params: list[tuple[str, Type]] = [
        ("a", U64),
        ("b", VectorType(U8)),
        ("c", VectorType(VectorType(U64))),
        ("d", STRING),
        ("e", ID),
        ("f", option_of(ADDRESS)),
        ("g", RefType(False, obj)),
        ("h", RefType(True, obj)),
        ("i", obj),
        ("j", VectorType(obj)),
        ("k", RefType(False, CLOCK)),
        ("l", receiving_of(obj)),
        ("ctx", MUT_CTX),
    ]
    m.function("go", params, entry=True)
    assert check(m) == []


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("plain", "'entry' parameters must be primitives (by-value), vectors of primitives, objects"),
        ("clock", "sui::clock::Clock must be passed by immutable reference, e.g. '&sui::clock::Clock'"),
        ("ctx_first", "'entry' parameters must be primitives"),
        ("option_of_struct", "'entry' parameters must be primitives"),
    ],
)
def test_a_bad_entry_parameter_is_refused_at_the_parameter(name: str, reason: str) -> None:
    m = ModuleBuilder("m")
    point = m.struct("Point", C | D, [("x", U64)])
    kinds: dict[str, Type] = {
        "plain": point,
        "clock": RefType(True, CLOCK),
        "ctx_first": RefType(False, TX_CONTEXT),
        "option_of_struct": option_of(point),
    }
    ty = kinds[name]
    m.function("go", [("p", ty), ("n", U64)], entry=True, line=8)
    d = only(check(m), "Sui E02002", at(8, 20))
    assert d.message.startswith(
        "invalid 'entry' function signature: Invalid 'entry' parameter type for parameter 'p'"
    )
    assert reason in d.message


def test_entry_results_need_drop_and_no_reference() -> None:
    m = ModuleBuilder("m")
    obj = m.struct("Obj", K | S, [("id", UID)])
    m.function("ok", [], [U64], entry=True, line=3)
    m.function("by_ref", [("o", RefType(False, obj))], [RefType(False, U64)], entry=True, line=5)
    m.function("no_drop", [], [obj], entry=True, line=7)
    found = check(m)
    assert [(d.loc, d.code) for d in found] == [(at(5, 12), "Sui E02002"), (at(7, 12), "Sui E02002")]
    assert found[0].message.endswith(
        "Invalid return type for entry function 'by_ref'. Expected a non-reference type"
    )
    assert found[1].message.endswith("The type '0x0::m::Obj' does not have the ability 'drop'")


def test_non_entry_functions_may_take_anything() -> None:
    m = ModuleBuilder("m")
    point = m.struct("Point", C | D, [("x", U64)])
    m.function("helper", [("p", point), ("c", RefType(True, CLOCK))], [RefType(False, U64)])
    assert check(m) == []


# -- init and one-time witnesses ----------------------------------------------------------------


def test_a_private_init_taking_the_context_is_accepted() -> None:
    m = ModuleBuilder("m")
    m.function("init", [("ctx", MUT_CTX)], visibility=ir.Visibility.PRIVATE)
    assert check(m) == []


def test_init_with_its_one_time_witness_is_accepted() -> None:
    m = ModuleBuilder("coin")
    otw = m.struct("COIN", D)
    m.function("init", [("witness", otw), ("ctx", MUT_CTX)], visibility=ir.Visibility.PRIVATE)
    assert check(m) == []


@pytest.mark.parametrize(
    ("kwargs", "detail"),
    [
        ({"visibility": ir.Visibility.PUBLIC}, "'init' functions must be internal to their module"),
        (
            {"visibility": ir.Visibility.PRIVATE, "entry": True},
            "'init' functions cannot be 'entry' functions",
        ),
        (
            {"visibility": ir.Visibility.PRIVATE, "type_params": [param("T")]},
            "'init' functions cannot have type parameters",
        ),
        (
            {"visibility": ir.Visibility.PRIVATE, "returns": [U64]},
            "'init' functions must have a return type of '()'",
        ),
    ],
)
def test_a_bad_init_declaration_is_refused_at_its_name(kwargs: dict[str, object], detail: str) -> None:
    m = ModuleBuilder("m")
    m.function("init", [("ctx", MUT_CTX)], line=4, **kwargs)  # type: ignore[arg-type]
    d = only(check(m), "Sui E02003", at(4, 12))
    assert d.message == f"invalid 'init' function: Invalid 'init' function declaration. {detail}"


def test_init_without_the_context_last_is_refused_at_the_last_parameter() -> None:
    m = ModuleBuilder("m")
    m.function("init", [("n", U64)], visibility=ir.Visibility.PRIVATE, line=4)
    d = only(check(m), "Sui E02003", at(4, 20))
    assert "must have their last parameter as '&sui::tx_context::TxContext'" in d.message


def test_init_with_three_parameters_is_refused_at_the_third() -> None:
    m = ModuleBuilder("m")
    otw = m.struct("M", D)
    params: list[tuple[str, Type]] = [("w", otw), ("n", U64), ("ctx", MUT_CTX)]
    m.function("init", params, visibility=ir.Visibility.PRIVATE, line=4)
    d = only(check(m), "Sui E02003", at(4, 40))
    assert d.message.endswith("'init' functions can have at most two parameters")


def test_init_whose_first_parameter_is_not_the_witness_is_refused() -> None:
    m = ModuleBuilder("m")
    m.function("init", [("n", U64), ("ctx", MUT_CTX)], visibility=ir.Visibility.PRIVATE, line=4)
    d = only(check(m), "Sui E02003", at(4, 20))
    assert "Invalid parameter 'n' of type 'u64'. Expected a one-time witness type, '0x0::m::M'" in d.message


def test_init_ignoring_a_declared_witness_is_refused() -> None:
    m = ModuleBuilder("m")
    m.struct("M", D)
    m.function("init", [("ctx", MUT_CTX)], visibility=ir.Visibility.PRIVATE, line=4)
    d = only(check(m), "Sui E02003", at(4, 20))
    assert "Expected this module's one-time witness type '0x0::m::M'" in d.message


@pytest.mark.parametrize(
    ("abilities", "fields", "tps", "loc", "detail"),
    [
        (C | D, [], [], at(1, 15), "One-time witness types can only have the have the 'drop' ability"),
        (D, [], [param("T")], at(1, 15), "One-time witness types cannot have type parameters"),
        (
            D,
            [("x", U64)],
            [],
            at(2, 5),
            "One-time witness types must have no fields, or exactly one field of type bool",
        ),
        (D, [("a", BOOL), ("b", BOOL)], [], at(3, 5), "Found more than one field."),
    ],
)
def test_a_bad_one_time_witness_used_by_init_is_refused_at_the_declaration(
    abilities: Ability, fields: list[tuple[str, Type]], tps: list[ir.TypeParamDecl], loc: Loc, detail: str
) -> None:
    m = ModuleBuilder("m")
    otw = m.struct("M", abilities, fields, type_params=tps, line=1)
    m.function("init", [("w", otw), ("ctx", MUT_CTX)], visibility=ir.Visibility.PRIVATE, line=6)
    d = only(check(m), "Sui E02004", loc)
    assert detail in d.message
    # Sui checks a well-formed-looking witness when it reads the module, before any usage;
    # one with bad fields only when `init` uses it, and then it names the usage too.
    assert d.message.endswith(f"Attempted usage as a one-time witness here: {at(6, 20)}") == bool(fields)


def test_a_struct_named_like_the_module_with_other_fields_is_not_a_witness() -> None:
    m = ModuleBuilder("m")
    m.struct("M", C | D, [("x", U64)])
    assert check(m) == []


def test_a_one_time_witness_with_one_bool_field_is_accepted() -> None:
    m = ModuleBuilder("m")
    otw = m.struct("M", D, [("dummy_field", BOOL)])
    m.function("init", [("w", otw), ("ctx", MUT_CTX)], visibility=ir.Visibility.PRIVATE)
    assert check(m) == []


def test_packing_the_one_time_witness_is_refused_at_the_pack() -> None:
    m = ModuleBuilder("m")
    otw = m.struct("M", D)
    m.function("forge", [], [otw], body=[pack(otw, line=9, col=13)])
    d = only(check(m), "Sui E02005", at(9, 13))
    assert "One-time witness types cannot be created manually" in d.message


def test_packing_an_ordinary_struct_is_accepted() -> None:
    m = ModuleBuilder("m")
    w = m.struct("Witness", D)
    m.function("make", [], [w], body=[pack(w, line=9)])
    assert check(m) == []


def test_calling_init_is_refused_at_the_call() -> None:
    m = ModuleBuilder("m")
    init = m.function("init", [("ctx", MUT_CTX)], visibility=ir.Visibility.PRIVATE)
    m.function("again", [("ctx", MUT_CTX)], body=[call(init, [], [local(0, MUT_CTX)], line=12, col=5)])
    d = only(check(m), "Sui E02006", at(12, 5))
    assert d.message == (
        "invalid 'init' call: Invalid call to '0x0::m::init'. Module initializers cannot be called directly"
    )


# -- reporting ----------------------------------------------------------------------------------


def test_verify_raises_with_located_rendered_errors_in_source_order() -> None:
    m = ModuleBuilder("m")
    m.struct("B", K, [("x", U64)], line=3)
    m.struct("A", K, [], line=1)
    source = "public struct A has key {}\n\npublic struct B has key {\n    x: u64,\n}\n"
    with pytest.raises(CompileError) as info:
        sui_rules.verify_package(package(m.build()), [FRAMEWORK], {FILE: source})
    rendered = str(info.value).split("\n")
    assert rendered[0] == f"{FILE}:1:15: error[Sui E02007]: " + info.value.diagnostics[0].message
    assert rendered[1] == "    public struct A has key {}"
    assert rendered[2] == "    " + " " * 14 + "^"
    assert rendered[3].startswith(f"{FILE}:4:5: error[Sui E02007]")
    assert rendered[4] == "        x: u64,"


# -- fresh ids --------------------------------------------------------------------------------


NEW = ir.FunctionRef(ModuleId(address_of(2), "object"), "new")


def new_uid(line: int) -> ir.Call:
    return ir.Call(UID, at(line, 20), NEW, [], [ir.Move(MUT_CTX, at(line, 32), 0)])


def assign(target: int, value: ir.Expr, line: int) -> ir.Assign:
    return ir.Assign(UNIT, at(line, 9), [target], value)


def object_module(*body: ir.Expr, extra: list[tuple[str, Type]] | None = None) -> ModuleBuilder:
    m = ModuleBuilder("m")
    m.struct("Obj", K, [("id", UID)])
    params = [("ctx", MUT_CTX), *(extra or [])]
    m.function("make", params, body=list(body), line=1)
    return m


def obj_of(m: ModuleBuilder) -> StructType:
    return m.type("Obj")


def test_an_object_packed_with_a_new_uid_is_accepted() -> None:
    m = object_module()
    obj = obj_of(m)
    direct = pack(obj, [new_uid(3)], line=3)
    via_local = ir.Block(
        UNIT, at(4, 5), [assign(1, new_uid(4), 4), pack(obj, [ir.Move(UID, at(5, 20), 1)], line=5)]
    )
    m = object_module(direct, via_local, extra=[("id", UID)])
    assert check(m) == []


def test_an_object_packed_with_a_uid_from_a_parameter_is_refused_at_the_pack() -> None:
    m = object_module()
    bad = pack(obj_of(m), [ir.Move(UID, at(3, 20), 1)], line=3, col=9)
    d = only(check(object_module(bad, extra=[("id", UID)])), "Sui E01001", at(3, 9))
    assert d.message == (
        "invalid object construction: Invalid object creation without a newly created UID. "
        "The UID must come directly from sui::object::new"
    )


def test_a_uid_taken_out_of_another_object_is_refused() -> None:
    m = object_module()
    obj = obj_of(m)
    unpack = ir.Unpack(UNIT, at(3, 9), obj, ir.Move(obj, at(3, 30), 1), [2])
    repack = pack(obj, [ir.Move(UID, at(4, 20), 2)], line=4, col=9)
    only(check(object_module(unpack, repack, extra=[("old", obj)])), "Sui E01001", at(4, 9))


def test_a_uid_fresh_on_every_path_that_continues_is_accepted() -> None:
    m = object_module()
    obj = obj_of(m)
    cond = ir.Const(BOOL, at(3, 13), True)
    branch = ir.IfElse(
        UNIT, at(3, 9), cond, assign(1, new_uid(3), 3), ir.Abort(UNIT, at(4, 9), ir.Const(U64, at(4, 15), 7))
    )
    use = pack(obj, [ir.Move(UID, at(5, 20), 1)], line=5)
    assert check(object_module(branch, use, extra=[("id", UID)])) == []


def test_a_uid_fresh_on_only_one_path_is_refused() -> None:
    m = object_module()
    obj = obj_of(m)
    cond = ir.Const(BOOL, at(3, 13), True)
    branch = ir.IfElse(
        UNIT, at(3, 9), cond, assign(1, new_uid(3), 3), assign(1, ir.Move(UID, at(4, 20), 2), 4)
    )
    use = pack(obj, [ir.Move(UID, at(5, 20), 1)], line=5, col=9)
    only(check(object_module(branch, use, extra=[("id", UID), ("other", UID)])), "Sui E01001", at(5, 9))


def test_a_uid_made_stale_by_a_later_iteration_is_refused_once() -> None:
    m = object_module()
    obj = obj_of(m)
    before = assign(1, new_uid(2), 2)
    body = ir.Block(
        UNIT,
        at(4, 9),
        [pack(obj, [ir.Move(UID, at(4, 20), 1)], line=4, col=13), assign(1, ir.Move(UID, at(5, 20), 2), 5)],
    )
    loop = ir.While(UNIT, at(3, 5), ir.Const(BOOL, at(3, 12), True), body)
    only(check(object_module(before, loop, extra=[("id", UID), ("other", UID)])), "Sui E01001", at(4, 13))


def test_a_uid_made_fresh_inside_each_iteration_is_accepted() -> None:
    m = object_module()
    obj = obj_of(m)
    body = ir.Block(
        UNIT, at(4, 9), [assign(1, new_uid(4), 4), pack(obj, [ir.Move(UID, at(5, 20), 1)], line=5)]
    )
    loop = ir.Loop(UNIT, at(3, 5), body)
    assert check(object_module(loop, extra=[("id", UID)])) == []


# -- from Move source, through the front end ------------------------------------------------------

SOURCE_OK = """module a::shop;

public struct SHOP has drop {}

public struct Item has key, store {
    id: UID,
    price: u64,
}

public struct Sold has copy, drop {
    item: ID,
}

fun init(_otw: SHOP, ctx: &mut TxContext) {
    transfer::transfer(Item { id: object::new(ctx), price: 1 }, ctx.sender());
}

public entry fun sell(item: Item, to: address) {
    sui::event::emit(Sold { item: object::id(&item) });
    transfer::public_transfer(item, to);
}
"""

SOURCE_BAD = """module a::bad;

use a::shop::Item;

public struct Loose has key {
    value: u64,
}

public struct Note has copy, drop {
    n: u64,
}

public entry fun steal(item: Item, note: Note, ctx: &mut TxContext) {
    transfer::transfer(item, ctx.sender());
    sui::event::emit(note.n);
}

public fun rebuild(id: UID): Loose2 {
    Loose2 { id, value: 0 }
}

public struct Loose2 has key {
    id: UID,
    value: u64,
}
"""


def compile_source(*texts: str) -> tuple[ir.Package, dict[str, str]]:
    from move import framework
    from move.compiler import compile_package

    sources = {f"sources/m{i}.move": t for i, t in enumerate(texts)}
    pkg = compile_package(sources=sources, deps=framework.framework(), named_addresses={"a": address_of(0xA)})
    return pkg, sources


def test_a_sui_package_from_source_keeps_the_rules() -> None:
    from move import framework

    pkg, sources = compile_source(SOURCE_OK)
    assert sui_rules.check_package(pkg, framework.framework(), sources) == []


def test_rules_broken_in_source_are_reported_at_their_place_with_the_line() -> None:
    from move import framework

    pkg, sources = compile_source(SOURCE_OK, SOURCE_BAD)
    found = sui_rules.check_package(pkg, framework.framework(), sources, {"a": address_of(0xA)})
    where = [(d.code, d.loc.file, d.loc.line, d.line_text.strip()) for d in found]
    assert where == [
        ("Sui E02007", "sources/m1.move", 6, "value: u64,"),
        (
            "Sui E02002",
            "sources/m1.move",
            13,
            "public entry fun steal(item: Item, note: Note, ctx: &mut TxContext) {",
        ),
        ("Sui E02009", "sources/m1.move", 14, "transfer::transfer(item, ctx.sender());"),
        ("Sui E02008", "sources/m1.move", 15, "sui::event::emit(note.n);"),
        ("Sui E01001", "sources/m1.move", 19, "Loose2 { id, value: 0 }"),
    ], [d.render() for d in found]
    assert "parameter 'note'" in found[1].message
    assert "'a::shop'" in found[2].message and "The type 'a::shop::Item'" in found[2].message
    assert "public_transfer" in found[2].message


@pytest.mark.parametrize(
    "fn", ["public_transfer(o, @0x1)", "public_share_object(o)", "public_freeze_object(o)"]
)
def test_the_public_forms_need_key_and_store_which_the_type_checker_enforces(fn: str) -> None:
    source = f"module a::m;\npublic struct Obj has key {{ id: UID }}\npublic fun f(o: Obj) {{\n    transfer::{fn};\n}}\n"
    with pytest.raises(CompileError) as info:
        compile_source(source)
    (d,) = info.value.diagnostics
    assert (d.code, d.loc.line) == ("E05001", 4)
    assert "(store, key)" in d.message


def test_object_fields_need_store_which_the_type_checker_enforces_conditionally() -> None:
    source = (
        "module a::m;\npublic struct Hot has drop { x: u64 }\n"
        "public struct Holder has key { id: UID, hot: Hot }\n"
        "public struct Box<T> has key { id: UID, v: T }\n"
    )
    with pytest.raises(CompileError) as info:
        compile_source(source)
    (d,) = info.value.diagnostics
    assert (d.code, d.loc.line) == ("E05001", 3)  # `Box<T>` is fine: it has key only when T has store


def test_a_uid_fresh_inside_a_tuple_binding_is_accepted() -> None:
    m = object_module()
    obj = obj_of(m)
    both = ir.Tuple(UNIT, at(2, 20), [new_uid(2), ir.Const(U64, at(2, 40), 0)])
    bind = ir.Assign(UNIT, at(2, 9), [1, 2], both)
    use = pack(obj, [ir.Move(UID, at(3, 20), 1)], line=3)
    assert check(object_module(bind, use, extra=[("id", UID), ("n", U64)])) == []
