"""The operator's control channel to a running replica: link filters.

``set_link_filter`` asks one replica to drop all traffic with some peers (a partition,
as its transport sees it: ``node.transport.Mesh.set_blocked``) by sending it a
``vocab.messages.LinkControl`` signed with that replica's own node key, which the
replica checks before it applies anything. The scenario nemesis on processes uses it
for partitions; each filter replaces the previous one, and an empty one heals.
"""

from __future__ import annotations

import time

import trio
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from client.agent import CONNECT_TIMEOUT, Endpoint
from vocab import crypto
from vocab.errors import CodecError
from vocab.framing import FramedStream
from vocab.messages import LINK_CONTROL_DOMAIN, LinkControl, LinkControlReply

__all__ = ["link_control", "set_link_filter"]


def link_control(
    key: Ed25519PrivateKey, index: int, blocked: list[int], sequence: int | None = None
) -> LinkControl:
    """A signed filter for replica ``index``; the sequence defaults to the wall clock in
    nanoseconds, which grows across the operator's runs and the replica's restarts."""
    sequence = time.time_ns() if sequence is None else sequence
    blocked = sorted(blocked)
    signature = crypto.sign(key, LINK_CONTROL_DOMAIN, LinkControl.signed_bytes(index, sequence, blocked))
    return LinkControl(index, sequence, blocked, signature)


async def set_link_filter(
    endpoint: Endpoint, key: Ed25519PrivateKey, blocked: list[int], timeout: float = CONNECT_TIMEOUT
) -> LinkControlReply | str:
    """Send a filter to the replica at ``endpoint`` (signed with ``key``, its node key);
    its reply, or why there is none (it is down, paused, or answered something else)."""
    message = link_control(key, endpoint.index, blocked)
    try:
        with trio.fail_after(timeout):
            stream = await trio.open_tcp_stream(endpoint.host, endpoint.port)
            async with stream:
                framed = FramedStream(stream)
                await framed.send(message)
                reply = await framed.receive()
    except trio.TooSlowError:
        return "no answer"
    except (OSError, trio.BrokenResourceError, trio.ClosedResourceError, CodecError) as exc:
        return f"unreachable ({type(exc).__name__})"
    if not isinstance(reply, LinkControlReply):
        return f"answered {type(reply).__name__}"
    return reply
