"""A deliberately tiny Candid binary codec for the management canister's arguments.

Private stop-gap: the project's full Candid implementation (``subnet.candid``) was not
importable when the consensus backend needed to encode ``record { canister_id :
principal }`` and friends. Only ``subnet.management`` uses this module; swapping it for
``subnet.candid`` there is the whole migration.

Types are plain data: a primitive's name (``"nat"``, ``"principal"``, ``"text"``, ...), or
``("opt", T)``, ``("vec", T)``, ``("record", ((name, T), ...))``, ``("variant", ((name,
T), ...))``. Decoding follows the wire types, not an expected type: records come back as
``{field_id: value}``, variants as ``(field_id, value)``, opt as ``None`` or a 1-tuple,
``vec nat8`` as bytes; callers pick fields by ``idl_hash(name)``, which makes extra or
reordered fields harmless (the subtyping a management canister needs). Every malformed
input raises CandidError.
"""

from __future__ import annotations

from typing import Any

from subnet.errors import CandidError
from subnet.hashing import leb128
from subnet.principal import Principal

MAGIC = b"DIDL"
MAX_TABLE = 256
MAX_VEC = 1 << 20
MAX_DEPTH = 64

_PRIMITIVES = {
    "null": 0x7F, "bool": 0x7E, "nat": 0x7D, "int": 0x7C, "nat8": 0x7B, "nat16": 0x7A,
    "nat32": 0x79, "nat64": 0x78, "int8": 0x77, "int16": 0x76, "int32": 0x75, "int64": 0x74,
    "text": 0x71, "reserved": 0x70, "empty": 0x6F, "principal": 0x68,
}
_BY_CODE = {code - 0x80: name for name, code in _PRIMITIVES.items()}
_FIXED = {"nat8": (1, False), "nat16": (2, False), "nat32": (4, False), "nat64": (8, False),
          "int8": (1, True), "int16": (2, True), "int32": (4, True), "int64": (8, True)}
_OPT, _VEC, _RECORD, _VARIANT = -18, -19, -20, -21


def idl_hash(name: str | int) -> int:
    if isinstance(name, int):
        return name
    value = 0
    for byte in name.encode("utf-8"):
        value = (value * 223 + byte) & 0xFFFFFFFF
    return value


