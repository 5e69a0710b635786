"""Package upgrades in process, through ``SuiLedger``: ``0x2::package``'s capability rules,
the ``Upgrade`` command, versions callable side by side, and the versioned shared counter.

Known answers are Sui's rules (reference/sui.md sections 1-3, VECTORS.md): the new
version's storage id is the transaction's first fresh id (``Blake2b-256(0xF1 · digest ·
0)``, the Upgrade command being the first to create one), the modules keep the original
id, version + 1, types first defined in v1 keep v1's id in the type origin table, the
ticket's digest is Blake2b-256 over the sorted module hashes and dependency ids
(recomputed here with hashlib from the rule, not with the project's function), the
abort codes of ``sui::package`` and the error names of ``PackageUpgradeError``.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import shutil
from pathlib import Path

import pytest

from move import compat
from node.checkpoint import encode_checkpoint, restore_checkpoint
from node.execution import SubnetStateMachine
from node.sui.effects import TransactionEffects
from node.sui.ledger import STD, SUI, SuiLedger, compile_for_publish
from node.sui.relocate import module_identity
from node.sui.type_map import UPGRADE_CAP
from vocab.errors import SuiError
from vocab.genesis import SUI_ALLOW_ADDING_ABILITIES, local_genesis
from vocab.leb128 import encode_leb128
from vocab.sui.address import ObjectId, SuiAddress
from vocab.sui.digests import package_digest
from vocab.sui.ids import derive_object_id
from vocab.sui.objects import Immutable
from vocab.sui.transaction import CallArg, Command, ImmOrOwnedObject, Input, MoveCall, Pure, Result, Upgrade
from vocab.sui.type_tag import parse_type_tag

SAMPLE = Path(__file__).resolve().parent.parent / "subnet" / "samples" / "versioned_counter"
ALICE = SuiAddress(bytes(31) + b"\xa1")
BOB = SuiAddress(bytes(31) + b"\xb0")
E_WRONG_VERSION = 1  # the sample's EWrongVersion
E_TOO_PERMISSIVE, E_ALREADY_AUTHORIZED, E_WRONG_UPGRADE_CAP = 1, 2, 4  # sui::package


@pytest.fixture(scope="module")
def v1() -> list[bytes]:
    return compile_for_publish(SAMPLE / "v1")


@pytest.fixture(scope="module")
def v2() -> list[bytes]:
    return compile_for_publish(SAMPLE / "v2")


def variant(tmp_path: Path, version: str, *edits: tuple[str, str], extra: str = "") -> list[bytes]:
    """The sample's ``version`` with text replaced (and an extra module), compiled."""
    root = tmp_path / f"variant-{len(list(tmp_path.iterdir()))}"
    shutil.copytree(SAMPLE / version, root)
    source = root / "sources" / "counter.move"
    text = source.read_text()
    for before, after in edits:
        assert before in text, before
        text = text.replace(before, after)
    source.write_text(text)
    if extra:
        (root / "sources" / "extra.move").write_text(extra)
    return compile_for_publish(root)


def ok(effects: TransactionEffects) -> TransactionEffects:
    assert effects.status is None, effects.status
    return effects


def failed(effects: TransactionEffects, error: str, kind: str | None = None) -> str:
    assert effects.status is not None, "the transaction succeeded"
    assert effects.status.error == error, effects.status
    if kind is not None:
        assert effects.status.message.startswith(kind + ":"), effects.status.message
    return effects.status.message


def aborted(effects: TransactionEffects, code: int, function: str) -> None:
    assert effects.status is not None and effects.status.error == "MoveAbort", effects.status
    assert effects.status.code == code, effects.status
    assert effects.status.location is not None and effects.status.location.function == function


