"""Dry runs of Sui transactions and of package upgrades (issue 12's rehearsal, for packages).

The versioned counter (``subnet/samples/versioned_counter``) is published in process; the
client (``client.sui.SuiClient``) talks to the ledger's read path directly (the agent's
transport replaced by a call of ``SuiLedger.read``, what a replica runs for a
``SuiReadRequest``). A dry run must predict what the real transactions do and change
nothing: the state hash is the same before and after every dry run. The response shape is
checked against the field names of ``DryRunTransactionBlockResponse`` in the pinned
``@mysten/sui`` SDK's type declarations. On replicas the same read is answered signed, the
same by every replica (simulated).
"""

from __future__ import annotations

import base64
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import trio

from client.identity import Identity
from client.sui import NEW_PACKAGE, CallSpec, SuiClient
from node.sui.dry_run import DEV_INSPECT
from node.sui.ledger import STD, SUI, SuiLedger, compile_for_publish
from subnet.commands.sui_client import _call_spec, _print_dev_inspect, _print_dry_run
from subnet.sim.runner import SECOND
from tests.npm import CACHE_ROOT
from tests.test_sui_consensus import ALICE, ALICE_KEY, BOB_KEY, SuiSimClient, simulation
from vocab.errors import RejectCode, RejectError
from vocab.messages import SuiReadRequest
from vocab.sui.address import ObjectId
from vocab.sui.builder import ProgrammableTransactionBuilder
from vocab.sui.certificate import CertifiedTransaction
from vocab.sui.signed import SignedTransaction
from vocab.sui.transaction import TRANSACTION_KIND, SharedObject

SAMPLE = Path(__file__).resolve().parent.parent / "subnet" / "samples" / "versioned_counter"
SDK_TYPES = CACHE_ROOT / "npm-sui" / "node_modules" / "@mysten" / "sui" / "dist" / "jsonRpc" / "types"


class LedgerAgent:
    """The agent's read, answered by an in-process ledger as a replica answers it."""

    def __init__(self, ledger: SuiLedger) -> None:
        self.ledger = ledger
        self.reads: list[str] = []

    async def sui_read(self, method: str, params: list[Any], replicas_agree: int = 1) -> Any:
        request = SuiReadRequest(method, json.dumps(params).encode())  # the wire's checks
        self.reads.append(method)
        return json.loads(self.ledger.read(request.method, request.params))


class Published:
    def __init__(self) -> None:
        self.ledger = SuiLedger.genesis()
        self.identity = Identity("alice", ALICE_KEY)
        self.client = SuiClient(LedgerAgent(self.ledger), self.identity)  # type: ignore[arg-type]
        effects = self.ledger.publish(self.identity.sui_address, compile_for_publish(SAMPLE / "v1"))
        self.package = next(ref.object_id for ref, _ in effects.created if self.ledger.package(ref.object_id))
        by_type = {
            str(self.ledger.object(ref.object_id).type).rsplit("::", 1)[1]: ref.object_id  # type: ignore[union-attr]
            for ref, _ in effects.created
            if self.ledger.object(ref.object_id) is not None
        }
        self.cap, self.counter, self.admin = by_type["UpgradeCap"], by_type["Counter"], by_type["AdminCap"]
        self.ledger.call(
            self.identity.sui_address,
            self.package,
            "counter",
            "increment",
            [self.ledger.shared(self.counter)],
        )

    def call(self, package: str, function: str, *objects: ObjectId) -> CallSpec:
        return CallSpec(package, "counter", function, tuple(o.to_text() for o in objects))


@pytest.fixture(scope="module")
def v2() -> list[bytes]:
    return compile_for_publish(SAMPLE / "v2")


