"""The checked, typed form of a Move package: what the front end hands to code generation.

This is the contract between the two halves of the compiler. The front end (lexer,
parser, name resolution, type and ability checking) turns source into these nodes and
guarantees what Move's checker guarantees: every name is resolved to a fully qualified
module, struct, function or local; every expression has its type; implicit copies and
moves are explicit (``Copy`` / ``Move``); ``assert!`` and method-call syntax are gone
(lowered to ``IfElse``/``Abort`` and plain ``Call``); constants are folded to values.
Code generation may therefore trust the tree and only asserts its invariants.

Bodies stay structured (blocks, if, while, loop) rather than bytecode, because Wasm is
structured too and the lowering is direct.

Values of constants (``ConstValue``): ``bool`` for bool, ``int`` for u8..u256,
``bytes`` (32) for address, ``tuple`` of values for ``vector<T>`` (``bytes`` is also
accepted for ``vector<u8>``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from move.source import NOWHERE, Loc
from move.types import Ability, ModuleId, StructType, Type

ConstValue = bool | int | bytes | tuple["ConstValue", ...]


class Visibility(enum.Enum):
    PRIVATE = "private"
    PUBLIC = "public"
    PACKAGE = "public(package)"
    """Callable from modules of the same package (``public(friend)`` in older Move)."""


@dataclass(frozen=True)
class TypeParamDecl:
    """A declared type parameter: its name, required abilities, and whether it is ``phantom``."""

    name: str
    constraints: Ability = Ability.NONE
    phantom: bool = False


@dataclass(frozen=True)
class FieldDecl:
    name: str
    type: Type
    loc: Loc = NOWHERE


@dataclass(frozen=True)
class VariantDecl:
    """One variant of an enum: its name, its fields (``"0"``, ``"1"``... when positional)."""

    name: str
    fields: tuple[FieldDecl, ...]
    positional: bool = False
    loc: Loc = NOWHERE

    def field_index(self, name: str) -> int:
        for i, f in enumerate(self.fields):
            if f.name == name:
                return i
        raise KeyError(name)


@dataclass(frozen=True)
class StructDecl:
    """``public struct Name<T> has key, store { fields }`` (all structs are public in 2024 Move),
    or an enum (``variants`` set, ``fields`` empty): ``public enum Name<T> { V1, V2(u64) }``.

    Structs and enums share one declaration because Move treats both as datatypes: a
    ``StructType`` names either, abilities and type parameters work alike, and only
    construction, field access and ``match`` tell them apart."""

    name: str
    abilities: Ability
    type_params: tuple[TypeParamDecl, ...]
    fields: tuple[FieldDecl, ...]
    loc: Loc = NOWHERE
    native: bool = False
    variants: tuple[VariantDecl, ...] | None = None
    positional: bool = False

    @property
    def is_enum(self) -> bool:
        return self.variants is not None

    def field_index(self, name: str) -> int:
        for i, f in enumerate(self.fields):
            if f.name == name:
                return i
        raise KeyError(name)

    def variant_index(self, name: str) -> int:
        for i, v in enumerate(self.variants or ()):
            if v.name == name:
                return i
        raise KeyError(name)

    def all_fields(self) -> tuple[FieldDecl, ...]:
        """The fields of a struct, or of every variant of an enum."""
        if self.variants is None:
            return self.fields
        return tuple(f for v in self.variants for f in v.fields)


@dataclass(frozen=True)
class FunctionRef:
    """A function by its module's id and name (what a ``Call`` names)."""

    module: ModuleId
    name: str

    def __str__(self) -> str:
        return f"{self.module}::{self.name}"


@dataclass(frozen=True)
class LocalDecl:
    """A local variable (parameters come first, in order). ``index`` is its position in ``locals``."""

    index: int
    name: str
    type: Type
    mutable: bool = False
    loc: Loc = NOWHERE


# -- expressions ------------------------------------------------------------------------------
# Every expression has ``ty`` (its type; ``UNIT`` for statements, ``TupleType`` for several
# values) and ``loc``. ``ty`` of an expression that never returns (abort, return, break,
# continue, an infinite loop) is whatever the checker inferred from the context.


