"""Canisters on the process backend: build, install and call a Motoko counter on four
replica processes, kill -9 one of them, keep calling, restart it, and check that every
replica rebuilds the same state (replaying its blocks through Wasm execution).

Real processes in real time: waits are on conditions with a bound, never fixed sleeps.
"""

from __future__ import annotations

import hashlib
import json
import re
import signal
from functools import partial
from pathlib import Path

import pytest
import trio

from client.agent import Agent
from client.identity import IdentityStore
from client.metadata import fetch_metadata
from client.motoko import NodeNotFound, compile_motoko
from client.network import LOCAL_DIR, endpoints
from subnet.processes import launcher
from subnet.processes.status import wait_for_heights
from tests.processes import motoko_project, restored_state_hashes, subnet_cli
from tests.test_canister_consensus import COUNTER_V1
from tests.test_management_consensus import LOGGER_V1
from vocab.genesis import Genesis
from vocab.principal import Principal

pytestmark = pytest.mark.slow  # replica processes: the slow tier (tests/README.md)


def test_install_and_call_a_counter_through_a_replica_crash(local_subnet: Path) -> None:
    try:
        compile_motoko(COUNTER_V1)  # warms the cache; skips without Node.js
    except NodeNotFound as exc:
        pytest.skip(str(exc))
    project = local_subnet
    (project / "src").mkdir()
    (project / "src" / "main.mo").write_text(COUNTER_V1)
    (project / "subnet.json").write_text(
        json.dumps({"version": 1, "canisters": {"counter": {"type": "motoko", "main": "src/main.mo"}}})
    )
    subnet_cli(project, "build", "counter")
    assert (project / ".subnet/local/canisters/counter/counter.did").read_text().count("greet") == 1
    subnet_cli(project, "canister", "create", "counter")
    assert "Installed" in subnet_cli(project, "canister", "install", "counter").stdout
    assert subnet_cli(project, "canister", "call", "counter", "inc").stdout.strip() == "(1 : nat)"
    assert (
        subnet_cli(project, "canister", "call", "counter", "greet", '("Sam")').stdout.strip()
        == '("Hello, Sam!")'
    )

    root = project / LOCAL_DIR
    launcher.kill_replica(root, 0, signal.SIGKILL)
    assert subnet_cli(project, "canister", "call", "counter", "inc").stdout.strip() == "(2 : nat)"
    assert (
        subnet_cli(project, "canister", "call", "counter", "get", "--replicas-agree", "2").stdout.strip()
        == "(2 : nat)"
    )
    # the same module again is skipped (as dfx does) unless asked for
    same = subnet_cli(project, "canister", "install", "counter", "--mode", "upgrade").stdout
    assert same.startswith("Module hash ") and same.rstrip().endswith(" is already installed.")
    upgraded = subnet_cli(
        project, "canister", "install", "counter", "--mode", "upgrade", "--upgrade-unchanged"
    )
    assert "Upgraded" in upgraded.stdout
    # dfx's --output json (idl2json): a nat is a string
    assert subnet_cli(project, "canister", "call", "counter", "inc", "--output", "json").stdout == '"3"\n'
    subnet_cli(project, "start", "--background")  # restarts replica 0 only
    genesis = Genesis.from_json((root / "genesis.json").read_text())

    trio.run(partial(wait_for_heights, genesis, within=2))
    subnet_cli(project, "stop")
    assert len(restored_state_hashes(root)) == 1


def test_info_logs_snapshots_and_metadata_from_the_command_line(local_subnet: Path) -> None:
    try:
        logger = compile_motoko(LOGGER_V1)
    except NodeNotFound as exc:
        pytest.skip(str(exc))
    project = motoko_project(local_subnet, "logger", LOGGER_V1)
    for expected in ("(1 : nat)", "(2 : nat)"):
        assert subnet_cli(project, "canister", "call", "logger", "inc").stdout.strip() == expected
    me = IdentityStore().current().principal.to_text()

    info = subnet_cli(project, "canister", "info", "logger").stdout.splitlines()
    assert info[:2] == [f"Controllers: {me}", f"Module hash: 0x{hashlib.sha256(logger.wasm).hexdigest()}"]
    assert info[2] == "History (2 changes):"
    assert info[3].startswith("  version 0, ") and info[3].endswith(
        f"by user {me}: created with controllers {me}"
    )
    assert info[4].endswith(
        f"code deployed (install), module hash 0x{hashlib.sha256(logger.wasm).hexdigest()}"
    )
    as_json = json.loads(subnet_cli(project, "canister", "info", "logger", "--output", "json").stdout)
    assert as_json["total_num_changes"] == 2 and [
        c["details"]["kind"] for c in as_json["recent_changes"]
    ] == ["creation", "code_deployment"]

    logs = subnet_cli(project, "canister", "logs", "logger").stdout.splitlines()
    assert [
        re.fullmatch(r"\[(\d+)\. \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z\]: (.*)", line).group(3)
        for line in logs
    ] == [  # type: ignore[union-attr]
        "count is 1",
        "count is 2",
    ]
    subnet_cli(project, "identity", "new", "stranger")
    refused = subnet_cli(project, "canister", "logs", "logger", "--identity", "stranger", check=False)
    assert refused.returncode == 1 and "IC0512" in refused.stderr

    running = subnet_cli(project, "canister", "snapshot", "create", "logger", check=False)
    assert running.returncode == 1 and "is running" in running.stderr and "canister stop" in running.stderr
    subnet_cli(project, "canister", "stop", "logger")
    created = subnet_cli(project, "canister", "snapshot", "create", "logger").stdout.strip()
    match = re.fullmatch(r"Created a new snapshot of canister logger\. Snapshot ID: ([0-9a-f]+)", created)
    assert match is not None
    snapshot_id = match.group(1)
    listed = subnet_cli(project, "canister", "snapshot", "list", "logger").stdout.strip()
    assert re.fullmatch(
        snapshot_id + r": \d+\.\d\d [KMG]iB, taken at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", listed
    ), listed
    bad = subnet_cli(project, "canister", "snapshot", "load", "logger", "not-hex", check=False)
    assert bad.returncode == 1 and "not a snapshot id" in bad.stderr

    genesis = Genesis.from_json((project / LOCAL_DIR / "genesis.json").read_text())
    agent = Agent(endpoints(genesis), genesis.committee, IdentityStore().current())
    canister = Principal.from_text(json.loads((project / "canister_ids.json").read_text())["logger"]["local"])

    async def read() -> tuple[bytes | None, bytes | None]:
        return await fetch_metadata(agent, canister, "candid:service"), await fetch_metadata(
            agent, canister, "no:such"
        )

    service, missing = trio.run(read)
    assert service is not None and service.decode() == logger.candid and missing is None
