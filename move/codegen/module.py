"""What the functions of one Wasm module share: imports, the type table, constants, helpers.

``ModuleGen`` owns the Wasm builder, the imports of the ABI (``move.abi``), the module's
type table (type descriptors it needs), its data segment (constants), its metadata, and
small helper functions (allocation, checked arithmetic, vector natives) emitted once per
module on first use. Function bodies are ``move.codegen.function``'s; the driver that puts
a module together is ``move.codegen.driver``.
"""

from __future__ import annotations

from collections.abc import Callable

from move import abi, ir
from move.abi import SLOT, VEC_CAP, VEC_DATA, VEC_HEADER, VEC_LEN
from move.fingerprint import code_digest
from move.types import Type
from vocab.wasm.builder import Code, Func, GlobalRef, ModuleBuilder
from vocab.wasm.module import I32, I64

# opcodes used by the helpers
I32_ADD, I32_GT_U, I32_EQZ = 0x6A, 0x4B, 0x45
I64_EQZ, I64_EQ, I64_NE, I64_LT_U, I64_GT_U, I64_GE_U = 0x50, 0x51, 0x52, 0x54, 0x56, 0x5A
I64_ADD, I64_SUB, I64_MUL, I64_DIV_U, I64_REM_U = 0x7C, 0x7D, 0x7E, 0x80, 0x82
I64_AND, I64_OR, I64_XOR, I64_SHL, I64_SHR_U = 0x83, 0x84, 0x85, 0x86, 0x88
I32_OR, I32_SHL, I32_GE_U = 0x72, 0x74, 0x4F
I32_WRAP, I64_EXTEND_U = 0xA7, 0xAD
I32_AND = 0x71


