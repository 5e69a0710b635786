"""The committee of a subnet: who may sign, and how many signatures make a quorum.

Replicas and clients both need it: a replica to check its peers' votes, a client to check
the certificate on a reply. It therefore lives in the shared vocabulary and knows nothing
of consensus beyond the quorum rule.

A node's id is the self-authenticating principal of its Ed25519 node key, as on the IC,
so an id can never be paired with somebody else's key.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from vocab import crypto
from vocab.principal import Principal

Verifier = Callable[[bytes, bytes, str, bytes], bool]
"""``verify(raw_public_key, signature, separator, message) -> bool``, like ``crypto.verify``.

Injected wherever signatures are checked so that a simulation can share one memoizing
verifier between its replicas: the answer is the same, only computed once.
"""


@dataclass(frozen=True)
class Committee:
    """Node ids in genesis order with their raw 32-byte Ed25519 public keys."""

    members: tuple[Principal, ...]
    public_keys: tuple[bytes, ...]
    _index: dict[Principal, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.members) != len(self.public_keys):
            raise ValueError("a committee needs exactly one public key per member")
        if not self.members:
            raise ValueError("a committee has at least one member")
        index: dict[Principal, int] = {}
        for position, (member, key) in enumerate(zip(self.members, self.public_keys)):
            if len(key) != 32:
                raise ValueError(f"member {member}: an Ed25519 public key has 32 bytes, not {len(key)}")
            if member != Principal.from_ed25519_public_key(key):
                raise ValueError(f"member {member} is not the principal of its public key")
            if member in index:
                raise ValueError(f"member {member} appears twice")
            index[member] = position
        object.__setattr__(self, "_index", index)

    @classmethod
    def from_public_keys(cls, public_keys: Sequence[bytes]) -> Committee:
        keys = tuple(bytes(key) for key in public_keys)
        return cls(tuple(Principal.from_ed25519_public_key(key) for key in keys), keys)

    @classmethod
    def from_json(cls, nodes: Sequence[Mapping[str, Any]]) -> Committee:
        """From a genesis file's ``nodes`` list (``public_key`` in hex); ids are re-derived."""
        return cls.from_public_keys([bytes.fromhex(str(entry["public_key"])) for entry in nodes])

    @property
    def n(self) -> int:
        return len(self.members)

    @property
    def f(self) -> int:
        """The number of Byzantine members tolerated: n = 3f + 1 at best."""
        return (self.n - 1) // 3

    @property
    def threshold(self) -> int:
        """Signatures that make a quorum: n - f, which is 2f + 1 when n = 3f + 1.

        Any two quorums of n - f intersect in at least f + 1 members, hence in an honest
        one, whatever n is.
        """
        return self.n - self.f

    def index_of(self, member: Principal) -> int | None:
        return self._index.get(member)

    def __contains__(self, member: object) -> bool:
        return member in self._index

    def public_key(self, member: Principal) -> bytes | None:
        position = self._index.get(member)
        return None if position is None else self.public_keys[position]

    def quorum_error(
        self,
        separator: str,
        message: bytes,
        signers: Sequence[Principal],
        signatures: Sequence[bytes],
        verify: Verifier = crypto.verify,
        known: Mapping[Principal, bytes] | None = None,
    ) -> str | None:
        """Why these signatures are not a quorum on ``message``, or None if they are.

        ``known`` maps signers to signatures already verified on the same message (an
        Ed25519 signature is deterministic, so an identical one needs no second check).
        """
        if len(signers) != len(signatures):
            return "signers and signatures differ in number"
        seen: set[Principal] = set()
        for signer, signature in zip(signers, signatures):
            if signer in seen:
                return f"signer {signer} counted twice"
            seen.add(signer)
            key = self.public_key(signer)
            if key is None:
                return f"signer {signer} is not a committee member"
            if known is not None and known.get(signer) == signature:
                continue
            if not verify(key, signature, separator, message):
                return f"bad signature from {signer}"
        if len(seen) < self.threshold:
            return f"{len(seen)} signatures, a quorum is {self.threshold}"
        return None
