"""Clients that record what they saw: the register and counter workloads of a simulated
run, each operation kept as a Jepsen history (``subnet.checks.history``) in simulated time.

A setup client first creates a canister and installs ``subnet/samples/register.wat`` in
it (retrying on another replica when a step gets no answer). Then ``clients`` clients,
one process each in the history, call it:

- ``register``: ``read``, ``write`` of a fresh value, ``cas`` from a recently written
  value to a fresh one, on one of ``keys`` registers;
- ``counter``: ``add`` of 1 to 5, ``read`` (the canister's ``get``), on one of ``keys``;
- ``canister-counter``: the same history on a canister written in Motoko, compiled by
  the real ``moc`` (``subnet/samples/counter_v1.mo``, one counter, Candid arguments):
  ``add`` of 1 is its ``increment``, ``read`` its query ``get`` called as an update
  (through consensus, so that a read is as linearizable as a write);
- ``sui-counter``: the same operations on Sui shared objects: the setup client publishes
  the Move counter (``subnet/samples/counter.move``) and creates one shared ``Counter`` per
  key; ``add`` and ``read`` are signed Sui transactions calling ``add`` and ``read`` (whose
  event carries the value), through consensus like every canister call.
- ``versioned-counter`` (``subnet.sim.versioned_counter``, a subclass of these clients):
  callers of versions 1 and 2 of the shipped versioned counter increment one shared
  counter through the package's upgrade and the counter's migration.

Every call goes through consensus (an update call); its outcome is recorded as

- ``ok`` with what it returned, when a certified reply says the canister replied;
- ``fail`` when it certainly did not take effect: the replica refused it at ingress or
  was down (connection refused) on the first attempt, or the canister rejected it (a
  trap rolls everything back), or a cas answered "not swapped" (kept as the definite
  answer ``false``);
- ``info`` after ``timeout`` with no answer: it may or may not have taken effect.

As an IC agent does, a client whose replica has not answered within ``retry`` asks the
replicas that accepted the request for its certified reply (``read_state``, here
``Replica.lookup_reply``), and, if none has it, submits the same signed request to the
next replica, relying on replay protection to keep it from being executed twice.

Closed loop (no rate): each client invokes its next operation as soon as the previous
one completes. Open loop: operations arrive at ``rate`` per second (Poisson) and go to a
random idle client; an arrival that finds every client busy is counted and dropped, since a
history process has one operation outstanding at a time.

Draws come from a generator seeded from the run's seed and separate from the
simulation's; history times are integer nanoseconds of simulated time since the start of
the run. The same seed gives the same
history, byte for byte.
"""

from __future__ import annotations

import functools
import hashlib
import json
import random
import struct
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from importlib import resources
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from client.motoko import compile_motoko
from move.build import build_sources
from node.replica import Replica
from subnet.checks.history import Event, Recorder
from subnet.samples import move_module, source
from subnet.sim.arrivals import THINK_NS, Arrivals
from subnet.sim.trace import Trace
from vocab import crypto, management
from vocab.candid.decoder import decode as decode_candid
from vocab.candid.errors import CandidError
from vocab.certificate import RequestResult
from vocab.envelope import SignedEnvelope
from vocab.genesis import SECOND
from vocab.ingress_message import IngressMessage
from vocab.principal import Principal
from vocab.request import RequestContent
from vocab.sui.address import FRAMEWORK_PACKAGES, ObjectId, SuiAddress
from vocab.sui.builder import ProgrammableTransactionBuilder
from vocab.sui.digests import Digest
from vocab.sui.signed import SignedTransaction
from vocab.sui.transaction import (
    DEFAULT_GAS_BUDGET,
    REFERENCE_GAS_PRICE,
    Argument,
    GasData,
    ProgrammableTransaction,
    SharedObject,
    TransactionData,
    ValidDuring,
)
from vocab.sui.type_tag import PrimitiveTag

__all__ = [
    "CLIENT_KINDS",
    "KIND_ALIASES",
    "OWNED_KINDS",
    "UPGRADE_MODULES",
    "upgrade_install",
    "ClientHost",
    "ClientsConfig",
    "HistoryClients",
    "Operations",
    "register_canister_wasm",
    "workload_canister_wasm",
]

