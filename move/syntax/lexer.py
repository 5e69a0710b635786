"""Move source text to tokens, each with its location.

The lexer knows every token of Sui Move 2024: numbers with ``_`` separators and type
suffixes (``10u8``, ``0xFF_u64``), byte strings ``b"..."`` with escapes and ``x"..."``,
``@`` for address literals, labels ``'outer``, comments (``//``, ``///`` doc comments,
nested ``/* */``) and the two-character operators. ``>>`` is one token here; the parser
splits it where a type's ``>`` closes two brackets (``vector<vector<u8>>``).

Numbers keep their suffix but not a type: the checker decides what an unsuffixed
literal is (Move defaults to u64 only when nothing else constrains it).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from move.codes import error
from move.source import CompileError, Loc


class T(enum.Enum):
    """Token kinds."""

    IDENT = "identifier"
    NUMBER = "number"
    BYTES = "byte string"
    LABEL = "label"
    PUNCT = "punctuation"
    EOF = "end of file"


PUNCTUATION = (
    # longest first: the lexer takes the first that matches
    "==>",
    "<==>",
    "&mut",
    "::",
    "==",
    "!=",
    "<=",
    ">=",
    "<<",
    ">>",
    "&&",
    "||",
    "->",
    "=>",
    "..",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "<",
    ">",
    ",",
    ";",
    ":",
    ".",
    "=",
    "+",
    "-",
    "*",
    "/",
    "%",
    "&",
    "|",
    "^",
    "!",
    "@",
    "#",
)
_PUNCT_SORTED = sorted(PUNCTUATION, key=len, reverse=True)

INT_SUFFIXES = ("u8", "u16", "u32", "u64", "u128", "u256")


@dataclass(frozen=True)
class Token:
    """One token. ``text`` is the source spelling; ``value`` the decoded payload
    (the int of a number, the bytes of a byte string, the name of a label).
    ``suffix`` is a number's type suffix (``"u8"``) or ``""``. ``end`` is the column
    just after the token, so the parser can tell ``f<T>`` (adjacent) from ``a < b``."""

    kind: T
    text: str
    loc: Loc
    end: int
    value: object = None
    suffix: str = ""
    doc: str = ""

    def is_(self, text: str) -> bool:
        return self.text == text and self.kind in (T.PUNCT, T.IDENT)


_ESCAPES = {"n": 10, "r": 13, "t": 9, "\\": 92, "0": 0, '"': 34}


def tokenize(source: str, file: str = "<input>") -> list[Token]:
    """All tokens of ``source`` followed by one ``EOF`` token; raises ``CompileError``."""
    tokens: list[Token] = []
    i = 0
    line = 1
    line_start = 0
    n = len(source)
    doc: list[str] = []

    def here(pos: int) -> Loc:
        return Loc(file, line, pos - line_start + 1)

    sources = {file: source}

    def fail(pos: int, code: str, message: str) -> CompileError:
        return error(here(pos), code, message, sources)

    while i < n:
        c = source[i]
        if c == "\n":
            i += 1
            line += 1
            line_start = i
            continue
        if c in " \t\r":
            i += 1
            continue
        if source.startswith("//", i):
            j = source.find("\n", i)
            j = n if j < 0 else j
            if source.startswith("///", i):
                doc.append(source[i + 3 : j].strip())
            i = j
            continue
        if source.startswith("/*", i):
            start, depth, j = i, 1, i + 2
            start_loc = here(i)
            while j < n and depth:
                if source.startswith("/*", j):
                    depth += 1
                    j += 2
                elif source.startswith("*/", j):
                    depth -= 1
                    j += 2
                else:
                    if source[j] == "\n":
                        line += 1
                        line_start = j + 1
                    j += 1
            if depth:
                raise error(start_loc, "E01002", "unclosed block comment", sources)
            del start
            i = j
            continue
        start = i
        loc = here(i)
        if c == '"':
            # a plain "..." is a byte string too (vector<u8>), as the Move Book's samples write
            value, j = _byte_string(source, i, fail, plain=True)
            tokens.append(Token(T.BYTES, source[i:j], loc, loc.col + j - i, value))
            i = j
            doc = []
            continue
        if (
            c == "$"
            and i + 1 < n
            and source[i + 1].isascii()
            and (source[i + 1].isalpha() or source[i + 1] == "_")
        ):
            # a macro's parameter (`$f`, `$T`): an identifier whose name keeps the `$`
            j = i + 2
            while j < n and source[j].isascii() and (source[j].isalnum() or source[j] == "_"):
                j += 1
            tokens.append(Token(T.IDENT, source[i:j], loc, loc.col + j - i))
            doc = []
            i = j
            continue
        if c.isascii() and (c.isalpha() or c == "_"):
            if c in "bx" and i + 1 < n and source[i + 1] == '"':
                value, j = _byte_string(source, i, fail)
                tokens.append(Token(T.BYTES, source[i:j], loc, loc.col + j - i, value))
                i = j
                doc = []
                continue
            j = i + 1
            while j < n and source[j].isascii() and (source[j].isalnum() or source[j] == "_"):
                j += 1
            word = source[i:j]
            tokens.append(Token(T.IDENT, word, loc, loc.col + j - i, doc="\n".join(doc)))
            doc = []
            i = j
            continue
        if c.isdigit():
            j = i
            if source.startswith(("0x", "0X"), i):
                j = i + 2
                while j < n and source[j].isascii() and (source[j].isalnum() or source[j] == "_"):
                    j += 1
                body = source[i + 2 : j]
                digits, suffix = _split_suffix(body, hex_digits=True)
                if not digits or any(ch not in "0123456789abcdefABCDEF_" for ch in digits):
                    raise fail(start, "E01006", f"'{source[i:j]}' is not a hexadecimal number")
                number = int(digits.replace("_", ""), 16)
            else:
                while j < n and source[j].isascii() and (source[j].isalnum() or source[j] == "_"):
                    j += 1
                body = source[i:j]
                digits, suffix = _split_suffix(body, hex_digits=False)
                if not digits or not digits.replace("_", "").isdigit() or digits.startswith("_"):
                    raise fail(start, "E01006", f"'{body}' is not a number")
                number = int(digits.replace("_", ""))
            if digits.endswith("_") or "__" in digits:
                raise fail(start, "E01006", f"'{source[i:j]}' is not a number")
            tokens.append(Token(T.NUMBER, source[i:j], loc, loc.col + j - i, number, suffix))
            i = j
            doc = []
            continue
        if c == "'":
            j = i + 1
            while j < n and source[j].isascii() and (source[j].isalnum() or source[j] == "_"):
                j += 1
            if j == i + 1:
                raise fail(start, "E01002", "expected a label name after '''")
            tokens.append(Token(T.LABEL, source[i:j], loc, loc.col + j - i, source[i + 1 : j]))
            i = j
            continue
        for p in _PUNCT_SORTED:
            if source.startswith(p, i):
                if p == "&mut" and i + 4 < n and (source[i + 4].isalnum() or source[i + 4] == "_"):
                    continue  # `&mutable` is `&` then an identifier
                tokens.append(Token(T.PUNCT, p, loc, loc.col + len(p)))
                i += len(p)
                break
        else:
            shown = c if c.isprintable() else repr(c)
            raise fail(start, "E01001", f"unexpected character '{shown}'")
        if tokens[-1].text != "#":
            doc = []
    tokens.append(Token(T.EOF, "", here(i), here(i).col))
    return tokens


def _split_suffix(body: str, *, hex_digits: bool) -> tuple[str, str]:
    """``"10u8"`` -> ``("10", "u8")``; a hex number's suffix may follow ``_``."""
    for suffix in sorted(INT_SUFFIXES, key=len, reverse=True):
        if body.endswith(suffix):
            digits = body[: -len(suffix)]
            if digits.endswith("_"):
                digits = digits[:-1]
            if not hex_digits or digits:
                return digits, suffix
    return body, ""


