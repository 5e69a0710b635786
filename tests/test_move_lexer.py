"""The Move lexer: every token kind, decoded values, and located errors for bad input."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from move.source import CompileError
from move.syntax.lexer import T, tokenize


def kinds(src: str) -> list[tuple[T, str]]:
    return [(t.kind, t.text) for t in tokenize(src)][:-1]


def test_numbers_with_separators_suffixes_and_hex() -> None:
    toks = tokenize("1_000 10u8 0xFF 0x1_0u64 255u256 0")
    assert [(t.value, t.suffix) for t in toks[:-1]] == [
        (1000, ""),
        (10, "u8"),
        (255, ""),
        (16, "u64"),
        (255, "u256"),
        (0, ""),
    ]


def test_byte_and_hex_strings_decode_escapes() -> None:
    toks = tokenize(r'b"a\n\t\\\"\0\x41" x"00ff" b""')
    assert toks[0].value == b'a\n\t\\"\x00A'
    assert toks[1].value == b"\x00\xff"
    assert toks[2].value == b""
    assert toks[0].kind is T.BYTES
    # a plain "..." is a byte string as well (the Move Book's samples use it)
    assert tokenize('"\\x0a \\\\ haha"')[0].value == b"\n \\ haha"


def test_comments_and_doc_comments() -> None:
    toks = tokenize("/// the doc\n// plain\n/* block /* nested */ still */ fun")
    assert [(t.kind, t.text) for t in toks[:-1]] == [(T.IDENT, "fun")]
    assert toks[0].doc == "the doc"


def test_operators_longest_first_and_labels() -> None:
    assert [t for _, t in kinds("a<=b >> c && &mut x :: -> 'outer: @0x2 == != ..")] == [
        "a", "<=", "b", ">>", "c", "&&", "&mut", "x", "::", "->", "'outer", ":", "@", "0x2",
        "==", "!=", "..",
    ]  # fmt: skip
    assert tokenize("'outer")[0].value == "outer"
    # `&mutable` is a borrow of a variable named `mutable`
    assert [t for _, t in kinds("&mutable")] == ["&", "mutable"]


def test_locations_are_one_based_lines_and_columns() -> None:
    toks = tokenize("module a::m {\n  fun f() {}\n}", "m.move")
    fun = next(t for t in toks if t.text == "fun")
    assert (fun.loc.file, fun.loc.line, fun.loc.col) == ("m.move", 2, 3)


@pytest.mark.parametrize(
    ("src", "code", "col", "words"),
    [
        ("let x = 1 $ 2;", "E01001", 11, "unexpected character '$'"),
        ("x = 12abc;", "E01006", 5, "'12abc' is not a number"),
        ("x = 0xZZ;", "E01006", 5, "not a hexadecimal number"),
        ('x = b"abc', "E01007", 5, "unterminated byte string"),
        ('x = b"\\q";', "E01007", 7, "invalid escape"),
        ('x = x"abc";', "E01008", 5, "even number of hex digits"),
        ("/* never closed", "E01002", 1, "unclosed block comment"),
    ],
)
def test_lexer_errors_are_located(src: str, code: str, col: int, words: str) -> None:
    with pytest.raises(CompileError) as info:
        tokenize(src, "bad.move")
    (d,) = info.value.diagnostics
    assert (d.code, d.loc.line, d.loc.col) == (code, 1, col)
    assert words in d.message
    rendered = d.render()
    assert rendered.startswith(f"bad.move:1:{col}: error[{code}]: ")
    assert rendered.splitlines()[1].strip() == src.strip()
    assert rendered.splitlines()[2] == "    " + " " * (col - 1) + "^"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_any_text_lexes_or_raises_compile_error(src: str) -> None:
    try:
        tokenize(src)
    except CompileError as e:
        assert e.diagnostics
