"""Function bodies: type inference and checking, lowered to the IR as they are checked.

One pass over the AST produces IR nodes whose types may still hold inference
variables; ``finish`` then solves them (literals default to u64), runs the checks that
need final types (abilities for copies, drops, equality, writes, type arguments; the
range of each literal) and turns every implicit read of a local into ``Copy`` (its type
has ``copy``) or ``Move``. The move/drop flow analysis and the reference check run on
the finished IR (``move.check.flow``).

What the lowering does, per the IR's contract: ``assert!(c, e)`` becomes ``if (c) ()
else abort e``; ``x.f(...)`` a ``Call`` with the receiver borrowed as the callee's first
parameter wants; ``s.f`` a ``ReadRef(BorrowField(...))``; ``v[i]`` a call of
``vector::borrow``/``borrow_mut``; constants their folded values.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import cast

from move import ir
from move.check import macros
from move.check.env import FunSig
from move.check.infer import AnyType, Infer, Mismatch, TVar, VarKind, has_vars
from move.check.matching import lower_match
from move.check.scope import PRIMITIVE_METHOD_MODULES, PRIMITIVES, ModuleScope, type_key
from move.codes import diagnostic, error
from move.source import CompileError, Diagnostic, Loc
from move.syntax import ast as A
from move.types import (
    ADDRESS,
    BOOL,
    U8,
    U64,
    UNIT,
    Ability,
    ModuleId,
    PrimType,
    RefType,
    StructType,
    TupleType,
    Type,
    TypeParam,
    VectorType,
    address_of,
    substitute,
)

ARITH = {"+", "-", "*", "/", "%", "&", "|", "^"}
COMPARE = {"<", ">", "<=", ">="}


@dataclass
class LocalInfo:
    name: str
    ty: AnyType
    mutable: bool
    loc: Loc
    declared_without_value: bool = False


@dataclass
class LoopFrame:
    """A loop or labeled block that ``break``/``continue``/``return 'a`` may leave."""

    label: str | None
    has_break: bool = False
    kind: str = "loop"
    """``loop``, ``while`` or ``block`` (a labeled block: only ``return 'label`` leaves it)."""
    ty: AnyType | None = None
    """The value it gives (``loop`` and labeled blocks)."""


@dataclass
class Pending:
    """An ability requirement on a type known only after inference."""

    ty: AnyType
    need: Ability
    loc: Loc
    code: str
    message: Callable[[str], str]


def prim_named(name: str) -> Type:
    return PRIMITIVES[name]


