"""The frame of a Candid binary message: ``DIDL``, the type table, the argument types.

Both directions share what is here: the decoder reads a message's own (wire) types with
``read_header`` before it reads any value, and the encoder writes its table with the same
opcodes and fixed-size layouts. Reading checks what the specification requires of a table
(entries are composite types, field ids increase, service methods are sorted and are
functions, references stay inside the table) and checks every count against the bytes
left before it allocates anything.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from vocab import leb128
from vocab.candid.errors import CandidDecodeError, CandidError
from vocab.candid.limits import DEFAULT_LIMITS, DecodeLimits
from vocab.candid.types import (
    EMPTY,
    FUNC_MODES,
    PRIM_BY_OPCODE,
    Field,
    FuncType,
    FutureType,
    OptType,
    RecordType,
    ServiceType,
    Type,
    VariantType,
    VarType,
    VecType,
)
from vocab.leb128 import Leb128Error

__all__ = [
    "MAGIC",
    "OPCODE_OPT",
    "OPCODE_VEC",
    "OPCODE_RECORD",
    "OPCODE_VARIANT",
    "OPCODE_FUNC",
    "OPCODE_SERVICE",
    "MODE_BY_CODE",
    "CODE_BY_MODE",
    "FIXED",
    "ARRAY_CODES",
    "Header",
    "read_header",
    "HeaderReader",
    "as_bytes",
    "read_leb128",
    "read_sleb128",
    "skip_leb128",
]

MAGIC = b"DIDL"

OPCODE_OPT = -18
OPCODE_VEC = -19
OPCODE_RECORD = -20
OPCODE_VARIANT = -21
OPCODE_FUNC = -22
OPCODE_SERVICE = -23
MODE_BY_CODE = {1: "query", 2: "oneway", 3: "composite_query"}
CODE_BY_MODE = {mode: FUNC_MODES.index(mode) + 1 for mode in FUNC_MODES}

FIXED = {
    "nat16": struct.Struct("<H"),
    "nat32": struct.Struct("<I"),
    "nat64": struct.Struct("<Q"),
    "int8": struct.Struct("<b"),
    "int16": struct.Struct("<h"),
    "int32": struct.Struct("<i"),
    "int64": struct.Struct("<q"),
    "float32": struct.Struct("<f"),
    "float64": struct.Struct("<d"),
}
"""The little-endian layout of each fixed-size number type."""
ARRAY_CODES = {
    "nat16": "H",
    "nat32": "I",
    "nat64": "Q",
    "int8": "b",
    "int16": "h",
    "int32": "i",
    "int64": "q",
    "float32": "f",
    "float64": "d",
}
"""``struct`` codes of the number types whose vectors pack and unpack in one call."""


def read_leb128(buf: bytes, pos: int, end: int, what: str) -> tuple[int, int]:
    """``vocab.leb128``'s readers, with their errors as Candid decoding errors at an offset."""
    try:
        return leb128.read_leb128(buf, pos, end, what)
    except Leb128Error as exc:
        raise CandidDecodeError(str(exc), exc.pos) from None


def read_sleb128(buf: bytes, pos: int, end: int, what: str) -> tuple[int, int]:
    try:
        return leb128.read_sleb128(buf, pos, end, what)
    except Leb128Error as exc:
        raise CandidDecodeError(str(exc), exc.pos) from None


def skip_leb128(buf: bytes, pos: int, end: int, what: str) -> int:
    try:
        return leb128.skip_leb128(buf, pos, end, what)
    except Leb128Error as exc:
        raise CandidDecodeError(str(exc), exc.pos) from None


@dataclass(frozen=True)
class Header:
    """A message's own types: the type table (as named references) and the argument types."""

    table: tuple[VarType, ...]
    args: tuple[Type, ...]
    values_offset: int


