"""The Candid binary format: ``DIDL``, a type table, argument types, then the values.

Decoding reads the message's own (wire) types, then reads each value *at the expected
type* with the specification's coercion rules: extra record fields and arguments are
skipped, missing optional ones read as null, ``nat`` reads as ``int``, and under ``opt`` a
value that does not fit becomes ``None`` instead of an error.

For speed, a reader function is compiled once per pair of (wire type, expected type) and
reused for every value of that pair; a 10,000-element vector of records costs one
compilation and 10,000 calls.

Cost stays linear in the input: every count is checked against the bytes left before
anything is allocated, values that occupy no bytes are charged against a budget that
grows with the input (see ``vocab.candid.limits``), skipping a value of a zero-sized
type costs one step whatever its size, and nesting is bounded.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from vocab import leb128
from vocab.candid.errors import (
    CandidCoercionError,
    CandidDecodeError,
    CandidEncodeError,
    CandidError,
    CandidTypeError,
)
from vocab.candid.limits import DEFAULT_LIMITS, DecodeLimits, retry_with_stack
from vocab.candid.subtype import SubtypeChecker
from vocab.candid.types import (
    EMPTY,
    FUNC_MODES,
    INT_RANGES,
    PRIM_BY_OPCODE,
    Field,
    FuncType,
    FutureType,
    OptType,
    PrimType,
    RecordType,
    ServiceType,
    Type,
    VariantType,
    VarType,
    VecType,
    is_null_like,
    resolve,
)
from vocab.candid.values import FuncRef, Some, Variant
from vocab.errors import PrincipalError
from vocab.leb128 import Leb128Error, encode_leb128, encode_sleb128
from vocab.principal import MAX_LENGTH as MAX_PRINCIPAL_LENGTH
from vocab.principal import Principal

__all__ = ["encode", "decode", "decode_with_types", "read_header", "Header", "MAGIC"]

MAGIC = b"DIDL"

Reader = Callable[["_Cursor"], Any]

_OPCODE_OPT = -18
_OPCODE_VEC = -19
_OPCODE_RECORD = -20
_OPCODE_VARIANT = -21
_OPCODE_FUNC = -22
_OPCODE_SERVICE = -23
_MODE_BY_CODE = {1: "query", 2: "oneway", 3: "composite_query"}
_CODE_BY_MODE = {mode: FUNC_MODES.index(mode) + 1 for mode in FUNC_MODES}

_FIXED = {
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
_ARRAY_CODES = {
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
_COMPILE_CHUNK = 48
"""Compile this many levels of a type eagerly; deeper levels compile when first reached."""


class _Cursor:
    """Where decoding is: the input, the position, and what may still be spent."""

    __slots__ = ("buf", "pos", "end", "budget", "depth", "max_depth")

    def __init__(self, buf: bytes, pos: int, budget: int, max_depth: int) -> None:
        self.buf = buf
        self.pos = pos
        self.end = len(buf)
        self.budget = budget
        self.depth = 0
        self.max_depth = max_depth


def read_leb128(buf: bytes, pos: int, end: int, what: str) -> tuple[int, int]:
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


def _article(name: str) -> str:
    return f"an {name}" if name[0] in "aeiou" else f"a {name}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _eof(r: _Cursor, what: str, needed: int | None = None) -> CandidDecodeError:
    if needed is None:
        return CandidDecodeError(f"unexpected end of input while reading {what}", r.pos)
    return CandidDecodeError(f"{what} needs {needed} bytes but only {r.end - r.pos} remain", r.pos)


def _over_budget(r: _Cursor) -> CandidDecodeError:
    return CandidDecodeError(
        "decoding this message would cost more than its size allows "
        "(too many zero-sized values or skipped elements)",
        r.pos,
    )


def _too_deep(r: _Cursor) -> CandidDecodeError:
    return CandidDecodeError(f"values nest deeper than {r.max_depth} levels", r.pos)


# -- primitive readers -------------------------------------------------------------------


def _read_none(r: _Cursor) -> None:
    return None


def _read_empty(r: _Cursor) -> None:
    raise CandidDecodeError("the wire type is empty, which has no values", r.pos)


def _read_bool(r: _Cursor) -> bool:
    p = r.pos
    if p >= r.end:
        raise _eof(r, "a bool")
    b = r.buf[p]
    if b > 1:
        raise CandidDecodeError(f"a bool is 00 or 01, not {b:02x}", p)
    r.pos = p + 1
    return b == 1


def _read_nat(r: _Cursor) -> int:
    buf = r.buf
    p = r.pos
    if p < r.end:
        b = buf[p]
        if b < 0x80:
            r.pos = p + 1
            return b
    value, r.pos = read_leb128(buf, p, r.end, "a nat")
    return value


def _read_int(r: _Cursor) -> int:
    value, r.pos = read_sleb128(r.buf, r.pos, r.end, "an int")
    return value


def _skip_leb(r: _Cursor) -> None:
    r.pos = skip_leb128(r.buf, r.pos, r.end, "a number")


def _read_nat8(r: _Cursor) -> int:
    p = r.pos
    if p >= r.end:
        raise _eof(r, "a nat8")
    r.pos = p + 1
    return r.buf[p]


def _fixed_reader(name: str) -> Reader:
    unpack = _FIXED[name].unpack_from
    size = _FIXED[name].size
    what = _article(name)

    def read(r: _Cursor) -> Any:
        p = r.pos
        q = p + size
        if q > r.end:
            raise _eof(r, what, size)
        r.pos = q
        return unpack(r.buf, p)[0]

    return read


def _fixed_skipper(size: int, what: str) -> Reader:
    def skip(r: _Cursor) -> None:
        q = r.pos + size
        if q > r.end:
            raise _eof(r, what, size)
        r.pos = q

    return skip


def _read_length(r: _Cursor, what: str) -> int:
    n = _read_nat(r)
    if n > r.end - r.pos:
        raise CandidDecodeError(
            f"{what} of {n} bytes runs past the end of the input ({r.end - r.pos} bytes left)",
            r.pos,
        )
    return n


def _read_text(r: _Cursor) -> str:
    n = _read_length(r, "text")
    p = r.pos
    q = p + n
    try:
        value = r.buf[p:q].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CandidDecodeError(f"text is not valid UTF-8 ({exc.reason})", p + exc.start) from None
    r.pos = q
    return value


def _read_principal_bytes(r: _Cursor) -> bytes:
    p = r.pos
    if p >= r.end:
        raise _eof(r, "a principal")
    flag = r.buf[p]
    if flag != 1:
        if flag == 0:
            raise CandidDecodeError("opaque references (flag 00) are not supported", p)
        raise CandidDecodeError(f"a reference starts with 01, not {flag:02x}", p)
    r.pos = p + 1
    n = _read_nat(r)
    if n > MAX_PRINCIPAL_LENGTH:
        raise CandidDecodeError(
            f"a principal has at most {MAX_PRINCIPAL_LENGTH} bytes, this one claims {n}", r.pos
        )
    q = r.pos + n
    if q > r.end:
        raise _eof(r, "a principal", n)
    raw = r.buf[r.pos : q]
    r.pos = q
    return raw


def _read_principal(r: _Cursor) -> Principal:
    return Principal(_read_principal_bytes(r))


def _read_func(r: _Cursor) -> FuncRef:
    p = r.pos
    if p >= r.end:
        raise _eof(r, "a function reference")
    flag = r.buf[p]
    if flag != 1:
        if flag == 0:
            raise CandidDecodeError("opaque function references (flag 00) are not supported", p)
        raise CandidDecodeError(f"a function reference starts with 01, not {flag:02x}", p)
    r.pos = p + 1
    service = _read_principal(r)
    method = _read_text(r)
    return FuncRef(service, method)


def _skip_bool(r: _Cursor) -> None:
    _read_bool(r)


def _skip_func(r: _Cursor) -> None:
    _read_func(r)


def _skip_principal(r: _Cursor) -> None:
    _read_principal_bytes(r)


def _skip_text(r: _Cursor) -> None:
    _read_text(r)


def _skip_future(r: _Cursor) -> None:
    m = _read_nat(r)
    refs = _read_nat(r)
    if refs:
        raise CandidDecodeError(
            f"a value of a future type carries {refs} references, which are not supported", r.pos
        )
    if m > r.end - r.pos:
        raise _eof(r, "a value of a future type", m)
    r.pos += m


_PRIM_READERS: dict[str, Reader] = {
    "null": _read_none,
    "reserved": _read_none,
    "empty": _read_empty,
    "bool": _read_bool,
    "nat": _read_nat,
    "int": _read_int,
    "nat8": _read_nat8,
    "text": _read_text,
    "principal": _read_principal,
    **{name: _fixed_reader(name) for name in _FIXED},
}
_PRIM_SKIPPERS: dict[str, Reader] = {
    "null": _read_none,
    "reserved": _read_none,
    "empty": _read_empty,
    "bool": _skip_bool,
    "nat": _skip_leb,
    "int": _skip_leb,
    "nat8": _fixed_skipper(1, "a nat8"),
    "text": _skip_text,
    "principal": _skip_principal,
    **{name: _fixed_skipper(s.size, _article(name)) for name, s in _FIXED.items()},
}


# -- the header ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Header:
    """A message's own types: the type table (as named references) and the argument types."""

    table: tuple[VarType, ...]
    args: tuple[Type, ...]
    values_offset: int


