"""The `subnet` command.

Each command group lives in its own module (or package) under ``subnet.commands`` and
exposes ``register(subparsers)``; this module only lists them, parses, and turns the
project's typed errors into a message and a non-zero exit, so that no command prints a
traceback for a user's mistake. The commands parse and print; the work they do lives in
the libraries below them (``client``, ``subnet.processes``, ``subnet.sim``).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from subnet.commands.options import add_identity_option
from vocab.errors import RejectError, SubnetError

COMMAND_GROUPS = (
    "subnet.commands.build",
    "subnet.commands.candid",
    "subnet.commands.canister.arguments",
    "subnet.commands.check",
    "subnet.commands.sui_client",
    "subnet.commands.deploy",
    "subnet.commands.identity",
    "subnet.commands.local",
    "subnet.commands.new",
    "subnet.commands.scenario",
    "subnet.commands.sim",
    "subnet.commands.sui_move",
)
"""The modules registering the commands, in the order the help lists them (alphabetical)."""

GROUP_OF_COMMAND = {
    "build": "subnet.commands.build",
    "candid": "subnet.commands.candid",
    "canister": "subnet.commands.canister.arguments",
    "check": "subnet.commands.check",
    "client": "subnet.commands.sui_client",
    "deploy": "subnet.commands.deploy",
    "identity": "subnet.commands.identity",
    "start": "subnet.commands.local",
    "stop": "subnet.commands.local",
    "status": "subnet.commands.local",
    "new": "subnet.commands.new",
    "scenario": "subnet.commands.scenario",
    "sim": "subnet.commands.sim",
    "move": "subnet.commands.sui_move",
}
"""Which module registers each top-level command (``tests/test_cli_groups.py`` checks it
against what the modules register): a command line naming its command first imports only
that module, not the simulator and every client library (a few tenths of a second of CPU
for each of the many short commands a user, or the test suite, runs)."""


def build_parser(groups: Sequence[str] = COMMAND_GROUPS) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="subnet",
        description="A simulated multi-replica subnet for IC canisters and Sui packages.",
    )
    add_identity_option(parser, top_level=True)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for group in groups:
        importlib.import_module(group).register(subparsers)
    return parser


def groups_for(argv: Sequence[str]) -> tuple[str, ...]:
    """The modules to register for ``argv``: only the command's own when the command comes
    first (a first word not starting with ``-`` is the command for argparse too), every
    module otherwise (``--help``, top-level options, an unknown command: the full parser
    says what is wrong)."""
    if argv and argv[0] in GROUP_OF_COMMAND:
        return (GROUP_OF_COMMAND[argv[0]],)
    return COMMAND_GROUPS


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(groups_for(argv))
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
