"""Helpers for tests that run real replica processes: the `subnet` command as a user runs
it, and a project deployed on the running subnet. The ``local_subnet`` fixture that starts
four replicas (and always stops them) is in ``conftest.py``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def subnet_cli(cwd: Path, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-m", "subnet", *argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    if check and result.returncode != 0:
        raise AssertionError(f"subnet {' '.join(argv)} failed: {result.stdout}\n{result.stderr}")
    return result


def motoko_project(directory: Path, name: str, source: str) -> Path:
    """A project with one Motoko canister ``name``, deployed on the running subnet."""
    (directory / "src").mkdir()
    (directory / "src" / "main.mo").write_text(source)
    canisters = {name: {"type": "motoko", "main": "src/main.mo"}}
    (directory / "subnet.json").write_text(json.dumps({"version": 1, "canisters": canisters}))
    subnet_cli(directory, "deploy", name)
    return directory
