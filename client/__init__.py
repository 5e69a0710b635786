"""The user's side of a subnet: what a developer's tools do, as a library.

``identity`` (Ed25519 keys in PEM files), ``agent`` (signed requests, certified replies,
queries on the fast path), ``network`` (the local subnet's endpoints), ``project`` and
``canister_ids`` (``subnet.json`` or ``dfx.json``, ``canister_ids.json``), ``motoko``,
``packages`` and ``build`` (compiling canisters with their Motoko packages), ``manage``
(typed management canister calls), ``install`` and ``deploy`` (dfx's workflow), ``call``, ``service`` and ``metadata`` (a canister's Candid
and custom sections), ``upgrade_check`` (dfx's checks before an upgrade), ``sui`` (what
``sui client`` does: Sui transactions built, signed and sent; objects read). The command
line (``subnet.commands``) and the benchmarks both use it. Imports ``vocab`` only, never
``node``.
"""

__all__ = [
    "agent",
    "build",
    "call",
    "canister_ids",
    "deploy",
    "identity",
    "install",
    "manage",
    "metadata",
    "motoko",
    "network",
    "packages",
    "project",
    "service",
    "sui",
    "upgrade_check",
]
