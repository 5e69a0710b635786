"""Constant folding: a constant's checked expression evaluated at compile time.

Constants may use literals, other constants, arithmetic, comparisons, casts and vector
literals; the arithmetic is Move's (overflow, a zero divisor, a shift of at least the
width and a cast that does not fit are errors here, "cannot compute constant value",
where at run time they would abort).
"""

from __future__ import annotations

from collections.abc import Mapping

from move import ir
from move.codes import error
from move.types import U8, PrimType, VectorType

_ARITH = {
    ir.BinOp.ADD: lambda a, b: a + b,
    ir.BinOp.SUB: lambda a, b: a - b,
    ir.BinOp.MUL: lambda a, b: a * b,
    ir.BinOp.BIT_AND: lambda a, b: a & b,
    ir.BinOp.BIT_OR: lambda a, b: a | b,
    ir.BinOp.XOR: lambda a, b: a ^ b,
}
_CMP = {
    ir.BinOp.LT: lambda a, b: a < b,
    ir.BinOp.LE: lambda a, b: a <= b,
    ir.BinOp.GT: lambda a, b: a > b,
    ir.BinOp.GE: lambda a, b: a >= b,
}


def fold(e: ir.Expr, sources: Mapping[str, str]) -> ir.ConstValue:
    """The value of a constant expression, or a located error."""

    def fail(detail: str) -> Exception:
        return error(e.loc, "E08001", detail, sources)

    if isinstance(e, ir.Const):
        if isinstance(e.value, bytes) and isinstance(e.ty, VectorType):
            return e.value
        return e.value
    if isinstance(e, ir.Block) and not e.statements and e.result is not None:
        return fold(e.result, sources)
    if isinstance(e, ir.VectorLit):
        items = tuple(fold(i, sources) for i in e.items)
        if isinstance(e.ty, VectorType) and e.ty.element == U8:
            return bytes(i for i in items if isinstance(i, int))
        return items
    if isinstance(e, ir.Not):
        return not fold(e.operand, sources)
    if isinstance(e, ir.Cast):
        v = fold(e.operand, sources)
        assert isinstance(v, int) and isinstance(e.ty, PrimType)
        if v >= 1 << e.ty.prim.bits:
            raise fail(f"the value {v} does not fit in '{e.ty}' (the cast would abort)")
        return v
    if isinstance(e, ir.Binary):
        a = fold(e.lhs, sources)
        if e.op is ir.BinOp.AND:
            return bool(a) and bool(fold(e.rhs, sources))
        if e.op is ir.BinOp.OR:
            return bool(a) or bool(fold(e.rhs, sources))
        b = fold(e.rhs, sources)
        if e.op is ir.BinOp.EQ:
            return a == b
        if e.op is ir.BinOp.NEQ:
            return a != b
        assert isinstance(a, int) and isinstance(b, int)
        if e.op in _CMP:
            return _CMP[e.op](a, b)
        assert isinstance(e.ty, PrimType)
        bits = e.ty.prim.bits
        if e.op in (ir.BinOp.DIV, ir.BinOp.MOD):
            if b == 0:
                raise fail("division by zero (it would abort)")
            return a // b if e.op is ir.BinOp.DIV else a % b
        if e.op in (ir.BinOp.SHL, ir.BinOp.SHR):
            if b >= bits:
                raise fail(f"a shift by {b} is not less than the width of '{e.ty}' (it would abort)")
            return ((a << b) & ((1 << bits) - 1)) if e.op is ir.BinOp.SHL else a >> b
        v = _ARITH[e.op](a, b)
        if v < 0 or v >= 1 << bits:
            raise fail(f"arithmetic overflow or underflow in '{e.ty}' (it would abort)")
        return v
    raise error(
        e.loc, "E04013", "Invalid statement or expression in constant: only literals, other constants, "
        "operators, casts and vector literals are allowed", sources,
    )  # fmt: skip
