"""The Candid errors, all subclasses of the project's ``CandidError``.

Callers outside this package only need ``CandidError``; the subclasses exist so that the
decoder can tell a *coercion* failure (the value is well formed but does not fit the
expected type, which an enclosing ``opt`` turns into ``null``) from a *malformed* blob
(which no subtyping rule can excuse).
"""

from __future__ import annotations

from vocab.errors import CandidError

__all__ = [
    "CandidError",
    "CandidDecodeError",
    "CandidCoercionError",
    "CandidEncodeError",
    "CandidSyntaxError",
    "CandidTypeError",
]


class CandidDecodeError(CandidError):
    """A binary blob that is malformed, or too costly to decode; ``offset`` is the byte."""

    def __init__(self, message: str, offset: int | None = None) -> None:
        if offset is not None:
            message = f"{message} (at byte {offset})"
        super().__init__(message)
        self.offset = offset


class CandidCoercionError(CandidDecodeError):
    """A well-formed value whose wire type does not coerce to the expected type."""


class CandidEncodeError(CandidError):
    """A Python value that does not fit the Candid type it is encoded at."""


class CandidSyntaxError(CandidError):
    """Candid text (a value, a type or a .did file) that does not parse.

    ``position`` is the character offset; the message also gives line and column.
    """

    def __init__(self, message: str, position: int | None = None, source: str | None = None):
        if position is not None and source is not None:
            line = source.count("\n", 0, position) + 1
            column = position - (source.rfind("\n", 0, position) + 1) + 1
            message = f"{message} (at line {line}, column {column})"
        elif position is not None:
            message = f"{message} (at character {position})"
        super().__init__(message)
        self.position = position


class CandidTypeError(CandidError):
    """A type definition or service description that is ill-formed (unbound, vacuous...)."""
