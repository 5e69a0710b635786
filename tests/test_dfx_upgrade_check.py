"""dfx's own end-to-end test of upgrade checks, ``e2e/tests-dfx/upgrade_check.bash`` in
dfinity/sdk, translated command for command to `subnet`, with its assertions unchanged.

The assets are dfx's (``tests/fixtures/dfx_upgrade``, see SOURCE.md). Each bats case runs
in its own project (``dfx new hello``: a ``dfx.json`` only, as dfx writes it) on one
running subnet of four replica processes. The assertion helpers are dfx's, with their
meaning kept (``tests/bats.py``).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from client.motoko import NodeNotFound, compile_motoko
from tests.bats import assert_command, assert_command_fail, assert_match, assert_not_match
from tests.processes import subnet_cli
from vocab.leb128 import encode_leb128

pytestmark = pytest.mark.slow  # replica processes: the slow tier (tests/README.md)

ASSETS = Path(__file__).parent / "fixtures" / "dfx_upgrade"
UPGRADE_ONLY = (
    "--skip-pre-upgrade and --wasm-memory-persistence can only be used with mode 'upgrade' or 'auto'."
)


def custom_section(name: str, data: bytes) -> bytes:
    payload = encode_leb128(len(name)) + name.encode() + data
    return b"\x00" + encode_leb128(len(payload)) + payload


def set_main(project: Path, main: str) -> None:
    """``jq '.canisters.hello_backend.main="..."' dfx.json | sponge dfx.json``"""
    path = project / "dfx.json"
    config = json.loads(path.read_text())
    config["canisters"]["hello_backend"]["main"] = main
    path.write_text(json.dumps(config, indent=2))


def setup_case(root: Path, case: str) -> Path:
    """``standard_setup; dfx_new hello; install_asset upgrade`` (whose patch.bash selects v1.mo)."""
    workdir = root / case
    workdir.mkdir()
    subnet_cli(workdir, "new", "hello")
    project = workdir / "hello"
    (project / "subnet.json").rename(project / "dfx.json")  # a dfx project has only dfx.json
    (project / ".subnet").symlink_to(root / ".subnet")  # `dfx_start`: the running subnet
    for asset in sorted(ASSETS.glob("*.mo")):
        shutil.copy(asset, project / asset.name)
    set_main(project, "v1.mo")
    return project


def test_upgrade_check_bash(local_subnet: Path) -> None:
    try:
        for asset in sorted(ASSETS.glob("*.mo")):
            compile_motoko(asset.read_text())  # warms the shared cache; skips without Node.js
    except NodeNotFound as exc:
        pytest.skip(str(exc))

    # @test "safe upgrade by adding a new stable variable"
    p = setup_case(local_subnet, "safe")
    assert_command(p, "deploy")
    assert_command(p, "canister", "call", "hello_backend", "inc", "()")
    set_main(p, "v2.mo")
    assert_command(p, "deploy")
    ran = assert_command(p, "canister", "call", "hello_backend", "read", "()")
    assert_match("(1 : nat)", ran.stdout)

    # @test "changing stable variable from Int to Nat is not allowed"
    p = setup_case(local_subnet, "int_to_nat")
    assert_command(p, "deploy")
    assert_command(p, "canister", "call", "hello_backend", "inc", "()")
    set_main(p, "v2_bad.mo")
    ran = assert_command_fail(p, "deploy", stdin="yes\n")  # echo yes | ( assert_command_fail dfx deploy
    assert_match("Stable interface compatibility check issued an ERROR", ran.output)

    # @test "changing stable variable from Int to Nat with reinstall is allowed"
    p = setup_case(local_subnet, "reinstall")
    assert_command(p, "deploy")
    assert_command(p, "canister", "call", "hello_backend", "inc", "()")
    set_main(p, "v2_bad.mo")
    assert_command(p, "build")
    assert_command(p, "canister", "install", "hello_backend", "--mode=reinstall", stdin="yes\n")
    ran = assert_command(p, "canister", "call", "hello_backend", "read", "()")
    assert_match("(0 : nat)", ran.stdout)

    # @test "warning for changing method name"
    p = setup_case(local_subnet, "method_name")
    assert_command(p, "deploy")
    assert_command(p, "canister", "call", "hello_backend", "inc", "()")
    set_main(p, "v3_bad.mo")
    ran = assert_command(p, "deploy", stdin="yes\n")
    assert_match("Candid interface compatibility check failed", ran.output)
    ran = assert_command(p, "canister", "call", "hello_backend", "read2", "()")
    assert_match("(1 : int)", ran.output)

    # @test "warning for using special opt rule"
    p = setup_case(local_subnet, "special_opt")
    assert_command(p, "deploy")
    assert_command(p, "canister", "call", "hello_backend", "f", "()")
    set_main(p, "v4_bad.mo")
    ran = assert_command(p, "deploy", stdin="yes\n")
    assert_match("Candid interface compatibility check failed", ran.output)
    ran = assert_command(p, "canister", "call", "hello_backend", "f", "()")
    assert_match('(opt "")', ran.output)

    # @test "error when dropping stable variable"
    p = setup_case(local_subnet, "drop_stable")
    assert_command(p, "deploy")
    assert_command(p, "canister", "call", "hello_backend", "inc", "()")
    set_main(p, "v5.mo")
    ran = assert_command_fail(p, "deploy", stdin="yes\n")
    assert_match("Stable interface compatibility check issued an ERROR", ran.output)

    # Beyond bats' regexes: what dfx prints, exactly (the regexes' parentheses are groups).
    assert assert_command(p, "canister", "call", "hello_backend", "read", "()").stdout == "(1 : int)"


def test_an_unchanged_module_is_skipped_and_a_downgrade_from_eop_is_refused(local_subnet: Path) -> None:
    """dfx's other two upgrade rules: the same module again is not reinstalled unless
    ``--upgrade-unchanged``; ``wasm_memory_persistence`` comes from the installed module,
    so a classic (non-EOP) module cannot silently replace an EOP heap."""
    try:
        v1 = compile_motoko((ASSETS / "v1.mo").read_text())
    except NodeNotFound as exc:
        pytest.skip(str(exc))
    p = setup_case(local_subnet, "unchanged")
    assert_command(p, "deploy")
    status = json.loads(assert_command(p, "canister", "status", "hello_backend", "--output", "json").stdout)
    again = assert_command(p, "deploy").output
    assert f"Module hash {status['module_hash'][2:]} is already installed." in again
    assert "Upgraded code" not in again
    assert "Upgraded code" in assert_command(p, "deploy", "--upgrade-unchanged").output
    assert_command(p, "canister", "call", "hello_backend", "inc", "()")
    # basic-project.bash (counter_mo): --query on an update method is refused, in dfx's words
    ran = assert_command_fail(p, "canister", "call", "--query", "hello_backend", "inc")
    assert_match("inc is an update method, not a query method.", ran.output)
    assert_match("Run the command without '--query'.", ran.output)
    # a module without enhanced orthogonal persistence that passes both checks: an empty
    # module carrying v1's Candid and stable types
    classic = p / "classic.wasm"
    classic.write_bytes(
        b"\x00asm\x01\x00\x00\x00"
        + custom_section("icp:private candid:service", v1.candid.encode())
        + custom_section("icp:private motoko:stable-types", v1.stable_types.encode())
    )
    out = assert_command_fail(
        p, "canister", "install", "hello_backend", "--mode", "upgrade", "--wasm", str(classic)
    ).output
    assert "wasm_memory_persistence: opt Keep" in out and "enhanced orthogonal persistence" in out
    assert assert_command(p, "canister", "call", "hello_backend", "read", "()").stdout == "(1 : int)"


def setup_plain(root: Path, case: str) -> Path:
    """``standard_setup; dfx_new_assets hello`` without the frontend (the asset canister is
    not a type this project builds): dfx's new project, backend only, on the running subnet."""
    workdir = root / case
    workdir.mkdir()
    subnet_cli(workdir, "new", "hello")
    project = workdir / "hello"
    (project / "subnet.json").rename(project / "dfx.json")
    (project / ".subnet").symlink_to(root / ".subnet")
    return project


