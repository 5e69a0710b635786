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

BREAKING = (
    source("counter_v2")
    .replace("public query func get() : async Nat", "public query func get() : async Text")
    .replace("    count\n  };\n};", "    debug_show count\n  };\n};")
)


def test_deploy_upgrade_refuse_a_breaking_change_reinstall_delete(local_subnet: Path) -> None:
    try:
        for text in (source("counter_v1"), source("counter_v2"), BREAKING):
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
    upgraded = subnet_cli(project, "deploy", "shop_backend", "--yes")  # greet goes away: forced
    assert "Upgraded code" in upgraded.stdout and 'method "greet" was removed' in upgraded.stderr
    for expected in ("(1)", "(2)"):
        assert subnet_cli(project, "canister", "call", "shop_backend", "increment").stdout.strip() == expected

    main_mo.write_text(source("counter_v2"))
    compatible = subnet_cli(project, "deploy")
    assert "Upgraded code" in compatible.stdout and compatible.stderr == ""
    assert subnet_cli(project, "canister", "call", "shop_backend", "add", "(10)").stdout.strip() == "(12)"
    status = json.loads(subnet_cli(project, "canister", "status", "shop_backend", "--output", "json").stdout)

    main_mo.write_text(BREAKING)
    refused = subnet_cli(project, "deploy", check=False)
    assert refused.returncode == 1
    assert "Candid interface compatibility check failed for canister 'shop_backend'" in refused.stderr
    assert 'method "get"' in refused.stderr and "pass --yes" in refused.stderr
    after = json.loads(subnet_cli(project, "canister", "status", "shop_backend", "--output", "json").stdout)
    assert after["module_hash"] == status["module_hash"]  # nothing was installed
    assert subnet_cli(project, "canister", "call", "shop_backend", "get").stdout.strip() == "(12)"

    main_mo.write_text(source("counter_v2"))
    subnet_cli(project, "build")
    wipe = subnet_cli(project, "canister", "install", "shop_backend", "--mode", "reinstall", check=False)
    assert wipe.returncode == 1 and "pass --yes" in wipe.stderr
    subnet_cli(project, "canister", "install", "shop_backend", "--mode", "reinstall", "--yes")
    assert subnet_cli(project, "canister", "call", "shop_backend", "get").stdout.strip() == "(0)"
    subnet_cli(project, "canister", "stop", "shop_backend")
    subnet_cli(project, "canister", "delete", "shop_backend")
    assert json.loads((project / "canister_ids.json").read_text()) == {}
