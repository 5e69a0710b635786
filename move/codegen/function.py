"""One Move function body to Wasm instructions, following ``move.abi``.

The IR is structured, as Wasm is, so the lowering is direct: a Move block is a sequence,
``if``/``while``/``loop`` are Wasm ``if``/``block``+``loop``, ``break``/``continue`` are
branches to the enclosing loop's labels. Each expression leaves ``abi.value_count(ty)``
i64 values on the stack. Locals are Wasm locals, except locals whose address is taken
(``&x``/``&mut x``): those live in an 8-byte cell in memory, allocated once on entry, and
their Wasm local holds the cell's address.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator

from move import abi, ir
from move.codegen.module import ModuleGen
from move.types import Prim, PrimType, RefType, Type, TypeParam, VectorType
from vocab.wasm.builder import EMPTY_BLOCK, Code, Func
from vocab.wasm.module import I32, I64

I32_EQZ, I32_WRAP, I64_EXTEND_U = 0x45, 0xA7, 0xAD
I64_EQZ, I64_EQ, I64_NE = 0x50, 0x51, 0x52
I64_ADD, I64_AND, I64_OR, I64_XOR = 0x7C, 0x83, 0x84, 0x85
I32_ADD = 0x6A

_COMPARE = {
    ir.BinOp.LT: 0x54,  # i64.lt_u
    ir.BinOp.GT: 0x56,
    ir.BinOp.LE: 0x58,
    ir.BinOp.GE: 0x5A,
    ir.BinOp.EQ: I64_EQ,
    ir.BinOp.NEQ: I64_NE,
}
_BIG_IN_WASM = {"+", "-", "*", "&", "|", "^", "<", "<=", ">", ">="}
"""u128/u256 operators compiled to Wasm helpers; ``/ % << >>`` call the host (``rt.big``)."""
_SIGNED_COMPARE = {ir.BinOp.LT: 0x48, ir.BinOp.LE: 0x4C, ir.BinOp.GT: 0x4A, ir.BinOp.GE: 0x4E}  # i32.*_s
_BITWISE = {ir.BinOp.BIT_AND: I64_AND, ir.BinOp.BIT_OR: I64_OR, ir.BinOp.XOR: I64_XOR}
_CHECKED = {
    ir.BinOp.ADD,
    ir.BinOp.SUB,
    ir.BinOp.MUL,
    ir.BinOp.DIV,
    ir.BinOp.MOD,
    ir.BinOp.SHL,
    ir.BinOp.SHR,
}
_VECTOR_MODULE = ("vector", abi.STDLIB)


def _children(e: ir.Expr) -> Iterator[ir.Expr]:
    for f in dataclasses.fields(e):
        value = getattr(e, f.name)
        if isinstance(value, ir.Expr):
            yield value
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, ir.Expr):
                    yield item


def _borrowed_locals(e: ir.Expr, out: set[int]) -> None:
    if isinstance(e, ir.BorrowLocal):
        out.add(e.local)
    for child in _children(e):
        _borrowed_locals(child, out)


def _bits(ty: Type) -> int:
    """The width of an integer type; 0 for bool (compared and stored as a u64-sized value)."""
    assert isinstance(ty, PrimType), f"an integer type, not {ty}"
    return ty.prim.bits


def _is_small(ty: Type) -> bool:
    """Held in the slot itself (bool, u8..u64)."""
    return isinstance(ty, PrimType) and (ty.prim == Prim.BOOL or 0 < ty.prim.bits <= 64)


def _small_int(value: ir.ConstValue) -> int:
    assert isinstance(value, int), f"a bool or integer constant, not {value!r}"
    return int(value)


def _words(ty: Type) -> int:
    """Eight-byte words of an immutable block type (u128, u256, address)."""
    assert isinstance(ty, PrimType)
    return 2 if ty.prim == Prim.U128 else 4


class FunctionGen:
    def __init__(self, mod: ModuleGen, decl: ir.FunctionDecl, where: int) -> None:
        self.mod = mod
        self.decl = decl
        self.where = where
        self.k = len(decl.type_params)
        self.extra: list[int] = []
        self.nparams = self.k + len(decl.params)
        assert decl.body is not None
        celled: set[int] = set()
        _borrowed_locals(decl.body, celled)
        self.celled = celled
        self.wasm_local: dict[int, int] = {}
        for local in decl.locals:
            if local.index < len(decl.params) and local.index not in celled:
                self.wasm_local[local.index] = self.k + local.index
            else:
                self.wasm_local[local.index] = self.tmp(I64)
        self.level = 0
        self.loops: list[tuple[str | None, int, int | None, int]] = []

    def tmp(self, valtype: int) -> int:
        self.extra.append(valtype)
        return self.nparams + len(self.extra) - 1

    def generate(self, func: Func) -> None:
        c = Code()
        alloc = self.mod.alloc()
        for index in sorted(self.celled):
            cell = self.wasm_local[index]
            c.i32_const(abi.SLOT).call(alloc).op(I64_EXTEND_U).local_set(cell)
            if index < len(self.decl.params):
                c.local_get(cell).op(I32_WRAP).local_get(self.k + index).i64_store()
        assert self.decl.body is not None
        self.emit_as(c, self.decl.body, len(self.decl.returns))
        c.end()
        self.mod.b.define(func, self.extra, c)

    # -- helpers -------------------------------------------------------------------------
    def fail(self, c: Code, kind: int) -> None:
        c.i32_const(kind).i64_const(0).i32_const(self.where).call(self.mod.fail_import).unreachable()

    def blocktype(self, n: int) -> int | tuple[int, ...]:
        if n == 0:
            return EMPTY_BLOCK
        if n == 1:
            return I64
        return (self.mod.b.type_index((), (I64,) * n),)

    def emit_as(self, c: Code, e: ir.Expr, n: int) -> None:
        """Emit ``e`` so that exactly ``n`` values are left (drops, or a trap for a diverging one)."""
        self.emit(c, e)
        produced = abi.value_count(e.ty)
        if produced > n:
            for _ in range(produced - n):
                c.drop()
        elif produced < n:
            c.unreachable()

    def load_local(self, c: Code, index: int) -> None:
        w = self.wasm_local[index]
        c.local_get(w)
        if index in self.celled:
            c.op(I32_WRAP).i64_load()

    def store_local(self, c: Code, index: int) -> None:
        """Store the value on the stack into local ``index``."""
        w = self.wasm_local[index]
        if index in self.celled:
            t = self.tmp(I64)
            c.local_set(t).local_get(w).op(I32_WRAP).local_get(t).i64_store()
        else:
            c.local_set(w)

    def emit_type(self, c: Code, ty: Type) -> None:
        """Push the descriptor of ``ty`` (an i64 handle)."""
        if isinstance(ty, TypeParam):
            c.local_get(ty.index)
        elif not abi.mentions_params(ty):
            c.global_get(self.mod.type_global(ty))
        else:
            c.global_get(self.mod.type_global(ty))
            for i in range(self.k):
                c.local_get(i)
            c.call(self.mod.runtime(f"type{self.k}", (I64,) * (self.k + 1), (I64,)))

    def copy_value(self, c: Code, ty: Type) -> None:
        """Turn the value on the stack into an independent copy (deep for vectors and structs)."""
        if not abi.is_boxed(ty) and not isinstance(ty, TypeParam):
            return
        t = self.tmp(I64)
        c.local_set(t)
        self.emit_type(c, ty)
        c.local_get(t).call(self.mod.runtime("copy", (I64, I64), (I64,)))

    def data_pointer(self, c: Code, payload: bytes) -> None:
        offset = self.mod.data_offset(payload)
        c.global_get(self.mod.data_base).i32_const(offset).op(I32_ADD).op(I64_EXTEND_U)

    # -- expressions ---------------------------------------------------------------------
    def emit(self, c: Code, e: ir.Expr) -> None:
        method = getattr(self, "emit_" + type(e).__name__, None)
        assert method is not None, f"code generation does not know {type(e).__name__}"
        method(c, e)

    def emit_Const(self, c: Code, e: ir.Const) -> None:
        self.const(c, e.value, e.ty)

    def const(self, c: Code, value: ir.ConstValue, ty: Type) -> None:
        if isinstance(ty, PrimType):
            if ty.prim == Prim.BOOL:
                c.i64_const(1 if value else 0)
            elif ty.prim == Prim.ADDRESS:
                assert isinstance(value, bytes) and len(value) == 32
                self.data_pointer(c, value)
            elif ty.prim.bits <= 64:
                assert isinstance(value, int)
                c.i64_const(value)
            else:
                assert isinstance(value, int)
                self.data_pointer(c, value.to_bytes(ty.prim.bits // 8, "little"))
            return
        assert isinstance(ty, VectorType), f"a constant of type {ty}"
        items = list(value) if isinstance(value, (bytes, tuple)) else []
        if _is_small(ty.element) and items:
            payload = b"".join(_small_int(v).to_bytes(8, "little") for v in items)
            offset = self.mod.data_offset(payload)
            c.i32_const(offset).i32_const(len(items)).call(self.mod.vec_from_data())
            return
        self.vector_of(c, len(items), lambda i: self.const(c, items[i], ty.element))

    def vector_of(self, c: Code, n: int, item: Callable[[int], None]) -> None:
        v = self.tmp(I64)
        data = self.tmp(I32)
        c.i32_const(n).call(self.mod.vec_new()).local_tee(v)
        c.op(I32_WRAP).i64_load(abi.VEC_DATA).op(I32_WRAP).local_set(data)
        for i in range(n):
            c.local_get(data)
            item(i)
            c.i64_store(abi.SLOT * i)
        c.local_get(v)

    def emit_VectorLit(self, c: Code, e: ir.VectorLit) -> None:
        self.vector_of(c, len(e.items), lambda i: self.emit(c, e.items[i]))

    def emit_Copy(self, c: Code, e: ir.Copy) -> None:
        self.load_local(c, e.local)
        self.copy_value(c, e.ty)

    def emit_Move(self, c: Code, e: ir.Move) -> None:
        self.load_local(c, e.local)

    def emit_Assign(self, c: Code, e: ir.Assign) -> None:
        self.emit(c, e.value)
        produced = abi.value_count(e.value.ty)
        if produced != len(e.locals):
            c.unreachable()  # the value diverges (its type was inferred loosely)
            return
        for index in reversed(e.locals):
            if index is None:
                c.drop()
            else:
                self.store_local(c, index)

    def emit_BorrowLocal(self, c: Code, e: ir.BorrowLocal) -> None:
        c.local_get(self.wasm_local[e.local])

    def emit_BorrowField(self, c: Code, e: ir.BorrowField) -> None:
        self.emit(c, e.ref)
        c.op(I32_WRAP).i64_load()
        offset = e.field + (1 if e.variant is not None else 0)  # a variant's fields follow its tag
        if offset:
            c.i64_const(abi.SLOT * offset).op(I64_ADD)

    def emit_VariantTag(self, c: Code, e: ir.VariantTag) -> None:
        self.emit(c, e.ref)
        c.op(I32_WRAP).i64_load().op(I32_WRAP).i64_load()

    def emit_ReadRef(self, c: Code, e: ir.ReadRef) -> None:
        self.emit(c, e.ref)
        c.op(I32_WRAP).i64_load()
        self.copy_value(c, e.ty)

    def emit_WriteRef(self, c: Code, e: ir.WriteRef) -> None:
        t = self.tmp(I64)
        self.emit(c, e.value)
        c.local_set(t)
        self.emit(c, e.ref)
        c.op(I32_WRAP).local_get(t).i64_store()

    def emit_FreezeRef(self, c: Code, e: ir.FreezeRef) -> None:
        self.emit(c, e.ref)

    def emit_Pack(self, c: Code, e: ir.Pack) -> None:
        p = self.tmp(I32)
        first = 0 if e.variant is None else 1  # an enum value is [tag, fields...]
        c.i32_const(abi.SLOT * max(len(e.fields) + first, 1)).call(self.mod.alloc()).local_set(p)
        if e.variant is not None:
            c.local_get(p).i64_const(e.variant).i64_store()
        elif not e.fields:  # Move's `dummy_field: bool`, false
            c.local_get(p).i64_const(0).i64_store()
        for i, f in enumerate(e.fields):
            c.local_get(p)
            self.emit(c, f)
            c.i64_store(abi.SLOT * (i + first))
        c.local_get(p).op(I64_EXTEND_U)

    def emit_Unpack(self, c: Code, e: ir.Unpack) -> None:
        p = self.tmp(I64)
        self.emit(c, e.value)
        if isinstance(e.value.ty, RefType):
            c.op(I32_WRAP).i64_load()
        c.local_set(p)
        first = 0 if e.variant is None else 1
        for i, index in enumerate(e.binds):
            if index is None:
                continue
            c.local_get(p)
            if i + first:
                c.i64_const(abi.SLOT * (i + first)).op(I64_ADD)
            if not e.by_ref:
                c.op(I32_WRAP).i64_load()
            self.store_local(c, index)

    def emit_Call(self, c: Code, e: ir.Call) -> None:
        ref = e.function
        if (ref.module.name, ref.module.address) == _VECTOR_MODULE and ref.name in abi.VECTOR_NATIVES:
            for arg in e.args:
                self.emit(c, arg)
            if ref.name in ("borrow", "borrow_mut", "pop_back", "destroy_empty", "swap"):
                c.i32_const(self.where)
            c.call(self.mod.vector_native(ref.name))
            return
        for t in e.type_args:
            self.emit_type(c, t)
        for arg in e.args:
            self.emit(c, arg)
        c.call(self.mod.external(ref, len(e.type_args) + len(e.args), abi.value_count(e.ty)))

    def emit_Not(self, c: Code, e: ir.Not) -> None:
        self.emit(c, e.operand)
        c.op(I64_EQZ).op(I64_EXTEND_U)

    def emit_Cast(self, c: Code, e: ir.Cast) -> None:
        source, target = _bits(e.operand.ty), _bits(e.ty)
        if source <= 64 and target <= 64:
            self.emit(c, e.operand)
            if target < source:
                c.i64_const(0).i32_const(self.where).call(self.mod.arith("as", target))
            return
        if source == target:
            self.emit(c, e.operand)
            return
        self.emit(c, e.operand)
        c.i32_const(self.where).call(self.mod.big_cast(source, target))

    def emit_Tuple(self, c: Code, e: ir.Tuple) -> None:
        for item in e.items:
            self.emit(c, item)

    def emit_Block(self, c: Code, e: ir.Block) -> None:
        for s in e.statements:
            self.emit_as(c, s, 0)
        if e.result is not None:
            self.emit(c, e.result)

    def emit_IfElse(self, c: Code, e: ir.IfElse) -> None:
        n = abi.value_count(e.ty) if e.otherwise is not None else 0
        self.cond(c, e.cond)
        c.if_(self.blocktype(n))
        self.level += 1
        self.emit_as(c, e.then, n)
        if e.otherwise is not None:
            c.else_()
            self.emit_as(c, e.otherwise, n)
        c.end()
        self.level -= 1
        if e.otherwise is None and abi.value_count(e.ty) > 0:
            c.unreachable()

    def _loop(self, c: Code, e: ir.While | ir.Loop) -> None:
        n = abi.value_count(e.ty) if isinstance(e, ir.Loop) else 0  # `break v` leaves a `loop` with v
        c.block(self.blocktype(n))
        self.level += 1
        exit_level = self.level
        c.loop()
        self.level += 1
        self.loops.append((e.label, exit_level, self.level, n))
        if isinstance(e, ir.While):
            self.cond(c, e.cond)
            c.op(I32_EQZ).br_if(1)
        self.emit_as(c, e.body, 0)
        c.br(0).end()
        if n:
            c.unreachable()  # a loop leaves only by a branch
        c.end()
        self.loops.pop()
        self.level -= 2

    def emit_While(self, c: Code, e: ir.While) -> None:
        self._loop(c, e)
        if abi.value_count(e.ty) > 0:
            c.unreachable()

    def emit_Loop(self, c: Code, e: ir.Loop) -> None:
        self._loop(c, e)

    def emit_LabeledBlock(self, c: Code, e: ir.LabeledBlock) -> None:
        n = abi.value_count(e.ty)
        c.block(self.blocktype(n))
        self.level += 1
        self.loops.append((e.label, self.level, None, n))
        self.emit_as(c, e.body, n)
        c.end()
        self.loops.pop()
        self.level -= 1

    def _target(self, label: str | None) -> tuple[int, int | None, int]:
        """The exit level, loop head level (None for a labeled block) and value count of the
        loop (innermost, when ``label`` is None) or labeled block a branch leaves."""
        for name, exit_level, top_level, n in reversed(self.loops):
            if (label is None and top_level is not None) or (label is not None and name == label):
                return exit_level, top_level, n
        raise AssertionError(f"break or continue outside a loop or block named {label!r}")

    def emit_Break(self, c: Code, e: ir.Break) -> None:
        exit_level, _, n = self._target(e.label)
        if e.value is not None:
            self.emit_as(c, e.value, n)
        elif n:
            c.unreachable()  # the checker gives a valueless break only to a `()` target
        c.br(self.level - exit_level)

    def emit_Continue(self, c: Code, e: ir.Continue) -> None:
        _, top_level, _ = self._target(e.label)
        assert top_level is not None, "continue names a loop"
        c.br(self.level - top_level)

    def emit_Return(self, c: Code, e: ir.Return) -> None:
        if e.value is not None:
            self.emit_as(c, e.value, len(self.decl.returns))
        c.return_()

    def emit_Abort(self, c: Code, e: ir.Abort) -> None:
        c.i32_const(abi.FAIL_ABORT)
        self.emit(c, e.code)
        c.i32_const(self.where).call(self.mod.fail_import).unreachable()

    # -- operators -----------------------------------------------------------------------
    def cond(self, c: Code, e: ir.Expr) -> None:
        """Emit a bool as an i32 (what ``if`` and ``br_if`` take), without a round trip when
        it is a comparison of small values."""
        if isinstance(e, ir.Binary) and e.op in _COMPARE and _is_small(e.lhs.ty):
            self.emit(c, e.lhs)
            self.emit(c, e.rhs)
            c.op(_COMPARE[e.op])
        elif isinstance(e, ir.Not):
            self.cond(c, e.operand)
            c.op(I32_EQZ)
        else:
            self.emit(c, e)
            c.op(I32_WRAP)

    def emit_Binary(self, c: Code, e: ir.Binary) -> None:
        op = e.op
        if op == ir.BinOp.AND:
            self.cond(c, e.lhs)
            c.if_(I64)
            self.level += 1
            self.emit(c, e.rhs)
            c.else_().i64_const(0).end()
            self.level -= 1
            return
        if op == ir.BinOp.OR:
            self.cond(c, e.lhs)
            c.if_(I64).i64_const(1).else_()
            self.level += 1
            self.emit(c, e.rhs)
            c.end()
            self.level -= 1
            return
        if op in (ir.BinOp.EQ, ir.BinOp.NEQ):
            self.equality(c, e)
            return
        ty = e.lhs.ty
        if not _is_small(ty) and op.value in _BIG_IN_WASM:
            self.emit(c, e.lhs)
            self.emit(c, e.rhs)
            c.i32_const(_words(ty))
            if op in _COMPARE:
                c.call(self.mod.big_compare()).i32_const(0).op(_SIGNED_COMPARE[op]).op(I64_EXTEND_U)
            elif op == ir.BinOp.MUL:
                c.i32_const(self.where).call(self.mod.big_mul())
            else:
                c.i32_const(self.where).call(self.mod.big_arith(op.value))
            return
        if not _is_small(ty):
            bits = _bits(ty)
            c.i32_const(abi.BIG_OP_INDEX[op.value]).i32_const(bits)
            self.emit(c, e.lhs)
            self.emit(c, e.rhs)
            c.i32_const(self.where).call(self.mod.runtime("big", (I32, I32, I64, I64, I32), (I64,)))
            return
        self.emit(c, e.lhs)
        self.emit(c, e.rhs)
        if op in _COMPARE:
            c.op(_COMPARE[op]).op(I64_EXTEND_U)
        elif op in _BITWISE:
            c.op(_BITWISE[op])
        else:
            assert op in _CHECKED, op
            c.i32_const(self.where).call(self.mod.arith(op.value, _bits(ty)))

    def equality(self, c: Code, e: ir.Binary) -> None:
        ty = e.lhs.ty
        deref = isinstance(ty, RefType)
        if isinstance(ty, RefType):
            ty = ty.inner

        def operand(x: ir.Expr) -> None:
            self.emit(c, x)
            if deref:
                c.op(I32_WRAP).i64_load()

        negate = e.op == ir.BinOp.NEQ
        if _is_small(ty):
            operand(e.lhs)
            operand(e.rhs)
            c.op(I64_NE if negate else I64_EQ).op(I64_EXTEND_U)
        elif isinstance(ty, PrimType):
            operand(e.lhs)
            operand(e.rhs)
            c.i32_const(_words(ty)).call(self.mod.eq_words())
            if negate:
                c.op(I32_EQZ)
            c.op(I64_EXTEND_U)
        else:
            self.emit_type(c, ty)
            operand(e.lhs)
            operand(e.rhs)
            c.call(self.mod.runtime("eq", (I64, I64, I64), (I64,)))
            if negate:
                c.op(I64_EQZ).op(I64_EXTEND_U)
