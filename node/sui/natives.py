"""The native functions of the Move framework, and the object runtime's log of a call.

Sui's framework declares some functions ``native`` (object ids, transfers, events, BCS,
hashes, UTF-8 checks). A compiled module imports each as ``native.<address>::<module>::
<function>`` (``move.abi``); this table is what the VM links them to. Each native gets
the call's ``NativeFrame`` (memory, types, the log) and its i64 arguments, as the ABI
passes them: type descriptors first, then values.

Natives that touch objects do not change any object store: they append to the call's
``ObjectLog`` (new ids, transfers with their recipient, shares, freezes, deletions, events
with their type), which the VM returns as part of the result. Applying it is the
executor's job. Object ids are derived as Sui derives them (reference/sui.md section 3, ``vocab.sui.ids``):
Blake2b-256(0xF1 · transaction digest · creation counter, u64 little endian).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from move.types import Ability, ModuleId, Prim, PrimType, StructType, Type, VectorType, short_address
from node.sui.heap import Heap, Marshal
from vocab.keccak import keccak256
from vocab.sui import ids as sui_ids
from vocab.sui.digests import Digest, blake2b256

SYSTEM_OBJECT_IDS = frozenset({(6).to_bytes(32, "big")})
"""Objects the framework makes at fixed ids rather than derived ones (the ``Clock`` at 0x6).
Sui's object runtime counts them as new when they are shared: genesis creates and shares
them in one call, and no transaction can pass them in as owned objects."""

NATIVE_FUEL = 100
"""Fuel a native call costs, plus ``NATIVE_FUEL_PER_BYTE`` per byte it reads or writes."""
NATIVE_FUEL_PER_BYTE = 1


def derive_object_id(tx_digest: bytes, counter: int) -> bytes:
    """Sui's id of the ``counter``-th object a transaction creates (``vocab.sui.ids``)."""
    return sui_ids.derive_object_id(Digest(tx_digest), counter).raw


@dataclass(frozen=True)
class TxContext:
    """What ``0x2::tx_context`` tells Move code about the running transaction."""

    sender: bytes
    digest: bytes
    epoch: int = 0
    epoch_timestamp_ms: int = 0
    gas_price: int = 1000
    gas_budget: int = 0
    ids_created: int = 0
    """Ids already created by earlier commands of the same transaction."""


@dataclass(frozen=True)
class ObjectEvent:
    """One object operation: ``kind`` is transfer, share, freeze (``recipient`` for transfers)."""

    kind: str
    type: StructType
    contents: bytes
    recipient: bytes | None = None

    @property
    def object_id(self) -> bytes:
        """An object's first field is its ``UID``, whose BCS is the 32-byte id."""
        return self.contents[:32]


@dataclass(frozen=True)
class EmittedEvent:
    type: StructType
    contents: bytes


@dataclass
class ObjectLog:
    """What a call did to objects, in order; the executor applies it."""

    created: list[bytes] = field(default_factory=list)
    """Ids of new ``UID``s."""
    deleted: list[bytes] = field(default_factory=list)
    """Ids of deleted ``UID``s."""
    objects: list[ObjectEvent] = field(default_factory=list)
    """Transfers, shares and freezes."""
    events: list[EmittedEvent] = field(default_factory=list)
    ids_created: int = 0
    """The transaction's id counter after the call."""


