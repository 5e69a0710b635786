"""ICC's attacks (``node.consensus.icc.attacks``) as behaviours of simulated replicas.

The attacks themselves live with the protocol, in the node layer, so that a replica
process runs the same code when its operator switches it to one; here each is wrapped as
an ``AttackBehaviour`` (``subnet.sim.behaviour``).
"""

from __future__ import annotations

from node.consensus.icc.attacks import DoubleVoter, Equivocator
from subnet.sim.behaviour import AttackBehaviour, Behaviour

__all__ = ["ICC_BEHAVIOURS", "SimDoubleVoter", "SimEquivocator"]


class SimEquivocator(AttackBehaviour):
    name = Equivocator.name
    attack = Equivocator


class SimDoubleVoter(AttackBehaviour):
    name = DoubleVoter.name
    attack = DoubleVoter


ICC_BEHAVIOURS: dict[str, type[Behaviour]] = {kind.name: kind for kind in (SimEquivocator, SimDoubleVoter)}
"""The behaviours that attack ICC in particular."""
