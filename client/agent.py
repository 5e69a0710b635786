"""The agent: signs requests, hands them to a replica, and returns certified results.

Like the IC's agents it trusts no single replica: a result counts only with a certificate
signed by a quorum of the committee, checked here against the public keys from the
genesis file. Queries take the fast path: one replica answers and signs with its node
key (checked against the genesis committee); ``replicas_agree=K`` asks K replicas and
accepts the answer only if all K match. If the replica it talks to dies, it hands the same envelope to the next one
and asks there; replay protection makes the request run at most once whichever replica
took it.

Sui transactions travel the same way (``submit_and_wait`` takes a ``SignedTransaction``
too: its request id is its digest), and reads of Sui state (``sui_read``) take the
queries' fast path, signed and optionally agreed by K replicas.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import trio

from client.identity import Identity
from vocab import crypto
from vocab.certificate import CertificateError, CertifiedReply, RequestResult, verify_certified_reply
from vocab.codec import Message
from vocab.committee import Committee
from vocab.envelope import MAX_INGRESS_TTL_NS, SignedEnvelope
from vocab.errors import CodecError, RejectCode, RejectError
from vocab.framing import FramedStream
from vocab.ingress_message import IngressMessage
from vocab.messages import (
    QUERY_RESPONSE_DOMAIN,
    AwaitReply,
    QueryRequest,
    QueryResponse,
    RehearseUpgradeRequest,
    ReplyTimeout,
    RequestAccepted,
    RequestRejected,
    StatusReply,
    StatusRequest,
    SubmitRequest,
    SuiReadRequest,
)
from vocab.principal import Principal
from vocab.request import RequestContent
from vocab.sui.certificate import CertifiedTransaction
from vocab.sui.signed import SignedTransaction

CONNECT_TIMEOUT = 2.0
EXPIRY_MARGIN_NS = 60 * 1_000_000_000
REPLICA_FAILURES = (OSError, trio.BrokenResourceError, trio.TooSlowError, CodecError, CertificateError)
"""What one replica's failure to answer looks like: the agent notes it and asks another."""
CERTIFIED_STATE_UNAVAILABLE = "IC0208"
"""A replica's answer while its newest state awaits certification: ask again shortly."""
REHEARSAL_TIMEOUT = 600.0
"""Seconds a replica may take to rehearse an upgrade (up to the install limit of work)."""
QUERY_RETRY_INTERVAL = 0.05
MAX_IDLE_CONNECTIONS = 8
"""Kept connections per replica: enough for a few concurrent callers of one agent."""


@dataclass(frozen=True)
class Endpoint:
    index: int
    host: str
    port: int

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass
class _Kept:
    """A kept connection to a replica, and how many answers it still owes to exchanges
    that stopped waiting (``Agent.exchange``)."""

    framed: FramedStream[trio.SocketStream]
    owed: int = 0


