"""Move source to syntax trees: the lexer, the AST and the parser (nothing resolved yet)."""

from move.syntax.parser import parse_file

__all__ = ["parse_file"]
