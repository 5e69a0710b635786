"""A whole subnet in one process, in virtual time, reproducible from its seed.

``run`` processes the event queue directly, and ``run_async`` does the same inside a
trio run (on ``trio.testing.MockClock(autojump_threshold=0)``, whose clock jumps straight
to the next event) for callers that run tasks of their own beside it: either way a
minute of subnet time costs only the CPU the replicas use.

Determinism does not rest on trio's scheduler: every event (a delivery, a timer, a
client submission, a fault) sits in one priority queue ordered by (time, sequence
number) and is processed by a single task, so the order of events is a function of the
seed alone. Every random draw (latency, loss, duplication, workload, garbage signatures) comes
from one ``random.Random(seed)``; node keys derive from the seed; times are integer
nanoseconds. Two runs with the same configuration therefore produce the same trace,
byte for byte, and the same ``trace_hash``.

A crashed replica loses its memory but keeps its "disk": the blocks, high-water marks,
certificates and the newest ``KEEP_CHECKPOINTS`` checkpoints it persisted, from which
``restart`` rebuilds it, exactly as the process backend restarts from SQLite: consensus
proves every block, execution loads the newest valid checkpoint and replays the blocks
above it. Checkpoints are deterministic bytes of deterministic state, so restarts keep
the trace a function of the seed.

Signature checks (consensus, certification and ingress) go through one memoizing
verifier shared by all replicas: each distinct signature is checked once per run instead
of once per replica, the verdicts being identical. A signature by one of the
simulation's own node keys is checked by signing its message again (Ed25519 signing is
deterministic, and ``crypto.sign`` remembers what it signed lately), so an honest
replica's share costs one signing and no verification; any other bytes are verified.

Agreement is checked on every finalization, as it happens: the first block any replica
persists at a height is the one every other must persist there, and a replica that
persists another is reported at once (``Disagreement``: the time, the height, both
replicas and both hashes, logged as an error) rather than only at the end of the run.
The check only reads what replicas persist, so it leaves the trace as it is.
"""

from __future__ import annotations

import heapq
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import trio

from node.actions import (
    AcceptIngress,
    Action,
    Answer,
    Broadcast,
    Notice,
    PersistAnchor,
    PersistBlock,
    PersistCertificate,
    PersistCheckpoint,
    PersistFastCertificate,
    PersistHighWater,
    PersistLocks,
    PruneBelow,
    RejectIngress,
    Reply,
    Send,
    SetTimer,
)
from node.checkpoint import Checkpoint
from node.consensus.block import ChainBlock, Finalized
from node.consensus.icc import Icc
from node.consensus.icc.ranking import ranking
from node.events import (
    CertificateDelivered,
    ClientSubmitted,
    MessageReceived,
    Started,
    TimerExpired,
    VoteRequested,
)
from node.execution import SubnetStateMachine
from node.pruning import PruningPolicy
from node.replica import Replica
from node.state_machine import StateMachine
from subnet.sim.behaviour import GENERIC_BEHAVIOURS, Behaviour
from subnet.sim.bugs import ForgetfulIngress, WrongExecution, check_bugs, small_quorum_genesis
from subnet.sim.clients import OWNED_KINDS, ClientsConfig, HistoryClients
from subnet.sim.faults import Fault
from subnet.sim.icc_behaviour import ICC_BEHAVIOURS
from subnet.sim.latency import LatencyModel, Matrix, Uniform
from subnet.sim.network import SimNetwork
from subnet.sim.owned_transfers import OwnedTransfers
from subnet.sim.trace import Trace, describe, quote
from subnet.sim.versioned_counter import VersionedCounterClients
from subnet.sim.workload import Workload, WorkloadConfig
from vocab import crypto
from vocab.certificate import Certificate, CertifiedReply
from vocab.codec import Message
from vocab.genesis import MS, SECOND, Genesis, local_genesis
from vocab.ingress_message import IngressMessage, label
from vocab.messages import SuiCertificateRequest, SuiVoteRequest
from vocab.sui.certificate import CertifiedTransaction

log = logging.getLogger("subnet.sim")

BEHAVIOURS: dict[str, type[Behaviour]] = {**GENERIC_BEHAVIOURS, **ICC_BEHAVIOURS}
"""Every behaviour a simulated replica may have, by name: the replicas run ICC, so ICC's
own attacks apply besides the generic ones."""