class _HeaderReader:
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
            if _OPCODE_SERVICE <= code <= _OPCODE_OPT:
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
        if code == _OPCODE_OPT:
            return OptType(self.ref(f"the inner type of opt entry {index}"))
        if code == _OPCODE_VEC:
            return VecType(self.ref(f"the element type of vec entry {index}"))
        if code == _OPCODE_RECORD:
            return RecordType(self.fields("record", index))
        if code == _OPCODE_VARIANT:
            return VariantType(self.fields("variant", index))
        if code == _OPCODE_FUNC:
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
                mode = _MODE_BY_CODE.get(self.buf[self.pos])
                if mode is None:
                    raise CandidDecodeError(f"unknown function annotation {self.buf[self.pos]:02x}", code_pos)
                self.pos += 1
                modes.append(mode)
            return FuncType(args, results, tuple(modes))
        if code == _OPCODE_SERVICE:
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
        target = entry.target
        if isinstance(target, RecordType):
            successors[index] = []
    position = {id(table[index]): index for index in successors}
    predecessors: dict[int, list[int]] = {index: [] for index in successors}
    for index in successors:
        record_type = table[index].target
        assert isinstance(record_type, RecordType)
        for item in record_type.fields:
            target = position.get(id(item.type))
            if target is not None:
                successors[index].append(target)
                predecessors[target].append(index)
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
    buf = _as_bytes(blob)
    try:
        return _HeaderReader(buf, limits).read()
    except CandidError:
        raise
    except (IndexError, ValueError, OverflowError, MemoryError, RecursionError) as exc:
        raise CandidDecodeError(f"malformed type table: {exc}") from None


