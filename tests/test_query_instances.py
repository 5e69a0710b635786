"""Queries on query instances (``node.ic.query_instances``, ``node.wasm.follower``): a
query sees exactly the committed state, its writes never reach the executing instance, a
query instance is brought up to date by copying the pages that changed, and a query can
run on another thread while execution goes on."""

from __future__ import annotations

import threading
import time
from fractions import Fraction

import pytest
import wasmtime

from node.ic.config import ExecutionConfig
from node.ic.lifecycle import InstallMode
from node.ic.messages import CallResult
from node.ic.state_machine import WasmStateMachine
from node.ic.system_api import ApiContext
from node.ic.transaction import message_transaction
from node.wasm.follower import PAGE_BYTES
from vocab.errors import RejectCode
from vocab.principal import CanisterId, Principal

USER = Principal.self_authenticating(b"\x01" * 32)

CANISTER = """
(module
  (import "ic0" "msg_reply" (func $reply))
  (import "ic0" "msg_reply_data_append" (func $append (param i32 i32)))
  (import "ic0" "trap" (func $trap (param i32 i32)))
  (import "ic0" "stable_size" (func $stable_size (result i32)))
  (import "ic0" "stable_grow" (func $stable_grow (param i32) (result i32)))
  (import "ic0" "stable_write" (func $stable_write (param i32 i32 i32)))
  (import "ic0" "stable_read" (func $stable_read (param i32 i32 i32)))
  (import "ic0" "time" (func $time (result i64)))
  (memory 4)
  (global $g (mut i32) (i32.const 0))
  (data (i32.const 100) "query-trap")
  (data (i32.const 110) "update-trap")
  ;; the report: counter (heap 0), global, memory pages, stable word 0, far word (heap 3 pages up)
  (func $report
    (i32.store (i32.const 1024) (i32.load (i32.const 0)))
    (i32.store (i32.const 1028) (global.get $g))
    (i32.store (i32.const 1032) (memory.size))
    (i32.store (i32.const 1036) (i32.const 0))
    (if (call $stable_size) (then (call $stable_read (i32.const 1036) (i32.const 0) (i32.const 4))))
    (i32.store (i32.const 1040) (i32.load (i32.const 196608)))
    (call $append (i32.const 1024) (i32.const 20))
    (call $reply))
  (func (export "canister_update inc")
    (i32.store (i32.const 0) (i32.add (i32.load (i32.const 0)) (i32.const 1)))
    (global.set $g (i32.add (global.get $g) (i32.const 1)))
    (if (i32.eqz (call $stable_size)) (then (drop (call $stable_grow (i32.const 1)))))
    (call $stable_write (i32.const 0) (i32.const 0) (i32.const 4))
    (call $report))
  (func (export "canister_update far")
    (i32.store (i32.const 196608) (i32.add (i32.load (i32.const 196608)) (i32.const 7)))
    (call $report))
  (func (export "canister_update grow")
    (drop (memory.grow (i32.const 2)))
    (call $report))
  (func (export "canister_update fail") (call $trap (i32.const 110) (i32.const 11)))
  (func (export "canister_query read") (call $report))
  (func (export "canister_composite_query composite") (call $report))
  (func (export "canister_query scribble")
    (i32.store (i32.const 0) (i32.const 999))
    (i32.store (i32.const 196608) (i32.const 999))
    (global.set $g (i32.const 999))
    (if (call $stable_size) (then (call $stable_write (i32.const 0) (i32.const 0) (i32.const 4))))
    (drop (memory.grow (i32.const 1)))
    (call $report))
  (func (export "canister_query loop") (loop (br 0)))
  (func (export "canister_query spin") (loop (drop (call $time)) (br 0)))
  (func (export "canister_query trap") (call $trap (i32.const 100) (i32.const 10))))
"""


def report(result: CallResult) -> tuple[int, ...]:
    reply = result.unwrap()
    return tuple(int.from_bytes(reply[i : i + 4], "little") for i in range(0, 20, 4))


@pytest.fixture
def machine() -> tuple[WasmStateMachine, CanisterId]:
    sm = WasmStateMachine(0, 100, ExecutionConfig(instruction_scale=Fraction(1, 1000)))
    env = sm.env
    canister = env.create_canister(USER, time=1, controllers=[USER])
    env.install_code(USER, canister, InstallMode("install"), wasmtime.wat2wasm(CANISTER), b"", time=2)
    return sm, canister


