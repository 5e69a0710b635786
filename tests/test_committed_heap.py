"""The committed heap as a file the live heap maps (``node.wasm.instance``, ``backing``).

An instance holds its heap once: the committed heap is a shared-memory file, the live heap
maps it privately (a page written since is the kernel's copy), commit copies the marked
pages into the file, rollback copies them back. These tests drive a module through a
command script (stores that spill across pages, bulk fill, copy and init, memory growth,
host writes, traps) and check the committed heap, read in the middle of each call and after
it, against a plain reference model, a bytearray updated by hand; a hypothesis property test
runs random sequences of such calls.
"""

from __future__ import annotations

import ctypes
import hashlib
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import wasmtime
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from node.wasm.engine import WasmEngine
from node.wasm.errors import Trapped, WasmTrap
from node.wasm.follower import FollowerInstance, isolated_imports
from node.wasm.host import HostFunction, HostImports
from node.wasm.instance import PRIVATE_PAGES_BUDGET, WASM_PAGE, WasmInstance
from vocab.wasm import I32, I64, WasmModule

SEGMENT = b"0123456789abcdefghijklmnopqrstuvwxyz"
MAX_PAGES = 8
HEAP_LIMIT = 1 << 26
"""The store's limit for each memory (the private tracking memories are a few MiB)."""
STORE, FILL, COPY, GROW, TRAP, INIT, PUT, SET_GLOBAL = range(1, 9)

SCRIPTED = f"""
(module
  (import "env" "next" (func $next (result i64)))
  (import "env" "put" (func $put (param i32 i32 i32)))
  (memory 2 {MAX_PAGES})
  (global $g (mut i64) (i64.const 0))
  (data $seg "{SEGMENT.decode()}")
  (func (export "get_global") (result i64) (global.get $g))
  (func (export "run")
    (local $k i64) (local $a i32) (local $b i32) (local $n i32)
    (block $done
      (loop $again
        (local.set $k (call $next))
        (br_if $done (i64.eqz (local.get $k)))
        (local.set $a (i32.wrap_i64 (call $next)))
        (local.set $b (i32.wrap_i64 (call $next)))
        (local.set $n (i32.wrap_i64 (call $next)))
        (if (i64.eq (local.get $k) (i64.const {STORE}))
          (then (i64.store (local.get $a)
                  (i64.mul (i64.extend_i32_u (local.get $b)) (i64.const 0x0101010101010101)))))
        (if (i64.eq (local.get $k) (i64.const {FILL}))
          (then (memory.fill (local.get $a) (local.get $b) (local.get $n))))
        (if (i64.eq (local.get $k) (i64.const {COPY}))
          (then (memory.copy (local.get $a) (local.get $b) (local.get $n))))
        (if (i64.eq (local.get $k) (i64.const {GROW}))
          (then (drop (memory.grow (local.get $a)))))
        (if (i64.eq (local.get $k) (i64.const {TRAP}))
          (then unreachable))
        (if (i64.eq (local.get $k) (i64.const {INIT}))
          (then (memory.init $seg (local.get $a) (local.get $b) (local.get $n))))
        (if (i64.eq (local.get $k) (i64.const {PUT}))
          (then (call $put (local.get $a) (local.get $n) (local.get $b))))
        (if (i64.eq (local.get $k) (i64.const {SET_GLOBAL}))
          (then (global.set $g (i64.extend_i32_u (local.get $b)))))
        (br $again)))))
"""

Command = tuple[int, int, int, int]


class Script:
    """The host side: feeds commands to ``run`` and writes the heap for ``put``."""

    def __init__(self) -> None:
        self.host_instructions = 0
        self.words: Iterator[int] = iter(())
        self.instance: WasmInstance[Any] | None = None
        self.imports = HostImports(
            {
                ("env", "next"): HostFunction((), (I64,), self.next),
                ("env", "put"): HostFunction((I32, I32, I32), (), self.put),
            }
        )

    def next(self, caller: Any) -> int:
        return next(self.words, 0)

    def put(self, caller: Any, ptr: int, size: int, byte: int) -> None:
        assert self.instance is not None
        if not self.instance.write_heap(caller, ptr & 0xFFFFFFFF, bytes([byte & 0xFF]) * (size & 0xFFFFFFFF)):
            raise Trapped("host write out of bounds")

    def run(self, instance: WasmInstance[Any], commands: list[Command]) -> None:
        self.instance = instance
        self.words = iter([word for command in commands for word in command])
        instance.call("run", 10_000_000, self)


