"""LEB128 and signed LEB128: the variable-length integers of Candid, Wasm and the
representation-independent hash, written once for all three.

Decoding accepts overlong encodings (Candid's specification does not forbid them and its
conformance suite requires them; Wasm's readers bound the length themselves). A number may be as long as the blob, so long numbers
are assembled by halving rather than by shifting one digit at a time, which would be
quadratic in the number's length.
"""

from __future__ import annotations

import re


class Leb128Error(ValueError):
    """A number runs past the end of its input; ``pos`` is where it started."""

    def __init__(self, message: str, pos: int) -> None:
        super().__init__(message)
        self.pos = pos


_LEB_TAIL = re.compile(rb"[\x80-\xff]*[\x00-\x7f]")
_STRIP_HIGH_BIT = bytes(b & 0x7F for b in range(256))
_SHORT = 9  # up to 63 bits: assembled digit by digit


def encode_leb128(value: int) -> bytes:
    if value < 0:
        raise ValueError(f"LEB128 encodes natural numbers, not {value}")
    if value < 0x80:
        return bytes((value,))
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def encode_sleb128(value: int) -> bytes:
    if -0x40 <= value < 0x40:
        return bytes((value & 0x7F,))
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if (value == 0 and not byte & 0x40) or (value == -1 and byte & 0x40):
            out.append(byte)
            return bytes(out)
        out.append(byte | 0x80)


def _digits_to_int(digits: bytes) -> int:
    """Little-endian base-128 digits (high bits already cleared) to an integer."""
    if len(digits) <= 64:
        result = 0
        for digit in reversed(digits):
            result = (result << 7) | digit
        return result
    half = len(digits) // 2
    return _digits_to_int(digits[:half]) | (_digits_to_int(digits[half:]) << (7 * half))


def _span(buf: bytes, pos: int, end: int, what: str) -> int:
    """The offset just past the LEB128 number starting at ``pos``."""
    match = _LEB_TAIL.match(buf, pos, end)
    if match is None:
        raise Leb128Error(f"{what}: LEB128 number runs past the end of the input", pos)
    return match.end()


def read_leb128(buf: bytes, pos: int, end: int, what: str = "number") -> tuple[int, int]:
    """Decode an unsigned LEB128 at ``pos``; return (value, next position)."""
    result = 0
    shift = 0
    p = pos
    limit = min(end, pos + _SHORT)
    while p < limit:
        byte = buf[p]
        p += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, p
        shift += 7
    stop = _span(buf, pos, end, what)
    return _digits_to_int(buf[pos:stop].translate(_STRIP_HIGH_BIT)), stop


def read_sleb128(buf: bytes, pos: int, end: int, what: str = "number") -> tuple[int, int]:
    """Decode a signed LEB128 at ``pos``; return (value, next position)."""
    if pos < end:
        byte = buf[pos]
        if byte < 0x80:
            return (byte - 0x80 if byte & 0x40 else byte), pos + 1
    stop = _span(buf, pos, end, what)
    if stop - pos <= _SHORT:
        result = 0
        for byte in reversed(buf[pos:stop]):
            result = (result << 7) | (byte & 0x7F)
    else:
        result = _digits_to_int(buf[pos:stop].translate(_STRIP_HIGH_BIT))
    if buf[stop - 1] & 0x40:
        result -= 1 << (7 * (stop - pos))
    return result, stop


def skip_leb128(buf: bytes, pos: int, end: int, what: str = "number") -> int:
    """The position after the LEB128 at ``pos``, without building the number."""
    if pos < end and buf[pos] < 0x80:
        return pos + 1
    return _span(buf, pos, end, what)
