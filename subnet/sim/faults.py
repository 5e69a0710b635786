"""Faults for simulated runs: scheduled events (crash, restart, partition, heal) and
Byzantine behaviours that rewrite what a replica sends.

A behaviour sits between a replica and the network: the replica runs the honest code,
and the behaviour turns its outgoing actions into what a Byzantine node would send. That
keeps the attack small and explicit, and leaves the replica code untouched:

- ``Silent``: sends nothing (a replica that is up but mute, or cut off);
- ``GarbageSigner``: every signature it sends is random bytes;
- ``Equivocator``: as block maker, sends one block to half of its peers and a different
  block of the same height and rank to the other half, and votes for both.

Every random draw comes from the simulation's one generator (``sim.rng``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

from node.actions import Action, Broadcast, Send
from node.consensus.icc import (
    Block,
    BlockProposal,
    Finalization,
    FinalizationShare,
    Notarization,
    NotarizationShare,
)
from vocab.certificate import Certificate, CertificationShare
from vocab.codec import Message

if TYPE_CHECKING:
    from subnet.sim.runner import Simulation


class Behaviour:
    """Honest by default: forwards the replica's actions unchanged."""

    name = "honest"

    def outgoing(self, sim: Simulation, node: int, actions: list[Action]) -> list[Action]:
        return actions


class Silent(Behaviour):
    name = "silent"

    def outgoing(self, sim: Simulation, node: int, actions: list[Action]) -> list[Action]:
        return [action for action in actions if not isinstance(action, (Send, Broadcast))]


def _garble(sim: Simulation, message: Message) -> Message:
    noise = lambda: sim.rng.randbytes(64)
    if isinstance(message, BlockProposal):
        return dataclasses.replace(message, signature=noise())
    if isinstance(message, (NotarizationShare, FinalizationShare, CertificationShare)):
        return dataclasses.replace(message, signature=noise())
    if isinstance(message, (Notarization, Finalization, Certificate)):
        return dataclasses.replace(message, signatures=tuple(noise() for _ in message.signatures))
    return message


class GarbageSigner(Behaviour):
    name = "garbage"

    def outgoing(self, sim: Simulation, node: int, actions: list[Action]) -> list[Action]:
        out: list[Action] = []
        for action in actions:
            if isinstance(action, Broadcast):
                out.append(Broadcast(_garble(sim, action.message)))
            elif isinstance(action, Send):
                out.append(Send(action.peer, _garble(sim, action.message)))
            else:
                out.append(action)
        return out


class Equivocator(Behaviour):
    """Two blocks per height it proposes, each shown to half of the peers, both voted for."""

    name = "equivocator"

    def __init__(self) -> None:
        self.twins: dict[bytes, Block] = {}
        self.seen: dict[bytes, None] = {}

    def outgoing(self, sim: Simulation, node: int, actions: list[Action]) -> list[Action]:
        key = sim.keys[node]
        peers = [peer for peer in range(sim.n) if peer != node]
        first, second = peers[: len(peers) // 2 + len(peers) % 2], peers[len(peers) // 2 + len(peers) % 2 :]
        me = sim.genesis.node_ids[node]
        out: list[Action] = []
        for action in actions:
            if not isinstance(action, Broadcast):
                out.append(action)
                continue
            message = action.message
            if (
                isinstance(message, BlockProposal)
                and message.block.proposer == me
                and message.block.hash not in self.seen
            ):
                block = message.block
                twin = dataclasses.replace(block, timestamp=block.timestamp + 1, payload=())
                self.twins[block.hash] = twin
                self.seen[block.hash] = None
                self.seen[twin.hash] = None
                out.extend(Send(peer, message) for peer in first)
                out.extend(Send(peer, BlockProposal.create(key, twin)) for peer in second)
                sim.trace.record(
                    sim.now, "equivocate", node, block.height, block.hash.hex()[:12], twin.hash.hex()[:12]
                )
                continue
            out.append(action)
            twin = self.twins.get(getattr(message, "block_hash", b""))
            if isinstance(message, NotarizationShare) and twin is not None:
                out.append(Broadcast(NotarizationShare.create(key, me, twin)))
            elif isinstance(message, FinalizationShare) and twin is not None:
                out.append(Broadcast(FinalizationShare.create(key, me, twin)))
        return out


BEHAVIOURS: dict[str, type[Behaviour]] = {
    "honest": Behaviour,
    "silent": Silent,
    "garbage": GarbageSigner,
    "equivocator": Equivocator,
}


# -- scheduled faults --------------------------------------------------------------------------


@dataclass(frozen=True)
class Crash:
    """The replica stops; its memory is lost, its persisted blocks and votes are kept."""

    at_ns: int
    node: int

    def apply(self, sim: Simulation) -> None:
        sim.crash(self.node)


@dataclass(frozen=True)
class Restart:
    """The replica restarts from what it persisted."""

    at_ns: int
    node: int

    def apply(self, sim: Simulation) -> None:
        sim.restart(self.node)


@dataclass(frozen=True)
class Partition:
    """Messages between different groups are dropped (nodes in no group are isolated)."""

    at_ns: int
    groups: tuple[tuple[int, ...], ...]

    def apply(self, sim: Simulation) -> None:
        sim.network.partition(self.groups)
        sim.trace.record(sim.now, "partition", -1, [list(group) for group in self.groups])


@dataclass(frozen=True)
class Heal:
    at_ns: int

    def apply(self, sim: Simulation) -> None:
        sim.network.heal()
        sim.trace.record(sim.now, "heal", -1)


@dataclass(frozen=True)
class SetBehaviour:
    at_ns: int
    node: int
    behaviour: str

    def apply(self, sim: Simulation) -> None:
        sim.behaviours[self.node] = BEHAVIOURS[self.behaviour]()
        sim.trace.record(sim.now, "behaviour", self.node, self.behaviour)


Fault = Crash | Restart | Partition | Heal | SetBehaviour
