"""Bounded disk: which finalized heights a replica may forget, and when.

Blocks used to be kept from genesis on, so a replica's database grew with the chain.
As on the IC, what a replica keeps is bounded by its newest checkpoint whose state hash
n - f replicas certified (a ``Certificate`` at the checkpoint's height that matches the
state the replica wrote down): everything below it can be rebuilt from that checkpoint,
and a peer that needs it gets the checkpoint itself (``node.state_sync``), not the blocks.

Two things are kept below that checkpoint all the same:

- ``margin`` heights, so that a replica a few seconds behind still catches up from
  blocks (cheap) rather than a whole state (not cheap);
- the blocks of the replay window: ingress refuses a request id seen in a finalized
  block until its expiry (``node.ingress``), which may be up to
  ``MAX_INGRESS_TTL_NS + PERMITTED_DRIFT_NS`` after the block's time. A restarted
  replica rebuilds that memory from the blocks it kept, so blocks whose time is within
  the window of the checkpoint block's time are kept. (On the IC the ingress history is
  part of the certified state; here it is the blocks.)

The floor only ever rises; the checkpoint itself is never below it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from vocab.envelope import MAX_INGRESS_TTL_NS, PERMITTED_DRIFT_NS

__all__ = ["DEFAULT_MARGIN", "REPLAY_WINDOW_NS", "PruningPolicy", "prune_floor"]

DEFAULT_MARGIN = 50
"""Heights kept below the certified checkpoint: 5-10 s of blocks at 100-200 ms a block."""
REPLAY_WINDOW_NS = MAX_INGRESS_TTL_NS + PERMITTED_DRIFT_NS
"""How long after its block's time a request id may still arrive again unexpired."""


@dataclass(frozen=True)
class PruningPolicy:
    """What a replica keeps. ``enabled=False`` keeps every block (the behaviour before
    pruning existed; the disk benchmark's "before"). ``replay_window_ns`` shorter than
    ``REPLAY_WINDOW_NS`` weakens replay protection after a restart: tests and benchmarks
    only, to see pruning within seconds."""

    enabled: bool = True
    margin: int = DEFAULT_MARGIN
    replay_window_ns: int = REPLAY_WINDOW_NS

    def __post_init__(self) -> None:
        if self.margin < 0:
            raise ValueError(f"the pruning margin must not be negative, not {self.margin}")
        if self.replay_window_ns < 0:
            raise ValueError(f"the replay window must not be negative, not {self.replay_window_ns}")


def prune_floor(
    policy: PruningPolicy,
    checkpoint_height: int,
    lowest: int,
    timestamp_of: Callable[[int], int | None],
) -> int:
    """The lowest height to keep once the checkpoint at ``checkpoint_height`` is certified
    (never above it); ``lowest`` is the lowest height kept now (the floor never falls),
    ``timestamp_of`` the time of a kept finalized block (None: not kept)."""
    if not policy.enabled or checkpoint_height <= lowest:
        return lowest
    top = timestamp_of(checkpoint_height)
    floor = max(lowest, checkpoint_height - policy.margin)
    if top is None:
        return lowest
    cutoff = top - policy.replay_window_ns
    # The first kept height whose block is inside the replay window of the checkpoint's.
    height = lowest
    while height < floor:
        stamp = timestamp_of(height)
        if stamp is not None and stamp >= cutoff:
            break
        height += 1
    return min(floor, height)