def update(sm: WasmStateMachine, canister: CanisterId, method: str) -> CallResult:
    result = sm.env.update(canister, method, b"", caller=USER, time=sm.env.time + 1)
    assert result.ok or method == "fail", result.reject
    return result


def outcome(result: CallResult) -> tuple[object, ...]:
    reject = result.reject
    rejected = None if reject is None else (reject.code, reject.message, reject.error_code)
    return result.reply, rejected, result.instructions


def query(sm: WasmStateMachine, canister: CanisterId, method: str = "read") -> CallResult:
    return sm.query(canister.principal, method, b"", caller=USER, time=sm.env.time)


def test_a_query_sees_the_state_it_was_prepared_on_not_a_later_one(
    machine: tuple[WasmStateMachine, CanisterId],
) -> None:
    sm, canister = machine
    update(sm, canister, "inc")
    assert report(query(sm, canister)) == (1, 1, 4, 1, 0)
    job = sm.prepare_query(canister.principal, "read", b"", caller=USER, time=sm.env.time)
    update(sm, canister, "inc")  # executed after the query was prepared, before it runs
    update(sm, canister, "far")
    job.run()
    assert report(job.finish()) == (1, 1, 4, 1, 0)
    assert report(query(sm, canister)) == (2, 2, 4, 2, 7)


def test_a_query_never_sees_a_half_executed_message(machine: tuple[WasmStateMachine, CanisterId]) -> None:
    sm, canister = machine
    update(sm, canister, "inc")
    state = sm.env.state
    owner = state.canister(canister)
    instance = owner.instance
    assert instance is not None
    ctx = state.api_context(
        owner, __import__("node.ic.ic0", fromlist=["Context"]).Context.UPDATE, caller=USER
    )
    with message_transaction(instance, owner.stable):
        state.runtime.run(instance, "canister_update inc", ctx, state.config.update_limit)
        # the executing instance holds the message's heap, global and stable writes, uncommitted
        assert int.from_bytes(instance.live_heap()[:4], "little") == 2
        job = sm.prepare_query(canister.principal, "read", b"", caller=USER, time=sm.env.time)
    job.run()
    assert report(job.finish()) == (1, 1, 4, 1, 0)


def test_a_querys_writes_never_reach_the_executing_instance(
    machine: tuple[WasmStateMachine, CanisterId],
) -> None:
    sm, canister = machine
    update(sm, canister, "inc")
    before = sm.state_hash()
    owner = sm.env.state.canister(canister)
    assert owner.instance is not None
    heap = bytes(owner.instance.live_heap())
    # the query sees its own writes (heap, global, stable, a grown memory) ...
    assert report(query(sm, canister, "scribble")) == (999, 999, 5, 999, 999)
    # ... and nothing else does: not the executing instance, not the next query
    assert bytes(owner.instance.live_heap()) == heap
    assert owner.stable.read(0, 4) == (1).to_bytes(4, "little")
    assert sm.state_hash() == before
    assert report(query(sm, canister)) == (1, 1, 4, 1, 0)
    assert report(update(sm, canister, "inc")) == (2, 2, 4, 2, 0)


def test_a_query_instance_copies_only_what_changed(machine: tuple[WasmStateMachine, CanisterId]) -> None:
    sm, canister = machine
    pool = sm.query_instances
    owner = sm.env.state.canister(canister)
    query(sm, canister)
    heap_pages = 4 * 65536 // PAGE_BYTES
    assert pool.created == 1 and pool.pages_copied == heap_pages  # the first sync copies the heap
    copied = pool.pages_copied
    assert report(update(sm, canister, "far")) == (0, 0, 4, 0, 7)
    assert report(query(sm, canister)) == (0, 0, 4, 0, 7)
    # the page the update wrote (and its neighbour a store may spill into), and the scratch
    # page the last query wrote: not the heap's 64 pages
    assert 1 <= pool.pages_copied - copied <= 4
    assert pool.created == 1 and pool.idle(owner) == 1
    copied = pool.pages_copied
    query(sm, canister)  # nothing changed but what the query itself wrote
    assert pool.pages_copied - copied <= 2


