"""Benchmarks: `python -m bench NAME [options]` runs bench/NAME.py's main(argv).

They use the library modules (``vocab``, ``node``, ``client``, ``subnet.processes``),
never the command line, and report numbers, not pass or fail.
"""

__all__ = ["candid", "canister", "consensus", "execution"]
