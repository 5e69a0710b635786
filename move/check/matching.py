"""``match``: patterns resolved against the subject's type, checked for exhaustiveness, and
lowered to the IR the rest of the compiler already knows.

The lowering is a chain of tests, one per arm, in order: ``{ tmp = subject; if (test1 &&
guard1) { bind1; body1 } else if (test2) ... }``. A test reads the subject only through
immutable references (the variant's tag, literals compared), so it consumes nothing;
the arm that runs then takes the subject apart: by value with ``Unpack`` of the variant
(the value is moved, as Move's match moves it), by reference with field borrows. Or-
patterns that bind variables become one arm per alternative (the bindings then come from
a known shape); those that bind nothing stay a disjunction of tests. Guards see the
arm's bindings as immutable references, as the Move reference says.

Exhaustiveness is Maranget's usefulness check over the unguarded arms (the algorithm the
Move compiler uses); a missing case is reported as Move words it: ``E04029 non-exhaustive
pattern: Pattern 'Action::Jump(_)' not covered``, located at the subject.

The checker (``move.check.body.BodyChecker``) is passed in, not imported: this module is
one of its parts, and the layering forbids the import cycle.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from move import ir
from move.check.infer import AnyType, TVar, VarKind
from move.source import CompileError, Loc
from move.syntax import ast as A
from move.types import BOOL, U64, UNIT, RefType, StructType, Type, substitute

MAX_ALTERNATIVES = 256
"""Or-patterns with bindings are expanded into arms; past this many a match is refused."""
MAX_STEPS = 200_000
"""The exhaustiveness search's budget (patterns written by people stay far below it)."""

Checker = Any
"""A ``move.check.body.BodyChecker`` (not imported: see the module's docstring)."""


# -- resolved patterns -------------------------------------------------------------------------


@dataclass
class RPat:
    loc: Loc
    ty: AnyType
    """The type of the value the pattern matches (never a reference)."""


@dataclass
class RBind(RPat):
    """A variable (``name``) or ``_`` (``name`` None)."""

    name: str | None
    mutable: bool = False


@dataclass
class RLit(RPat):
    value: ir.ConstValue


@dataclass
class RCtor(RPat):
    """A struct, or an enum's variant (``variant`` set), with a pattern for every field."""

    st: StructType
    decl: ir.StructDecl
    variant: int | None
    fields: list[RPat]

    @property
    def field_decls(self) -> tuple[ir.FieldDecl, ...]:
        if self.variant is None or self.decl.variants is None:
            return self.decl.fields
        return self.decl.variants[self.variant].fields


@dataclass
class ROr(RPat):
    items: list[RPat]


@dataclass
class RAt(RPat):
    name: str
    inner: RPat


def bindings(p: RPat) -> list[str]:
    if isinstance(p, RBind):
        return [p.name] if p.name is not None else []
    if isinstance(p, RAt):
        return [p.name, *bindings(p.inner)]
    if isinstance(p, RCtor):
        return [n for f in p.fields for n in bindings(f)]
    if isinstance(p, ROr):
        return bindings(p.items[0])
    return []


def resolve(c: Checker, p: A.Pattern, ty: AnyType) -> RPat:
    """``p`` typed against ``ty`` (unifying), its names resolved."""
    if isinstance(p, A.WildPat):
        return RBind(p.loc, ty, None)
    if isinstance(p, A.BindPat):
        if p.name in c.scope.const_asts and not p.mutable and c.scope.resolve_const is not None:
            const = c.scope.resolve_const(p.name)
            c.unify(ty, const.type, p.loc, "Invalid pattern")
            return RLit(p.loc, ty, const.value)
        return RBind(p.loc, ty, p.name, p.mutable)
    if isinstance(p, A.LitPat):
        lit = c.exp(p.value)
        assert isinstance(lit, ir.Const)
        c.unify(lit.ty, ty, p.loc, "Invalid pattern")
        return RLit(p.loc, ty, lit.value)
    if isinstance(p, A.OrPat):
        items = [resolve(c, item, ty) for item in p.items]
        names = sorted(bindings(items[0]))
        for item in items[1:]:
            if sorted(bindings(item)) != names:
                raise c.err(
                    item.loc, "E03015",
                    "Invalid or-pattern: every alternative must bind the same variables "
                    f"({', '.join(names) or 'none'})",
                )  # fmt: skip
        return ROr(p.loc, ty, items)
    if isinstance(p, A.AtPat):
        return RAt(p.loc, ty, p.name, resolve(c, p.inner, ty))
    if isinstance(p, A.UnpackPat):
        return _constructor(c, p, ty)
    raise c.err(p.loc, "E03015", "Invalid pattern: tuples cannot be matched")