class BodyChecker:
    def __init__(
        self,
        scope: ModuleScope,
        sig: FunSig,
        tparams: Mapping[str, TypeParam],
        params: list[A.Param],
    ) -> None:
        self.scope = scope
        self.env = scope.env
        self.sources = scope.sources
        self.sig = sig
        self.tparams = tparams
        self.infer = Infer()
        self.locals: list[LocalInfo] = []
        self.scopes: list[dict[str, int]] = [{}]
        self.loops: list[LoopFrame] = []
        self.pending: list[Pending] = []
        self.literals: list[ir.Const] = []
        self.implicit: list[ir.Move] = []
        self.deps: set[ModuleId] = set()
        self.home = sig.module
        """The module the code is generated in (privacy is checked against it, also inside a
        macro's body, whose names are its own module's)."""
        self.macro_params: dict[str, macros.MacroArg] = {}
        self.can_return = True
        self.where = "function"
        self.macro_depth = 0
        self.macro_scopes: dict[int, ModuleScope] = {}
        for p, ty in zip(params, sig.params):
            self.declare(p.name.text, ty, p.mutable, p.name.loc)

    # -- helpers ---------------------------------------------------------------------------------

    def err(self, loc: Loc, code: str, detail: str) -> CompileError:
        return error(loc, code, detail, self.sources)

    def declare(self, name: str, ty: AnyType, mutable: bool, loc: Loc, *, no_value: bool = False) -> int:
        self.locals.append(LocalInfo(name, ty, mutable or self.scope.legacy, loc, no_value))
        index = len(self.locals) - 1
        self.scopes[-1][name] = index
        return index

    def temp(self, ty: AnyType, loc: Loc) -> int:
        self.locals.append(LocalInfo(f"%tmp{len(self.locals)}", ty, True, loc))
        return len(self.locals) - 1

    def lookup(self, name: str) -> int | None:
        for frame in reversed(self.scopes):
            if name in frame:
                return frame[name]
        return None

    def show(self, ty: AnyType) -> str:
        return self.infer.show(ty)

    def unify(self, got: AnyType, want: AnyType, loc: Loc, what: str) -> None:
        try:
            self.infer.unify(got, want)
        except Mismatch:
            raise self.err(
                loc, "E04007", f"{what}. Expected: '{self.show(want)}'. Given: '{self.show(got)}'"
            ) from None

    def coerce(self, e: ir.Expr, want: AnyType, what: str) -> ir.Expr:
        """``e`` used where ``want`` is expected: ``&mut T`` freezes to ``&T``."""
        got = self.infer.resolve(e.ty)
        target = self.infer.resolve(want)
        if isinstance(got, RefType) and isinstance(target, RefType) and got.mutable and not target.mutable:
            self.unify(got.inner, target.inner, e.loc, what)
            return ir.FreezeRef(target, e.loc, e)
        self.unify(got, target, e.loc, what)
        return e

    def need(self, ty: AnyType, ab: Ability, loc: Loc, code: str, message: Callable[[str], str]) -> None:
        self.pending.append(Pending(ty, ab, loc, code, message))

    def never(self) -> Type:
        """The type of an expression that does not return (an inference variable, typed as
        ``Type`` because IR nodes hold it until ``finish`` solves it)."""
        return cast(Type, self.infer.fresh(VarKind.NEVER))

    def local_value(self, index: int, loc: Loc) -> ir.Expr:
        """An implicit read of a local: ``Copy`` or ``Move`` decided once its type is known."""
        node = ir.Move(self.locals[index].ty, loc, index)  # type: ignore[arg-type]
        self.implicit.append(node)
        return node

    def struct_of(self, ty: AnyType, loc: Loc, what: str) -> StructType:
        base = self.infer.resolve(ty)
        if isinstance(base, RefType):
            base = self.infer.resolve(base.inner)
        if isinstance(base, TVar):
            raise self.err(
                loc, "E04010", f"Could not infer the type of this expression before {what}. Try annotating it"
            )
        if not isinstance(base, StructType):
            raise self.err(loc, "E04003", f"Invalid {what}. Expected a struct, found '{self.show(base)}'")
        return base

    def field_info(self, st: StructType, name: A.Name) -> tuple[int, AnyType]:
        decl = self.env.struct(st)
        if decl.is_enum:
            raise self.err(
                name.loc, "E03010",
                f"Invalid access of field '{name.text}' on the enum '{st.module}::{st.name}'. Enum fields are "
                "reached only through 'match'",
            )  # fmt: skip
        if st.module != self.home:
            raise self.err(
                name.loc,
                "E04001",
                f"Invalid access of field '{name.text}' on the struct '{st.module}::{st.name}'. The field "
                f"'{name.text}' can only be accessed within the module '{st.module}' since it defines '{st.name}'",
            )
        try:
            index = decl.field_index(name.text)
        except KeyError:
            raise self.err(
                name.loc, "E03010", f"Unbound field '{name.text}' in '{st.module}::{st.name}'"
            ) from None
        return index, substitute(decl.fields[index].type, st.args)

    # -- blocks and statements -------------------------------------------------------------------

    def block(self, b: A.BlockExp) -> ir.Expr:
        self.scopes.append({})
        saved_aliases = (dict(self.scope.module_aliases), dict(self.scope.member_aliases))
        saved_explicit = set(self.scope.explicit)
        self.scope.explicit = set()  # a block's `use` may shadow the module's
        try:
            stmts: list[ir.Expr] = []
            for item in b.items:
                if isinstance(item, A.UseDecl):
                    self.scope.add_use(item)
                elif isinstance(item, A.LetStmt):
                    stmts.extend(self.let(item))
                else:
                    e = self.exp(item.exp)
                    self.need(
                        e.ty, Ability.DROP, e.loc, "E06001",
                        lambda t: f"Cannot ignore values without the 'drop' ability. The value must be used (its type '{t}' does not have 'drop')",
                    )  # fmt: skip
                    stmts.append(e)
            result = self.exp(b.result) if b.result is not None else None
            if result is not None:
                ty: AnyType = result.ty
            elif stmts and diverges(stmts[-1]):
                ty = self.never()
            else:
                ty = UNIT
            return ir.Block(ty, b.loc, stmts, result)  # type: ignore[arg-type]
        finally:
            self.scopes.pop()
            self.scope.module_aliases, self.scope.member_aliases = saved_aliases
            self.scope.explicit = saved_explicit

    def let(self, s: A.LetStmt) -> list[ir.Expr]:
        annot = (
            self.scope.type(s.type, self.tparams, allow_tuple=True, check=self.check_constraint)
            if s.type
            else None
        )
        if s.value is None:
            if annot is None:
                raise self.err(
                    s.loc, "E04010", "Could not infer the type of this declaration. Try annotating it"
                )
            self.declare_pattern(s.pattern, annot)
            return []
        value = self.exp(s.value)
        if annot is not None:
            value = self.coerce(value, annot, "Invalid type annotation")
        return self.bind_pattern(s.pattern, value, new=True)

    def declare_pattern(self, p: A.Pattern, ty: AnyType) -> None:
        if isinstance(p, A.BindPat):
            self.declare(p.name, ty, p.mutable, p.loc, no_value=True)
        elif isinstance(p, A.TuplePat):
            t = self.infer.resolve(ty)
            if not isinstance(t, TupleType) or len(t.items) != len(p.items):
                raise self.err(
                    p.loc, "E04007", f"Invalid declaration. Expected a tuple of {len(p.items)} values"
                )
            for sub, sub_ty in zip(p.items, t.items):
                self.declare_pattern(sub, sub_ty)
        elif isinstance(p, A.WildPat):
            return
        else:
            raise self.err(p.loc, "E03015", "A deconstructing 'let' needs a value")

    def bind_pattern(self, p: A.Pattern, value: ir.Expr, *, new: bool) -> list[ir.Expr]:
        """Statements binding ``value`` to pattern ``p`` (new locals when ``new``)."""
        if isinstance(p, A.TuplePat):
            t = self.infer.resolve(value.ty)
            if not isinstance(t, TupleType) or len(t.items) != len(p.items):
                raise self.err(
                    value.loc, "E04007",
                    f"Invalid value for binding. Expected: a tuple of {len(p.items)} values. Given: '{self.show(value.ty)}'",
                )  # fmt: skip
            targets: list[int | None] = []
            after: list[ir.Expr] = []
            for sub, sub_ty in zip(p.items, t.items):
                if isinstance(sub, A.BindPat):
                    targets.append(self.bind_local(sub, sub_ty, new))
                elif isinstance(sub, A.WildPat):
                    self.drop_need(sub_ty, sub.loc)
                    targets.append(None)
                else:
                    tmp = self.temp(sub_ty, sub.loc)
                    targets.append(tmp)
                    after.extend(self.bind_pattern(sub, self.local_value(tmp, sub.loc), new=new))
            return [ir.Assign(UNIT, value.loc, targets, value), *after]
        if isinstance(p, A.BindPat):
            self.no_tuple(value)
            return [ir.Assign(UNIT, p.loc, [self.bind_local(p, value.ty, new)], value)]
        if isinstance(p, A.WildPat):
            self.no_tuple(value)
            self.drop_need(value.ty, p.loc)
            return [ir.Assign(UNIT, p.loc, [None], value)]
        if not isinstance(p, A.UnpackPat):
            raise self.err(
                p.loc, "E03015",
                "Invalid pattern: literals, '|' and '@' patterns may only appear in 'match' arms",
            )  # fmt: skip
        return self.unpack(p, value, new)

    def no_tuple(self, value: ir.Expr) -> None:
        t = self.infer.resolve(value.ty)
        if isinstance(t, TupleType) and t.items:
            raise self.err(value.loc, "E04005", f"Expected a single value, found {len(t.items)} values")
        if t == UNIT:
            raise self.err(value.loc, "E04005", "Expected a single value, found '()'")

    def drop_need(self, ty: AnyType, loc: Loc) -> None:
        self.need(
            ty, Ability.DROP, loc, "E06001",
            lambda t: f"Cannot ignore values without the 'drop' ability. The value must be used (its type '{t}' does not have 'drop')",
        )  # fmt: skip

    def bind_local(self, p: A.BindPat, ty: AnyType, new: bool) -> int:
        if new:
            return self.declare(p.name, ty, p.mutable, p.loc)
        index = self.lookup(p.name)
        if index is None:
            raise self.err(p.loc, "E03009", f"Unbound variable '{p.name}'")
        self.check_assignable(index, p.loc)
        self.unify(ty, self.locals[index].ty, p.loc, "Invalid assignment to variable '" + p.name + "'")
        return index

    def check_assignable(self, index: int, loc: Loc) -> None:
        info = self.locals[index]
        if not info.mutable and not info.declared_without_value:
            raise self.err(
                loc, "E04024",
                f"Invalid assignment of immutable variable '{info.name}'. To use the variable mutably, "
                f"it must be declared 'mut', e.g. 'mut {info.name}'",
            )  # fmt: skip

    def unpack(self, p: A.UnpackPat, value: ir.Expr, new: bool) -> list[ir.Expr]:
        found = self.variant_of(p.path)
        mid, decl = (found[0], found[1]) if found is not None else self.scope.struct(p.path)
        self.deps.add(mid)
        if mid != self.home:
            raise self.err(
                p.loc, "E04001",
                f"Invalid deconstruction binding of '{mid}::{decl.name}'. All structs can only be "
                "deconstructed in the module in which they are declared",
            )  # fmt: skip
        if decl.native:
            raise self.err(p.loc, "E04015", f"Invalid deconstruction of native struct '{decl.name}'")
        if decl.is_enum:
            raise self.err(
                p.loc, "E03015",
                f"Invalid pattern: '{decl.name}' is an enum. Its values are taken apart with 'match'",
            )  # fmt: skip
        if p.braces and decl.fields and (p.fields or p.tail) and p.positional != decl.positional:
            raise self.err(
                p.loc, "E03013",
                f"Invalid deconstruction of '{decl.name}': its fields are "
                f"{'positional' if decl.positional else 'named'}",
            )  # fmt: skip
        if p.positional and not p.rest and len(p.fields) != len(decl.fields):
            raise self.err(
                p.loc, "E03015",
                f"Invalid deconstruction of '{decl.name}'. Expected {len(decl.fields)} field(s) but got "
                f"{len(p.fields)}",
            )  # fmt: skip
        if p.tail:
            p = self.positional_fields(p, len(decl.fields))
        args = self.type_args(p.type_args, decl.type_params, p.loc, f"'{mid}::{decl.name}'")
        st = StructType(mid, decl.name, tuple(args))  # type: ignore[arg-type]
        vt = self.infer.resolve(value.ty)
        by_ref = isinstance(vt, RefType)
        mutable = isinstance(vt, RefType) and vt.mutable
        self.unify(vt.inner if isinstance(vt, RefType) else vt, st, value.loc, "Invalid deconstruction")
        given: dict[str, A.Pattern] = {}
        sub: A.Pattern | None
        for name, written in p.fields:
            if name.text in given:
                raise self.err(name.loc, "E02001", f"Duplicate binding for field '{name.text}'")
            given[name.text] = written
        binds: list[int | None] = []
        after: list[ir.Expr] = []
        for f in decl.fields:
            fty: AnyType = substitute(f.type, st.args)
            if by_ref:
                fty = RefType(mutable, fty)  # type: ignore[arg-type]
            sub = given.pop(f.name, None)
            if sub is None:
                if not p.rest:
                    raise self.err(
                        p.loc, "E03010", f"Missing binding for field '{f.name}' in '{mid}::{decl.name}'"
                    )
                sub = A.WildPat(p.loc)
            if isinstance(sub, A.BindPat):
                binds.append(self.bind_local(sub, fty, new))
            elif isinstance(sub, A.WildPat):
                self.drop_need(fty, sub.loc)
                binds.append(None)
            else:
                tmp = self.temp(fty, sub.loc)
                binds.append(tmp)
                after.extend(self.bind_pattern(sub, self.local_value(tmp, sub.loc), new=new))
        if given:
            name = next(n for n, _ in p.fields if n.text in given)
            raise self.err(name.loc, "E03010", f"Unbound field '{name.text}' in '{mid}::{decl.name}'")
        return [ir.Unpack(UNIT, p.loc, st, value, binds, by_ref, mutable), *after]

    def positional_fields(self, p: A.UnpackPat, count: int) -> A.UnpackPat:
        """``S(a, .., z)``: the patterns after ``..`` numbered from the end."""
        if len(p.fields) + len(p.tail) > count:
            raise self.err(p.loc, "E03015", f"Invalid pattern: it names more than the {count} field(s)")
        fields = list(p.fields)
        for k, sub in enumerate(p.tail):
            index = count - len(p.tail) + k
            fields.append((A.Name(str(index), sub.loc), sub))
        return A.UnpackPat(p.loc, p.path, p.type_args, fields, p.positional, True, [], p.braces)

    def variant_of(self, path: A.Path) -> tuple[ModuleId, ir.StructDecl, int] | None:
        """``E::V`` (``m::E::V``, ``0x1::m::E::V``) when the path names an enum's variant;
        ``None`` when its prefix is not an enum (a module's function, a struct...)."""
        if len(path.parts) < 2:
            return None
        prefix = A.Path(path.parts[:-1], path.loc, path.address)
        try:
            mid, decl = self.scope.struct(prefix)
        except CompileError:
            return None
        if not decl.is_enum:
            return None
        name = path.parts[-1]
        try:
            return mid, decl, decl.variant_index(name.text)
        except KeyError:
            raise self.err(
                name.loc, "E03016", f"Unbound variant '{name.text}' in enum '{mid}::{decl.name}'"
            ) from None

    def type_args(
        self,
        written: list[A.TypeAst] | None,
        params: tuple[ir.TypeParamDecl, ...],
        loc: Loc,
        what: str,
    ) -> list[AnyType]:
        if written is None:
            out: list[AnyType] = [self.infer.fresh() for _ in params]
        else:
            if len(written) != len(params):
                code = "E03007" if len(written) > len(params) else "E03008"
                raise self.err(
                    loc,
                    code,
                    f"Invalid instantiation of {what}. Expected {len(params)} type argument(s) but got {len(written)}",
                )
            out = [
                self.scope.type(t, self.tparams, allow_ref=False, check=self.check_constraint)
                for t in written
            ]
        for param, arg in zip(params, out):
            if param.constraints:
                self.need(arg, param.constraints, loc, "E05001", _constraint_message(param, what))
        return out

    def check_constraint(self, arg: AnyType, need: Ability, loc: Loc, what: str) -> None:
        if need:
            self.need(
                arg, need, loc, "E05001",
                lambda t: f"The type '{t}' does not have the abilities required by {what} ({', '.join(need.names())})",
            )  # fmt: skip

    # -- expressions -----------------------------------------------------------------------------

    def exp(self, e: A.Exp) -> ir.Expr:
        method = getattr(self, "exp_" + type(e).__name__, None)
        if method is None:
            raise self.err(e.loc, "E04003", f"Unsupported expression ({type(e).__name__})")
        result: ir.Expr = method(e)
        return result

    def exp_NumLit(self, e: A.NumLit) -> ir.Expr:
        ty: AnyType = prim_named(e.suffix) if e.suffix else self.infer.fresh(VarKind.NUM)
        node = ir.Const(ty, e.loc, e.value)  # type: ignore[arg-type]
        self.literals.append(node)
        return node

    def exp_BoolLit(self, e: A.BoolLit) -> ir.Expr:
        return ir.Const(BOOL, e.loc, e.value)

    def exp_AddressLit(self, e: A.AddressLit) -> ir.Expr:
        if e.name is not None:
            if e.name not in self.scope.addresses:
                raise self.err(e.loc, "E03001", f"Unbound address '{e.name}'")
            return ir.Const(ADDRESS, e.loc, self.scope.addresses[e.name])
        assert e.value is not None
        return ir.Const(ADDRESS, e.loc, address_of(e.value))

    def exp_BytesLit(self, e: A.BytesLit) -> ir.Expr:
        return ir.Const(VectorType(U8), e.loc, e.value)

    def exp_UnitLit(self, e: A.UnitLit) -> ir.Expr:
        return ir.Tuple(UNIT, e.loc, [])

    def exp_NameExp(self, e: A.NameExp) -> ir.Expr:
        path = e.path
        if len(path.parts) == 1 and path.address is None:
            name = path.parts[0].text
            if name.startswith("$"):
                value = macros.param_value(self, e)
                if value is None:
                    raise self.err(e.loc, "E03009", f"Unbound macro parameter '{name}'")
                return value
            index = self.lookup(name)
            if index is not None:
                return self.local_value(index, e.loc)
            if name in self.scope.constants:
                c = self.scope.constants[name]
                return ir.Const(c.type, e.loc, c.value)
            if name in self.scope.const_asts and self.scope.resolve_const is not None:
                c = self.scope.resolve_const(name)
                return ir.Const(c.type, e.loc, c.value)
            raise self.err(e.loc, "E03009", f"Unbound variable '{name}'")
        variant = self.variant_of(path)
        if variant is not None:
            mid, decl, vi = variant
            return self.pack(mid, decl, e.type_args, [], e.loc, vi, braces=False)
        raise self.err(
            e.loc, "E03006",
            f"Unexpected name '{path}' in this position. Constants are internal to their module, "
            "and cannot be accessed outside of their module",
        )  # fmt: skip

    def exp_MoveCopyExp(self, e: A.MoveCopyExp) -> ir.Expr:
        index = self.lookup(e.name.text)
        if index is None:
            raise self.err(e.name.loc, "E03009", f"Unbound variable '{e.name.text}'")
        ty = self.locals[index].ty
        if e.move:
            return ir.Move(ty, e.loc, index)  # type: ignore[arg-type]
        self.need(
            ty, Ability.COPY, e.loc, "E05001",
            lambda t: f"Invalid 'copy' of a value of type '{t}': it does not have the 'copy' ability",
        )  # fmt: skip
        return ir.Copy(ty, e.loc, index)  # type: ignore[arg-type]

    def exp_TupleExp(self, e: A.TupleExp) -> ir.Expr:
        items = [self.exp(i) for i in e.items]
        for i in items:
            self.no_tuple(i)
        return ir.Tuple(TupleType(tuple(i.ty for i in items)), e.loc, items)

    def exp_AnnotExp(self, e: A.AnnotExp) -> ir.Expr:
        ty = self.scope.type(e.type, self.tparams, allow_tuple=True, check=self.check_constraint)
        return self.coerce(self.exp(e.operand), ty, "Invalid type annotation")

    def exp_VectorExp(self, e: A.VectorExp) -> ir.Expr:
        elem: AnyType = (
            self.scope.type(e.type_arg, self.tparams, allow_ref=False, check=self.check_constraint)
            if e.type_arg is not None
            else self.infer.fresh()
        )
        items = []
        for item in e.items:
            v = self.exp(item)
            self.unify(v.ty, elem, v.loc, "Invalid 'vector' instantiation. Element types differ")
            items.append(v)
        return ir.VectorLit(VectorType(elem), e.loc, items)  # type: ignore[arg-type]

    def exp_BlockExp(self, e: A.BlockExp) -> ir.Expr:
        return self.block(e)

    def exp_UnaryExp(self, e: A.UnaryExp) -> ir.Expr:
        v = self.exp(e.operand)
        self.unify(v.ty, BOOL, v.loc, "Invalid argument to '!'")
        return ir.Not(BOOL, e.loc, v)

    def exp_BinaryExp(self, e: A.BinaryExp) -> ir.Expr:
        op = e.op
        loc = e.op_loc or e.loc
        lhs = self.exp(e.lhs)
        rhs = self.exp(e.rhs)
        bop = ir.BinOp(op)
        if op in ("&&", "||"):
            self.unify(lhs.ty, BOOL, lhs.loc, f"Invalid argument to '{op}'")
            self.unify(rhs.ty, BOOL, rhs.loc, f"Invalid argument to '{op}'")
            return ir.Binary(BOOL, e.loc, bop, lhs, rhs)
        if op in ("==", "!="):
            lt, rt = self.infer.resolve(lhs.ty), self.infer.resolve(rhs.ty)
            if isinstance(lt, RefType) and isinstance(rt, RefType) and lt.mutable != rt.mutable:
                if lt.mutable:
                    lhs = ir.FreezeRef(RefType(False, lt.inner), lhs.loc, lhs)
                else:
                    rhs = ir.FreezeRef(RefType(False, rt.inner), rhs.loc, rhs)
            self.unify(rhs.ty, lhs.ty, rhs.loc, f"Incompatible arguments to '{op}'")
            self.no_tuple(lhs)
            self.need(
                lhs.ty, Ability.DROP, loc, "E05001",
                lambda t: f"Invalid call of '{op}'. The type '{t}' does not have the ability 'drop'",
            )  # fmt: skip
            return ir.Binary(BOOL, e.loc, bop, lhs, rhs)
        if op in ("<<", ">>"):
            self.int_operand(lhs, op)
            self.unify(rhs.ty, U8, rhs.loc, f"Invalid argument to '{op}'")
            return ir.Binary(lhs.ty, e.loc, bop, lhs, rhs)
        self.int_operand(lhs, op)
        self.unify(rhs.ty, lhs.ty, rhs.loc, f"Incompatible arguments to '{op}'")
        if op in COMPARE:
            return ir.Binary(BOOL, e.loc, bop, lhs, rhs)
        return ir.Binary(lhs.ty, e.loc, bop, lhs, rhs)

    def int_operand(self, v: ir.Expr, op: str) -> None:
        t = self.infer.resolve(v.ty)
        if isinstance(t, TVar):
            if t.kind is not VarKind.NUM:
                num = self.infer.fresh(VarKind.NUM)
                self.unify(t, num, v.loc, f"Invalid argument to '{op}'")
            return
        if not (isinstance(t, PrimType) and t.prim.is_integer):
            raise self.err(
                v.loc, "E04003",
                f"Invalid argument to '{op}'. Found: '{self.show(t)}'. The operation requires an integer type "
                "(u8, u16, u32, u64, u128 or u256)",
            )  # fmt: skip

    def exp_CastExp(self, e: A.CastExp) -> ir.Expr:
        v = self.exp(e.operand)
        self.int_operand(v, "as")
        target = self.scope.type(e.type, self.tparams, allow_ref=False)
        if not (isinstance(target, PrimType) and target.prim.is_integer):
            raise self.err(
                e.type.loc, "E04003", f"Invalid cast to '{target}'. Only integer types can be cast to"
            )
        return ir.Cast(target, e.loc, v)

    def exp_IfExp(self, e: A.IfExp) -> ir.Expr:
        cond = self.exp(e.cond)
        self.unify(cond.ty, BOOL, cond.loc, "Invalid 'if' condition")
        then = self.exp(e.then)
        if e.otherwise is None:
            self.unify(then.ty, UNIT, then.loc, "Invalid 'if' without 'else': the branch must have type '()'")
            return ir.IfElse(UNIT, e.loc, cond, then, None)
        other = self.exp(e.otherwise)
        then, other, ty = self.join(then, other, "Incompatible branches of 'if'")
        return ir.IfElse(ty, e.loc, cond, then, other)  # type: ignore[arg-type]

    def join(self, a: ir.Expr, b: ir.Expr, what: str) -> tuple[ir.Expr, ir.Expr, AnyType]:
        ta, tb = self.infer.resolve(a.ty), self.infer.resolve(b.ty)
        if isinstance(ta, RefType) and isinstance(tb, RefType) and ta.mutable != tb.mutable:
            if ta.mutable:
                a = ir.FreezeRef(RefType(False, ta.inner), a.loc, a)
            else:
                b = ir.FreezeRef(RefType(False, tb.inner), b.loc, b)
        self.unify(b.ty, a.ty, b.loc, what)
        return a, b, a.ty

    def exp_WhileExp(self, e: A.WhileExp) -> ir.Expr:
        cond = self.exp(e.cond)
        self.unify(cond.ty, BOOL, cond.loc, "Invalid 'while' condition")
        self.loops.append(LoopFrame(e.label, kind="while"))
        try:
            body = self.exp(e.body)
        finally:
            self.loops.pop()
        self.unify(body.ty, UNIT, body.loc, "Invalid 'while' body: it must have type '()'")
        return ir.While(UNIT, e.loc, cond, body, e.label)

    def exp_LoopExp(self, e: A.LoopExp) -> ir.Expr:
        frame = LoopFrame(e.label, kind="loop", ty=self.infer.fresh())
        self.loops.append(frame)
        try:
            body = self.exp(e.body)
        finally:
            self.loops.pop()
        self.unify(body.ty, UNIT, body.loc, "Invalid 'loop' body: it must have type '()'")
        assert frame.ty is not None
        ty: AnyType = frame.ty if frame.has_break else self.never()
        return ir.Loop(ty, e.loc, body, e.label)  # type: ignore[arg-type]

    def loop_target(self, label: str | None, loc: Loc, word: str) -> LoopFrame:
        loops = [f for f in self.loops if f.kind != "block"]
        if label is None:
            if not loops:
                raise self.err(
                    loc, "E04014", f"Invalid usage of '{word}'. '{word}' can only be used inside a loop body"
                )
            return loops[-1]
        for frame in reversed(self.loops):
            if frame.label == label:
                if frame.kind == "block" and word != "return":
                    raise self.err(
                        loc, "E04014",
                        f"Invalid usage of '{word}' with a block label '{label}'. Leave a labeled block with "
                        f"'return '{label}'",
                    )  # fmt: skip
                if frame.kind != "block" and word == "return":
                    raise self.err(
                        loc, "E04014",
                        f"Invalid usage of 'return' with a loop label '{label}'. Leave a loop with 'break '{label}'",
                    )  # fmt: skip
                return frame
        raise self.err(loc, "E03014", f"Invalid usage of '{word}' with an undefined label '{label}'")

    def leave_with(self, frame: LoopFrame, value_ast: A.Exp | None, loc: Loc) -> ir.Expr | None:
        """The value a ``break v`` / ``return 'a v`` leaves ``frame`` with (None is ``()``)."""
        frame.has_break = True
        if frame.kind == "while":
            if value_ast is not None:
                raise self.err(
                    value_ast.loc, "E04014", "Invalid 'break' with a value: only a 'loop' gives a value"
                )
            return None
        assert frame.ty is not None
        if value_ast is None:
            self.unify(UNIT, frame.ty, loc, "Invalid 'break' without a value")
            return None
        value = self.exp(value_ast)
        self.no_tuple(value)
        return self.coerce(value, frame.ty, "Invalid value leaving the loop or block")

    def exp_BreakExp(self, e: A.BreakExp) -> ir.Expr:
        frame = self.loop_target(e.label, e.loc, "break")
        value = self.leave_with(frame, e.value, e.loc)
        return ir.Break(self.never(), e.loc, e.label, value)

    def exp_ContinueExp(self, e: A.ContinueExp) -> ir.Expr:
        self.loop_target(e.label, e.loc, "continue")
        return ir.Continue(self.never(), e.loc, e.label)

    def exp_LabeledBlockExp(self, e: A.LabeledBlockExp) -> ir.Expr:
        frame = LoopFrame(e.label, kind="block", ty=self.infer.fresh())
        self.loops.append(frame)
        try:
            body = self.exp(e.body)
        finally:
            self.loops.pop()
        assert frame.ty is not None
        if not diverges(body):
            body = self.coerce(body, frame.ty, f"Invalid value of the block '{e.label}'")
        ty: AnyType = frame.ty if frame.has_break or not diverges(body) else self.never()
        return ir.LabeledBlock(ty, e.loc, e.label, body)  # type: ignore[arg-type]

    def return_type(self) -> Type:
        rets = self.sig.returns
        return rets[0] if len(rets) == 1 else TupleType(rets)

    def exp_ReturnExp(self, e: A.ReturnExp) -> ir.Expr:
        if e.label is not None:
            frame = self.loop_target(e.label, e.loc, "return")
            leaving = self.leave_with(frame, e.value, e.loc)
            return ir.Break(self.never(), e.loc, e.label, leaving)
        if not self.can_return:
            raise self.err(
                e.loc, "E04025",
                f"Invalid 'return' inside a {self.where}. A {self.where} cannot return from the function "
                "around it",
            )  # fmt: skip
        value: ir.Expr | None = None
        if e.value is not None:
            value = self.coerce(self.exp(e.value), self.return_type(), "Invalid return expression")
        else:
            self.unify(UNIT, self.return_type(), e.loc, "Invalid return expression")
        return ir.Return(self.never(), e.loc, value)

    def exp_AbortExp(self, e: A.AbortExp) -> ir.Expr:
        return ir.Abort(self.never(), e.loc, self.abort_code(e.code, e.loc, "Invalid 'abort' code"))

    def abort_code(self, code_ast: A.Exp | None, loc: Loc, what: str) -> ir.Expr:
        """An abort code: a u64, or Move 2024's "clever" code for an ``#[error]`` constant or a
        missing code: tag bit 63, the line in bits 32..47, then the constant's name and value
        indices (16 bits each; ``0xffff`` both when there is no constant). The indices are the
        constant's position among its module's constants (this compiler has no bytecode tables)."""
        if code_ast is None:
            return ir.Const(U64, loc, clever_code(loc.line, 0xFFFF, 0xFFFF))
        if (
            isinstance(code_ast, A.NameExp)
            and len(code_ast.path.parts) == 1
            and code_ast.path.address is None
        ):
            name = code_ast.path.parts[0].text
            const = self.scope.const_asts.get(name)
            if (
                self.lookup(name) is None
                and const is not None
                and any(a.name == "error" for a in const.attributes)
            ):
                if self.scope.resolve_const is not None:
                    self.scope.resolve_const(name)  # the constant itself must be valid
                index = list(self.scope.const_asts).index(name)
                return ir.Const(U64, code_ast.loc, clever_code(loc.line, index, index))
        code = self.exp(code_ast)
        self.unify(code.ty, U64, code.loc, what)
        return code

    # -- places: locals, fields, vector elements ---------------------------------------------------

    def is_place(self, e: A.Exp) -> bool:
        if isinstance(e, A.NameExp):
            return (
                len(e.path.parts) == 1
                and e.path.address is None
                and self.lookup(e.path.parts[0].text) is not None
            )
        return isinstance(e, A.DotExp | A.IndexExp)

    def place_type(self, e: A.Exp) -> AnyType:
        """The type of a place without evaluating it (to choose how a method takes it)."""
        if isinstance(e, A.NameExp):
            index = self.lookup(e.path.parts[0].text)
            assert index is not None
            return self.locals[index].ty
        if isinstance(e, A.DotExp):
            base = self.place_type(e.base) if self.is_place(e.base) else None
            if base is None:
                return self.infer.fresh()
            st = self.struct_of(base, e.loc, f"access of field '{e.field.text}'")
            _, fty = self.field_info(st, e.field)
            return fty
        if isinstance(e, A.IndexExp):
            base = self.place_type(e.base) if self.is_place(e.base) else None
            b = self.infer.resolve(base) if base is not None else None
            if isinstance(b, RefType):
                b = self.infer.resolve(b.inner)
            if isinstance(b, VectorType):
                return b.element
            return self.infer.fresh()
        return self.infer.fresh()

    def borrow(self, e: A.Exp, mutable: bool, loc: Loc) -> ir.Expr:
        """A reference (``&`` or ``&mut`` per ``mutable``) to the place or value ``e``."""
        if isinstance(e, A.NameExp) and self.is_place(e):
            index = self.lookup(e.path.parts[0].text)
            assert index is not None
            info = self.locals[index]
            t = self.infer.resolve(info.ty)
            if isinstance(t, RefType):
                ref = self.local_value(index, e.loc)
                return self.adjust_ref(ref, mutable, e.loc)
            if mutable and not info.mutable:
                raise self.err(
                    e.loc, "E04024",
                    f"Invalid mutable borrow of immutable variable '{info.name}'. To use the variable mutably, "
                    f"it must be declared 'mut', e.g. 'mut {info.name}'",
                )  # fmt: skip
            return ir.BorrowLocal(RefType(mutable, info.ty), loc, index, mutable)  # type: ignore[arg-type]
        if isinstance(e, A.DotExp):
            base = self.borrow(e.base, mutable, e.base.loc)
            st = self.struct_of(base.ty, e.field.loc, f"access of field '{e.field.text}'")
            index, fty = self.field_info(st, e.field)
            self.deps.add(st.module)
            return ir.BorrowField(RefType(mutable, fty), e.field.loc, base, st, index, mutable)  # type: ignore[arg-type]
        if isinstance(e, A.IndexExp):
            base = self.borrow(e.base, mutable, e.base.loc)
            idx = self.exp(e.index)
            self.unify(idx.ty, U64, idx.loc, "Invalid index")
            bt = self.infer.resolve(base.ty)
            inner = self.infer.resolve(bt.inner) if isinstance(bt, RefType) else bt
            if not isinstance(inner, VectorType):
                raise self.err(e.loc, "E04023", f"Invalid index of a value of type '{self.show(inner)}'")
            vec = ModuleId(address_of(1), "vector")
            if vec not in self.env.modules:
                raise self.err(e.loc, "E03002", "Unbound module '0x1::vector' (needed for indexing)")
            self.deps.add(vec)
            fname = "borrow_mut" if mutable else "borrow"
            return ir.Call(
                RefType(mutable, inner.element),
                e.loc,
                ir.FunctionRef(vec, fname),
                [inner.element],
                [base, idx],
            )
        if isinstance(e, A.DerefExp):
            # `&*r` / `&mut *r` borrows again what `r` points to: the reference itself
            ref = self.exp(e.operand)
            if not isinstance(self.infer.resolve(ref.ty), RefType):
                raise self.err(
                    e.loc, "E04007", f"Invalid dereference. Expected a reference, found '{self.show(ref.ty)}'"
                )
            return self.adjust_ref(ref, mutable, e.loc)
        value = self.exp(e)
        t = self.infer.resolve(value.ty)
        if isinstance(t, RefType):
            return self.adjust_ref(value, mutable, e.loc)
        self.no_tuple(value)
        tmp = self.temp(value.ty, e.loc)
        return ir.Block(
            RefType(mutable, value.ty),
            e.loc,
            [ir.Assign(UNIT, e.loc, [tmp], value)],
            ir.BorrowLocal(RefType(mutable, value.ty), e.loc, tmp, mutable),
        )

    def adjust_ref(self, ref: ir.Expr, mutable: bool, loc: Loc) -> ir.Expr:
        t = self.infer.resolve(ref.ty)
        assert isinstance(t, RefType)
        if mutable and not t.mutable:
            raise self.err(loc, "E04006", "Invalid mutable borrow from an immutable reference")
        if not mutable and t.mutable:
            return ir.FreezeRef(RefType(False, t.inner), ref.loc, ref)
        return ref

    def exp_BorrowExp(self, e: A.BorrowExp) -> ir.Expr:
        if isinstance(e.operand, A.NameExp) and self.is_place(e.operand):
            index = self.lookup(e.operand.path.parts[0].text)
            assert index is not None
            if isinstance(self.infer.resolve(self.locals[index].ty), RefType):
                raise self.err(e.loc, "E04004", "Invalid borrow of a reference: references cannot be nested")
        return self.borrow(e.operand, e.mutable, e.loc)

    def exp_DotExp(self, e: A.DotExp) -> ir.Expr:
        ref = self.borrow(e, False, e.loc)
        inner = ref.ty.inner if isinstance(ref.ty, RefType) else ref.ty
        self.need(
            inner, Ability.COPY, e.field.loc, "E05001",
            lambda t: f"Invalid implicit copy of field '{e.field.text}'. The type '{t}' does not have the ability 'copy'",
        )  # fmt: skip
        return ir.ReadRef(inner, e.loc, ref)

    def exp_IndexExp(self, e: A.IndexExp) -> ir.Expr:
        ref = self.borrow(e, False, e.loc)
        inner = ref.ty.inner if isinstance(ref.ty, RefType) else ref.ty
        self.need(
            inner, Ability.COPY, e.loc, "E05001",
            lambda t: f"Invalid implicit copy of a vector element. The type '{t}' does not have the ability 'copy'",
        )  # fmt: skip
        return ir.ReadRef(inner, e.loc, ref)

    def exp_DerefExp(self, e: A.DerefExp) -> ir.Expr:
        ref = self.exp(e.operand)
        t = self.infer.resolve(ref.ty)
        if not isinstance(t, RefType):
            raise self.err(
                e.loc, "E04007", f"Invalid dereference. Expected a reference, found '{self.show(t)}'"
            )
        self.need(
            t.inner, Ability.COPY, e.loc, "E05001",
            lambda ty: f"Invalid dereference. Dereference requires the 'copy' ability, which '{ty}' does not have",
        )  # fmt: skip
        return ir.ReadRef(t.inner, e.loc, ref)

    # -- assignment ------------------------------------------------------------------------------

    def exp_AssignExp(self, e: A.AssignExp) -> ir.Expr:
        lhs = e.lhs
        if isinstance(lhs, A.DerefExp):
            rhs = self.exp(e.rhs)
            ref = self.exp(lhs.operand)
            t = self.infer.resolve(ref.ty)
            if not isinstance(t, RefType) or not t.mutable:
                raise self.err(
                    lhs.loc,
                    "E04006",
                    f"Invalid mutation. Expected a mutable reference, found '{self.show(t)}'",
                )
            value = self.coerce(rhs, t.inner, "Invalid assignment")
            self.write_drop_need(t.inner, e.loc)
            return self.write(ref, value, e.loc)
        if isinstance(lhs, A.DotExp | A.IndexExp):
            value = self.exp(e.rhs)
            ref = self.borrow(lhs, True, lhs.loc)
            assert isinstance(ref.ty, RefType)
            value = self.coerce(value, ref.ty.inner, "Invalid assignment")
            self.write_drop_need(ref.ty.inner, e.loc)
            return self.write(ref, value, e.loc)
        value = self.exp(e.rhs)
        pattern = self.lvalue_pattern(lhs)
        stmts = self.bind_pattern(pattern, value, new=False)
        if len(stmts) == 1:
            return stmts[0]
        return ir.Block(UNIT, e.loc, stmts, None)

    def write(self, ref: ir.Expr, value: ir.Expr, loc: Loc) -> ir.Expr:
        """``*ref = value`` with Move's order: the value first, then the reference. When both
        sides can have effects (calls), the value goes through a temporary so that the order
        holds whichever side code generation evaluates first."""
        if _pure(value) or _pure(ref):
            return ir.WriteRef(UNIT, loc, ref, value)
        tmp = self.temp(value.ty, value.loc)
        return ir.Block(
            UNIT,
            loc,
            [
                ir.Assign(UNIT, value.loc, [tmp], value),
                ir.WriteRef(UNIT, loc, ref, self.local_value(tmp, value.loc)),
            ],
            None,
        )

    def write_drop_need(self, ty: AnyType, loc: Loc) -> None:
        self.need(
            ty, Ability.DROP, loc, "E05001",
            lambda t: f"Invalid write. The old value of type '{t}' does not have the ability 'drop'",
        )  # fmt: skip

    def lvalue_pattern(self, e: A.Exp) -> A.Pattern:
        if isinstance(e, A.NameExp) and len(e.path.parts) == 1 and e.path.address is None:
            name = e.path.parts[0].text
            if name == "_":
                return A.WildPat(e.loc)
            return A.BindPat(e.loc, name)
        if isinstance(e, A.TupleExp):
            return A.TuplePat(e.loc, [self.lvalue_pattern(i) for i in e.items])
        if isinstance(e, A.PackExp):
            return A.UnpackPat(
                e.loc, e.path, e.type_args, [(n, self.lvalue_pattern(v)) for n, v in e.fields], e.positional
            )
        if isinstance(e, A.CallExp) and not e.macro:
            # positional unpack `S(a, b) = e`
            return A.UnpackPat(
                e.loc, e.path, e.type_args,
                [(A.Name(str(i), a.loc), self.lvalue_pattern(a)) for i, a in enumerate(e.args)], True,
            )  # fmt: skip
        raise self.err(
            e.loc, "E01009", "Invalid assignment. Expected a local, a field, '*e', or a deconstruction"
        )

    # -- structs ---------------------------------------------------------------------------------

    def exp_PackExp(self, e: A.PackExp) -> ir.Expr:
        variant = self.variant_of(e.path)
        if variant is not None:
            mid, vdecl, vi = variant
            return self.pack(mid, vdecl, e.type_args, e.fields, e.loc, vi)
        mid, decl = self.scope.struct(e.path)
        return self.pack(mid, decl, e.type_args, e.fields, e.loc)

    def pack(
        self,
        mid: ModuleId,
        decl: ir.StructDecl,
        type_args: list[A.TypeAst] | None,
        fields: list[tuple[A.Name, A.Exp]],
        loc: Loc,
        variant: int | None = None,
        *,
        positional: bool = False,
        braces: bool = True,
    ) -> ir.Expr:
        self.deps.add(mid)
        kind = "enums" if decl.is_enum else "structs"
        if mid != self.home:
            raise self.err(
                loc, "E04001",
                f"Invalid instantiation of '{mid}::{decl.name}'. All {kind} can only be constructed in the "
                "module in which they are declared",
            )  # fmt: skip
        if decl.native:
            raise self.err(loc, "E04015", f"Invalid instantiation of native struct '{decl.name}'")
        if decl.variants is not None and variant is None:
            raise self.err(
                loc, "E03010",
                f"Invalid instantiation of enum '{mid}::{decl.name}'. Name one of its variants: "
                f"'{decl.name}::{decl.variants[0].name}'",
            )  # fmt: skip
        shown = f"{mid}::{decl.name}"
        decl_fields = decl.fields
        if decl.variants is not None and variant is not None:
            vd = decl.variants[variant]
            decl_fields = vd.fields
            shown = f"{mid}::{decl.name}::{vd.name}"
            if not braces and vd.fields:
                raise self.err(
                    loc, "E03010",
                    f"Invalid instantiation of variant '{shown}': it has fields, give them "
                    f"('{decl.name}::{vd.name}{'(..)' if vd.positional else ' { .. }'}')",
                )  # fmt: skip
            if vd.fields and positional != vd.positional:
                raise self.err(
                    loc, "E03013",
                    f"Invalid instantiation of variant '{shown}': its fields are "
                    f"{'positional' if vd.positional else 'named'}",
                )  # fmt: skip
        elif decl_fields and positional != decl.positional:
            raise self.err(
                loc, "E03013",
                f"Invalid instantiation of '{shown}': its fields are {'positional' if decl.positional else 'named'}",
            )  # fmt: skip
        if positional and len(fields) != len(decl_fields):
            few = len(fields) < len(decl_fields)
            raise self.err(
                loc, "E04016" if few else "E04017",
                f"Invalid instantiation of '{shown}'. Expected {len(decl_fields)} argument(s) but got "
                f"{len(fields)} (too {'few' if few else 'many'})",
            )  # fmt: skip
        args = self.type_args(type_args, decl.type_params, loc, f"'{mid}::{decl.name}'")
        st = StructType(mid, decl.name, tuple(args))  # type: ignore[arg-type]
        values: dict[int, ir.Expr] = {}
        order: list[int] = []
        by_name = {f.name: i for i, f in enumerate(decl_fields)}
        for name, value_ast in fields:
            index_found = by_name.get(name.text)
            if index_found is None:
                if positional:
                    raise self.err(
                        value_ast.loc, "E04017",
                        f"Invalid instantiation of '{shown}'. It takes {len(decl_fields)} argument(s)",
                    )  # fmt: skip
                raise self.err(name.loc, "E03010", f"Unbound field '{name.text}' in '{shown}'")
            index = index_found
            if index in values:
                raise self.err(name.loc, "E02001", f"Duplicate field '{name.text}' in '{shown}'")
            fty = substitute(decl_fields[index].type, st.args)
            v = self.coerce(self.exp(value_ast), fty, f"Invalid value for field '{name.text}'")
            values[index] = v
            order.append(index)
        missing = [f.name for i, f in enumerate(decl_fields) if i not in values]
        if missing:
            if positional:
                raise self.err(
                    loc,
                    "E04016",
                    f"Invalid instantiation of '{shown}'. It takes {len(decl_fields)} argument(s)",
                )
            raise self.err(loc, "E03010", f"Missing assignment for field '{missing[0]}' in '{shown}'")
        if order == sorted(order) or all(isinstance(values[i], ir.Const | ir.Copy | ir.Move) for i in order):
            return ir.Pack(st, loc, st, [values[i] for i in range(len(decl_fields))], variant)
        # evaluate in source order, pack in declaration order
        stmts: list[ir.Expr] = []
        temps: dict[int, int] = {}
        for i in order:
            tmp = self.temp(values[i].ty, values[i].loc)
            temps[i] = tmp
            stmts.append(ir.Assign(UNIT, values[i].loc, [tmp], values[i]))
        packed = ir.Pack(
            st, loc, st, [self.local_value(temps[i], loc) for i in range(len(decl_fields))], variant
        )
        return ir.Block(st, loc, stmts, packed)

    def exp_MatchExp(self, e: A.MatchExp) -> ir.Expr:
        return lower_match(self, e)

    # -- calls -----------------------------------------------------------------------------------

    def exp_CallExp(self, e: A.CallExp) -> ir.Expr:
        if e.macro:
            if len(e.path.parts) == 1 and e.path.address is None and e.path.parts[0].text == "assert":
                return self.macro(e)
            return macros.call_macro(self, e)
        path = e.path
        if len(path.parts) == 1 and path.address is None and path.parts[0].text.startswith("$"):
            applied = macros.apply_lambda(self, e)
            if applied is None:
                raise self.err(e.loc, "E03009", f"Unbound macro parameter '{path.parts[0].text}'")
            return applied
        variant = self.variant_of(path)
        if variant is not None:
            mid, decl, vi = variant
            fields = [(A.Name(str(i), a.loc), a) for i, a in enumerate(e.args)]
            return self.pack(mid, decl, e.type_args, fields, e.loc, vi, positional=True)
        # positional struct construction `S(a, b)`
        if path.parts[-1].text[:1].isupper():
            found: tuple[ModuleId, ir.StructDecl] | None
            try:
                found = self.scope.struct(path)
            except CompileError:
                found = None
            if found is not None:
                mid, decl = found
                fields = [(A.Name(str(i), a.loc), a) for i, a in enumerate(e.args)]
                return self.pack(mid, decl, e.type_args, fields, e.loc, positional=True)
        sig = self.scope.function(path)
        return self.call(sig, e.type_args, [self.exp(a) for a in e.args], e.loc, path.parts[-1].loc)

    def check_visibility(self, sig: FunSig, loc: Loc) -> None:
        here = self.home
        if sig.module == here:
            return
        if sig.visibility is ir.Visibility.PUBLIC:
            return
        if sig.visibility is ir.Visibility.PACKAGE:
            if self.env.same_package(sig.module, here):
                return
            raise self.err(
                loc, "E04001",
                f"Invalid call to 'public(package)' visible function '{sig.module}::{sig.name}'. A "
                f"'public(package)' function can only be called from the same address and package as module "
                f"'{sig.module}'",
            )  # fmt: skip
        raise self.err(
            loc, "E04001",
            f"Invalid call to internal function '{sig.module}::{sig.name}'. This function is internal to its "
            "module. Only 'public' and 'public(package)' functions can be called outside of their module",
        )  # fmt: skip

    def call(
        self,
        sig: FunSig,
        type_args: list[A.TypeAst] | None,
        args: list[ir.Expr],
        loc: Loc,
        name_loc: Loc,
        *,
        method: bool = False,
    ) -> ir.Expr:
        self.check_visibility(sig, name_loc)
        if sig.module == self.scope.id and sig.name == "init" and not sig.type_params and not sig.returns:
            pass  # the Sui rules refuse calls of `init`
        self.deps.add(sig.module)
        what = f"'{sig.module}::{sig.name}'"
        targs = self.type_args(type_args, sig.type_params, name_loc, what)
        if len(args) != len(sig.params):
            code = "E04016" if len(args) < len(sig.params) else "E04017"
            word = "few" if len(args) < len(sig.params) else "many"
            shown = len(args) - (1 if method else 0)
            expected = len(sig.params) - (1 if method else 0)
            raise self.err(
                loc, code,
                f"Invalid call of {what}. The call expected {expected} argument(s) but got {shown} (too {word})",
            )  # fmt: skip
        out = []
        for i, (arg, pty) in enumerate(zip(args, sig.params)):
            self.no_tuple(arg)
            want = substitute(pty, tuple(targs))  # type: ignore[arg-type]
            pname = sig.param_names[i] if i < len(sig.param_names) else str(i)
            out.append(
                self.coerce(arg, want, f"Invalid call of {what}. Invalid argument for parameter '{pname}'")
            )
        rets = tuple(substitute(r, tuple(targs)) for r in sig.returns)  # type: ignore[arg-type]
        ty: AnyType = rets[0] if len(rets) == 1 else TupleType(rets)
        return ir.Call(ty, loc, sig.ref, targs, out)  # type: ignore[arg-type]

    def macro(self, e: A.CallExp) -> ir.Expr:
        name = e.path.parts[0].text
        if name != "assert":
            raise self.err(
                e.loc, "E03012", f"Unbound macro '{name}'. Only 'assert!' is supported by this compiler"
            )
        if len(e.args) not in (1, 2):
            raise self.err(
                e.loc, "E04016" if not e.args else "E04017",
                "Invalid call of 'assert!'. Expected a condition and, optionally, an abort code",
            )  # fmt: skip
        cond = self.exp(e.args[0])
        self.unify(cond.ty, BOOL, cond.loc, "Invalid 'assert!' condition")
        code = self.abort_code(e.args[1] if len(e.args) == 2 else None, e.loc, "Invalid 'assert!' abort code")
        return ir.IfElse(UNIT, e.loc, cond, ir.Block(UNIT, e.loc, [], None), ir.Abort(UNIT, e.loc, code))

    def exp_LocalExp(self, e: A.LocalExp) -> ir.Expr:
        return self.local_value(e.local, e.loc)

    def exp_LambdaExp(self, e: A.LambdaExp) -> ir.Expr:
        raise self.err(e.loc, "E04007", "Unexpected lambda. A lambda can only be an argument of a macro call")

    def exp_MethodCallExp(self, e: A.MethodCallExp) -> ir.Expr:
        if e.macro:
            return macros.call_method_macro(self, e)
        recv = e.receiver
        place = self.is_place(recv)
        if place:
            rty = self.place_type(recv)
            value: ir.Expr | None = None
        else:
            value = self.exp(recv)
            rty = value.ty
        base = self.infer.resolve(rty)
        if isinstance(base, RefType):
            base = self.infer.resolve(base.inner)
        sig = self.method_target(base, e.name, recv.loc)
        if not sig.params:
            raise self.err(
                e.name.loc, "E04023", f"Invalid method call. '{sig.module}::{sig.name}' takes no arguments"
            )
        first = sig.params[0]
        if isinstance(first, RefType):
            if place:
                arg = self.borrow(recv, first.mutable, recv.loc)
            else:
                assert value is not None
                vt = self.infer.resolve(value.ty)
                if isinstance(vt, RefType):
                    arg = self.adjust_ref(value, first.mutable, recv.loc)
                else:
                    arg = self.borrow_value(value, first.mutable)
        else:
            if place:
                pt = self.infer.resolve(rty)
                if isinstance(pt, RefType):
                    ref = self.exp(recv)
                    arg = self.deref_copy(ref)
                else:
                    arg = self.exp(recv)
            else:
                assert value is not None
                vt = self.infer.resolve(value.ty)
                arg = self.deref_copy(value) if isinstance(vt, RefType) else value
        rest = [self.exp(a) for a in e.args]
        return self.call(sig, e.type_args, [arg, *rest], e.loc, e.name.loc, method=True)

    def deref_copy(self, ref: ir.Expr) -> ir.Expr:
        t = self.infer.resolve(ref.ty)
        assert isinstance(t, RefType)
        self.need(
            t.inner, Ability.COPY, ref.loc, "E05001",
            lambda ty: f"Invalid implicit dereference of the receiver. The type '{ty}' does not have the ability 'copy'",
        )  # fmt: skip
        return ir.ReadRef(t.inner, ref.loc, ref)

    def borrow_value(self, value: ir.Expr, mutable: bool) -> ir.Expr:
        tmp = self.temp(value.ty, value.loc)
        return ir.Block(
            RefType(mutable, value.ty),
            value.loc,
            [ir.Assign(UNIT, value.loc, [tmp], value)],
            ir.BorrowLocal(RefType(mutable, value.ty), value.loc, tmp, mutable),
        )

    def method_target(self, base: AnyType, name: A.Name, loc: Loc) -> FunSig:
        if isinstance(base, TVar):
            raise self.err(
                loc,
                "E04010",
                f"Could not infer the type of the receiver of '.{name.text}()'. Try annotating it",
            )
        key = type_key(base)
        if key is None:
            raise self.err(
                name.loc, "E04023", f"Invalid method call. No methods on a value of type '{self.show(base)}'"
            )
        alias = self.scope.use_funs.get(f"{key}.{name.text}")
        if alias is None:
            if isinstance(base, StructType):
                home = base.module
            else:
                home = ModuleId(address_of(1), PRIMITIVE_METHOD_MODULES[key])
            info = self.env.modules.get(home)
            if info is not None:
                alias = info.use_funs.get(f"{key}.{name.text}")
                if alias is None and name.text in info.functions:
                    return info.functions[name.text]
        if alias is not None:
            info = self.env.modules.get(alias.module)
            if info is not None and alias.name in info.functions:
                return info.functions[alias.name]
        raise self.err(
            name.loc, "E04023",
            f"Invalid method call. No function '{name.text}' found for the receiver type '{self.show(base)}'",
        )  # fmt: skip

    # -- finishing -------------------------------------------------------------------------------

    def finish(self, body: ir.Expr) -> tuple[ir.Expr, list[ir.LocalDecl]]:
        """Solve the types, run the deferred checks, and fix implicit copies and moves."""
        diags: list[Diagnostic] = []
        for lit in self.literals:
            t = self.infer.zonk(lit.ty, default=True)
            if isinstance(t, PrimType) and t.prim.is_integer:
                assert isinstance(lit.value, int)
                if lit.value >= 1 << t.prim.bits:
                    diags.append(
                        diagnostic(
                            lit.loc,
                            "E04021",
                            f"Expected a literal of type '{t}', but the value is too large",
                            self.sources,
                        )  # fmt: skip
                    )
        zonk_tree(body, self)
        for p in self.pending:
            t = self.infer.zonk(p.ty, default=True)
            if has_vars(t):
                continue
            have = self.env.abilities(t, self.sig.type_params)  # type: ignore[arg-type]
            if (p.need & have) != p.need:
                diags.append(diagnostic(p.loc, p.code, p.message(str(t)), self.sources))
        for node in self.implicit:
            t = node.ty
            if not isinstance(t, TupleType) and Ability.COPY in self.env.abilities(t, self.sig.type_params):
                node.__class__ = ir.Copy  # type: ignore[assignment]
        decls = []
        for i, info in enumerate(self.locals):
            t = self.infer.zonk(info.ty, default=True)
            if has_vars(t):
                diags.append(
                    diagnostic(
                        info.loc,
                        "E04010",
                        f"Could not infer the type of '{info.name}'. Try annotating it",
                        self.sources,
                    )
                )
                continue
            decls.append(ir.LocalDecl(i, info.name, t, info.mutable, info.loc))  # type: ignore[arg-type]
        if diags:
            diags.sort(key=lambda d: (d.loc.line, d.loc.col))
            raise CompileError(diags[:1])
        return body, decls


