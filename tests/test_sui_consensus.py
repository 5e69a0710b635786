"""Sui transactions under consensus on the simulated backend: signed transactions ride in
blocks beside canister calls, run on every replica, come back certified, are refused by
ingress with Sui's error names, never run twice, and leave every replica with the same
state hash; reads of objects take the fast path, signed by the replica that answered.

Virtual time only (``Simulation.step_until``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from client.sui import encode_argument
from node.actions import RejectIngress
from node.checkpoint import encode_checkpoint, restore_checkpoint
from node.execution import SubnetStateMachine
from node.ic.state_machine import WasmStateMachine
from node.ingress import IngressGossip
from node.sui.ledger import STD, SUI, compile_for_publish
from subnet.cli import main
from subnet.scenario import ScenarioError, parse_scenario
from subnet.sim.runner import SECOND, SimConfig, Simulation
from vocab import crypto
from vocab.certificate import RequestResult
from vocab.codec import decode_frame, encode_message
from vocab.errors import CodecError
from vocab.messages import SubmitRequest, SuiReadRequest, SuiVote, SuiVoteRequest
from vocab.sui.address import ObjectId, SuiAddress
from vocab.sui.builder import ProgrammableTransactionBuilder
from vocab.sui.certificate import CertifiedTransaction
from vocab.sui.digests import Digest
from vocab.sui.objects import ObjectRef
from vocab.sui.signed import SignedTransaction
from vocab.sui.transaction import (
    GasData,
    ImmOrOwnedObject,
    ProgrammableTransaction,
    SharedObject,
    TransactionData,
    ValidDuring,
)
from vocab.sui.type_tag import parse_type_tag

EXAMPLES = Path(__file__).parent / "move_examples"
ALICE_KEY = crypto.private_key_from_seed(b"\x0a" * 32)
BOB_KEY = crypto.private_key_from_seed(b"\x0b" * 32)
ALICE = SuiAddress.from_ed25519_public_key(crypto.raw_public_key(ALICE_KEY))
BOB = SuiAddress.from_ed25519_public_key(crypto.raw_public_key(BOB_KEY))


@pytest.fixture(scope="module")
def counter_wasm() -> list[bytes]:
    return compile_for_publish(EXAMPLES / "counter")


class SuiSimClient:
    """Signs transactions, hands them to one replica, steps virtual time until certified."""

    def __init__(self, sim: Simulation) -> None:
        self.sim = sim
        self.nonce = 0

    def signed(self, kind: ProgrammableTransaction, key: Any = ALICE_KEY) -> SignedTransaction:
        self.nonce += 1
        sender = SuiAddress.from_ed25519_public_key(crypto.raw_public_key(key))
        tx = TransactionData(
            kind,
            sender,
            GasData((), sender, 1000, 50_000_000),
            ValidDuring(None, None, None, None, Digest(bytes(32)), self.nonce),
        )
        return SignedTransaction.sign(tx, [key])

    def votes(self, signed: SignedTransaction, nodes: Any = None) -> dict[int, SuiVote]:
        """Each reachable replica's vote (or refusal) for ``signed``: the fast path's first step."""
        answers: dict[int, SuiVote] = {}
        for node in range(self.sim.n) if nodes is None else nodes:
            answer = self.sim.fast_path(node, SuiVoteRequest(signed))
            if answer is not None:
                assert isinstance(answer, SuiVote)
                answers[node] = answer
        return answers

    def certificate(self, signed: SignedTransaction, nodes: Any = None) -> CertifiedTransaction | None:
        """2f+1 votes as a certificate, or None if the replicas refuse (``client.fast_path``
        does this over TCP)."""
        good = {i: v for i, v in self.votes(signed, nodes).items() if not v.error}
        threshold = self.sim.genesis.committee.threshold
        if len(good) < threshold:
            return None
        signers = sorted(good)[:threshold]
        return CertifiedTransaction(
            signed, good[signers[0]].epoch, tuple(signers), tuple(good[i].signature for i in signers)
        )

    def run(self, signed: SignedTransaction, node: int = 0) -> RequestResult:
        """The certified result through consensus. A transaction naming owned objects is
        certified first (the votes lock them, as ``SuiClient`` does), then ordered; one the
        replicas refuse to vote for goes bare, to be refused by name in the block."""
        message: SignedTransaction | CertifiedTransaction = signed
        if any(isinstance(arg, ImmOrOwnedObject) for arg in signed.transaction().kind.inputs):
            message = self.certificate(signed) or signed
        actions = self.sim.submit(message, node)
        assert not [a for a in actions if isinstance(a, RejectIngress)], actions
        deadline = self.sim.now + 20 * SECOND
        while signed.request_id not in self.sim.replies:
            assert self.sim.now < deadline, "no certified reply"
            self.sim.step_until(self.sim.now + 50_000_000)
        return self.sim.replies[signed.request_id].result

    def ok(self, kind: ProgrammableTransaction, key: Any = ALICE_KEY) -> dict[str, Any]:
        result = self.run(self.signed(kind, key))
        assert result.status == "replied", result
        response: dict[str, Any] = json.loads(result.reply)
        assert response["effects"]["status"]["status"] == "success", response["effects"]["status"]
        return response

    def read(self, method: str, params: list[Any], node: int = 0) -> dict[str, Any]:
        replica = self.sim.replicas[node]
        assert replica is not None
        answer = replica.sui_read(SuiReadRequest(method, json.dumps(params).encode()), self.sim.now)
        assert answer.status == "replied", answer
        parsed: dict[str, Any] = json.loads(answer.reply)
        return parsed


def simulation(seed: int = 11) -> Simulation:
    return Simulation(SimConfig(replicas=4, seed=seed, duration_ns=600 * SECOND, workload=None))


def publish(client: SuiSimClient, modules: list[bytes]) -> ObjectId:
    builder = ProgrammableTransactionBuilder()
    cap = builder.publish(modules, [STD, SUI])
    builder.transfer_objects([cap], ALICE)
    response = client.ok(builder.finish())
    (published,) = [c for c in response["objectChanges"] if c["type"] == "published"]
    return ObjectId.from_text(published["packageId"])


def call(package: ObjectId, function: str, *inputs: Any) -> ProgrammableTransaction:
    builder = ProgrammableTransactionBuilder()
    arguments = [builder.object(i) if not isinstance(i, bytes) else builder.pure_bytes(i) for i in inputs]
    builder.move_call(package, "counter", function, [], arguments)
    return builder.finish()


def run_counter(sim: Simulation, counter_wasm: list[bytes], increments: int) -> tuple[SuiSimClient, ObjectId]:
    client = SuiSimClient(sim)
    sim.step_until(2 * SECOND)
    package = publish(client, counter_wasm)
    created = client.ok(call(package, "create"))
    (counter_change,) = [c for c in created["objectChanges"] if c["type"] == "created"]
    counter = ObjectId.from_text(counter_change["objectId"])
    shared = SharedObject(counter, int(counter_change["owner"]["Shared"]["initial_shared_version"]), True)
    for _ in range(increments):
        client.ok(call(package, "increment", shared))
    return client, counter


def test_a_shared_counter_counts_on_every_replica_through_consensus(counter_wasm: list[bytes]) -> None:
    sim = simulation()
    client, counter = run_counter(sim, counter_wasm, 3)
    sim.step_until(sim.now + 2 * SECOND)
    heights = {r.executed_height for r in sim.replicas if r is not None}
    top = min(heights)
    assert len({r.state_hashes[top] for r in sim.replicas if r is not None}) == 1
    for node in range(4):
        data = client.read("sui_getObject", [counter.to_text()], node)["data"]
        assert data["content"]["fields"]["value"] == "3"
        assert data["owner"] == {"Shared": {"initial_shared_version": 2}}
        assert data["version"] == "5"  # publish 1, create 2, three increments


def test_the_same_seed_and_transactions_give_the_same_states(counter_wasm: list[bytes]) -> None:
    runs = []
    for _ in range(2):
        sim = simulation(seed=5)
        run_counter(sim, counter_wasm, 2)
        replica = sim.replicas[0]
        assert replica is not None
        runs.append(dict(replica.state_hashes))
    assert runs[0] == runs[1]


def test_ingress_refuses_with_suis_names_and_never_runs_a_transaction_twice(
    counter_wasm: list[bytes],
) -> None:
    sim = simulation()
    client = SuiSimClient(sim)
    sim.step_until(2 * SECOND)
    builder = ProgrammableTransactionBuilder()
    cap = builder.publish(counter_wasm, [STD, SUI])
    builder.transfer_objects([cap], ALICE)
    signed = client.signed(builder.finish())

    forged = SignedTransaction(signed.tx_bytes, client.signed(builder.finish(), BOB_KEY).signatures)
    (refusal,) = [a for a in sim.submit(forged, 0) if isinstance(a, RejectIngress)]
    assert refusal.reason == "IncorrectSigner" and "neither the sender" in refusal.message
    unsigned = SignedTransaction(signed.tx_bytes, ())
    (refusal,) = [a for a in sim.submit(unsigned, 1) if isinstance(a, RejectIngress)]
    assert refusal.reason == "SignerSignatureAbsent"
    garbage = SignedTransaction(b"\x00\x01garbage", signed.signatures)
    (refusal,) = [a for a in sim.submit(garbage, 1) if isinstance(a, RejectIngress)]
    assert refusal.reason == "InvalidTransaction"

    first = client.run(signed)
    assert first.status == "replied"
    sim.step_until(sim.now + 2 * SECOND)
    for node in range(4):
        (again,) = [a for a in sim.submit(signed, node) if isinstance(a, RejectIngress)]
        assert again.reason == "replayed"
    # nothing ran twice: one package, one UpgradeCap
    objects = client.read("suix_getOwnedObjects", [ALICE.to_text()])["data"]
    assert [o["data"]["type"] for o in objects] == ["0x2::package::UpgradeCap"]


def test_a_refused_input_is_a_certified_reject_naming_suis_error(counter_wasm: list[bytes]) -> None:
    sim = simulation()
    client, counter = run_counter(sim, counter_wasm, 0)
    stale = ImmOrOwnedObject(ObjectRef(counter, 1, Digest(bytes(32))))
    builder = ProgrammableTransactionBuilder()
    builder.object(stale)
    builder.transfer_objects([builder.object(stale)], BOB)
    result = client.run(client.signed(builder.finish()))
    assert result.status == "rejected" and result.error_code, result
    assert result.error_code in {
        "ObjectVersionUnavailableForConsumption",
        "NotOwnedObjectError",
        "InvalidObjectDigest",
    }


def test_reads_answer_in_suis_shapes_and_refuse_bad_parameters(counter_wasm: list[bytes]) -> None:
    sim = simulation()
    client, counter = run_counter(sim, counter_wasm, 1)
    replica = sim.replicas[2]
    assert replica is not None
    missing = "0x" + "ab" * 32
    assert client.read("sui_getObject", [missing]) == {"error": {"code": "notExists", "object_id": missing}}
    bad = replica.sui_read(SuiReadRequest("sui_getObject", b'["not an id"]'), sim.now)
    assert bad.status == "rejected" and bad.error_code == "InvalidParams"
    assert replica.sui_read(SuiReadRequest("sui_getObject", b"\xff"), sim.now).error_code == "InvalidParams"
    package = json.loads(
        replica.sui_read(
            SuiReadRequest("sui_getObject", json.dumps([counter.to_text()]).encode()), sim.now
        ).reply
    )["data"]["type"].split("::")[0]
    signature = client.read("sui_getNormalizedMoveFunction", [package, "counter", "set_value"])
    assert signature["parameters"][1] == "U64" and signature["visibility"] == "Public"
    assert signature["parameters"][0] == {
        "MutableReference": {
            "Struct": {"address": package, "module": "counter", "name": "Counter", "typeArguments": []}
        }
    }
    assert signature["parameters"][2]["Reference"]["Struct"]["name"] == "TxContext"
    with pytest.raises(ValueError, match="unknown Sui read"):
        SuiReadRequest("sui_dropEverything", b"[]")


def test_a_block_carries_sui_transactions_on_the_wire(counter_wasm: list[bytes]) -> None:
    client = SuiSimClient(simulation())
    builder = ProgrammableTransactionBuilder()
    builder.publish(counter_wasm[:1], [STD, SUI])
    signed = client.signed(builder.finish())
    for message in (SubmitRequest(signed), IngressGossip(signed)):
        decoded = decode_frame(encode_message(message))
        assert decoded == message and decoded.envelope.request_id == signed.digest.raw  # type: ignore[attr-defined]
    with pytest.raises(CodecError, match="at most"):
        SubmitRequest.from_wire({"envelope": {"sui_tx": b"x", "sui_signatures": [b"s" * 2000]}})
    with pytest.raises(CodecError, match="expected SignedEnvelope or SignedTransaction"):
        SubmitRequest.from_wire({"envelope": {"neither": 1}})


def test_a_checkpoint_carries_the_sui_store(counter_wasm: list[bytes]) -> None:
    sim = simulation()
    run_counter(sim, counter_wasm, 2)
    replica = sim.replicas[1]
    assert replica is not None and isinstance(replica.state, SubnetStateMachine)
    state_hash = replica.state.state_hash()
    blob = encode_checkpoint(
        replica.state, height=9, block_hash=b"\x01" * 32, state_hash=state_hash, results_root=b"\x02" * 32
    )
    fresh = SubnetStateMachine(WasmStateMachine(0, 100))
    assert fresh.state_hash() != state_hash
    restore_checkpoint(fresh, blob)
    assert fresh.state_hash() == state_hash
    assert fresh.sui.read(
        "suix_getOwnedObjects", json.dumps([ALICE.to_text()]).encode()
    ) == replica.state.sui.read("suix_getOwnedObjects", json.dumps([ALICE.to_text()]).encode())


@pytest.mark.parametrize(
    ("type_text", "text", "expected"),
    [
        ("u64", "42", "2a00000000000000"),
        ("u8", "255", "ff"),
        ("bool", "true", "01"),
        ("0x1::string::String", "hi", "026869"),
        ("vector<u8>", "ab", "026162"),
        ("vector<u16>", "[1, 2]", "0201000200"),
        ("0x1::option::Option<u32>", "null", "00"),
        ("0x1::option::Option<u32>", "7", "0107000000"),
        ("address", "@0x2", "00" * 31 + "02"),
    ],
)
def test_command_line_arguments_encode_as_bcs(type_text: str, text: str, expected: str) -> None:
    assert encode_argument(parse_type_tag(type_text), text).hex() == expected


@pytest.mark.parametrize(
    ("type_text", "text"), [("u8", "256"), ("u64", "-1"), ("bool", "yes"), ("u64", "abc")]
)
def test_command_line_arguments_that_do_not_fit_are_refused(type_text: str, text: str) -> None:
    with pytest.raises((ValueError, TypeError)):
        encode_argument(parse_type_tag(type_text), text)


SHIPPED = Path(__file__).resolve().parent.parent / "subnet" / "scenarios"


def test_a_sui_counter_run_is_reproducible_from_its_seed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Move transactions in a simulated run: the same seed gives the same trace and history,
    byte for byte, and the clients' operations really are Sui transactions."""
    text = (SHIPPED / "sui-counter-crash.toml").read_text().replace('duration = "12s"', 'duration = "6s"')
    text = text.replace('at = "4s"', 'at = "2s"').replace('duration = "3s"', 'duration = "2s"')
    scenario_file = tmp_path / "short.toml"
    scenario_file.write_text(text)
    folders = []
    for _ in range(2):
        assert (
            main(
                [
                    "scenario",
                    "run",
                    str(scenario_file),
                    "--results",
                    str(tmp_path / "out"),
                    "--output",
                    "json",
                ]
            )
            == 0
        )
        folders.append(Path(json.loads(capsys.readouterr().out)["results"]))
    first, second = folders
    for name in ("summary.json", "trace.jsonl", "history.jsonl"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    trace = (first / "trace.jsonl").read_text()
    assert '"sui:counter::add"' in trace and '"sui:counter::read"' in trace and '"sui:Publish"' in trace
    summary = json.loads((first / "summary.json").read_text())
    assert summary["checks"]["linearizable"]["verdict"] == "valid"
    assert summary["checks"]["durability"]["verdict"] == "valid"


def test_sui_workloads_run_on_the_sim_backend_only() -> None:
    text = (
        (SHIPPED / "sui-counter-crash.toml")
        .read_text()
        .replace("[subnet]", 'backend = "processes"\n\n[subnet]')
    )
    with pytest.raises(ScenarioError, match="sim backend only"):
        parse_scenario(text)
