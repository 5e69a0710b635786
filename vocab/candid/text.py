"""Candid's textual values: reading them at a type, and printing values as text.

A literal means something only at a type: ``(42)`` is a ``nat8`` where one is expected
and an ``int`` where nothing is (the default ``didc`` also uses). Reading follows the
coercion rules a decoder applies to binary values (extra record fields are ignored,
missing optional ones become null, a bare value fills an ``opt``), so that text and
binary inputs mean the same thing at the same type.

Printing is the inverse: values print at their type in a form that reads back to the
same values. Without an expected type (``annotate=True``) numbers carry their type, as in
``(42 : nat)``, because the text alone could not say which number type it was.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from vocab.candid.decoder import decode, decode_with_types
from vocab.candid.encoder import encode
from vocab.candid.errors import CandidError, CandidSyntaxError
from vocab.candid.lexer import escape_bytes, escape_text, quote_name
from vocab.candid.limits import retry_with_stack
from vocab.candid.parser import (
    Parser,
    TAnnotated,
    TBlob,
    TBool,
    TextValue,
    TFunc,
    TNull,
    TNumber,
    TOpt,
    TPrincipal,
    TRecord,
    TService,
    TText,
    TVariant,
    TVec,
    argument_types,
    scope_of,
)
from vocab.candid.pretty import format_args_dfx
from vocab.candid.subtype import SubtypeChecker
from vocab.candid.types import (
    BLOB,
    BOOL,
    EMPTY,
    FLOAT64,
    INT,
    INT_RANGES,
    NULL,
    PRINCIPAL,
    TEXT,
    Field,
    FuncType,
    OptType,
    PrimType,
    RecordType,
    ServiceType,
    Type,
    VariantType,
    VecType,
    is_null_like,
    resolve,
)
from vocab.candid.values import FuncRef, Some, Variant, float32
from vocab.principal import Principal

__all__ = [
    "parse_value_text",
    "encode_text",
    "decode_to_text",
    "format_value",
    "format_args",
]

# -- reading text at a type -------------------------------------------------------------


class _Reader:
    """Gives a parsed text value its meaning at a type."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.checker = SubtypeChecker()

    def fail(self, node: TextValue | None, message: str) -> CandidSyntaxError:
        return CandidSyntaxError(message, node.pos if node else None, self.source)

    def read(self, node: TextValue, t: Type) -> Any:
        if isinstance(node, TAnnotated):
            if not self.checker.is_subtype(node.type, t):
                raise self.fail(node, f"the annotation {node.type} does not fit the type {t}")
            value = self.read(node.value, node.type)
            if node.type is t or resolve(node.type) == resolve(t):
                return value
            # A value of the annotated type takes the expected type's form the way a
            # decoder would give it: through the binary coercion rules.
            try:
                return decode(encode([value], [node.type]), [t])[0]
            except CandidError as exc:
                raise self.fail(node, f"the value does not fit the type {t}: {exc}") from None
        t = resolve(t)
        if isinstance(t, PrimType):
            return self._prim(node, t)
        if isinstance(t, OptType):
            if isinstance(node, TNull):
                return None
            if isinstance(node, TOpt):
                return Some(self.read(node.value, t.inner))
            if is_null_like(t.inner):
                raise self.fail(node, f"write opt ... or null for a value of {t}")
            return Some(self.read(node, t.inner))
        if isinstance(t, VecType):
            return self._vec(node, t)
        if isinstance(t, RecordType):
            return self._record(node, t)
        if isinstance(t, VariantType):
            if not isinstance(node, TVariant):
                raise self.fail(node, f"expected a variant value of {t}")
            field = node.field
            case = next((f for f in t.fields if f.id == field.id), None)
            if case is None:
                label = field.name if field.name is not None else field.id
                raise self.fail(node, f"{label!r} is not a case of {t}")
            return Variant(case.key, self.read(field.value, case.type))
        if isinstance(t, FuncType):
            if not isinstance(node, TFunc):
                raise self.fail(node, f'expected a function reference (func "...".m) of {t}')
            return FuncRef(node.principal, node.method)
        if isinstance(t, ServiceType):
            if not isinstance(node, TService):
                raise self.fail(node, f'expected a service reference (service "...") of {t}')
            return node.principal
        raise self.fail(node, f"cannot read a value at {t}")

    def _prim(self, node: TextValue, t: PrimType) -> Any:
        name = t.name
        if name == "reserved":
            return None
        if name == "null":
            if isinstance(node, TNull):
                return None
            raise self.fail(node, "expected null")
        if name == "bool":
            if isinstance(node, TBool):
                return node.value
            raise self.fail(node, "expected true or false")
        if name == "text":
            if isinstance(node, TText):
                try:
                    return node.data.decode("utf-8")
                except UnicodeDecodeError:
                    raise self.fail(node, "text is not valid UTF-8") from None
            raise self.fail(node, "expected a text literal")
        if name == "principal":
            if isinstance(node, (TPrincipal, TService)):
                return node.principal
            raise self.fail(node, 'expected principal "..."')
        if name == "empty":
            raise self.fail(node, "no value has type empty")
        if not isinstance(node, TNumber):
            raise self.fail(node, f"expected a number of type {name}")
        if name in ("float32", "float64"):
            value = _float_of(node)
            if value is None:
                raise self.fail(node, f"malformed float {node.value!r}")
            if name == "float32":
                if math.isfinite(value) and abs(value) > 3.4028235677973366e38:
                    raise self.fail(node, f"{node.value} is out of the range of float32")
                return float32(value)
            return value
        if node.is_float:
            raise self.fail(node, f"{node.value} is not an integer, so not a {name}")
        number = node.value
        assert isinstance(number, int)
        if name == "nat":
            if number < 0:
                raise self.fail(node, f"{number} is negative, so not a nat")
            return number
        if name == "int":
            return number
        low, high = INT_RANGES[name]
        if not low <= number <= high:
            raise self.fail(node, f"{number} is out of the range of {name} ({low}..{high})")
        return number

    def _vec(self, node: TextValue, t: VecType) -> Any:
        inner = resolve(t.inner)
        is_bytes = isinstance(inner, PrimType) and inner.name == "nat8"
        if isinstance(node, TBlob):
            if is_bytes:
                return node.data
            return [self.read(TNumber(node.pos, byte, False), inner) for byte in node.data]
        if not isinstance(node, TVec):
            raise self.fail(node, f"expected a vector (vec {{...}}) of {t}")
        items = [self.read(item, inner) for item in node.items]
        return bytes(items) if is_bytes else items

    def _record(self, node: TextValue, t: RecordType) -> Any:
        if not isinstance(node, TRecord):
            raise self.fail(node, f"expected a record of {t}")
        given = {field.id: field for field in node.fields}
        out: dict[Any, Any] = {}
        for field in t.fields:
            found = given.get(field.id)
            if found is not None:
                out[field.key] = self.read(found.value, field.type)
            elif is_null_like(field.type):
                out[field.key] = None
            else:
                raise self.fail(node, f"record field {field.label} of type {field.type} is missing")
        return out