def _pure(e: ir.Expr) -> bool:
    """No calls, aborts or assignments inside: evaluating it earlier or later is the same."""
    if isinstance(
        e, ir.Call | ir.Assign | ir.WriteRef | ir.Unpack | ir.Abort | ir.Return | ir.Break | ir.Continue
    ):
        return False
    if isinstance(e, ir.Binary) and e.op not in (
        ir.BinOp.EQ,
        ir.BinOp.NEQ,
        ir.BinOp.AND,
        ir.BinOp.OR,
        ir.BinOp.LT,
        ir.BinOp.LE,
        ir.BinOp.GT,
        ir.BinOp.GE,
    ):
        return False  # arithmetic can abort
    if isinstance(e, ir.Cast):
        return False
    return all(_pure(c) for c in children(e))


def clever_code(line: int, name_index: int, value_index: int) -> int:
    """Move 2024's clever abort code (the Move Book, "Clever Errors")."""
    return (1 << 63) | ((line & 0xFFFF) << 32) | ((name_index & 0xFFFF) << 16) | (value_index & 0xFFFF)


def _constraint_message(param: ir.TypeParamDecl, what: str) -> Callable[[str], str]:
    def message(t: str) -> str:
        return (
            f"The type '{t}' does not have the abilities required by the type parameter '{param.name}' of "
            f"{what} ({', '.join(param.constraints.names())})"
        )

    return message


