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
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import trio

from client.agent import REPLICA_FAILURES, Agent, Endpoint
from vocab.codec import Message
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


def _refusal(refusals: dict[int, tuple[str, str]], failures: list[str], what: str) -> SuiError:
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


async def _gather(
    agent: Agent,
    request: Message,
    kind: type[SuiVote] | type[SuiSignedEffects],
    digest: bytes,
    count: Callable[[Any], bool | None],
    timeout: float,
) -> tuple[dict[int, tuple[str, str]], list[str]]:
    """Ask every replica; each answer of ``kind`` about ``digest`` from a committee member
    is either a refusal (kept by name; once more refused than a quorum allows, the rest
    are not waited for) or signed, and then ``count`` says: None, its signature does not
    verify; True, a quorum is complete; False, not yet. The refusals and the failures."""
    committee = agent.committee
    refusals: dict[int, tuple[str, str]] = {}

    def accept(answer: Message) -> bool:
        if (
            not isinstance(answer, kind)
            or answer.digest != digest
            or not 0 <= answer.node_index < committee.n
        ):
            return False
        if answer.error:
            refusals[answer.node_index] = (answer.error, answer.message)
            return len(refusals) > committee.n - committee.threshold
        counted = count(answer)
        if counted is None:
            refusals[answer.node_index] = ("InvalidSignature", "its signature does not verify")
            return False
        return counted

    failures = await _ask_all(agent, request, accept, timeout)
    return refusals, failures


async def certify(
    agent: Agent, signed: SignedTransaction, timeout: float = FAST_PATH_TIMEOUT
) -> CertifiedTransaction:
    """Votes of 2f+1 replicas for ``signed`` in one epoch, as a certificate."""
    committee = agent.committee
    digest = signed.request_id
    votes: dict[int, dict[int, bytes]] = {}
    done: list[CertifiedTransaction] = []

    def count(vote: SuiVote) -> bool | None:
        key = committee.public_keys[vote.node_index]
        if not agent.verify(key, vote.signature, VOTE_DOMAIN, vote_message(vote.epoch, digest)):
            return None
        epoch_votes = votes.setdefault(vote.epoch, {})
        epoch_votes[vote.node_index] = vote.signature
        if len(epoch_votes) < committee.threshold:
            return False
        signers = tuple(sorted(epoch_votes))
        done.append(CertifiedTransaction(signed, vote.epoch, signers, tuple(epoch_votes[s] for s in signers)))
        return True

    refusals, failures = await _gather(agent, SuiVoteRequest(signed), SuiVote, digest, count, timeout)
    if done:
        return done[0]
    raise _refusal(refusals, failures, "transaction's votes")


async def execute(
    agent: Agent, certificate: CertifiedTransaction, timeout: float = FAST_PATH_TIMEOUT
) -> Finality:
    """Hand ``certificate`` to every replica; 2f+1 matching signed effects."""
    committee = agent.committee
    digest = certificate.digest
    groups: dict[tuple[bytes, bytes], set[int]] = {}
    done: list[Finality] = []

    def count(answer: SuiSignedEffects) -> bool | None:
        key = committee.public_keys[answer.node_index]
        signed = effects_message(answer.epoch, digest, answer.effects_digest, answer.response)
        if answer.epoch != certificate.epoch or not agent.verify(
            key, answer.signature, EFFECTS_DOMAIN, signed
        ):
            return None
        group = groups.setdefault((answer.effects_digest, hashlib.sha256(answer.response).digest()), set())
        group.add(answer.node_index)
        if len(group) < committee.threshold:
            return False
        done.append(Finality(certificate, answer.response, answer.effects_digest, tuple(sorted(group))))
        return True

    refusals, failures = await _gather(
        agent, SuiCertificateRequest(certificate), SuiSignedEffects, digest, count, timeout
    )
    if done:
        return done[0]
    if len(groups) > 1:
        raise SuiError(
            "FailedToAgreeOnEffects", f"replicas signed {len(groups)} different effects for {digest.hex()}"
        )
    raise _refusal(refusals, failures, "certificate's execution")


__all__ = ["FAST_PATH_TIMEOUT", "Finality", "certify", "execute"]
