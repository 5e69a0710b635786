"""A cursor over the bytes of a WebAssembly module, with the format's bounded integers.

Wasm encodes every count, index and size as LEB128 with a bound the decoder must enforce:
an ``uN`` takes at most ``ceil(N / 7)`` bytes and its value must fit in ``N`` bits. The
digits are decoded by :mod:`vocab.leb128` (the project's one LEB128); this cursor adds the
bounds, so that a module that overflows a ``u32`` is refused here with the offset, not
accepted by one reader and refused by another.
"""

from __future__ import annotations

from vocab.leb128 import Leb128Error, encode_leb128, read_leb128, read_sleb128


class WasmFormatError(ValueError):
    """The bytes are not a module this reader can parse; the message says where and why."""


def _max_length(bits: int) -> int:
    """The most bytes an N-bit LEB128 may take in Wasm: ceil(N / 7)."""
    return (bits + 6) // 7


class Reader:
    """A cursor over ``data[pos:end]`` that raises :class:`WasmFormatError` past the end."""

    __slots__ = ("data", "pos", "end")

    def __init__(self, data: bytes, pos: int = 0, end: int | None = None) -> None:
        self.data = data
        self.pos = pos
        self.end = len(data) if end is None else end

    def at_end(self) -> bool:
        return self.pos >= self.end

    def byte(self) -> int:
        if self.pos >= self.end:
            raise WasmFormatError(f"unexpected end of data at offset {self.pos}")
        value = self.data[self.pos]
        self.pos += 1
        return value

    def bytes(self, count: int) -> bytes:
        if count < 0 or self.pos + count > self.end:
            raise WasmFormatError(f"unexpected end of data at offset {self.pos} (need {count} bytes)")
        value = self.data[self.pos : self.pos + count]
        self.pos += count
        return bytes(value)

    def uleb(self, max_bits: int = 64) -> int:
        """An unsigned LEB128 of at most ``max_bits`` bits (``u32``, ``u64``)."""
        start = self.pos
        try:
            value, end = read_leb128(self.data, start, self.end)
        except Leb128Error:
            raise WasmFormatError(f"unexpected end of data at offset {start}") from None
        if end - start > _max_length(max_bits):
            raise WasmFormatError(f"LEB128 integer too long at offset {start}")
        if value >> max_bits:
            raise WasmFormatError(f"integer out of range for u{max_bits} at offset {start}")
        self.pos = end
        return value

    def u32(self) -> int:
        return self.uleb(32)

    def sleb(self, bits: int) -> int:
        """A signed LEB128 of at most ``bits`` bits (``s32``, ``s33``, ``s64``)."""
        start = self.pos
        try:
            value, end = read_sleb128(self.data, start, self.end)
        except Leb128Error:
            raise WasmFormatError(f"unexpected end of data at offset {start}") from None
        if end - start > _max_length(bits):
            raise WasmFormatError(f"LEB128 integer too long at offset {start}")
        self.pos = end
        return value

    def name(self) -> str:
        """A name: a ``u32`` length, then that many bytes of UTF-8."""
        raw = self.bytes(self.u32())
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise WasmFormatError(f"name is not valid UTF-8 at offset {self.pos}") from exc


def encode_name(text: str) -> bytes:
    """A name as the format writes it: its UTF-8 length, then the bytes."""
    raw = text.encode("utf-8")
    return encode_leb128(len(raw)) + raw
