"""Bounds that keep the cost of reading untrusted Candid linear in its size.

Every replica decodes the same bytes, so these limits are constants, not a measure of the
machine: a message accepted by one replica is accepted by all.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")

MAX_DEPTH = 1000
"""How deeply values (and text) may nest: opt in opt, vec in record, and so on."""

MAX_TYPE_TABLE = 10_000
"""Entries in a binary message's type table (the Rust implementation's bound too)."""

BASE_BUDGET = 1_000_000
"""Work units any message may spend, on top of ``BUDGET_PER_BYTE`` per byte of input.

Values that occupy no bytes (null, reserved, records of these, defaulted fields) are the
only way to make decoding cost more than reading the input; each such value costs a unit,
and a vector of them is charged in full before any element is produced.
"""

BUDGET_PER_BYTE = 8

_FRAMES_PER_LEVEL = 5
_HEADROOM = 400
_MARGIN = 3000


@dataclass(frozen=True, slots=True)
class DecodeLimits:
    """Limits for one decode; the defaults suit messages of the Internet Computer's size."""

    max_depth: int = MAX_DEPTH
    max_type_table: int = MAX_TYPE_TABLE
    base_budget: int = BASE_BUDGET
    budget_per_byte: int = BUDGET_PER_BYTE

    def budget(self, size: int) -> int:
        return self.base_budget + self.budget_per_byte * size


DEFAULT_LIMITS = DecodeLimits()


def _frames_in_use() -> int:
    frame = sys._getframe(1)
    count = 0
    while frame is not None:
        count += 1
        frame = frame.f_back  # type: ignore[assignment]
    return count


def ensure_stack(max_depth: int = MAX_DEPTH) -> None:
    """Make sure Python's recursion limit admits ``max_depth`` nested levels.

    Callers pass the most levels their input could possibly hold (a message of n bytes
    nests at most n deep), so that small inputs leave the interpreter's limit alone.

    The limit is only ever raised. Since Python 3.11 a call between Python functions does
    not use the C stack, so a few thousand frames are safe; the explicit ``max_depth``
    check, not the interpreter's limit, is what decides (deterministically) how deep is
    too deep.
    """
    frames = _frames_in_use()
    if sys.getrecursionlimit() < frames + max_depth * _FRAMES_PER_LEVEL + _HEADROOM:
        # Raise with a margin, so that calls from slightly deeper stacks need no change.
        sys.setrecursionlimit(frames + max_depth * _FRAMES_PER_LEVEL + _HEADROOM + _MARGIN)


def retry_with_stack(function: Callable[[], T], levels: int = MAX_DEPTH) -> T:
    """Run ``function``; if it runs out of stack, raise the limit and run it once more.

    The work must be a pure function of its input. The interpreter's limit then changes
    only when a deep input actually needs it, while the explicit depth limits (not the
    interpreter's) decide what is too deep.
    """
    try:
        return function()
    except RecursionError:
        ensure_stack(levels)
    return function()
