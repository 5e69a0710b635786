"""Two environments fed the same operations end in the same state hash; any change to
replicated state, down to one byte of one stable memory, changes it."""

from __future__ import annotations

import struct
from fractions import Fraction
from pathlib import Path

import wasmtime
from hypothesis import given, settings
from hypothesis import strategies as st

from node.ic import ExecutionConfig, ExecutionEnvironment, InstallMode
from node.ic.stable_memory import StableMemory
from node.wasm import WasmEngine
from vocab.principal import Principal

CANISTERS = Path(__file__).parent / "canisters"
API32 = wasmtime.wat2wasm((CANISTERS / "api32.wat").read_text())
API64 = wasmtime.wat2wasm((CANISTERS / "api64.wat").read_text())
USER = Principal.from_ed25519_public_key(bytes(range(32)))
CONFIG = ExecutionConfig(instruction_scale=Fraction(1, 10_000))

OPERATIONS = [
    ("update", 0, "inc", b""),
    ("update", 1, "inc", b""),
    ("update", 0, "change_all_then_trap", b""),
    ("update", 0, "stable_grow_write", b"state"),
    ("update", 0, "certify", b"cert"),
    ("update", 0, "change_then_loop", b""),
    ("update", 0, "grow_then_trap", b""),
    ("update", 1, "stable_store", b"12345678"),
    ("update", 1, "inc_then_trap", b""),
    ("update", 0, "print", b"log line"),
    ("query", 0, "mutate", b""),
    ("update", 0, "set_timer", struct.pack("<q", 50_000)),
    ("tasks", 0, "", b""),
    ("upgrade", 0, "", b""),
    ("snapshot", 0, "", b""),
    ("update", 0, "inc", b""),
]


def run(
    operations: list[tuple[str, int, str, bytes]], engine: WasmEngine | None = None
) -> ExecutionEnvironment:
    env = ExecutionEnvironment(CONFIG, engine)
    now = 0
    ids = []
    for wasm in (API32, API64):
        now += 1_000
        cid = env.create_canister(USER, time=now)
        now += 1_000
        env.install_code(USER, cid, InstallMode.install(), wasm, b"", time=now)
        ids.append(cid)
    for kind, which, method, arg in operations:
        now += 1_000
        cid = ids[which]
        if kind == "update":
            env.update(cid, method, arg, caller=USER, time=now)
        elif kind == "query":
            env.query(cid, method, arg, caller=USER, time=now)
        elif kind == "tasks":
            env.run_system_tasks(now + 100_000)
            now += 100_000
        elif kind == "upgrade":
            env.install_code(USER, cid, InstallMode.upgrade(), API32, b"", time=now)
        elif kind == "snapshot":
            env.take_canister_snapshot(USER, cid, time=now)
    return env


def test_same_operations_same_hash() -> None:
    first = run(OPERATIONS)
    second = run(OPERATIONS, WasmEngine())  # even with a separate engine and cache
    assert first.state_hash() == second.state_hash()


def test_different_operations_different_hash() -> None:
    assert run(OPERATIONS).state_hash() != run(OPERATIONS[:-1]).state_hash()


def test_one_byte_of_stable_memory_changes_the_hash() -> None:
    env = run(OPERATIONS)
    before = env.state_hash()
    canister = env.canister(env.canister_ids()[1])
    data = bytearray(canister.stable.to_bytes())
    data[20] ^= 1
    canister.stable = StableMemory.from_bytes(bytes(data))
    assert env.state_hash() != before
    data[20] ^= 1
    canister.stable = StableMemory.from_bytes(bytes(data))
    assert env.state_hash() == before


def test_queries_do_not_change_the_hash() -> None:
    env = run(OPERATIONS)
    before = env.state_hash()
    for cid in env.canister_ids():
        env.query(cid, "get", b"", caller=USER, time=env.time)
        env.query(cid, "mutate", b"", caller=USER, time=env.time)
    assert env.state_hash() == before


def test_stable_hash_ignores_sparsity() -> None:
    sparse = StableMemory(3)
    dense = StableMemory.from_bytes(bytes(3 * 65536))
    assert sparse.digest() == dense.digest()
    dense.write(70000, b"\x01")
    assert sparse.digest() != dense.digest()


@settings(max_examples=15, deadline=None)
@given(st.lists(st.sampled_from(OPERATIONS[:12]), max_size=8))
def test_random_operation_sequences_replay_identically(operations) -> None:
    assert run(operations).state_hash() == run(operations).state_hash()
