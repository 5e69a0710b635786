"""`make demo` end to end, as a fresh user would run it: a subprocess in an empty directory."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from client.motoko import NodeNotFound, compile_motoko
from client.network import LOCAL_DIR
from subnet.processes import launcher
from subnet.samples import source

pytestmark = pytest.mark.slow  # replica processes: the slow tier (tests/README.md)


def test_demo_runs_the_walkthrough_to_the_end(tmp_path: Path) -> None:
    try:
        for name in ("counter_v1", "counter_v2"):
            compile_motoko(source(name))  # warms the shared cache; skips without Node.js
    except NodeNotFound as exc:
        pytest.skip(str(exc))
    result = subprocess.run(
        [sys.executable, "-m", "subnet.demo"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )
    out = result.stdout
    assert result.returncode == 0, out[-3000:] + result.stderr
    assert "Installed code for canister counter_backend" in out
    assert "Upgraded code for canister counter_backend" in out
    summary = out[out.index("== Summary ==") :]
    assert re.search(r"count after 3 increments\s+\(3 : nat\)", summary)
    assert re.search(r"count after upgrade \+ add\(10\)\s+\(13 : nat\), 3 replicas agreeing", summary)
    assert re.search(r"Sui counter after 2 increments\s+2 \(version 4, 4 replicas agreeing\)", summary)
    assert re.search(r"count with replica 0 dead\s+\(14 : nat\)", summary)
    # 14 + 20 timed increments: every replica, including the restarted one, agrees on 34.
    assert re.search(r"final count, all 4 replicas agreeing\s+\(34 : nat\)", summary)
    assert "Stopped replicas 0, 1, 2, 3." in out
    assert launcher.running(tmp_path / ".subnet/demo/counter" / LOCAL_DIR) == []