def _constructor(c: Checker, p: A.UnpackPat, ty: AnyType) -> RPat:
    found = c.variant_of(p.path)
    variant: int | None
    if found is not None:
        mid, decl, variant = found
    else:
        mid, decl = c.scope.struct(p.path)
        variant = None
        if decl.is_enum:
            raise c.err(
                p.loc, "E03015", f"Invalid pattern: '{decl.name}' is an enum. Name one of its variants"
            )
    c.deps.add(mid)
    kind = "enums" if decl.is_enum else "structs"
    if mid != c.home:
        raise c.err(
            p.loc, "E04001",
            f"Invalid pattern for '{mid}::{decl.name}'. All {kind} can only be matched in the module in "
            "which they are declared",
        )  # fmt: skip
    if decl.native:
        raise c.err(p.loc, "E04015", f"Invalid deconstruction of native struct '{decl.name}'")
    shown = (
        f"{decl.name}::{decl.variants[variant].name}" if decl.variants and variant is not None else decl.name
    )
    fields_decl = decl.variants[variant].fields if decl.variants and variant is not None else decl.fields
    positional = (
        decl.variants[variant].positional if decl.variants and variant is not None else decl.positional
    )
    if not p.braces and fields_decl and variant is not None:
        raise c.err(
            p.loc, "E03015",
            f"Invalid pattern for variant '{shown}': it has fields (write '{shown}{'(..)' if positional else ' { .. }'}')",
        )  # fmt: skip
    if p.braces and fields_decl and (p.fields or p.tail) and p.positional != positional:
        raise c.err(
            p.loc, "E03013",
            f"Invalid pattern for '{shown}': its fields are {'positional' if positional else 'named'}",
        )  # fmt: skip
    if p.tail:
        p = c.positional_fields(p, len(fields_decl))
    args = c.type_args(p.type_args, decl.type_params, p.loc, f"'{mid}::{decl.name}'")
    st = StructType(mid, decl.name, tuple(args))
    c.unify(ty, st, p.loc, "Invalid pattern")
    given: dict[str, A.Pattern] = {}
    for name, written in p.fields:
        if name.text in given:
            raise c.err(name.loc, "E02001", f"Duplicate binding for field '{name.text}'")
        if all(f.name != name.text for f in fields_decl):
            if positional:
                raise c.err(
                    name.loc, "E03015", f"Invalid pattern for '{shown}': it has {len(fields_decl)} field(s)"
                )
            raise c.err(name.loc, "E03010", f"Unbound field '{name.text}' in '{shown}'")
        given[name.text] = written
    fields: list[RPat] = []
    for f in fields_decl:
        fty = substitute(f.type, st.args)
        written_p = given.get(f.name)
        if written_p is None:
            if not p.rest:
                raise c.err(p.loc, "E03010", f"Missing binding for field '{f.name}' in '{shown}'")
            fields.append(RBind(p.loc, fty, None))
        else:
            fields.append(resolve(c, written_p, fty))
    return RCtor(p.loc, st, st, decl, variant, fields)


def expand(p: RPat) -> list[RPat]:
    """One pattern per choice of the or-patterns that bind variables (those that bind
    nothing stay: they only test)."""
    if isinstance(p, ROr) and bindings(p):
        return [alt for item in p.items for alt in expand(item)]
    if isinstance(p, RAt):
        return [RAt(p.loc, p.ty, p.name, inner) for inner in expand(p.inner)]
    if isinstance(p, RCtor):
        choices = [expand(f) for f in p.fields]
        total = 1
        for ch in choices:
            total *= len(ch)
        if total > MAX_ALTERNATIVES:
            raise CompileError([])  # replaced by the caller's located error
        return [
            RCtor(p.loc, p.ty, p.st, p.decl, p.variant, list(combo)) for combo in itertools.product(*choices)
        ]
    return [p]


# -- lowering ----------------------------------------------------------------------------------

Place = Callable[[bool], ir.Expr]
"""A reference to the part of the subject a pattern looks at (mutable when asked)."""


def _and(a: ir.Expr | None, b: ir.Expr | None, loc: Loc) -> ir.Expr | None:
    if a is None:
        return b
    if b is None:
        return a
    return ir.Binary(BOOL, loc, ir.BinOp.AND, a, b)


