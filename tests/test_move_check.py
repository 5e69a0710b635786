"""The Move checker and lowering: each construct's IR, each rule's located error with
Move's code and wording, the Move Book / Sui examples compiling unchanged, and bad input
never escaping as anything but ``CompileError``."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from move import ir
from move.compiler import compile_package
from move.source import CompileError
from move.types import ADDRESS, U8, U64, ModuleId, RefType, StructType, VectorType, address_of
from tests.move_frontend import EXAMPLES, compile_sources, fails, framework, module

VECTOR = ModuleId(address_of(1), "vector")


def body(m: ir.ModuleDecl, name: str) -> ir.Expr:
    f = m.functions[name]
    assert f.body is not None
    return f.body


def nodes(e: ir.Expr) -> list[ir.Expr]:
    from move.check.body import children

    out, stack = [], [e]
    while stack:
        n = stack.pop()
        out.append(n)
        stack.extend(reversed(children(n)))
    return out


def first(e: ir.Expr, kind: type) -> ir.Expr:
    return next(n for n in nodes(e) if isinstance(n, kind))


# -- examples compile unchanged ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["counter", "owned", "generics", "color_object", "first_package"])
def test_examples_compile_unchanged(name: str) -> None:
    pkg = compile_package(EXAMPLES / name, deps=list(framework()))
    assert pkg.modules and all(m.functions for m in pkg.modules)
    assert pkg.dependencies == ["MoveStdlib", "Sui"]


def test_editions_legacy_and_2024() -> None:
    legacy = (EXAMPLES / "first_package" / "sources" / "example.move").read_text()
    with pytest.raises(CompileError) as info:
        compile_package(sources={"example.move": legacy}, deps=list(framework()), name="first_package")
    d = info.value.diagnostics[0]
    assert (d.code, d.loc.line, d.loc.col) == ("E01003", 9, 5)
    assert "Visibility annotations are required on struct declarations" in d.message
    src = "module a::m { struct S has drop {} fun f(): u64 { let x = 1; x = x + 1; x } }"
    pkg = compile_package(
        sources={"m.move": src},
        deps=list(framework()),
        edition="legacy",
        named_addresses={"a": address_of(0xA)},
    )
    assert pkg.modules[0].functions["f"].locals[0].mutable


def test_counter_example_lowers_as_the_ir_says() -> None:
    (m,) = compile_package(EXAMPLES / "counter", deps=list(framework())).modules
    assert m.id == ModuleId(address_of(0), "counter")
    counter = StructType(m.id, "Counter")
    assert [f.name for f in m.structs["Counter"].fields] == ["id", "owner", "value"]
    # counter.value = counter.value + 1: a write through a field borrow of the &mut parameter
    (write,) = body(m, "increment").statements  # type: ignore[attr-defined]
    assert isinstance(write, ir.WriteRef)
    assert isinstance(write.ref, ir.BorrowField) and write.ref.mutable and write.ref.field == 2
    assert write.ref.struct == counter and isinstance(write.ref.ref, ir.Copy)
    add = write.value
    assert isinstance(add, ir.Binary) and add.op is ir.BinOp.ADD and add.ty == U64
    assert isinstance(add.lhs, ir.ReadRef) and isinstance(add.lhs.ref, ir.BorrowField)
    assert isinstance(add.lhs.ref.ref, ir.FreezeRef)  # reading through &mut freezes
    # assert! is if (c) () else abort code, the code evaluated only on failure
    check = body(m, "set_value").statements[0]  # type: ignore[attr-defined]
    assert isinstance(check, ir.IfElse) and isinstance(check.otherwise, ir.Abort)
    assert isinstance(check.then, ir.Block) and not check.then.statements
    sender = first(check.cond, ir.Call)
    assert isinstance(sender, ir.Call) and str(sender.function) == "0x2::tx_context::sender"
    # id.delete(): the method resolves to object::delete in UID's module, the UID moved in
    delete = body(m, "delete").statements[-1]  # type: ignore[attr-defined]
    assert isinstance(delete, ir.Call) and str(delete.function) == "0x2::object::delete"
    assert isinstance(delete.args[0], ir.Move)
    unpack = body(m, "delete").statements[1]  # type: ignore[attr-defined]
    assert isinstance(unpack, ir.Unpack) and unpack.binds[1:] == [None, None]
    assert m.dependencies == sorted(m.dependencies) and ModuleId(address_of(2), "object") in m.dependencies


def test_framework_compiles_and_every_function_is_typed() -> None:
    std, sui = framework()
    assert {m.id.name for m in std.modules} >= {"vector", "option", "string", "ascii"}
    assert {m.id.name for m in sui.modules} >= {"object", "transfer", "tx_context", "event"}
    # a dependency comes before the modules that use it
    seen: set[ModuleId] = set()
    for m in sui.modules:
        assert all(d in seen or d.address != m.id.address for d in m.dependencies)
        seen.add(m.id)


# -- constructs ------------------------------------------------------------------------------------


def test_literal_types_are_inferred_and_default_to_u64() -> None:
    m = module("""
