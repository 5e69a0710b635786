"""Checkpoints of the execution state (``node.checkpoint``) and restarts from them.

A checkpoint must restore to exactly the state it was taken of (same state hash, same
answers, same hashes after later updates), be the same bytes on every replica, be refused
loudly when corrupt, tampered with, of an unknown version or contradicted by the chain or
a certificate, and let a restarted replica replay only the blocks above it. The simulated
runs step virtual time (``Simulation.step_until``): no wall-clock sleeps.
"""

from __future__ import annotations

import dataclasses
import hashlib

import msgpack
import pytest

import subnet.samples
from client.motoko import MotokoCanister
from node.actions import Notice, PersistCheckpoint
from node.checkpoint import (
    FORMAT_VERSION,
    MAGIC,
    Checkpoint,
    CheckpointError,
    encode_checkpoint,
    read_header,
    restore_checkpoint,
)
from node.execution import SubnetStateMachine
from node.ic import InstallMode
from node.ic.state_machine import WasmStateMachine
from node.replica import Replica
from subnet.sim.faults import Crash, Restart
from subnet.sim.runner import SECOND, SimConfig, Simulation
from tests.test_canister_consensus import USER, SimClient, compiled
from tests.test_motoko import UNIT, nat
from vocab.principal import CanisterId, Principal

OTHER = Principal(b"\x09" * 28 + b"\x02")
INTERVAL = 5


@pytest.fixture(scope="module")
def counter() -> MotokoCanister:
    return compiled(subnet.samples.source("counter_v1"))


def fresh() -> SubnetStateMachine:
    """An empty subnet state: no canisters, the Sui framework at genesis."""
    return SubnetStateMachine(WasmStateMachine(0, 100))


def encode(machine: SubnetStateMachine, height: int = 7, block_hash: bytes = b"\x0b" * 32) -> bytes:
    return encode_checkpoint(
        machine,
        height=height,
        block_hash=block_hash,
        state_hash=machine.state_hash(),
        results_root=b"\x0c" * 32,
    )


def rich_machine(counter: MotokoCanister) -> tuple[SubnetStateMachine, CanisterId]:
    """A state touching every part of the format: a Motoko counter that counted, stable
    memory, a snapshot, an emptied canister keeping its snapshot, a deleted canister,
    cycles beyond 64 bits, controllers in a non-sorted order, a chunk store."""
    machine = fresh()
    env = machine.ic.env
    main = env.create_canister(USER, time=10, controllers=[USER, OTHER])
    env.install_code(USER, main, InstallMode.install(), counter.wasm, UNIT, time=11)
    for step in range(3):
        assert env.update(main, "increment", UNIT, caller=USER, time=12 + step).reply == nat(step + 1)
    env.set_stable_memory(main, b"\x01" * 70_000 + b"\x00" * 200_000 + b"\x02", time=20)
    env.take_canister_snapshot(USER, main, time=21)
    env.add_cycles(main, 1 << 70, time=22)

    emptied = env.create_canister(USER, time=23)
    env.install_code(USER, emptied, InstallMode.install(), counter.wasm, UNIT, time=24)
    env.take_canister_snapshot(USER, emptied, time=25, uninstall_code=True)

    gone = env.create_canister(USER, time=26)
    env.stop_canister(USER, gone, time=27)
    env.delete_canister(USER, gone, time=28)

    chunk = b"part of a module"
    machine.ic.chunks[main.principal.raw] = {hashlib.sha256(chunk).digest(): chunk}
    return machine, main


# -- the format ------------------------------------------------------------------------------------


