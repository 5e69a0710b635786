"""The ``canister-counter`` workload on the simulator: a Motoko counter compiled by the
real ``moc`` (``subnet/samples/counter_v1.mo``) installed at the start, clients
incrementing and reading it through consensus, the history checked as a counter; the
checkers catch a double-executed increment on it; what it cannot do is refused by key and
line. (On processes: ``tests/test_scenario_processes.py``.)"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from client.motoko import NodeNotFound, compile_motoko
from subnet.checks.history import operations
from subnet.samples import source
from subnet.scenario import ScenarioError, parse_scenario, run_scenario
from subnet.scenario.checks import executions
from subnet.sim.clients import Operations, motoko_counter_wasm
from vocab.certificate import RequestResult

SHIPPED = Path(__file__).resolve().parent.parent / "subnet" / "scenarios"


@pytest.fixture(scope="module", autouse=True)
def moc() -> None:
    try:
        compile_motoko(source("counter_v1"))  # warms the cache; skips without Node.js
    except NodeNotFound as exc:
        pytest.skip(str(exc))


def scenario_text(bugs: str = "") -> str:
    text = (SHIPPED / "canister-counter-crash.toml").read_text()
    return text.replace('block_time = "100ms"', f'block_time = "100ms"\nbugs = [{bugs}]')


def test_clients_increment_and_read_the_motoko_counter_linearizably() -> None:
    text = scenario_text().replace('duration = "9s"', 'duration = "6s"')
    outcome = run_scenario(dataclasses.replace(parse_scenario(text), backend="sim"))
    assert outcome.verdict == "valid", [check.summary for check in outcome.checks]
    clients = outcome.simulation.clients
    assert clients is not None and clients.model == "counter"
    # The canister is moc's output (its Candid service in a custom section).
    assert b"candid:service" in motoko_counter_wasm()
    ops = operations(clients.events)
    acked_adds = [op for op in ops if op.known and op.f == "add"]
    reads = [op for op in ops if op.known and op.f == "read"]
    assert len(acked_adds) > 20 and len(reads) > 20
    assert all(op.input == 1 for op in acked_adds)  # increment adds one
    # Reads are the canister's own count, decoded from Candid: each counts at least every
    # increment acknowledged before it was invoked, and at most every increment invoked
    # before it returned.
    for read in reads:
        assert read.ret is not None
        before = sum(1 for op in acked_adds if op.ret is not None and op.ret < read.call)
        invoked = sum(1 for op in ops if op.f == "add" and op.call < read.ret)
        assert before <= read.output <= invoked, read.describe()
    # ...and no read exceeds the increments the final chain executed.
    executed = executions(outcome.simulation)["executions"]
    done = sum(1 for op in ops if op.f == "add" and executed[str(op.index)])
    assert max(read.output for read in reads) <= done


def test_a_double_executed_increment_on_the_motoko_counter_is_caught() -> None:
    text = scenario_text('"no-replay-protection"').replace("clients = 4", "clients = 8")
    outcome = run_scenario(dataclasses.replace(parse_scenario(text), backend="sim"))
    verdicts = {check.name: check.verdict for check in outcome.checks}
    assert verdicts["durability"] == "invalid" and verdicts["agreement"] == "valid", verdicts


def test_a_bad_reply_is_a_failed_operation() -> None:
    import random

    operations = Operations("canister-counter", 1, random.Random(0))
    result = RequestResult(b"\x00" * 32, 1, "replied", b"not candid")
    kind, value, why = operations.outcome("read", None, result)
    assert (kind, value) == ("fail", None) and why.startswith("bad reply")


def test_what_the_motoko_counter_cannot_do_is_refused_by_key_and_line() -> None:
    text = scenario_text().replace("clients = 4", "clients = 4\nkeys = 2")
    with pytest.raises(
        ScenarioError,
        match=r"line 15: workload\[0\]\.keys: the canister-counter workload's Motoko canister holds one counter",
    ):
        parse_scenario(text)
    upgrade = scenario_text() + '\n[[fault]]\nat = "1s"\nkind = "upgrade"\nmodule = "keeps-state"\n'
    with pytest.raises(
        ScenarioError, match=r"fault\[1\]\.kind: an upgrade installs versions of the register canister"
    ):
        parse_scenario(upgrade)