class Published:
    """The sample published by ALICE: package, cap, counter, admin cap."""

    def __init__(self, ledger: SuiLedger, wasm: list[bytes]) -> None:
        effects = ok(ledger.publish(ALICE, wasm))
        self.ledger = ledger
        by_type: dict[str, ObjectId] = {}
        for ref, _ in effects.created:
            if ledger.package(ref.object_id) is not None:
                self.package = ref.object_id
            else:
                obj = ledger.object(ref.object_id)
                assert obj is not None
                by_type[obj.type.name] = ref.object_id
        self.cap = by_type["UpgradeCap"]
        self.counter = by_type["Counter"]
        self.admin = by_type["AdminCap"]

    def on(self, ledger: SuiLedger) -> Published:
        """The same objects, seen on another ledger (a fork, a restored copy)."""
        other = Published.__new__(Published)
        other.__dict__.update(self.__dict__, ledger=ledger)
        return other

    def increment(self, package: ObjectId) -> TransactionEffects:
        return self.ledger.call(BOB, package, "counter", "increment", [self.ledger.shared(self.counter)])

    def value(self) -> tuple[int, int]:
        """(version, value) of the counter, read from its BCS: id, version, admin, value."""
        obj = self.ledger.object(self.counter)
        assert obj is not None
        data = obj.contents
        return int.from_bytes(data[32:40], "little"), int.from_bytes(data[72:80], "little")

    def cap_fields(self) -> tuple[ObjectId, int, int]:
        """(package, version, policy) of the UpgradeCap."""
        obj = self.ledger.object(self.cap)
        assert obj is not None and obj.type == UPGRADE_CAP
        return ObjectId(obj.contents[32:64]), int.from_bytes(obj.contents[64:72], "little"), obj.contents[72]

    def upgrade(self, wasm: list[bytes], **options: object) -> ObjectId:
        effects = ok(self.ledger.upgrade(ALICE, self.cap, wasm, **options))  # type: ignore[arg-type]
        (package,) = [ref.object_id for ref, _ in effects.created if self.ledger.package(ref.object_id)]
        return package


@pytest.fixture
def ledger() -> SuiLedger:
    return SuiLedger.genesis()


# -- the versioned shared counter (the accepted-when sequence, in process) ---------------


def test_versioned_counter_through_publish_upgrade_and_migrate(
    ledger: SuiLedger, v1: list[bytes], v2: list[bytes]
) -> None:
    p = Published(ledger, v1)
    old = p.package
    ok(p.increment(old))
    assert p.value() == (1, 1)
    new = p.upgrade(v2)
    # the old version still increments; the new one refuses a counter of version 1
    ok(p.increment(old))
    aborted(p.increment(new), E_WRONG_VERSION, "increment")
    assert p.value() == (1, 2)
    # only the admin migrates, through the new version (an entry function new in v2)
    ok(ledger.call(ALICE, new, "counter", "migrate", [ledger.shared(p.counter), ledger.owned(p.admin)]))
    assert p.value() == (2, 2)
    # now the old version aborts and the new one increments the object v1 created
    aborted(p.increment(old), E_WRONG_VERSION, "increment")
    ok(p.increment(new))
    assert p.value() == (2, 3)
    # migrate is not in v1: calling it through the old id is FunctionNotFound
    missing = ledger.call(ALICE, old, "counter", "migrate", [ledger.shared(p.counter), ledger.owned(p.admin)])
    failed(missing, "FunctionNotFound")


def test_the_counter_object_s_type_keeps_the_original_id(
    ledger: SuiLedger, v1: list[bytes], v2: list[bytes]
) -> None:
    p = Published(ledger, v1)
    new = p.upgrade(v2)
    obj = ledger.object(p.counter)
    assert obj is not None and obj.type.module.address == p.package.raw != new.raw


# -- the Upgrade command ------------------------------------------------------------------------


