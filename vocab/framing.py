"""Codec frames over a byte stream, for replicas and clients alike.

The stream is anything with trio's ``send_all`` / ``receive_some`` shape; the
vocabulary names that shape instead of importing trio, so it stays free of I/O
libraries while replicas and clients share one framing loop.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

from vocab.codec import DEFAULT_MAX_FRAME, FrameDecoder, Message, encode_message
from vocab.errors import CodecError


class ByteStream(Protocol):
    """What a framed stream needs of a connection (``trio.abc.Stream`` has it)."""

    async def send_all(self, data: bytes | bytearray | memoryview) -> None: ...

    async def receive_some(self, max_bytes: int | None = None) -> bytes | bytearray: ...


S = TypeVar("S", bound=ByteStream)


class FramedStream(Generic[S]):
    """Messages over a byte stream; ``stream`` keeps the caller's own type (a trio
    stream stays a trio stream, to be closed as one)."""

    def __init__(
        self, stream: S, max_frame: int = DEFAULT_MAX_FRAME, on_pending: Callable[[int], None] | None = None
    ) -> None:
        self.stream = stream
        self._decoder = FrameDecoder(max_frame)
        self._ready: deque[Message] = deque()
        self._on_pending = on_pending
        """Told the bytes held for an unfinished frame after every read; it may raise
        (a server bounds what all its unauthenticated connections may hold at once)."""

    async def send(self, message: Message) -> None:
        await self.stream.send_all(encode_message(message))

    async def receive(self) -> Message | None:
        """The next message, or None when the peer closed the connection cleanly."""
        while not self._ready:
            data = await self.stream.receive_some(65536)
            if not data:
                if self._decoder.pending:
                    raise CodecError("connection closed in the middle of a frame")
                return None
            self._ready.extend(self._decoder.feed(data))
            if self._on_pending is not None:
                self._on_pending(self._decoder.pending)
        return self._ready.popleft()

    @property
    def pending(self) -> int:
        """Bytes received but not yet part of a complete frame."""
        return self._decoder.pending
