"""Base58 with the Bitcoin alphabet: how Sui prints digests (transactions, objects,
checkpoints). Leading zero bytes are written as leading ``1`` characters, one each."""

from __future__ import annotations

import functools

from vocab.errors import SubnetError

ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_INDEX = {char: i for i, char in enumerate(ALPHABET)}
ENCODED_CACHE = 16384
"""Encodings remembered (``encode``)."""


class Base58Error(SubnetError, ValueError):
    """Text that is not Base58 (a character outside the alphabet, or empty)."""


@functools.lru_cache(maxsize=ENCODED_CACHE)
def encode(data: bytes) -> str:
    """``data`` in Base58; remembered, as one digest is printed many times over (in each
    response that names the object or transaction), and the conversion is a long division
    in Python."""
    zeros = len(data) - len(data.lstrip(b"\0"))
    number = int.from_bytes(data, "big")
    digits = []
    while number:
        number, digit = divmod(number, 58)
        digits.append(ALPHABET[digit])
    return "1" * zeros + "".join(reversed(digits))


def decode(text: str, size: int | None = None) -> bytes:
    """The bytes ``text`` spells; with ``size``, exactly that many or an error."""
    if not isinstance(text, str) or not text:
        raise Base58Error("Base58 text is empty")
    number = 0
    for position, char in enumerate(text):
        digit = _INDEX.get(char)
        if digit is None:
            raise Base58Error(f"{char!r} at position {position} is not a Base58 character")
        number = number * 58 + digit
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big")
    data = b"\0" * zeros + body
    if size is not None and len(data) != size:
        raise Base58Error(f"{text!r} decodes to {len(data)} bytes, not {size}")
    return data


__all__ = ["ALPHABET", "Base58Error", "decode", "encode"]
