"""The `subnet` command.

Each command group lives in its own module (or package) under ``subnet.commands`` and
exposes ``register(subparsers)``; this module only lists them, parses, and turns the
project's typed errors into a message and a non-zero exit, so that no command prints a
traceback for a user's mistake. The commands parse and print; the work they do lives in
the libraries below them (``client``, ``subnet.processes``, ``subnet.sim``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from subnet.commands import (
    build,
    candid,
    check,
    deploy,
    identity,
    local,
    new,
    scenario,
    sim,
    sui_client,
    sui_move,
)
from subnet.commands.canister import arguments as canister
from subnet.commands.options import add_identity_option
from vocab.errors import RejectError, SubnetError

COMMAND_GROUPS = (
    build,
    candid,
    canister,
    check,
    sui_client,
    deploy,
    identity,
    local,
    new,
    scenario,
    sim,
    sui_move,
)
"""In the order the help lists them (alphabetical, as before)."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="subnet",
        description="A simulated multi-replica subnet for IC canisters and Sui packages.",
    )
    add_identity_option(parser, top_level=True)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for group in COMMAND_GROUPS:
        group.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result = args.handler(args)
    except RejectError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    except SubnetError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
