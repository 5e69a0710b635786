"""Deterministic time slicing: a long message runs across rounds, the same on every replica.

The IC runs a message whose instructions exceed the per-round budget (the *slice*) over
several rounds, pausing it between them, while other canisters keep executing and blocks
keep coming (its "deterministic time slicing": 2B instructions per slice, 40B per update).
The message's effects apply at the end of the round where it completes, exactly as if it
had run then; until then its canister is *paused*: no other message of it starts (its
ingress and inter-canister messages wait in order), and its state (hashed, certified,
queried) is the state before the message.

Here a message that uses I instructions and starts in round s completes at the end of
round ``s + ceil(I / SLICE) - 1``: that round depends only on I (fuel, deterministic) and
on SLICE (``ExecutionConfig.instructions_per_slice``, from genesis), never on wall time.
How it is computed:

- every message first runs synchronously with SLICE fuel, as today (a short message is
  untouched: same speed, same results); one that runs out is rolled back and becomes a
  :class:`PausedExecution`, and a :class:`Worker` runs it on its own threads, on fresh
  instances of the canister's module holding the committed heap and globals and copies
  of its stable memory (wasmtime releases the GIL while Wasm runs, so the replica's
  thread goes on; the worker's System API calls take it briefly);
- at the end of each round r the executor asks "is I <= (r - s + 1) * SLICE?". The worker
  answers for certain once a run finished (I is known) or once it has a proof that I is
  more. wasmtime 50 cannot resume a run that ran out of fuel, and its fuel is not readable
  while Wasm loops (it lives in a register; an epoch callback reads the value of the
  call's start), so proofs come two ways: the *observed run*, the message with its whole
  limit, reports after each System API call the instructions used so far (exact there);
  and if a round waits 50 ms with no report while the observed run used CPU (a loop that
  makes no System API calls, not a run that was merely descheduled), a
  *prover* runs 2, 4, 8, ... slices, each from the message's start, each run that runs
  out of fuel proving the message did not complete in the rounds it covers (about twice
  the message's work, while the silent observed run drops to the lowest priority). Only
  proofs feed the decision, so how fast the worker runs changes only how long a round
  waits, never the result;
- when the worker is behind, the executor waits for it: correct, but that round is late.
  SLICE is chosen so that a worker stays ahead on a loaded machine for Motoko-speed code
  (``slice_from_genesis``); code dominated by System API calls (each a Python call that
  needs the GIL the replica's event loop holds) can fall behind;
- a completed message's instance replaces the canister's (committed), its stable memory
  copy becomes the canister's, its staged effects apply (cycles as a delta, since the
  balance may have changed while it was paused), and its calls, reply and call context
  are handled as those of any update. A trap or running out of its limit leaves the
  canister as it was and charges the instructions used, as a synchronous trap does.

The paused message is replicated state: its inputs and start round are part of the state
hash and of checkpoints (``node.checkpoint``), so a replica restored from a checkpoint
taken mid-pause starts the worker again and completes in the same round. A replica that
restarts redoes the work (the executor then waits for it).

What is sliced: update methods (ingress and inter-canister), reply and reject callbacks
(what follows an ``await``) and their cleanup callbacks, heartbeats and global timers, and
``install_code`` (install, reinstall, upgrade: the start function, ``canister_init``,
``canister_pre_upgrade`` and ``canister_post_upgrade`` against the one install limit, 300B,
as the IC slices them). A
paused install is one run of all its steps (``node.ic.install_steps``) for the worker, the
same proofs deciding its round; at completion it commits as the synchronous path does
(``node.ic.lifecycle``), or, failing or out of its limit, leaves the canister as it was
(code, heap, stable memory, settings), only its logs and fee kept, and its caller gets the
reply or reject then. While it is paused, as on the IC's scheduler
(``can_execute_subnet_msg``), everything for its canister waits (its messages, tasks and
the management calls naming it: stop, update_settings, another install_code...), and so
does every other ``install_code`` and ``install_chunked_code`` on the subnet, whatever its
canister: one long install at a time.

A cleanup callback (run after a reply or reject callback traps) is sliced too, as the IC
slices it (``PausedCleanupExecution``): the canister stays paused until it completes, and
its call context is then settled with the reject the trapped callback left.

A replicated query (a ``canister_query`` method called by a user's update call or by
another canister) is sliced as the IC slices it (``PausedReplicatedQueryExecution``), with
the same message limit: it pauses its canister like an update, and when it completes its
reply or reject goes to its caller (the user's request, or the calling canister's callback
with the cycles it attached given back), while nothing of its run is committed (heap,
globals and stable memory stay as they were; only its logs, the version and its fee), as
on the synchronous path.
"""

