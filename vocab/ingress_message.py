"""What a client submits and a block carries: the IC's signed envelopes and Sui's signed
transactions, bare or certified (``vocab.sui.certificate``), side by side.

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
from vocab.errors import SuiError
from vocab.sui.certificate import CertifiedTransaction
from vocab.sui.signed import SignedTransaction
from vocab.sui.transaction import MoveCall

IngressMessage: TypeAlias = SignedEnvelope | SignedTransaction | CertifiedTransaction
SuiMessage: TypeAlias = SignedTransaction | CertifiedTransaction
"""A Sui transaction as a block carries it: bare (shared objects only) or certified."""

INGRESS_KINDS = (SignedEnvelope, SignedTransaction, CertifiedTransaction)


def label(message: IngressMessage) -> str:
    """What a request does, for traces and reports: the canister method, or the Sui
    transaction's first command (``module::function`` of a Move call, ``Publish``...)."""
    if isinstance(message, SignedEnvelope):
        return message.content.method_name
    if isinstance(message, CertifiedTransaction):
        message = message.transaction
    try:
        commands = message.transaction().kind.commands
    except SuiError:
        return "sui:undecodable"
    if not commands:
        return "sui:empty"
    first = commands[0]
    if isinstance(first, MoveCall):
        return f"sui:{first.module}::{first.function}"
    return f"sui:{type(first).__name__}"


__all__ = [
    "INGRESS_KINDS",
    "CertifiedTransaction",
    "IngressMessage",
    "SignedEnvelope",
    "SignedTransaction",
    "SuiMessage",
    "label",
]
