"""The spinner and tables commands show: drawn on a terminal, silent in a pipe, suspended
while the user answers a question."""

from __future__ import annotations

import io

from rich.console import Console

from subnet.commands.feedback import Feedback, print_table


def test_a_pipe_sees_nothing_of_the_spinner() -> None:
    sink = io.StringIO()
    feedback = Feedback(Console(file=sink, force_terminal=False))
    with feedback.step("Building canister hello..."):
        pass
    assert sink.getvalue() == ""


def test_a_terminal_sees_the_step_and_the_spinner_stops_for_a_question() -> None:
    sink = io.StringIO()
    feedback = Feedback(Console(file=sink, force_terminal=True, width=80))
    seen: list[bool] = []

    def ask(prompt: str) -> str:
        assert feedback._status is not None
        seen.append(feedback._status._live.is_started)
        return "yes"

    with feedback.step("Installing code for canister hello"):
        assert feedback.pausing(ask)("Do you want to proceed? yes/No\n") == "yes"
        assert feedback._status is not None and feedback._status._live.is_started
    assert seen == [False]
    assert "Installing code for canister hello" in sink.getvalue()
    assert feedback._status is None


def test_tables_align_numbers_right() -> None:
    sink = io.StringIO()
    print_table(
        ["replica", "address", "height"],
        [["0", "127.0.0.1:4943", "7"], ["1", "127.0.0.1:4944", "12"]],
        Console(file=sink, width=120),
    )
    lines = sink.getvalue().splitlines()
    assert lines[0].split() == ["replica", "address", "height"]
    assert lines[1].split() == ["0", "127.0.0.1:4943", "7"]
    assert lines[1].endswith(" 7") and lines[2].endswith("12")