def _rules(module: WasmModule) -> None:
    return None


@pytest.fixture(scope="module")
def engine() -> WasmEngine:
    return WasmEngine()


def _instance(engine: WasmEngine, script: Script) -> WasmInstance[Any]:
    compiled = engine.compile(bytes(wasmtime.wat2wasm(SCRIPTED)), _rules)
    return WasmInstance(engine, compiled, script.imports, HEAP_LIMIT)


def _apply(heap: bytearray, commands: list[Command]) -> tuple[bytearray, int | None, bool]:
    """The reference model: the heap after the commands, the global (if set), and whether
    the call trapped (then nothing of it stays)."""
    heap = bytearray(heap)
    value = None
    for kind, a, b, n in commands:
        if kind == STORE:
            if a + 8 > len(heap):
                return heap, value, True
            heap[a : a + 8] = bytes([b & 0xFF]) * 8
        elif kind in (FILL, PUT):
            if a + n > len(heap):
                return heap, value, True
            heap[a : a + n] = bytes([b & 0xFF]) * n
        elif kind == COPY:
            if a + n > len(heap) or b + n > len(heap):
                return heap, value, True
            heap[a : a + n] = bytes(heap[b : b + n])
        elif kind == GROW:
            if len(heap) // WASM_PAGE + a <= MAX_PAGES:
                heap.extend(bytes(a * WASM_PAGE))
        elif kind == TRAP:
            return heap, value, True
        elif kind == INIT:
            if a + n > len(heap) or b + n > len(SEGMENT):
                return heap, value, True
            heap[a : a + n] = SEGMENT[b : b + n]
        elif kind == SET_GLOBAL:
            value = b
    return heap, value, False


def _global(instance: WasmInstance[Any]) -> int:
    return int.from_bytes(instance.committed_globals[:8], "little")


def _run_and_check(
    script: Script,
    instance: WasmInstance[Any],
    model: bytearray,
    commands: list[Command],
    keep: bool = True,
    follower: FollowerInstance[Any] | None = None,
) -> bytearray:
    """Run one call, commit it (or roll it back when it trapped or ``keep`` is false) and
    check the committed state against the model; the model after the call."""
    before_global = _global(instance)
    after, value, trapped = _apply(model, commands)
    try:
        script.run(instance, commands)
        assert not trapped, "the model says this call traps"
    except WasmTrap:
        assert trapped, "the call trapped where the model does not"
    # in the middle of the call, the committed state is still the one before it
    assert instance.committed_bytes() == bytes(model)
    assert instance.heap_digest() == hashlib.sha256(model).digest()
    if trapped or not keep:
        instance.rollback()
        result = model
        assert _global(instance) == before_global
    else:
        instance.commit()
        result = after
        assert _global(instance) == (before_global if value is None else value)
    assert instance.heap_size == len(result) == instance.heap_len()
    assert instance.committed_bytes() == bytes(result)
    assert bytes(instance.live_heap()) == bytes(result)
    assert instance.heap_digest() == hashlib.sha256(result).digest()
    if follower is not None:
        follower.sync()
        assert bytes(follower.live_heap()) == bytes(result)
    return bytearray(result)


def test_rollback_after_writes_across_many_pages(engine: WasmEngine) -> None:
    script = Script()
    instance = _instance(engine, script)
    model = bytearray(instance.committed_bytes())
    # every tracking page of the heap, each store straddling a page boundary
    spread = [(STORE, page * 4096 - 3, page, 0) for page in range(1, 32)]
    model = _run_and_check(script, instance, model, spread)
    rewritten = [(STORE, page * 4096 - 5, 200 + page % 50, 0) for page in range(1, 32)]
    model = _run_and_check(script, instance, model, [*rewritten, (TRAP, 0, 0, 0)])
    model = _run_and_check(script, instance, model, rewritten, keep=False)
    assert model[4096 - 3 : 4096 + 5] == bytes([1]) * 8
    model = _run_and_check(script, instance, model, rewritten)
    assert model[4096 - 5 : 4096 + 3] == bytes([201]) * 8


