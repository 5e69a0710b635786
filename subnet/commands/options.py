"""Options that several commands share, declared once so they read the same everywhere."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TypeVar

N = TypeVar("N", int, float)


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


def bounded(
    convert: Callable[[str], N],
    what: str,
    low: N,
    high: N | None = None,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> Callable[[str], N]:
    """An argparse ``type`` for a number in a range, whose errors name the option's meaning
    (``what``) and the range, so every numeric option refuses bad input in the same words."""
    left, right = ("(" if low_open else "["), (")" if high_open else "]")
    if high is None:
        span = f"more than {low}" if low_open else f"at least {low}"
    else:
        span = f"in {left}{low}, {high}{right}"

    def parse(text: str) -> N:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what} is a number, not {text!r}") from None
        too_low = value <= low if low_open else value < low
        too_high = high is not None and (value >= high if high_open else value > high)
        if too_low or too_high:
            raise argparse.ArgumentTypeError(f"{what} must be {span}, not {text}")
        return value

    return parse