fun f(): u8 { let x: u8 = 1; let y = 2; let z = x + 3; let _w = y; z }
fun g(): u128 { (1 as u128) << 100 }
""")
    f = m.functions["f"]
    assert [(loc.name, loc.type) for loc in f.locals] == [("x", U8), ("y", U64), ("z", U8), ("_w", U64)]
    shift = first(body(m, "g"), ir.Binary)
    assert isinstance(shift, ir.Binary) and shift.rhs.ty == U8  # a shift amount is a u8


def test_generic_calls_infer_type_arguments() -> None:
    m = module("""
public struct Box<T: store> has key, store { id: UID, value: T }
public fun wrap<T: store>(value: T, ctx: &mut TxContext): Box<T> { Box { id: object::new(ctx), value } }
fun use_it(ctx: &mut TxContext): Box<vector<u8>> {
    let o = option::some(5);
    let _ = option::destroy_some(o);
    wrap(b"hi", ctx)
}
""")
    call = [n for n in nodes(body(m, "use_it")) if isinstance(n, ir.Call)]
    some = next(c for c in call if c.function.name == "some")
    assert some.type_args == [U64]
    wrap = next(c for c in call if c.function.name == "wrap")
    assert wrap.type_args == [VectorType(U8)]
    assert m.structs["Box"].type_params[0].constraints.names() == ["store"]


def test_copy_or_move_by_ability_and_explicit_forms() -> None:
    m = module("""
public struct R has key { id: UID }
fun f(x: u64, r: R): (u64, u64, R) { (x, copy x, move r) }
fun g(r: R): R { r }
""")
    t = body(m, "f").result  # type: ignore[attr-defined]
    assert [type(i).__name__ for i in t.items] == ["Copy", "Copy", "Move"]
    assert isinstance(body(m, "g").result, ir.Move)  # type: ignore[attr-defined]


def test_method_calls_borrow_the_receiver_as_the_callee_wants() -> None:
    m = module("""
fun f(ctx: &mut TxContext): u64 {
    let mut v = vector[1, 2];
    v.push_back(3);
    let _a = ctx.sender();
    v.length()
}
""")
    calls = [n for n in nodes(body(m, "f")) if isinstance(n, ir.Call)]
    push = next(c for c in calls if c.function.name == "push_back")
    assert push.function.module == VECTOR and push.type_args == [U64]
    assert isinstance(push.args[0], ir.BorrowLocal) and push.args[0].mutable
    sender = next(c for c in calls if c.function.name == "sender")
    assert isinstance(sender.args[0], ir.FreezeRef)
    length = next(c for c in calls if c.function.name == "length")
    assert isinstance(length.args[0], ir.BorrowLocal) and not length.args[0].mutable


def test_use_fun_aliases_and_field_receivers() -> None:
    m = module("""
public struct Pot has drop { items: vector<u64> }
use fun pot_size as Pot.size;
fun pot_size(p: &Pot): u64 { p.items.length() }
fun f(mut p: Pot): u64 { p.items.push_back(1); p.size() }
""")
    calls = [n for n in nodes(body(m, "f")) if isinstance(n, ir.Call)]
    push = next(c for c in calls if c.function.name == "push_back")
    assert isinstance(push.args[0], ir.BorrowField) and push.args[0].mutable
    size = next(c for c in calls if c.function.name == "pot_size")
    assert isinstance(size.args[0], ir.BorrowLocal)


def test_constants_are_folded() -> None:
    m = module("""