def test_a_query_instance_follows_growth_and_is_rebuilt_after_it_grew_itself(
    machine: tuple[WasmStateMachine, CanisterId],
) -> None:
    sm, canister = machine
    assert report(update(sm, canister, "grow")) == (0, 0, 6, 0, 0)
    assert report(query(sm, canister)) == (0, 0, 6, 0, 0)
    assert report(query(sm, canister, "scribble"))[2] == 7  # grew its own memory
    assert report(query(sm, canister)) == (0, 0, 6, 0, 0)  # instantiated again, copied again


def test_a_reinstalled_canister_gets_a_new_query_instance(
    machine: tuple[WasmStateMachine, CanisterId],
) -> None:
    sm, canister = machine
    update(sm, canister, "inc")
    assert report(query(sm, canister))[0] == 1
    sm.env.install_code(USER, canister, InstallMode("reinstall"), wasmtime.wat2wasm(CANISTER), b"", time=9)
    assert report(query(sm, canister)) == (0, 0, 4, 0, 0)
    assert sm.query_instances.created == 2
    owner = sm.env.state.canister(canister)
    old = owner.instance
    assert old is not None and len(old._listeners) == 1  # the idle query instance follows it
    sm.env.install_code(USER, canister, InstallMode("reinstall"), wasmtime.wat2wasm(CANISTER), b"", time=10)
    other = sm.env.create_canister(USER, time=11, controllers=[USER])
    sm.env.install_code(USER, other, InstallMode("install"), wasmtime.wat2wasm(CANISTER), b"", time=12)
    query(sm, other)  # a query of another canister drops the stale idle instance
    assert old._listeners == () and sm.query_instances.idle(owner) == 0


def test_composite_queries_traps_and_the_limit_match_the_in_place_path(
    machine: tuple[WasmStateMachine, CanisterId],
) -> None:
    sm, canister = machine
    update(sm, canister, "inc")
    env = sm.env
    for method in ("read", "composite", "trap", "loop", "missing"):
        ours = query(sm, canister, method)
        theirs = env.query(canister, method, b"", caller=USER, time=env.time)  # on the executing instance
        assert outcome(ours) == outcome(theirs), method
    looped = query(sm, canister, "loop")
    assert looped.instructions == env.config.query_limit and looped.reject is not None
    assert "instruction" in looped.reject.message.lower()
    assert "query-trap" in str(query(sm, canister, "trap").reject)


def test_a_query_runs_on_another_thread_while_updates_run_and_trap_here() -> None:
    """wasmtime-py keeps a host function's exception in one process-wide slot: a query
    that traps through ``ic0.trap`` on a query thread while updates trap the same way on
    this one must not take each other's error. And the query's Wasm runs without Python's
    lock: updates go on meanwhile."""
    sm = WasmStateMachine(0, 100, ExecutionConfig(instruction_scale=Fraction(1, 5)))  # 1e9: ~0.5 s
    env = sm.env
    canister = env.create_canister(USER, time=1, controllers=[USER])
    env.install_code(USER, canister, InstallMode("install"), wasmtime.wat2wasm(CANISTER), b"", time=2)
    jobs = [
        sm.prepare_query(canister.principal, method, b"", caller=USER, time=env.time)
        for method in ("trap",) * 300
    ]
    looping = sm.prepare_query(canister.principal, "loop", b"", caller=USER, time=env.time)

    def queries() -> None:
        for job in jobs:
            job.run()
        looping.run()

    thread = threading.Thread(target=queries)
    started = time.perf_counter()
    thread.start()
    updates = 0
    while thread.is_alive():
        result = update(sm, canister, "fail" if updates % 2 else "inc")
        if updates % 2:
            assert result.reject is not None and "update-trap" in result.reject.message, result.reject
        updates += 1
    thread.join()
    elapsed = time.perf_counter() - started
    for job in jobs:
        reject = job.finish().reject
        assert reject is not None and "query-trap" in reject.message, reject
    assert looping.finish().instructions == env.config.query_limit
    assert updates > 20, f"only {updates} updates in {elapsed:.2f} s while a query ran on another thread"


