"""The Sui execution layer against the TypeScript SDK (npm ``@mysten/sui`` 2.33.1):

- the store's object and package bytes are what the SDK's ``bcs.Object`` (Sui's
  ``ObjectInner``) reads and writes back unchanged, and the digest Blake2b-256 over
  ``"Object::"`` and those bytes (computed in Node with ``@noble/hashes``) is the store's;
- transactions built and signed by the SDK (publish with the ``UpgradeCap`` transferred to
  the sender, as ``sui client publish`` does, then a Move call on a shared object; an
  upgrade as ``sui client upgrade`` sends it) execute on a ``SuiLedger``, under the digest
  the SDK computes, and the upgrade's commands and inputs are those ``SuiLedger.upgrade``
  builds.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from node.sui.ledger import STD, SUI, SuiLedger, compile_for_publish
from subnet.sim.runner import SECOND, SimConfig, Simulation
from tests import npm
from tests.test_sui_consensus import SuiSimClient
from vocab.crypto import Ed25519PrivateKey
from vocab.sui.address import ObjectId, SuiAddress
from vocab.sui.builder import ProgrammableTransactionBuilder
from vocab.sui.digests import package_digest
from vocab.sui.objects import AddressOwner, Immutable, Shared
from vocab.sui.signed import SignedTransaction
from vocab.sui.transaction import ImmOrOwnedObject, TransactionData

pytestmark = npm.requires_node("@mysten/sui")

EXAMPLES = Path(__file__).resolve().parent / "move_examples"
SAMPLE = Path(__file__).resolve().parent.parent / "subnet" / "samples" / "versioned_counter"
SEED = bytes(range(32))

SCRIPT = r"""
import { Transaction } from '@mysten/sui/transactions';
import { Ed25519Keypair } from '@mysten/sui/keypairs/ed25519';
import { bcs } from '@mysten/sui/bcs';
import { blake2b } from '@noble/hashes/blake2.js';
import { readFileSync } from 'node:fs';

const cases = JSON.parse(readFileSync(0, 'utf8'));
const kp = Ed25519Keypair.fromSecretKey(Uint8Array.from(Buffer.from(cases.seed, 'hex')));
const hex = (b) => Buffer.from(b).toString('hex');
const out = { address: kp.getPublicKey().toSuiAddress(), objects: [], transactions: [] };

for (const raw of cases.objects) {
  const bytes = Uint8Array.from(Buffer.from(raw, 'hex'));
  const parsed = bcs.Object.parse(bytes);
  const again = bcs.Object.serialize(parsed).toBytes();
  const salted = new Uint8Array([...new TextEncoder().encode('Object::'), ...bytes]);
  const data = parsed.data;
  out.objects.push({
    reserialized: hex(again),
    digest: hex(blake2b(salted, { dkLen: 32 })),
    kind: data.$kind,
    type: data.Move ? data.Move.type.Other : null,
    version: String(data.Move ? data.Move.version : data.Package.version),
    owner: parsed.owner.$kind,
    modules: data.Package ? [...data.Package.moduleMap.keys()] : [],
  });
}