def _field_place(p: RCtor, place: Place, index: int, c: Checker) -> Place:
    fty = substitute(p.field_decls[index].type, p.st.args)

    def borrow(mutable: bool) -> ir.Expr:
        ref_ty: Type = RefType(mutable, fty)
        return ir.BorrowField(ref_ty, p.loc, place(mutable), p.st, index, mutable, p.variant)

    return borrow


def test(c: Checker, p: RPat, place: Place) -> ir.Expr | None:
    """What must hold for the value at ``place`` to match ``p`` (None: always)."""
    if isinstance(p, RBind):
        return None
    if isinstance(p, RAt):
        return test(c, p.inner, place)
    if isinstance(p, RLit):
        value = ir.ReadRef(p.ty, p.loc, place(False))  # type: ignore[arg-type]
        return ir.Binary(BOOL, p.loc, ir.BinOp.EQ, value, ir.Const(p.ty, p.loc, p.value))  # type: ignore[arg-type]
    if isinstance(p, ROr):
        out: ir.Expr | None = None
        for item in p.items:
            t = test(c, item, place)
            if t is None:
                return None
            out = t if out is None else ir.Binary(BOOL, p.loc, ir.BinOp.OR, out, t)
        return out
    assert isinstance(p, RCtor)
    cond: ir.Expr | None = None
    if p.variant is not None and p.decl.variants is not None and len(p.decl.variants) > 1:
        tag = ir.VariantTag(U64, p.loc, place(False))
        cond = ir.Binary(BOOL, p.loc, ir.BinOp.EQ, tag, ir.Const(U64, p.loc, p.variant))
    for i, f in enumerate(p.fields):
        cond = _and(cond, test(c, f, _field_place(p, place, i, c)), p.loc)
    return cond


def bind_refs(c: Checker, p: RPat, place: Place, mutable: bool, out: list[ir.Expr]) -> None:
    """Bind ``p``'s variables to references into the subject (``match (&x)``, guards)."""
    if isinstance(p, RBind):
        if p.name is not None:
            ref = place(mutable)
            index = c.declare(p.name, RefType(mutable, p.ty), p.mutable, p.loc)  # type: ignore[arg-type]
            out.append(ir.Assign(UNIT, p.loc, [index], ref))
    elif isinstance(p, RAt):
        ref = place(mutable)
        index = c.declare(p.name, RefType(mutable, p.ty), False, p.loc)  # type: ignore[arg-type]
        out.append(ir.Assign(UNIT, p.loc, [index], ref))
        bind_refs(c, p.inner, place, mutable, out)
    elif isinstance(p, RCtor):
        for i, f in enumerate(p.fields):
            if bindings(f):
                bind_refs(c, f, _field_place(p, place, i, c), mutable, out)


def destructure(c: Checker, p: RPat, value: ir.Expr, out: list[ir.Expr]) -> None:
    """Take the value apart by ``p`` (``match (x)`` on a value: the value is consumed)."""
    if isinstance(p, RBind):
        if p.name is None:
            c.drop_need(p.ty, p.loc)
            out.append(ir.Assign(UNIT, p.loc, [None], value))
        else:
            out.append(ir.Assign(UNIT, p.loc, [c.declare(p.name, p.ty, p.mutable, p.loc)], value))
        return
    if isinstance(p, RAt):
        if bindings(p.inner):
            raise c.err(
                p.loc, "E03015",
                f"Invalid pattern: '{p.name} @ ...' on a value cannot also bind inside (match on a reference)",
            )  # fmt: skip
        out.append(ir.Assign(UNIT, p.loc, [c.declare(p.name, p.ty, False, p.loc)], value))
        return
    if isinstance(p, RLit | ROr):
        c.drop_need(p.ty, p.loc)
        out.append(ir.Assign(UNIT, p.loc, [None], value))
        return
    assert isinstance(p, RCtor)
    binds: list[int | None] = []
    after: list[ir.Expr] = []
    for f in p.fields:
        if isinstance(f, RBind) and f.name is not None:
            binds.append(c.declare(f.name, f.ty, f.mutable, f.loc))
        elif isinstance(f, RBind | RLit) or (isinstance(f, ROr) and not bindings(f)):
            c.drop_need(f.ty, f.loc)
            binds.append(None)
        else:
            tmp = c.temp(f.ty, f.loc)
            binds.append(tmp)
            destructure(c, f, c.local_value(tmp, f.loc), after)
    out.append(ir.Unpack(UNIT, p.loc, p.st, value, binds, False, False, p.variant))
    out.extend(after)


