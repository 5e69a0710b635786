"""The results folder of a scenario run: ``<root>/<name>/<UTC time>-seed<S>/`` holding

- ``scenario.toml``: the resolved scenario (every default written out, the seed used);
- ``summary.json``: the verdict, each check with its evidence, counts, the trace hash
  and the config hash (SHA-256 of ``scenario.toml``);
- ``trace.jsonl``: the simulator's trace, one JSON line per event, whose running
  SHA-256 is the trace hash;
- ``timeline.png`` and ``latency-cdf.png`` (``subnet.scenario.plots``) when matplotlib is
  installed; ``summary.json``'s ``plots`` names them or says why there are none;
- with the versioned-counter workload, ``mixed-callers.png`` (``subnet.scenario.mixed_callers``)
  and ``summary.json``'s ``mixed_callers``: the callers of each version, per phase;
- with a register or counter workload, ``history.jsonl``: what the clients saw
  (``subnet.checks.history``), and ``executions.json``: the model, and how many times the
  final chain executed each operation, by its invocation's index, which is what
  ``subnet check linearizable|durability RESULT_DIR`` check again from the folder alone.

The UTC time only names the folder (the caller passes it in); nothing in a run reads a
clock, so two runs of one scenario and seed give the same files.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from subnet.checks.history import write_jsonl
from subnet.scenario.checks import executions
from subnet.scenario.mixed_callers import write_mixed_plot
from subnet.scenario.plots import plot_data, write_plots
from subnet.scenario.processes import ProcessOutcome, process_files
from subnet.scenario.run import Outcome
from subnet.scenario.spec import Scenario, format_duration
from subnet.sim.path_latency import latency_report
from subnet.sim.runner import SECOND

__all__ = [
    "config_hash",
    "folder_name",
    "latency",
    "process_summary",
    "scenario_toml",
    "summary",
    "write_process_results",
    "write_results",
]


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    return "[" + ", ".join(_value(item) for item in value) + "]"


def scenario_toml(scenario: Scenario) -> str:
    """The scenario as TOML with every default written out (``parse_scenario`` reads it
    back to the same scenario)."""
    lines = [
        f"name = {_value(scenario.name)}",
        f"description = {_value(scenario.description)}",
        f"seed = {scenario.seed}",
        f"duration = {_value(format_duration(scenario.duration_ns))}",
        f"backend = {_value(scenario.backend)}",
        "",
        "[subnet]",
        f"replicas = {scenario.subnet.replicas}",
        f"block_time = {_value(format_duration(scenario.subnet.block_time_ns))}",
        f"bugs = {_value(list(scenario.subnet.bugs))}",
        *(
            []
            if scenario.subnet.epoch_ns is None
            else [f"epoch = {_value(format_duration(scenario.subnet.epoch_ns))}"]
        ),
        "",
        "[network]",
        f"latency = {_value(scenario.network.latency)}",
        f"loss = {_value(scenario.network.loss)}",
        f"duplication = {_value(scenario.network.duplication)}",
    ]
    for workload in scenario.workloads:
        lines += ["", "[[workload]]", f"kind = {_value(workload.kind)}"]
        if workload.rate is not None:
            lines.append(f"rate = {_value(workload.rate)}")
        if workload.records_history:
            lines += [
                f"clients = {workload.clients}",
                f"keys = {workload.keys}",
                f"retry = {_value(format_duration(workload.retry_ns))}",
                f"timeout = {_value(format_duration(workload.timeout_ns))}",
            ]
            if workload.equivocators:
                lines.append(f"equivocators = {workload.equivocators}")
    for fault in scenario.faults:
        lines += [
            "",
            "[[fault]]",
            f"at = {_value(format_duration(fault.at_ns))}",
            f"kind = {_value(fault.kind)}",
        ]
        if fault.duration_ns is not None:
            lines.append(f"duration = {_value(format_duration(fault.duration_ns))}")
        if fault.shape is not None:
            lines.append(f"shape = {_value(fault.shape)}")
        if fault.groups:
            lines.append(f"groups = {_value([list(group) for group in fault.groups])}")
        if fault.target is not None:
            lines.append(f"target = {_value(fault.target)}")
        if fault.behaviour is not None:
            lines.append(f"behaviour = {_value(fault.behaviour)}")
        if fault.delay_ns is not None:
            lines.append(f"delay = {_value(format_duration(fault.delay_ns))}")
        if fault.probability is not None:
            lines.append(f"probability = {_value(fault.probability)}")
        if fault.offset_ns is not None:
            sign = "-" if fault.offset_ns < 0 else ""
            lines.append(f"offset = {_value(sign + format_duration(abs(fault.offset_ns)))}")
        if fault.module is not None:
            lines.append(f"module = {_value(fault.module)}")
        if fault.kind == "random":
            lines += [
                f"count = {fault.count}",
                f"kinds = {_value(list(fault.kinds))}",
                f"shortest = {_value(format_duration(fault.shortest_ns or 0))}",
                f"longest = {_value(format_duration(fault.longest_ns or 0))}",
            ]
            if fault.max_faulty is not None:
                lines.append(f"max_faulty = {fault.max_faulty}")
    lines += [
        "",
        "[checks]",
        f"agreement = {_value(scenario.checks.agreement)}",
        f"convergence = {_value(scenario.checks.convergence)}",
    ]
    if scenario.checks.liveness_ns is not None:
        lines.append(f"liveness = {_value(format_duration(scenario.checks.liveness_ns))}")
    if any(workload.records_history for workload in scenario.workloads):
        lines += [
            f"durability = {_value(scenario.checks.durability)}",
            f"linearizable = {_value(scenario.checks.linearizable)}",
            f"linearizable_steps = {scenario.checks.linearizable_steps}",
        ]
    return "\n".join(lines) + "\n"


def config_hash(scenario: Scenario) -> str:
    return hashlib.sha256(scenario_toml(scenario).encode()).hexdigest()


def summary(outcome: Outcome) -> dict[str, Any]:
    result = outcome.result
    sim = outcome.simulation
    return {
        "name": outcome.scenario.name,
        "seed": outcome.scenario.seed,
        "backend": outcome.scenario.backend,
        "verdict": outcome.verdict,
        "checks": {check.name: check.to_json() for check in outcome.checks},
        "faults": outcome.schedule.resolved,
        "byzantine": sorted(sim.byzantine),
        "counts": {
            "replicas": result.replicas,
            "duration_s": result.duration_ns / SECOND,
            "finalized_height": result.finalized_height,
            "finalized_heights": result.finalized_heights,
            "operations_executed": result.operations_executed,
            "trace_events": result.trace_events,
            "events_processed": result.events_processed,
            "workload": result.workload,
            "clients": dict(sorted(sim.clients.stats.items())) if sim.clients is not None else {},
            "history_events": len(sim.clients.recorder.events) if sim.clients is not None else 0,
        },
        "latency": latency(outcome),
        "trace_hash": result.trace_hash,
        "config_hash": config_hash(outcome.scenario),
        **outcome.reports,
    }


def latency(outcome: Outcome) -> dict[str, Any]:
    """Each path's latency in the clients' history, in ms and in message delays of the
    run's latency model (``subnet.sim.path_latency``); empty without clients."""
    sim = outcome.simulation
    if sim.clients is None:
        return {}
    mean = sim.config.latency.mean_delay_ns(sim.n)
    return latency_report(sim.clients.events, sim.clients.config.kind, mean)


