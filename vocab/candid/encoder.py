"""Encoding Candid binary messages: a type table built from the argument types, then values.

A writer function is built once per type of the message and checks each value against
the Python forms the value model allows (``vocab.candid``), naming the argument, field,
element or case where a value does not fit.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from typing import Any

from vocab.candid.errors import CandidEncodeError
from vocab.candid.header import (
    ARRAY_CODES,
    CODE_BY_MODE,
    FIXED,
    MAGIC,
    OPCODE_FUNC,
    OPCODE_OPT,
    OPCODE_RECORD,
    OPCODE_SERVICE,
    OPCODE_VARIANT,
    OPCODE_VEC,
)
from vocab.candid.limits import retry_with_stack
from vocab.candid.parser import argument_types
from vocab.candid.types import (
    INT_RANGES,
    PRIM_BY_OPCODE,
    FuncType,
    FutureType,
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
from vocab.candid.values import Some, Variant
from vocab.errors import PrincipalError
from vocab.leb128 import encode_leb128, encode_sleb128
from vocab.principal import Principal

__all__ = ["encode"]

Writer = Callable[[Any, bytearray], None]


def _describe(value: Any) -> str:
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _write_null(value: Any, out: bytearray) -> None:
    if value is not None:
        raise CandidEncodeError(f"null takes None, not {_describe(value)}")


def _write_reserved(value: Any, out: bytearray) -> None:
    return None


def _write_empty(value: Any, out: bytearray) -> None:
    raise CandidEncodeError("no value has type empty")


def _write_bool(value: Any, out: bytearray) -> None:
    if value is True:
        out.append(1)
    elif value is False:
        out.append(0)
    else:
        raise CandidEncodeError(f"bool takes True or False, not {_describe(value)}")


def _write_nat(value: Any, out: bytearray) -> None:
    if not _is_int(value) or value < 0:
        raise CandidEncodeError(f"nat takes a non-negative int, not {_describe(value)}")
    if value < 0x80:
        out.append(value)
    else:
        out += encode_leb128(value)


def _write_int(value: Any, out: bytearray) -> None:
    if not _is_int(value):
        raise CandidEncodeError(f"int takes an int, not {_describe(value)}")
    out += encode_sleb128(value)


def _fixed_writer(name: str) -> Writer:
    pack = FIXED[name].pack if name in FIXED else None
    low, high = INT_RANGES.get(name, (None, None))

    if name == "nat8":

        def write_nat8(value: Any, out: bytearray) -> None:
            if not _is_int(value) or not 0 <= value <= 255:
                raise CandidEncodeError(f"nat8 takes an int in 0..255, not {_describe(value)}")
            out.append(value)

        return write_nat8
    assert pack is not None
    if name.startswith("float"):

        def write_float(value: Any, out: bytearray) -> None:
            if not isinstance(value, (float, int)) or isinstance(value, bool):
                raise CandidEncodeError(f"{name} takes a float, not {_describe(value)}")
            try:
                out += pack(value)
            except (OverflowError, struct.error):
                raise CandidEncodeError(f"{value!r} is out of the range of {name}") from None

        return write_float

    def write_fixed(value: Any, out: bytearray) -> None:
        if not _is_int(value) or not low <= value <= high:
            raise CandidEncodeError(f"{name} takes an int in {low}..{high}, not {_describe(value)}")
        out += pack(value)

    return write_fixed


def _write_text(value: Any, out: bytearray) -> None:
    if not isinstance(value, str):
        raise CandidEncodeError(f"text takes a str, not {_describe(value)}")
    try:
        data = value.encode("utf-8")
    except UnicodeEncodeError:
        raise CandidEncodeError("text holds a lone surrogate, which UTF-8 cannot encode") from None
    out += encode_leb128(len(data))
    out += data


def _principal_of(value: Any, what: str) -> Principal:
    if isinstance(value, Principal):
        return value
    if isinstance(value, str):
        try:
            return Principal.from_text(value)
        except PrincipalError as exc:
            raise CandidEncodeError(f"{what}: {exc}") from None
    raise CandidEncodeError(f"{what} takes a Principal (or its text), not {_describe(value)}")


def _write_principal_bytes(principal: Principal, out: bytearray) -> None:
    out.append(1)
    out += encode_leb128(len(principal.raw))
    out += principal.raw


def _write_principal(value: Any, out: bytearray) -> None:
    _write_principal_bytes(_principal_of(value, "principal"), out)


def _write_service(value: Any, out: bytearray) -> None:
    _write_principal_bytes(_principal_of(value, "a service reference"), out)


def _write_func(value: Any, out: bytearray) -> None:
    if not (isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], str)):
        raise CandidEncodeError(f"a function reference is FuncRef(principal, method), not {_describe(value)}")
    out.append(1)
    _write_principal_bytes(_principal_of(value[0], "a function reference's service"), out)
    _write_text(value[1], out)


_PRIM_WRITERS: dict[str, Writer] = {
    "null": _write_null,
    "reserved": _write_reserved,
    "empty": _write_empty,
    "bool": _write_bool,
    "nat": _write_nat,
    "int": _write_int,
    "text": _write_text,
    "principal": _write_principal,
    **{name: _fixed_writer(name) for name in ("nat8", *FIXED)},
}
_PRIM_REFS = {t.name: encode_sleb128(t.opcode) for t in PRIM_BY_OPCODE.values()}


class _Encoder:
    """Builds the type table and the value writers for one message."""

    def __init__(self) -> None:
        self.entries: list[bytes] = []
        self.index: dict[Type, int] = {}
        self.writers: dict[int, Writer] = {}
        self.keep: list[Type] = []

    # ---- types

    def ref(self, t: Type) -> bytes:
        t = resolve(t)
        if isinstance(t, PrimType):
            return _PRIM_REFS[t.name]
        if isinstance(t, FutureType):
            raise CandidEncodeError(f"cannot encode a value of a future type (opcode {t.opcode})")
        index = self.index.get(t)
        if index is None:
            index = len(self.entries)
            self.index[t] = index
            self.entries.append(b"")
            self.entries[index] = self._entry(t)
        return encode_sleb128(index)

    def _entry(self, t: Type) -> bytes:
        if isinstance(t, OptType):
            return encode_sleb128(OPCODE_OPT) + self.ref(t.inner)
        if isinstance(t, VecType):
            return encode_sleb128(OPCODE_VEC) + self.ref(t.inner)
        if isinstance(t, (RecordType, VariantType)):
            code = OPCODE_RECORD if isinstance(t, RecordType) else OPCODE_VARIANT
            parts = [encode_sleb128(code), encode_leb128(len(t.fields))]
            for item in t.fields:
                parts.append(encode_leb128(item.id))
                parts.append(self.ref(item.type))
            return b"".join(parts)
        if isinstance(t, FuncType):
            parts = [encode_sleb128(OPCODE_FUNC), encode_leb128(len(t.args))]
            parts += [self.ref(arg) for arg in t.args]
            parts.append(encode_leb128(len(t.results)))
            parts += [self.ref(result) for result in t.results]
            parts.append(encode_leb128(len(t.modes)))
            parts += [bytes((CODE_BY_MODE[mode],)) for mode in t.modes]
            return b"".join(parts)
        if isinstance(t, ServiceType):
            parts = [encode_sleb128(OPCODE_SERVICE), encode_leb128(len(t.methods))]
            for name, method in t.methods:
                if not isinstance(resolve(method), FuncType):
                    raise CandidEncodeError(f"method {name!r} has type {method}, not a function")
                raw = name.encode("utf-8")
                parts += [encode_leb128(len(raw)), raw, self.ref(method)]
            return b"".join(parts)
        raise CandidEncodeError(f"not an encodable type: {t!r}")

    # ---- values

    def writer(self, t: Type) -> Writer:
        t = resolve(t)
        found = self.writers.get(id(t))
        if found is not None:
            return found
        cell: list[Writer] = []

        def forward(value: Any, out: bytearray) -> None:
            cell[0](value, out)

        self.writers[id(t)] = forward
        self.keep.append(t)
        built = self._build_writer(t)
        cell.append(built)
        self.writers[id(t)] = built
        return built

    def _build_writer(self, t: Type) -> Writer:
        if isinstance(t, PrimType):
            return _PRIM_WRITERS[t.name]
        if isinstance(t, OptType):
            return self._opt_writer(t)
        if isinstance(t, VecType):
            return self._vec_writer(t)
        if isinstance(t, RecordType):
            return self._record_writer(t)
        if isinstance(t, VariantType):
            return self._variant_writer(t)
        if isinstance(t, FuncType):
            return _write_func
        if isinstance(t, ServiceType):
            return _write_service
        raise CandidEncodeError(f"cannot encode values of {t!r}")

    def _opt_writer(self, t: OptType) -> Writer:
        inner = self.writer(t.inner)
        bare_ok = not is_null_like(t.inner)

        def write_opt(value: Any, out: bytearray) -> None:
            if value is None:
                out.append(0)
                return
            if isinstance(value, Some):
                value = value.value
            elif not bare_ok:
                raise CandidEncodeError(
                    f"{t}: wrap a present value in Some(...), since None and a bare value "
                    "would be ambiguous here"
                )
            out.append(1)
            try:
                inner(value, out)
            except CandidEncodeError as exc:
                raise CandidEncodeError(f"inside opt: {exc}") from None

        return write_opt

    def _vec_writer(self, t: VecType) -> Writer:
        inner_type = resolve(t.inner)
        inner = self.writer(inner_type)
        if isinstance(inner_type, PrimType) and inner_type.name == "nat8":

            def write_blob(value: Any, out: bytearray) -> None:
                if isinstance(value, (bytes, bytearray, memoryview)):
                    data = bytes(value)
                elif isinstance(value, (list, tuple)):
                    try:
                        data = bytes(value)
                    except (TypeError, ValueError):
                        raise CandidEncodeError("vec nat8 takes bytes or a list of ints in 0..255") from None
                else:
                    raise CandidEncodeError(f"vec nat8 takes bytes, not {_describe(value)}")
                out += encode_leb128(len(data))
                out += data

            return write_blob

        code = (
            ARRAY_CODES.get(inner_type.name)
            if isinstance(inner_type, PrimType) and not inner_type.name.startswith("float")
            else None
        )

        def write_vec(value: Any, out: bytearray) -> None:
            if not isinstance(value, (list, tuple)):
                raise CandidEncodeError(f"{t} takes a list, not {_describe(value)}")
            out += encode_leb128(len(value))
            if code is not None and all(type(x) is int for x in value):
                try:
                    out += struct.pack(f"<{len(value)}{code}", *value)
                    return
                except struct.error:
                    pass  # fall through to name the offending element
            for index, item in enumerate(value):
                try:
                    inner(item, out)
                except CandidEncodeError as exc:
                    raise CandidEncodeError(f"element {index}: {exc}") from None

        return write_vec

    def _record_writer(self, t: RecordType) -> Writer:
        fields = [
            (item.name, item.id, self.writer(item.type), is_null_like(item.type), item.label)
            for item in t.fields
        ]
        positional = all(item.id == index for index, item in enumerate(t.fields))
        count = len(fields)

        def write_record(value: Any, out: bytearray) -> None:
            if isinstance(value, dict):
                used = 0
                for name, field_id, write, optional, label in fields:
                    if name is not None and name in value:
                        item = value[name]
                        used += 1
                    elif field_id in value:
                        item = value[field_id]
                        used += 1
                    elif optional:
                        item = None
                    else:
                        raise CandidEncodeError(f"record field {label} is missing")
                    try:
                        write(item, out)
                    except CandidEncodeError as exc:
                        raise CandidEncodeError(f"field {label}: {exc}") from None
                if used != len(value):
                    known = {name for name, *_ in fields} | {fid for _, fid, *_ in fields}
                    unknown = [key for key in value if key not in known]
                    raise CandidEncodeError(
                        f"{t} has no field {unknown[0]!r}" if unknown else "a field is given twice"
                    )
                return
            if positional and isinstance(value, (tuple, list)):
                if len(value) != count:
                    raise CandidEncodeError(f"{t} takes {count} values, not {len(value)}")
                for (_, _, write, _, label), item in zip(fields, value):
                    try:
                        write(item, out)
                    except CandidEncodeError as exc:
                        raise CandidEncodeError(f"field {label}: {exc}") from None
                return
            raise CandidEncodeError(f"{t} takes a dict, not {_describe(value)}")

        return write_record

    def _variant_writer(self, t: VariantType) -> Writer:
        cases: dict[str | int, tuple[bytes, Writer, str]] = {}
        for index, item in enumerate(t.fields):
            entry = (encode_leb128(index), self.writer(item.type), item.label)
            cases[item.id] = entry
            if item.name is not None:
                cases[item.name] = entry
        names = ", ".join(item.label for item in t.fields) or "none"

        def write_variant(value: Any, out: bytearray) -> None:
            if isinstance(value, Variant):
                tag, payload = value.tag, value.value
            elif isinstance(value, dict) and len(value) == 1:
                ((tag, payload),) = value.items()
            elif isinstance(value, str):
                tag, payload = value, None
            else:
                raise CandidEncodeError(
                    f"a variant takes Variant(tag, value) or {{tag: value}}, not {_describe(value)}"
                )
            entry = cases.get(tag) if isinstance(tag, (str, int)) else None
            if entry is None:
                raise CandidEncodeError(f"the variant has no case {tag!r} (cases: {names})")
            code, write, label = entry
            out += code
            try:
                write(payload, out)
            except CandidEncodeError as exc:
                raise CandidEncodeError(f"case {label}: {exc}") from None

        return write_variant


def encode(values: Sequence[Any], types: Sequence[Type] | str) -> bytes:
    """Encode argument values at their types (a list, or Candid text) as a message."""
    types = argument_types(types)
    if isinstance(values, (str, bytes, dict)) or not isinstance(values, Sequence):
        raise CandidEncodeError("values is a sequence with one value per argument type")
    if len(values) != len(types):
        raise CandidEncodeError(f"{len(values)} values given for {len(types)} argument types")
    try:
        return retry_with_stack(lambda: _encode(values, types))
    except RecursionError:
        raise CandidEncodeError("the value or type nests too deeply (or contains itself)") from None


_PLANS: dict[tuple[int, ...], tuple[list[Type], bytes, list[Writer]]] = {}
"""Type table and value writers by the identity of the argument types (kept alive in the
entry, so an id is never reused while cached): a service encodes the same argument and
reply types over and over, and the table and writers depend on the types alone."""
_MAX_PLANS = 1024


def _plan(types: list[Type]) -> tuple[bytes, list[Writer]]:
    key = tuple(id(t) for t in types)
    cached = _PLANS.get(key)
    if cached is not None:
        return cached[1], cached[2]
    encoder = _Encoder()
    refs = [encoder.ref(t) for t in types]
    writers: list[Writer] = []
    for index, t in enumerate(types):
        try:
            writers.append(encoder.writer(t))
        except CandidEncodeError as exc:
            raise CandidEncodeError(f"argument {index}: {exc}") from None
    head = bytearray(MAGIC)
    head += encode_leb128(len(encoder.entries))
    for entry in encoder.entries:
        head += entry
    head += encode_leb128(len(refs))
    for ref in refs:
        head += ref
    if len(_PLANS) >= _MAX_PLANS:
        _PLANS.clear()
    _PLANS[key] = (list(types), bytes(head), writers)
    return bytes(head), writers


def _encode(values: Sequence[Any], types: list[Type]) -> bytes:
    head, writers = _plan(types)
    body = bytearray(head)
    for index, (value, write) in enumerate(zip(values, writers)):
        try:
            write(value, body)
        except CandidEncodeError as exc:
            raise CandidEncodeError(f"argument {index}: {exc}") from None
    return bytes(body)
