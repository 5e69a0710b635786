"""Execution throughput: update and query calls per second on a Motoko counter.

Beside the execution environment's rates, the same run measures the raw wasmtime call rate
for the same Motoko module with the same ``ic0`` host functions but without any rollback
machinery (no instrumentation, no commit or rollback, no environment bookkeeping), so that
the cost of per-message atomicity shows as a ratio measured on this machine, now.

Targets: rollback safety costs at most 25% of update throughput; queries are at least as
fast as updates. There is no raw rate for queries: Motoko's runtime relies on the rollback of
query state (it leaves its message state machine "in query" and traps on the next query),
so the same module cannot run queries back to back without that machinery.

    python -m bench execution [--calls N] [--json]
"""

from __future__ import annotations

import argparse
import ctypes
import json
import time
from fractions import Fraction
from typing import Any

import wasmtime

from client.motoko import compile_motoko
from node.ic import ExecutionConfig, ExecutionEnvironment, InstallMode
from node.ic.ic0 import Context
from node.ic.stable_memory import StableMemory
from node.ic.system_api import SYSTEM_API, ApiContext
from node.wasm.engine import WasmEngine, call_unit
from vocab.principal import Principal

COUNTER = """
persistent actor Counter {
  var count : Nat = 0;
  public func inc() : async Nat { count += 1; count };
  public query func get() : async Nat { count };
}
"""
UNIT = b"DIDL\x00\x00"
USER = Principal.from_ed25519_public_key(bytes(range(32)))


class _RawInstance:
    """What the System API needs from an instance, over an uninstrumented module."""

    def __init__(self, memory: wasmtime.Memory | None) -> None:
        self.memory = memory

    @staticmethod
    def store_fuel(caller: Any) -> int:
        return wasmtime.Store.get_fuel(caller)

    @staticmethod
    def consume_fuel(caller: Any, amount: int) -> None:
        wasmtime.Store.set_fuel(caller, max(0, wasmtime.Store.get_fuel(caller) - amount))

    def read_heap(self, caller: Any, ptr: int, size: int) -> bytes | None:
        assert self.memory is not None
        if ptr + size > self.memory.data_len(caller):
            return None
        base = ctypes.cast(self.memory.data_ptr(caller), ctypes.c_void_p).value
        assert base is not None
        return ctypes.string_at(base + ptr, size) if size else b""

    def write_heap(self, caller: Any, ptr: int, data: bytes) -> bool:
        assert self.memory is not None
        if ptr + len(data) > self.memory.data_len(caller):
            return False
        base = ctypes.cast(self.memory.data_ptr(caller), ctypes.c_void_p).value
        assert base is not None
        ctypes.memmove(base + ptr, data, len(data))
        return True


class RawCanister:
    """The Motoko module on plain wasmtime: same host functions, no rollback machinery."""

    def __init__(self, engine: WasmEngine, wasm: bytes) -> None:
        self.engine = engine
        self.canister_id = b"\x00" * 8 + b"\x01\x01"
        self.stable = StableMemory()
        module = wasmtime.Module(engine.wasm_engine, wasm)
        memory64 = any(isinstance(e.type, wasmtime.MemoryType) and e.type.is_64 for e in module.exports)
        self.store = wasmtime.Store(engine.wasm_engine)
        self.store.set_fuel(1 << 40)
        self.raw = _RawInstance(None)
        SYSTEM_API.current = self._context(Context.START)
        try:
            instance = engine.linker(SYSTEM_API.imports(memory64)).instantiate(self.store, module)
        finally:
            SYSTEM_API.current = None
        exports = instance.exports(self.store)
        for name in exports:
            item = exports[name]
            if isinstance(item, wasmtime.Memory):
                self.raw.memory = item
                break
        self.funcs: dict[str, wasmtime.Func] = {}
        for name in exports:
            item = exports[name]
            if isinstance(item, wasmtime.Func):
                self.funcs[name] = item
        self.call("canister_init", Context.INIT, UNIT)

    def _context(self, kind: Context, arg: bytes = b"") -> ApiContext:
        ctx = ApiContext(
            kind,
            canister_id=self.canister_id,
            caller=USER.raw,
            arg=arg,
            time=1,
            controllers=(USER.raw,),
            status=1,
            canister_version=1,
            balance=10**15,
            stable=self.stable,
            max_stable_pages=1 << 20,
            global_timer=0,
        )
        ctx.instance = self.raw  # type: ignore[assignment]
        ctx.fuel_limit = 1 << 40
        return ctx

    def call(self, export: str, kind: Context, arg: bytes) -> bytes | None:
        ctx = self._context(kind, arg)
        self.store.set_fuel(1 << 40)
        SYSTEM_API.current = ctx
        try:
            call_unit(self.funcs[export], self.store)  # the same call path execution uses
        finally:
            SYSTEM_API.current = None
        return ctx.reply


