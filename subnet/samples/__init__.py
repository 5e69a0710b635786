"""Motoko sources the demo and the benchmarks deploy (a counter and its upgrade)."""

from pathlib import Path

__all__ = ["SAMPLES", "source"]

SAMPLES = Path(__file__).resolve().parent


def source(name: str) -> str:
    """The text of ``samples/<name>.mo``."""
    return (SAMPLES / f"{name}.mo").read_text()