class NativeAbort(Exception):
    """A native aborts with ``code`` in its own module (as Sui's natives do)."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class NativeUnavailable(Exception):
    """A native the host cannot run here (it needs something the VM does not have)."""


class NativeFrame:
    """What a native sees of the call."""

    def __init__(
        self,
        heap: Heap,
        marshal: Marshal,
        type_of: Callable[[int], Type],
        intern: Callable[[Type], int],
        ctx: TxContext,
        log: ObjectLog,
        charge: Callable[[int], None],
        abilities: Callable[[StructType], Ability],
        defining: Callable[[Type], Type] = lambda ty: ty,
        original_package: Callable[[bytes, int], bytes | None] = lambda storage, version: None,
    ) -> None:
        self.heap = heap
        self.marshal = marshal
        self.type_of = type_of
        self.intern = intern
        self.ctx = ctx
        self.log = log
        self.charge = charge
        self.abilities = abilities
        self.defining = defining
        """A type with each struct named by the version that defined it (``type_name::get``)."""
        self.original_package = original_package
        """(storage id, version) -> the package's original id, or ``None`` (another version)."""
        self.shared: frozenset[bytes] = frozenset()
        """Ids of the transaction's shared inputs (``share_object`` accepts them again)."""

    def struct_of(self, descriptor: int) -> StructType:
        ty = self.type_of(descriptor)
        if not isinstance(ty, StructType):
            raise TypeError(f"expected a struct type, got {ty}")
        return ty

    def value_bytes(self, descriptor: int, value: int) -> tuple[Type, bytes]:
        ty = self.type_of(descriptor)
        data = self.marshal.encode(ty, value)
        self.charge(NATIVE_FUEL_PER_BYTE * len(data))
        return ty, data

    def fresh_id(self) -> bytes:
        new = derive_object_id(self.ctx.digest, self.log.ids_created)
        self.log.ids_created += 1
        return new

    def address(self, pointer: int) -> bytes:
        return self.heap.read(pointer & ((1 << 64) - 1), 32)

    def new_address(self, value: bytes) -> int:
        block = self.heap.alloc(32)
        self.heap.write(block, value)
        return block

    def bytes_arg(self, vector: int) -> bytes:
        data = self.heap.vector_bytes(vector & ((1 << 64) - 1))
        self.charge(NATIVE_FUEL_PER_BYTE * len(data))
        return data

    def bytes_ref(self, reference: int) -> bytes:
        return self.bytes_arg(self.heap.u64(reference & ((1 << 64) - 1)))

    def new_bytes(self, data: bytes) -> int:
        self.charge(NATIVE_FUEL_PER_BYTE * len(data))
        return self.heap.new_bytes(data)


Native = Callable[..., Any]


# -- 0x2::object ------------------------------------------------------------------------------


def _borrow_uid(f: NativeFrame, _t: int, obj_ref: int) -> int:
    # `&T` points at the slot holding the object; the UID is its first field
    return f.heap.u64(obj_ref)


def _delete_impl(f: NativeFrame, id_: int) -> None:
    gone = f.address(id_)
    f.log.objects = [o for o in f.log.objects if o.object_id != gone]
    if gone in f.log.created:
        f.log.created.remove(gone)  # created and deleted in one transaction: it never existed
    else:
        f.log.deleted.append(gone)


def _record_new_uid(f: NativeFrame, id_: int) -> None:
    f.log.created.append(f.address(id_))


# -- 0x2::tx_context --------------------------------------------------------------------------


def _fresh_id(f: NativeFrame) -> int:
    new = f.fresh_id()
    f.log.created.append(new)
    return f.new_address(new)


def _derive_id(f: NativeFrame, tx_hash: int, ids_created: int) -> int:
    digest = f.bytes_arg(tx_hash)
    if len(digest) != 32:
        raise NativeUnavailable(f"derive_id needs a 32-byte transaction digest, got {len(digest)} bytes")
    new = derive_object_id(digest, ids_created)
    f.log.created.append(new)
    f.log.ids_created = max(f.log.ids_created, ids_created + 1)
    return f.new_address(new)


def _sender(f: NativeFrame) -> int:
    return f.new_address(f.ctx.sender)


def _digest(f: NativeFrame) -> int:
    return f.new_bytes(f.ctx.digest)


# -- 0x2::transfer / event --------------------------------------------------------------------


def _object_op(kind: str) -> Native:
    def op(f: NativeFrame, t: int, obj: int, recipient: int | None = None) -> None:
        ty = f.struct_of(t)
        _, data = f.value_bytes(t, obj)
        to = f.address(recipient) if recipient is not None else None
        entry = ObjectEvent(kind, ty, data, to)
        new = entry.object_id in f.log.created or entry.object_id in SYSTEM_OBJECT_IDS
        if kind == "share" and not new and entry.object_id not in f.shared:
            raise NativeAbort(0)  # sui::transfer::ESharedNonNewObject
        # a later transfer, share or freeze of the same object replaces the earlier one
        f.log.objects = [o for o in f.log.objects if o.object_id != entry.object_id]
        f.log.objects.append(entry)

    return op


