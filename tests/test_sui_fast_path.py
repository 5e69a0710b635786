"""The owned-object fast path (Sui Lutris) on the simulated backend: votes lock owned
versions, 2f+1 votes certify, a certificate executes at once on every replica it reaches
and is sequenced through consensus afterwards, so that every replica's certified state
covers it. Equivocation leaves an object locked until the epoch ends; a Byzantine replica
voting for both sides cannot make two certificates; a crashed replica comes back with its
locks and its executions. Virtual time only.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from node.sui.ledger import OWNED_NEEDS_CERTIFICATE, STD, SUI, SuiLedger, compile_for_publish
from node.sui.locks import LockTable
from node.sui.type_map import UPGRADE_CAP
from subnet.cli import main
from subnet.processes.layout import create_subnet
from subnet.sim.runner import SECOND, SimConfig, Simulation
from tests.test_sui_consensus import ALICE, ALICE_KEY, BOB, BOB_KEY, EXAMPLES, SuiSimClient
from vocab import crypto
from vocab.codec import decode_frame, encode_message
from vocab.errors import SuiError
from vocab.genesis import Genesis
from vocab.messages import SubmitRequest, SuiCertificateRequest, SuiSignedEffects
from vocab.sui.address import ObjectId, SuiAddress
from vocab.sui.builder import ProgrammableTransactionBuilder
from vocab.sui.certificate import (
    EFFECTS_DOMAIN,
    VOTE_DOMAIN,
    CertifiedTransaction,
    effects_message,
    sign_vote,
    vote_message,
)
from vocab.sui.digests import Digest
from vocab.sui.objects import ObjectRef
from vocab.sui.signed import SignedTransaction

CAROL = SuiAddress.from_ed25519_public_key(crypto.raw_public_key(crypto.private_key_from_seed(b"\x0c" * 32)))


@pytest.fixture(scope="module")
def counter_wasm() -> list[bytes]:
    return compile_for_publish(EXAMPLES / "counter")


def simulation(epoch_s: int | None = None) -> Simulation:
    params: dict[str, Any] = {}
    if epoch_s is not None:
        params["sui_epoch_duration_ns"] = epoch_s * SECOND
    return Simulation(
        SimConfig(replicas=4, seed=5, duration_ns=600 * SECOND, workload=None, genesis_params=params)
    )


class FastClient(SuiSimClient):
    """Drives the fast path by hand, replica by replica (``client.fast_path`` does the same
    over TCP, concurrently)."""

    def certify(self, signed: SignedTransaction, nodes: range | list[int] = range(4)) -> CertifiedTransaction:
        certificate = self.certificate(signed, nodes)
        assert certificate is not None, {
            i: (v.error, v.message) for i, v in self.votes(signed, nodes).items()
        }
        return certificate

    def execute(
        self, certificate: CertifiedTransaction, nodes: range | list[int] = range(4)
    ) -> dict[int, SuiSignedEffects]:
        answers: dict[int, SuiSignedEffects] = {}
        for node in nodes:
            answer = self.sim.fast_path(node, SuiCertificateRequest(certificate))
            assert isinstance(answer, SuiSignedEffects)
            answers[node] = answer
        return answers

    def fast(self, signed: SignedTransaction) -> dict[str, Any]:
        certificate = self.certify(signed)
        effects = self.execute(certificate)
        assert all(not e.error for e in effects.values()), {i: e.message for i, e in effects.items()}
        response: dict[str, Any] = json.loads(effects[0].response)
        return response

    def read(self, method: str, params: list[Any], node: int = 0) -> dict[str, Any]:
        """A read once the replica's newest state is certified (it answers IC0208 before)."""
        replica = self.sim.replicas[node]
        deadline = self.sim.now + 10 * SECOND
        while replica is not None and not replica.query_ready():
            assert self.sim.now < deadline, "never certified"
            self.sim.step_until(self.sim.now + 20_000_000)
        return super().read(method, params, node)

    def sequenced(self, digest: bytes) -> None:
        """Step virtual time until every replica's sequenced store holds ``digest``."""
        deadline = self.sim.now + 30 * SECOND
        while not all(
            r is not None and r.state.sui.has_executed(digest) and r.query_ready()  # type: ignore[union-attr]
            for r in self.sim.replicas
        ):
            assert self.sim.now < deadline, "not sequenced"
            self.sim.step_until(self.sim.now + 50_000_000)