def test_upgrade_stores_a_new_version_at_a_fresh_id(
    ledger: SuiLedger, v1: list[bytes], v2: list[bytes]
) -> None:
    p = Published(ledger, v1)
    effects = ok(ledger.upgrade(ALICE, p.cap, v2))
    digest = effects.transaction_digest
    new = derive_object_id(digest, 0)  # the Upgrade command creates the first id of the transaction
    assert [(ref.object_id, owner) for ref, owner in effects.created] == [(new, Immutable())]
    package = ledger.package(new)
    assert package is not None
    assert package.version == 2 and package.original_id == p.package
    assert [module_identity(wasm) for _, wasm in package.modules] == [(p.package.raw, "counter")]
    origins = {(t.module_name, t.datatype_name): t.package for t in package.type_origins}
    assert origins == {
        ("counter", "Counter"): p.package,
        ("counter", "AdminCap"): p.package,
        ("counter", "Progress"): new,
    }
    assert {k: (v.upgraded_id, v.upgraded_version) for k, v in package.linkage} == {
        STD: (STD, 1),
        SUI: (SUI, 1),
    }
    # commit_upgrade: the cap names the new version, one version more, the policy kept
    assert p.cap_fields() == (new, 2, 0)
    assert [ref.object_id for ref, _ in effects.mutated] == [p.cap]
    # init did not run: nothing but the package was created (v2's init would share a counter)
    assert len(ledger.store.objects) == 3  # counter, admin cap, upgrade cap
    old = ledger.package(p.package)
    assert old is not None and old.version == 1  # the old version is untouched


def test_init_never_runs_on_upgrade_not_even_in_a_new_module(
    ledger: SuiLedger, tmp_path: Path, v1: list[bytes]
) -> None:
    extra = """
module versioned_counter::extra;

public struct Made has key { id: UID }

fun init(ctx: &mut TxContext) {
    transfer::transfer(Made { id: object::new(ctx) }, ctx.sender());
}

public fun hello(): u64 { 42 }
"""
    p = Published(ledger, v1)
    new = p.upgrade(variant(tmp_path, "v1", extra=extra))
    assert len(ledger.store.objects) == 3
    assert [name for name, _ in ledger.package(new).modules] == ["counter", "extra"]  # type: ignore[union-attr]
    ok(ledger.call(ALICE, new, "extra", "hello"))
    failed(ledger.call(ALICE, p.package, "extra", "hello"), "FunctionNotFound")


def test_the_ticket_digest_is_sui_s_package_digest(
    ledger: SuiLedger, v1: list[bytes], v2: list[bytes]
) -> None:
    p = Published(ledger, v1)
    # the rule, written out: Blake2b-256 over the sorted module hashes and dependency ids
    parts = sorted([hashlib.blake2b(m, digest_size=32).digest() for m in v2] + [STD.raw, SUI.raw])
    expected = hashlib.blake2b(b"".join(parts), digest_size=32).digest()
    wrong = bytes(32)
    message = failed(
        ledger.upgrade(ALICE, p.cap, v2, digest=wrong), "PackageUpgradeError", "DigestDoesNotMatch"
    )
    assert expected.hex() in message
    assert p.cap_fields() == (p.package, 1, 0)  # nothing changed
    # the dependencies are part of the digest: the same modules without 0x1 digest differently
    failed(
        ledger.upgrade(ALICE, p.cap, v2, dependencies=(SUI,), digest=expected),
        "PackageUpgradeError",
        "DigestDoesNotMatch",
    )
    ok(ledger.upgrade(ALICE, p.cap, v2, digest=expected))


def test_the_ticket_must_name_the_package_upgraded(
    ledger: SuiLedger, v1: list[bytes], v2: list[bytes]
) -> None:
    p = Published(ledger, v1)
    message = failed(
        ledger.upgrade(ALICE, p.cap, v2, package=SUI), "PackageUpgradeError", "PackageIDDoesNotMatch"
    )
    assert str(p.package) in message


