"""The one interface every consensus protocol of a replica implements.

A protocol is a sans-IO state machine (DESIGN.md 3.1): it is fed what happened (a
message from a peer, a timer firing, a restart from what it persisted) with the time
it happened, and answers each call with one ``Step``: what to send and persist, the
blocks it newly finalized, in height order, and what it refused and why. Nothing is
left behind on the object for the caller to collect and clear: an output that is
returned cannot be forgotten by one caller or collected twice by another, and the
replica's code reads as "call, then act on the answer".

The replica (``node.replica``) owns the protocol and is its only user. It routes every
peer message that is not its own (ingress gossip, certification) to ``on_message``,
performs ``Step.actions`` in order, persists and executes ``Step.finalized`` through
the ``ChainBlock`` view (``node.consensus.block``), and sets one timer at
``next_wakeup``. Catch-up is part of the protocol, because what proves a run of
finalized blocks is the protocol's business: a protocol answers its peers' catch-up
requests and adopts their responses inside ``on_message``; the certificates of the
heights it sends ride along (the replica's lookup is given to the protocol when it is
made) and those it receives come back in ``Step.certificates``.

ICC (``node.consensus.icc``) is the implementation today; another one (HotStuff, a
crash-only Raft baseline) is a sibling package implementing ``Consensus``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from node.actions import Action
from node.consensus.block import ChainBlock, Finalized
from vocab.certificate import Certificate
from vocab.codec import Message

__all__ = ["CertificateLookup", "Consensus", "Step"]

CertificateLookup = Callable[[int], Certificate | None]
"""The certificate a replica holds for a height, if any (sent along with catch-up)."""


@dataclass
class Step:
    """What one call of a protocol produced, in the order it must be acted on."""

    actions: list[Action] = field(default_factory=list)
    """``Send``, ``Broadcast``, ``PersistHighWater`` and ``Notice``, in order: a
    ``PersistHighWater`` must be durable before the sends that follow it."""
    finalized: list[Finalized] = field(default_factory=list)
    """Blocks newly final, in height order, each with its proof (from ``restore``: the
    proven prefix of what was persisted, to replay, not to persist again)."""
    dropped: dict[str, int] = field(default_factory=dict)
    """Incoming messages refused, counted by reason (bad signature, out of window...)."""
    certificates: list[Certificate] = field(default_factory=list)
    """Certificates that arrived with caught-up blocks, for the certifier once those
    blocks are executed."""

    behind: list[int] = field(default_factory=list)
    """Peers that asked for finalized blocks this replica no longer keeps (pruned below
    its certified checkpoint, ``node.pruning``): they need a catch-up package
    (``node.state_sync``), not blocks."""

    def drop(self, reason: str) -> None:
        self.dropped[reason] = self.dropped.get(reason, 0) + 1


class Consensus(ABC):
    """A consensus protocol behind the replica: events in, one ``Step`` out per event.

    An abstract base class rather than a structural protocol: an implementation says
    that it is one (``class Icc(Consensus)``), and one that forgets a method fails when
    it is made, not at the first call that needs it.

    The protocol does no I/O and reads no clock: ``now`` (integer nanoseconds) comes with
    every call and never goes backwards. It must not sign anything that contradicts a
    vote it made before a crash: ``restore`` gives it the highest height it recorded
    with ``PersistHighWater``.
    """

    @abstractmethod
    def restore(self, finalized: Sequence[Finalized], high_water: int) -> Step:
        """Adopt what this replica persisted before a restart, before ``start``.

        ``finalized`` are the persisted pairs in height order (possibly damaged: only a
        proven prefix is adopted, and a ``restore_truncated`` notice says why the rest
        was not); ``high_water`` is the largest persisted high-water mark. The returned
        ``Step.finalized`` is the adopted prefix, which the replica replays through
        execution. Called once, with nothing for a fresh replica.
        """

    @abstractmethod
    def start(self, now: int) -> Step:
        """The replica runs (boot or restart): begin the current round."""

    @abstractmethod
    def on_message(self, peer: int, message: Message, now: int) -> Step:
        """A message from the peer at index ``peer`` of the committee, including catch-up
        requests and responses. Anything that is not this protocol's is counted in
        ``Step.dropped``; nothing a peer sends makes it raise."""

    @abstractmethod
    def on_timer(self, now: int) -> Step:
        """The timer set for ``next_wakeup`` fired (possibly late, early or stale)."""

    @abstractmethod
    def next_wakeup(self, now: int) -> int | None:
        """The earliest future time at which a timeout could change what it does, or
        None if only a message can."""

    @property
    @abstractmethod
    def finalized_height(self) -> int:
        """The height of the newest finalized block (0: genesis only); never decreases."""

    @property
    @abstractmethod
    def height(self) -> int:
        """The highest height this replica has seen the committee agree on in any form
        (notarized, for ICC); at least ``finalized_height``. For status reports."""

    @abstractmethod
    def finalized_block(self, height: int) -> ChainBlock | None:
        """A finalized block this replica still holds (the genesis block at 0)."""

    # -- bounded memory and state sync (node.pruning, node.state_sync) ----------------------

    @abstractmethod
    def prune_below(self, height: int) -> None:
        """Forget the finalized blocks and proofs below ``height`` (a certified checkpoint
        covers them); a catch-up request for them then names the peer in ``Step.behind``."""

    @abstractmethod
    def package_proof(self, height: int) -> tuple[Sequence[ChainBlock], Message] | None:
        """The finalized blocks from ``height`` up to the one its proof names, and that
        proof: what a catch-up package carries of the chain. None if not held."""

    @abstractmethod
    def package_problem(self, blocks: Sequence[ChainBlock], proof: Message) -> str | None:
        """Why a catch-up package's blocks and proof do not prove a finalized run above
        this replica's finalized height (None: they do). Changes nothing."""

    @abstractmethod
    def adopt_package(self, blocks: Sequence[ChainBlock], proof: Message, now: int) -> Step:
        """Jump to a catch-up package's run (``package_problem`` found nothing wrong):
        its first block becomes the finalized base, with nothing kept below it; the rest
        are the step's ``finalized`` (the caller executes those above its checkpoint)."""