from __future__ import annotations

from dataclasses import dataclass

from node.ic.canister import CanisterInstance, CanisterState
from node.ic.errors import CanisterTrap, trap_log
from node.ic.ic0 import Context
from node.ic.install_steps import Steps, install_job
from node.ic.lifecycle import Lifecycle
from node.ic.messages import CallResult, Messages, SliceExhausted, response, trapped
from node.ic.paused import (
    Failure,
    InstallRequest,
    MessageInputs,
    Outcome,
    PausedExecution,
    QueryRequest,
    WaitingMessage,
    Worker,
)
from node.ic.runtime import CanisterModule
from node.ic.stable_memory import StableMemory
from node.ic.state import ExecutionState
from node.ic.system_api import ApiContext
from node.ic.transaction import apply_effects
from vocab import management
from vocab.errors import RejectError
from vocab.genesis import Genesis, GenesisError
from vocab.principal import Principal

SLICE_RATE = 40_000_000
"""Instructions per second of block time a slice holds by default. How fast Wasm runs here
depends on the code: a register loop runs ~8B instructions per second per core, Motoko
code ~500M (issue 17's looping update: 40B in 81 s), a loop of System API calls far less
(each is one instruction here, a Python call of ~1 us). A replica's worker shares a core
with other replicas on a 2-core machine and probes (up to ~4x the slice's work per round,
see the module's docstring), so the budget is set for Motoko's speed with room to spare:
the worker stays ahead of rounds and the executor rarely waits. Faster code can be given
a larger slice (``extra.instructions_per_slice``)."""


def slice_from_genesis(genesis: Genesis) -> int:
    """SLICE for a subnet: ``extra.instructions_per_slice`` if given (0 turns slicing off),
    else ``SLICE_RATE`` per second of the genesis block interval. The same on every replica."""
    value = genesis.extra.get("instructions_per_slice")
    if value is None:
        return max(1, SLICE_RATE * genesis.block_interval_ns // 1_000_000_000)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise GenesisError(
            f"extra.instructions_per_slice must be a number of instructions (0: no slicing), not {value!r}"
        )
    return value


@dataclass(frozen=True)
class Completion:
    """A paused message that completed this round: what the scheduler finishes."""

    canister: CanisterState
    context: int | None
    """Its call context; ``None`` for a heartbeat, timer or install."""
    ctx: ApiContext
    result: CallResult
    cleanup: tuple[int, int] | None
    waiting: list[WaitingMessage]
    install: InstallRequest | None = None
    """A completed install: ``result`` is its reply (an empty Candid record) or reject."""
    settles: bool = False
    """A completed cleanup callback: its context is settled with ``failure`` (the reject
    its trapped reply or reject callback left), whatever the cleanup did."""
    failure: RejectError | None = None
    query: QueryRequest | None = None
    """A completed replicated query: ``result`` is its answer for ``query.origin``."""


