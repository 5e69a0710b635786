"""Authenticated links between replica processes over TCP (the process backend's I/O).

Each replica dials every peer and uses that connection only to send; it receives on the
connections its peers dial. One direction per connection means no tie-breaking between
two replicas dialing each other at once, and a broken link is simply redialed.

A dialer proves who it is: it says ``PeerHello(index)``, the listener answers with a
fresh random challenge, and the dialer signs ``challenge . dialer . listener`` with its
node key. Only then are its frames delivered to the replica. The challenge is the one
place that uses the operating system's randomness: it protects a real socket from replayed
handshakes and has no part in what the replicas compute.
"""

from __future__ import annotations

import heapq
import itertools
import random
import secrets
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, replace

import trio
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from node.byzantine import LINK_BEHAVIOURS, garble
from vocab import crypto
from vocab.codec import Message, encode_message
from vocab.errors import CodecError
from vocab.framing import FramedStream
from vocab.messages import PPM, PeerAuth, PeerChallenge, PeerHello

PROTOCOL = "subnet/1"
AUTH_DOMAIN = "subnet-peer-auth"
HANDSHAKE_TIMEOUT = 5.0
MAX_BACKOFF = 1.0
QUEUE_LIMIT = 10_000
"""Frames queued for one peer while its link is down; the oldest are dropped beyond this."""
BATCH_BYTES = 1 << 20
"""Queued frames written to a peer in one ``send_all``, at most this many bytes of them."""


@dataclass(frozen=True)
class PeerAddress:
    index: int
    host: str
    port: int
    public_key: bytes
    """Raw 32-byte Ed25519 node key."""


@dataclass(frozen=True)
class LinkConditions:
    """What an operator's control message (``LinkControl``) does to the frames a replica
    sends: each is held ``delay_ns`` longer, lost with probability ``loss_ppm`` / 1e6, sent
    twice with probability ``duplication_ppm`` / 1e6; with ``behaviour`` ``silent`` none is
    sent, with ``garbage`` each carries random bytes for its own signatures
    (``node.byzantine``). The draws come from a generator
    seeded with ``seed``, one per replica; which frames they hit depends on the order the
    replica sends in, which real time decides, so a process run is not repeatable byte for
    byte (the simulator's network is)."""

    delay_ns: int = 0
    loss_ppm: int = 0
    duplication_ppm: int = 0
    seed: int = 0
    behaviour: str = "honest"

    def __post_init__(self) -> None:
        if self.behaviour not in LINK_BEHAVIOURS:
            raise ValueError(f"behaviour {self.behaviour!r} is not one of {', '.join(LINK_BEHAVIOURS)}")
        if self.delay_ns < 0:
            raise ValueError(f"delay_ns {self.delay_ns} is negative")
        for name in ("loss_ppm", "duplication_ppm"):
            value = getattr(self, name)
            if not 0 <= value < PPM:
                raise ValueError(f"{name} {value} is not in [0, {PPM})")


def auth_message(nonce: bytes, dialer: int, listener: int) -> bytes:
    return nonce + dialer.to_bytes(4, "big") + listener.to_bytes(4, "big")


