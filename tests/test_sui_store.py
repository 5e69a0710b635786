"""The Sui object store, effects and module relocation, piece by piece.

The object layout is checked byte by byte against Sui's struct definitions
(``ObjectInner { data: Data::Move(MoveObject { type_: MoveObjectType::Other(StructTag),
has_public_transfer, version, contents }), owner, previous_transaction, storage_rebate }``),
assembled here by hand; the differential test checks the same bytes with the SDK.
"""

from __future__ import annotations

import dataclasses
import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from move.types import ModuleId, StructType, address_of
from node.sui.effects import Event, ExecutionFailure, MoveLocation, TransactionEffects
from node.sui.ledger import SuiLedger, framework_modules
from node.sui.relocate import RelocationError, module_identity, relocate
from node.sui.store import ObjectStore, StoreError, SuiObject, Tombstone
from vocab.sui.address import ObjectId, SuiAddress
from vocab.sui.digests import Digest
from vocab.sui.objects import AddressOwner, ObjectRef, Shared
from vocab.sui.type_tag import StructTag
from vocab.wasm import parse_module

OWNER = SuiAddress(b"\xaa" * 32)
ID = ObjectId(b"\x11" * 32)
PREVIOUS = Digest(b"\x22" * 32)
CAP = StructType(ModuleId(address_of(2), "package"), "UpgradeCap")


def cap_object(version: int = 5, owner: object = None) -> SuiObject:
    contents = ID.raw + b"\x33" * 32 + (1).to_bytes(8, "little") + b"\x00"
    return SuiObject(ID, version, owner or AddressOwner(OWNER), CAP, True, contents, PREVIOUS)  # type: ignore[arg-type]


def test_object_bytes_follow_sui_layout() -> None:
    obj = cap_object()
    contents = obj.contents
    expected = (
        b"\x00"  # Data::Move
        + b"\x00"  # MoveObjectType::Other
        + address_of(2)
        + b"\x07package"
        + b"\x0aUpgradeCap"
        + b"\x00"  # no type parameters
        + b"\x01"  # has_public_transfer
        + (5).to_bytes(8, "little")
        + bytes([len(contents)])
        + contents
        + b"\x00"  # Owner::AddressOwner
        + OWNER.raw
        + b"\x20"  # the digest is a byte vector
        + PREVIOUS.raw
        + bytes(8)  # storage_rebate
    )
    assert obj.to_bcs() == expected
    salted = hashlib.blake2b(b"Object::" + expected, digest_size=32).digest()
    assert obj.digest == Digest(salted) and obj.ref == ObjectRef(ID, 5, Digest(salted))
    # the version and the owner are part of the digest
    assert cap_object(6).digest != obj.digest
    assert cap_object(owner=Shared(5)).digest != obj.digest


def effects(digest: bytes = b"\x44" * 32, events: tuple[Event, ...] = ()) -> TransactionEffects:
    obj = cap_object()
    return TransactionEffects(
        transaction_digest=Digest(digest),
        status=None,
        executed_epoch=0,
        gas_used=10,
        lamport_version=5,
        modified_at_versions=((ID, 4),),
        shared_objects=(),
        created=(),
        mutated=((obj.ref, obj.owner),),
        unwrapped=(),
        deleted=(),
        unwrapped_then_deleted=(),
        wrapped=(),
        events=events,
        dependencies=(PREVIOUS,),
    )


def test_effects_record_and_digest() -> None:
    event = Event(ObjectId(b"\x55" * 32), "counter", OWNER, StructTag(OWNER, "counter", "Bumped"), b"\x01")
    plain, with_event = effects(), effects(events=(event,))
    assert plain.events_digest() is None and with_event.events_digest() is not None
    assert plain.digest() != with_event.digest()  # the events count through their digest
    assert TransactionEffects.from_record(with_event.to_record()) == with_event
    failed = ExecutionFailure(
        "MoveAbort", "aborted", 0, MoveLocation(ObjectId(b"\x55" * 32), "counter", "f"), 7
    )
    record = dataclasses.replace(with_event, status=failed).to_record()
    assert TransactionEffects.from_record(record).status == failed


def test_commit_checkpoint_and_refusals() -> None:
    store = ObjectStore()
    first = effects()
    store.commit(first, [cap_object()])
    other = ObjectId(b"\x66" * 32)
    store.commit(effects(b"\x45" * 32), removed=[Tombstone(other, 5, wrapped=True)])
    with pytest.raises(StoreError, match="already executed"):
        store.commit(first, [cap_object(7)])
    assert store.get(ID) == cap_object()
    body = store.encode()
    again = ObjectStore.decode(body)
    assert again.state_hash() == store.state_hash() and again.tombstones[other].wrapped
    with pytest.raises(StoreError, match="does not decode"):
        ObjectStore.decode(body[:-1])
    with pytest.raises(StoreError):
        ObjectStore.decode(body + b"\x00")
    assert [o.id for o in store.owned_by(OWNER.raw)] == [ID]
    framed = store.checkpoint()
    assert ObjectStore.restore(framed).encode() == body
    for broken, words in (
        (b"x" + framed[1:], "magic"),
        (framed[:16] + b"\x00\x09" + framed[18:], "version 9"),
        (framed[:-1] + bytes([framed[-1] ^ 1]), "digest"),
    ):
        with pytest.raises(StoreError, match=words):
            ObjectStore.restore(broken)