const A: u64 = 2 + 3 * 4;
const B: u64 = A << 2;
const C: vector<u8> = b"hi";
const D: vector<u64> = vector[1, A];
const E: address = @0x2;
const F: bool = A > 10 && !false;
const G: u8 = (300 % 256) as u8;
fun f(): u64 { B }
""")
    values = {name: c.value for name, c in m.constants.items()}
    assert values == {
        "A": 14, "B": 56, "C": b"hi", "D": (1, 14), "E": address_of(2), "F": True, "G": 44,
    }  # fmt: skip
    ret = body(m, "f").result  # type: ignore[attr-defined]
    assert isinstance(ret, ir.Const) and ret.value == 56 and ret.ty == U64


def test_patterns_loops_and_labels() -> None:
    m = module("""
public struct P has drop { a: u64, b: bool }
fun f(p: P): u64 {
    let P { a, b: _ } = p;
    let (mut i, n) = (0, a);
    'outer: loop {
        while (i < n) {
            i = i + 1;
            if (i == 3) continue 'outer;
            if (i > 5) break 'outer;
        };
        break
    };
    i
}
""")
    b = body(m, "f")
    unpack = first(b, ir.Unpack)
    assert isinstance(unpack, ir.Unpack) and unpack.binds[1] is None
    loop = first(b, ir.Loop)
    assert isinstance(loop, ir.Loop) and loop.label == "outer"
    labels = [(type(n).__name__, n.label) for n in nodes(b) if isinstance(n, ir.Break | ir.Continue)]
    assert labels == [("Continue", "outer"), ("Break", "outer"), ("Break", None)]


def test_references_and_casts() -> None:
    m = module("""
public struct S has drop { v: u64 }
fun f(s: &mut S, x: u8): u32 {
    let r = &mut s.v;
    *r = *r + 1;
    let a: address = @a;
    let _ = a;
    (x as u32) + 1
}
""")
    b = body(m, "f")
    write = first(b, ir.WriteRef)
    assert isinstance(write, ir.WriteRef) and isinstance(write.ref, ir.Copy)
    assert m.functions["f"].locals[2].type == RefType(True, U64)
    cast = first(b, ir.Cast)
    assert isinstance(cast, ir.Cast) and cast.operand.ty == U8
    addr = next(n for n in nodes(b) if isinstance(n, ir.Const) and n.ty == ADDRESS)
    assert addr.value == address_of(0xA)  # the named address `a`


def test_modules_of_a_package_are_ordered_and_package_visibility_holds() -> None:
    pkg = compile_sources(
        """module a::x;
public fun call(): u64 { a::y::helper() + y_value() }
use fun a::y::value as u64.y_value_unused;
fun y_value(): u64 { a::y::value(1) }""",
        """module a::y;
public(package) fun helper(): u64 { 1 }
public fun value(v: u64): u64 { v }""",
    )
    assert [m.id.name for m in pkg.modules] == ["y", "x"]
    assert pkg.modules[1].dependencies == [ModuleId(address_of(0xA), "y")]


def test_index_syntax_and_positional_structs() -> None:
    m = module("""
