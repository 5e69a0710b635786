"""Codec frames over a trio byte stream, for replicas and clients alike."""

from __future__ import annotations

from collections import deque

import trio

from subnet.codec import DEFAULT_MAX_FRAME, FrameDecoder, Message, encode_message
from subnet.errors import CodecError


class FramedStream:
    def __init__(self, stream: trio.abc.Stream, max_frame: int = DEFAULT_MAX_FRAME) -> None:
        self.stream = stream
        self._decoder = FrameDecoder(max_frame)
        self._ready: deque[Message] = deque()

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
        return self._ready.popleft()
