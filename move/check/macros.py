"""Macro functions and lambdas: ``macro fun`` bodies expanded at each call, as Move does.

A call ``m!(a, f)`` (or ``x.m!(f)``, the receiver first) checks the macro's body where it
is called, with:

* its ``$`` parameters substituted by name: each use of ``$a`` checks the argument's
  expression again, in the caller's names (so ``$a`` used twice evaluates twice, and the
  standard macros start with ``let v = $v;``); a parameter without ``$`` is evaluated once,
  before the body;
* its lambda parameters (``$f: |u64| -> bool``) applied by inlining: ``$f(i)`` evaluates
  ``i`` in the macro's names, then checks the lambda's body in the caller's names with its
  parameter bound to that value; a lambda forwarded to another macro keeps its own names;
* hygiene: the macro's locals, the caller's locals and each lambda's parameters live in
  separate name scopes (``Context``), so no expansion captures or shadows a caller's
  variable, and the macro's own names (``option::some``) resolve in its module;
* its type parameters (``$T``) inferred per call like a generic function's.

A lambda may not ``return`` (Move's rule) nor ``break``/``continue`` a loop around it, and
is only an argument of a macro. Expansion nests (``tabulate!`` calls ``do!``) up to
``MAX_DEPTH`` levels, which stops a macro that calls itself.

The checker (``move.check.body.BodyChecker``) is passed in, not imported (see
``move.check.matching``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from move import ir
from move.check.infer import AnyType, TVar
from move.check.scope import ABILITY_NAMES, PRIMITIVE_METHOD_MODULES, ModuleScope, type_key
from move.source import Loc
from move.syntax import ast as A
from move.types import UNIT, Ability, ModuleId, RefType, StructType, TupleType, address_of

MAX_DEPTH = 64
"""Macro calls nested deeper than this are refused (a macro that expands itself)."""

Checker = Any
"""A ``move.check.body.BodyChecker``."""


@dataclass
class Lambda:
    """A lambda parameter's declared shape: its parameter types and result type."""

    params: list[AnyType]
    result: AnyType


@dataclass
class MacroArg:
    """What a ``$`` parameter stands for: the caller's expression and the names it is
    checked in; ``ty`` its declared type, or ``shape`` for a lambda parameter."""

    ast: A.Exp
    context: Context
    ty: AnyType | None = None
    shape: Lambda | None = None


@dataclass
class Context:
    """The names an expression is checked in: the module's, the local scopes, the loops it
    may leave, the type parameters, the macro parameters; and whether ``return`` is allowed."""

    scope: ModuleScope
    scopes: list[dict[str, int]]
    loops: list[Any]
    tparams: Mapping[str, Any]
    macro_params: dict[str, MacroArg] = field(default_factory=dict)
    can_return: bool = True
    where: str = "function"


def current(c: Checker) -> Context:
    return Context(c.scope, c.scopes, c.loops, c.tparams, c.macro_params, c.can_return, c.where)


@contextmanager
def within(c: Checker, ctx: Context) -> Iterator[None]:
    saved = current(c)
    _enter(c, ctx)
    try:
        yield
    finally:
        _enter(c, saved)


def _enter(c: Checker, ctx: Context) -> None:
    c.scope, c.scopes, c.loops, c.tparams = ctx.scope, ctx.scopes, ctx.loops, ctx.tparams
    c.macro_params, c.can_return, c.where = ctx.macro_params, ctx.can_return, ctx.where


def _names_of(c: Checker, macro: ir.MacroDecl) -> ModuleScope:
    """The macro's module names, bound to the calling package's modules."""
    home = macro.names
    assert isinstance(home, ModuleScope)
    if home.env is c.env:
        return home
    cached = c.macro_scopes.get(id(home))
    if cached is None:
        cached = ModuleScope(
            c.env,
            home.id,
            home.addresses,
            home.sources,
            dict(home.module_aliases),
            dict(home.member_aliases),
            dict(home.use_funs),
            set(home.public_use_funs),
            dict(home.constants),
            dict(home.const_asts),
            legacy=home.legacy,
        )
        cached.resolve_const = cached.constants.__getitem__
        c.macro_scopes[id(home)] = cached
    return cached


# -- finding macros ----------------------------------------------------------------------------