def process_summary(outcome: ProcessOutcome) -> dict[str, Any]:
    """The summary of a run on replica processes: as ``summary``, without a trace hash
    (real time does not repeat), with what the nemesis did."""
    record = outcome.record
    heights = [len(chain) for chain in record.chains]
    clients = record.history
    return {
        "name": outcome.scenario.name,
        "seed": outcome.scenario.seed,
        "backend": "processes",
        "verdict": outcome.verdict,
        "checks": {check.name: check.to_json() for check in outcome.checks},
        "faults": outcome.schedule.resolved,
        "nemesis": outcome.nemesis,
        "byzantine": [],
        "counts": {
            "replicas": record.n,
            "duration_s": record.end_ns / SECOND,
            "finalized_height": max(heights, default=0),
            "finalized_heights": heights,
            "clients": dict(sorted(clients.stats.items())) if clients is not None else {},
            "history_events": len(clients.events) if clients is not None else 0,
        },
        "trace_hash": None,
        "config_hash": config_hash(outcome.scenario),
    }


def _new_folder(root: Path, scenario: Scenario, utc_stamp: str) -> Path:
    base = root / folder_name(scenario, utc_stamp)
    folder, suffix = base, 1
    while folder.exists():
        suffix += 1
        folder = base.with_name(f"{base.name}-{suffix}")
    folder.mkdir(parents=True)
    return folder


def write_process_results(root: Path, outcome: ProcessOutcome, utc_stamp: str) -> Path:
    """The results folder of a run on processes: ``scenario.toml``, ``summary.json``, the
    history files, ``nemesis.jsonl``, ``heights.jsonl`` and ``logs/replica-<i>.log``."""
    folder = _new_folder(root, outcome.scenario, utc_stamp)
    record = outcome.record
    events = record.history.events if record.history is not None else []
    plots = write_plots(
        folder, plot_data(outcome.scenario, events, record.persisted, 0), outcome.scenario.name
    )
    (folder / "scenario.toml").write_text(scenario_toml(outcome.scenario))
    data = process_summary(outcome)
    data["plots"] = plots
    (folder / "summary.json").write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    if outcome.record.history is not None:
        write_jsonl(folder / "history.jsonl", outcome.record.history.events)
        final = executions(outcome.record)
        (folder / "executions.json").write_text(json.dumps(final, indent=1) + "\n")
    for name, text in process_files(outcome).items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder


def folder_name(scenario: Scenario, utc_stamp: str) -> str:
    """``<name>/<UTC time>-seed<S>``, the name made safe for a path."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", scenario.name).strip("-.") or "scenario"
    return f"{safe}/{utc_stamp}-seed{scenario.seed}"


def write_results(root: Path, outcome: Outcome, utc_stamp: str) -> Path:
    """Write the three files into a new folder under ``root``; the folder's path."""
    folder = _new_folder(root, outcome.scenario, utc_stamp)
    sim = outcome.simulation
    events = sim.clients.events if sim.clients is not None else []
    plots = write_plots(
        folder, plot_data(outcome.scenario, events, sim.persisted, sim.start_ns), outcome.scenario.name
    )
    (folder / "scenario.toml").write_text(scenario_toml(outcome.scenario))
    data = summary(outcome)
    if "mixed_callers" in outcome.reports and isinstance(plots, list):
        drawn = write_mixed_plot(
            folder,
            outcome.reports["mixed_callers"],
            outcome.scenario.name,
            outcome.scenario.duration_ns / SECOND,
        )
        if drawn is not None:
            plots.append(drawn)
    data["plots"] = plots
    (folder / "summary.json").write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    lines = outcome.simulation.trace.lines
    (folder / "trace.jsonl").write_text("".join(line + "\n" for line in lines))
    clients = outcome.simulation.clients
    if clients is not None:
        write_jsonl(folder / "history.jsonl", clients.recorder.events)
        final = executions(outcome.simulation)
        (folder / "executions.json").write_text(json.dumps(final, indent=1) + "\n")
    return folder
