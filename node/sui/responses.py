"""Sui's JSON shapes (the JSON-RPC ``SuiObjectData``, ``SuiTransactionBlockResponse``
pieces) for objects, effects, object changes and events, as ``sui client ... --json``
prints them.

Move values follow Sui's ``SuiMoveValue`` conventions: ``u8``..``u32`` as numbers, ``u64``
and wider as decimal strings, addresses as ``0x`` and 64 hex digits, vectors as arrays
(``vector<u8>`` too), ``String``/``ascii::String`` as text, ``UID`` as ``{"id": "0x…"}``,
``ID`` as ``"0x…"``, ``Option`` as its value or ``null``; other structs as
``{"type", "fields"}`` inside an object's content and as plain field maps in an event's
``parsedJson``. Decoding needs the struct layouts, which the VM holds for every published
module; a value that does not decode is a ``JsonError`` naming the type.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from move.types import Ability, ModuleId, Prim, PrimType, RefType, StructType, Type, TypeParam, VectorType
from node.sui.effects import Event, TransactionEffects
from node.sui.store import SuiObject, SuiPackage
from node.sui.type_map import ASCII_STRING, OBJECT_ID, STRING, UID, struct_tag, tag_to_type
from node.sui.vm import FunctionInfo, MoveVM
from vocab.sui.address import ObjectId, SuiAddress
from vocab.sui.objects import (
    AddressOwner,
    ConsensusAddressOwner,
    Immutable,
    ObjectOwner,
    ObjectRef,
    Owner,
    Shared,
)
from vocab.sui.type_tag import StructTag

OPTION = ModuleId(bytes(31) + b"\x01", "option")


class JsonError(ValueError):
    """A value that does not decode as its type says."""


def owner_json(owner: Owner) -> Any:
    if isinstance(owner, AddressOwner):
        return {"AddressOwner": owner.address.to_text()}
    if isinstance(owner, ObjectOwner):
        return {"ObjectOwner": owner.address.to_text()}
    if isinstance(owner, Shared):
        return {"Shared": {"initial_shared_version": owner.initial_shared_version}}
    if isinstance(owner, Immutable):
        return "Immutable"
    assert isinstance(owner, ConsensusAddressOwner)
    return {"ConsensusAddressOwner": {"start_version": owner.start_version, "owner": owner.owner.to_text()}}


def type_text(ty: StructType | StructTag) -> str:
    return str(struct_tag(ty) if isinstance(ty, StructType) else ty)


class _Reader:
    def __init__(self, vm: MoveVM, data: bytes, nested_types: bool) -> None:
        self.vm = vm
        self.data = data
        self.pos = 0
        self.nested_types = nested_types

    def take(self, count: int, ty: Type) -> bytes:
        if self.pos + count > len(self.data):
            raise JsonError(f"the value ends inside a {ty}")
        chunk = self.data[self.pos : self.pos + count]
        self.pos += count
        return chunk

    def uleb(self, ty: Type) -> int:
        value, shift = 0, 0
        while True:
            byte = self.take(1, ty)[0]
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return value
            shift += 7
            if shift > 35:
                raise JsonError(f"a length in a {ty} is not ULEB128")

    def value(self, ty: Type, top: bool = False) -> Any:
        if isinstance(ty, PrimType):
            if ty.prim is Prim.BOOL:
                return self.take(1, ty) == b"\x01"
            if ty.prim is Prim.ADDRESS:
                return SuiAddress(self.take(32, ty)).to_text()
            number = int.from_bytes(self.take(ty.prim.bits // 8, ty), "little")
            return number if ty.prim.bits <= 32 else str(number)
        if isinstance(ty, VectorType):
            return [self.value(ty.element) for _ in range(self.uleb(ty))]
        if not isinstance(ty, StructType):
            raise JsonError(f"{ty} is not a value type")
        if ty in (STRING, ASCII_STRING):
            raw = self.take(self.uleb(ty), ty)
            try:
                return raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise JsonError(f"a {ty} holds invalid UTF-8") from exc
        if ty == OBJECT_ID:
            return ObjectId(self.take(32, ty)).to_text()
        if ty == UID:
            return {"id": ObjectId(self.take(32, ty)).to_text()}
        if ty.module == OPTION and ty.name == "Option" and len(ty.args) == 1:
            items = self.value(VectorType(ty.args[0]))
            return items[0] if items else None
        shapes = self.vm.variant_layouts(ty)
        if shapes is not None:
            # an enum: Sui's SuiMoveVariant, {type, variant, fields}
            tag = self.uleb(ty)
            if tag >= len(shapes):
                raise JsonError(f"variant index {tag} of a {ty}, which has {len(shapes)} variants")
            variant, field_names = self.vm.variant_names(ty)[tag]
            values = {
                _field_name(name): self.value(field)
                for name, field in zip(field_names, shapes[tag], strict=False)
            }
            return {"type": type_text(ty), "variant": variant, "fields": values}
        names = self.vm.field_names(ty)
        fields = {
            _field_name(name): self.value(field)
            for name, field in zip(names, self.vm.layout(ty), strict=False)
        }
        if not names:
            self.take(1, ty)  # a struct without fields is one bool (dummy_field)
        if self.nested_types and not top:
            return {"type": type_text(ty), "fields": fields}
        return fields


def _field_name(name: str) -> str:
    """A positional field (``0``, ``1``...) is ``pos0``, ``pos1``... as Move's compiler names it."""
    return f"pos{name}" if name.isdigit() else name