for (const spec of cases.transactions) {
  const tx = new Transaction();
  const sender = kp.getPublicKey().toSuiAddress();
  tx.setSender(sender);
  tx.setGasPrice(1000);
  tx.setGasBudget(50000000);
  tx.setGasPayment([]);
  tx.setExpiration({ Epoch: 1000 + spec.nonce });
  if (spec.op === 'publish') {
    const cap = tx.publish({ modules: spec.modules, dependencies: spec.dependencies });
    tx.transferObjects([cap], sender);
  } else if (spec.op === 'upgrade') {
    // what `sui client upgrade` sends: authorize, Upgrade, commit
    const cap = tx.objectRef(spec.cap);
    const ticket = tx.moveCall({
      target: '0x2::package::authorize_upgrade',
      arguments: [cap, tx.pure.u8(spec.policy), tx.pure.vector('u8', [...Buffer.from(spec.digest, 'hex')])],
    });
    const receipt = tx.upgrade({ modules: spec.modules, dependencies: spec.dependencies, package: spec.package, ticket });
    tx.moveCall({ target: '0x2::package::commit_upgrade', arguments: [cap, receipt] });
  } else {
    tx.moveCall({
      target: `${spec.package}::counter::increment`,
      arguments: [tx.sharedObjectRef({ objectId: spec.counter, initialSharedVersion: spec.isv, mutable: true })],
    });
  }
  const bytes = await tx.build();
  const { signature } = await kp.signTransaction(bytes);
  out.transactions.push({ bytes: Buffer.from(bytes).toString('base64'), signature, digest: await tx.getDigest() });
}
process.stdout.write(JSON.stringify(out));
"""


@pytest.fixture(scope="module")
def sdk() -> Path:
    return npm.install(
        "npm-sui",
        {"@mysten/sui": "2.33.1", "@mysten/bcs": "2.1.2"},
        {"sui_executor_differential.mjs": SCRIPT},
    )


def oracle(directory: Path, objects: list[bytes], transactions: list[dict[str, Any]]) -> dict[str, Any]:
    payload = {"seed": SEED.hex(), "objects": [o.hex() for o in objects], "transactions": transactions}
    return npm.run_node(directory, "sui_executor_differential.mjs", payload)


def test_sdk_built_transactions_execute_and_objects_match(sdk: Path) -> None:
    key = Ed25519PrivateKey.from_private_bytes(SEED)
    sender = SuiAddress.from_ed25519_public_key(key.public_key().public_bytes_raw())
    ledger = SuiLedger.genesis()
    modules = [base64.b64encode(m).decode() for m in compile_for_publish(EXAMPLES / "counter")]
    publish = {"op": "publish", "modules": modules, "dependencies": ["0x1", "0x2"], "nonce": 1}
    answer = oracle(sdk, [], [publish])
    assert answer["address"] == sender.to_text()
    (built,) = answer["transactions"]
    effects = ledger.execute_signed(SignedTransaction.from_base64(built["bytes"], [built["signature"]]))
    assert effects.status is None, effects.status
    assert effects.transaction_digest.to_text() == built["digest"]
    package_id = next(r.object_id for r, o in effects.created if ledger.package(r.object_id) is not None)
    cap = next(
        ledger.object(r.object_id) for r, _ in effects.created if ledger.object(r.object_id) is not None
    )
    assert cap is not None and cap.type.name == "UpgradeCap" and cap.owner == AddressOwner(sender)
    made = ledger.call(sender, package_id, "counter", "create")
    counter_ref = made.created[0][0]
    counter = ledger.object(counter_ref.object_id)
    assert counter is not None and isinstance(counter.owner, Shared)
    increment = {
        "op": "increment",
        "package": package_id.to_text(),
        "counter": counter.id.to_text(),
        "isv": counter.owner.initial_shared_version,
        "nonce": 2,
    }
    (call,) = oracle(sdk, [], [increment])["transactions"]
    done = ledger.execute_signed(SignedTransaction.from_base64(call["bytes"], [call["signature"]]))
    assert done.status is None and done.transaction_digest.to_text() == call["digest"]
    after = ledger.object(counter.id)
    assert after is not None and after.contents[-8:] == (1).to_bytes(8, "little")
    # every object and package of the store, as the SDK reads Sui's ObjectInner
    frozen = ledger.object(cap.id)
    assert frozen is not None
    stored: list[Any] = [*ledger.store, *ledger.store.packages.values()]
    answer = oracle(sdk, [s.to_bcs() for s in stored], [])
    for item, seen in zip(stored, answer["objects"], strict=True):
        assert seen["reserialized"] == item.to_bcs().hex()
        assert seen["digest"] == item.digest.raw.hex()
        assert seen["version"] == str(item.version)
        if seen["kind"] == "Move":
            assert seen["type"]["module"] == item.type.module.name and seen["type"]["name"] == item.type.name
            assert ObjectId.from_text(seen["type"]["address"]).raw == item.type.module.address
            expected_owner = {AddressOwner: "AddressOwner", Shared: "Shared", Immutable: "Immutable"}
            assert seen["owner"] == expected_owner[type(item.owner)]
        else:
            assert seen["kind"] == "Package" and seen["owner"] == "Immutable"
            assert sorted(seen["modules"]) == [name for name, _ in item.modules]


def test_an_sdk_built_upgrade_executes_and_matches_the_ledger_s(sdk: Path) -> None:
    key = Ed25519PrivateKey.from_private_bytes(SEED)
    sender = SuiAddress.from_ed25519_public_key(key.public_key().public_bytes_raw())
    ledger = SuiLedger.genesis()
    v1 = compile_for_publish(SAMPLE / "v1")
    v2 = compile_for_publish(SAMPLE / "v2")
    published = ledger.publish(sender, v1)
    assert published.status is None, published.status
    package = next(r.object_id for r, _ in published.created if ledger.package(r.object_id) is not None)
    cap = next(
        obj
        for r, _ in published.created
        if (obj := ledger.object(r.object_id)) is not None and obj.type.name == "UpgradeCap"
    )
    digest = package_digest(v2, [STD.raw, SUI.raw])
    spec = {
        "op": "upgrade",
        "cap": {"objectId": cap.id.to_text(), "version": str(cap.version), "digest": cap.digest.to_text()},
        "policy": 0,
        "digest": digest.hex(),
        "modules": [base64.b64encode(m).decode() for m in v2],
        "dependencies": ["0x1", "0x2"],
        "package": package.to_text(),
        "nonce": 3,
    }
    (built,) = oracle(sdk, [], [spec])["transactions"]
    theirs = TransactionData.from_bcs(base64.b64decode(built["bytes"]))
    ours = ProgrammableTransactionBuilder()
    ours.upgrade_with_cap(ImmOrOwnedObject(cap.ref), package, v2, [STD, SUI], 0, digest)
    assert theirs.kind == ours.finish()
    effects = ledger.execute_signed(SignedTransaction.from_base64(built["bytes"], [built["signature"]]))
    assert effects.status is None, effects.status
    assert effects.transaction_digest.to_text() == built["digest"]
    (new,) = [r.object_id for r, _ in effects.created if ledger.package(r.object_id) is not None]
    upgraded = ledger.package(new)
    assert upgraded is not None and upgraded.version == 2 and upgraded.original_id == package


def test_an_sdk_built_transaction_runs_through_consensus_with_the_sdks_digest(sdk: Path) -> None:
    """`subnet client execute-signed-tx`'s path: bytes and a signature made by the SDK, sent
    to a replica, ordered in a block and executed by all four; the certified response names
    the digest the SDK computed."""
    sim = Simulation(SimConfig(replicas=4, seed=3, duration_ns=600 * SECOND, workload=None))
    sim.step_until(2 * SECOND)
    modules = [base64.b64encode(m).decode() for m in compile_for_publish(EXAMPLES / "counter")]
    publish = {"op": "publish", "modules": modules, "dependencies": ["0x1", "0x2"], "nonce": 7}
    (built,) = oracle(sdk, [], [publish])["transactions"]
    result = SuiSimClient(sim).run(
        SignedTransaction.from_base64(built["bytes"], [built["signature"]]), node=2
    )
    response = json.loads(result.raise_if_rejected())
    assert response["digest"] == built["digest"] and response["effects"]["status"] == {"status": "success"}
    assert {change["type"] for change in response["objectChanges"]} == {"published", "created"}