def publish_fast(client: FastClient, modules: list[bytes]) -> tuple[ObjectId, ObjectRef]:
    builder = ProgrammableTransactionBuilder()
    cap = builder.publish(modules, [STD, SUI])
    builder.transfer_objects([cap], ALICE)
    response = client.fast(client.signed(builder.finish()))
    assert response["effects"]["status"]["status"] == "success"
    (published,) = [c for c in response["objectChanges"] if c["type"] == "published"]
    (created,) = [c for c in response["objectChanges"] if c["type"] == "created"]
    ref = ObjectRef(
        ObjectId.from_text(created["objectId"]), int(created["version"]), Digest.from_text(created["digest"])
    )
    client.sequenced(Digest.from_text(response["digest"]).raw)
    return ObjectId.from_text(published["packageId"]), ref


def transfer(client: FastClient, ref: ObjectRef, to: SuiAddress, key: Any = ALICE_KEY) -> SignedTransaction:
    builder = ProgrammableTransactionBuilder()
    builder.transfer_objects([builder.object(_owned(ref))], to)
    return client.signed(builder.finish(), key)


def _owned(ref: ObjectRef) -> Any:
    from vocab.sui.transaction import ImmOrOwnedObject

    return ImmOrOwnedObject(ref)


def owner_of(client: FastClient, object_id: ObjectId, node: int = 0) -> str:
    data = client.read("sui_getObject", [object_id.to_text()], node)["data"]
    owner: str = data["owner"]["AddressOwner"]
    return owner


def test_an_owned_transfer_is_final_before_any_block_and_sequenced_after(counter_wasm: list[bytes]) -> None:
    sim = simulation()
    client = FastClient(sim)
    package, cap = publish_fast(client, counter_wasm)
    signed = transfer(client, cap, BOB)
    certificate = client.certify(signed)
    height = max(r.executed_height for r in sim.replicas if r is not None)
    effects = client.execute(certificate)
    # Finality: four matching effects signatures, each verifying under the committee's keys.
    assert len({(e.effects_digest, e.response) for e in effects.values()}) == 1
    for node, answer in effects.items():
        key = sim.genesis.committee.public_keys[node]
        message = effects_message(answer.epoch, signed.request_id, answer.effects_digest, answer.response)
        assert crypto.verify(key, answer.signature, EFFECTS_DOMAIN, message)
    # No block ran meanwhile, yet every replica shows Bob as the owner (the fast view) ...
    assert max(r.executed_height for r in sim.replicas if r is not None) == height
    assert all(owner_of(client, cap.object_id, node) == BOB.to_text() for node in range(4))
    # ... while the sequenced (certified) store has not changed yet.
    ledger = sim.replicas[0].state.sui  # type: ignore[union-attr]
    assert ledger.store.get(cap.object_id).owner.address == ALICE
    client.sequenced(signed.request_id)
    sim.step_until(sim.now + 2 * SECOND)
    stores = [r.state.sui.store for r in sim.replicas]  # type: ignore[union-attr]
    assert all(store.get(cap.object_id).owner.address == BOB for store in stores)
    assert len({r.state_hash() for r in sim.replicas}) == 1  # type: ignore[union-attr]
    assert all(not r.state.sui.fast.entries for r in sim.replicas)  # type: ignore[union-attr]
    # The certified state covers it: the newest certified height's hash is every replica's.
    top = min(r.certified_height for r in sim.replicas)  # type: ignore[union-attr]
    assert top > height
    assert len({r.certifier.certificates[top].state_hash for r in sim.replicas}) == 1  # type: ignore[union-attr]
    del package