def test_bulk_fill_copy_init_and_host_writes_roll_back(engine: WasmEngine) -> None:
    script = Script()
    instance = _instance(engine, script)
    model = bytearray(instance.committed_bytes())
    model = _run_and_check(script, instance, model, [(FILL, 100, 7, 70_000), (INIT, 5000, 3, 20)])
    bulk = [
        (COPY, 4000, 100, 60_000),  # overlapping, across many pages
        (FILL, 90_000, 9, 30_000),
        (INIT, 8190, 0, len(SEGMENT)),
        (PUT, 20_000, 5, 50_000),
        (SET_GLOBAL, 0, 77, 0),
    ]
    model = _run_and_check(script, instance, model, [*bulk, (TRAP, 0, 0, 0)])
    model = _run_and_check(script, instance, model, bulk, keep=False)
    model = _run_and_check(script, instance, model, [*bulk, (FILL, 131_000, 1, 100)])  # out of bounds: traps
    model = _run_and_check(script, instance, model, bulk)
    assert _global(instance) == 77


def test_a_grown_heap_rolls_back_and_its_new_pages_are_committed(engine: WasmEngine) -> None:
    script = Script()
    instance = _instance(engine, script)
    follower = FollowerInstance(
        engine, instance.compiled, isolated_imports(script.imports), HEAP_LIMIT, instance
    )
    model = bytearray(instance.committed_bytes())
    grow = [
        (STORE, 10, 3, 0),
        (GROW, 2, 0, 0),
        (FILL, 2 * WASM_PAGE - 8, 4, WASM_PAGE),
        (STORE, 200_000, 5, 0),
    ]
    model = _run_and_check(script, instance, model, [*grow, (TRAP, 0, 0, 0)], follower=follower)
    assert instance.rebuilds == 1 and instance.heap_size == 2 * WASM_PAGE
    model = _run_and_check(script, instance, model, grow, follower=follower)
    assert instance.heap_size == 4 * WASM_PAGE
    # the pages that came with the growth are committed now: their writes roll back too
    again = [(FILL, 3 * WASM_PAGE, 8, WASM_PAGE), (STORE, 2 * WASM_PAGE + 4094, 6, 0), (TRAP, 0, 0, 0)]
    model = _run_and_check(script, instance, model, again, follower=follower)
    assert model[2 * WASM_PAGE] == 4 and model[3 * WASM_PAGE] == 0 and instance.rebuilds == 1
    model = _run_and_check(script, instance, model, again[:2], follower=follower)
    assert model[3 * WASM_PAGE] == 8


def test_snapshots_and_restores_read_the_live_heap_once(engine: WasmEngine) -> None:
    script = Script()
    instance = _instance(engine, script)
    model = _run_and_check(script, instance, bytearray(instance.committed_bytes()), [(FILL, 0, 5, 3 * 4096)])
    state = instance.snapshot()
    assert state.heap == bytes(model)
    view = instance.committed_view()
    assert view.readonly and bytes(view) == bytes(model)
    # a view of the live heap, not a copy: a later committed write shows through it
    model = _run_and_check(script, instance, model, [(FILL, 0, 6, 10)])
    assert bytes(view[:10]) == bytes([6]) * 10
    del view
    other = _instance(engine, script)
    other.restore(state)
    assert other.committed_bytes() == state.heap and other.heap_size == len(state.heap)
    sparse = WasmInstance(engine, instance.compiled, script.imports, HEAP_LIMIT)
    sparse.load_pages(3 * WASM_PAGE, [(WASM_PAGE, b"\x09" * 100)], state.globals)
    expected = bytearray(3 * WASM_PAGE)
    expected[WASM_PAGE : WASM_PAGE + 100] = b"\x09" * 100
    assert sparse.committed_bytes() == bytes(expected)  # the data segment was cleared too
    with pytest.raises(ValueError, match="outside"):
        sparse.load_pages(WASM_PAGE * 2, [(WASM_PAGE * 2, b"x")], None)


