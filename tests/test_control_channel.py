"""The control channel of the process backend's nemesis. Link conditions on the real transport (``node.transport.LinkConditions``, what the
control channel's latency, loss and duplication faults set) and the control message
that carries them and clock skew to a replica (``LinkControl``): over loopback TCP in
one process, waits on events bounded by timeouts, never on sleeps. And the partition shapes: the
link filters the nemesis sends for each cut exactly the links the simulator cuts."""

from __future__ import annotations

import dataclasses
import random
from functools import partial
from pathlib import Path

import pytest
import trio

from node.actions import Broadcast, Send
from node.byzantine import WrongExecution
from node.consensus.icc import BlockProposal, genesis_block
from node.consensus.icc.attacks import Equivocator
from node.runtime import ReplicaRuntime
from node.transport import LinkConditions, Mesh, PeerAddress
from subnet.processes.control import Controls, link_control
from subnet.scenario import parse_scenario
from subnet.scenario.processes import _faults
from subnet.scenario.schedule import compile_faults
from subnet.sim.faults import Cut, Partition
from subnet.sim.network import SimNetwork
from tests.test_transport import Inbox, keys, listen, note
from vocab import crypto
from vocab.certificate import CERTIFICATION_DOMAIN, CertificationShare
from vocab.genesis import local_genesis
from vocab.messages import PPM


async def _pair(nursery: trio.Nursery, inbox: Inbox) -> Mesh:
    """A sender (0) linked to a receiver (1) whose frames land in ``inbox``."""
    secret = keys(2)
    sender = Mesh(0, secret[0], [], lambda peer, message: None)
    receiver = Mesh(1, secret[1], [], inbox)
    ports = [await listen(mesh, nursery) for mesh in (sender, receiver)]
    addresses = [PeerAddress(i, "127.0.0.1", ports[i], crypto.raw_public_key(secret[i])) for i in range(2)]
    for mesh in (sender, receiver):
        mesh.set_peers(addresses)
        nursery.start_soon(mesh.run)
    return sender


async def test_loss_and_duplication_hit_the_frames_the_seeded_draws_name() -> None:
    count, loss, duplication = 300, 300_000, 200_000
    # The receiver must see exactly what the draws say: each frame lost with
    # probability 0.3, otherwise sent twice with probability 0.2 (one generator per
    # replica, seeded with the seed and the sender's index), in order on one link.
    draws = random.Random("subnet-link-draws:7:0")
    expected = []
    for i in range(count):
        if draws.randrange(PPM) < loss:
            continue
        expected += [i, i] if draws.randrange(PPM) < duplication else [i]
    assert 150 < len(expected) < 260 and len(expected) > len(set(expected))
    inbox = Inbox(len(expected))
    async with trio.open_nursery() as nursery:
        sender = await _pair(nursery, inbox)
        sender.set_conditions(LinkConditions(loss_ppm=loss, duplication_ppm=duplication, seed=7))
        for i in range(count):
            sender.send(1, note(i % 256))
        with trio.fail_after(10):
            await inbox.full.wait()
        sender.set_conditions(LinkConditions(seed=7))
        sender.send(1, note(255))  # healed: exactly once, whatever the next draw would be
        inbox.expected += 1
        inbox.full = trio.Event()
        with trio.fail_after(10):
            await inbox.full.wait()
        nursery.cancel_scope.cancel()
    assert [message for _, message in inbox.items] == [note(i % 256) for i in expected] + [note(255)]
    assert sender.errors["frames_lost"] == count - len(set(expected))
    assert sender.errors["frames_duplicated"] == len(expected) - len(set(expected))


async def test_a_delay_holds_frames_and_a_block_cuts_those_in_flight() -> None:
    inbox = Inbox(1)
    async with trio.open_nursery() as nursery:
        sender = await _pair(nursery, inbox)
        sender.send(1, note(0))  # the link is up before the delay is measured
        with trio.fail_after(10):
            await inbox.full.wait()
        sender.set_conditions(LinkConditions(delay_ns=400_000_000))
        sent = trio.current_time()
        sender.send(1, note(1))
        sender.set_conditions(LinkConditions())
        sender.send(1, note(2))  # no delay any more: it overtakes the held frame
        inbox.expected, inbox.full = 3, trio.Event()
        with trio.fail_after(10):
            await inbox.full.wait()
        assert trio.current_time() - sent >= 0.4
        assert [message for _, message in inbox.items] == [note(0), note(2), note(1)]
        # A frame held by a delay when its peer is cut off never arrives.
        sender.set_conditions(LinkConditions(delay_ns=200_000_000))
        sender.send(1, note(3))
        sender.set_blocked({1})
        sender.set_conditions(LinkConditions())
        await trio.sleep(0.3)  # past the held frame's due time (the only sleep: proving absence)
        sender.set_blocked(set())
        sender.send(1, note(4))
        inbox.expected, inbox.full = 4, trio.Event()
        with trio.fail_after(10):
            await inbox.full.wait()
        nursery.cancel_scope.cancel()
    assert [message for _, message in inbox.items] == [note(0), note(2), note(1), note(4)]