def test_stable_memory_views_are_copy_on_write() -> None:
    from node.ic.stable_memory import StableMemory

    memory = StableMemory(2)
    memory.write(0, b"one")
    view = memory.committed_view()
    memory.begin()
    memory.write(1, b"XX")
    middle = memory.committed_view()  # in the middle of a message: the state before it
    memory.commit()
    memory.write(65536, b"two")
    assert view.read(0, 3) == b"one" and view.read(65536, 3) == bytes(3)
    assert middle.read(0, 3) == b"one"
    assert memory.read(0, 3) == b"oXX" and memory.read(65536, 3) == b"two"
    view.begin()
    view.write(0, b"zzz")
    assert memory.read(0, 3) == b"oXX"
    memory.begin()
    memory.write(0, b"abc")
    memory.rollback()
    assert memory.read(0, 3) == b"oXX" and view.read(0, 3) == b"zzz"
    # outside a message, a page no view shares is written in place, one a view shares is not
    later = memory.committed_view()
    memory.write(65536, b"T")
    page = memory._pages[1]
    memory.write(65537, b"W")
    assert memory._pages[1] is page and memory.read(65536, 3) == b"TWo"
    assert later.read(65536, 3) == b"two"


def test_a_query_context_is_per_thread() -> None:
    from node.ic.query_instances import QUERY_API

    seen: list[ApiContext | None] = []
    QUERY_API.current = None
    marker = object()
    QUERY_API.current = marker  # type: ignore[assignment]
    thread = threading.Thread(target=lambda: seen.append(QUERY_API.current))
    thread.start()
    thread.join()
    assert seen == [None] and QUERY_API.current is marker
    QUERY_API.current = None


def test_a_first_try_with_a_small_budget_is_exhausted_only_by_a_large_query(
    machine: tuple[WasmStateMachine, CanisterId],
) -> None:
    """The process backend runs a query on the replica's thread with a small budget first
    and, if it is used up, again on a query thread with the full limit."""
    sm, canister = machine
    update(sm, canister, "inc")
    owner = sm.env.state.canister(canister)
    small = sm.prepare_query(
        canister.principal, "read", b"", caller=USER, time=sm.env.time, instruction_limit=50_000
    )
    small.run()
    assert not small.exhausted
    assert outcome(small.finish()) == outcome(query(sm, canister))
    calls = owner.query_calls
    looping = sm.prepare_query(
        canister.principal, "loop", b"", caller=USER, time=sm.env.time, instruction_limit=50_000
    )
    looping.run()
    assert looping.exhausted
    looping.abandon()
    assert owner.query_calls == calls and sm.query_instances.idle(owner) == 1  # back, not counted
    full = sm.prepare_query(canister.principal, "loop", b"", caller=USER, time=sm.env.time)
    full.run()
    assert full.exhausted and full.finish().instructions == sm.env.config.query_limit


def test_a_wall_clock_limit_stops_a_loop_of_system_api_calls(
    machine: tuple[WasmStateMachine, CanisterId],
) -> None:
    """A System API call costs microseconds of Python and is charged a few instructions: a
    query looping on one would take far longer than its instruction limit suggests. With a
    wall-clock limit (the process backend's) it stops at the first call past it."""
    sm, canister = machine
    job = sm.prepare_query(canister.principal, "spin", b"", caller=USER, time=sm.env.time)
    started = time.perf_counter()
    job.run(0.05)
    assert time.perf_counter() - started < 2
    assert job.exhausted
    reject = job.finish().reject
    assert reject is not None and reject.code == RejectCode.SYS_TRANSIENT
    assert "ran longer than 0.05 s" in reject.message
    assert sm.env.state.canister(canister).query_calls == 0
    read = sm.prepare_query(canister.principal, "read", b"", caller=USER, time=sm.env.time)
    read.run(0.05)  # a query within the limit is not touched by it
    assert not read.exhausted and report(read.finish()) == (0, 0, 4, 0, 0)


def test_idle_query_instances_are_bounded_but_the_last_queried_keeps_its_own(
    machine: tuple[WasmStateMachine, CanisterId],
) -> None:
    sm, first = machine
    env = sm.env
    second = env.create_canister(USER, time=3, controllers=[USER])
    env.install_code(USER, second, InstallMode("install"), wasmtime.wat2wasm(CANISTER), b"", time=4)
    pool = sm.query_instances
    pool.cache_bytes = 4 * 65536  # one canister's heap
    query(sm, first)
    query(sm, second)  # over the budget: the first canister's idle instance goes
    assert pool.idle(env.state.canister(first)) == 0 and pool.idle(env.state.canister(second)) == 1
    pool.cache_bytes = 0
    query(sm, second)  # the canister just queried keeps its instance even over the budget
    assert pool.idle(env.state.canister(second)) == 1 and pool.created == 2
