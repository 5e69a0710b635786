"""System API calls cost what the IC charges for them: a fixed overhead per call (the IC's
``rs/embedders/src/wasmtime_embedder/system_api_complexity.rs``, ``overhead``, under its
default ``MeteringType::New``) plus one instruction per byte copied.

Each method below runs a loop of ``n`` calls of one function; the difference between
``n = 1000`` and ``n = 0``, per call, is the call's charge plus the loop's own Wasm
instructions (the same few for every method), so the known answers are the IC's table.
"""

from __future__ import annotations

import struct

import pytest
import wasmtime

from node.ic import ExecutionConfig, ExecutionEnvironment, InstallMode
from node.ic.ic0 import IC0_BY_NAME
from vocab.principal import Principal

LOOP = """
  (func (export "canister_update {name}")
    (local $n i64)
    (call $arg (i32.const 16) (i32.const 0) (i32.const 8))
    (local.set $n (i64.load (i32.const 16)))
    (block $done
      (br_if $done (i64.eqz (local.get $n)))
      (loop $again
        {body}
        (local.set $n (i64.sub (local.get $n) (i64.const 1)))
        (br_if $again (i64.ne (local.get $n) (i64.const 0)))))
    (call $reply))
"""
BODIES = {
    "nothing": "(nop)",
    "time": "(drop (call $time))",
    "performance_counter": "(drop (call $counter (i32.const 0)))",
    "debug_print": "(call $print (i32.const 0) (i32.const 10))",
    "stable64_read": "(call $sread (i64.const 0) (i64.const 0) (i64.const 10))",
    "stable64_size": "(drop (call $ssize))",
    "canister_self_size": "(drop (call $self_size))",
}
WAT = (
    """(module
  (import "ic0" "msg_arg_data_copy" (func $arg (param i32 i32 i32)))
  (import "ic0" "msg_reply" (func $reply))
  (import "ic0" "time" (func $time (result i64)))
  (import "ic0" "performance_counter" (func $counter (param i32) (result i64)))
  (import "ic0" "debug_print" (func $print (param i32 i32)))
  (import "ic0" "stable64_read" (func $sread (param i64 i64 i64)))
  (import "ic0" "stable64_grow" (func $sgrow (param i64) (result i64)))
  (import "ic0" "stable64_size" (func $ssize (result i64)))
  (import "ic0" "canister_self_size" (func $self_size (result i32)))
  (memory 1)
  (func (export "canister_init") (drop (call $sgrow (i64.const 1))))"""
    + "".join(LOOP.format(name=name, body=body) for name, body in BODIES.items())
    + ")"
)
USER = Principal.from_ed25519_public_key(bytes(range(32)))
N = 1000


@pytest.fixture(scope="module")
def per_call() -> dict[str, int]:
    """Instructions per iteration of each method's loop, measured."""
    env = ExecutionEnvironment(ExecutionConfig(instructions_per_slice=0), time=1)
    cid = env.create_canister(USER, time=2)
    env.install_code(USER, cid, InstallMode.install(), wasmtime.wat2wasm(WAT), b"", time=3)
    out = {}
    for t, name in enumerate(BODIES):
        runs = [
            env.update(cid, name, struct.pack("<Q", n), caller=USER, time=10 + 2 * t + n // N) for n in (0, N)
        ]
        for r in runs:
            r.unwrap()
        used = runs[1].instructions - runs[0].instructions
        assert used % N == 0, (name, used)
        out[name] = used // N
    return out


@pytest.mark.parametrize(
    ("name", "charge"),
    [
        ("time", 500),
        ("canister_self_size", 500),
        ("performance_counter", 200),
        ("debug_print", 100 + 10),  # and the 10 bytes printed
        ("stable64_read", 20 + 10),  # and the 10 bytes copied
        ("stable64_size", 20),
    ],
)
def test_a_call_costs_the_ics_overhead(per_call: dict[str, int], name: str, charge: int) -> None:
    # the loop's Wasm around the call: its own instructions plus the call's arguments and drop
    wasm = per_call[name] - charge
    assert per_call["nothing"] <= wasm <= per_call["nothing"] + 6, (name, per_call)
    assert IC0_BY_NAME[name].overhead + (10 if name in ("debug_print", "stable64_read") else 0) == charge


def test_the_table_holds_the_ics_exceptions() -> None:
    overheads = {f.name: f.overhead for f in IC0_BY_NAME.values()}
    assert overheads["call_new"] == 1_500 and overheads["call_perform"] == 5_000
    assert overheads["is_controller"] == 1_000
    assert overheads["stable_write"] == overheads["stable64_write"] == 20
    assert overheads["stable_grow"] == overheads["stable64_grow"] == 500
    assert overheads["msg_reply"] == overheads["msg_arg_data_copy"] == 500