def test_an_unknown_policy_is_refused(ledger: SuiLedger, v1: list[bytes], v2: list[bytes]) -> None:
    p = Published(ledger, v1)
    failed(ledger.upgrade(ALICE, p.cap, v2, policy=7), "PackageUpgradeError", "UnknownUpgradePolicy")


def test_an_incompatible_upgrade_is_refused_and_changes_nothing(
    ledger: SuiLedger, tmp_path: Path, v1: list[bytes]
) -> None:
    p = Published(ledger, v1)
    ok(p.increment(p.package))
    wider = variant(
        tmp_path,
        "v1",
        ("    value: u64,\n}", "    value: u64,\n    extra: u64,\n}"),
        ("value: 0,", "value: 0, extra: 0,"),
    )
    message = failed(ledger.upgrade(ALICE, p.cap, wider), "PackageUpgradeError", "IncompatibleUpgrade")
    assert "StructFieldMismatch in counter::Counter" in message
    assert p.cap_fields() == (p.package, 1, 0)
    assert sorted(ledger.store.packages) == sorted([STD, SUI, p.package])
    # the VM still links v1's layout: the counter reads and increments as before
    ok(p.increment(p.package))
    assert p.value() == (1, 2)
    assert set(ledger.object_json(p.counter)["content"]["fields"]) == {"id", "version", "admin", "value"}  # type: ignore[index]


def test_adding_an_ability_follows_the_chosen_rule(tmp_path: Path, v1: list[bytes]) -> None:
    storable = variant(
        tmp_path, "v1", ("public struct AdminCap has key {", "public struct AdminCap has key, store {")
    )
    today = SuiLedger.genesis()
    p = Published(today, v1)
    message = failed(today.upgrade(ALICE, p.cap, storable), "PackageUpgradeError", "IncompatibleUpgrade")
    assert "StructAbilityMismatch in counter::AdminCap" in message
    older = SuiLedger.genesis(allow_adding_abilities=True)
    q = Published(older, v1)
    assert q.upgrade(storable) is not None


def test_every_version_stays_callable_and_survives_a_restore(
    ledger: SuiLedger, tmp_path: Path, v1: list[bytes], v2: list[bytes]
) -> None:
    p = Published(ledger, v1)
    second = p.upgrade(v2)
    v3 = variant(tmp_path, "v2", ("const VERSION: u64 = 2;", "const VERSION: u64 = 3;"))
    third = p.upgrade(v3)
    assert ledger.package(third).version == 3 and p.cap_fields() == (third, 3, 0)  # type: ignore[union-attr]
    restored = SuiLedger.restore(ledger.checkpoint())
    assert restored.state_hash() == ledger.state_hash()
    for chain in (ledger, restored):
        q = p.on(chain)
        ok(q.increment(p.package))
        aborted(q.increment(second), E_WRONG_VERSION, "increment")
        aborted(q.increment(third), E_WRONG_VERSION, "increment")
        # v3 migrates a version-1 counter straight to 3; then only v3 increments it
        ok(chain.call(ALICE, third, "counter", "migrate", [chain.shared(p.counter), chain.owned(p.admin)]))
        aborted(q.increment(second), E_WRONG_VERSION, "increment")
        ok(q.increment(third))
    # (the transactions differ: each ledger numbers its own; the counters agree)
    assert ledger.object(p.counter).contents == restored.object(p.counter).contents  # type: ignore[union-attr]


# -- the UpgradeCap's rules ---------------------------------------------------------------------


def _authorize(
    cap: ImmOrOwnedObject, policy: int = 0, digest: bytes = bytes(32)
) -> tuple[list[CallArg], list[Command]]:
    inputs: list[CallArg] = [cap, Pure(bytes([policy])), Pure(encode_leb128(len(digest)) + digest)]
    commands: list[Command] = [
        MoveCall(SUI, "package", "authorize_upgrade", (), (Input(0), Input(1), Input(2)))
    ]
    return inputs, commands


