"""Decoding Candid binary messages: values read at the types the reader expects.

Decoding reads the message's own (wire) types (``vocab.candid.header``), then reads each
value *at the expected type* with the specification's coercion rules: extra record fields
and arguments are skipped, missing optional ones read as null, ``nat`` reads as ``int``,
and under ``opt`` a value that does not fit becomes ``None`` instead of an error.

For speed, a reader function is compiled once per pair of (wire type, expected type) and
reused for every value of that pair; a 10,000-element vector of records costs one
compilation and 10,000 calls.

Cost stays linear in the input: every count is checked against the bytes left before
anything is allocated, values that occupy no bytes are charged against a budget that
grows with the input (see ``vocab.candid.limits``), skipping a value of a zero-sized
type costs one step whatever its size, and nesting is bounded. The readers check depth
and budget inline, not through a helper: a call more per value would cost a few percent.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from typing import Any

from vocab.candid.errors import (
    CandidCoercionError,
    CandidDecodeError,
    CandidError,
    CandidTypeError,
)
from vocab.candid.header import (
    ARRAY_CODES,
    FIXED,
    Header,
    HeaderReader,
    as_bytes,
    read_leb128,
    read_sleb128,
    skip_leb128,
)
from vocab.candid.limits import DEFAULT_LIMITS, DecodeLimits, retry_with_stack
from vocab.candid.parser import argument_types
from vocab.candid.subtype import SubtypeChecker
from vocab.candid.types import (
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
from vocab.candid.values import FuncRef, Some, Variant
from vocab.errors import PrincipalError
from vocab.principal import MAX_LENGTH as MAX_PRINCIPAL_LENGTH
from vocab.principal import Principal

__all__ = ["decode", "decode_with_types"]

Reader = Callable[["_Cursor"], Any]

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
    unpack = FIXED[name].unpack_from
    size = FIXED[name].size
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


def _read_reference_flag(r: _Cursor, what: str, kind: str) -> None:
    """The flag byte before a reference: 01 (transparent) is the only form supported."""
    p = r.pos
    if p >= r.end:
        raise _eof(r, what)
    flag = r.buf[p]
    if flag != 1:
        if flag == 0:
            raise CandidDecodeError(f"opaque {kind}s (flag 00) are not supported", p)
        raise CandidDecodeError(f"a {kind} starts with 01, not {flag:02x}", p)
    r.pos = p + 1


def _read_principal_bytes(r: _Cursor) -> bytes:
    _read_reference_flag(r, "a principal", "reference")
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
    _read_reference_flag(r, "a function reference", "function reference")
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
    **{name: _fixed_reader(name) for name in FIXED},
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
    **{name: _fixed_skipper(s.size, _article(name)) for name, s in FIXED.items()},
}

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
            code = ARRAY_CODES.get(wi.name)
            if code is not None:
                return _array_reader(code, FIXED[wi.name].size)
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
        skipping = any(key is None for key, _ in steps)

        def read_record(r: _Cursor) -> dict[Any, Any]:
            r.budget -= cost
            if r.budget < 0:
                raise _over_budget(r)
            d = r.depth + 1
            if d > r.max_depth:
                raise _too_deep(r)
            r.depth = d
            out = {key: step(r) for key, step in steps}
            if skipping:
                del out[None]  # the skipped fields' values, all under the key None
            r.depth = d - 1
            return out

        return read_record

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
    buf = as_bytes(blob)
    if types is not None:
        types = argument_types(types)
    try:
        return retry_with_stack(lambda: _decode(buf, types, limits), limits.max_depth)
    except RecursionError:
        raise CandidDecodeError("the message nests too deeply to decode") from None


_HEADERS: dict[tuple[bytes, int], tuple[Header, DecodeLimits]] = {}
"""Parsed headers by their bytes (and the limits they were read under): a service is
called with the same few argument shapes over and over. Reading the same bytes again
would give the same header, so a message that starts with a remembered header's bytes
has that header (its parse consumes exactly those bytes, whatever follows)."""
_HEADER_LENGTHS: dict[int, None] = {}
"""The lengths of the remembered headers, most recent last."""
_SESSIONS: dict[tuple[bytes, int, tuple[int, ...]], tuple[_Session, list[Type]]] = {}
"""Compiled readers by header and expected types (kept alive in the entry)."""
_MAX_CACHED = 256


def _header(buf: bytes, limits: DecodeLimits) -> tuple[Header, bytes]:
    for length in reversed(_HEADER_LENGTHS):
        if length <= len(buf):
            prefix = buf[:length]
            known = _HEADERS.get((prefix, id(limits)))
            if known is not None and known[1] is limits:
                return known[0], prefix
    header = HeaderReader(buf, limits).read()
    prefix = bytes(buf[: header.values_offset])
    if len(_HEADERS) >= _MAX_CACHED:
        _HEADERS.clear()
        _HEADER_LENGTHS.clear()
        _SESSIONS.clear()
    _HEADERS[(prefix, id(limits))] = (header, limits)
    _HEADER_LENGTHS.pop(len(prefix), None)
    _HEADER_LENGTHS[len(prefix)] = None
    while len(_HEADER_LENGTHS) > 16:
        _HEADER_LENGTHS.pop(next(iter(_HEADER_LENGTHS)))
    return header, prefix


def _session(prefix: bytes, limits: DecodeLimits, expected: list[Type]) -> _Session:
    key = (prefix, id(limits), tuple(id(t) for t in expected))
    known = _SESSIONS.get(key)
    if known is not None:
        return known[0]
    session = _Session()
    if len(_SESSIONS) >= _MAX_CACHED:
        _SESSIONS.clear()
    _SESSIONS[key] = (session, list(expected))
    return session


def _decode(buf: bytes, types: list[Type] | None, limits: DecodeLimits) -> tuple[list[Any], list[Type]]:
    try:
        header, prefix = _header(buf, limits)
    except (CandidError, RecursionError):
        raise
    except MemoryError:
        raise CandidDecodeError("the message is too large to decode") from None
    except (IndexError, ValueError, OverflowError, struct.error, PrincipalError) as exc:
        raise CandidDecodeError(f"malformed message: {exc}") from None
    expected = list(header.args) if types is None else types
    session = _session(prefix, limits, expected)
    try:
        return _decode_values(buf, header, expected, session, limits)
    except BaseException:
        # A failure may leave a half-built reader in the session: compile afresh next time.
        _SESSIONS.pop((prefix, id(limits), tuple(id(t) for t in expected)), None)
        raise


def _decode_values(
    buf: bytes, header: Header, expected: list[Type], session: _Session, limits: DecodeLimits
) -> tuple[list[Any], list[Type]]:
    try:
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
