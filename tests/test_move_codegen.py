"""Move code generation and the VM, from IR built by hand: Move's semantics at every width
(the Move Book and reference/sui.md section 5: ``+ - *`` abort on overflow, ``/ %`` on a zero
divisor, shifts of at least the width abort, ``<<`` drops high bits, ``as`` aborts when the
value does not fit), vectors, structs, references, generics, loops, aborts and fuel."""

from __future__ import annotations

import hashlib
import random

import pytest

import tests.move_ir as T
from move import ir
from move.abi import METADATA_SECTION
from move.codegen import compile_module
from move.types import (
    ADDRESS,
    BOOL,
    U8,
    U16,
    U32,
    U64,
    U128,
    U256,
    UNIT,
    Ability,
    PrimType,
    RefType,
    StructType,
    TupleType,
    Type,
    TypeParam,
    VectorType,
)
from node.sui import (
    InsufficientGas,
    InvalidCall,
    MoveAbort,
    MovePrimitiveRuntimeError,
    MoveVM,
    TxContext,
)
from vocab.leb128 import encode_leb128
from vocab.wasm import parse_module

CTX = TxContext(sender=bytes(31) + b"\x0a", digest=hashlib.blake2b(b"tx", digest_size=32).digest())
WIDTHS = [U8, U16, U32, U64, U128, U256]