def test_a_second_authorization_is_already_authorized(ledger: SuiLedger, v1: list[bytes]) -> None:
    p = Published(ledger, v1)
    inputs, commands = _authorize(ledger.owned(p.cap))
    commands.append(MoveCall(SUI, "package", "authorize_upgrade", (), (Input(0), Input(1), Input(2))))
    effects = ledger.execute(ledger.transaction(ALICE, inputs, commands))
    aborted(effects, E_ALREADY_AUTHORIZED, "authorize_upgrade")
    assert p.cap_fields() == (p.package, 1, 0)


def test_a_receipt_commits_only_to_its_own_cap(ledger: SuiLedger, v1: list[bytes], v2: list[bytes]) -> None:
    p = Published(ledger, v1)
    other = Published(ledger, v1)
    inputs, commands = _authorize(ledger.owned(p.cap), digest=package_digest(v2, [STD.raw, SUI.raw]))
    inputs.append(ledger.owned(other.cap))
    commands += [
        Upgrade(tuple(v2), (STD, SUI), p.package, Result(0)),
        MoveCall(SUI, "package", "commit_upgrade", (), (Input(3), Result(1))),
    ]
    aborted(
        ledger.execute(ledger.transaction(ALICE, inputs, commands)), E_WRONG_UPGRADE_CAP, "commit_upgrade"
    )
    assert p.cap_fields() == (p.package, 1, 0) and other.cap_fields() == (other.package, 1, 0)
    assert len(ledger.store.packages) == 4  # the framework and the two publications, no new version
    assert sorted(ledger.vm.packages) == sorted(p.raw for p in ledger.store.packages)  # nor in the VM


def test_a_policy_can_only_be_tightened(
    ledger: SuiLedger, tmp_path: Path, v1: list[bytes], v2: list[bytes]
) -> None:
    p = Published(ledger, v1)
    ok(ledger.call(ALICE, SUI, "package", "only_additive_upgrades", [ledger.owned(p.cap)]))
    assert p.cap_fields() == (p.package, 1, 128)
    # asking for a looser policy than the cap's
    aborted(ledger.upgrade(ALICE, p.cap, v2, policy=0), E_TOO_PERMISSIVE, "authorize_upgrade")
    # under additive, v2 changes increment's code: refused; an addition passes
    message = failed(ledger.upgrade(ALICE, p.cap, v2), "PackageUpgradeError", "IncompatibleUpgrade")
    assert "FunctionChange in counter::increment" in message and "additive" in message
    added = variant(
        tmp_path,
        "v1",
        (
            "public fun value(",
            "public fun twice(c: &Counter): u64 {\n    c.value * 2\n}\n\npublic fun value(",
        ),
    )
    p.upgrade(added)
    assert p.cap_fields()[1:] == (2, 128)
    ok(ledger.call(ALICE, SUI, "package", "only_dep_upgrades", [ledger.owned(p.cap)]))
    aborted(
        ledger.call(ALICE, SUI, "package", "only_additive_upgrades", [ledger.owned(p.cap)]),
        E_TOO_PERMISSIVE,
        "restrict",  # where Sui's package.move asserts it
    )
    # dependency-only: the same modules again pass, a new function does not
    p.upgrade(added)
    assert p.cap_fields()[1:] == (3, 192)
    failed(
        ledger.upgrade(
            ALICE,
            p.cap,
            variant(
                tmp_path, "v1", ("public fun value(", "public fun more(): u64 { 1 }\n\npublic fun value(")
            ),
        ),
        "PackageUpgradeError",
        "IncompatibleUpgrade",
    )


def test_make_immutable_ends_all_upgrades(ledger: SuiLedger, v1: list[bytes], v2: list[bytes]) -> None:
    p = Published(ledger, v1)
    stale = ledger.owned(p.cap)
    ok(ledger.call(ALICE, SUI, "package", "make_immutable", [stale]))
    assert ledger.object(p.cap) is None
    inputs, commands = _authorize(stale)
    with pytest.raises(SuiError) as refused:
        ledger.execute(ledger.transaction(ALICE, inputs, commands))
    assert refused.value.name == "ObjectVersionUnavailableForConsumption"
    with pytest.raises(KeyError):
        ledger.upgrade(ALICE, p.cap, v2)