def move_value_json(vm: MoveVM, ty: Type, data: bytes, *, nested_types: bool = False) -> Any:
    """A Move value's JSON; ``nested_types`` wraps inner structs as ``{type, fields}``."""
    reader = _Reader(vm, data, nested_types)
    value = reader.value(ty, top=True)
    if reader.pos != len(data):
        raise JsonError(f"{len(data) - reader.pos} bytes left after the {ty}")
    return value


def object_json(vm: MoveVM, obj: SuiObject) -> dict[str, Any]:
    """``sui client object ID --json``: the object's data with its content."""
    kind = type_text(obj.type)
    return {
        "objectId": obj.id.to_text(),
        "version": str(obj.version),
        "digest": obj.digest.to_text(),
        "type": kind,
        "owner": owner_json(obj.owner),
        "previousTransaction": obj.previous_transaction.to_text(),
        "storageRebate": str(obj.storage_rebate),
        "content": {
            "dataType": "moveObject",
            "type": kind,
            "hasPublicTransfer": obj.has_public_transfer,
            "fields": move_value_json(vm, vm.runtime_type(obj.type), obj.contents, nested_types=True),
        },
    }


def package_json(package: SuiPackage) -> dict[str, Any]:
    return {
        "objectId": package.id.to_text(),
        "version": str(package.version),
        "digest": package.digest.to_text(),
        "type": "package",
        "owner": "Immutable",
        "previousTransaction": package.previous_transaction.to_text(),
        "storageRebate": "0",
        "content": {"dataType": "package", "disassembled": {name: "" for name, _ in package.modules}},
    }


def bcs_json(item: SuiObject | SuiPackage) -> dict[str, Any]:
    """``bcs`` of ``sui_getObject`` with ``showBcs`` (Sui's ``SuiRawData``): an object's
    contents, or a package's modules in Base64 with its type origin and linkage tables;
    what a client reads to check an upgrade before sending it (``move.compat``)."""
    if isinstance(item, SuiObject):
        return {
            "dataType": "moveObject",
            "type": type_text(item.type),
            "hasPublicTransfer": item.has_public_transfer,
            "version": item.version,
            "bcsBytes": base64.b64encode(item.contents).decode(),
        }
    return {
        "dataType": "package",
        "id": item.id.to_text(),
        "version": item.version,
        "moduleMap": {name: base64.b64encode(wasm).decode() for name, wasm in item.modules},
        "typeOriginTable": [
            {"module_name": t.module_name, "datatype_name": t.datatype_name, "package": t.package.to_text()}
            for t in item.type_origins
        ],
        "linkageTable": {
            original.to_text(): {
                "upgraded_id": info.upgraded_id.to_text(),
                "upgraded_version": info.upgraded_version,
            }
            for original, info in item.linkage
        },
    }


def _ref_json(ref: ObjectRef) -> dict[str, Any]:
    return {"objectId": ref.object_id.to_text(), "version": ref.version, "digest": ref.digest.to_text()}


def effects_json(effects: TransactionEffects) -> dict[str, Any]:
    """The ``effects`` of a transaction response."""
    status: dict[str, Any] = {"status": "success"}
    if effects.status is not None:
        status = {"status": "failure", "error": str(effects.status)}
    out: dict[str, Any] = {
        "messageVersion": "v1",
        "status": status,
        "executedEpoch": str(effects.executed_epoch),
        "gasUsed": {
            "computationCost": str(effects.gas_used),
            "storageCost": "0",
            "storageRebate": "0",
            "nonRefundableStorageFee": "0",
        },
        "modifiedAtVersions": [
            {"objectId": i.to_text(), "sequenceNumber": str(v)} for i, v in effects.modified_at_versions
        ],
        "sharedObjects": [_ref_json(r) for r in effects.shared_objects],
        "transactionDigest": effects.transaction_digest.to_text(),
        "dependencies": [d.to_text() for d in effects.dependencies],
    }
    for name, changes in (
        ("created", effects.created),
        ("mutated", effects.mutated),
        ("unwrapped", effects.unwrapped),
    ):
        if changes:
            out[name] = [{"owner": owner_json(o), "reference": _ref_json(r)} for r, o in changes]
    for name, refs in (
        ("deleted", effects.deleted),
        ("unwrappedThenDeleted", effects.unwrapped_then_deleted),
        ("wrapped", effects.wrapped),
    ):
        if refs:
            out[name] = [_ref_json(r) for r in refs]
    if effects.events:
        digest = effects.events_digest()
        assert digest is not None
        out["eventsDigest"] = digest.to_text()
    return out


