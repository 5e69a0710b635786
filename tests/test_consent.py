"""Confirmations as dfx asks them: "yes" or "y" typed or piped on standard input goes on;
anything else, and the end of input, declines."""

from __future__ import annotations

import io

import pytest

from client.deploy import ask_for_consent
from subnet.commands.canister.actions import stdin_ask


@pytest.mark.parametrize(
    ("piped", "consent"),
    [
        ("yes\n", True),
        ("y\n", True),
        ("YES\n", True),
        ("Yes", True),
        ("no\n", False),
        ("yes  \r\n", True),  # dfx trims the end of the line only
        (" yes\n", False),
        ("\n", False),
        ("", False),
    ],
)
def test_the_answer_is_read_from_stdin(
    piped: str, consent: bool, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(piped))
    assert ask_for_consent("You are about to reinstall the app canister\n", stdin_ask()) is consent
    out, err = capsys.readouterr()
    assert out == ""  # the question goes to stderr, as dfx's does: stdout stays the result
    assert err == "WARNING!\nYou are about to reinstall the app canister\n\nDo you want to proceed? yes/No\n"


def test_no_one_to_ask_declines() -> None:
    assert ask_for_consent("anything", None) is False
