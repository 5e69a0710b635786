"""Names inside one module: ``use`` declarations, the 2024 implicit imports, addresses.

A module sees its own structs, functions and constants; the modules and members its
``use`` declarations name; and, as the 2024 edition does, implicit aliases that the
source does not write: ``std::vector``, ``std::option::{Self, Option}`` and, in a
package depending on Sui, ``sui::object::{Self, ID, UID}``, ``sui::transfer`` and
``sui::tx_context::{Self, TxContext}`` (the Move compiler's list; ``string::String``
is *not* implicit and needs ``use std::string::String``). An explicit ``use`` or a
declaration of the module shadows an implicit alias.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from move import ir
from move.check.env import Env, FunSig
from move.codes import error
from move.source import NOWHERE, Loc
from move.syntax import ast as A
from move.types import (
    ADDRESS,
    BOOL,
    U8,
    U16,
    U32,
    U64,
    U128,
    U256,
    Ability,
    ModuleId,
    RefType,
    StructType,
    TupleType,
    Type,
    TypeParam,
    VectorType,
    address_of,
)

PRIMITIVES: dict[str, Type] = {
    "bool": BOOL,
    "u8": U8,
    "u16": U16,
    "u32": U32,
    "u64": U64,
    "u128": U128,
    "u256": U256,
    "address": ADDRESS,
}

IMPLICIT_MODULES = (
    (1, "vector", ()),
    (1, "option", ("Option",)),
    (2, "object", ("ID", "UID")),
    (2, "transfer", ()),
    (2, "tx_context", ("TxContext",)),
)
"""The 2024 edition's implicit ``use`` declarations (std always, sui in Sui packages)."""

PRIMITIVE_METHOD_MODULES = {
    "vector": "vector",
    "u8": "u8",
    "u16": "u16",
    "u32": "u32",
    "u64": "u64",
    "u128": "u128",
    "u256": "u256",
    "address": "address",
    "bool": "bool",
}
"""Where ``x.f()`` looks for ``f`` when ``x`` is a primitive: std's module of that name
(what std declares with ``#[defines_primitive(...)]``)."""

ABILITY_NAMES = {"copy": Ability.COPY, "drop": Ability.DROP, "store": Ability.STORE, "key": Ability.KEY}


def type_key(ty: Type) -> str | None:
    """The key method calls and ``use fun`` use for a receiver type (None: no methods)."""
    if isinstance(ty, VectorType):
        return "vector"
    if isinstance(ty, StructType):
        return f"{ty.module}::{ty.name}"
    name = str(ty)
    return name if name in PRIMITIVES else None


