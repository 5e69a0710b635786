"""The digest of a function's code, as an upgrade compares it.

Sui's additive and dependency-only upgrade policies refuse any change to existing code,
private functions included; Sui compares the functions' bytecode in normalized form
(handles resolved to names, no source positions). This subnet's modules are Wasm, whose
bytes depend on things a Move programmer does not see (import order, helper functions,
the data layout of constants), so the comparison is made one level up, on the checked IR
(``move.ir``) the Wasm is generated from: every expression with its type, every called
function by module and name, every constant by value. Source positions, the names of
locals and of type parameters are left out, as bytecode leaves them out: moving a
function in its file or renaming a local is not a change of code. The package's own
address in module and type names is written ``self``, so a version compiled at ``0x0``
and one compiled at the package's published id have the same code (constants, such as
``@0x0``, are values and stay as they are).

The code generator writes the digest of each function into the module's metadata
(``move.abi``, field ``code``), so the check runs on compiled modules alone
(``move.compat``), before sending and again on the replicas.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib

from move import ir
from move.types import ModuleId, TypeParam

_SKIPPED = {"loc"}
_SKIPPED_BY_CLASS: dict[type, set[str]] = {
    ir.LocalDecl: {"name", "loc", "index"},
    TypeParam: {"name"},
    ir.TypeParamDecl: {"name"},
}


def _encode(value: object, out: list[str], home: bytes) -> None:
    if isinstance(value, ModuleId):
        out.append(("self" if value.address == home else "0x" + value.address.hex()) + "::" + value.name)
    elif value is None or isinstance(value, (bool, int, str)):
        out.append(repr(value))
    elif isinstance(value, bytes):
        out.append("0x" + value.hex())
    elif isinstance(value, enum.Enum):
        out.append(f"{type(value).__name__}.{value.name}")
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for item in value:
            _encode(item, out, home)
            out.append(",")
        out.append("]")
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        skipped = _SKIPPED_BY_CLASS.get(type(value), _SKIPPED)
        out.append(type(value).__name__ + "(")
        for item in dataclasses.fields(value):
            if item.name not in skipped:
                out.append(item.name + "=")
                _encode(getattr(value, item.name), out, home)
                out.append(";")
        out.append(")")
    else:
        raise TypeError(f"cannot fingerprint a {type(value).__name__}")


def code_digest(function: ir.FunctionDecl, home: bytes) -> str:
    """Hex Blake2b-256 of the function's locals (types, mutability) and body, ``home`` (the
    package's own address) written ``self``; "" for a native."""
    if function.body is None:
        return ""
    out: list[str] = []
    _encode([(local.type, local.mutable) for local in function.locals], out, home)
    _encode(function.body, out, home)
    return hashlib.blake2b("".join(out).encode(), digest_size=32).hexdigest()


__all__ = ["code_digest"]
