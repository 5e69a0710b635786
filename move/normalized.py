"""Move types and function signatures in Sui's normalized JSON (``SuiMoveNormalizedType``,
``SuiMoveNormalizedFunction``: what ``sui_getNormalizedMoveFunction`` answers).

Here rather than beside the other JSON shapes in ``node.sui.responses`` because a client
needs them too: to read arguments for a function of a package that exists only in its own
build (the new version of a package whose upgrade it rehearses), from the compiled
module's metadata (``function_from_module``), exactly as a replica would answer for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from move import abi
from move.types import Ability, PrimType, RefType, StructType, Type, TypeParam, VectorType
from vocab.sui.address import ObjectId


def normalized_type_json(ty: Type) -> Any:
    """A type as Sui's ``SuiMoveNormalizedType``: ``"U64"``, ``{"Struct": {...}}``,
    ``{"Vector": T}``, ``{"Reference": T}``, ``{"MutableReference": T}``,
    ``{"TypeParameter": i}``."""
    if isinstance(ty, PrimType):
        return ty.prim.value.capitalize()
    if isinstance(ty, VectorType):
        return {"Vector": normalized_type_json(ty.element)}
    if isinstance(ty, RefType):
        return {"MutableReference" if ty.mutable else "Reference": normalized_type_json(ty.inner)}
    if isinstance(ty, TypeParam):
        return {"TypeParameter": ty.index}
    assert isinstance(ty, StructType)
    return {
        "Struct": {
            "address": ObjectId(ty.module.address).short_text(),  # Sui prints 0x2, not 64 digits
            "module": ty.module.name,
            "name": ty.name,
            "typeArguments": [normalized_type_json(arg) for arg in ty.args],
        }
    }


def _abilities_json(abilities: Ability) -> dict[str, list[str]]:
    return {"abilities": [name.capitalize() for name in abilities.names()]}


def normalized_function_json(
    visibility: str,
    entry: bool,
    type_params: Sequence[Ability],
    params: Sequence[Type],
    returns: Sequence[Type],
) -> dict[str, Any]:
    """``sui_getNormalizedMoveFunction``'s answer: what a client needs to encode arguments."""
    return {
        "visibility": {"public": "Public", "package": "Friend"}.get(visibility, "Private"),
        "isEntry": entry,
        "typeParameters": [_abilities_json(abilities) for abilities in type_params],
        "parameters": [normalized_type_json(ty) for ty in params],
        "return": [normalized_type_json(ty) for ty in returns],
    }


def function_from_module(wasm: bytes, function: str) -> dict[str, Any] | None:
    """The normalized signature of ``function`` in a compiled module (its metadata), or
    ``None`` if the module has no such function; ``abi.MetadataError`` if it is not Move."""
    meta = abi.read_metadata(wasm)
    try:
        for f in meta["functions"]:
            if f["name"] == function:
                return normalized_function_json(
                    f["visibility"],
                    bool(f["entry"]),
                    [Ability(c) for _, c in f["type_params"]],
                    [abi.type_from_json(t) for t in f["params"]],
                    [abi.type_from_json(t) for t in f["returns"]],
                )
    except (KeyError, TypeError, ValueError) as exc:
        raise abi.MetadataError(f"the module's metadata is malformed: {exc}") from exc
    return None


def module_name(wasm: bytes) -> str:
    """The name of a compiled module (from its metadata)."""
    return str(abi.read_metadata(wasm)["id"][1])


__all__ = ["function_from_module", "module_name", "normalized_function_json", "normalized_type_json"]
