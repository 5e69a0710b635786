"""`subnet deploy` on four replica processes, the way a dfx user works: scaffold, deploy,
call, upgrade keeping state, a breaking change refused (and forced with --yes), reinstall
wiping state, stop, delete.

Real processes in real time: waits are on conditions with a bound, never fixed sleeps.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from client.motoko import NodeNotFound, compile_motoko
from subnet.samples import source
from tests.processes import subnet_cli

pytestmark = pytest.mark.slow  # replica processes: the slow tier (tests/README.md)

BREAKING = (
    source("counter_v2")
    .replace("public query func get() : async Nat", "public query func get() : async Text")
    .replace("    count\n  };\n};", "    debug_show count\n  };\n};")
)


TRAPPING = source("counter_v2").replace(
    "  public query func get()",
    "  system func postupgrade() { assert (count == 123456789) };\n\n  public query func get()",
)


def test_deploy_upgrade_refuse_a_breaking_change_reinstall_delete(local_subnet: Path) -> None:
    try:
        for text in (source("counter_v1"), source("counter_v2"), BREAKING, TRAPPING):
            compile_motoko(text)  # warms the shared cache; skips without Node.js
    except NodeNotFound as exc:
        pytest.skip(str(exc))
    assert "async Text" in BREAKING and "debug_show count" in BREAKING
    workdir = local_subnet
    subnet_cli(workdir, "new", "shop")
    project = workdir / "shop"
    # The scaffold's own canister answers greet, typed by its Candid.
    main_mo = project / "src" / "shop_backend" / "main.mo"
    (project / ".subnet").symlink_to(workdir / ".subnet")  # the project uses the running subnet
    first = subnet_cli(project, "deploy")
    assert "shop_backend canister created" in first.stdout and "Installed code" in first.stdout
    assert (
        subnet_cli(project, "canister", "call", "shop_backend", "greet", '("Sam")').stdout.strip()
        == '("Hello, Sam!")'
    )

    main_mo.write_text(source("counter_v1"))
    # greet goes away: refused when nothing answers, done on a "yes" piped in (echo yes | ...)
    declined = subnet_cli(project, "deploy", "shop_backend", check=False)
    assert declined.returncode == 1 and "Do you want to proceed? yes/No" in declined.stderr
    upgraded = subnet_cli(project, "deploy", "shop_backend", stdin="yes\n")
    assert "Upgraded code" in upgraded.stdout and 'method "greet" was removed' in upgraded.stderr
    for expected in ("(1 : nat)", "(2 : nat)"):
        assert subnet_cli(project, "canister", "call", "shop_backend", "increment").stdout.strip() == expected

    main_mo.write_text(source("counter_v2"))
    # rehearsed first, on a copy of a replica's state: it would succeed, and nothing changes
    subnet_cli(project, "build", "shop_backend")
    before = json.loads(subnet_cli(project, "canister", "status", "shop_backend", "--output", "json").stdout)
    rehearse = ("canister", "install", "shop_backend", "--mode", "upgrade", "--rehearse")
    rehearsed = subnet_cli(project, *rehearse)
    assert "Compatibility: OK" in rehearsed.stdout and "headroom" in rehearsed.stdout, rehearsed.stdout
    assert "Result: the upgrade would succeed." in rehearsed.stdout
    report = json.loads(subnet_cli(project, *rehearse, "--output", "json", "--replicas-agree", "4").stdout)
    assert report["would_succeed"] and report["upgrade"]["ok"] and report["upgrade"]["heap_before"] > 0
    assert report["upgrade"]["instructions_total"] > 0
    assert report["upgrade"]["ic_instruction_limit"] == report["upgrade"]["instruction_limit"]
    assert report["upgrade"]["module_hash_before"] == before["module_hash"].removeprefix("0x")
    after = json.loads(subnet_cli(project, "canister", "status", "shop_backend", "--output", "json").stdout)
    assert after["module_hash"] == before["module_hash"]
    assert subnet_cli(project, "canister", "call", "shop_backend", "increment").stdout.strip() == "(3 : nat)"
    # a post_upgrade that traps is predicted with its message
    main_mo.write_text(TRAPPING)
    subnet_cli(project, "build", "shop_backend")
    trapped = subnet_cli(project, *rehearse, check=False)
    assert trapped.returncode == 1 and "Trap in post_upgrade" in trapped.stdout, trapped.stdout
    assert "Error: the upgrade of shop_backend would fail: post_upgrade failed" in trapped.stderr

    main_mo.write_text(source("counter_v2"))
    compatible = subnet_cli(project, "deploy")
    assert "Upgraded code" in compatible.stdout and compatible.stderr == ""
    assert (
        subnet_cli(project, "canister", "call", "shop_backend", "add", "(10)").stdout.strip() == "(13 : nat)"
    )
    status = json.loads(subnet_cli(project, "canister", "status", "shop_backend", "--output", "json").stdout)

    main_mo.write_text(BREAKING)
    refused = subnet_cli(project, "deploy", check=False)
    assert refused.returncode == 1
    assert "Candid interface compatibility check failed for canister 'shop_backend'" in refused.stderr
    assert 'method "get"' in refused.stderr and "pass --yes" in refused.stderr
    after = json.loads(subnet_cli(project, "canister", "status", "shop_backend", "--output", "json").stdout)
    assert after["module_hash"] == status["module_hash"]  # nothing was installed
    assert subnet_cli(project, "canister", "call", "shop_backend", "get").stdout.strip() == "(13 : nat)"
    subnet_cli(project, "build", "shop_backend")
    breaking = subnet_cli(project, *rehearse, check=False)  # the rehearsal names the Candid problem
    assert breaking.returncode == 1 and "Compatibility: PROBLEMS" in breaking.stdout
    assert 'method "get"' in breaking.stdout and "unless --yes" in breaking.stderr

    main_mo.write_text(source("counter_v2"))
    subnet_cli(project, "build")
    for answer in ("", "no\n"):
        wipe = subnet_cli(
            project, "canister", "install", "shop_backend", "--mode", "reinstall", check=False, stdin=answer
        )
        assert wipe.returncode == 1 and "YOU WILL LOSE ALL DATA IN THE CANISTER." in wipe.stderr
        assert "Refusing to install canister without approval: User declined consent." in wipe.stderr
        assert "pass --yes" in wipe.stderr
    subnet_cli(project, "canister", "install", "shop_backend", "--mode", "reinstall", "--yes")
    assert subnet_cli(project, "canister", "call", "shop_backend", "get").stdout.strip() == "(0 : nat)"
    subnet_cli(project, "canister", "stop", "shop_backend")
    subnet_cli(project, "canister", "delete", "shop_backend")
    assert json.loads((project / "canister_ids.json").read_text()) == {}


DFX_MAIN = """
import Map "mo:core/Map";
import Nat "mo:core/Nat";
import Text "mo:core/Text";
import Debug "mo:core/Debug";
import Int "mo:base/Int";

