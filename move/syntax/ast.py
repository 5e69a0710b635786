"""The parsed, unresolved form of Move source: what the parser builds and the checker reads.

Names are still as written (``transfer::transfer``, ``UID``, ``sui::object::new``); the
checker resolves them against ``use`` declarations, the 2024 implicit imports and the
package's modules. Every node keeps the ``Loc`` of its first token, so a checker error
points where the researcher wrote the construct.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from move.source import Loc

# -- names and types ---------------------------------------------------------------------------


@dataclass
class Name:
    """An identifier with its location."""

    text: str
    loc: Loc


@dataclass
class Path:
    """``a``, ``m::f``, ``0x2::m::S`` or ``sui::object::UID``.

    ``address`` is set when the path starts with a numeric address (``0x2::m``); named
    addresses are ordinary first parts (``sui``), resolved by the checker.
    """

    parts: list[Name]
    loc: Loc
    address: int | None = None

    def __str__(self) -> str:
        head = [hex(self.address)] if self.address is not None else []
        return "::".join(head + [p.text for p in self.parts])


@dataclass
class TypeAst:
    loc: Loc


@dataclass
class NamedType(TypeAst):
    """``u64``, ``vector<T>``, ``Coin<SUI>``, ``T``."""

    path: Path
    args: list[TypeAst] = field(default_factory=list)


@dataclass
class FunTypeAst(TypeAst):
    """``|T1, T2| -> R`` (a macro's lambda parameter; ``ret`` None is ``()``)."""

    params: list[TypeAst]
    ret: TypeAst | None


@dataclass
class RefTypeAst(TypeAst):
    mutable: bool
    inner: TypeAst


@dataclass
class TupleTypeAst(TypeAst):
    """``()`` or ``(u64, bool)`` (only as a function's return type)."""

    items: list[TypeAst]


# -- expressions -------------------------------------------------------------------------------


@dataclass
class Exp:
    loc: Loc


@dataclass
class NumLit(Exp):
    value: int
    suffix: str = ""


@dataclass
class BoolLit(Exp):
    value: bool


@dataclass
class AddressLit(Exp):
    """``@0x2`` (``value`` set) or ``@sui`` (``name`` set)."""

    value: int | None = None
    name: str | None = None


@dataclass
class BytesLit(Exp):
    value: bytes


@dataclass
class UnitLit(Exp):
    pass


@dataclass
class NameExp(Exp):
    """A bare name or path used as a value: a local, a constant."""

    path: Path
    type_args: list[TypeAst] | None = None


@dataclass
class CallExp(Exp):
    """``f(args)``, ``m::f<T>(args)``, or a macro ``assert!(args)`` (``macro`` set)."""

    path: Path
    type_args: list[TypeAst] | None
    args: list[Exp]
    macro: bool = False


@dataclass
class MethodCallExp(Exp):
    """``receiver.name<T>(args)``."""

    receiver: Exp
    name: Name
    type_args: list[TypeAst] | None
    args: list[Exp]
    macro: bool = False


@dataclass
class PackExp(Exp):
    """``S { f: e, g }`` (``None`` value is the shorthand ``g`` for ``g: g``) or positional
    ``S(e1, e2)`` (``positional`` set; fields named ``"0"``, ``"1"``...)."""

    path: Path
    type_args: list[TypeAst] | None
    fields: list[tuple[Name, Exp]]
    positional: bool = False


@dataclass
class VectorExp(Exp):
    """``vector[a, b]`` or ``vector<T>[...]``."""

    type_arg: TypeAst | None
    items: list[Exp]


@dataclass
class TupleExp(Exp):
    items: list[Exp]


@dataclass
class DotExp(Exp):
    """``e.f`` (a field)."""

    base: Exp
    field: Name


@dataclass
class IndexExp(Exp):
    """``v[i]``: for a vector, ``*vector::borrow(&v, i)`` (or the ``_mut`` form under ``&mut``)."""

    base: Exp
    index: Exp


@dataclass
class BorrowExp(Exp):
    mutable: bool
    operand: Exp


@dataclass
class DerefExp(Exp):
    operand: Exp


@dataclass
class MoveCopyExp(Exp):
    """``move x`` or ``copy x`` written explicitly."""

    move: bool
    name: Name


@dataclass
class UnaryExp(Exp):
    """``!e``."""

    op: str
    operand: Exp


@dataclass
class BinaryExp(Exp):
    op: str
    lhs: Exp
    rhs: Exp
    op_loc: Loc | None = None


@dataclass
class CastExp(Exp):
    operand: Exp
    type: TypeAst


@dataclass
class AnnotExp(Exp):
    """``(e: T)``."""

    operand: Exp
    type: TypeAst


@dataclass
class AssignExp(Exp):
    """``lhs = rhs`` where lhs is a name, ``*e``, a field ``e.f``, a tuple of those, or an unpack."""

    lhs: Exp
    rhs: Exp


@dataclass
class IfExp(Exp):
    cond: Exp
    then: Exp
    otherwise: Exp | None


@dataclass
class WhileExp(Exp):
    cond: Exp
    body: Exp
    label: str | None = None


@dataclass
class LoopExp(Exp):
    body: Exp
    label: str | None = None


@dataclass
class LabeledBlockExp(Exp):
    """``'a: { ... }`` (a block ``return 'a v`` leaves)."""

    label: str
    body: Exp


@dataclass
class BreakExp(Exp):
    label: str | None = None
    value: Exp | None = None


@dataclass
class ContinueExp(Exp):
    label: str | None = None


@dataclass
class ReturnExp(Exp):
    value: Exp | None = None
    label: str | None = None


@dataclass
class MatchArm:
    pattern: Pattern
    guard: Exp | None
    body: Exp
    loc: Loc


@dataclass
class MatchExp(Exp):
    """``match (subject) { pattern [if (guard)] => body, ... }``."""

    subject: Exp
    arms: list[MatchArm]


@dataclass
class LambdaExp(Exp):
    """``|x, mut y: u64| body`` (only as an argument of a macro call)."""

    params: list[tuple[Pattern, TypeAst | None]]
    body: Exp
    ret: TypeAst | None = None


@dataclass
class LocalExp(Exp):
    """Not written by people: a value the checker already computed into local ``local``
    (a method macro's receiver, evaluated once and then substituted by name)."""

    local: int


@dataclass
class AbortExp(Exp):
    code: Exp | None


# -- patterns and blocks -----------------------------------------------------------------------


@dataclass
class Pattern:
    loc: Loc


@dataclass
class BindPat(Pattern):
    """``x`` or ``mut x``; ``_`` is a ``WildPat``."""

    name: str
    mutable: bool = False


@dataclass
class WildPat(Pattern):
    pass


@dataclass
class UnpackPat(Pattern):
    """``S { f: p, g }`` or positional ``S(p1, p2)``; ``..`` ignores the rest (``rest``)."""

    path: Path
    type_args: list[TypeAst] | None
    fields: list[tuple[Name, Pattern]]
    positional: bool = False
    rest: bool = False
    tail: list[Pattern] = field(default_factory=list)
    """Positional patterns after a ``..`` in the middle (``S(1, .., 2)``): they match the last
    fields, whose indices are known only once the struct or variant is."""
    braces: bool = True
    """Whether the constructor was written with ``{}``/``()`` (``E::V`` alone has neither)."""


@dataclass
class TuplePat(Pattern):
    items: list[Pattern]


@dataclass
class LitPat(Pattern):
    """A literal in a ``match`` pattern: ``1``, ``5u8``, ``true``, ``@0x1`` (``value`` is its
    expression: a ``NumLit``, ``BoolLit`` or ``AddressLit``)."""

    value: Exp


@dataclass
class OrPat(Pattern):
    """``p1 | p2 | ...``: matches when one alternative does (each binds the same names)."""

    items: list[Pattern]


@dataclass
class AtPat(Pattern):
    """``x @ p``: matches ``p`` and binds the whole value to ``x``."""

    name: str
    inner: Pattern
    mutable: bool = False


@dataclass
class LetStmt:
    pattern: Pattern
    type: TypeAst | None
    value: Exp | None
    loc: Loc


@dataclass
class ExpStmt:
    exp: Exp
    loc: Loc


@dataclass
class BlockExp(Exp):
    """``{ items; result }`` (``result`` None when the block ends with ``;`` or is empty)."""

    items: list[LetStmt | ExpStmt | UseDecl]
    result: Exp | None = None
    end: Loc | None = None
    """Where the block's value comes from when it has no result: its last ``;`` (where Move
    points when a value without ``drop`` is still held at the end of a function)."""


# -- declarations ------------------------------------------------------------------------------


@dataclass
class Attribute:
    """``#[name]`` or ``#[name(args...)]`` (arguments kept as text)."""

    name: str
    args: list[str]
    loc: Loc


@dataclass
class UseDecl:
    """``use a::m;``, ``use a::m as n;``, ``use a::m::{Self, S as T};``, ``use a::{m, n::S};``.

    Flattened by the parser into ``items``: each ``(address-or-name, module, member, alias)``,
    ``member`` None for a module import (``Self``). ``use fun f as T.m`` is a ``UseFunDecl``.
    """

    items: list[UseItem]
    loc: Loc


@dataclass
class UseItem:
    address: Name | int
    module: Name
    member: Name | None
    alias: Name | None
    loc: Loc


@dataclass
class UseFunDecl:
    """``(public) use fun path as Type.method;``."""

    function: Path
    type_name: Path
    method: Name
    public: bool
    loc: Loc


@dataclass
class TypeParamAst:
    name: Name
    constraints: list[Name]
    phantom: bool = False


@dataclass
class StructDef:
    name: Name
    type_params: list[TypeParamAst]
    abilities: list[Name]
    fields: list[tuple[Name, TypeAst]]
    positional: bool
    native: bool
    loc: Loc
    attributes: list[Attribute] = field(default_factory=list)
    public: bool = False


@dataclass
class VariantDef:
    """One variant of an enum: ``Stop``, ``Jump(u64)`` or ``Pause { duration: u32 }``."""

    name: Name
    fields: list[tuple[Name, TypeAst]]
    positional: bool
    loc: Loc


@dataclass
class EnumDef:
    """``public enum Name<T> has copy, drop { V1, V2(T), V3 { f: u64 } }``."""

    name: Name
    type_params: list[TypeParamAst]
    abilities: list[Name]
    variants: list[VariantDef]
    loc: Loc
    attributes: list[Attribute] = field(default_factory=list)
    public: bool = False


@dataclass
class ConstDef:
    name: Name
    type: TypeAst
    value: Exp
    loc: Loc
    attributes: list[Attribute] = field(default_factory=list)


@dataclass
class Param:
    name: Name
    type: TypeAst
    mutable: bool = False


@dataclass
class FunDef:
    name: Name
    visibility: str
    """``"private"``, ``"public"``, ``"package"`` (``public(package)``) or ``"friend"``."""
    entry: bool
    native: bool
    type_params: list[TypeParamAst]
    params: list[Param]
    ret: TypeAst | None
    body: BlockExp | None
    loc: Loc
    attributes: list[Attribute] = field(default_factory=list)
    macro: bool = False


@dataclass
class FriendDecl:
    path: Path
    loc: Loc


@dataclass
class ModuleDef:
    address: Name | int
    name: Name
    uses: list[UseDecl]
    use_funs: list[UseFunDecl]
    structs: list[StructDef]
    constants: list[ConstDef]
    functions: list[FunDef]
    friends: list[FriendDecl]
    loc: Loc
    file: str
    attributes: list[Attribute] = field(default_factory=list)
    enums: list[EnumDef] = field(default_factory=list)


@dataclass
class FileAst:
    modules: list[ModuleDef]
    file: str
