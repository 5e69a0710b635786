"""Who proposes at a height, and in which order the others step in.

The IC ranks block makers with a threshold random beacon that nobody can predict or bias.
Here the ranking is derived from a hash of the parent block (a notarized block of the
previous height) and the height: every replica computes the same order from data it
already has, which is all the simulation needs. The documented cost of the
simplification is that a proposer can grind its block's contents to influence the next
ranking; it cannot break safety, only fairness of who leads.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import lru_cache

from vocab.principal import Principal


@lru_cache(maxsize=4096)
def _ranking(members: tuple[Principal, ...], parent_hash: bytes, height: int) -> tuple[Principal, ...]:
    seed = hashlib.sha256(b"subnet-ranking" + parent_hash + height.to_bytes(8, "big")).digest()
    return tuple(sorted(members, key=lambda member: hashlib.sha256(seed + member.raw).digest()))


def ranking(members: Sequence[Principal], parent_hash: bytes, height: int) -> tuple[Principal, ...]:
    """The members in rank order for a block at ``height`` on ``parent_hash``; [0] leads."""
    return _ranking(tuple(members), parent_hash, height)


def rank_of(member: Principal, members: Sequence[Principal], parent_hash: bytes, height: int) -> int:
    """The member's rank; ValueError if it is not a member."""
    return ranking(members, parent_hash, height).index(member)


def rank_delay_ns(rank: int, delta_ns: int, block_interval_ns: int = 0) -> int:
    """How long after a round starts rank ``rank`` may propose, and a block of that rank be
    notarized: 2·Δ·rank after the block interval, so that a slower leader is replaced only
    once the honest leader's block would surely have arrived."""
    return block_interval_ns + 2 * delta_ns * rank
