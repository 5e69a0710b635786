"""Certification: turning each replica's state hash into a quorum-signed certificate.

After executing height h a replica signs the root of its state tree (``vocab.certificate``:
its state hash, results root, the block's time and its canisters' certified data) and
broadcasts the share. n - f shares on the same values make a ``Certificate``. A replica
aggregates only for heights it has executed itself and only on its own values: a
certificate is what it can vouch for. If a quorum of its peers signs others, its state has
diverged from theirs; that is reported as a ``divergence`` (never silently ignored) and
it certifies nothing at that height.

Shares are kept for a bounded window of heights around the executed one, one per signer
per height (a second, different share from the same signer is evidence of misbehaviour
and is ignored).
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from vocab import crypto
from vocab.certificate import (
    CERTIFICATION_DOMAIN,
    NO_CANISTERS,
    Certificate,
    CertificationShare,
    Certified,
    verify_certificate,
)
from vocab.committee import Committee, Verifier
from vocab.principal import Principal

RETAINED_CERTIFICATES = 100_000
"""Certificates kept in memory (for catch-up responses); older ones live in the store."""


class Certifier:
    def __init__(
        self,
        committee: Committee,
        key: Ed25519PrivateKey,
        *,
        verify: Verifier = crypto.verify,
        window: int = 64,
    ) -> None:
        self.committee = committee
        self.key = key
        self.me = Principal.from_ed25519_public_key(crypto.raw_public_key(key))
        self.verify = verify
        self.window = window
        self.executed_height = 0
        self.own: dict[int, Certified] = {}
        self.shares: dict[int, dict[Principal, CertificationShare]] = {}
        self.certificates: dict[int, Certificate] = {}
        self.certified_height = 0
        self.divergent: dict[int, Certified] = {}
        self.dropped: dict[str, int] = {}

    def _drop(self, reason: str) -> None:
        self.dropped[reason] = self.dropped.get(reason, 0) + 1

    def executed(
        self,
        height: int,
        state_hash: bytes,
        results_root: bytes,
        *,
        time_ns: int = 0,
        canister_root: bytes = NO_CANISTERS,
        sign: bool = True,
    ) -> CertificationShare | None:
        """Record our own state after ``height``; the share to broadcast, if we sign."""
        self.executed_height = max(self.executed_height, height)
        self.own[height] = (state_hash, results_root, time_ns, canister_root)
        self._forget()
        if not sign or height in self.certificates:
            return None
        share = CertificationShare.create(
            self.key, self.me, height, state_hash, results_root, time_ns, canister_root
        )
        self.shares.setdefault(height, {})[self.me] = share
        return share

    def add_share(self, share: CertificationShare) -> bool:
        """Keep a peer's share if it is new, in the window and correctly signed."""
        height = share.height
        if (
            height in self.certificates
            or height <= self.executed_height - self.window
            or height > self.executed_height + self.window
        ):
            return False
        existing = self.shares.get(height, {})
        if share.signer in existing:
            if existing[share.signer] != share:
                self._drop("conflicting_certification_share")
            return False
        key = self.committee.public_key(share.signer)
        if key is None or not self.verify(key, share.signature, CERTIFICATION_DOMAIN, share.signed_bytes):
            self._drop("bad_certification_share")
            return False
        self.shares.setdefault(height, {})[share.signer] = share
        return True

    def add_certificate(self, certificate: Certificate) -> bool:
        """Adopt a certificate from a peer (catch-up) if it is valid and agrees with us."""
        if certificate.height in self.certificates:
            return False
        ours = self.own.get(certificate.height)
        if ours is not None and ours != certificate.certified:
            self.divergent[certificate.height] = certificate.certified
            return False
        try:
            verify_certificate(certificate, self.committee, self.verify)
        except Exception:
            self._drop("bad_certificate")
            return False
        self.certificates[certificate.height] = certificate
        self.certified_height = max(self.certified_height, certificate.height)
        return True

    def try_certify(self, height: int) -> Certificate | None:
        """A certificate for ``height`` if a quorum now agrees with our own state."""
        if height in self.certificates or height not in self.own:
            return None
        ours = self.own[height]
        shares = self.shares.get(height, {})
        agreeing = [share for share in shares.values() if share.certified == ours]
        if len(agreeing) < self.committee.threshold:
            self._check_divergence(height, ours, shares)
            return None
        agreeing.sort(key=lambda share: self.committee.index_of(share.signer) or 0)
        state_hash, results_root, time_ns, canister_root = ours
        certificate = Certificate(
            height,
            state_hash,
            results_root,
            tuple(share.signer for share in agreeing),
            tuple(share.signature for share in agreeing),
            time_ns,
            canister_root,
        )
        self.certificates[height] = certificate
        self.certified_height = max(self.certified_height, height)
        self.shares.pop(height, None)
        return certificate

    def _check_divergence(
        self, height: int, ours: Certified, shares: dict[Principal, CertificationShare]
    ) -> None:
        if len(shares) < self.committee.threshold or height in self.divergent:
            return  # no other values can have a quorum yet, or it was found already
        tally: dict[Certified, int] = {}
        for share in shares.values():
            triple = share.certified
            tally[triple] = tally.get(triple, 0) + 1
        for triple, count in tally.items():
            if triple != ours and count >= self.committee.threshold and height not in self.divergent:
                self.divergent[height] = triple

    def _forget(self) -> None:
        floor = self.executed_height - self.window
        for table in (self.shares, self.own):
            for height in [h for h in table if h <= floor]:
                del table[height]
        self.certificates.pop(self.executed_height - RETAINED_CERTIFICATES, None)
