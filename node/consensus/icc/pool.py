"""The artifact pool: blocks and votes a replica keeps while a height is undecided.

Everything in it arrived from peers that may be Byzantine, so every collection is
bounded: only heights in (finalized, finalized + window] are kept, a proposer gets at
most two blocks per height (two are enough to prove it equivocated), and a signer gets a
bounded number of distinct votes of each kind per height. Heights at or below the
finalized one are dropped as soon as it moves. Only artifacts whose signature was
checked enter the pool; the pool itself does no cryptography.

Collections are dicts, never sets, so that iterating them follows arrival order and a
run does not depend on PYTHONHASHSEED.
"""

from __future__ import annotations

from node.consensus.icc.artifacts import BlockProposal, Finalization, Notarization
from vocab.principal import Principal

BLOCKS_PER_PROPOSER = 2


class ConsensusPool:
    def __init__(self, n: int, window: int) -> None:
        self.window = window
        self.votes_per_signer = n + 2
        self.finalized_height = 0
        self.proposals: dict[bytes, BlockProposal] = {}
        self.notarization_shares: dict[bytes, dict[Principal, bytes]] = {}
        self.notarizations: dict[bytes, Notarization] = {}
        self.finalization_shares: dict[bytes, dict[Principal, bytes]] = {}
        self.finalizations: dict[bytes, Finalization] = {}
        self._at_height: dict[int, dict[bytes, None]] = {}
        self._by_proposer: dict[tuple[int, Principal], list[bytes]] = {}
        self._vote_count: dict[tuple[str, int, Principal], int] = {}
        self.dropped = 0
        """Artifacts refused for lack of room (outside the window, over a bound)."""

    def in_window(self, height: int) -> bool:
        return self.finalized_height < height <= self.finalized_height + self.window

    def _note(self, height: int, block_hash: bytes) -> None:
        self._at_height.setdefault(height, {})[block_hash] = None

    # -- blocks ----------------------------------------------------------------------------

    def add_proposal(self, proposal: BlockProposal) -> bool:
        """Keep a (signature-checked) proposal; False if known, out of window or over bound."""
        block = proposal.block
        if block.hash in self.proposals:
            return False
        if not self.in_window(block.height):
            self.dropped += 1
            return False
        mine = self._by_proposer.setdefault((block.height, block.proposer), [])
        if len(mine) >= BLOCKS_PER_PROPOSER:
            self.dropped += 1
            return False
        mine.append(block.hash)
        self.proposals[block.hash] = proposal
        self._note(block.height, block.hash)
        return True

    def blocks_at(self, height: int) -> list[BlockProposal]:
        return [self.proposals[h] for h in self._at_height.get(height, {}) if h in self.proposals]

    def proposals_by(self, height: int, proposer: Principal) -> list[bytes]:
        return list(self._by_proposer.get((height, proposer), ()))

    # -- votes -----------------------------------------------------------------------------

    def _add_share(
        self,
        kind: str,
        table: dict[bytes, dict[Principal, bytes]],
        height: int,
        block_hash: bytes,
        signer: Principal,
        signature: bytes,
    ) -> bool:
        shares = table.get(block_hash)
        if shares is not None and signer in shares:
            return False
        if not self.in_window(height):
            self.dropped += 1
            return False
        counter = (kind, height, signer)
        if self._vote_count.get(counter, 0) >= self.votes_per_signer:
            self.dropped += 1
            return False
        self._vote_count[counter] = self._vote_count.get(counter, 0) + 1
        table.setdefault(block_hash, {})[signer] = signature
        self._note(height, block_hash)
        return True

    def add_notarization_share(
        self, height: int, block_hash: bytes, signer: Principal, signature: bytes
    ) -> bool:
        return self._add_share(
            "notarization", self.notarization_shares, height, block_hash, signer, signature
        )

    def add_finalization_share(
        self, height: int, block_hash: bytes, signer: Principal, signature: bytes
    ) -> bool:
        return self._add_share(
            "finalization", self.finalization_shares, height, block_hash, signer, signature
        )

    def add_notarization(self, notarization: Notarization) -> bool:
        if notarization.block_hash in self.notarizations:
            return False
        if not self.in_window(notarization.height):
            self.dropped += 1
            return False
        self.notarizations[notarization.block_hash] = notarization
        self._note(notarization.height, notarization.block_hash)
        return True

    def add_finalization(self, finalization: Finalization) -> bool:
        if finalization.block_hash in self.finalizations:
            return False
        if not self.in_window(finalization.height):
            self.dropped += 1
            return False
        self.finalizations[finalization.block_hash] = finalization
        self._note(finalization.height, finalization.block_hash)
        return True

    def finalizations_above(self, height: int) -> list[Finalization]:
        if not self.finalizations:
            return []
        return sorted(
            (item for item in self.finalizations.values() if item.height > height),
            key=lambda item: item.height,
            reverse=True,
        )

    # -- forgetting ------------------------------------------------------------------------

    def advance(self, finalized_height: int) -> None:
        """Drop everything at or below the new finalized height."""
        if finalized_height <= self.finalized_height:
            return
        for height in sorted(h for h in self._at_height if h <= finalized_height):
            for block_hash in self._at_height.pop(height):
                self.proposals.pop(block_hash, None)
                self.notarization_shares.pop(block_hash, None)
                self.notarizations.pop(block_hash, None)
                self.finalization_shares.pop(block_hash, None)
                self.finalizations.pop(block_hash, None)
        self._by_proposer = {
            key: value for key, value in self._by_proposer.items() if key[0] > finalized_height
        }
        self._vote_count = {
            key: value for key, value in self._vote_count.items() if key[1] > finalized_height
        }
        self.finalized_height = finalized_height