def _float_of(node: TNumber) -> float | None:
    if not node.is_float:
        return float(node.value)
    text = str(node.value).lower()
    sign = -1.0 if text.startswith("-") else 1.0
    body = text.lstrip("+-")
    if body == "nan":
        return math.nan
    if body in ("inf", "infinity"):
        return sign * math.inf
    try:
        if body.startswith("0x"):
            if "p" not in body:
                body += "p0"
            return sign * float.fromhex(body)
        return sign * float(body)
    except (ValueError, OverflowError):
        return None


# -- inferring the type of an unannotated literal -------------------------------------------


class _Inferrer:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, node: TextValue, message: str) -> CandidSyntaxError:
        return CandidSyntaxError(message, node.pos, self.source)

    def infer(self, node: TextValue) -> Type:
        if isinstance(node, TAnnotated):
            return node.type
        if isinstance(node, TNumber):
            return FLOAT64 if node.is_float else INT
        if isinstance(node, TBool):
            return BOOL
        if isinstance(node, TNull):
            return NULL
        if isinstance(node, TText):
            return TEXT
        if isinstance(node, TBlob):
            return BLOB
        if isinstance(node, TPrincipal):
            return PRINCIPAL
        if isinstance(node, TService):
            return ServiceType(())
        if isinstance(node, TFunc):
            return FuncType((), ())
        if isinstance(node, TOpt):
            return OptType(self.infer(node.value))
        if isinstance(node, TVec):
            if not node.items:
                return VecType(EMPTY)
            common = self.infer(node.items[0])
            for item in node.items[1:]:
                other = self.infer(item)
                joined = _join(common, other)
                if joined is None:
                    raise self.fail(
                        item,
                        f"vector elements have different types ({common} and {other}); "
                        "annotate the vector with its type",
                    )
                common = joined
            return VecType(common)
        if isinstance(node, TRecord):
            return RecordType(tuple(Field(f.id, f.name, self.infer(f.value)) for f in node.fields))
        if isinstance(node, TVariant):
            field = node.field
            return VariantType((Field(field.id, field.name, self.infer(field.value)),))
        raise self.fail(node, "cannot infer the type of this value")


