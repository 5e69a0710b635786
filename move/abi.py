"""How Move values live in Wasm: the value representation, the calling convention, the
imports a compiled module expects, and the metadata it carries.

Values. Every Move value is one Wasm ``i64`` (a "slot"):

- ``bool`` is 0 or 1; ``u8``..``u64`` are the number itself (unsigned);
- ``u128``, ``u256`` and ``address`` are a pointer to 16 / 32 / 32 immutable bytes
  (integers little endian, an address as its 32 bytes); a new value is a new block, so
  sharing a pointer is a copy;
- ``vector<T>`` is a pointer to a header ``[length, capacity, data]`` (three i64) whose data
  is ``capacity`` slots of 8 bytes;
- a struct is a pointer to its fields, one slot each, in declaration order;
- ``&T`` / ``&mut T`` is a pointer to the slot that holds the ``T`` (a local's cell, a
  struct field, a vector element), so reading is one ``i64.load`` and writing one store.

Why one uniform slot: generic code (``vector<T>``, ``Option<T>``, ``Box<T>``) then needs no
monomorphisation: one Wasm function serves every instantiation, a package calls its
dependencies' functions by import without knowing their type arguments' layouts, and a
vector of structs is laid out like a vector of u64. The cost is a pointer per big value
and 8 bytes per ``vector<u8>`` element; the hot path of Sui code (u64 counters, fields
through references) stays in registers. ``copy`` of a vector or struct is a deep copy;
moves pass the pointer.

Memory. One linear memory per call, imported by every module as ``env.memory``. Its first
word (i32 at ``HEAP_POINTER``) is the heap pointer shared by all modules: allocation bumps
it; nothing is freed (a call lives for one transaction). When the heap reaches the second
word (``HEAP_END``, which the host resets every call), the module calls ``rt.grow``, which
moves the end and grows the memory if needed: the fuel spent is therefore the same whether
or not the host's memory happened to be larger already, which keeps gas deterministic.
Both live in memory rather than in Wasm globals because the host reads and writes them
around every call, and memory is what the host reaches cheaply. Each module's constants
are one data segment at ``env.data_base`` (an i32 the linker chooses per module), after
the first ``RESERVED`` bytes. A struct without fields is one slot (Move's
``dummy_field: bool``, false).

Calls. A Move function ``f<T1..Tk>(p1..pn): (r1..rm)`` is the Wasm function
``(i64 x k, i64 x n) -> (i64 x m)``, exported as ``f``. The first ``k`` arguments are type
descriptors: handles into the host's table of interned types, needed for BCS, structural
equality and copies of values of a type parameter, and by natives that need the type tag
(``transfer``, ``event::emit``). A closed type the module needs is an imported immutable
global ``types.<i>`` (entry ``i`` of the module's type table); a type that mentions the
function's own type parameters is built at run time by ``rt.type<n>(template, d1..dn)``.
A call to another module imports ``<module id>.<function>`` (``0x2::object.new``); a native
imports ``native.<address>::<module>::<function>`` with the same convention.

Failures. ``rt.fail(kind, code, where)`` never returns: ``kind`` is one of ``FAIL_*``,
``code`` the abort code, ``where`` the index of the failing function in the module's
metadata. The host names module, function and code from that.

Metadata. A custom section ``move.module`` holds the module's id, its structs (field names
and types), its functions (visibility, entry, type parameters, parameter and result types, and the
digest of their code, ``move.fingerprint``) and its type table, as canonical JSON, so that
a VM can link, check visibility and translate BCS arguments without the source, and an
upgrade can be checked against the version before it (``move.compat``).
"""

from __future__ import annotations

import json
from typing import Any

from move.types import (
    ModuleId,
    Prim,
    PrimType,
    RefType,
    StructType,
    TupleType,
    Type,
    TypeParam,
    VectorType,
    contains,
)
from vocab.wasm import WasmFormatError, custom_sections

SLOT = 8
"""Bytes per Move value in memory (struct fields, vector elements, local cells)."""

VEC_LEN, VEC_CAP, VEC_DATA = 0, 8, 16
VEC_HEADER = 24

ENV = "env"
MEMORY = "memory"
DATA_BASE = "data_base"
HEAP_POINTER = 0
"""Address of the heap pointer (i32)."""
HEAP_END = 4
"""Address of the logical end of the heap (i32)."""
RESERVED = 16
"""Bytes at the start of memory that are neither data nor heap."""
RUNTIME = "rt"
TYPES = "types"
NATIVE = "native"
METADATA_SECTION = "move.module"

FAIL_ABORT = 0
"""``abort code`` / ``assert!``: the Move abort code."""
FAIL_ARITHMETIC = 1
"""Overflow, zero divisor, a shift of at least the width, a cast that does not fit."""
FAIL_INDEX = 2
"""A vector index out of bounds (Move's ``VECTOR_OPERATION_ERROR``, INDEX_OUT_OF_BOUNDS)."""
FAIL_EMPTY = 3
"""``pop_back`` on an empty vector."""
FAIL_NOT_EMPTY = 4
"""``destroy_empty`` of a vector that is not empty."""
FAIL_NAMES = {
    FAIL_ABORT: "abort",
    FAIL_ARITHMETIC: "arithmetic error",
    FAIL_INDEX: "vector index out of bounds",
    FAIL_EMPTY: "pop from an empty vector",
    FAIL_NOT_EMPTY: "destroy of a non-empty vector",
}

