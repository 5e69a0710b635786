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

from move.abi import HEAP_END, HEAP_POINTER, SLOT, VEC_CAP, VEC_DATA, VEC_HEADER, VEC_LEN
from move.types import Prim, PrimType, StructType, Type, VectorType
from vocab.leb128 import encode_leb128, read_leb128

U64_MASK = (1 << 64) - 1
WASM_PAGE = 65536
MAX_BCS_LENGTH = 2**31 - 1

Layouts = Callable[[StructType], list[Type]]
"""The field types of an instantiated struct type."""
Variants = Callable[[StructType], list[list[Type]] | None]
"""The field types of each variant of an instantiated enum type (None: a struct)."""


class HeapError(Exception):
    """A pointer outside the memory, or memory exhausted: the call fails, the host does not."""


class BcsDecodeError(ValueError):
    """Argument bytes that are not the BCS encoding of a value of the parameter's type."""


def signed(value: int) -> int:
    """A u64 as the i64 wasmtime passes."""
    return value - (1 << 64) if value >= 1 << 63 else value


class Heap:
    """One call's memory, with the heap pointer and the heap's logical end (``move.abi``'s
    first two words).

    ``grow`` moves the logical end a page at a time and grows the Wasm memory only when
    it is smaller, so that the work a call does (and the fuel it is charged) does not
    depend on how large an earlier call left the memory. The memory's address and size are
    cached and re-read by ``refresh`` whenever Wasm may have run (the VM calls it before
    and after a call and on entry to every host function): reads and writes then cost a
    bounds check and a ``ctypes`` copy.
    """

    def __init__(self, store: wasmtime.Store, memory: wasmtime.Memory, limit: int) -> None:
        self.store = store
        self.memory = memory
        self.limit = limit
        self._length = 0
        self._base = 0
        self.refresh()

    def refresh(self) -> None:
        length = self.memory.data_len(self.store)
        if length != self._length:
            pointer = ctypes.cast(self.memory.data_ptr(self.store), ctypes.c_void_p).value
            assert pointer is not None
            self._base = pointer
            self._length = length

    def _check(self, ptr: int, size: int) -> int:
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

    def _word(self, address: int) -> ctypes.c_uint32:
        return ctypes.c_uint32.from_address(self._base + address)

    def reset(self, start: int, end: int) -> None:
        """A new call: the heap starts at ``start`` and may use memory up to ``end``."""
        self.refresh()
        self._word(HEAP_POINTER).value = start
        self._word(HEAP_END).value = end

    @property
    def end(self) -> int:
        return self._word(HEAP_END).value

    def grow(self, end: int) -> int:
        """Make ``[0, end)`` usable: move the logical end by whole pages, grow the memory if
        needed; returns how many pages the logical end moved."""
        if end > self.limit:
            raise HeapError(f"the call needs {end} bytes of memory, more than its limit of {self.limit}")
        before = self.end
        new_end = max(-(-end // WASM_PAGE) * WASM_PAGE, before)
        if new_end > self._length:
            self.memory.grow(self.store, (new_end - self._length) // WASM_PAGE)
            self.refresh()
        self._word(HEAP_END).value = new_end
        return (new_end - before) // WASM_PAGE

    def alloc(self, size: int) -> int:
        size = -(-size // SLOT) * SLOT
        pointer = self._word(HEAP_POINTER)
        start = pointer.value
        end = start + size
        if end > self._word(HEAP_END).value:
            self.grow(end)
            pointer = self._word(HEAP_POINTER)  # the memory may have moved
        pointer.value = end
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
    """Move values between memory and BCS, given the struct layouts of the call.

    Each type gets an encoder and a decoder built once (closures over its fields' codecs)
    and cached, so that marshalling a struct costs its fields, not a walk over the type.
    """

    def __init__(self, heap: Heap, layouts: Layouts, variants: Variants | None = None) -> None:
        self.heap = heap
        self.layouts = layouts
        self.variants: Variants = variants or (lambda ty: None)
        self._encoders: dict[Type, Callable[[int, bytearray], None]] = {}
        self._decoders: dict[Type, Callable[[bytes, int], tuple[int, int]]] = {}

    # memory -> BCS
    def encode(self, ty: Type, slot: int) -> bytes:
        out = bytearray()
        self.encoder(ty)(slot & U64_MASK, out)
        return bytes(out)

    def encoder(self, ty: Type, depth: int = 0) -> Callable[[int, bytearray], None]:
        found = self._encoders.get(ty)
        if found is None:
            found = self._make_encoder(ty, depth)
            self._encoders[ty] = found
        return found

    def _make_encoder(self, ty: Type, depth: int) -> Callable[[int, bytearray], None]:
        if depth > 500:
            raise HeapError("a type nested deeper than 500 levels")
        heap = self.heap
        if isinstance(ty, PrimType):
            prim = ty.prim
            if prim == Prim.BOOL:
                return lambda slot, out: out.append(1 if slot else 0)
            if prim == Prim.ADDRESS or prim.bits > 64:
                size = 32 if prim == Prim.ADDRESS else prim.bits // 8
                return lambda slot, out: out.extend(heap.read(slot, size))
            width = prim.bits // 8
            return lambda slot, out: out.extend((slot & U64_MASK).to_bytes(width, "little"))
        if isinstance(ty, VectorType):
            if ty.element == PrimType(Prim.U8):

                def encode_bytes(slot: int, out: bytearray) -> None:
                    slots = heap.vector_slots(slot)
                    out += encode_leb128(len(slots))
                    out += bytes(s & 0xFF for s in slots)

                return encode_bytes
            element = self.encoder(ty.element, depth + 1)

            def encode_vector(slot: int, out: bytearray) -> None:
                slots = heap.vector_slots(slot)
                out += encode_leb128(len(slots))
                for s in slots:
                    element(s, out)

            return encode_vector
        if isinstance(ty, StructType) and (shapes := self.variants(ty)) is not None:
            # an enum: [tag, fields...] in memory; BCS is the tag as ULEB128, then the fields
            cases = [[self.encoder(f, depth + 1) for f in shape] for shape in shapes]

            def encode_enum(slot: int, out: bytearray) -> None:
                tag = heap.u64(slot)
                if tag >= len(cases):
                    raise HeapError(f"an enum value at {slot} has variant {tag} of {len(cases)}")
                out += encode_leb128(tag)
                case = cases[tag]
                raw = heap.read(slot + SLOT, SLOT * len(case))
                for i, field in enumerate(case):
                    field(int.from_bytes(raw[8 * i : 8 * i + 8], "little"), out)

            return encode_enum
        if isinstance(ty, StructType):
            fields = [self.encoder(f, depth + 1) for f in self.layouts(ty)]
            size = SLOT * len(fields)

            def encode_struct(slot: int, out: bytearray) -> None:
                raw = heap.read(slot, size)
                for i, field in enumerate(fields):
                    field(int.from_bytes(raw[8 * i : 8 * i + 8], "little"), out)

            return encode_struct
        raise HeapError(f"a value of type {ty} cannot be encoded")

    # BCS -> memory
    def decode(self, ty: Type, data: bytes) -> int:
        try:
            slot, pos = self.decoder(ty)(data, 0)
        except (IndexError, ValueError) as exc:
            if isinstance(exc, BcsDecodeError):
                raise
            raise BcsDecodeError(f"the bytes end inside a value of type {ty}") from None
        if pos != len(data):
            raise BcsDecodeError(f"{len(data) - pos} bytes left over after a value of type {ty}")
        return slot

    def decoder(self, ty: Type, depth: int = 0) -> Callable[[bytes, int], tuple[int, int]]:
        found = self._decoders.get(ty)
        if found is None:
            found = self._make_decoder(ty, depth)
            self._decoders[ty] = found
        return found

    def _make_decoder(self, ty: Type, depth: int) -> Callable[[bytes, int], tuple[int, int]]:
        if depth > 500:
            raise BcsDecodeError("a type nested deeper than 500 levels")
        heap = self.heap
        if isinstance(ty, PrimType):
            prim = ty.prim
            if prim == Prim.BOOL:

                def decode_bool(data: bytes, pos: int) -> tuple[int, int]:
                    byte = data[pos]
                    if byte > 1:
                        raise BcsDecodeError(f"a bool is 0 or 1, not {byte}")
                    return byte, pos + 1

                return decode_bool
            size = 32 if prim == Prim.ADDRESS else prim.bits // 8
            if prim != Prim.ADDRESS and prim.bits <= 64:

                def decode_small(data: bytes, pos: int) -> tuple[int, int]:
                    end = pos + size
                    if end > len(data):
                        raise IndexError
                    return int.from_bytes(data[pos:end], "little"), end

                return decode_small

            def decode_block(data: bytes, pos: int) -> tuple[int, int]:
                end = pos + size
                if end > len(data):
                    raise IndexError
                block = heap.alloc(size)
                heap.write(block, data[pos:end])
                return block, end

            return decode_block
        if isinstance(ty, VectorType):
            is_bytes = ty.element == PrimType(Prim.U8)
            element = None if is_bytes else self.decoder(ty.element, depth + 1)

            def decode_vector(data: bytes, pos: int) -> tuple[int, int]:
                try:
                    length, pos = read_leb128(data, pos, len(data), "vector length")
                except ValueError as exc:
                    raise BcsDecodeError(str(exc)) from exc
                if length > MAX_BCS_LENGTH:
                    raise BcsDecodeError(f"a vector length of {length} is above BCS's limit")
                if element is None:
                    end = pos + length
                    if end > len(data):
                        raise IndexError
                    return heap.new_bytes(data[pos:end]), end
                slots = []
                for _ in range(length):
                    s, pos = element(data, pos)
                    slots.append(s)
                return heap.new_vector(slots), pos

            return decode_vector
        if isinstance(ty, StructType) and (shapes := self.variants(ty)) is not None:
            cases = [[self.decoder(f, depth + 1) for f in shape] for shape in shapes]

            def decode_enum(data: bytes, pos: int) -> tuple[int, int]:
                try:
                    tag, pos = read_leb128(data, pos, len(data), "variant index")
                except ValueError as exc:
                    raise BcsDecodeError(str(exc)) from exc
                if tag >= len(cases):
                    raise BcsDecodeError(f"variant index {tag} of {ty}, which has {len(cases)} variants")
                case = cases[tag]
                raw = bytearray(SLOT * (len(case) + 1))
                raw[0:8] = tag.to_bytes(8, "little")
                for i, field in enumerate(case):
                    s, pos = field(data, pos)
                    raw[8 * i + 8 : 8 * i + 16] = s.to_bytes(8, "little")
                block = heap.alloc(len(raw))
                heap.write(block, bytes(raw))
                return block, pos

            return decode_enum
        if isinstance(ty, StructType):
            fields = [self.decoder(f, depth + 1) for f in self.layouts(ty)]
            size = SLOT * len(fields)

            def decode_struct(data: bytes, pos: int) -> tuple[int, int]:
                raw = bytearray(size)
                for i, field in enumerate(fields):
                    s, pos = field(data, pos)
                    raw[8 * i : 8 * i + 8] = s.to_bytes(8, "little")
                block = heap.alloc(size)
                heap.write(block, bytes(raw))
                return block, pos

            return decode_struct
        raise BcsDecodeError(f"a value of type {ty} cannot be passed")


__all__ = ["BcsDecodeError", "Heap", "HeapError", "Layouts", "Marshal", "Variants", "signed"]
