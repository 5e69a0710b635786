"""Candid values as JSON exactly as ``dfx canister call --output json`` prints them.

dfx converts each decoded value with the ``idl2json`` crate (default options) and prints
it with ``serde_json::to_string_pretty``, one value after another on separate lines
(``src/dfx/src/util/mod.rs``, ``convert_all``). The crate's rules
(``src/idl2json/src/untyped_conversion.rs``):

- ``nat`` and ``int`` are strings, with candid's ``_`` digit groups (``"1_000"``);
  ``nat64`` and ``int64`` strings of plain digits; the smaller integers JSON numbers;
- floats JSON numbers (``float32`` widened to f64 first), ``"NaN"`` when not finite;
- ``opt`` an array of zero or one element; ``vec nat8`` (a blob) an array of numbers;
- a record an object keyed by field name (or id, grouped as candid prints it), a variant
  an object of its one case (``null`` for a case without data), a tuple an object keyed
  ``"0"``, ``"1"``...; principals and services their text; a func
  ``{"code": method, "principal": id}``; ``reserved`` the text ``"null : reserved"``.

serde_json (1.0.149 in dfx's ``Cargo.lock``, without ``preserve_order``) keeps object keys
sorted, and writes floats with ``zmij``: the shortest digits that read back, in ryu's
layout (``1.0`` for a whole number, an exponent only from 1e16 up or below 1e-5) with a
``+`` on positive exponents (``1e+16``, ``1.5e-7``; zmij's own ``tests/ryu_comparison.rs``
states exactly that difference from ryu).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

from vocab.candid.errors import CandidError
from vocab.candid.limits import retry_with_stack
from vocab.candid.pretty import _group, variant_case
from vocab.candid.types import (
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
from vocab.candid.values import Some
from vocab.principal import Principal

__all__ = ["format_args_json"]

_NUMBERS = frozenset({"nat8", "nat16", "nat32", "int8", "int16", "int32"})
_PLAIN_STRINGS = frozenset({"nat64", "int64"})


class _Float:
    """A float to be written as serde_json writes it."""

    def __init__(self, value: float) -> None:
        self.value = value


def _convert(value: Any, t: Type) -> Any:
    t = resolve(t)
    if isinstance(t, PrimType):
        return _prim(value, t.name)
    if isinstance(t, OptType):
        if value is None:
            return []
        return [_convert(value.value if isinstance(value, Some) else value, t.inner)]
    if isinstance(t, VecType):
        inner = resolve(t.inner)
        if isinstance(inner, PrimType) and inner.name == "nat8":
            return list(bytes(value))
        return [_convert(item, inner) for item in value]
    if isinstance(t, RecordType):
        out = {}
        for index, field in enumerate(t.fields):
            item = value.get(field.key, value.get(field.id)) if isinstance(value, dict) else value[index]
            out[_label(field.id, field.name)] = _convert(item, field.type)
        return out
    if isinstance(t, VariantType):
        case, payload = variant_case(t, value)
        return {_label(case.id, case.name): _convert(payload, case.type)}
    if isinstance(t, FuncType):
        service, method = value
        return {"principal": _text(service), "code": method}
    if isinstance(t, ServiceType):
        return _text(value)
    raise CandidError(f"cannot convert a value of {t}")


def _prim(value: Any, name: str) -> Any:
    if name == "null":
        return None
    if name == "reserved":
        return "null : reserved"
    if name == "bool":
        return bool(value)
    if name in ("text", "principal"):
        return _text(value)
    if name in ("float32", "float64"):
        return _Float(float(value)) if math.isfinite(value) else "NaN"
    if name == "empty":
        raise CandidError("no value has type empty")
    if name in _NUMBERS:
        return int(value)
    if name in _PLAIN_STRINGS:
        return str(value)
    return _group(str(value))  # nat, int


def _text(value: Any) -> str:
    return value.to_text() if isinstance(value, Principal) else str(value)


def _label(field_id: int, name: str | None) -> str:
    return name if name is not None else _group(str(field_id))


def json_float(value: float) -> str:
    """An f64 as serde_json writes it (zmij: ryu's ``format64`` layout, ``e+`` for a
    positive exponent)."""
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    text = repr(value)  # the shortest digits that read back, as ryu finds them
    sign = "-" if text.startswith("-") else ""
    mantissa, _, exponent = text.lstrip("-").partition("e")
    whole, _, fraction = mantissa.partition(".")
    all_digits = whole + fraction
    leading = len(all_digits) - len(all_digits.lstrip("0"))
    digits = all_digits.strip("0")
    point = len(whole) + int(exponent or 0) - leading  # value = 0.digits * 10^point
    length = len(digits)
    k = point - length
    if k >= 0 and point <= 16:
        body = digits + "0" * k + ".0"
    elif 0 < point <= 16:
        body = digits[:point] + "." + digits[point:]
    elif -5 < point <= 0:
        body = "0." + "0" * -point + digits
    else:
        exponent = f"e{point - 1}" if point - 1 < 0 else f"e+{point - 1}"
        body = (digits if length == 1 else f"{digits[0]}.{digits[1:]}") + exponent
    return sign + body


def _write(value: Any, indent: int) -> str:
    """serde_json's ``to_string_pretty``: two spaces, ``": "``, ``[]`` and ``{}`` when empty."""
    if isinstance(value, _Float):
        return json_float(value.value)
    if isinstance(value, list):
        if not value:
            return "[]"
        inner = " " * (indent + 2)
        items = ",\n".join(inner + _write(item, indent + 2) for item in value)
        return "[\n" + items + "\n" + " " * indent + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        inner = " " * (indent + 2)
        items = ",\n".join(
            f"{inner}{json.dumps(key, ensure_ascii=False)}: {_write(value[key], indent + 2)}"
            for key in sorted(value)
        )
        return "{\n" + items + "\n" + " " * indent + "}"
    return json.dumps(value, ensure_ascii=False)


def format_args_json(values: Sequence[Any], types: Sequence[Type]) -> str:
    """Argument values as dfx's ``--output json``: each value's JSON, one after another."""
    if len(values) != len(types):
        raise CandidError(f"{len(values)} values for {len(types)} types")
    try:
        return retry_with_stack(
            lambda: "\n".join(_write(_convert(value, t), 0) for value, t in zip(values, types))
        )
    except RecursionError:
        raise CandidError("the value nests too deeply to print") from None
    except (TypeError, ValueError, KeyError, IndexError, AttributeError) as exc:
        raise CandidError(f"the values do not fit their types: {exc}") from None