def test_an_upgrade_may_not_link_an_older_dependency(
    ledger: SuiLedger, v1: list[bytes], v2: list[bytes]
) -> None:
    """Sui's ``PublishUpgradeDependencyDowngrade``: a dependency's version only grows."""
    lib = Published(ledger, v1)
    lib_v2 = lib.upgrade(v2)
    user = v1  # another package, with the library among its dependencies
    effects = ok(ledger.publish(ALICE, user, (STD, SUI, lib_v2)))  # links the library's version 2
    (cap,) = [
        r.object_id
        for r, _ in effects.created
        if getattr(ledger.object(r.object_id), "type", None) == UPGRADE_CAP
    ]
    (package,) = [r.object_id for r, _ in effects.created if ledger.package(r.object_id)]
    assert dict(ledger.package(package).linkage)[lib.package].upgraded_version == 2  # type: ignore[union-attr]
    older = ledger.upgrade(ALICE, cap, user, (STD, SUI, lib.package))
    message = failed(older, "PublishUpgradeDependencyDowngrade")
    assert "version 1" in message and "version 2" in message
    ok(ledger.upgrade(ALICE, cap, user, (STD, SUI, lib_v2)))


# -- checking before sending --------------------------------------------------------------------


def test_a_client_checks_an_upgrade_from_what_the_chain_answers(
    ledger: SuiLedger, tmp_path: Path, v1: list[bytes], v2: list[bytes]
) -> None:
    """``sui_getObject`` with ``showBcs`` gives a package's modules (Sui's ``moduleMap``);
    ``move.compat`` on them predicts what the replicas will decide."""
    p = Published(ledger, v1)
    answer = json.loads(
        ledger.read("sui_getObject", json.dumps([p.package.to_text(), {"showBcs": True}]).encode())
    )
    raw = answer["data"]["bcs"]
    assert raw["dataType"] == "package" and raw["id"] == p.package.to_text() and raw["version"] == 1
    assert raw["typeOriginTable"][0] == {
        "module_name": "counter",
        "datatype_name": "AdminCap",
        "package": p.package.to_text(),
    }
    on_chain = [base64.b64decode(m) for m in raw["moduleMap"].values()]
    assert on_chain == [wasm for _, wasm in ledger.package(p.package).modules]  # type: ignore[union-attr]
    assert compat.check_upgrade(on_chain, v2, compat.COMPATIBLE) == []
    changed = variant(
        tmp_path,
        "v1",
        ("    value: u64,\n}", "    value: u64,\n    extra: u64,\n}"),
        ("value: 0,", "value: 0, extra: 0,"),
        ("public fun version(c: &Counter): u64 {\n    c.version\n}", ""),
    )
    predicted = compat.check_upgrade(on_chain, changed, compat.COMPATIBLE)
    assert [(x.kind, x.module, x.item) for x in predicted] == [
        ("StructFieldMismatch", "counter", "Counter"),
        ("FunctionMissingPublic", "counter", "version"),
    ]
    sent = ledger.upgrade(ALICE, p.cap, changed)
    message = failed(sent, "PackageUpgradeError", "IncompatibleUpgrade")
    assert all(str(x) in message for x in predicted)
    counter = json.loads(
        ledger.read("sui_getObject", json.dumps([p.counter.to_text(), {"showBcs": True}]).encode())
    )
    assert base64.b64decode(counter["data"]["bcs"]["bcsBytes"]) == ledger.object(p.counter).contents  # type: ignore[union-attr]


