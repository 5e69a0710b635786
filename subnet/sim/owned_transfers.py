"""The ``owned-transfer`` workload: clients run owned-object transactions through the Sui
fast path, as messages in the simulated network, and record a register history.

Each client has two addresses (two Ed25519 keys) and owns ``keys`` registers, Move objects
of ``subnet/samples/owned_register.move`` that only their owner may use. An operation is
one transaction on one of its registers, ``write`` of a fresh value, ``cas`` from a recent
value to a fresh one, or ``read`` (its event carries the value), followed in the same
transaction by a transfer of the register to the client's other address: every operation
is an owned transfer, signed by the register's current owner, and none needs consensus.

Each goes through the fast path (Sui Lutris, ``client.fast_path`` over TCP) with every
step a message of the simulated network: the signed transaction to every replica, their
votes back (``SuiVote``), 2f+1 votes of one epoch as a certificate to every replica, their
signed effects back (``SuiSignedEffects``); 2f+1 matching effects, checked against the
committee's keys, are finality, and the outcome is recorded then: ``ok``, or for a cas
whose Move call aborted (the value was not FROM) the definite ``fail false``. Messages take
the latency model's delays, may be lost or duplicated, are cut by partitions and meet
crashed replicas (``SimNetwork.client_delays``): a client sits beside its home replica
(client ``c``'s is ``c mod n``), so a partition puts it on its home's side, and one that
leaves it fewer than 2f+1 replicas stops it until the heal. A paused replica answers
when it resumes.

As an IC agent resubmits, a client without finality after ``retry`` asks again the
replicas it has no vote (or effects signature) from, with the same transaction or
certificate (votes and executions are idempotent). After ``timeout`` the operation is
recorded as ``info`` (outcome unknown), but the client keeps driving the same
transaction until it is final, since the register's version is locked to it, and only
then starts its next operation: it always knows its registers' current versions and
owners, from the effects.

Equivocation (``equivocators = E``): the last E clients use the keys and registers of the
first E, unknown to each other, so their transactions meet on one object version. A
transaction whose votes more replicas refuse than a quorum allows, for a version another
transaction locked or consumed (``CONFLICTS``), is abandoned: never sent again, so it
certainly did not happen (``fail``); the client reads the register back from 2f+1
replicas (signed ``sui_getObject`` answers, as messages) and goes on. When the votes split
so that neither is certified, the version stays locked until the epoch ends.

The setup identity publishes the package and creates the registers through the fast path
too (publishing uses no shared object). The clients start no operation in the last
``DRAIN_NS`` of the run, so that the certificates of the last final operations are
sequenced by consensus before it ends: durability reads the final chain, which must carry
every acknowledged write exactly once. The history is checked with the register model
(one key per register).
"""

from __future__ import annotations

import functools
import json
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from client.agent import verify_query_response
from client.fast_path import EffectsTally, VoteTally
from move.build import build_sources
from node.replica import Replica
from subnet.checks.history import Event, Recorder
from subnet.samples import move_module
from subnet.sim.arrivals import THINK_NS, Arrivals
from subnet.sim.clients import ClientsConfig, Operations
from subnet.sim.network import SimNetwork
from subnet.sim.trace import Trace
from vocab import crypto
from vocab.certificate import CertificateError, RequestResult
from vocab.codec import Message
from vocab.committee import Verifier
from vocab.genesis import SECOND, Genesis
from vocab.messages import QueryResponse, SuiCertificateRequest, SuiReadRequest, SuiVoteRequest
from vocab.principal import Principal
from vocab.sui.address import FRAMEWORK_PACKAGES, ObjectId, SuiAddress
from vocab.sui.builder import ProgrammableTransactionBuilder
from vocab.sui.digests import Digest
from vocab.sui.objects import ObjectRef
from vocab.sui.signed import SignedTransaction
from vocab.sui.transaction import (
    DEFAULT_GAS_BUDGET,
    REFERENCE_GAS_PRICE,
    Argument,
    GasData,
    ImmOrOwnedObject,
    ProgrammableTransaction,
    TransactionData,
    ValidDuring,
)
from vocab.sui.type_tag import PrimitiveTag

