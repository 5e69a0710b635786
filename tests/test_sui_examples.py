"""The shipped Sui examples (``examples/sui/``) build with ``subnet move build`` and behave,
in process through ``SuiLedger``, as their READMEs say.

Known answers from outside the code under test: object ids recomputed here with hashlib
from Sui's rule (``Blake2b-256(0xF1 · tx digest · n as u64 LE)``, reference/sui.md section
3, in creation order: the package, then what ``init`` makes, then the ``UpgradeCap``); BCS
written out by hand (``u64`` little-endian, a ``String`` as its ULEB128 length and UTF-8
bytes); the abort codes of the examples' own constants; Sui's error names
(``IncorrectUserSignature``, ``CommandArgumentError`` / ``InvalidObjectByMutRef`` and
``InvalidObjectByValue``, ``MoveAbort``) and Sui's JSON shapes (``u64`` as a decimal string,
``ID`` as ``0x`` and 64 hex digits, an event's ``bcs`` in base64).
"""

from __future__ import annotations

import base64
import hashlib
import shutil
from pathlib import Path

import pytest

from move.build import build_package
from node.sui.effects import DELETED_DIGEST, TransactionEffects
from node.sui.ledger import SuiLedger
from node.sui.store import SuiObject
from subnet.cli import main
from vocab.errors import SuiError
from vocab.sui.address import ObjectId, SuiAddress
from vocab.sui.ids import derive_object_id
from vocab.sui.objects import AddressOwner, Immutable, ObjectRef, Shared
from vocab.sui.transaction import ImmOrOwnedObject, Input, Pure, TransferObjects

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "sui"
ALICE = SuiAddress(bytes(31) + b"\xa1")
BOB = SuiAddress(bytes(31) + b"\xb0")

# the counter's abort codes, as its constants say
E_NOT_OWNER, E_WRONG_VERSION, E_NOT_UPGRADE = 0, 1, 2


def rule_id(effects: TransactionEffects, index: int) -> ObjectId:
    """Sui's derivation, written out with hashlib (not the project's function)."""
    data = b"\xf1" + effects.transaction_digest.raw + index.to_bytes(8, "little")
    return ObjectId(hashlib.blake2b(data, digest_size=32).digest())


def u64(value: int) -> Pure:
    return Pure(value.to_bytes(8, "little"))


def string(text: str) -> Pure:
    raw = text.encode("utf-8")
    assert len(raw) < 128  # one ULEB128 byte
    return Pure(bytes([len(raw)]) + raw)


def ok(effects: TransactionEffects) -> TransactionEffects:
    assert effects.status is None, effects.status
    return effects


def aborted(effects: TransactionEffects, module: str, function: str, code: int) -> None:
    status = effects.status
    assert status is not None and status.error == "MoveAbort", status
    assert status.location is not None and status.code == code, status
    assert (status.location.module, status.location.function) == (module, function)
    assert f"::{module}::{function} aborted with code {code}" in status.message


def one_created(ledger: SuiLedger, effects: TransactionEffects, type_name: str) -> SuiObject:
    (found,) = [
        obj
        for ref, _ in effects.created
        if (obj := ledger.object(ref.object_id)) is not None and obj.type.name == type_name
    ]
    return found


@pytest.fixture
def ledger() -> SuiLedger:
    return SuiLedger.genesis()


@pytest.fixture(scope="module")
def counter_wasm() -> list[bytes]:
    return build_package(EXAMPLES / "counter").module_bytes


@pytest.fixture(scope="module")
def owned_wasm() -> list[bytes]:
    return build_package(EXAMPLES / "owned").module_bytes


