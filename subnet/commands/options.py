"""Options that several commands share, declared once so they read the same everywhere."""

from __future__ import annotations

import argparse


def add_identity_option(parser: argparse.ArgumentParser, *, top_level: bool = False) -> None:
    """`--identity NAME`, accepted before the command (like dfx) or after it.

    Below the top level the default is suppressed, so that a value given before the
    command is not overwritten by the subcommand's absent option.
    """
    parser.add_argument(
        "--identity",
        metavar="NAME",
        default=None if top_level else argparse.SUPPRESS,
        help="run as this identity instead of the current one",
    )


def add_output_option(parser: argparse.ArgumentParser, choices: tuple[str, ...] = ("text", "json")) -> None:
    parser.add_argument("--output", choices=choices, default=choices[0], help="output format")
