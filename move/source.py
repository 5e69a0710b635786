"""Where a piece of Move source is, and the located errors the compiler reports.

Every diagnostic names ``file:line:col`` and shows the line with a caret under the
column, as the Move compiler does, because a researcher fixing a package needs the
place, not only the rule. The IR keeps a ``Loc`` on every node so that later stages
(the Sui rules, code generation, an abort at run time) can point at the source too.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Loc:
    """A position in a source file: 1-based line and column (columns count characters)."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


NOWHERE = Loc("<builtin>", 0, 0)
"""The location of things no source file defines (built-in types, generated code)."""


@dataclass(frozen=True)
class Diagnostic:
    """One error: where, what (Move's wording where Move has one), and the source line.

    ``code`` is a short stable name of the rule (``"E_TYPE_MISMATCH"``, ...) so tests and
    tools can match on it without parsing the message.
    """

    loc: Loc
    code: str
    message: str
    line_text: str = ""

    def render(self) -> str:
        """``file:line:col: error[code]: message`` then the line and a caret."""
        head = f"{self.loc}: error[{self.code}]: {self.message}"
        if not self.line_text:
            return head
        caret = " " * max(self.loc.col - 1, 0) + "^"
        return f"{head}\n    {self.line_text}\n    {caret}"


@dataclass
class CompileError(Exception):
    """The compiler refused a package: one or more located diagnostics, in source order."""

    diagnostics: list[Diagnostic] = field(default_factory=list)

    def __str__(self) -> str:
        return "\n".join(d.render() for d in self.diagnostics)
