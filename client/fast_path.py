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


async def certify(
    agent: Agent, signed: SignedTransaction, timeout: float = FAST_PATH_TIMEOUT
) -> CertifiedTransaction:
    """Votes of 2f+1 replicas for ``signed`` in one epoch, as a certificate."""
    committee = agent.committee
    digest = signed.request_id
    votes: dict[int, dict[int, bytes]] = {}
    refusals: dict[int, tuple[str, str]] = {}
    done: list[CertifiedTransaction] = []

    def accept(answer: Message) -> bool:
        if (
            not isinstance(answer, SuiVote)
            or answer.digest != digest
            or not 0 <= answer.node_index < committee.n
        ):
            return False
        if answer.error:
            refusals[answer.node_index] = (answer.error, answer.message)
            return len(refusals) > committee.n - committee.threshold
        key = committee.public_keys[answer.node_index]
        if not agent.verify(key, answer.signature, VOTE_DOMAIN, vote_message(answer.epoch, digest)):
            refusals[answer.node_index] = ("InvalidSignature", "its vote does not verify")
            return False
        epoch_votes = votes.setdefault(answer.epoch, {})
        epoch_votes[answer.node_index] = answer.signature
        if len(epoch_votes) >= committee.threshold:
            signers = tuple(sorted(epoch_votes))
            done.append(
                CertifiedTransaction(signed, answer.epoch, signers, tuple(epoch_votes[s] for s in signers))
            )
            return True
        return False

    failures = await _ask_all(agent, SuiVoteRequest(signed), accept, timeout)
    if done:
        return done[0]
    raise _refusal(refusals, failures, "transaction's votes")


async def execute(
    agent: Agent, certificate: CertifiedTransaction, timeout: float = FAST_PATH_TIMEOUT
) -> Finality:
    """Hand ``certificate`` to every replica; 2f+1 matching signed effects."""
    committee = agent.committee
    digest = certificate.digest
    groups: dict[tuple[bytes, bytes], dict[int, SuiSignedEffects]] = {}
    refusals: dict[int, tuple[str, str]] = {}
    done: list[Finality] = []

    def accept(answer: Message) -> bool:
        if (
            not isinstance(answer, SuiSignedEffects)
            or answer.digest != digest
            or not 0 <= answer.node_index < committee.n
        ):
            return False
        if answer.error:
            refusals[answer.node_index] = (answer.error, answer.message)
            return len(refusals) > committee.n - committee.threshold
        key = committee.public_keys[answer.node_index]
        signed = effects_message(answer.epoch, digest, answer.effects_digest, answer.response)
        if answer.epoch != certificate.epoch or not agent.verify(
            key, answer.signature, EFFECTS_DOMAIN, signed
        ):
            refusals[answer.node_index] = ("InvalidSignature", "its effects signature does not verify")
            return False
        group = groups.setdefault((answer.effects_digest, hashlib.sha256(answer.response).digest()), {})
        group[answer.node_index] = answer
        if len(group) >= committee.threshold:
            signers = tuple(sorted(group))
            done.append(Finality(certificate, answer.response, answer.effects_digest, signers))
            return True
        return False

    failures = await _ask_all(agent, SuiCertificateRequest(certificate), accept, timeout)
    if done:
        return done[0]
    if len(groups) > 1:
        raise SuiError(
            "FailedToAgreeOnEffects", f"replicas signed {len(groups)} different effects for {digest.hex()}"
        )
    raise _refusal(refusals, failures, "certificate's execution")


__all__ = ["FAST_PATH_TIMEOUT", "Finality", "certify", "execute"]