def _join(a: Type, b: Type) -> Type | None:
    """The least type both literal types fit, for the elements of one vector; or None.

    Inferred types are finite trees (no names), so this needs no recursion guard
    beyond the literal's own nesting.
    """
    if a == b:
        return a
    if isinstance(a, PrimType) and a.name == "empty":
        return b
    if isinstance(b, PrimType) and b.name == "empty":
        return a
    if isinstance(a, PrimType) and a.name == "null" and isinstance(b, OptType):
        return b
    if isinstance(b, PrimType) and b.name == "null" and isinstance(a, OptType):
        return a
    if isinstance(a, OptType) and isinstance(b, OptType):
        inner = _join(a.inner, b.inner)
        return None if inner is None else OptType(inner)
    if isinstance(a, VecType) and isinstance(b, VecType):
        inner = _join(a.inner, b.inner)
        return None if inner is None else VecType(inner)
    if isinstance(a, RecordType) and isinstance(b, RecordType):
        if [f.id for f in a.fields] != [f.id for f in b.fields]:
            return None
        fields = []
        for x, y in zip(a.fields, b.fields):
            joined = _join(x.type, y.type)
            if joined is None:
                return None
            fields.append(Field(x.id, x.name if x.name is not None else y.name, joined))
        return RecordType(tuple(fields))
    if isinstance(a, VariantType) and isinstance(b, VariantType):
        cases = {f.id: f for f in a.fields}
        for case in b.fields:
            known = cases.get(case.id)
            if known is None:
                cases[case.id] = case
                continue
            joined = _join(known.type, case.type)
            if joined is None:
                return None
            name = known.name if known.name is not None else case.name
            cases[case.id] = Field(case.id, name, joined)
        return VariantType(tuple(cases.values()))
    if isinstance(a, PrimType) and isinstance(b, PrimType) and {a.name, b.name} == {"nat", "int"}:
        return INT
    return None


# -- public entry points --------------------------------------------------------------------


def parse_args_syntax(text: str, env: Mapping[str, Type] | None = None) -> tuple[list[TextValue], str]:
    """Parse ``(v, ...)`` into its syntax tree (the types are checked, not applied)."""
    if not isinstance(text, str):
        raise CandidSyntaxError(f"Candid text must be a string, not {type(text).__name__}")

    def parse() -> list[TextValue]:
        parser = Parser(text, scope_of(env))
        nodes = parser.args()
        parser.expect_end()
        parser.scope.check(text)
        return nodes

    try:
        return retry_with_stack(parse), text
    except RecursionError:
        raise CandidSyntaxError("the text nests too deeply") from None