def lower_match(c: Checker, e: A.MatchExp) -> ir.Expr:
    subject = c.exp(e.subject)
    c.no_tuple(subject)
    sty = c.infer.resolve(subject.ty)
    by_ref = isinstance(sty, RefType)
    mutable = isinstance(sty, RefType) and sty.mutable
    vty: AnyType = c.infer.resolve(sty.inner) if isinstance(sty, RefType) else sty
    loc = e.loc
    tmp = c.temp(subject.ty, subject.loc)
    setup = ir.Assign(UNIT, subject.loc, [tmp], subject)

    def root(want_mut: bool) -> ir.Expr:
        if by_ref:
            ref = c.local_value(tmp, loc)
            if mutable and not want_mut:
                return ir.FreezeRef(RefType(False, vty), loc, ref)  # type: ignore[arg-type]
            return ref
        return ir.BorrowLocal(RefType(want_mut, vty), loc, tmp, want_mut)  # type: ignore[arg-type]

    resolved = [(resolve(c, arm.pattern, vty), arm) for arm in e.arms]
    solved = c.infer.resolve(vty)
    if isinstance(solved, TVar) and solved.kind is not VarKind.NUM:
        raise c.err(
            e.subject.loc, "E04010", "Could not infer the type of the 'match' subject. Try annotating it"
        )
    _check_exhaustive(c, resolved, vty, e.subject.loc)

    branches: list[tuple[ir.Expr | None, ir.Expr]] = []
    result_ty: AnyType | None = None
    for rp, arm in resolved:
        try:
            alternatives = expand(rp)
        except CompileError:
            raise c.err(
                arm.loc, "E03015", f"Invalid pattern: more than {MAX_ALTERNATIVES} alternatives"
            ) from None
        for alt in alternatives:
            cond = test(c, alt, root)
            if arm.guard is not None:
                c.scopes.append({})
                try:
                    guard_binds: list[ir.Expr] = []
                    bind_refs(c, alt, root, False, guard_binds)
                    guard = c.exp(arm.guard)
                    c.unify(guard.ty, BOOL, guard.loc, "Invalid 'match' guard")
                finally:
                    c.scopes.pop()
                cond = _and(
                    cond, ir.Block(BOOL, guard.loc, guard_binds, guard) if guard_binds else guard, loc
                )
            c.scopes.append({})
            try:
                stmts: list[ir.Expr] = []
                if by_ref:
                    bind_refs(c, alt, root, mutable, stmts)
                else:
                    destructure(c, alt, c.local_value(tmp, alt.loc), stmts)
                body = c.exp(arm.body)
            finally:
                c.scopes.pop()
            if result_ty is None:
                result_ty = body.ty
            else:
                body = c.coerce(body, result_ty, "Incompatible branches of 'match'")
            branches.append((cond, ir.Block(body.ty, arm.body.loc, stmts, body)))
    assert result_ty is not None
    # past the last arm: unreachable, for the match is exhaustive
    tail: ir.Expr = ir.Abort(c.never(), loc, ir.Const(U64, loc, _unreachable_code(loc)))
    for cond, body in reversed(branches):
        tail = body if cond is None else ir.IfElse(result_ty, loc, cond, body, tail)  # type: ignore[arg-type]
    return ir.Block(result_ty, loc, [setup], tail)  # type: ignore[arg-type]


def _unreachable_code(loc: Loc) -> int:
    """Move 2024's clever abort code for a line without a constant: never raised, because
    the exhaustiveness check proved the last arm always matches."""
    return (1 << 63) | ((loc.line & 0xFFFF) << 32) | 0xFFFF_FFFF


# -- exhaustiveness ----------------------------------------------------------------------------


class _Budget(Exception):
    pass


def _check_exhaustive(c: Checker, resolved: list[tuple[RPat, A.MatchArm]], ty: AnyType, loc: Loc) -> None:
    rows = [[rp] for rp, arm in resolved if arm.guard is None]
    has_guards = any(arm.guard is not None for _, arm in resolved)
    search = _Search(c)
    try:
        example = search.missing(rows, [ty])
    except _Budget:
        raise c.err(loc, "E04029", "The 'match' is too complex to check for exhaustiveness") from None
    if example is None:
        return
    detail = f"Pattern '{example[0]}' not covered"
    if search.notes:
        detail += ". " + ". ".join(search.notes)
    if has_guards:
        detail += ". Match arms with guards are not considered for coverage."
    raise c.err(loc, "E04029", detail)


def _head(p: RPat) -> RPat:
    while isinstance(p, RAt):
        p = p.inner
    return p


def _split(row: list[RPat]) -> list[list[RPat]]:
    head = _head(row[0])
    if isinstance(head, ROr):
        return [r for item in head.items for r in _split([item, *row[1:]])]
    return [[head, *row[1:]]]


