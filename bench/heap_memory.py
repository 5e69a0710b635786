"""A canister's heap in a replica's memory: resident memory and write-heavy messages.

One canister with a large heap (256 MiB by default) in one replica's execution state, in a
fresh child process so that its resident set (RSS, ``/proc/self/status``) is the heap's and
the interpreter's alone:

- RSS after install (the heap declared, untouched), after a message that writes every
  byte of it (``fill``: an ``i64.store`` per 8 bytes), after a second such message;
- the time of those messages, of one that writes one word in each 4 KiB page (``touch``:
  the per-page cost of atomicity at its largest) and of one that does so and traps
  (``touch_trap``: the rollback of every page);
- a checkpoint of the state and its restore into a fresh state machine: the time, and the
  peak RSS the restore adds (``/proc/self/clear_refs`` resets the peak first).

``--before PATH`` runs the same child against another checkout (for instance the main
branch, before a change) in the same run and prints the ratios after / before. The child
is this file run as a script with ``PYTHONPATH`` set to the checkout, so it uses only what
both have (``node.ic``, ``node.execution``, ``node.checkpoint``).

    python -m bench heap_memory [--mib 256] [--before PATH] [--json]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _wat(mib: int) -> str:
    size = mib << 20
    pages = size // 65536

    def loop(name: str, step: int, store: str, end: str = "") -> str:
        return f"""
  (func (export "canister_update {name}") (local $i i32)
    (loop $again
      {store}
      (local.set $i (i32.add (local.get $i) (i32.const {step})))
      (br_if $again (i32.lt_u (local.get $i) (i32.const {size}))))
    {end})"""

    word = "(i64.store (local.get $i) (i64.extend_i32_u (local.get $i)))"
    return f"""
(module
  (import "ic0" "msg_reply" (func $reply))
  (memory {pages})
  {loop("fill", 8, word, "(call $reply)")}
  {loop("touch", 4096, "(i32.store (local.get $i) (i32.add (local.get $i) (i32.const 1)))", "(call $reply)")}
  {loop("touch_trap", 4096, "(i32.store (local.get $i) (i32.const 7))", "unreachable")}
)"""


def _status(field: str) -> int:
    """A ``/proc/self/status`` field in bytes (0 where there is none)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _rss() -> int:
    gc.collect()
    return _status("VmRSS")


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def child(mib: int) -> dict[str, Any]:
    """The measurements, in this process (run from ``main`` in a fresh child)."""
    import wasmtime

    from node.checkpoint import encode_checkpoint, restore_checkpoint
    from node.execution import SubnetStateMachine
    from node.ic import InstallMode
    from node.ic.state_machine import WasmStateMachine
    from vocab.principal import Principal

    user = Principal.from_ed25519_public_key(bytes(range(32)))
    machine = SubnetStateMachine(WasmStateMachine(0, 100))
    env = machine.ic.env
    now = 10
    cid = env.create_canister(user, time=now)
    wasm = bytes(wasmtime.wat2wasm(_wat(mib)))
    out: dict[str, Any] = {"mib": mib}
    base = _rss()
    now += 1
    env.install_code(user, cid, InstallMode.install(), wasm, b"", time=now)
    out["rss_installed_mib"] = (_rss() - base) / 2**20

    def message(method: str) -> float:
        nonlocal now
        now += 1
        started = time.perf_counter()
        result = env.update(cid, method, b"", caller=user, time=now)
        seconds = time.perf_counter() - started
        out[f"{method}_instructions"] = result.instructions
        return seconds

    out["fill_s"] = message("fill")
    out["rss_after_fill_mib"] = (_rss() - base) / 2**20
    out["fill_again_s"] = message("fill")
    out["rss_after_second_fill_mib"] = (_rss() - base) / 2**20
    out["touch_s"] = min(message("touch") for _ in range(3))
    out["touch_trap_s"] = min(message("touch_trap") for _ in range(3))
    out["rss_after_touches_mib"] = (_rss() - base) / 2**20
    heap = env.canister(cid).instance
    assert heap is not None and heap.heap_size == mib << 20

    started = time.perf_counter()
    blob = encode_checkpoint(
        machine, height=1, block_hash=b"\x0b" * 32, state_hash=machine.state_hash(), results_root=b"\x0c" * 32
    )
    out["checkpoint_encode_s"] = time.perf_counter() - started
    out["checkpoint_mib"] = len(blob) / 2**20
    fresh = SubnetStateMachine(WasmStateMachine(0, 100))
    before_restore = _rss()
    peak_known = _reset_peak()
    started = time.perf_counter()
    restore_checkpoint(fresh, blob)
    out["checkpoint_restore_s"] = time.perf_counter() - started
    if peak_known:
        out["restore_peak_above_mib"] = (_status("VmHWM") - before_restore) / 2**20
    out["restore_kept_mib"] = (_rss() - before_restore) / 2**20
    return out


def run_child(tree: Path, mib: int) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=str(tree))
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", "--mib", str(mib)],
        env=env,
        cwd=tree,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the measurement in {tree} failed:\n{done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["tree"] = str(tree)
    return result


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench heap_memory", description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=256, help="the canister's heap in MiB (default 256)")
    parser.add_argument("--before", type=Path, help="another checkout to measure in the same run")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not 1 <= args.mib <= 2047:
        parser.error("--mib must be between 1 and 2047")
    if args.child:
        print(json.dumps(child(args.mib)))
        return 0
    if args.before is not None and not (args.before / "node" / "wasm" / "instance.py").exists():
        parser.error(f"--before {args.before}: not a checkout of this project")
    runs = []
    if args.before is not None:
        runs.append(("before", run_child(args.before.resolve(), args.mib)))
    runs.append(("after" if args.before is not None else "this", run_child(ROOT, args.mib)))
    report: dict[str, Any] = dict(runs)
    if args.before is not None:
        before, after = report["before"], report["after"]
        report["ratios"] = {
            key: round(after[key] / before[key], 3)
            for key in after
            if key in before and isinstance(after[key], float) and before[key]
        }
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    keys = [key for key in runs[-1][1] if key not in ("tree", "mib")]
    print(f"one canister, {args.mib} MiB heap, one child process per checkout")
    print(
        f"{'':30}" + "".join(f"{label:>12}" for label, _ in runs) + ("       ratio" if len(runs) > 1 else "")
    )
    for key in keys:
        cells = "".join(
            f"{result.get(key, 0):>12.3f}"
            if isinstance(result.get(key), float)
            else f"{result.get(key, '-'):>12}"
            for _, result in runs
        )
        ratio = report.get("ratios", {}).get(key)
        print(f"{key:30}{cells}" + (f"{ratio:>12.3f}" if ratio is not None else ""))
    return 0


if __name__ == "__main__":
    # run as a script (the child): bench/ itself must not shadow the project's packages
    # (bench/move.py and the ``move`` compiler), and the checkout measured comes first
    here = Path(__file__).resolve().parent
    sys.path[:] = [os.environ.get("PYTHONPATH", str(ROOT))] + [
        entry for entry in sys.path if Path(entry or ".").resolve() != here
    ]
    sys.exit(main(sys.argv[1:]))