OWNED_KINDS = ("owned-transfer",)
"""Workloads of owned-object transactions on the fast path (``subnet.sim.owned_transfers``)."""
CLIENT_KINDS = ("register", "counter", "canister-counter", "sui-counter", "versioned-counter", *OWNED_KINDS)
SUI_KINDS = ("sui-counter", "versioned-counter", *OWNED_KINDS)
"""Workloads of Sui transactions on Move objects rather than canister calls."""
KIND_ALIASES = {"shared-counter": "sui-counter"}
"""Other names of workloads (issue 13 names shared counters so), resolved where a kind is read."""
MOTOKO_KINDS = ("canister-counter",)
"""Workloads on a Motoko canister (one counter: ``keys`` is 1, no upgrade faults)."""
MODEL_OF = {
    "register": "register",
    "counter": "counter",
    "canister-counter": "counter",
    "sui-counter": "counter",
    "owned-transfer": "register",
    "versioned-counter": "counter",
}
"""The linearizability model (``subnet.checks.linearizable.MODELS``) of each workload."""
MAX_KEYS = 256
"""Registers and counters the canister holds."""
SETUP_RETRY_NS = 2 * SECOND
CANDID_UNIT = b"DIDL\x00\x00"

UPGRADE_MODULES = ("keeps-state", "traps", "loses-state")
"""What an upgrade fault installs: the same canister marked as a new version (its
post_upgrade restores the registers: the clients see nothing); one whose post_upgrade
traps (the upgrade fails, and must leave no trace); one without post_upgrade (the
upgrade succeeds and the registers are gone: a broken upgrade that linearizability
catches)."""


@functools.cache
def sui_counter_modules() -> tuple[bytes, ...]:
    """The ``sui-counter`` workload's package: the Move counter of ``subnet/samples``,
    compiled once per process."""
    built = build_sources("counter", {"counter.move": move_module("counter")})
    return tuple(built.module_bytes)


@functools.cache
def register_canister_wasm(variant: str = "") -> bytes:
    """The workloads' canister, assembled from its text (``subnet/samples/register.wat``),
    or one of its ``UPGRADE_MODULES``."""
    import wasmtime  # the engine's own assembler; imported here, as only workloads need it

    text = (resources.files("subnet") / "samples" / "register.wat").read_text()
    if variant:
        if variant not in UPGRADE_MODULES:
            raise ValueError(f"unknown module {variant!r} (one of {', '.join(UPGRADE_MODULES)})")
        text = text.replace(";; version", '(data (i32.const 8360) "upgraded")')
        begin, end = text.index(";; post_upgrade begin"), text.index(";; post_upgrade end")
        if variant == "traps":
            hook = '(func (export "canister_post_upgrade") (call $trap (i32.const 8320) (i32.const 20)))'
            text = text[:begin] + hook + text[end:]
        elif variant == "loses-state":
            text = text[:begin] + text[end:]
    return bytes(wasmtime.wat2wasm(text))


@functools.cache
def upgrade_install(canister: Principal, module: str) -> tuple[str, bytes]:
    """An upgrade fault's request: the hash of ``module`` (``UPGRADE_MODULES``), and the
    ``install_code`` argument that upgrades ``canister`` to it (both backends send it)."""
    wasm = register_canister_wasm(module)
    return hashlib.sha256(wasm).hexdigest(), management.encode_args(
        management.INSTALL_CODE, management.InstallCodeArgs("upgrade", canister, wasm, CANDID_UNIT)
    )


def motoko_counter_wasm() -> bytes:
    """The ``canister-counter`` workload's canister: ``subnet/samples/counter_v1.mo``
    compiled by the pinned ``moc`` (cached on disk by source; raises ``MotokoError``
    naming what is missing without Node.js)."""
    return compile_motoko(source("counter_v1")).wasm


def workload_canister_wasm(kind: str) -> bytes:
    """The canister a register or counter workload installs at the start."""
    return motoko_counter_wasm() if kind in MOTOKO_KINDS else register_canister_wasm()


