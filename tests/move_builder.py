"""A small builder of Move IR by hand, for testing the stages after the front end on exact trees.

The Sui rules (and code generation) consume ``move.ir``; building the IR directly lets a
test state precisely the declaration or call a rule is about, with a known location,
independently of the parser. ``FRAMEWORK`` holds the framework's struct declarations that
the rules look up (abilities of UID, ID, TxContext, String, Option, Clock), as the real
framework declares them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from move import ir
from move.source import Loc
from move.types import (
    U64,
    UNIT,
    Ability,
    ModuleId,
    StructType,
    Type,
    TypeParam,
    address_of,
)

C, D, S, K = Ability.COPY, Ability.DROP, Ability.STORE, Ability.KEY
FILE = "sources/m.move"


def at(line: int, col: int = 1, file: str = FILE) -> Loc:
    return Loc(file, line, col)


@dataclass
class ModuleBuilder:
    """Declarations of one module, each placed on its own line unless a location is given."""

    name: str
    address: bytes = address_of(0)
    structs: dict[str, ir.StructDecl] = field(default_factory=dict)
    functions: dict[str, ir.FunctionDecl] = field(default_factory=dict)

    @property
    def id(self) -> ModuleId:
        return ModuleId(self.address, self.name)

    def type(self, name: str, *args: Type) -> StructType:
        return StructType(self.id, name, tuple(args))

    def struct(
        self,
        name: str,
        abilities: Ability,
        fields: Sequence[tuple[str, Type]] = (),
        *,
        line: int = 1,
        type_params: Sequence[ir.TypeParamDecl] = (),
    ) -> StructType:
        decls = tuple(ir.FieldDecl(n, t, at(line + 1 + i, 5)) for i, (n, t) in enumerate(fields))
        self.structs[name] = ir.StructDecl(name, abilities, tuple(type_params), decls, at(line, 15))
        return self.type(name)

    def function(
        self,
        name: str,
        params: Sequence[tuple[str, Type]] = (),
        returns: Sequence[Type] = (),
        body: Sequence[ir.Expr] = (),
        *,
        line: int = 1,
        visibility: ir.Visibility = ir.Visibility.PUBLIC,
        entry: bool = False,
        type_params: Sequence[ir.TypeParamDecl] = (),
        native: bool = False,
    ) -> ir.FunctionRef:
        locals_ = [ir.LocalDecl(i, n, t, loc=at(line, 20 + 10 * i)) for i, (n, t) in enumerate(params)]
        block = None if native else ir.Block(UNIT, at(line, 60), list(body))
        self.functions[name] = ir.FunctionDecl(
            name,
            visibility,
            entry,
            tuple(type_params),
            tuple(locals_),
            tuple(returns),
            list(locals_),
            block,
            at(line, 12),
            native,
        )
        return ir.FunctionRef(self.id, name)

    def build(self) -> ir.ModuleDecl:
        return ir.ModuleDecl(self.id, dict(self.structs), dict(self.functions), file=FILE)


def call(
    target: ir.FunctionRef,
    type_args: Sequence[Type] = (),
    args: Sequence[ir.Expr] = (),
    *,
    line: int,
    col: int = 9,
) -> ir.Call:
    return ir.Call(UNIT, at(line, col), target, list(type_args), list(args))


def pack(ty: StructType, fields: Sequence[ir.Expr] = (), *, line: int, col: int = 9) -> ir.Pack:
    return ir.Pack(ty, at(line, col), ty, list(fields))


def local(index: int, ty: Type, *, line: int = 1) -> ir.Move:
    return ir.Move(ty, at(line, 30), index)


def param(name: str, constraints: Ability = Ability.NONE, phantom: bool = False) -> ir.TypeParamDecl:
    return ir.TypeParamDecl(name, constraints, phantom)


def tparam(index: int, name: str = "T") -> TypeParam:
    return TypeParam(index, name)


def package(*modules: ir.ModuleDecl, name: str = "Test") -> ir.Package:
    return ir.Package(name, list(modules))


def _framework() -> ir.Package:
    std, sui = address_of(1), address_of(2)
    ID = StructType(ModuleId(sui, "object"), "ID")
    string = ModuleBuilder("string", std)
    string.struct("String", C | D | S)
    ascii = ModuleBuilder("ascii", std)
    ascii.struct("String", C | D | S)
    option = ModuleBuilder("option", std)
    option.struct("Option", C | D | S, type_params=[param("Element")])
    obj = ModuleBuilder("object", sui)
    obj.struct("ID", C | D | S)
    obj.struct("UID", S)
    ctx = ModuleBuilder("tx_context", sui)
    ctx.struct("TxContext", D)
    clock = ModuleBuilder("clock", sui)
    clock.struct("Clock", K)
    transfer = ModuleBuilder("transfer", sui)
    transfer.struct("Receiving", D, [("id", ID), ("version", U64)], type_params=[param("T", K, phantom=True)])
    event = ModuleBuilder("event", sui)
    mods = [string, ascii, option, obj, ctx, clock, transfer, event]
    return ir.Package("Framework", [m.build() for m in mods])


FRAMEWORK = _framework()
SUI, STD = address_of(2), address_of(1)
UID = StructType(ModuleId(SUI, "object"), "UID")
ID = StructType(ModuleId(SUI, "object"), "ID")
TX_CONTEXT = StructType(ModuleId(SUI, "tx_context"), "TxContext")
CLOCK = StructType(ModuleId(SUI, "clock"), "Clock")
STRING = StructType(ModuleId(STD, "string"), "String")


def option_of(ty: Type) -> StructType:
    return StructType(ModuleId(STD, "option"), "Option", (ty,))


def transfer_fn(name: str) -> ir.FunctionRef:
    return ir.FunctionRef(ModuleId(SUI, "transfer"), name)


EMIT = ir.FunctionRef(ModuleId(SUI, "event"), "emit")


def receiving_of(ty: Type) -> StructType:
    return StructType(ModuleId(SUI, "transfer"), "Receiving", (ty,))
