"""The checks of a simulated scenario run: agreement, convergence, liveness, and on the
clients' history (register and counter workloads) durability and linearizability.

Each check returns a ``CheckResult``: ``valid``, ``invalid`` or ``unknown`` (with the
reason it could not decide), and the evidence: heights, hashes, times, replicas. Only
honest replicas count: a replica that was given a Byzantine behaviour at any time is
left out (a bug switch does not make a replica Byzantine: it is the code under test).
Times in evidence are seconds since the start of the run, in simulated time.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Protocol

from node.consensus.block import ChainBlock
from node.execution import SubnetStateMachine
from subnet.checks.durability import check_durability
from subnet.checks.history import Event, operations
from subnet.checks.linearizable import Budget, Verdict, check_linearizable
from subnet.scenario.nemesis import concrete_faults
from subnet.scenario.spec import Scenario
from subnet.sim.clients import UPGRADE_MODULES, register_canister_wasm
from subnet.sim.runner import SECOND, Disagreement, Simulation
from vocab.errors import SubnetError
from vocab.ingress_message import label
from vocab.principal import Principal

__all__ = [
    "CheckResult",
    "HistoryView",
    "RunView",
    "agreement",
    "convergence",
    "durability",
    "executions",
    "failing_piece",
    "honest",
    "linearizable",
    "liveness",
    "module_hash",
    "run_checks",
    "upgrade_outcomes",
    "upgrades",
    "verdict_of",
]


class HistoryView(Protocol):
    """The clients of a run, as the history checks see them."""

    @property
    def events(self) -> list[Event]: ...

    @property
    def model(self) -> str: ...

    @property
    def installed_at(self) -> int | None: ...

    def executions(self, chain_payload_ids: list[bytes]) -> dict[int, int]: ...


class RunView(Protocol):
    """What the checks read of a finished run, on either backend: the simulation itself,
    or the record of a run on replica processes (``subnet.scenario.processes``)."""

    @property
    def n(self) -> int: ...

    @property
    def start_ns(self) -> int: ...

    @property
    def end_ns(self) -> int: ...

    @property
    def byzantine(self) -> dict[int, None]: ...

    @property
    def disagreements(self) -> list[Disagreement]: ...

    @property
    def finalized_hashes(self) -> dict[int, tuple[bytes, int]]: ...

    @property
    def persisted(self) -> list[tuple[int, int, int]]:
        """(time, replica, height) of each finalized height a replica reached, in time order."""
        ...

    @property
    def history(self) -> HistoryView | None: ...

    def chain(self, node: int) -> list[ChainBlock]: ...

    def executed_state_hashes(self) -> dict[int, dict[int, str]]:
        """The state hash (hex) each replica computed after each height it executed."""
        ...


SHOWN_LINEARIZED = 8
"""How many of the last operations placed before a linearizability violation are kept."""

VALID, INVALID, UNKNOWN = "valid", "invalid", "unknown"


@dataclass(frozen=True)
class CheckResult:
    name: str
    verdict: str
    summary: str
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "summary": self.summary, "evidence": self.evidence}


def _seconds(sim: RunView, time_ns: int) -> float:
    return (time_ns - sim.start_ns) / SECOND


def _block_at(sim: RunView, node: int, height: int) -> dict[str, Any] | None:
    """The finalized block a replica persisted at a height: its hash and the
    requests (ids and methods) it carried: the operations involved in a violation."""
    chain = sim.chain(node)
    if not 0 < height <= len(chain) or chain[height - 1].height != height:
        return None
    block = chain[height - 1]
    return {
        "hash": block.hash.hex(),
        "requests": [
            {
                "request_id": envelope.request_id.hex(),
                "method": label(envelope),
            }
            for envelope in block.payload
        ],
    }


def honest(sim: RunView) -> list[int]:
    return [node for node in range(sim.n) if node not in sim.byzantine]


def agreement(sim: RunView) -> CheckResult:
    """No two honest replicas persisted different finalized blocks at one height (the
    simulator compares every finalization with the first at its height as it happens)."""
    good = set(honest(sim))
    bad = [d for d in sim.disagreements if d.node in good and d.first_node in good]
    heights = len(sim.finalized_hashes)
    if bad:
        first = bad[0]
        return CheckResult(
            "agreement",
            INVALID,
            f"height {first.height}: replica {first.node} finalized {first.block_hash.hex()[:16]}, "
            f"replica {first.first_node} {first.first_hash.hex()[:16]}",
            {
                "disagreements": [{**d.to_json(), "time_s": _seconds(sim, d.time_ns)} for d in bad[:20]],
                "count": len(bad),
                "blocks": {
                    str(node): _block_at(sim, node, first.height) for node in (first.first_node, first.node)
                },
            },
        )
    if heights == 0:
        return CheckResult("agreement", UNKNOWN, "nothing was finalized, so there was nothing to agree on")
    return CheckResult(
        "agreement",
        VALID,
        f"{heights} heights finalized, every honest replica persisted the same block at each",
        {"heights": heights, "honest": sorted(good)},
    )


def convergence(sim: RunView) -> CheckResult:
    """Honest replicas that executed a height hold the same state hash after it."""
    good = set(honest(sim))
    by_height: dict[int, dict[int, str]] = {}
    for height, hashes in sorted(sim.executed_state_hashes().items()):
        kept = {node: value for node, value in sorted(hashes.items()) if node in good}
        if kept:
            by_height[height] = kept
    compared = [height for height in sorted(by_height) if len(by_height[height]) >= 2]
    for height in compared:
        hashes = by_height[height]
        if len(set(hashes.values())) > 1:
            groups: dict[str, list[int]] = {}
            for node, state_hash in sorted(hashes.items()):
                groups.setdefault(state_hash, []).append(node)
            divergent = [h for h in sorted(by_height) if len(set(by_height[h].values())) > 1]
            return CheckResult(
                "convergence",
                INVALID,
                f"height {height}: state hashes differ: "
                + "; ".join(f"replicas {nodes} {h[:16]}" for h, nodes in groups.items()),
                {
                    "first_height": height,
                    "block": _block_at(sim, min(hashes), height),
                    "state_hashes": {str(node): h for node, h in sorted(hashes.items())},
                    "divergent_heights": len(divergent),
                    "heights_compared": len(compared),
                },
            )
    if not compared:
        return CheckResult(
            "convergence", UNKNOWN, "no height was executed by two honest replicas, so nothing was compared"
        )
    return CheckResult(
        "convergence",
        VALID,
        f"{len(compared)} heights compared, equal state hashes at each",
        {"heights_compared": len(compared), "last_height": compared[-1], "honest": sorted(good)},
    )


def last_heal_ns(scenario: Scenario) -> int:
    """When the last fault ended (a fault that never ends counts from its start)."""
    faults = [item.fault for item in concrete_faults(scenario)]
    ends = [fault.end_ns if fault.end_ns is not None else fault.at_ns for fault in faults]
    return max(ends, default=0)


def liveness(sim: RunView, scenario: Scenario, bound_ns: int) -> CheckResult:
    """An honest replica finalizes a new height within ``bound_ns`` of the last heal."""
    heal = sim.start_ns + last_heal_ns(scenario)
    deadline = heal + bound_ns
    good = set(honest(sim))
    before = max((height for time, node, height in sim.persisted if time <= heal and node in good), default=0)
    evidence: dict[str, Any] = {
        "last_heal_s": _seconds(sim, heal),
        "bound_s": bound_ns / SECOND,
        "height_at_heal": before,
    }
    for time, node, height in sim.persisted:
        if heal < time <= deadline and node in good and height > before:
            evidence.update({"progress_s": _seconds(sim, time), "replica": node, "height": height})
            return CheckResult(
                "liveness",
                VALID,
                f"height {height} finalized by replica {node} {(time - heal) / SECOND:g}s after the last heal",
                evidence,
            )
    if sim.end_ns <= heal:
        return CheckResult(
            "liveness",
            UNKNOWN,
            f"the last fault ends at {_seconds(sim, heal):g}s, not before the end of the run "
            f"({_seconds(sim, sim.end_ns):g}s)",
            evidence,
        )
    if sim.end_ns < deadline:
        return CheckResult(
            "liveness",
            UNKNOWN,
            f"the run ended {(sim.end_ns - heal) / SECOND:g}s after the last heal, before the bound of "
            f"{bound_ns / SECOND:g}s, with no progress yet",
            evidence,
        )
    final = max((height for _, node, height in sim.persisted if node in good), default=0)
    evidence["final_height"] = final
    return CheckResult(
        "liveness",
        INVALID,
        f"no honest replica finalized above height {before} within {bound_ns / SECOND:g}s of the last heal "
        f"(at {_seconds(sim, heal):g}s)",
        evidence,
    )


def executions(sim: RunView) -> dict[str, Any]:
    """How many times each client operation's request is in the final chain: the chain of
    the honest replica that finalized the most (the lowest index among equals)."""
    assert sim.history is not None
    good = honest(sim) or list(range(sim.n))
    best = max(good, key=lambda node: (len(sim.chain(node)), -node))
    ids = [envelope.request_id for block in sim.chain(best) for envelope in block.payload]
    return {
        "model": sim.history.model,
        "replica": best,
        "height": len(sim.chain(best)),
        "executions": {str(index): count for index, count in sim.history.executions(ids).items()},
    }


def _no_history(sim: RunView, name: str) -> CheckResult | None:
    if sim.history is None or sim.history.installed_at is None:
        return CheckResult(
            name, UNKNOWN, "the clients' canister was never installed, so no operation was made", {}
        )
    return None


def durability(sim: RunView) -> CheckResult:
    """Every acknowledged write is in the final chain, exactly once (``subnet.checks.durability``)."""
    missing = _no_history(sim, "durability")
    if missing is not None:
        return missing
    assert sim.history is not None
    final = executions(sim)
    counts = {int(index): count for index, count in final["executions"].items()}
    verdict = check_durability(sim.history.events, counts)
    evidence = verdict.to_json()
    del evidence["verdict"], evidence["summary"]
    evidence.update({"final_replica": final["replica"], "final_height": final["height"]})
    return CheckResult("durability", verdict.result, verdict.summary, evidence)


def failing_piece(verdict: Verdict) -> list[str]:
    """The smallest piece of history that shows a linearizability violation, as lines:
    the last operations the search could place, the state they leave, and the operations
    none of which can take effect next (each with the reason)."""
    lines = [f"... after {len(verdict.linearized)} operation(s) on key {verdict.key!r}, ending with:"]
    lines += [f"  {op.describe()}" for op in verdict.linearized[-SHOWN_LINEARIZED:]]
    lines.append(f"the state is {verdict.state!r}; none of these can take effect next:")
    lines += [f"  {op.describe()}: {verdict.why.get(op.index, '')}" for op in verdict.unplaced]
    return lines


def linearizable(sim: RunView, max_steps: int) -> CheckResult:
    """The clients' history is linearizable (``subnet.checks.linearizable``, within a
    deterministic step budget: past it, unknown)."""
    missing = _no_history(sim, "linearizable")
    if missing is not None:
        return missing
    assert sim.history is not None
    ops = operations(sim.history.events, "history.jsonl")
    verdict = check_linearizable(ops, sim.history.model, Budget(max_steps=max_steps, timeout=None))
    evidence = verdict.to_json()
    evidence.pop("verdict")
    if verdict.result == "valid":
        return CheckResult(
            "linearizable",
            VALID,
            f"{len(ops)} operations on {verdict.keys} key(s) linearizable ({verdict.model}, {verdict.steps} steps)",
            evidence,
        )
    if verdict.result == "unknown":
        return CheckResult("linearizable", UNKNOWN, str(verdict.reason), evidence)
    evidence["linearized"] = evidence["linearized"][-SHOWN_LINEARIZED:]
    evidence["linearized_count"] = len(verdict.linearized)
    evidence["piece"] = failing_piece(verdict)
    return CheckResult(
        "linearizable", INVALID, f"not linearizable on key {verdict.key!r}: {verdict.reason}", evidence
    )


def upgrades(sim: Simulation) -> CheckResult:
    """Upgrades of the clients' canister under load had the same outcome on every honest
    replica: each live one runs the module of the last upgrade that replied (or the
    installed one, when every upgrade failed: a failed upgrade leaves no trace)."""
    clients = sim.clients
    if clients is None or clients.canister is None:
        return upgrade_outcomes(None, [], {})
    good = set(honest(sim))
    hashes: dict[str, str | None] = {}
    for node, replica in enumerate(sim.replicas):
        if replica is None or node not in good or not isinstance(replica.state, SubnetStateMachine):
            continue
        hashes[str(node)] = module_hash(replica.state, clients.canister)
    return upgrade_outcomes(clients.canister, clients.upgrades, hashes)


def module_hash(state: SubnetStateMachine, canister: Principal) -> str | None:
    """The hash of the module ``canister`` runs in ``state`` (hex), None if it runs none."""
    try:
        module = state.ic.env.state.canister(canister).module_hash
    except SubnetError:
        return None
    return module.hex() if module is not None else None


def upgrade_outcomes(
    canister: Principal | None, records: list[dict[str, Any]], hashes: dict[str, str | None]
) -> CheckResult:
    """The upgrade check on what it needs, whichever backend ran: the clients' canister,
    their upgrade records (``HistoryClients.upgrades``), and the module hash each honest
    replica ran at the end, by replica."""
    if canister is None:
        return CheckResult(
            "upgrade", UNKNOWN, "the clients' canister was never installed, so nothing was upgraded"
        )
    expected = hashlib.sha256(register_canister_wasm()).hexdigest()
    possible = {expected}
    unknown_outcome = []
    for record in records:
        outcome = record.get("outcome")
        if outcome == "replied":
            expected = record["module_hash"]
            possible = {expected}
        elif outcome is None or outcome == "timeout":
            unknown_outcome.append(record["module"])
            possible = possible | {record["module_hash"]}
    evidence: dict[str, Any] = {
        "upgrades": [{k: v for k, v in record.items() if k != "request_id"} for record in records],
        "module_hashes": hashes,
        "expected": sorted(possible),
    }
    wrong = {node: value for node, value in hashes.items() if value not in possible}
    if wrong or len(set(hashes.values())) > 1:
        return CheckResult(
            "upgrade",
            INVALID,
            "replicas run different modules after the upgrades: "
            + ", ".join(f"replica {node} {str(value)[:16]}" for node, value in sorted(hashes.items())),
            evidence,
        )
    if unknown_outcome:
        return CheckResult(
            "upgrade",
            UNKNOWN,
            f"the outcome of upgrading to {', '.join(unknown_outcome)} is unknown",
            evidence,
        )
    outcomes = ", ".join(f"{record['module']}: {record.get('outcome')}" for record in records)
    return CheckResult(
        "upgrade",
        VALID,
        f"{outcomes}; every live honest replica runs module {expected[:16]}",
        evidence,
    )


def run_checks(sim: RunView, scenario: Scenario) -> list[CheckResult]:
    checks = scenario.checks
    results: list[CheckResult] = []
    if checks.agreement:
        results.append(agreement(sim))
    if checks.convergence:
        results.append(convergence(sim))
    if checks.liveness_ns is not None:
        results.append(liveness(sim, scenario, checks.liveness_ns))
    if checks.durability:
        results.append(durability(sim))
    if checks.linearizable:
        results.append(linearizable(sim, checks.linearizable_steps))
    canister_upgrades = [
        fault for fault in scenario.faults if fault.kind == "upgrade" and fault.module in UPGRADE_MODULES
    ]
    if isinstance(sim, Simulation) and canister_upgrades:
        results.append(upgrades(sim))
    return results


def verdict_of(results: list[CheckResult]) -> str:
    """Invalid if any check is; else unknown if any is; else valid (also with no checks)."""
    verdicts = {result.verdict for result in results}
    if INVALID in verdicts:
        return INVALID
    if UNKNOWN in verdicts:
        return UNKNOWN
    return VALID
