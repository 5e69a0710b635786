"""The Move VM's object runtime and natives, with a hand-built slice of the framework that
mirrors move/framework's sources (tx_context with ``derive_id``, object, transfer, event):
a shared counter created and incremented, ids derived as reference/sui.md section 3 says,
transfers, freezes, deletions and events logged with their types."""

from __future__ import annotations

import hashlib

import pytest

import tests.move_ir as T
from move import ir
from move.abi import METADATA_SECTION, canonical_json
from move.codegen import compile_module
from move.types import (
    ADDRESS,
    BOOL,
    U8,
    U64,
    UNIT,
    Ability,
    ModuleId,
    RefType,
    StructType,
    TypeParam,
    VectorType,
    address_of,
)
from node.sui import LinkError, MoveAbort, MoveVM, ObjectLog, TxContext, derive_object_id
from vocab.keccak import keccak256
from vocab.wasm import I64
from vocab.wasm.builder import Code, ModuleBuilder

SUI = address_of(2)
TXM = ModuleId(SUI, "tx_context")
OBJ = ModuleId(SUI, "object")
TRANSFER = ModuleId(SUI, "transfer")
EVENT = ModuleId(SUI, "event")
HASH = ModuleId(SUI, "hash")
TX = StructType(TXM, "TxContext")
ID = StructType(OBJ, "ID")
UID = StructType(OBJ, "UID")
COUNTER = StructType(T.TEST, "Counter")
BUMPED = StructType(T.TEST, "Bumped")
BYTES = VectorType(U8)
TP = TypeParam(0, "T")
KEY = Ability.KEY


def _framework() -> list[ir.ModuleDecl]:
    tx = ir.StructDecl(
        "TxContext",
        Ability.DROP,
        (),
        tuple(
            ir.FieldDecl(n, t)
            for n, t in [
                ("sender", ADDRESS),
                ("tx_hash", BYTES),
                ("epoch", U64),
                ("epoch_timestamp_ms", U64),
                ("ids_created", U64),
            ]
        ),
    )
    ref_tx = RefType(False, TX)
    mut_tx = RefType(True, TX)

    def fresh() -> ir.Expr:
        ids = T.field(T.cp(0), TX, 4, U64)
        return T.block(
            T.let(1, T.read(ids)),
            T.let(2, T.call(TXM, "derive_id", [T.read(T.field(T.cp(0), TX, 1, BYTES)), T.cp(1)], ADDRESS)),
            T.write(T.field(T.cp(0), TX, 4, U64), T.add(T.cp(1), T.c(1))),
            result=T.cp(2),
        )

    txm = T.module(
        [
            T.f(
                "sender",
                [("self", ref_tx)],
                [ADDRESS],
                lambda: T.read(T.field(T.cp(0), TX, 0, ADDRESS, False)),
            ),
            T.f("fresh_object_address", [("ctx", mut_tx)], [ADDRESS], fresh, [("ids", U64), ("id", ADDRESS)]),
            T.native("derive_id", [("tx_hash", BYTES), ("ids_created", U64)], [ADDRESS]),
        ],
        [tx],
        TXM,
    )
    id_decl = ir.StructDecl(
        "ID", Ability.COPY | Ability.DROP | Ability.STORE, (), (ir.FieldDecl("bytes", ADDRESS),)
    )
    uid_decl = ir.StructDecl("UID", Ability.STORE, (), (ir.FieldDecl("id", ID),))

    def new() -> ir.Expr:
        address = T.call(TXM, "fresh_object_address", [T.cp(0)], ADDRESS)
        return ir.Pack(UID, T.L, UID, [ir.Pack(ID, T.L, ID, [address])])

    def delete() -> ir.Expr:
        return T.block(
            ir.Unpack(UNIT, T.L, UID, T.mv(0), [1]),
            ir.Unpack(UNIT, T.L, ID, T.mv(1), [2]),
            result=T.call(OBJ, "delete_impl", [T.mv(2)]),
        )

    obj = T.module(
        [
            T.f("new", [("ctx", mut_tx)], [UID], new),
            T.f("delete", [("id", UID)], [], delete, [("inner", ID), ("bytes", ADDRESS)]),
            T.native("delete_impl", [("id", ADDRESS)], []),
        ],
        [id_decl, uid_decl],
        OBJ,
    )

    def forward(native: str, count: int) -> ir.Expr:
        return T.call(TRANSFER, native, [T.mv(i) for i in range(count)], UNIT, [TP])

    transfer = T.module(
        [
            T.f(
                "transfer",
                [("obj", TP), ("to", ADDRESS)],
                [],
                lambda: forward("transfer_impl", 2),
                type_params=1,
            ),
            T.f("share_object", [("obj", TP)], [], lambda: forward("share_object_impl", 1), type_params=1),
            T.f("freeze_object", [("obj", TP)], [], lambda: forward("freeze_object_impl", 1), type_params=1),
            T.native("transfer_impl", [("obj", TP), ("to", ADDRESS)], [], type_params=1),
            T.native("share_object_impl", [("obj", TP)], [], type_params=1),
            T.native("freeze_object_impl", [("obj", TP)], [], type_params=1),
        ],
        [],
        TRANSFER,
    )
    event = T.module([T.native("emit", [("event", TP)], [], type_params=1)], [], EVENT)
    hash_ = T.module(
        [
            T.native("blake2b256", [("data", RefType(False, BYTES))], [BYTES]),
            T.native("keccak256", [("data", RefType(False, BYTES))], [BYTES]),
        ],
        [],
        HASH,
    )
    return [txm, obj, transfer, event, hash_]