def read_args(
    nodes: list[TextValue], types: Sequence[Type] | str | None, source: str
) -> tuple[list[Any], list[Type]]:
    """Give parsed arguments their meaning at ``types`` (or at their inferred types)."""
    if types is None:
        inferrer = _Inferrer(source)
        types = [inferrer.infer(node) for node in nodes]
    else:
        types = argument_types(types)
    reader = _Reader(source)

    def read() -> list[Any]:
        values: list[Any] = []
        for index, t in enumerate(types):
            if index < len(nodes):
                values.append(reader.read(nodes[index], t))
            elif is_null_like(t):
                values.append(None)
            else:
                raise CandidSyntaxError(f"argument {index} of type {t} is missing: the text has {len(nodes)}")
        return values

    try:
        return retry_with_stack(read), list(types)
    except RecursionError:
        raise CandidSyntaxError("the text nests too deeply") from None


def parse_value_text(
    text: str, types: Sequence[Type] | str | None = None, env: Mapping[str, Type] | None = None
) -> tuple[list[Any], list[Type]]:
    """Parse ``(v1, v2, ...)``; return the values and the types they were read at.

    With ``types``, each literal is read at its type (extra arguments in the text are
    ignored, as a decoder ignores them). Without, each argument's type is its annotation
    (``(5 : nat8)``) or the type its literal implies: an integer is an ``int``, a float a
    ``float64``, ``"..."`` a ``text``, ``blob "..."`` a ``vec nat8``. ``env`` names types
    that annotations may refer to.
    """
    nodes, source = parse_args_syntax(text, env)
    return read_args(nodes, types, source)


def encode_text(text: str, types: Sequence[Type] | str | None = None) -> bytes:
    """``encode_text('("Sam", 42)', [TEXT, NAT8])``: Candid text to a binary message."""
    values, types_used = parse_value_text(text, types)
    return encode(values, types_used)


def decode_to_text(blob: bytes, types: Sequence[Type] | str | None = None, dfx: str | None = None) -> str:
    """A message as Candid text: ``("Hello, Sam!")``, or ``(42 : nat)`` when untyped.

    ``dfx="pp"`` or ``"idl"`` prints it byte for byte as dfx's output of that name does
    (``vocab.candid.pretty``: numbers always annotated, dfx's layout and escapes).
    """
    values, types_used = decode_with_types(blob, types)
    if dfx is not None:
        return format_args_dfx(values, types_used, dfx)
    return format_args(values, types_used, annotate=types is None)


# -- printing ----------------------------------------------------------------------------------

_GROUPED = frozenset({"nat16", "nat32", "nat64", "int16", "int32", "int64"})
_PLAIN_FLOAT = re.compile(r"-?\d+")


def _int_text(value: int, group: bool) -> str:
    try:
        text = str(value)
    except ValueError:
        # Beyond Python's decimal conversion limit: hexadecimal reads back the same.
        return f"-0x{-value:x}" if value < 0 else f"0x{value:x}"
    if group and len(text.lstrip("-")) > 3:
        sign = "-" if text.startswith("-") else ""
        digits = text.lstrip("-")
        head = len(digits) % 3 or 3
        parts = [digits[:head]] + [digits[i : i + 3] for i in range(head, len(digits), 3)]
        return sign + "_".join(parts)
    return text


def _float_text(value: float) -> str:
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    text = repr(value)
    if _PLAIN_FLOAT.fullmatch(text):
        text += ".0"
    return text


