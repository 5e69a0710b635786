"""Deterministic time slicing under consensus (simulated backend, virtual time): while a
long update is paused on every replica, blocks keep being made, another canister's
updates complete, and the four replicas agree on every state hash and on the round the
long update completes in."""

from __future__ import annotations

from subnet.sim.runner import SECOND, SimConfig, Simulation
from tests.test_canister_consensus import SimClient
from tests.test_time_slicing import SPIN_WASM, count, instructions, n_arg
from vocab.principal import Principal

SLICE = 1_000_000


def test_replicas_agree_and_keep_making_blocks_while_an_update_is_paused() -> None:
    sim = Simulation(
        SimConfig(
            replicas=4,
            seed=5,
            duration_ns=600 * SECOND,
            workload=None,
            genesis_params={"extra": {"instructions_per_slice": SLICE}},
        )
    )
    client = SimClient(sim)
    spinner, other = client.create(), client.create()
    for canister in (spinner, other):
        reply = client.install(canister, SPIN_WASM, "install")
        assert reply.status == "replied", reply
    # ~20 slices: 8 instructions per iteration
    spin = client.envelope(spinner, "spin", n_arg(2_500_000))
    sim.submit(spin, 0)
    replicas = [replica for replica in sim.replicas if replica is not None]
    while not all(spinner.raw in r.state.ic.env.state.paused for r in replicas):
        sim.step_until(sim.now + 50_000_000)
    start = min(r.state.ic.env.state.paused[spinner.raw].start_round for r in replicas)
    assert {r.state.ic.env.state.paused[spinner.raw].start_round for r in replicas} == {start}
    incs = 0
    while spin.request_id not in sim.replies:
        assert count(client.ok(other, "inc")) == incs + 1
        incs += 1
        if spin.request_id not in sim.replies:
            # the paused canister answers queries from its state before the message
            answer = replicas[0].state.query(spinner, "get", b"", caller=Principal.anonymous(), time=sim.now)
            assert count(answer.unwrap()) == 0
        assert incs < 40, "the long update never completed"
    result = sim.replies[spin.request_id].result
    assert result.status == "replied" and count(result.reply) == 1
    # ceil(I / SLICE) rounds from the one it started in, on every replica
    used = instructions(2_500_000)
    assert result.height == start + -(-used // SLICE) - 1 == start + 20
    print(f"paused from height {start} to {result.height}; {incs} updates of another canister meanwhile")
    assert incs >= 5  # blocks kept coming and the other canister kept executing
    client.settle()
    top = min(r.executed_height for r in replicas)
    assert top > result.height
    for height in range(start, top + 1):
        assert len({r.state_hashes[height] for r in replicas if height in r.state_hashes}) == 1, height
    assert len(client.state_hashes()) == 1


def test_a_replica_restarted_from_a_checkpoint_taken_mid_pause_completes_in_the_same_round() -> None:
    sim = Simulation(
        SimConfig(
            replicas=4,
            seed=6,
            duration_ns=600 * SECOND,
            workload=None,
            checkpoint_interval=5,
            genesis_params={"extra": {"instructions_per_slice": SLICE}},
        )
    )
    client = SimClient(sim)
    spinner = client.create()
    assert client.install(spinner, SPIN_WASM, "install").status == "replied"
    spin = client.envelope(spinner, "spin", n_arg(2_500_000))  # 20M instructions: 21 rounds
    sim.submit(spin, 0)
    while spinner.raw not in sim.replicas[0].state.ic.env.state.paused:
        sim.step_until(sim.now + 50_000_000)
    start = sim.replicas[0].state.ic.env.state.paused[spinner.raw].start_round
    while sim.replicas[3].executed_height < start + 8:  # past a checkpoint height mid-pause
        sim.step_until(sim.now + 50_000_000)
    sim.crash(3)
    sim.step_until(sim.now + SECOND)
    sim.restart(3)
    restarted = sim.replicas[3]
    assert restarted is not None and start < restarted.restored_checkpoint_height < start + 20
    assert spinner.raw in restarted.state.ic.env.state.paused  # the checkpoint held it
    while spin.request_id not in sim.replies:
        sim.step_until(sim.now + 50_000_000)
    used = instructions(2_500_000)
    assert sim.replies[spin.request_id].result.height == start + -(-used // SLICE) - 1
    client.settle()
    replicas = [r for r in sim.replicas if r is not None]
    top = min(r.executed_height for r in replicas)
    assert top > sim.replies[spin.request_id].result.height  # the restarted one too
    for height in range(start, top + 1):
        hashes = {r.state_hashes[height] for r in replicas if height in r.state_hashes}
        assert len(hashes) == 1, height
    assert restarted.state_hashes[top] == replicas[0].state_hashes[top]
