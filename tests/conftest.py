"""Fixtures shared by the test modules."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from client.network import LOCAL_DIR
from subnet.processes import launcher
from tests.processes import subnet_cli


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
