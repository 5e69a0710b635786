"""The operator's control channel to a running replica: link filters, link conditions
and clock skew.

``set_controls`` sends one replica a ``vocab.messages.LinkControl`` signed with that
replica's own node key, which the replica checks before it applies anything: it then
drops all traffic with the blocked peers (a partition, as its transport sees it:
``node.transport.Mesh.set_blocked``), delays, loses and duplicates the frames it sends
(``node.transport.LinkConditions``) and runs its clock off by an offset. The scenario
nemesis on processes uses it for partitions, latency, loss, duplication and clock skew;
each message replaces the previous settings, and ``Controls()`` (all zero) heals.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import trio
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from client.agent import CONNECT_TIMEOUT, Endpoint
from vocab import crypto
from vocab.errors import CodecError
from vocab.framing import FramedStream
from vocab.messages import LINK_CONTROL_DOMAIN, LinkControl, LinkControlReply

__all__ = ["Controls", "link_control", "set_controls"]


@dataclass(frozen=True)
class Controls:
    """One replica's fault settings (see ``LinkControl``): all zero is a healthy replica."""

    blocked: tuple[int, ...] = ()
    delay_ns: int = 0
    loss_ppm: int = 0
    duplication_ppm: int = 0
    clock_offset_ns: int = 0
    seed: int = 0
    behaviour: str = "honest"
    redirect_peer: int = -1
    redirect_address: str = ""

    def describe(self) -> str:
        parts = [f"blocks {list(self.blocked) or 'nobody'}"]
        if self.delay_ns:
            parts.append(f"+{self.delay_ns // 1_000_000}ms")
        if self.loss_ppm:
            parts.append(f"loss {self.loss_ppm / 1e6:g}")
        if self.duplication_ppm:
            parts.append(f"duplication {self.duplication_ppm / 1e6:g}")
        if self.clock_offset_ns:
            parts.append(f"clock {self.clock_offset_ns / 1e9:+g}s")
        if self.behaviour != "honest":
            parts.append(self.behaviour)
        if self.redirect_peer >= 0:
            parts.append(f"peer {self.redirect_peer} at {self.redirect_address}")
        return ", ".join(parts)


def link_control(
    key: Ed25519PrivateKey,
    index: int,
    blocked: list[int] | tuple[int, ...],
    sequence: int | None = None,
    controls: Controls | None = None,
) -> LinkControl:
    """A signed control message for replica ``index``: ``blocked`` peers, and the rest of
    ``controls`` (default: none); the sequence defaults to the wall clock in nanoseconds,
    which grows across the operator's runs and the replica's restarts."""
    sequence = time.time_ns() if sequence is None else sequence
    rest = controls or Controls()
    peers = sorted(blocked)
    fields = (
        rest.delay_ns,
        rest.loss_ppm,
        rest.duplication_ppm,
        rest.clock_offset_ns,
        rest.seed,
        rest.behaviour,
        rest.redirect_peer,
        rest.redirect_address,
    )
    signature = crypto.sign(
        key, LINK_CONTROL_DOMAIN, LinkControl.signed_bytes(index, sequence, peers, *fields)
    )
    return LinkControl(index, sequence, peers, signature, *fields)


async def set_controls(
    endpoint: Endpoint, key: Ed25519PrivateKey, controls: Controls, timeout: float = CONNECT_TIMEOUT
) -> LinkControlReply | str:
    """Send ``controls`` to the replica at ``endpoint`` (signed with ``key``, its node
    key); its reply, or why there is none (it is down, paused, or answered something else)."""
    message = link_control(key, endpoint.index, controls.blocked, controls=controls)
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
