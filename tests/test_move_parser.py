"""The Move parser: each construct, Move's operator precedence, and located syntax errors."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from move.source import CompileError
from move.syntax import ast as A
from move.syntax import parse_file


def module(body: str) -> A.ModuleDef:
    (m,) = parse_file("module a::m {\n" + body + "\n}", "m.move").modules
    return m


def body_exp(src: str) -> A.Exp:
    m = module("fun f() { " + src + " }")
    block = m.functions[0].body
    assert block is not None and block.result is not None
    return block.result


def show(e: A.Exp) -> str:
    """A fully parenthesised rendering, to compare precedence."""
    if isinstance(e, A.BinaryExp):
        return f"({show(e.lhs)} {e.op} {show(e.rhs)})"
    if isinstance(e, A.CastExp):
        assert isinstance(e.type, A.NamedType)
        return f"({show(e.operand)} as {e.type.path})"
    if isinstance(e, A.UnaryExp):
        return f"(!{show(e.operand)})"
    if isinstance(e, A.DerefExp):
        return f"(*{show(e.operand)})"
    if isinstance(e, A.BorrowExp):
        return f"(&{'mut ' if e.mutable else ''}{show(e.operand)})"
    if isinstance(e, A.NameExp):
        return str(e.path)
    if isinstance(e, A.NumLit):
        return str(e.value)
    if isinstance(e, A.DotExp):
        return f"{show(e.base)}.{e.field.text}"
    if isinstance(e, A.MethodCallExp):
        return f"{show(e.receiver)}.{e.name.text}({', '.join(show(a) for a in e.args)})"
    if isinstance(e, A.CallExp):
        return f"{e.path}({', '.join(show(a) for a in e.args)})"
    if isinstance(e, A.AssignExp):
        return f"{show(e.lhs)} = {show(e.rhs)}"
    return type(e).__name__


@pytest.mark.parametrize(
    ("src", "expected"),
    [
        ("a + b * c", "(a + (b * c))"),
        ("a - b - c", "((a - b) - c)"),
        ("a || b && c", "(a || (b && c))"),
        ("a == b || c < d", "((a == b) || (c < d))"),
        ("a + b as u64", "((a + b) as u64)"),
        ("x as u64 == y", "((x as u64) == y)"),
        ("a << 2 + 1", "(a << (2 + 1))"),
        ("a | b ^ c & d", "(a | (b ^ (c & d)))"),
        ("!a && b", "((!a) && b)"),
        ("*r + 1", "((*r) + 1)"),
        ("&mut s.f", "(&mut s.f)"),
        ("s.f.g + v.length()", "(s.f.g + v.length())"),
        ("a < b", "(a < b)"),
        ("*x = y + 1", "(*x) = (y + 1)"),
    ],
)
def test_precedence_follows_move(src: str, expected: str) -> None:
    assert show(body_exp(src)) == expected


def test_type_arguments_only_when_touching_the_name() -> None:
    call = body_exp("f<u64>(x)")
    assert isinstance(call, A.CallExp) and call.type_args is not None and len(call.type_args) == 1
    cmp = body_exp("f < g")
    assert isinstance(cmp, A.BinaryExp) and cmp.op == "<"
    nested = body_exp("vector<vector<u8>>[]")
    assert isinstance(nested, A.VectorExp) and isinstance(nested.type_arg, A.NamedType)
    assert str(nested.type_arg.args[0].path) == "u8"  # type: ignore[attr-defined]


def test_both_module_forms_and_uses() -> None:
    src = """module a::m;
use sui::{object, transfer::Self as t};
use std::string::{Self, String as S};
use 0x2::coin;
public use fun to_s as u64.to_s;
fun f() {}
"""
    (m,) = parse_file(src, "m.move").modules
    assert (m.address.text, m.name.text) == ("a", "m")  # type: ignore[union-attr]
    items = [(u.module.text, u.member.text if u.member else None, u.alias.text if u.alias else None)
             for d in m.uses for u in d.items]  # fmt: skip
    assert items == [
        ("object", None, None),
        ("transfer", None, "t"),
        ("string", None, None),
        ("string", "String", "S"),
        ("coin", None, None),
    ]
    assert m.uses[2].items[0].address == 2
    (uf,) = m.use_funs
    assert (str(uf.function), str(uf.type_name), uf.method.text, uf.public) == ("to_s", "u64", "to_s", True)


def test_structs_abilities_before_or_after_and_positional() -> None:
    m = module("""
public struct A has key, store { id: UID, v: u64 }
public struct B<phantom T, U: copy + drop> { u: U } has copy, drop;
public struct C(u64, bool) has drop;
native struct N has copy;
""")
    a, b, c, n = m.structs
    assert [x.text for x in a.abilities] == ["key", "store"] and a.public
    assert [x.text for x in b.abilities] == ["copy", "drop"]
    assert [(p.name.text, p.phantom, [c.text for c in p.constraints]) for p in b.type_params] == [
        ("T", True, []),
        ("U", False, ["copy", "drop"]),
    ]
    assert c.positional and [f.text for f, _ in c.fields] == ["0", "1"]
    assert n.native and not n.fields


def test_function_modifiers() -> None:
    m = module("""