def test_a_replica_down_between_certificate_and_execution_executes_it_in_block_order(
    counter_wasm: list[bytes],
) -> None:
    sim = simulation()
    client = FastClient(sim)
    _, cap = publish_fast(client, counter_wasm)
    signed = transfer(client, cap, BOB)
    certificate = client.certify(signed)
    sim.crash(3)  # voted, then down: it never sees the certificate, by the client or by gossip
    effects = client.execute(certificate, [0, 1, 2])  # finality with three
    assert len({e.response for e in effects.values()}) == 1 and len(effects) == 3
    deadline = sim.now + 30 * SECOND
    while not all(sim.replicas[i].state.sui.has_executed(signed.request_id) for i in range(3)):  # type: ignore[union-attr]
        assert sim.now < deadline, "not sequenced"
        sim.step_until(sim.now + 50_000_000)
    sim.restart(3)  # catches up from its peers: the certificate comes to it in a block
    client.sequenced(signed.request_id)
    sim.step_until(sim.now + 2 * SECOND)
    restarted = sim.replicas[3]
    assert restarted is not None and not restarted.state.sui.fast.entries  # type: ignore[attr-defined]
    assert len({r.state_hash() for r in sim.replicas}) == 1  # type: ignore[union-attr]
    assert owner_of(client, cap.object_id, 3) == BOB.to_text()
    # Replicas that committed their fast execution and the one that executed it in block
    # order certified the same results: the reply the fast path signed (a different one
    # would be a divergence).
    assert not [n for _, _, n in sim.notices if n.kind == "divergence"]
    assert all(not r.certifier.divergent for r in sim.replicas)  # type: ignore[union-attr]
    ledger = restarted.state.sui  # type: ignore[attr-defined]
    assert ledger.transaction_json(ledger.effects(signed.digest), ALICE) == json.loads(effects[0].response)


def test_certificates_without_a_quorum_or_with_a_forged_vote_are_refused(counter_wasm: list[bytes]) -> None:
    sim = simulation()
    client = FastClient(sim)
    _, cap = publish_fast(client, counter_wasm)
    signed = transfer(client, cap, BOB)
    # A transaction signed by someone else is refused a vote by every replica, by Sui's name.
    forged_tx = SignedTransaction(signed.tx_bytes, transfer(client, cap, BOB, BOB_KEY).signatures)
    assert {v.error for v in client.votes(forged_tx).values()} == {"IncorrectSigner"}
    good = client.certify(signed)
    committee = sim.genesis.committee
    two = CertifiedTransaction(signed, good.epoch, good.signers[:2], good.signatures[:2])
    with pytest.raises(SuiError) as short:
        two.verify(committee)
    assert short.value.name == "CertificateRequiresQuorum"
    forged = CertifiedTransaction(
        signed, good.epoch, good.signers, (good.signatures[0], good.signatures[0], good.signatures[2])
    )
    with pytest.raises(SuiError) as bad:
        forged.verify(committee)
    assert bad.value.name == "InvalidSignature"
    twice = CertifiedTransaction(
        signed, good.epoch, (0, 0, 1), (good.signatures[0],) * 2 + (good.signatures[1],)
    )
    with pytest.raises(SuiError) as repeated:
        twice.verify(committee)
    assert repeated.value.name == "StakeAggregatorRepeatedSigner"
    for certificate, name in ((two, "CertificateRequiresQuorum"), (forged, "InvalidSignature")):
        answers = client.execute(certificate)
        assert {a.error for a in answers.values()} == {name}
        # Refused at ingress too, so no block can carry it.
        assert sim.client_submit(certificate, 0) == ("rejected", name)
    assert owner_of(client, cap.object_id) == ALICE.to_text()
    # A certificate survives the wire as a block's payload does.
    frame = encode_message(SubmitRequest(good))
    assert decode_frame(frame) == SubmitRequest(good)


