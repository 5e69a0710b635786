"""A whole package, checked: declarations in dependency-free passes, then every body.

Passes, so that any module may name any other of the package in any order: (1) every
module's id, struct and function names; (2) ``use`` declarations and the implicit
aliases; (3) struct fields and their ability rules; (4) function signatures; (5)
``use fun`` aliases; (6) constants, folded; (7) bodies, checked and lowered, then the
move/drop/reference flow checks. Errors are collected per declaration, so one bad
function does not hide the errors of the next, and reported in source order.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence

from move import ir
from move.check.body import BodyChecker, children, diverges
from move.check.env import Env, FunSig, ModuleInfo
from move.check.flow import Flow
from move.check.fold import fold
from move.check.scope import ABILITY_NAMES, PRIMITIVES, ModuleScope, type_key
from move.codes import error
from move.source import CompileError, Diagnostic, Loc
from move.syntax import ast as A
from move.types import (
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
)

VISIBILITY = {
    "private": ir.Visibility.PRIVATE,
    "public": ir.Visibility.PUBLIC,
    "package": ir.Visibility.PACKAGE,
    "friend": ir.Visibility.PACKAGE,
}
NATIVE_ADDRESSES = {address_of(1), address_of(2), address_of(3)}
"""Only the framework may declare ``native`` functions and structs (as on Sui)."""


class Errors:
    def __init__(self) -> None:
        self.diagnostics: list[Diagnostic] = []

    def guard(self, fn: object, *args: object) -> object:
        assert callable(fn)
        try:
            return fn(*args)
        except CompileError as e:
            self.diagnostics.extend(e.diagnostics)
            return None

    def raise_if_any(self) -> None:
        if self.diagnostics:
            diags = sorted(self.diagnostics, key=lambda d: (d.loc.file, d.loc.line, d.loc.col))
            raise CompileError(diags)


def check_package(
    name: str,
    files: Sequence[A.FileAst],
    addresses: Mapping[str, bytes],
    deps: Sequence[ir.Package],
    sources: Mapping[str, str],
    edition: str = "2024",
) -> ir.Package:
    """Check the parsed files of package ``name`` against its dependencies. In the
    ``legacy`` edition every local is mutable and structs need no ``public``; in 2024 a
    local assigned again or borrowed mutably must be ``mut`` and a struct ``public``."""
    env = Env(name)
    legacy = edition == "legacy"
    for dep in deps:
        env.add_dependency(dep)
    errors = Errors()
    modules: list[tuple[A.ModuleDef, ModuleScope]] = []
    # (1) ids and names
    for f in files:
        for m in f.modules:
            scope = ModuleScope(env, ModuleId(address_of(0), m.name.text), addresses, sources, legacy=legacy)
            result = errors.guard(_register, env, m, scope, name, sources)
            if result is not None:
                modules.append((m, scope))
    errors.raise_if_any()
    # (2) uses
    for m, scope in modules:
        scope.add_implicit()
        for use in m.uses:
            errors.guard(scope.add_use, use)
    errors.raise_if_any()
    # (3) struct fields and enum variants
    for m, scope in modules:
        for s in m.structs:
            errors.guard(_struct_fields, env, scope, s)
        for en in m.enums:
            errors.guard(_enum_variants, env, scope, en)
    errors.raise_if_any()
    for m, scope in modules:
        errors.guard(_no_cycles, env, scope, m)
    # (4) signatures
    for m, scope in modules:
        for fun in m.functions:
            if not fun.macro:
                errors.guard(_signature, env, scope, fun)
    errors.raise_if_any()
    # (5) use fun
    for m, scope in modules:
        for uf in m.use_funs:
            errors.guard(_use_fun, env, scope, uf)
    errors.raise_if_any()
    # (6) constants
    for m, scope in modules:
        _constants(scope, m, errors)
    errors.raise_if_any()
    # (7) bodies
    out: list[ir.ModuleDecl] = []
    for m, scope in modules:
        info = env.modules[scope.id]
        decl = ir.ModuleDecl(scope.id, dict(info.structs), {}, dict(scope.constants), [], m.file)
        decl.use_funs = {k: v for k, v in scope.use_funs.items() if k in scope.public_use_funs}
        decl.macros = dict(info.macros)
        for fun in m.functions:
            if fun.macro:
                continue
            fd = errors.guard(_function, env, scope, fun)
            if isinstance(fd, ir.FunctionDecl):
                decl.functions[fd.name] = fd
        decl.dependencies = sorted(_module_deps(decl) - {scope.id})
        out.append(decl)
    errors.raise_if_any()
    ordered = _order(out, sources)
    return ir.Package(name, ordered, sorted({d.name for d in deps}))


def _register(env: Env, m: A.ModuleDef, scope: ModuleScope, package: str, sources: Mapping[str, str]) -> bool:
    mid = ModuleId(scope.address(m.address, m.loc), m.name.text)
    scope.id = mid
    if mid in env.modules:
        other = (
            "this package" if env.modules[mid].package == package else f"package '{env.modules[mid].package}'"
        )
        raise error(
            m.name.loc, "E02001", f"Duplicate definition for module '{mid}' (also in {other})", sources
        )
    info = ModuleInfo(mid, package)
    seen: dict[str, Loc] = {}
    for s in m.structs:
        _unique(seen, s.name, sources)
        if not s.name.text[:1].isupper():
            raise error(
                s.name.loc, "E02010",
                f"Invalid struct name '{s.name.text}'. Struct names must start with 'A'..'Z'", sources,
            )  # fmt: skip
        if not s.public and not scope.legacy:
            raise error(
                s.loc, "E01003",
                "Invalid struct declaration. Visibility annotations are required on struct declarations "
                "from the Move 2024 edition onwards",
                sources,
            )  # fmt: skip
        if s.native and mid.address not in NATIVE_ADDRESSES:
            raise error(s.loc, "E04015", "Only the framework may declare 'native' structs", sources)
        info.structs[s.name.text] = ir.StructDecl(
            s.name.text,
            _abilities(s.abilities, sources),
            _tparams(s.type_params, sources),
            (),
            s.loc,
            s.native,
        )
    for en in m.enums:
        _unique(seen, en.name, sources)
        if not en.name.text[:1].isupper():
            raise error(
                en.name.loc, "E02010",
                f"Invalid enum name '{en.name.text}'. Enum names must start with 'A'..'Z'", sources,
            )  # fmt: skip
        if not en.public and not scope.legacy:
            raise error(
                en.loc, "E01003",
                "Invalid enum declaration. Visibility annotations are required on enum declarations "
                "from the Move 2024 edition onwards",
                sources,
            )  # fmt: skip
        abilities = _abilities(en.abilities, sources)
        if Ability.KEY in abilities:
            key = next(a for a in en.abilities if a.text == "key")
            raise error(
                key.loc, "E02022",
                f"Invalid 'key' ability on enum '{en.name.text}'. Enums cannot have the 'key' ability",
                sources,
            )  # fmt: skip
        if not en.variants:
            raise error(en.loc, "E02022", "An 'enum' must define at least one variant", sources)
        info.structs[en.name.text] = ir.StructDecl(
            en.name.text, abilities, _tparams(en.type_params, sources), (), en.loc, variants=()
        )
    for f in m.functions:
        _unique(seen, f.name, sources)
        if f.macro:
            if f.native or f.entry or f.body is None:
                raise error(f.loc, "E02007", "A 'macro' function cannot be 'native' or 'entry'", sources)
            info.macros[f.name.text] = ir.MacroDecl(f.name.text, VISIBILITY[f.visibility], f, scope, f.loc)
            continue
        if f.native and mid.address not in NATIVE_ADDRESSES:
            raise error(f.loc, "E04015", "Only the framework may declare 'native' functions", sources)
        info.functions[f.name.text] = FunSig(
            mid,
            f.name.text,
            VISIBILITY[f.visibility],
            f.entry,
            _tparams(f.type_params, sources),
            (),
            (),
            f.native,
        )
    for c in m.constants:
        _unique(seen, c.name, sources)
        if not c.name.text[:1].isupper():
            raise error(
                c.name.loc, "E02010",
                f"Invalid constant name '{c.name.text}'. Constant names must start with 'A'..'Z'", sources,
            )  # fmt: skip
        scope.const_asts[c.name.text] = c
    env.modules[mid] = info
    return True


def _unique(seen: dict[str, Loc], name: A.Name, sources: Mapping[str, str]) -> None:
    if name.text in seen:
        raise error(
            name.loc, "E02001", f"Duplicate module member or alias '{name.text}'. Top level names in a "
            "namespace must be unique", sources,
        )  # fmt: skip
    seen[name.text] = name.loc


def _abilities(names: list[A.Name], sources: Mapping[str, str]) -> Ability:
    out = Ability.NONE
    for n in names:
        if n.text not in ABILITY_NAMES:
            raise error(
                n.loc, "E02008", f"Unexpected ability '{n.text}'. Expected: copy, drop, store or key", sources
            )
        if ABILITY_NAMES[n.text] in out:
            raise error(n.loc, "E02001", f"Duplicate ability '{n.text}'", sources)
        out |= ABILITY_NAMES[n.text]
    return out


def _tparams(tps: list[A.TypeParamAst], sources: Mapping[str, str]) -> tuple[ir.TypeParamDecl, ...]:
    seen: dict[str, Loc] = {}
    out = []
    for tp in tps:
        _unique(seen, tp.name, sources)
        out.append(ir.TypeParamDecl(tp.name.text, _abilities(tp.constraints, sources), tp.phantom))
    return tuple(out)


def _tparam_map(decls: tuple[ir.TypeParamDecl, ...]) -> dict[str, TypeParam]:
    return {d.name: TypeParam(i, d.name) for i, d in enumerate(decls)}


def _constraint_check(
    env: Env, tparams: tuple[ir.TypeParamDecl, ...], sources: Mapping[str, str]
) -> Callable[[Type, Ability, Loc, str], None]:
    """What a declaration's written types check their type arguments with (types in
    declarations are known at once, so the check is immediate)."""

    def check(arg: Type, need: Ability, loc: Loc, what: str) -> None:
        have = env.abilities(arg, tparams)
        if need & have != need:
            raise error(
                loc, "E05001", f"The type '{arg}' does not have the abilities required by {what} "
                f"({', '.join(need.names())})", sources,
            )  # fmt: skip

    return check


def _struct_fields(env: Env, scope: ModuleScope, s: A.StructDef) -> None:
    info = env.modules[scope.id]
    placeholder = info.structs[s.name.text]
    fields = _datatype_fields(env, scope, s.name.text, "struct", placeholder, s.fields)
    info.structs[s.name.text] = ir.StructDecl(
        placeholder.name,
        placeholder.abilities,
        placeholder.type_params,
        tuple(fields),
        placeholder.loc,
        s.native,
        positional=s.positional,
    )


def _datatype_fields(
    env: Env, scope: ModuleScope, owner: str, kind: str, placeholder: ir.StructDecl,
    written: list[tuple[A.Name, A.TypeAst]],
) -> tuple[ir.FieldDecl, ...]:  # fmt: skip
    """The fields of a struct or of one enum variant: resolved, unique, and with every
    ability the datatype declares (``store`` for ``key``)."""
    tparams = _tparam_map(placeholder.type_params)
    sources = scope.sources
    check = _constraint_check(env, placeholder.type_params, sources)
    fields: list[ir.FieldDecl] = []
    seen: dict[str, Loc] = {}
    for fname, fty_ast in written:
        if fname.text in seen:
            raise error(fname.loc, "E02001", f"Duplicate field '{fname.text}' in {kind} '{owner}'", sources)
        seen[fname.text] = fname.loc
        fty = scope.type(fty_ast, tparams, allow_ref=False, check=check)
        _phantom_use(fty, placeholder.type_params, env, fty_ast.loc, sources)
        for ab in (Ability.COPY, Ability.DROP, Ability.STORE, Ability.KEY):
            if ab not in placeholder.abilities:
                continue
            req = Ability.STORE if ab is Ability.KEY else ab
            if req not in env.abilities(fty, None):
                raise error(
                    fty_ast.loc, "E05001",
                    f"Invalid field type. The {'enum' if kind == 'variant' else 'struct'} was declared with the "
                    f"ability '{ab.names()[0]}' so all fields require the ability '{req.names()[0]}'. The type "
                    f"'{fty}' does not have it",
                    sources,
                )  # fmt: skip
        fields.append(ir.FieldDecl(fname.text, fty, fname.loc))
    return tuple(fields)


def _enum_variants(env: Env, scope: ModuleScope, en: A.EnumDef) -> None:
    info = env.modules[scope.id]
    placeholder = info.structs[en.name.text]
    variants: list[ir.VariantDecl] = []
    seen: dict[str, Loc] = {}
    for v in en.variants:
        if v.name.text in seen:
            raise error(
                v.name.loc, "E02001", f"Duplicate variant '{v.name.text}' in enum '{en.name.text}'",
                scope.sources,
            )  # fmt: skip
        if not v.name.text[:1].isupper():
            raise error(
                v.name.loc, "E02010",
                f"Invalid variant name '{v.name.text}'. Variant names must start with 'A'..'Z'", scope.sources,
            )  # fmt: skip
        seen[v.name.text] = v.name.loc
        owner = f"{en.name.text}::{v.name.text}"
        fields = _datatype_fields(env, scope, owner, "variant", placeholder, v.fields)
        variants.append(ir.VariantDecl(v.name.text, fields, v.positional, v.loc))
    info.structs[en.name.text] = dataclasses.replace(placeholder, variants=tuple(variants))


def _phantom_use(
    ty: Type, tparams: tuple[ir.TypeParamDecl, ...], env: Env, loc: Loc, sources: Mapping[str, str]
) -> None:
    """A ``phantom`` type parameter may appear only as a phantom argument."""
    if isinstance(ty, TypeParam):
        if tparams[ty.index].phantom:
            raise error(
                loc, "E02013",
                f"Invalid phantom type parameter usage. Phantom type parameter '{ty.name}' cannot be used as "
                "a field type or as a non-phantom type argument",
                sources,
            )  # fmt: skip
    elif isinstance(ty, VectorType):
        _phantom_use(ty.element, tparams, env, loc, sources)
    elif isinstance(ty, StructType):
        decl = env.struct(ty)
        for p, a in zip(decl.type_params, ty.args):
            if not p.phantom:
                _phantom_use(a, tparams, env, loc, sources)


def _no_cycles(env: Env, scope: ModuleScope, m: A.ModuleDef) -> None:
    """A struct may not contain itself, directly or through other structs."""

    def contains(ty: Type, target: tuple[ModuleId, str], seen: set[tuple[ModuleId, str]]) -> bool:
        if isinstance(ty, VectorType):
            return contains(ty.element, target, seen)
        if isinstance(ty, StructType):
            key = (ty.module, ty.name)
            if key == target:
                return True
            if key in seen:
                return False
            seen.add(key)
            decl = env.struct(ty)
            return any(contains(f.type, target, seen) for f in decl.all_fields()) or any(
                contains(a, target, seen) for a in ty.args
            )
        return False

    info = env.modules[scope.id]
    for name in [s.name.text for s in m.structs] + [en.name.text for en in m.enums]:
        decl = info.structs[name]
        for f in decl.all_fields():
            if contains(f.type, (scope.id, decl.name), set()):
                raise error(
                    f.loc, "E04018",
                    f"Invalid field containing '{decl.name}' in {'enum' if decl.is_enum else 'struct'} "
                    f"'{decl.name}'. Structs cannot contain themselves, directly or indirectly",
                    scope.sources,
                )  # fmt: skip


def _signature(env: Env, scope: ModuleScope, f: A.FunDef) -> None:
    sig = env.modules[scope.id].functions[f.name.text]
    tparams = _tparam_map(sig.type_params)
    sources = scope.sources
    check = _constraint_check(env, sig.type_params, sources)

    names: dict[str, Loc] = {}
    params = []
    for p in f.params:
        if p.name.text in names and p.name.text != "_":
            raise error(p.name.loc, "E02001", f"Duplicate parameter with name '{p.name.text}'", sources)
        names[p.name.text] = p.name.loc
        params.append(scope.type(p.type, tparams, check=check))
    returns: tuple[Type, ...] = ()
    if f.ret is not None:
        rt = scope.type(f.ret, tparams, allow_tuple=True, check=check)
        returns = rt.items if isinstance(rt, TupleType) else (rt,)
        for r, loc in zip(returns, [f.ret.loc] * len(returns)):
            if isinstance(r, TupleType):
                raise error(loc, "E04005", "Invalid return type: tuples cannot be nested", sources)
    sig.params = tuple(params)
    sig.returns = returns
    sig.param_names = tuple(p.name.text for p in f.params)


def _use_fun(env: Env, scope: ModuleScope, uf: A.UseFunDecl) -> None:
    sig = scope.function(uf.function)
    parts = uf.type_name.parts
    if (
        len(parts) == 1
        and uf.type_name.address is None
        and (parts[0].text in PRIMITIVES or parts[0].text == "vector")
    ):
        key = parts[0].text
    else:
        mid, decl = scope.struct(uf.type_name)
        key = f"{mid}::{decl.name}"
    first = sig.params[0] if sig.params else None
    base = first.inner if isinstance(first, RefType) else first
    base_key = type_key(base) if base is not None and not isinstance(base, TypeParam) else None
    if base_key != key:
        raise error(
            uf.loc, "E02017",
            f"Invalid 'use fun' for '{uf.type_name}.{uf.method.text}'. The function's first parameter must "
            f"have the type '{uf.type_name}' (or a reference to it)",
            scope.sources,
        )  # fmt: skip
    scope.use_funs[f"{key}.{uf.method.text}"] = sig.ref
    if uf.public:
        scope.public_use_funs.add(f"{key}.{uf.method.text}")


def _constants(scope: ModuleScope, m: A.ModuleDef, errors: Errors) -> None:
    in_progress: set[str] = set()

    def resolve(name: str) -> ir.ConstantDecl:
        if name in scope.constants:
            return scope.constants[name]
        c = scope.const_asts[name]
        if name in in_progress:
            raise error(c.loc, "E04013", f"Constant '{name}' is defined in terms of itself", scope.sources)
        in_progress.add(name)
        try:
            decl = _constant(scope, c)
        finally:
            in_progress.discard(name)
        scope.constants[name] = decl
        return decl

    scope.resolve_const = resolve
    for c in m.constants:
        if c.name.text not in scope.constants:
            errors.guard(resolve, c.name.text)


def _constant(scope: ModuleScope, c: A.ConstDef) -> ir.ConstantDecl:
    ty = scope.type(c.type, {}, allow_ref=False)
    if not _constant_type(ty):
        raise error(
            c.type.loc, "E04012",
            f"Unpermitted constant type '{ty}'. Constants may be of a primitive type, or a vector of them",
            scope.sources,
        )  # fmt: skip
    sig = FunSig(scope.id, c.name.text, ir.Visibility.PRIVATE, False, (), (), (ty,))
    checker = BodyChecker(scope, sig, {}, [])
    value = checker.coerce(checker.exp(c.value), ty, f"Invalid value for constant '{c.name.text}'")
    body, _ = checker.finish(value)
    return ir.ConstantDecl(c.name.text, ty, fold(body, scope.sources), c.loc)


def _constant_type(ty: Type) -> bool:
    if isinstance(ty, PrimType):
        return True
    return isinstance(ty, VectorType) and _constant_type(ty.element)


def _function(env: Env, scope: ModuleScope, f: A.FunDef) -> ir.FunctionDecl:
    sig = env.modules[scope.id].functions[f.name.text]
    tparams = _tparam_map(sig.type_params)
    params = tuple(
        ir.LocalDecl(i, p.name.text, t, p.mutable, p.name.loc)
        for i, (p, t) in enumerate(zip(f.params, sig.params))
    )
    if f.native:
        return ir.FunctionDecl(
            sig.name, sig.visibility, sig.entry, sig.type_params, params, sig.returns, list(params), None,
            f.loc, native=True,
        )  # fmt: skip
    assert f.body is not None
    checker = BodyChecker(scope, sig, tparams, f.params)
    body = checker.exp(f.body)
    if not diverges(body):
        want = sig.returns[0] if len(sig.returns) == 1 else TupleType(sig.returns)
        loc = f.body.result.loc if f.body.result is not None else (f.body.end or f.body.loc)
        try:
            body = checker.coerce(body, want, "Invalid return expression")
        except CompileError as e:
            d = e.diagnostics[0]
            raise error(loc, d.code, d.message.split(": ", 1)[1], scope.sources) from None
    body, locals_ = checker.finish(body)
    decl = ir.FunctionDecl(
        sig.name, sig.visibility, sig.entry, sig.type_params, tuple(locals_[: len(params)]), sig.returns,
        locals_, body, f.loc,
    )  # fmt: skip
    Flow(env, decl, scope.sources, f.body.end if f.body.result is None else None).run()
    return decl


def _module_deps(m: ir.ModuleDecl) -> set[ModuleId]:
    out: set[ModuleId] = set()

    def ty(t: Type) -> None:
        if isinstance(t, StructType):
            out.add(t.module)
            for a in t.args:
                ty(a)
        elif isinstance(t, VectorType):
            ty(t.element)
        elif isinstance(t, RefType):
            ty(t.inner)
        elif isinstance(t, TupleType):
            for i in t.items:
                ty(i)

    for s in m.structs.values():
        for fd in s.all_fields():
            ty(fd.type)
    for f in m.functions.values():
        for local in f.locals:
            ty(local.type)
        for r in f.returns:
            ty(r)
        stack: list[ir.Expr] = [f.body] if f.body is not None else []
        while stack:
            node = stack.pop()
            ty(node.ty)
            if isinstance(node, ir.Call):
                out.add(node.function.module)
                for a in node.type_args:
                    ty(a)
            stack.extend(children(node))
    return out  # `use fun` aliases are compile-time only: no dependency (std::vector names std::string)


def _order(modules: list[ir.ModuleDecl], sources: Mapping[str, str]) -> list[ir.ModuleDecl]:
    """Modules after the ones they use; a cycle among the package's modules is an error."""
    by_id = {m.id: m for m in modules}
    done: list[ir.ModuleDecl] = []
    state: dict[ModuleId, int] = {}

    def visit(m: ir.ModuleDecl, path: list[ModuleId]) -> None:
        mark = state.get(m.id, 0)
        if mark == 2:
            return
        if mark == 1:
            cycle = " -> ".join(str(x) for x in [*path[path.index(m.id) :], m.id])
            loc = Loc(m.file, 1, 1)
            raise error(loc, "E02004", f"Circular dependency between modules: {cycle}", sources)
        state[m.id] = 1
        for d in m.dependencies:
            if d in by_id:
                visit(by_id[d], [*path, m.id])
        state[m.id] = 2
        done.append(m)

    for m in sorted(modules, key=lambda x: x.id):
        visit(m, [])
    return done