def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def measure(calls: int) -> dict[str, Any]:
    canister = compile_motoko(COUNTER)
    engine = WasmEngine()

    env = ExecutionEnvironment(ExecutionConfig(instruction_scale=Fraction(1, 100)), engine)
    now = 1_000
    cid = env.create_canister(USER, time=now)
    now += 1
    env.install_code(USER, cid, InstallMode.install(), canister.wasm, UNIT, time=now)

    raw = RawCanister(engine, canister.wasm)

    def env_updates(n: int) -> None:
        nonlocal now
        for _ in range(n):
            now += 1
            env.update(cid, "inc", UNIT, caller=USER, time=now)

    def env_queries(n: int) -> None:
        for _ in range(n):
            env.query(cid, "get", UNIT, caller=USER, time=now)

    def raw_updates(n: int) -> None:
        for _ in range(n):
            raw.call("canister_update inc", Context.UPDATE, UNIT)

    results: dict[str, float] = {}
    # warm up, then interleave the measurements in rounds to share any machine noise
    for fn in (env_updates, env_queries, raw_updates):
        fn(min(200, calls))
    timings = {name: 0.0 for name in ("env_update", "env_query", "raw_update")}
    rounds = 5
    per_round = max(1, calls // rounds)
    for _ in range(rounds):
        for name, fn in (
            ("env_update", env_updates),
            ("raw_update", raw_updates),
            ("env_query", env_queries),
        ):
            start = time.perf_counter()
            fn(per_round)
            timings[name] += time.perf_counter() - start
    total = per_round * rounds
    for name, seconds in timings.items():
        results[name] = _rate(total, seconds)

    check = env.query(cid, "get", UNIT, caller=USER, time=now).unwrap()
    update_ratio = results["env_update"] / results["raw_update"]
    return {
        "calls": total,
        "updates_per_second": round(results["env_update"], 1),
        "queries_per_second": round(results["env_query"], 1),
        "raw_updates_per_second": round(results["raw_update"], 1),
        "update_ratio_to_raw": round(update_ratio, 3),
        "rollback_cost_of_update_throughput": round(1 - update_ratio, 3),
        "query_to_update_speed": round(results["env_query"] / results["env_update"], 3),
        "target_rollback_cost_at_most": 0.25,
        "final_counter_reply": check.hex(),
        "heap_bytes": env.canister(cid).instance.heap_size,  # type: ignore[union-attr]
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench execution",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--calls", type=int, default=5000, help="calls per measurement (default 5000)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    report = measure(args.calls)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"Motoko counter, {report['calls']} calls each, heap {report['heap_bytes']} bytes")
    print(
        f"  updates/s   environment {report['updates_per_second']:>10.1f}   "
        f"raw wasmtime {report['raw_updates_per_second']:>10.1f}   ratio {report['update_ratio_to_raw']:.3f}"
    )
    print(
        f"  queries/s   environment {report['queries_per_second']:>10.1f}   "
        "(no raw rate: Motoko needs query rollback)"
    )
    cost = report["rollback_cost_of_update_throughput"]
    print(
        f"  rollback safety costs {cost:.1%} of update throughput (target <= 25%): "
        f"{'met' if cost <= 0.25 else 'NOT met'}"
    )
    speed = report["query_to_update_speed"]
    print(
        f"  queries run at {speed:.2f}x the update rate (target >= 1): {'met' if speed >= 1 else 'NOT met'}"
    )
    return 0