def test_equivocation_locks_the_object_until_the_epoch_ends(counter_wasm: list[bytes]) -> None:
    sim = simulation(epoch_s=30)
    client = FastClient(sim)
    _, cap = publish_fast(client, counter_wasm)
    to_bob, to_carol = transfer(client, cap, BOB), transfer(client, cap, CAROL)
    first = client.votes(to_bob, [0, 1])
    second = client.votes(to_carol, [2, 3])
    assert not any(v.error for v in [*first.values(), *second.values()])
    # Each replica refuses the other transaction: neither can reach 3 votes.
    late_bob = client.votes(to_bob, [2, 3])
    late_carol = client.votes(to_carol, [0, 1])
    assert {v.error for v in [*late_bob.values(), *late_carol.values()]} == {"ObjectLockConflict"}
    assert to_carol.digest.to_text() in late_bob[2].message
    # A new transaction on the same version is refused too, until the epoch changes.
    retry = transfer(client, cap, BOB)
    assert {v.error for v in client.votes(retry).values()} == {"ObjectLockConflict"}
    epoch = sim.replicas[0].state.sui.epoch  # type: ignore[union-attr]
    deadline = sim.now + 60 * SECOND
    while not all(r.state.sui.epoch > epoch for r in sim.replicas):  # type: ignore[union-attr]
        assert sim.now < deadline
        sim.step_until(sim.now + SECOND)
    assert all(r.locks.epoch == epoch + 1 and len(r.locks) == 0 for r in sim.replicas)  # type: ignore[union-attr]
    # Votes of the old epoch no longer make a certificate for the new one ...
    response = client.fast(retry)
    assert response["effects"]["status"]["status"] == "success"
    assert response["effects"]["executedEpoch"] == str(epoch + 1)
    assert owner_of(client, cap.object_id) == BOB.to_text()


def test_a_byzantine_replica_voting_both_ways_cannot_make_two_certificates(counter_wasm: list[bytes]) -> None:
    sim = simulation()
    client = FastClient(sim)
    _, cap = publish_fast(client, counter_wasm)
    to_bob, to_carol = transfer(client, cap, BOB), transfer(client, cap, CAROL)
    byzantine = sim.keys[3]
    epoch = sim.replicas[0].state.sui.epoch  # type: ignore[union-attr]
    committee = sim.genesis.committee
    honest_bob = client.votes(to_bob, [0, 1])
    honest_carol = client.votes(to_carol, [2])
    assert {v.error for v in client.votes(to_carol, [0, 1]).values()} == {"ObjectLockConflict"}
    assert {v.error for v in client.votes(to_bob, [2]).values()} == {"ObjectLockConflict"}
    for signed, honest in ((to_bob, honest_bob), (to_carol, honest_carol)):
        votes = {i: v.signature for i, v in honest.items()}
        votes[3] = sign_vote(byzantine, epoch, signed.request_id)  # replica 3 signs both
        for i, signature in votes.items():
            assert crypto.verify(
                committee.public_keys[i], signature, VOTE_DOMAIN, vote_message(epoch, signed.request_id)
            )
        signers = tuple(sorted(votes))
        certificate = CertifiedTransaction(signed, epoch, signers, tuple(votes[i] for i in signers))
        if signed is to_bob:
            certificate.verify(committee)  # 0, 1 and 3: a quorum
        else:
            with pytest.raises(SuiError, match="CertificateRequiresQuorum|quorum"):
                certificate.verify(committee)  # 2 and 3 only


def test_a_restarted_replica_keeps_its_locks_and_its_fast_executions(counter_wasm: list[bytes]) -> None:
    sim = simulation()
    client = FastClient(sim)
    _, cap = publish_fast(client, counter_wasm)
    sim.step_until(sim.now + 3 * SECOND)
    to_bob, to_carol = transfer(client, cap, BOB), transfer(client, cap, CAROL)
    assert not client.votes(to_bob, [1])[1].error
    sim.crash(1)
    sim.restart(1)
    sim.step_until(sim.now + SECOND)
    assert client.votes(to_carol, [1])[1].error == "ObjectLockConflict"
    # Executed on 0..2, then replica 2 crashes before any block sequences it: back up, it
    # has executed it again from what it persisted and still shows it.
    certificate = client.certify(to_bob, [0, 1, 2])
    client.execute(certificate, [0, 1, 2])
    sim.crash(2)
    sim.restart(2)
    assert owner_of(client, cap.object_id, 2) == BOB.to_text()
    client.sequenced(to_bob.request_id)
    sim.step_until(sim.now + 2 * SECOND)
    assert len({r.state_hash() for r in sim.replicas}) == 1  # type: ignore[union-attr]