def sleb128(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if (value == 0 and not byte & 0x40) or (value == -1 and byte & 0x40):
            out.append(byte)
            return bytes(out)
        out.append(byte | 0x80)


# -- encoding ------------------------------------------------------------------------------


class _Table:
    def __init__(self) -> None:
        self.entries: list[bytes] = []
        self.index: dict[Any, int] = {}

    def ref(self, t: Any) -> bytes:
        if isinstance(t, str):
            if t == "blob":
                t = ("vec", "nat8")
            else:
                return bytes([_PRIMITIVES[t]])
        key = _freeze(t)
        if key not in self.index:
            position = len(self.entries)
            self.index[key] = position
            self.entries.append(b"")
            kind = t[0]
            if kind in ("opt", "vec"):
                entry = sleb128(_OPT if kind == "opt" else _VEC) + self.ref(t[1])
            elif kind in ("record", "variant"):
                fields = sorted(t[1], key=lambda field: idl_hash(field[0]))
                entry = sleb128(_RECORD if kind == "record" else _VARIANT) + leb128(len(fields))
                for name, inner in fields:
                    entry += leb128(idl_hash(name)) + self.ref(inner)
            else:
                raise CandidError(f"unsupported type {t!r}")
            self.entries[position] = entry
        return leb128(self.index[key])


def _freeze(t: Any) -> Any:
    if isinstance(t, (tuple, list)):
        return tuple(_freeze(item) for item in t)
    return t


def _value(t: Any, value: Any) -> bytes:
    if t == "blob":
        t = ("vec", "nat8")
    if isinstance(t, str):
        if t in ("null", "reserved"):
            return b""
        if t == "bool":
            return b"\x01" if value else b"\x00"
        if t == "nat":
            return leb128(value)
        if t == "int":
            return sleb128(value)
        if t in _FIXED:
            size, signed = _FIXED[t]
            return int(value).to_bytes(size, "little", signed=signed)
        if t == "text":
            data = value.encode("utf-8")
            return leb128(len(data)) + data
        if t == "principal":
            raw = value.raw if isinstance(value, Principal) else bytes(value)
            return b"\x01" + leb128(len(raw)) + raw
        raise CandidError(f"cannot encode a value of type {t}")
    kind = t[0]
    if kind == "opt":
        return b"\x00" if value is None else b"\x01" + _value(t[1], value)
    if kind == "vec":
        if t[1] == "nat8" and isinstance(value, (bytes, bytearray)):
            return leb128(len(value)) + bytes(value)
        return leb128(len(value)) + b"".join(_value(t[1], item) for item in value)
    if kind == "record":
        fields = sorted(t[1], key=lambda field: idl_hash(field[0]))
        return b"".join(_value(inner, value.get(name)) for name, inner in fields)
    if kind == "variant":
        name, inner_value = value
        fields = sorted(t[1], key=lambda field: idl_hash(field[0]))
        for position, (field_name, inner) in enumerate(fields):
            if field_name == name:
                return leb128(position) + _value(inner, inner_value)
        raise CandidError(f"variant has no case {name!r}")
    raise CandidError(f"unsupported type {t!r}")


def encode(types: list[Any], values: list[Any]) -> bytes:
    """Candid arguments: ``values[i]`` of type ``types[i]``."""
    if len(types) != len(values):
        raise CandidError("one value per type")
    table = _Table()
    refs = [table.ref(t) for t in types]
    body = b"".join(_value(t, v) for t, v in zip(types, values))
    return MAGIC + leb128(len(table.entries)) + b"".join(table.entries) + leb128(len(refs)) + b"".join(refs) + body


# -- decoding ------------------------------------------------------------------------------


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def byte(self) -> int:
        if self.pos >= len(self.data):
            raise CandidError("unexpected end of Candid data")
        value = self.data[self.pos]
        self.pos += 1
        return value

    def take(self, count: int) -> bytes:
        if count < 0 or self.pos + count > len(self.data):
            raise CandidError("unexpected end of Candid data")
        chunk = self.data[self.pos : self.pos + count]
        self.pos += count
        return chunk

    def leb(self) -> int:
        result = shift = 0
        while True:
            byte = self.byte()
            result |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return result
            if shift > 70:
                raise CandidError("LEB128 number too long")

    def sleb(self) -> int:
        result = shift = 0
        while True:
            byte = self.byte()
            result |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                if byte & 0x40:
                    result -= 1 << shift
                return result
            if shift > 70:
                raise CandidError("SLEB128 number too long")


def decode(data: bytes) -> list[Any]:
    """Decode Candid arguments by their own wire types (see the module docstring)."""
    reader = _Reader(bytes(data))
    if reader.take(4) != MAGIC:
        raise CandidError("not Candid: missing DIDL magic")
    count = reader.leb()
    if count > MAX_TABLE:
        raise CandidError(f"type table of {count} entries is too large")
    table: list[tuple[int, Any]] = []
    for _ in range(count):
        code = reader.sleb()
        if code in (_OPT, _VEC):
            table.append((code, reader.sleb()))
        elif code in (_RECORD, _VARIANT):
            fields = []
            previous = -1
            for _ in range(reader.leb()):
                field_id = reader.leb()
                if field_id <= previous or field_id > 0xFFFFFFFF:
                    raise CandidError("record or variant fields out of order")
                previous = field_id
                fields.append((field_id, reader.sleb()))
            table.append((code, tuple(fields)))
        else:
            raise CandidError(f"unsupported type code {code} in the type table")
    for code, inner in table:
        refs = [ref for _, ref in inner] if code in (_RECORD, _VARIANT) else [inner]
        for ref in refs:
            if ref >= len(table) or (ref < 0 and ref not in _BY_CODE):
                raise CandidError(f"bad type reference {ref}")
    args = [reader.sleb() for _ in range(reader.leb())]
    for ref in args:
        if ref >= len(table) or (ref < 0 and ref not in _BY_CODE):
            raise CandidError(f"bad type reference {ref}")
    values = [_read(reader, table, ref, 0) for ref in args]
    if reader.pos != len(reader.data):
        raise CandidError("trailing bytes after the Candid values")
    return values


def _read(reader: _Reader, table: list[tuple[int, Any]], ref: int, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise CandidError("Candid value nested too deeply")
    if ref < 0:
        name = _BY_CODE[ref]
        if name in ("null", "reserved"):
            return None
        if name == "empty":
            raise CandidError("a value of type empty")
        if name == "bool":
            byte = reader.byte()
            if byte > 1:
                raise CandidError("bool out of range")
            return byte == 1
        if name == "nat":
            return reader.leb()
        if name == "int":
            return reader.sleb()
        if name in _FIXED:
            size, signed = _FIXED[name]
            return int.from_bytes(reader.take(size), "little", signed=signed)
        if name == "text":
            try:
                return reader.take(reader.leb()).decode("utf-8")
            except UnicodeDecodeError as exc:
                raise CandidError("text is not UTF-8") from exc
        if name == "principal":
            if reader.byte() != 1:
                raise CandidError("opaque principal references are not supported")
            length = reader.leb()
            if length > 29:
                raise CandidError("principal longer than 29 bytes")
            return Principal(reader.take(length))
    code, inner = table[ref]
    if code == _OPT:
        flag = reader.byte()
        if flag == 0:
            return None
        if flag != 1:
            raise CandidError("opt flag out of range")
        return (_read(reader, table, inner, depth + 1),)
    if code == _VEC:
        length = reader.leb()
        if length > MAX_VEC:
            raise CandidError("vector too long")
        if inner == _PRIMITIVES["nat8"] - 0x80:
            return reader.take(length)
        return [_read(reader, table, inner, depth + 1) for _ in range(length)]
    if code == _RECORD:
        return {field_id: _read(reader, table, field_ref, depth + 1) for field_id, field_ref in inner}
    index = reader.leb()
    if index >= len(inner):
        raise CandidError("variant index out of range")
    field_id, field_ref = inner[index]
    return (field_id, _read(reader, table, field_ref, depth + 1))