def _show_fields(positional: bool, names: list[str], parts: list[str]) -> str:
    if positional:
        return "(" + ", ".join(parts) + ")"
    return " { " + ", ".join(f"{n}: {p}" for n, p in zip(names, parts)) + " }"


class _Search:
    """Maranget's algorithm I ("Warnings for pattern matching", 1992): a vector of values no
    row matches, shown as Move shows it, or None when the rows cover every value."""

    def __init__(self, c: Checker) -> None:
        self.c = c
        self.steps = 0
        self.index = 0
        self.notes: list[str] = []

    def missing(self, rows: list[list[RPat]], tys: list[AnyType]) -> list[str] | None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise _Budget
        if not tys:
            return None if rows else []
        rows = [r for row in rows for r in _split(row)]
        ty = self.c.infer.resolve(tys[0])
        rest = tys[1:]
        heads = [row[0] for row in rows]
        default = [row[1:] for row, h in zip(rows, heads) if isinstance(h, RBind)]
        if isinstance(ty, StructType):
            decl: ir.StructDecl = self.c.env.struct(ty)
            ctors = [h for h in heads if isinstance(h, RCtor)]
            if decl.variants is not None:
                present = {h.variant for h in ctors}
                if len(present) == len(decl.variants):
                    for vi, v in enumerate(decl.variants):
                        n = len(v.fields)
                        ftys: list[AnyType] = [substitute(f.type, ty.args) for f in v.fields]
                        found = self.missing(self.specialize(rows, vi, n), ftys + rest)
                        if found is not None:
                            shown = self.variant(decl, v, found[:n])
                            return [shown, *found[n:]]
                    return None
                found = self.missing(default, rest)
                if found is None:
                    return None
                if not present:
                    return ["_", *found]
                name = min(v.name for i, v in enumerate(decl.variants) if i not in present)
                v = decl.variants[decl.variant_index(name)]
                return [self.variant(decl, v, ["_"] * len(v.fields)), *found]
            if ctors:
                n = len(decl.fields)
                ftys = [substitute(f.type, ty.args) for f in decl.fields]
                found = self.missing(self.specialize(rows, None, n), ftys + rest)
                if found is None:
                    return None
                names = [f.name for f in decl.fields]
                return [decl.name + _show_fields(decl.positional, names, found[:n]), *found[n:]]
            found = self.missing(default, rest)
            return None if found is None else ["_", *found]
        lits = []
        for h in heads:
            if isinstance(h, RLit) and h.value not in lits:
                lits.append(h.value)
        if ty == BOOL and len(lits) == 2:
            for value in (False, True):
                sub = [
                    row[1:]
                    for row, h in zip(rows, heads)
                    if isinstance(h, RBind) or (isinstance(h, RLit) and h.value == value)
                ]
                found = self.missing(sub, rest)
                if found is not None:
                    return ["true" if value else "false", *found]
            return None
        found = self.missing(default, rest)
        if found is None:
            return None
        if not lits:
            return ["_", *found]
        if ty == BOOL:
            return ["false" if True in lits else "true", *found]
        name = f"_{self.index}"
        self.index += 1
        texts = [_show_literal(v) for v in lits]
        if len(texts) > 4:
            texts = [*texts[:3], f"{len(texts) - 3} other values"]
        listed = (
            texts[0]
            if len(texts) == 1
            else (
                f"{texts[0]} or {texts[1]}"
                if len(texts) == 2
                else ", ".join(texts[:-1]) + f", or {texts[-1]}"
            )
        )
        self.notes.append(f"When '{name}' is not {listed}")
        return [name, *found]

    @staticmethod
    def specialize(rows: list[list[RPat]], variant: int | None, n: int) -> list[list[RPat]]:
        out = []
        for row in rows:
            h = row[0]
            if isinstance(h, RCtor) and h.variant == variant:
                out.append([*h.fields, *row[1:]])
            elif isinstance(h, RBind):
                out.append([RBind(h.loc, h.ty, None) for _ in range(n)] + row[1:])
        return out

    @staticmethod
    def variant(decl: ir.StructDecl, v: ir.VariantDecl, parts: list[str]) -> str:
        shown = f"{decl.name}::{v.name}"
        if not v.fields:
            return shown
        return shown + _show_fields(v.positional, [f.name for f in v.fields], parts)


def _show_literal(value: ir.ConstValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, bytes):
        return "@0x" + value.hex().lstrip("0") if value.strip(b"\0") else "@0x0"
    return str(value)


__all__ = ["lower_match"]