def _counter() -> ir.ModuleDecl:
    counter = ir.StructDecl(
        "Counter",
        KEY,
        (),
        (ir.FieldDecl("id", UID), ir.FieldDecl("owner", ADDRESS), ir.FieldDecl("value", U64)),
    )
    bumped = ir.StructDecl("Bumped", Ability.COPY | Ability.DROP, (), (ir.FieldDecl("value", U64),))
    mut_tx = RefType(True, TX)

    # public fun create(ctx: &mut TxContext) { transfer::share_object(Counter { id: object::new(ctx),
    #   owner: ctx.sender(), value: 0 }) }
    def create() -> ir.Expr:
        sender = T.call(TXM, "sender", [ir.FreezeRef(RefType(False, TX), T.L, T.cp(0))], ADDRESS)
        pack = ir.Pack(COUNTER, T.L, COUNTER, [T.call(OBJ, "new", [T.cp(0)], UID), sender, T.c(0)])
        return T.call(TRANSFER, "share_object", [pack], UNIT, [COUNTER])

    # public fun increment(c: &mut Counter) { c.value = c.value + 1; event::emit(Bumped { value: c.value }) }
    def increment() -> ir.Expr:
        value = T.field(T.cp(0), COUNTER, 2, U64)
        return T.block(
            T.write(value, T.add(T.read(T.field(T.cp(0), COUNTER, 2, U64)), T.c(1))),
            T.call(
                EVENT,
                "emit",
                [ir.Pack(BUMPED, T.L, BUMPED, [T.read(T.field(T.cp(0), COUNTER, 2, U64))])],
                UNIT,
                [BUMPED],
            ),
        )

    # public fun give(to: address, ctx: &mut TxContext) { transfer::transfer(Counter{...}, to) }
    def give() -> ir.Expr:
        pack = ir.Pack(COUNTER, T.L, COUNTER, [T.call(OBJ, "new", [T.cp(1)], UID), T.cp(0), T.c(5)])
        return T.call(TRANSFER, "transfer", [pack, T.cp(0)], UNIT, [COUNTER])

    # public fun freeze(c: Counter) { transfer::freeze_object(c) }
    freeze = T.f(
        "freeze", [("c", COUNTER)], [], lambda: T.call(TRANSFER, "freeze_object", [T.mv(0)], UNIT, [COUNTER])
    )
    share = T.f(
        "share", [("c", COUNTER)], [], lambda: T.call(TRANSFER, "share_object", [T.mv(0)], UNIT, [COUNTER])
    )

    # public fun destroy(c: Counter) { let Counter { id, owner: _, value: _ } = c; object::delete(id) }
    def destroy() -> ir.Expr:
        return T.block(
            ir.Unpack(UNIT, T.L, COUNTER, T.mv(0), [1, None, None]), result=T.call(OBJ, "delete", [T.mv(1)])
        )

    # public fun ephemeral(ctx: &mut TxContext) { object::delete(object::new(ctx)) }
    def ephemeral() -> ir.Expr:
        return T.call(OBJ, "delete", [T.call(OBJ, "new", [T.cp(0)], UID)])

    def value() -> ir.Expr:
        return T.read(T.field(T.cp(0), COUNTER, 2, U64, False))

    return T.module(
        [
            T.f("create", [("ctx", mut_tx)], [], create),
            T.f("increment", [("c", RefType(True, COUNTER))], [], increment),
            T.f("value", [("c", RefType(False, COUNTER))], [U64], value),
            T.f("give", [("to", ADDRESS), ("ctx", mut_tx)], [], give),
            freeze,
            share,
            T.f("destroy", [("c", COUNTER)], [], destroy, [("id", UID)]),
            T.f("ephemeral", [("ctx", mut_tx)], [], ephemeral),
            T.f(
                "hashes",
                [("data", BYTES)],
                [BYTES, BYTES],
                lambda: T.ir_tuple(
                    [
                        T.call(HASH, "blake2b256", [T.borrow(0, False)], BYTES),
                        T.call(HASH, "keccak256", [T.borrow(0, False)], BYTES),
                    ]
                ),
            ),
        ],
        [counter, bumped],
    )