# -- compiled readers ----------------------------------------------------------------------


def _const_none(r: _Cursor) -> None:
    return None


class _Session:
    """The readers compiled for one message, keyed by (wire type, expected type)."""

    def __init__(self) -> None:
        self.checker = SubtypeChecker()
        self.readers: dict[tuple[int, int], Reader] = {}
        self.skippers: dict[int, Reader] = {}
        self.zero: dict[int, int | None] = {}

    # ---- zero-sized types

    def zero_cost(self, t: Type) -> int | None:
        """Values of ``t`` take no bytes: the number of values one such value holds."""
        t = resolve(t)
        memo = self.zero
        known = memo.get(id(t), -1)
        if known != -1:
            return known
        active: set[int] = set()
        stack: list[tuple[Type, bool]] = [(t, False)]
        while stack:
            node, expanded = stack.pop()
            key = id(node)
            if not expanded and key in memo:
                continue
            if isinstance(node, PrimType):
                memo[key] = 1 if node.name in ("null", "reserved") else None
                continue
            if not isinstance(node, RecordType):
                memo[key] = None
                continue
            children = [resolve(item.type) for item in node.fields]
            if not expanded:
                active.add(key)
                stack.append((node, True))
                for child in children:
                    if id(child) not in memo and id(child) not in active:
                        stack.append((child, False))
                continue
            active.discard(key)
            total: int | None = 1
            for child in children:
                cost = memo.get(id(child))
                if cost is None:
                    total = None
                    break
                total += cost  # type: ignore[operator]
            memo[key] = total
        return memo[id(t)]

    # ---- skipping

    def skipper(self, w: Type, depth: int = 0) -> Reader:
        w = resolve(w)
        key = id(w)
        found = self.skippers.get(key)
        if found is not None:
            return found
        if depth > _COMPILE_CHUNK:
            return self._lazy(lambda: self.skipper(w))
        cell: list[Reader] = []

        def forward(r: _Cursor) -> Any:
            return cell[0](r)

        self.skippers[key] = forward
        built = self._build_skipper(w, depth + 1)
        cell.append(built)
        self.skippers[key] = built
        return built

    def _lazy(self, compile_: Callable[[], Reader]) -> Reader:
        cell: list[Reader] = []

        def lazy(r: _Cursor) -> Any:
            if not cell:
                cell.append(compile_())
            return cell[0](r)

        return lazy

    def _build_skipper(self, w: Type, depth: int) -> Reader:
        if isinstance(w, PrimType):
            return _PRIM_SKIPPERS[w.name]
        zero = self.zero_cost(w)
        if zero is not None:

            def skip_zero(r: _Cursor) -> None:
                r.budget -= zero
                if r.budget < 0:
                    raise _over_budget(r)

            return skip_zero
        if isinstance(w, OptType):
            inner = self.skipper(w.inner, depth)

            def skip_opt(r: _Cursor) -> None:
                p = r.pos
                if p >= r.end:
                    raise _eof(r, "an opt tag")
                tag = r.buf[p]
                r.pos = p + 1
                if tag == 1:
                    d = r.depth + 1
                    if d > r.max_depth:
                        raise _too_deep(r)
                    r.depth = d
                    inner(r)
                    r.depth = d - 1
                elif tag:
                    raise CandidDecodeError(f"an opt tag is 00 or 01, not {tag:02x}", p)

            return skip_opt
        if isinstance(w, VecType):
            inner = self.skipper(w.inner, depth)
            inner_zero = self.zero_cost(w.inner)

            def skip_vec(r: _Cursor) -> None:
                n = _read_nat(r)
                if inner_zero is not None:
                    r.budget -= n * inner_zero + 1
                    if r.budget < 0:
                        raise _over_budget(r)
                    return
                if n > r.end - r.pos:
                    raise CandidDecodeError(
                        f"a vector of {_plural(n, 'element')} cannot fit in the {r.end - r.pos} bytes left",
                        r.pos,
                    )
                r.budget -= n
                if r.budget < 0:
                    raise _over_budget(r)
                d = r.depth + 1
                if d > r.max_depth:
                    raise _too_deep(r)
                r.depth = d
                for _ in range(n):
                    inner(r)
                r.depth = d - 1

            return skip_vec
        if isinstance(w, RecordType):
            parts = [self.skipper(item.type, depth) for item in w.fields]
            cost = len(parts) + 1

            def skip_record(r: _Cursor) -> None:
                r.budget -= cost
                if r.budget < 0:
                    raise _over_budget(r)
                d = r.depth + 1
                if d > r.max_depth:
                    raise _too_deep(r)
                r.depth = d
                for part in parts:
                    part(r)
                r.depth = d - 1

            return skip_record
        if isinstance(w, VariantType):
            cases = [self.skipper(item.type, depth) for item in w.fields]
            ncases = len(cases)

            def skip_variant(r: _Cursor) -> None:
                start = r.pos
                index = _read_nat(r)
                if index >= ncases:
                    raise CandidDecodeError(
                        f"variant index {index} is out of range: the type has {ncases} cases",
                        start,
                    )
                d = r.depth + 1
                if d > r.max_depth:
                    raise _too_deep(r)
                r.depth = d
                cases[index](r)
                r.depth = d - 1

            return skip_variant
        if isinstance(w, FuncType):
            return _skip_func
        if isinstance(w, ServiceType):
            return _skip_principal
        if isinstance(w, FutureType):
            return _skip_future
        raise CandidTypeError(f"cannot read values of {w!r}")

    # ---- reading at an expected type

    def reader(self, w: Type, e: Type, depth: int = 0) -> Reader:
        w = resolve(w)
        e = resolve(e)
        key = (id(w), id(e))
        found = self.readers.get(key)
        if found is not None:
            return found
        if depth > _COMPILE_CHUNK:
            return self._lazy(lambda: self.reader(w, e))
        cell: list[Reader] = []

        def forward(r: _Cursor) -> Any:
            return cell[0](r)

        self.readers[key] = forward
        built = self._build_reader(w, e, depth + 1)
        cell.append(built)
        self.readers[key] = built
        return built

    @staticmethod
    def _mismatch(w: Type, e: Type, why: str | None = None) -> Reader:
        message = why or f"a value of wire type {w} cannot be read as {e}"

        def fail(r: _Cursor) -> Any:
            raise CandidCoercionError(message, r.pos)

        return fail

    def _build_reader(self, w: Type, e: Type, depth: int) -> Reader:
        if isinstance(w, PrimType) and w.name == "empty":
            return _read_empty
        if isinstance(e, PrimType):
            name = e.name
            if name == "reserved":
                return self.skipper(w, depth)
            if name == "empty":
                return self._mismatch(w, e, f"no value (here of wire type {w}) has type empty")
            if isinstance(w, PrimType):
                if w.name == name:
                    return _PRIM_READERS[name]
                if w.name == "nat" and name == "int":
                    return _read_nat
                return self._mismatch(w, e)
            if name == "principal" and isinstance(w, ServiceType):
                return _read_principal
            return self._mismatch(w, e)
        if isinstance(e, OptType):
            return self._opt_reader(w, e, depth)
        if isinstance(e, VecType):
            if isinstance(w, VecType):
                return self._vec_reader(w, e, depth)
            return self._mismatch(w, e)
        if isinstance(e, RecordType):
            if isinstance(w, RecordType):
                return self._record_reader(w, e, depth)
            return self._mismatch(w, e)
        if isinstance(e, VariantType):
            if isinstance(w, VariantType):
                return self._variant_reader(w, e, depth)
            return self._mismatch(w, e)
        if isinstance(e, FuncType):
            if isinstance(w, FuncType) and self.checker.is_subtype(w, e):
                return _read_func
            return self._mismatch(w, e, f"wire type {w} is not a subtype of {e}")
        if isinstance(e, ServiceType):
            if isinstance(w, ServiceType) and self.checker.is_subtype(w, e):
                return _read_principal
            return self._mismatch(w, e, f"wire type {w} is not a subtype of {e}")
        raise CandidTypeError(f"cannot decode at {e!r}: not a value type")

    def _attempt(self, w: Type, e: Type, depth: int) -> Reader:
        """Read ``w`` at ``e`` as ``Some``, or ``None`` if it does not coerce (opt rules)."""
        if self.checker.is_subtype(w, e):
            inner = self.reader(w, e, depth)

            def some(r: _Cursor) -> Any:
                return Some(inner(r))

            return some
        skip = self.skipper(w, depth)
        if self.checker.is_subtype(w, e, lenient=True):
            inner = self.reader(w, e, depth)

            def maybe(r: _Cursor) -> Any:
                pos = r.pos
                depth_before = r.depth
                try:
                    return Some(inner(r))
                except CandidCoercionError:
                    r.pos = pos
                    r.depth = depth_before
                    skip(r)
                    return None

            return maybe

        def absent(r: _Cursor) -> None:
            skip(r)
            return None

        return absent

    def _opt_reader(self, w: Type, e: OptType, depth: int) -> Reader:
        if isinstance(w, PrimType) and w.name in ("null", "reserved"):
            return _const_none
        if isinstance(w, FutureType):
            return _skip_future
        if isinstance(w, OptType):
            inner = self._attempt(w.inner, e.inner, depth)

            def read_opt(r: _Cursor) -> Any:
                p = r.pos
                if p >= r.end:
                    raise _eof(r, "an opt tag")
                tag = r.buf[p]
                r.pos = p + 1
                if tag == 0:
                    return None
                if tag != 1:
                    raise CandidDecodeError(f"an opt tag is 00 or 01, not {tag:02x}", p)
                d = r.depth + 1
                if d > r.max_depth:
                    raise _too_deep(r)
                r.depth = d
                value = inner(r)
                r.depth = d - 1
                return value

            return read_opt
        # A value that is not optional itself reads as present, through as many levels of
        # opt as the expected type has, if it fits the type inside.
        levels = 1
        current = resolve(e.inner)
        seen = {id(e)}
        while isinstance(current, OptType):
            if id(current) in seen:
                return self._mismatch(
                    w, e, f"expected type {e} nests opt without end; a {w} cannot be read as it"
                )
            seen.add(id(current))
            levels += 1
            current = resolve(current.inner)
        innermost = self._attempt(w, current, depth)
        if levels == 1:
            return innermost
        wraps = levels - 1

        def read_wrapped(r: _Cursor) -> Any:
            value = innermost(r)
            for _ in range(wraps):
                value = Some(value)
            return value

        return read_wrapped

    def _vec_reader(self, w: VecType, e: VecType, depth: int) -> Reader:
        wi = resolve(w.inner)
        ei = resolve(e.inner)
        if isinstance(wi, PrimType) and isinstance(ei, PrimType) and wi.name == ei.name:
            if wi.name == "nat8":
                return _read_blob
            code = _ARRAY_CODES.get(wi.name)
            if code is not None:
                return _array_reader(code, _FIXED[wi.name].size)
        inner = self.reader(wi, ei, depth)
        zero = self.zero_cost(wi)

        def read_vec(r: _Cursor) -> list[Any]:
            n = _read_nat(r)
            if zero is None:
                if n > r.end - r.pos:
                    raise CandidDecodeError(
                        f"a vector of {_plural(n, 'element')} cannot fit in the {r.end - r.pos} bytes left",
                        r.pos,
                    )
                r.budget -= n
            else:
                r.budget -= n * zero + 1
            if r.budget < 0:
                raise _over_budget(r)
            if inner is _const_none or inner is _read_none:
                return [None] * n
            d = r.depth + 1
            if d > r.max_depth:
                raise _too_deep(r)
            r.depth = d
            out = [inner(r) for _ in range(n)]
            r.depth = d - 1
            return out

        return read_vec

    def _record_reader(self, w: RecordType, e: RecordType, depth: int) -> Reader:
        wire = {item.id: item for item in w.fields}
        expected = {item.id: item for item in e.fields}
        steps: list[tuple[str | int | None, Reader]] = []
        for field_id in sorted(wire.keys() | expected.keys()):
            have = wire.get(field_id)
            want = expected.get(field_id)
            if have is not None and want is not None:
                steps.append((want.key, self.reader(have.type, want.type, depth)))
            elif have is not None:
                steps.append((None, self.skipper(have.type, depth)))
            else:
                assert want is not None
                if not is_null_like(want.type):
                    return self._mismatch(
                        w,
                        e,
                        f"record field {want.label} of type {want.type} is missing from the "
                        f"value (wire type {w})",
                    )
                steps.append((want.key, _const_none))
        cost = len(steps) + 1
        if all(key is not None for key, _ in steps):

            def read_record(r: _Cursor) -> dict[Any, Any]:
                r.budget -= cost
                if r.budget < 0:
                    raise _over_budget(r)
                d = r.depth + 1
                if d > r.max_depth:
                    raise _too_deep(r)
                r.depth = d
                out = {key: step(r) for key, step in steps}
                r.depth = d - 1
                return out

            return read_record

        def read_record_skipping(r: _Cursor) -> dict[Any, Any]:
            r.budget -= cost
            if r.budget < 0:
                raise _over_budget(r)
            d = r.depth + 1
            if d > r.max_depth:
                raise _too_deep(r)
            r.depth = d
            out = {}
            for key, step in steps:
                value = step(r)
                if key is not None:
                    out[key] = value
            r.depth = d - 1
            return out

        return read_record_skipping

    def _variant_reader(self, w: VariantType, e: VariantType, depth: int) -> Reader:
        expected = {item.id: item for item in e.fields}
        cases: list[tuple[str | int, Reader] | int] = []
        for item in w.fields:
            want = expected.get(item.id)
            if want is None:
                cases.append(item.id)
            else:
                cases.append((want.key, self.reader(item.type, want.type, depth)))
        ncases = len(cases)

        def read_variant(r: _Cursor) -> Variant:
            start = r.pos
            index = _read_nat(r)
            if index >= ncases:
                raise CandidDecodeError(
                    f"variant index {index} is out of range: the type has {ncases} cases", start
                )
            case = cases[index]
            if type(case) is int:
                raise CandidCoercionError(
                    f"variant case {case} is not a case of the expected type {e}", start
                )
            key, read = case  # type: ignore[misc]
            d = r.depth + 1
            if d > r.max_depth:
                raise _too_deep(r)
            r.depth = d
            value = read(r)
            r.depth = d - 1
            return Variant(key, value)

        return read_variant


