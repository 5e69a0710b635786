"""A compact builder of Move IR for tests written before (or beside) the front end.

``f("add", [("a", U64), ("b", U64)], [U64], add(cp(0), cp(1)))`` is ``public fun add(a: u64,
b: u64): u64 { a + b }``; locals are referred to by index, their types taken from the
declaration, so test bodies stay one line each.
"""

from __future__ import annotations

from move import ir
from move.source import Loc
from move.types import (
    BOOL,
    U8,
    U64,
    UNIT,
    ModuleId,
    RefType,
    StructType,
    TupleType,
    Type,
    VectorType,
    address_of,
)

L = Loc("test.move", 1, 1)
TEST = ModuleId(address_of(0xCAFE), "t")


class Scope:
    """The locals of the function being built (set by ``f`` before the body is evaluated)."""

    types: list[Type] = []


def local_type(index: int) -> Type:
    return Scope.types[index]


def c(value: ir.ConstValue, ty: Type = U64) -> ir.Const:
    return ir.Const(ty, L, value)


def cp(local: int) -> ir.Copy:
    return ir.Copy(local_type(local), L, local)


def mv(local: int) -> ir.Move:
    return ir.Move(local_type(local), L, local)


def let(local: int | None, value: ir.Expr) -> ir.Assign:
    return ir.Assign(UNIT, L, [local], value)


def binop(op: ir.BinOp, a: ir.Expr, b: ir.Expr) -> ir.Binary:
    boolean = op in (
        ir.BinOp.LT,
        ir.BinOp.LE,
        ir.BinOp.GT,
        ir.BinOp.GE,
        ir.BinOp.EQ,
        ir.BinOp.NEQ,
        ir.BinOp.AND,
        ir.BinOp.OR,
    )
    return ir.Binary(BOOL if boolean else a.ty, L, op, a, b)


def add(a: ir.Expr, b: ir.Expr) -> ir.Binary:
    return binop(ir.BinOp.ADD, a, b)


def ir_tuple(items: list[ir.Expr]) -> ir.Tuple:
    return ir.Tuple(TupleType(tuple(i.ty for i in items)), L, items)


def block(*statements: ir.Expr, result: ir.Expr | None = None) -> ir.Block:
    return ir.Block(result.ty if result is not None else UNIT, L, list(statements), result)


def borrow(local: int, mutable: bool = True) -> ir.BorrowLocal:
    return ir.BorrowLocal(RefType(mutable, local_type(local)), L, local, mutable)


def field(ref: ir.Expr, struct: StructType, index: int, ty: Type, mutable: bool = True) -> ir.BorrowField:
    return ir.BorrowField(RefType(mutable, ty), L, ref, struct, index, mutable)


def read(ref: ir.Expr) -> ir.ReadRef:
    assert isinstance(ref.ty, RefType)
    return ir.ReadRef(ref.ty.inner, L, ref)


def write(ref: ir.Expr, value: ir.Expr) -> ir.WriteRef:
    return ir.WriteRef(UNIT, L, ref, value)


def call(
    module: ModuleId, name: str, args: list[ir.Expr], ty: Type = UNIT, targs: list[Type] | None = None
) -> ir.Call:
    return ir.Call(ty, L, ir.FunctionRef(module, name), list(targs or []), args)


VECTOR = ModuleId(address_of(1), "vector")


def vcall(name: str, args: list[ir.Expr], ty: Type, elem: Type) -> ir.Call:
    return call(VECTOR, name, args, ty, [elem])


def f(
    name: str,
    params: list[tuple[str, Type]],
    returns: list[Type],
    body: object,
    extra: list[tuple[str, Type]] | None = None,
    visibility: ir.Visibility = ir.Visibility.PUBLIC,
    entry: bool = False,
    type_params: int = 0,
) -> ir.FunctionDecl:
    """``body`` is an expression, or a function of nothing that builds one (so that the
    helpers above see this function's locals)."""
    all_locals = list(params) + list(extra or [])
    Scope.types = [t for _, t in all_locals]
    expr = body() if callable(body) else body
    assert isinstance(expr, ir.Expr)
    decls = [ir.LocalDecl(i, n, t, True, L) for i, (n, t) in enumerate(all_locals)]
    return ir.FunctionDecl(
        name,
        visibility,
        entry,
        tuple(ir.TypeParamDecl(f"T{i}") for i in range(type_params)),
        tuple(decls[: len(params)]),
        tuple(returns),
        decls,
        expr,
        L,
    )


def native(
    name: str, params: list[tuple[str, Type]], returns: list[Type], type_params: int = 0
) -> ir.FunctionDecl:
    decls = [ir.LocalDecl(i, n, t, False, L) for i, (n, t) in enumerate(params)]
    return ir.FunctionDecl(
        name,
        ir.Visibility.PUBLIC,
        False,
        tuple(ir.TypeParamDecl(f"T{i}") for i in range(type_params)),
        tuple(decls),
        tuple(returns),
        decls,
        None,
        L,
        native=True,
    )


def module(
    functions: list[ir.FunctionDecl], structs: list[ir.StructDecl] | None = None, id_: ModuleId = TEST
) -> ir.ModuleDecl:
    return ir.ModuleDecl(
        id_, {s.name: s for s in structs or []}, {fn.name: fn for fn in functions}, {}, [], "test.move"
    )


__all__ = ["BOOL", "U8", "U64", "UNIT", "VectorType"]
