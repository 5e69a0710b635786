"""The event trace of a simulated run, and the hash that proves two runs were the same.

Each record is one line of canonical JSON ``[time_ns, kind, node, ...details]`` fed to a
running SHA-256; ``trace_hash`` is its hex digest. Two runs with the same seed and
configuration must produce the same lines, byte for byte, whatever the Python process
(PYTHONHASHSEED, address layout); a difference in any send, delivery, proposal,
notarization, finalization or execution changes the hash.

Records are kept in memory only on request (``keep=True``), so long runs cost a hash
update per event and no memory.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from node.consensus.icc import (
    BlockProposal,
    CatchUpPackage,
    CatchUpRequest,
    CatchUpResponse,
    Finalization,
    FinalizationShare,
    Notarization,
    NotarizationShare,
)
from node.ingress import IngressGossip
from node.state_sync import StateChunk
from vocab.certificate import Certificate, CertificationShare
from vocab.codec import Message


def describe(message: Message) -> str:
    """A compact identity of a message for the trace: its kind and what it is about.

    ICC's artifacts are named here in ICC's terms (heights, ranks, block hashes); a
    message of a protocol this function does not know is traced by its wire tag."""
    if isinstance(message, BlockProposal):
        block = message.block
        return f"proposal h{block.height} r{block.rank} {block.hash.hex()[:12]} {message.signature.hex()[:8]}"
    if isinstance(message, (NotarizationShare, FinalizationShare)):
        return (
            f"{message.TAG} h{message.height} {message.block_hash.hex()[:12]} {message.signature.hex()[:8]}"
        )
    if isinstance(message, (Notarization, Finalization)):
        return f"{message.TAG} h{message.height} {message.block_hash.hex()[:12]} n{len(message.signers)}"
    if isinstance(message, CertificationShare):
        return f"cert-share h{message.height} {message.state_hash.hex()[:12]} {message.signature.hex()[:8]}"
    if isinstance(message, Certificate):
        return f"certificate h{message.height} {message.state_hash.hex()[:12]}"
    if isinstance(message, IngressGossip):
        return f"ingress {message.envelope.request_id.hex()[:12]}"
    if isinstance(message, CatchUpRequest):
        return f"catch-up-request {message.from_height}..{message.to_height}"
    if isinstance(message, CatchUpResponse):
        heights = [block.height for block in message.blocks]
        span = f"{heights[0]}..{heights[-1]}" if heights else "-"
        return f"catch-up-response {span} f{len(message.finalizations)} c{len(message.certificates)}"
    if isinstance(message, CatchUpPackage):
        return f"catch-up-package h{message.height} {message.digest.hex()[:12]} k{message.chunks}"
    if isinstance(message, StateChunk):
        return f"state-chunk h{message.height} {message.digest.hex()[:12]} #{message.index}"
    return message.TAG or type(message).__name__


_ENCODER = json.JSONEncoder(separators=(",", ":"), sort_keys=True)
"""``json.dumps`` with these options builds a new encoder per call; the lines are the same."""
_QUOTE = json.encoder.encode_basestring_ascii
"""How that encoder writes a string (``ensure_ascii``)."""


def quote(label: str) -> str:
    """A label as the trace's JSON writes a string."""
    return _QUOTE(label)


def _plain(value: Any) -> str | None:
    """A plain int or str as the encoder writes it, or None for anything else."""
    kind = type(value)
    if kind is int:
        return int.__repr__(value)
    if kind is str:
        return _QUOTE(value)
    return None


def _flat_map(value: dict[Any, Any]) -> str | None:
    """A dict of str keys and plain int or str values (most notices' details) as the
    encoder writes it with ``sort_keys``, or None for anything else."""
    parts = []
    for key, item in sorted(value.items()) if all(type(key) is str for key in value) else ():
        kind = type(item)
        if kind is int:
            parts.append(_QUOTE(key) + ":" + int.__repr__(item))
        elif kind is str:
            parts.append(_QUOTE(key) + ":" + _QUOTE(item))
        else:
            return None
    if len(parts) != len(value):
        return None
    return "{" + ",".join(parts) + "}"


def _line(record: list[Any]) -> str:
    """``_ENCODER.encode(record)``, written directly when every item is a plain int or
    str, or a flat dict of them (a notice's details): the same characters, a fraction of
    the time."""
    parts = []
    for item in record:
        text = _flat_map(item) if type(item) is dict else _plain(item)
        if text is None:
            return _ENCODER.encode(record)
        parts.append(text)
    return "[" + ",".join(parts) + "]"


FLUSH_LINES = 512
"""Lines joined into one update of the running hash: the hash of the concatenation is
the hash of the lines fed one by one, with a fraction of the calls."""


class Trace:
    def __init__(self, keep: bool = False) -> None:
        self._hash = hashlib.sha256()
        self._pending: list[str] = []
        self.keep = keep
        self.lines: list[str] = []
        self._hashed = 0

    def _add(self, line: str) -> None:
        pending = self._pending
        pending.append(line)
        if len(pending) >= FLUSH_LINES:
            self._flush()
        if self.keep:
            self.lines.append(line)

    def _flush(self) -> None:
        if self._pending:
            self._pending.append("")
            self._hash.update("\n".join(self._pending).encode())
            self._hashed += len(self._pending) - 1
            self._pending = []

    def record(self, time_ns: int, kind: str, node: int, *details: Any) -> None:
        self._add(_line([time_ns, kind, node, *details]))

    def record_link(
        self, time_ns: int, kind: str, node: int, peer: int, quoted: str, delay: int | None = None
    ) -> None:
        """``record(time_ns, kind, node, peer, label[, delay])`` for the trace's most common
        lines (sends, deliveries, drops, losses: most of every run, n² per round), with the
        label already quoted (``quote``, once per broadcast): the same line, written
        without the general encoder's per-item checks."""
        if delay is None:
            line = f'[{time_ns},"{kind}",{node},{peer},{quoted}]'
        else:
            line = f'[{time_ns},"{kind}",{node},{peer},{quoted},{delay}]'
        pending = self._pending  # ``_add``, inlined
        pending.append(line)
        if len(pending) >= FLUSH_LINES:
            self._flush()
        if self.keep:
            self.lines.append(line)

    def record_notice(self, time_ns: int, kind: str, node: int, height: int, detail: Any) -> None:
        """``record(time_ns, kind, node, height, detail)`` for a replica's notice (a few per
        height and replica), its details written directly when they are a flat map."""
        text = _flat_map(detail) if type(detail) is dict and type(height) is int else None
        if text is None:
            self.record(time_ns, kind, node, height, detail)
        else:
            self._add(f"[{time_ns},{_QUOTE(kind)},{node},{height},{text}]")

    @property
    def count(self) -> int:
        """Lines recorded so far."""
        return self._hashed + len(self._pending)

    @property
    def trace_hash(self) -> str:
        self._flush()
        return self._hash.hexdigest()
