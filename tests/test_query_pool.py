"""Query threads (``node.query_pool``): turns shared fairly between callers, bounded waits
refused with the limit named, lower-priority threads, and the trio loop free meanwhile.

The jobs here are plain Python functions that block on a ``threading.Event``: what is
tested is who gets a thread when, not Wasm."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import pytest
import trio

from client.agent import Agent
from client.network import endpoints, load_genesis
from node.query_pool import QueryPool, QueueFull
from subnet.processes import launcher
from subnet.processes.layout import create_subnet
from tests.test_runtime_hygiene import replica
from vocab import management
from vocab.errors import RejectCode
from vocab.principal import CanisterId, Principal


class Gate:
    """Jobs that start, say so, and wait until released."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.release = threading.Event()

    def job(self, name: str) -> object:
        def run() -> str:
            self.started.append(name)
            self.release.wait(10)
            return name

        return run


async def submit(pool: QueryPool, lane: str, name: str, gate: Gate, results: list[str]) -> None:
    async with pool.turn(lane, caller=lane):
        results.append(await pool.in_thread(gate.job(name)))  # type: ignore[arg-type]


async def wait_until(condition: object) -> None:
    with trio.fail_after(5):
        while not condition():  # type: ignore[operator]
            await trio.sleep(0.005)


async def test_a_flood_from_one_caller_delays_another_by_one_turn_at_most() -> None:
    pool = QueryPool(threads=2)
    gate = Gate()
    results: list[str] = []
    try:
        async with trio.open_nursery() as nursery:
            for i in range(6):
                nursery.start_soon(submit, pool, "flood", f"flood-{i}", gate, results)
            await wait_until(lambda: len(gate.started) == 2 and pool.queued == 4)
            nursery.start_soon(submit, pool, "other", "other", gate, results)
            await wait_until(lambda: pool.queued == 5)
            # both threads busy with the flood; the other caller is next, not sixth
            gate.release.set()
    finally:
        pool.close()
    assert all(name.startswith("flood") for name in gate.started[:2])
    assert gate.started.index("other") == 2, gate.started
    assert sorted(results) == sorted([f"flood-{i}" for i in range(6)] + ["other"])
    assert pool.queued == 0 and pool.running == 0 and pool.ran == 7


async def test_lanes_take_turns_round_robin() -> None:
    pool = QueryPool(threads=1)
    gate = Gate()
    gate.release.set()
    results: list[str] = []
    blocker = Gate()
    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(submit, pool, "first", "block", blocker, results)
            await wait_until(lambda: blocker.started)
            for lane in ("a", "b", "c"):
                for i in range(3):
                    nursery.start_soon(submit, pool, lane, f"{lane}{i}", gate, results)
                    await wait_until(lambda q=pool.queued: pool.queued == q + 1)
            blocker.release.set()
    finally:
        pool.close()
    assert gate.started == ["a0", "b0", "c0", "a1", "b1", "c1", "a2", "b2", "c2"]


async def test_full_queues_are_refused_with_the_limit_named() -> None:
    pool = QueryPool(threads=1, max_queued=3, max_queued_per_caller=2)
    gate = Gate()
    results: list[str] = []
    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(submit, pool, "x", "running", gate, results)
            await wait_until(lambda: gate.started)
            nursery.start_soon(submit, pool, "x", "x1", gate, results)
            nursery.start_soon(submit, pool, "x", "x2", gate, results)
            await wait_until(lambda: pool.queued == 2)
            with pytest.raises(QueueFull) as per_caller:
                async with pool.turn("x", caller="2vxsx-fae"):
                    pass
            assert per_caller.value.code == RejectCode.SYS_TRANSIENT
            assert "MAX_QUEUED_PER_CALLER = 2" in per_caller.value.message
            assert "2vxsx-fae" in per_caller.value.message
            nursery.start_soon(submit, pool, "y", "y1", gate, results)
            await wait_until(lambda: pool.queued == 3)
            with pytest.raises(QueueFull) as overall:
                async with pool.turn("z", caller="z"):
                    pass
            assert "MAX_QUEUED_QUERIES = 3" in overall.value.message
            assert pool.refused == 2
            gate.release.set()
    finally:
        pool.close()
    assert sorted(results) == ["running", "x1", "x2", "y1"]


async def test_a_cancelled_wait_leaves_its_lane() -> None:
    pool = QueryPool(threads=1)
    gate = Gate()
    results: list[str] = []
    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(submit, pool, "a", "running", gate, results)
            await wait_until(lambda: gate.started)
            with trio.move_on_after(0.05):
                async with pool.turn("b", caller="b"):
                    raise AssertionError("never given a turn")
            assert pool.queued == 0
            gate.release.set()
    finally:
        pool.close()
    assert pool.running == 0


async def test_the_loop_runs_while_a_job_computes_and_threads_are_lower_priority() -> None:
    pool = QueryPool(threads=1, nice=5)
    seen: list[int] = []
    ticks = 0

    def job() -> int:
        seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        total = 0
        for i in range(3_000_000):  # Python holds the lock; Wasm would not
            total += i
        return total

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await trio.sleep(0.001)

    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(tick)
            async with pool.turn("a", caller="a"):
                assert await pool.in_thread(job) == sum(range(3_000_000))
            nursery.cancel_scope.cancel()
    finally:
        pool.close()
    assert ticks > 3
    if sys.platform.startswith("linux"):
        assert seen[0] >= min(19, os.getpriority(os.PRIO_PROCESS, 0) + 5)


async def test_a_replica_answers_a_query_over_the_bound_with_a_signed_reject(tmp_path: Path) -> None:
    """The process adapter's side: a query the pool refuses is answered at once, signed by
    the replica, with SYS_TRANSIENT and the limit named; and a query that is run comes
    back through the same path (one replica process's runtime, in this process)."""
    root = tmp_path / "local"
    create_subnet(root, 1, launcher.free_port_range(1), 50)
    genesis = load_genesis(root)
    async with replica(root) as (runtime, _):
        agent = Agent(endpoints(genesis), genesis.committee)
        logs = management.encode_args(
            management.FETCH_LOGS, management.CanisterIdRecord(CanisterId(0).principal)
        )
        with trio.fail_after(20):
            answered = await agent.query(Principal.management(), management.FETCH_LOGS, logs)
        # run (through the turn, on the replica's thread): the management canister's answer
        assert (answered.status, answered.reject_code) == ("rejected", int(RejectCode.DESTINATION_INVALID))
        assert "not found" in answered.reject_message
        assert runtime.queries.ran == 1
        runtime.queries.max_queued = 0
        with trio.fail_after(20):
            refused = await agent.query(Principal.management(), management.FETCH_LOGS, logs)
        assert refused.status == "rejected" and refused.reject_code == int(RejectCode.SYS_TRANSIENT)
        assert "MAX_QUEUED_QUERIES = 0" in refused.reject_message
        assert runtime.errors["query_queue_full"] == 1 and runtime.queries.refused == 1