# rt.big(op, bits, a, b, where) -> i64: the u128/u256 operators not compiled to Wasm helpers
# (``/ % << >>``; ``+ - * & | ^`` and comparisons are Wasm limb arithmetic) run in the host
BIG_OPS = ("+", "-", "*", "/", "%", "&", "|", "^", "<<", ">>", "<", "<=", ">", ">=", "==", "!=")
BIG_OP_INDEX = {name: i for i, name in enumerate(BIG_OPS)}

VECTOR_NATIVES = frozenset(
    {"empty", "length", "borrow", "borrow_mut", "push_back", "pop_back", "destroy_empty", "swap"}
)
"""The natives of ``0x1::vector``, compiled inline rather than imported."""

STDLIB = bytes(31) + b"\x01"
FRAMEWORK = bytes(31) + b"\x02"


def value_count(ty: Type) -> int:
    """How many Wasm values an expression of ``ty`` leaves (a tuple is several, ``()`` none)."""
    if isinstance(ty, TupleType):
        return len(ty.items)
    return 1


def is_boxed(ty: Type) -> bool:
    """Whether a copy of ``ty`` must copy memory (vectors and structs are mutable in place)."""
    return isinstance(ty, (VectorType, StructType))


def mentions_params(ty: Type) -> bool:
    return contains(ty, lambda t: isinstance(t, TypeParam))


def native_import_name(module: ModuleId, function: str) -> str:
    """``0x2::transfer::transfer_impl`` (short address for 0x1/0x2, as Sui prints them)."""
    return f"{module}::{function}"


def module_import_name(module: ModuleId) -> str:
    return f"0x{module.address.hex()}::{module.name}"


# -- types as JSON ------------------------------------------------------------------------


def type_to_json(ty: Type) -> Any:
    """A type as nested JSON values: ``"u64"``, ``["vector", t]``, ``["struct", addr, mod,
    name, [args]]``, ``["param", i]``, ``["ref", mutable, t]``."""
    if isinstance(ty, PrimType):
        return ty.prim.value
    if isinstance(ty, VectorType):
        return ["vector", type_to_json(ty.element)]
    if isinstance(ty, StructType):
        return [
            "struct",
            ty.module.address.hex(),
            ty.module.name,
            ty.name,
            [type_to_json(a) for a in ty.args],
        ]
    if isinstance(ty, TypeParam):
        return ["param", ty.index, ty.name]
    if isinstance(ty, RefType):
        return ["ref", ty.mutable, type_to_json(ty.inner)]
    return ["tuple", [type_to_json(i) for i in ty.items]]


_PRIMS = {p.value: PrimType(p) for p in Prim}


def type_from_json(value: Any) -> Type:
    if isinstance(value, str):
        return _PRIMS[value]
    tag = value[0]
    if tag == "vector":
        return VectorType(type_from_json(value[1]))
    if tag == "struct":
        return StructType(
            ModuleId(bytes.fromhex(value[1]), value[2]), value[3], tuple(type_from_json(a) for a in value[4])
        )
    if tag == "param":
        return TypeParam(value[1], value[2])
    if tag == "ref":
        return RefType(bool(value[1]), type_from_json(value[2]))
    if tag == "tuple":
        return TupleType(tuple(type_from_json(i) for i in value[1]))
    raise ValueError(f"unknown type tag {tag!r}")


class MetadataError(ValueError):
    """A module without readable ``move.module`` metadata: not compiled from Move."""


def read_metadata(wasm: bytes) -> dict[str, Any]:
    """The ``move.module`` metadata of a compiled module, as JSON values."""
    try:
        raw = next((s.data for s in custom_sections(wasm) if s.name == METADATA_SECTION), None)
    except WasmFormatError as exc:
        raise MetadataError(f"not a Wasm module: {exc}") from exc
    if raw is None:
        raise MetadataError(f"the module has no {METADATA_SECTION} section: not compiled from Move")
    try:
        meta = json.loads(raw)
    except ValueError as exc:
        raise MetadataError(f"the module's metadata is malformed: {exc}") from exc
    if not isinstance(meta, dict):
        raise MetadataError("the module's metadata is malformed: not a JSON object")
    return meta


def canonical_json(value: Any) -> bytes:
    """JSON with sorted keys and no spaces: equal metadata gives equal bytes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


__all__ = [
    "BIG_OPS",
    "BIG_OP_INDEX",
    "DATA_BASE",
    "ENV",
    "FAIL_ABORT",
    "FAIL_ARITHMETIC",
    "FAIL_EMPTY",
    "FAIL_INDEX",
    "FAIL_NAMES",
    "FAIL_NOT_EMPTY",
    "FRAMEWORK",
    "MetadataError",
    "HEAP_END",
    "HEAP_POINTER",
    "MEMORY",
    "METADATA_SECTION",
    "NATIVE",
    "RESERVED",
    "RUNTIME",
    "SLOT",
    "STDLIB",
    "TYPES",
    "VECTOR_NATIVES",
    "VEC_CAP",
    "VEC_DATA",
    "VEC_HEADER",
    "VEC_LEN",
    "canonical_json",
    "is_boxed",
    "mentions_params",
    "module_import_name",
    "native_import_name",
    "read_metadata",
    "type_from_json",
    "type_to_json",
    "value_count",
]