def find_macro(c: Checker, path: A.Path) -> ir.MacroDecl:
    scope: ModuleScope = c.scope
    name = path.parts[-1]
    mid = scope.module_of(path, 1)
    if mid is None:
        own = c.env.modules[scope.id].macros.get(name.text)
        if own is not None:
            return own
        alias = scope.member_aliases.get(name.text)
        if alias is not None:
            found = c.env.modules[alias[0]].macros.get(alias[1])
            if found is not None:
                return found
        raise c.err(name.loc, "E03012", f"Unbound macro '{name.text}'")
    found = c.env.modules[mid].macros.get(name.text)
    if found is None:
        what = (
            "a function, not a macro: call it without '!'"
            if name.text in c.env.modules[mid].functions
            else ""
        )
        raise c.err(
            name.loc,
            "E03012",
            f"Unbound macro '{name.text}' in module '{mid}'"
            + (f" ('{name.text}' is {what})" if what else ""),
        )
    return found


def method_macro(c: Checker, base: AnyType, name: A.Name, loc: Loc) -> ir.MacroDecl:
    if isinstance(base, TVar):
        raise c.err(
            loc, "E04010", f"Could not infer the type of the receiver of '.{name.text}!()'. Try annotating it"
        )
    key = type_key(base)
    if key is None:
        raise c.err(name.loc, "E04023", f"Invalid method call. No macros on a value of type '{c.show(base)}'")
    home = (
        base.module
        if isinstance(base, StructType)
        else ModuleId(address_of(1), PRIMITIVE_METHOD_MODULES[key])
    )
    info = c.env.modules.get(home)
    found = info.macros.get(name.text) if info is not None else None
    if found is None:
        raise c.err(
            name.loc, "E04023",
            f"Invalid method call. No macro '{name.text}!' found for the receiver type '{c.show(base)}'",
        )  # fmt: skip
    return found


# -- expansion ---------------------------------------------------------------------------------


def call_macro(c: Checker, e: A.CallExp) -> ir.Expr:
    macro = find_macro(c, e.path)
    caller = current(c)
    return expand(c, macro, e.type_args, [(a, caller) for a in e.args], e.loc)


def call_method_macro(c: Checker, e: A.MethodCallExp) -> ir.Expr:
    recv = e.receiver
    before: list[ir.Expr] = []
    if c.is_place(recv):
        rty = c.place_type(recv)
        receiver: A.Exp = recv
        value_ty = c.infer.resolve(rty)
    else:
        value = c.exp(recv)
        c.no_tuple(value)
        tmp = c.temp(value.ty, recv.loc)
        before.append(ir.Assign(UNIT, recv.loc, [tmp], value))
        receiver = A.LocalExp(recv.loc, tmp)
        value_ty = c.infer.resolve(value.ty)
    base = c.infer.resolve(value_ty.inner) if isinstance(value_ty, RefType) else value_ty
    macro = method_macro(c, base, e.name, recv.loc)
    definition = macro.definition
    assert isinstance(definition, A.FunDef)
    if not definition.params:
        raise c.err(e.name.loc, "E04023", f"Invalid method call. '{macro.name}!' takes no arguments")
    first = definition.params[0].type
    if isinstance(first, A.RefTypeAst) and not isinstance(value_ty, RefType):
        receiver = A.BorrowExp(recv.loc, first.mutable, receiver)
    elif not isinstance(first, A.RefTypeAst) and isinstance(value_ty, RefType):
        receiver = A.DerefExp(recv.loc, receiver)
    caller = current(c)
    args = [(receiver, caller), *((a, caller) for a in e.args)]
    result = expand(c, macro, e.type_args, args, e.loc, method=True)
    return ir.Block(result.ty, e.loc, before, result) if before else result


