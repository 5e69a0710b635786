"""The client's half of the fast path (Sui Lutris): gather votes into a certificate, hand
the certificate to the replicas, and gather their signed effects into finality.

Both steps ask every replica at once and stop as soon as a quorum (2f+1 of the genesis
committee) answered alike; every vote and effects signature is checked against the
committee's keys here, so no single replica is trusted. A transaction a quorum cannot
vote for fails with the replicas' reason: Sui's ``ObjectsDoubleUsed`` when they refused
because its objects are locked by another transaction (equivocation: the objects stay
locked until the epoch ends), otherwise the refusal most replicas gave
(``ObjectVersionUnavailableForConsumption``, ``IncorrectUserSignature``...).
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import trio

from client.agent import REPLICA_FAILURES, Agent, Endpoint
from vocab.codec import Message
from vocab.committee import Committee, Verifier
from vocab.errors import SuiError
from vocab.messages import SuiCertificateRequest, SuiSignedEffects, SuiVote, SuiVoteRequest
from vocab.sui.certificate import (
    EFFECTS_DOMAIN,
    VOTE_DOMAIN,
    CertifiedTransaction,
    effects_message,
    vote_message,
)
from vocab.sui.signed import SignedTransaction

FAST_PATH_TIMEOUT = 10.0
"""Seconds a step waits for a quorum before giving up."""


@dataclass(frozen=True)
class Finality:
    """2f+1 replicas' signed effects of one certificate: the response they vouch for and
    who signed it."""

    certificate: CertifiedTransaction
    response: bytes
    effects_digest: bytes
    signers: tuple[int, ...]


async def _ask_all(
    agent: Agent,
    message: Message,
    accept: Callable[[Message], bool],
    timeout: float,
) -> list[str]:
    """Send ``message`` to every replica at once; ``accept`` sees each answer and says when
    enough arrived (then the rest are cancelled). The failures of replicas that did not
    answer, for the error message."""
    failures: list[str] = []
    with trio.move_on_after(timeout):
        async with trio.open_nursery() as nursery:

            async def ask(endpoint: Endpoint) -> None:
                try:
                    answer = await agent.exchange(endpoint, message, timeout)
                except REPLICA_FAILURES as exc:
                    failures.append(f"replica {endpoint.index}: {type(exc).__name__}: {exc}")
                    return
                if accept(answer):
                    nursery.cancel_scope.cancel()

            for endpoint in agent.endpoints:
                nursery.start_soon(ask, endpoint)
    return failures


def refusal(refusals: dict[int, tuple[str, str]], failures: list[str], what: str) -> SuiError:
    """The error of a step that got no quorum: the refusals by name (``ObjectsDoubleUsed``
    if one was a lock conflict), or, with none, the replicas that did not answer."""
    if not refusals:
        detail = "; ".join(failures) or "timed out"
        return SuiError("QuorumNotReached", f"too few replicas answered the {what} ({detail})")
    names = Counter(name for name, _ in refusals.values())
    if "ObjectLockConflict" in names:
        name = "ObjectsDoubleUsed"
    else:
        name = names.most_common(1)[0][0]
    detail = "; ".join(f"replica {i}: {n}: {m}" for i, (n, m) in sorted(refusals.items()))
    return SuiError(name, f"no quorum for the {what}: {detail}")


class _Tally(ABC):
    """Answers of one fast-path step, sans I/O (the async client here and the simulator's
    owned-object clients both feed it): each answer of ``kind`` about ``digest`` from a
    committee member is either a refusal (kept by name) or signed, and then ``_count``
    says: None, its signature does not verify; True, a quorum is complete; False, not yet."""

    kind: type[SuiVote] | type[SuiSignedEffects]

    def __init__(self, committee: Committee, digest: bytes, verify: Verifier) -> None:
        self.committee = committee
        self.digest = digest
        self.verify = verify
        self.refusals: dict[int, tuple[str, str]] = {}

    def accept(self, answer: Message) -> bool:
        """Take one answer; whether to stop waiting: a quorum is complete, or more replicas
        refused than a quorum allows (the rest are not waited for)."""
        committee = self.committee
        if (
            not isinstance(answer, self.kind)
            or answer.digest != self.digest
            or not 0 <= answer.node_index < committee.n
        ):
            return False
        if answer.error:
            self.refusals[answer.node_index] = (answer.error, answer.message)
            return len(self.refusals) > committee.n - committee.threshold
        counted = self._count(answer)
        if counted is None:
            self.refusals[answer.node_index] = ("InvalidSignature", "its signature does not verify")
            return False
        self.refusals.pop(answer.node_index, None)
        return counted

    @abstractmethod
    def _count(self, answer: Any) -> bool | None:
        """Count a signed answer: True once a quorum is reached, None if its signature
        does not verify."""


class VoteTally(_Tally):
    """Votes for ``signed`` until 2f+1 of one epoch make its ``certificate``."""

    kind = SuiVote

    def __init__(self, committee: Committee, signed: SignedTransaction, verify: Verifier) -> None:
        super().__init__(committee, signed.request_id, verify)
        self.signed = signed
        self.votes: dict[int, dict[int, bytes]] = {}
        self.certificate: CertifiedTransaction | None = None

    def _count(self, vote: SuiVote) -> bool | None:
        if self.certificate is not None:
            return True
        key = self.committee.public_keys[vote.node_index]
        if not self.verify(key, vote.signature, VOTE_DOMAIN, vote_message(vote.epoch, self.digest)):
            return None
        epoch_votes = self.votes.setdefault(vote.epoch, {})
        epoch_votes[vote.node_index] = vote.signature
        if len(epoch_votes) < self.committee.threshold:
            return False
        signers = tuple(sorted(epoch_votes))
        self.certificate = CertifiedTransaction(
            self.signed, vote.epoch, signers, tuple(epoch_votes[s] for s in signers)
        )
        return True

    def voted(self) -> set[int]:
        """The replicas whose vote is counted (in any epoch)."""
        return {node for votes in self.votes.values() for node in votes}


class EffectsTally(_Tally):
    """Signed effects of ``certificate`` until 2f+1 agree: its ``finality``."""

    kind = SuiSignedEffects

    def __init__(self, committee: Committee, certificate: CertifiedTransaction, verify: Verifier) -> None:
        super().__init__(committee, certificate.digest, verify)
        self.certificate = certificate
        self.groups: dict[tuple[bytes, bytes], set[int]] = {}
        self.finality: Finality | None = None

    def _count(self, answer: SuiSignedEffects) -> bool | None:
        if self.finality is not None:
            return True
        key = self.committee.public_keys[answer.node_index]
        signed = effects_message(answer.epoch, self.digest, answer.effects_digest, answer.response)
        if answer.epoch != self.certificate.epoch or not self.verify(
            key, answer.signature, EFFECTS_DOMAIN, signed
        ):
            return None
        group = self.groups.setdefault(
            (answer.effects_digest, hashlib.sha256(answer.response).digest()), set()
        )
        group.add(answer.node_index)
        if len(group) < self.committee.threshold:
            return False
        self.finality = Finality(
            self.certificate, answer.response, answer.effects_digest, tuple(sorted(group))
        )
        return True

    def signed(self) -> set[int]:
        """The replicas whose effects signature is counted."""
        return {node for group in self.groups.values() for node in group}


async def certify(
    agent: Agent, signed: SignedTransaction, timeout: float = FAST_PATH_TIMEOUT
) -> CertifiedTransaction:
    """Votes of 2f+1 replicas for ``signed`` in one epoch, as a certificate."""
    tally = VoteTally(agent.committee, signed, agent.verify)
    failures = await _ask_all(agent, SuiVoteRequest(signed), tally.accept, timeout)
    if tally.certificate is not None:
        return tally.certificate
    raise refusal(tally.refusals, failures, "transaction's votes")


async def execute(
    agent: Agent, certificate: CertifiedTransaction, timeout: float = FAST_PATH_TIMEOUT
) -> Finality:
    """Hand ``certificate`` to every replica; 2f+1 matching signed effects."""
    tally = EffectsTally(agent.committee, certificate, agent.verify)
    failures = await _ask_all(agent, SuiCertificateRequest(certificate), tally.accept, timeout)
    if tally.finality is not None:
        return tally.finality
    if len(tally.groups) > 1:
        raise SuiError(
            "FailedToAgreeOnEffects",
            f"replicas signed {len(tally.groups)} different effects for {certificate.digest.hex()}",
        )
    raise refusal(tally.refusals, failures, "certificate's execution")


__all__ = ["FAST_PATH_TIMEOUT", "EffectsTally", "Finality", "VoteTally", "certify", "execute", "refusal"]
