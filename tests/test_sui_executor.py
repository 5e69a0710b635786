"""The Sui execution layer end to end from Move source: packages compiled by the project's
compiler, published and called through programmable transactions on a ``SuiLedger``.

Known answers come from Sui's rules (reference/sui.md sections 3 and 4, VECTORS.md): ids
derived from the transaction digest in creation order (package, then what ``init``
creates, then the ``UpgradeCap``), Lamport versions, Sui's error names, the shapes of
effects; and from the Move sources' own semantics (the counter's abort code).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from node.sui.effects import DELETED_DIGEST, WRAPPED_DIGEST, TransactionEffects
from node.sui.ledger import STD, SUI, SuiLedger, compile_for_publish
from node.sui.store import SuiObject
from vocab.crypto import Ed25519PrivateKey
from vocab.errors import SuiError
from vocab.sui.address import ObjectId, SuiAddress
from vocab.sui.ids import derive_object_id
from vocab.sui.objects import AddressOwner, Immutable, ObjectRef, Shared
from vocab.sui.signed import SignedTransaction
from vocab.sui.transaction import (
    GasCoin,
    ImmOrOwnedObject,
    Input,
    MakeMoveVec,
    MoveCall,
    NestedResult,
    Pure,
    Result,
    TransferObjects,
)
from vocab.sui.type_tag import U64

EXAMPLES = Path(__file__).resolve().parent / "move_examples"
ALICE = SuiAddress(bytes(31) + b"\xa1")
BOB = SuiAddress(bytes(31) + b"\xb0")


def u64(value: int) -> Pure:
    return Pure(value.to_bytes(8, "little"))


def address(who: SuiAddress) -> Pure:
    return Pure(who.raw)


@pytest.fixture(scope="module")
def counter_wasm() -> list[bytes]:
    return compile_for_publish(EXAMPLES / "counter")


@pytest.fixture(scope="module")
def owned_wasm() -> list[bytes]:
    return compile_for_publish(EXAMPLES / "owned")


@pytest.fixture(scope="module")
def things_wasm() -> list[bytes]:
    return compile_for_publish(EXAMPLES / "things")


@pytest.fixture
def ledger() -> SuiLedger:
    return SuiLedger.genesis()


def ok(effects: TransactionEffects) -> TransactionEffects:
    assert effects.status is None, effects.status
    return effects


def created(ledger: SuiLedger, effects: TransactionEffects, type_name: str) -> list[SuiObject]:
    found = []
    for ref, _ in effects.created:
        obj = ledger.object(ref.object_id)
        if obj is not None and obj.type.name == type_name:
            found.append(obj)
    return found


def publish(
    ledger: SuiLedger, wasm: list[bytes], sender: SuiAddress = ALICE
) -> tuple[ObjectId, TransactionEffects]:
    effects = ok(ledger.publish(sender, wasm))
    packages = [ref.object_id for ref, _ in effects.created if ledger.package(ref.object_id) is not None]
    assert len(packages) == 1
    return packages[0], effects


# -- publish ----------------------------------------------------------------------------------


def test_publish_ids_versions_init_and_upgrade_cap(ledger: SuiLedger, owned_wasm: list[bytes]) -> None:
    package_id, effects = publish(ledger, owned_wasm)
    digest = effects.transaction_digest
    # the package takes the first fresh id before init runs; init's AdminCap the next; the cap last
    assert package_id == derive_object_id(digest, 0)
    (admin,) = created(ledger, effects, "AdminCap")
    (cap,) = created(ledger, effects, "UpgradeCap")
    assert admin.id == derive_object_id(digest, 1)
    assert cap.id == derive_object_id(digest, 2)
    package = ledger.package(package_id)
    assert package is not None and package.version == 1 and package.original_id == package_id
    assert [name for name, _ in package.modules] == ["transfer_to_sender"]
    assert {(t.module_name, t.datatype_name) for t in package.type_origins} == {
        ("transfer_to_sender", "AdminCap"),
        ("transfer_to_sender", "Gift"),
        ("transfer_to_sender", "Config"),
    }
    assert dict(package.linkage)[STD].upgraded_version == 1 and SUI in dict(package.linkage)
    # Lamport: the inputs are the framework packages at version 1
    assert effects.lamport_version == 2 and admin.version == cap.version == 2
    assert admin.owner == AddressOwner(ALICE) and cap.owner == AddressOwner(ALICE)
    assert cap.type.module.address == bytes(31) + b"\x02" and cap.type.module.name == "package"
    # UpgradeCap { id, package, version: 1, policy: 0 }
    assert cap.contents == cap.id.raw + package_id.raw + (1).to_bytes(8, "little") + b"\x00"
    assert admin.type.module.address == package_id.raw
    assert (package.ref, Immutable()) in effects.created


def test_publish_refuses_modules_not_at_0x0(ledger: SuiLedger, owned_wasm: list[bytes]) -> None:
    from node.sui.relocate import relocate

    moved = [relocate(w, bytes(32), b"\x07" * 32) for w in owned_wasm]
    effects = ledger.publish(ALICE, moved)
    assert effects.status is not None and effects.status.error == "PublishErrorNonZeroAddress"
    assert effects.created == () and len(ledger.store.packages) == 2


def test_publish_needs_its_dependencies(ledger: SuiLedger, owned_wasm: list[bytes]) -> None:
    effects = ledger.publish(ALICE, owned_wasm, dependencies=[STD])
    assert effects.status is not None and effects.status.error == "PublishUpgradeMissingDependency"
    with pytest.raises(SuiError) as refused:
        ledger.publish(ALICE, owned_wasm, dependencies=[STD, ObjectId(b"\x09" * 32)])
    assert refused.value.name == "DependentPackageNotFound"


# -- the counter: a shared object -------------------------------------------------------------


def test_shared_counter_versions_and_abort(ledger: SuiLedger, counter_wasm: list[bytes]) -> None:
    package_id, _ = publish(ledger, counter_wasm)
    made = ok(ledger.call(ALICE, package_id, "counter", "create"))
    (counter,) = created(ledger, made, "Counter")
    assert counter.owner == Shared(made.lamport_version)  # shared at the creating transaction's version
    assert counter.contents == counter.id.raw + ALICE.raw + (0).to_bytes(8, "little")
    version = counter.version
    for who in (ALICE, BOB, BOB):
        before = ledger.object(counter.id)
        assert before is not None
        effects = ok(ledger.call(who, package_id, "counter", "increment", [ledger.shared(counter.id)]))
        assert effects.lamport_version == version + 1  # 1 + the highest input version
        assert [ref.object_id for ref, _ in effects.mutated] == [counter.id]
        assert effects.shared_objects == (before.ref,)  # the version the transaction read
        assert effects.modified_at_versions == ((counter.id, version),)
        version += 1
        now = ledger.object(counter.id)
        assert (
            now is not None
            and now.version == version
            and now.previous_transaction == effects.transaction_digest
        )
    assert ledger.object(counter.id).contents[-8:] == (3).to_bytes(8, "little")  # type: ignore[union-attr]
    # set_value by someone other than the owner: `assert!(counter.owner == ctx.sender(), 0)`
    failed = ledger.call(BOB, package_id, "counter", "set_value", [ledger.shared(counter.id), u64(100)])
    status = failed.status
    assert status is not None and status.error == "MoveAbort" and status.code == 0 and status.command == 0
    assert status.location is not None and status.location.module == "counter"
    assert status.location.function == "set_value" and status.location.package == package_id
    after = ledger.object(counter.id)
    assert after is not None
    # as in Sui, a failed transaction still moves its mutable inputs to its version, unchanged
    assert after.version == version + 1 and after.contents[-8:] == (3).to_bytes(8, "little")
    assert failed.mutated == ((after.ref, after.owner),) and failed.events == ()
    done = ok(ledger.call(ALICE, package_id, "counter", "set_value", [ledger.shared(counter.id), u64(100)]))
    assert ledger.object(counter.id).contents[-8:] == (100).to_bytes(8, "little")  # type: ignore[union-attr]
    # the abort is charged for the work done up to it: some fuel, less than the whole call's
    assert 0 < failed.gas_used < done.gas_used


def test_read_only_shared_object(ledger: SuiLedger, counter_wasm: list[bytes]) -> None:
    package_id, _ = publish(ledger, counter_wasm)
    (counter,) = created(ledger, ok(ledger.call(ALICE, package_id, "counter", "create")), "Counter")
    read = ledger.shared(counter.id, mutable=False)
    effects = ok(ledger.call(BOB, package_id, "counter", "assert_value", [read, u64(0)]))
    assert effects.mutated == () and ledger.object(counter.id).version == counter.version  # type: ignore[union-attr]
    assert [r.object_id for r in effects.shared_objects] == [counter.id]
    refused = ledger.call(BOB, package_id, "counter", "increment", [read])
    assert refused.status is not None and refused.status.error == "CommandArgumentError"
    assert "InvalidObjectByMutRef" in refused.status.message
    # deleting it by value needs it mutable
    by_value = ledger.call(ALICE, package_id, "counter", "delete", [read])
    assert by_value.status is not None and "InvalidObjectByValue" in by_value.status.message


def test_shared_object_deleted_by_owner(ledger: SuiLedger, counter_wasm: list[bytes]) -> None:
    package_id, _ = publish(ledger, counter_wasm)
    (counter,) = created(ledger, ok(ledger.call(ALICE, package_id, "counter", "create")), "Counter")
    arg = ledger.shared(counter.id)
    effects = ok(ledger.call(ALICE, package_id, "counter", "delete", [arg]))
    assert effects.deleted == (ObjectRef(counter.id, effects.lamport_version, DELETED_DIGEST),)
    assert ledger.object(counter.id) is None
    assert ledger.store.tombstones[counter.id].version == effects.lamport_version
    # a transaction sequenced with the deleted shared object runs and fails, as in Sui
    late = ledger.call(BOB, package_id, "counter", "increment", [arg])
    assert late.status is not None and late.status.error == "InputObjectDeleted"


# -- owned objects ----------------------------------------------------------------------------


def test_owned_objects_transfer_freeze_and_refusals(ledger: SuiLedger, owned_wasm: list[bytes]) -> None:
    package_id, published = publish(ledger, owned_wasm)
    (admin,) = created(ledger, published, "AdminCap")
    gift_tx = ok(
        ledger.call(
            ALICE,
            package_id,
            "transfer_to_sender",
            "mint_and_transfer",
            [ledger.owned(admin.id), address(BOB)],
        )
    )
    (gift,) = created(ledger, gift_tx, "Gift")
    assert gift.owner == AddressOwner(BOB) and gift.has_public_transfer
    assert ledger.object(admin.id).version == gift_tx.lamport_version  # type: ignore[union-attr]
    assert [o.id for o in ledger.owned_by(BOB)] == [gift.id]
    # only the owner passes an owned object
    with pytest.raises(SuiError) as other:
        ledger.call(ALICE, package_id, "transfer_to_sender", "freeze_gift", [ImmOrOwnedObject(gift.ref)])
    assert other.value.name == "IncorrectUserSignature"
    assert f"is owned by account address {BOB}, but given owner/signer address is {ALICE}" in str(other.value)
    # a stale reference, a wrong digest
    with pytest.raises(SuiError) as stale:
        ledger.call(
            ALICE,
            package_id,
            "transfer_to_sender",
            "mint_and_transfer",
            [ImmOrOwnedObject(admin.ref), address(BOB)],
        )
    assert stale.value.name == "ObjectVersionUnavailableForConsumption"
    current = ledger.object(admin.id)
    assert current is not None
    with pytest.raises(SuiError) as digest:
        wrong = ObjectRef(admin.id, current.version, gift.digest)
        ledger.call(
            ALICE,
            package_id,
            "transfer_to_sender",
            "mint_and_transfer",
            [ImmOrOwnedObject(wrong), address(BOB)],
        )
    assert digest.value.name == "InvalidObjectDigest"
    # refused transactions leave no record
    assert len(ledger.store.executed) == 2
    # freeze, then mutate: refused
    frozen_tx = ok(
        ledger.call(
            ALICE,
            package_id,
            "transfer_to_sender",
            "create_and_freeze",
            [ledger.owned(admin.id), Pure(b"\x05hello")],
        )
    )
    (config,) = created(ledger, frozen_tx, "Config")
    assert config.owner == Immutable()
    shown = ledger.object_json(config.id)
    assert shown is not None and shown["owner"] == "Immutable"
    assert shown["content"]["fields"] == {"id": {"id": config.id.to_text()}, "message": "hello"}
    read = ok(ledger.call(BOB, package_id, "transfer_to_sender", "message", [ledger.owned(config.id)]))
    assert read.mutated == () and ledger.object(config.id).version == config.version  # type: ignore[union-attr]
    # a public function returning a reference cannot be called by a transaction (checked first)
    mutate = ledger.call(BOB, package_id, "transfer_to_sender", "message_mut", [ledger.owned(config.id)])
    assert mutate.status is not None and mutate.status.error == "InvalidPublicFunctionReturnType"
    delete = ledger.call(ALICE, package_id, "transfer_to_sender", "delete_config", [ledger.owned(config.id)])
    assert delete.status is not None and "InvalidObjectByValue" in delete.status.message
    assert ledger.object(config.id) == config
    # the recipient freezes the gift (key + store: public_freeze_object)
    ok(ledger.call(BOB, package_id, "transfer_to_sender", "freeze_gift", [ledger.owned(gift.id)]))
    assert ledger.object(gift.id).owner == Immutable()  # type: ignore[union-attr]


def test_transfer_objects_command(
    ledger: SuiLedger, owned_wasm: list[bytes], things_wasm: list[bytes]
) -> None:
    owned_id, published = publish(ledger, owned_wasm)
    (admin,) = created(ledger, published, "AdminCap")
    # AdminCap has key but not store: only its module may transfer it
    tx = ledger.transaction(
        ALICE, [ledger.owned(admin.id), address(BOB)], [TransferObjects((Input(0),), Input(1))]
    )
    refused = ledger.execute(tx)
    assert refused.status is not None and refused.status.error == "InvalidTransferObject"
    assert ledger.object(admin.id).owner == AddressOwner(ALICE)  # type: ignore[union-attr]
    things_id, _ = publish(ledger, things_wasm)
    # make two things, give both to Bob: NestedResult, results between commands
    tx = ledger.transaction(
        ALICE,
        [address(BOB)],
        [
            MoveCall(things_id, "things", "make_two"),
            TransferObjects((NestedResult(0, 0), NestedResult(0, 1)), Input(0)),
        ],
    )
    effects = ok(ledger.execute(tx))
    things = created(ledger, effects, "Thing")
    assert len(things) == 2 and all(t.owner == AddressOwner(BOB) for t in things)
    assert sorted(t.id for t in things) == sorted(
        [derive_object_id(effects.transaction_digest, i) for i in (0, 1)]
    )
    # events carry the package, module and sender
    assert [e.type.name for e in effects.events] == ["Made", "Made"]
    assert {e.package_id for e in effects.events} == {things_id} and effects.events[0].sender == ALICE
    assert effects.events[0].transaction_module == "things"
    # a Result of a two-result command is refused
    bad = ledger.transaction(
        ALICE,
        [address(BOB)],
        [MoveCall(things_id, "things", "make_two"), TransferObjects((Result(0),), Input(0))],
    )
    failed = ledger.execute(bad)
    assert failed.status is not None and "InvalidResultArity" in failed.status.message
    # the gas coin does not exist here
    gas = ledger.transaction(ALICE, [address(BOB)], [TransferObjects((GasCoin(),), Input(0))])
    assert "InvalidGasCoinUsage" in str(ledger.execute(gas).status)


def test_wrap_unwrap_delete(ledger: SuiLedger, things_wasm: list[bytes]) -> None:
    things_id, _ = publish(ledger, things_wasm)
    made = ok(
        ledger.execute(
            ledger.transaction(
                ALICE,
                [u64(5), address(ALICE)],
                [
                    MoveCall(things_id, "things", "make", (), (Input(0),)),
                    TransferObjects((Result(0),), Input(1)),
                ],
            )
        )
    )
    (thing,) = created(ledger, made, "Thing")
    wrapped = ok(ledger.call(ALICE, things_id, "things", "wrap", [ledger.owned(thing.id)]))
    assert wrapped.wrapped == (ObjectRef(thing.id, wrapped.lamport_version, WRAPPED_DIGEST),)
    assert ledger.object(thing.id) is None and ledger.store.tombstones[thing.id].wrapped
    (box,) = created(ledger, wrapped, "Box")
    shown = ledger.object_json(box.id)
    assert shown is not None and shown["content"]["fields"]["thing"] == {
        "type": f"{things_id.short_text()}::things::Thing",
        "fields": {"id": {"id": thing.id.to_text()}, "value": "5"},
    }
    unwrapped = ok(ledger.call(ALICE, things_id, "things", "unwrap", [ledger.owned(box.id)]))
    back = ledger.object(thing.id)
    assert back is not None and back.version == unwrapped.lamport_version
    assert unwrapped.unwrapped == ((back.ref, AddressOwner(ALICE)),)
    assert [r.object_id for r in unwrapped.deleted] == [box.id]
    assert back.contents == thing.contents and thing.id not in ledger.store.tombstones
    gone = ok(ledger.call(ALICE, things_id, "things", "destroy", [ledger.owned(thing.id)]))
    assert [r.object_id for r in gone.deleted] == [thing.id] and ledger.object(thing.id) is None


def test_freeze_then_mutate_is_refused(ledger: SuiLedger, things_wasm: list[bytes]) -> None:
    things_id, _ = publish(ledger, things_wasm)
    tx = ledger.transaction(
        ALICE,
        [u64(4)],
        [
            MoveCall(things_id, "things", "make", (), (Input(0),)),
            MoveCall(things_id, "things", "freeze_it", (), (Result(0),)),
        ],
    )
    (thing,) = created(ledger, ok(ledger.execute(tx)), "Thing")
    assert thing.owner == Immutable()
    for who in (ALICE, BOB):  # anyone may read it, no one may change it
        ok(ledger.call(who, things_id, "things", "value", [ledger.owned(thing.id)]))
        mutate = ledger.call(who, things_id, "things", "set", [ledger.owned(thing.id), u64(5)])
        assert mutate.status is not None and mutate.status.error == "CommandArgumentError"
        assert "InvalidObjectByMutRef" in mutate.status.message and mutate.mutated == ()
    assert ledger.object(thing.id) == thing


def test_shared_objects_cannot_be_transferred_frozen_or_wrapped(
    ledger: SuiLedger, things_wasm: list[bytes]
) -> None:
    things_id, _ = publish(ledger, things_wasm)
    tx = ledger.transaction(
        ALICE,
        [u64(9)],
        [
            MoveCall(things_id, "things", "make", (), (Input(0),)),
            MoveCall(things_id, "things", "share", (), (Result(0),)),
        ],
    )
    (shared,) = created(ledger, ok(ledger.execute(tx)), "Thing")
    assert isinstance(shared.owner, Shared)
    for function, args in (("give", [address(BOB)]), ("freeze_it", []), ("wrap", [])):
        effects = ledger.call(ALICE, things_id, "things", function, [ledger.shared(shared.id), *args])
        assert effects.status is not None and effects.status.error == "SharedObjectOperationNotAllowed", (
            function
        )
    # re-sharing it is fine, and destroying it too
    ok(ledger.call(ALICE, things_id, "things", "share", [ledger.shared(shared.id)]))
    assert ledger.object(shared.id).owner == shared.owner  # type: ignore[union-attr]
    ok(ledger.call(ALICE, things_id, "things", "destroy", [ledger.shared(shared.id)]))
    # share_object only on an object created in the same transaction (transfer::ESharedNonNewObject)
    mine = ok(
        ledger.execute(
            ledger.transaction(
                ALICE,
                [u64(1), address(ALICE)],
                [
                    MoveCall(things_id, "things", "make", (), (Input(0),)),
                    TransferObjects((Result(0),), Input(1)),
                ],
            )
        )
    )
    (owned,) = created(ledger, mine, "Thing")
    late = ledger.call(ALICE, things_id, "things", "share", [ledger.owned(owned.id)])
    assert late.status is not None and late.status.error == "MoveAbort" and late.status.code == 0
    assert late.status.location is not None and late.status.location.module == "transfer"


def test_arguments_pure_vectors_and_unused_values(ledger: SuiLedger, things_wasm: list[bytes]) -> None:
    things_id, _ = publish(ledger, things_wasm)
    vec = ledger.transaction(
        ALICE,
        [u64(1), u64(2), u64(39)],
        [
            MakeMoveVec(U64, (Input(0), Input(1), Input(2))),
            MoveCall(things_id, "things", "sum", (), (Result(0),)),
        ],
    )
    ok(ledger.execute(vec))
    # a result without drop left unused
    unused = ledger.execute(
        ledger.transaction(ALICE, [u64(3)], [MoveCall(things_id, "things", "make", (), (Input(0),))])
    )
    assert unused.status is not None and unused.status.error == "UnusedValueWithoutDrop"
    assert unused.created == ()
    # an abort with the module's own code
    big = ledger.execute(
        ledger.transaction(
            ALICE,
            [u64(5000), address(ALICE)],
            [MoveCall(things_id, "things", "make", (), (Input(0),)), TransferObjects((Result(0),), Input(1))],
        )
    )
    assert big.status is not None and big.status.error == "MoveAbort" and big.status.code == 7
    assert big.status.location is not None and big.status.location.function == "make"
    # pure inputs are checked against the parameter's type
    short = ledger.call(ALICE, things_id, "things", "label", [Pure(b"\x05abc")])
    assert short.status is not None and "InvalidBCSBytes" in short.status.message
    utf8 = ledger.call(ALICE, things_id, "things", "label", [Pure(b"\x02\xc3\x28")])
    assert utf8.status is not None and "InvalidBCSBytes" in utf8.status.message
    ok(ledger.call(ALICE, things_id, "things", "label", [Pure("héllo".encode().join([b"\x06", b""]))]))
    wrong_arity = ledger.call(ALICE, things_id, "things", "label", [])
    assert wrong_arity.status is not None and wrong_arity.status.error == "ArityMismatch"
    missing = ledger.call(ALICE, things_id, "things", "nothing_here", [])
    assert missing.status is not None and missing.status.error == "FunctionNotFound"


def test_gas_budget_is_fuel(ledger: SuiLedger, counter_wasm: list[bytes]) -> None:
    package_id, _ = publish(ledger, counter_wasm)
    made = ok(ledger.call(ALICE, package_id, "counter", "create"))
    assert made.gas_used > 0
    starved = ledger.call(ALICE, package_id, "counter", "create", budget=10)
    assert starved.status is not None and starved.status.error == "InsufficientGas"
    assert starved.gas_used == 10


# -- replay, signatures, state ----------------------------------------------------------------


def test_replay_returns_the_recorded_effects(ledger: SuiLedger, counter_wasm: list[bytes]) -> None:
    package_id, _ = publish(ledger, counter_wasm)
    tx = ledger.transaction(ALICE, [], [MoveCall(package_id, "counter", "create")])
    first = ok(ledger.execute(tx))
    before = ledger.state_hash()
    assert ledger.execute(tx) is first and ledger.state_hash() == before


def test_signed_transactions(ledger: SuiLedger, counter_wasm: list[bytes]) -> None:
    key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    sender = SuiAddress.from_ed25519_public_key(key.public_key().public_bytes_raw())
    package_id, _ = publish(ledger, counter_wasm, sender)
    tx = ledger.transaction(sender, [], [MoveCall(package_id, "counter", "create")])
    signed = SignedTransaction.sign(tx, [key])
    effects = ok(ledger.execute_signed(signed))
    assert effects.transaction_digest == tx.digest()
    other = Ed25519PrivateKey.from_private_bytes(bytes(32))
    with pytest.raises(SuiError) as refused:
        ledger.execute_signed(
            SignedTransaction.sign(
                ledger.transaction(sender, [], [MoveCall(package_id, "counter", "create")]), [other]
            )
        )
    assert refused.value.name == "IncorrectSigner"


def test_state_hash_checkpoint_and_determinism(counter_wasm: list[bytes], things_wasm: list[bytes]) -> None:
    def history(ledger: SuiLedger) -> None:
        package_id, _ = publish(ledger, counter_wasm)
        (counter,) = created(ledger, ok(ledger.call(ALICE, package_id, "counter", "create")), "Counter")
        ok(ledger.call(BOB, package_id, "counter", "increment", [ledger.shared(counter.id)]))
        publish(ledger, things_wasm, BOB)

    one, two = SuiLedger.genesis(), SuiLedger.genesis()
    assert one.state_hash() == two.state_hash()
    history(one)
    history(two)
    assert one.state_hash() == two.state_hash()
    restored = SuiLedger.restore(one.checkpoint())
    assert restored.state_hash() == one.state_hash() and restored.checkpoint() == one.checkpoint()
    # the restored ledger executes the next transaction exactly as the original
    counter = next(o for o in one.store if o.type.name == "Counter")
    package_id = ObjectId(counter.type.module.address)
    for target in (one, restored):
        target._nonce = 100
        ok(target.call(ALICE, package_id, "counter", "increment", [target.shared(counter.id)]))
    assert restored.state_hash() == one.state_hash()
    assert restored.object(counter.id) == one.object(counter.id)


def test_one_object_twice_in_a_call_is_refused(ledger: SuiLedger, things_wasm: list[bytes]) -> None:
    things_id, _ = publish(ledger, things_wasm)
    tx = ledger.transaction(
        ALICE,
        [u64(4), address(ALICE)],
        [MoveCall(things_id, "things", "make", (), (Input(0),)), TransferObjects((Result(0),), Input(1))],
    )
    (thing,) = created(ledger, ok(ledger.execute(tx)), "Thing")
    twice = ledger.transaction(
        ALICE, [ledger.owned(thing.id)], [MoveCall(things_id, "things", "give", (), (Input(0), Input(0)))]
    )
    refused = ledger.execute(twice)
    assert refused.status is not None and "InvalidValueUsage" in refused.status.message
    # a pure input is a copy every time it is used
    pure_twice = ledger.transaction(
        ALICE,
        [u64(6)],
        [MakeMoveVec(U64, (Input(0), Input(0))), MoveCall(things_id, "things", "sum", (), (Result(0),))],
    )
    ok(ledger.execute(pure_twice))


# -- Sui's JSON shapes ------------------------------------------------------------------------


def test_json_shapes_of_objects_changes_and_events(
    ledger: SuiLedger, counter_wasm: list[bytes], things_wasm: list[bytes]
) -> None:
    package_id, published = publish(ledger, counter_wasm)
    response = ledger.transaction_json(published, ALICE)
    assert response["digest"] == published.transaction_digest.to_text()
    assert response["effects"]["status"] == {"status": "success"}
    kinds = {c["type"]: c for c in response["objectChanges"]}
    assert kinds["published"]["packageId"] == package_id.to_text() and kinds["published"]["modules"] == [
        "counter"
    ]
    assert kinds["published"]["version"] == "1"
    assert kinds["created"]["objectType"] == "0x2::package::UpgradeCap"
    assert (
        kinds["created"]["owner"] == {"AddressOwner": ALICE.to_text()} and kinds["created"]["version"] == "2"
    )
    made = ok(ledger.call(ALICE, package_id, "counter", "create"))
    (counter,) = created(ledger, made, "Counter")
    bumped = ok(ledger.call(BOB, package_id, "counter", "increment", [ledger.shared(counter.id)]))
    (change,) = ledger.transaction_json(bumped, BOB)["objectChanges"]
    assert change["type"] == "mutated" and change["previousVersion"] == str(counter.version)
    assert change["owner"] == {"Shared": {"initial_shared_version": counter.version}}
    # Move prints addresses without leading zeros
    assert change["objectType"] == f"{package_id.short_text()}::counter::Counter"
    shown = ledger.object_json(counter.id)
    assert shown is not None
    assert shown["version"] == str(counter.version + 1) and shown["type"] == change["objectType"]
    assert shown["content"]["fields"] == {
        "id": {"id": counter.id.to_text()},
        "owner": ALICE.to_text(),
        "value": "1",
    }
    assert shown["content"]["hasPublicTransfer"] is False and shown["storageRebate"] == "0"
    package_shown = ledger.object_json(package_id)
    assert package_shown is not None and package_shown["content"]["dataType"] == "package"
    failed = ledger.transaction_json(
        ledger.call(BOB, package_id, "counter", "set_value", [ledger.shared(counter.id), u64(9)]), BOB
    )
    assert failed["effects"]["status"]["status"] == "failure"
    assert failed["effects"]["status"]["error"].startswith("MoveAbort in command 0")
    # events: parsedJson with Sui's conventions (ID as a hex string, u64 as a decimal string)
    things_id, _ = publish(ledger, things_wasm)
    tx = ledger.transaction(
        ALICE,
        [u64(5), address(ALICE)],
        [MoveCall(things_id, "things", "make", (), (Input(0),)), TransferObjects((Result(0),), Input(1))],
    )
    effects = ok(ledger.execute(tx))
    (thing,) = created(ledger, effects, "Thing")
    (event,) = ledger.transaction_json(effects, ALICE)["events"]
    assert event["type"] == f"{things_id.short_text()}::things::Made"
    assert event["parsedJson"] == {"id": thing.id.to_text(), "value": "5"}
    assert event["packageId"] == things_id.to_text() and event["transactionModule"] == "things"
    assert event["sender"] == ALICE.to_text() and event["id"]["eventSeq"] == "0"
    gone = ok(ledger.call(ALICE, things_id, "things", "destroy", [ledger.owned(thing.id)]))
    (deleted,) = ledger.transaction_json(gone, ALICE)["objectChanges"]
    assert deleted == {
        "type": "deleted",
        "sender": ALICE.to_text(),
        "objectType": f"{things_id.short_text()}::things::Thing",
        "objectId": thing.id.to_text(),
        "version": str(gone.lamport_version),
    }


def test_input_refusals_name_sui_errors(ledger: SuiLedger, counter_wasm: list[bytes]) -> None:
    from vocab.sui.transaction import CallArg, EpochExpiration, SharedObject, TransactionData

    package_id, published = publish(ledger, counter_wasm)
    (cap,) = created(ledger, published, "UpgradeCap")
    (counter,) = created(ledger, ok(ledger.call(ALICE, package_id, "counter", "create")), "Counter")
    isv = counter.version
    increment = MoveCall(package_id, "counter", "increment", (), (Input(0),))
    cases: list[tuple[list[CallArg], str]] = [
        ([SharedObject(ObjectId(b"\x42" * 32), 1, True)], "ObjectNotFound"),
        ([SharedObject(cap.id, 2, True)], "NotSharedObjectError"),
        ([SharedObject(counter.id, isv + 1, True)], "SharedObjectStartingVersionMismatch"),
        ([ImmOrOwnedObject(ledger.object(counter.id).ref)], "NotOwnedObjectError"),  # type: ignore[union-attr]
        ([ImmOrOwnedObject(ledger.package(package_id).ref)], "MovePackageAsObject"),  # type: ignore[union-attr]
        ([ImmOrOwnedObject(cap.ref), ImmOrOwnedObject(cap.ref)], "DuplicateObjectRefInput"),
        ([ImmOrOwnedObject(ObjectRef(ObjectId(b"\x43" * 32), 1, cap.digest))], "ObjectNotFound"),
    ]
    before = ledger.state_hash()
    for inputs, name in cases:
        with pytest.raises(SuiError) as refused:
            ledger.execute(ledger.transaction(ALICE, inputs, [increment]))
        assert refused.value.name == name, (inputs, refused.value)
    with pytest.raises(SuiError) as not_package:
        ledger.call(ALICE, counter.id, "counter", "increment", [ledger.shared(counter.id)])
    assert not_package.value.name == "MoveObjectAsPackage"
    with pytest.raises(SuiError) as empty:
        ledger.execute(ledger.transaction(ALICE, [], []))
    assert empty.value.name == "EmptyCommandInput"
    expiring = ledger.transaction(ALICE, [ledger.shared(counter.id)], [increment])
    expiring = TransactionData(expiring.kind, expiring.sender, expiring.gas_data, EpochExpiration(3))
    with pytest.raises(SuiError) as expired:
        ledger.executor.execute(expiring, epoch=4)
    assert expired.value.name == "TransactionExpired"
    assert ledger.state_hash() == before  # refusals change nothing, not even the record
    ok(ledger.executor.execute(expiring, epoch=3))


def test_generic_framework_call_with_type_arguments(ledger: SuiLedger, things_wasm: list[bytes]) -> None:
    from vocab.sui.type_tag import StructTag

    things_id, _ = publish(ledger, things_wasm)
    thing_tag = StructTag(things_id.to_address(), "things", "Thing")
    tx = ledger.transaction(
        ALICE,
        [u64(8), address(BOB)],
        [
            MoveCall(things_id, "things", "make", (), (Input(0),)),
            MoveCall(SUI, "transfer", "public_transfer", (thing_tag,), (Result(0), Input(1))),
        ],
    )
    (thing,) = created(ledger, ok(ledger.execute(tx)), "Thing")
    assert thing.owner == AddressOwner(BOB)
    # a wrong type argument is a type mismatch with the value passed
    pinned = StructTag(things_id.to_address(), "things", "Box")
    bad = ledger.transaction(
        BOB,
        [ledger.owned(thing.id), address(ALICE)],
        [MoveCall(SUI, "transfer", "public_transfer", (pinned,), (Input(0), Input(1)))],
    )
    failed = ledger.execute(bad)
    assert failed.status is not None and failed.status.error == "TypeArgumentError"  # Box lacks store
    assert ledger.object(thing.id).owner == AddressOwner(BOB)  # type: ignore[union-attr]


def test_random_transactions_never_crash_the_executor(things_wasm: list[bytes]) -> None:
    """Seeded random programmable transactions, half of them well formed: each either
    executes (success or a failure status, recorded) or is refused with a SuiError; nothing
    else escapes, and two ledgers fed the same transactions end in the same state."""
    import random

    from vocab.sui.transaction import Argument, CallArg, Command

    rng = random.Random(11)
    ledgers = [SuiLedger.genesis(), SuiLedger.genesis()]
    things_id = [publish(one, things_wasm)[0] for one in ledgers][0]
    functions = [
        "make",
        "make_two",
        "value",
        "set",
        "sum",
        "label",
        "wrap",
        "unwrap",
        "destroy",
        "share",
        "give",
    ]
    outcomes = {"ok": 0, "failed": 0, "refused": 0}

    def argument(count: int, gas: bool) -> Argument:
        pick = rng.randrange(4)
        if pick == 0 and gas:
            return GasCoin()
        if pick == 1:
            return Result(rng.randrange(3))
        if pick == 2:
            return NestedResult(rng.randrange(3), rng.randrange(2))
        return Input(rng.randrange(count + 1))

    def call(function: str, *args: Argument) -> MoveCall:
        return MoveCall(things_id, "things", function, (), args)

    for round_ in range(80):
        objects = ledgers[0].owned_by(ALICE)
        inputs: list[CallArg] = [u64(rng.randrange(1200)), address(rng.choice([ALICE, BOB])), Pure(b"\x01")]
        for obj in rng.sample(objects, min(len(objects), 2)):
            inputs.append(ImmOrOwnedObject(obj.ref))
        commands: list[Command] = []
        if round_ % 2 == 0:  # well formed
            owned = len(inputs) > 3
            template = rng.randrange(5 if owned else 1)
            templates: list[list[Command]] = [
                [call("make", Input(0)), TransferObjects((Result(0),), Input(1))],
                [call("set", Input(3), Input(0))],
                [call("give", Input(3), Input(1))],
                [call(rng.choice(["wrap", "unwrap", "destroy", "share"]), Input(3))],
                [call("make_two"), TransferObjects((NestedResult(0, 1), NestedResult(0, 0)), Input(1))],
            ]
            commands = templates[template]
        else:
            for _ in range(rng.randrange(1, 4)):
                kind = rng.randrange(5)
                if kind < 3:
                    args = tuple(argument(len(inputs), round_ % 7 == 1) for _ in range(rng.randrange(3)))
                    commands.append(call(rng.choice(functions), *args))
                elif kind == 3:
                    objs = tuple(argument(len(inputs), False) for _ in range(rng.randrange(1, 3)))
                    commands.append(TransferObjects(objs, argument(len(inputs), False)))
                else:
                    elements = tuple(argument(len(inputs), False) for _ in range(rng.randrange(3)))
                    commands.append(MakeMoveVec(rng.choice([U64, None]), elements))
        results: list[object] = []
        for one in ledgers:
            tx = one.transaction(ALICE, inputs, commands)
            try:
                results.append(one.execute(tx))
            except SuiError as refused:
                results.append(refused.name)
        assert results[0] == results[1]
        first = results[0]
        if isinstance(first, TransactionEffects):
            outcomes["ok" if first.status is None else "failed"] += 1
        else:
            outcomes["refused"] += 1
    assert ledgers[0].state_hash() == ledgers[1].state_hash()
    assert outcomes["ok"] > 10 and outcomes["failed"] > 10, outcomes


def test_init_receives_the_one_time_witness_once(ledger: SuiLedger, things_wasm: list[bytes]) -> None:
    things_id, effects = publish(ledger, things_wasm)
    (proof,) = created(ledger, effects, "Proof")
    (cap,) = created(ledger, effects, "UpgradeCap")
    digest = effects.transaction_digest
    assert (proof.id, cap.id) == (derive_object_id(digest, 1), derive_object_id(digest, 2))
    assert proof.contents == proof.id.raw + b"\x01"  # types::is_one_time_witness(&otw) was true
    assert proof.owner == AddressOwner(ALICE)
    # init is private: no transaction may call it again
    again = ledger.call(ALICE, things_id, "witness", "init", [Pure(b"\x00")])
    assert again.status is not None and again.status.error == "NonEntryFunctionInvoked"
