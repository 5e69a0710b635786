"""Execution limits and fees, in the IC's proportions, scaled for tests.

The IC allows an update 40 billion instructions, a query 5 billion and an install or upgrade
300 billion. Tests and simulations want the same *proportions* with smaller numbers (a
runaway loop should fail in milliseconds), so every limit is multiplied by one scale
factor, kept as an exact fraction so that no float rounding can make two replicas disagree.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from fractions import Fraction

from vocab.principal import Principal

UPDATE_INSTRUCTIONS = 40_000_000_000
QUERY_INSTRUCTIONS = 5_000_000_000
INSTALL_INSTRUCTIONS = 300_000_000_000
INSPECT_INSTRUCTIONS = 200_000_000

DEFAULT_PROVISIONAL_CYCLES = 100_000_000_000_000
MAX_STABLE_PAGES = 500 * 1024 * 1024 * 1024 // 65536
"""500 GiB of stable memory, the IC's limit (held sparsely, so cheap until touched)."""

DEFAULT_WASM_MEMORY_LIMIT = 3 << 30
"""A new canister's ``wasm_memory_limit``, as on the IC: a soft limit below the hard 4 GiB,
so that a canister fails its message before it can no longer be upgraded."""

DEFAULT_SUBNET_MEMORY_CAPACITY = 2 << 30
"""How much memory all canisters of a local subnet may use together (heaps, stable memory,
modules, snapshots). The IC's subnets hold 2 TiB on dedicated machines; a local subnet runs
every replica on one machine, each with its own copy of every canister, so its default is
small and ``subnet start --memory-capacity`` (genesis ``extra.subnet_memory_capacity``)
sets it."""

MAX_HEAP_32 = 4 << 30
MAX_HEAP_64 = 6 << 30
"""The IC's heap limits: 4 GiB for wasm32, 6 GiB for wasm64."""

DEFAULT_SUBNET_ID = Principal(hashlib.sha224(b"subnet simulator: execution subnet").digest() + b"\x02")


@dataclass(frozen=True)
class ExecutionConfig:
    """What a replica's execution layer is configured with; equal on every replica."""

    instruction_scale: Fraction = Fraction(1)
    subnet_id: Principal = DEFAULT_SUBNET_ID
    first_canister_index: int = 0
    last_canister_index: int = (1 << 20) - 1
    max_stable_pages: int = MAX_STABLE_PAGES
    default_provisional_cycles: int = DEFAULT_PROVISIONAL_CYCLES
    max_snapshots: int = 10
    root_key: bytes = b""
    message_fee: int = 5_000_000
    """Cycles charged per replicated message execution (update, timer, install)."""
    instruction_fee_per_ten: int = 4
    """Cycles per ten instructions executed in replicated mode."""
    canister_creation_fee: int = 0
    subnet_memory_capacity: int = DEFAULT_SUBNET_MEMORY_CAPACITY
    """All canisters' memory together may not exceed this; 0 is no limit."""
    queue_capacity: int = 500
    """Requests one canister's input queue holds at most; a call to a canister whose queue
    is full is rejected with SYS_TRANSIENT (the IC's per-queue capacity)."""
    round_message_limit: int = 10_000
    """Inter-canister messages (requests and responses) one batch executes at most; the
    rest wait in their queues for the next batch, so that a ping-pong between two canisters
    cannot hold a block's execution forever."""
    instructions_per_slice: int = 0
    """Deterministic time slicing (``node.ic.slicing``): a message (update, callback,
    heartbeat, timer) that needs more runs over several rounds, paused between them; 0 runs
    every message to its end in one round."""

    def __post_init__(self) -> None:
        scale = Fraction(self.instruction_scale)
        if scale <= 0:
            raise ValueError(f"instruction_scale must be positive, not {self.instruction_scale}")
        if isinstance(self.subnet_memory_capacity, bool) or not (
            isinstance(self.subnet_memory_capacity, int) and self.subnet_memory_capacity >= 0
        ):
            raise ValueError(
                f"subnet_memory_capacity must be a number of bytes, not {self.subnet_memory_capacity!r}"
            )
        object.__setattr__(self, "instruction_scale", scale)
        # computed once: limits are read on every message
        for name, instructions in (
            ("update_limit", UPDATE_INSTRUCTIONS),
            ("query_limit", QUERY_INSTRUCTIONS),
            ("install_limit", INSTALL_INSTRUCTIONS),
            ("inspect_limit", INSPECT_INSTRUCTIONS),
        ):
            object.__setattr__(self, name, max(1, int(instructions * scale)))

    # the scaled limits, set by __post_init__
    update_limit: int = field(init=False, compare=False, repr=False, default=0)
    query_limit: int = field(init=False, compare=False, repr=False, default=0)
    install_limit: int = field(init=False, compare=False, repr=False, default=0)
    inspect_limit: int = field(init=False, compare=False, repr=False, default=0)

    def execution_fee(self, instructions: int) -> int:
        return self.message_fee + instructions * self.instruction_fee_per_ten // 10