def test_state_hash_does_not_depend_on_insertion_order() -> None:
    a, b = ObjectStore(), ObjectStore()
    one = cap_object()
    two = SuiObject(
        ObjectId(b"\x01" * 32), 3, AddressOwner(OWNER), CAP, True, b"\x01" * 32 + bytes(41), PREVIOUS
    )
    a.objects = {one.id: one, two.id: two}
    b.objects = {two.id: two, one.id: one}
    assert a.state_hash() == b.state_hash() and a.encode() == b.encode()
    b.objects[one.id] = cap_object(6)
    assert a.state_hash() != b.state_hash()


def test_relocation_moves_only_the_self_address() -> None:
    ledger = SuiLedger.genesis()
    _, sui = framework_modules()
    sui_modules = dict(sui)
    transfer = sui_modules["transfer"]
    assert module_identity(transfer) == (address_of(2), "transfer")
    moved = relocate(transfer, address_of(2), b"\x77" * 32)
    assert module_identity(moved) == (b"\x77" * 32, "transfer")
    before, after = parse_module(transfer), parse_module(moved)
    assert before.functions == after.functions and before.types == after.types
    renamed = {i.module for i in after.imports} - {i.module for i in before.imports}
    assert renamed and all(m.startswith("0x" + "77" * 32 + "::") for m in renamed)
    assert "0x" + "77" * 32 not in {i.module.split("::")[0] for i in before.imports}
    with pytest.raises(RelocationError, match="not at"):
        relocate(transfer, bytes(32), b"\x77" * 32)
    with pytest.raises(RelocationError):
        module_identity(b"\x00asm\x01\x00\x00\x00")
    assert ledger.package(ObjectId(address_of(2))) is not None


def _hash_by_definition(store: ObjectStore) -> bytes:
    """The state hash as its docstring defines it, sorting every table anew: what the
    store's kept records must always equal."""
    digest = hashlib.blake2b(b"SuiState::", digest_size=32)
    for name in ("objects", "packages", "tombstones", "executed"):
        table = getattr(store, name)
        digest.update(name.encode() + len(table).to_bytes(8, "big"))
        for key in sorted(table, key=lambda k: k.raw):
            entry = table[key]
            if name == "tombstones":
                digest.update(key.raw + entry.version.to_bytes(8, "big") + bytes([entry.wrapped]))
            else:
                raw = entry.to_record() if name == "executed" else entry.to_bcs()
                digest.update(key.raw + hashlib.blake2b(raw, digest_size=32).digest())
    digest.update(b"epochs" + store.epoch.to_bytes(8, "big") + len(store.epoch_starts_ms).to_bytes(8, "big"))
    for start in store.epoch_starts_ms:
        digest.update(start.to_bytes(8, "big"))
    digest.update(b"deferred" + len(store.deferred).to_bytes(8, "big"))
    return digest.digest()


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["commit", "set", "delete", "pop", "bury", "hash"]), st.integers(0, 5)),
        max_size=30,
    )
)
def test_kept_records_always_equal_the_definition(steps: list[tuple[str, int]]) -> None:
    """Whatever writes a table (``commit``, or a direct assignment, deletion or pop) and
    whenever the hash is asked for, it equals the hash computed from scratch."""
    store = ObjectStore()
    for serial, (step, which) in enumerate(steps):
        oid = ObjectId(bytes([which]) * 32)
        obj = SuiObject(oid, serial + 1, AddressOwner(OWNER), CAP, True, oid.raw + bytes(41), PREVIOUS)
        if step == "commit":
            store.commit(effects(serial.to_bytes(32, "big")), [obj])
        elif step == "set":
            store.objects[oid] = obj
        elif step == "delete" and oid in store.objects:
            del store.objects[oid]
        elif step == "pop":
            store.objects.pop(oid, None)
        elif step == "bury":
            store.commit(
                effects((1000 + serial).to_bytes(32, "big")), removed=[Tombstone(oid, serial + 1, True)]
            )
        if step == "hash":
            assert store.state_hash() == _hash_by_definition(store)
    assert store.state_hash() == _hash_by_definition(store)
    copy = store.copy()
    assert copy.state_hash() == store.state_hash()
    copy.objects[ObjectId(b"\x09" * 32)] = cap_object()
    assert copy.state_hash() != store.state_hash() == _hash_by_definition(store)