public struct Pair(u64, bool) has copy, drop;
fun f(v: vector<u64>, p: Pair): u64 { let Pair(n, _) = p; v[0] + n + p.0 }
""")
    calls = [n for n in nodes(body(m, "f")) if isinstance(n, ir.Call)]
    assert [c.function.name for c in calls] == ["borrow"]


# -- errors ----------------------------------------------------------------------------------------

# (source body, code, line, column, words in the message). Lines count from the module's
# first line, `module a::m {`, so the body starts on line 2.
ERRORS = [
    # abilities and moves
    (
        "public struct S has key { id: UID, v: u64 }\n"
        "fun f(ctx: &mut TxContext) {\n    let s = S { id: object::new(ctx), v: 1 };\n    assert!(s.v == 1, 0);\n}",
        "E06001",
        5,
        25,
        "The local variable 's' still contains a value. The value does not have the 'drop' ability and must be "
        "consumed before the function returns",
    ),
    (
        "public struct R has key { id: UID }\nfun mk(ctx: &mut TxContext): R { R { id: object::new(ctx) } }\n"
        "fun f(ctx: &mut TxContext) { mk(ctx); }",
        "E06001",
        4,
        30,
        "Cannot ignore values without the 'drop' ability",
    ),
    (
        "public struct R has key { id: UID }\nfun take(r: R) { let R { id } = r; id.delete() }\n"
        "fun f(r: R) { take(r); take(r) }",
        "E06002",
        4,
        29,
        "Invalid usage of previously moved variable 'r'.",
    ),
    (
        "fun f(): u64 { let x: u64; if (true) x = 1; x }",
        "E06002",
        2,
        45,
        "Invalid usage of unassigned variable 'x'.",
    ),
    (
        "public struct R has key { id: UID }\nfun f(r: &R): R { *r }",
        "E05001",
        3,
        19,
        "Dereference requires the 'copy' ability",
    ),
    (
        "public struct Bad has copy { id: UID }",
        "E05001",
        2,
        34,
        "declared with the ability 'copy' so all fields require the ability 'copy'",
    ),
    (
        "public struct NotObj has store { v: u64 }\nfun f(o: NotObj) { transfer::public_transfer(o, @0x1) }",
        "E05001",
        3,
        30,
        "does not have the abilities required by the type parameter 'T'",
    ),
    (
        "public struct R has key { id: UID }\nfun f(a: R, b: R): bool { a == b }",
        "E05001",
        3,
        29,
        "Invalid call of '=='",
    ),
    # types
    ("fun f(): u64 { true }", "E04007", 2, 16, "Expected: 'u64'. Given: 'bool'"),
    ("fun f(x: u8, y: u64): u64 { x + y }", "E04007", 2, 33, "Incompatible arguments to '+'"),
    (
        "fun f() { let _x: u8 = 256; }",
        "E04021",
        2,
        24,
        "Expected a literal of type 'u8', but the value is too large",
    ),
    ("fun f() { let _v = vector[]; }", "E04010", 2, 20, "Could not infer"),
    ("fun f(): u64 { option::some(1, 2); 0 }", "E04017", 2, 16, "too many"),
    ("fun f(b: bool): u64 { b as u64 }", "E04003", 2, 23, "requires an integer type"),
    # names
    ("fun f(): u64 { y }", "E03009", 2, 16, "Unbound variable 'y'"),
    ("fun f(_x: Foo) { }", "E03004", 2, 11, "Unbound type 'Foo' in current scope"),
    ("fun f() { nothere::g() }", "E03002", 2, 11, "Unbound module alias 'nothere'"),
    ("use sui::object::Nope;", "E03003", 2, 18, "Unbound member 'Nope'"),
    ("fun f() { let _ = @nowhere; }", "E03001", 2, 19, "Unbound address 'nowhere'"),
    ("fun f(): u64 { g() }", "E03005", 2, 16, "Unbound function 'g'"),
    # mutability, visibility, references
    (
        "fun f() { let x = 1; x = 2; let _ = x; }",
        "E04024",
        2,
        22,
        "Invalid assignment of immutable variable 'x'",
    ),
    (
        "fun f() { let v = vector[1]; v.push_back(2); }",
        "E04024",
        2,
        30,
        "Invalid mutable borrow of immutable variable 'v'",
    ),
    (
        "fun f(): &u64 { let x = 1; &x }",
        "E07004",
        2,
        28,
        "Invalid return. Local variable 'x' is still being borrowed.",
    ),
    (
        "fun f(): u8 { sui::hex::decode_byte(48) }",
        "E04001",
        2,
        25,
        "Invalid call to internal function '0x2::hex::decode_byte'",
    ),
    (
        "fun f(ctx: &mut TxContext) { let id = object::new(ctx); let o = sui::object::ID { bytes: @0x1 }; "
        "id.delete(); let _ = o; }",
        "E04001",
        2,
        65,
        "All structs can only be constructed in the module in which they are declared",
    ),
    (
        "fun f(id: &UID): &ID { &id.id }",
        "E04001",
        2,
        28,
        "can only be accessed within the module '0x2::object'",
    ),
    # declarations
    ("public struct S<phantom T> { v: T }", "E02013", 2, 33, "Phantom type parameter 'T'"),
    ("public struct S { s: vector<S> }", "E04018", 2, 19, "Structs cannot contain themselves"),
    ("const C: u8 = 255 + 1;", "E08001", 2, 15, "overflow"),
    ("fun f() {}\nfun f() {}", "E02001", 3, 5, "Duplicate module member"),
    ("use sui::object;\nuse sui::transfer as object;", "E02001", 3, 22, "Duplicate module alias 'object'"),
    ("fun f(x: u64) { let _ = option::some(&x); }", "E04004", 2, 25, "Invalid type argument '&u64'"),
    ("fun f() { foo!(1) }", "E03012", 2, 11, "Unbound macro 'foo'"),
    ("fun f() { loop { }; break }", "E04014", 2, 21, "'break' can only be used inside a loop"),
    ("fun f(): u64 { g(1) }\nfun g(a: u64, b: u64): u64 { a + b }", "E04016", 2, 16, "too few"),
    (
        "fun f(): u64 { let _ = option::none<u64, u8>(); 0 }",
        "E03007",
        2,
        32,
        "Expected 1 type argument(s) but got 2",
    ),
    ("fun f(_x: vector<u8, u8>) {}", "E03007", 2, 11, "'vector' takes exactly one type argument"),
    ("fun f(): u64 { let x = (1, 2); 0 }", "E04005", 2, 24, "Expected a single value, found 2 values"),
    ("fun f(x: &mut u64): &u64 { let r = &x; r }", "E04004", 2, 36, "references cannot be nested"),
    ("fun f(r: &u64) { *r = 1; }", "E04006", 2, 18, "Expected a mutable reference, found '&u64'"),
    ("struct S has drop {}", "E01003", 2, 1, "Visibility annotations are required"),
    ("const C: UID = 1;", "E04012", 2, 10, "Unpermitted constant type"),
    ("fun f() { let _x: u8 = 1u64; }", "E04007", 2, 24, "Expected: 'u8'. Given: 'u64'"),
]


@pytest.mark.parametrize(
    ("src", "code", "line", "col", "words"), ERRORS, ids=[e[1] + ":" + e[4][:30] for e in ERRORS]
)
def test_errors_are_located_with_moves_code_and_wording(
    src: str, code: str, line: int, col: int, words: str
) -> None:
    d = fails(src)
    assert (d.code, d.loc.line, d.loc.col) == (code, line, col), d.render()
    assert words in d.message, d.render()
    rendered = d.render().splitlines()
    assert rendered[0].startswith(f"m0.move:{line}:{col}: error[{code}]: ")
    assert rendered[2] == "    " + " " * (col - 1) + "^"


def test_aliases_self_and_member_imports() -> None:
    m = module("""module a::m;
