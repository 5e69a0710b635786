"""Byzantine behaviours: what a replica sends, rewritten as a faulty node would send it.

A behaviour sits between a replica and the simulated network: the replica runs the honest
code, and the behaviour turns the actions it returned (``node.actions``) into what a
Byzantine node would do. That keeps an attack small and explicit, and leaves the replica
and its consensus protocol untouched. The behaviours here know nothing of the protocol:

- ``Behaviour``: honest, forwards the actions unchanged;
- ``Silent``: sends nothing (a replica that is up but mute, or cut off), nor answers the
  fast path's clients;
- ``GarbageSigner``: every signature it sends is random bytes, its fast-path votes and
  effects signatures too;
- ``Twins``: two instances of the replica behind one identity (one node key), each
  honest on its own, each talking to its own half of the peers: together they propose
  two blocks at a height and vote for both, as a node whose key was copied would
  (Bano et al., "Twins: BFT Systems Made Robust", 2022);
- ``wrong-execution``: certifies a state it did not reach (``node.byzantine``'s attack,
  which replica processes run too, wrapped by ``AttackBehaviour``).

Attacks that need to understand a protocol's messages (an equivocating ICC block maker)
live with that protocol's name (``subnet.sim.icc_behaviour``).

A behaviour reaches the simulation only through ``SimView``, which the runner passes in,
so this module does not depend on the runner. Every random draw comes from the
simulation's one generator, so runs stay a function of the seed.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from node.actions import Action, Answer, Broadcast, Send, SetTimer
from node.byzantine import Attack, Attacker, WrongExecution, garble
from node.events import MessageReceived, Started, TimerExpired
from node.replica import Replica
from subnet.sim.trace import Trace
from vocab.genesis import Genesis

__all__ = [
    "GENERIC_BEHAVIOURS",
    "AttackBehaviour",
    "Behaviour",
    "GarbageSigner",
    "Silent",
    "SimView",
    "SimWrongExecution",
    "Twins",
]


class SimView(Protocol):
    """What a behaviour may see and use of the running simulation."""

    @property
    def now(self) -> int: ...

    @property
    def n(self) -> int: ...

    @property
    def rng(self) -> random.Random: ...

    @property
    def genesis(self) -> Genesis: ...

    @property
    def keys(self) -> Sequence[Ed25519PrivateKey]: ...

    @property
    def trace(self) -> Trace: ...

    def twin_replica(self, node: int) -> Replica:
        """A second replica with ``node``'s key, restored from its disk as it is now."""
        ...


class Behaviour:
    """Honest by default: forwards the replica's actions unchanged."""

    name = "honest"

    def deliver(self, sim: SimView, node: int, replica: Replica, event: Any) -> list[Action]:
        """Hand an event that reached the node to its replica; the actions to pass on to
        ``outgoing``. A behaviour running more than the one replica routes it here."""
        actions: list[Action] = replica.handle(event)
        return actions

    def outgoing(self, sim: SimView, node: int, actions: list[Action]) -> list[Action]:
        return actions


class Silent(Behaviour):
    name = "silent"

    def outgoing(self, sim: SimView, node: int, actions: list[Action]) -> list[Action]:
        """Nothing to its peers, nor fast-path answers to clients (votes, signed effects)."""
        return [action for action in actions if not isinstance(action, (Send, Broadcast, Answer))]


class GarbageSigner(Behaviour):
    name = "garbage"

    def outgoing(self, sim: SimView, node: int, actions: list[Action]) -> list[Action]:
        out: list[Action] = []
        for action in actions:
            if isinstance(action, Broadcast):
                out.append(Broadcast(garble(sim.rng, action.message)))
            elif isinstance(action, Send):
                out.append(Send(action.peer, garble(sim.rng, action.message)))
            elif isinstance(action, Answer):  # a fast-path vote or effects signature to a client
                out.append(Answer(garble(sim.rng, action.message)))
            else:
                out.append(action)
        return out


TWIN_TIMER = "twin:"
"""The twin's timers, renamed so that the simulator keeps them apart from the original's."""