__all__ = [
    "ADDRESSES_PER_CLIENT",
    "DRAIN_NS",
    "MAX_REGISTERS",
    "FastPathHost",
    "OwnedTransfers",
    "owned_register_modules",
]

ADDRESSES_PER_CLIENT = 2
"""A client's addresses: each operation passes the register on to the next one."""
MAX_REGISTERS = 4096
"""Registers a run may create (clients x keys)."""
SETUP_CHUNK = 32
"""Registers one setup transaction creates."""
DRAIN_NS = 2 * SECOND
"""At the end of a run, how long the clients start nothing, so that consensus sequences
the certificates of the last final operations."""
U64 = PrimitiveTag("u64")
CONFLICTS = ("ObjectLockConflict", "ObjectVersionUnavailableForConsumption")
"""Vote refusals that mean another transaction locked or consumed an input version."""
CAS_NOT_SWAPPED = 1
"""The register module's abort code for a cas whose register did not hold FROM."""


@functools.cache
def owned_register_modules() -> tuple[bytes, ...]:
    """The workload's package (``subnet/samples/owned_register.move``), compiled once per process."""
    built = build_sources("registers", {"register.move": move_module("owned_register")})
    return tuple(built.module_bytes)


class FastPathHost(Protocol):
    """What the owned-object clients need of the simulation that runs them."""

    now: int
    n: int
    start_ns: int
    end_ns: int
    trace: Trace
    replicas: list[Replica | None]
    network: SimNetwork
    genesis: Genesis
    paused: dict[int, list[tuple[str, Any]]]

    @property
    def verifier(self) -> Verifier: ...

    def schedule(self, at: int, kind: str, data: Any) -> None: ...

    def fast_path(self, node: int, request: SuiVoteRequest | SuiCertificateRequest) -> Message | None:
        """A replica's answer to a fast-path request handed to it now; None if it is down."""
        ...


@dataclass
class _Register:
    ref: ObjectRef
    owner: int
    """Which of its client's addresses owns it."""


@dataclass
class _Drive:
    """One transaction driven through the fast path until 2f+1 replicas signed its effects."""

    signed: SignedTransaction
    home: int
    on_final: Callable[[dict[str, Any]], None]
    votes: VoteTally
    on_abandon: Callable[[list[str]], None] | None = None
    """Called, and the transaction never sent again, when replicas refuse it for an object
    another transaction locked or consumed: it can no longer be certified in this epoch."""
    effects: EffectsTally | None = None
    final: bool = False
    round: int = 0
    """Incremented at each (re)sending: a retry timer of an earlier round does nothing."""


@dataclass
class _Op:
    client: int
    f: str
    register: int
    """The history's key."""
    key: int
    """The register's index among its wallet's."""
    value: Any
    index: int
    """The index of its invocation in the history."""
    invoked_at: int
    recorded: bool = False
    """Its outcome is in the history (``info`` at the timeout, while the client goes on)."""


