"""Putting a module into a canister: one ``install_code`` for a module that fits in an
ingress message, the chunk store otherwise.

Each chunk travels once (``upload_chunk``); ``install_chunked_code`` then names the
chunks by hash and the module by its hash, which the subnet checks, and the chunk store
is cleared afterwards. The benchmarks install this way too.
"""

from __future__ import annotations

import hashlib

from client import manage
from client.agent import Agent
from vocab import management
from vocab.principal import Principal

CHUNK_BYTES = 1024 * 1024
"""Modules above this go up with upload_chunk / install_chunked_code (ingress is ~2 MiB)."""


async def install_module(
    agent: Agent, canister_id: Principal, mode: management.CanisterInstallMode, module: bytes, arg: bytes
) -> None:
    """``install_code``, or for a module over ``CHUNK_BYTES`` the chunk store's path."""
    if len(module) <= CHUNK_BYTES:
        await manage.update(
            agent, management.INSTALL_CODE, management.InstallCodeArgs(mode, canister_id, module, arg)
        )
        return
    hashes = []
    for start in range(0, len(module), CHUNK_BYTES):
        chunk = management.UploadChunkArgs(canister_id, module[start : start + CHUNK_BYTES])
        hashes.append(await manage.update(agent, management.UPLOAD_CHUNK, chunk))
    chunked = management.InstallChunkedCodeArgs(
        mode, canister_id, tuple(hashes), hashlib.sha256(module).digest(), arg
    )
    await manage.update(agent, management.INSTALL_CHUNKED_CODE, chunked)
    await manage.update(agent, management.CLEAR_CHUNK_STORE, management.CanisterIdRecord(canister_id))
