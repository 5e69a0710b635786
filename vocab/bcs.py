"""BCS, the Binary Canonical Serialization of Move and Sui, as schemas that are values.

A schema (:class:`Schema`) knows how to write a value and how to read it back. Schemas are
built at run time from the primitives below (``U8`` .. ``U256``, ``BOOL``, ``FixedBytes``,
``BYTES``, ``STRING``) and combinators (``Vector``, ``Option``, ``Tuple``, ``Struct``,
``Enum``, ``Map``, ``Lazy`` for recursive types, ``Mapped`` to turn decoded values into
Python objects), so that code which only learns a type at run time (the Move runtime
mapping a type layout to BCS, a client reading an object) builds one as easily as the Sui
vocabulary does statically.

The rules (Sui reference, section 7): little-endian fixed-width integers; bool 0 or 1;
sequences and strings as a ULEB128 length then the elements; fixed byte arrays without
length; structs as their fields in order; enums as a ULEB128 variant index then the
payload; options as 0, or 1 and the value; maps as a length then the pairs sorted by the
encoded key. Decoding is strict, as Sui's ``bcs`` crate is, because every encoding must have
exactly one decoding (digests are taken over bytes): a ULEB128 with a superfluous zero
byte, a length above 2^31-1, containers (structs and enums) nested deeper than 500, a bool
byte other than 0 or 1, unsorted or repeated map keys, bytes left over or missing are
:class:`BcsError` subclasses that name the problem, the offset and the path to it.
"""

from __future__ import annotations

import abc
import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from vocab.errors import SubnetError
from vocab.leb128 import Leb128Error, encode_leb128, read_leb128

MAX_LENGTH = 2**31 - 1
"""The largest sequence length (and variant index) BCS accepts."""

MAX_CONTAINER_DEPTH = 500
"""How deeply structs and enums may nest, counted as Sui's ``bcs`` crate counts."""

_MAX_ULEB_BYTES = 5  # a u32 needs at most five base-128 digits


# -- errors ------------------------------------------------------------------------------


class BcsError(SubnetError, ValueError):
    """Bytes that are not the canonical BCS encoding of a value of the schema.

    ``offset`` is where in the input the problem is; ``path`` names the place in the value
    (``TransactionData.V1.gas_data.payment[0]``) so that the message points at it.
    """

    def __init__(self, problem: str, offset: int) -> None:
        super().__init__(problem)
        self.problem = problem
        self.offset = offset
        self.path: list[str] = []

    def __str__(self) -> str:
        where = f" in {''.join(self.path).lstrip('.')}" if self.path else ""
        return f"BCS: {self.problem} at offset {self.offset}{where}"


class Truncated(BcsError):
    """The input ends before the value does."""


class TrailingBytes(BcsError):
    """The value ends before the input does."""


class NonCanonicalUleb128(BcsError):
    """A ULEB128 number with a superfluous high zero digit, or too large for 32 bits."""


class LengthTooLarge(BcsError):
    """A length or variant index above 2^31-1."""


class DepthExceeded(BcsError):
    """Structs and enums nested deeper than ``MAX_CONTAINER_DEPTH``."""


class InvalidBool(BcsError):
    """A bool byte that is neither 0 nor 1."""


class UnknownVariant(BcsError):
    """An enum variant index the schema does not have."""


class InvalidUtf8(BcsError):
    """A string whose bytes are not UTF-8."""


class NonCanonicalMap(BcsError):
    """Map keys out of order or repeated."""


class Unsupported(BcsError):
    """A well-formed variant this vocabulary deliberately does not read (named in the message)."""


