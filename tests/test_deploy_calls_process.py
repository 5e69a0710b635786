"""A two-canister Motoko project on four replica processes, deployed as a dfx user would:
the caller imports the callee with ``import Callee "canister:callee"`` and lists it in its
``dependencies``; ``subnet deploy`` creates both, builds the callee first and tells the
compiler its id and Candid, installs both; calling the caller awaits the callee across
the subnet, also while one replica is killed (kill -9), and the replica comes back to the
same state as the others.

Real processes in real time: waits are on conditions with a bound, never fixed sleeps.
"""

from __future__ import annotations

import json
import signal
from functools import partial
from pathlib import Path

import pytest
import trio

from client.motoko import NodeNotFound, compile_motoko
from client.network import LOCAL_DIR
from subnet.processes import launcher
from subnet.processes.status import wait_for_heights
from tests.processes import restored_state_hashes, subnet_cli
from vocab.genesis import Genesis

pytestmark = pytest.mark.slow  # replica processes: the slow tier (tests/README.md)

CALLEE = """persistent actor {
  public func double(n : Nat) : async Nat { n * 2 };
  public func boom() : async Nat { assert false; 0 };
};
"""

CALLER = """import Callee "canister:callee";
import Error "mo:core/Error";
persistent actor {
  public func quadruple(n : Nat) : async Nat { await Callee.double(await Callee.double(n)) };
  public func tryBoom() : async Text {
    try { ignore await Callee.boom(); "no error" } catch (e) { debug_show (Error.code(e)) }
  };
};
"""

PROJECT = {
    "canisters": {
        "callee": {"type": "motoko", "main": "src/callee/main.mo"},
        "caller": {"type": "motoko", "main": "src/caller/main.mo", "dependencies": ["callee"]},
    }
}


def write_project(root: Path) -> Path:
    project = root / "calls"
    for name, text in (("callee", CALLEE), ("caller", CALLER)):
        (project / "src" / name).mkdir(parents=True)
        (project / "src" / name / "main.mo").write_text(text)
    (project / "subnet.json").write_text(json.dumps(PROJECT))
    return project


def test_deploy_a_caller_and_its_callee_and_call_across(local_subnet: Path) -> None:
    try:
        compile_motoko(CALLEE)  # warms the shared cache; skips without Node.js
    except NodeNotFound as exc:
        pytest.skip(str(exc))
    project = write_project(local_subnet)
    (project / ".subnet").symlink_to(local_subnet / ".subnet")  # the project uses the running subnet
    deployed = subnet_cli(project, "deploy", "caller")  # the callee comes along as a dependency
    lines = deployed.stdout.splitlines()
    deployed_lines = [line for line in lines if line.startswith("Deployed canister")]
    assert [line.split()[2].rstrip(":") for line in deployed_lines] == ["callee", "caller"]
    ids = json.loads((project / "canister_ids.json").read_text())
    assert set(ids) == {"callee", "caller"}
    assert (
        subnet_cli(project, "canister", "call", "caller", "quadruple", "(5)").stdout.strip() == "(20 : nat)"
    )
    assert (
        subnet_cli(project, "canister", "call", "caller", "tryBoom").stdout.strip() == '("#canister_error")'
    )

    # kill -9 of one replica: calls across go on with the other three; it comes back,
    # catches up, and every replica rebuilds the same state from its own disk
    root = local_subnet / LOCAL_DIR
    launcher.kill_replica(root, 3, signal.SIGKILL)
    for value in (6, 7):
        assert subnet_cli(
            project, "canister", "call", "caller", "quadruple", f"({value})"
        ).stdout.strip() == (f"({4 * value} : nat)")
    subnet_cli(local_subnet, "start", "--background")
    genesis = Genesis.from_json((root / "genesis.json").read_text())
    trio.run(partial(wait_for_heights, genesis, within=0, timeout=90))
    assert (
        subnet_cli(project, "canister", "call", "caller", "quadruple", "(8)").stdout.strip() == "(32 : nat)"
    )
    subnet_cli(local_subnet, "stop")
    assert len(restored_state_hashes(root)) == 1
