"""A paused execution (deterministic time slicing) and the worker thread that runs it.

The data half of :mod:`node.ic.slicing`: :class:`PausedExecution` is replicated state
(the execution state keeps one per paused canister; hashed and checkpointed), and
:class:`Worker` runs the message off the replica's thread, by probes of growing fuel
whose results only ever *prove* how many instructions the message uses (the module
docstring of ``node.ic.slicing`` explains why probes and why this is deterministic).
A paused ``install_code`` (:class:`InstallRequest`) is one such execution whose run is
all of its steps (``node.ic.install_steps``), given to the worker as a *job*; a paused
replicated query (:class:`QueryRequest`) is one whose outcome is only its answer.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import msgpack

from node.ic.call_context import Origin
from node.ic.canister import CanisterInstance
from node.ic.config import ExecutionConfig
from node.ic.errors import CanisterTrap
from node.ic.ic0 import Context, Ic0Function
from node.ic.module_rules import ModuleInfo
from node.ic.runtime import CanisterRuntime
from node.ic.stable_memory import StableMemory
from node.ic.system_api import ApiContext, SystemApi
from node.wasm.engine import CompiledModule
from node.wasm.instance import InstanceState
from vocab.errors import RejectCode, RejectError


@dataclass(frozen=True)
class MessageInputs:
    """What the message's System API context was built from when it started: the paused
    message sees these, whatever happens to its canister meanwhile."""

    caller: bytes
    arg: bytes
    time: int
    controllers: tuple[bytes, ...]
    status: int
    version: int
    balance: int
    global_timer: int
    cycles_available: int
    env_vars: tuple[tuple[str, str], ...]
    certified_data: bytes
    kind: Context = Context.UPDATE
    """An update method, or a reply or reject callback."""
    response_required: bool = True
    cycles_refunded: int = 0
    reject_code: int = 0
    reject_text: str | None = None
    """In a callback: what ``_execute`` sets on its context after building it."""

    @classmethod
    def of(cls, ctx: ApiContext) -> MessageInputs:
        return cls(
            ctx.caller,
            ctx.arg,
            ctx.time_ns,
            ctx.controllers,
            ctx.status,
            ctx.version,
            ctx.balance,
            ctx.global_timer,
            ctx.cycles_available,
            ctx.env_vars,
            ctx.certified_data,
            ctx.kind,
            ctx.response_required,
            ctx.cycles_refunded,
            ctx.reject_code,
            ctx.reject_text,
        )

    def context(self, config: ExecutionConfig, canister: bytes, stable: StableMemory) -> ApiContext:
        """A fresh System API context for one run of the message."""
        ctx = ApiContext(
            self.kind,
            canister_id=canister,
            caller=self.caller,
            arg=self.arg,
            time=self.time,
            controllers=self.controllers,
            status=self.status,
            canister_version=self.version,
            balance=self.balance,
            stable=stable,
            max_stable_pages=config.max_stable_pages,
            global_timer=self.global_timer,
            subnet_id=config.subnet_id.raw,
            root_key=config.root_key,
            cycles_available=self.cycles_available,
            env_vars=self.env_vars,
            certified_data=self.certified_data,
        )
        ctx.response_required = self.response_required
        ctx.cycles_refunded = self.cycles_refunded
        ctx.reject_code, ctx.reject_text = self.reject_code, self.reject_text
        return ctx


@dataclass(frozen=True)
class WaitingMessage:
    """A message for a paused canister that waits until its long message completes, then
    runs, in arrival order, as the IC keeps them: a user's update (``kind`` "update",
    ``origin`` the user's request) or a management call whose canister is the paused one
    (``kind`` "management", ``origin`` a user's request or a canister's callback, with the
    ``cycles`` it attached)."""

    kind: str
    sender: bytes
    method: str
    arg: bytes
    origin: Origin
    cycles: int = 0


@dataclass(frozen=True)
class InstallRequest:
    """What a paused ``install_code`` needs besides its :class:`MessageInputs` (whose
    ``arg`` is the install's argument and whose other fields are the canister as it was
    when the install started): the mode and its upgrade options, the module, and who gets
    the answer when it completes (a user's request, or a canister's callback with the
    ``refund`` of the cycles it attached, which ``install_code`` gives back)."""

    mode: str
    skip_pre_upgrade: bool | None
    wasm_memory_persistence: str | None
    module: bytes
    origin: Origin
    refund: int = 0

    @cached_property
    def module_hash(self) -> bytes:
        """The module's SHA-256, what the state hash covers of it (computed once)."""
        return hashlib.sha256(self.module).digest()