async def test_a_redirect_moves_a_peer_to_its_twin_and_back() -> None:
    """``Mesh.redirect``: frames for peer 1 go to a twin of it (another mesh with its key,
    on another port) once redirected, and to the original again after; the link to the
    moved address is cut and redialed at once."""
    secret = keys(2)
    original, twin = Inbox(1), Inbox(1)
    async with trio.open_nursery() as nursery:
        sender = Mesh(0, secret[0], [], lambda peer, message: None)
        meshes = [sender, Mesh(1, secret[1], [], original), Mesh(1, secret[1], [], twin)]
        ports = [await listen(mesh, nursery) for mesh in meshes]
        public = [crypto.raw_public_key(key) for key in secret]
        committee = [
            PeerAddress(0, "127.0.0.1", ports[0], public[0]),
            PeerAddress(1, "127.0.0.1", ports[1], public[1]),
        ]
        for mesh in meshes:
            mesh.set_peers(committee)
        nursery.start_soon(sender.run)
        sender.send(1, note(0))
        with trio.fail_after(10):
            await original.full.wait()
        sender.redirect(1, "127.0.0.1", ports[2])
        sender.send(1, note(1))
        with trio.fail_after(10):
            await twin.full.wait()
        sender.redirect(None)
        original.expected, original.full = 2, trio.Event()
        sender.send(1, note(2))
        with trio.fail_after(10):
            await original.full.wait()
        nursery.cancel_scope.cancel()
    assert [message for _, message in original.items] == [note(0), note(2)]
    assert [message for _, message in twin.items] == [note(1)]


def test_bad_conditions_are_refused() -> None:
    with pytest.raises(ValueError, match="loss_ppm 1000000 is not in"):
        LinkConditions(loss_ppm=PPM)
    with pytest.raises(ValueError, match="delay_ns -1 is negative"):
        LinkConditions(delay_ns=-1)


def test_a_replica_takes_delay_loss_duplication_and_clock_skew_only_signed_with_its_key(
    tmp_path: Path,
) -> None:
    genesis, secret = local_genesis(4, "link-conditions")
    runtime = ReplicaRuntime(genesis, 2, secret[2], tmp_path)
    try:
        controls = Controls((0,), 300_000_000, 50_000, 20_000, -1_500_000_000, 9)
        message = link_control(secret[2], 2, [0], sequence=5, controls=controls)
        before = runtime.now_ns()
        assert runtime._link_control(message).applied
        assert runtime.mesh._blocked == {0}
        assert runtime.mesh.conditions == LinkConditions(300_000_000, 50_000, 20_000, 9)
        assert runtime.clock_offset_ns == -1_500_000_000
        assert -1.6e9 < runtime.now_ns() - before < -1.4e9  # the replica's clock, 1.5 s slow
        # Every field is signed: changing one after signing is refused, and so is a
        # probability out of range; nothing changes.
        tampered = dataclasses.replace(link_control(secret[2], 2, [], sequence=6), clock_offset_ns=10**9)
        out_of_range = link_control(secret[2], 2, [], sequence=7, controls=Controls(loss_ppm=PPM))
        assert runtime._link_control(tampered).reason == "not signed with this replica's node key"
        assert runtime._link_control(out_of_range).reason.startswith("a field is out of range: loss_ppm")
        assert runtime.clock_offset_ns == -1_500_000_000 and runtime.mesh.conditions.delay_ns == 300_000_000
        assert runtime._link_control(link_control(secret[2], 2, [], sequence=8)).applied
        assert runtime.clock_offset_ns == 0 and runtime.mesh.conditions == LinkConditions()
        assert runtime.mesh._blocked == set()
    finally:
        runtime.store.close()