@dataclass
class Expr:
    ty: Type
    loc: Loc


@dataclass
class Const(Expr):
    """A literal or a folded constant."""

    value: ConstValue


@dataclass
class Copy(Expr):
    """Read a local whose type has ``copy`` (the local stays usable)."""

    local: int


@dataclass
class Move(Expr):
    """Move a local out (it is unusable until assigned again)."""

    local: int


@dataclass
class Assign(Expr):
    """``x = e`` or ``let x = e``; several locals when ``value`` is a tuple (``let (a, b) = f()``).

    ``None`` in ``locals`` is ``_`` (the value is dropped; its type has ``drop``).
    """

    locals: list[int | None]
    value: Expr


@dataclass
class BorrowLocal(Expr):
    """``&x`` / ``&mut x``."""

    local: int
    mutable: bool


@dataclass
class BorrowField(Expr):
    """``&r.f`` / ``&mut r.f`` where ``ref`` is a reference to a struct of ``struct``; also ``r.f``
    reads compile to ``ReadRef(BorrowField(...))``."""

    ref: Expr
    struct: StructType
    field: int
    mutable: bool
    variant: int | None = None
    """Set for a field of an enum's variant (the value's tag is that variant: ``match`` checks
    it first)."""


@dataclass
class ReadRef(Expr):
    """``*r`` (the referenced type has ``copy``)."""

    ref: Expr


@dataclass
class WriteRef(Expr):
    """``*r = v`` (the old value has ``drop``)."""

    ref: Expr
    value: Expr


@dataclass
class FreezeRef(Expr):
    """A ``&mut T`` used where ``&T`` is expected."""

    ref: Expr


@dataclass
class Pack(Expr):
    """``S { f1: e1, ... }``; ``fields`` in declaration order (the checker reorders and keeps
    source evaluation order by binding to temporaries first when it matters)."""

    struct: StructType
    fields: list[Expr]
    variant: int | None = None
    """Set when packing variant ``variant`` of an enum (``E::V(..)``)."""


@dataclass
class VariantTag(Expr):
    """The variant index (a ``u64``) of the enum value ``ref`` points at (``ref`` is ``&E`` or
    ``&mut E``): what ``match`` tests."""

    ref: Expr


@dataclass
class Unpack(Expr):
    """``let S { f1: a, f2: _ } = e;``: ``binds[i]`` receives field ``i`` (``None`` drops it).

    When ``value`` is a reference, each bound local receives a reference to its field
    (``by_ref`` says which kind), as Move allows for ``let S { f } = &s``.
    """

    struct: StructType
    value: Expr
    binds: list[int | None]
    by_ref: bool = False
    mutable: bool = False
    variant: int | None = None
    """Set when unpacking variant ``variant`` of an enum (``match`` has checked the tag)."""


@dataclass
class Call(Expr):
    """A call of a Move or native function, with its type arguments resolved."""

    function: FunctionRef
    type_args: list[Type]
    args: list[Expr]


class BinOp(enum.Enum):
    ADD = "+"
    SUB = "-"
    MUL = "*"
    DIV = "/"
    MOD = "%"
    BIT_AND = "&"
    BIT_OR = "|"
    XOR = "^"
    SHL = "<<"
    SHR = ">>"
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    EQ = "=="
    NEQ = "!="
    AND = "&&"
    OR = "||"


@dataclass
class Binary(Expr):
    """``lhs op rhs``. ``EQ``/``NEQ`` compare any type with ``drop`` structurally (operands are
    values, or references compared by what they point at); ``AND``/``OR`` short-circuit;
    arithmetic aborts on overflow, zero divisor, or a shift of at least the width."""

    op: BinOp
    lhs: Expr
    rhs: Expr


@dataclass
class Not(Expr):
    operand: Expr


@dataclass
class Cast(Expr):
    """``e as uN``: aborts when the value does not fit."""

    operand: Expr


@dataclass
class VectorLit(Expr):
    """``vector[a, b]`` (``ty`` is the vector type); byte strings become ``Const``."""

    items: list[Expr]