class _Printer:
    def __init__(self, annotate: bool) -> None:
        self.annotate = annotate

    def value(self, value: Any, t: Type) -> str:
        t = resolve(t)
        if isinstance(t, PrimType):
            return self._prim(value, t)
        if isinstance(t, OptType):
            if value is None:
                return "null"
            inner = value.value if isinstance(value, Some) else value
            text = self.value(inner, t.inner)
            inner_type = resolve(t.inner)
            if self.annotate and isinstance(inner_type, PrimType) and " : " in text:
                return f"opt ({text})"
            return f"opt {text}"
        if isinstance(t, VecType):
            inner_type = resolve(t.inner)
            if isinstance(inner_type, PrimType) and inner_type.name == "nat8":
                data = bytes(value)
                return f"blob {escape_bytes(data)}"
            if not value:
                return "vec {}"
            return "vec { " + "; ".join(self.value(item, inner_type) for item in value) + " }"
        if isinstance(t, RecordType):
            return self._record(value, t)
        if isinstance(t, VariantType):
            tag, payload = _variant_parts(value)
            case = t.field(tag)
            if case is None:
                raise CandidError(f"{tag!r} is not a case of {t}")
            payload_type = resolve(case.type)
            if isinstance(payload_type, PrimType) and payload_type.name == "null":
                return f"variant {{ {case.label} }}"
            return f"variant {{ {case.label} = {self.value(payload, case.type)} }}"
        if isinstance(t, FuncType):
            service, method = value
            return f"func {escape_text(_principal_text(service))}.{quote_name(method)}"
        if isinstance(t, ServiceType):
            return f"service {escape_text(_principal_text(value))}"
        raise CandidError(f"cannot print a value of {t}")

    def _prim(self, value: Any, t: PrimType) -> str:
        name = t.name
        annotate = self.annotate
        if name == "null":
            return "null : null" if annotate else "null"
        if name == "reserved":
            return "null : reserved" if annotate else "null"
        if name == "bool":
            if not isinstance(value, bool):
                raise CandidError(f"bool takes True or False, not {value!r}")
            return "true" if value else "false"
        if name == "text":
            if not isinstance(value, str):
                raise CandidError(f"text takes a str, not {value!r}")
            return escape_text(value)
        if name == "principal":
            return f"principal {escape_text(_principal_text(value))}"
        if name == "empty":
            raise CandidError("no value has type empty")
        if name in ("float32", "float64"):
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise CandidError(f"{name} takes a float, not {value!r}")
            text = _float_text(float(value))
        else:
            if not isinstance(value, int) or isinstance(value, bool):
                raise CandidError(f"{name} takes an int, not {value!r}")
            text = _int_text(value, annotate and name in _GROUPED)
        return f"{text} : {name}" if annotate else text

    def _record(self, value: Any, t: RecordType) -> str:
        if not t.fields:
            return "record {}"
        items = []
        tuple_like = t.is_tuple
        for index, field in enumerate(t.fields):
            if isinstance(value, dict):
                item = value.get(field.key, value.get(field.id))
            else:
                item = value[index]
            text = self.value(item, field.type)
            items.append(text if tuple_like else f"{field.label} = {text}")
        return "record { " + "; ".join(items) + " }"


def _variant_parts(value: Any) -> tuple[Any, Any]:
    if isinstance(value, Variant):
        return value.tag, value.value
    if isinstance(value, dict) and len(value) == 1:
        ((tag, payload),) = value.items()
        return tag, payload
    if isinstance(value, str):
        return value, None
    raise CandidError(f"not a variant value: {value!r}")


def _principal_text(value: Any) -> str:
    if isinstance(value, Principal):
        return value.to_text()
    if isinstance(value, str):
        return value
    raise CandidError(f"not a principal: {value!r}")


def format_value(value: Any, t: Type, annotate: bool = False) -> str:
    """One value as Candid text at its type."""
    try:
        return retry_with_stack(lambda: _Printer(annotate).value(value, t))
    except RecursionError:
        raise CandidError("the value nests too deeply to print") from None
    except (TypeError, ValueError, KeyError, IndexError, AttributeError) as exc:
        raise CandidError(f"the value does not fit the type {t}: {exc}") from None


def format_args(values: Sequence[Any], types: Sequence[Type], annotate: bool = False) -> str:
    """Argument values as ``(v1, v2)``."""
    if len(values) != len(types):
        raise CandidError(f"{len(values)} values for {len(types)} types")
    return "(" + ", ".join(format_value(v, t, annotate) for v, t in zip(values, types)) + ")"
