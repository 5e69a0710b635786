"""Command groups of the `subnet` command; each module exposes register(subparsers)."""
