"""What the checker knows about every module in reach: the package's own and its dependencies'.

Dependencies arrive already checked (``ir.Package``); the package being compiled is
added declaration by declaration (struct names, then fields, then function
signatures) so that bodies can be checked against all of them, in any order. The
ability rules live here because both declarations and bodies need them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from move import ir
from move.types import (
    ALL_ABILITIES,
    Ability,
    ModuleId,
    PrimType,
    RefType,
    StructType,
    TupleType,
    Type,
    TypeParam,
    VectorType,
)

PRIMITIVE_ABILITIES = Ability.COPY | Ability.DROP | Ability.STORE
REFERENCE_ABILITIES = Ability.COPY | Ability.DROP


@dataclass
class FunSig:
    """A function's signature: what a call is checked against."""

    module: ModuleId
    name: str
    visibility: ir.Visibility
    entry: bool
    type_params: tuple[ir.TypeParamDecl, ...]
    params: tuple[Type, ...]
    returns: tuple[Type, ...]
    native: bool = False
    param_names: tuple[str, ...] = ()

    @property
    def ref(self) -> ir.FunctionRef:
        return ir.FunctionRef(self.module, self.name)


@dataclass
class ModuleInfo:
    id: ModuleId
    package: str
    structs: dict[str, ir.StructDecl] = field(default_factory=dict)
    functions: dict[str, FunSig] = field(default_factory=dict)
    use_funs: dict[str, ir.FunctionRef] = field(default_factory=dict)
    """``public use fun`` aliases: ``"<type key>.<method>"`` -> function."""
    macros: dict[str, ir.MacroDecl] = field(default_factory=dict)


class Env:
    """Every module in reach, by id."""

    def __init__(self, package: str) -> None:
        self.package = package
        self.modules: dict[ModuleId, ModuleInfo] = {}

    def add_dependency(self, pkg: ir.Package) -> None:
        for m in pkg.modules:
            info = ModuleInfo(m.id, pkg.name, dict(m.structs))
            for f in m.functions.values():
                info.functions[f.name] = FunSig(
                    m.id,
                    f.name,
                    f.visibility,
                    f.entry,
                    f.type_params,
                    tuple(p.type for p in f.params),
                    f.returns,
                    f.native,
                    tuple(p.name for p in f.params),
                )
            info.use_funs.update(m.use_funs)
            info.macros.update(m.macros)
            self.modules[m.id] = info

    def same_package(self, a: ModuleId, b: ModuleId) -> bool:
        ma, mb = self.modules.get(a), self.modules.get(b)
        return ma is not None and mb is not None and ma.package == mb.package

    def struct(self, ty: StructType) -> ir.StructDecl:
        return self.modules[ty.module].structs[ty.name]

    def abilities(self, ty: Type, tparams: tuple[ir.TypeParamDecl, ...] | None) -> Ability:
        """The abilities of ``ty``; a type parameter has its constraints, or all abilities
        when ``tparams`` is None (a struct declaration's fields: abilities are conditional)."""
        if isinstance(ty, PrimType):
            return PRIMITIVE_ABILITIES
        if isinstance(ty, RefType):
            return REFERENCE_ABILITIES
        if isinstance(ty, TypeParam):
            if tparams is None or ty.index >= len(tparams):
                return ALL_ABILITIES
            return tparams[ty.index].constraints
        if isinstance(ty, VectorType):
            return self.abilities(ty.element, tparams) & PRIMITIVE_ABILITIES
        if isinstance(ty, StructType):
            decl = self.struct(ty)
            have = decl.abilities
            for param, arg in zip(decl.type_params, ty.args):
                if param.phantom:
                    continue
                arg_ab = self.abilities(arg, tparams)
                for ab in (Ability.COPY, Ability.DROP, Ability.STORE):
                    if ab not in arg_ab:
                        have &= ~ab
                if Ability.STORE not in arg_ab:
                    have &= ~Ability.KEY
            return have
        if isinstance(ty, TupleType):
            out = REFERENCE_ABILITIES  # `()` can be ignored and copied
            for item in ty.items:
                out &= self.abilities(item, tparams)
            return out
        return ALL_ABILITIES  # an inference variable: checked once solved