persistent actor {
  let seen = Map.empty<Text, Nat>();

  public func visit(name : Text) : async Nat {
    let count = switch (Map.get(seen, Text.compare, name)) { case null 1; case (?n) n + 1 };
    Map.add(seen, Text.compare, name, count);
    Debug.print(name # " " # Nat.toText(count));
    count
  };
  public query func last(a : Int, b : Int) : async (Int, ?Text, { total : Nat }) {
    (Int.sub(a, b), if (Map.size(seen) == 0) null else ?"", { total = Map.size(seen) })
  };
};
"""


def test_a_dfx_json_project_with_core_and_base_deploys(local_subnet: Path) -> None:
    """A project as a dfx user has it: only a dfx.json, Motoko importing mo:core and
    mo:base; replies print as dfx prints them."""
    project = local_subnet / "visits"
    (project / "src").mkdir(parents=True)
    (project / "src" / "main.mo").write_text(DFX_MAIN)
    dfx_json = {"canisters": {"visits": {"type": "motoko", "main": "src/main.mo"}}, "version": 1}
    (project / "dfx.json").write_text(json.dumps(dfx_json))
    (project / ".subnet").symlink_to(local_subnet / ".subnet")
    try:
        subnet_cli(project, "build")
    except AssertionError as exc:
        if "Node.js" in str(exc):
            pytest.skip(str(exc))
        raise
    deployed = subnet_cli(project, "deploy")
    assert "Deployed canister visits" in deployed.stdout and deployed.stderr == ""
    assert subnet_cli(project, "canister", "call", "visits", "last", "(5, 7)").stdout == (
        "(-2 : int, null, record { total = 0 : nat })\n"
    )
    for expected in ("(1 : nat)\n", "(2 : nat)\n"):
        assert subnet_cli(project, "canister", "call", "visits", "visit", '("x")').stdout == expected
    last = subnet_cli(project, "canister", "call", "visits", "last", "(1_000_000, 0)", "--output", "idl")
    assert last.stdout == '(1_000_000 : int, opt "", record { total = 1 : nat;})\n'

    # With a subnet.json beside it, subnet.json is the project file, and deploy says so.
    (project / "subnet.json").write_text(json.dumps(dfx_json))
    again = subnet_cli(project, "deploy")
    assert again.stderr.startswith(f"using {project / 'subnet.json'} (not {project / 'dfx.json'}")