def _read_blob(r: _Cursor) -> bytes:
    n = _read_length(r, "a blob")
    p = r.pos
    r.pos = p + n
    return r.buf[p : p + n]


def _array_reader(code: str, size: int) -> Reader:
    def read_array(r: _Cursor) -> list[Any]:
        n = _read_nat(r)
        if n * size > r.end - r.pos:
            raise CandidDecodeError(
                f"a vector of {n} {size}-byte numbers cannot fit in the {r.end - r.pos} bytes left",
                r.pos,
            )
        p = r.pos
        r.pos = p + n * size
        return list(struct.unpack_from(f"<{n}{code}", r.buf, p))

    return read_array


def _as_bytes(blob: object) -> bytes:
    if isinstance(blob, bytes):
        return blob
    if isinstance(blob, (bytearray, memoryview)):
        return bytes(blob)
    raise CandidDecodeError(f"a Candid message is bytes, not {type(blob).__name__}")


def _check_types(types: Sequence[Type] | str) -> list[Type]:
    """The argument types as a list; Candid text such as ``"(text, nat)"`` is parsed."""
    if isinstance(types, str):
        from vocab.candid.text import parse_types  # text builds on this module

        return parse_types(types)
    if isinstance(types, Type):
        raise CandidTypeError("types is a sequence of Candid types, one per argument")
    checked = list(types)
    for index, t in enumerate(checked):
        if not isinstance(t, Type):
            raise CandidTypeError(f"argument type {index} is not a Candid type: {t!r}")
    return checked