TRACED_NOTICES = (
    "proposed",
    "notarized",
    "finalized",
    "executed",
    "certified",
    "equivocation",
    "catch_up",
    "divergence",
    "conflict",
    "invalid_block",
    "restore_truncated",
    "checkpoint_restored",
    "checkpoint_refused",
    "state_synced",
    "package_sent",
    "package_refused",
    "pruned_chain_unusable",
)
KEEP_CHECKPOINTS = 2
"""Checkpoints a simulated disk keeps, as the process backend's store does."""
KEEP_EVERY_BLOCK = PruningPolicy(enabled=False)
"""The simulator's default: nothing pruned unless ``SimConfig.pruning`` says so."""


class MemoVerifier:
    """``crypto.verify`` with a bounded memory of verdicts.

    ``signers`` are the private keys the simulation holds (its node keys). A signature
    by one of them is first compared with the one the key makes (Ed25519 signing is
    deterministic, RFC 8032): equal bytes are the signature libsodium made, which its
    verification accepts, so the verdict is True at the cost of a signing (20 us, or less)
    instead of a verification (59 us). Any other bytes (a garbled or forged signature)
    are verified as usual, so every verdict is the one ``crypto.verify`` gives."""

    def __init__(self, limit: int = 500_000, signers: Sequence[crypto.Ed25519PrivateKey] = ()) -> None:
        self.limit = limit
        self.cache: dict[tuple[bytes, bytes, str, bytes], bool] = {}
        self.signers = {crypto.raw_public_key(key): key for key in signers}
        self.calls = 0
        self.verified = 0
        """Distinct signatures checked (by a verification or by signing again)."""

    def __call__(self, public_key: bytes, signature: bytes, separator: str, message: bytes) -> bool:
        self.calls += 1
        key = (public_key, signature, separator, message)
        verdict = self.cache.get(key)
        if verdict is None:
            if len(self.cache) >= self.limit:
                self.cache.clear()
            signer = self.signers.get(public_key)
            verdict = (
                signer is not None and crypto.sign(signer, separator, message) == signature
            ) or crypto.verify(public_key, signature, separator, message)
            self.verified += 1
            self.cache[key] = verdict
        return verdict


@dataclass
class Disk:
    """What a replica persisted: all it gets back after a crash."""

    finalized: list[Finalized] = field(default_factory=list)
    certificates: list[Certificate] = field(default_factory=list)
    high_water: int = 0
    checkpoints: list[Checkpoint] = field(default_factory=list)
    """The newest checkpoints, oldest first."""
    sui_locks: list[tuple[int, bytes, bytes, int]] = field(default_factory=list)
    """The fast path's locks: (epoch, digest, object id, version)."""
    fast_certificates: list[CertifiedTransaction] = field(default_factory=list)


@dataclass(frozen=True)
class Disagreement:
    """Two replicas persisted different blocks as finalized at one height."""

    time_ns: int
    height: int
    node: int
    block_hash: bytes
    first_node: int
    first_hash: bytes

    def to_json(self) -> dict[str, Any]:
        return {
            "time_ns": self.time_ns,
            "height": self.height,
            "node": self.node,
            "block_hash": self.block_hash.hex(),
            "first_node": self.first_node,
            "first_hash": self.first_hash.hex(),
        }

    def __str__(self) -> str:
        return (
            f"height {self.height}: node {self.node} finalized {self.block_hash.hex()[:16]}, "
            f"node {self.first_node} {self.first_hash.hex()[:16]}"
        )


@dataclass
class SimConfig:
    replicas: int = 4
    seed: int = 0
    duration_ns: int = 10 * SECOND
    latency: LatencyModel = field(default_factory=lambda: Uniform(5 * MS, 25 * MS))
    loss: float = 0.0
    duplication: float = 0.0
    workload: WorkloadConfig | None = field(default_factory=WorkloadConfig)
    faults: Sequence[Fault] = ()
    behaviours: dict[int, str] = field(default_factory=dict)
    genesis_params: dict[str, Any] = field(default_factory=dict)
    keep_trace: bool = False
    checkpoint_interval: int | None = None
    """Heights between checkpoints; None: the replica's default."""
    pruning: PruningPolicy | None = None
    """What replicas keep of the chain (``node.pruning``); None: every block, since the
    checks (durability, linearizability, agreement) read whole chains from the disks."""
    bugs: tuple[str, ...] = ()
    """Named unsafe behaviours to switch on (``subnet.sim.bugs``); none by default."""
    clients: ClientsConfig | None = None
    """Register or counter clients recording a history (``subnet.sim.clients``); none by default."""


