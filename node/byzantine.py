"""Byzantine behaviours that need no knowledge of the consensus protocol, for fault
injection: a replica that sends nothing (``silent``), or whose every own signature is
random bytes (``garbage``), and the frame of the attacks that rewrite what a replica's
honest code does (``Attack``), with one that needs no consensus either: a replica that
certifies a state it did not reach (``wrong-execution``).

The simulator applies the link behaviours to a replica's actions
(``subnet.sim.behaviour``); a replica process applies them to the frames it sends when
its operator says so through the control channel (``vocab.messages.LinkControl``,
``node.transport.Mesh``). Both use ``garble`` here, so the two backends do the same thing
to a message. Attacks (these and ICC's, ``node.consensus.icc.attacks``) rewrite actions,
the same objects on both backends: the simulator's behaviours wrap them, a replica
process runs the one its operator names (``node.runtime``).
"""

from __future__ import annotations

import abc
import dataclasses
import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass

from node.actions import Action, Broadcast, Send
from vocab import crypto
from vocab.certificate import CertificationShare
from vocab.codec import Message
from vocab.principal import Principal

__all__ = [
    "ATTACKS",
    "LINK_BEHAVIOURS",
    "SIGNATURE_BYTES",
    "Attack",
    "Attacker",
    "WrongExecution",
    "garble",
]

SIGNATURE_BYTES = 64

LINK_BEHAVIOURS = ("honest", "silent", "garbage")
"""The behaviours a replica process can be switched to (``LinkControl.behaviour``)."""


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


@dataclass(frozen=True)
class Attacker:
    """Who attacks: the replica's index, its node key and id, the committee's size, and
    where the attack writes down what it did (``record(kind, *fields)``: the simulator's
    trace, a process's log)."""

    index: int
    key: crypto.Ed25519PrivateKey
    node_id: Principal
    n: int
    record: Callable[..., None]

    def halves(self) -> tuple[list[int], list[int]]:
        """The other replicas in index order, split in two (the first half the larger)."""
        peers = [peer for peer in range(self.n) if peer != self.index]
        middle = (len(peers) + 1) // 2
        return peers[:middle], peers[middle:]


class Attack(abc.ABC):
    """Rewrites the actions of one replica's honest code: small and explicit, and the
    replica and its protocol stay untouched. Nothing is drawn at random, so a simulated
    run stays a function of its seed."""

    name = ""

    def __init__(self, attacker: Attacker) -> None:
        self.attacker = attacker

    @abc.abstractmethod
    def rewrite(self, actions: list[Action]) -> list[Action]:
        """The actions to carry out instead of ``actions``."""


class WrongExecution(Attack):
    """Certifies a state it did not reach: each certification share it sends carries
    another state hash, correctly signed, as a replica whose execution went wrong would
    (a divergent state hash). Its own state is left as it is."""

    name = "wrong-execution"

    def rewrite(self, actions: list[Action]) -> list[Action]:
        out: list[Action] = []
        for action in actions:
            if isinstance(action, (Broadcast, Send)) and isinstance(action.message, CertificationShare):
                share = action.message
                wrong = hashlib.sha256(b"wrong-execution" + share.state_hash).digest()
                lie = CertificationShare.create(
                    self.attacker.key,
                    share.signer,
                    share.height,
                    wrong,
                    share.results_root,
                    share.time_ns,
                    share.canister_root,
                )
                out.append(dataclasses.replace(action, message=lie))
                self.attacker.record("wrong_execution", share.height, wrong.hex()[:12])
            else:
                out.append(action)
        return out


ATTACKS: dict[str, type[Attack]] = {WrongExecution.name: WrongExecution}
"""The attacks that work whatever the consensus protocol, by name."""
