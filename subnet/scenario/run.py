"""Running a scenario on the simulator, and replaying a stored run.

``run_scenario`` turns the scenario into a ``SimConfig`` (its faults through
``subnet.scenario.schedule``), runs it in virtual time with the trace kept, and checks
the outcome (``subnet.scenario.checks``). Nothing here reads a clock: a scenario and its
seed determine the trace, the trace hash and the summary.

The process backend is not built yet for scenarios: asking for it raises
``NotBuiltError`` rather than running something else.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from subnet.scenario.checks import CheckResult, run_checks, verdict_of
from subnet.scenario.mixed_callers import mixed_callers_report, version_phases_check
from subnet.scenario.schedule import Schedule, compile_faults
from subnet.scenario.spec import Scenario, ScenarioError
from subnet.sim.clients import ClientsConfig
from subnet.sim.latency import parse_latency
from subnet.sim.runner import SimConfig, SimResult, Simulation
from subnet.sim.workload import WorkloadConfig

__all__ = ["NotBuiltError", "Outcome", "run_scenario", "sim_config", "with_seed"]


class NotBuiltError(ScenarioError):
    """The scenario asks for something that does not exist yet (the process backend)."""


@dataclass
class Outcome:
    scenario: Scenario
    schedule: Schedule
    simulation: Simulation
    result: SimResult
    checks: list[CheckResult]
    verdict: str
    reports: dict[str, Any] = field(default_factory=dict)
    """Workload-specific reports for ``summary.json`` (``mixed_callers``: the versioned
    counter's callers per version and phase)."""


def with_seed(scenario: Scenario, seed: int | None) -> Scenario:
    return scenario if seed is None else dataclasses.replace(scenario, seed=seed)


def sim_config(scenario: Scenario, schedule: Schedule) -> SimConfig:
    if scenario.backend != "sim":
        raise NotBuiltError(
            f'backend = "{scenario.backend}": scenarios on the process backend are not built yet; '
            'use backend = "sim"'
        )
    workload = None
    lifecycle = [item.rate for item in scenario.workloads if item.kind == "lifecycle" and item.rate]
    if lifecycle:
        workload = WorkloadConfig(rate_per_s=sum(lifecycle))
    clients = None
    for item in scenario.workloads:
        if item.records_history:
            clients = ClientsConfig(
                item.kind,
                clients=item.clients,
                rate_per_s=item.rate,
                keys=item.keys,
                retry_ns=item.retry_ns,
                timeout_ns=item.timeout_ns,
                equivocators=item.equivocators,
            )
    return SimConfig(
        replicas=scenario.subnet.replicas,
        seed=scenario.seed,
        duration_ns=scenario.duration_ns,
        latency=parse_latency(scenario.network.latency),
        loss=scenario.network.loss,
        duplication=scenario.network.duplication,
        workload=workload,
        faults=tuple(schedule.faults),
        genesis_params={
            "block_interval_ns": scenario.subnet.block_time_ns,
            **(
                {}
                if scenario.subnet.epoch_ns is None
                else {"sui_epoch_duration_ns": scenario.subnet.epoch_ns}
            ),
        },
        keep_trace=True,
        bugs=scenario.subnet.bugs,
        clients=clients,
    )


def run_scenario(scenario: Scenario) -> Outcome:
    schedule = compile_faults(scenario)
    simulation = Simulation(sim_config(scenario, schedule))
    result = simulation.run()
    checks = run_checks(simulation, scenario)
    reports: dict[str, Any] = {}
    mixed = mixed_callers_report(simulation)
    if mixed is not None:
        reports["mixed_callers"] = mixed
        checks.append(version_phases_check(simulation, mixed))
    return Outcome(scenario, schedule, simulation, result, checks, verdict_of(checks), reports)
