"""The process backend's trio adapter around the sans-IO replica.

It owns every piece of I/O a replica needs and nothing else: a TCP listener (peers and
clients share one port; the first frame says which is which), the peer mesh, real time
for timers and block timestamps, and the SQLite store. The replica core decides; this
module carries out its actions.

Durability: a finalized block is written (and synced) before anything derived from it
leaves the process, so a reply a client saw always survives a crash.

Checkpoints (``PersistCheckpoint``) go to the same store, the newest ``KEEP_CHECKPOINTS``
kept. Once one is certified, what lies below it goes (``PruneBelow``: one transaction,
then the freed pages are given back) and a catch-up package replaces the whole stored
chain (``PersistAnchor``, ``node.state_sync``). On boot every stored block is handed to
the replica (consensus proves the kept run), with the stored checkpoints newest first
and the certificates of their heights: execution loads the newest valid checkpoint and
replays only the blocks above it (a pruned chain without a usable checkpoint is synced
from peers again). A damaged store (``node.recovery``) is repaired on
boot: what cannot be read or proved is set aside and fetched again from peers, each
step a named error in ``status`` and the log, never a traceback.
"""

from __future__ import annotations

import logging
import os
import socket
import sqlite3
import time
from collections import Counter
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import trio
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from node import actions as act
from node import events as ev
from node.byzantine import ATTACKS, LINK_BEHAVIOURS, Attack, Attacker
from node.consensus.icc.attacks import ICC_ATTACKS
from node.pruning import PruningPolicy
from node.query_pool import (
    QUERY_INLINE_INSTRUCTIONS,
    QUERY_INLINE_SECONDS,
    QUERY_TIME_LIMIT_SECONDS,
    QueryPool,
    QueueFull,
)
from node.recovery import load_store
from node.replica import Replica
from node.storage import BlockStore, StorageError, StoredBlock, StoredCheckpoint
from node.transport import LinkConditions, Mesh, PeerAddress
from vocab import crypto
from vocab.codec import Message, encode_message
from vocab.envelope import SignedEnvelope
from vocab.errors import CodecError, OversizedFrame, RejectCode
from vocab.framing import FramedStream
from vocab.genesis import Genesis
from vocab.messages import (
    LINK_CONTROL_DOMAIN,
    AwaitReply,
    LinkControl,
    LinkControlReply,
    PeerHello,
    QueryRequest,
    QueryResponse,
    RehearseUpgradeRequest,
    ReplyTimeout,
    RequestAccepted,
    RequestRejected,
    StatusReply,
    StatusRequest,
    SubmitRequest,
    SuiCertificateRequest,
    SuiReadRequest,
    SuiVoteRequest,
)
from vocab.sui.certificate import CertifiedTransaction

log = logging.getLogger("subnet.node")

MAX_AWAIT_MS = 30_000
KEEP_CHECKPOINTS = 2
"""Checkpoints kept on disk: the newest, and one to fall back on if it proves corrupt."""
MAX_AWAITED = 10_000
"""Request ids awaited (``AwaitReply``) at once over all connections."""
MAX_CLIENT_CONNECTIONS = 256
"""Connections not (yet) authenticated as peers, at once; more are closed on arrival."""
FIRST_FRAME_TIMEOUT = 10.0
"""Seconds a new connection has to send its first whole frame (a peer's hello, a request)."""
IDLE_TIMEOUT = 60.0
"""Seconds a client connection may stay silent, or take for one frame, between requests."""
MAX_UNFINISHED_BYTES = 64 * 1024 * 1024
"""Bytes of unfinished frames all unauthenticated connections together may hold."""
DRAIN_TIMEOUT = 10.0
"""Seconds spent reading away an oversized frame after refusing it."""
PERSIST_ACTIONS = (
    act.PersistBlock,
    act.PersistHighWater,
    act.PersistCertificate,
    act.PersistCheckpoint,
    act.PruneBelow,
    act.PersistAnchor,
    act.PersistLocks,
    act.PersistFastCertificate,
)
QUERY_CERTIFIED_WAIT_S = 2.0
"""How long a query waits for the executed state to be certified before a transient reject."""


