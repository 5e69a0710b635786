"""Code generation: the checked IR of a Move module to one Wasm module (bytes).

``compile_module`` writes one module, ``compile_package`` every module of a package. The
value representation and calling convention are ``move.abi``'s; the output is
deterministic (the same IR gives the same bytes) because it is a pure function of the IR
in its declared order.
"""

from move.codegen.driver import compile_module, compile_package

__all__ = ["compile_module", "compile_package"]