def _receive_impl(f: NativeFrame, *_args: int) -> int:
    raise NativeUnavailable(
        "transfer::receive needs the executor's object store, which this VM does not have yet"
    )


def _emit(f: NativeFrame, t: int, event: int) -> None:
    ty = f.struct_of(t)
    _, data = f.value_bytes(t, event)
    f.log.events.append(EmittedEvent(ty, data))


def _is_one_time_witness(f: NativeFrame, t: int, _ref: int) -> int:
    ty = f.type_of(t)
    if not isinstance(ty, StructType) or ty.args:
        return 0
    if ty.name != ty.module.name.upper() or f.abilities(ty) != Ability.DROP:
        return 0
    # no fields is one bool `dummy_field` in the layout, as Move's compiler adds it
    if f.marshal.variants(ty) is not None:
        return 0  # an enum is never a one-time witness
    return 1 if f.marshal.layouts(ty) == [PrimType(Prim.BOOL)] else 0


# -- 0x2::address, hashes, bcs ----------------------------------------------------------------


def _to_u256(f: NativeFrame, a: int) -> int:
    block = f.heap.alloc(32)
    f.heap.write(block, f.address(a)[::-1])
    return block


def _from_u256(f: NativeFrame, n: int) -> int:
    return f.new_address(f.heap.read(n & ((1 << 64) - 1), 32)[::-1])


def _from_bytes(f: NativeFrame, v: int) -> int:
    data = f.bytes_arg(v)
    if len(data) != 32:
        raise NativeAbort(0)  # sui::address::EAddressParseError
    return f.new_address(data)


def _hash(algorithm: Callable[[bytes], bytes], by_ref: bool) -> Native:
    def run(f: NativeFrame, data: int) -> int:
        raw = f.bytes_ref(data) if by_ref else f.bytes_arg(data)
        return f.new_bytes(algorithm(raw))

    return run


def _to_bytes(f: NativeFrame, t: int, ref: int) -> int:
    _, data = f.value_bytes(t, f.heap.u64(ref & ((1 << 64) - 1)))
    return f.new_bytes(data)


# -- 0x1::string, type_name, debug ------------------------------------------------------------


def _check_utf8(f: NativeFrame, ref: int) -> int:
    try:
        f.bytes_ref(ref).decode("utf-8")
    except UnicodeDecodeError:
        return 0
    return 1


def _is_char_boundary(f: NativeFrame, ref: int, i: int) -> int:
    data = f.bytes_ref(ref)
    if i > len(data):
        return 0
    return 1 if i == len(data) or (data[i] & 0xC0) != 0x80 else 0


def _sub_string(f: NativeFrame, ref: int, i: int, j: int) -> int:
    return f.new_bytes(f.bytes_ref(ref)[i:j])


def _index_of(f: NativeFrame, ref: int, needle: int) -> int:
    data, sub = f.bytes_ref(ref), f.bytes_ref(needle)
    found = data.find(sub)
    return len(data) if found < 0 else found


def type_name(ty: Type) -> str:
    """``std::type_name``'s spelling: addresses as 64 hex digits without ``0x``."""
    if isinstance(ty, PrimType):
        return str(ty)
    if isinstance(ty, VectorType):
        return f"vector<{type_name(ty.element)}>"
    if isinstance(ty, StructType):
        args = f"<{','.join(type_name(a) for a in ty.args)}>" if ty.args else ""
        return f"{ty.module.address.hex()}::{ty.module.name}::{ty.name}{args}"
    raise TypeError(f"no type name for {ty}")


def _type_name_get(f: NativeFrame, t: int) -> int:
    """``type_name::get``: defining ids (a type added by an upgrade names that version)."""
    return _type_name_of(f, f.defining(f.type_of(t)))


def _type_name_with_original_ids(f: NativeFrame, t: int) -> int:
    return _type_name_of(f, f.type_of(t))


