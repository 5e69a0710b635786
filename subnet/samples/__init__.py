"""Sources the demo, the benchmarks and the tests deploy: Motoko counters (a counter and its
upgrade) and a Sui Move counter (a shared object anyone increments; its owner sets it)."""

from pathlib import Path

__all__ = ["SAMPLES", "move_module", "source"]

SAMPLES = Path(__file__).resolve().parent


def source(name: str) -> str:
    """The text of ``samples/<name>.mo``."""
    return (SAMPLES / f"{name}.mo").read_text()


def move_module(name: str) -> str:
    """The text of ``samples/<name>.move``."""
    return (SAMPLES / f"{name}.move").read_text()