# -- both build ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("folder", "package", "module"), [("counter", "counter", "counter"), ("owned", "owned", "note")]
)
def test_examples_build_cleanly(
    folder: str,
    package: str,
    module: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = tmp_path / folder
    shutil.copytree(EXAMPLES / folder, root, ignore=shutil.ignore_patterns("build"))
    assert main(["move", "build", str(root)]) == 0
    out, err = capsys.readouterr()
    assert err == ""  # no errors and no warnings
    assert f"BUILDING {package}" in out
    built = root / "build" / package / "bytecode_modules" / f"{module}.wasm"
    assert built.read_bytes() == dict(build_package(EXAMPLES / folder).modules)[module]


# -- the counter ---------------------------------------------------------------------------------


class Counter:
    """The counter package published by ALICE, and one counter she created."""

    def __init__(self, ledger: SuiLedger, wasm: list[bytes]) -> None:
        self.ledger = ledger
        self.published = ok(ledger.publish(ALICE, wasm))
        self.package = rule_id(self.published, 0)
        self.admin = rule_id(self.published, 1)
        made = ok(ledger.call(ALICE, self.package, "counter", "create"))
        self.made = made
        self.id = rule_id(made, 0)

    def call(self, who: SuiAddress, function: str, *args: Pure) -> TransactionEffects:
        return self.ledger.call(who, self.package, "counter", function, [self.ledger.shared(self.id), *args])

    def admin_call(self, who: SuiAddress, function: str) -> TransactionEffects:
        counter = self.ledger.shared(self.id)
        return self.ledger.call(
            who, self.package, "counter", function, [self.ledger.owned(self.admin), counter]
        )

    def fields(self) -> dict[str, object]:
        shown = self.ledger.object_json(self.id)
        assert shown is not None
        fields: dict[str, object] = shown["content"]["fields"]
        return fields


def test_counter_publish_gives_the_admin_cap_to_the_publisher(
    ledger: SuiLedger, counter_wasm: list[bytes]
) -> None:
    c = Counter(ledger, counter_wasm)
    assert ledger.package(c.package) is not None
    assert rule_id(c.published, 0) == derive_object_id(c.published.transaction_digest, 0)
    changes = ledger.transaction_json(c.published, ALICE)["objectChanges"]
    package = c.package.to_text()
    by_type = {change.get("objectType", change["type"]): change for change in changes}
    assert by_type["published"]["packageId"] == package and by_type["published"]["modules"] == ["counter"]
    admin = by_type[f"{c.package.short_text()}::counter::AdminCap"]
    assert admin["type"] == "created" and admin["objectId"] == c.admin.to_text()
    assert admin["owner"] == {"AddressOwner": ALICE.to_text()} and admin["version"] == "2"
    upgrade = by_type["0x2::package::UpgradeCap"]
    assert upgrade["objectId"] == rule_id(c.published, 2).to_text()
    assert [o.id for o in ledger.owned_by(ALICE)] == sorted(
        [c.admin, rule_id(c.published, 2)], key=lambda i: i.raw
    )
    # create shares the counter at the creating transaction's version, at VERSION 1
    counter = ledger.object(c.id)
    assert counter is not None and counter.owner == Shared(c.made.lamport_version)
    assert counter.contents == c.id.raw + ALICE.raw + (0).to_bytes(8, "little") + (1).to_bytes(8, "little")
    assert c.fields() == {
        "id": {"id": c.id.to_text()},
        "owner": ALICE.to_text(),
        "value": "0",
        "version": "1",
    }


def test_counter_increments_and_emits_events(ledger: SuiLedger, counter_wasm: list[bytes]) -> None:
    c = Counter(ledger, counter_wasm)
    for expected, who in enumerate((ALICE, BOB, BOB), start=1):
        effects = ok(c.call(who, "increment"))
        (event,) = ledger.transaction_json(effects, who)["events"]
        assert event["type"] == f"{c.package.short_text()}::counter::Incremented"
        assert event["parsedJson"] == {"counter_id": c.id.to_text(), "value": str(expected)}
        assert event["sender"] == who.to_text() and event["transactionModule"] == "counter"
        assert event["id"] == {"txDigest": effects.transaction_digest.to_text(), "eventSeq": "0"}
        assert base64.b64decode(event["bcs"]) == c.id.raw + expected.to_bytes(8, "little")
    assert c.fields()["value"] == "3"
    shown = ledger.object_json(c.id)
    assert shown is not None and shown["version"] == str(c.made.lamport_version + 3)


def test_counter_set_value_is_for_the_owner(ledger: SuiLedger, counter_wasm: list[bytes]) -> None:
    c = Counter(ledger, counter_wasm)
    ok(c.call(BOB, "increment"))
    failed = c.call(BOB, "set_value", u64(100))
    aborted(failed, "counter", "set_value", E_NOT_OWNER)
    assert failed.events == () and c.fields()["value"] == "1"
    # recorded: as in Sui, the shared input still moves to the transaction's version
    shown = ledger.object_json(c.id)
    assert shown is not None and shown["version"] == str(failed.lamport_version)
    response = ledger.transaction_json(failed, BOB)
    assert response["effects"]["status"]["status"] == "failure"
    ok(c.call(ALICE, "set_value", u64(100)))
    assert c.fields()["value"] == "100"


def test_counter_reset_needs_the_admin_cap(ledger: SuiLedger, counter_wasm: list[bytes]) -> None:
    c = Counter(ledger, counter_wasm)
    ok(c.call(BOB, "increment"))
    # Bob cannot pass Alice's AdminCap: only the owner passes an owned object
    with pytest.raises(SuiError) as refused:
        c.admin_call(BOB, "reset")
    assert refused.value.name == "IncorrectUserSignature"
    # nor reset without one: the function wants it
    arity = ledger.call(BOB, c.package, "counter", "reset", [ledger.shared(c.id)])
    assert arity.status is not None and arity.status.error == "ArityMismatch"
    assert c.fields()["value"] == "1"
    reset = ok(c.admin_call(ALICE, "reset"))
    assert c.fields()["value"] == "0"
    # the AdminCap went in by `&`, yet as an owned input it moves to the transaction's version
    assert sorted(ref.object_id.raw for ref, _ in reset.mutated) == sorted([c.admin.raw, c.id.raw])
    assert ledger.object(c.admin).version == reset.lamport_version  # type: ignore[union-attr]


def test_counter_caps_and_transfer_objects(ledger: SuiLedger, counter_wasm: list[bytes]) -> None:
    """``sui client transfer`` (``TransferObjects``) moves only ``key + store`` objects: the
    ``UpgradeCap``, not the ``AdminCap``."""
    c = Counter(ledger, counter_wasm)
    upgrade_cap = rule_id(c.published, 2)
    for cap, error in ((c.admin, "InvalidTransferObject"), (upgrade_cap, None)):
        tx = ledger.transaction(
            ALICE, [ledger.owned(cap), Pure(BOB.raw)], [TransferObjects((Input(0),), Input(1))]
        )
        effects = ledger.execute(tx)
        assert (effects.status.error if effects.status else None) == error
    assert ledger.object(c.admin).owner == AddressOwner(ALICE)  # type: ignore[union-attr]
    assert ledger.object(upgrade_cap).owner == AddressOwner(BOB)  # type: ignore[union-attr]


def test_counter_migrate_needs_a_newer_version(ledger: SuiLedger, counter_wasm: list[bytes]) -> None:
    """Published once, the package is at VERSION and so are its counters: nothing to migrate.
    (Moving a counter forward needs an upgrade that raises VERSION.)"""
    c = Counter(ledger, counter_wasm)
    aborted(c.admin_call(ALICE, "migrate"), "counter", "migrate", E_NOT_UPGRADE)
    assert c.fields()["version"] == "1"


# -- owned objects ------------------------------------------------------------------------------


def test_owned_note_create_transfer_update_freeze_delete(ledger: SuiLedger, owned_wasm: list[bytes]) -> None:
    published = ok(ledger.publish(ALICE, owned_wasm))
    package = rule_id(published, 0)
    assert ledger.package(package) is not None
    # no init: the second id is the UpgradeCap's
    assert ledger.object(rule_id(published, 1)).type.name == "UpgradeCap"  # type: ignore[union-attr]

    def call(who: SuiAddress, function: str, *args: Pure | ImmOrOwnedObject) -> TransactionEffects:
        return ledger.call(who, package, "note", function, list(args))

    made = ok(call(ALICE, "create", string("hello")))
    note = rule_id(made, 0)
    obj = ledger.object(note)
    assert obj is not None and obj.owner == AddressOwner(ALICE) and obj.has_public_transfer
    assert obj.contents == note.raw + b"\x05hello" + (0).to_bytes(8, "little")
    shown = ledger.object_json(note)
    assert shown is not None and shown["type"] == f"{package.short_text()}::note::Note"
    assert shown["content"]["fields"] == {"id": {"id": note.to_text()}, "text": "hello", "edits": "0"}

    # Alice gives it to Bob; then only Bob may use it
    sent = ok(call(ALICE, "transfer", ledger.owned(note), Pure(BOB.raw)))
    assert ledger.object(note).owner == AddressOwner(BOB)  # type: ignore[union-attr]
    assert sent.lamport_version == made.lamport_version + 1
    assert [o.id for o in ledger.owned_by(BOB)] == [note]
    with pytest.raises(SuiError) as not_hers:
        call(ALICE, "update", ledger.owned(note), string("mine"))
    assert not_hers.value.name == "IncorrectUserSignature"
    ok(call(BOB, "update", ledger.owned(note), string("bob's now")))
    assert ledger.object_json(note)["content"]["fields"]["text"] == "bob's now"  # type: ignore[index]
    assert ledger.object_json(note)["content"]["fields"]["edits"] == "1"  # type: ignore[index]

    # frozen: anyone reads it, no one changes or deletes it
    ok(call(BOB, "freeze", ledger.owned(note)))
    frozen = ledger.object(note)
    assert frozen is not None and frozen.owner == Immutable()
    ok(call(ALICE, "text", ledger.owned(note)))
    for who in (ALICE, BOB):
        refused = call(who, "update", ledger.owned(note), string("again"))
        assert refused.status is not None and refused.status.error == "CommandArgumentError"
        assert "InvalidObjectByMutRef" in refused.status.message and refused.mutated == ()
    gone = call(BOB, "delete", ledger.owned(note))
    assert gone.status is not None and "InvalidObjectByValue" in gone.status.message
    assert ledger.object(note) == frozen

    # another note, deleted: a tombstone at the deleting transaction's version
    other = rule_id(ok(call(ALICE, "create", string("bye"))), 0)
    deleted = ok(call(ALICE, "delete", ledger.owned(other)))
    assert deleted.deleted == (ObjectRef(other, deleted.lamport_version, DELETED_DIGEST),)
    assert ledger.object(other) is None and ledger.store.tombstones[other].version == deleted.lamport_version
    (change,) = ledger.transaction_json(deleted, ALICE)["objectChanges"]
    assert change["type"] == "deleted" and change["objectId"] == other.to_text()


def test_owned_note_moves_with_transfer_objects(ledger: SuiLedger, owned_wasm: list[bytes]) -> None:
    """``sui client transfer --object-id ID --to ADDRESS`` is a ``TransferObjects``; a Note has
    ``store``, so it may be moved that way without the module."""
    package = rule_id(ok(ledger.publish(ALICE, owned_wasm)), 0)
    note = rule_id(ok(ledger.call(ALICE, package, "note", "create", [string("gift")])), 0)
    tx = ledger.transaction(
        ALICE, [ledger.owned(note), Pure(BOB.raw)], [TransferObjects((Input(0),), Input(1))]
    )
    moved = ok(ledger.execute(tx))
    (change,) = ledger.transaction_json(moved, ALICE)["objectChanges"]
    assert change["type"] == "mutated" and change["owner"] == {"AddressOwner": BOB.to_text()}
    assert ledger.object(note).owner == AddressOwner(BOB)  # type: ignore[union-attr]


def counter_v2(tmp_path: Path) -> list[bytes]:
    """The example as its next version would be: the same source with ``VERSION`` raised."""
    root = tmp_path / "counter-v2"
    shutil.copytree(EXAMPLES / "counter", root, ignore=shutil.ignore_patterns("build"))
    source = root / "sources" / "counter.move"
    text = source.read_text()
    assert "const VERSION: u64 = 1;" in text
    source.write_text(text.replace("const VERSION: u64 = 1;", "const VERSION: u64 = 2;"))
    return build_package(root).module_bytes


def test_counter_migrate_after_an_upgrade(
    ledger: SuiLedger, counter_wasm: list[bytes], tmp_path: Path
) -> None:
    """The README's upgrade story: after an upgrade that raises VERSION, the old package
    still changes the counter until the admin migrates it through the new one; then only
    the new package does."""
    c = Counter(ledger, counter_wasm)
    old = c.package
    ok(c.call(BOB, "increment"))
    upgraded = ok(ledger.upgrade(ALICE, rule_id(c.published, 2), counter_v2(tmp_path)))
    new = rule_id(upgraded, 0)  # the upgrade's first fresh id is the new package's storage id
    assert ledger.package(new) is not None

    def increment(package: ObjectId, who: SuiAddress = BOB) -> TransactionEffects:
        return ledger.call(who, package, "counter", "increment", [ledger.shared(c.id)])

    ok(increment(old))
    aborted(increment(new), "counter", "increment", E_WRONG_VERSION)
    assert c.fields()["value"] == "2" and c.fields()["version"] == "1"
    # only the AdminCap's holder migrates, through the new package
    with pytest.raises(SuiError) as refused:
        ledger.call(BOB, new, "counter", "migrate", [ledger.owned(c.admin), ledger.shared(c.id)])
    assert refused.value.name == "IncorrectUserSignature"
    ok(ledger.call(ALICE, new, "counter", "migrate", [ledger.owned(c.admin), ledger.shared(c.id)]))
    assert c.fields()["version"] == "2"
    aborted(increment(old), "counter", "increment", E_WRONG_VERSION)
    ok(increment(new))
    assert c.fields()["value"] == "3"
    # the counter keeps the type of the package that first defined it
    shown = ledger.object_json(c.id)
    assert shown is not None and shown["type"] == f"{old.short_text()}::counter::Counter"
    # a second migrate has nothing to do
    again = ledger.call(ALICE, new, "counter", "migrate", [ledger.owned(c.admin), ledger.shared(c.id)])
    aborted(again, "counter", "migrate", E_NOT_UPGRADE)
