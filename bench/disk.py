"""`python -m bench disk [--minutes M] [--clients C] [--mode before|after|both]`: how a
replica's database grows under load, with and without pruning (issue 17).

Four replica processes, a Motoko counter, ``C`` clients calling ``increment`` in a closed
loop for ``M`` minutes; every 10 s each replica's ``replica.db`` plus its ``-wal`` file
is measured, with the rows of its tables. The growth per hour is the slope of the sizes
over the second half of the run, extrapolated. "before" keeps every block (``--no-prune``);
"after" prunes below the certified checkpoint (``node.pruning``). The default replay
window (six minutes of blocks kept for replay protection) would need a run longer than
that to show the bound, so ``--replay-window-s`` sets a shorter one (30 s by default)
and the report also says what the default window keeps at the measured block rate.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import trio

from bench._subnet import benchmark_subnet
from client.agent import Agent
from client.identity import Identity
from client.install import install_module
from client.motoko import compile_motoko
from client.network import endpoints
from node.pruning import REPLAY_WINDOW_NS
from subnet import samples
from vocab import candid, crypto, management
from vocab.genesis import Genesis
from vocab.principal import Principal

NO_ARGS = candid.encode([], [])
CYCLES = 100_000_000_000_000
SAMPLE_S = 10.0


def database_size(directory: Path) -> int:
    return sum(
        (directory / name).stat().st_size
        for name in ("replica.db", "replica.db-wal")
        if (directory / name).exists()
    )


def row_counts(database: Path) -> dict[str, int]:
    """Rows of the tables pruning bounds, read from a read-only connection beside the replica's."""
    try:
        with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5)) as db:
            return {
                table: int(db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
                for table in ("finalized", "certified", "checkpoints")
            }
    except sqlite3.Error:
        return {}


async def load(
    genesis: Genesis, directories: list[Path], wasm: bytes, clients: int, seconds: float
) -> dict[str, Any]:
    identity = Identity("bench", crypto.private_key_from_seed(b"\x07" * 32))
    agent = Agent(endpoints(genesis), genesis.committee, identity)
    samples_: list[dict[str, Any]] = []
    calls = 0
    try:
        created = await agent.call(
            Principal.management(),
            management.CREATE,
            management.encode_args(management.CREATE, management.CreateCanisterArgs(CYCLES)),
        )
        canister = management.decode_reply(management.CREATE, created.raise_if_rejected()).canister_id
        await install_module(agent, canister, "install", wasm, NO_ARGS)
        started = time.monotonic()

        async def client() -> None:
            nonlocal calls
            while time.monotonic() < started + seconds:
                (await agent.call(canister, "increment", NO_ARGS)).raise_if_rejected()
                calls += 1

        async def sampler() -> None:
            while True:
                elapsed = time.monotonic() - started
                samples_.append(
                    {
                        "t_s": round(elapsed, 1),
                        "bytes": [database_size(directory) for directory in directories],
                        "rows": row_counts(directories[0] / "replica.db"),
                    }
                )
                if elapsed >= seconds:
                    return
                await trio.sleep(min(SAMPLE_S, max(0.1, seconds - elapsed)))

        async with trio.open_nursery() as nursery:
            for _ in range(clients):
                nursery.start_soon(client)
            nursery.start_soon(sampler)
    finally:
        await agent.aclose()
    return {"calls": calls, "samples": samples_}


def growth_per_hour(samples_: list[dict[str, Any]]) -> float:
    """MB per hour, from the least-squares slope of the largest replica's size over the
    second half of the run."""
    half = [s for s in samples_ if s["t_s"] >= samples_[-1]["t_s"] / 2]
    xs = [s["t_s"] for s in half]
    ys = [max(s["bytes"]) / 1e6 for s in half]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    return 0.0 if not spread else sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys)) / spread * 3600


def run(
    mode: str, minutes: float, clients: int, replay_window_s: float, block_time_ms: int
) -> dict[str, Any]:
    os.environ.pop("SUBNET_NO_PRUNE", None)
    if mode == "before":
        os.environ["SUBNET_NO_PRUNE"] = "1"
    os.environ["SUBNET_REPLAY_WINDOW_MS"] = str(int(replay_window_s * 1000))
    wasm = compile_motoko(samples.source("counter_v1")).wasm
    with benchmark_subnet(f"bench-disk-{mode}-", 4, block_time_ms) as (genesis, pids):
        directories = [data_dir(pid) for pid in pids]
        measured = trio.run(load, genesis, directories, wasm, clients, minutes * 60)
    samples_ = measured["samples"]
    last = samples_[-1]
    return {
        "mode": mode,
        "minutes": minutes,
        "clients": clients,
        "block_time_ms": block_time_ms,
        "replay_window_s": replay_window_s,
        "update_calls": measured["calls"],
        "final_bytes": last["bytes"],
        "final_rows_replica_0": last["rows"],
        "growth_mb_per_hour": round(growth_per_hour(samples_), 1),
        "samples": samples_,
    }


def data_dir(pid: int) -> Path:
    """A replica process's ``--data-dir``, from its command line."""
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    return Path(argv[argv.index(b"--data-dir") + 1].decode())


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench disk", description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--mode", choices=("before", "after", "both"), default="both")
    parser.add_argument("--replay-window-s", type=float, default=30.0)
    parser.add_argument("--block-time", type=int, default=100, metavar="MS")
    parser.add_argument("--output", choices=("text", "json"), default="text")
    args = parser.parse_args(argv)
    reports = [
        run(mode, args.minutes, args.clients, args.replay_window_s, args.block_time)
        for mode in (("before", "after") if args.mode == "both" else (args.mode,))
    ]
    if args.output == "json":
        print(json.dumps(reports, indent=2))
        return 0
    for report in reports:
        blocks_per_s = 1000 / report["block_time_ms"]
        print(
            f"{report['mode']:>6}: {report['minutes']} min, {report['update_calls']} updates; database "
            f"{max(report['final_bytes']) / 1e6:.1f} MB at the end (rows of replica 0: "
            f"{report['final_rows_replica_0']}), growth {report['growth_mb_per_hour']} MB/hour"
        )
        if report["mode"] == "after":
            print(
                f"        the default replay window ({REPLAY_WINDOW_NS // 10**9} s) keeps about "
                f"{int(REPLAY_WINDOW_NS / 1e9 * blocks_per_s)} blocks at one block per "
                f"{report['block_time_ms']} ms"
            )
    return 0
