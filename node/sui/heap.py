"""The linear memory of a Move call, seen from the host: allocation, reads and writes, and
Move values translated between memory (``move.abi``'s layout) and BCS.

The VM writes a call's arguments into memory from their BCS bytes and reads results and
mutated references back as BCS; natives (``transfer``, ``event::emit``, ``bcs::to_bytes``)
read object contents the same way. BCS is also how the host compares and copies values
of a type it only knows at run time (structural equality is equality of the canonical
encodings; a deep copy is a decode of the encoding), which keeps one type walk for all.

Every pointer that comes from Wasm is checked against the memory's size before the host
touches it: a module is untrusted input, and a bad pointer must fail the call, not the
replica.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable

import wasmtime

from move.abi import SLOT, VEC_CAP, VEC_DATA, VEC_HEADER, VEC_LEN
from move.types import Prim, PrimType, StructType, Type, VectorType
from vocab.leb128 import encode_leb128, read_leb128

U64_MASK = (1 << 64) - 1
WASM_PAGE = 65536
MAX_BCS_LENGTH = 2**31 - 1

Layouts = Callable[[StructType], list[Type]]
"""The field types of an instantiated struct type."""


class HeapError(Exception):
    """A pointer outside the memory, or memory exhausted: the call fails, the host does not."""


class BcsDecodeError(ValueError):
    """Argument bytes that are not the BCS encoding of a value of the parameter's type."""


def signed(value: int) -> int:
    """A u64 as the i64 wasmtime passes."""
    return value - (1 << 64) if value >= 1 << 63 else value