@dataclass(frozen=True)
class ClientsConfig:
    kind: str
    """``register`` or ``counter``."""
    clients: int = 4
    rate_per_s: float | None = None
    """Operations per second, open loop; None: closed loop."""
    keys: int = 1
    retry_ns: int = SECOND
    timeout_ns: int = 5 * SECOND
    start_ns: int = 0
    expiry_ns: int = 60 * SECOND
    equivocators: int = 0
    """``owned-transfer``: clients that share another client's keys and registers
    (``subnet.sim.owned_transfers``), so that two transactions meet on one object version."""

    def __post_init__(self) -> None:
        if self.kind not in CLIENT_KINDS:
            raise ValueError(f"unknown client workload {self.kind!r} (one of {', '.join(CLIENT_KINDS)})")
        if self.clients < 1 or not 1 <= self.keys <= MAX_KEYS:
            raise ValueError(f"a client workload needs clients >= 1 and keys in [1, {MAX_KEYS}]")
        if self.kind in MOTOKO_KINDS and self.keys != 1:
            raise ValueError(f"the {self.kind} workload's canister holds one counter: keys must be 1")
        if self.rate_per_s is not None and self.rate_per_s <= 0:
            raise ValueError("an open-loop rate must be positive")
        if not 0 < self.retry_ns <= self.timeout_ns:
            raise ValueError("retry must be positive and at most the timeout")


class ClientHost(Protocol):
    """What the clients need of the simulation that runs them."""

    now: int
    n: int
    start_ns: int
    trace: Trace
    replicas: list[Replica | None]

    def schedule(self, at: int, kind: str, data: Any) -> None: ...

    def client_submit(self, envelope: IngressMessage, node: int) -> tuple[str, str]:
        """Hand a request to a replica: ``(accepted|rejected|down|paused, reason)``."""
        ...

    def reachable(self, node: int) -> bool:
        """Whether a client can talk to this replica now (up and not paused)."""
        ...


class Operations:
    """What a register or counter client asks and how it reads the answer, for either
    backend: the operation mix, the argument bytes of ``register.wat``, the outcome."""

    def __init__(self, kind: str, keys: int, rng: random.Random) -> None:
        self.kind = kind
        self.keys = keys
        self.rng = rng
        self._value = 0
        self._written: list[list[int]] = [[] for _ in range(keys)]

    def next(self) -> tuple[int, str, str, Any, bytes]:
        """(key, history function, canister method or Move function, history value,
        argument bytes)."""
        key = self.rng.randrange(self.keys)
        head = struct.pack("<I", key)
        roll = self.rng.random()
        if self.kind in MOTOKO_KINDS:
            if roll < 0.5:
                return key, "add", "increment", 1, CANDID_UNIT
            return key, "read", "get", None, CANDID_UNIT
        if self.kind in ("counter", "sui-counter"):
            if roll < 0.5:
                delta = self.rng.randint(1, 5)
                return key, "add", "add", delta, head + struct.pack("<q", delta)
            return key, "read", "get" if self.kind == "counter" else "read", None, head
        if roll < 0.5:
            return key, "read", "read", None, head
        self._value += 1
        fresh = self._value
        written = self._written[key]
        if roll < 0.8 or not written:
            written.append(fresh)
            del written[:-4]
            return key, "write", "write", fresh, head + struct.pack("<q", fresh)
        expected = self.rng.choice(written)
        written.append(fresh)
        del written[:-4]
        return key, "cas", "cas", [expected, fresh], head + struct.pack("<qq", expected, fresh)

    def outcome(self, f: str, value: Any, result: RequestResult) -> tuple[str, Any, str]:
        """(completion type, history value, why) of a certified result."""
        if result.status != "replied":
            return "fail", None, f"rejected:{result.error_code or result.reject_code}"
        reply = result.reply
        if self.kind in SUI_KINDS:
            response = json.loads(reply)
            status = response["effects"]["status"]
            if status["status"] != "success":
                return "fail", None, f"aborted:{status.get('error', '')}"
            if f == "read":
                (event,) = response["events"]
                return "ok", int(event["parsedJson"]["value"]), ""
            return "ok", value, ""
        if self.kind in MOTOKO_KINDS:
            try:
                (count,) = decode_candid(reply, "(nat)")
            except (CandidError, ValueError) as exc:
                return "fail", None, f"bad reply: {exc}"
            return "ok", count if f == "read" else value, ""
        if f == "read" and self.kind == "register":
            present, read = struct.unpack("<qq", reply)
            return "ok", read if present else None, ""
        if f == "read":
            return "ok", struct.unpack("<q", reply)[0], ""
        if f == "cas" and reply != b"\x01":
            return "fail", False, "not swapped"
        return "ok", value, ""


@dataclass
class _Op:
    serial: int
    client: int
    f: str
    key: int
    value: Any
    envelope: IngressMessage
    invoked_at: int
    last_node: int
    asked: dict[int, None] = field(default_factory=dict)
    """Replicas that accepted (or already knew) the request: where to ask for the reply."""


