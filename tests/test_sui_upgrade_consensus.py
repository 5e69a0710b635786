"""A package upgrade under consensus on the simulated backend, with a replica down through it.

The versioned counter (``subnet/samples/versioned_counter``) is published, incremented,
upgraded while replica 3 is crashed, migrated and incremented through both versions;
replica 3 restarts and catches up (from its disk: checkpoint and blocks), and every
replica ends with the same package versions and the same state hash. Virtual time only.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from node.sui.ledger import STD, SUI, compile_for_publish
from subnet.sim.runner import SECOND
from tests.test_sui_consensus import ALICE, SuiSimClient, simulation
from vocab.sui.address import ObjectId
from vocab.sui.builder import ProgrammableTransactionBuilder
from vocab.sui.digests import Digest, package_digest
from vocab.sui.objects import ObjectRef
from vocab.sui.transaction import ImmOrOwnedObject, ProgrammableTransaction, SharedObject

SAMPLE = Path(__file__).resolve().parent.parent / "subnet" / "samples" / "versioned_counter"


def _call(package: ObjectId, function: str, *objects: Any) -> ProgrammableTransaction:
    builder = ProgrammableTransactionBuilder()
    builder.move_call(package, "counter", function, [], [builder.object(o) for o in objects])
    return builder.finish()


def _owned(client: SuiSimClient, object_id: ObjectId) -> ImmOrOwnedObject:
    """An owned object at its current version, as a client reads it."""
    data = client.read("sui_getObject", [object_id.to_text()])["data"]
    return ImmOrOwnedObject(
        ObjectRef(
            ObjectId.from_text(data["objectId"]), int(data["version"]), Digest.from_text(data["digest"])
        )
    )


def _abort_code(client: SuiSimClient, kind: ProgrammableTransaction) -> int | None:
    result = client.run(client.signed(kind))
    assert result.status == "replied", result
    status = json.loads(result.reply)["effects"]["status"]
    if status["status"] == "success":
        return None
    assert "MoveAbort" in status["error"], status
    return int(status["error"].rsplit("code ", 1)[1])


def test_an_upgrade_with_a_replica_down_ends_the_same_everywhere() -> None:
    sim = simulation(seed=3)
    client = SuiSimClient(sim)
    sim.step_until(2 * SECOND)
    v1 = compile_for_publish(SAMPLE / "v1")
    v2 = compile_for_publish(SAMPLE / "v2")
    builder = ProgrammableTransactionBuilder()
    builder.transfer_objects([builder.publish(v1, [STD, SUI])], ALICE)
    published = client.ok(builder.finish())["objectChanges"]
    (old,) = [ObjectId.from_text(c["packageId"]) for c in published if c["type"] == "published"]
    made = {c["objectType"].rsplit("::", 1)[1]: c for c in published if c["type"] == "created"}
    cap, admin = (
        ObjectId.from_text(made["UpgradeCap"]["objectId"]),
        ObjectId.from_text(made["AdminCap"]["objectId"]),
    )
    counter_change = made["Counter"]
    counter = SharedObject(
        ObjectId.from_text(counter_change["objectId"]),
        int(counter_change["owner"]["Shared"]["initial_shared_version"]),
        True,
    )
    assert _abort_code(client, _call(old, "increment", counter)) is None

    sim.crash(3)
    upgrade = ProgrammableTransactionBuilder()
    upgrade.upgrade_with_cap(
        _owned(client, cap), old, v2, [STD, SUI], 0, package_digest(v2, [STD.raw, SUI.raw])
    )
    changes = client.ok(upgrade.finish())["objectChanges"]
    (new,) = [ObjectId.from_text(c["packageId"]) for c in changes if c["type"] == "published"]
    assert _abort_code(client, _call(old, "increment", counter)) is None
    assert _abort_code(client, _call(new, "increment", counter)) == 1  # EWrongVersion
    assert _abort_code(client, _call(new, "migrate", counter, _owned(client, admin))) is None
    sim.restart(3)
    assert _abort_code(client, _call(old, "increment", counter)) == 1
    assert _abort_code(client, _call(new, "increment", counter)) is None

    sim.step_until(sim.now + 10 * SECOND)
    replicas = [r for r in sim.replicas if r is not None]
    assert len(replicas) == 4
    top = min(r.executed_height for r in replicas)
    assert len({r.state_hashes[top] for r in replicas}) == 1
    for node in range(4):
        package = client.read("sui_getObject", [new.to_text(), {"showBcs": True}], node)["data"]["bcs"]
        assert package["version"] == 2 and package["id"] == new.to_text()
        fields = client.read("sui_getObject", [counter.object_id.to_text()], node)["data"]["content"][
            "fields"
        ]
        assert (fields["version"], fields["value"]) == ("2", "3")