class Simulation:
    def __init__(self, config: SimConfig) -> None:
        if config.replicas < 1:
            raise ValueError("a subnet has at least one replica")
        if config.duration_ns <= 0:
            raise ValueError("the duration must be positive")
        if isinstance(config.latency, Matrix):
            config.latency.check_size(config.replicas)
        for node, name in config.behaviours.items():
            if name not in BEHAVIOURS or not 0 <= node < config.replicas:
                raise ValueError(f"bad behaviour {name!r} for node {node}")
        check_bugs(config.bugs)
        self.config = config
        self.rng = random.Random(config.seed)
        self.genesis, self.keys = local_genesis(
            config.replicas, f"sim-{config.seed}", **config.genesis_params
        )
        self.replica_genesis = (
            small_quorum_genesis(self.genesis) if "small-quorum" in config.bugs else self.genesis
        )
        """What the replicas are given: the genesis, unless a bug switch weakens it."""
        self.n = config.replicas
        self.start_ns = self.genesis.genesis_time_ns
        self.end_ns = self.start_ns + config.duration_ns
        self.now = self.start_ns
        self.verifier = MemoVerifier(signers=self.keys)
        self.network = SimNetwork(self.n, self.rng, config.latency, config.loss, config.duplication)
        self.trace = Trace(keep=config.keep_trace)
        self.behaviours: list[Behaviour] = [
            BEHAVIOURS[config.behaviours.get(node, "honest")]() for node in range(self.n)
        ]
        self.disks = [Disk() for _ in range(self.n)]
        self.replicas: list[Replica | None] = [None] * self.n
        self.incarnation = [0] * self.n
        self.timers: dict[tuple[int, str], int] = {}
        self.workload = Workload(config.workload, self.rng) if config.workload is not None else None
        self.submitted_to: dict[bytes, int] = {}
        self.replies: dict[bytes, CertifiedReply] = {}
        """Certified replies received by clients, by request id (first one wins)."""
        self.notices: list[tuple[int, int, Notice]] = []
        self.finalized_hashes: dict[int, tuple[bytes, int]] = {}
        """The first block persisted as finalized at each height, and by which replica."""
        self.disagreements: list[Disagreement] = []
        self.persisted: list[tuple[int, int, int]] = []
        """(time, replica, height) of every finalized block a replica persisted, in order."""
        self.paused: dict[int, list[tuple[str, Any]]] = {}
        """Paused replicas and the events that reached them meanwhile, in order."""
        self.byzantine: dict[int, None] = {
            node: None for node, name in sorted(config.behaviours.items()) if name != "honest"
        }
        """Replicas that were given a non-honest behaviour at any time in the run."""
        self.skew: dict[int, int] = {}
        """Replicas whose clock is off, by how much (ns ahead; negative: behind)."""
        self.events_processed = 0
        self._queue: list[tuple[int, int, str, Any]] = []
        self._sequence = 0
        for node in range(self.n):
            self._boot(node)
        self.clients: HistoryClients | OwnedTransfers | None = None
        if config.clients is not None and config.clients.kind in OWNED_KINDS:
            self.clients = OwnedTransfers(config.clients, self, config.seed)
        elif config.clients is not None and config.clients.kind == "versioned-counter":
            self.clients = VersionedCounterClients(config.clients, self, config.seed)
        elif config.clients is not None:
            self.clients = HistoryClients(config.clients, self, config.seed)
        for fault in config.faults:
            self.schedule(self.start_ns + fault.at_ns, "fault", fault)
        if self.workload is not None and config.workload is not None:
            self.schedule(
                self.start_ns + config.workload.start_ns + self.workload.next_delay_ns(), "submit", None
            )

    # -- the queue -------------------------------------------------------------------------------

    def schedule(self, at: int, kind: str, data: Any) -> None:
        self._sequence += 1
        heapq.heappush(self._queue, (at, self._sequence, kind, data))

    def call_at(self, offset_ns: int, function: Callable[[Simulation], None]) -> None:
        """Run ``function(sim)`` at ``offset_ns`` after the start (tests' own faults)."""
        self.schedule(self.start_ns + offset_ns, "call", function)

    # -- replicas ------------------------------------------------------------------------------

    def _boot(self, node: int) -> None:
        disk = self.disks[node]
        options: dict[str, Any] = {}
        if self.config.checkpoint_interval is not None:
            options["checkpoint_interval"] = self.config.checkpoint_interval
        options["pruning"] = self.config.pruning or KEEP_EVERY_BLOCK
        replica = Replica(
            self.replica_genesis,
            self.keys[node],
            finalized=disk.finalized,
            certificates=disk.certificates,
            high_water=disk.high_water,
            verify=self.verifier,
            state_machine=self._state_machine(node),
            checkpoints=disk.checkpoints,
            sui_locks=disk.sui_locks,
            fast_certificates=disk.fast_certificates,
            ingress=ForgetfulIngress(self.replica_genesis)
            if "no-replay-protection" in self.config.bugs
            else None,
            **options,
        )
        self.replicas[node] = replica
        self.incarnation[node] += 1
        self.schedule(self.now, "start", (node, self.incarnation[node]))

    def twin_replica(self, node: int) -> Replica:
        """A second replica with ``node``'s key, restored from a copy of its disk as it is
        now (the ``twins`` behaviour: two instances behind one identity)."""
        disk = self.disks[node]
        options: dict[str, Any] = {}
        if self.config.checkpoint_interval is not None:
            options["checkpoint_interval"] = self.config.checkpoint_interval
        options["pruning"] = self.config.pruning or KEEP_EVERY_BLOCK
        return Replica(
            self.replica_genesis,
            self.keys[node],
            finalized=list(disk.finalized),
            certificates=list(disk.certificates),
            high_water=disk.high_water,
            verify=self.verifier,
            state_machine=self._state_machine(node),
            checkpoints=list(disk.checkpoints),
            sui_locks=list(disk.sui_locks),
            fast_certificates=list(disk.fast_certificates),
            **options,
        )

    def _state_machine(self, node: int) -> StateMachine:
        """The real execution layer: the simulator runs the canister and Sui rules the replicas run
        (with the ``wrong-execution`` bug switched on, the last replica runs them wrongly)."""
        if "wrong-execution" in self.config.bugs and node == self.n - 1:
            return WrongExecution.from_genesis(self.genesis)
        return SubnetStateMachine.from_genesis(self.genesis)

    # -- faults (subnet.sim.faults.FaultTarget) -------------------------------------------------

    def crash(self, node: int) -> None:
        if self.replicas[node] is None:
            return
        self.replicas[node] = None
        self.paused.pop(node, None)
        self.incarnation[node] += 1
        self.trace.record(self.now, "crash", node)

    def restart(self, node: int) -> None:
        if self.replicas[node] is not None:
            return
        self.trace.record(self.now, "restart", node, len(self.disks[node].finalized))
        self._boot(node)

    def clock(self, node: int) -> int:
        """The time on a replica's own clock: the simulation's, plus its skew."""
        return self.now + self.skew.get(node, 0)

    def set_skew(self, node: int, offset_ns: int) -> None:
        if offset_ns:
            self.skew[node] = offset_ns
        else:
            self.skew.pop(node, None)
        self.trace.record(self.now, "clock_skew", node, offset_ns)

    def upgrade(self, module: str) -> None:
        if self.clients is None:
            raise ValueError("an upgrade fault needs the register or counter clients' canister")
        self.clients.upgrade(module)

    def migrate(self) -> None:
        if not isinstance(self.clients, VersionedCounterClients):
            raise ValueError("a migrate fault needs the versioned-counter workload")
        self.clients.migrate()

    def wipe(self, node: int) -> None:
        """The replica's disk is lost: it restarts with nothing persisted (crash it first)."""
        self.disks[node] = Disk()
        self.trace.record(self.now, "disk_lost", node)

    def partition(self, groups: tuple[tuple[int, ...], ...]) -> None:
        self.network.partition(groups)
        self.trace.record(self.now, "partition", -1, [list(group) for group in groups])

    def heal(self) -> None:
        self.network.heal()
        self.trace.record(self.now, "heal", -1)

    def set_behaviour(self, node: int, name: str) -> None:
        self.behaviours[node] = BEHAVIOURS[name]()
        if name != "honest":
            self.byzantine[node] = None
        self.trace.record(self.now, "behaviour", node, name)

    def pause(self, node: int) -> None:
        if self.replicas[node] is None or node in self.paused:
            return
        self.paused[node] = []
        self.trace.record(self.now, "pause", node)

    def resume(self, node: int) -> None:
        held = self.paused.pop(node, None)
        if held is None:
            return
        self.trace.record(self.now, "resume", node, len(held))
        for kind, data in held:
            self._process(kind, data)

    def cut(self, links: tuple[tuple[int, int], ...]) -> None:
        for src, dst in links:
            self.network.block_link(src, dst)
        self.trace.record(self.now, "cut", -1, [list(link) for link in links])

    def set_network(
        self, *, extra_delay_ns: dict[int, int] | None, loss: float | None, duplication: float | None
    ) -> None:
        if extra_delay_ns is not None:
            self.network.extra_delay_ns = dict(sorted(extra_delay_ns.items()))
        if loss is not None:
            self.network.loss = loss
        if duplication is not None:
            self.network.duplication = duplication
        self.trace.record(
            self.now,
            "network",
            -1,
            sorted(self.network.extra_delay_ns.items()),
            repr(self.network.loss),
            repr(self.network.duplication),
        )

    def block_maker(self) -> int:
        """The rank-0 block maker of the round the most advanced live replica is in (ICC
        ranks makers per height, ``node.consensus.icc.ranking``)."""
        rounds = [
            (replica.consensus.round_height, node, replica.consensus)
            for node, replica in enumerate(self.replicas)
            if replica is not None and isinstance(replica.consensus, Icc)
        ]
        if not rounds:
            raise ValueError("no live ICC replica to tell the block maker")
        height, _, consensus = max(rounds, key=lambda item: (item[0], -item[1]))
        leader = ranking(consensus.members, height)[0]
        return consensus.members.index(leader)

    def schedule_fault(self, at_ns: int, fault: Fault) -> None:
        self.schedule(self.start_ns + at_ns, "fault", fault)

    def alive(self) -> list[int]:
        return [node for node in range(self.n) if self.replicas[node] is not None]

    def _deliver_event(self, node: int, event: Any) -> None:
        replica = self.replicas[node]
        if replica is None:
            return
        self.events_processed += 1
        behaviour = self.behaviours[node]
        if type(behaviour) is Behaviour:  # honest: what its deliver and outgoing do
            actions = replica.handle(event)
        else:
            actions = behaviour.outgoing(self, node, behaviour.deliver(self, node, replica, event))
        if actions:
            self._perform(node, actions)

    def _perform(self, node: int, actions: list[Action]) -> None:
        disk = self.disks[node]
        for action in actions:
            if isinstance(action, Broadcast):
                label = quote(describe(action.message))
                for peer in range(self.n):
                    if peer != node:
                        self._send(node, peer, action.message, label)
            elif isinstance(action, Send):
                self._send(node, action.peer, action.message)
            elif isinstance(action, SetTimer):
                self.timers[(node, action.timer)] = action.at
                # The replica's deadline is on its own clock, which a clock-skew fault shifts.
                self.schedule(
                    max(action.at - self.skew.get(node, 0), self.now),
                    "timer",
                    (node, action.timer, action.at, self.incarnation[node]),
                )
            elif isinstance(action, PersistBlock):
                disk.finalized.append(Finalized(action.block, action.proof))
                self.persisted.append((self.now, node, action.block.height))
                self._check_agreement(node, action.block)
            elif isinstance(action, PersistHighWater):
                disk.high_water = max(disk.high_water, action.height)
            elif isinstance(action, PersistCertificate):
                disk.certificates.append(action.certificate)
            elif isinstance(action, PersistCheckpoint):
                kept = [c for c in disk.checkpoints if c.height != action.height]
                kept.append(Checkpoint(action.height, action.state_hash, action.state_bytes))
                kept.sort(key=lambda c: c.height)
                disk.checkpoints = kept[-KEEP_CHECKPOINTS:]
            elif isinstance(action, PruneBelow):
                floor = action.height
                disk.finalized = [pair for pair in disk.finalized if pair.block.height >= floor]
                disk.certificates = [c for c in disk.certificates if c.height >= floor]
                disk.checkpoints = [c for c in disk.checkpoints if c.height >= floor]
            elif isinstance(action, PersistAnchor):
                for block in action.blocks:
                    self.persisted.append((self.now, node, block.height))
                    self._check_agreement(node, block)
                disk.finalized = [Finalized(block, action.proof) for block in action.blocks]
                first = action.blocks[0].height
                disk.certificates = [c for c in disk.certificates if c.height >= first]
                disk.certificates.append(action.certificate)
                disk.checkpoints = [
                    Checkpoint(action.checkpoint_height, action.state_hash, action.state_bytes)
                ]
            elif isinstance(action, PersistLocks):
                disk.sui_locks += [(action.epoch, action.digest, o, v) for o, v in action.locks]
            elif isinstance(action, PersistFastCertificate):
                disk.fast_certificates.append(action.certificate)
            elif isinstance(action, Reply):
                self.trace.record(
                    self.now, "reply", node, action.request_id.hex()[:12], action.reply.result.status
                )
                self.replies.setdefault(action.request_id, action.reply)
                if self.workload is not None and self.submitted_to.get(action.request_id) == node:
                    self.workload.on_result(action.reply.result)
                if self.clients is not None:
                    self.clients.on_reply(node, action.request_id, action.reply.result)
            elif isinstance(action, RejectIngress):
                self.trace.record(
                    self.now, "ingress_rejected", node, action.request_id.hex()[:12], action.reason
                )
                if self.workload is not None:
                    self.workload.on_rejected_at_ingress(action.request_id, action.reason)
            elif isinstance(action, AcceptIngress):
                self.trace.record(self.now, "ingress_accepted", node, action.request_id.hex()[:12])
            elif isinstance(action, Notice) and action.kind in TRACED_NOTICES:
                self.trace.record_notice(self.now, action.kind, node, action.height, action.detail)
                self.notices.append((self.now, node, action))

    def _check_agreement(self, node: int, block: ChainBlock) -> None:
        """Compare a newly persisted finalized block with the first one at its height."""
        first_hash, first_node = self.finalized_hashes.setdefault(block.height, (block.hash, node))
        if first_hash != block.hash:
            disagreement = Disagreement(self.now, block.height, node, block.hash, first_node, first_hash)
            self.disagreements.append(disagreement)
            log.error("replicas disagree at %d ns: %s", self.now, disagreement)

    def _send(self, src: int, dst: int, message: Message, label: str | None = None) -> None:
        """Send ``message``; ``label`` is its description already quoted for the trace."""
        if label is None:
            label = quote(describe(message))
        delays = self.network.delays(src, dst)
        now, record = self.now, self.trace.record_link
        if not delays:
            record(now, "drop", src, dst, label)
            return
        for delay in delays:
            record(now, "send", src, dst, label, delay)
            self._sequence += 1  # ``schedule``, inlined: n² times a round
            heapq.heappush(self._queue, (now + delay, self._sequence, "deliver", (src, dst, message, label)))

    # -- running -------------------------------------------------------------------------------

    def _process(self, kind: str, data: Any) -> None:
        if kind == "deliver":
            src, dst, message, label = data
            if self.replicas[dst] is None or not self.network.connected(src, dst):
                self.trace.record_link(self.now, "lost", dst, src, label)
                return
            if self.paused and dst in self.paused:
                self.paused[dst].append((kind, data))
                return
            self.trace.record_link(self.now, "deliver", dst, src, label)
            now = self.now + self.skew[dst] if self.skew and dst in self.skew else self.now
            self._deliver_event(dst, MessageReceived(src, message, now))
        elif kind == "timer":
            node, name, at, incarnation = data
            if incarnation != self.incarnation[node] or self.timers.get((node, name)) != at:
                return
            if node in self.paused:
                self.paused[node].append((kind, data))
                return
            del self.timers[(node, name)]
            self._deliver_event(node, TimerExpired(name, self.clock(node)))
        elif kind == "start":
            node, incarnation = data
            if node in self.paused:
                self.paused[node].append((kind, data))
            elif incarnation == self.incarnation[node]:
                self.trace.record(self.now, "start", node)
                self._deliver_event(node, Started(self.clock(node)))
        elif kind == "submit":
            self._submit()
        elif kind == "fault":
            data.apply(self)
        elif kind == "call":
            data(self)
        else:
            raise ValueError(f"unknown simulation event {kind!r}")

    def _submit(self) -> None:
        assert self.workload is not None
        envelope = self.workload.next_request(self.now)
        target = self.rng.randrange(self.n)
        self.submit(envelope, target)
        self.schedule(self.now + self.workload.next_delay_ns(), "submit", None)

    def submit(self, envelope: IngressMessage, node: int) -> list[Action]:
        """Hand a request (a canister call or a Sui transaction) to a replica's ingress now,
        as a client would."""
        self.submitted_to[envelope.request_id] = node
        self.trace.record(self.now, "submit", node, envelope.request_id.hex()[:12], label(envelope))
        replica = self.replicas[node]
        if replica is None or node in self.paused:
            self.trace.record(self.now, "submit_lost", node, envelope.request_id.hex()[:12])
            if self.workload is not None:
                reason = "replica_down" if replica is None else "replica_paused"
                self.workload.on_rejected_at_ingress(envelope.request_id, reason)
            return []
        self.events_processed += 1
        actions = replica.handle(ClientSubmitted(envelope, self.clock(node)))
        self._perform(node, self.behaviours[node].outgoing(self, node, actions))
        return actions

    def fast_path(self, node: int, request: SuiVoteRequest | SuiCertificateRequest) -> Message | None:
        """A client's fast-path request to one replica, answered now (``SuiVote`` or
        ``SuiSignedEffects``, as its behaviour sends it); None if the replica is down or
        paused, or says nothing."""
        replica = self.replicas[node]
        digest = (
            request.transaction.request_id
            if isinstance(request, SuiVoteRequest)
            else request.certificate.digest
        )
        kind = "vote_request" if isinstance(request, SuiVoteRequest) else "certificate"
        self.trace.record(self.now, kind, node, digest.hex()[:12])
        if replica is None or node in self.paused:
            return None
        self.events_processed += 1
        event = (
            VoteRequested(request.transaction, self.clock(node))
            if isinstance(request, SuiVoteRequest)
            else CertificateDelivered(request.certificate, self.clock(node))
        )
        outgoing = self.behaviours[node].outgoing(self, node, replica.handle(event))
        self._perform(node, outgoing)
        answers = [action.message for action in outgoing if isinstance(action, Answer)]
        return answers[0] if answers else None

    def reachable(self, node: int) -> bool:
        """Whether a client can talk to the replica now: it is up and not paused."""
        return self.replicas[node] is not None and node not in self.paused

    def client_submit(self, envelope: IngressMessage, node: int) -> tuple[str, str]:
        """A client hands a request to a replica now; ``(status, reason)`` with status
        ``accepted``, ``rejected`` (the reason as ingress gave it), ``down`` (the
        connection is refused) or ``paused`` (the connection hangs: the request is lost)."""
        request = envelope.request_id.hex()[:12]
        self.trace.record(self.now, "client_submit", node, request, label(envelope))
        replica = self.replicas[node]
        if replica is None or node in self.paused:
            self.trace.record(self.now, "submit_lost", node, request)
            return ("down" if replica is None else "paused"), ""
        self.events_processed += 1
        actions = replica.handle(ClientSubmitted(envelope, self.clock(node)))
        self._perform(node, self.behaviours[node].outgoing(self, node, actions))
        for action in actions:
            if isinstance(action, RejectIngress):
                return "rejected", action.reason
        return "accepted", ""

    def step_until(self, until_ns: int) -> None:
        """Process every event up to ``until_ns`` (absolute) without trio; see ``run``."""
        queue, pop, process = self._queue, heapq.heappop, self._process
        while queue and queue[0][0] <= until_ns:
            at, _, kind, data = pop(queue)
            if at > self.now:
                self.now = at
            process(kind, data)
        self.now = max(self.now, until_ns)

    async def run_async(self, until_ns: int | None = None) -> None:
        """Run in the current trio run, sleeping on its clock until each next event."""
        end = self.end_ns if until_ns is None else until_ns
        origin = trio.current_time() - (self.now - self.start_ns) / SECOND
        while self._queue and self._queue[0][0] <= end:
            at = self._queue[0][0]
            if at > self.now:
                await trio.sleep_until(origin + (at - self.start_ns) / SECOND)
            else:
                await trio.lowlevel.checkpoint()
            self.step_until(at)
        self.now = max(self.now, end)

    def run(self, until_ns: int | None = None) -> SimResult:
        """Run to the end (or ``until_ns``) and return the result.

        Nothing else runs beside the simulation here, so the queue is processed
        directly: sleeping on a MockClock between events (``run_async``, for a trio run
        with other tasks in it) would add a pass of trio's scheduler per event, which
        was 40% of a 13-replica run, and cannot change the order of events."""
        self.step_until(self.end_ns if until_ns is None else until_ns)
        return self.result()

    # -- results -------------------------------------------------------------------------------

    @property
    def history(self) -> HistoryClients | OwnedTransfers | None:
        """The clients that record a history, if any (the checks' name for them)."""
        return self.clients

    def executed_state_hashes(self) -> dict[int, dict[int, str]]:
        """The state hash (hex) each replica reported after each height it executed live
        (a restarted replica's replay reports none)."""
        by_height: dict[int, dict[int, str]] = {}
        for _, node, notice in self.notices:
            if notice.kind == "executed":
                by_height.setdefault(notice.height, {})[node] = str(notice.detail["state_hash"])
        return by_height

    def chain(self, node: int) -> list[ChainBlock]:
        """The finalized blocks a replica has persisted, in height order."""
        return [block for block, _ in self.disks[node].finalized]

    def result(self) -> SimResult:
        heights = [disk.finalized[-1].block.height if disk.finalized else 0 for disk in self.disks]
        best = max(range(self.n), key=lambda node: heights[node])
        operations = sum(len(block.payload) for block in self.chain(best))
        return SimResult(
            seed=self.config.seed,
            replicas=self.n,
            duration_ns=self.config.duration_ns,
            finalized_heights=heights,
            finalized_height=max(heights),
            operations_executed=operations,
            trace_hash=self.trace.trace_hash,
            trace_events=self.trace.count,
            events_processed=self.events_processed,
            signatures_verified=self.verifier.verified,
            workload=dict(sorted(self.workload.stats.items())) if self.workload is not None else {},
            agreement=not self.disagreements
            and check_agreement([self.chain(node) for node in range(self.n)]),
            disagreements=list(self.disagreements),
        )


