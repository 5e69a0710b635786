"""Byzantine behaviours that need no knowledge of the consensus protocol, for fault
injection: a replica that sends nothing (``silent``), or whose every own signature is
random bytes (``garbage``).

The simulator applies them to a replica's actions (``subnet.sim.behaviour``); a replica
process applies them to the frames it sends when its operator says so through the
control channel (``vocab.messages.LinkControl``, ``node.transport.Mesh``). Both use
``garble`` here, so the two backends do the same thing to a message.
"""

from __future__ import annotations

import dataclasses
import random

from vocab.codec import Message

__all__ = ["LINK_BEHAVIOURS", "SIGNATURE_BYTES", "garble"]

SIGNATURE_BYTES = 64

LINK_BEHAVIOURS = ("honest", "silent", "garbage")
"""The behaviours a replica process can be switched to (``LinkControl.behaviour``)."""


def garble(rng: random.Random, message: Message) -> Message:
    """The message with its own signatures replaced by random bytes.

    Generic over every protocol by the codec's convention: a message's own signature is
    its ``signature`` field (a proposal, a vote share, a certification share), an
    aggregate's are its ``signatures`` (a notarization, a certificate). Signatures nested
    deeper (a request's inside a block) are someone else's and stay intact.
    """
    if not dataclasses.is_dataclass(message):
        return message
    fields = {item.name: getattr(message, item.name) for item in dataclasses.fields(message)}
    if "signature" in fields:
        return dataclasses.replace(message, signature=rng.randbytes(SIGNATURE_BYTES))
    if "signatures" in fields:
        noise = tuple(rng.randbytes(SIGNATURE_BYTES) for _ in fields["signatures"])
        return dataclasses.replace(message, signatures=noise)
    return message