@dataclass
class Tuple(Expr):
    """Several values at once: a ``return (a, b)`` or the last expression of such a body."""

    items: list[Expr]


@dataclass
class Block(Expr):
    """``{ s1; s2; e }``: statements evaluated for effect, then ``result`` (``None`` is ``()``)."""

    statements: list[Expr]
    result: Expr | None = None


@dataclass
class IfElse(Expr):
    cond: Expr
    then: Expr
    otherwise: Expr | None = None


@dataclass
class While(Expr):
    cond: Expr
    body: Expr
    label: str | None = None


@dataclass
class Loop(Expr):
    body: Expr
    label: str | None = None


@dataclass
class LabeledBlock(Expr):
    """``'a: { ... }``: a block that ``return 'a v`` (a ``Break`` naming it) leaves with ``v``."""

    label: str
    body: Expr


@dataclass
class Break(Expr):
    """Leave the innermost loop, or the loop or labeled block named ``label``, with ``value``
    (``break v`` from a ``loop``, ``return 'a v`` from a labeled block; None is ``()``)."""

    label: str | None = None
    value: Expr | None = None


@dataclass
class Continue(Expr):
    label: str | None = None


@dataclass
class Return(Expr):
    """``return e`` (``value`` is ``None`` for ``()``, a ``Tuple`` for several values)."""

    value: Expr | None = None


@dataclass
class Abort(Expr):
    """``abort code`` (a u64). The runtime reports the code with this function's module."""

    code: Expr


# -- declarations ------------------------------------------------------------------------------


@dataclass
class FunctionDecl:
    """A function: its signature, its locals (parameters first), and its body (``None`` if native)."""

    name: str
    visibility: Visibility
    entry: bool
    type_params: tuple[TypeParamDecl, ...]
    params: tuple[LocalDecl, ...]
    returns: tuple[Type, ...]
    locals: list[LocalDecl]
    body: Expr | None
    loc: Loc = NOWHERE
    native: bool = False

    def __post_init__(self) -> None:
        assert self.native == (self.body is None), "exactly native functions have no body"
        assert tuple(self.locals[: len(self.params)]) == self.params, "parameters are the first locals"


@dataclass
class MacroDecl:
    """A ``macro fun``: no code of its own; each call site expands its body (Move's macros
    are hygienic, their ``$`` parameters substituted by name, lambdas inlined).

    ``definition`` is the parsed function (``move.syntax.ast.FunDef``) and ``names`` what its
    module's names were (``move.check.scope.ModuleScope``), kept opaque here so that the IR
    depends on neither: a package compiled later expands the macro with them."""

    name: str
    visibility: Visibility
    definition: object
    names: object
    loc: Loc = NOWHERE


@dataclass
class ConstantDecl:
    name: str
    type: Type
    value: ConstValue
    loc: Loc = NOWHERE


@dataclass
class ModuleDecl:
    """One checked module. ``id.address`` is the package's address as the source names it
    (``0x0`` for a package not yet published: publishing substitutes the real id)."""

    id: ModuleId
    structs: dict[str, StructDecl] = field(default_factory=dict)
    functions: dict[str, FunctionDecl] = field(default_factory=dict)
    constants: dict[str, ConstantDecl] = field(default_factory=dict)
    dependencies: list[ModuleId] = field(default_factory=list)
    """Every other module this one names (types or calls), sorted, without duplicates."""
    file: str = ""
    use_funs: dict[str, FunctionRef] = field(default_factory=dict)
    """``public use fun f as T.m`` declared here: ``"<type>.<method>"`` -> ``f``, so that
    method calls in other packages resolve through it (``<type>`` is ``vector``, ``u64``...,
    or a struct's ``0x..::module::Name`` without type arguments)."""
    macros: dict[str, MacroDecl] = field(default_factory=dict)
    """The module's ``macro fun``s, expanded where they are called (no Wasm of their own)."""


@dataclass
class Package:
    """The modules of one package, in dependency order (a module after those it uses)."""

    name: str
    modules: list[ModuleDecl]
    dependencies: list[str] = field(default_factory=list)
    """Names of the packages this one depends on (``Sui``, ``MoveStdlib``)."""