def test_an_upgrade_and_its_migrate_are_predicted_and_nothing_changes(v2: list[bytes]) -> None:
    p = Published()
    before = p.ledger.state_hash()
    then = [
        p.call(NEW_PACKAGE, "migrate", p.counter, p.admin),
        p.call(NEW_PACKAGE, "increment", p.counter),
        p.call(p.package.to_text(), "increment", p.counter),  # v1 after the migrate: EWrongVersion
    ]
    rehearsal = trio.run(p.client.dry_run_upgrade, v2, p.cap, then)
    assert p.ledger.state_hash() == before  # nothing kept
    assert p.ledger.object(p.counter).version == 3  # type: ignore[union-attr]
    steps = rehearsal.to_json()["steps"]
    assert [s["effects"]["status"]["status"] for s in steps] == ["success", "success", "success", "failure"]
    new = rehearsal.new_package
    assert new is not None and p.ledger.package(new) is None  # exists only in the dry run
    published = [c for c in steps[0]["objectChanges"] if c["type"] == "published"]
    assert published == [{**published[0], "packageId": new.to_text(), "version": "2", "modules": ["counter"]}]
    # the migrate ran against the counter as the upgrade left it, and the increment after it
    counter = [c for c in steps[2]["objectChanges"] if c["objectId"] == p.counter.to_text()]
    assert counter[0]["type"] == "mutated"
    assert int(counter[0]["previousVersion"]) > 3
    assert steps[3]["effects"]["status"]["error"].startswith("MoveAbort")
    assert "code 1" in steps[3]["effects"]["status"]["error"]  # EWrongVersion
    assert all(int(s["effects"]["gasUsed"]["computationCost"]) > 0 for s in steps[1:])
    failure = rehearsal.failure()
    assert failure is not None and failure.startswith("step 4 (call ") and "MoveAbort" in failure


def test_the_new_version_refuses_the_counter_until_migrate(
    v2: list[bytes], capsys: pytest.CaptureFixture[str]
) -> None:
    p = Published()
    rehearsal = trio.run(p.client.dry_run_upgrade, v2, p.cap, [p.call(NEW_PACKAGE, "increment", p.counter)])
    assert _print_dry_run(rehearsal, "text") == 1
    out, err = capsys.readouterr()
    assert "Compatibility: OK" in out and "Step 1: upgrade" in out and "Step 2: call" in out
    assert re.search(r"Status: Failure: MoveAbort.*code 1", out), out
    assert "Result: the upgrade would fail: step 2" in out and "Error: the upgrade would fail" in err
    # the same report as JSON: every step, and why it would fail
    assert _print_dry_run(rehearsal, "json") == 1
    report = json.loads(capsys.readouterr().out)
    assert report["wouldSucceed"] is False and report["compatibility"] == []
    assert [s["step"].split()[0] for s in report["steps"]] == ["upgrade", "call"]


def test_an_incompatible_build_is_reported_and_refused_by_the_dry_run_too(tmp_path: Path) -> None:
    p = Published()
    package = tmp_path / "v2"
    shutil.copytree(SAMPLE / "v2", package)
    source = package / "sources" / "counter.move"
    source.write_text(source.read_text().replace("public fun value(c: &Counter)", "fun value(c: &Counter)"))
    rehearsal = trio.run(p.client.dry_run_upgrade, compile_for_publish(package), p.cap, [])
    assert [problem.kind for problem in rehearsal.plan.problems] == ["FunctionLostPublicVisibility"]
    status = rehearsal.answers[0]["effects"]["status"]
    assert status["status"] == "failure" and "IncompatibleUpgrade" in status["error"]  # the replica agrees
    assert "incompatible" in (rehearsal.failure() or "")


def test_a_step_refused_before_it_runs_ends_the_sequence(v2: list[bytes]) -> None:
    p = Published()
    # another identity's UpgradeCap: the input check refuses the upgrade before it runs
    other = SuiClient(p.client.agent, Identity("bob", BOB_KEY))
    kinds = [trio.run(p.client.plan_upgrade, v2, p.cap).kind]
    builder = ProgrammableTransactionBuilder()
    builder.move_call(p.package, "counter", "increment", [], [builder.object(p.ledger.shared(p.counter))])
    kinds += [builder.finish(), builder.finish()]
    answers = trio.run(other.dry_run, kinds)
    assert len(answers) == 1 and answers[0]["error"]["code"] == "IncorrectUserSignature", answers