class BcsEncodeError(SubnetError, ValueError):
    """A value that does not fit its schema; the message names the place and the rule."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem
        self.path: list[str] = []

    def __str__(self) -> str:
        where = f" at {''.join(self.path).lstrip('.')}" if self.path else ""
        return f"BCS encode: {self.problem}{where}"


# -- the reader --------------------------------------------------------------------------


class Reader:
    """Strict reading of BCS primitives from a buffer, tracking the offset."""

    __slots__ = ("buf", "pos")

    def __init__(self, buf: bytes, pos: int = 0) -> None:
        self.buf = buf
        self.pos = pos

    @property
    def remaining(self) -> int:
        return len(self.buf) - self.pos

    def take(self, count: int, what: str) -> bytes:
        if count > self.remaining:
            raise Truncated(f"{what} needs {count} bytes, {self.remaining} left", self.pos)
        start = self.pos
        self.pos += count
        return self.buf[start : self.pos]

    def uleb128(self, what: str) -> int:
        """A canonical ULEB128 that fits 32 bits (lengths and variant indexes)."""
        start = self.pos
        if start < len(self.buf) and self.buf[start] < 0x80:  # one byte: nearly always
            self.pos = start + 1
            return self.buf[start]
        try:
            value, end = read_leb128(self.buf, start, len(self.buf), what)
        except Leb128Error as exc:
            raise Truncated(f"{what}: ULEB128 runs past the end of the input", start) from exc
        if end - start > _MAX_ULEB_BYTES or value >= 2**32:
            raise NonCanonicalUleb128(f"{what}: ULEB128 does not fit 32 bits", start)
        if end - start > 1 and self.buf[end - 1] == 0:
            raise NonCanonicalUleb128(f"{what}: non-canonical ULEB128 (superfluous zero byte)", start)
        self.pos = end
        return value

    def length(self, what: str) -> int:
        start = self.pos
        value = self.uleb128(what)
        if value > MAX_LENGTH:
            raise LengthTooLarge(f"{what} {value} exceeds the BCS maximum 2^31-1", start)
        return value


def _located(exc: BcsError | BcsEncodeError, segment: str) -> None:
    exc.path.insert(0, segment)


# -- schemas -----------------------------------------------------------------------------


class Schema(abc.ABC):
    """A BCS type: ``encode`` a value to bytes, ``decode`` bytes (all of them) to a value.

    Subclasses implement ``write`` and ``read``; ``depth`` counts enclosing structs and
    enums. ``min_size`` is the fewest bytes any value takes, used to refuse a length that
    the remaining input cannot hold before reading element by element.
    """

    name: str = "?"
    min_size: int = 0

    @abc.abstractmethod
    def write(self, value: Any, out: bytearray, depth: int) -> None:
        """Append the encoding of ``value`` to ``out``."""

    @abc.abstractmethod
    def read(self, reader: Reader, depth: int) -> Any:
        """Read one value at the reader's position."""

    def encode(self, value: Any) -> bytes:
        out = bytearray()
        try:
            self.write(value, out, 0)
        except RecursionError as exc:
            raise BcsEncodeError("value nested too deeply to encode") from exc
        return bytes(out)

    def decode(self, data: bytes | bytearray | memoryview) -> Any:
        """The value; every byte must belong to it."""
        reader = Reader(bytes(data))
        value = self.read_prefix(reader)
        if reader.remaining:
            raise TrailingBytes(f"{reader.remaining} bytes left after the {self.name} value", reader.pos)
        return value

    def read_prefix(self, reader: Reader) -> Any:
        """Read one value from ``reader`` and leave the rest (for streams of values)."""
        try:
            return self.read(reader, 0)
        except RecursionError as exc:
            raise DepthExceeded("value nested too deeply to decode", reader.pos) from exc

    def __repr__(self) -> str:
        return self.name


class UInt(Schema):
    """An unsigned little-endian integer of ``bits`` bits (u8 .. u256)."""

    def __init__(self, bits: int) -> None:
        if bits not in (8, 16, 32, 64, 128, 256):
            raise ValueError(f"BCS integers are u8, u16, u32, u64, u128 or u256, not u{bits}")
        self.bits = bits
        self.min_size = bits // 8
        self.name = f"u{bits}"

    def write(self, value: Any, out: bytearray, depth: int) -> None:
        if not isinstance(value, int) or isinstance(value, bool):
            raise BcsEncodeError(f"{self.name} needs an int, not {type(value).__name__}")
        if not 0 <= value < 1 << self.bits:
            raise BcsEncodeError(f"{value} does not fit {self.name}")
        out += value.to_bytes(self.min_size, "little")

    def read(self, reader: Reader, depth: int) -> int:
        return int.from_bytes(reader.take(self.min_size, self.name), "little")