def test_a_bare_transaction_may_not_consume_an_owned_object(counter_wasm: list[bytes]) -> None:
    sim = simulation()
    client = FastClient(sim)
    _, cap = publish_fast(client, counter_wasm)
    bare = transfer(client, cap, BOB)
    sim.submit(bare, 0)  # not certified first, as SuiSimClient.run would
    deadline = sim.now + 20 * SECOND
    while bare.request_id not in sim.replies:
        assert sim.now < deadline, "no certified reply"
        sim.step_until(sim.now + 50_000_000)
    result = sim.replies[bare.request_id].result
    assert result.status == "rejected" and result.error_code == OWNED_NEEDS_CERTIFICATE
    assert owner_of(client, cap.object_id) == ALICE.to_text()


def test_a_certificate_sequenced_before_the_one_that_makes_its_input_waits_for_it(
    counter_wasm: list[bytes],
) -> None:
    ledger = SuiLedger.genesis()
    committee_free = ledger.publish(ALICE, counter_wasm)  # sequenced directly: no votes needed here
    (cap_id,) = [
        ref.object_id
        for ref, _ in committee_free.created
        if getattr(ledger.store.get(ref.object_id), "type", None) == UPGRADE_CAP
    ]
    cap = ledger.store.get(cap_id)
    assert cap is not None
    first = SignedTransaction.sign(ledger.transaction(ALICE, [_owned(cap.ref)], []), [ALICE_KEY])
    builder = ProgrammableTransactionBuilder()
    builder.transfer_objects([builder.object(_owned(cap.ref))], BOB)
    move = SignedTransaction.sign(
        ledger.transaction(ALICE, builder.finish().inputs, builder.finish().commands), [ALICE_KEY]
    )
    moved = ledger.execute_certificate(CertifiedTransaction(move, 0, (0, 1, 2), (b"\0" * 64,) * 3))
    (bob_ref,) = [ref for ref, _ in moved.effects.mutated]
    builder = ProgrammableTransactionBuilder()
    builder.transfer_objects([builder.object(_owned(bob_ref))], CAROL)
    onward = SignedTransaction.sign(
        ledger.transaction(BOB, builder.finish().inputs, builder.finish().commands),
        [crypto.private_key_from_seed(b"\x0b" * 32)],
    )
    onward_certificate = CertifiedTransaction(onward, 0, (0, 1, 2), (b"\0" * 64,) * 3)
    # Consensus orders the second before the first: it waits (no result yet), then runs.
    assert ledger.execute_sequenced(onward_certificate, height=7) == []
    assert len(ledger.store.deferred) == 1
    results = ledger.execute_sequenced(CertifiedTransaction(move, 0, (0, 1, 2), (b"\0" * 64,) * 3), height=8)
    assert [r.request_id for r in results] == [move.request_id, onward.request_id]
    assert all(r.status == "replied" for r in results)
    assert ledger.store.get(cap_id).owner.address == CAROL  # type: ignore[union-attr]
    assert not ledger.store.deferred
    del first


def test_lock_table_is_all_or_nothing_and_resets_with_the_epoch() -> None:
    table = LockTable()
    a, b = ObjectId(b"\x01" * 32), ObjectId(b"\x02" * 32)
    t1, t2 = b"\x11" * 32, b"\x22" * 32
    assert table.acquire([(a, 1)], t1) is None
    conflict = table.acquire([(b, 1), (a, 1)], t2)
    assert conflict is not None and conflict.holder == t1
    assert table.holder(b, 1) is None  # nothing locked by the refused attempt
    assert table.acquire([(a, 1), (b, 1)], t1) is None  # the same transaction again: fine
    table.new_epoch(1)
    assert table.acquire([(a, 1)], t2) is None