def enc(value: int, ty: Type) -> bytes:
    assert isinstance(ty, PrimType)
    return value.to_bytes(ty.prim.bits // 8, "little")


def dec(data: bytes) -> int:
    return int.from_bytes(data, "little")


def vec_u64(values: list[int]) -> bytes:
    return encode_leb128(len(values)) + b"".join(v.to_bytes(8, "little") for v in values)


def vm_of(*modules: ir.ModuleDecl) -> MoveVM:
    vm = MoveVM()
    vm.add_modules([compile_module(m) for m in modules])
    return vm


def call(vm: MoveVM, name: str, *args: bytes, targs: tuple[Type, ...] = (), gas: int = 10**7) -> list[bytes]:
    return vm.call(T.TEST, name, list(args), targs, ctx=CTX, gas_limit=gas).returns


# -- arithmetic ---------------------------------------------------------------------------------

OPS = {
    "add": ir.BinOp.ADD,
    "sub": ir.BinOp.SUB,
    "mul": ir.BinOp.MUL,
    "div": ir.BinOp.DIV,
    "mod": ir.BinOp.MOD,
    "and": ir.BinOp.BIT_AND,
    "or": ir.BinOp.BIT_OR,
    "xor": ir.BinOp.XOR,
    "shl": ir.BinOp.SHL,
    "shr": ir.BinOp.SHR,
    "lt": ir.BinOp.LT,
    "le": ir.BinOp.LE,
    "gt": ir.BinOp.GT,
    "ge": ir.BinOp.GE,
    "eq": ir.BinOp.EQ,
    "ne": ir.BinOp.NEQ,
}


def _arith_module() -> ir.ModuleDecl:
    fns = []
    for ty in WIDTHS:
        for name, op in OPS.items():
            rhs = U8 if name in ("shl", "shr") else ty
            result = BOOL if name in ("lt", "le", "gt", "ge", "eq", "ne") else ty
            fns.append(
                T.f(
                    f"{name}_{ty}",
                    [("a", ty), ("b", rhs)],
                    [result],
                    lambda op=op: T.binop(op, T.cp(0), T.cp(1)),
                )
            )
        for target in WIDTHS:
            fns.append(
                T.f(
                    f"cast_{ty}_{target}",
                    [("a", ty)],
                    [target],
                    lambda target=target: ir.Cast(target, T.L, T.cp(0)),
                )
            )
    return T.module(fns)


@pytest.fixture(scope="module")
def arith() -> MoveVM:
    return vm_of(_arith_module())


def op(vm: MoveVM, name: str, ty: PrimType, a: int, b: int) -> int:
    rhs = U8 if name in ("shl", "shr") else ty
    return dec(call(vm, f"{name}_{ty}", enc(a, ty), enc(b, rhs))[0])


def aborts_arith(vm: MoveVM, name: str, ty: PrimType, a: int, b: int) -> None:
    with pytest.raises(MovePrimitiveRuntimeError) as err:
        op(vm, name, ty, a, b)
    assert err.value.kind == "arithmetic error"
    assert err.value.function == f"{name}_{ty}"
    assert err.value.module == T.TEST


@pytest.mark.parametrize("ty", WIDTHS, ids=str)
def test_overflow_aborts_at_every_width(arith: MoveVM, ty: PrimType) -> None:
    top = (1 << ty.prim.bits) - 1
    assert op(arith, "add", ty, top - 1, 1) == top
    aborts_arith(arith, "add", ty, top, 1)  # 255u8 + 1 aborts
    assert op(arith, "sub", ty, 5, 3) == 2
    aborts_arith(arith, "sub", ty, 0, 1)
    assert op(arith, "mul", ty, top // 2, 2) == top - 1
    aborts_arith(arith, "mul", ty, top, 2)
    aborts_arith(arith, "mul", ty, 1 << (ty.prim.bits // 2), 1 << (ty.prim.bits // 2))
    assert op(arith, "mul", ty, top, 1) == top


@pytest.mark.parametrize("ty", WIDTHS, ids=str)
def test_division_and_remainder(arith: MoveVM, ty: PrimType) -> None:
    top = (1 << ty.prim.bits) - 1
    assert op(arith, "div", ty, 7, 2) == 3
    assert op(arith, "mod", ty, 7, 2) == 1
    assert op(arith, "div", ty, top, top) == 1
    assert op(arith, "mod", ty, top, 10) == top % 10
    aborts_arith(arith, "div", ty, 1, 0)
    aborts_arith(arith, "mod", ty, 1, 0)


@pytest.mark.parametrize("ty", WIDTHS, ids=str)
def test_shifts(arith: MoveVM, ty: PrimType) -> None:
    bits = ty.prim.bits
    top = (1 << bits) - 1
    assert op(arith, "shl", ty, 1, bits - 1) == 1 << (bits - 1)
    assert op(arith, "shl", ty, top, 1) == top - 1  # high bits dropped, no abort
    assert op(arith, "shr", ty, top, bits - 1) == 1
    if bits < 256:  # the amount is a u8: a u256 shift never reaches its width
        aborts_arith(arith, "shl", ty, 1, bits)  # 1u8 << 8 aborts
        aborts_arith(arith, "shr", ty, 1, bits)


@pytest.mark.parametrize("ty", WIDTHS, ids=str)
def test_bitwise_and_comparisons(arith: MoveVM, ty: PrimType) -> None:
    top = (1 << ty.prim.bits) - 1
    assert op(arith, "and", ty, top, 0x5A) == 0x5A
    assert op(arith, "or", ty, 0xF0, 0x0F) == 0xFF
    assert op(arith, "xor", ty, top, 1) == top - 1
    assert op(arith, "lt", ty, 1, top) == 1
    assert op(arith, "lt", ty, top, 1) == 0  # unsigned: the top value is not negative
    assert op(arith, "le", ty, top, top) == 1
    assert op(arith, "gt", ty, top, 0) == 1
    assert op(arith, "ge", ty, 0, top) == 0
    assert op(arith, "eq", ty, top, top) == 1
    assert op(arith, "ne", ty, top, top - 1) == 1


@pytest.mark.parametrize("source", WIDTHS, ids=str)
@pytest.mark.parametrize("target", WIDTHS, ids=str)
def test_casts_abort_when_the_value_does_not_fit(arith: MoveVM, source: PrimType, target: PrimType) -> None:
    name = f"cast_{source}_{target}"
    small = min(source.prim.bits, target.prim.bits)
    fits = (1 << small) - 1
    assert dec(call(arith, name, enc(fits, source))[0]) == fits
    if source.prim.bits > target.prim.bits:
        with pytest.raises(MovePrimitiveRuntimeError):  # (256u16 as u8) aborts
            call(arith, name, enc(1 << target.prim.bits, source))


def test_u256_max_arithmetic(arith: MoveVM) -> None:
    top = (1 << 256) - 1
    assert op(arith, "sub", U256, top, top) == 0
    assert op(arith, "div", U256, top, 3) == top // 3
    assert op(arith, "add", U256, top - 10, 10) == top
    aborts_arith(arith, "add", U256, top, top)


# -- control flow, locals, aborts ---------------------------------------------------------------


def _flow_module() -> ir.ModuleDecl:
    # fun odd_sum(n: u64): u64 { let i = 0; let s = 0; loop { if (i >= n) break; i = i + 1;
    #   if (i % 2 == 0) continue; s = s + i }; s }
    def odd_sum() -> ir.Expr:
        return T.block(
            T.let(1, T.c(0)),
            T.let(2, T.c(0)),
            ir.Loop(
                UNIT,
                T.L,
                T.block(
                    ir.IfElse(UNIT, T.L, T.binop(ir.BinOp.GE, T.cp(1), T.cp(0)), ir.Break(UNIT, T.L)),
                    T.let(1, T.add(T.cp(1), T.c(1))),
                    ir.IfElse(
                        UNIT,
                        T.L,
                        T.binop(ir.BinOp.EQ, T.binop(ir.BinOp.MOD, T.cp(1), T.c(2)), T.c(0)),
                        ir.Continue(UNIT, T.L),
                    ),
                    T.let(2, T.add(T.cp(2), T.cp(1))),
                ),
            ),
            result=T.cp(2),
        )

    # fun pairs(n: u64): u64 { count i < j < n with a labelled outer loop stopped at i == 3 }
    def pairs() -> ir.Expr:
        inner = ir.While(
            UNIT,
            T.L,
            T.binop(ir.BinOp.LT, T.cp(2), T.cp(0)),
            T.block(
                ir.IfElse(UNIT, T.L, T.binop(ir.BinOp.EQ, T.cp(1), T.c(3)), ir.Break(UNIT, T.L, "outer")),
                T.let(3, T.add(T.cp(3), T.c(1))),
                T.let(2, T.add(T.cp(2), T.c(1))),
            ),
        )
        outer = ir.While(
            UNIT,
            T.L,
            T.binop(ir.BinOp.LT, T.cp(1), T.cp(0)),
            T.block(T.let(2, T.add(T.cp(1), T.c(1))), inner, T.let(1, T.add(T.cp(1), T.c(1)))),
            label="outer",
        )
        return T.block(T.let(1, T.c(0)), T.let(3, T.c(0)), outer, result=T.cp(3))

    # fun check(x: u64): u64 { assert!(x < 10, 42); if (x == 7) return 70; x * 2 }
    def check() -> ir.Expr:
        return T.block(
            ir.IfElse(
                UNIT, T.L, T.binop(ir.BinOp.LT, T.cp(0), T.c(10)), T.block(), ir.Abort(UNIT, T.L, T.c(42))
            ),
            ir.IfElse(UNIT, T.L, T.binop(ir.BinOp.EQ, T.cp(0), T.c(7)), ir.Return(U64, T.L, T.c(70))),
            result=T.binop(ir.BinOp.MUL, T.cp(0), T.c(2)),
        )

    # fun swap(a: u64, b: u64): (u64, u64) { (b, a) } and fun use_swap(): u64 { let (x, y) = swap(1, 2); x * 10 + y }
    swap = T.f(
        "swap",
        [("a", U64), ("b", U64)],
        [U64, U64],
        lambda: ir.Tuple(TupleType((U64, U64)), T.L, [T.cp(1), T.cp(0)]),
    )

    def use_swap() -> ir.Expr:
        pair = T.call(T.TEST, "swap", [T.c(1), T.c(2)], TupleType((U64, U64)))
        return T.block(
            ir.Assign(UNIT, T.L, [0, 1], pair),
            result=T.add(T.binop(ir.BinOp.MUL, T.cp(0), T.c(10)), T.cp(1)),
        )

    # fun spin(): u64 { loop {} }
    spin = T.f("spin", [], [U64], lambda: ir.Loop(U64, T.L, T.block()))

    # fun short(x: u64): bool { x != 0 && 10 / x > 1 || x == 100 }
    def short() -> ir.Expr:
        guard = T.binop(ir.BinOp.NEQ, T.cp(0), T.c(0))
        div = T.binop(ir.BinOp.GT, T.binop(ir.BinOp.DIV, T.c(10), T.cp(0)), T.c(1))
        return T.binop(
            ir.BinOp.OR, T.binop(ir.BinOp.AND, guard, div), T.binop(ir.BinOp.EQ, T.cp(0), T.c(100))
        )

    return T.module(
        [
            T.f("odd_sum", [("n", U64)], [U64], odd_sum, [("i", U64), ("s", U64)]),
            T.f("pairs", [("n", U64)], [U64], pairs, [("i", U64), ("j", U64), ("count", U64)]),
            T.f("check", [("x", U64)], [U64], check),
            swap,
            T.f("use_swap", [], [U64], use_swap, [("x", U64), ("y", U64)]),
            spin,
            T.f("short", [("x", U64)], [BOOL], short),
            T.f("private_fn", [], [U64], T.c(1), visibility=ir.Visibility.PRIVATE),
        ]
    )


@pytest.fixture(scope="module")
def flow() -> MoveVM:
    return vm_of(_flow_module())


def test_loops_with_break_and_continue(flow: MoveVM) -> None:
    assert dec(call(flow, "odd_sum", enc(10, U64))[0]) == 1 + 3 + 5 + 7 + 9
    assert dec(call(flow, "odd_sum", enc(0, U64))[0]) == 0
    # pairs (i, j) with i < j < 6 for i in 0..3: 5 + 4 + 3
    assert dec(call(flow, "pairs", enc(6, U64))[0]) == 12


def test_abort_names_module_function_and_code(flow: MoveVM) -> None:
    assert dec(call(flow, "check", enc(3, U64))[0]) == 6
    assert dec(call(flow, "check", enc(7, U64))[0]) == 70
    with pytest.raises(MoveAbort) as err:
        call(flow, "check", enc(10, U64))
    assert (err.value.module, err.value.function, err.value.code) == (T.TEST, "check", 42)


def test_tuples_and_short_circuit(flow: MoveVM) -> None:
    assert dec(call(flow, "use_swap")[0]) == 21
    assert call(flow, "swap", enc(1, U64), enc(2, U64)) == [enc(2, U64), enc(1, U64)]
    assert call(flow, "short", enc(0, U64)) == [b"\x00"]  # no division by zero: && stops
    assert call(flow, "short", enc(3, U64)) == [b"\x01"]
    assert call(flow, "short", enc(100, U64)) == [b"\x01"]


def test_fuel_is_gas(flow: MoveVM) -> None:
    with pytest.raises(InsufficientGas):
        call(flow, "spin", gas=100_000)
    small = flow.call(T.TEST, "odd_sum", [enc(10, U64)], ctx=CTX, gas_limit=10**6).gas_used
    large = flow.call(T.TEST, "odd_sum", [enc(1000, U64)], ctx=CTX, gas_limit=10**6).gas_used
    assert 0 < small < large
    again = flow.call(T.TEST, "odd_sum", [enc(1000, U64)], ctx=CTX, gas_limit=10**6).gas_used
    assert again == large  # the same call costs the same


def test_invalid_calls_are_refused(flow: MoveVM) -> None:
    with pytest.raises(InvalidCall, match="neither public nor entry"):
        call(flow, "private_fn")
    with pytest.raises(InvalidCall, match="takes 1 arguments, got 0"):
        call(flow, "check")
    with pytest.raises(InvalidCall, match="bytes left over"):
        call(flow, "check", enc(1, U64) + b"\x00")
    with pytest.raises(InvalidCall, match="no function"):
        call(flow, "nope")


# -- vectors, structs, references, generics -----------------------------------------------------

POINT = StructType(T.TEST, "Point")
BOX_T = StructType(T.TEST, "Box", (TypeParam(0, "T"),))
VU64 = VectorType(U64)


def _data_module() -> ir.ModuleDecl:
    point = ir.StructDecl(
        "Point",
        Ability.COPY | Ability.DROP,
        (),
        (ir.FieldDecl("x", U64), ir.FieldDecl("y", U64)),
    )
    box = ir.StructDecl(
        "Box",
        Ability.COPY | Ability.DROP,
        (ir.TypeParamDecl("T"),),
        (ir.FieldDecl("value", TypeParam(0, "T")),),
    )

    # fun vec_ops(v: vector<u64>): (vector<u64>, u64, u64)
    #   { push_back(&mut v, 7); push_back(&mut v, 8); swap(&mut v, 0, 1); let top = pop_back(&mut v);
    #     let n = length(&v); (v, top, n) }
    def vec_ops() -> ir.Expr:
        return T.block(
            T.vcall("push_back", [T.borrow(0), T.c(7)], UNIT, U64),
            T.vcall("push_back", [T.borrow(0), T.c(8)], UNIT, U64),
            T.vcall("swap", [T.borrow(0), T.c(0), T.c(1)], UNIT, U64),
            T.let(1, T.vcall("pop_back", [T.borrow(0)], U64, U64)),
            T.let(2, T.vcall("length", [ir.FreezeRef(RefType(False, VU64), T.L, T.borrow(0))], U64, U64)),
            result=ir.Tuple(TupleType((VU64, U64, U64)), T.L, [T.mv(0), T.cp(1), T.cp(2)]),
        )

    # fun at(v: vector<u64>, i: u64): u64 { *borrow(&v, i) }
    def at() -> ir.Expr:
        return T.read(T.vcall("borrow", [T.borrow(0, False), T.cp(1)], RefType(False, U64), U64))

    # fun grow(n: u64): vector<u64> { let v = empty(); let i = 0; while (i < n) { push_back(&mut v, i * i); i = i + 1 }; v }
    def grow() -> ir.Expr:
        return T.block(
            T.let(1, T.vcall("empty", [], VU64, U64)),
            T.let(2, T.c(0)),
            ir.While(
                UNIT,
                T.L,
                T.binop(ir.BinOp.LT, T.cp(2), T.cp(0)),
                T.block(
                    T.vcall("push_back", [T.borrow(1), T.binop(ir.BinOp.MUL, T.cp(2), T.cp(2))], UNIT, U64),
                    T.let(2, T.add(T.cp(2), T.c(1))),
                ),
            ),
            result=T.mv(1),
        )

    # fun pop_empty(): u64 { let v = vector[]; pop_back(&mut v) }
    def pop_empty() -> ir.Expr:
        return T.block(
            T.let(0, ir.VectorLit(VU64, T.L, [])),
            result=T.vcall("pop_back", [T.borrow(0)], U64, U64),
        )

    # fun copies(v: vector<u64>): (vector<u64>, vector<u64>) { let w = copy v; push_back(&mut w, 9); (v, w) }
    def copies() -> ir.Expr:
        return T.block(
            T.let(1, T.cp(0)),
            T.vcall("push_back", [T.borrow(1), T.c(9)], UNIT, U64),
            result=ir.Tuple(TupleType((VU64, VU64)), T.L, [T.mv(0), T.mv(1)]),
        )

    # fun bump(p: &mut Point) { p.x = p.x + 1; *&mut p.y = 100 }
    def bump() -> ir.Expr:
        x = T.field(T.cp(0), POINT, 0, U64)
        return T.block(
            T.write(x, T.add(T.read(T.field(T.cp(0), POINT, 0, U64)), T.c(1))),
            T.write(T.field(T.cp(0), POINT, 1, U64), T.c(100)),
        )

    # fun points(): (u64, bool, bool) { let p = Point{x: 1, y: 2}; let q = p; bump(&mut q);
    #   let Point { x, y: _ } = q; (x, p == Point{x: 1, y: 2}, p == q) }
    def points() -> ir.Expr:
        pack = ir.Pack(POINT, T.L, POINT, [T.c(1), T.c(2)])
        return T.block(
            T.let(0, pack),
            T.let(1, T.cp(0)),
            T.call(T.TEST, "bump", [T.borrow(1)]),
            T.let(3, T.cp(1)),
            ir.Unpack(UNIT, T.L, POINT, T.mv(3), [2, None]),
            result=ir.Tuple(
                TupleType((U64, BOOL, BOOL)),
                T.L,
                [
                    T.cp(2),
                    T.binop(ir.BinOp.EQ, T.cp(0), ir.Pack(POINT, T.L, POINT, [T.c(1), T.c(2)])),
                    T.binop(ir.BinOp.EQ, T.cp(0), T.cp(1)),
                ],
            ),
        )

    tparam = TypeParam(0, "T")
    # generic: fun wrap<T>(x: T): Box<T>; fun unwrap<T>(b: Box<T>): T; fun same<T: copy + drop>(a: T, b: T): bool
    # fun twice<T: copy>(x: &T): vector<T> { vector[*x, *x] }
    wrap = T.f("wrap", [("x", tparam)], [BOX_T], lambda: ir.Pack(BOX_T, T.L, BOX_T, [T.mv(0)]), type_params=1)

    def unwrap() -> ir.Expr:
        return T.block(ir.Unpack(UNIT, T.L, BOX_T, T.mv(0), [1]), result=T.mv(1))

    same = T.f(
        "same",
        [("a", tparam), ("b", tparam)],
        [BOOL],
        lambda: T.binop(ir.BinOp.EQ, T.mv(0), T.mv(1)),
        type_params=1,
    )
    same_box = T.f(
        "same_box",
        [("a", BOX_T), ("b", BOX_T)],
        [BOOL],
        lambda: T.binop(ir.BinOp.EQ, T.mv(0), T.mv(1)),
        type_params=1,
    )
    twice = T.f(
        "twice",
        [("x", RefType(False, tparam))],
        [VectorType(tparam)],
        lambda: ir.VectorLit(VectorType(tparam), T.L, [T.read(T.cp(0)), T.read(T.cp(0))]),
        type_params=1,
    )

    # fun boxes(): u64 { let v: vector<Box<u64>> = vector[wrap(5), wrap(6)]; let b = pop_back(&mut v);
    #   unwrap(b) + unwrap(*borrow(&v, 0)) }   (calls a generic with a concrete type argument)
    box_u64 = StructType(T.TEST, "Box", (U64,))
    vbox = VectorType(box_u64)

    def boxes() -> ir.Expr:
        def wrapped(n: int) -> ir.Expr:
            return T.call(T.TEST, "wrap", [T.c(n)], box_u64, [U64])

        first = T.read(T.vcall("borrow", [T.borrow(0, False), T.c(0)], RefType(False, box_u64), box_u64))
        return T.block(
            T.let(0, ir.VectorLit(vbox, T.L, [wrapped(5), wrapped(6)])),
            T.let(1, T.vcall("pop_back", [T.borrow(0)], box_u64, box_u64)),
            result=T.add(
                T.call(T.TEST, "unwrap", [T.mv(1)], U64, [U64]), T.call(T.TEST, "unwrap", [first], U64, [U64])
            ),
        )

    # constants: fun consts(): (u128, address, vector<u8>, vector<u64>)
    def consts() -> ir.Expr:
        return ir.Tuple(
            TupleType((U128, ADDRESS, VectorType(U8), VU64)),
            T.L,
            [
                T.c(2**100 + 5, U128),
                T.c(bytes(31) + b"\x02", ADDRESS),
                T.c(b"hello", VectorType(U8)),
                T.c((1, 2, 3), VU64),
            ],
        )

    return T.module(
        [
            T.f("vec_ops", [("v", VU64)], [VU64, U64, U64], vec_ops, [("top", U64), ("n", U64)]),
            T.f("at", [("v", VU64), ("i", U64)], [U64], at),
            T.f("grow", [("n", U64)], [VU64], grow, [("v", VU64), ("i", U64)]),
            T.f("pop_empty", [], [U64], pop_empty, [("v", VU64)]),
            T.f("copies", [("v", VU64)], [VU64, VU64], copies, [("w", VU64)]),
            T.f("bump", [("p", RefType(True, POINT))], [], bump),
            T.f(
                "points",
                [],
                [U64, BOOL, BOOL],
                points,
                [("p", POINT), ("q", POINT), ("x", U64), ("r", POINT)],
            ),
            wrap,
            T.f("unwrap", [("b", BOX_T)], [tparam], unwrap, [("x", tparam)], type_params=1),
            same,
            same_box,
            twice,
            T.f("boxes", [], [U64], boxes, [("v", vbox), ("b", box_u64)]),
            T.f("consts", [], [U128, ADDRESS, VectorType(U8), VU64], consts),
        ],
        [point, box],
    )


@pytest.fixture(scope="module")
def data() -> MoveVM:
    return vm_of(_data_module())


def test_vector_natives(data: MoveVM) -> None:
    assert call(data, "vec_ops", vec_u64([1, 2])) == [vec_u64([2, 1, 7]), enc(8, U64), enc(3, U64)]
    assert dec(call(data, "at", vec_u64([4, 5, 6]), enc(2, U64))[0]) == 6
    assert call(data, "grow", enc(100, U64)) == [vec_u64([i * i for i in range(100)])]
    with pytest.raises(MovePrimitiveRuntimeError, match="vector index out of bounds"):
        call(data, "at", vec_u64([4, 5, 6]), enc(3, U64))
    with pytest.raises(MovePrimitiveRuntimeError, match="pop from an empty vector"):
        call(data, "pop_empty")


def test_copies_are_deep(data: MoveVM) -> None:
    assert call(data, "copies", vec_u64([1])) == [vec_u64([1]), vec_u64([1, 9])]


def test_structs_references_and_equality(data: MoveVM) -> None:
    assert call(data, "points") == [enc(2, U64), b"\x01", b"\x00"]
    result = data.call(T.TEST, "bump", [enc(5, U64) + enc(6, U64)], ctx=CTX, gas_limit=10**6)
    assert result.returns == [] and result.mutated == {0: enc(6, U64) + enc(100, U64)}


def test_generics(data: MoveVM) -> None:
    point = enc(3, U64) + enc(4, U64)
    assert call(data, "wrap", enc(9, U64), targs=(U64,)) == [enc(9, U64)]
    assert call(data, "unwrap", point, targs=(POINT,)) == [point]
    assert call(data, "same", point, point, targs=(POINT,)) == [b"\x01"]
    assert call(data, "same", point, enc(3, U64) + enc(5, U64), targs=(POINT,)) == [b"\x00"]
    assert call(data, "same_box", vec_u64([1, 2]), vec_u64([1, 2]), targs=(VU64,)) == [b"\x01"]
    assert call(data, "same_box", vec_u64([1, 2]), vec_u64([1]), targs=(VU64,)) == [b"\x00"]
    assert call(data, "twice", vec_u64([7]), targs=(VU64,)) == [b"\x02" + vec_u64([7]) * 2]
    assert call(data, "twice", enc(2**127, U128), targs=(U128,)) == [b"\x02" + enc(2**127, U128) * 2]
    assert call(data, "boxes") == [enc(11, U64)]
    with pytest.raises(InvalidCall, match="type arguments"):
        call(data, "wrap", enc(9, U64))


def test_constants(data: MoveVM) -> None:
    assert call(data, "consts") == [
        enc(2**100 + 5, U128),
        bytes(31) + b"\x02",
        b"\x05hello",
        vec_u64([1, 2, 3]),
    ]


def test_code_generation_is_deterministic() -> None:
    first, second = compile_module(_data_module()), compile_module(_data_module())
    assert first == second
    parsed = parse_module(first)
    assert parsed.custom_section(METADATA_SECTION) is not None
    assert {"wrap", "unwrap", "boxes"} <= {e.name for e in parsed.exports}


@pytest.mark.parametrize("ty", [U128, U256], ids=str)
def test_wide_arithmetic_agrees_with_integer_arithmetic(arith: MoveVM, ty: PrimType) -> None:
    """u128/u256 ``+ - * < &`` run as Wasm limb arithmetic: checked against exact integers on
    operands chosen to cross limb boundaries (seeded, so the same cases every run)."""
    bits = ty.prim.bits
    top = (1 << bits) - 1
    rng = random.Random(bits)
    edges = [0, 1, 2**32 - 1, 2**32, 2**64 - 1, 2**64, 2**96 + 7, top >> 1, top - 1, top]
    values = edges + [
        rng.getrandbits(rng.choice([31, 63, 64, 65, 100, bits // 2, bits - 1, bits])) for _ in range(20)
    ]
    pairs = [(rng.choice(values), rng.choice(values)) for _ in range(60)]
    for a, b in pairs:
        for name, exact in (("add", a + b), ("sub", a - b), ("mul", a * b)):
            if 0 <= exact <= top:
                assert op(arith, name, ty, a, b) == exact, (name, a, b)
            else:
                aborts_arith(arith, name, ty, a, b)
        assert op(arith, "lt", ty, a, b) == int(a < b)
        assert op(arith, "ge", ty, a, b) == int(a >= b)
        assert op(arith, "and", ty, a, b) == a & b
        assert op(arith, "xor", ty, a, b) == a ^ b
