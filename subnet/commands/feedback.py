"""What a command shows while it waits: a spinner naming the step, and tables.

dfx shows a spinner while it builds and installs; `subnet deploy` was silent for seconds.
The spinner is drawn only on a terminal (rich's live display is transient and writes
nothing when standard error is a pipe), so scripts and tests read the same output as
before. A question to the user suspends the spinner, as dfx suspends its spinners around
a consent prompt, so the prompt is never overdrawn.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from rich.console import Console
from rich.status import Status
from rich.table import Table

__all__ = ["Feedback", "print_table"]


class Feedback:
    """One spinner on standard error for a command's steps."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console if console is not None else Console(stderr=True)
        self._status: Status | None = None

    @contextmanager
    def step(self, text: str) -> Iterator[None]:
        """Show ``text`` with a spinner while the block runs."""
        status = self.console.status(text)
        self._status = status
        status.start()
        try:
            yield
        finally:
            status.stop()
            self._status = None

    def pausing(self, ask: Callable[[str], str]) -> Callable[[str], str]:
        """``ask`` with the spinner stopped while the user reads and answers."""

        def paused(prompt: str) -> str:
            status = self._status
            if status is not None:
                status.stop()
            try:
                return ask(prompt)
            finally:
                if status is not None:
                    status.start()

        return paused


def print_table(
    columns: Sequence[str], rows: Sequence[Sequence[str]], console: Console | None = None
) -> None:
    """A table on standard output; right-aligned columns are those whose cells are all numbers."""
    out = console if console is not None else Console(soft_wrap=True)
    table = Table(box=None, pad_edge=False, header_style="bold")
    for index, name in enumerate(columns):
        numeric = bool(rows) and all(row[index].isdigit() or row[index] == "-" for row in rows)
        table.add_column(name, justify="right" if numeric else "left", no_wrap=True)
    for row in rows:
        table.add_row(*row)
    out.print(table)
