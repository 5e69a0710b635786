"""Fault-injection scenarios (DESIGN.md 7): a TOML file names a subnet, a network, a
workload, a schedule of faults and the checks; ``run_scenario`` runs it on the simulator
and checks agreement, convergence and liveness; ``write_results`` keeps the resolved
scenario, a summary and the trace in a results folder; ``replay`` reruns a stored run
and confirms its trace hash. Shipped scenarios live in ``subnet/scenarios/``.
"""

from subnet.scenario.checks import CheckResult, run_checks, verdict_of
from subnet.scenario.library import Shipped, find_shipped, shipped
from subnet.scenario.replay import Replay, replay
from subnet.scenario.results import config_hash, scenario_toml, summary, write_results
from subnet.scenario.run import NotBuiltError, Outcome, run_scenario, with_seed
from subnet.scenario.spec import FaultSpec, Scenario, ScenarioError, parse_scenario

__all__ = [
    "CheckResult",
    "FaultSpec",
    "NotBuiltError",
    "Outcome",
    "Replay",
    "Scenario",
    "ScenarioError",
    "Shipped",
    "config_hash",
    "find_shipped",
    "parse_scenario",
    "replay",
    "run_checks",
    "run_scenario",
    "scenario_toml",
    "shipped",
    "summary",
    "verdict_of",
    "with_seed",
    "write_results",
]