def test_shared_versions_follow_suis_rule_on_a_known_sequence(counter_wasm: list[bytes]) -> None:
    """Only mutable uses advance a shared object's version; a transaction's outputs get 1 +
    the highest input version (``reference/sui.md`` 4), checked on a sequence worked by hand."""
    ledger = SuiLedger.genesis()
    published = ledger.publish(ALICE, counter_wasm)
    package = next(ref.object_id for ref, _ in published.created if ledger.package(ref.object_id))
    (cap_id,) = [
        ref.object_id
        for ref, _ in published.created
        if getattr(ledger.object(ref.object_id), "type", None) == UPGRADE_CAP
    ]
    created = ledger.call(ALICE, package, "counter", "create")
    counter = created.created[0][0].object_id
    start = ledger.object(counter).version  # type: ignore[union-attr]
    assert ledger.object(counter).owner.initial_shared_version == start  # type: ignore[union-attr]

    bump = ledger.call(ALICE, package, "counter", "increment", [ledger.shared(counter)])
    assert bump.lamport_version == start + 1 and ledger.object(counter).version == start + 1  # type: ignore[union-attr]

    # A read-only use: the object keeps its version, though the transaction's Lamport
    # version is computed over it.
    read = ledger.call(
        ALICE, package, "counter", "assert_value", [ledger.shared(counter, mutable=False), _pure_u64(1)]
    )
    assert read.success and read.lamport_version == start + 2
    assert ledger.object(counter).version == start + 1  # type: ignore[union-attr]
    assert [ref.version for ref in read.shared_objects] == [start + 1]
    assert not read.mutated

    # Mixed: an owned object far ahead (moved twice) and the shared counter: both outputs at
    # 1 + the highest input version.
    for _ in range(2):
        ledger.execute(
            ledger.transaction(
                ALICE, [_owned(ledger.object(cap_id).ref), _pure_address(ALICE)], _transfer_cmd()
            )
        )  # type: ignore[union-attr]
    cap_version = ledger.object(cap_id).version  # type: ignore[union-attr]
    assert cap_version > start + 1
    builder = ProgrammableTransactionBuilder()
    shared_arg = builder.object(ledger.shared(counter))
    builder.move_call(package, "counter", "increment", [], [shared_arg])
    builder.transfer_objects([builder.object(_owned(ledger.object(cap_id).ref))], ALICE)  # type: ignore[union-attr]
    built = builder.finish()
    mixed = ledger.execute(ledger.transaction(ALICE, built.inputs, built.commands))
    assert mixed.success and mixed.lamport_version == cap_version + 1
    assert ledger.object(counter).version == ledger.object(cap_id).version == cap_version + 1  # type: ignore[union-attr]


def _pure_u64(value: int) -> Any:
    from vocab.sui.transaction import Pure

    return Pure(value.to_bytes(8, "little"))


def _pure_address(address: SuiAddress) -> Any:
    from vocab.sui.transaction import Pure

    return Pure(address.raw)


def _transfer_cmd() -> list[Any]:
    from vocab.sui.transaction import Input, TransferObjects

    return [TransferObjects((Input(0),), Input(1))]


def test_the_epoch_length_is_a_setting_of_the_subnet(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    genesis = create_subnet(tmp_path / "local", 4, 40500, 100, None, 5_000)
    assert genesis.sui_epoch_duration_ns == 5 * SECOND
    assert Genesis.from_json((tmp_path / "local" / "genesis.json").read_text()) == genesis
    assert create_subnet(tmp_path / "other", 4, 40500, 100).sui_epoch_duration_ns == 24 * 3600 * SECOND
    with pytest.raises(SystemExit):
        main(["start", "--epoch-duration", "5"])  # under a second: refused before anything starts
    assert "--epoch-duration" in capsys.readouterr().err