class Mesh:
    """The links of one replica to its peers.

    ``deliver(peer_index, message)`` is called for every authenticated frame received;
    ``send`` never blocks (frames wait in a bounded per-peer queue).
    """

    def __init__(
        self,
        me: int,
        key: Ed25519PrivateKey,
        peers: list[PeerAddress],
        deliver: Callable[[int, Message], None],
    ) -> None:
        self.me = me
        self.key = key
        self.deliver = deliver
        self.errors: Counter[str] = Counter()
        self._open_errors: dict[int | None, str] = {}
        """The latest error per peer link, forgotten when that link works again."""
        self.connected_out: set[int] = set()
        self.connected_in: set[int] = set()
        self._blocked: set[int] = set()
        self.conditions = LinkConditions()
        self._draws_seed = 0
        self._draws = random.Random(f"subnet-link-draws:0:{me}")
        self._delayed: list[tuple[float, int, int, bytes]] = []
        """Frames held by a delay: (due on trio's clock, order, peer, frame), a heap."""
        self._delayed_order = itertools.count()
        self._delayed_wakeup = trio.Event()
        self.set_peers(peers)

    def set_peers(self, peers: list[PeerAddress]) -> None:
        """Fix the committee; call before ``run`` (tests learn ports only after listening)."""
        self.peers = {peer.index: peer for peer in peers if peer.index != self.me}
        self._committee = dict(self.peers)
        """Each peer's address as the committee gives it (``redirect`` may move one)."""
        self._queues: dict[int, deque[bytes]] = {index: deque() for index in self.peers}
        self._wakeups: dict[int, trio.Event] = {index: trio.Event() for index in self.peers}
        self._links: dict[int, trio.CancelScope] = {}
        """The current outgoing connection to each peer, to cut when its address moves."""

    def redirect(self, peer: int | None, host: str = "", port: int = 0) -> None:
        """Dial ``peer`` at ``host:port`` instead of its committee address, and every
        other peer at its own (None: every peer at its own): the control channel's way to
        put a twin of ``peer`` (another process with its key) in front of this replica. A
        link whose address changes is cut and redialed; frames queued for it are kept."""
        for index, home in self._committee.items():
            address = replace(home, host=host, port=port) if index == peer else home
            if self.peers[index] != address:
                self.peers[index] = address
                scope = self._links.get(index)
                if scope is not None:
                    scope.cancel()

    # -- sending ------------------------------------------------------------------------------

    def send(self, peer: int, message: Message) -> None:
        if peer in self.peers and self._speaks():
            self._enqueue(peer, encode_message(self._misbehave(message)))

    def broadcast(self, message: Message) -> None:
        if not self._speaks():
            return
        frame = encode_message(self._misbehave(message))  # encoded once for every peer
        for peer in sorted(self.peers):
            self._enqueue(peer, frame)

    def _speaks(self) -> bool:
        """False while the operator made this replica ``silent``."""
        if self.conditions.behaviour == "silent":
            self.errors["frames_muted"] += 1
            return False
        return True

    def _misbehave(self, message: Message) -> Message:
        """The message as a ``garbage`` replica sends it (itself otherwise)."""
        if self.conditions.behaviour == "garbage":
            self.errors["frames_garbled"] += 1
            return garble(self._draws, message)
        return message

    def _enqueue(self, peer: int, frame: bytes) -> None:
        if peer in self._blocked:
            return
        conditions = self.conditions
        if conditions.loss_ppm and self._draws.randrange(PPM) < conditions.loss_ppm:
            self.errors["frames_lost"] += 1
            return
        copies = 1
        if conditions.duplication_ppm and self._draws.randrange(PPM) < conditions.duplication_ppm:
            self.errors["frames_duplicated"] += 1
            copies = 2
        for _ in range(copies):
            if conditions.delay_ns:
                self.errors["frames_delayed"] += 1
                due = trio.current_time() + conditions.delay_ns / 1e9
                heapq.heappush(self._delayed, (due, next(self._delayed_order), peer, frame))
                self._delayed_wakeup.set()
            else:
                self._queue_frame(peer, frame)

    def _queue_frame(self, peer: int, frame: bytes) -> None:
        queue = self._queues[peer]
        if len(queue) >= QUEUE_LIMIT:
            queue.popleft()
            self.errors["queue_overflow"] += 1
        queue.append(frame)
        self._wakeups[peer].set()

    def set_blocked(self, peers: set[int]) -> None:
        """Drop all traffic to and from these peers (the control channel's link filter)."""
        self._blocked = set(peers)
        for peer in peers:
            if peer in self._queues:
                self._queues[peer].clear()

    def set_conditions(self, conditions: LinkConditions) -> None:
        """Delay, lose and duplicate the frames sent from now on (``LinkConditions``); a
        seed other than the last one restarts the draws from it (and this replica's index)."""
        if conditions.seed != self._draws_seed:
            self._draws = random.Random(f"subnet-link-draws:{conditions.seed}:{self.me}")
            self._draws_seed = conditions.seed
        self.conditions = conditions

    async def run(self) -> None:
        """Dial every peer forever, redialing broken links with backoff."""
        async with trio.open_nursery() as nursery:
            for index in sorted(self.peers):
                nursery.start_soon(self._dial_forever, index)
            nursery.start_soon(self._release_delayed)

    async def _release_delayed(self) -> None:
        """Hand delayed frames to their peers' queues when they are due (a peer blocked
        meanwhile does not get them, as a partition cuts messages in flight)."""
        while True:
            if not self._delayed:
                self._delayed_wakeup = trio.Event()
                await self._delayed_wakeup.wait()
                continue
            due = self._delayed[0][0]
            if due > trio.current_time():
                self._delayed_wakeup = trio.Event()
                with trio.move_on_at(due):
                    await self._delayed_wakeup.wait()
                continue
            _, _, peer, frame = heapq.heappop(self._delayed)
            if peer not in self._blocked:
                self._queue_frame(peer, frame)

    async def _dial_forever(self, index: int) -> None:
        backoff = 0.05
        while True:
            with trio.CancelScope() as scope:
                self._links[index] = scope
                connected = await self._connect_and_pump(index)
            if scope.cancelled_caught:
                backoff = 0.05  # the address moved (``redirect``): dial the new one at once
                continue
            if connected:
                backoff = 0.05
            await trio.sleep(backoff)
            if not connected:
                backoff = min(backoff * 2, MAX_BACKOFF)

    async def _connect_and_pump(self, index: int) -> bool:
        """One connection to peer ``index`` at its current address, its queue pumped until
        the link breaks; whether it was connected at all."""
        peer = self.peers[index]
        try:
            stream = await trio.open_tcp_stream(peer.host, peer.port)
        except OSError as exc:
            self._note("connect_failed", f"peer {index}: {exc.strerror or exc}", index)
            return False
        try:
            async with stream:
                framed = FramedStream(stream)
                with trio.fail_after(HANDSHAKE_TIMEOUT):
                    await framed.send(PeerHello(self.me, PROTOCOL))
                    challenge = await framed.receive()
                    if not isinstance(challenge, PeerChallenge):
                        raise CodecError(f"peer {index} did not send a challenge")
                    signature = crypto.sign(
                        self.key, AUTH_DOMAIN, auth_message(challenge.nonce, self.me, index)
                    )
                    await framed.send(PeerAuth(signature))
                self.connected_out.add(index)
                self._open_errors.pop(index, None)
                await self._pump(index, stream)
        except (
            OSError,
            trio.BrokenResourceError,
            trio.ClosedResourceError,
            trio.TooSlowError,
            CodecError,
        ) as exc:
            self._note("link_broken", f"peer {index}: {type(exc).__name__}: {exc}", index)
        finally:
            self.connected_out.discard(index)
        return True

    async def _pump(self, index: int, stream: trio.abc.Stream) -> None:
        queue = self._queues[index]
        while True:
            while not queue:
                self._wakeups[index] = trio.Event()
                await self._wakeups[index].wait()
            # Everything queued goes in one write (one system call and one trio checkpoint
            # for a burst of frames, not one per frame), up to BATCH_BYTES at a time.
            frames = [queue[0]]
            size = len(frames[0])
            for frame in itertools.islice(queue, 1, None):
                if size + len(frame) > BATCH_BYTES:
                    break
                frames.append(frame)
                size += len(frame)
            await stream.send_all(frames[0] if len(frames) == 1 else b"".join(frames))
            # Only frames that were handed to the kernel leave the queue: a broken link
            # resends them on the next connection. (Overflow may have dropped some of them
            # meanwhile: pop only those still at the front.)
            for frame in frames:
                if queue and queue[0] is frame:
                    queue.popleft()

    # -- receiving ------------------------------------------------------------------------------

    async def serve_peer(self, framed: FramedStream, hello: PeerHello) -> None:
        """Authenticate a dialing peer, then deliver its frames until it goes away."""
        peer = self.peers.get(hello.node_index)
        if peer is None or hello.protocol != PROTOCOL:
            self._note("unknown_peer", f"hello from unknown node {hello.node_index} / {hello.protocol!r}")
            return
        nonce = secrets.token_bytes(32)
        try:
            with trio.fail_after(HANDSHAKE_TIMEOUT):
                await framed.send(PeerChallenge(nonce))
                auth = await framed.receive()
        except trio.TooSlowError:
            self._note("handshake_timeout", f"peer {peer.index} did not answer the challenge")
            return
        if not isinstance(auth, PeerAuth) or not crypto.verify(
            peer.public_key, auth.signature, AUTH_DOMAIN, auth_message(nonce, peer.index, self.me)
        ):
            self._note("bad_peer_auth", f"node {peer.index} failed authentication")
            return
        self.connected_in.add(peer.index)
        try:
            while True:
                message = await framed.receive()
                if message is None:
                    return
                if peer.index in self._blocked:
                    continue
                self.deliver(peer.index, message)
        finally:
            self.connected_in.discard(peer.index)

    def _note(self, reason: str, detail: str, peer: int | None = None) -> None:
        self.errors[reason] += 1
        self._open_errors.pop(peer, None)
        self._open_errors[peer] = detail

    @property
    def last_error(self) -> str:
        """The most recent error on a link that has not recovered since ("" if none)."""
        return next(reversed(self._open_errors.values()), "")
