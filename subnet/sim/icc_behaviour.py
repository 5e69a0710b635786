"""Byzantine behaviours that only make sense against ICC (``node.consensus.icc``).

- ``Equivocator``: as block maker, sends one block to half of its peers and a different
  block of the same height and rank to the other half, and votes for both;
- ``DoubleVoter``: votes for every block it sees at a height, not only the one ICC lets
  it vote for: a notarization share and a finalization share for each, whatever their
  rank, as soon as it votes at that height at all.

Like the generic behaviours (``subnet.sim.behaviour``) it rewrites the actions an honest
replica returned; it has to read and make ICC's own artifacts to do so, which is why it
lives under ICC's name: a simulation of another protocol would have its own attacks.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from node.actions import Action, Broadcast, Send
from node.consensus.icc import Block, BlockProposal, FinalizationShare, NotarizationShare
from subnet.sim.behaviour import Behaviour, SimView

__all__ = ["ICC_BEHAVIOURS", "DoubleVoter", "Equivocator"]


class Equivocator(Behaviour):
    """Two blocks per height it proposes, each shown to half of the peers, both voted for."""

    name = "equivocator"

    def __init__(self) -> None:
        self.twins: dict[bytes, Block] = {}
        self.seen: dict[bytes, None] = {}

    def outgoing(self, sim: SimView, node: int, actions: list[Action]) -> list[Action]:
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
            if isinstance(message, (NotarizationShare, FinalizationShare)):
                twin_of = self.twins.get(message.block_hash)
                if twin_of is not None:
                    # The same vote for the twin: a notarization share for two blocks of
                    # one rank, and a finalization share for each.
                    out.append(Broadcast(type(message).create(key, me, twin_of)))
        return out


class DoubleVoter(Behaviour):
    """Votes (notarization and finalization shares) for every block it has seen at each
    height it votes at. It learns blocks from the proposals it passes on."""

    name = "double-voter"

    def __init__(self) -> None:
        self.blocks: dict[int, dict[bytes, Block]] = {}
        self.voted: dict[tuple[str, bytes], None] = {}
        self.heights: dict[int, None] = {}

    def outgoing(self, sim: SimView, node: int, actions: list[Action]) -> list[Action]:
        key = sim.keys[node]
        me = sim.genesis.node_ids[node]
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
                    out.extend(self._vote(sim, node, key, me, block))
            elif isinstance(message, (NotarizationShare, FinalizationShare)):
                self.voted[(message.TAG, message.block_hash)] = None
                if message.height not in self.heights:
                    self.heights[message.height] = None
                    for block in list(self.blocks.get(message.height, {}).values()):
                        out.extend(self._vote(sim, node, key, me, block))
        for old in [height for height in self.blocks if height < max(self.heights, default=0) - 10]:
            del self.blocks[old]
        return out

    def _vote(self, sim: SimView, node: int, key: Any, me: Any, block: Block) -> list[Action]:
        votes: list[Action] = []
        for kind in (NotarizationShare, FinalizationShare):
            if (kind.TAG, block.hash) not in self.voted:
                self.voted[(kind.TAG, block.hash)] = None
                votes.append(Broadcast(kind.create(key, me, block)))
        if votes:
            sim.trace.record(sim.now, "double_vote", node, block.height, block.hash.hex()[:12])
        return votes


ICC_BEHAVIOURS: dict[str, type[Behaviour]] = {"equivocator": Equivocator, "double-voter": DoubleVoter}
"""The behaviours that attack ICC in particular."""
