"""The ``versioned-counter`` workload: callers of two versions of one Move package on one
shared counter, through the package's upgrade and the counter's migration (issue 12's
mixed-version callers: the upgrade hazard of Sui's "versioned shared objects", measured).

The package is the shipped example ``examples/sui/counter`` (a ``Counter`` that every
changing function checks against the package's ``VERSION``, an ``AdminCap`` that
``migrate``s counters), compiled by the project's own Move compiler as ``subnet move
build`` compiles it: version 1 as it is, version 2 with ``const VERSION: u64 = 2;``, what
the example's README does with ``sed`` before ``subnet client upgrade``.

The setup client (the last identity) publishes version 1, keeping the ``UpgradeCap``
and the ``AdminCap`` that publishing gives it, and creates one shared ``Counter``. Client
``i`` then calls version ``1 + i % 2``: every call is one signed transaction of
``counter::increment`` on the shared counter, through consensus, recorded in the history
as ``incr`` 1 whose output is the value the ``Incremented`` event reports (so that the
linearizability check sees every value; an abort is a definite failure that changed
nothing). Version 1 callers always call the original package id. Version 2 callers call
the upgraded package once the setup client has the upgrade's certified reply; until then
they wait (they invoke nothing, so nothing of theirs is counted before the upgrade).

Two steps under load, at the scenario's times (``subnet.sim.faults.Upgrade`` and
``Migrate``), each one transaction of the setup identity:

- the upgrade: ``package::authorize_upgrade`` with the ``UpgradeCap``, ``Upgrade`` with
  version 2's modules, ``package::commit_upgrade`` (``vocab.sui.builder``'s
  ``upgrade_with_cap``, what ``subnet client upgrade`` sends), after checking version 2
  against version 1 under the cap's policy (``move.compat``, as the client does);
- the migration: the newest known package's ``counter::migrate(&AdminCap, &mut Counter)``.

Both use an owned object, so, as in Sui, they are certified first (2f+1 replicas' votes
lock the owned input) and the certificate is ordered by consensus; a step whose votes or
reply do not come is asked again every ``retry`` with the same signed transaction (the
locks it holds are for it), until ``timeout``.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any, Protocol

from move.build import build_package, build_sources
from move.compat import check_upgrade
from subnet.sim.clients import ClientHost, ClientsConfig, HistoryClients, Operations, _Op
from vocab.certificate import RequestResult
from vocab.genesis import Genesis
from vocab.messages import Message, SuiVote, SuiVoteRequest
from vocab.sui.address import FRAMEWORK_PACKAGES, ObjectId
from vocab.sui.builder import ProgrammableTransactionBuilder
from vocab.sui.certificate import CertifiedTransaction
from vocab.sui.digests import Digest, package_digest
from vocab.sui.objects import ObjectRef
from vocab.sui.signed import SignedTransaction
from vocab.sui.transaction import ImmOrOwnedObject, SharedObject

__all__ = [
    "EXAMPLE",
    "VERSIONED_UPGRADES",
    "FastPathHost",
    "VersionedCounterClients",
    "abort_constants",
    "describe_failure",
    "example_source",
    "parse_failure",
    "versioned_counter_modules",
]

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sui" / "counter"
"""The shipped example package (``examples/sui/counter``)."""
VERSION_LINE = "const VERSION: u64 = 1;"
VERSIONED_UPGRADES = ("v2",)
"""What an upgrade fault of this workload installs: the example with ``VERSION`` = 2."""
CALLER_VERSIONS = (1, 2)
COMPATIBLE = 0
"""``0x2::package``'s compatible policy, the one publishing gives the ``UpgradeCap``."""


def example_source() -> str:
    """The text of the example's ``sources/counter.move``; ``FileNotFoundError`` naming
    the folder when the checkout has no ``examples/`` (an installed wheel)."""
    path = EXAMPLE / "sources" / "counter.move"
    if not path.is_file():
        raise FileNotFoundError(
            f"the versioned-counter workload compiles the shipped example {EXAMPLE}, which is not "
            "there (run from a checkout of the project)"
        )
    return path.read_text()