_ADDRESS = st.one_of(
    st.integers(1, 2 * MAX_PAGES).map(lambda page: page * 4096 - 4),  # straddling a page
    st.integers(0, 4 * WASM_PAGE),  # anywhere, sometimes beyond the heap
)
_COMMAND = st.one_of(
    st.tuples(st.just(STORE), _ADDRESS, st.integers(0, 255), st.just(0)),
    st.tuples(st.just(FILL), _ADDRESS, st.integers(0, 255), st.integers(0, 3 * 4096)),
    st.tuples(st.just(COPY), _ADDRESS, _ADDRESS, st.integers(0, 3 * 4096)),
    st.tuples(st.just(GROW), st.integers(0, 2), st.just(0), st.just(0)),
    st.tuples(st.just(INIT), _ADDRESS, st.integers(0, 40), st.integers(0, 40)),
    st.tuples(st.just(PUT), _ADDRESS, st.integers(0, 255), st.integers(0, 2 * 4096)),
    st.tuples(st.just(SET_GLOBAL), st.just(0), st.integers(0, 255), st.just(0)),
    st.tuples(st.just(TRAP), st.just(0), st.just(0), st.just(0)),
)
_CALL = st.tuples(st.lists(_COMMAND, max_size=6), st.booleans())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(calls=st.lists(_CALL, min_size=1, max_size=8))
def test_random_calls_commit_exactly_what_a_plain_model_commits(
    engine: WasmEngine, calls: list[tuple[list[Command], bool]]
) -> None:
    script = Script()
    instance = _instance(engine, script)
    follower = FollowerInstance(
        engine, instance.compiled, isolated_imports(script.imports), HEAP_LIMIT, instance
    )
    model = bytearray(instance.committed_bytes())
    for commands, keep in calls:
        model = _run_and_check(script, instance, model, commands, keep=keep, follower=follower)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the live heap maps the file on Linux only")
def test_the_live_heap_is_the_committed_file_where_it_was_not_written(engine: WasmEngine) -> None:
    script = Script()
    instance = _instance(engine, script)
    big = [(FILL, 0, 3, 2 * WASM_PAGE)]
    model = _run_and_check(script, instance, bytearray(instance.committed_bytes()), big)
    model = _run_and_check(script, instance, model, [(GROW, 1, 0, 0), *big])
    # past the budget the live heap's own copies were given back: its pages are the file's,
    # so a byte put into the file shows in the live heap (one copy of the heap, not two)
    instance_file = instance._backing
    assert instance_file is not None
    instance._private_pages = PRIVATE_PAGES_BUDGET  # as if many calls had written pages
    model = _run_and_check(script, instance, model, big)
    assert instance._private_pages == 0
    ctypes.memset(instance_file.address + 5000, 9, 1)
    assert instance.live_heap()[5000] == 9
    ctypes.memset(instance_file.address + 5000, 3, 1)
    model = _run_and_check(script, instance, model, [(STORE, 4996, 4, 0), (TRAP, 0, 0, 0)])


def test_a_heap_that_starts_empty_grows_commits_and_rolls_back(engine: WasmEngine) -> None:
    compiled = engine.compile(
        bytes(
            wasmtime.wat2wasm("""
      (module
        (memory 0 4)
        (func (export "grow_write") (drop (memory.grow (i32.const 1))) (i32.store (i32.const 100) (i32.const 5)))
        (func (export "write_trap") (i32.store (i32.const 70000) (i32.const 6)) unreachable))
    """)
        ),
        _rules,
    )
    script = Script()
    instance = WasmInstance(engine, compiled, script.imports, HEAP_LIMIT)
    assert instance.heap_size == 0 and instance.committed_bytes() == b""
    instance.call("grow_write", 1000, script)
    instance.rollback()  # the grown memory is dropped with its instance
    assert instance.heap_len() == 0 and instance.rebuilds == 1
    instance.call("grow_write", 1000, script)
    instance.commit()
    assert instance.heap_size == WASM_PAGE
    instance.call("grow_write", 1000, script)
    instance.commit()
    assert instance.heap_size == 2 * WASM_PAGE and instance.committed_bytes()[100] == 5
    with pytest.raises(WasmTrap):
        instance.call("write_trap", 1000, script)
    assert instance.live_heap()[70000] == 6
    assert instance.committed_bytes()[70000] == 0  # the file still holds the committed byte
    instance.rollback()
    assert instance.live_heap()[70000] == 0
    assert instance.heap_digest() == hashlib.sha256(instance.live_heap()).digest()