def expand(
    c: Checker,
    macro: ir.MacroDecl,
    type_args: list[A.TypeAst] | None,
    args: list[tuple[A.Exp, Context]],
    loc: Loc,
    *,
    method: bool = False,
) -> ir.Expr:
    definition = macro.definition
    assert isinstance(definition, A.FunDef) and definition.body is not None
    names = _names_of(c, macro)
    here = c.home
    private = macro.visibility is not ir.Visibility.PUBLIC and names.id != here
    if private and (macro.visibility is not ir.Visibility.PACKAGE or not c.env.same_package(names.id, here)):
        raise c.err(
            loc, "E04001",
            f"Invalid call to macro '{names.id}::{macro.name}'. It is not 'public' and can only be called "
            f"from module '{names.id}'",
        )  # fmt: skip
    if c.macro_depth >= MAX_DEPTH:
        raise c.err(
            loc,
            "E04025",
            f"Macro '{macro.name}!' expands more than {MAX_DEPTH} levels deep (recursive macros)",
        )
    shown = f"'{names.id}::{macro.name}'"
    # type parameters: written at the call (in the caller's names) or inferred
    tps = definition.type_params
    if type_args is not None and len(type_args) != len(tps):
        code = "E03007" if len(type_args) > len(tps) else "E03008"
        raise c.err(
            loc,
            code,
            f"Invalid instantiation of {shown}. Expected {len(tps)} type argument(s) but got {len(type_args)}",
        )
    targs: list[AnyType] = (
        [c.scope.type(t, c.tparams, allow_ref=False, check=c.check_constraint) for t in type_args]
        if type_args is not None
        else [c.infer.fresh() for _ in tps]
    )
    macro_tparams = {tp.name.text: arg for tp, arg in zip(tps, targs)}
    for tp, arg in zip(tps, targs):
        need = _abilities(tp)
        if need:
            c.check_constraint(arg, need, loc, f"the type parameter '{tp.name.text}' of {shown}")
    if len(args) != len(definition.params):
        few = len(args) < len(definition.params)
        shown_args, expected = len(args) - method, len(definition.params) - method
        raise c.err(
            loc, "E04016" if few else "E04017",
            f"Invalid call of {shown}. The call expected {expected} argument(s) but got {shown_args} "
            f"(too {'few' if few else 'many'})",
        )  # fmt: skip
    body_ctx = Context(names, [{}], [], macro_tparams, {}, False, "macro")
    prelude: list[ir.Expr] = []
    with within(c, body_ctx):
        declared = [_param_type(c, p.type) for p in definition.params]
        result_ty: AnyType = (
            c.scope.type(definition.ret, c.tparams, allow_tuple=True, check=c.check_constraint)
            if definition.ret is not None
            else UNIT
        )
    for p, (arg_ast, arg_ctx), ty in zip(definition.params, args, declared):
        if isinstance(ty, Lambda):
            if not isinstance(arg_ast, A.LambdaExp) and not _forwarded(arg_ast, arg_ctx):
                raise c.err(
                    arg_ast.loc,
                    "E04007",
                    f"Invalid argument for '{p.name.text}' of {shown}: expected a lambda",
                )
            body_ctx.macro_params[p.name.text] = MacroArg(arg_ast, arg_ctx, shape=ty)
        elif p.name.text.startswith("$"):
            if isinstance(arg_ast, A.LambdaExp):
                raise c.err(
                    arg_ast.loc,
                    "E04007",
                    f"Invalid argument for '{p.name.text}' of {shown}: not a lambda parameter",
                )
            body_ctx.macro_params[p.name.text] = MacroArg(arg_ast, arg_ctx, ty=ty)
        else:
            # a parameter without `$`: evaluated once, before the body, as a function's argument
            with within(c, arg_ctx):
                value = c.coerce(
                    c.exp(arg_ast), ty, f"Invalid call of {shown}. Invalid argument for '{p.name.text}'"
                )
            with within(c, body_ctx):
                local = c.declare(p.name.text, ty, p.mutable, p.name.loc)
            prelude.append(ir.Assign(UNIT, arg_ast.loc, [local], value))
    c.macro_depth += 1
    try:
        with within(c, body_ctx):
            body = c.exp(definition.body)
            body = c.coerce(body, result_ty, f"Invalid result of macro {shown}")
    finally:
        c.macro_depth -= 1
    return ir.Block(body.ty, loc, prelude, body)  # located at the call, where its value is used


def _abilities(tp: A.TypeParamAst) -> Ability:
    need = Ability.NONE
    for n in tp.constraints:
        need |= ABILITY_NAMES.get(n.text, Ability.NONE)
    return need


