"""Pinned npm packages as oracles for differential tests (``@dfinity/candid``,
``@mysten/sui``, ``@mysten/bcs``): installed once into ``.cache/<name>``, driven by one
Node.js script per test module that reads a batch of cases as JSON on stdin and answers
with JSON on stdout (starting Node is slow; a batch is not).

Tests that use them skip only where Node.js itself is missing (:func:`requires_node`).
"""

from __future__ import annotations

import fcntl
import json
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

CACHE_ROOT = Path(__file__).resolve().parents[1] / ".cache"
NODE = shutil.which("node")
NPM = shutil.which("npm")


def requires_node(oracle: str) -> pytest.MarkDecorator:
    """Skip a module's tests, saying why, where Node.js is not installed."""
    return pytest.mark.skipif(
        NODE is None, reason=f"Node.js is not installed (no `node` on PATH), so {oracle} cannot run"
    )


def _installed(directory: Path, packages: Mapping[str, str]) -> bool:
    for name, version in packages.items():
        manifest = directory / "node_modules" / name / "package.json"
        try:
            if json.loads(manifest.read_text())["version"] != version:
                return False
        except (OSError, ValueError, KeyError):
            return False
    return True


def install(cache_name: str, packages: Mapping[str, str], scripts: Mapping[str, str]) -> Path:
    """The directory ``.cache/<cache_name>`` holding ``packages`` (name -> exact version)
    and the driver ``scripts`` (file name -> text), installing what is missing."""
    directory = CACHE_ROOT / cache_name
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # xdist workers install once, not twice
        if not _installed(directory, packages):
            wanted = [f"{name}@{version}" for name, version in packages.items()]
            assert NPM is not None, f"Node.js is present but npm is not; cannot install {wanted}"
            result = subprocess.run(
                [NPM, "install", "--prefix", str(directory), "--no-audit", "--no-fund", "--no-save", *wanted],
                capture_output=True,
                text=True,
                timeout=600,
            )
            assert result.returncode == 0 and _installed(directory, packages), (
                f"npm install of {wanted} failed:\n{result.stderr}"
            )
        for name, text in scripts.items():
            path = directory / name
            if not path.exists() or path.read_text() != text:
                path.write_text(text)
    return directory


def run_node(directory: Path, script: str, payload: Any, timeout: float = 120) -> Any:
    """Run ``script`` (in ``directory``) on ``payload`` as JSON; its JSON answer."""
    assert NODE is not None
    result = subprocess.run(
        [NODE, str(directory / script)],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        cwd=directory,
        timeout=timeout,
    )
    assert result.returncode == 0, f"{script} failed:\n{result.stderr[-4000:]}"
    return json.loads(result.stdout)
