"""Register and counter clients against replica processes, recording a Jepsen history.

The same clients as the simulator's (``subnet.sim.clients``: the same canister, the same
operation mix and outcome rules, ``Operations``), but over TCP in real time: every
operation is an update call submitted to one replica; it completes

- ``ok`` / ``fail`` from the certified result (checked against the committee's keys);
- ``fail`` when the first replica asked refused the connection or the request at ingress
  (it reached no replica);
- ``info`` when ``timeout`` passes with no certified result.

A client with no result after ``retry`` hands the same signed envelope to the next
replica (which answers "replayed" if it has it, and then waits for its result), as the
agent does. History times are nanoseconds since the run started, on trio's clock.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import trio
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from client.agent import CONNECT_TIMEOUT, Endpoint
from client.network import endpoints
from subnet.checks.history import Event, Recorder
from subnet.sim.clients import (
    CANDID_UNIT,
    MODEL_OF,
    ClientsConfig,
    Operations,
    upgrade_install,
    workload_canister_wasm,
)
from vocab import crypto, management
from vocab.certificate import CertificateError, CertifiedReply, RequestResult, verify_certified_reply
from vocab.envelope import SignedEnvelope
from vocab.errors import CodecError
from vocab.framing import FramedStream
from vocab.genesis import Genesis
from vocab.messages import AwaitReply, ReplyTimeout, RequestAccepted, RequestRejected, SubmitRequest
from vocab.principal import Principal
from vocab.request import RequestContent

__all__ = ["ProcessClients"]

SETUP_ATTEMPT_S = 5.0
SETUP_BOUND_S = 60.0
BROKEN = (
    OSError,
    trio.BrokenResourceError,
    trio.ClosedResourceError,
    trio.TooSlowError,
    CodecError,
    CertificateError,
)


class ProcessClients:
    """The setup client and the history clients of one run on replica processes."""

    def __init__(self, config: ClientsConfig, genesis: Genesis, seed: int, origin: float) -> None:
        self.config = config
        self.genesis = genesis
        self.endpoints: list[Endpoint] = endpoints(genesis)
        self.origin = origin
        """trio's clock at the start of the run: history times are counted from it."""
        self.rng = random.Random(f"subnet-clients:{seed}")
        self.keys: list[Ed25519PrivateKey] = [
            crypto.private_key_from_seed(self.rng.randbytes(32)) for _ in range(config.clients + 1)
        ]
        self.principals = [Principal.self_authenticating(crypto.der_public_key(key)) for key in self.keys]
        self.operations = Operations(config.kind, config.keys, self.rng)
        self.recorder = Recorder()
        self.stats: Counter[str] = Counter()
        self.canister: Principal | None = None
        self.installed_at: int | None = None
        self.request_of: dict[int, bytes] = {}
        self.busy: list[bool] = [False] * config.clients
        self.upgrades: list[dict[str, Any]] = []
        """Each upgrade of the canister under load: its module, time, outcome (as the
        simulator's clients keep them, ``subnet.sim.clients.HistoryClients.upgrades``)."""
        self._nonce = 0
        self._verified: dict[tuple[bytes, bytes, str, bytes], bool] = {}

    @property
    def model(self) -> str:
        return MODEL_OF[self.config.kind]

    @property
    def events(self) -> list[Event]:
        return self.recorder.events

    def executions(self, chain_payload_ids: list[bytes]) -> dict[int, int]:
        counts = Counter(chain_payload_ids)
        return {index: counts.get(request_id, 0) for index, request_id in sorted(self.request_of.items())}

    def now_ns(self) -> int:
        return int((trio.current_time() - self.origin) * 1e9)

    # -- one request -------------------------------------------------------------------------

    def _verify(self, key: bytes, signature: bytes, separator: str, message: bytes) -> bool:
        probe = (key, signature, separator, message)
        known = self._verified.get(probe)
        if known is None:
            known = crypto.verify(key, signature, separator, message)
            self._verified[probe] = known
        return known

    def _envelope(self, identity: int, canister: Principal, method: str, arg: bytes) -> SignedEnvelope:
        self._nonce += 1
        content = RequestContent(
            request_type="call",
            sender=self.principals[identity],
            canister_id=canister,
            method_name=method,
            arg=arg,
            ingress_expiry=time.time_ns() + self.config.expiry_ns,
            nonce=self._nonce.to_bytes(8, "big"),
        )
        return SignedEnvelope.sign(content, self.keys[identity])

    async def _attempt(self, node: int, envelope: SignedEnvelope) -> tuple[str, RequestResult | None]:
        """Hand ``envelope`` to replica ``node`` and wait for its certified result:
        ``(replied, result)``, ``(down, None)`` (nothing reached it), ``(rejected:REASON,
        None)`` (ingress refused it, not as a replay), or ``(broken, None)``."""
        endpoint = self.endpoints[node]
        try:
            with trio.fail_after(CONNECT_TIMEOUT):
                stream = await trio.open_tcp_stream(endpoint.host, endpoint.port)
        except (OSError, trio.TooSlowError):
            return "down", None
        request_id = envelope.request_id
        async with stream:
            framed = FramedStream(stream)
            try:
                await framed.send(SubmitRequest(envelope))
                answer = await framed.receive()
                if isinstance(answer, RequestRejected) and answer.reason != "replayed":
                    return f"rejected:{answer.reason}", None
                if not isinstance(answer, (RequestAccepted, RequestRejected)):
                    return "broken", None
                while True:
                    await framed.send(AwaitReply(request_id, timeout_ms=10_000))
                    reply = await framed.receive()
                    if isinstance(reply, CertifiedReply):
                        return "replied", verify_certified_reply(
                            reply, self.genesis.committee, request_id, self._verify
                        )
                    if not isinstance(reply, ReplyTimeout):
                        return "broken", None
            except BROKEN:
                return "broken", None

    async def _call(
        self,
        identity: int,
        method: str,
        arg: bytes,
        first_node: int,
        timeout_s: float,
        on_settled: Callable[[str, RequestResult | None, str], None],
        canister: Principal | None = None,
    ) -> None:
        """One operation with retries: ``on_settled(kind, result, why)`` with kind ok (a
        result, which may be a reject), fail or info."""
        envelope = self._envelope(identity, canister or Principal.management(), method, arg)
        return await self._settle(envelope, first_node, timeout_s, on_settled)

    async def _settle(
        self,
        envelope: SignedEnvelope,
        node: int,
        timeout_s: float,
        on_settled: Callable[[str, RequestResult | None, str], None],
    ) -> None:
        deadline = trio.current_time() + timeout_s
        retry = self.config.retry_ns / 1e9
        first = True
        while trio.current_time() < deadline:
            slot_end = min(deadline, trio.current_time() + retry)
            with trio.move_on_at(slot_end):
                status, result = await self._attempt(node, envelope)
                if status == "replied":
                    on_settled("ok", result, "")
                    return
                if first and (status == "down" or status.startswith("rejected")):
                    on_settled("fail", None, status)
                    return
                await trio.sleep_until(slot_end)
            if trio.current_time() < deadline:
                self.stats["resubmitted"] += 1
            first = False
            node = (node + 1) % len(self.endpoints)
        on_settled("info", None, "timeout")

    # -- the run -----------------------------------------------------------------------------

    async def setup(self) -> bool:
        """Create the canister and install the workload's code; whether it worked."""
        setup = self.config.clients
        done: dict[str, Any] = {}

        def settled(kind: str, result: RequestResult | None, why: str) -> None:
            done["kind"], done["result"], done["why"] = kind, result, why

        bound = trio.current_time() + SETUP_BOUND_S
        attempt = 0
        while self.installed_at is None and trio.current_time() < bound:
            node = attempt % len(self.endpoints)
            attempt += 1
            if self.canister is None:
                arg = management.encode_args(management.CREATE, management.CreateCanisterArgs())
                await self._call(setup, management.CREATE, arg, node, SETUP_ATTEMPT_S, settled)
                result = done.get("result")
                if done.get("kind") == "ok" and result is not None and result.status == "replied":
                    self.canister = management.decode_reply(management.CREATE, result.reply).canister_id
                continue
            arg = management.encode_args(
                management.INSTALL_CODE,
                management.InstallCodeArgs(
                    "install", self.canister, workload_canister_wasm(self.config.kind), CANDID_UNIT
                ),
            )
            await self._call(setup, management.INSTALL_CODE, arg, node, SETUP_ATTEMPT_S, settled)
            result = done.get("result")
            if done.get("kind") == "ok" and result is not None and result.status == "replied":
                self.installed_at = self.now_ns()
            else:
                self.stats["setup_retries"] += 1
        return self.installed_at is not None

    async def upgrade(self, module: str) -> None:
        """Upgrade the canister to ``module`` (``UPGRADE_MODULES``) as its controller, now,
        with the operations' retries and timeout; the outcome is kept in ``upgrades``
        (replied, rejected with the reject, timeout, or not installed)."""
        record: dict[str, Any] = {"module": module, "at_ns": self.now_ns()}
        self.upgrades.append(record)
        if self.canister is None:
            record["outcome"] = "not installed"
            return
        record["module_hash"], arg = upgrade_install(self.canister, module)

        def settled(kind: str, result: RequestResult | None, why: str) -> None:
            if result is None:
                record["outcome"] = "timeout" if kind == "info" else f"refused: {why}"
                return
            record["outcome"] = "replied" if result.status == "replied" else "rejected"
            record["height"] = result.height
            if result.status != "replied":
                record["reject"] = f"{result.error_code or result.reject_code}: {result.reject_message}"

        node = self.rng.randrange(len(self.endpoints))
        await self._call(
            self.config.clients, management.INSTALL_CODE, arg, node, self.config.timeout_ns / 1e9, settled
        )

    async def _operation(self, client: int) -> None:
        assert self.canister is not None
        self.busy[client] = True
        key, f, method, value, arg = self.operations.next()
        envelope = self._envelope(client, self.canister, method, arg)
        event = self.recorder.invoke(client, f, value, self.now_ns(), key)
        self.request_of[event.index] = envelope.request_id
        self.stats[f"{f}:invoked"] += 1

        def settled(kind: str, result: RequestResult | None, why: str) -> None:
            if result is not None:
                kind, outcome, why = self.operations.outcome(f, value, result)
            else:
                outcome = None
            self.recorder.complete(client, kind, outcome, self.now_ns())
            self.stats[f"{f}:{kind}"] += 1

        try:
            await self._settle(
                envelope, self.rng.randrange(len(self.endpoints)), self.config.timeout_ns / 1e9, settled
            )
        finally:
            self.busy[client] = False

    async def _closed_loop(self, client: int) -> None:
        while True:
            await self._operation(client)
            await trio.sleep(0.001)

    async def run(self) -> None:
        """Set up, then run the clients until cancelled (operations still outstanding then
        stay invoked: their outcome is unknown)."""
        if not await self.setup():
            return
        async with trio.open_nursery() as nursery:
            if self.config.rate_per_s is None:
                for client in range(self.config.clients):
                    nursery.start_soon(self._closed_loop, client)
                return
            while True:
                await trio.sleep(self.rng.expovariate(self.config.rate_per_s))
                idle = [client for client, busy in enumerate(self.busy) if not busy]
                if idle:
                    client = self.rng.choice(idle)
                    self.busy[client] = True
                    nursery.start_soon(self._operation, client)
                else:
                    self.stats["arrivals_dropped_all_busy"] += 1