@functools.cache
def versioned_counter_modules(version: int) -> tuple[bytes, ...]:
    """The example's modules at ``VERSION`` = ``version``: version 1 built from its folder
    (``Move.toml``, as ``subnet move build``), later ones from its source with the
    ``VERSION`` line raised. Compiled once per process."""
    if version == 1:
        return tuple(build_package(EXAMPLE).module_bytes)
    text = example_source()
    if text.count(VERSION_LINE) != 1:
        raise ValueError(f"{EXAMPLE}/sources/counter.move no longer has the line {VERSION_LINE!r}")
    raised = text.replace(VERSION_LINE, f"const VERSION: u64 = {version};")
    return tuple(build_sources("counter", {"counter.move": raised}).module_bytes)


@functools.cache
def abort_constants() -> dict[int, str]:
    """The example's abort codes by value: its ``const E...: u64 = N;`` lines."""
    found = re.findall(r"^\s*const (E\w+): u64 = (\d+);", example_source(), re.MULTILINE)
    return {int(value): name for name, value in found}


_FAILURE = re.compile(r"^(?P<error>\w+)(?: in command (?P<command>\d+))?: (?P<message>.*)$", re.DOTALL)
_ABORT = re.compile(r"(?P<module>\S+)::(?P<function>\w+) aborted with code (?P<code>\d+)$")


def parse_failure(error: str) -> dict[str, Any]:
    """A failed Sui transaction's status error (``MoveAbort in command 0: 0x…::counter::
    increment aborted with code 1``) as its parts: ``error``, ``command``, and for an abort
    ``module`` (the address as Sui names it: the package's original id), ``function``,
    ``code``."""
    match = _FAILURE.match(error)
    if match is None:
        return {"error": error}
    parts: dict[str, Any] = {"error": match["error"]}
    if match["command"] is not None:
        parts["command"] = int(match["command"])
    abort = _ABORT.search(match["message"]) if match["error"] == "MoveAbort" else None
    if abort is not None:
        parts.update(module=abort["module"], function=abort["function"], code=int(abort["code"]))
    else:
        parts["message"] = match["message"]
    return parts


def describe_failure(parts: dict[str, Any]) -> str:
    """A parsed failure (``parse_failure``) in words: an abort by the example's constant
    and its location (``ENotUpgrade (2) at 0x…::counter::migrate``), else Sui's name and
    message."""
    if "code" in parts:
        name = abort_constants().get(parts["code"], "code")
        return f"{name} ({parts['code']}) at {parts['module']}::{parts['function']}"
    return f"{parts['error']}: {parts.get('message', '')}".rstrip(": ")


class FastPathHost(ClientHost, Protocol):
    """What the certified steps need besides ``ClientHost``: the committee's quorum and a
    replica's answer to a vote request (``Simulation.fast_path``)."""

    genesis: Genesis

    def fast_path(self, node: int, request: SuiVoteRequest) -> Message | None: ...


class VersionedOperations(Operations):
    """Every operation is one ``increment`` of the shared counter (history ``incr`` 1); its
    outcome is the value the ``Incremented`` event carries, or the abort."""

    def next(self) -> tuple[int, str, str, Any, bytes]:
        return 0, "incr", "increment", 1, b""

    def outcome(self, f: str, value: Any, result: RequestResult) -> tuple[str, Any, str]:
        if result.status != "replied":
            return "fail", None, f"rejected:{result.error_code or result.reject_code}"
        response = json.loads(result.reply)
        status = response["effects"]["status"]
        if status["status"] != "success":
            return "fail", None, f"aborted:{status.get('error', '')}"
        (event,) = [e for e in response["events"] if e["type"].endswith("::counter::Incremented")]
        return "ok", int(event["parsedJson"]["value"]), ""