def _byte_string(source: str, i: int, fail: object, *, plain: bool = False) -> tuple[bytes, int]:
    """Decode ``b"..."``, ``x"..."`` or (``plain``) ``"..."`` starting at ``i``; returns the
    bytes and the end."""
    assert callable(fail)
    kind = "b" if plain else source[i]
    j = i + 1 if plain else i + 2
    n = len(source)
    out = bytearray()
    if kind == "x":
        k = source.find('"', j)
        if k < 0 or "\n" in source[j:k]:
            raise fail(i, "E01008", "unterminated hex string")
        digits = source[j:k]
        if len(digits) % 2 or any(ch not in "0123456789abcdefABCDEF" for ch in digits):
            raise fail(
                i, "E01008", f'invalid hex string x"{digits}": an even number of hex digits is required'
            )
        return bytes.fromhex(digits), k + 1
    while True:
        if j >= n or source[j] == "\n":
            raise fail(i, "E01007", "unterminated byte string")
        ch = source[j]
        if ch == '"':
            return bytes(out), j + 1
        if ch == "\\":
            if j + 1 >= n:
                raise fail(i, "E01007", "unterminated byte string")
            esc = source[j + 1]
            if esc in _ESCAPES:
                out.append(_ESCAPES[esc])
                j += 2
                continue
            if esc == "x":
                hexd = source[j + 2 : j + 4]
                if len(hexd) != 2 or any(h not in "0123456789abcdefABCDEF" for h in hexd):
                    raise fail(j, "E01007", f"invalid escape '\\x{hexd}' in byte string")
                out.append(int(hexd, 16))
                j += 4
                continue
            raise fail(j, "E01007", f"invalid escape '\\{esc}' in byte string")
        if not ch.isascii() or not (ch.isprintable() or ch == "\t"):
            raise fail(j, "E01007", "a byte string holds only printable ASCII characters (use \\x escapes)")
        out.append(ord(ch))
        j += 1
