"""What a client submits and a block carries: the IC's signed envelopes and Sui's signed
transactions, side by side.

The two programming models share one consensus, so a block's payload is a sequence of
either kind, in the order the block maker chose. Both name themselves by a 32-byte
``request_id`` (the IC's representation-independent request id; the Sui transaction
digest), bind their signatures into a block through ``wire_digest``, and travel in the
codec as a map each recognises (``wire_matches``). Whatever reads a payload dispatches
on the type, never on a field.
"""

from __future__ import annotations

from typing import TypeAlias

from vocab.envelope import SignedEnvelope
from vocab.sui.signed import SignedTransaction

IngressMessage: TypeAlias = SignedEnvelope | SignedTransaction

INGRESS_KINDS: tuple[type[SignedEnvelope], type[SignedTransaction]] = (SignedEnvelope, SignedTransaction)

__all__ = ["INGRESS_KINDS", "IngressMessage", "SignedEnvelope", "SignedTransaction"]