class Twins(Behaviour):
    """The node's replica and a twin with the same key, started from the node's disk when
    the behaviour begins. The peers are split in two halves: the original talks only to
    the first (its messages go there, and only messages from there reach it), the twin
    only to the second. Each runs the honest code, so each proposes when the node's rank
    comes and votes as ICC says, and the two halves see two different nodes under one
    identity. The twin is a ghost: what it would persist or answer to clients is dropped,
    and it ends with the behaviour."""

    name = "twins"

    def __init__(self) -> None:
        self.twin: Replica | None = None
        self._twin_actions: list[Action] = []

    @staticmethod
    def halves(sim: SimView, node: int) -> tuple[list[int], list[int]]:
        """(the original's peers, the twin's peers): the others in index order, split."""
        peers = [peer for peer in range(sim.n) if peer != node]
        middle = (len(peers) + 1) // 2
        return peers[:middle], peers[middle:]

    def deliver(self, sim: SimView, node: int, replica: Replica, event: Any) -> list[Action]:
        if self.twin is None:
            self.twin = sim.twin_replica(node)
            sim.trace.record(sim.now, "twin_started", node, self.twin.finalized_height)
            self._twin(sim, node, Started(event.now))
        _, theirs = self.halves(sim, node)
        if isinstance(event, Started):
            self._twin(sim, node, event)
        elif isinstance(event, MessageReceived) and event.peer in theirs:
            self._twin(sim, node, event)
            return []
        elif isinstance(event, TimerExpired) and event.timer.startswith(TWIN_TIMER):
            self._twin(sim, node, TimerExpired(event.timer.removeprefix(TWIN_TIMER), event.now))
            return []
        actions: list[Action] = replica.handle(event)
        return actions

    def _twin(self, sim: SimView, node: int, event: Any) -> None:
        """The twin handles an event; its messages (to its half only) and renamed timers
        wait for ``outgoing``, everything else it does is dropped."""
        assert self.twin is not None
        _, theirs = self.halves(sim, node)
        for action in self.twin.handle(event):
            if isinstance(action, Broadcast):
                self._twin_actions.extend(Send(peer, action.message) for peer in theirs)
            elif isinstance(action, Send) and action.peer in theirs:
                self._twin_actions.append(action)
            elif isinstance(action, SetTimer):
                self._twin_actions.append(SetTimer(TWIN_TIMER + action.timer, action.at))

    def outgoing(self, sim: SimView, node: int, actions: list[Action]) -> list[Action]:
        mine, _ = self.halves(sim, node)
        out: list[Action] = []
        for action in actions:
            if isinstance(action, Broadcast):
                out.extend(Send(peer, action.message) for peer in mine)
            elif not isinstance(action, Send) or action.peer in mine:
                out.append(action)
        out.extend(self._twin_actions)
        self._twin_actions = []
        return out


class AttackBehaviour(Behaviour):
    """A simulated replica running an attack of the node layer (the subclass's
    ``attack``: ``node.byzantine``'s, or a protocol's own), the code a replica
    process runs when its operator names it; built when the node first sends something,
    with the node's key, and writing what it does into the simulation's trace."""

    attack: type[Attack]

    def __init__(self) -> None:
        self._attack: Attack | None = None

    def outgoing(self, sim: SimView, node: int, actions: list[Action]) -> list[Action]:
        if self._attack is None:

            def record(kind: str, *fields: Any) -> None:
                sim.trace.record(sim.now, kind, node, *fields)

            attacker = Attacker(node, sim.keys[node], sim.genesis.node_ids[node], sim.n, record)
            self._attack = self.attack(attacker)
        return self._attack.rewrite(actions)


class SimWrongExecution(AttackBehaviour):
    name = WrongExecution.name
    attack = WrongExecution


GENERIC_BEHAVIOURS: dict[str, type[Behaviour]] = {
    "honest": Behaviour,
    "silent": Silent,
    "garbage": GarbageSigner,
    "twins": Twins,
    "wrong-execution": SimWrongExecution,
}
"""The behaviours that work whatever the consensus protocol."""
