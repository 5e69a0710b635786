"""A module as it is installed: a Wasm binary, or that binary compressed with gzip.

The IC accepts both and reports the hash of the bytes as sent, so every reader of a
module (the replica before it compiles, a client before it reads metadata) must unwrap it
the same way, with the same bound on the decompressed size: without the bound, a small
gzip bomb would exhaust memory before the module's size could be checked.
"""

from __future__ import annotations

import zlib

from vocab.wasm.module import MAGIC
from vocab.wasm.reader import WasmFormatError

GZIP_MAGIC = b"\x1f\x8b\x08"
MAX_MODULE_SIZE = 100 * 1024 * 1024
"""The IC's limit on a (decompressed) module."""


class ModuleBytesError(WasmFormatError):
    """Module bytes that cannot be unwrapped; ``rule`` is ``module-format`` or ``module-size``."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule


def unwrap_module(raw: bytes, max_size: int = MAX_MODULE_SIZE) -> bytes:
    """The Wasm binary of installed module bytes, gunzipped as the IC does.

    Checks the size bound and the Wasm magic number; the rest of the format is the
    module reader's to check.
    """
    if raw.startswith(GZIP_MAGIC):
        decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            data = decompressor.decompress(raw, max_size + 1)
        except zlib.error as exc:
            raise ModuleBytesError("module-format", f"the gzip-compressed module is corrupt: {exc}") from None
        if len(data) > max_size or decompressor.unconsumed_tail:
            raise ModuleBytesError("module-size", f"the decompressed module exceeds {max_size} bytes")
        if not decompressor.eof:
            raise ModuleBytesError("module-format", "the gzip-compressed module is truncated")
        return data
    if len(raw) > max_size:
        raise ModuleBytesError("module-size", f"the module of {len(raw)} bytes exceeds {max_size}")
    if not raw.startswith(MAGIC):
        raise ModuleBytesError(
            "module-format",
            "not a WebAssembly module: it starts neither with \\0asm nor with gzip's 1f 8b 08",
        )
    return raw
