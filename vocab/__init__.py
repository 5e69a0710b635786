"""The shared vocabulary: what every part of the subnet speaks.

Ids (principals, canister ids), requests and signed envelopes, the
representation-independent hash, LEB128, the wire codec and its framing, client/replica
messages, certificates, the committee, the genesis configuration, the management
canister's Candid types, Candid itself, the WebAssembly binary format (``vocab.wasm``),
BCS (``vocab.bcs``) and Sui's vocabulary (``vocab.sui``: addresses, digests, signatures,
type tags, transactions), and ``ingress_message`` (what a block carries: both). Replicas (``node``) and clients (``client``) both import it; it imports nothing else of the project and no I/O library (no trio), so
it can be read, tested and reused on its own.
"""

__all__ = [
    "bcs",
    "candid",
    "certificate",
    "codec",
    "committee",
    "crypto",
    "envelope",
    "errors",
    "framing",
    "genesis",
    "hashing",
    "ingress_message",
    "leb128",
    "management",
    "messages",
    "principal",
    "request",
    "sui",
    "wasm",
]