SENDER = bytes(31) + b"\x0a"
DIGEST = hashlib.blake2b(b"some transaction", digest_size=32).digest()
CTX = TxContext(sender=SENDER, digest=DIGEST)


@pytest.fixture(scope="module")
def vm() -> MoveVM:
    machine = MoveVM()
    machine.add_modules([compile_module(m) for m in [*_framework(), _counter()]])
    return machine


def run(
    vm: MoveVM, name: str, *args: bytes, log: ObjectLog | None = None, shared: frozenset[bytes] = frozenset()
):  # type: ignore[no-untyped-def]
    return vm.call(T.TEST, name, list(args), ctx=CTX, gas_limit=10**7, log=log, shared_inputs=shared)


def counter_bcs(object_id: bytes, owner: bytes, value: int) -> bytes:
    return object_id + owner + value.to_bytes(8, "little")


def test_object_ids_are_derived_as_sui_derives_them() -> None:
    # reference/sui.md section 3: Blake2b-256(0xF1 · tx digest · counter as u64 LE)
    expected = hashlib.blake2b(b"\xf1" + DIGEST + (0).to_bytes(8, "little"), digest_size=32).digest()
    assert derive_object_id(DIGEST, 0) == expected


def test_create_shares_a_new_counter(vm: MoveVM) -> None:
    result = run(vm, "create")
    first = derive_object_id(DIGEST, 0)
    assert result.log.created == [first]
    assert len(result.log.objects) == 1
    shared = result.log.objects[0]
    assert (shared.kind, shared.type, shared.recipient) == ("share", COUNTER, None)
    assert shared.contents == counter_bcs(first, SENDER, 0)
    assert result.log.ids_created == 1


def test_increment_mutates_through_the_reference_and_emits(vm: MoveVM) -> None:
    object_id = derive_object_id(DIGEST, 0)
    result = run(vm, "increment", counter_bcs(object_id, SENDER, 41))
    assert result.mutated == {0: counter_bcs(object_id, SENDER, 42)}
    assert [(e.type, e.contents) for e in result.log.events] == [(BUMPED, (42).to_bytes(8, "little"))]
    assert run(vm, "value", counter_bcs(object_id, SENDER, 7)).returns == [(7).to_bytes(8, "little")]


def test_increment_overflow_aborts(vm: MoveVM) -> None:
    with pytest.raises(Exception, match="arithmetic error in .*::t::increment"):
        run(vm, "increment", counter_bcs(bytes(32), SENDER, 2**64 - 1))