class _Bool(Schema):
    name = "bool"
    min_size = 1

    def write(self, value: Any, out: bytearray, depth: int) -> None:
        if not isinstance(value, bool):
            raise BcsEncodeError(f"bool needs True or False, not {type(value).__name__}")
        out.append(1 if value else 0)

    def read(self, reader: Reader, depth: int) -> bool:
        start = reader.pos
        byte = reader.take(1, "bool")[0]
        if byte > 1:
            raise InvalidBool(f"bool byte is 0x{byte:02x}, not 0 or 1", start)
        return byte == 1


class FixedBytes(Schema):
    """``size`` bytes with no length in front (addresses, object ids: 32)."""

    def __init__(self, size: int, name: str | None = None) -> None:
        self.min_size = size
        self.name = name or f"bytes[{size}]"

    def write(self, value: Any, out: bytearray, depth: int) -> None:
        if not isinstance(value, (bytes, bytearray, memoryview)):
            raise BcsEncodeError(f"{self.name} needs bytes, not {type(value).__name__}")
        if len(value) != self.min_size:
            raise BcsEncodeError(f"{self.name} needs exactly {self.min_size} bytes, not {len(value)}")
        out += value

    def read(self, reader: Reader, depth: int) -> bytes:
        return reader.take(self.min_size, self.name)


class _Bytes(Schema):
    name = "bytes"
    min_size = 1

    def write(self, value: Any, out: bytearray, depth: int) -> None:
        if not isinstance(value, (bytes, bytearray, memoryview)):
            raise BcsEncodeError(f"bytes needs bytes, not {type(value).__name__}")
        out += encode_leb128(len(value))
        out += value

    def read(self, reader: Reader, depth: int) -> bytes:
        return reader.take(reader.length("bytes length"), "bytes")


class _String(Schema):
    name = "string"
    min_size = 1

    def write(self, value: Any, out: bytearray, depth: int) -> None:
        if not isinstance(value, str):
            raise BcsEncodeError(f"string needs str, not {type(value).__name__}")
        try:
            raw = value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise BcsEncodeError(f"string is not valid Unicode: {exc.reason}") from exc
        out += encode_leb128(len(raw))
        out += raw

    def read(self, reader: Reader, depth: int) -> str:
        count = reader.length("string length")
        start = reader.pos
        raw = reader.take(count, "string")
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidUtf8(f"string is not UTF-8 ({exc.reason})", start + exc.start) from exc


class Vector(Schema):
    """``vector<T>``: a ULEB128 length, then the elements. Decodes to a list."""

    def __init__(self, element: Schema) -> None:
        self.element = element
        self.min_size = 1
        self.name = f"vector<{element.name}>"

    def write(self, value: Any, out: bytearray, depth: int) -> None:
        if isinstance(value, (str, bytes, bytearray, Mapping)) or not isinstance(value, Iterable):
            raise BcsEncodeError(f"{self.name} needs a sequence, not {type(value).__name__}")
        items = list(value)
        if len(items) > MAX_LENGTH:
            raise BcsEncodeError(f"{self.name} has {len(items)} elements, more than 2^31-1")
        out += encode_leb128(len(items))
        element = self.element
        for index, item in enumerate(items):
            try:
                element.write(item, out, depth)
            except BcsEncodeError as exc:
                _located(exc, f"[{index}]")
                raise

    def read(self, reader: Reader, depth: int) -> list[Any]:
        start = reader.pos
        count = reader.length(f"{self.name} length")
        if count * self.element.min_size > reader.remaining:
            raise Truncated(
                f"{self.name} of {count} elements needs at least {count * self.element.min_size} bytes, "
                f"{reader.remaining} left",
                start,
            )
        element = self.element
        items = []
        for index in range(count):
            try:
                items.append(element.read(reader, depth))
            except BcsError as exc:
                _located(exc, f"[{index}]")
                raise
        return items


class Option(Schema):
    """``Option<T>``: 0, or 1 then the value. Decodes to None or the value.

    None stands for the absent value, so an option of an option cannot say "present, and
    absent inside" (Move has no such type: its ``Option<T>`` is a vector, whose BCS is the
    same as this).
    """

    def __init__(self, inner: Schema) -> None:
        self.inner = inner
        self.min_size = 1
        self.name = f"Option<{inner.name}>"

    def write(self, value: Any, out: bytearray, depth: int) -> None:
        if value is None:
            out.append(0)
            return
        out.append(1)
        self.inner.write(value, out, depth)

    def read(self, reader: Reader, depth: int) -> Any:
        start = reader.pos
        tag = reader.take(1, f"{self.name} tag")[0]
        if tag == 0:
            return None
        if tag != 1:
            raise UnknownVariant(f"{self.name} tag is {tag}, not 0 (None) or 1 (Some)", start)
        return self.inner.read(reader, depth)