@dataclass(frozen=True)
class QueryRequest:
    """Who gets a paused replicated query's answer (a ``canister_query`` method called by a
    user's update call or by another canister, ``node.ic.calls``): a user's request, or a
    canister's callback with the ``refund`` of the cycles it attached (a replicated query
    accepts none, so all go back, as on the synchronous path). A replicated query opens no
    call context and commits nothing but its logs, version and fee."""

    origin: Origin
    refund: int = 0


@dataclass(frozen=True)
class Failure:
    """A paused cleanup's call context's answer-to-be: the reject its trapped reply or
    reject callback left (``None`` fields: none, the context's default applies)."""

    code: int | None
    message: str = ""
    error_code: str = ""

    @classmethod
    def of(cls, reject: RejectError | None) -> Failure:
        if reject is None:
            return cls(None)
        return cls(int(reject.code), reject.message, reject.error_code or "")

    def reject(self) -> RejectError | None:
        if self.code is None:
            return None
        return RejectError(RejectCode(self.code), self.message, self.error_code or None)


@dataclass
class Outcome:
    """A finished run: the instructions used and either the trap or what to commit."""

    instructions: int
    ctx: ApiContext
    trap: CanisterTrap | None = None
    instance: CanisterInstance | None = None
    stable: StableMemory | None = None
    logs: list[bytes] | None = None
    """An install's logs, of all its steps (a message's are its ``ctx.logs``)."""
    pre_certified: bytes | None = None
    """An upgrade's certified data as ``pre_upgrade`` set it, if it did."""


Job = Callable[[CanisterRuntime, int], Outcome]
"""A paused execution's run other than one function: with (a runtime whose System API is
the worker's, fuel), the outcome of one run from its start (an install's steps)."""


IDLE_NICENESS = 19
"""The observed run, once the prover has started (it reports nothing: a tight loop), runs
at the lowest priority (Linux niceness is per thread), so that the prover's runs, which
answer the rounds, go first. Workers otherwise run at the replica's priority: below it, a
loaded machine starves them and the rounds that wait for them."""


def _nice(thread_id: int | None, niceness: int) -> None:
    """Set a thread's niceness where the system allows it (Linux); elsewhere nothing."""
    if thread_id is None or not hasattr(os, "setpriority"):
        return
    try:
        os.setpriority(os.PRIO_PROCESS, thread_id, niceness)
    except OSError:
        pass  # not permitted or not supported: the worker runs at the replica's priority


STALL_SECONDS = 0.05
"""How long the executor waits for a proof from the observed run before it asks whether
the run is in a silent loop (and starts the prover). Wall time and CPU time choose only
*how* proofs are obtained, never what they prove."""

SILENT_CPU_SECONDS = 0.025
"""CPU time the observed run's thread must have used without a report for its silence to
mean a loop without System API calls. Less means it was not running (descheduled on a
loaded machine, or waiting for Python's lock between calls): the prover would only redo
the observed run's work from the start while competing with it, so it is not started."""


