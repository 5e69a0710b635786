"""dfx's own end-to-end tests of Motoko libraries, package tools and projects, translated
command for command to `subnet`, with their assertions unchanged (``tests/bats.py``).

From dfinity/sdk ``e2e/tests-dfx/``: ``base.bash`` and ``core.bash`` (the default
libraries, and none under a packtool), ``packtool.bash`` (all six cases) and
``deploy.bash``'s "deploy from a subdirectory". Their assets are dfx's, unchanged, in
``tests/fixtures/dfx_e2e`` (see SOURCE.md there); each ``patch.bash`` or
``configure_packtool.bash`` is a ``jq`` edit of ``dfx.json``, done here by ``jq_set``. Every
case runs in its own ``dfx new`` project (``dfx.json`` only) on one running subnet of four
replica processes; ``dfx_start`` is the link to it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from client.motoko import NodeNotFound, compile_motoko
from tests.bats import assert_command, assert_command_fail, assert_eq, assert_match, assert_not_match
from tests.processes import subnet_cli

pytestmark = pytest.mark.slow  # replica processes: the slow tier (tests/README.md)

ASSETS = Path(__file__).parent / "fixtures" / "dfx_e2e"
PACKTOOL = "echo --package describe ./vessel/describe/v1.0.1/src --package rate ./vessel/rate/v1.0.0/src"


def dfx_new(root: Path, case: str, name: str = "e2e_project") -> Path:
    """``standard_setup; dfx_new NAME``: a new project (a ``dfx.json`` only) to work in."""
    workdir = root / case
    workdir.mkdir()
    subnet_cli(workdir, "new", name)
    project = workdir / name
    (project / "subnet.json").rename(project / "dfx.json")
    return project


def dfx_start(root: Path, project: Path) -> None:
    """``dfx_start``: the subnet the fixture started, seen from the project."""
    (project / ".subnet").symlink_to(root / ".subnet")


def jq_set(project: Path, path: tuple[str, ...], value: str) -> None:
    """``jq '.a.b.c="value"' dfx.json | sponge dfx.json``"""
    file = project / "dfx.json"
    config = json.loads(file.read_text())
    node = config
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value
    file.write_text(json.dumps(config, indent=2))


def install_asset(project: Path, asset: str, main: str | None) -> None:
    """``install_asset ASSET``: its files copied in, then its ``patch.bash`` (which sets the
    backend's ``main``)."""
    for path in (ASSETS / asset).iterdir():
        target = project / path.name
        if path.is_dir():
            shutil.copytree(path, target)
        else:
            shutil.copy(path, target)
    if main is not None:
        jq_set(project, ("canisters", f"{project.name}_backend", "main"), main)


def test_libraries_and_package_tools(local_subnet: Path) -> None:
    try:
        compile_motoko("persistent actor {};")  # skips without Node.js
    except NodeNotFound as exc:
        pytest.skip(str(exc))
    root = local_subnet

    # base.bash @test "provides base library location by default"
    p = dfx_new(root, "base_default")
    install_asset(p, "base", "main.mo")
    dfx_start(root, p)
    assert_command(p, "canister", "create", "--all")
    assert_command(p, "build")
    assert_command(p, "canister", "install", "e2e_project_backend")
    ran = assert_command(p, "canister", "call", "--query", "e2e_project_backend", "is_digit", '("5")')
    assert_eq("(true)", ran.stdout)
    ran = assert_command(p, "canister", "call", "--query", "e2e_project_backend", "is_digit", '("w")')
    assert_eq("(false)", ran.stdout)

    # base.bash @test "does not provide base library if there is a packtool"
    p = dfx_new(root, "base_packtool")
    install_asset(p, "base", "main.mo")
    jq_set(p, ("defaults", "build", "packtool"), "echo")
    dfx_start(root, p)
    assert_command(p, "canister", "create", "--all")
    ran = assert_command_fail(p, "build")
    assert_match(r'import error \[M0010\], package "base" not defined', ran.output)

    # core.bash @test "provides core package location by default"
    p = dfx_new(root, "core_default")
    install_asset(p, "core", "main.mo")
    dfx_start(root, p)
    assert_command(p, "canister", "create", "--all")
    assert_command(p, "build")
    assert_command(p, "canister", "install", "e2e_project_backend")
    ran = assert_command(p, "canister", "call", "--query", "e2e_project_backend", "test_core")
    assert_eq("(true)", ran.stdout)

    # core.bash @test "does not provide core package if there is a packtool"
    p = dfx_new(root, "core_packtool")
    install_asset(p, "core", "main.mo")
    jq_set(p, ("defaults", "build", "packtool"), "echo")
    dfx_start(root, p)
    assert_command(p, "canister", "create", "--all")
    ran = assert_command_fail(p, "build")
    assert_match(r'import error \[M0010\], package "core" not defined', ran.output)

    # packtool.bash @test "build fails if packtool is not configured"
    p = dfx_new(root, "packtool_none")
    install_asset(p, "packtool", "packtool.mo")
    dfx_start(root, p)
    assert_command(p, "canister", "create", "--all")
    ran = assert_command_fail(p, "build")
    assert_match(r'import error \[M0010\], package "(rate|describe)" not defined', ran.output)

    # packtool.bash @test "build succeeds if packtool is configured"
    p = dfx_new(root, "packtool_build")
    install_asset(p, "packtool", "packtool.mo")
    jq_set(p, ("defaults", "build", "packtool"), PACKTOOL)  # source configure_packtool.bash
    dfx_start(root, p)
    assert_command(p, "canister", "create", "--all")
    assert_command(p, "build")

    # packtool.bash @test "project calls dependencies made available by packtool"
    p = dfx_new(root, "packtool_calls")
    install_asset(p, "packtool", "packtool.mo")
    jq_set(p, ("defaults", "build", "packtool"), PACKTOOL)
    dfx_start(root, p)
    assert_command(p, "canister", "create", "--all")
    assert_command(p, "build")
    assert_command(p, "canister", "install", "e2e_project_backend")
    ran = assert_command(p, "canister", "call", "e2e_project_backend", "rate", '("rust")')
    assert_eq('("rust: So hot right now.")', ran.stdout)
    ran = assert_command(p, "canister", "call", "e2e_project_backend", "rate", '("php")')
    assert_eq('("php: No comment.")', ran.stdout)

    # packtool.bash @test "project calls packtool in project root"
    p = dfx_new(root, "packtool_root")
    install_asset(p, "packtool", "packtool.mo")
    jq_set(p, ("defaults", "build", "packtool"), PACKTOOL)
    dfx_start(root, p)
    vessel = p / "vessel"  # cd vessel
    assert_command(vessel, "canister", "create", "--all")
    assert_command(vessel, "build")
    assert_command(vessel, "canister", "install", "e2e_project_backend")
    ran = assert_command(vessel, "canister", "call", "e2e_project_backend", "rate", '("rust")')
    assert_eq('("rust: So hot right now.")', ran.stdout)
    ran = assert_command(vessel, "canister", "call", "e2e_project_backend", "rate", '("php")')
    assert_eq('("php: No comment.")', ran.stdout)

    # packtool.bash @test "failure to invoke the package tool reports the command line and reason"
    p = dfx_new(root, "packtool_missing")
    install_asset(p, "packtool", "packtool.mo")
    jq_set(p, ("defaults", "build", "packtool"), "./no-such-command that command cannot be invoked")
    dfx_start(root, p)
    assert_command(p, "canister", "create", "--all")
    ran = assert_command_fail(p, "build")
    assert_match("Failed to invoke the package tool", ran.output)
    assert_match("no-such-command.*that.*command.*cannot.*be.*invoked", ran.output)
    assert_match(r"No such file or directory \(os error 2\)", ran.output)

    # packtool.bash @test "failure in execution reports the command line and exit code"
    p = dfx_new(root, "packtool_fails")
    install_asset(p, "packtool", "packtool.mo")
    jq_set(p, ("defaults", "build", "packtool"), "sh ./command-that-fails.bash")
    dfx_start(root, p)
    assert_command(p, "canister", "create", "--all")
    ran = assert_command_fail(p, "build")
    assert_match("The command.*failed", ran.output)
    assert_match("sh.*command-that-fails.bash", ran.output)
    assert_match("exit (code|status): 3", ran.output)


def test_deploy_from_a_subdirectory(local_subnet: Path) -> None:
    """deploy.bash @test "deploy from a subdirectory" (its setup's ``dfx_new_assets hello``
    makes the directory the test's own ``dfx_new hello`` is created in)."""
    try:
        compile_motoko((ASSETS / "greet" / "greet.mo").read_text())  # skips without Node.js
    except NodeNotFound as exc:
        pytest.skip(str(exc))
    p = dfx_new(local_subnet, "subdirectory", "hello")
    dfx_start(local_subnet, p)
    install_asset(p, "greet", "greet.mo")

    ran = assert_command(p / "src", "deploy")  # ( cd src; assert_command dfx deploy ...
    assert_match("Installed code for", ran.output)

    ran = assert_command(p, "canister", "call", "hello_backend", "greet", '("Banzai")')
    assert_eq('("Hello, Banzai!")', ran.stdout)

    ran = assert_command(p, "deploy")
    assert_not_match("Installed code for", ran.output)
    assert_match("is already installed", ran.output)
    assert not (p / "src" / "canister_ids.json").exists()
