"""State sync: a replica further behind than its peers keep blocks starts again from a
certified checkpoint, as an IC replica does from a catch-up package (CUP).

A replica prunes the blocks below its newest checkpoint that n - f replicas certified
(``node.pruning``). A peer that asks it for pruned heights (``Step.behind``) is sent a
``CatchUpPackage``: the checkpoint's block and those up to the finalization that proves
them, the certificate of the checkpoint's height, and the sizes and digest of what
follows as ``StateChunk``s: the checkpoint's bytes, then the frames of the blocks kept
below it (the replay window: ingress needs their request ids). Chunks are
``CHUNK_SIZE`` bytes, far below the transport's frame limit (``vocab.codec``'s
``DEFAULT_MAX_FRAME``), whatever the state's size. A peer is sent a package at most
once per ``RESEND_NS``; chunks a lossy network lost come again with the next one.

The receiving side (``Receiver``) trusts nothing it is sent: a package is taken up only
if it starts above the replica's finalized height, consensus proves its blocks
(``Consensus.package_problem``), and its certificate verifies against the committee at
the checkpoint's height; chunks are kept only for that package, at their index, of the
declared size, at most ``MAX_PACKAGE_BYTES`` in all. When the last arrives, the stream
must hash to the digest, the history blocks must link by parent hash to the checkpoint's
block, and the replica restores the checkpoint and checks the restored state's hash
against the certified one (``Replica._adopt_package``) before anything changes. Every
refusal is a ``package_refused`` notice naming why, and changes nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from node.consensus.icc.artifacts import Block, CatchUpPackage, Finalization
from vocab.certificate import Certificate
from vocab.codec import DEFAULT_MAX_FRAME, FrameDecoder, Message, encode_message
from vocab.errors import CodecError

__all__ = [
    "CHUNK_SIZE",
    "MAX_PACKAGE_BYTES",
    "Assembled",
    "Receiver",
    "Served",
    "StateChunk",
    "build_package",
]

CHUNK_SIZE = 1024 * 1024
"""Bytes of state per ``StateChunk``: an eighth of the frame limit, so one chunk never
holds a connection long nor comes near the limit."""
MAX_PACKAGE_BYTES = 8 * 1024 * 1024 * 1024
"""The most a replica buffers of one package (checkpoint and history together)."""
RESEND_NS = 5_000_000_000
"""A peer that keeps asking for pruned heights is sent the package again after this."""
STALL_NS = 3 * RESEND_NS
"""A package being assembled that received no chunk for this long gives way to another
of the same height (its sender may be withholding the rest)."""

assert CHUNK_SIZE + 4096 < DEFAULT_MAX_FRAME, "a state chunk must fit in one frame"


@dataclass(frozen=True)
class StateChunk(Message):
    """Bytes ``[index * chunk_size, ...)`` of a catch-up package's stream (``digest``)."""

    TAG = "state-chunk"
    height: int
    digest: bytes
    index: int
    data: bytes

    def __post_init__(self) -> None:
        if self.index < 0 or self.height < 1:
            raise ValueError("a state chunk's height and index are natural numbers")
        if len(self.data) > CHUNK_SIZE:
            raise ValueError(f"a state chunk holds at most {CHUNK_SIZE} bytes, not {len(self.data)}")


@dataclass(frozen=True)
class Served:
    """A package ready to send: its header and its chunks."""

    package: CatchUpPackage
    chunks: tuple[StateChunk, ...]


def build_package(
    blocks: list[Block],
    finalization: Finalization,
    certificate: Certificate,
    state: bytes,
    history: list[Block],
) -> Served:
    """The package of the checkpoint ``state`` at ``blocks[0]``'s height, with the
    ``history`` blocks below it, cut into chunks."""
    frames = b"".join(encode_message(block) for block in history)
    stream = state + frames
    digest = hashlib.sha256(stream).digest()
    height = blocks[0].height
    package = CatchUpPackage(
        tuple(blocks), finalization, certificate, len(state), len(frames), CHUNK_SIZE, digest
    )
    chunks = tuple(
        StateChunk(height, digest, index, stream[start : start + CHUNK_SIZE])
        for index, start in enumerate(range(0, len(stream), CHUNK_SIZE))
    )
    return Served(package, chunks)