def test_a_checkpoint_restores_the_same_state_and_behaviour(counter: MotokoCanister) -> None:
    machine, main = rich_machine(counter)
    blob = encode(machine)
    assert blob.startswith(MAGIC) and read_header(blob).height == 7

    restored = fresh()
    header = restore_checkpoint(
        restored, blob, height=7, state_hash=machine.state_hash(), block_hash=b"\x0b" * 32
    )
    assert header.state_hash == machine.state_hash() == restored.state_hash()
    assert header.results_root == b"\x0c" * 32
    # deterministic: the restored state writes the very same bytes
    assert encode(restored) == blob

    env, again = machine.ic.env, restored.ic.env
    assert again.canister(main).controllers == [USER, OTHER]  # order kept, not just the set
    assert again.canister(main).cycles > 1 << 70
    assert again.state.deleted == env.state.deleted and len(again.state.deleted) == 1
    assert again.query(main, "get", UNIT, caller=USER, time=30).reply == nat(3)
    assert again.get_stable_memory(main) == env.get_stable_memory(main)

    # later updates give the same replies and hashes as on the state that never stopped
    for time in (40, 41):
        assert (
            again.update(main, "increment", UNIT, caller=USER, time=time).reply
            == env.update(main, "increment", UNIT, caller=USER, time=time).reply
        )
        assert restored.state_hash() == machine.state_hash()
    assert again.query(main, "get", UNIT, caller=USER, time=42).reply == nat(5)

    # the snapshot taken before the checkpoint loads back into the count it held
    (snapshot_id,) = list(env.canister(main).snapshots)
    for state in (env, again):
        state.load_canister_snapshot(USER, main, snapshot_id, time=50)
        assert state.query(main, "get", UNIT, caller=USER, time=51).reply == nat(3)
    assert restored.state_hash() == machine.state_hash()


def test_a_big_heap_is_stored_sparsely(counter: MotokoCanister) -> None:
    machine, main = rich_machine(counter)
    heap = machine.ic.env.canister(main).instance.heap_size
    blob = encode(machine)
    assert heap > 4 * 1024 * 1024
    # the module twice (canister and snapshot) and a few non-zero pages, not megabytes of zeros
    assert len(blob) < heap / 2


def _repack(blob: bytes, change) -> bytes:
    """The blob with its body changed and the digest recomputed: tampering, not corruption."""
    body = msgpack.unpackb(blob[len(MAGIC) + 34 :], raw=False)
    change(body)
    packed = msgpack.packb(body, use_bin_type=True)
    return blob[: len(MAGIC) + 2] + hashlib.sha256(packed).digest() + packed