use sui::object::{Self as obj, new as fresh};
use std::option as opt;
public struct O has key { id: UID }
public fun f(ctx: &mut TxContext): O { O { id: fresh(ctx) } }
public fun g(ctx: &mut TxContext): O { O { id: obj::new(ctx) } }
public fun h(ctx: &mut TxContext): O { let _ = opt::some(1); Self::f(ctx) }
""")
    calls = {
        c.function.name for name in ("f", "g", "h") for c in nodes(body(m, name)) if isinstance(c, ir.Call)
    }
    assert calls == {"new", "some", "f"}


def test_several_errors_are_reported_in_source_order() -> None:
    with pytest.raises(CompileError) as info:
        compile_sources("module a::m {\nfun f(): u64 { true }\nfun g(): bool { 1 }\n}")
    assert [(d.code, d.loc.line) for d in info.value.diagnostics] == [("E04007", 2), ("E04007", 3)]


def test_manifest_errors_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(CompileError, match="no Move.toml"):
        compile_package(tmp_path)
    (tmp_path / "Move.toml").write_text('[package]\nname = "p"\n[dependencies]\nX = { git = "https://x" }\n')
    with pytest.raises(CompileError, match="only local dependencies"):
        compile_package(tmp_path)
    (tmp_path / "Move.toml").write_text('[package]\nname = "p"\n[addresses]\np = "0xZZ"\n')
    with pytest.raises(CompileError, match="invalid address '0xZZ'"):
        compile_package(tmp_path)


def test_a_local_dependency_by_path(tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    (lib / "sources").mkdir(parents=True)
    (lib / "Move.toml").write_text('[package]\nname = "lib"\n[addresses]\nlib = "0x5"\n')
    (lib / "sources" / "l.move").write_text("module lib::l; public fun one(): u64 { 1 }")
    from move.compiler import compile_package_tree

    app = tmp_path / "app"
    (app / "sources").mkdir(parents=True)
    (app / "Move.toml").write_text(
        '[package]\nname = "app"\n[dependencies]\nlib = { local = "../lib" }\n[addresses]\napp = "0x0"\n'
    )
    (app / "sources" / "a.move").write_text("module app::a; public fun two(): u64 { lib::l::one() + 1 }")
    pkgs = compile_package_tree(app, framework=list(framework()))
    assert [p.name for p in pkgs] == ["lib", "app"]
    assert pkgs[1].modules[0].dependencies == [ModuleId(address_of(5), "l")]


# -- robustness ------------------------------------------------------------------------------------

SEEDS = [path.read_text() for path in sorted(EXAMPLES.glob("*/sources/*.move"))]


def pieces(src: str) -> list[tuple[str, str, str]]:
    """The tokens of ``src`` as (kind, text, text with the whitespace and comments after it)."""
    from move.syntax.lexer import tokenize

    starts = [0]
    for line in src.split("\n"):
        starts.append(starts[-1] + len(line) + 1)
    toks = tokenize(src)[:-1]
    offsets = [starts[t.loc.line - 1] + t.loc.col - 1 for t in toks]
    ends = [*offsets[1:], len(src)]
    return [(t.kind.name, t.text, src[o:e]) for t, o, e in zip(toks, offsets, ends)]


@settings(max_examples=40, deadline=None)
@given(st.integers(0, len(SEEDS) - 1), st.integers(0, 2**32), st.integers(1, 4))
def test_mutated_sources_compile_or_raise_compile_error(which: int, seed: int, edits: int) -> None:
    """Token edits keeping the layout: deletions, duplications, swaps, and (to reach the
    checker rather than the parser) one name or number replaced by another of the file."""
    toks = [spelled for _, _, spelled in pieces(SEEDS[which])]
    kinds = pieces(SEEDS[which])
    names = [k for k, (kind, _, _) in enumerate(kinds) if kind in ("IDENT", "NUMBER")]
    rng = random.Random(seed)
    for _ in range(edits):
        i = rng.randrange(len(toks))
        action = rng.randrange(6)
        if action == 0:
            del toks[i]
        elif action == 1:
            toks.insert(i, toks[rng.randrange(len(toks))])
        elif action == 2:
            j = rng.randrange(len(toks))
            toks[i], toks[j] = toks[j], toks[i]
        else:
            a, b = rng.choice(names), rng.choice(names)
            if a < len(toks):
                toks[a] = kinds[b][1] + kinds[a][2][len(kinds[a][1]) :]
    try:
        compile_sources("".join(toks))
    except CompileError as e:
        assert e.diagnostics and all(d.render() for d in e.diagnostics)


def test_package_visibility_across_packages() -> None:
    lib = compile_package(
        sources={
            "l.move": "module b::l; public(package) fun inner(): u64 { 1 } public fun outer(): u64 { inner() }",
            "k.move": "module b::k; public fun f(): u64 { b::l::inner() }",
        },
        deps=list(framework()),
        named_addresses={"b": address_of(0xB)},
        name="lib",
    )
    assert [m.id.name for m in lib.modules] == ["l", "k"]
    other = "module a::m; public fun f(): u64 { b::l::outer() + b::l::inner() }"
    with pytest.raises(CompileError) as info:
        compile_sources(other, deps=(*framework(), lib))
    (d,) = info.value.diagnostics
    assert d.code == "E04001" and (d.loc.line, d.loc.col) == (1, 58)
    assert "Invalid call to 'public(package)' visible function '0xb::l::inner'" in d.message


def test_clever_abort_codes_for_error_constants_and_missing_codes() -> None:
    from move.check.body import clever_code

    # the layout the Move Book's "Clever Errors" page gives: tag bit, line, name index, value index
    assert clever_code(7, 1, 0) == 0x8000_0007_0001_0000
    assert clever_code(4, 0xFFFF, 0xFFFF) == 0x8000_0004_FFFF_FFFF
    m = module("""module 0x42::a_module;
