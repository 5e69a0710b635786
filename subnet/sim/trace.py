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
    CatchUpRequest,
    CatchUpResponse,
    Finalization,
    FinalizationShare,
    Notarization,
    NotarizationShare,
)
from node.ingress import IngressGossip
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
    return message.TAG or type(message).__name__


_ENCODER = json.JSONEncoder(separators=(",", ":"), sort_keys=True)
"""``json.dumps`` with these options builds a new encoder per call; the lines are the same."""
_QUOTE = json.encoder.encode_basestring_ascii
"""How that encoder writes a string (``ensure_ascii``)."""


def quote(label: str) -> str:
    """A label as the trace's JSON writes a string."""
    return _QUOTE(label)


def _line(record: list[Any]) -> str:
    """``_ENCODER.encode(record)``, written directly when every item is a plain int or str
    (sends and deliveries, most of the trace): the same characters, a third of the time."""
    parts = []
    for item in record:
        kind = type(item)
        if kind is int:
            parts.append(int.__repr__(item))
        elif kind is str:
            parts.append(_QUOTE(item))
        else:
            return _ENCODER.encode(record)
    return "[" + ",".join(parts) + "]"


class Trace:
    def __init__(self, keep: bool = False) -> None:
        self._hash = hashlib.sha256()
        self.keep = keep
        self.lines: list[str] = []
        self.count = 0
        self.kinds: dict[str, int] = {}

    def record(self, time_ns: int, kind: str, node: int, *details: Any) -> None:
        line = _line([time_ns, kind, node, *details])
        self._hash.update(line.encode("utf-8") + b"\n")
        self.count += 1
        self.kinds[kind] = self.kinds.get(kind, 0) + 1
        if self.keep:
            self.lines.append(line)

    def record_link(self, time_ns: int, kind: str, node: int, peer: int, quoted: str, *delay: int) -> None:
        """``record(time_ns, kind, node, peer, label, *delay)`` for the trace's most common
        lines (sends, deliveries, drops, losses: most of every run, n² per round), with the
        label already quoted (``quote``, once per broadcast): the same line, written
        without the general encoder's per-item checks."""
        if delay:
            line = f'[{time_ns},"{kind}",{node},{peer},{quoted},{delay[0]}]'
        else:
            line = f'[{time_ns},"{kind}",{node},{peer},{quoted}]'
        self._hash.update(line.encode() + b"\n")
        self.count += 1
        self.kinds[kind] = self.kinds.get(kind, 0) + 1
        if self.keep:
            self.lines.append(line)

    @property
    def trace_hash(self) -> str:
        return self._hash.hexdigest()
