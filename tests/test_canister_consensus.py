"""Canisters under consensus on the simulated backend: install, call, upgrade, reinstall,
uninstall and chunked installs go through blocks and run on every replica; queries take
the fast path and come back signed by the replica that answered.

The simulation runs on its own virtual clock (``Simulation.step_until``): no wall-clock
sleeps anywhere here.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from client.agent import verify_query_response
from client.motoko import MotokoCanister, NodeNotFound, compile_motoko
from subnet.sim.runner import SECOND, SimConfig, Simulation
from tests.test_motoko import COUNTER_V1, COUNTER_V2, UNIT, nat
from vocab import crypto, management
from vocab.certificate import RequestResult
from vocab.envelope import SignedEnvelope
from vocab.principal import Principal
from vocab.request import RequestContent

KEY = crypto.private_key_from_seed(b"\x07" * 32)
USER = Principal.from_ed25519_public_key(crypto.raw_public_key(KEY))
KEEP = management.UpgradeFlags(wasm_memory_persistence="keep")

# post_upgrade traps unless the counter has a value it never has: the upgrade must fail.
COUNTER_BAD_UPGRADE = COUNTER_V2.replace(
    "public func inc()", "system func postupgrade() { assert (count == 123456789) };\n  public func inc()"
)


def compiled(source: str) -> MotokoCanister:
    try:
        return compile_motoko(source)
    except NodeNotFound as exc:
        pytest.skip(str(exc))
    raise AssertionError("unreachable")


class SimClient:
    """Signs requests as USER, hands them to one replica and steps virtual time until the
    certified result is in."""

    def __init__(self, sim: Simulation) -> None:
        self.sim = sim
        self.nonce = 0

    def envelope(
        self, canister: Principal, method: str, arg: bytes, request_type: str = "call"
    ) -> SignedEnvelope:
        self.nonce += 1
        content = RequestContent(
            request_type=request_type,
            sender=USER,
            canister_id=canister,
            method_name=method,
            arg=arg,
            ingress_expiry=self.sim.now + 60 * SECOND,
            nonce=self.nonce.to_bytes(8, "big"),
        )
        return SignedEnvelope.sign(content, KEY)

    def call(self, canister: Principal, method: str, arg: bytes = UNIT, node: int = 0) -> RequestResult:
        envelope = self.envelope(canister, method, arg)
        actions = self.sim.submit(envelope, node)
        assert not [a for a in actions if type(a).__name__ == "RejectIngress"], actions
        deadline = self.sim.now + 20 * SECOND
        while envelope.request_id not in self.sim.replies:
            assert self.sim.now < deadline, f"no certified reply to {method}"
            self.sim.step_until(self.sim.now + 50_000_000)
        return self.sim.replies[envelope.request_id].result

    def ok(self, canister: Principal, method: str, arg: bytes = UNIT) -> bytes:
        result = self.call(canister, method, arg)
        assert result.status == "replied", (method, result)
        return result.reply

    def management(self, method: str, value: object) -> Any:
        """Call a management method with its argument (a ``vocab.management`` dataclass);
        the reply decoded."""
        reply = self.ok(Principal.management(), method, management.encode_args(method, value))
        return management.decode_reply(method, reply)

    def create(self) -> Principal:
        return self.management(management.CREATE, management.CreateCanisterArgs()).canister_id

    def install(
        self, canister: Principal, wasm: bytes, mode: management.CanisterInstallMode
    ) -> RequestResult:
        return self.call(
            Principal.management(),
            management.INSTALL_CODE,
            management.encode_args(
                management.INSTALL_CODE, management.InstallCodeArgs(mode, canister, wasm, UNIT)
            ),
        )

    def settle(self) -> None:
        """Let every replica execute and certify what is finalized."""
        self.sim.step_until(self.sim.now + SECOND)

    def state_hashes(self) -> set[bytes]:
        self.settle()
        heights = {replica.executed_height for replica in self.sim.replicas if replica is not None}
        assert len(heights) == 1, heights
        return {replica.state_hash() for replica in self.sim.replicas if replica is not None}


@pytest.fixture(scope="module")
def v1() -> MotokoCanister:
    return compiled(COUNTER_V1)


def simulation(seed: int) -> Simulation:
    return Simulation(SimConfig(replicas=4, seed=seed, duration_ns=600 * SECOND, workload=None))


def test_the_lifecycle_of_a_motoko_counter_under_consensus(v1: MotokoCanister) -> None:
    sim = simulation(1)
    client = SimClient(sim)
    canister = client.create()
    assert client.install(canister, v1.wasm, "install").reply == UNIT
    assert client.ok(canister, "inc") == nat(1)
    assert client.ok(canister, "inc") == nat(2)
    assert client.ok(canister, "greet", b"DIDL\x00\x01\x71\x03Sam") == b"DIDL\x00\x01\x71\x0bHello, Sam!"

    v2 = compiled(COUNTER_V2)
    assert client.install(canister, v2.wasm, KEEP).reply == UNIT
    assert client.ok(canister, "get") == nat(2)  # state kept
    assert client.ok(canister, "getAdded") == nat(7)  # the new method
    assert len(client.state_hashes()) == 1

    assert client.install(canister, v1.wasm, "reinstall").reply == UNIT
    assert client.ok(canister, "get") == nat(0)  # state wiped

    # installing over code needs reinstall or upgrade
    again = client.install(canister, v1.wasm, "install")
    assert again.status == "rejected" and again.reject_code == 5 and again.error_code == "IC0538"

    client.management(management.STOP, management.CanisterIdRecord(canister))
    stopped = client.call(canister, "inc")
    assert stopped.reject_code == 5
    client.management(management.DELETE, management.CanisterIdRecord(canister))
    gone = client.call(canister, "inc")
    assert gone.reject_code == 3 and gone.error_code == "IC0301"
    assert len(client.state_hashes()) == 1


def test_a_trapping_post_upgrade_leaves_the_canister_as_it_was_everywhere(v1: MotokoCanister) -> None:
    sim = simulation(2)
    client = SimClient(sim)
    canister = client.create()
    client.install(canister, v1.wasm, "install")
    assert client.ok(canister, "inc") == nat(1)
    module_hashes = {r.state.ic.env.canister(canister).module_hash for r in sim.replicas}
    bad = compiled(COUNTER_BAD_UPGRADE)
    failed = client.install(canister, bad.wasm, KEEP)
    assert failed.status == "rejected" and failed.reject_code == 5
    assert {r.state.ic.env.canister(canister).module_hash for r in sim.replicas} == module_hashes
    assert client.ok(canister, "get") == nat(1)
    assert client.ok(canister, "inc") == nat(2)
    assert len(client.state_hashes()) == 1


def test_a_large_module_travels_in_chunks_and_is_checked_against_its_hash(v1: MotokoCanister) -> None:
    sim = simulation(3)
    client = SimClient(sim)
    canister = client.create()
    wasm = v1.wasm
    size = (len(wasm) + 2) // 3
    hashes = []
    for start in range(0, len(wasm), size):
        chunk = management.UploadChunkArgs(canister, wasm[start : start + size])
        hashes.append(client.management(management.UPLOAD_CHUNK, chunk).hash)
    assert hashes == [hashlib.sha256(wasm[s : s + size]).digest() for s in range(0, len(wasm), size)]
    stored = client.management(management.STORED_CHUNKS, management.CanisterIdRecord(canister))
    assert [item.hash for item in stored] == sorted(hashes)
    listed = tuple(management.ChunkHash(digest) for digest in hashes)
    wrong = client.call(
        Principal.management(),
        management.INSTALL_CHUNKED_CODE,
        management.encode_args(
            management.INSTALL_CHUNKED_CODE,
            management.InstallChunkedCodeArgs("install", canister, listed, b"\x00" * 32, UNIT),
        ),
    )
    assert wrong.reject_code == 5 and "does not match" in (wrong.reject_message or "")
    right = client.call(
        Principal.management(),
        management.INSTALL_CHUNKED_CODE,
        management.encode_args(
            management.INSTALL_CHUNKED_CODE,
            management.InstallChunkedCodeArgs(
                "install", canister, listed, hashlib.sha256(wasm).digest(), UNIT
            ),
        ),
    )
    assert right.reply == UNIT
    assert client.ok(canister, "inc") == nat(1)
    client.management(management.UNINSTALL_CODE, management.UninstallCodeArgs(canister))
    empty = client.call(canister, "inc")
    assert empty.reject_code == 3 and empty.error_code == "IC0537"
    assert len(client.state_hashes()) == 1


def test_queries_take_the_fast_path_signed_by_the_replica_that_answered(v1: MotokoCanister) -> None:
    from dataclasses import replace

    from client.agent import verify_query_response
    from vocab.certificate import CertificateError
    from vocab.codec import decode_frame, encode_message

    sim = simulation(4)
    client = SimClient(sim)
    canister = client.create()
    client.install(canister, v1.wasm, "install")
    client.ok(canister, "inc")
    client.settle()
    committee = sim.genesis.committee
    heights_before = [replica.executed_height for replica in sim.replicas]

    envelope = client.envelope(canister, "greet", b"DIDL\x00\x01\x71\x03Sam", request_type="query")
    answers = [sim.replicas[node].query(envelope, sim.now) for node in range(4)]
    for node, answer in enumerate(answers):
        answer = decode_frame(encode_message(answer))  # it crosses the wire intact
        assert verify_query_response(answer, committee, envelope.request_id) is answer
        assert answer.node_index == node and answer.status == "replied"
        assert answer.reply == b"DIDL\x00\x01\x71\x0bHello, Sam!"
    assert len({answer.outcome() for answer in answers}) == 1  # K replicas agree
    # no consensus: nothing was executed, and the state is what it was
    assert [replica.executed_height for replica in sim.replicas] == heights_before
    assert len(client.state_hashes()) == 1

    forged = replace(answers[0], reply=b"DIDL\x00\x01\x71\x0bHello, Bob!")
    with pytest.raises(CertificateError, match="does not verify"):
        verify_query_response(forged, committee, envelope.request_id)
    stolen = replace(answers[0], node_index=1)  # node 0's signature passed off as node 1's
    with pytest.raises(CertificateError):
        verify_query_response(stolen, committee, envelope.request_id)
    with pytest.raises(CertificateError, match="another request"):
        verify_query_response(answers[0], committee, b"\x00" * 32)

    count = sim.replicas[2].query(client.envelope(canister, "get", UNIT, request_type="query"), sim.now)
    assert count.reply == nat(1)
    as_update = sim.replicas[2].query(client.envelope(canister, "inc", UNIT), sim.now)
    assert as_update.status == "rejected" and as_update.reject_code == 1
    not_a_query = sim.replicas[2].query(client.envelope(canister, "inc", UNIT, request_type="query"), sim.now)
    assert not_a_query.status == "rejected" and not_a_query.reject_code == 3
    verify_query_response(not_a_query, committee, not_a_query.request_id)


def test_queries_read_only_a_certified_state(v1: MotokoCanister) -> None:
    """Between executing a block and receiving its certificate, a replica's state is not
    certified: a query then gets SYS_TRANSIENT IC0208, never an answer from that state."""
    sim = simulation(5)
    client = SimClient(sim)
    canister = client.create()
    client.install(canister, v1.wasm, "install")
    client.settle()
    query = client.envelope(canister, "get", UNIT, request_type="query")
    before = sim.replicas[1].query(query, sim.now)
    assert before.status == "replied" and before.reply == nat(0)

    update = client.envelope(canister, "inc", UNIT)
    sim.submit(update, 0)
    seen_uncertified = False
    deadline = sim.now + 20 * SECOND
    while update.request_id not in sim.replies or not sim.replicas[1].query_ready():
        assert sim.now < deadline
        sim.step_until(sim.now + 1_000_000)
        replica = sim.replicas[1]
        if not replica.query_ready():
            seen_uncertified = True
            answer = replica.query(query, sim.now)
            assert (answer.status, answer.reject_code, answer.error_code) == ("rejected", 2, "IC0208")
            assert answer.height == replica.executed_height > replica.certified_height
    assert seen_uncertified, "the step never landed between execution and certification"
    after = sim.replicas[1].query(query, sim.now)
    assert after.status == "replied" and after.reply == nat(1)
    assert after.height == sim.replicas[1].certified_height


def test_a_query_prepared_on_a_certified_state_answers_from_it_after_later_blocks(
    v1: MotokoCanister,
) -> None:
    """A query's Wasm may run on another thread after it was prepared (the process
    backend's query threads): meanwhile the replica executes later blocks, and the query
    still answers from the certified state it was prepared on, at that height."""
    sim = simulation(6)
    client = SimClient(sim)
    canister = client.create()
    client.install(canister, v1.wasm, "install")
    client.settle()
    replica = sim.replicas[1]
    assert replica is not None and replica.query_ready()
    height = replica.certified_height
    envelope = client.envelope(canister, "get", UNIT, request_type="query")
    pending = replica.prepare_query(envelope, sim.now)
    assert client.ok(canister, "inc") == nat(1)
    client.settle()
    assert replica.executed_height > height
    pending.run()
    answer = verify_query_response(pending.finish(), sim.genesis.committee, envelope.request_id)
    assert (answer.status, answer.reply, answer.height) == ("replied", nat(0), height)
    fresh = replica.query(client.envelope(canister, "get", UNIT, request_type="query"), sim.now)
    assert (fresh.reply, fresh.height) == (nat(1), replica.certified_height)
