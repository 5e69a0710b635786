"""Tokens of Candid text: values, types, .did service files and .test.did suites share them.

Text literals are kept as *bytes*: ``"\\e2\\98\\83"`` is a snowman only once the bytes are
read as UTF-8, and in ``blob "..."`` the same escapes are raw bytes. Positions are
character offsets into the source, so that an error can name line and column.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from vocab.candid.errors import CandidSyntaxError

KEYWORDS = frozenset(
    {
        "null",
        "vec",
        "record",
        "variant",
        "func",
        "service",
        "oneway",
        "query",
        "composite_query",
        "blob",
        "type",
        "import",
        "opt",
        "principal",
        "true",
        "false",
    }
)
"""Words that cannot be used as bare identifiers (they must be quoted as text)."""

MAX_SOURCE_LENGTH = 64 * 1024 * 1024
"""Candid text longer than this is refused before lexing."""

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SPACE = re.compile(r"[ \t\r\n]+")
_HEX_NUMBER = re.compile(
    r"0[xX][0-9a-fA-F][_0-9a-fA-F]*(?P<frac>\.(?:[0-9a-fA-F][_0-9a-fA-F]*)?)?(?P<exp>[pP][+-]?[0-9][_0-9]*)?"
)
_DEC_NUMBER = re.compile(
    r"(?:[0-9][_0-9]*(?P<frac>\.(?:[0-9][_0-9]*)?)?|(?P<lead>\.[0-9][_0-9]*))(?P<exp>[eE][+-]?[0-9][_0-9]*)?"
)
_TEXT_CHUNK = re.compile(r'[^\\"]+')
_PUNCT = {
    "==": "==",
    "!=": "!=",
    "!:": "!:",
    "->": "->",
}
_SINGLE = set("(){};,=:.+-")


@dataclass(frozen=True, slots=True)
class Token:
    """One token. ``kind`` is one of: id, text, nat, float, eof, or the punctuation itself.

    ``value`` is the identifier (str), the literal's bytes, the integer, or the float's
    normalized source text (kept as text so that float32 and float64 can each round it).
    """

    kind: str
    value: object
    pos: int
    end: int


def _unescape_codepoint(source: str, start: int, end: int) -> int:
    digits = source[start:end].replace("_", "")
    if not digits or not all(c in "0123456789abcdefABCDEF" for c in digits):
        raise CandidSyntaxError("malformed \\u{...} escape", start, source)
    if len(digits) > 8:
        raise CandidSyntaxError("\\u{...} escape out of the Unicode range", start, source)
    code = int(digits, 16)
    if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        raise CandidSyntaxError(f"\\u{{{digits}}} is not a Unicode scalar value", start, source)
    return code


_SIMPLE_ESCAPES = {"n": b"\n", "r": b"\r", "t": b"\t", "\\": b"\\", '"': b'"', "'": b"'"}


def _lex_text(source: str, pos: int) -> tuple[bytes, int]:
    """Lex a text literal whose opening quote is at ``pos``; return (bytes, end)."""
    out = bytearray()
    i = pos + 1
    n = len(source)
    while True:
        if i >= n:
            raise CandidSyntaxError("unclosed text literal", pos, source)
        char = source[i]
        if char == '"':
            return bytes(out), i + 1
        if char != "\\":
            match = _TEXT_CHUNK.match(source, i)
            assert match is not None
            try:
                out += match.group().encode("utf-8")
            except UnicodeEncodeError as exc:
                raise CandidSyntaxError("text literal holds a lone surrogate", i, source) from exc
            i = match.end()
            continue
        if i + 1 >= n:
            raise CandidSyntaxError("unclosed text literal", pos, source)
        esc = source[i + 1]
        if esc in _SIMPLE_ESCAPES:
            out += _SIMPLE_ESCAPES[esc]
            i += 2
        elif esc == "u":
            if i + 2 >= n or source[i + 2] != "{":
                raise CandidSyntaxError("expected { after \\u", i, source)
            close = source.find("}", i + 3)
            quote = source.find('"', i + 3)
            if close < 0 or (0 <= quote < close):
                raise CandidSyntaxError("unclosed \\u{...} escape", i, source)
            out += chr(_unescape_codepoint(source, i + 3, close)).encode("utf-8")
            i = close + 1
        elif i + 2 < n and esc in "0123456789abcdefABCDEF" and source[i + 2] in "0123456789abcdefABCDEF":
            out.append(int(source[i + 1 : i + 3], 16))
            i += 3
        else:
            raise CandidSyntaxError(f"unknown escape \\{esc}", i, source)


def tokenize(source: str) -> list[Token]:
    """Split Candid text into tokens, ending with an ``eof`` token."""
    if not isinstance(source, str):
        raise CandidSyntaxError(f"Candid text must be a string, not {type(source).__name__}")
    if len(source) > MAX_SOURCE_LENGTH:
        raise CandidSyntaxError(
            f"Candid text of {len(source)} characters exceeds the limit of {MAX_SOURCE_LENGTH}"
        )
    tokens: list[Token] = []
    append = tokens.append
    i = 0
    n = len(source)
    while i < n:
        char = source[i]
        if char in " \t\r\n":
            i = _SPACE.match(source, i).end()  # type: ignore[union-attr]
            continue
        if char == "/" and source.startswith("//", i):
            newline = source.find("\n", i)
            i = n if newline < 0 else newline + 1
            continue
        if char == "/" and source.startswith("/*", i):
            depth = 0
            j = i
            while True:
                if j >= n:
                    raise CandidSyntaxError("unclosed block comment", i, source)
                if source.startswith("/*", j):
                    depth += 1
                    j += 2
                elif source.startswith("*/", j):
                    depth -= 1
                    j += 2
                    if depth == 0:
                        break
                else:
                    j += 1
            i = j
            continue
        if char == '"':
            data, end = _lex_text(source, i)
            append(Token("text", data, i, end))
            i = end
            continue
        if char.isascii() and (char.isalpha() or char == "_"):
            match = _IDENT.match(source, i)
            assert match is not None
            append(Token("id", match.group(), i, match.end()))
            i = match.end()
            continue
        if (
            char.isdigit()
            and char.isascii()
            or (char == "." and i + 1 < n and source[i + 1].isascii() and source[i + 1].isdigit())
        ):
            i = _lex_number(source, i, append)
            continue
        pair = source[i : i + 2]
        if pair in _PUNCT:
            append(Token(pair, pair, i, i + 2))
            i += 2
            continue
        if char in _SINGLE:
            append(Token(char, char, i, i + 1))
            i += 1
            continue
        raise CandidSyntaxError(f"unexpected character {char!r}", i, source)
    append(Token("eof", None, n, n))
    return tokens


def _lex_number(source: str, i: int, append: Callable[[Token], None]) -> int:
    match = _HEX_NUMBER.match(source, i)
    if match is not None:
        text = match.group()
        if match.group("frac") is not None or match.group("exp") is not None:
            append(Token("float", text.replace("_", ""), i, match.end()))
        else:
            append(Token("nat", int(text[2:].replace("_", ""), 16), i, match.end()))
        return match.end()
    match = _DEC_NUMBER.match(source, i)
    assert match is not None
    text = match.group()
    end = match.end()
    if match.group("frac") is not None or match.group("exp") is not None or match.group("lead"):
        append(Token("float", text.replace("_", ""), i, end))
        return end
    digits = text.replace("_", "")
    if len(digits) > 4000:
        raise CandidSyntaxError(
            f"number literal of {len(digits)} digits is too long (at most 4000; "
            "write larger numbers in hexadecimal)",
            i,
            source,
        )
    append(Token("nat", int(digits), i, end))
    return end


def is_identifier(name: str) -> bool:
    """True if ``name`` can be written bare (an identifier that is not a keyword)."""
    return bool(_IDENT.fullmatch(name)) and name not in KEYWORDS


def _printable(char: str) -> bool:
    if char == " ":
        return True
    category = unicodedata.category(char)
    return category[0] not in "CZ"


_PLAIN_TEXT = re.compile(r'[^"\\\x00-\x1f\x7f-\xa0]*')


def _escape_char(char: str) -> str:
    if char == '"':
        return '\\"'
    if char == "\\":
        return "\\\\"
    if char == "\n":
        return "\\n"
    if char == "\r":
        return "\\r"
    if char == "\t":
        return "\\t"
    if " " <= char < "\x7f" or (char >= "\xa0" and _printable(char)):
        return char
    return f"\\u{{{ord(char):x}}}"


def escape_text(value: str) -> str:
    """Quote a string as a Candid text literal that lexes back to the same string."""
    plain = _PLAIN_TEXT.fullmatch(value)
    if plain is not None and value.isprintable():
        return f'"{value}"'
    return '"' + "".join(map(_escape_char, value)) + '"'


_BYTE_ESCAPES = tuple(
    chr(byte) if 0x20 <= byte < 0x7F and byte not in (0x22, 0x27, 0x5C) else f"\\{byte:02x}"
    for byte in range(256)
)


def escape_bytes(data: bytes) -> str:
    """Quote bytes as a blob literal: printable ASCII as is, the rest as \\xx."""
    return '"' + "".join(map(_BYTE_ESCAPES.__getitem__, data)) + '"'


def quote_name(name: str) -> str:
    """A field or method name as written in Candid: bare if possible, else quoted."""
    return name if is_identifier(name) else escape_text(name)