def test_dfx_install_mode_cases(local_subnet: Path) -> None:
    """dfx's e2e cases on install modes and upgrade options, translated command for command
    with their assertions unchanged: ``e2e/tests-dfx/deploy.bash`` ("deploy --upgrade-unchanged
    upgrades even if the .wasm did not change", "specify install mode", "specify upgrade
    options") and ``e2e/tests-dfx/install.bash`` ("canister install --upgrade-unchanged
    upgrades even if the .wasm did not change"). The projects are dfx's ``dfx new`` without
    its frontend canister; ``dfx deploy --mode reinstall`` names the backend there already."""
    try:
        compile_motoko("persistent actor {};")  # skips without Node.js
    except NodeNotFound as exc:
        pytest.skip(str(exc))

    # deploy.bash @test "deploy --upgrade-unchanged upgrades even if the .wasm did not change"
    p = setup_plain(local_subnet, "upgrade_unchanged")
    assert_command(p, "deploy")
    ran = assert_command(p, "deploy")
    assert_match("Module hash.*is already installed", ran.output)
    ran = assert_command(p, "deploy", "--upgrade-unchanged", "--wasm-memory-persistence", "replace")
    assert_not_match("Module hash.*is already installed", ran.output)

    # deploy.bash @test "specify install mode"
    p = setup_plain(local_subnet, "install_mode")
    assert_command(p, "deploy", "--mode", "install")
    assert_command(p, "deploy", "hello_backend", "--mode", "reinstall", "--yes")
    assert_command(p, "deploy", "--mode", "upgrade")
    assert_command(p, "deploy", "--mode", "auto")

    # deploy.bash @test "specify upgrade options (skip_pre_upgrade, wasm_memory_persistence)"
    p = setup_plain(local_subnet, "upgrade_options")
    assert_command(p, "deploy", "--skip-pre-upgrade")
    assert_command(p, "deploy", "--wasm-memory-persistence", "keep")
    assert_command(p, "deploy", "--wasm-memory-persistence", "replace")
    assert_command(p, "deploy", "--skip-pre-upgrade", "--wasm-memory-persistence", "keep")
    assert_command(p, "deploy", "--mode", "auto", "--skip-pre-upgrade")
    assert_command(p, "deploy", "--mode", "upgrade", "--skip-pre-upgrade")
    ran = assert_command_fail(p, "deploy", "--mode", "install", "--skip-pre-upgrade")
    assert UPGRADE_ONLY in ran.output  # assert_contains
    ran = assert_command_fail(p, "deploy", "--mode", "reinstall", "--wasm-memory-persistence", "keep")
    assert UPGRADE_ONLY in ran.output

    # install.bash @test "canister install --upgrade-unchanged upgrades even if the .wasm did not change"
    p = setup_plain(local_subnet, "install_unchanged")
    subnet_cli(p, "canister", "create", "--all")
    subnet_cli(p, "build")
    assert_command(p, "canister", "install", "--all")
    ran = assert_command(p, "canister", "install", "--all", "--mode", "upgrade")
    assert_match("Module hash.*is already installed", ran.output)
    ran = assert_command(
        p, "canister", "install", "--all", "--mode", "upgrade", "--upgrade-unchanged",
        "--wasm-memory-persistence", "replace",
    )  # fmt: skip
    assert_not_match("Module hash.*is already installed", ran.output)