fun a() {}
public fun b() {}
public(package) fun c() {}
public(friend) fun d() {}
entry fun e() {}
public entry fun f() {}
native fun g<T: drop>(x: &T): u64;
#[test] fun skipped() {}
#[test_only] public struct Skipped {}
""")
    assert [(f.name.text, f.visibility, f.entry, f.native) for f in m.functions] == [
        ("a", "private", False, False),
        ("b", "public", False, False),
        ("c", "package", False, False),
        ("d", "friend", False, False),
        ("e", "private", True, False),
        ("f", "public", True, False),
        ("g", "private", False, True),
    ]
    assert m.structs == []


def test_statements_patterns_and_control_flow() -> None:
    m = module("""
fun f(mut x: u64): u64 {
    let S { a, b: mut c, d: _ } = s;
    let (p, q): (u64, bool) = (1, true);
    let mut v = vector[1, 2, 3];
    'outer: loop {
        while (x < 10) { x = x + 1; if (x == 5) continue 'outer else break 'outer }
    };
    if (x > 3) { return 7 } else { abort 1 };
    assert!(x == 10, 3);
    v.push_back(4);
    x
}
""")
    body = m.functions[0].body
    assert body is not None
    first = body.items[0]
    assert isinstance(first, A.LetStmt) and isinstance(first.pattern, A.UnpackPat)
    assert [(n.text, type(p).__name__) for n, p in first.pattern.fields] == [
        ("a", "BindPat"),
        ("b", "BindPat"),
        ("d", "WildPat"),
    ]
    assert first.pattern.fields[1][1].mutable  # type: ignore[attr-defined]
    loop = body.items[3]
    assert isinstance(loop, A.ExpStmt) and isinstance(loop.exp, A.LoopExp) and loop.exp.label == "outer"
    mac = body.items[5]
    assert isinstance(mac, A.ExpStmt) and isinstance(mac.exp, A.CallExp) and mac.exp.macro
    assert isinstance(body.result, A.NameExp)


def test_literals() -> None:
    e = body_exp('(@0x2, @sui, b"hi", x"0a", true, 10u8, ())')
    assert isinstance(e, A.TupleExp)
    kinds = [type(i).__name__ for i in e.items]
    assert kinds == ["AddressLit", "AddressLit", "BytesLit", "BytesLit", "BoolLit", "NumLit", "UnitLit"]
    assert e.items[0].value == 2 and e.items[1].name == "sui"  # type: ignore[attr-defined]
    assert e.items[5].suffix == "u8"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("src", "line", "col", "words"),
    [
        ("module a::m { fun f() { let x = ; } }", 1, 33, "Unexpected ';'. Expected an expression"),
        ("module a::m {\n  fun f() {\n    1 + 2 3\n  }\n}", 3, 11, "Unexpected '3'. Expected ';' or '}'"),
        ("module a::m { struct }", 1, 22, "Expected a struct name"),
        ("module a::m { fun f() { 1 = 2; } }", 1, 25, "Invalid assignment"),
        ("module a::m { public(crate) fun f() {} }", 1, 22, "public(crate)"),
        ("module a::m {", 1, 14, "Unexpected end of file"),
        ("fun f() {}", 1, 1, "Expected 'module'"),
    ],
)
def test_syntax_errors_are_located(src: str, line: int, col: int, words: str) -> None:
    with pytest.raises(CompileError) as info:
        parse_file(src, "bad.move")
    (d,) = info.value.diagnostics
    assert (d.loc.line, d.loc.col) == (line, col), d.render()
    assert words in d.message
    assert d.code in ("E01002", "E01009", "E02016")


def test_deep_nesting_is_refused_not_a_crash() -> None:
    src = "module a::m { fun f() { " + "(" * 5000 + "1" + ")" * 5000 + " } }"
    with pytest.raises(CompileError, match="nests too deeply"):
        parse_file(src)


TOKENS = [
    "module", "a", "::", "m", "{", "}", "(", ")", "fun", "let", "mut", "=", ";", ",", "x", "S",
    "public", "struct", "has", "key", "<", ">", ">>", "&", "&mut", "*", "+", "if", "else", "while",
    "loop", "1", "0x2", "@", "'l", ":", ".", "b\"a\"", "use", "as", "!", "vector", "[", "]", "return",
    "enum", "match", "=>", "|", "||", "..", "_", "$x", "macro", "->", "E::V", "true",
]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=40))
def test_random_token_soup_parses_or_raises_compile_error(words: list[str]) -> None:
    try:
        parse_file("module a::m { " + " ".join(words) + " }")
    except CompileError as e:
        assert e.diagnostics
