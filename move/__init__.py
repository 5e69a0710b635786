"""Sui Move compiled to WebAssembly: the project's own Move compiler, a pure library.

No Move toolchain can be installed where the subnet runs, so the project compiles Sui
Move itself: source text becomes an AST (``ast``), checked and lowered to a typed
intermediate form (``ir``), then a Wasm module per Move module that the shared engine
runs with fuel as gas. Replicas use it to build the framework at genesis; clients use
it for ``subnet move build``. It imports only the shared vocabulary and no trio.
"""

__all__: list[str] = []