@dataclass(frozen=True)
class Assembled:
    """A complete package: the checkpoint's bytes and the history blocks, oldest first,
    linked by parent hash to the package's first block."""

    package: CatchUpPackage
    state: bytes
    history: tuple[Block, ...]


@dataclass
class Receiver:
    """One package being assembled at a time (the newest worth having)."""

    package: CatchUpPackage | None = None
    chunks: dict[int, bytes] = field(default_factory=dict)
    progress_at: int = 0
    """When the package being assembled last received something."""

    def start(self, package: CatchUpPackage, now: int) -> str | None:
        """Begin assembling ``package`` (already proven by consensus and certified);
        why not, if it is refused. A package of a higher height replaces the one being
        assembled; one of the same height only once that one has stalled (``STALL_NS``),
        so that a peer cannot keep restarting an honest peer's package."""
        total = package.state_size + package.history_size
        if total > MAX_PACKAGE_BYTES:
            return f"it declares {total} bytes, more than the {MAX_PACKAGE_BYTES} a replica buffers"
        if self.package is not None and self.package.digest == package.digest:
            return None  # the same package again: keep what arrived of it
        if self.package is not None and self.busy(package, now):
            return f"another package of height {self.package.height} is being assembled"
        self.package, self.chunks, self.progress_at = package, {}, now
        return None

    def busy(self, package: CatchUpPackage, now: int) -> bool:
        """Whether another package being assembled keeps ``package`` out (honest peers'
        packages of one height differ in how much history they carry)."""
        current = self.package
        if current is None or current.digest == package.digest:
            return False
        stalled = now >= self.progress_at + STALL_NS
        return current.height > package.height or (current.height == package.height and not stalled)

    def add(self, chunk: StateChunk, now: int) -> str | None:
        """Keep a chunk of the package being assembled; why not, if it is refused (a
        chunk of no package being assembled is ignored: None)."""
        package = self.package
        if package is None or chunk.digest != package.digest or chunk.height != package.height:
            return None
        if chunk.index >= package.chunks:
            return f"chunk {chunk.index} of a package of {package.chunks}"
        total = package.state_size + package.history_size
        expected = min(package.chunk_size, total - chunk.index * package.chunk_size)
        if len(chunk.data) != expected:
            return f"chunk {chunk.index} holds {len(chunk.data)} bytes, not {expected}"
        if chunk.index not in self.chunks:
            self.chunks[chunk.index] = chunk.data
            self.progress_at = now
        return None

    def complete(self) -> Assembled | str | None:
        """The assembled package once every chunk is here (and forget it), why it is
        refused (and forget it), or None while chunks are missing."""
        package = self.package
        if package is None or len(self.chunks) < package.chunks:
            return None
        stream = b"".join(self.chunks[index] for index in range(package.chunks))
        self.package, self.chunks = None, {}
        if hashlib.sha256(stream).digest() != package.digest:
            return "its chunks do not hash to its digest"
        state, frames = stream[: package.state_size], stream[package.state_size :]
        history: list[Block] = []
        decoder = FrameDecoder()
        try:
            messages = list(decoder.feed(frames))
        except CodecError as exc:
            return f"its history does not decode ({exc})"
        if decoder.pending:
            return "its history ends in the middle of a block"
        for message in messages:
            if not isinstance(message, Block):
                return f"its history holds a {type(message).__name__}, not a block"
            history.append(message)
        following = package.blocks[0]
        for block in reversed(history):
            if block.height != following.height - 1 or block.hash != following.parent:
                return f"its history block of height {block.height} is not the parent of {following.height}"
            following = block
        return Assembled(package, state, tuple(history))
