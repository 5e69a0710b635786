"""Candid values printed exactly as dfx prints them (``dfx canister call``).

dfx decodes a reply into the Rust ``candid`` crate's ``IDLValue``s and prints them with
that crate's printers, so its text has rules of its own, which scripts written against
dfx compare byte for byte:

- ``pp`` (dfx's default output): ``IDLArgs``' ``Display``, a Wadler-style pretty printer
  (the ``pretty`` crate, 0.12) at width 80: ``(record { a = 1 : nat; b = "x" })`` on one
  line when it fits, else broken with two-space indents and trailing separators.
  Collections of more than 10 elements, blobs and values nested deeper than 10 print in
  the single-line form below.
- ``idl`` (``--output idl``): ``IDLArgs``' ``Debug``, one line, every element of a
  vector or record followed by ``;``: ``(vec { 2 : nat; 3 : nat;})``.

In both, every number carries its type (``1 : nat``, ``-5 : int``, ``3.5 : float64``)
whether or not the interface was known, and digits are grouped by ``_`` except in
``nat8``/``int8`` values; ``null`` is ``null : null`` at type ``null`` but plain ``null``
for an absent ``opt``; an ``opt`` of an annotated value is parenthesised
(``opt (1 : nat)``). Texts are quoted as Rust's ``str::escape_debug`` (``pp``: ``'`` is
escaped too) or ``{:?}`` (``idl``) quote them; blobs print each byte as is when all are
printable ASCII (or tab, LF, CR) and else every byte as ``\\xx``. Floats print as Rust's
``Display`` does: the shortest digits that read back, never an exponent, ``.0`` after a
whole number.

The rules are taken from ``rust/candid/src/pretty/candid.rs`` (module ``value``) and
``pretty``'s renderer; the tests hold known answers from dfx's e2e tests and candid's own.
"""

from __future__ import annotations

import math
import struct
import unicodedata
from collections.abc import Sequence
from typing import Any

from vocab.candid.errors import CandidError
from vocab.candid.limits import retry_with_stack
from vocab.candid.types import (
    Field,
    FuncType,
    OptType,
    PrimType,
    RecordType,
    ServiceType,
    Type,
    VariantType,
    VecType,
    resolve,
)
from vocab.candid.values import Some, Variant
from vocab.principal import Principal

__all__ = ["STYLES", "format_args_dfx"]

STYLES = ("pp", "idl")
"""dfx's two Candid text outputs: ``pp`` (its default) and ``idl`` (``--output idl``)."""

_WIDTH = 80
_INDENT = 2
_MAX_ELEMENTS = 10
"""candid's ``MAX_ELEMENTS_FOR_PRETTY_PRINT``: the longest vector, and the deepest value,
laid out by the pretty printer; beyond it the one-line form is used."""

_KEYWORDS = frozenset(
    {
        *("import", "service", "func", "type", "opt", "vec", "record", "variant", "blob"),
        *("principal", "nat", "nat8", "nat16", "nat32", "nat64", "int", "int8", "int16"),
        *("int32", "int64", "float32", "float64", "bool", "text", "null", "reserved"),
        *("empty", "oneway", "query", "composite_query"),
    }
)
"""candid's ``KEYWORDS``: names that print quoted even though they are identifiers."""
_UNGROUPED = frozenset({"nat8", "int8"})


# -- the value model of the Rust crate -------------------------------------------------------
#
# A decoded value becomes a small tree of tuples close to ``IDLValue``:
#   ("num", text, type_name) ("bool", b) ("null",) ("reserved",) ("none",) ("text", s)
#   ("principal", text) ("service", text) ("func", principal, method) ("blob", bytes)
#   ("opt", v) ("vec", [v...]) ("record", [(id, name|None, v)...]) ("variant", (id, name|None, v))


def variant_case(t: VariantType, value: Any) -> tuple[Field, Any]:
    """The case of ``t`` a variant value is in, and its payload; the value written as a
    ``Variant``, a one-entry ``{tag: payload}``, or a bare tag (a null case)."""
    if isinstance(value, Variant):
        tag, payload = value.tag, value.value
    elif isinstance(value, dict) and len(value) == 1:
        ((tag, payload),) = value.items()
    else:
        tag, payload = value, None
    case = t.field(tag)
    if case is None:
        raise CandidError(f"{tag!r} is not a case of {t}")
    return case, payload


