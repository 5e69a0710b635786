"""One replica, as sans-IO cores and the trio adapters that drive them.

The cores take events and return actions: ``replica`` (ingress, consensus, execution and
certification wired together), ``ingress`` (signature, expiry, replay and size checks),
``consensus`` (the protocol interface and ICC), ``wasm`` (the deterministic Wasm engine),
``ic`` (the IC canister model on that engine), ``sui`` (the Move VM, the object store and
the executor), ``execution`` (canisters and Sui objects side by side), ``state_machine``
(what consensus drives),
``certification`` and ``checkpoint``; ``byzantine`` (protocol-blind misbehaviours for
fault injection). The adapters do the I/O: ``runtime`` (trio, TCP,
SQLite), ``transport``, ``storage`` and ``recovery`` (reading a damaged store); ``python -m node`` runs one replica process.
Imports ``vocab`` and ``move``, never ``client``.
"""

__all__ = [
    "actions",
    "byzantine",
    "certification",
    "checkpoint",
    "consensus",
    "events",
    "execution",
    "ic",
    "ingress",
    "recovery",
    "replica",
    "runtime",
    "state_machine",
    "storage",
    "sui",
    "transport",
    "wasm",
]