@dataclass(frozen=True)
class SimResult:
    seed: int
    replicas: int
    duration_ns: int
    finalized_heights: list[int]
    finalized_height: int
    operations_executed: int
    trace_hash: str
    trace_events: int
    events_processed: int
    signatures_verified: int
    workload: dict[str, int]
    agreement: bool
    """No two replicas persisted different blocks at one height (checked at every
    finalization and over the final chains)."""
    disagreements: list[Disagreement] = field(default_factory=list)
    """Each disagreement as it happened (empty when ``agreement``)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "replicas": self.replicas,
            "duration_s": self.duration_ns / SECOND,
            "finalized_height": self.finalized_height,
            "finalized_heights": self.finalized_heights,
            "operations_executed": self.operations_executed,
            "agreement": self.agreement,
            "disagreements": [item.to_json() for item in self.disagreements],
            "trace_hash": self.trace_hash,
            "trace_events": self.trace_events,
            "events_processed": self.events_processed,
            "signatures_verified": self.signatures_verified,
            "workload": self.workload,
        }


def check_agreement(chains: Sequence[Sequence[ChainBlock]]) -> bool:
    """No two chains hold different blocks at the same height."""
    by_height: dict[int, bytes] = {}
    for chain in chains:
        for block in chain:
            known = by_height.setdefault(block.height, block.hash)
            if known != block.hash:
                return False
    return True


def simulate(config: SimConfig) -> SimResult:
    return Simulation(config).run()


def genesis_for(config: SimConfig) -> Genesis:
    return local_genesis(config.replicas, f"sim-{config.seed}", **config.genesis_params)[0]