def _thread_cpu_seconds(native_id: int | None) -> float | None:
    """CPU time a thread of this process has used (Linux's per-task ``stat``: safe for a
    thread that has exited, which just reads as unknown); ``None`` where unknown."""
    if native_id is None:
        return None
    try:
        with open(f"/proc/self/task/{native_id}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


class Worker:
    """One paused message, run off the replica's thread until its outcome is known.

    Two ways of proving how many instructions I the message uses, both sound, whichever
    answers first (the module docstring of ``node.ic.slicing`` says why):

    - the *observed run*: the message with its full limit, on one thread; each System API
      call it makes reports the instructions used so far (wasmtime's fuel is exact inside
      a host call), each a proof that I is at least that;
    - the *prover*: started only when the executor waited ``STALL_SECONDS`` for a proof
      and the observed run reported nothing meanwhile (a loop that makes no System API
      calls): runs of 2, 4, 8, ... slices, each from the message's start, each that runs
      out of fuel a proof that I is more.

    Either run finishing gives the outcome (the same: execution is deterministic).
    """

    def __init__(
        self,
        runtime: CanisterRuntime,
        config: ExecutionConfig,
        canister: bytes,
        compiled: CompiledModule[ModuleInfo],
        heap: InstanceState | None,
        stable: StableMemory,
        paused: PausedExecution,
        slice_: int,
        job: Job | None = None,
    ) -> None:
        self._runtime = runtime
        self._job = job
        self._config = config
        self._canister = canister
        self._compiled = compiled
        self._heap = heap
        self._stable = stable
        self._paused = paused
        self._slice = slice_
        self._condition = threading.Condition()
        self.above = slice_
        """Proven: the message uses more than this many instructions."""
        self.outcome: Outcome | None = None
        self.probes = 0
        """Runs started (the observed run and the prover's)."""
        self._wanted = 0
        """The budget the executor waits to see proven (0: it is not waiting)."""
        self._observed_thread_id: int | None = None
        self._failure: BaseException | None = None
        self._prover: threading.Thread | None = None
        self._observed = threading.Thread(target=self._observe, name="dts-observed", daemon=True)
        self._observed.start()

    def _proved(self, above: int) -> None:
        """Record a proof that the message uses more than ``above`` instructions; the
        executor is woken only when it answers what it waits for (reports come after every
        System API call: waking it each time would cost more than the calls)."""
        if above <= self.above:
            return
        self.above = above  # one reference assignment: atomic, read by the executor
        if self._wanted and above >= self._wanted:
            with self._condition:
                self._condition.notify_all()

    def _finished(self, outcome: Outcome) -> None:
        with self._condition:
            if self.outcome is None:
                self.outcome = outcome
            self._condition.notify_all()

    def _failed(self, exc: BaseException) -> None:
        with self._condition:
            self._failure = exc
            self._condition.notify_all()

    def _one_run(self, runtime: CanisterRuntime, fuel: int) -> Outcome | None:
        """One run from the message's start with ``fuel``: its outcome, or ``None`` if it
        ran out before the message's own limit (then it is proven to need more)."""
        self.probes += 1
        outcome = self._run_message(runtime, fuel) if self._job is None else self._job(runtime, fuel)
        trap = outcome.trap
        if trap is not None and trap.kind == "out_of_instructions" and fuel < self._paused.limit:
            self._proved(fuel)
            return None
        return outcome

    def _run_message(self, runtime: CanisterRuntime, fuel: int) -> Outcome:
        paused = self._paused
        stable = self._stable.copy()
        stable.begin()
        ctx = paused.inputs.context(self._config, self._canister, stable)
        assert self._heap is not None, "a message runs on its canister's committed heap"
        instance = runtime.instantiate(self._compiled, self._heap)
        try:
            function = paused.function
            if isinstance(function, str):
                used = runtime.run(instance, function, ctx, fuel)
            else:
                used = runtime.run_callback(instance, function, ctx, fuel)
        except CanisterTrap as trap:
            return Outcome(trap.instructions, ctx, trap=trap)
        return Outcome(used, ctx, instance=instance, stable=stable)

    def _observe(self) -> None:
        # The process's System API has one slot, for the call running on the replica's
        # thread; a worker's calls go through a System API of their own (the instances it
        # makes are linked against it), taken from a pool and given back when done.
        self._observed_thread_id = threading.get_native_id()
        api = _APIS.take()
        api.progress = lambda used: self._proved(used - 1)
        runtime = CanisterRuntime(self._runtime.engine)
        runtime.api = api
        try:
            outcome = self._one_run(runtime, self._paused.limit)
            assert outcome is not None
            self._finished(outcome)
        except Exception as exc:  # a bug or resource failure: reported on the executor's thread
            self._failed(exc)
        finally:
            _APIS.give(api)

    def _prove(self) -> None:
        _nice(self._observed_thread_id, IDLE_NICENESS)
        api = _APIS.take()
        runtime = CanisterRuntime(self._runtime.engine)
        runtime.api = api
        fuel = 2 * self._slice
        try:
            while self.outcome is None:
                outcome = self._one_run(runtime, min(self._paused.limit, fuel))
                if outcome is not None:
                    self._finished(outcome)
                    return
                fuel *= 2
        except Exception as exc:
            self._failed(exc)
        finally:
            _APIS.give(api)

    def _silent(self, cpu_at_last_proof: float | None) -> bool:
        """Whether the observed run ran for ``SILENT_CPU_SECONDS`` since its last proof
        (where its CPU time is unknown, any stall counts as silence)."""
        now = _thread_cpu_seconds(self._observed_thread_id)
        if cpu_at_last_proof is None or now is None:
            return True
        return now - cpu_at_last_proof >= SILENT_CPU_SECONDS

    def decide(self, budget: int) -> Outcome | None:
        """The outcome if the message uses at most ``budget`` instructions, ``None`` if it
        provably uses more; waits for the runs until one of the two is certain."""
        with self._condition:
            self._wanted = budget
            seen, cpu = self.above, _thread_cpu_seconds(self._observed_thread_id)
            while not (self.outcome is not None or self.above >= budget or self._failure is not None):
                self._condition.wait(STALL_SECONDS)
                if self.above != seen:
                    seen, cpu = self.above, _thread_cpu_seconds(self._observed_thread_id)
                elif self._prover is None and self.outcome is None and self._silent(cpu):
                    # no proof came while the run ran: a loop without System API calls
                    self._prover = threading.Thread(target=self._prove, name="dts-prover", daemon=True)
                    self._prover.start()
            self._wanted = 0
            if self._failure is not None:
                raise RuntimeError("a paused execution's worker failed") from self._failure
            outcome = self.outcome
        if outcome is not None and outcome.instructions <= budget:
            return outcome
        return None


class ObservedSystemApi(SystemApi):
    """A worker's System API: after each call, ``progress`` hears the instructions the
    message has used so far (exact: wasmtime's fuel is current inside a host call), plus
    ``offset``, what earlier steps of the same run used (an install's steps)."""

    def __init__(self) -> None:
        super().__init__()
        self.progress: Callable[[int], None] | None = None
        self.offset = 0

    def host_function(self, spec: Ic0Function, memory64: bool) -> Callable[..., Any]:
        inner = super().host_function(spec, memory64)
        api = self

        def host(caller: Any, *args: int) -> int | None:
            result = inner(caller, *args)
            report, ctx = api.progress, api.current
            if report is not None and ctx is not None:
                report(api.offset + ctx.instructions_used(caller))
            return result

        host.__name__ = f"observed_{spec.name}"
        return host


class _ApiPool:
    """System APIs for worker threads, reused so that the engine's linkers (one per import
    table) stay as many as workers ever ran at once."""

    def __init__(self) -> None:
        self._free: list[ObservedSystemApi] = []
        self._lock = threading.Lock()

    def take(self) -> ObservedSystemApi:
        with self._lock:
            return self._free.pop() if self._free else ObservedSystemApi()

    def give(self, api: ObservedSystemApi) -> None:
        api.current = None
        api.progress = None
        api.offset = 0
        with self._lock:
            self._free.append(api)


_APIS = _ApiPool()


@dataclass
class PausedExecution:
    """A long message in flight: replicated state (hashed, checkpointed) plus its worker."""

    canister: bytes
    context: int | None
    """The call context it runs in (``state.call_contexts``); ``None`` for a heartbeat or
    global timer, which answers no one."""
    function: str | tuple[int, int]
    """An update method's export, or a callback's (table index, env)."""
    inputs: MessageInputs
    start_round: int
    limit: int
    cleanup: tuple[int, int] | None = None
    """A callback's cleanup, run (synchronously) if the callback traps."""
    waiting: list[WaitingMessage] = field(default_factory=list)
    install: InstallRequest | None = None
    """Set for a paused ``install_code`` (``context`` and ``cleanup`` are then ``None``)."""
    failure: Failure | None = None
    """Set for a paused cleanup callback (``function``; its inputs' kind is CLEANUP)."""
    query: QueryRequest | None = None
    """Set for a paused replicated query (its inputs' kind is REPLICATED_QUERY; ``context``
    and ``cleanup`` are then ``None``)."""
    worker: Worker | None = field(default=None, compare=False, repr=False)

    def digest(self) -> bytes:
        """What the state hash covers of it: everything but the worker (its checkpoint
        encoding, which is canonical), with an install's module named by its SHA-256, so
        that hashing a paused install each round does not rehash a module of megabytes."""
        encoded = _encode(self, module_digest=True)
        return hashlib.sha256(b"paused-execution" + msgpack.packb(encoded, use_bin_type=True)).digest()


def encode_paused(paused: dict[bytes, PausedExecution]) -> list[Any]:
    """Paused executions as msgpack-ready lists (checkpoints), canisters in id order;
    integers that may exceed 64 bits (cycles) as signed big-endian bytes."""
    return [_encode(paused[raw]) for raw in sorted(paused)]


def _encode(item: PausedExecution, module_digest: bool = False) -> list[Any]:
    inputs = item.inputs
    encoded: list[Any] = [
        item.canister,
        item.context,
        item.function if isinstance(item.function, str) else list(item.function),
        item.start_round,
        item.limit,
        [
            inputs.caller,
            inputs.arg,
            inputs.time,
            list(inputs.controllers),
            inputs.status,
            inputs.version,
            _wide(inputs.balance),
            inputs.global_timer,
            _wide(inputs.cycles_available),
            [list(pair) for pair in inputs.env_vars],
            inputs.certified_data,
            inputs.kind.name,
            int(inputs.response_required),
            _wide(inputs.cycles_refunded),
            inputs.reject_code,
            inputs.reject_text,
        ],
        None if item.cleanup is None else list(item.cleanup),
        [
            [
                w.kind,
                w.sender,
                w.method,
                w.arg,
                _origin(w.origin),
                _wide(w.cycles),
            ]
            for w in item.waiting
        ],
    ]
    install, failure, query = item.install, item.failure, item.query
    if install is not None or failure is not None or query is not None:  # a message's unchanged
        encoded.append(
            None
            if install is None
            else [
                install.mode,
                install.skip_pre_upgrade,
                install.wasm_memory_persistence,
                install.module_hash if module_digest else install.module,
                _origin(install.origin),
                _wide(install.refund),
            ]
        )
    if failure is not None or query is not None:
        encoded.append(None if failure is None else [failure.code, failure.message, failure.error_code])
    if query is not None:
        encoded.append([_origin(query.origin), _wide(query.refund)])
    return encoded


def _origin(origin: Origin) -> list[Any]:
    return [origin.kind, origin.token, origin.callback]


def decode_paused(value: Any) -> dict[bytes, PausedExecution]:
    """The inverse of :func:`encode_paused`; ``ValueError`` naming what is malformed."""
    paused: dict[bytes, PausedExecution] = {}
    for item in _items(value, "paused executions"):
        parts = _items(item, "a paused execution")
        if len(parts) not in (8, 9, 10, 11):
            raise ValueError(
                "a paused execution should be a list of 8 (a message), 9 (an install), 10 (a cleanup)"
                " or 11 (a replicated query)"
            )
        canister, context, function, start_round, limit, inputs, cleanup, waiting = parts[:8]
        install = _install(parts[8]) if len(parts) > 8 and parts[8] is not None else None
        failure = (
            _failure(parts[9]) if len(parts) == 10 or (len(parts) == 11 and parts[9] is not None) else None
        )
        query = _query(parts[10]) if len(parts) == 11 else None
        fields = _items(inputs, "a paused execution's inputs", 16)
        kind = _str(fields[11])
        if install is not None:
            kinds: tuple[str, ...] = ("INIT",)
        elif failure is not None:
            kinds = ("CLEANUP",)
        elif query is not None:
            kinds = ("REPLICATED_QUERY",)
        else:
            kinds = ("UPDATE", "REPLY", "REJECT", "SYSTEM_TASK")
        if kind not in kinds or sum(part is not None for part in (install, failure, query)) > 1:
            raise ValueError(f"a paused execution of kind {kind!r}, which is never sliced so")
        decoded = MessageInputs(
            _bytes(fields[0]),
            _bytes(fields[1]),
            _nat(fields[2]),
            tuple(_bytes(c) for c in _items(fields[3], "controllers")),
            _nat(fields[4]),
            _nat(fields[5]),
            _unwide(fields[6]),
            _nat(fields[7]),
            _unwide(fields[8]),
            tuple(
                (_str(k), _str(v))
                for k, v in (_items(p, "an environment variable", 2) for p in _items(fields[9], "env vars"))
            ),
            _bytes(fields[10]),
            Context[kind],
            bool(_nat(fields[12])),
            _unwide(fields[13]),
            _nat(fields[14]),
            None if fields[15] is None else _str(fields[15]),
        )
        entry = PausedExecution(
            _bytes(canister),
            None if context is None else _nat(context),
            _str(function) if isinstance(function, str) else _function(function),
            decoded,
            _nat(start_round),
            _nat(limit),
            None if cleanup is None else _function(cleanup),
            [_waiting(w) for w in _items(waiting, "waiting messages")],
            install,
            failure,
            query,
        )
        if install is not None and (entry.context is not None or entry.cleanup is not None):
            raise ValueError("a paused install has a call context or a cleanup")
        if query is not None and (
            entry.context is not None or entry.cleanup is not None or not isinstance(entry.function, str)
        ):
            raise ValueError("a paused replicated query has a call context, a cleanup or a callback")
        if entry.canister in paused:
            raise ValueError("a canister has two paused executions")
        paused[entry.canister] = entry
    return paused


def _function(value: Any) -> tuple[int, int]:
    index, env = _items(value, "a callback function", 2)
    return _nat(index), _nat(env)


def _waiting(value: Any) -> WaitingMessage:
    kind, sender, method, arg, origin, cycles = _items(value, "a waiting message", 6)
    if kind not in ("update", "management"):
        raise ValueError(f"a waiting message of unknown kind {kind!r}")
    return WaitingMessage(
        kind, _bytes(sender), _str(method), _bytes(arg), _decode_origin(origin), _unwide(cycles)
    )


def _decode_origin(value: Any) -> Origin:
    origin_kind, token, callback = _items(value, "an origin", 3)
    return Origin(_str(origin_kind), _bytes(token), _nat(callback))


def _failure(value: Any) -> Failure:
    code, message, error_code = _items(value, "a paused cleanup's failure", 3)
    if code is not None and (_nat(code) not in {int(c) for c in RejectCode}):
        raise ValueError(f"a paused cleanup's failure has an unknown reject code {code!r}")
    return Failure(code, _str(message), _str(error_code))


def _query(value: Any) -> QueryRequest:
    origin, refund = _items(value, "a paused replicated query", 2)
    return QueryRequest(_decode_origin(origin), _unwide(refund))


def _install(value: Any) -> InstallRequest:
    mode, skip, persistence, module, origin, refund = _items(value, "a paused install", 6)
    if mode not in ("install", "reinstall", "upgrade"):
        raise ValueError(f"a paused install of unknown mode {mode!r}")
    if skip is not None and not isinstance(skip, bool):
        raise ValueError(f"skip_pre_upgrade should be a boolean or nil, not {skip!r}")
    if persistence not in (None, "keep", "replace"):
        raise ValueError(f"wasm_memory_persistence should be keep, replace or nil, not {persistence!r}")
    return InstallRequest(mode, skip, persistence, _bytes(module), _decode_origin(origin), _unwide(refund))


def _wide(value: int) -> bytes:
    return value.to_bytes(32, "big", signed=True)


def _unwide(value: Any) -> int:
    return int.from_bytes(_bytes(value), "big", signed=True)


def _items(value: Any, what: str, length: int | None = None) -> list[Any]:
    if not isinstance(value, list) or (length is not None and len(value) != length):
        raise ValueError(f"{what} should be a list{'' if length is None else f' of {length}'}")
    return value


def _bytes(value: Any) -> bytes:
    if not isinstance(value, bytes):
        raise ValueError(f"expected bytes, not {type(value).__name__}")
    return value


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected text, not {type(value).__name__}")
    return value


def _nat(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"expected a natural number, not {value!r}")
    return value


__all__ = [
    "Failure",
    "InstallRequest",
    "Job",
    "MessageInputs",
    "Outcome",
    "PausedExecution",
    "QueryRequest",
    "WaitingMessage",
    "Worker",
    "decode_paused",
    "encode_paused",
]