def diverges(e: ir.Expr) -> bool:
    """Whether ``e`` never finishes normally (so a block ending in ``e;`` has any type)."""
    if isinstance(e, ir.Return | ir.Abort | ir.Break | ir.Continue):
        return True
    if isinstance(e, ir.Block):
        if e.result is not None:
            return diverges(e.result)
        return bool(e.statements) and diverges(e.statements[-1])
    if isinstance(e, ir.IfElse):
        return e.otherwise is not None and diverges(e.then) and diverges(e.otherwise)
    if isinstance(e, ir.Loop):
        return not _has_break(e.body, e.label, 0)
    if isinstance(e, ir.LabeledBlock):
        return diverges(e.body) and not _leaves(e.body, e.label)
    return False


def _leaves(e: ir.Expr, label: str) -> bool:
    """Whether a ``return 'label`` inside ``e`` leaves the labeled block ``label``."""
    if isinstance(e, ir.Break) and e.label == label:
        return True
    return any(_leaves(c, label) for c in children(e))


def _has_break(e: object, label: str | None, depth: int) -> bool:
    if isinstance(e, ir.Break):
        return (e.label is None and depth == 0) or (e.label is not None and e.label == label)
    if isinstance(e, ir.Loop | ir.While):
        return _has_break(e.body, label, depth + 1) or (
            isinstance(e, ir.While) and _has_break(e.cond, label, depth)
        )
    if isinstance(e, ir.Expr):
        return any(_has_break(c, label, depth) for c in children(e))
    return False