const OTHER: u64 = 1;
#[error]
const EIsThree: vector<u8> = b"The value is three";
public fun double_except_three(x: u64): u64 {
    assert!(x != 3, EIsThree);
    x * x * OTHER
}
fun no_code(x: bool) {
    assert!(x);
    if (!x) abort
}""")
    check = body(m, "double_except_three").statements[0]  # type: ignore[attr-defined]
    assert check.otherwise.code.value == 0x8000_0006_0001_0001
    codes = [n.code.value for n in nodes(body(m, "no_code")) if isinstance(n, ir.Abort)]  # type: ignore[attr-defined]
    assert codes == [0x8000_000A_FFFF_FFFF, 0x8000_000B_FFFF_FFFF]


def test_flow_rules_across_branches_and_loops() -> None:
    ok = module("""
public struct R has key { id: UID }
fun consume(r: R) { let R { id } = r; id.delete() }
fun branches(r: R, c: bool) { if (c) consume(r) else consume(r) }
fun early(r: R, c: bool) { if (c) { consume(r); return }; consume(r) }
fun forever(): u64 { loop {} }
fun aborts(r: R): R { if (true) abort 1; r }
""")
    assert set(ok.functions) == {"consume", "branches", "early", "forever", "aborts"}
    moved_in_branch = fails("""
