"""Sui addresses and object ids, now at home in ``vocab.sui.address``; this name stays for
the code written before the Sui vocabulary had a package of its own."""

from vocab.sui.address import ED25519_FLAG, LENGTH, ObjectId, SuiAddress

__all__ = ["ED25519_FLAG", "LENGTH", "ObjectId", "SuiAddress"]