@dataclass
class ModuleScope:
    env: Env
    id: ModuleId
    addresses: Mapping[str, bytes]
    sources: Mapping[str, str]
    module_aliases: dict[str, ModuleId] = field(default_factory=dict)
    member_aliases: dict[str, tuple[ModuleId, str]] = field(default_factory=dict)
    use_funs: dict[str, ir.FunctionRef] = field(default_factory=dict)
    public_use_funs: set[str] = field(default_factory=set)
    constants: dict[str, ir.ConstantDecl] = field(default_factory=dict)
    const_asts: dict[str, A.ConstDef] = field(default_factory=dict)
    used_modules: set[ModuleId] = field(default_factory=set)
    explicit: set[tuple[bool, str]] = field(default_factory=set)
    """Names bound by this module's own ``use`` declarations (module aliases, members)."""
    legacy: bool = False
    """The legacy edition: every local mutable, structs without ``public``."""
    resolve_const: Callable[[str], ir.ConstantDecl] | None = None
    """Folds a constant of this module on first use (constants may name each other)."""

    # -- set up ----------------------------------------------------------------------------------

    def add_implicit(self) -> None:
        for addr, module, members in IMPLICIT_MODULES:
            mid = ModuleId(address_of(addr), module)
            if mid not in self.env.modules:
                continue
            self.module_aliases.setdefault(module, mid)
            for member in members:
                if member in self.env.modules[mid].structs:
                    self.member_aliases.setdefault(member, (mid, member))

    def claim(self, alias: A.Name, what: str) -> None:
        """An explicit ``use`` may bind a name once per module (implicit aliases give way)."""
        key = (what == "module alias", alias.text)
        if key in self.explicit:
            raise error(
                alias.loc, "E02001",
                f"Duplicate {what} '{alias.text}'. {what.capitalize()}es must be unique within a given namespace",
                self.sources,
            )  # fmt: skip
        self.explicit.add(key)

    def address(self, a: A.Name | int, loc: Loc = NOWHERE) -> bytes:
        if isinstance(a, int):
            if a >= 1 << 256:
                raise error(loc, "E01005", "the address does not fit in 32 bytes", self.sources)
            return address_of(a)
        if a.text not in self.addresses:
            raise error(a.loc, "E03001", f"Unbound address '{a.text}'", self.sources)
        return self.addresses[a.text]

    def add_use(self, use: A.UseDecl) -> None:
        for item in use.items:
            mid = ModuleId(self.address(item.address, item.loc), item.module.text)
            if mid not in self.env.modules:
                raise error(item.module.loc, "E03002", f"Unbound module '{mid}'", self.sources)
            if item.member is None:
                alias = item.alias or item.module
                self.claim(alias, "module alias")
                self.module_aliases[alias.text] = mid
                continue
            info = self.env.modules[mid]
            name = item.member.text
            if name not in info.structs and name not in info.functions and name not in info.macros:
                raise error(
                    item.member.loc,
                    "E03003",
                    f"Invalid 'use'. Unbound member '{name}' in module '{mid}'",
                    self.sources,
                )
            alias = item.alias or item.member
            self.claim(alias, "alias")
            own = self.env.modules.get(self.id)
            if own is not None and (alias.text in own.structs or alias.text in own.functions):
                raise error(
                    alias.loc, "E02001",
                    f"Duplicate module member or alias '{alias.text}'. Top level names in a namespace must be unique",
                    self.sources,
                )  # fmt: skip
            self.member_aliases[alias.text] = (mid, name)

    # -- modules and members -------------------------------------------------------------------

    def module_of(self, path: A.Path, member_parts: int) -> ModuleId | None:
        """The module a path names before its last ``member_parts`` parts (None: no module part)."""
        head = path.parts[: len(path.parts) - member_parts]
        if path.address is not None:
            if len(head) != 1:
                raise error(path.loc, "E03002", f"Invalid module access '{path}'", self.sources)
            mid = ModuleId(self.address(path.address, path.loc), head[0].text)
        elif not head:
            return None
        elif len(head) == 1:
            name = head[0]
            if name.text == "Self":
                return self.id
            if name.text not in self.module_aliases:
                raise error(name.loc, "E03002", f"Unbound module alias '{name.text}'", self.sources)
            return self.module_aliases[name.text]
        elif len(head) == 2:
            mid = ModuleId(self.address(head[0]), head[1].text)
        else:
            raise error(path.loc, "E03006", f"Invalid name '{path}': too many '::' parts", self.sources)
        if mid not in self.env.modules:
            raise error(path.loc, "E03002", f"Unbound module '{mid}'", self.sources)
        return mid

    def struct(self, path: A.Path) -> tuple[ModuleId, ir.StructDecl]:
        mid = self.module_of(path, 1)
        name = path.parts[-1]
        if mid is None:
            if name.text in self.env.modules[self.id].structs:
                mid = self.id
            elif name.text in self.member_aliases:
                mid, real = self.member_aliases[name.text]
                info = self.env.modules[mid]
                if real not in info.structs:
                    raise error(
                        name.loc, "E03004", f"Unbound type '{name.text}' in current scope", self.sources
                    )
                self.used_modules.add(mid)
                return mid, info.structs[real]
            else:
                raise error(name.loc, "E03004", f"Unbound type '{name.text}' in current scope", self.sources)
        info = self.env.modules[mid]
        if name.text not in info.structs:
            raise error(name.loc, "E03003", f"Unbound struct '{name.text}' in module '{mid}'", self.sources)
        self.used_modules.add(mid)
        return mid, info.structs[name.text]

    def function(self, path: A.Path) -> FunSig:
        mid = self.module_of(path, 1)
        name = path.parts[-1]
        if mid is None:
            if name.text in self.env.modules[self.id].functions:
                return self.env.modules[self.id].functions[name.text]
            if name.text in self.member_aliases:
                mid, real = self.member_aliases[name.text]
                info = self.env.modules[mid]
                if real in info.functions:
                    self.used_modules.add(mid)
                    return info.functions[real]
            raise error(name.loc, "E03005", f"Unbound function '{name.text}' in current scope", self.sources)
        info = self.env.modules[mid]
        if name.text not in info.functions:
            raise error(
                name.loc, "E03003", f"Invalid module access. Unbound function '{name.text}' in module '{mid}'",
                self.sources,
            )  # fmt: skip
        self.used_modules.add(mid)
        return info.functions[name.text]

    # -- types ---------------------------------------------------------------------------------

    def type(
        self,
        t: A.TypeAst,
        tparams: Mapping[str, TypeParam],
        *,
        allow_ref: bool = True,
        allow_tuple: bool = False,
        check: object = None,
    ) -> Type:
        """Resolve a written type. ``check(ty, constraints, loc, what)`` is called for each
        instantiated type parameter so the caller decides when constraints are checked."""
        if isinstance(t, A.RefTypeAst):
            if not allow_ref:
                raise error(
                    t.loc,
                    "E04004",
                    "Invalid reference type: references cannot be nested or stored",
                    self.sources,
                )
            return RefType(t.mutable, self.type(t.inner, tparams, allow_ref=False, check=check))
        if isinstance(t, A.TupleTypeAst):
            if not allow_tuple:
                if not t.items:
                    raise error(t.loc, "E04005", "Invalid type '()': expected a single type", self.sources)
                raise error(t.loc, "E04005", "Invalid tuple type: expected a single type", self.sources)
            return TupleType(tuple(self.type(i, tparams, allow_ref=True, check=check) for i in t.items))
        assert isinstance(t, A.NamedType)
        path = t.path
        if len(path.parts) == 1 and path.address is None:
            name = path.parts[0].text
            if name in tparams:
                if t.args:
                    raise error(
                        t.loc, "E03007", f"Type parameter '{name}' takes no type arguments", self.sources
                    )
                return tparams[name]
            if name in PRIMITIVES and name not in self.env.modules[self.id].structs:
                if t.args:
                    raise error(t.loc, "E03007", f"'{name}' takes no type arguments", self.sources)
                return PRIMITIVES[name]
            if name == "vector":
                if len(t.args) != 1:
                    code = "E03008" if not t.args else "E03007"
                    raise error(t.loc, code, "'vector' takes exactly one type argument", self.sources)
                return VectorType(self.type(t.args[0], tparams, allow_ref=False, check=check))
        mid, decl = self.struct(path)
        args = tuple(self.type(a, tparams, allow_ref=False, check=check) for a in t.args)
        if len(args) != len(decl.type_params):
            code = "E03007" if len(args) > len(decl.type_params) else "E03008"
            raise error(
                t.loc,
                code,
                f"Invalid instantiation of '{mid}::{decl.name}'. Expected {len(decl.type_params)} type argument(s) but got {len(args)}",
                self.sources,
            )
        st = StructType(mid, decl.name, args)
        if callable(check):
            for param, arg, arg_ast in zip(decl.type_params, args, t.args):
                check(arg, param.constraints, arg_ast.loc, f"'{st}'")
        return st