class Tuple(Schema):
    """Elements in order, no tags. Decodes to a tuple."""

    def __init__(self, *elements: Schema) -> None:
        self.elements = elements
        self.min_size = sum(e.min_size for e in elements)
        self.name = f"({', '.join(e.name for e in elements)})"

    def write(self, value: Any, out: bytearray, depth: int) -> None:
        if not isinstance(value, Sequence) or isinstance(value, (str, bytes)):
            raise BcsEncodeError(f"{self.name} needs a tuple, not {type(value).__name__}")
        if len(value) != len(self.elements):
            raise BcsEncodeError(f"{self.name} needs {len(self.elements)} elements, not {len(value)}")
        for index, (element, item) in enumerate(zip(self.elements, value)):
            try:
                element.write(item, out, depth)
            except BcsEncodeError as exc:
                _located(exc, f".{index}")
                raise

    def read(self, reader: Reader, depth: int) -> tuple[Any, ...]:
        items = []
        for index, element in enumerate(self.elements):
            try:
                items.append(element.read(reader, depth))
            except BcsError as exc:
                _located(exc, f".{index}")
                raise
        return tuple(items)


def _enter(name: str, reader: Reader | None, depth: int) -> int:
    if depth >= MAX_CONTAINER_DEPTH:
        problem = f"{name} nested deeper than {MAX_CONTAINER_DEPTH} containers"
        if reader is None:
            raise BcsEncodeError(problem)
        raise DepthExceeded(problem, reader.pos)
    return depth + 1


class Struct(Schema):
    """Named fields in order, no tags. Values are mappings from field name to value."""

    def __init__(self, name: str, fields: Iterable[tuple[str, Schema]]) -> None:
        self.name = name
        self.fields = tuple(fields)
        names = [field for field, _ in self.fields]
        if len(set(names)) != len(names):
            raise ValueError(f"struct {name} repeats a field name: {names}")
        self.min_size = sum(schema.min_size for _, schema in self.fields)

    def write(self, value: Any, out: bytearray, depth: int) -> None:
        depth = _enter(self.name, None, depth)
        if not isinstance(value, Mapping):
            raise BcsEncodeError(
                f"struct {self.name} needs a mapping of its fields, not {type(value).__name__}"
            )
        extra = set(value) - {field for field, _ in self.fields}
        if extra:
            raise BcsEncodeError(f"struct {self.name} has no field {sorted(map(str, extra))[0]!r}")
        for field, schema in self.fields:
            if field not in value:
                raise BcsEncodeError(f"struct {self.name} is missing field {field!r}")
            try:
                schema.write(value[field], out, depth)
            except BcsEncodeError as exc:
                _located(exc, f".{field}")
                raise

    def read(self, reader: Reader, depth: int) -> dict[str, Any]:
        depth = _enter(self.name, reader, depth)
        result: dict[str, Any] = {}
        for field, schema in self.fields:
            try:
                result[field] = schema.read(reader, depth)
            except BcsError as exc:
                _located(exc, f".{field}")
                raise
        return result


@dataclass(frozen=True)
class Variant:
    """An enum value: the variant's name and its payload (None for a variant without one)."""

    name: str
    value: Any = None