class VersionedCounterClients(HistoryClients):
    """The setup client, the callers of each version, the upgrade and the migration."""

    def __init__(self, config: ClientsConfig, host: FastPathHost, seed: int) -> None:
        if config.clients < len(CALLER_VERSIONS):
            raise ValueError("the versioned-counter workload needs at least 2 clients (a caller per version)")
        for version in CALLER_VERSIONS:
            versioned_counter_modules(version)  # compiled before the run: a problem stops nothing midway
        super().__init__(config, host, seed)
        self.fast_host = host
        self.operations = VersionedOperations(config.kind, config.keys, self.rng)
        self.version_of_client = [CALLER_VERSIONS[client % 2] for client in range(config.clients)]
        self.packages: dict[int, ObjectId] = {}
        """The package id each version is called through."""
        self.upgrade_cap: ObjectRef | None = None
        self.admin_cap: ObjectRef | None = None
        self.counter: SharedObject | None = None
        self.version_of: dict[bytes, int] = {}
        """The package version each call's request went to, by request id."""
        self.outcomes: dict[bytes, tuple[str, str]] = {}
        """Each completed call's (type, why), by request id."""
        self.waiting_callers: dict[int, None] = {}
        """Callers of a version that does not exist yet."""
        self.v2_ready_at: int | None = None
        """When version 2 callers could start (the upgrade's reply), since the start."""
        self.steps: dict[str, dict[str, Any]] = {}
        """The upgrade and the migration: time, request, outcome, status, block height."""

    # -- setup: publish version 1, create the counter -----------------------------------------

    def _sui_setup_request(self, setup: int) -> SignedTransaction:
        builder = ProgrammableTransactionBuilder()
        if self._setup_step == "publish":
            cap = builder.publish(versioned_counter_modules(1), FRAMEWORK_PACKAGES)
            builder.transfer_objects([cap], self.addresses[setup])
        else:
            builder.move_call(self.packages[1], "counter", "create", [], [])
        return self._transaction(setup, builder.finish())

    def _sui_setup_answer(self, result: RequestResult) -> bool:
        response = json.loads(result.reply)
        changes = response["objectChanges"]
        if self._setup_step == "publish":
            (published,) = [c for c in changes if c["type"] == "published"]
            self.packages[1] = self.package = ObjectId.from_text(published["packageId"])
            for change in changes:
                if change["type"] != "created":
                    continue
                ref = ObjectRef(
                    ObjectId.from_text(change["objectId"]),
                    int(change["version"]),
                    Digest.from_text(change["digest"]),
                )
                if change["objectType"].endswith("::package::UpgradeCap"):
                    self.upgrade_cap = ref
                elif change["objectType"].endswith("::counter::AdminCap"):
                    self.admin_cap = ref
            self._setup_step = "create"
            return False
        (created,) = [c for c in changes if c["type"] == "created"]
        initial = int(created["owner"]["Shared"]["initial_shared_version"])
        self.counter = SharedObject(ObjectId.from_text(created["objectId"]), initial, True)
        self.counters = [self.counter]
        return True

    # -- calls ----------------------------------------------------------------------------------

    def _request(self, client: int, key: int, method: str, value: Any, arg: bytes) -> SignedTransaction:
        assert self.counter is not None
        version = self.version_of_client[client]
        builder = ProgrammableTransactionBuilder()
        builder.move_call(self.packages[version], "counter", method, [], [builder.object(self.counter)])
        signed = self._transaction(client, builder.finish())
        self.version_of[signed.request_id] = version
        return signed

    def _invoke(self, client: int) -> None:
        if self.version_of_client[client] not in self.packages:
            if client not in self.waiting_callers:
                self.waiting_callers[client] = None
                self.stats[f"v{self.version_of_client[client]}_callers_waiting"] += 1
            return
        super()._invoke(client)

    def _callable(self, client: int) -> bool:
        return self.version_of_client[client] in self.packages

    def _complete(self, op: _Op, kind: str, value: Any, why: str = "") -> None:
        self.outcomes[op.envelope.request_id] = (kind, why)
        super()._complete(op, kind, value, why)

    # -- the upgrade and the migration ----------------------------------------------------------

    def upgrade(self, module: str) -> None:
        """Upgrade the package to ``module`` (``VERSIONED_UPGRADES``) with the ``UpgradeCap``."""
        if module not in VERSIONED_UPGRADES:
            raise ValueError(f"unknown package upgrade {module!r} (one of {', '.join(VERSIONED_UPGRADES)})")
        record = self._step("upgrade", module)
        if self.upgrade_cap is None or 1 not in self.packages:
            record["outcome"] = "not published"
            return
        old, new = versioned_counter_modules(1), versioned_counter_modules(2)
        problems = check_upgrade(old, new, COMPATIBLE)
        record["compatibility"] = [str(problem) for problem in problems]
        if problems:
            record["outcome"] = "incompatible"
            return
        builder = ProgrammableTransactionBuilder()
        digest = package_digest(new, (dependency.raw for dependency in FRAMEWORK_PACKAGES))
        builder.upgrade_with_cap(
            ImmOrOwnedObject(self.upgrade_cap), self.packages[1], new, FRAMEWORK_PACKAGES, COMPATIBLE, digest
        )
        self._certified(record, self._transaction(self.config.clients, builder.finish()))

    def migrate(self) -> None:
        """``counter::migrate`` through the newest package known now (version 1's, which
        aborts with ``ENotUpgrade``, if no upgrade has been answered yet)."""
        record = self._step("migrate", "")
        if self.admin_cap is None or self.counter is None:
            record["outcome"] = "not published"
            return
        version = max(self.packages)
        record["package_version"] = version
        builder = ProgrammableTransactionBuilder()
        admin = builder.object(ImmOrOwnedObject(self.admin_cap))
        builder.move_call(
            self.packages[version], "counter", "migrate", [], [admin, builder.object(self.counter)]
        )
        self._certified(record, self._transaction(self.config.clients, builder.finish()))

    def _step(self, name: str, module: str) -> dict[str, Any]:
        if name in self.steps:
            raise ValueError(f"the versioned-counter workload runs one {name}")
        record: dict[str, Any] = {"at_ns": self.host.now - self.host.start_ns}
        if module:
            record["module"] = module
        self.steps[name] = record
        self.host.trace.record(self.host.now, f"client_{name}", -1, module)
        return record

    def _certified(self, record: dict[str, Any], signed: SignedTransaction) -> None:
        """Certify ``signed`` (2f+1 votes), order the certificate, take its reply; the same
        transaction again every ``retry`` until an answer or ``timeout``."""
        host = self.fast_host
        request_id = signed.request_id
        record["request_id"] = request_id.hex()
        started = host.now
        threshold = host.genesis.committee.threshold

        def answered(result: RequestResult) -> None:
            if "outcome" in record:
                return
            record["outcome"] = "replied" if result.status == "replied" else "rejected"
            record["height"] = result.height
            record["answered_ns"] = host.now - host.start_ns
            if result.status != "replied":
                record["reject"] = f"{result.error_code or result.reject_code}: {result.reject_message}"
            else:
                self._step_done(record, json.loads(result.reply))
            host.trace.record(host.now, "client_step_done", -1, record.get("status", record["outcome"]))

        def attempt(node: int) -> None:
            if "outcome" in record:
                return
            if host.now - started >= self.config.timeout_ns:
                record["outcome"] = "timeout"
                return
            for asked in range(host.n):
                replica = host.replicas[asked]
                known = (
                    replica.lookup_reply(request_id)
                    if replica is not None and host.reachable(asked)
                    else None
                )
                if known is not None:
                    answered(known.result)
                    return
            votes: dict[int, SuiVote] = {}
            for voter in range(host.n):
                answer = host.fast_path(voter, SuiVoteRequest(signed))
                if isinstance(answer, SuiVote) and not answer.error:
                    votes[voter] = answer
            record["attempts"] = record.get("attempts", 0) + 1
            if len(votes) >= threshold:
                signers = sorted(votes)[:threshold]
                certificate = CertifiedTransaction(
                    signed,
                    votes[signers[0]].epoch,
                    tuple(signers),
                    tuple(votes[i].signature for i in signers),
                )
                for offset in range(host.n):  # a refused connection is known at once: ask the next
                    status, reason = host.client_submit(certificate, (node + offset) % host.n)
                    if status == "accepted" or reason == "replayed":
                        self.waiting[request_id] = answered
                    if status != "down":
                        break
            else:
                self.stats["step_votes_short"] += 1
            self._at(self.config.retry_ns, lambda: attempt((node + 1) % host.n))

        attempt(self.rng.randrange(host.n))

    def _step_done(self, record: dict[str, Any], response: dict[str, Any]) -> None:
        status = response["effects"]["status"]
        record["status"] = status["status"]
        if status["status"] != "success":
            record["failure"] = parse_failure(status.get("error", ""))
            return
        if "module" in record:  # the upgrade
            (published,) = [c for c in response["objectChanges"] if c["type"] == "published"]
            self.packages[2] = ObjectId.from_text(published["packageId"])
            record["package"] = published["packageId"]
            record["version"] = int(published["version"])
            self.v2_ready_at = self.host.now - self.host.start_ns
            waiting = list(self.waiting_callers)
            self.waiting_callers.clear()
            for offset, client in enumerate(waiting):
                self._at(1 + offset, functools.partial(self._invoke, client))
