"""The agent's kept connections (``Agent.exchange``): an exchange that stops waiting after
its message was sent keeps the connection, and the next exchange on it skips the answer
still owed, so a quorum gathering that leaves the slowest replica behind costs no new
connection. Over loopback TCP against a server that answers a connection's messages in
order, as a replica does; waits are bounded by timeouts, the one delay is the server's."""

from __future__ import annotations

import trio

from client.agent import Agent, Endpoint
from vocab.framing import FramedStream
from vocab.genesis import local_genesis
from vocab.messages import RequestRejected


def note(i: int) -> RequestRejected:
    return RequestRejected(bytes([i]), 1, "test", f"message {i}")


async def test_a_cancelled_exchange_keeps_its_connection_and_the_next_skips_the_owed_answer() -> None:
    connections = 0
    slow = trio.Event()

    async def serve(stream: trio.SocketStream) -> None:
        nonlocal connections
        connections += 1
        framed = FramedStream(stream)
        while (message := await framed.receive()) is not None:
            if isinstance(message, RequestRejected) and message.request_id == b"\x00":
                await slow.wait()  # the first answer comes late: its exchange stops waiting
            await framed.send(message)

    genesis, _ = local_genesis(1, "agent-connections")
    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(trio.serve_tcp, serve, 0)
        port = listeners[0].socket.getsockname()[1]
        agent = Agent([Endpoint(0, "127.0.0.1", port)], genesis.committee)
        with trio.move_on_after(0.2) as scope:
            await agent.exchange(agent.endpoints[0], note(0), 10)
        assert scope.cancelled_caught
        slow.set()
        with trio.fail_after(10):
            assert await agent.exchange(agent.endpoints[0], note(1), 10) == note(1)
            assert await agent.exchange(agent.endpoints[0], note(2), 10) == note(2)
        assert connections == 1
        await agent.aclose()
        nursery.cancel_scope.cancel()
