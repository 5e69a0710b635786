"""What makes a proposed ICC block valid, short of its payload.

Validity must be a function of the block, its ancestors and the genesis configuration
only, so that every honest replica reaches the same verdict; the one exception is the
clock check, which never makes a block invalid, only "not yet": a block stamped ahead of
a validator's clock (beyond the tolerated skew) is looked at again later.

The payload (ingress messages) is checked by whoever builds payloads, through
``node.consensus.block.PayloadRules``: consensus only knows that a payload is a sequence
of envelopes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from node.consensus.icc.artifacts import Block
from node.consensus.icc.ranking import rank_of
from vocab.ingress_message import IngressMessage
from vocab.principal import Principal


def structural_error(block: Block, parent: Block, members: Sequence[Principal]) -> str | None:
    """Why ``block`` cannot follow ``parent``, ignoring its payload; None if it can."""
    if block.parent != parent.hash:
        return "parent hash does not match"
    if block.height != parent.height + 1:
        return f"height {block.height} does not follow the parent's {parent.height}"
    if block.proposer not in members:
        return f"proposer {block.proposer} is not a committee member"
    expected = rank_of(block.proposer, members, block.height)
    if block.rank != expected:
        return f"rank {block.rank} claimed, the proposer's rank at this height is {expected}"
    if block.timestamp <= parent.timestamp:
        return f"timestamp {block.timestamp} is not after the parent's {parent.timestamp}"
    return None


def size_error(
    block: Block, max_messages: int, max_bytes: int, size_of: Callable[[IngressMessage], int]
) -> str | None:
    if len(block.payload) > max_messages:
        return f"{len(block.payload)} messages, the limit is {max_messages}"
    total = sum(size_of(envelope) for envelope in block.payload)
    if total > max_bytes:
        return f"payload of {total} bytes, the limit is {max_bytes}"
    return None


def from_the_future(block: Block, now: int, max_clock_skew_ns: int) -> bool:
    """True if the block's time is too far ahead of ours to judge it yet."""
    return block.timestamp > now + max_clock_skew_ns
