"""Benchmarks: `python -m bench NAME [options]` runs bench/NAME.py's main(argv)."""
