"""kill -9 of a replica in the middle of a package upgrade, on four replica processes.

The versioned counter of ``examples/sui/counter`` is published and incremented; then its
upgrade to version 2 is certified by all four replicas, replica 1 is killed before the
certificate reaches it, and the upgrade finishes with the other three. The old version
still increments through consensus. Replica 1 comes back and learns the upgrade from the
blocks it missed; then replica 2 is killed while the counter is migrated, and the new
version increments. At the end every replica answers the same for both package versions
and the counter, and after the subnet stops every replica rebuilds the same state hash.

Real processes in real time: waits are on certified replies and on heights, never fixed
sleeps.
"""

from __future__ import annotations

import json
import shutil
import signal
from pathlib import Path
from typing import Any

import pytest
import trio

from client import fast_path
from client.agent import Agent
from client.identity import IdentityStore
from client.network import LOCAL_DIR, endpoints
from client.sui import SuiClient
from move.build import build_package
from subnet.processes import launcher
from subnet.processes.status import wait_for_heights
from tests.processes import restored_state_hashes, subnet_cli
from vocab.genesis import Genesis
from vocab.sui.ids import ObjectId
from vocab.sui.signed import SignedTransaction

pytestmark = pytest.mark.slow  # replica processes: the slow tier (tests/README.md)

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "sui" / "counter"
E_WRONG_VERSION = 1  # examples/sui/counter/sources/counter.move: `const EWrongVersion: u64 = 1`


def _created(response: dict[str, Any], type_suffix: str) -> ObjectId:
    (change,) = [
        c
        for c in response["objectChanges"]
        if c["type"] == "created" and c["objectType"].endswith(type_suffix)
    ]
    return ObjectId.from_text(change["objectId"])


def _published(response: dict[str, Any]) -> ObjectId:
    (change,) = [c for c in response["objectChanges"] if c["type"] == "published"]
    return ObjectId.from_text(change["packageId"])


def _status(response: dict[str, Any]) -> dict[str, Any]:
    status: dict[str, Any] = response["effects"]["status"]
    return status


def test_kill_9_during_a_package_upgrade_then_restart_gives_equal_state_everywhere(
    local_subnet: Path, tmp_path: Path
) -> None:
    package_dir = tmp_path / "counter"
    shutil.copytree(EXAMPLE, package_dir)
    v1 = build_package(package_dir).module_bytes
    source = package_dir / "sources" / "counter.move"
    source.write_text(source.read_text().replace("const VERSION: u64 = 1;", "const VERSION: u64 = 2;"))
    v2 = build_package(package_dir).module_bytes

    root = local_subnet / LOCAL_DIR
    genesis = Genesis.from_json((root / "genesis.json").read_text())
    identity = IdentityStore().current()
    client = SuiClient(Agent(endpoints(genesis), genesis.committee, identity), identity)

    def restart() -> None:
        subnet_cli(local_subnet, "start", "--background")

    async def scenario() -> dict[str, Any]:
        with trio.fail_after(300):
            return await steps()

    async def steps() -> dict[str, Any]:
        published = await client.publish(v1)
        assert published["path"] == "fast" and _status(published) == {"status": "success"}
        old = _published(published)
        cap = _created(published, "::package::UpgradeCap")
        admin = _created(published, "::counter::AdminCap")
        counter = _created(await client.call(old, "counter", "create"), "::counter::Counter")
        assert (
            _status(await client.call(old, "counter", "increment", [counter.to_text()]))["status"]
            == "success"
        )

        # The upgrade, certified by all four; replica 1 dies before the certificate reaches it.
        plan = await client.plan_upgrade(v2, cap)
        assert plan.problems == []
        signed = SignedTransaction.sign(client.transaction(plan.kind), [identity.key])
        certificate = await fast_path.certify(client.agent, signed)
        launcher.kill_replica(root, 1, signal.SIGKILL)
        finality = await fast_path.execute(client.agent, certificate)
        assert 1 not in finality.signers and len(finality.signers) == 3
        upgraded = json.loads(finality.response)
        assert _status(upgraded) == {"status": "success"}, upgraded
        new = _published(upgraded)
        assert new != old

        # With three replicas: v1 still increments the counter, v2 refuses it until `migrate`.
        assert (
            _status(await client.call(old, "counter", "increment", [counter.to_text()]))["status"]
            == "success"
        )
        refused = _status(await client.call(new, "counter", "increment", [counter.to_text()]))
        assert refused["status"] == "failure" and f"code {E_WRONG_VERSION}" in refused["error"], refused

        await trio.to_thread.run_sync(restart)
        await wait_for_heights(genesis, within=0, timeout=90)

        # Replica 2 dies; the migration and the new version's increments go on with three.
        launcher.kill_replica(root, 2, signal.SIGKILL)
        migrated = await client.call(new, "counter", "migrate", [admin.to_text(), counter.to_text()])
        assert _status(migrated) == {"status": "success"}, migrated
        assert (
            _status(await client.call(new, "counter", "increment", [counter.to_text()]))["status"]
            == "success"
        )
        refused = _status(await client.call(old, "counter", "increment", [counter.to_text()]))
        assert refused["status"] == "failure" and f"code {E_WRONG_VERSION}" in refused["error"], refused

        await trio.to_thread.run_sync(restart)
        await wait_for_heights(genesis, within=0, timeout=90)
        # every replica, both killed ones included, answers the same
        return {
            "old": await client.object(old, replicas_agree=4),
            "new": await client.object(new, replicas_agree=4),
            "counter": await client.object(counter, replicas_agree=4),
            "cap": await client.object(cap, replicas_agree=4),
        }

    seen = trio.run(scenario)
    assert str(seen["old"]["data"]["version"]) == "1" and str(seen["new"]["data"]["version"]) == "2"
    fields = seen["counter"]["data"]["content"]["fields"]
    assert fields["version"] == "2" and fields["value"] == "3"
    assert seen["cap"]["data"]["content"]["fields"]["version"] == "2"
    assert seen["cap"]["data"]["content"]["fields"]["package"] == seen["new"]["data"]["objectId"]
    subnet_cli(local_subnet, "stop")
    assert len(restored_state_hashes(root)) == 1