class HeaderReader:
    """Reads the type table and argument types at the start of ``buf``.

    ``read`` lets Python's own errors (an index past the end, a recursion too deep)
    through, for the caller to turn into a decoding error or a retry on a larger stack.
    """

    def __init__(self, buf: bytes, limits: DecodeLimits) -> None:
        self.buf = buf
        self.pos = 0
        self.end = len(buf)
        self.limits = limits
        self.table: list[VarType] = []

    def leb(self, what: str) -> int:
        value, self.pos = read_leb128(self.buf, self.pos, self.end, what)
        return value

    def sleb(self, what: str) -> int:
        value, self.pos = read_sleb128(self.buf, self.pos, self.end, what)
        return value

    def count(self, what: str, min_size: int) -> int:
        start = self.pos
        n = self.leb(what)
        if n * min_size > self.end - self.pos:
            raise CandidDecodeError(
                f"{what} of {n} cannot fit in the {self.end - self.pos} bytes left", start
            )
        return n

    def ref(self, what: str) -> Type:
        start = self.pos
        code = self.sleb(what)
        if code >= 0:
            if code >= len(self.table):
                raise CandidDecodeError(
                    f"{what} refers to type table entry {code}, but the table has {len(self.table)} entries",
                    start,
                )
            return self.table[code]
        prim = PRIM_BY_OPCODE.get(code)
        if prim is None:
            if OPCODE_SERVICE <= code <= OPCODE_OPT:
                raise CandidDecodeError(
                    f"{what} uses composite opcode {code} directly; composite types must "
                    "live in the type table",
                    start,
                )
            raise CandidDecodeError(f"{what} has unknown type opcode {code}", start)
        return prim

    def fields(self, kind: str, index: int) -> tuple[Field, ...]:
        n = self.count(f"the number of fields of {kind} entry {index}", 2)
        fields = []
        previous = -1
        for _ in range(n):
            start = self.pos
            field_id = self.leb(f"a field id of {kind} entry {index}")
            if field_id > 0xFFFFFFFF:
                raise CandidDecodeError(f"{kind} field id {field_id} exceeds 2^32-1", start)
            if field_id <= previous:
                raise CandidDecodeError(
                    f"{kind} field ids must increase strictly: {field_id} follows {previous}",
                    start,
                )
            previous = field_id
            fields.append(Field(field_id, None, self.ref(f"the type of {kind} field {field_id}")))
        return tuple(fields)

    def entry(self, index: int) -> Type:
        start = self.pos
        code = self.sleb(f"type table entry {index}")
        if code == OPCODE_OPT:
            return OptType(self.ref(f"the inner type of opt entry {index}"))
        if code == OPCODE_VEC:
            return VecType(self.ref(f"the element type of vec entry {index}"))
        if code == OPCODE_RECORD:
            return RecordType(self.fields("record", index))
        if code == OPCODE_VARIANT:
            return VariantType(self.fields("variant", index))
        if code == OPCODE_FUNC:
            nargs = self.count(f"the argument count of func entry {index}", 1)
            args = tuple(self.ref(f"an argument type of func entry {index}") for _ in range(nargs))
            nres = self.count(f"the result count of func entry {index}", 1)
            results = tuple(self.ref(f"a result type of func entry {index}") for _ in range(nres))
            mode_start = self.pos
            nmodes = self.count(f"the annotation count of func entry {index}", 1)
            if nmodes > 1:
                raise CandidDecodeError(
                    f"func entry {index} has {nmodes} annotations; at most one is allowed",
                    mode_start,
                )
            modes = []
            for _ in range(nmodes):
                code_pos = self.pos
                mode = MODE_BY_CODE.get(self.buf[self.pos])
                if mode is None:
                    raise CandidDecodeError(f"unknown function annotation {self.buf[self.pos]:02x}", code_pos)
                self.pos += 1
                modes.append(mode)
            return FuncType(args, results, tuple(modes))
        if code == OPCODE_SERVICE:
            n = self.count(f"the method count of service entry {index}", 2)
            methods = []
            previous: bytes | None = None
            for _ in range(n):
                name_start = self.pos
                length = self.count("a method name", 1)
                raw = self.buf[self.pos : self.pos + length]
                try:
                    name = raw.decode("utf-8")
                except UnicodeDecodeError:
                    raise CandidDecodeError("a method name is not valid UTF-8", self.pos) from None
                self.pos += length
                if previous is not None and raw <= previous:
                    raise CandidDecodeError(
                        f"service methods must be sorted and unique: {name!r} follows "
                        f"{previous.decode('utf-8')!r}",
                        name_start,
                    )
                previous = raw
                methods.append((name, self.ref(f"the type of method {name!r}")))
            return ServiceType(tuple(methods))
        if code < -24:
            length = self.count(f"the length of future type entry {index}", 1)
            self.pos += length
            return FutureType(code)
        if code >= 0:
            raise CandidDecodeError(
                f"type table entry {index} is a reference to entry {code}; entries must be composite types",
                start,
            )
        raise CandidDecodeError(
            f"type table entry {index} has opcode {code}, which is not a composite type",
            start,
        )

    def read(self) -> Header:
        if self.buf[:4] != MAGIC:
            raise CandidDecodeError("not a Candid message: it does not start with DIDL", 0)
        self.pos = 4
        start = self.pos
        n = self.count("the type table length", 1)
        if n > self.limits.max_type_table:
            raise CandidDecodeError(
                f"type table of {n} entries exceeds the limit of {self.limits.max_type_table}",
                start,
            )
        self.table = [VarType(f"table{i}") for i in range(n)]
        for index in range(n):
            self.table[index].target = self.entry(index)
        nargs = self.count("the argument count", 1)
        args = tuple(self.ref(f"the type of argument {i}") for i in range(nargs))
        self._check_methods()
        _replace_empty_records(self.table)
        return Header(tuple(self.table), args, self.pos)

    def _check_methods(self) -> None:
        for entry in self.table:
            service = entry.target
            if isinstance(service, ServiceType):
                for name, method in service.methods:
                    if not (isinstance(method, VarType) and isinstance(method.target, FuncType)):
                        raise CandidDecodeError(
                            f"{entry.name}: method {name!r} has type {method}, not a function type"
                        )


