"""Type variables and unification: how the checker infers what the source leaves out.

Move infers the type of an integer literal from its use (``let x: u8 = 1``), the type
arguments of a generic call from its arguments (``option::some(5)``), and the element
type of ``vector[]`` from later pushes. A ``TVar`` stands for such an unknown until
unification fixes it; ``Infer.zonk`` replaces solved variables everywhere. Variables
left unsolved get Move's defaults: an integer literal's is ``u64``, the type of an
expression that never returns (``abort``) is ``()``; any other is "cannot infer type".
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from move.types import (
    U64,
    UNIT,
    PrimType,
    RefType,
    StructType,
    TupleType,
    Type,
    TypeParam,
    VectorType,
    contains,
)


class VarKind(enum.Enum):
    ANY = "any"
    """A type argument or an empty vector's element: must be solved."""
    NUM = "num"
    """An integer literal's type: one of u8..u256, u64 if nothing says otherwise."""
    NEVER = "never"
    """The type of ``abort``/``return``/``break``: anything, ``()`` if nothing says otherwise."""


@dataclass(frozen=True)
class TVar:
    """An unknown type (never escapes the checker: ``zonk`` removes it)."""

    id: int
    kind: VarKind = VarKind.ANY

    def __str__(self) -> str:
        return "_" if self.kind is not VarKind.NUM else "{integer}"


AnyType = Type | TVar


class Mismatch(Exception):
    """Two types cannot be made equal (the caller locates and words the error)."""


class Infer:
    def __init__(self) -> None:
        self.solved: dict[int, AnyType] = {}
        self.kinds: dict[int, VarKind] = {}
        self.next = 0

    def fresh(self, kind: VarKind = VarKind.ANY) -> TVar:
        self.next += 1
        self.kinds[self.next] = kind
        return TVar(self.next, kind)

    def resolve(self, ty: AnyType) -> AnyType:
        """Follow solved variables at the top of ``ty`` (not inside)."""
        while isinstance(ty, TVar) and ty.id in self.solved:
            ty = self.solved[ty.id]
        if isinstance(ty, TVar):
            return TVar(ty.id, self.kinds[ty.id])
        return ty

    def zonk(self, ty: AnyType, default: bool = False) -> AnyType:
        """``ty`` with every solved variable replaced; with ``default``, unsolved
        integer and never variables take u64 and ``()``."""
        ty = self.resolve(ty)
        if isinstance(ty, TVar):
            if default and ty.kind is VarKind.NUM:
                return U64
            if default and ty.kind is VarKind.NEVER:
                return UNIT
            return ty
        if isinstance(ty, VectorType):
            return VectorType(self.zonk(ty.element, default))  # type: ignore[arg-type]
        if isinstance(ty, StructType):
            return StructType(ty.module, ty.name, tuple(self.zonk(a, default) for a in ty.args))  # type: ignore[misc]
        if isinstance(ty, RefType):
            return RefType(ty.mutable, self.zonk(ty.inner, default))  # type: ignore[arg-type]
        if isinstance(ty, TupleType):
            return TupleType(tuple(self.zonk(i, default) for i in ty.items))  # type: ignore[misc]
        return ty

    def occurs(self, var: TVar, ty: AnyType) -> bool:
        ty = self.resolve(ty)
        if isinstance(ty, TVar):
            return ty.id == var.id
        if isinstance(ty, VectorType):
            return self.occurs(var, ty.element)
        if isinstance(ty, StructType):
            return any(self.occurs(var, a) for a in ty.args)
        if isinstance(ty, RefType):
            return self.occurs(var, ty.inner)
        if isinstance(ty, TupleType):
            return any(self.occurs(var, i) for i in ty.items)
        return False

    def bind(self, var: TVar, ty: AnyType) -> None:
        kind = self.kinds[var.id]
        if isinstance(ty, TVar):
            other = self.kinds[ty.id]
            # the stricter kind survives: NUM over ANY over NEVER
            order = {VarKind.NEVER: 0, VarKind.ANY: 1, VarKind.NUM: 2}
            if order[kind] > order[other]:
                self.kinds[ty.id] = kind
            self.solved[var.id] = ty
            return
        if kind is VarKind.NUM and not (isinstance(ty, PrimType) and ty.prim.is_integer):
            raise Mismatch
        if self.occurs(var, ty):
            raise Mismatch
        self.solved[var.id] = ty

    def unify(self, a: AnyType, b: AnyType) -> None:
        """Make ``a`` and ``b`` equal or raise ``Mismatch``."""
        a = self.resolve(a)
        b = self.resolve(b)
        if isinstance(a, TVar):
            if isinstance(b, TVar) and a.id == b.id:
                return
            self.bind(a, b)
            return
        if isinstance(b, TVar):
            self.bind(b, a)
            return
        if isinstance(a, PrimType | TypeParam):
            if a != b:
                raise Mismatch
            return
        if isinstance(a, VectorType) and isinstance(b, VectorType):
            self.unify(a.element, b.element)
            return
        if isinstance(a, StructType) and isinstance(b, StructType):
            if (a.module, a.name) != (b.module, b.name) or len(a.args) != len(b.args):
                raise Mismatch
            for x, y in zip(a.args, b.args):
                self.unify(x, y)
            return
        if isinstance(a, RefType) and isinstance(b, RefType):
            if a.mutable != b.mutable:
                raise Mismatch
            self.unify(a.inner, b.inner)
            return
        if isinstance(a, TupleType) and isinstance(b, TupleType):
            if len(a.items) != len(b.items):
                raise Mismatch
            for x, y in zip(a.items, b.items):
                self.unify(x, y)
            return
        raise Mismatch

    def show(self, ty: AnyType) -> str:
        """A type as Move's messages write it (unknown parts as ``_``)."""
        return str(self.zonk(ty))


def has_vars(ty: AnyType) -> bool:
    return contains(ty, lambda t: isinstance(t, TVar))
