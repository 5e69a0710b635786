"""dfx's bats assertion helpers (dfinity/sdk ``e2e/utils/assertions.bash``), with their
meaning kept, for dfx's end-to-end tests translated to `subnet` command for command.

``assert_command`` and ``assert_command_fail`` check the exit status and return what bats
sets: ``stdout``, ``stderr`` (each read back with ``$(< file)``, trailing newlines
dropped) and ``output`` (stderr, then stdout). ``assert_match REGEX TEXT`` is bash's
``[[ TEXT =~ REGEX ]]``, an extended-regex search (the patterns of the translated tests
mean the same in Python's ``re``); bats' one-argument form searches ``$stdout``, so the
translation passes ``ran.stdout`` there. ``assert_eq EXPECTED TEXT`` compares exactly. A
plain command in a bats test fails the test when it fails, so it is an
``assert_command`` in a translation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from tests.processes import subnet_cli


@dataclass(frozen=True)
class Ran:
    """What bats' ``assert_command`` leaves behind: ``$status``, ``$stdout``, ``$stderr``
    (each read back with ``$(< file)``, trailing newlines dropped) and ``$output``."""

    status: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return "\n".join(part for part in (self.stderr, self.stdout) if part)


def _run(cwd: Path, argv: tuple[str, ...], stdin: str) -> Ran:
    result = subnet_cli(cwd, *argv, check=False, stdin=stdin)
    return Ran(result.returncode, result.stdout.rstrip("\n"), result.stderr.rstrip("\n"))


def assert_command(cwd: Path, *argv: str, stdin: str = "") -> Ran:
    ran = _run(cwd, argv, stdin)
    assert ran.status == 0, f"Command failed: subnet {' '.join(argv)}\nstatus: {ran.status}\n{ran.output}"
    return ran


def assert_command_fail(cwd: Path, *argv: str, stdin: str = "") -> Ran:
    ran = _run(cwd, argv, stdin)
    assert ran.status != 0, f"Command succeeded (should have failed): subnet {' '.join(argv)}\n{ran.output}"
    return ran


def assert_match(regex: str, text: str) -> None:
    """``[[ "$text" =~ $regex ]]``: dfx's patterns here are the same in Python's ``re``."""
    assert re.search(regex, text), f"output does not match\nregex: {regex}\nactual: {text}"


def assert_not_match(regex: str, text: str) -> None:
    """``assert_not_match``: the regex does not match ``text``."""
    assert not re.search(regex, text), f"text matches regex\nregex: {regex}\nactual: {text}"


def assert_eq(expected: str, actual: str) -> None:
    """``assert_eq``: the text is exactly ``expected``."""
    assert actual == expected, f"output does not match\nexpected: {expected}\nactual: {actual}"