def children(e: ir.Expr) -> list[ir.Expr]:
    out: list[ir.Expr] = []
    for f in dataclasses.fields(e):
        v = getattr(e, f.name)
        if isinstance(v, ir.Expr):
            out.append(v)
        elif isinstance(v, list):
            out.extend(x for x in v if isinstance(x, ir.Expr))
    return out


def zonk_tree(e: ir.Expr, checker: BodyChecker) -> None:
    """Replace every inference variable in the tree by its solution (or a located error)."""
    infer = checker.infer
    stack = [e]
    while stack:
        node = stack.pop()
        t = infer.zonk(node.ty, default=True)
        if has_vars(t):
            raise checker.err(node.loc, "E04010", "Could not infer this type. Try adding an annotation")
        node.ty = t  # type: ignore[assignment]
        if isinstance(node, ir.Call):
            node.type_args = [_solid(infer, a, node.loc, checker) for a in node.type_args]
            for a in node.type_args:
                _base_type(a, node.loc, checker)
        if isinstance(node, ir.Pack | ir.Unpack | ir.BorrowField):
            s = _solid(infer, node.struct, node.loc, checker)
            assert isinstance(s, StructType)
            node.struct = s
            for a in s.args:
                _base_type(a, node.loc, checker)
        if isinstance(node, ir.VectorLit) and isinstance(t, VectorType):
            _base_type(t.element, node.loc, checker)
        stack.extend(children(node))


def _base_type(ty: Type, loc: Loc, checker: BodyChecker) -> None:
    """Type arguments and vector elements are values: no references, no tuples."""
    if isinstance(ty, RefType | TupleType):
        raise checker.err(
            loc, "E04004", f"Invalid type argument '{ty}'. Expected a single non-reference type"
        )


def _solid(infer: Infer, ty: AnyType, loc: Loc, checker: BodyChecker) -> Type:
    t = infer.zonk(ty, default=True)
    if has_vars(t):
        raise checker.err(loc, "E04010", "Could not infer this type. Try adding type arguments")
    return t  # type: ignore[return-value]
