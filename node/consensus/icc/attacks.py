"""Attacks on ICC: what a Byzantine replica that knows the protocol sends instead of what
its honest code asked it to send.

An attack (``node.byzantine.Attack``) rewrites the actions an honest replica returned
(``node.actions``), so the replica and the protocol stay untouched. The same
objects serve both backends: the simulator applies them to a replica's actions
(``subnet.sim.icc_behaviour``), a replica process to its own when its operator switches
it to one through the control channel (``vocab.messages.LinkControl``,
``node.runtime``). Neither draws anything at random, so a simulated run stays a function
of its seed.

- ``Equivocator``: as block maker, sends one block to half of its peers and a different
  block of the same height and rank to the other half, and votes for both;
- ``DoubleVoter``: votes for every block it sees at a height, not only the one ICC lets
  it vote for: a notarization share and a finalization share for each, whatever their
  rank, as soon as it votes at that height at all.
"""

from __future__ import annotations

import dataclasses

from node.actions import Action, Broadcast, Send
from node.byzantine import Attack, Attacker
from node.consensus.icc.artifacts import Block, BlockProposal, FinalizationShare, NotarizationShare

__all__ = ["ICC_ATTACKS", "DoubleVoter", "Equivocator"]


class Equivocator(Attack):
    """Two blocks per height it proposes, each shown to half of the peers, both voted for."""

    name = "equivocator"

    def __init__(self, attacker: Attacker) -> None:
        super().__init__(attacker)
        self.twins: dict[bytes, Block] = {}
        self.seen: dict[bytes, None] = {}

    def rewrite(self, actions: list[Action]) -> list[Action]:
        me, key = self.attacker.node_id, self.attacker.key
        first, second = self.attacker.halves()
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
                self.attacker.record("equivocate", block.height, block.hash.hex()[:12], twin.hash.hex()[:12])
                continue
            out.append(action)
            if isinstance(message, (NotarizationShare, FinalizationShare)):
                twin_of = self.twins.get(message.block_hash)
                if twin_of is not None:
                    # The same vote for the twin: a notarization share for two blocks of
                    # one rank, and a finalization share for each.
                    out.append(Broadcast(type(message).create(key, me, twin_of)))
        return out


class DoubleVoter(Attack):
    """Votes (notarization and finalization shares) for every block it has seen at each
    height it votes at. It learns blocks from the proposals it passes on."""

    name = "double-voter"
    KEEP_HEIGHTS = 10
    """Heights of blocks remembered below the highest it voted at."""

    def __init__(self, attacker: Attacker) -> None:
        super().__init__(attacker)
        self.blocks: dict[int, dict[bytes, Block]] = {}
        self.voted: dict[tuple[str, bytes], None] = {}
        self.heights: dict[int, None] = {}

    def rewrite(self, actions: list[Action]) -> list[Action]:
        out: list[Action] = []
        for action in actions:
            out.append(action)
            if not isinstance(action, (Broadcast, Send)):
                continue
            message = action.message
            if isinstance(message, BlockProposal):
                block = message.block
                self.blocks.setdefault(block.height, {})[block.hash] = block
                if block.height in self.heights:
                    out.extend(self._vote(block))
            elif isinstance(message, (NotarizationShare, FinalizationShare)):
                self.voted[(message.TAG, message.block_hash)] = None
                if message.height not in self.heights:
                    self.heights[message.height] = None
                    for block in list(self.blocks.get(message.height, {}).values()):
                        out.extend(self._vote(block))
        floor = max(self.heights, default=0) - self.KEEP_HEIGHTS
        for old in [height for height in self.blocks if height < floor]:
            del self.blocks[old]
        return out

    def _vote(self, block: Block) -> list[Action]:
        votes: list[Action] = []
        for kind in (NotarizationShare, FinalizationShare):
            if (kind.TAG, block.hash) not in self.voted:
                self.voted[(kind.TAG, block.hash)] = None
                votes.append(Broadcast(kind.create(self.attacker.key, self.attacker.node_id, block)))
        if votes:
            self.attacker.record("double_vote", block.height, block.hash.hex()[:12])
        return votes


ICC_ATTACKS: dict[str, type[Attack]] = {"equivocator": Equivocator, "double-voter": DoubleVoter}
"""The attacks on ICC by name, as scenario files and ``LinkControl.behaviour`` name them."""