public struct R has key { id: UID }
fun consume(r: R) { let R { id } = r; id.delete() }
fun f(r: R, c: bool) { if (c) consume(r); consume(r) }""")
    assert moved_in_branch.code == "E06002" and (moved_in_branch.loc.line, moved_in_branch.loc.col) == (5, 51)
    with pytest.raises(CompileError) as info:
        module("""
public struct R has key { id: UID }
fun consume(r: R) { let R { id } = r; id.delete() }
fun f(r: R) { let mut i = 0; while (i < 2) { consume(r); i = i + 1 } }""")
    found = [(d.code, d.loc.col, d.message.split(": ", 1)[1][:46]) for d in info.value.diagnostics]
    assert found == [
        (
            "E06001",
            30,
            "The local variable 'r' still contains a value.",
        ),  # not moved when the loop is skipped
        ("E06002", 54, "Invalid usage of previously moved variable 'r'"),  # moved by the previous iteration
    ]
    reassigned = fails("""
public struct R has key { id: UID }
fun f(a: R, b: R): R { let mut x = a; x = b; x }""")
    assert reassigned.code == "E06001" and "must be consumed before being reassigned" in reassigned.message
    one_branch_leak = fails("""
public struct R has key { id: UID }
fun consume(r: R) { let R { id } = r; id.delete() }
fun f(r: R, c: bool) { if (c) consume(r) }""")
    assert one_branch_leak.code == "E06001" and "'r' still contains a value" in one_branch_leak.message


def test_borrows_end_where_the_reference_is_last_used() -> None:
    m = module("""
fun a(): u64 { let mut x = 1; let r = &mut x; *r = 2; let y = x; y }
fun b(): u64 { let x = 1; let r = &x; let s = &x; *r + *s + x }
fun c(): u64 { let mut v = vector[1]; let mut i = 0; while (i < 3) { let r = &mut v; r.push_back(i); i = i + 1; }; v.length() }
fun d(p: &mut vector<u64>): u64 { let r = &mut *p; r.push_back(1); p.length() }
""")
    assert set(m.functions) == {"a", "b", "c", "d"}
    reborrow = m.functions["d"].body.statements[0]  # type: ignore[union-attr]
    assert isinstance(reborrow, ir.Assign) and isinstance(reborrow.value, ir.Copy)  # `&mut *p` is `p` again
    in_loop = fails("""
fun f(): u64 { let mut v = vector[1]; let r = &mut v; let mut i = 0;
    while (i < 3) { let n = v.length(); r.push_back(n); i = i + 1; }; 0 }""")
    assert in_loop.code == "E07001" and "mutably borrowed by 'r'" in in_loop.message


def test_writes_evaluate_the_value_before_the_reference() -> None:
    m = module("""
public struct Cup(u64) has copy, drop;
fun f(v: &mut vector<u64>) { *v.borrow_mut(0) = v.pop_back(); }
fun g(c: &mut Cup) { c.0 = c.0 + 1; }
fun h(): Cup { let c = Cup(7); c }
""")
    (stmt,) = body(m, "f").statements  # type: ignore[attr-defined]
    assert isinstance(stmt, ir.Block)
    assign, write = stmt.statements
    assert (
        isinstance(assign, ir.Assign)
        and isinstance(assign.value, ir.Call)
        and assign.value.function.name == "pop_back"
    )
    assert (
        isinstance(write, ir.WriteRef)
        and isinstance(write.ref, ir.Call)
        and write.ref.function.name == "borrow_mut"
    )
    (simple,) = body(m, "g").statements  # type: ignore[attr-defined]
    assert isinstance(simple, ir.WriteRef) and isinstance(simple.ref, ir.BorrowField)
    pack = first(body(m, "h"), ir.Pack)
    assert isinstance(pack, ir.Pack) and pack.struct.name == "Cup" and pack.fields[0].value == 7  # type: ignore[attr-defined]