class TimeSlicing:
    """Starts, tracks and completes paused executions of one execution state."""

    def __init__(self, state: ExecutionState, messages: Messages) -> None:
        self.state = state
        self.messages = messages

    def active(self, limit: int) -> bool:
        """Whether a message with ``limit`` instructions may be sliced now: slicing is on
        (``instructions_per_slice``), execution runs in rounds (consensus sets
        ``state.round``), and the limit exceeds one slice."""
        slice_ = self.state.config.instructions_per_slice
        return bool(slice_) and self.state.round is not None and limit > slice_

    def first_slice(
        self,
        canister: CanisterState,
        instance: CanisterInstance,
        function: str | tuple[int, int],
        ctx: ApiContext,
        limit: int,
        context: int | None,
        cleanup: tuple[int, int] | None,
        query: QueryRequest | None = None,
    ) -> CallResult | None:
        """Run ``function`` (an update's export or a callback) with one slice; its result,
        or ``None`` if it did not finish in it and is now paused (rolled back, to run again
        on a worker). A replicated query (``query``: who gets its answer) is never
        committed and its result is its answer."""
        state = self.state
        slice_ = state.config.instructions_per_slice
        inputs = MessageInputs.of(ctx)
        committed = query is None
        try:
            return self.messages.run_replicated(
                canister,
                instance,
                function,
                ctx,
                limit,
                persist=committed,
                responds=not committed,
                slice_limit=slice_,
            )
        except SliceExhausted:
            pass
        assert state.round is not None
        paused = PausedExecution(
            canister.principal_raw, context, function, inputs, state.round, limit, cleanup, query=query
        )
        state.paused[canister.principal_raw] = paused
        self._start_worker(canister, paused)
        return None

    def pause(self, canister: CanisterState, paused: PausedExecution, compiled: CanisterModule) -> None:
        """Pause ``canister`` with a long install (``node.ic.lifecycle``), its first slice
        rolled back; ``compiled`` is its new module."""
        self.state.paused[canister.principal_raw] = paused
        self._start_worker(canister, paused, compiled)

    def pause_cleanup(
        self,
        canister: CanisterState,
        context: int,
        cleanup: tuple[int, int],
        inputs: MessageInputs,
        limit: int,
        failure: RejectError | None,
    ) -> None:
        """Pause ``canister`` with a long cleanup callback (``node.ic.calls``), its first
        slice rolled back; ``failure`` settles its call context when it completes."""
        assert self.state.round is not None
        paused = PausedExecution(
            canister.principal_raw,
            context,
            cleanup,
            inputs,
            self.state.round,
            limit,
            failure=Failure.of(failure),
        )
        self.state.paused[canister.principal_raw] = paused
        self._start_worker(canister, paused)

    def installing(self) -> PausedExecution | None:
        """The paused install on the subnet, if there is one (never more than one)."""
        for raw in sorted(self.state.paused):
            if self.state.paused[raw].install is not None:
                return self.state.paused[raw]
        return None

    def _start_worker(
        self, canister: CanisterState, paused: PausedExecution, compiled: CanisterModule | None = None
    ) -> None:
        instance = canister.instance
        install = paused.install
        if install is not None:
            state = self.state
            if compiled is None:  # restored from a checkpoint: the module compiles from its bytes
                compiled = state.runtime.compile(install.module)
            upgrade = install.mode == "upgrade"
            old = None
            if upgrade:
                assert instance is not None
                old = (instance.compiled, instance.snapshot())
            stable = canister.stable.copy() if upgrade else StableMemory()
            job = install_job(
                state.config, canister.principal_raw, paused.inputs, install, compiled, old, stable
            )
            paused.worker = Worker(
                state.runtime,
                state.config,
                canister.principal_raw,
                compiled,
                None,
                stable,
                paused,
                state.config.instructions_per_slice,
                job,
            )
            return
        assert instance is not None
        paused.worker = Worker(
            self.state.runtime,
            self.state.config,
            canister.principal_raw,
            instance.compiled,
            instance.snapshot(),
            canister.stable.copy(),
            paused,
            self.state.config.instructions_per_slice,
        )

    def end_of_round(self, round_: int) -> list[Completion]:
        """The paused messages that complete in round ``round_`` (canisters in id order),
        their effects applied; the others stay paused."""
        state = self.state
        slice_ = state.config.instructions_per_slice
        done: list[Completion] = []
        for raw in sorted(state.paused):
            paused = state.paused[raw]
            canister = state.canisters[raw]
            if paused.worker is None:  # restored from a checkpoint: run it again
                self._start_worker(canister, paused)
            assert paused.worker is not None
            outcome = paused.worker.decide((round_ - paused.start_round + 1) * slice_)
            if outcome is None:
                continue
            del state.paused[raw]
            if paused.inputs.kind is Context.CLEANUP:
                assert paused.failure is not None
                self._finish_cleanup(canister, paused, outcome)
                done.append(
                    Completion(
                        canister,
                        paused.context,
                        outcome.ctx,
                        CallResult(),
                        None,
                        paused.waiting,
                        settles=True,
                        failure=paused.failure.reject(),
                    )
                )
                continue
            if paused.query is not None:
                result = self._finish_query(canister, outcome)
                done.append(
                    Completion(canister, None, outcome.ctx, result, None, paused.waiting, query=paused.query)
                )
                continue
            if paused.install is not None:
                result = self._finish_install(canister, paused, paused.install, outcome)
                done.append(
                    Completion(canister, None, outcome.ctx, result, None, paused.waiting, paused.install)
                )
                continue
            done.append(
                Completion(
                    canister,
                    paused.context,
                    outcome.ctx,
                    self._apply(canister, paused, outcome),
                    paused.cleanup,
                    paused.waiting,
                )
            )
        return done

    def _trap_of(self, canister: CanisterState, outcome: Outcome) -> CanisterTrap | None:
        """What stops a completed run's effects: its trap, or its memory beyond the
        canister's limit (charged the instructions it used); ``None`` if nothing does."""
        if outcome.trap is not None:
            return outcome.trap
        assert outcome.instance is not None and outcome.stable is not None
        try:
            self.state.check_memory_limit(canister, outcome.instance, stable=outcome.stable)
        except CanisterTrap as refused:
            refused.instructions = outcome.instructions
            return refused
        return None

    def _apply(self, canister: CanisterState, paused: PausedExecution, outcome: Outcome) -> CallResult:
        """The completed message's effects, as ``Messages.run_replicated`` applies a
        synchronous one's."""
        state = self.state
        ctx = outcome.ctx
        trap = self._trap_of(canister, outcome)
        if trap is not None:
            return trapped(state, canister, ctx, trap)
        assert outcome.instance is not None and outcome.stable is not None
        instance = self._adopt(outcome.instance)
        outcome.stable.commit()
        canister.instance = instance
        canister.stable = outcome.stable
        drift = canister.cycles - paused.inputs.balance  # what changed it while paused
        apply_effects(canister, ctx)
        canister.cycles += drift
        canister.version += 1
        canister.append_logs(ctx.logs, state.time)
        fee = state.charge(canister, outcome.instructions)
        return CallResult(reply=b"", instructions=outcome.instructions, cycles_charged=fee)

    def _finish_query(self, canister: CanisterState, outcome: Outcome) -> CallResult:
        """The completed replicated query's answer, as ``Messages.run_replicated`` gives a
        synchronous one's (``persist=False``): its run is discarded (the worker's instance
        and stable memory copy are dropped, the canister's stay as they were), its logs
        kept, the version bumped, its instructions charged; a trap or memory beyond the
        canister's limit is a reject."""
        state = self.state
        ctx = outcome.ctx
        trap = self._trap_of(canister, outcome)
        if trap is not None:
            return trapped(state, canister, ctx, trap)
        canister.version += 1
        canister.append_logs(ctx.logs, state.time)
        fee = state.charge(canister, outcome.instructions)
        return response(canister, ctx, outcome.instructions, fee)

    def _finish_cleanup(self, canister: CanisterState, paused: PausedExecution, outcome: Outcome) -> None:
        """The completed cleanup's effects, as ``Calls._cleanup`` applies a synchronous
        one's: committed if it returned (no version change), only logged if it trapped;
        its instructions charged either way."""
        state = self.state
        ctx = outcome.ctx
        if outcome.trap is not None:
            canister.append_logs([*ctx.logs, trap_log(outcome.trap)], state.time)
            state.charge(canister, outcome.instructions)
            return
        assert outcome.instance is not None and outcome.stable is not None
        canister.instance = self._adopt(outcome.instance)
        outcome.stable.commit()
        canister.stable = outcome.stable
        drift = canister.cycles - paused.inputs.balance  # what changed it while paused
        apply_effects(canister, ctx)
        canister.cycles += drift
        canister.append_logs(ctx.logs, state.time)
        state.charge(canister, outcome.instructions)

    def _finish_install(
        self, canister: CanisterState, paused: PausedExecution, install: InstallRequest, outcome: Outcome
    ) -> CallResult:
        """The completed install's effects, as ``Lifecycle`` applies a synchronous one's:
        the new code and state on success; on a failure (a trap, its limit, or memory
        beyond the canister's or the subnet's limits now) only its logs and fee."""
        state = self.state
        lifecycle = Lifecycle(state)
        inputs = paused.inputs
        logs = outcome.logs or []
        trap = outcome.trap
        compiled = state.runtime.compile(install.module)
        if trap is None:
            assert outcome.instance is not None and outcome.stable is not None
            try:
                state.check_memory_limit(canister, outcome.instance, outcome.stable, install.module)
            except CanisterTrap as refused:
                trap = refused
        if trap is not None:
            error = lifecycle.fail(canister, inputs, logs, outcome.instructions, trap)
            return CallResult(reject=error, instructions=outcome.instructions, trapped=True)
        assert outcome.instance is not None and outcome.stable is not None
        instance = self._adopt(outcome.instance)
        outcome.stable.commit()
        steps = Steps(instance, outcome.ctx, outcome.pre_certified)
        lifecycle.commit(
            canister,
            inputs,
            install.mode,
            compiled,
            install.module,
            steps,
            outcome.stable,
            logs,
            outcome.instructions,
        )
        return CallResult(
            reply=management.encode_reply(management.INSTALL_CODE), instructions=outcome.instructions
        )

    def _adopt(self, instance: CanisterInstance) -> CanisterInstance:
        """A worker's completed instance, committed and linked against the replica thread's
        System API (the worker's was its own)."""
        instance.commit()
        instance.imports = self.state.runtime.api.imports(instance.compiled.memory64)
        instance.rebuild()
        return instance

    def state_bytes(self) -> bytes:
        """What the state hash covers of paused executions: empty when there are none."""
        return b"".join(self.state.paused[raw].digest() for raw in sorted(self.state.paused))


def _text(raw: bytes) -> str:
    return Principal(raw).to_text()


__all__ = ["SLICE_RATE", "Completion", "TimeSlicing", "slice_from_genesis"]