def object_changes_json(
    effects: TransactionEffects, sender: SuiAddress, packages: Mapping[ObjectId, SuiPackage]
) -> list[dict[str, Any]]:
    """Sui's ``objectChanges``: published, created, mutated, transferred... with types."""
    types = dict(effects.object_types)
    versions = dict(effects.modified_at_versions)
    changes: list[dict[str, Any]] = []
    for ref, owner in effects.created:
        package = packages.get(ref.object_id)
        if package is not None:
            changes.append(
                {
                    "type": "published",
                    "packageId": ref.object_id.to_text(),
                    "version": str(ref.version),
                    "digest": ref.digest.to_text(),
                    "modules": [name for name, _ in package.modules],
                }
            )
            continue
        changes.append(_change("created", sender, ref, types, owner=owner))
    for ref, owner in (*effects.mutated, *effects.unwrapped):
        previous = versions.get(ref.object_id)
        change = _change("mutated", sender, ref, types, owner=owner)
        if previous is not None:
            change["previousVersion"] = str(previous)
        changes.append(change)
    for kind, refs in (("deleted", effects.deleted), ("wrapped", effects.wrapped)):
        for ref in refs:
            change = _change(kind, sender, ref, types)
            del change["digest"]
            changes.append(change)
    return changes


def _change(
    kind: str,
    sender: SuiAddress,
    ref: ObjectRef,
    types: dict[ObjectId, StructTag],
    owner: Owner | None = None,
) -> dict[str, Any]:
    change: dict[str, Any] = {"type": kind, "sender": sender.to_text()}
    if owner is not None:
        change["owner"] = owner_json(owner)
    tag = types.get(ref.object_id)
    change["objectType"] = str(tag) if tag is not None else None
    change["objectId"] = ref.object_id.to_text()
    change["version"] = str(ref.version)
    change["digest"] = ref.digest.to_text()
    return change


def events_json(vm: MoveVM, effects: TransactionEffects) -> list[dict[str, Any]]:
    return [_event_json(vm, effects, seq, event) for seq, event in enumerate(effects.events)]


def _event_json(vm: MoveVM, effects: TransactionEffects, seq: int, event: Event) -> dict[str, Any]:
    return {
        "id": {"txDigest": effects.transaction_digest.to_text(), "eventSeq": str(seq)},
        "packageId": event.package_id.to_text(),
        "transactionModule": event.transaction_module,
        "sender": event.sender.to_text(),
        "type": str(event.type),
        "parsedJson": move_value_json(vm, tag_to_type(event.type), event.contents),
        "bcsEncoding": "base64",
        "bcs": base64.b64encode(event.contents).decode(),
    }


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


def normalized_function_json(info: FunctionInfo) -> dict[str, Any]:
    """``sui_getNormalizedMoveFunction``'s answer: what a client needs to encode arguments."""
    visibility = {"public": "Public", "package": "Friend"}.get(info.visibility, "Private")
    return {
        "visibility": visibility,
        "isEntry": info.entry,
        "typeParameters": [_abilities_json(abilities) for abilities in info.type_params],
        "parameters": [normalized_type_json(ty) for ty in info.params],
        "return": [normalized_type_json(ty) for ty in info.returns],
    }


def transaction_json(
    vm: MoveVM, effects: TransactionEffects, sender: SuiAddress, packages: Mapping[ObjectId, SuiPackage]
) -> dict[str, Any]:
    """``{digest, effects, objectChanges, events}``, as a transaction response."""
    return {
        "digest": effects.transaction_digest.to_text(),
        "effects": effects_json(effects),
        "objectChanges": object_changes_json(effects, sender, packages),
        "events": events_json(vm, effects),
    }


__all__ = [
    "JsonError",
    "bcs_json",
    "effects_json",
    "events_json",
    "move_value_json",
    "normalized_function_json",
    "normalized_type_json",
    "object_changes_json",
    "object_json",
    "owner_json",
    "package_json",
    "transaction_json",
    "type_text",
]
