"""`canister call`'s argument as dfx takes it: positional Candid text, ``--argument-file``
(``-`` for standard input) and ``--type raw`` (the message's bytes in hex). The raw
argument is dfx's e2e one (call.bash: ``didc encode '("raw")'``)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from subnet.cli import build_parser
from subnet.commands.canister.actions import call_argument
from vocab import candid
from vocab.errors import SubnetError


def parsed(*argv: str) -> object:
    return build_parser().parse_args(["canister", "call", "hello_backend", "greet", *argv])


def test_text_raw_file_and_stdin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert call_argument(parsed('("you")')) == '("you")'
    assert call_argument(parsed()) == "()"
    raw = call_argument(parsed("4449444c00017103726177", "--type", "raw"))
    assert raw == candid.encode_text('("raw")')
    (tmp_path / "arg").write_text('("Names can be very long")')
    assert call_argument(parsed("--argument-file", str(tmp_path / "arg"))) == '("Names can be very long")'
    monkeypatch.setattr("sys.stdin", io.StringIO('("stdin")'))
    assert call_argument(parsed("--argument-file", "-")) == '("stdin")'


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["zz", "--type", "raw"], "--type raw takes the message in hex"),
        (['("x")', "--argument-file", "-"], "not both"),
        (["--argument-file", "/nonexistent/arg"], "cannot read the argument from /nonexistent/arg"),
    ],
)
def test_bad_arguments_are_named(argv: list[str], message: str) -> None:
    with pytest.raises(SubnetError, match=message):
        call_argument(parsed(*argv))
