"""Publishing a module at its package's id: the Wasm counterpart of Sui's self-address
substitution.

A package is compiled before it has an id: its modules' own address is ``0x0``. At
publish, Sui gives the package a fresh id and rewrites each module's self address to it
before anything runs (reference/sui.md section 3). In a compiled module (``move.abi``)
that address appears in two places: the ``move.module`` metadata (the module's id and
every type that names one of the package's structs) and the import names of calls between
the package's own modules (``0x00…00::m``). Both are rewritten here; code, data and every
other section are copied byte for byte, so function and type indices are unchanged. A
constant ``@0x0`` in the code stays ``0x0``, as Sui leaves constants alone.
"""

from __future__ import annotations

import json
from typing import Any

from move import abi
from vocab.leb128 import encode_leb128
from vocab.wasm import KIND_FUNC, KIND_GLOBAL, KIND_MEMORY, KIND_TABLE, KIND_TAG, WasmFormatError
from vocab.wasm.module import SECTION_CUSTOM, SECTION_IMPORT, read_limits, read_valtype, walk_sections
from vocab.wasm.reader import Reader


class RelocationError(ValueError):
    """The module is not a compiled Move module, or is not at the address expected."""


def _metadata(wasm: bytes) -> tuple[dict[str, Any], int, int]:
    """The metadata, and where its section's payload starts and ends."""
    for section_id, start, end in walk_sections(wasm):
        if section_id != SECTION_CUSTOM:
            continue
        r = Reader(wasm, start, end)
        if r.name() == abi.METADATA_SECTION:
            try:
                return json.loads(wasm[r.pos : end]), start, end
            except ValueError as exc:
                raise RelocationError(f"the module's metadata is not JSON: {exc}") from exc
    raise RelocationError(f"the module has no {abi.METADATA_SECTION} section: not compiled from Move")


def module_identity(wasm: bytes) -> tuple[bytes, str]:
    """A compiled module's (address, name), from its metadata."""
    try:
        meta, _, _ = _metadata(wasm)
        address, name = meta["id"]
        raw = bytes.fromhex(address)
    except (WasmFormatError, KeyError, TypeError, ValueError) as exc:
        raise RelocationError(f"the module's id cannot be read: {exc}") from exc
    if len(raw) != 32 or not isinstance(name, str):
        raise RelocationError("the module's id is not a 32-byte address and a name")
    return raw, name


def module_address(wasm: bytes) -> bytes:
    return module_identity(wasm)[0]


def _swap(value: Any, old: str, new: str) -> Any:
    """Every struct type and module id at ``old`` moved to ``new`` in a metadata value."""
    if isinstance(value, list):
        if len(value) == 5 and value[0] == "struct" and value[1] == old:
            return ["struct", new, value[2], value[3], [_swap(a, old, new) for a in value[4]]]
        return [_swap(v, old, new) for v in value]
    if isinstance(value, dict):
        return {k: _swap(v, old, new) for k, v in value.items()}
    return value


def _section(section_id: int, payload: bytes) -> bytes:
    return bytes([section_id]) + encode_leb128(len(payload)) + payload


def _name(text: str) -> bytes:
    raw = text.encode()
    return encode_leb128(len(raw)) + raw


def _imports(wasm: bytes, start: int, end: int, old: str, new: str) -> bytes:
    r = Reader(wasm, start, end)
    count = r.u32()
    out = bytearray(encode_leb128(count))
    for _ in range(count):
        module = r.name()
        rest = r.pos
        r.name()
        kind = r.byte()
        if kind in (KIND_FUNC, KIND_TAG):
            if kind == KIND_TAG:
                r.byte()
            r.u32()
        elif kind == KIND_TABLE:
            read_valtype(r)
            read_limits(r, False)
        elif kind == KIND_MEMORY:
            read_limits(r, True)
        elif kind == KIND_GLOBAL:
            read_valtype(r)
            r.byte()
        else:
            raise RelocationError(f"unknown import kind {kind}")
        if module.startswith(old + "::"):
            module = new + module[len(old) :]
        out += _name(module) + wasm[rest : r.pos]
    return bytes(out)


def relocate(wasm: bytes, old: bytes, new: bytes) -> bytes:
    """The module ``wasm`` (whose address must be ``old``) moved to address ``new``."""
    address, _ = module_identity(wasm)
    if address != old:
        raise RelocationError(f"the module is at 0x{address.hex()}, not at 0x{old.hex()}")
    meta, _, _ = _metadata(wasm)
    moved_meta = _swap(meta, old.hex(), new.hex())
    moved_meta["id"] = [new.hex(), meta["id"][1]]
    moved = abi.canonical_json(moved_meta)
    out = bytearray(wasm[:8])
    try:
        for section_id, start, end in walk_sections(wasm):
            if section_id == SECTION_IMPORT:
                out += _section(section_id, _imports(wasm, start, end, f"0x{old.hex()}", f"0x{new.hex()}"))
                continue
            if section_id == SECTION_CUSTOM and Reader(wasm, start, end).name() == abi.METADATA_SECTION:
                out += _section(section_id, _name(abi.METADATA_SECTION) + moved)
                continue
            out += _section(section_id, bytes(wasm[start:end]))
    except WasmFormatError as exc:
        raise RelocationError(f"the module is not valid Wasm: {exc}") from exc
    return bytes(out)


__all__ = ["RelocationError", "module_address", "module_identity", "relocate"]
