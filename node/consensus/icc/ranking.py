"""Who proposes at a height, and in which order the others step in.

The IC ranks block makers with a threshold random beacon that nobody can predict or bias,
and one beacon value serves a whole height: whichever notarized block of h-1 a replica
builds on, the ranking at h is the same. Here the ranking is a hash of the committee and
the height, so it keeps that property without a beacon.

It once hashed the parent block instead. With two notarized blocks at one height (which
ICC allows), the two forks then ranked the committee differently: at the next height two
proposers each held rank 0, half the replicas signed one and half the other, and since a
replica signs one block per rank and there was no lower rank to fall back to, no block
was ever notarized again (found by the random nemesis, `random-swarm` seed 124). The
documented cost of a predictable ranking is that an adversary knows the leaders in
advance; that bears on fairness and targeted denial of service, never on safety.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import lru_cache

from vocab.principal import Principal


@lru_cache(maxsize=4096)
def _ranking(members: tuple[Principal, ...], height: int) -> tuple[Principal, ...]:
    seed = hashlib.sha256(b"subnet-ranking" + height.to_bytes(8, "big")).digest()
    return tuple(sorted(members, key=lambda member: hashlib.sha256(seed + member.raw).digest()))


def ranking(members: Sequence[Principal], height: int) -> tuple[Principal, ...]:
    """The members in rank order for every block at ``height``; [0] leads."""
    return _ranking(tuple(members), height)


def rank_of(member: Principal, members: Sequence[Principal], height: int) -> int:
    """The member's rank at ``height``; ValueError if it is not a member."""
    return ranking(members, height).index(member)


def rank_delay_ns(rank: int, delta_ns: int, block_interval_ns: int = 0) -> int:
    """How long after a round starts rank ``rank`` may propose, and a block of that rank be
    notarized: 2·Δ·rank after the block interval, so that a slower leader is replaced only
    once the honest leader's block would surely have arrived."""
    return block_interval_ns + 2 * delta_ns * rank