def test_a_fork_rehearses_an_upgrade_and_changes_nothing(
    ledger: SuiLedger, v1: list[bytes], v2: list[bytes]
) -> None:
    p = Published(ledger, v1)
    ok(p.increment(p.package))
    before = ledger.state_hash()
    rehearsal = ledger.fork()
    assert rehearsal.state_hash() == before
    q = p.on(rehearsal)
    new = q.upgrade(v2)
    ok(
        rehearsal.call(
            ALICE, new, "counter", "migrate", [rehearsal.shared(p.counter), rehearsal.owned(p.admin)]
        )
    )
    ok(q.increment(new))
    assert q.value() == (2, 2)
    # the real state: no new version, the counter still at version 1, v1 still increments
    assert ledger.state_hash() == before and ledger.package(new) is None
    assert sorted(ledger.vm.packages) == sorted(x.raw for x in ledger.store.packages)
    assert p.value() == (1, 1)
    ok(p.increment(p.package))


# -- type names and the original id from Move -----------------------------------------------------

NAMES = """
module versioned_counter::names;

use std::ascii::String;
use std::type_name;
use sui::event;
use sui::package::{Self, UpgradeCap};
use versioned_counter::counter::{Counter, Progress};

public struct Names has copy, drop {
    counter: String,
    progress: String,
    progress_original: String,
}

public struct Origin has copy, drop {
    id: ID,
}

public fun names() {
    event::emit(Names {
        counter: type_name::get<Counter>().into_string(),
        progress: type_name::get<Progress>().into_string(),
        progress_original: type_name::get_with_original_ids<Progress>().into_string(),
    })
}

public fun origin(cap: &UpgradeCap) {
    event::emit(Origin { id: package::original_package_id(cap) })
}

public struct Token has key, store {
    id: UID,
}

public struct Named has copy, drop {
    name: String,
}

public fun mint(ctx: &mut TxContext) {
    transfer::public_transfer(Token { id: object::new(ctx) }, ctx.sender())
}

public fun burn(token: Token) {
    let Token { id } = token;
    id.delete();
}

public fun name_of<T>() {
    event::emit(Named { name: type_name::get<T>().into_string() })
}
"""


def _strings(data: bytes) -> list[str]:
    out, pos = [], 0
    while pos < len(data):
        size = data[pos]  # each name is shorter than 128 bytes: one ULEB128 byte
        out.append(data[pos + 1 : pos + 1 + size].decode())
        pos += 1 + size
    return out


def test_type_names_use_defining_ids_and_the_cap_knows_the_original_id(
    ledger: SuiLedger, tmp_path: Path, v1: list[bytes]
) -> None:
    """``type_name::get`` names a type by the version that first defined it (v1 for
    ``Counter``, v2 for ``Progress``), ``get_with_original_ids`` by the first version;
    ``package::original_package_id`` reads the original id back from the cap."""
    p = Published(ledger, v1)
    new = p.upgrade(variant(tmp_path, "v2", extra=NAMES))
    (event,) = ok(ledger.call(ALICE, new, "names", "names")).events
    assert _strings(event.contents) == [
        f"{p.package.raw.hex()}::counter::Counter",
        f"{new.raw.hex()}::counter::Progress",
        f"{p.package.raw.hex()}::counter::Progress",
    ]
    (origin,) = ok(ledger.call(ALICE, new, "names", "origin", [ledger.owned(p.cap)])).events
    assert origin.contents == p.package.raw
    # while an upgrade is authorized the cap names no package: EUpgradeInProgress (5)
    inputs, commands = _authorize(ledger.owned(p.cap))
    commands.append(MoveCall(new, "names", "origin", (), (Input(0),)))
    aborted(ledger.execute(ledger.transaction(ALICE, inputs, commands)), 5, "original_package_id")