async def _until_closed(stream: trio.SocketStream) -> None:
    """Return when the peer of ``stream`` has closed it (end of stream or reset); if it
    sends more instead (a pipelined request), wait forever: nothing is consumed here."""
    try:
        data = await stream.socket.recv(1, socket.MSG_PEEK)
    except OSError:
        return
    if data:
        await trio.sleep_forever()


REPLICA_ATTACKS: dict[str, type[Attack]] = {**ATTACKS, **ICC_ATTACKS}
"""The attacks a replica process runs on its own actions when its operator names one."""
REPLICA_BEHAVIOURS = (*LINK_BEHAVIOURS, *REPLICA_ATTACKS)
"""What an operator may switch a replica process to (``LinkControl.behaviour``): the
protocol-blind link behaviours and the attacks."""


def now_ns() -> int:
    """Wall-clock time, which in the process backend is what enters the replica as events."""
    return time.time_ns()


@dataclass
class ReplicaRuntime:
    genesis: Genesis
    index: int
    key: Ed25519PrivateKey
    data_dir: Path
    store: BlockStore = field(init=False)
    replica: Replica = field(init=False)
    mesh: Mesh = field(init=False)
    errors: Counter[str] = field(default_factory=Counter)
    last_error: str = ""
    checkpoint_interval: int | None = None
    """Heights between checkpoints; None: the replica's default (``CHECKPOINT_INTERVAL``)."""
    listen: str | None = None
    """``HOST:PORT`` to listen on instead of the genesis address: a twin of this replica
    (another process with its key, for fault injection) listens beside it."""
    pruning: PruningPolicy | None = None
    """What the replica keeps of its chain (``node.pruning``); None: the default policy."""

    def __post_init__(self) -> None:
        self._control_sequence = 0
        """The sequence of the last link filter applied (``LinkControl``)."""
        self.clock_offset_ns = 0
        """How far this replica's clock runs ahead of the host's (``LinkControl``'s clock skew)."""
        self.attack: Attack | None = None
        """The attack on consensus this replica runs, if its operator switched it to one
        (``LinkControl``'s behaviour, ``node.consensus.icc.attacks``)."""
        self._reply_events: dict[bytes, list[trio.CancelScope]] = {}
        """The waits of ``AwaitReply`` by request id, each cancelled when its reply is there."""
        self._waiters: Counter[bytes] = Counter()
        self._clients = 0
        self._next_connection = 0
        self._unfinished: dict[int, int] = {}
        self._unfinished_total = 0
        self._peer_connections: set[int] = set()
        self.listeners: list[trio.SocketListener] = []
        self._timers: dict[Any, int] = {}
        self._timer_wakeup = trio.Event()
        self._certified = trio.Event()
        self._group: list[tuple[list[act.Action], trio.Event]] = []
        """The fast path's persists waiting for the next group commit, with their waiters."""
        self._group_wakeup = trio.Event()
        self._group_error = ""
        self.queries = QueryPool()
        """The query threads, their turns and bounds (``node.query_pool``)."""
        peers = []
        for position, entry in enumerate(self.genesis.nodes):
            host, _, port = entry.address.rpartition(":")
            peers.append(PeerAddress(position, host, int(port), entry.raw_public_key))
        self.mesh = Mesh(self.index, self.key, peers, self._deliver)
        log.info("reading %s", self.data_dir / "replica.db")
        loaded = load_store(self.data_dir / "replica.db", self.genesis.pool_window)
        self.store = loaded.store
        for kind, detail in loaded.notices:
            self._note(kind, detail)
            log.error("%s: %s", kind, detail)
        options: dict[str, Any] = {}
        if self.checkpoint_interval is not None:
            options["checkpoint_interval"] = self.checkpoint_interval
        if self.pruning is not None:
            options["pruning"] = self.pruning
        log.info(
            "restoring %d finalized blocks (%d checkpoints stored)",
            len(loaded.blocks),
            len(loaded.checkpoints),
        )
        fast_certificates = []
        for digest, blob in self.store.fast_certificates():
            try:
                fast_certificates.append(CertifiedTransaction.from_bytes(blob))
            except CodecError as exc:  # written by this replica: only damage gets here
                self._note("damaged_certificate", f"fast-path certificate {digest.hex()[:16]}: {exc}")
        self.replica = Replica.restore(
            self.genesis,
            self.index,
            self.key,
            loaded.blocks,
            loaded.proofs,
            certificates=loaded.certificates,
            high_water=loaded.high_water,
            checkpoints=loaded.checkpoints,
            sui_locks=self.store.locks(),
            fast_certificates=fast_certificates,
            **options,
        )
        sequenced = [c.digest for c in fast_certificates if self.replica.state.executed(c.digest)]  # type: ignore[attr-defined]
        if sequenced:
            self.store.forget_fast_certificates(sequenced)
        proven = self.replica.finalized_height
        if proven < (loaded.blocks[-1].height if loaded.blocks else 0):
            # Consensus stopped proving at proven + 1 (its ``restore_truncated`` notice says
            # why): those blocks are not trusted, and catch-up writes the heights again.
            moved = self.store.quarantine_blocks_from(proven + 1, "not proven by its finalization on restore")
            detail = (
                f"{self.store.path}: block {proven + 1} is not proven by its finalization; "
                f"{moved} blocks from there moved to damaged_blocks, to be fetched again from peers"
            )
            self._note("damaged_block", detail)
            log.error("damaged_block: %s", detail)
        log.info(
            "restored to height %d (checkpoint %d, %d blocks replayed)",
            proven,
            self.replica.restored_checkpoint_height,
            self.replica.replayed_heights,
        )

    # -- the event loop ---------------------------------------------------------------------

    def now_ns(self) -> int:
        """This replica's clock: the host's, moved by an operator's clock skew. Every
        event it handles carries this time and its timers fire on it."""
        return now_ns() + self.clock_offset_ns

    def handle(self, event: ev.Event) -> list[act.Action]:
        """Feed one event to the core and carry out its actions; returns the actions."""
        actions = self._step(event)
        self._perform(actions)
        return actions

    def _step(self, event: ev.Event) -> list[act.Action]:
        """The core's actions for ``event``, as an attack rewrites them if one runs."""
        actions = self.replica.handle(event)
        return actions if self.attack is None else self.attack.rewrite(actions)

    def _perform(self, actions: list[act.Action]) -> None:
        """Carry out actions in order; each Persist* is durable before the next action.

        A run of consecutive Persist* actions is one SQLite transaction (one sync): nothing
        between them leaves the process, so making them durable together keeps the rule."""
        position = 0
        while position < len(actions):
            end = position
            while end < len(actions) and isinstance(actions[end], PERSIST_ACTIONS):
                end += 1
            if end > position:
                with self.store.batch():
                    for action in actions[position:end]:
                        self._persist(action)
                self.store.reclaim()  # pages freed by pruning, once committed
                position = end
                continue
            self._perform_one(actions[position])
            position += 1

    def _persist(self, action: act.Action) -> None:
        if isinstance(action, act.PersistBlock):
            block = action.block
            self.store.append_finalized(
                [StoredBlock(block.height, block.hash, encode_message(block), encode_message(action.proof))]
            )
        elif isinstance(action, act.PersistHighWater):
            self.store.set_meta("high_water", action.height.to_bytes(8, "big"))
        elif isinstance(action, act.PersistCertificate):
            certificate = action.certificate
            self.store.put_certificate(
                certificate.height, certificate.state_hash, encode_message(certificate)
            )
        elif isinstance(action, act.PersistCheckpoint):
            self.store.put_checkpoint(
                StoredCheckpoint(action.height, action.state_hash, action.state_bytes),
                keep=KEEP_CHECKPOINTS,
            )
        elif isinstance(action, act.PruneBelow):
            removed = self.store.prune_below(action.height)
            log.info("pruned %d blocks below height %d", removed, action.height)
        elif isinstance(action, act.PersistAnchor):
            self.store.replace_chain(
                [
                    StoredBlock(block.height, block.hash, encode_message(block), encode_message(action.proof))
                    for block in action.blocks
                ],
                (
                    action.certificate.height,
                    action.certificate.state_hash,
                    encode_message(action.certificate),
                ),
                StoredCheckpoint(action.checkpoint_height, action.state_hash, action.state_bytes),
            )
        elif isinstance(action, act.PersistLocks):
            self.store.put_locks(action.epoch, action.digest, action.locks)
        elif isinstance(action, act.PersistFastCertificate):
            fast = action.certificate
            self.store.put_fast_certificate(fast.digest, fast.to_bytes())

    def _perform_one(self, action: act.Action) -> None:
        if isinstance(action, act.Send):
            self.mesh.send(action.peer, action.message)
        elif isinstance(action, act.Broadcast):
            self.mesh.broadcast(action.message)
        elif isinstance(action, act.SetTimer):
            self._timers[action.timer] = action.at
            self._timer_wakeup.set()
        elif isinstance(action, act.Reply):
            self._wake(action.request_id)
        elif isinstance(action, act.Notice):
            if action.kind == "certified":
                self._certified.set()
                self._certified = trio.Event()
                # Clients may wait here for requests another replica accepted.
                for request_id in [r for r in self._reply_events if self.replica.lookup_reply(r) is not None]:
                    self._wake(request_id)
            if action.kind in ("divergence", "conflict"):
                self._note(action.kind, f"height {action.height}: {action.detail}")
                log.error("%s at height %d: %s", action.kind, action.height, action.detail)
            elif action.kind == "checkpoint_restored":
                log.info(
                    "restored the checkpoint of height %d, replayed %d blocks above it",
                    action.height,
                    action.detail["replayed"],
                )
            elif action.kind == "restore_truncated":
                log.warning(
                    "the stored chain is proven only to height %d: %s",
                    action.height,
                    action.detail["problem"],
                )
            elif action.kind in ("state_synced", "package_sent"):
                log.info("%s at height %d: %s", action.kind, action.height, action.detail)
            elif action.kind in ("package_refused", "pruned_chain_unusable"):
                self._note(action.kind, f"height {action.height}: {action.detail}")
                log.warning("%s at height %d: %s", action.kind, action.height, action.detail)
            elif action.kind == "checkpoint_refused":
                self._note(action.kind, f"height {action.height}: {action.detail['reason']}")
                log.warning("refused the checkpoint of height %d: %s", action.height, action.detail["reason"])

    def _deliver(self, peer: int, message: Message) -> None:
        try:
            self.handle(ev.MessageReceived(peer, message, self.now_ns()))
        except Exception as exc:
            self._note("handler_error", f"{type(exc).__name__}: {exc}")
            log.exception("error handling a message from peer %d", peer)

    def _wake(self, request_id: bytes) -> None:
        for scope in self._reply_events.pop(request_id, ()):
            scope.cancel()

    async def _run_timers(self) -> None:
        while True:
            if not self._timers:
                self._timer_wakeup = trio.Event()
                await self._timer_wakeup.wait()
                continue
            timer, at = min(self._timers.items(), key=lambda item: item[1])
            delay = (at - self.now_ns()) / 1e9
            if delay > 0:
                self._timer_wakeup = trio.Event()
                with trio.move_on_after(delay):
                    await self._timer_wakeup.wait()
                continue
            del self._timers[timer]
            try:
                self.handle(ev.TimerExpired(timer, self.now_ns()))
            except Exception as exc:
                self._note("handler_error", f"{type(exc).__name__}: {exc}")
                log.exception("error handling timer %r", timer)

    # -- connections -----------------------------------------------------------------------

    async def _serve_connection(self, stream: trio.SocketStream) -> None:
        """One connection: a peer (its first frame is ``PeerHello``) or a client.

        Until a connection proves to be a peer it is bounded: at most
        ``MAX_CLIENT_CONNECTIONS`` at once (more are closed at once), its first frame must
        arrive within ``FIRST_FRAME_TIMEOUT`` and each next one within ``IDLE_TIMEOUT``,
        and all of them together hold at most ``MAX_UNFINISHED_BYTES`` of unfinished
        frames. A frame over the size limit is answered with the limit named."""
        if self._clients >= MAX_CLIENT_CONNECTIONS:
            self._note(
                "connection_limit", f"more than {MAX_CLIENT_CONNECTIONS} client connections; one closed"
            )
            await stream.aclose()
            return
        self._clients += 1
        connection = self._next_connection = self._next_connection + 1
        framed = FramedStream(stream, on_pending=lambda pending: self._hold(connection, pending))
        counted = True
        try:
            first = await self._receive_within(framed, FIRST_FRAME_TIMEOUT)
            if first is None:
                return
            if isinstance(first, PeerHello):
                # A peer (once authenticated) is bounded by the committee, not by these limits.
                self._hold(connection, 0)
                self._peer_connections.add(connection)
                self._clients -= 1
                counted = False
                await self.mesh.serve_peer(framed, first)
                return
            message: Message | None = first
            while message is not None:
                await self._serve_client_message(framed, message)
                message = await self._receive_within(framed, IDLE_TIMEOUT)
        except OversizedFrame as exc:
            self._note("oversized_frame", str(exc))
            await self._refuse_oversized(framed, exc)
        except CodecError as exc:
            self._note("bad_frame", str(exc))
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
            return
        finally:
            self._peer_connections.discard(connection)
            self._hold(connection, 0)
            if counted:
                self._clients -= 1

    async def _receive_within(
        self, framed: FramedStream[trio.SocketStream], seconds: float
    ) -> Message | None:
        """The next message, or None if the client closed or sent no whole frame in time."""
        with trio.move_on_after(seconds):
            return await framed.receive()
        self._note("idle_timeout", f"a client connection sent no whole frame within {seconds:g} s; closed")
        return None

    def _hold(self, connection: int, pending: int) -> None:
        """Account the bytes an unauthenticated connection holds in an unfinished frame;
        refuse (the connection is dropped) when all of them together exceed the bound."""
        if connection in self._peer_connections:
            return
        self._unfinished_total += pending - self._unfinished.pop(connection, 0)
        if pending:
            self._unfinished[connection] = pending
        if self._unfinished_total > MAX_UNFINISHED_BYTES:
            raise CodecError(
                f"client connections hold more than {MAX_UNFINISHED_BYTES} bytes of unfinished frames"
            )

    async def _refuse_oversized(self, framed: FramedStream[trio.SocketStream], exc: OversizedFrame) -> None:
        """Tell the client the limit, then read and discard what it still sends of the
        frame (bounded in time, never buffered): closing a socket with unread input resets
        the connection, and the client would see that instead of the answer."""
        with trio.move_on_after(DRAIN_TIMEOUT):
            await framed.send(
                RequestRejected(
                    b"",
                    int(RejectCode.SYS_FATAL),
                    "oversized",
                    f"a message of {exc.length} bytes exceeds the limit of {exc.limit} bytes "
                    "(larger Wasm modules are installed in chunks)",
                )
            )
            left = exc.length
            while left > 0:
                data = await framed.stream.receive_some(min(left, 65536))
                if not data:
                    break
                left -= len(data)

    async def _serve_client_message(self, framed: FramedStream, message: Message) -> None:
        if isinstance(message, SubmitRequest):
            envelope = message.envelope
            actions = self.handle(ev.ClientSubmitted(envelope, self.now_ns()))
            rejections = [a for a in actions if isinstance(a, act.RejectIngress)]
            if rejections:
                rejected = rejections[0]
                await framed.send(
                    RequestRejected(
                        envelope.request_id, int(rejected.code), rejected.reason, rejected.message
                    )
                )
            else:
                await framed.send(RequestAccepted(envelope.request_id))
        elif isinstance(message, AwaitReply):
            answer = await self._await_reply(message, framed.stream)
            if answer is None:
                raise trio.ClosedResourceError("the client went away while it waited")
            await framed.send(answer)
        elif isinstance(message, QueryRequest):
            # The fast path: no consensus, answered from this replica's certified state,
            # the Wasm on a query thread (``node.query_pool``).
            await framed.send(await self._query(message.envelope, framed))
        elif isinstance(message, SuiReadRequest):
            # Reads of Sui state take the same path as queries.
            await self._await_certified()
            await framed.send(self.replica.sui_read(message, self.now_ns()))
        elif isinstance(message, RehearseUpgradeRequest):
            # A canister upgrade rehearsed on a copy of the certified state: a read.
            await self._await_certified()
            await framed.send(self.replica.rehearse_upgrade(message, self.now_ns()))
        elif isinstance(message, (SuiVoteRequest, SuiCertificateRequest)):
            # The Sui fast path: answered at once, after what must be durable is written.
            event: ev.Event = (
                ev.VoteRequested(message.transaction, self.now_ns())
                if isinstance(message, SuiVoteRequest)
                else ev.CertificateDelivered(message.certificate, self.now_ns())
            )
            await framed.send(await self._fast_path(event))
        elif isinstance(message, StatusRequest):
            await framed.send(self.status())
        elif isinstance(message, LinkControl):
            await framed.send(self._link_control(message))
        else:
            raise CodecError(f"a client may not send {type(message).__name__}")

    async def _query(self, envelope: SignedEnvelope, framed: FramedStream) -> QueryResponse:
        """A query in its caller's lane (anonymous callers: one lane per connection): when
        its turn comes, prepared and run here within ``QUERY_INLINE_INSTRUCTIONS`` and
        ``QUERY_INLINE_SECONDS``, and if it needs more, prepared again and run on a query
        thread with the query limit and ``QUERY_TIME_LIMIT_SECONDS``;
        signed here. A full queue answers at once with a signed SYS_TRANSIENT reject
        naming the limit."""
        sender = envelope.content.sender
        lane: tuple[str, object] = (
            ("connection", id(framed)) if sender.is_anonymous else ("sender", sender.raw)
        )
        try:
            caller = sender.to_text() + (" on this connection" if sender.is_anonymous else "")
            async with self.queries.turn(lane, caller=caller):
                await self._await_certified()
                pending = self.replica.prepare_query(envelope, self.now_ns(), QUERY_INLINE_INSTRUCTIONS)
                pending.run(QUERY_INLINE_SECONDS)
                if pending.exhausted:  # not a small query: again, on a query thread
                    pending.abandon()
                    pending = self.replica.prepare_query(envelope, self.now_ns())
                    await self.queries.in_thread(partial(pending.run, QUERY_TIME_LIMIT_SECONDS))
                return pending.finish()
        except QueueFull as full:
            self._note("query_queue_full", full.message)
            return self.replica.refuse_query(envelope, full)

    async def _fast_path(self, event: ev.Event) -> Message:
        """A vote or a certificate's execution, answered once what it must persist (the
        locks, the certificate) is durable. Group commit: the writes of the requests that
        arrive together share one SQLite transaction, so one sync, instead of one sync each
        (each sync blocks the whole replica; per request they capped the fast path at the
        disk's sync rate). The other actions (timers, passing a certificate on) are done at
        once: only the answer has to wait."""
        actions = self._step(event)
        answers = [a for a in actions if isinstance(a, act.Answer)]
        assert len(answers) == 1, "the replica answers a fast-path request once"
        persists: list[act.Action] = [a for a in actions if isinstance(a, PERSIST_ACTIONS)]
        for action in actions:
            if not isinstance(action, (act.Answer, *PERSIST_ACTIONS)):
                self._perform_one(action)
        if persists:
            flushed = trio.Event()
            self._group.append((persists, flushed))
            self._group_wakeup.set()
            await flushed.wait()
            if self._group_error:
                raise trio.BrokenResourceError(f"the fast path's writes failed: {self._group_error}")
        return answers[0].message

    async def _run_group_commits(self) -> None:
        """Write the fast path's pending persists, one transaction per group (``_fast_path``)."""
        while True:
            await self._group_wakeup.wait()
            self._group_wakeup = trio.Event()
            await trio.sleep(0)  # requests handled in this scheduling round join the group
            group, self._group = self._group, []
            try:
                with self.store.batch():
                    for persists, _ in group:
                        for action in persists:
                            self._persist(action)
            except (StorageError, sqlite3.Error) as exc:
                self._group_error = str(exc)
                self._note("storage_error", f"fast-path writes: {exc}")
                log.error("fast-path writes failed: %s", exc)
            for _, flushed in group:
                flushed.set()

    async def _await_certified(self) -> None:
        """Certification trails execution by one exchange of shares: wait for it, bounded
        (a read then answers with the IC0208 reject, which the client retries)."""
        with trio.move_on_after(QUERY_CERTIFIED_WAIT_S):
            while not self.replica.query_ready():
                await self._certified.wait()

    async def _await_reply(self, message: AwaitReply, stream: trio.SocketStream) -> Message | None:
        """The certified reply, once there is one, or ``ReplyTimeout``; None if the client
        closed the connection meanwhile. A waiter is forgotten when its wait ends, whatever
        the outcome (ids nobody will ever answer must not pile up), and at most
        ``MAX_AWAITED`` request ids are awaited at once: beyond that the answer is an
        immediate timeout."""
        request_id = message.request_id
        reply = self.replica.lookup_reply(request_id)
        if reply is not None:
            return reply
        if request_id not in self._reply_events and len(self._reply_events) >= MAX_AWAITED:
            self._note("await_limit", f"more than {MAX_AWAITED} requests awaited at once")
            return ReplyTimeout(request_id)
        # One task, one cancel scope: the wait is the watch for the client closing its
        # connection, cut short by the reply (``_wake`` cancels the scope) or the timeout.
        # (A nursery of a waiting task and a watching task per request was 9% of a
        # replica's CPU under load: bench/PROFILE.md, stop 24.)
        scopes = self._reply_events.setdefault(request_id, [])
        self._waiters[request_id] += 1
        gone = False
        try:
            with trio.move_on_after(min(max(message.timeout_ms, 0), MAX_AWAIT_MS) / 1000) as scope:
                scopes.append(scope)
                await _until_closed(stream)
                gone = True
        finally:
            self._waiters[request_id] -= 1
            if not self._waiters[request_id]:
                del self._waiters[request_id]
                if self._reply_events.get(request_id) is scopes:
                    del self._reply_events[request_id]
        if gone:
            return None
        reply = self.replica.lookup_reply(request_id)
        return reply if reply is not None else ReplyTimeout(request_id)

    def _link_control(self, message: LinkControl) -> LinkControlReply:
        """Apply an operator's link filter (``vocab.messages.LinkControl``), if it is
        signed with this replica's own node key and newer than the last one applied."""

        def refuse(reason: str) -> LinkControlReply:
            self._note("link_control_refused", reason)
            return LinkControlReply(message.sequence, False, reason)

        if message.node_index != self.index:
            return refuse(f"addressed to replica {message.node_index}, this is {self.index}")
        if message.behaviour not in REPLICA_BEHAVIOURS:
            return refuse(f"no behaviour {message.behaviour!r} (one of {', '.join(REPLICA_BEHAVIOURS)})")
        public_key = bytes.fromhex(self.genesis.nodes[self.index].public_key)
        try:
            signed = message.payload()
            # An attack rewrites actions here; the links stay honest for it.
            attack = REPLICA_ATTACKS.get(message.behaviour)
            link_behaviour = "honest" if attack is not None else message.behaviour
            conditions = LinkConditions(
                message.delay_ns, message.loss_ppm, message.duplication_ppm, message.seed, link_behaviour
            )
        except (OverflowError, ValueError) as exc:
            return refuse(f"a field is out of range: {exc}")
        if not crypto.verify(public_key, message.signature, LINK_CONTROL_DOMAIN, signed):
            return refuse("not signed with this replica's node key")
        if message.sequence <= self._control_sequence:
            return refuse(f"sequence {message.sequence} is not above {self._control_sequence}")
        peers = range(len(self.genesis.nodes))
        bad = [peer for peer in message.blocked if peer not in peers or peer == self.index]
        if bad:
            return refuse(f"no peer {bad[0]} to block")
        redirect_host, _, redirect_port = message.redirect_address.rpartition(":")
        if message.redirect_peer != -1 and (
            message.redirect_peer not in peers
            or message.redirect_peer == self.index
            or not redirect_host
            or not redirect_port.isdigit()
            or not 0 < int(redirect_port) < 65536
        ):
            return refuse(f"no peer {message.redirect_peer} to dial at {message.redirect_address!r}")
        self._control_sequence = message.sequence
        self.mesh.set_blocked(set(message.blocked))
        if message.redirect_peer == -1:
            self.mesh.redirect(None)
        else:
            self.mesh.redirect(message.redirect_peer, redirect_host.strip("[]"), int(redirect_port))
        done = self.link_counts()  # what the previous conditions did, before they change
        self.mesh.set_conditions(conditions)
        self._timer_wakeup.set()  # a moved clock moves every timer's deadline
        self.clock_offset_ns = message.clock_offset_ns
        if attack is None:
            self.attack = None
        elif not isinstance(self.attack, attack):  # the same attack again keeps its memory
            self.attack = attack(
                Attacker(self.index, self.key, self.genesis.node_ids[self.index], len(peers), self._attacked)
            )
        log.info(
            "link filter %d: blocking %s; delay %d ns, loss %d ppm, duplication %d ppm, "
            "clock offset %d ns, seed %d, %s (frames so far: %s)",
            message.sequence,
            sorted(message.blocked) or "nobody",
            message.delay_ns,
            message.loss_ppm,
            message.duplication_ppm,
            message.clock_offset_ns,
            message.seed,
            message.behaviour,
            done,
        )
        return LinkControlReply(message.sequence, True, "")

    def _attacked(self, kind: str, *fields: Any) -> None:
        """What the attack did: counted in the status's errors and written to the log."""
        self.errors[f"attack_{kind}"] += 1
        log.warning("attack: %s %s", kind, " ".join(str(item) for item in fields))

    def link_counts(self) -> str:
        """What link conditions did to the frames this replica sent since it started (the
        nemesis's evidence in its log, written when they change and when it stops)."""
        return ", ".join(
            f"{self.mesh.errors[name]} {name.removeprefix('frames_')}"
            for name in (
                "frames_delayed",
                "frames_lost",
                "frames_duplicated",
                "frames_muted",
                "frames_garbled",
            )
        )

    def status(self) -> StatusReply:
        return StatusReply(
            node_index=self.index,
            pid=os.getpid(),
            address=self.genesis.nodes[self.index].address,
            height=self.replica.height,
            finalized_height=self.replica.finalized_height,
            certified_height=self.replica.certified_height,
            peers_out=sorted(self.mesh.connected_out),
            peers_in=sorted(self.mesh.connected_in),
            last_error=self.last_error or self.mesh.last_error,
            rejected={reason: count for reason, count in sorted(self.replica.rejected.items())},
            checkpoint_height=self.replica.restored_checkpoint_height,
            replayed_heights=self.replica.replayed_heights,
            sui_epoch=self.replica.sui_epoch,
        )

    def _note(self, reason: str, detail: str) -> None:
        self.errors[reason] += 1
        self.last_error = detail

    async def run(self, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        host, _, port = (self.listen or self.genesis.nodes[self.index].address).rpartition(":")
        try:
            async with trio.open_nursery() as nursery:
                # Only the address in genesis: a replica is not reachable on every interface.
                self.listeners = await nursery.start(
                    partial(trio.serve_tcp, self._serve_connection, int(port), host=host.strip("[]"))
                )
                nursery.start_soon(self.mesh.run)
                nursery.start_soon(self._run_timers)
                nursery.start_soon(self._run_group_commits)
                self.handle(ev.Started(self.now_ns()))
                task_status.started()
        finally:
            self.queries.close()