class Heap:
    """One call's memory: the shared heap pointer and the logical end of the heap.

    ``grow`` moves the logical end a page at a time and grows the Wasm memory only when
    it is smaller, so that the work a call does (and the fuel it is charged) does not
    depend on how large an earlier call left the memory.
    """

    def __init__(
        self,
        store: wasmtime.Store,
        memory: wasmtime.Memory,
        heap: wasmtime.Global,
        heap_end: wasmtime.Global,
        limit: int,
    ) -> None:
        self.store = store
        self.memory = memory
        self.heap = heap
        self.heap_end = heap_end
        self.limit = limit
        self._length = -1
        self._base = 0

    def refresh(self) -> None:
        length = self.memory.data_len(self.store)
        if length != self._length:
            pointer = ctypes.cast(self.memory.data_ptr(self.store), ctypes.c_void_p).value
            assert pointer is not None
            self._base = pointer
            self._length = length

    def _check(self, ptr: int, size: int) -> int:
        self.refresh()
        if ptr < 0 or ptr + size > self._length:
            raise HeapError(f"pointer {ptr}+{size} is outside the memory ({self._length} bytes)")
        return self._base + ptr

    def read(self, ptr: int, size: int) -> bytes:
        address = self._check(ptr, size)
        return ctypes.string_at(address, size) if size else b""

    def write(self, ptr: int, data: bytes) -> None:
        if data:
            ctypes.memmove(self._check(ptr, len(data)), data, len(data))

    def u64(self, ptr: int) -> int:
        return ctypes.c_uint64.from_address(self._check(ptr, 8)).value

    def set_u64(self, ptr: int, value: int) -> None:
        ctypes.c_uint64.from_address(self._check(ptr, 8)).value = value & U64_MASK

    def grow(self, end: int) -> None:
        """Make ``[0, end)`` usable: move the logical end by whole pages, grow the memory if needed."""
        if end > self.limit:
            raise HeapError(f"the call needs {end} bytes of memory, more than its limit of {self.limit}")
        new_end = -(-end // WASM_PAGE) * WASM_PAGE
        self.refresh()
        if new_end > self._length:
            self.memory.grow(self.store, (new_end - self._length) // WASM_PAGE)
            self.refresh()
        self.heap_end.set_value(self.store, wasmtime.Val.i32(new_end))

    def alloc(self, size: int) -> int:
        size = -(-size // SLOT) * SLOT
        start = int(self.heap.value(self.store))  # type: ignore[arg-type]
        end = start + size
        if end > int(self.heap_end.value(self.store)):  # type: ignore[arg-type]
            self.grow(end)
        self.heap.set_value(self.store, wasmtime.Val.i32(end))
        return start

    # -- vectors -----------------------------------------------------------------------
    def new_vector(self, slots: list[int]) -> int:
        n = len(slots)
        header = self.alloc(VEC_HEADER + SLOT * n)
        data = header + VEC_HEADER
        raw = bytearray(VEC_HEADER + SLOT * n)
        raw[0:8] = n.to_bytes(8, "little")
        raw[8:16] = n.to_bytes(8, "little")
        raw[16:24] = data.to_bytes(8, "little")
        for i, s in enumerate(slots):
            raw[VEC_HEADER + 8 * i : VEC_HEADER + 8 * i + 8] = (s & U64_MASK).to_bytes(8, "little")
        self.write(header, bytes(raw))
        return header

    def vector_slots(self, header: int) -> list[int]:
        length = self.u64(header + VEC_LEN)
        capacity = self.u64(header + VEC_CAP)
        if length > capacity:
            raise HeapError(f"vector at {header} has length {length} above its capacity {capacity}")
        data = self.u64(header + VEC_DATA)
        raw = self.read(data, SLOT * length)
        return [int.from_bytes(raw[i : i + 8], "little") for i in range(0, len(raw), 8)]

    def vector_bytes(self, header: int) -> bytes:
        """A ``vector<u8>`` as bytes (each element is a slot holding one byte)."""
        return bytes(s & 0xFF for s in self.vector_slots(header))

    def new_bytes(self, data: bytes) -> int:
        return self.new_vector(list(data))


class Marshal:
    """Move values between memory and BCS, given the struct layouts of the call."""

    def __init__(self, heap: Heap, layouts: Layouts) -> None:
        self.heap = heap
        self.layouts = layouts

    # memory -> BCS
    def encode(self, ty: Type, slot: int) -> bytes:
        out = bytearray()
        self._encode(ty, slot & U64_MASK, out, 0)
        return bytes(out)

    def _encode(self, ty: Type, slot: int, out: bytearray, depth: int) -> None:
        if depth > 500:
            raise HeapError("a value nested deeper than 500 levels")
        if isinstance(ty, PrimType):
            prim = ty.prim
            if prim == Prim.BOOL:
                out.append(1 if slot else 0)
            elif prim == Prim.ADDRESS:
                out += self.heap.read(slot, 32)
            elif prim.bits <= 64:
                out += slot.to_bytes(prim.bits // 8, "little")
            else:
                out += self.heap.read(slot, prim.bits // 8)
        elif isinstance(ty, VectorType):
            slots = self.heap.vector_slots(slot)
            out += encode_leb128(len(slots))
            element = ty.element
            if element == PrimType(Prim.U8):
                out += bytes(s & 0xFF for s in slots)
            else:
                for s in slots:
                    self._encode(element, s, out, depth + 1)
        elif isinstance(ty, StructType):
            fields = self.layouts(ty)
            raw = self.heap.read(slot, SLOT * len(fields))
            for i, field in enumerate(fields):
                self._encode(field, int.from_bytes(raw[8 * i : 8 * i + 8], "little"), out, depth + 1)
        else:
            raise HeapError(f"a value of type {ty} cannot be encoded")

    # BCS -> memory
    def decode(self, ty: Type, data: bytes) -> int:
        slot, pos = self._decode(ty, data, 0, 0)
        if pos != len(data):
            raise BcsDecodeError(f"{len(data) - pos} bytes left over after a value of type {ty}")
        return slot

    def _take(self, data: bytes, pos: int, size: int, ty: Type) -> bytes:
        if pos + size > len(data):
            raise BcsDecodeError(f"the bytes end inside a value of type {ty}")
        return data[pos : pos + size]

    def _decode(self, ty: Type, data: bytes, pos: int, depth: int) -> tuple[int, int]:
        if depth > 500:
            raise BcsDecodeError("a value nested deeper than 500 levels")
        heap = self.heap
        if isinstance(ty, PrimType):
            prim = ty.prim
            if prim == Prim.BOOL:
                byte = self._take(data, pos, 1, ty)[0]
                if byte > 1:
                    raise BcsDecodeError(f"a bool is 0 or 1, not {byte}")
                return byte, pos + 1
            size = 32 if prim == Prim.ADDRESS else prim.bits // 8
            raw = self._take(data, pos, size, ty)
            if prim != Prim.ADDRESS and prim.bits <= 64:
                return int.from_bytes(raw, "little"), pos + size
            block = heap.alloc(size)
            heap.write(block, raw)
            return block, pos + size
        if isinstance(ty, VectorType):
            try:
                length, pos = read_leb128(data, pos, len(data), "vector length")
            except ValueError as exc:
                raise BcsDecodeError(str(exc)) from exc
            if length > MAX_BCS_LENGTH:
                raise BcsDecodeError(f"a vector length of {length} is above BCS's limit")
            if ty.element == PrimType(Prim.U8):
                raw = self._take(data, pos, length, ty)
                return heap.new_bytes(raw), pos + length
            slots = []
            for _ in range(length):
                s, pos = self._decode(ty.element, data, pos, depth + 1)
                slots.append(s)
            return heap.new_vector(slots), pos
        if isinstance(ty, StructType):
            fields = self.layouts(ty)
            slots = []
            for field in fields:
                s, pos = self._decode(field, data, pos, depth + 1)
                slots.append(s)
            block = heap.alloc(SLOT * max(len(fields), 1))
            heap.write(block, b"".join((s & U64_MASK).to_bytes(8, "little") for s in slots))
            return block, pos
        raise BcsDecodeError(f"a value of type {ty} cannot be passed")


__all__ = ["BcsDecodeError", "Heap", "HeapError", "Layouts", "Marshal", "signed"]