def test_objects_events_and_type_arguments_name_new_types_by_the_version_that_added_them(
    ledger: SuiLedger, tmp_path: Path, v1: list[bytes]
) -> None:
    """Sui's defining ids outside the VM: an object or event of a type added by version 2
    carries version 2's id, and a type argument naming it that way reaches the VM."""
    p = Published(ledger, v1)
    new = p.upgrade(variant(tmp_path, "v2", extra=NAMES))
    minted = ok(ledger.call(ALICE, new, "names", "mint"))
    (token_ref,) = [ref for ref, _ in minted.created]
    token = ledger.object(token_ref.object_id)
    assert token is not None and token.type.module.address == new.raw
    shown = ledger.object_json(token.id)
    assert shown is not None and shown["type"] == f"{new.short_text()}::names::Token"
    assert dict(minted.object_types)[token.id].address.raw == new.raw
    tag = parse_type_tag(f"{new.to_text()}::names::Token")
    (named,) = ok(ledger.call(ALICE, new, "names", "name_of", [], [tag])).events
    assert _strings(named.contents) == [f"{new.raw.hex()}::names::Token"]
    assert named.type.address.raw == new.raw and named.type.name == "Named"
    # the object goes back into version 2's code as a value of its type
    burnt = ok(ledger.call(ALICE, new, "names", "burn", [ledger.owned(token.id)]))
    assert [ref.object_id for ref in burnt.deleted] == [token.id]
    # a type first defined in v1 keeps v1's id on objects written by v2
    ok(ledger.call(ALICE, new, "counter", "migrate", [ledger.shared(p.counter), ledger.owned(p.admin)]))
    counter = ledger.object(p.counter)
    assert counter is not None and counter.type.module.address == p.package.raw


def test_the_package_upgraded_is_checked_as_an_input(
    ledger: SuiLedger, v1: list[bytes], v2: list[bytes]
) -> None:
    """As in Sui, an Upgrade's package is an input: a missing one or an object refuses the
    transaction before it runs, and nothing is recorded."""
    p = Published(ledger, v1)
    executed = len(ledger.store.executed)
    with pytest.raises(SuiError) as missing:
        ledger.upgrade(ALICE, p.cap, v2, package=ObjectId(b"\x42" * 32))
    assert missing.value.name == "DependentPackageNotFound"
    with pytest.raises(SuiError) as an_object:
        ledger.upgrade(ALICE, p.cap, v2, package=p.counter)
    assert an_object.value.name == "MoveObjectAsPackage"
    assert len(ledger.store.executed) == executed


def test_adding_an_ability_is_a_subnet_setting_that_survives_a_checkpoint(
    tmp_path: Path, v1: list[bytes]
) -> None:
    storable = variant(
        tmp_path, "v1", ("public struct AdminCap has key {", "public struct AdminCap has key, store {")
    )
    base, _ = local_genesis(4, "abilities")
    older = dataclasses.replace(base, extra={SUI_ALLOW_ADDING_ABILITIES: True})
    for genesis, allowed in ((base, False), (older, True)):
        machine = SubnetStateMachine.from_genesis(genesis)
        assert machine.sui.allow_adding_abilities is allowed
        # A checkpoint restore brings a ledger from bytes: the setting is configuration, kept.
        blob = encode_checkpoint(
            machine, height=1, block_hash=bytes(32), state_hash=machine.state_hash(), results_root=bytes(32)
        )
        restore_checkpoint(machine, blob, height=1, state_hash=machine.state_hash(), block_hash=bytes(32))
        assert (
            machine.sui.allow_adding_abilities is allowed
            and machine.sui.fast_executor.allow_adding_abilities is allowed
        )
        p = Published(machine.sui, v1)
        upgraded = machine.sui.upgrade(ALICE, p.cap, storable)
        assert upgraded.success is allowed, upgraded.status
    with pytest.raises(ValueError, match=SUI_ALLOW_ADDING_ABILITIES):
        SubnetStateMachine.from_genesis(dataclasses.replace(base, extra={SUI_ALLOW_ADDING_ABILITIES: "yes"}))