class Enum(Schema):
    """Variants in declaration order, each with a payload schema or None.

    Encoded as the variant's index (ULEB128) then the payload; values are :class:`Variant`.
    """

    def __init__(self, name: str, variants: Iterable[tuple[str, Schema | None]]) -> None:
        self.name = name
        self.variants = tuple(variants)
        self.index = {variant: i for i, (variant, _) in enumerate(self.variants)}
        if len(self.index) != len(self.variants):
            raise ValueError(f"enum {name} repeats a variant name")
        self.min_size = 1

    def write(self, value: Any, out: bytearray, depth: int) -> None:
        depth = _enter(self.name, None, depth)
        if not isinstance(value, Variant):
            raise BcsEncodeError(f"enum {self.name} needs a Variant, not {type(value).__name__}")
        index = self.index.get(value.name)
        if index is None:
            raise BcsEncodeError(f"enum {self.name} has no variant {value.name!r}")
        out += encode_leb128(index)
        payload = self.variants[index][1]
        if payload is None:
            if value.value is not None:
                raise BcsEncodeError(f"{self.name}::{value.name} carries no value")
            return
        try:
            payload.write(value.value, out, depth)
        except BcsEncodeError as exc:
            _located(exc, f".{value.name}")
            raise

    def read(self, reader: Reader, depth: int) -> Variant:
        depth = _enter(self.name, reader, depth)
        start = reader.pos
        index = reader.uleb128(f"{self.name} variant index")
        if index >= len(self.variants):
            raise UnknownVariant(
                f"{self.name} has {len(self.variants)} variants, no variant index {index}", start
            )
        name, payload = self.variants[index]
        if payload is None:
            return Variant(name)
        try:
            return Variant(name, payload.read(reader, depth))
        except BcsError as exc:
            _located(exc, f".{name}")
            raise


_HASHABLE_KEYS = (UInt, _Bool, FixedBytes, _Bytes, _String)


class Map(Schema):
    """A length, then (key, value) pairs sorted by the encoded key; decodes to a dict.

    Keys must decode to hashable values (integers, bools, byte strings, strings, tuples of
    these); decoding refuses keys out of order or repeated, as the canonical form has one
    order only.
    """

    def __init__(self, key: Schema, value: Schema) -> None:
        if not _hashable(key):
            raise ValueError(f"a BCS map key must decode to a hashable value; {key.name} does not")
        self.key = key
        self.value = value
        self.min_size = 1
        self.name = f"Map<{key.name}, {value.name}>"

    def write(self, value: Any, out: bytearray, depth: int) -> None:
        if not isinstance(value, Mapping):
            raise BcsEncodeError(f"{self.name} needs a mapping, not {type(value).__name__}")
        pairs = []
        for key, item in value.items():
            key_out = bytearray()
            self.key.write(key, key_out, depth)
            item_out = bytearray()
            try:
                self.value.write(item, item_out, depth)
            except BcsEncodeError as exc:
                _located(exc, f"[{key!r}]")
                raise
            pairs.append((bytes(key_out), bytes(item_out)))
        pairs.sort()
        keys = [key_bytes for key_bytes, _ in pairs]
        if len(set(keys)) != len(keys):
            raise BcsEncodeError(f"{self.name} has two keys with the same encoding")
        out += encode_leb128(len(pairs))
        for key_bytes, item_bytes in pairs:
            out += key_bytes
            out += item_bytes

    def read(self, reader: Reader, depth: int) -> dict[Any, Any]:
        start = reader.pos
        count = reader.length(f"{self.name} length")
        if count * (self.key.min_size + self.value.min_size) > reader.remaining:
            raise Truncated(f"{self.name} of {count} entries runs past the end of the input", start)
        result: dict[Any, Any] = {}
        previous: bytes | None = None
        for index in range(count):
            key_start = reader.pos
            try:
                key = self.key.read(reader, depth)
                key_bytes = reader.buf[key_start : reader.pos]
                if previous is not None and key_bytes <= previous:
                    problem = "repeated" if key_bytes == previous else "out of order"
                    raise NonCanonicalMap(f"{self.name} key {problem}", key_start)
                previous = key_bytes
                result[key] = self.value.read(reader, depth)
            except BcsError as exc:
                _located(exc, f"[{index}]")
                raise
        return result


def _hashable(schema: Schema) -> bool:
    if isinstance(schema, Mapped):
        return _hashable(schema.inner)
    if isinstance(schema, Tuple):
        return all(_hashable(e) for e in schema.elements)
    return isinstance(schema, _HASHABLE_KEYS)


class Lazy(Schema):
    """A schema named now and built on first use: the way to write recursive types
    (``TypeTag`` holds ``vector<TypeTag>``)."""

    def __init__(self, build: Callable[[], Schema], name: str, min_size: int = 0) -> None:
        self._build = build
        self._target: Schema | None = None
        self.name = name
        self.min_size = min_size

    @property
    def target(self) -> Schema:
        if self._target is None:
            self._target = target = self._build()
            # From now on calls go straight to the target: a recursive value costs one
            # Python frame per level, so 500 nested containers stay within the stack.
            self.read = target.read  # type: ignore[method-assign]
            self.write = target.write  # type: ignore[method-assign]
        return self._target

    def write(self, value: Any, out: bytearray, depth: int) -> None:
        self.target.write(value, out, depth)

    def read(self, reader: Reader, depth: int) -> Any:
        return self.target.read(reader, depth)