def _value(value: Any, t: Type) -> tuple:
    t = resolve(t)
    if isinstance(t, PrimType):
        return _prim(value, t.name)
    if isinstance(t, OptType):
        if value is None:
            return ("none",)
        return ("opt", _value(value.value if isinstance(value, Some) else value, t.inner))
    if isinstance(t, VecType):
        inner = resolve(t.inner)
        if isinstance(inner, PrimType) and inner.name == "nat8":
            return ("blob", bytes(value))
        return ("vec", [_value(item, inner) for item in value])
    if isinstance(t, RecordType):
        fields = []
        for index, field in enumerate(t.fields):
            item = value.get(field.key, value.get(field.id)) if isinstance(value, dict) else value[index]
            fields.append((field.id, field.name, _value(item, field.type)))
        return ("record", fields)
    if isinstance(t, VariantType):
        case, payload = variant_case(t, value)
        return ("variant", (case.id, case.name, _value(payload, case.type)))
    if isinstance(t, FuncType):
        service, method = value
        return ("func", _principal(service), method)
    if isinstance(t, ServiceType):
        return ("service", _principal(value))
    raise CandidError(f"cannot print a value of {t}")


def _prim(value: Any, name: str) -> tuple:
    if name == "null":
        return ("null",)
    if name == "reserved":
        return ("reserved",)
    if name == "bool":
        return ("bool", bool(value))
    if name == "text":
        return ("text", value)
    if name == "principal":
        return ("principal", _principal(value))
    if name == "float32":
        return ("num", _float_text(value, single=True), name)
    if name == "float64":
        return ("num", _float_text(value, single=False), name)
    if name == "empty":
        raise CandidError("no value has type empty")
    text = str(value)
    return ("num", text if name in _UNGROUPED else _group(text), name)


def _principal(value: Any) -> str:
    return value.to_text() if isinstance(value, Principal) else str(value)


def _group(digits: str) -> str:
    """candid's ``pp_num_str``: ``1_234_567``."""
    sign, digits = ("-", digits[1:]) if digits.startswith("-") else ("", digits)
    head = len(digits) % 3 or 3
    return sign + "_".join([digits[:head], *(digits[i : i + 3] for i in range(head, len(digits), 3))])