def test_dry_run_parameters_that_name_nothing_runnable_are_refused() -> None:
    ledger = SuiLedger.genesis()
    for method, params in (
        ("sui_dryRunTransactionBlock", ["not base64!"]),
        ("sui_dryRunTransactionBlock", [base64.b64encode(b"\x00\x01").decode()]),
        ("subnet_dryRunTransactionBlocks", [[]]),
        ("subnet_dryRunTransactionBlocks", ["x"]),
    ):
        with pytest.raises(RejectError) as refused:
            ledger.read(method, json.dumps(params).encode())
        assert refused.value.error_code == "InvalidParams" and refused.value.code == RejectCode.SYS_FATAL


def test_then_takes_the_options_of_client_call() -> None:
    spec = _call_spec("--package @new --module counter --function migrate --args 0x5 '0x6'")
    assert spec == CallSpec("@new", "counter", "migrate", ("0x5", "0x6"))
    for bad in (
        "--module m --function f",
        "--package nope --module m --function f",
        "--package @new --module m --function f --oops",
    ):
        with pytest.raises(Exception, match="not a call|not an object id"):
            _call_spec(bad)


def test_the_response_has_the_fields_of_suis_dry_run_response(v2: list[bytes]) -> None:
    declarations = SDK_TYPES / "generated.d.mts"
    if not declarations.exists():
        pytest.skip("the pinned @mysten/sui is not installed in .cache/npm-sui (the SDK tests install it)")
    text = declarations.read_text()
    body = re.search(r"interface DryRunTransactionBlockResponse \{(.*?)\n\}", text, re.S)
    assert body is not None
    required = set(re.findall(r"^\s+(\w+):", body.group(1), re.M))
    p = Published()
    (answer,) = trio.run(p.client.dry_run, [trio.run(p.client.plan_upgrade, v2, p.cap).kind])
    assert required == {"balanceChanges", "effects", "events", "input", "objectChanges"}
    assert required <= set(answer)
    # TransactionBlockData without its `transaction` (the commands, which the caller sent)
    assert {"gasData", "messageVersion", "sender"} <= set(answer["input"])


def test_replicas_answer_a_dry_run_alike_and_sign_it() -> None:
    sim = simulation(seed=4)
    client = SuiSimClient(sim)
    sim.step_until(2 * SECOND)
    builder = ProgrammableTransactionBuilder()
    builder.transfer_objects([builder.publish(compile_for_publish(SAMPLE / "v1"), [STD, SUI])], ALICE)
    tx = client.signed(builder.finish()).transaction()
    request = SuiReadRequest(
        "sui_dryRunTransactionBlock", json.dumps([base64.b64encode(tx.to_bcs()).decode()]).encode()
    )
    answers = []
    for node in range(4):
        replica = sim.replicas[node]
        assert replica is not None
        before = replica.state_hash()
        answers.append(replica.sui_read(request, sim.now))
        assert replica.state_hash() == before
    assert {a.outcome() for a in answers} == {answers[0].outcome()} and answers[0].status == "replied"
    reply = json.loads(answers[0].reply)
    assert reply["effects"]["status"] == {"status": "success"}
    assert [c["type"] for c in reply["objectChanges"]].count("published") == 1


def test_dev_inspect_returns_values_as_sui_shapes_them(capsys: pytest.CaptureFixture[str]) -> None:
    p = Published()
    before = p.ledger.state_hash()
    package = p.package
    value = trio.run(p.client.dev_inspect, package, "counter", "value", [p.counter.to_text()])
    assert value["effects"]["status"] == {"status": "success"}
    assert value["results"] == [{"returnValues": [[list((1).to_bytes(8, "little")), "u64"]]}]
    # &mut: the counter as the call left it, in BCS (id, version, admin, value)
    bumped = trio.run(p.client.dev_inspect, package, "counter", "increment", [p.counter.to_text()])
    ((argument, data, type_text),) = bumped["results"][0]["mutableReferenceOutputs"]
    assert argument == {"Input": 0} and type_text.endswith("::counter::Counter")
    assert bytes(data)[:32] == p.counter.raw and int.from_bytes(bytes(data)[-8:], "little") == 2
    assert p.ledger.state_hash() == before and p.ledger.object(p.counter).version == 3  # type: ignore[union-attr]
    assert _print_dev_inspect(value, "text") == 0
    assert "Result 0.0: u64 = 1" in capsys.readouterr().out
    # an UpgradeCap where an AdminCap goes: the call fails, and says how, with no results
    failed = trio.run(
        p.client.dev_inspect, package, "counter", "check_admin", [p.counter.to_text(), p.cap.to_text()]
    )
    assert "results" not in failed and failed["effects"]["status"]["status"] == "failure"
    assert failed["error"].startswith("CommandArgumentError in command 0: TypeMismatch")
    assert _print_dev_inspect(failed, "text") == 1