class ModuleGen:
    def __init__(self, module: ir.ModuleDecl) -> None:
        self.module = module
        b = self.b = ModuleBuilder()
        b.import_memory(abi.ENV, abi.MEMORY, 1)
        self.data_base: GlobalRef = b.import_global(abi.ENV, abi.DATA_BASE, I32)
        self.fail_import = b.import_func(abi.RUNTIME, "fail", (I32, I64, I32), ())
        self.grow_import = b.import_func(abi.RUNTIME, "grow", (I32,), ())
        self.types: list[Type] = []
        self._type_index: dict[Type, int] = {}
        self._type_globals: dict[int, GlobalRef] = {}
        self.data = bytearray()
        self._data_offsets: dict[bytes, int] = {}
        self.helpers: dict[str, Func] = {}
        self.own: dict[str, Func] = {}
        self.function_index: dict[str, int] = {}

    # -- shared tables -------------------------------------------------------------------
    def type_global(self, ty: Type) -> GlobalRef:
        """The imported global holding the descriptor of ``ty`` (or of the template ``ty``)."""
        index = self._type_index.get(ty)
        if index is None:
            index = len(self.types)
            self.types.append(ty)
            self._type_index[ty] = index
        ref = self._type_globals.get(index)
        if ref is None:
            ref = self.b.import_global(abi.TYPES, str(index), I64)
            self._type_globals[index] = ref
        return ref

    def data_offset(self, payload: bytes) -> int:
        """Where ``payload`` sits in this module's data (8-byte aligned, deduplicated)."""
        found = self._data_offsets.get(payload)
        if found is not None:
            return found
        offset = len(self.data)
        self.data += payload
        self.data += bytes(-len(self.data) % SLOT)
        self._data_offsets[payload] = offset
        return offset

    def runtime(self, name: str, params: tuple[int, ...], results: tuple[int, ...]) -> Func:
        return self.b.import_func(abi.RUNTIME, name, params, results)

    def external(self, ref: ir.FunctionRef, nparams: int, nresults: int) -> Func:
        if ref.module == self.module.id:
            return self.own[ref.name]
        return self.b.import_func(
            abi.module_import_name(ref.module), ref.name, (I64,) * nparams, (I64,) * nresults
        )

    def metadata(self) -> dict[str, object]:
        module = self.module
        return {
            "id": [module.id.address.hex(), module.id.name],
            "data_size": len(self.data),
            "structs": [
                {
                    "name": s.name,
                    "abilities": int(s.abilities),
                    "type_params": [[p.name, int(p.constraints), p.phantom] for p in s.type_params],
                    "fields": [[f.name, abi.type_to_json(f.type)] for f in s.fields],
                    **(
                        {
                            "variants": [
                                [v.name, [[f.name, abi.type_to_json(f.type)] for f in v.fields]]
                                for v in s.variants
                            ]
                        }
                        if s.variants is not None
                        else {}
                    ),
                }
                for s in module.structs.values()
            ],
            "functions": [
                {
                    "name": f.name,
                    "visibility": f.visibility.value,
                    "entry": f.entry,
                    "native": f.native,
                    "type_params": [[p.name, int(p.constraints)] for p in f.type_params],
                    "params": [abi.type_to_json(p.type) for p in f.params],
                    "returns": [abi.type_to_json(t) for t in f.returns],
                    "code": code_digest(f, module.id.address),
                }
                for f in module.functions.values()
            ],
            "types": [abi.type_to_json(t) for t in self.types],
            "dependencies": [[d.address.hex(), d.name] for d in module.dependencies],
        }

    # -- helpers (emitted once per module, on first use) ---------------------------------
    def helper(
        self, name: str, build: Callable[[], tuple[tuple[int, ...], tuple[int, ...], list[int], Code]]
    ) -> Func:
        found = self.helpers.get(name)
        if found is None:
            params, results, locals_, body = build()
            found = self.b.declare("$" + name, params, results)
            self.helpers[name] = found
            self.b.define(found, locals_, body)
        return found

    def fail_code(self, c: Code, kind: int, where_local: int | None = None, where: int = 0) -> Code:
        """Emit a call of ``rt.fail(kind, 0, where)`` then ``unreachable``."""
        c.i32_const(kind).i64_const(0)
        if where_local is not None:
            c.local_get(where_local)
        else:
            c.i32_const(where)
        return c.call(self.fail_import).unreachable()

    def alloc(self) -> Func:
        """``$alloc(size: i32) -> i32``: bump the shared heap pointer; ``rt.grow`` past the heap's end."""

        def build() -> tuple[tuple[int, ...], tuple[int, ...], list[int], Code]:
            c = Code()
            # locals: 0 size, 1 start, 2 end
            c.i32_const(0).i32_load(abi.HEAP_POINTER).local_tee(1).local_get(0).op(I32_ADD).local_tee(2)
            c.i32_const(0).i32_load(abi.HEAP_END).op(I32_GT_U).if_().local_get(2).call(self.grow_import).end()
            c.i32_const(0).local_get(2).i32_store(abi.HEAP_POINTER).local_get(1).end()
            return (I32,), (I32,), [I32, I32], c

        return self.helper("alloc", build)

    def arith(self, op: str, bits: int) -> Func:
        """``$op_bits(a, b, where) -> r``: Move's checked arithmetic for widths up to 64."""
        mask = (1 << bits) - 1

        def build() -> tuple[tuple[int, ...], tuple[int, ...], list[int], Code]:
            c = Code()
            a, b, where, r = 0, 1, 2, 3

            def check(cond: Callable[[], object]) -> None:
                cond()
                c.if_()
                self.fail_code(c, abi.FAIL_ARITHMETIC, where)
                c.end()

            if op == "+":
                c.local_get(a).local_get(b).op(I64_ADD).local_set(r)
                if bits == 64:
                    check(lambda: c.local_get(r).local_get(a).op(I64_LT_U))
                else:
                    check(lambda: c.local_get(r).i64_const(mask).op(I64_GT_U))
            elif op == "-":
                check(lambda: c.local_get(b).local_get(a).op(I64_GT_U))
                c.local_get(a).local_get(b).op(I64_SUB).local_set(r)
            elif op == "*":
                if bits == 64:
                    check(
                        lambda: (
                            c.local_get(b)
                            .i64_const(0)
                            .op(I64_NE)
                            .if_(I32)
                            .local_get(a)
                            .i64_const(mask)
                            .local_get(b)
                            .op(I64_DIV_U)
                            .op(I64_GT_U)
                            .else_()
                            .i32_const(0)
                            .end()
                        )
                    )
                    c.local_get(a).local_get(b).op(I64_MUL).local_set(r)
                else:
                    c.local_get(a).local_get(b).op(I64_MUL).local_set(r)
                    check(lambda: c.local_get(r).i64_const(mask).op(I64_GT_U))
            elif op in ("/", "%"):
                check(lambda: c.local_get(b).op(I64_EQZ))
                c.local_get(a).local_get(b).op(I64_DIV_U if op == "/" else I64_REM_U).local_set(r)
            elif op in ("<<", ">>"):
                check(lambda: c.local_get(b).i64_const(bits).op(I64_GE_U))
                c.local_get(a).local_get(b).op(I64_SHL if op == "<<" else I64_SHR_U)
                if op == "<<" and bits < 64:
                    c.i64_const(mask).op(I64_AND)
                c.local_set(r)
            else:  # a cast to `bits`: b is ignored
                check(lambda: c.local_get(a).i64_const(mask).op(I64_GT_U))
                c.local_get(a).local_set(r)
            c.local_get(r).end()
            return (I64, I64, I32), (I64,), [I64], c

        return self.helper(f"{'cast' if op == 'as' else _OP_NAMES[op]}{bits}", build)

    def eq_words(self) -> Func:
        """``$eq_words(a, b, words: i32) -> i32``: compare two immutable blocks (u128, u256, address)."""

        def build() -> tuple[tuple[int, ...], tuple[int, ...], list[int], Code]:
            c = Code()
            a, b, n = 0, 1, 2
            c.block().loop()
            c.local_get(n).op(I32_EQZ).br_if(1)
            c.local_get(a).op(I32_WRAP).i64_load().local_get(b).op(I32_WRAP).i64_load().op(I64_NE)
            c.if_().i32_const(0).return_().end()
            c.local_get(a).i64_const(8).op(I64_ADD).local_set(a)
            c.local_get(b).i64_const(8).op(I64_ADD).local_set(b)
            c.local_get(n).i32_const(-1).op(I32_ADD).local_set(n)
            c.br(0).end().end()
            c.i32_const(1).end()
            return (I64, I64, I32), (I32,), [], c

        return self.helper("eq_words", build)

    def big_arith(self, op: str) -> Func:
        """``$big_<op>(a, b, words: i32, where: i32) -> i64``: u128/u256 ``+ - & | ^`` limb by limb
        (64-bit limbs, little endian), aborting on a carry or borrow out of the top limb."""

        def build() -> tuple[tuple[int, ...], tuple[int, ...], list[int], Code]:
            c = Code()
            a, b, words, where, i, r, x, y, t, carry, s = range(11)
            c.local_get(words).i32_const(3).op(I32_SHL).call(self.alloc()).local_set(r)
            c.block().loop()
            c.local_get(i).local_get(words).op(I32_GE_U).br_if(1)
            c.local_get(a).op(I32_WRAP).local_get(i).i32_const(3).op(I32_SHL).op(
                I32_ADD
            ).i64_load().local_set(x)
            c.local_get(b).op(I32_WRAP).local_get(i).i32_const(3).op(I32_SHL).op(
                I32_ADD
            ).i64_load().local_set(y)
            c.local_get(r).local_get(i).i32_const(3).op(I32_SHL).op(I32_ADD)  # where the limb goes
            if op == "+":
                # t = x + carry (carries out iff t < carry); s = t + y (carries out iff s < t)
                c.local_get(x).local_get(carry).op(I64_ADD).local_tee(t).local_get(carry).op(I64_LT_U)
                c.local_get(t).local_get(y).op(I64_ADD).local_tee(s).local_get(t).op(I64_LT_U)
                c.op(I32_OR).op(I64_EXTEND_U).local_set(carry).local_get(s)
            elif op == "-":
                # t = x - borrow (borrows iff x < borrow); s = t - y (borrows iff t < y)
                c.local_get(x).local_get(carry).op(I64_LT_U)
                c.local_get(x).local_get(carry).op(I64_SUB).local_tee(t).local_get(y).op(I64_LT_U)
                c.op(I32_OR).op(I64_EXTEND_U).local_set(carry)
                c.local_get(t).local_get(y).op(I64_SUB)
            else:
                c.local_get(x).local_get(y).op({"&": I64_AND, "|": I64_OR, "^": I64_XOR}[op])
            c.i64_store()
            c.local_get(i).i32_const(1).op(I32_ADD).local_set(i)
            c.br(0).end().end()
            c.local_get(carry).op(I64_EQZ).op(I32_EQZ).if_()
            self.fail_code(c, abi.FAIL_ARITHMETIC, where)
            c.end()
            c.local_get(r).op(I64_EXTEND_U).end()
            return (I64, I64, I32, I32), (I64,), [I32, I32, I64, I64, I64, I64, I64], c

        return self.helper("big_" + _BIG_NAMES[op], build)

    def big_mul(self) -> Func:
        """``$big_mul(a, b, words: i32, where: i32) -> i64``: u128/u256 ``*``, schoolbook over 32-bit
        limbs (each partial product plus carries fits in 64 bits), aborting when any part of the
        product lands above the width."""

        def build() -> tuple[tuple[int, ...], tuple[int, ...], list[int], Code]:
            c = Code()
            a, b, words, where, n, r, i, j, ai, bj, carry, t = range(12)
            limb = 0x35  # i64.load32_u
            c.local_get(words).i32_const(1).op(I32_SHL).local_set(n)
            c.local_get(words).i32_const(3).op(I32_SHL).call(self.alloc()).local_set(r)
            for k in range(4):  # zero the result (memory is reused between calls); up to 4 limbs of 8 bytes
                c.i32_const(k).local_get(words).op(0x48).if_()  # k < words (i32.lt_s)
                c.local_get(r).i64_const(0).i64_store(8 * k).end()
            c.block().loop()  # for i in 0..n
            c.local_get(i).local_get(n).op(I32_GE_U).br_if(1)
            c.local_get(a).op(I32_WRAP).local_get(i).i32_const(2).op(I32_SHL).op(I32_ADD).mem(limb, 2)
            c.local_set(ai).i64_const(0).local_set(carry).i32_const(0).local_set(j)
            c.local_get(ai).op(I64_EQZ).op(I32_EQZ).if_()
            c.block().loop()  # for j in 0..n
            c.local_get(j).local_get(n).op(I32_GE_U).br_if(1)
            c.local_get(b).op(I32_WRAP).local_get(j).i32_const(2).op(I32_SHL).op(I32_ADD).mem(limb, 2)
            c.local_set(bj)
            c.local_get(i).local_get(j).op(I32_ADD).local_get(n).op(I32_GE_U).if_()
            # above the width: any non-zero part is an overflow
            c.local_get(bj).local_get(carry).op(I64_OR).op(I64_EQZ).op(I32_EQZ).if_()
            self.fail_code(c, abi.FAIL_ARITHMETIC, where)
            c.end()
            c.else_()
            # t = ai * bj + r[i + j] + carry; r[i + j] = low 32 bits; carry = high 32 bits
            c.local_get(r).local_get(i).local_get(j).op(I32_ADD).i32_const(2).op(I32_SHL).op(I32_ADD)
            c.local_get(ai).local_get(bj).op(I64_MUL)
            c.local_get(r).local_get(i).local_get(j).op(I32_ADD).i32_const(2).op(I32_SHL).op(I32_ADD).mem(
                limb, 2
            )
            c.op(I64_ADD).local_get(carry).op(I64_ADD).local_tee(t)
            c.mem(0x3E, 2)  # i64.store32: the low half
            c.local_get(t).i64_const(32).op(I64_SHR_U).local_set(carry)
            c.end()
            c.local_get(j).i32_const(1).op(I32_ADD).local_set(j)
            c.br(0).end().end()
            c.local_get(carry).op(I64_EQZ).op(I32_EQZ).if_()
            self.fail_code(c, abi.FAIL_ARITHMETIC, where)
            c.end()
            c.end()
            c.local_get(i).i32_const(1).op(I32_ADD).local_set(i)
            c.br(0).end().end()
            c.local_get(r).op(I64_EXTEND_U).end()
            return (I64, I64, I32, I32), (I64,), [I32, I32, I32, I32, I64, I64, I64, I64], c

        return self.helper("big_mul", build)

    def big_compare(self) -> Func:
        """``$big_cmp(a, b, words: i32) -> i32``: -1, 0 or 1, comparing from the top limb down."""

        def build() -> tuple[tuple[int, ...], tuple[int, ...], list[int], Code]:
            c = Code()
            a, b, i, x, y = 0, 1, 2, 3, 4
            c.block().loop()
            c.local_get(i).op(I32_EQZ).br_if(1)
            c.local_get(i).i32_const(-1).op(I32_ADD).local_set(i)
            c.local_get(a).op(I32_WRAP).local_get(i).i32_const(3).op(I32_SHL).op(
                I32_ADD
            ).i64_load().local_set(x)
            c.local_get(b).op(I32_WRAP).local_get(i).i32_const(3).op(I32_SHL).op(
                I32_ADD
            ).i64_load().local_set(y)
            c.local_get(x).local_get(y).op(I64_NE).if_()
            c.i32_const(-1).i32_const(1).local_get(x).local_get(y).op(I64_LT_U).select().return_()
            c.end()
            c.br(0).end().end()
            c.i32_const(0).end()
            return (I64, I64, I32), (I32,), [I64, I64], c

        return self.helper("big_cmp", build)

    def big_cast(self, source: int, target: int) -> Func:
        """``$cast_<source>_<target>(v, where: i32) -> i64`` where either side is wider than 64 bits."""

        def build() -> tuple[tuple[int, ...], tuple[int, ...], list[int], Code]:
            c = Code()
            v, where, r = 0, 1, 2
            source_words, target_words = max(source // 64, 1), max(target // 64, 1)
            if source <= 64 or target > source:
                # widening: copy the limbs there are, zero the rest
                c.i32_const(8 * target_words).call(self.alloc()).local_set(r)
                if source <= 64:
                    c.local_get(r).local_get(v).i64_store()
                    first = 1
                else:
                    for k in range(source_words):
                        c.local_get(r).local_get(v).op(I32_WRAP).i64_load(8 * k).i64_store(8 * k)
                    first = source_words
                for k in range(first, target_words):
                    c.local_get(r).i64_const(0).i64_store(8 * k)
                c.local_get(r).op(I64_EXTEND_U).end()
                return (I64, I32), (I64,), [I32, I32], c
            # narrowing: every limb above the target's is zero, and the top one fits
            for k in range(target_words, source_words):
                c.local_get(v).op(I32_WRAP).i64_load(8 * k).op(I64_EQZ).op(I32_EQZ).if_()
                self.fail_code(c, abi.FAIL_ARITHMETIC, where)
                c.end()
            if target < 64:
                c.local_get(v).op(I32_WRAP).i64_load().i64_const((1 << target) - 1).op(I64_GT_U).if_()
                self.fail_code(c, abi.FAIL_ARITHMETIC, where)
                c.end()
            if target <= 64:
                c.local_get(v).op(I32_WRAP).i64_load().end()
            else:
                c.local_get(v).end()  # the low limbs of an immutable block are the narrower value
            return (I64, I32), (I64,), [I32, I32], c

        return self.helper(f"cast_{source}_{target}", build)

    def vec_new(self) -> Func:
        """``$vec_new(len: i32) -> i64``: a vector of ``len`` (uninitialized) slots, capacity ``len``."""

        def build() -> tuple[tuple[int, ...], tuple[int, ...], list[int], Code]:
            c = Code()
            n, h = 0, 1
            alloc = self.alloc()
            c.i32_const(VEC_HEADER).local_get(n).i32_const(3).op(0x74).op(I32_ADD).call(alloc).local_set(h)
            c.local_get(h).local_get(n).op(I64_EXTEND_U).i64_store(VEC_LEN)
            c.local_get(h).local_get(n).op(I64_EXTEND_U).i64_store(VEC_CAP)
            c.local_get(h).local_get(h).i32_const(VEC_HEADER).op(I32_ADD).op(I64_EXTEND_U).i64_store(VEC_DATA)
            c.local_get(h).op(I64_EXTEND_U).end()
            return (I32,), (I64,), [I32], c

        return self.helper("vec_new", build)

    def vec_from_data(self) -> Func:
        """``$vec_from_data(offset: i32, len: i32) -> i64``: a fresh vector copied from the data."""

        def build() -> tuple[tuple[int, ...], tuple[int, ...], list[int], Code]:
            c = Code()
            off, n, v = 0, 1, 2
            c.local_get(n).call(self.vec_new()).local_set(v)
            c.local_get(v).op(I32_WRAP).i64_load(VEC_DATA).op(I32_WRAP)
            c.global_get(self.data_base).local_get(off).op(I32_ADD)
            c.local_get(n).i32_const(3).op(0x74)  # i32.shl
            c.memory_copy()
            c.local_get(v).end()
            return (I32, I32), (I64,), [I64], c

        return self.helper("vec_from_data", build)

    def vector_native(self, name: str) -> Func:
        """The natives of ``0x1::vector`` as helpers (references are pointers to slots)."""
        builders = {
            "empty": self._vec_empty,
            "length": self._vec_length,
            "borrow": self._vec_borrow,
            "borrow_mut": self._vec_borrow,
            "push_back": self._vec_push_back,
            "pop_back": self._vec_pop_back,
            "destroy_empty": self._vec_destroy_empty,
            "swap": self._vec_swap,
        }
        key = "borrow" if name == "borrow_mut" else name
        return self.helper("vector_" + key, builders[name])

    def _vec_empty(self) -> tuple[tuple[int, ...], tuple[int, ...], list[int], Code]:
        c = Code().i32_const(0).call(self.vec_new()).end()
        return (), (I64,), [], c

    @staticmethod
    def _header(c: Code, ref: int) -> Code:
        """The vector header pointer (i32) from a reference (i64 pointer to the slot)."""
        return c.local_get(ref).op(I32_WRAP).i64_load().op(I32_WRAP)

    def _vec_length(self) -> tuple[tuple[int, ...], tuple[int, ...], list[int], Code]:
        c = Code()
        self._header(c, 0).i64_load(VEC_LEN).end()
        return (I64,), (I64,), [], c

    def _vec_borrow(self) -> tuple[tuple[int, ...], tuple[int, ...], list[int], Code]:
        # (ref, i, where) -> element slot pointer
        c = Code()
        ref, i, where, h = 0, 1, 2, 3
        self._header(c, ref).local_set(h)
        c.local_get(i).local_get(h).i64_load(VEC_LEN).op(I64_GE_U).if_()
        self.fail_code(c, abi.FAIL_INDEX, where)
        c.end()
        c.local_get(h).i64_load(VEC_DATA).local_get(i).i64_const(3).op(I64_SHL).op(I64_ADD).end()
        return (I64, I64, I32), (I64,), [I32], c

    def _vec_push_back(self) -> tuple[tuple[int, ...], tuple[int, ...], list[int], Code]:
        # (ref, value) -> ()
        c = Code()
        ref, value, h, n, data = 0, 1, 2, 3, 4
        self._header(c, ref).local_set(h)
        c.local_get(h).i64_load(VEC_LEN).op(I32_WRAP).local_set(n)
        c.local_get(n).op(I64_EXTEND_U).local_get(h).i64_load(VEC_CAP).op(I64_EQ).if_()
        # grow: capacity max(4, 2 * len)
        c.i32_const(4).local_get(n).i32_const(1).op(0x74).local_tee(data).local_get(data).i32_const(4)
        c.op(0x49)  # i32.lt_u
        c.select().local_set(data)  # 4 if 2 * len < 4 else 2 * len
        c.local_get(h).local_get(data).op(I64_EXTEND_U).i64_store(VEC_CAP)
        c.local_get(data).i32_const(3).op(0x74).call(self.alloc()).local_set(data)
        c.local_get(data).local_get(h).i64_load(VEC_DATA).op(I32_WRAP).local_get(n).i32_const(3).op(0x74)
        c.memory_copy()
        c.local_get(h).local_get(data).op(I64_EXTEND_U).i64_store(VEC_DATA)
        c.end()
        c.local_get(h).i64_load(VEC_DATA).op(I32_WRAP).local_get(n).i32_const(3).op(0x74).op(I32_ADD)
        c.local_get(value).i64_store()
        c.local_get(h).local_get(n).i32_const(1).op(I32_ADD).op(I64_EXTEND_U).i64_store(VEC_LEN)
        c.end()
        return (I64, I64), (), [I32, I32, I32], c

    def _vec_pop_back(self) -> tuple[tuple[int, ...], tuple[int, ...], list[int], Code]:
        # (ref, where) -> value
        c = Code()
        ref, where, h, n = 0, 1, 2, 3
        self._header(c, ref).local_set(h)
        c.local_get(h).i64_load(VEC_LEN).local_tee(n).op(I64_EQZ).if_()
        self.fail_code(c, abi.FAIL_EMPTY, where)
        c.end()
        c.local_get(h).local_get(n).i64_const(1).op(I64_SUB).local_tee(n).i64_store(VEC_LEN)
        c.local_get(h).i64_load(VEC_DATA).local_get(n).i64_const(3).op(I64_SHL).op(I64_ADD).op(I32_WRAP)
        c.i64_load().end()
        return (I64, I32), (I64,), [I32, I64], c

    def _vec_destroy_empty(self) -> tuple[tuple[int, ...], tuple[int, ...], list[int], Code]:
        # (vector, where) -> ()
        c = Code()
        c.local_get(0).op(I32_WRAP).i64_load(VEC_LEN).i64_const(0).op(I64_NE).if_()
        self.fail_code(c, abi.FAIL_NOT_EMPTY, 1)
        c.end().end()
        return (I64, I32), (), [], c

    def _vec_swap(self) -> tuple[tuple[int, ...], tuple[int, ...], list[int], Code]:
        # (ref, i, j, where) -> ()
        c = Code()
        ref, i, j, where, pi, pj, t = 0, 1, 2, 3, 4, 5, 6
        borrow = self.vector_native("borrow")
        c.local_get(ref).local_get(i).local_get(where).call(borrow).op(I32_WRAP).local_set(pi)
        c.local_get(ref).local_get(j).local_get(where).call(borrow).op(I32_WRAP).local_set(pj)
        c.local_get(pi).i64_load().local_set(t)
        c.local_get(pi).local_get(pj).i64_load().i64_store()
        c.local_get(pj).local_get(t).i64_store().end()
        return (I64, I64, I64, I32), (), [I32, I32, I64], c


_BIG_NAMES = {"+": "add", "-": "sub", "&": "and", "|": "or", "^": "xor"}
_OP_NAMES = {"+": "add", "-": "sub", "*": "mul", "/": "div", "%": "mod", "<<": "shl", ">>": "shr"}