def _float_text(value: float, single: bool) -> str:
    """Rust's ``Display`` of an f32/f64, with ``.0`` after a whole number (candid's rule)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    digits = _shortest(value, single)
    text = _plain_decimal(digits)
    if value == math.trunc(value):
        text += ".0"
    return text


def _shortest(value: float, single: bool) -> str:
    if not single:
        return repr(value)
    packed = struct.pack("<f", value)
    for precision in range(1, 18):
        text = f"{value:.{precision}g}"
        if struct.pack("<f", float(text)) == packed:
            return text
    return repr(value)


def _plain_decimal(text: str) -> str:
    """``1e-07`` -> ``0.0000001``, ``1e+20`` -> ``100000000000000000000``, ``-0.0`` -> ``-0``:
    Rust never prints an exponent, nor a fraction of zeros."""
    sign = "-" if text.startswith("-") else ""
    text = text.lstrip("-")
    mantissa, _, exponent = text.partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0")
    point = len(whole) + (int(exponent) if exponent else 0)
    if not digits:
        return sign + "0"
    lead = len(whole + fraction) - len((whole + fraction).lstrip("0"))
    point -= lead
    if point <= 0:
        number = "0." + "0" * (-point) + digits
    elif point >= len(digits):
        number = digits + "0" * (point - len(digits))
    else:
        number = digits[:point] + "." + digits[point:]
    if "." in number:
        number = number.rstrip("0").rstrip(".")
    return sign + number


# -- text escapes, as Rust writes them -------------------------------------------------------

_GRAPHEME_EXTEND_EXTRA = frozenset({"\u200c", "\uff9e", "\uff9f"})


def _grapheme_extend(char: str) -> bool:
    """Unicode's Grapheme_Extend: the nonspacing and enclosing marks, ZWNJ and a few more
    (Python's ``unicodedata`` has categories, not this property: close, not exact)."""
    return unicodedata.category(char) in ("Mn", "Me") or char in _GRAPHEME_EXTEND_EXTRA


def _printable(char: str) -> bool:
    """Rust's ``char::is_printable``: not a control, format, surrogate, private-use or
    unassigned character, nor a separator other than the space."""
    return char == " " or unicodedata.category(char)[0] not in "CZ"


_SIMPLE_ESCAPES = {"\0": "\\0", "\t": "\\t", "\r": "\\r", "\n": "\\n", "\\": "\\\\", '"': '\\"'}


def _escape_char(char: str, single_quote: bool, grapheme: bool) -> str:
    simple = _SIMPLE_ESCAPES.get(char)
    if simple is not None:
        return simple
    if char == "'" and single_quote:
        return "\\'"
    if (grapheme and _grapheme_extend(char)) or not _printable(char):
        return f"\\u{{{ord(char):x}}}"
    return char


def _debug_text(text: str) -> str:
    """Rust's ``{:?}`` of a str."""
    return '"' + "".join(_escape_char(c, False, True) for c in text) + '"'


def _escape_debug_text(text: str) -> str:
    """Rust's ``str::escape_debug``, quoted: ``'`` escaped, marks escaped only first."""
    return '"' + "".join(_escape_char(c, True, i == 0) for i, c in enumerate(text)) + '"'


def _ident(name: str) -> str:
    """candid's ``ident_string``: bare when a valid identifier and not a keyword."""
    valid = (
        bool(name)
        and name.isascii()
        and (name[0].isalpha() or name[0] == "_")
        and all(c.isalnum() or c == "_" for c in name)
    )
    return name if valid and name not in _KEYWORDS else _escape_debug_text(name)


def _blob(data: bytes) -> str:
    if all(0x20 <= b <= 0x7E or b in (0x09, 0x0A, 0x0D) for b in data):
        return 'blob "' + "".join(_blob_char(b) for b in data) + '"'
    return 'blob "' + "".join(f"\\{b:02x}" for b in data) + '"'


def _blob_char(byte: int) -> str:
    if 0x20 <= byte <= 0x7E and byte not in (0x22, 0x27, 0x60, 0x5C):
        return chr(byte)
    return f"\\{byte:02x}"


# -- the one-line form (Debug) ---------------------------------------------------------------

_ANNOTATED = frozenset({"num", "null", "reserved"})


def _debug(v: tuple) -> str:
    kind = v[0]
    if kind == "num":
        return f"{v[1]} : {v[2]}"
    if kind == "bool":
        return "true" if v[1] else "false"
    if kind == "null":
        return "null : null"
    if kind == "reserved":
        return "null : reserved"
    if kind == "none":
        return "null"
    if kind == "text":
        return _debug_text(v[1])
    if kind == "principal":
        return f'principal "{v[1]}"'
    if kind == "service":
        return f'service "{v[1]}"'
    if kind == "func":
        return f'func "{v[1]}".{_ident(v[2])}'
    if kind == "blob":
        return _blob(v[1])
    if kind == "opt":
        inner = _debug(v[1])
        return f"opt ({inner})" if v[1][0] in _ANNOTATED else f"opt {inner}"
    if kind == "vec":
        return "vec {" + "".join(f" {_debug(item)};" for item in v[1]) + "}"
    if kind == "record":
        parts = []
        for index, (field_id, name, item) in enumerate(v[1]):
            if field_id == index:
                parts.append(f" {_debug(item)};")
            else:
                parts.append(f" {_label(field_id, name)} = {_debug(item)};")
        return "record {" + "".join(parts) + "}"
    if kind == "variant":
        field_id, name, item = v[1]
        if item[0] == "null":
            # Label's Display: a name as it is, unquoted.
            return "variant { " + (name if name is not None else _group(str(field_id))) + " }"
        return "variant { " + f"{_label(field_id, name)} = {_debug(item)}" + " }"
    raise CandidError(f"cannot print {kind}")


def _label(field_id: int, name: str | None) -> str:
    return _ident(name) if name is not None else _group(str(field_id))


# -- the pretty form (Display): documents and the renderer of the ``pretty`` crate ---------
#
# Documents: ("text", s) ("alt", when_broken, when_flat) ("nest", doc) ("group", doc)
# ("cat", [docs]). A line break is ("alt", HARD, ("text", " ")): HARD is the hard line.

_HARD: tuple = ("hard",)
_NIL: tuple = ("cat", [])
_LINE: tuple = ("alt", _HARD, ("text", " "))
_LINE_: tuple = ("alt", _HARD, _NIL)


def _text(s: str) -> tuple:
    return ("text", s)


def _cat(*docs: tuple) -> tuple:
    return ("cat", list(docs))


def _kwd(word: str) -> tuple:
    return _cat(_text(word), _text(" "))


def _enclose(left: str, doc: tuple, right: str, line: tuple) -> tuple:
    if doc is _NIL:
        return _text(left + right)
    return ("group", _cat(("nest", _cat(_text(left), line, doc)), line, _text(right)))


def _concat(docs: list[tuple], sep: str) -> tuple:
    """Each item followed by ``sep`` when broken over lines; none after the last on one line."""
    if not docs:
        return _NIL
    parts: list[tuple] = []
    for index, doc in enumerate(docs):
        if index:
            parts += [_text(sep), _LINE]
        parts.append(doc)
    single = ("cat", parts)
    return ("alt", _cat(single, _text(sep)), single)


def _pp(depth: int, v: tuple) -> tuple:
    if depth == 0:
        return _text(_debug(v))
    kind = v[0]
    if kind == "text":
        return _text(_escape_debug_text(v[1]))
    if kind == "opt":
        if v[1][0] in _ANNOTATED:
            return _cat(_kwd("opt"), _enclose("(", _pp(depth - 1, v[1]), ")", _LINE_))
        return _cat(_kwd("opt"), _pp(depth - 1, v[1]))
    if kind == "vec":
        if len(v[1]) > _MAX_ELEMENTS:
            return _text(_debug(v))
        items = [_pp(depth - 1, item) for item in v[1]]
        return _cat(_kwd("vec"), _enclose("{", _concat(items, ";"), "}", _LINE))
    if kind == "record":
        fields = v[1]
        if all(field_id == index for index, (field_id, _name, _item) in enumerate(fields)):
            items = [_pp(depth - 1, item) for _id, _name, item in fields]
        else:
            items = [_field(depth, field, False) for field in fields]
        return _cat(_kwd("record"), _enclose("{", _concat(items, ";"), "}", _LINE))
    if kind == "variant":
        return _cat(_kwd("variant"), _enclose("{", _field(depth, v[1], True), "}", _LINE))
    return _text(_debug(v))


def _field(depth: int, field: tuple, is_variant: bool) -> tuple:
    field_id, name, item = field
    label = _text(_label(field_id, name))
    if is_variant and item[0] == "null":
        return label
    return _cat(label, _kwd(" ="), _pp(depth - 1, item))


_BREAK, _FLAT = 0, 1


def _render(doc: tuple, width: int = _WIDTH) -> str:
    out: list[str] = []
    pos = 0
    stack: list[tuple[int, int, tuple]] = [(0, _BREAK, doc)]
    while stack:
        indent, mode, d = stack.pop()
        kind = d[0]
        if kind == "cat":
            stack.extend((indent, mode, part) for part in reversed(d[1]))
        elif kind == "text":
            out.append(d[1])
            pos += len(d[1].encode())
        elif kind == "alt":
            stack.append((indent, mode, d[1] if mode == _BREAK else d[2]))
        elif kind == "nest":
            stack.append((indent + _INDENT, mode, d[1]))
        elif kind == "group":
            if mode == _BREAK and _fits(d[1], pos, stack, width):
                mode = _FLAT
            stack.append((indent, mode, d[1]))
        else:  # the hard line: indented as what follows it
            following = stack[-1][0] if stack else indent
            out.append("\n" + " " * following)
            pos = following
    return "".join(out)


def _fits(doc: tuple, pos: int, stack: list[tuple[int, int, tuple]], width: int) -> bool:
    """The group ``doc`` on one line, then what follows up to its next possible break."""
    pending = [doc]
    below = len(stack)
    mode = _FLAT
    while True:
        if pending:
            d = pending.pop()
        elif below == 0:
            return True
        else:
            below -= 1
            mode = _BREAK
            d = stack[below][2]
        kind = d[0]
        if kind == "cat":
            pending.extend(reversed(d[1]))
        elif kind == "text":
            pos += len(d[1].encode())
            if pos > width:
                return False
        elif kind == "alt":
            pending.append(d[1] if mode == _BREAK else d[2])
        elif kind in ("nest", "group"):
            pending.append(d[1])
        else:
            return mode == _BREAK


# -- the entry point -------------------------------------------------------------------------


def format_args_dfx(values: Sequence[Any], types: Sequence[Type], style: str = "pp") -> str:
    """Argument values as dfx prints them: ``style`` ``pp`` (its default) or ``idl``."""
    if len(values) != len(types):
        raise CandidError(f"{len(values)} values for {len(types)} types")
    if style not in STYLES:
        raise CandidError(f"unknown dfx output style {style!r} (one of {', '.join(STYLES)})")
    try:
        return retry_with_stack(lambda: _format(values, types, style))
    except RecursionError:
        raise CandidError("the value nests too deeply to print") from None
    except (TypeError, ValueError, KeyError, IndexError, AttributeError) as exc:
        raise CandidError(f"the values do not fit their types: {exc}") from None


def _format(values: Sequence[Any], types: Sequence[Type], style: str) -> str:
    tree = [_value(value, t) for value, t in zip(values, types)]
    if style == "idl":
        if len(tree) == 1:
            return f"({_debug(tree[0])})"
        # Rust's debug_tuple with an empty name: nothing at all for no fields.
        return "(" + ", ".join(map(_debug, tree)) + ")" if tree else ""
    args = _concat([_pp(_MAX_ELEMENTS, v) for v in tree], ",")
    return _render(_enclose("(", args, ")", _LINE_))
