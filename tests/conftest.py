"""Fixtures shared by the test modules, and the suite's two tiers.

``make test`` runs the fast tier (``-m "not slow"``) and then the slow tier (``-m slow``);
both must pass (tests/README.md says what goes where and where the time goes). A test is
in the slow tier when it is marked ``slow`` or ``processes``, or uses ``local_subnet``
(four replica processes): those are marked automatically, so a new end-to-end test cannot
land in the fast tier by forgetting the mark. A fast-tier test that takes longer than
``SLOW_SECONDS`` is named at the end of the run as one to mark.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from client.network import LOCAL_DIR
from subnet.processes import launcher
from tests.processes import REPO, subnet_cli

SLOW_SECONDS = 10.0
"""A test over this (its setup, call and teardown together) belongs in the slow tier."""

SLOW_FIXTURES = frozenset({"local_subnet"})
"""Fixtures that start replica processes: a test using one is in the slow tier."""

PYCACHE = REPO / ".cache" / "pycache"

# Hypothesis' timing checks (a deadline per example, "input generation is slow") judge the
# machine, not the code: on two cores shared with replica processes and other work they
# failed tests whose every assertion held. Examples, their number and assertions are unchanged.
settings.register_profile("suite", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("suite")


def _cache_bytecode() -> None:
    """Let the processes the suite starts (the ``subnet`` command, replicas, xdist workers)
    keep compiled bytecode, in ``.cache/pycache`` (ignored by git, outside the tree): with
    ``PYTHONDONTWRITEBYTECODE`` set, each of the hundreds of ``subnet`` and replica
    processes would compile every project module from source again (about a second of CPU
    each). Python checks each cached file against its source's size and mtime, so an
    edited module is compiled again."""
    if os.environ.pop("PYTHONDONTWRITEBYTECODE", None) is not None:
        os.environ.setdefault("PYTHONPYCACHEPREFIX", str(PYCACHE))


def pytest_configure(config: pytest.Config) -> None:
    # runs in the controller before xdist starts its workers, so they inherit it too
    _cache_bytecode()
    config.pluginmanager.register(SlowWatch(), "slow-watch")


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects: the marks added here count
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if fixtures & SLOW_FIXTURES or item.get_closest_marker("processes") is not None:
            item.add_marker(pytest.mark.slow)


class SlowWatch:
    """Names the fast-tier tests that took longer than ``SLOW_SECONDS`` (under xdist the
    controller receives every worker's reports, so it sees them all)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if "slow" not in report.keywords:
            self.seconds[report.nodeid] = self.seconds.get(report.nodeid, 0.0) + report.duration

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        over = sorted(((s, nodeid) for nodeid, s in self.seconds.items() if s > SLOW_SECONDS), reverse=True)
        if over:
            terminalreporter.section(
                f"fast-tier tests over {SLOW_SECONDS:.0f} s: mark them slow or make them faster"
            )
            for seconds, nodeid in over:
                terminalreporter.write_line(f"{seconds:6.1f}s {nodeid}")


@pytest.fixture
def local_subnet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("SUBNET_CONFIG_DIR", str(tmp_path / "config"))
    port = launcher.free_port_range(4)
    subnet_cli(
        tmp_path, "start", "--background", "--replicas", "4", "--port", str(port), "--block-time", "50"
    )
    try:
        yield tmp_path
    finally:
        subnet_cli(tmp_path, "stop", check=False)
        assert launcher.running(tmp_path / LOCAL_DIR) == []