class HistoryClients(Arrivals["ClientsConfig"]):
    """The setup client and the history clients of one simulated run."""

    def __init__(self, config: ClientsConfig, host: ClientHost, seed: int) -> None:
        self.config = config
        self.host = host
        self.rng = random.Random(f"subnet-clients:{seed}")
        self.keys: list[Ed25519PrivateKey] = [
            crypto.private_key_from_seed(self.rng.randbytes(32)) for _ in range(config.clients + 1)
        ]
        self.principals = [Principal.self_authenticating(crypto.der_public_key(key)) for key in self.keys]
        self.addresses = [SuiAddress.from_ed25519_public_key(crypto.raw_public_key(key)) for key in self.keys]
        self.package: ObjectId | None = None
        """The published Move counter package (``sui-counter``)."""
        self.counters: list[SharedObject] = []
        """The shared ``Counter`` of each key (``sui-counter``), as a mutable input."""
        self.recorder = Recorder()
        self.stats: Counter[str] = Counter()
        self.canister: Principal | None = None
        self.installed_at: int | None = None
        self.ops: list[_Op | None] = [None] * config.clients
        self.waiting: dict[bytes, Callable[[RequestResult], None]] = {}
        self.request_of: dict[int, bytes] = {}
        """The request id of each operation, by the index of its invocation in the history."""
        self.upgrades: list[dict[str, Any]] = []
        """Each upgrade of the canister under load: its module, time, outcome."""
        self._serial = 0
        self._nonce = 0
        self.operations = Operations(config.kind, config.keys, self.rng)
        workload_canister_wasm(
            config.kind
        )  # compiled before the run: a missing compiler stops nothing midway
        self._setup_attempt = 0
        self._setup_step = "publish" if config.kind in SUI_KINDS else "create"
        host.schedule(host.start_ns + config.start_ns, "call", lambda _: self._setup())

    @property
    def model(self) -> str:
        return MODEL_OF[self.config.kind]

    @property
    def events(self) -> list[Event]:
        return self.recorder.events

    # -- plumbing ----------------------------------------------------------------------------

    def _envelope(self, identity: int, canister: Principal, method: str, arg: bytes) -> SignedEnvelope:
        self._nonce += 1
        content = RequestContent(
            request_type="call",
            sender=self.principals[identity],
            canister_id=canister,
            method_name=method,
            arg=arg,
            ingress_expiry=self.host.now + self.config.expiry_ns,
            nonce=self._nonce.to_bytes(8, "big"),
        )
        return SignedEnvelope.sign(content, self.keys[identity])

    def _transaction(self, identity: int, kind: ProgrammableTransaction) -> SignedTransaction:
        """A Sui transaction from client ``identity``, distinct from every other (a nonce in
        ``ValidDuring``, as the SDK sets without gas coins), signed by its key."""
        self._nonce += 1
        sender = self.addresses[identity]
        tx = TransactionData(
            kind,
            sender,
            GasData((), sender, REFERENCE_GAS_PRICE, DEFAULT_GAS_BUDGET),
            ValidDuring(None, None, None, None, Digest(bytes(32)), self._nonce),
        )
        return SignedTransaction.sign(tx, [self.keys[identity]])

    def _request(self, client: int, key: int, method: str, value: Any, arg: bytes) -> IngressMessage:
        """An operation's request: a canister call, or a Sui transaction on key's counter."""
        if self.config.kind not in SUI_KINDS:
            assert self.canister is not None
            return self._envelope(client, self.canister, method, arg)
        assert self.package is not None
        builder = ProgrammableTransactionBuilder()
        counter = self.counters[key]
        arguments: list[Argument] = [builder.object(replace(counter, mutable=method == "add"))]
        if method == "add":
            arguments.append(builder.pure(PrimitiveTag("u64"), value))
        builder.move_call(self.package, "counter", method, [], arguments)
        return self._transaction(client, builder.finish())

    def _sui_setup_request(self, setup: int) -> SignedTransaction:
        """Publish the Move counter, then create one shared counter per key, one at a time."""
        builder = ProgrammableTransactionBuilder()
        if self._setup_step == "publish":
            cap = builder.publish(sui_counter_modules(), FRAMEWORK_PACKAGES)
            builder.transfer_objects([cap], self.addresses[setup])
        else:
            assert self.package is not None
            builder.move_call(self.package, "counter", "create", [], [])
        return self._transaction(setup, builder.finish())

    def _sui_setup_answer(self, result: RequestResult) -> bool:
        """Take a setup step's answer; whether the setup is complete."""
        response = json.loads(result.reply)
        if self._setup_step == "publish":
            (published,) = [c for c in response["objectChanges"] if c["type"] == "published"]
            self.package = ObjectId.from_text(published["packageId"])
            self._setup_step = "create"
            return False
        (created,) = [c for c in response["objectChanges"] if c["type"] == "created"]
        initial = int(created["owner"]["Shared"]["initial_shared_version"])
        self.counters.append(SharedObject(ObjectId.from_text(created["objectId"]), initial, True))
        return len(self.counters) == self.config.keys

    def _at(self, delay_ns: int, action: Callable[[], None]) -> None:
        self.host.schedule(self.host.now + delay_ns, "call", lambda _: action())

    def on_reply(self, node: int, request_id: bytes, result: RequestResult) -> None:
        """A replica's certified reply to a request it accepted (the simulation calls this)."""
        handler = self.waiting.pop(request_id, None)
        if handler is not None:
            handler(result)

    # -- setup: create the canister, install the code ----------------------------------------

    def _setup(self) -> None:
        if self.installed_at is not None:
            return
        self._setup_attempt += 1
        attempt = self._setup_attempt
        node = (attempt - 1) % self.host.n
        setup = self.config.clients  # the setup identity is the last key
        envelope: IngressMessage
        if self.config.kind in SUI_KINDS:
            envelope = self._sui_setup_request(setup)
        elif self._setup_step == "create":
            method = management.CREATE
            arg = management.encode_args(method, management.CreateCanisterArgs())
        else:
            assert self.canister is not None
            method = management.INSTALL_CODE
            arg = management.encode_args(
                method,
                management.InstallCodeArgs(
                    "install", self.canister, workload_canister_wasm(self.config.kind), CANDID_UNIT
                ),
            )
        if self.config.kind not in SUI_KINDS:
            envelope = self._envelope(setup, Principal.management(), method, arg)
        self.host.trace.record(self.host.now, "client_setup", node, self._setup_step, attempt)

        def answered(result: RequestResult) -> None:
            if attempt != self._setup_attempt or self.installed_at is not None:
                return
            if result.status != "replied":
                self.stats[f"setup_{self._setup_step}_rejected"] += 1
                self._at(SETUP_RETRY_NS, self._setup)
                return
            if self.config.kind in SUI_KINDS:
                if not self._sui_setup_answer(result):
                    self._setup()
                    return
            elif self._setup_step == "create":
                self.canister = management.decode_reply(management.CREATE, result.reply).canister_id
                self._setup_step = "install"
                self._setup()
                return
            self.installed_at = self.host.now
            ready = str(self.canister) if self.package is None else self.package.to_text()
            self.host.trace.record(self.host.now, "client_ready", -1, ready)
            self._start_load()

        status, _ = self.host.client_submit(envelope, node)
        if status == "accepted":
            self.waiting[envelope.request_id] = answered
        self._at(SETUP_RETRY_NS, lambda: self._setup_timeout(attempt, envelope.request_id))

    def _setup_timeout(self, attempt: int, request_id: bytes) -> None:
        if attempt == self._setup_attempt and self.installed_at is None:
            self.waiting.pop(request_id, None)
            self.stats["setup_retries"] += 1
            self._setup()

    def _idle_clients(self) -> list[int]:
        return [client for client, op in enumerate(self.ops) if op is None and self._callable(client)]

    def _callable(self, client: int) -> bool:
        """Whether the client has something to call now (a workload whose callers wait for
        something, ``subnet.sim.versioned_counter``, says no until it exists)."""
        return True

    # -- operations ---------------------------------------------------------------------------

    def _invoke(self, client: int) -> None:
        if self.ops[client] is not None:
            return
        key, f, method, value, arg = self.operations.next()
        envelope = self._request(client, key, method, value, arg)
        node = self.rng.randrange(self.host.n)
        self._serial += 1
        event = self.recorder.invoke(client, f, value, self.host.now - self.host.start_ns, key)
        self.request_of[event.index] = envelope.request_id
        op = _Op(self._serial, client, f, key, value, envelope, self.host.now, node)
        self.ops[client] = op
        self.stats[f"{f}:invoked"] += 1
        self.host.trace.record(
            self.host.now, "client_invoke", node, client, f, key, value, envelope.request_id.hex()[:12]
        )
        self._attempt(op, node, first=True)
        self._at(self.config.retry_ns, functools.partial(self._tick, op))

    def _attempt(self, op: _Op, node: int, *, first: bool) -> None:
        op.last_node = node
        status, reason = self.host.client_submit(op.envelope, node)
        if status == "accepted" or (status == "rejected" and reason == "replayed" and not first):
            op.asked[node] = None
            self.waiting[op.envelope.request_id] = functools.partial(self._result, op)
        elif first and status in ("rejected", "down"):
            # Refused at the door, or nobody there: the request reached no replica at all.
            self._complete(op, "fail", None, f"{status}:{reason}" if reason else status)

    def _tick(self, op: _Op) -> None:
        """No outcome yet after ``retry``: ask for the reply, resubmit, or give up."""
        if self.ops[op.client] is not op:
            return
        host = self.host
        if host.now - op.invoked_at >= self.config.timeout_ns:
            self.waiting.pop(op.envelope.request_id, None)
            self._complete(op, "info", None, "timeout")
            return
        for node in op.asked:
            replica = host.replicas[node]
            if replica is not None and host.reachable(node):
                reply = replica.lookup_reply(op.envelope.request_id)
                if reply is not None:
                    self.stats["answered_by_read_state"] += 1
                    self.waiting.pop(op.envelope.request_id, None)
                    self._result(op, reply.result)
                    return
        self.stats["resubmitted"] += 1
        self._attempt(op, (op.last_node + 1) % host.n, first=False)
        if self.ops[op.client] is op:
            self._at(self.config.retry_ns, functools.partial(self._tick, op))

    def _result(self, op: _Op, result: RequestResult) -> None:
        if self.ops[op.client] is op:
            self._complete(op, *self.operations.outcome(op.f, op.value, result))

    def _complete(self, op: _Op, kind: str, value: Any, why: str = "") -> None:
        self.ops[op.client] = None
        self.recorder.complete(op.client, kind, value, self.host.now - self.host.start_ns)
        self.stats[f"{op.f}:{kind}"] += 1
        self.host.trace.record(self.host.now, "client_" + kind, op.last_node, op.client, op.f, value, why)
        if self.config.rate_per_s is None:
            self._at(THINK_NS, functools.partial(self._invoke, op.client))

    # -- upgrades under load ----------------------------------------------------------------

    def upgrade(self, module: str) -> None:
        """Upgrade the canister to ``module`` (``UPGRADE_MODULES``) as its controller, now,
        resubmitting the same request to the next replica every ``retry`` until ``timeout``.
        The outcome is kept in ``upgrades``; without an installed canister it is refused."""
        record: dict[str, Any] = {"module": module, "at_ns": self.host.now - self.host.start_ns}
        self.upgrades.append(record)
        if self.canister is None:
            record["outcome"] = "not installed"
            return
        record["module_hash"], arg = upgrade_install(self.canister, module)
        envelope = self._envelope(self.config.clients, Principal.management(), management.INSTALL_CODE, arg)
        record["request_id"] = envelope.request_id.hex()
        started = self.host.now

        def answered(result: RequestResult) -> None:
            if "outcome" in record:
                return
            record["outcome"] = "replied" if result.status == "replied" else "rejected"
            record["height"] = result.height
            if result.status != "replied":
                record["reject"] = f"{result.error_code or result.reject_code}: {result.reject_message}"
            self.host.trace.record(self.host.now, "client_upgraded", -1, module, record["outcome"])

        def attempt(node: int) -> None:
            if "outcome" in record:
                return
            if self.host.now - started >= self.config.timeout_ns:
                record["outcome"] = "timeout"
                return
            replica = self.host.replicas[node]
            if replica is not None and self.host.reachable(node):
                known = replica.lookup_reply(envelope.request_id)
                if known is not None:
                    answered(known.result)
                    return
            status, reason = self.host.client_submit(envelope, node)
            if status == "accepted" or reason == "replayed":
                self.waiting[envelope.request_id] = answered
            self._at(self.config.retry_ns, lambda: attempt((node + 1) % self.host.n))

        self.host.trace.record(self.host.now, "client_upgrade", -1, module)
        attempt(self.rng.randrange(self.host.n))

    # -- after the run -----------------------------------------------------------------------

    def executions(self, chain_payload_ids: list[bytes]) -> dict[int, int]:
        """How many times each operation's request was executed in a final chain (the ids
        of its payloads in order), by the index of the operation's invocation."""
        counts = Counter(chain_payload_ids)
        return {index: counts.get(request_id, 0) for index, request_id in sorted(self.request_of.items())}
