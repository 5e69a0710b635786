"""Timers and heartbeats under consensus: a Motoko canister's recurring timer
(``mo:core/Timer``, which sets ``ic0.global_timer_set`` and runs each job as a call to
itself) and another's ``system func heartbeat`` run in the rounds of finalized blocks, on
every replica at the block's time, with equal state hashes; with neither due, an empty
block changes nothing. Real moc output, virtual time."""

from __future__ import annotations

from subnet.sim.runner import SECOND
from tests.test_canister_consensus import SimClient, compiled, simulation
from tests.test_motoko import UNIT
from vocab import candid

TIMER = """
import Timer "mo:core/Timer";
persistent actor {
  var ticks : Nat = 0;
  func tick() : async () { ticks += 1 };
  ignore Timer.recurringTimer<system>(#seconds 1, tick);
  public query func count() : async Nat { ticks };
};
"""
HEARTBEAT = """
persistent actor {
  var beats : Nat = 0;
  system func heartbeat() : async () { beats += 1 };
  public query func count() : async Nat { beats };
};
"""
QUIET = """
persistent actor {
  var n : Nat = 0;
  public func inc() : async () { n += 1 };
};
"""


def _counts(client: SimClient, canister: object) -> set[int]:
    answers = set()
    for replica in client.sim.replicas:
        assert replica is not None
        answer = replica.query(client.envelope(canister, "count", UNIT, request_type="query"), client.sim.now)  # type: ignore[arg-type]
        assert answer.status == "replied", answer
        answers.add(candid.decode(answer.reply, [candid.NAT])[0])
    return answers


def test_a_recurring_timer_and_a_heartbeat_fire_on_every_replica_alike() -> None:
    timer, heartbeat = compiled(TIMER), compiled(HEARTBEAT)
    sim = simulation(31)
    client = SimClient(sim)
    ticking, beating = client.create(), client.create()
    assert client.install(ticking, timer.wasm, "install").status == "replied"
    assert client.install(beating, heartbeat.wasm, "install").status == "replied"
    start = sim.now
    client.settle()
    first = _counts(client, ticking)
    sim.step_until(start + 6 * SECOND)
    client.settle()
    (ticks,) = _counts(client, ticking)  # one value: every replica ran the same jobs
    assert first == {min(first)} and ticks >= min(first) + 4, (first, ticks)
    (beats,) = _counts(client, beating)
    heights = {replica.executed_height for replica in sim.replicas if replica is not None}
    assert len(heights) == 1 and beats >= 10  # a heartbeat per round since the install
    assert len(client.state_hashes()) == 1


def test_with_nothing_due_an_empty_block_changes_nothing() -> None:
    sim = simulation(32)
    client = SimClient(sim)
    canister = client.create()
    assert client.install(canister, compiled(QUIET).wasm, "install").status == "replied"
    client.settle()
    replica = sim.replicas[0]
    assert replica is not None
    before = (replica.executed_height, replica.state_hash())
    sim.step_until(sim.now + 2 * SECOND)
    assert replica.executed_height > before[0] and replica.state_hash() == before[1]
