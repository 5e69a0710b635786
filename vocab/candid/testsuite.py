"""The runner for Candid's official conformance files (``*.test.did``).

A file declares types, then assertions about inputs (Candid text, or ``blob "..."``
binary messages) read at argument types:

- ``assert X : T`` and ``assert X !: T``: X reads (or does not) at T;
- ``assert X == Y : T`` and ``assert X != Y : T``: both read, and give equal (or
  different) Python values.

Equality is the value model's: ``Some``, ``Variant``, dicts, lists, bytes, principals,
with NaN equal to itself and ``True`` never equal to ``1``. Every assertion that reads a
value also checks that encoding it again and decoding gives the same value, since the
official data does not cover encoding.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vocab.candid.decoder import decode
from vocab.candid.encoder import encode
from vocab.candid.errors import CandidError, CandidSyntaxError
from vocab.candid.parser import Parser
from vocab.candid.text import parse_value_text
from vocab.candid.types import Type, VarType, args_to_text
from vocab.candid.values import Some, Variant

__all__ = [
    "Input",
    "Assertion",
    "Outcome",
    "TestFile",
    "parse_test_file",
    "load_test_file",
    "run_assertion",
    "run_files",
    "values_equal",
]


@dataclass(frozen=True)
class Input:
    """One side of an assertion: Candid text, or a binary message."""

    kind: str  # "text" or "blob"
    data: bytes

    def describe(self) -> str:
        if self.kind == "blob":
            return f"blob {self.data.hex()}"
        return self.data.decode("utf-8", "replace")


@dataclass(frozen=True)
class Assertion:
    file: str
    line: int
    left: Input
    right: Input | None
    types: tuple[Type, ...]
    expect_ok: bool
    description: str
    env: dict[str, VarType]

    @property
    def name(self) -> str:
        label = f"{self.file}:{self.line}"
        return f"{label} {self.description}" if self.description else label

    @property
    def operator(self) -> str:
        if self.right is None:
            return ":" if self.expect_ok else "!:"
        return "==" if self.expect_ok else "!="


@dataclass(frozen=True)
class Outcome:
    passed: bool
    detail: str = ""


@dataclass(frozen=True)
class TestFile:
    path: str
    env: dict[str, VarType]
    assertions: tuple[Assertion, ...]


def _line_of(source: str, pos: int) -> int:
    return source.count("\n", 0, pos) + 1


def parse_test_file(source: str, name: str = "<test>") -> TestFile:
    """Parse a .test.did file: type definitions, then assertions."""
    parser = Parser(source)
    while parser.at_word("type") or parser.at_word("import"):
        if parser.at_word("import"):
            raise parser.error("imports are not supported in test files")
        parser.next()
        ident = parser.expect("id", "a type name")
        parser.expect("=")
        parser.scope.define(ident.value, parser.datatype(), ident.pos, source)  # type: ignore[arg-type]
        parser.expect(";")
    assertions: list[Assertion] = []
    pending: list[tuple[int, Input, Input | None, tuple[Type, ...], bool, str]] = []
    while not parser.at("eof"):
        start = parser.expect_word("assert")
        left = _input(parser)
        right = None
        if parser.at("==") or parser.at("!="):
            expect_ok = parser.next().kind == "=="
            right = _input(parser)
            parser.expect(":")
        elif parser.at(":") or parser.at("!:"):
            expect_ok = parser.next().kind == ":"
        else:
            raise parser.error("expected ':', '!:', '==' or '!='")
        types, _ = parser.tuptype()
        description = ""
        if parser.at("text"):
            description = parser.text_of(parser.next())
        if not parser.at("eof"):
            parser.expect(";")
        pending.append((_line_of(source, start.pos), left, right, types, expect_ok, description))
    parser.scope.check(source)
    env = dict(parser.scope.vars)
    for line, left, right, types, expect_ok, description in pending:
        assertions.append(Assertion(name, line, left, right, types, expect_ok, description, env))
    return TestFile(name, env, tuple(assertions))


def _input(parser: Parser) -> Input:
    if parser.at_word("blob"):
        parser.next()
        token = parser.expect("text", "the blob's bytes as a text literal")
        return Input("blob", token.value)  # type: ignore[arg-type]
    token = parser.expect("text", 'an input: a text literal or blob "..."')
    return Input("text", token.value)  # type: ignore[arg-type]


def load_test_file(path: str | Path) -> TestFile:
    path = Path(path)
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CandidError(f"cannot read {path}: {exc}") from None
    return parse_test_file(source, path.name)


def values_equal(a: Any, b: Any) -> bool:
    """Equality of decoded values that neither confuses bool with int nor NaN with nothing."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(values_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(values_equal(a[k], b[k]) for k in a)
    if isinstance(a, Some):
        return values_equal(a.value, b.value)
    if isinstance(a, Variant):
        return a.tag == b.tag and values_equal(a.value, b.value)
    return bool(a == b)


def read_input(item: Input, types: Sequence[Type], env: dict[str, VarType]) -> list[Any]:
    if item.kind == "blob":
        return decode(item.data, types)
    try:
        text = item.data.decode("utf-8")
    except UnicodeDecodeError:
        raise CandidSyntaxError("the textual input is not valid UTF-8") from None
    return parse_value_text(text, types, env)[0]


def _round_trip(values: list[Any], types: Sequence[Type]) -> str | None:
    try:
        again = decode(encode(values, types), types)
    except CandidError as exc:
        return f"re-encoding the value failed: {exc}"
    if not values_equal(values, again):
        return f"re-encoding changed the value: {values!r} became {again!r}"
    return None


def run_assertion(assertion: Assertion, round_trip: bool = True) -> Outcome:
    """Check one assertion; ``detail`` says what happened when it fails."""
    types = assertion.types
    env = assertion.env
    try:
        left = read_input(assertion.left, types, env)
        left_error = None
    except CandidError as exc:
        left, left_error = None, str(exc)
    if assertion.right is None:
        ok = left_error is None
        if ok != assertion.expect_ok:
            if ok:
                return Outcome(False, f"expected failure, but it read as {left!r}")
            return Outcome(False, f"expected success, but: {left_error}")
        if ok and round_trip:
            problem = _round_trip(left, types)  # type: ignore[arg-type]
            if problem:
                return Outcome(False, problem)
        return Outcome(True)
    if left_error is not None:
        return Outcome(False, f"the left input does not read: {left_error}")
    try:
        right = read_input(assertion.right, types, env)
    except CandidError as exc:
        return Outcome(False, f"the right input does not read: {exc}")
    equal = values_equal(left, right)
    if equal != assertion.expect_ok:
        relation = "equal" if equal else "different"
        return Outcome(False, f"values are {relation}: {left!r} vs {right!r}")
    if round_trip:
        for values in (left, right):
            problem = _round_trip(values, types)  # type: ignore[arg-type]
            if problem:
                return Outcome(False, problem)
    return Outcome(True)


def run_files(paths: Iterable[str | Path], round_trip: bool = True) -> list[tuple[Assertion, Outcome]]:
    results: list[tuple[Assertion, Outcome]] = []
    for path in paths:
        for assertion in load_test_file(path).assertions:
            results.append((assertion, run_assertion(assertion, round_trip)))
    return results


def describe_assertion(assertion: Assertion) -> str:
    """The assertion roughly as written in the file, for failure reports."""
    text = f"assert {assertion.left.describe()}"
    if assertion.right is not None:
        text += f" {assertion.operator} {assertion.right.describe()} :"
    else:
        text += f" {assertion.operator}"
    return f"{text} {args_to_text(assertion.types)}"
