"""`python -m node --data-dir DIR --genesis FILE`: one replica process.

The launcher (`subnet start`) runs one of these per replica. SIGTERM and SIGINT stop it
cleanly: the nursery is cancelled, the store closed, and the process exits 0. With
``SUBNET_REPLICA_PROFILE=DIR`` in its environment it runs under cProfile and writes
``DIR/replica-<index>.prof`` when it stops.
"""

from __future__ import annotations

import argparse
import cProfile
import logging
import os
import signal
import sys
import time
from pathlib import Path

import trio

from node.pruning import DEFAULT_MARGIN, REPLAY_WINDOW_NS, PruningPolicy
from node.runtime import ReplicaRuntime
from vocab import crypto
from vocab.errors import SubnetError
from vocab.genesis import Genesis, GenesisError
from vocab.principal import Principal

PROFILE_ENV = "SUBNET_REPLICA_PROFILE"
"""A directory: run the replica under cProfile and write ``replica-<index>.prof`` there on exit."""
OPTIONS_ENV = {
    "checkpoint_interval": "SUBNET_CHECKPOINT_INTERVAL",
    "prune_margin": "SUBNET_PRUNE_MARGIN",
    "replay_window_ms": "SUBNET_REPLAY_WINDOW_MS",
    "no_prune": "SUBNET_NO_PRUNE",
}
"""Environment variables giving the defaults of the options of the same names, so that
whoever starts a subnet (the disk benchmark, a test) sets them for every replica."""


def _env_int(name: str) -> int | None:
    value = os.environ.get(OPTIONS_ENV[name], "")
    return int(value) if value.strip() else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m node", description="run one replica")
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--genesis", type=Path, required=True)
    parser.add_argument(
        "--checkpoint-interval",
        type=int,
        default=_env_int("checkpoint_interval"),
        metavar="HEIGHTS",
        help="heights between checkpoints of the execution state (default: the replica's, 100; 0: none)",
    )
    parser.add_argument(
        "--listen",
        default=None,
        metavar="HOST:PORT",
        help="listen here instead of at the genesis address (a twin of the replica, for fault injection)",
    )
    parser.add_argument(
        "--prune-margin",
        type=int,
        default=_env_int("prune_margin"),
        metavar="HEIGHTS",
        help=f"heights kept below the newest certified checkpoint (default {DEFAULT_MARGIN})",
    )
    parser.add_argument(
        "--replay-window-ms",
        type=int,
        default=_env_int("replay_window_ms"),
        metavar="MS",
        help="blocks kept this long before the certified checkpoint's, for replay protection "
        f"(default {REPLAY_WINDOW_NS // 1_000_000}, the ingress expiry; shorter only for tests)",
    )
    parser.add_argument(
        "--no-prune",
        action="store_true",
        default=bool(os.environ.get(OPTIONS_ENV["no_prune"])),
        help="keep every block (the database grows with the chain)",
    )
    args = parser.parse_args(argv)
    if args.checkpoint_interval is not None and args.checkpoint_interval < 0:
        parser.error("--checkpoint-interval must not be negative")
    try:
        pruning = PruningPolicy(
            enabled=not args.no_prune,
            margin=DEFAULT_MARGIN if args.prune_margin is None else args.prune_margin,
            replay_window_ns=REPLAY_WINDOW_NS
            if args.replay_window_ms is None
            else args.replay_window_ms * 1_000_000,
        )
    except ValueError as exc:
        parser.error(str(exc))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        genesis = Genesis.from_json(args.genesis.read_text())
        key_path = args.data_dir / "node_key.pem"
        key = crypto.parse_private_key_pem(key_path.read_bytes(), str(key_path))
    except (OSError, GenesisError, SubnetError) as exc:
        print(f"replica cannot start: {exc}", file=sys.stderr)
        return 2
    node_id = Principal.from_ed25519_public_key(crypto.raw_public_key(key))
    index = genesis.committee.index_of(node_id)
    if index is None:
        print(f"replica cannot start: node key {node_id} is not in {args.genesis}", file=sys.stderr)
        return 2
    profile_dir = os.environ.get(PROFILE_ENV)
    try:
        if profile_dir:
            # cProfile of the whole replica, written when it stops (SIGTERM): what
            # bench/PROFILE.md was measured with.
            profiler = cProfile.Profile(time.process_time)
            try:
                profiler.runcall(
                    trio.run,
                    _serve,
                    genesis,
                    index,
                    key,
                    args.data_dir,
                    args.checkpoint_interval,
                    args.listen,
                    pruning,
                )
            finally:
                profiler.dump_stats(Path(profile_dir) / f"replica-{index}.prof")
        else:
            trio.run(
                _serve, genesis, index, key, args.data_dir, args.checkpoint_interval, args.listen, pruning
            )
    except SubnetError as exc:
        # A store that cannot be used even fresh (the disk refuses writes), a schema from
        # another version: said in one line, as the launcher shows the log's tail.
        print(f"replica stopped: {exc}", file=sys.stderr)
        return 2
    return 0


async def _serve(
    genesis: Genesis,
    index: int,
    key: object,
    data_dir: Path,
    checkpoint_interval: int | None = None,
    listen: str | None = None,
    pruning: PruningPolicy | None = None,
) -> None:
    runtime = ReplicaRuntime(
        genesis,
        index,
        key,  # type: ignore[arg-type]
        data_dir,
        checkpoint_interval=checkpoint_interval,
        listen=listen,
        pruning=pruning,
    )
    with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        async with trio.open_nursery() as nursery:
            await nursery.start(runtime.run)
            logging.getLogger("subnet.node").info(
                "replica %d up at %s", index, listen or genesis.nodes[index].address
            )
            async for _ in signals:
                nursery.cancel_scope.cancel()
                break
    logging.getLogger("subnet.node").info(
        "replica %d stopping (frames so far: %s)", index, runtime.link_counts()
    )
    runtime.store.close()


if __name__ == "__main__":
    sys.exit(main())