def _prefixed(exc: CandidDecodeError, prefix: str) -> CandidDecodeError:
    """The same error, its message led by where in the message it happened."""
    copy = type(exc)(f"{prefix}: {exc}")
    copy.offset = exc.offset
    return copy


def decode_with_types(
    blob: bytes,
    types: Sequence[Type] | str | None = None,
    *,
    limits: DecodeLimits = DEFAULT_LIMITS,
) -> tuple[list[Any], list[Type]]:
    """Decode a message; return the values and the types they were read at.

    Without ``types`` the values are read at the message's own types (record keys are
    then numeric field ids, since the wire carries no names).
    """
    buf = _as_bytes(blob)
    if types is not None:
        types = _check_types(types)
    try:
        return retry_with_stack(lambda: _decode(buf, types, limits), limits.max_depth)
    except RecursionError:
        raise CandidDecodeError("the message nests too deeply to decode") from None


def _decode(buf: bytes, types: list[Type] | None, limits: DecodeLimits) -> tuple[list[Any], list[Type]]:
    try:
        header = _HeaderReader(buf, limits).read()
        expected = list(header.args) if types is None else types
        session = _Session()
        r = _Cursor(buf, header.values_offset, limits.budget(len(buf)), limits.max_depth)
        wire = header.args
        values: list[Any] = []
        for index, want in enumerate(expected):
            if index < len(wire):
                try:
                    values.append(session.reader(wire[index], want)(r))
                except CandidDecodeError as exc:
                    raise _prefixed(exc, f"argument {index}") from None
            elif is_null_like(want):
                values.append(None)
            else:
                raise CandidCoercionError(
                    f"argument {index} of type {want} is missing: the message has "
                    f"{len(wire)} argument{'' if len(wire) == 1 else 's'}",
                    r.pos,
                )
        for index in range(len(expected), len(wire)):
            try:
                session.skipper(wire[index])(r)
            except CandidDecodeError as exc:
                raise _prefixed(exc, f"extra argument {index}") from None
        if r.pos != r.end:
            raise CandidDecodeError(f"{r.end - r.pos} bytes left over after the last argument", r.pos)
        return values, expected
    except (CandidError, RecursionError):
        raise
    except MemoryError:
        raise CandidDecodeError("the message is too large to decode") from None
    except (IndexError, ValueError, OverflowError, struct.error, PrincipalError) as exc:
        raise CandidDecodeError(f"malformed message: {exc}") from None