def test_a_replica_switched_to_an_attack_rewrites_its_own_proposals(tmp_path: Path) -> None:
    """``behaviour = "equivocator"``: the runtime runs ICC's attack on the actions of its
    honest core (the links stay honest); the same name again keeps the attack's memory,
    ``honest`` ends it, and a name it does not know is refused with the ones it does."""
    genesis, secret = local_genesis(4, "attacks")
    runtime = ReplicaRuntime(genesis, 1, secret[1], tmp_path)
    try:
        switch = partial(link_control, secret[1], 1, [])
        assert runtime._link_control(switch(sequence=1, controls=Controls(behaviour="equivocator"))).applied
        attack = runtime.attack
        assert isinstance(attack, Equivocator) and runtime.mesh.conditions.behaviour == "honest"
        block = dataclasses.replace(genesis_block(genesis), height=1, proposer=genesis.node_ids[1], rank=0)
        rewritten = attack.rewrite([Broadcast(BlockProposal.create(secret[1], block))])
        sends = [action for action in rewritten if isinstance(action, Send)]
        assert sorted(action.peer for action in sends) == [0, 2, 3]
        assert len({action.message.block.hash for action in sends}) == 2  # two blocks at height 1
        assert runtime.errors["attack_equivocate"] == 1
        assert runtime._link_control(switch(sequence=2, controls=Controls(behaviour="equivocator"))).applied
        assert runtime.attack is attack
        refused = runtime._link_control(switch(sequence=3, controls=Controls(behaviour="liar")))
        assert not refused.applied and "'liar'" in refused.reason and "double-voter" in refused.reason
        # a wrong execution: its certification shares carry another state hash, signed
        assert runtime._link_control(
            switch(sequence=4, controls=Controls(behaviour="wrong-execution"))
        ).applied
        assert isinstance(runtime.attack, WrongExecution)
        honest = CertificationShare.create(secret[1], genesis.node_ids[1], 7, bytes(32), bytes(32))
        (lie,) = runtime.attack.rewrite([Broadcast(honest)])
        assert isinstance(lie, Broadcast) and isinstance(lie.message, CertificationShare)
        assert lie.message.state_hash != honest.state_hash and lie.message.height == 7
        assert crypto.verify(
            crypto.raw_public_key(secret[1]),
            lie.message.signature,
            CERTIFICATION_DOMAIN,
            lie.message.signed_bytes,
        )
        assert runtime._link_control(switch(sequence=5)).applied
        assert runtime.attack is None
    finally:
        runtime.store.close()


@pytest.mark.parametrize(
    ("shape", "extra"),
    [
        ("one", "target = 2"),
        ("minority", ""),
        ("majority", ""),
        ("ring", ""),
        ("bridge", ""),
        ("groups", "groups = [[0, 1, 2], [3, 4]]"),
    ],
)
def test_each_partition_shape_blocks_on_processes_the_links_the_simulator_cuts(
    shape: str, extra: str
) -> None:
    text = f"""
name = "shape"
seed = 3
duration = "4s"
backend = "processes"
[subnet]
replicas = 7
[[workload]]
kind = "counter"
[[fault]]
at = "1s"
kind = "partition"
shape = "{shape}"
duration = "1s"
{extra}
"""
    scenario = parse_scenario(text)
    schedule = compile_faults(scenario)
    n = scenario.subnet.replicas
    network = SimNetwork(n, random.Random(0))
    fault = schedule.faults[0]
    if isinstance(fault, Partition):
        network.partition(fault.groups)
    else:
        assert isinstance(fault, Cut)
        for src, dst in fault.links:
            network.block_link(src, dst)
    (change,) = [change for _, action, _, change in _faults(schedule, n) if action == "partition"]
    assert change is not None
    blocked = change["blocked"]
    for src in range(n):
        for dst in range(n):
            if src != dst:
                assert (dst in blocked[src]) == (not network.connected(src, dst)), (src, dst)
    assert any(blocked.values())


async def test_a_silent_replica_sends_nothing_and_a_garbage_one_garbles_its_own_signatures() -> None:
    secret = keys(2)
    signed = link_control(secret[0], 1, [], sequence=1)  # any message with its own signature
    inbox = Inbox(1)
    async with trio.open_nursery() as nursery:
        sender = await _pair(nursery, inbox)
        sender.set_conditions(LinkConditions(behaviour="silent"))
        sender.send(1, note(0))
        sender.broadcast(note(1))
        sender.set_conditions(LinkConditions(behaviour="garbage", seed=3))
        sender.send(1, signed)
        with trio.fail_after(10):
            await inbox.full.wait()
        nursery.cancel_scope.cancel()
    ((_, garbled),) = inbox.items
    assert isinstance(garbled, type(signed)) and garbled != signed
    assert dataclasses.replace(garbled, signature=signed.signature) == signed  # only the signature
    assert garbled.signature == random.Random("subnet-link-draws:3:0").randbytes(64)
    assert sender.errors["frames_muted"] == 2 and sender.errors["frames_garbled"] == 1
    with pytest.raises(ValueError, match="behaviour 'equivocator' is not one of honest, silent, garbage"):
        LinkConditions(behaviour="equivocator")
