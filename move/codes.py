"""The Move compiler's diagnostic codes and headlines, as ``sui move build`` prints them.

Move numbers its errors by category and rule (``E04007`` is "incompatible types",
``E06001`` "unused value without 'drop'"); the project uses the same codes and headline
wording so an error reads as it would from the real compiler and tools can match on the
code. A diagnostic's message is the headline, then what exactly went wrong.
"""

from __future__ import annotations

from collections.abc import Mapping

from move.source import CompileError, Diagnostic, Loc

HEADLINES: dict[str, str] = {
    # syntax
    "E01001": "invalid character",
    "E01002": "unexpected token",
    "E01003": "invalid modifier",
    "E01005": "invalid address",
    "E01006": "invalid number literal",
    "E01007": "invalid byte string",
    "E01008": "invalid hex string",
    "E01009": "invalid assignment",
    "E01013": "invalid 'move' or 'copy'",
    # declarations
    "E02001": "duplicate declaration, item, or annotation",
    "E02004": "invalid 'module' declaration",
    "E02006": "invalid 'const' declaration",
    "E02007": "invalid 'fun' declaration",
    "E02008": "invalid 'struct' declaration",
    "E02010": "invalid name",
    "E02013": "invalid phantom type parameter usage",
    "E02015": "invalid attribute",
    "E02016": "invalid visibility modifier",
    "E02017": "invalid 'use fun' declaration",
    "E02022": "invalid 'enum' declaration",
    # name resolution
    "E03001": "address with no value",
    "E03002": "unbound module",
    "E03003": "unbound module member",
    "E03004": "unbound type",
    "E03005": "unbound unscoped name",
    "E03006": "unexpected name in this position",
    "E03007": "too many type arguments",
    "E03008": "too few type arguments",
    "E03009": "unbound variable",
    "E03010": "unbound field",
    "E03011": "invalid use of reserved name",
    "E03012": "unbound macro",
    "E03013": "positional call mismatch",
    "E03014": "invalid use of label",
    "E03015": "invalid pattern",
    "E03016": "unbound variant",
    # typing
    "E04001": "restricted visibility",
    "E04003": "built-in operation not supported",
    "E04004": "expected a single non-reference type",
    "E04005": "expected a single type",
    "E04006": "invalid subtype",
    "E04007": "incompatible types",
    "E04008": "invalid type. recursive type found",
    "E04010": "cannot infer type",
    "E04012": "invalid type for constant",
    "E04013": "invalid statement or expression in constant",
    "E04014": "invalid loop control",
    "E04015": "invalid use of native item",
    "E04016": "too few arguments",
    "E04017": "too many arguments",
    "E04018": "cyclic data",
    "E04021": "invalid number after type inference",
    "E04023": "invalid method call",
    "E04024": "invalid usage of immutable variable",
    "E04025": "invalid control flow",
    "E04026": "invalid 'copy' usage",
    "E04027": "invalid 'move' usage",
    "E04029": "non-exhaustive pattern",
    # abilities
    "E05001": "ability constraint not satisfied",
    "E05002": "type not implicitly copyable",
    # moves
    "E06001": "unused value without 'drop'",
    "E06002": "use of unassigned variable",
    # references
    "E07001": "referential transparency violated",
    "E07002": "mutable ownership violated",
    "E07003": "invalid operation, could create dangling a reference",
    "E07004": "invalid return of locally borrowed state",
    # constants
    "E08001": "cannot compute constant value",
    # this project: packages and manifests
    "E99001": "invalid package",
}


def diagnostic(loc: Loc, code: str, detail: str, sources: Mapping[str, str] | None = None) -> Diagnostic:
    """A diagnostic with Move's headline for ``code`` followed by ``detail``."""
    head = HEADLINES.get(code, "error")
    message = f"{head}: {detail}" if detail else head
    return Diagnostic(loc, code, message, line_of(sources, loc))


def error(loc: Loc, code: str, detail: str, sources: Mapping[str, str] | None = None) -> CompileError:
    """A ``CompileError`` holding one diagnostic."""
    return CompileError([diagnostic(loc, code, detail, sources)])


def line_of(sources: Mapping[str, str] | None, loc: Loc) -> str:
    """The text of ``loc``'s line, or ``""`` when the file is unknown."""
    if not sources or loc.file not in sources or loc.line < 1:
        return ""
    lines = sources[loc.file].split("\n")
    return lines[loc.line - 1].rstrip("\r") if loc.line <= len(lines) else ""