def test_dev_inspect_has_the_fields_of_suis_results() -> None:
    declarations = SDK_TYPES / "generated.d.mts"
    if not declarations.exists():
        pytest.skip("the pinned @mysten/sui is not installed in .cache/npm-sui (the SDK tests install it)")
    text = declarations.read_text()

    def fields(interface: str) -> tuple[set[str], set[str]]:
        body = re.search(rf"interface {interface} \{{(.*?)\n\}}", text, re.S)
        assert body is not None
        names = re.findall(r"^\s+(?:/\*\*.*?\*/\s*)?(\w+)(\??):", body.group(1), re.M | re.S)
        return {n for n, q in names if not q}, {n for n, _ in names}

    required, known = fields("DevInspectResults")
    p = Published()
    answer = trio.run(p.client.dev_inspect, p.package, "counter", "value", [p.counter.to_text()])
    assert required == {"effects", "events"} and required <= set(answer) <= known
    _, result_fields = fields("SuiExecutionResult")
    assert set(answer["results"][0]) <= result_fields == {"mutableReferenceOutputs", "returnValues"}


def test_a_dry_run_sees_what_the_fast_path_executed_ahead_of_consensus(v2: list[bytes]) -> None:
    p = Published()
    ledger = p.ledger
    # the AdminCap moves (to its owner again) by a certificate, on the fast layer only
    builder = ProgrammableTransactionBuilder()
    builder.transfer_objects([builder.object(ledger.owned(p.admin))], ALICE)
    kind = builder.finish()
    signed = SignedTransaction.sign(ledger.transaction(ALICE, kind.inputs, kind.commands), [ALICE_KEY])
    ledger.execute_certificate(CertifiedTransaction(signed, 0, (0, 1, 2), (b"\0" * 64,) * 3))
    assert ledger.store.get(p.admin).version < ledger.object(p.admin).version  # type: ignore[union-attr]
    then = [p.call(NEW_PACKAGE, "migrate", p.counter, p.admin)]
    rehearsal = trio.run(p.client.dry_run_upgrade, v2, p.cap, then)
    assert rehearsal.failure() is None, rehearsal.failure()


def test_a_package_published_in_a_dry_run_is_gone_for_the_next_read(v2: list[bytes]) -> None:
    """Dry runs and dev-inspect calls share an inspection VM between reads (its modules
    stay instantiated); a package that only a dry run published must not outlive it."""
    p = Published()
    rehearsal = trio.run(p.client.dry_run_upgrade, v2, p.cap, [p.call(NEW_PACKAGE, "value", p.counter)])
    new = rehearsal.new_package
    assert new is not None and rehearsal.failure() is None
    builder = ProgrammableTransactionBuilder()
    counter = builder.object(
        SharedObject(p.counter, p.ledger.shared(p.counter).initial_shared_version, False)
    )
    builder.move_call(new, "counter", "value", [], [counter])
    params = [
        p.identity.sui_address.to_text(),
        base64.b64encode(TRANSACTION_KIND.encode(builder.finish())).decode(),
    ]
    try:
        answer = json.loads(p.ledger.read(DEV_INSPECT, json.dumps(params).encode()))
    except RejectError as refused:
        assert new.to_text()[:10] in refused.message or "package" in refused.message.lower(), refused
    else:
        assert "error" in answer and "results" not in answer, answer
    assert new.raw not in (p.ledger._inspection_vm.packages if p.ledger._inspection_vm else {})
    # and the package the state does hold is still served by the same VM
    value = trio.run(p.client.dev_inspect, p.package, "counter", "value", [p.counter.to_text()])
    assert value["results"][0]["returnValues"][0][1] == "u64"