def test_corrupt_tampered_or_unknown_checkpoints_are_refused(counter: MotokoCanister) -> None:
    machine, _ = rich_machine(counter)
    blob = encode(machine)
    target = fresh()
    empty_hash = target.state_hash()

    def refused(bad: bytes, words: str, **expected: object) -> None:
        with pytest.raises(CheckpointError, match=words):
            restore_checkpoint(target, bad, **expected)  # type: ignore[arg-type]
        assert target.state_hash() == empty_hash  # nothing half-restored

    flipped = bytearray(blob)
    flipped[len(blob) // 2] ^= 0x01
    refused(bytes(flipped), "digest")
    refused(blob[:-10], "digest")
    refused(b"not a checkpoint at all" * 3, "magic")
    refused(
        MAGIC + (FORMAT_VERSION + 1).to_bytes(2, "big") + blob[len(MAGIC) + 2 :],
        f"version {FORMAT_VERSION + 1} is unknown",
    )

    def more_cycles(body: dict) -> None:
        body["env"]["canisters"][0]["cycles"] = 5

    refused(_repack(blob, more_cycles), "restores to state hash")

    def zeroed_heap(body: dict) -> None:
        body["env"]["canisters"][0]["instance"][0][1] = []

    refused(_repack(blob, zeroed_heap), "restores to state hash")

    def swapped_chunk(body: dict) -> None:
        body["chunks"][0][1][0][1] = b"another chunk"

    refused(_repack(blob, swapped_chunk), "does not match its hash")

    def broken_type(body: dict) -> None:
        body["env"]["canisters"][0]["version"] = "seven"

    refused(_repack(blob, broken_type), "should be an integer")

    def huge_heap(body: dict) -> None:
        body["env"]["canisters"][0]["instance"][0][0] = 1 << 40

    refused(_repack(blob, huge_heap), "exceeds any Wasm heap")
    refused(blob, "stored for height 8", height=8)
    refused(blob, "stored with state hash", state_hash=b"\x00" * 32)
    refused(blob, "finalized block there", block_hash=b"\x00" * 32)

    restore_checkpoint(target, blob)  # and the genuine one still works
    assert target.state_hash() == machine.state_hash()


# -- replicas --------------------------------------------------------------------------------------


def counting_subnet(counter: MotokoCanister, seed: int) -> tuple[Simulation, SimClient, Principal]:
    sim = Simulation(
        SimConfig(
            replicas=4, seed=seed, duration_ns=600 * SECOND, workload=None, checkpoint_interval=INTERVAL
        )
    )
    client = SimClient(sim)
    canister = client.create()
    assert client.install(canister, counter.wasm, "install").reply == UNIT
    for count in (1, 2, 3):
        assert client.ok(canister, "increment") == nat(count)
    # run on (empty blocks) until every replica has written two checkpoints past the calls
    while min(replica.executed_height for replica in sim.replicas) < 3 * INTERVAL + 1:
        client.settle()
    return sim, client, canister


def count_on(replica: Replica, canister: Principal) -> bytes:
    return replica.state.query(canister, "get", UNIT, caller=USER, time=replica.state.ic.env.time).unwrap()


def test_replicas_checkpoint_the_same_heights_with_the_same_bytes(counter: MotokoCanister) -> None:
    sim, _, _ = counting_subnet(counter, 11)
    disks = sim.disks
    assert all(len(disk.checkpoints) == 2 for disk in disks)  # the newest two are kept
    heights = [checkpoint.height for checkpoint in disks[0].checkpoints]
    assert all(height % INTERVAL == 0 for height in heights) and heights[0] < heights[1]
    for disk in disks[1:]:
        for mine, theirs in zip(disks[0].checkpoints, disk.checkpoints):
            if mine.height == theirs.height:
                assert mine == theirs
    newest = disks[0].checkpoints[-1]
    assert (
        read_header(newest.state).state_hash
        == sim.replicas[0].state_hashes[newest.height]
        == newest.state_hash
    )


def test_a_restarted_replica_restores_the_checkpoint_and_replays_only_the_blocks_above_it(
    counter: MotokoCanister,
) -> None:
    sim, client, canister = counting_subnet(counter, 12)
    sim.crash(3)
    client.ok(canister, "increment")  # 4, while replica 3 is down
    sim.restart(3)
    replica = sim.replicas[3]
    disk = sim.disks[3]
    checkpoint = disk.checkpoints[-1]
    top = len(disk.finalized)
    assert top > checkpoint.height > 0
    assert replica.restored_checkpoint_height == checkpoint.height
    assert replica.replayed_heights == top - checkpoint.height
    assert replica.executed_height == top
    assert replica.state_hashes[top] == sim.replicas[0].state_hashes[top]
    assert replica.certifier.executed_height == top and checkpoint.height in replica.certifier.own
    # its disk ends before the increment it missed; catching up brings that in
    assert count_on(replica, canister) == nat(3) and count_on(sim.replicas[0], canister) == nat(4)
    client.settle()
    assert count_on(replica, canister) == nat(4)
    restored = [n for _, node, n in sim.notices if node == 3 and n.kind == "checkpoint_restored"]
    assert restored == [
        Notice(
            "checkpoint_restored",
            checkpoint.height,
            {"state_hash": checkpoint.state_hash.hex(), "replayed": top - checkpoint.height},
        )
    ]

    # it rejoins: later updates give it the same hashes as the replicas that never stopped
    assert client.ok(canister, "increment") == nat(5)
    client.settle()
    assert count_on(replica, canister) == nat(5)
    later = range(top + 1, replica.executed_height + 1)
    assert len(later) > 0
    assert all(replica.state_hashes[h] == sim.replicas[0].state_hashes[h] for h in later)
    assert replica.certified_height >= sim.replicas[0].executed_height - 2


def rebuilt(
    sim: Simulation, node: int, checkpoints: list[Checkpoint], **options: object
) -> tuple[Replica, list]:
    disk = sim.disks[node]
    replica = Replica(
        sim.genesis,
        sim.keys[node],
        finalized=disk.finalized,
        certificates=options.pop("certificates", disk.certificates),
        high_water=disk.high_water,
        checkpoints=checkpoints,
        checkpoint_interval=INTERVAL,
    )
    notices = [action for action in replica._out if isinstance(action, Notice)]
    return replica, notices


def test_a_bad_checkpoint_is_refused_for_the_older_one_or_a_full_replay(counter: MotokoCanister) -> None:
    sim, _, canister = counting_subnet(counter, 13)
    disk = sim.disks[1]
    older, newest = disk.checkpoints
    top = len(disk.finalized)
    expected = sim.replicas[1].state_hashes[top]

    corrupt = dataclasses.replace(newest, state=newest.state[:-1] + bytes([newest.state[-1] ^ 1]))
    replica, notices = rebuilt(sim, 1, [corrupt, older])
    assert [n.kind for n in notices] == ["checkpoint_refused", "checkpoint_restored"]
    assert "digest" in notices[0].detail["reason"]
    assert (
        replica.restored_checkpoint_height == older.height and replica.replayed_heights == top - older.height
    )
    assert replica.state_hash() == expected

    # A self-consistent checkpoint of a wrong state (as a diverged replica would write):
    # only the certificate of its height shows it, and that is enough.
    wrong = fresh()
    header = restore_checkpoint(wrong, newest.state)
    wrong.ic.env.canister(CanisterId.from_principal(canister)).cycles += 1
    forged = encode_checkpoint(
        wrong,
        height=newest.height,
        block_hash=header.block_hash,
        state_hash=wrong.state_hash(),
        results_root=header.results_root,
    )
    assert restore_checkpoint(fresh(), forged).height == newest.height  # valid on its own
    assert any(c.height == newest.height for c in disk.certificates)
    replica, notices = rebuilt(sim, 1, [Checkpoint(newest.height, wrong.state_hash(), forged)])
    assert [n.kind for n in notices] == ["checkpoint_refused"] and "certified" in notices[0].detail["reason"]
    assert replica.restored_checkpoint_height == 0 and replica.replayed_heights == top
    assert replica.state_hash() == expected

    # Without the certificate it would pass; with a block that is not the finalized one, never.
    other_block = encode_checkpoint(
        wrong,
        height=newest.height,
        block_hash=b"\x01" * 32,
        state_hash=wrong.state_hash(),
        results_root=header.results_root,
    )
    replica, notices = rebuilt(
        sim, 1, [Checkpoint(newest.height, wrong.state_hash(), other_block)], certificates=[]
    )
    assert "finalized block" in notices[0].detail["reason"] and replica.replayed_heights == top

    # A checkpoint above the chain that consensus proved is refused, not trusted.
    replica, notices = rebuilt(sim, 1, [dataclasses.replace(newest, height=top + INTERVAL)])
    assert "not in the finalized chain" in notices[0].detail["reason"] and replica.state_hash() == expected

    # Replaying from height 1 leaves exactly one checkpoint to persist: the newest due.
    persisted = [a for a in replica._out if isinstance(a, PersistCheckpoint)]
    assert [p.height for p in persisted] == [top - top % INTERVAL]
    assert persisted[0].state_bytes == next(
        c.state for c in disk.checkpoints if c.height == persisted[0].height
    )


def test_same_seed_same_trace_with_restarts_from_checkpoints() -> None:
    def once() -> tuple[str, list[str], Simulation]:
        config = SimConfig(
            replicas=4,
            seed=21,
            duration_ns=8 * SECOND,
            faults=[Crash(3 * SECOND, 2), Restart(5 * SECOND, 2)],
            checkpoint_interval=INTERVAL,
            keep_trace=True,
        )
        sim = Simulation(config)
        return sim.run().trace_hash, sim.trace.lines, sim

    first, lines, sim = once()
    second, again, _ = once()
    assert first == second and lines == again
    assert any('"checkpoint_restored"' in line for line in lines)
    assert sim.replicas[2].restored_checkpoint_height > 0
