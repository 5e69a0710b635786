"""A replica process's listener under careless or hostile clients: it listens on the
address in genesis only, forgets waiters whose wait ended, bounds connections, silence
and unfinished frames, and answers an oversized message with the limit named.

One replica runtime in this process, on real loopback TCP; waits are bounded.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import trio

import node.runtime as runtime_module
from client.agent import Agent
from client.network import endpoints, load_genesis
from node.runtime import ReplicaRuntime
from subnet.processes import launcher
from subnet.processes.layout import create_subnet, load_node_key
from vocab.codec import DEFAULT_MAX_FRAME, HEADER_BYTES
from vocab.errors import RejectError
from vocab.framing import FramedStream
from vocab.messages import AwaitReply, ReplyTimeout, RequestRejected, StatusReply, StatusRequest
from vocab.principal import Principal


@pytest.fixture
def subnet_dir(tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "local"
    create_subnet(root, 1, launcher.free_port_range(1), 50)
    yield root


@asynccontextmanager
async def replica(root: Path) -> AsyncIterator[tuple[ReplicaRuntime, int]]:
    genesis = load_genesis(root)
    runtime = ReplicaRuntime(genesis, 0, load_node_key(root, 0), root / "replica-0")
    try:
        async with trio.open_nursery() as nursery:
            await nursery.start(runtime.run)
            yield runtime, int(genesis.nodes[0].address.rpartition(":")[2])
            nursery.cancel_scope.cancel()
    finally:
        runtime.store.close()


async def connect(port: int) -> FramedStream[trio.SocketStream]:
    return FramedStream(await trio.open_tcp_stream("127.0.0.1", port))


async def closed_by_replica(framed: FramedStream[trio.SocketStream], within: float = 5.0) -> bool:
    with trio.fail_after(within):
        try:
            return await framed.stream.receive_some(1) == b""
        except trio.BrokenResourceError:
            return True


async def test_it_listens_on_the_genesis_address_only(subnet_dir: Path) -> None:
    async with replica(subnet_dir) as (runtime, port):
        assert [listener.socket.getsockname()[:2] for listener in runtime.listeners] == [("127.0.0.1", port)]
        framed = await connect(port)
        await framed.send(StatusRequest())
        assert isinstance(await framed.receive(), StatusReply)


async def test_waiters_are_forgotten_and_bounded(subnet_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async with replica(subnet_dir) as (runtime, port):
        framed = await connect(port)
        for index in range(500):
            request_id = index.to_bytes(32, "big")
            await framed.send(AwaitReply(request_id, timeout_ms=0))
            assert await framed.receive() == ReplyTimeout(request_id)
        assert runtime._reply_events == {} and not runtime._waiters  # nothing left behind

        monkeypatch.setattr(runtime_module, "MAX_AWAITED", 2)
        waiting = [await connect(port) for _ in range(2)]
        for index, client in enumerate(waiting):
            await client.send(AwaitReply(bytes([index]) * 32, timeout_ms=20_000))
        with trio.fail_after(5):
            while len(runtime._reply_events) < 2:
                await trio.sleep(0.01)
        extra = await connect(port)
        await extra.send(AwaitReply(b"\x09" * 32, timeout_ms=20_000))
        with trio.fail_after(2):  # answered at once, not after 20 s
            assert await extra.receive() == ReplyTimeout(b"\x09" * 32)
        assert runtime.errors["await_limit"] == 1
        for client in waiting:
            await client.stream.aclose()  # the clients go away: their waits end with them
        with trio.fail_after(5):
            while runtime._reply_events:
                await trio.sleep(0.01)


async def test_an_oversized_message_is_answered_with_the_limit(subnet_dir: Path) -> None:
    async with replica(subnet_dir) as (runtime, port):
        framed = await connect(port)
        size = 9 * 1024 * 1024
        async with trio.open_nursery() as nursery:
            nursery.start_soon(framed.stream.send_all, size.to_bytes(HEADER_BYTES, "big") + bytes(size))
            with trio.fail_after(20):
                answer = await framed.receive()
        assert isinstance(answer, RequestRejected)
        assert answer.reason == "oversized"
        assert f"a message of {size} bytes exceeds the limit of {DEFAULT_MAX_FRAME} bytes" in answer.message
        assert runtime.errors["oversized_frame"] == 1


async def test_connections_silence_and_unfinished_frames_are_bounded(
    subnet_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runtime_module, "MAX_CLIENT_CONNECTIONS", 3)
    monkeypatch.setattr(runtime_module, "FIRST_FRAME_TIMEOUT", 0.5)
    monkeypatch.setattr(runtime_module, "MAX_UNFINISHED_BYTES", 1024 * 1024)
    async with replica(subnet_dir) as (runtime, port):
        # Half-sent frames: together they may hold 1 MiB; the one that passes it is dropped.
        half = [await connect(port) for _ in range(3)]
        for client in half:
            # the replica may drop the connection that passes the bound while it is still
            # being written to: the writer then sees a reset, which is the expected outcome
            with contextlib.suppress(trio.BrokenResourceError):
                await client.stream.send_all((4 * 1024 * 1024).to_bytes(HEADER_BYTES, "big") + bytes(400_000))
        dropped = 0
        for client in half:
            dropped += await closed_by_replica(client)
        assert dropped == 3  # two by the first-frame timeout, at least one by the bound
        assert runtime.errors["bad_frame"] >= 1 and runtime._unfinished_total == 0
        assert runtime.errors["idle_timeout"] >= 1

        # At most 3 connections at once: a 4th is closed on arrival.
        idle = [await connect(port) for _ in range(3)]
        with trio.fail_after(5):
            while runtime._clients < 3:
                await trio.sleep(0.01)
        fourth = await connect(port)
        assert await closed_by_replica(fourth, within=0.4)
        assert runtime.errors["connection_limit"] == 1
        for client in idle:  # silent: closed after the first-frame timeout
            assert await closed_by_replica(client)
        with trio.fail_after(5):
            while runtime._clients:
                await trio.sleep(0.01)


async def test_the_agent_reports_the_limit_for_a_9_mb_argument(subnet_dir: Path) -> None:
    genesis = load_genesis(subnet_dir)
    async with replica(subnet_dir):
        agent = Agent(endpoints(genesis), genesis.committee)
        with pytest.raises(RejectError, match=f"exceeds the limit of {DEFAULT_MAX_FRAME} bytes"):
            with trio.fail_after(30):
                await agent.call(Principal.management(), "create_canister", bytes(9 * 1024 * 1024))