def test_ids_continue_across_commands_of_a_transaction(vm: MoveVM) -> None:
    log = ObjectLog()
    run(vm, "create", log=log)
    recipient = bytes(31) + b"\x0b"
    run(vm, "give", recipient, log=log)
    second = derive_object_id(DIGEST, 1)
    assert log.created == [derive_object_id(DIGEST, 0), second]
    assert log.objects[-1].kind == "transfer"
    assert log.objects[-1].recipient == recipient
    assert log.objects[-1].contents == counter_bcs(second, recipient, 5)


def test_freeze_delete_and_the_share_rule(vm: MoveVM) -> None:
    existing = derive_object_id(b"\x01" * 32, 0)
    frozen = run(vm, "freeze", counter_bcs(existing, SENDER, 3)).log.objects
    assert [(o.kind, o.object_id) for o in frozen] == [("freeze", existing)]
    deleted = run(vm, "destroy", counter_bcs(existing, SENDER, 3)).log
    assert deleted.deleted == [existing] and deleted.objects == []
    # an object created and deleted in one transaction never existed
    ephemeral = run(vm, "ephemeral").log
    assert ephemeral.created == [] and ephemeral.deleted == []
    # share_object of an object that existed before and was not shared: abort 0 in 0x2::transfer
    with pytest.raises(MoveAbort) as err:
        run(vm, "share", counter_bcs(existing, SENDER, 3))
    assert (err.value.module, err.value.code) == (TRANSFER, 0)
    again = run(vm, "share", counter_bcs(existing, SENDER, 3), shared=frozenset({existing})).log.objects
    assert [o.kind for o in again] == ["share"]


def test_hash_natives_known_answers(vm: MoveVM) -> None:
    blake, keccak = run(vm, "hashes", b"\x03abc").returns
    assert blake == b"\x20" + hashlib.blake2b(b"abc", digest_size=32).digest()
    # Keccak-256("abc"), Ethereum's known answer
    assert keccak.hex() == "20" + "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"
    assert keccak256(b"").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"


def test_missing_native_fails_when_called_not_when_linked() -> None:
    lonely = T.module(
        [
            T.native("mystery", [], [U64]),
            T.f("calls_it", [], [U64], lambda: T.call(T.TEST, "mystery", [], U64)),
            T.f("fine", [], [BOOL], T.c(True, BOOL)),
        ]
    )
    machine = MoveVM()
    machine.add_modules([compile_module(lonely)])
    assert machine.call(T.TEST, "fine", [], ctx=CTX, gas_limit=10**6).returns == [b"\x01"]
    with pytest.raises(LinkError, match="mystery is not implemented"):
        machine.call(T.TEST, "calls_it", [], ctx=CTX, gas_limit=10**6)


def test_modules_outside_the_abi_are_refused() -> None:
    meta = {
        "id": ["00" * 32, "m"],
        "data_size": 0,
        "structs": [],
        "functions": [],
        "types": [],
        "dependencies": [],
    }

    def module(imports: list[tuple[str, str]], with_meta: bool = True, memory: bool = False) -> bytes:
        b = ModuleBuilder()
        for mod, name in imports:
            b.import_func(mod, name, (), (I64,))
        if memory:
            b.memory(1)
        b.function("f", (), (I64,), [], Code().i64_const(1).end())
        if with_meta:
            b.custom(METADATA_SECTION, canonical_json(meta))
        return b.build()

    machine = MoveVM()
    with pytest.raises(LinkError, match="no move.module section"):
        machine.add_modules([module([], with_meta=False)])
    with pytest.raises(LinkError, match="wasi.fd_write is not part of the Move ABI"):
        machine.add_modules([module([("wasi", "fd_write")])])
    with pytest.raises(LinkError, match="rt.exec is not part of the Move ABI"):
        machine.add_modules([module([("rt", "exec")])])
    with pytest.raises(LinkError, match="defines none"):
        machine.add_modules([module([], memory=True)])
    with pytest.raises(LinkError, match="not a Wasm module"):
        machine.add_modules([b"\x00asm\x01\x00\x00\x00\x05"])
    assert machine.add_modules([module([])]) == [ModuleId(bytes(32), "m")]
