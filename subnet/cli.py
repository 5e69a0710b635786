"""The `subnet` command.

Each command group lives in its own module under ``subnet.commands`` and exposes
``register(subparsers)``; this module only finds them, parses, and turns the project's
typed errors into a message and a non-zero exit, so that no command prints a traceback
for a user's mistake.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence

import subnet.commands
from subnet.cli_options import add_identity_option
from vocab.errors import RejectError, SubnetError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="subnet",
        description="A simulated multi-replica subnet for IC canisters and Sui packages.",
    )
    add_identity_option(parser, top_level=True)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    names = sorted(info.name for info in pkgutil.iter_modules(subnet.commands.__path__))
    for name in names:
        module = importlib.import_module(f"subnet.commands.{name}")
        module.register(subparsers)
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
