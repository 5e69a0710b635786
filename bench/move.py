"""Move on the subnet: compile times, and a Move counter's `increment` against the Motoko
counter's update, in process, in the same run.

Compile time is the framework (0x1 and 0x2 from move/framework) and a shared counter as the
Sui documentation writes it, through the whole compiler: front end to IR, IR to Wasm. The
call rate is one `increment(&mut Counter)` on the Move VM (BCS object in, mutated BCS object
out, fuel metered) against one `inc` update of the Motoko counter on the IC execution
environment (with its commit/rollback machinery); both are what a replica does per call,
without consensus or I/O. The two are measured in alternating rounds so that load from
other processes falls on both alike. Target: the Move call is at least as fast.

    python -m bench move [--calls N] [--rounds R] [--json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path
from typing import Any

import move
import subnet.samples
from bench.execution import COUNTER as MOTOKO_COUNTER
from client.motoko import compile_motoko
from move.codegen import compile_package as generate
from move.compiler import compile_package
from move.types import ModuleId, address_of
from node.ic import ExecutionConfig, ExecutionEnvironment, InstallMode
from node.sui import MoveVM, TxContext
from vocab import candid
from vocab.principal import Principal

FRAMEWORK = Path(move.__file__).resolve().parent / "framework"

MOVE_COUNTER = subnet.samples.move_module("counter")
"""The Move counter (``subnet/samples/counter.move``), whose ``increment`` is measured."""

GAS = 1_000_000
USER = Principal.from_ed25519_public_key(bytes(range(32)))
UNIT = candid.encode([], [])


def _timed(work: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    value = work()
    return value, time.perf_counter() - start


def measure(calls: int, rounds: int) -> dict[str, Any]:
    (std, sui), framework_s = _timed(
        lambda: (
            (s := compile_package(FRAMEWORK / "move-stdlib")),
            compile_package(FRAMEWORK / "sui-framework", deps=[s]),
        )
    )
    framework_wasm, framework_codegen_s = _timed(
        lambda: [w for p in (std, sui) for w in generate(p).values()]
    )
    address = address_of(0xC0)
    counter_ir, counter_s = _timed(
        lambda: compile_package(
            sources={"counter.move": MOVE_COUNTER},
            named_addresses={"counter": address},
            deps=[std, sui],
            name="counter",
        )
    )
    counter_wasm, counter_codegen_s = _timed(lambda: list(generate(counter_ir).values()))

    vm = MoveVM()
    _, load_s = _timed(lambda: vm.add_modules([*framework_wasm, *counter_wasm]))
    module = ModuleId(address, "counter")
    ctx = TxContext(sender=bytes(31) + b"\x0a", digest=hashlib.blake2b(b"bench", digest_size=32).digest())
    created = vm.call(module, "create", [], ctx=ctx, gas_limit=GAS)
    state = created.log.objects[0].contents
    gas_used = 0

    def move_increments(n: int) -> None:
        nonlocal state, gas_used
        for _ in range(n):
            result = vm.call(module, "increment", [state], ctx=ctx, gas_limit=GAS)
            state = result.mutated[0]
            gas_used = result.gas_used

    motoko = compile_motoko(MOTOKO_COUNTER).wasm
    env = ExecutionEnvironment(ExecutionConfig())
    now = 1_000
    cid = env.create_canister(USER, time=now)
    env.install_code(USER, cid, InstallMode.install(), motoko, UNIT, time=now)

    def motoko_updates(n: int) -> None:
        nonlocal now
        for _ in range(n):
            now += 1
            env.update(cid, "inc", UNIT, caller=USER, time=now).unwrap()

    move_increments(100)  # warm both up (first calls link and compile)
    motoko_updates(100)
    move_s = motoko_s = 0.0
    for _ in range(rounds):
        move_s += _timed(lambda: move_increments(calls))[1]
        motoko_s += _timed(lambda: motoko_updates(calls))[1]
    total = calls * rounds
    value = int.from_bytes(state[-8:], "little")
    assert value == 100 + total, f"the Move counter is {value}, expected {100 + total}"
    move_rate, motoko_rate = total / move_s, total / motoko_s
    return {
        "calls": total,
        "compile_framework_s": round(framework_s, 3),
        "codegen_framework_s": round(framework_codegen_s, 3),
        "compile_counter_s": round(counter_s, 4),
        "codegen_counter_s": round(counter_codegen_s, 4),
        "framework_modules": len(framework_wasm),
        "framework_wasm_bytes": sum(len(w) for w in framework_wasm),
        "vm_load_s": round(load_s, 3),
        "move_increment_gas": gas_used,
        "move_increments_per_second": round(move_rate, 1),
        "motoko_updates_per_second": round(motoko_rate, 1),
        "move_to_motoko": round(move_rate / motoko_rate, 2),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench move", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=1000, help="calls per round and side (default 1000)")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds (default 5)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    if args.calls < 1 or args.rounds < 1:
        parser.error("--calls and --rounds must be at least 1")
    report = measure(args.calls, args.rounds)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(
        f"compile: framework {report['compile_framework_s']} s to IR + {report['codegen_framework_s']} s to Wasm "
        f"({report['framework_modules']} modules, {report['framework_wasm_bytes']} bytes); "
        f"counter {report['compile_counter_s']} s + {report['codegen_counter_s']} s; VM load {report['vm_load_s']} s"
    )
    print(
        f"in process, {report['calls']} calls each: Move increment {report['move_increments_per_second']:.0f}/s "
        f"({report['move_increment_gas']} gas), Motoko update {report['motoko_updates_per_second']:.0f}/s"
    )
    ratio = report["move_to_motoko"]
    print(f"  Move runs at {ratio:.2f}x the Motoko rate (target >= 1): {'met' if ratio >= 1 else 'NOT met'}")
    return 0