def _type_name_of(f: NativeFrame, ty: Type) -> int:
    # TypeName { name: ascii::String { bytes } }: two one-field structs around the bytes
    name = f.new_bytes(type_name(ty).encode())
    inner = f.heap.alloc(8)
    f.heap.set_u64(inner, name)
    outer = f.heap.alloc(8)
    f.heap.set_u64(outer, inner)
    return outer


def _original_package_id_impl(f: NativeFrame, package: int, version: int) -> int:
    original = f.original_package(f.address(package), version)
    if original is None:
        raise NativeAbort(6)  # sui::package::EInvalidPackageVersion
    return f.new_address(original)


def _no_op(f: NativeFrame, *_args: int) -> None:
    return None


def _id(address: int, module: str, function: str) -> str:
    return f"{short_address(address.to_bytes(32, 'big'))}::{module}::{function}"


NATIVES: dict[str, Native] = {
    _id(2, "object", "borrow_uid"): _borrow_uid,
    _id(2, "object", "delete_impl"): _delete_impl,
    _id(2, "object", "record_new_uid"): _record_new_uid,
    _id(2, "tx_context", "fresh_id"): _fresh_id,
    _id(2, "tx_context", "derive_id"): _derive_id,
    _id(2, "tx_context", "native_sender"): _sender,
    _id(2, "tx_context", "native_digest"): _digest,
    _id(2, "tx_context", "native_epoch"): lambda f: f.ctx.epoch,
    _id(2, "tx_context", "native_epoch_timestamp_ms"): lambda f: f.ctx.epoch_timestamp_ms,
    _id(2, "tx_context", "native_ids_created"): lambda f: f.log.ids_created,
    _id(2, "tx_context", "native_gas_price"): lambda f: f.ctx.gas_price,
    _id(2, "tx_context", "native_gas_budget"): lambda f: f.ctx.gas_budget,
    _id(2, "transfer", "transfer_impl"): _object_op("transfer"),
    _id(2, "transfer", "share_object_impl"): _object_op("share"),
    _id(2, "transfer", "freeze_object_impl"): _object_op("freeze"),
    _id(2, "event", "emit"): _emit,
    _id(2, "types", "is_one_time_witness"): _is_one_time_witness,
    _id(2, "address", "to_u256"): _to_u256,
    _id(2, "address", "from_u256"): _from_u256,
    _id(2, "address", "from_bytes"): _from_bytes,
    _id(2, "transfer", "receive_impl"): _receive_impl,
    _id(2, "hash", "blake2b256"): _hash(blake2b256, by_ref=True),
    _id(2, "hash", "keccak256"): _hash(keccak256, by_ref=True),
    _id(1, "hash", "sha2_256"): _hash(lambda d: hashlib.sha256(d).digest(), by_ref=False),
    _id(1, "hash", "sha3_256"): _hash(lambda d: hashlib.sha3_256(d).digest(), by_ref=False),
    _id(1, "bcs", "to_bytes"): _to_bytes,
    _id(1, "string", "internal_check_utf8"): _check_utf8,
    _id(1, "string", "internal_is_char_boundary"): _is_char_boundary,
    _id(1, "string", "internal_sub_string"): _sub_string,
    _id(1, "string", "internal_index_of"): _index_of,
    _id(1, "type_name", "get"): _type_name_get,
    _id(1, "type_name", "get_with_original_ids"): _type_name_with_original_ids,
    _id(2, "package", "original_package_id_impl"): _original_package_id_impl,
    _id(1, "debug", "print"): _no_op,
    _id(1, "debug", "print_stack_trace"): _no_op,
}
"""Natives by import name (``0x2::transfer::transfer_impl``)."""


def native_module(name: str) -> ModuleId:
    """The module a native import name belongs to."""
    address, module, _ = name.split("::")
    return ModuleId(int(address, 16).to_bytes(32, "big"), module)


__all__ = [
    "NATIVES",
    "NATIVE_FUEL",
    "NATIVE_FUEL_PER_BYTE",
    "EmittedEvent",
    "NativeAbort",
    "NativeFrame",
    "NativeUnavailable",
    "ObjectEvent",
    "ObjectLog",
    "TxContext",
    "derive_object_id",
    "type_name",
]