class Mapped(Schema):
    """Another schema's bytes, with values converted: ``decode`` turns what the inner
    schema reads into a Python object, ``encode`` turns the object back. Errors raised by
    the conversions as ``ValueError`` become BCS errors at the value's offset."""

    def __init__(
        self,
        inner: Schema,
        decode: Callable[[Any], Any],
        encode: Callable[[Any], Any],
        name: str | None = None,
    ) -> None:
        self.inner = inner
        self._decode = decode
        self._encode = encode
        self.name = name or inner.name
        self.min_size = inner.min_size

    def write(self, value: Any, out: bytearray, depth: int) -> None:
        try:
            plain = self._encode(value)
        except BcsEncodeError:
            raise
        except (ValueError, TypeError, AttributeError) as exc:
            raise BcsEncodeError(f"{self.name}: {exc}") from exc
        self.inner.write(plain, out, depth)

    def read(self, reader: Reader, depth: int) -> Any:
        start = reader.pos
        plain = self.inner.read(reader, depth)
        try:
            return self._decode(plain)
        except BcsError:
            raise
        except ValueError as exc:
            raise BcsError(f"{self.name}: {exc}", start) from exc


class Refused(Schema):
    """A payload this vocabulary does not read: decoding reaches it and stops with
    :class:`Unsupported` naming ``what``; encoding is impossible."""

    def __init__(self, what: str) -> None:
        self.name = what
        self.min_size = 0

    def write(self, value: Any, out: bytearray, depth: int) -> None:
        raise BcsEncodeError(f"{self.name} is not supported")

    def read(self, reader: Reader, depth: int) -> Any:
        raise Unsupported(f"{self.name} is not supported", reader.pos)


U8 = UInt(8)
U16 = UInt(16)
U32 = UInt(32)
U64 = UInt(64)
U128 = UInt(128)
U256 = UInt(256)
BOOL = _Bool()
BYTES = _Bytes()
"""``vector<u8>`` read as ``bytes``: a ULEB128 length, then the bytes."""
STRING = _String()
"""A UTF-8 string: a ULEB128 length, then the bytes."""
ADDRESS = FixedBytes(32, "address")


class _Uleb(Schema):
    name = "uleb128"
    min_size = 1

    def write(self, value: Any, out: bytearray, depth: int) -> None:
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**32:
            raise BcsEncodeError(f"uleb128 needs an int in 0..2^32-1, not {value!r}")
        out += encode_leb128(value)

    def read(self, reader: Reader, depth: int) -> int:
        return reader.uleb128("uleb128")


ULEB128 = _Uleb()
"""A bare ULEB128 number (32 bits, canonical), as some Sui structures use."""


def unit_enum(name: str, members: type[enum.IntEnum]) -> Schema:
    """An enum whose variants carry nothing, read as the members of a Python IntEnum."""
    schema = Enum(name, [(member.name, None) for member in members])
    return Mapped(schema, lambda v: members[v.name], lambda m: Variant(members(m).name), name)


__all__ = [
    "ADDRESS",
    "BOOL",
    "BYTES",
    "MAX_CONTAINER_DEPTH",
    "MAX_LENGTH",
    "STRING",
    "U8",
    "U16",
    "U32",
    "U64",
    "U128",
    "U256",
    "ULEB128",
    "BcsEncodeError",
    "BcsError",
    "DepthExceeded",
    "Enum",
    "FixedBytes",
    "InvalidBool",
    "InvalidUtf8",
    "Lazy",
    "LengthTooLarge",
    "Map",
    "Mapped",
    "NonCanonicalMap",
    "NonCanonicalUleb128",
    "Option",
    "Reader",
    "Refused",
    "Schema",
    "Struct",
    "TrailingBytes",
    "Truncated",
    "Tuple",
    "UInt",
    "UnknownVariant",
    "Unsupported",
    "Variant",
    "Vector",
    "unit_enum",
]
