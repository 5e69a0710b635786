"""Peer links over real loopback TCP: authentication, delivery, redial.

Waits are on events with a timeout as a bound, never on sleeps.
"""

from __future__ import annotations

import trio

from node.transport import Mesh, PeerAddress
from vocab import crypto
from vocab.codec import Message
from vocab.framing import FramedStream
from vocab.messages import PeerHello, RequestRejected


def keys(n: int):
    return [crypto.private_key_from_seed(bytes([i + 1]) * 32) for i in range(n)]


async def listen(mesh: Mesh, nursery: trio.Nursery) -> int:
    async def handle(stream: trio.SocketStream) -> None:
        framed = FramedStream(stream)
        first = await framed.receive()
        if isinstance(first, PeerHello):
            await mesh.serve_peer(framed, first)

    listeners = await nursery.start(trio.serve_tcp, handle, 0)
    return listeners[0].socket.getsockname()[1]


def note(i: int) -> Message:
    return RequestRejected(bytes([i]), 1, "test", f"message {i}")


class Inbox:
    def __init__(self, expected: int) -> None:
        self.items: list[tuple[int, Message]] = []
        self.expected = expected
        self.full = trio.Event()

    def __call__(self, peer: int, message: Message) -> None:
        self.items.append((peer, message))
        if len(self.items) >= self.expected:
            self.full.set()


async def test_three_replicas_exchange_authenticated_messages() -> None:
    n = 3
    secret = keys(n)
    inboxes = [Inbox(0), Inbox(2), Inbox(1)]
    async with trio.open_nursery() as nursery:
        meshes = [Mesh(i, secret[i], [], inboxes[i]) for i in range(n)]
        ports = [await listen(mesh, nursery) for mesh in meshes]
        addresses = [
            PeerAddress(i, "127.0.0.1", ports[i], crypto.raw_public_key(secret[i])) for i in range(n)
        ]
        for mesh in meshes:
            mesh.set_peers(addresses)
            nursery.start_soon(mesh.run)
        meshes[0].broadcast(note(0))
        meshes[2].send(1, note(2))
        with trio.fail_after(10):
            await inboxes[1].full.wait()
            await inboxes[2].full.wait()
        assert sorted(inboxes[1].items, key=lambda pm: pm[0]) == [(0, note(0)), (2, note(2))]
        assert inboxes[2].items == [(0, note(0))]
        assert inboxes[0].items == []
        nursery.cancel_scope.cancel()


async def test_a_dialer_with_the_wrong_key_is_refused() -> None:
    secret = keys(2)
    impostor = crypto.private_key_from_seed(b"\x99" * 32)
    inbox = Inbox(1)
    async with trio.open_nursery() as nursery:
        honest = Mesh(0, secret[0], [], inbox)
        port = await listen(honest, nursery)
        honest.set_peers([PeerAddress(1, "127.0.0.1", 1, crypto.raw_public_key(secret[1]))])
        refused = trio.Event()
        original = honest._note

        def note_and_signal(reason: str, detail: str, *rest: object) -> None:
            original(reason, detail, *rest)
            if reason == "bad_peer_auth":
                refused.set()

        honest._note = note_and_signal  # type: ignore[method-assign]
        fake = Mesh(
            1,
            impostor,
            [PeerAddress(0, "127.0.0.1", port, crypto.raw_public_key(secret[0]))],
            lambda p, m: None,
        )
        nursery.start_soon(fake.run)
        fake.send(0, note(1))
        with trio.fail_after(10):
            await refused.wait()
        assert inbox.items == []
        assert honest.errors["bad_peer_auth"] >= 1
        nursery.cancel_scope.cancel()