def _replace_empty_records(table: list[VarType]) -> None:
    """Records that contain themselves through records alone have no finite value.

    Such a record (``type R = record { R }``) is the same as ``empty``; replacing it makes
    a value of it fail at once, instead of recursing without reading a byte.
    """
    successors: dict[int, list[int]] = {}
    for index, entry in enumerate(table):
        if isinstance(entry.target, RecordType):
            successors[index] = []
    position = {id(table[index]): index for index in successors}
    predecessors: dict[int, list[int]] = {index: [] for index in successors}
    for index in successors:
        record_type = table[index].target
        assert isinstance(record_type, RecordType)
        for item in record_type.fields:
            inside = position.get(id(item.type))
            if inside is not None:
                successors[index].append(inside)
                predecessors[inside].append(index)
    remaining = {index: len(succ) for index, succ in successors.items()}
    queue = [index for index, count in remaining.items() if count == 0]
    while queue:
        done = queue.pop()
        for before in predecessors[done]:
            remaining[before] -= 1
            if remaining[before] == 0:
                queue.append(before)
    for index, count in remaining.items():
        if count > 0:
            table[index].target = EMPTY


def read_header(blob: bytes, limits: DecodeLimits = DEFAULT_LIMITS) -> Header:
    """Parse and validate a message's type table and argument types."""
    buf = as_bytes(blob)
    try:
        return HeaderReader(buf, limits).read()
    except CandidError:
        raise
    except (IndexError, ValueError, OverflowError, MemoryError, RecursionError) as exc:
        raise CandidDecodeError(f"malformed type table: {exc}") from None


def as_bytes(blob: object) -> bytes:
    """The message as ``bytes``; anything but a bytes-like object is an error."""
    if isinstance(blob, bytes):
        return blob
    if isinstance(blob, (bytearray, memoryview)):
        return bytes(blob)
    raise CandidDecodeError(f"a Candid message is bytes, not {type(blob).__name__}")