def decode(
    blob: bytes,
    types: Sequence[Type] | str | None = None,
    *,
    limits: DecodeLimits = DEFAULT_LIMITS,
) -> list[Any]:
    """Decode a Candid message at the expected argument types (or at its own types).

    ``types`` is a list of types, or their Candid text (``"(text, opt nat)"``).
    """
    return decode_with_types(blob, types, limits=limits)[0]


# -- encoding ------------------------------------------------------------------------------

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
    pack = _FIXED[name].pack if name in _FIXED else None
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
        if not _is_int(value) or not low <= value <= high:  # type: ignore[operator]
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
    **{name: _fixed_writer(name) for name in ("nat8", *_FIXED)},
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
            return encode_sleb128(_OPCODE_OPT) + self.ref(t.inner)
        if isinstance(t, VecType):
            return encode_sleb128(_OPCODE_VEC) + self.ref(t.inner)
        if isinstance(t, (RecordType, VariantType)):
            code = _OPCODE_RECORD if isinstance(t, RecordType) else _OPCODE_VARIANT
            parts = [encode_sleb128(code), encode_leb128(len(t.fields))]
            for item in t.fields:
                parts.append(encode_leb128(item.id))
                parts.append(self.ref(item.type))
            return b"".join(parts)
        if isinstance(t, FuncType):
            parts = [encode_sleb128(_OPCODE_FUNC), encode_leb128(len(t.args))]
            parts += [self.ref(arg) for arg in t.args]
            parts.append(encode_leb128(len(t.results)))
            parts += [self.ref(result) for result in t.results]
            parts.append(encode_leb128(len(t.modes)))
            parts += [bytes((_CODE_BY_MODE[mode],)) for mode in t.modes]
            return b"".join(parts)
        if isinstance(t, ServiceType):
            parts = [encode_sleb128(_OPCODE_SERVICE), encode_leb128(len(t.methods))]
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
            _ARRAY_CODES.get(inner_type.name)
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
    types = _check_types(types)
    if isinstance(values, (str, bytes, dict)) or not isinstance(values, Sequence):
        raise CandidEncodeError("values is a sequence with one value per argument type")
    if len(values) != len(types):
        raise CandidEncodeError(f"{len(values)} values given for {len(types)} argument types")
    try:
        return retry_with_stack(lambda: _encode(values, types))
    except RecursionError:
        raise CandidEncodeError("the value or type nests too deeply (or contains itself)") from None


def _encode(values: Sequence[Any], types: list[Type]) -> bytes:
    encoder = _Encoder()
    refs = [encoder.ref(t) for t in types]
    body = bytearray()
    for index, (value, t) in enumerate(zip(values, types)):
        try:
            encoder.writer(t)(value, body)
        except CandidEncodeError as exc:
            raise CandidEncodeError(f"argument {index}: {exc}") from None
    head = bytearray(MAGIC)
    head += encode_leb128(len(encoder.entries))
    for entry in encoder.entries:
        head += entry
    head += encode_leb128(len(refs))
    for ref in refs:
        head += ref
    return bytes(head + body)


def float32(value: float) -> float:
    """``value`` rounded to the nearest float32, as decoding a float32 would give it."""
    if math.isnan(value) or math.isinf(value):
        return value
    return struct.unpack("<f", struct.pack("<f", value))[0]
