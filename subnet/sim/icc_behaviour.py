"""ICC's attacks (``node.consensus.icc.attacks``) as behaviours of simulated replicas.

The attacks themselves live with the protocol, in the node layer, so that a replica
process runs the same code when its operator switches it to one; here each is wrapped as
a ``Behaviour``: built when the node first sends something, with the node's key from the
simulation, and writing what it does into the simulation's trace.
"""

from __future__ import annotations

from typing import Any

from node.actions import Action
from node.consensus.icc.attacks import Attack, Attacker, DoubleVoter, Equivocator
from subnet.sim.behaviour import Behaviour, SimView

__all__ = ["ICC_BEHAVIOURS", "IccAttack", "SimDoubleVoter", "SimEquivocator"]


class IccAttack(Behaviour):
    """A simulated replica running one of ICC's attacks (the subclass's ``attack``)."""

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


class SimEquivocator(IccAttack):
    name = Equivocator.name
    attack = Equivocator


class SimDoubleVoter(IccAttack):
    name = DoubleVoter.name
    attack = DoubleVoter


ICC_BEHAVIOURS: dict[str, type[Behaviour]] = {kind.name: kind for kind in (SimEquivocator, SimDoubleVoter)}
"""The behaviours that attack ICC in particular."""