def _param_type(c: Checker, t: A.TypeAst) -> AnyType | Lambda:
    if isinstance(t, A.FunTypeAst):
        params = [c.scope.type(p, c.tparams, check=c.check_constraint) for p in t.params]
        result = c.scope.type(t.ret, c.tparams, allow_tuple=True, check=c.check_constraint) if t.ret else UNIT
        return Lambda(params, result)
    return c.scope.type(t, c.tparams, allow_tuple=True, check=c.check_constraint)


def _forwarded(arg: A.Exp, ctx: Context) -> bool:
    """``$f`` passed on by a macro to another: a lambda parameter of the macro passing it."""
    if not isinstance(arg, A.NameExp) or len(arg.path.parts) != 1:
        return False
    found = ctx.macro_params.get(arg.path.parts[0].text)
    return found is not None and found.shape is not None


def param_value(c: Checker, e: A.NameExp) -> ir.Expr | None:
    """``$x`` in a macro's body: the caller's argument, checked again in its own names."""
    name = e.path.parts[0].text
    found = c.macro_params.get(name)
    if found is None:
        return None
    if found.shape is not None:
        raise c.err(e.loc, "E04007", f"Invalid use of lambda parameter '{name}': call it, '{name}(...)'")
    with within(c, found.context):
        value = c.exp(found.ast)
    assert found.ty is not None
    return c.coerce(value, found.ty, f"Invalid argument for macro parameter '{name}'")


def apply_lambda(c: Checker, e: A.CallExp) -> ir.Expr | None:
    """``$f(a, b)`` in a macro's body: the lambda's body with its parameters bound."""
    name = e.path.parts[0].text
    found = c.macro_params.get(name)
    if found is None:
        return None
    if found.shape is None:
        raise c.err(e.loc, "E04007", f"Invalid call of '{name}': it is not a lambda parameter")
    shape = found.shape
    if len(e.args) != len(shape.params):
        few = len(e.args) < len(shape.params)
        raise c.err(
            e.loc, "E04016" if few else "E04017",
            f"Invalid call of lambda '{name}'. Expected {len(shape.params)} argument(s) but got {len(e.args)}",
        )  # fmt: skip
    statements: list[ir.Expr] = []
    temps: list[int] = []
    for arg, want in zip(e.args, shape.params):
        value = c.coerce(c.exp(arg), want, f"Invalid argument for lambda '{name}'")
        tmp = c.temp(want, arg.loc)
        statements.append(ir.Assign(UNIT, arg.loc, [tmp], value))
        temps.append(tmp)
    lam, ctx = found.ast, found.context
    while not isinstance(lam, A.LambdaExp):  # forwarded: `$g` of the macro that passed it
        assert isinstance(lam, A.NameExp)
        outer = ctx.macro_params[lam.path.parts[0].text]
        lam, ctx = outer.ast, outer.context
    if len(lam.params) != len(shape.params):
        raise c.err(
            lam.loc, "E04007",
            f"Invalid lambda: it takes {len(lam.params)} parameter(s), '{name}' passes {len(shape.params)}",
        )  # fmt: skip
    # a lambda may leave the labeled blocks around where it is written, never a loop
    blocks = [f for f in ctx.loops if getattr(f, "kind", "") == "block"]
    inner = Context(ctx.scope, [*ctx.scopes, {}], blocks, ctx.tparams, ctx.macro_params, False, "lambda")
    with within(c, inner):
        for (pattern, written), tmp, want in zip(lam.params, temps, shape.params):
            if written is not None:
                ty = c.scope.type(written, c.tparams, check=c.check_constraint)
                c.unify(want, ty, written.loc, "Invalid lambda parameter type")
            statements.extend(c.bind_pattern(pattern, c.local_value(tmp, pattern.loc), new=True))
        body = c.exp(lam.body)
        if lam.ret is not None:
            ret = c.scope.type(lam.ret, c.tparams, allow_tuple=True, check=c.check_constraint)
            body = c.coerce(body, ret, "Invalid lambda result")
    body = c.coerce(body, shape.result, f"Invalid result of lambda '{name}'")
    result_ty = body.ty
    if isinstance(c.infer.resolve(result_ty), TupleType) and not statements:
        return body
    return ir.Block(result_ty, e.loc, statements, body)


__all__ = [
    "Context",
    "MacroArg",
    "apply_lambda",
    "call_macro",
    "call_method_macro",
    "current",
    "param_value",
    "within",
]
