"""Byzantine behaviours: what a replica sends, rewritten as a faulty node would send it.

A behaviour sits between a replica and the simulated network: the replica runs the honest
code, and the behaviour turns the actions it returned (``node.actions``) into what a
Byzantine node would do. That keeps an attack small and explicit, and leaves the replica
and its consensus protocol untouched. The behaviours here know nothing of the protocol:

- ``Behaviour``: honest, forwards the actions unchanged;
- ``Silent``: sends nothing (a replica that is up but mute, or cut off);
- ``GarbageSigner``: every signature it sends is random bytes.

Attacks that need to understand a protocol's messages (an equivocating ICC block maker)
live with that protocol's name (``subnet.sim.icc_behaviour``).

A behaviour reaches the simulation only through ``SimView``, which the runner passes in,
so this module does not depend on the runner. Every random draw comes from the
simulation's one generator, so runs stay a function of the seed.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Sequence
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from node.actions import Action, Broadcast, Send
from subnet.sim.trace import Trace
from vocab.codec import Message
from vocab.genesis import Genesis

__all__ = ["GENERIC_BEHAVIOURS", "Behaviour", "GarbageSigner", "Silent", "SimView"]

SIGNATURE_BYTES = 64


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


class Behaviour:
    """Honest by default: forwards the replica's actions unchanged."""

    name = "honest"

    def outgoing(self, sim: SimView, node: int, actions: list[Action]) -> list[Action]:
        return actions


class Silent(Behaviour):
    name = "silent"

    def outgoing(self, sim: SimView, node: int, actions: list[Action]) -> list[Action]:
        return [action for action in actions if not isinstance(action, (Send, Broadcast))]


def garble(rng: random.Random, message: Message) -> Message:
    """The message with its own signatures replaced by random bytes.

    Generic over every protocol by the codec's convention: a message's own signature is
    its ``signature`` field (a proposal, a vote share, a certification share), an
    aggregate's are its ``signatures`` (a notarization, a certificate). Signatures nested
    deeper (a request's inside a block) are someone else's and stay intact.
    """
    if not dataclasses.is_dataclass(message):
        return message
    fields = {item.name: getattr(message, item.name) for item in dataclasses.fields(message)}
    if "signature" in fields:
        return dataclasses.replace(message, signature=rng.randbytes(SIGNATURE_BYTES))
    if "signatures" in fields:
        noise = tuple(rng.randbytes(SIGNATURE_BYTES) for _ in fields["signatures"])
        return dataclasses.replace(message, signatures=noise)
    return message


class GarbageSigner(Behaviour):
    name = "garbage"

    def outgoing(self, sim: SimView, node: int, actions: list[Action]) -> list[Action]:
        out: list[Action] = []
        for action in actions:
            if isinstance(action, Broadcast):
                out.append(Broadcast(garble(sim.rng, action.message)))
            elif isinstance(action, Send):
                out.append(Send(action.peer, garble(sim.rng, action.message)))
            else:
                out.append(action)
        return out


GENERIC_BEHAVIOURS: dict[str, type[Behaviour]] = {
    "honest": Behaviour,
    "silent": Silent,
    "garbage": GarbageSigner,
}
"""The behaviours that work whatever the consensus protocol."""