class OwnedTransfers(Arrivals[ClientsConfig]):
    """The setup client and the owned-object clients of one simulated run (what
    ``HistoryClients`` is for canister and shared-object workloads)."""

    def __init__(self, config: ClientsConfig, host: FastPathHost, seed: int) -> None:
        if not 0 <= config.equivocators <= config.clients // 2:
            raise ValueError("equivocating clients are at most half the clients (each shares another's keys)")
        self.wallets = config.clients - config.equivocators
        """Distinct key holders: client ``wallets + i`` uses the keys and registers of client
        ``i`` (``equivocators`` of them), unknown to each other."""
        if self.wallets * config.keys > MAX_REGISTERS:
            raise ValueError(
                f"the owned-transfer workload creates at most {MAX_REGISTERS} registers (clients x keys)"
            )
        self.config = config
        self.host = host
        self.rng = random.Random(f"subnet-owned:{seed}")
        self.keys: list[list[Ed25519PrivateKey]] = [
            [crypto.private_key_from_seed(self.rng.randbytes(32)) for _ in range(ADDRESSES_PER_CLIENT)]
            for _ in range(self.wallets + 1)
        ]
        """Each wallet's keys, then the setup identity's (its first key signs)."""
        self.addresses = [
            [SuiAddress.from_ed25519_public_key(crypto.raw_public_key(key)) for key in keys]
            for keys in self.keys
        ]
        self.operations = [Operations("register", config.keys, self.rng) for _ in range(self.wallets)]
        """Each wallet's operation mix (keys local to it), shared by its clients so that the
        values written stay unique per register."""
        self.views: list[list[_Register | None]] = [[None] * config.keys for _ in range(config.clients)]
        """What each client knows of its registers (a wallet's clients learn only from their
        own transactions); wallet ``w``'s register ``k`` is the history's key ``w * keys + k``."""
        self._created = 0
        self.busy = [False] * config.clients
        self.recorder = Recorder()
        self.stats: Counter[str] = Counter()
        self.installed_at: int | None = None
        """When the setup was final (the history checks' "installed")."""
        self.canister: Principal | None = None
        """No canister: upgrade faults do not apply (the scenario file refuses them)."""
        self.upgrades: list[dict[str, Any]] = []
        self.request_of: dict[int, bytes] = {}
        """The transaction digest of each operation, by the index of its invocation."""
        self.package: ObjectId | None = None
        self.stop_ns = host.end_ns - DRAIN_NS
        self._nonce = 0
        owned_register_modules()  # compiled before the run: a compiler error stops nothing midway
        host.schedule(host.start_ns + config.start_ns, "call", lambda _: self._setup())

    def wallet(self, client: int) -> int:
        """Whose keys and registers a client uses."""
        return client if client < self.wallets else client - self.wallets

    @property
    def model(self) -> str:
        return "register"

    @property
    def events(self) -> list[Event]:
        return self.recorder.events

    def on_reply(self, node: int, request_id: bytes, result: RequestResult) -> None:
        """Certified replies through consensus: these clients wait for none."""

    def upgrade(self, module: str) -> None:
        raise ValueError("an upgrade fault needs the register or counter clients' canister")

    def executions(self, chain_payload_ids: list[bytes]) -> dict[int, int]:
        """How many times each operation's transaction is in a final chain (its certificate
        sequenced), by the index of the operation's invocation."""
        counts = Counter(chain_payload_ids)
        return {index: counts.get(digest, 0) for index, digest in sorted(self.request_of.items())}

    # -- transactions through the fast path, as messages -----------------------------------

    def _at(self, delay_ns: int, action: Callable[[], None]) -> None:
        self.host.schedule(self.host.now + delay_ns, "call", lambda _: action())

    def _transaction(self, key: Ed25519PrivateKey, kind: ProgrammableTransaction) -> SignedTransaction:
        """A transaction signed by ``key``, distinct from every other (a nonce in
        ``ValidDuring``, as the SDK sets without gas coins)."""
        self._nonce += 1
        sender = SuiAddress.from_ed25519_public_key(crypto.raw_public_key(key))
        tx = TransactionData(
            kind,
            sender,
            GasData((), sender, REFERENCE_GAS_PRICE, DEFAULT_GAS_BUDGET),
            ValidDuring(None, None, None, None, Digest(bytes(32)), self._nonce),
        )
        return SignedTransaction.sign(tx, [key])

    def _start(
        self,
        signed: SignedTransaction,
        home: int,
        on_final: Callable[[dict[str, Any]], None],
        on_abandon: Callable[[list[str]], None] | None = None,
    ) -> None:
        committee = self.host.genesis.committee
        drive = _Drive(signed, home, on_final, VoteTally(committee, signed, self.host.verifier), on_abandon)
        self._send_round(drive)

    def _send_round(self, drive: _Drive) -> None:
        """Send the current step's request to every replica not counted yet, and retry
        after ``retry`` unless the step is over by then."""
        if drive.final:
            return
        drive.round += 1
        request: SuiVoteRequest | SuiCertificateRequest
        if drive.effects is None:
            request, counted = SuiVoteRequest(drive.signed), drive.votes.voted()
        else:
            request, counted = SuiCertificateRequest(drive.effects.certificate), drive.effects.signed()
        for node in range(self.host.n):
            if node not in counted:
                self._send(drive, node, request)
        current = drive.round

        def retry() -> None:
            if drive.round == current and not drive.final:
                self.stats["fast_retries"] += 1
                self._send_round(drive)

        self._at(self.config.retry_ns, retry)

    def _send(self, drive: _Drive, node: int, request: SuiVoteRequest | SuiCertificateRequest) -> None:
        host = self.host
        digest = drive.signed.request_id.hex()[:12]
        delays = host.network.client_delays(drive.home, node, to_client=False)
        if not delays:
            host.trace.record(host.now, "fast_drop", node, drive.home, digest)
        for delay in delays:
            host.trace.record(host.now, "fast_send", node, drive.home, digest, delay)
            self._at(delay, functools.partial(self._reach_replica, drive, node, request))

    def _exchange(
        self,
        home: int,
        node: int,
        handle: Callable[[Replica], QueryResponse],
        answered: Callable[[int, QueryResponse], None],
    ) -> None:
        """A read to replica ``node`` and its answer back, both messages of the network."""
        host = self.host

        def at_replica() -> None:
            replica = host.replicas[node]
            if not host.network.connected(home, node) or replica is None:
                return
            if node in host.paused:
                host.paused[node].append(("call", lambda _: at_replica()))
                return
            host.trace.record(host.now, "sui_read", node, home)
            response = handle(replica)
            for delay in host.network.client_delays(home, node, to_client=True):
                self._at(
                    delay, lambda: answered(node, response) if host.network.connected(node, home) else None
                )

        for delay in host.network.client_delays(home, node, to_client=False):
            self._at(delay, at_replica)

    def _reach_replica(
        self, drive: _Drive, node: int, request: SuiVoteRequest | SuiCertificateRequest
    ) -> None:
        host = self.host
        if not host.network.connected(drive.home, node):
            host.trace.record(host.now, "fast_lost", node, drive.home, drive.signed.request_id.hex()[:12])
            return
        if node in host.paused:  # the connection hangs: handled when the replica resumes
            host.paused[node].append(("call", lambda _: self._reach_replica(drive, node, request)))
            return
        answer = host.fast_path(node, request)
        if answer is None:  # the replica is down: connection refused
            return
        for delay in host.network.client_delays(drive.home, node, to_client=True):
            self._at(delay, functools.partial(self._reach_client, drive, node, answer))

    def _reach_client(self, drive: _Drive, node: int, answer: Message) -> None:
        if not self.host.network.connected(node, drive.home):
            self.host.trace.record(
                self.host.now, "fast_lost", drive.home, node, drive.signed.request_id.hex()[:12]
            )
            return
        if drive.final:
            return
        tally = drive.votes if drive.effects is None else drive.effects
        done = tally.accept(answer)
        refused = tally.refusals.get(node)
        if refused is not None and isinstance(answer, tally.kind) and answer.digest == tally.digest:
            self.stats[f"fast_refused:{refused[0]}"] += 1
        if drive.effects is None:
            certificate = drive.votes.certificate
            if done and certificate is None and drive.on_abandon is not None:
                conflicts = sorted({name for name, _ in drive.votes.refusals.values() if name in CONFLICTS})
                if conflicts:
                    drive.final = True
                    self.host.trace.record(
                        self.host.now, "fast_abandoned", -1, drive.signed.request_id.hex()[:12], conflicts
                    )
                    drive.on_abandon(conflicts)
            elif done and certificate is not None:
                self.host.trace.record(
                    self.host.now,
                    "fast_certified",
                    -1,
                    drive.signed.request_id.hex()[:12],
                    list(certificate.signers),
                )
                drive.effects = EffectsTally(self.host.genesis.committee, certificate, self.host.verifier)
                self._send_round(drive)
        else:
            finality = drive.effects.finality
            if not done or finality is None:
                return
            drive.final = True
            self.host.trace.record(
                self.host.now, "fast_final", -1, drive.signed.request_id.hex()[:12], list(finality.signers)
            )
            drive.on_final(json.loads(finality.response))

    # -- setup: publish the package, create the registers ---------------------------------------

    def _setup(self) -> None:
        setup = self.wallets
        builder = ProgrammableTransactionBuilder()
        if self.package is None:
            cap = builder.publish(owned_register_modules(), FRAMEWORK_PACKAGES)
            builder.transfer_objects([cap], self.addresses[setup][0])
            step = "publish"
        else:
            end = min(self._created + SETUP_CHUNK, self.wallets * self.config.keys)
            for index in range(self._created, end):
                made = builder.move_call(self.package, "register", "new", [], [])
                builder.transfer_objects([made], self.addresses[index // self.config.keys][0])
            step = f"create {self._created}..{end - 1}"
        self.host.trace.record(self.host.now, "client_setup", -1, step)
        self._start(
            self._transaction(self.keys[setup][0], builder.finish()), setup % self.host.n, self._setup_final
        )

    def _setup_final(self, response: dict[str, Any]) -> None:
        status = response["effects"]["status"]
        if status["status"] != "success":
            raise RuntimeError(f"the owned-transfer setup failed: {status.get('error', '')}")
        changes = response["objectChanges"]
        if self.package is None:
            (published,) = [c for c in changes if c["type"] == "published"]
            self.package = ObjectId.from_text(published["packageId"])
        else:
            owners = {addresses[0].to_text(): client for client, addresses in enumerate(self.addresses)}
            for change in changes:
                if change["type"] != "created":
                    continue
                wallet = owners[change["owner"]["AddressOwner"]]
                slot = self.views[wallet].index(None)
                for client in range(wallet, self.config.clients, self.wallets):  # the wallet's clients
                    self.views[client][slot] = _Register(_ref(change), 0)
                self._created += 1
        if self._created < self.wallets * self.config.keys:
            self._setup()
            return
        self.installed_at = self.host.now
        self.host.trace.record(
            self.host.now, "client_ready", -1, self.package.to_text() if self.package else ""
        )
        self._start_load()

    # -- operations ---------------------------------------------------------------------------

    def _arrivals_over(self) -> bool:
        return self.host.now >= self.stop_ns

    def _idle_clients(self) -> list[int]:
        return [client for client, busy in enumerate(self.busy) if not busy]

    def _invoke(self, client: int) -> None:
        if self.busy[client] or self.host.now >= self.stop_ns:
            return
        assert self.package is not None
        wallet = self.wallet(client)
        key, f, method, value, _ = self.operations[wallet].next()
        index = wallet * self.config.keys + key
        register = self.views[client][key]
        assert register is not None
        builder = ProgrammableTransactionBuilder()
        obj = builder.object(ImmOrOwnedObject(register.ref))
        arguments: list[Argument] = [obj]
        if f == "write":
            arguments.append(builder.pure(U64, value))
        elif f == "cas":
            arguments += [builder.pure(U64, value[0]), builder.pure(U64, value[1])]
        builder.move_call(self.package, "register", method, [], arguments)
        builder.transfer_objects([obj], self.addresses[wallet][(register.owner + 1) % ADDRESSES_PER_CLIENT])
        signed = self._transaction(self.keys[wallet][register.owner], builder.finish())
        now = self.host.now
        event = self.recorder.invoke(client, f, value, now - self.host.start_ns, index)
        self.request_of[event.index] = signed.request_id
        op = _Op(client, f, index, key, value, event.index, now)
        self.busy[client] = True
        self.stats[f"{f}:invoked"] += 1
        self.host.trace.record(
            now, "client_invoke", -1, client, f, index, value, signed.request_id.hex()[:12]
        )
        self._start(
            signed,
            client % self.host.n,
            functools.partial(self._final, op),
            functools.partial(self._abandoned, op),
        )
        self._at(self.config.timeout_ns, functools.partial(self._timeout, op))

    def _timeout(self, op: _Op) -> None:
        """No finality within ``timeout``: the outcome is unknown to the history; the client
        goes on driving the transaction (its register is locked to it)."""
        if op.recorded or not self.busy[op.client]:
            return
        op.recorded = True
        self._record(op, "info", None, "timeout")

    def _record(self, op: _Op, kind: str, value: Any, why: str) -> None:
        self.recorder.complete(op.client, kind, value, self.host.now - self.host.start_ns)
        self.stats[f"{op.f}:{kind}"] += 1
        self.host.trace.record(self.host.now, "client_" + kind, -1, op.client, op.f, value, why)

    def _final(self, op: _Op, response: dict[str, Any]) -> None:
        register = self.views[op.client][op.key]
        assert register is not None
        register_id = register.ref.object_id.to_text()
        (change,) = [c for c in response["objectChanges"] if c.get("objectId") == register_id]
        self._learn(op.client, op.key, _ref(change), change["owner"]["AddressOwner"])
        status = response["effects"]["status"]
        if not op.recorded:
            op.recorded = True
            if status["status"] == "success":
                if op.f == "read":
                    (event,) = response["events"]
                    fields = event["parsedJson"]
                    self._record(op, "ok", int(fields["value"]) if fields["present"] else None, "")
                else:
                    self._record(op, "ok", op.value, "")
            elif op.f == "cas" and _aborted_with(status.get("error", ""), CAS_NOT_SWAPPED):
                self._record(op, "fail", False, "not swapped")
            else:
                self._record(op, "fail", None, f"aborted:{status.get('error', '')}")
        else:
            self.stats["final_after_timeout"] += 1
        self._idle(op.client, THINK_NS)

    def _idle(self, client: int, delay_ns: int) -> None:
        self.busy[client] = False
        if self.config.rate_per_s is None:
            self._at(delay_ns, functools.partial(self._invoke, client))

    def _learn(self, client: int, key: int, ref: ObjectRef, owner: str) -> None:
        """A client's register is now at ``ref``, owned by ``owner`` (one of its wallet's)."""
        mine = [address.to_text() for address in self.addresses[self.wallet(client)]]
        self.views[client][key] = _Register(ref, mine.index(owner))

    # -- equivocation: a wallet's two clients on one register version -------------------------

    def _abandoned(self, op: _Op, conflicts: list[str]) -> None:
        """Replicas locked the register's version for another transaction (the wallet's
        other client), or it is consumed: this one can no longer be certified and is never
        sent again, so it certainly did not happen (``fail``). The client then reads the
        register's current version from the replicas before its next operation."""
        self.stats["abandoned"] += 1
        if not op.recorded:
            op.recorded = True
            self._record(op, "fail", None, "ObjectsDoubleUsed: " + ", ".join(conflicts))
        register = self.views[op.client][op.key]
        assert register is not None
        # A version still locked stays locked until the epoch ends: no hurry to try it again.
        pause = self.config.retry_ns if "ObjectLockConflict" in conflicts else THINK_NS
        self._resync(op.client, op.key, register.ref.object_id, pause)

    def _resync(self, client: int, key: int, object_id: ObjectId, pause_ns: int) -> None:
        """Read the register from every replica (as messages); with 2f+1 signed answers,
        take the highest version (a replica may lag, none is ahead of the objects' truth);
        the client's next operation ``pause_ns`` later."""
        request = SuiReadRequest("sui_getObject", json.dumps([object_id.to_text()]).encode())
        committee = self.host.genesis.committee
        answers: dict[int, dict[str, Any]] = {}
        home = client % self.host.n

        def answered(node: int, response: QueryResponse) -> None:
            if len(answers) >= committee.threshold or response.status != "replied":
                return
            try:
                verify_query_response(response, committee, request.request_id, self.host.verifier)
            except CertificateError:
                self.stats["fast_refused:InvalidSignature"] += 1
                return
            answers[node] = json.loads(response.reply)["data"]
            if len(answers) == committee.threshold:
                data = max(answers.values(), key=lambda item: int(item["version"]))
                ref = ObjectRef(object_id, int(data["version"]), Digest.from_text(data["digest"]))
                self._learn(client, key, ref, data["owner"]["AddressOwner"])
                self.host.trace.record(self.host.now, "client_resync", -1, client, key, int(data["version"]))
                self._idle(client, pause_ns)

        def ask() -> None:
            if len(answers) >= committee.threshold:
                return
            for node in range(self.host.n):
                if node not in answers:
                    self._exchange(
                        home, node, lambda replica: replica.sui_read(request, self.host.now), answered
                    )
            self._at(self.config.retry_ns, ask)

        ask()


def _ref(change: dict[str, Any]) -> ObjectRef:
    """The object reference an ``objectChanges`` entry gives."""
    return ObjectRef(
        ObjectId.from_text(change["objectId"]), int(change["version"]), Digest.from_text(change["digest"])
    )


def _aborted_with(error: str, code: int) -> bool:
    """Whether an effects' error is a Move abort with ``code``."""
    return error.startswith("MoveAbort") and error.endswith(f"aborted with code {code}")