class Agent:
    def __init__(
        self, endpoints: list[Endpoint], committee: Committee, identity: Identity | None = None
    ) -> None:
        if not endpoints:
            raise RejectError(RejectCode.SYS_TRANSIENT, "no replica addresses to talk to")
        self.endpoints = endpoints
        self.committee = committee
        self.identity = identity
        self._nonce = 0
        self._verified: dict[tuple[bytes, bytes, str, bytes], bool] = {}
        self._idle: dict[int, list[_Kept]] = {}
        self._pool_run: object | None = None

    def verify(self, key: bytes, signature: bytes, separator: str, message: bytes) -> bool:
        """Ed25519 verification, remembered: every reply certified at one height carries
        the same certificate, so a busy client checks each signature once, not per reply."""
        probe = (key, signature, separator, message)
        known = self._verified.get(probe)
        if known is None:
            known = crypto.verify(key, signature, separator, message)
            if len(self._verified) >= 4096:
                self._verified.pop(next(iter(self._verified)))
            self._verified[probe] = known
        return known

    def envelope(
        self, canister_id: Principal, method_name: str, arg: bytes, request_type: str = "call"
    ) -> SignedEnvelope:
        """A fresh signed envelope; the client's own clock sets the expiry, as on the IC."""
        self._nonce += 1
        sender = self.identity.principal if self.identity else Principal.anonymous()
        content = RequestContent(
            request_type=request_type,
            sender=sender,
            canister_id=canister_id,
            method_name=method_name,
            arg=arg,
            ingress_expiry=time.time_ns() + MAX_INGRESS_TTL_NS - EXPIRY_MARGIN_NS,
            nonce=time.time_ns().to_bytes(8, "big") + self._nonce.to_bytes(4, "big"),
        )
        if self.identity is None:
            return SignedEnvelope.anonymous(content)
        return SignedEnvelope.sign(content, self.identity.key)

    async def call(
        self, canister_id: Principal, method_name: str, arg: bytes, timeout: float = 30.0
    ) -> RequestResult:
        """Submit an update and return its certified result (which may be a reject)."""
        envelope = self.envelope(canister_id, method_name, arg)
        return await self.submit_and_wait(envelope, timeout)

    async def submit_and_wait(self, envelope: IngressMessage, timeout: float = 30.0) -> RequestResult:
        request_id = envelope.request_id
        failures: list[str] = []
        with trio.move_on_after(timeout) as scope:
            while True:
                for endpoint in self.endpoints:
                    try:
                        return await self._submit_on(endpoint, envelope, request_id)
                    except REPLICA_FAILURES as exc:
                        failures.append(f"{endpoint.address}: {type(exc).__name__}: {exc}")
                await trio.sleep(0.2)
        assert scope.cancelled_caught
        detail = "; ".join(failures[-len(self.endpoints) :]) or "no replica answered"
        raise RejectError(RejectCode.SYS_TRANSIENT, f"no certified reply within {timeout:g} s ({detail})")

    async def _submit_on(
        self, endpoint: Endpoint, envelope: IngressMessage, request_id: bytes
    ) -> RequestResult:
        with trio.fail_after(CONNECT_TIMEOUT):
            stream = await trio.open_tcp_stream(endpoint.host, endpoint.port)
        async with stream:
            framed = FramedStream(stream)
            await framed.send(SubmitRequest(envelope))
            with trio.fail_after(CONNECT_TIMEOUT):
                answer = await framed.receive()
            if isinstance(answer, RequestRejected):
                if answer.reason == "replayed":
                    # Another replica took this envelope before; its result is what we want.
                    pass
                else:
                    # A Sui transaction's refusal names Sui's error (``reason``).
                    sui_name = (
                        answer.reason
                        if isinstance(envelope, (SignedTransaction, CertifiedTransaction))
                        else None
                    )
                    raise RejectError(RejectCode(answer.code), answer.message, sui_name)
            elif not isinstance(answer, RequestAccepted):
                raise CodecError(f"unexpected answer {type(answer).__name__} to a submission")
            await framed.send(AwaitReply(request_id, timeout_ms=10_000))
            while True:
                reply = await framed.receive()
                if isinstance(reply, CertifiedReply):
                    return verify_certified_reply(reply, self.committee, request_id, self.verify)
                if isinstance(reply, ReplyTimeout):
                    await framed.send(AwaitReply(request_id, timeout_ms=10_000))
                    continue
                raise CodecError(f"unexpected answer {type(reply).__name__} while waiting for a reply")

    async def query(
        self,
        canister_id: Principal,
        method_name: str,
        arg: bytes,
        replicas_agree: int = 1,
        timeout: float = 10.0,
    ) -> QueryResponse:
        """Run a query on the fast path and return a verified, agreed answer (which may be
        a reject: look at ``status``). Raises RejectError when too few replicas answer
        validly or their answers differ."""
        envelope = self.envelope(canister_id, method_name, arg, request_type="query")
        return await self._agreed(
            lambda endpoint: self._query_on(endpoint, envelope, envelope.request_id),
            replicas_agree,
            timeout,
            "query",
        )

    async def sui_read(
        self, method: str, params: list[Any], replicas_agree: int = 1, timeout: float = 10.0
    ) -> Any:
        """Read Sui state on the fast path (``vocab.messages.SUI_READ_METHODS``: an object,
        an address's objects, an executed transaction) and return Sui's JSON answer, signed
        by a replica and agreed by ``replicas_agree``; RejectError for a refused read (its
        ``error_code`` is Sui's name: ``InvalidParams``, ``TransactionNotFound``)."""
        request = SuiReadRequest(method, json.dumps(params).encode())
        answer = await self._agreed(
            lambda endpoint: self._read_on(endpoint, request), replicas_agree, timeout, "read"
        )
        if answer.status != "replied":
            raise RejectError(
                RejectCode(answer.reject_code), answer.reject_message, answer.error_code or None
            )
        return json.loads(answer.reply)

    async def rehearse_upgrade(
        self, install_code_arg: bytes, replicas_agree: int = 1, timeout: float = REHEARSAL_TIMEOUT
    ) -> Any:
        """Rehearse a canister upgrade (``install_code``'s Candid argument, mode upgrade) on
        a copy of a replica's latest certified state, changing nothing; the replica's
        report (``node.ic.rehearsal``), signed by it and agreed by ``replicas_agree``.
        The request is signed with request type ``query``, so it can never be submitted
        as the real upgrade. RejectError for a refused rehearsal (no such canister)."""
        envelope = self.envelope(
            Principal.management(), "install_code", install_code_arg, request_type="query"
        )
        request = RehearseUpgradeRequest(envelope)

        async def ask(endpoint: Endpoint) -> QueryResponse:
            answer = await self.exchange(endpoint, request, timeout)
            if not isinstance(answer, QueryResponse):
                raise CodecError(f"unexpected answer {type(answer).__name__} to a rehearsal")
            return verify_query_response(answer, self.committee, envelope.request_id, self.verify)

        answer = await self._agreed(ask, replicas_agree, timeout, "rehearsal")
        if answer.status != "replied":
            raise RejectError(
                RejectCode(answer.reject_code), answer.reject_message, answer.error_code or None
            )
        return json.loads(answer.reply)

    async def _agreed(
        self,
        ask: Callable[[Endpoint], Awaitable[QueryResponse]],
        replicas_agree: int,
        timeout: float,
        what: str,
    ) -> QueryResponse:
        """Ask replicas in turn until ``replicas_agree`` of them answered validly; their
        answers must match."""
        if not 1 <= replicas_agree <= len(self.endpoints):
            raise RejectError(
                RejectCode.SYS_FATAL,
                f"replicas_agree must be between 1 and {len(self.endpoints)}, not {replicas_agree}",
            )
        answers: list[QueryResponse] = []
        failures: list[str] = []
        pending = list(self.endpoints)
        with trio.move_on_after(timeout):
            # A replica whose newest state is not certified yet (IC0208: just restarted, or
            # certification trails a block) is asked again after the others, until the timeout.
            while pending and len(answers) < replicas_agree:
                later: list[Endpoint] = []
                for endpoint in pending:
                    if len(answers) == replicas_agree:
                        break
                    try:
                        answer = await ask(endpoint)
                    except REPLICA_FAILURES as exc:
                        failures.append(f"{endpoint.address}: {type(exc).__name__}: {exc}")
                        continue
                    if answer.status != "replied" and answer.error_code == CERTIFIED_STATE_UNAVAILABLE:
                        failures.append(f"{endpoint.address}: {answer.reject_message}")
                        later.append(endpoint)
                        continue
                    answers.append(answer)
                pending = later
                if pending and len(answers) < replicas_agree:
                    await trio.sleep(QUERY_RETRY_INTERVAL)
        if len(answers) < replicas_agree:
            detail = "; ".join(failures[-len(self.endpoints) :]) or "timed out"
            raise RejectError(
                RejectCode.SYS_TRANSIENT,
                f"{len(answers)} of {replicas_agree} replicas answered the {what} ({detail})",
            )
        outcomes = {answer.outcome() for answer in answers}
        if len(outcomes) != 1:
            nodes = ", ".join(str(answer.node_index) for answer in answers)
            raise RejectError(
                RejectCode.SYS_TRANSIENT, f"replicas {nodes} gave different answers to the {what}"
            )
        return answers[0]

    async def _read_on(self, endpoint: Endpoint, request: SuiReadRequest) -> QueryResponse:
        answer = await self.exchange(endpoint, request, CONNECT_TIMEOUT * 5)
        if not isinstance(answer, QueryResponse):
            raise CodecError(f"unexpected answer {type(answer).__name__} to a Sui read")
        return verify_query_response(answer, self.committee, request.request_id, self.verify)

    async def _query_on(
        self, endpoint: Endpoint, envelope: SignedEnvelope, request_id: bytes
    ) -> QueryResponse:
        answer = await self.exchange(endpoint, QueryRequest(envelope), CONNECT_TIMEOUT * 5)
        if not isinstance(answer, QueryResponse):
            raise CodecError(f"unexpected answer {type(answer).__name__} to a query")
        return verify_query_response(answer, self.committee, request_id, self.verify)

    async def exchange(self, endpoint: Endpoint, message: Message, timeout: float) -> Message:
        """Send one message and receive its answer on a kept connection to ``endpoint``.

        Opening a TCP connection costs more than a query itself on loopback, so finished
        connections wait in a small per-endpoint pool for the next one (within one trio
        run: a new run starts a new pool). A kept connection that the replica has closed
        meanwhile (it restarted) is replaced by a fresh one once; a fresh one that fails
        raises, and the caller moves on to another replica.

        An exchange cancelled after its message was sent (the fast path stops waiting
        once a quorum answered) keeps its connection: a replica answers a connection's
        messages in order, so the next exchange on it sends at once and skips the answer
        still owed. Closing it instead would cost both sides a new connection per request.
        """
        run = trio.lowlevel.current_root_task()
        if self._pool_run is not run:
            self._idle, self._pool_run = {}, run
        idle = self._idle.setdefault(endpoint.index, [])
        while True:
            reused = bool(idle)
            if reused:
                kept = idle.pop()
            else:
                with trio.fail_after(CONNECT_TIMEOUT):
                    kept = _Kept(FramedStream(await trio.open_tcp_stream(endpoint.host, endpoint.port)))
            framed, sent = kept.framed, False
            try:
                await framed.send(message)
                sent = True
                with trio.fail_after(timeout):
                    while kept.owed:
                        if await framed.receive() is None:
                            break
                        kept.owed -= 1
                    answer = await framed.receive()
            except trio.Cancelled:
                if sent and len(idle) < MAX_IDLE_CONNECTIONS:
                    kept.owed += 1
                    idle.append(kept)
                else:
                    await trio.aclose_forcefully(framed.stream)
                raise
            except (OSError, trio.BrokenResourceError, trio.ClosedResourceError) as exc:
                await trio.aclose_forcefully(framed.stream)
                if reused:
                    continue
                raise trio.BrokenResourceError(str(exc)) from exc
            except BaseException:
                await trio.aclose_forcefully(framed.stream)
                raise
            if answer is None:
                await trio.aclose_forcefully(framed.stream)
                if reused:
                    continue
                raise CodecError(f"replica {endpoint.index} closed the connection without answering")
            if len(idle) < MAX_IDLE_CONNECTIONS:
                idle.append(kept)
            else:
                await trio.aclose_forcefully(framed.stream)
            return answer

    async def aclose(self) -> None:
        """Close the kept connections (they are also dropped when a new trio run starts)."""
        idle, self._idle = self._idle, {}
        for streams in idle.values():
            for kept in streams:
                await trio.aclose_forcefully(kept.framed.stream)

    async def status(self, endpoint: Endpoint, timeout: float = 2.0) -> StatusReply:
        with trio.fail_after(timeout):
            stream = await trio.open_tcp_stream(endpoint.host, endpoint.port)
            async with stream:
                framed = FramedStream(stream)
                await framed.send(StatusRequest())
                answer = await framed.receive()
        if not isinstance(answer, StatusReply):
            raise CodecError(f"unexpected answer {type(answer).__name__} to a status request")
        return answer


def verify_query_response(
    response: QueryResponse, committee: Committee, request_id: bytes, verify=crypto.verify
) -> QueryResponse:
    """The response if it answers ``request_id`` and carries a valid signature by the
    committee member it names; CertificateError otherwise."""
    if response.request_id != request_id:
        raise CertificateError("the query response answers another request")
    if not 0 <= response.node_index < committee.n:
        raise CertificateError(f"the query response names node {response.node_index}, not in the committee")
    key = committee.public_keys[response.node_index]
    if not verify(key, response.signature, QUERY_RESPONSE_DOMAIN, response.digest):
        raise CertificateError(
            f"the query response's signature by node {response.node_index} does not verify"
        )
    return response
