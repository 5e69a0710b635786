"""dfx's own end-to-end tests of Motoko libraries, package tools and projects, translated
command for command to `subnet`, with their assertions unchanged (``tests/bats.py``).

From dfinity/sdk ``e2e/tests-dfx/``: ``base.bash`` and ``core.bash`` (the default
libraries, and none under a packtool), ``packtool.bash`` (all six cases),
``deploy.bash``'s "deploy from a subdirectory", ``call.bash`` (its cases without wallets,
the ledger, random arguments, Rust canisters or impersonation),
``wasm_memory_persistence.bash`` (all five) and ``mode_reinstall.bash`` (the seven cases
without a frontend canister). Their assets are dfx's, unchanged, in
``tests/fixtures/dfx_e2e`` (see SOURCE.md there); each ``patch.bash`` or
``configure_packtool.bash`` is a ``jq`` edit of ``dfx.json``, done here by ``jq_set``. Every
case runs in its own ``dfx new`` project (``dfx.json`` only) on one running subnet of four
replica processes; ``dfx_start`` is the link to it.
"""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest

from client.motoko import NodeNotFound, compile_motoko
from tests.bats import assert_command, assert_command_fail, assert_eq, assert_match, assert_not_match
from tests.processes import subnet_cli
from vocab.leb128 import encode_leb128
from vocab.wasm.module import walk_sections

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
        elif path.suffix == ".gz":  # a binary asset, kept compressed here
            target.with_suffix("").write_bytes(gzip.decompress(path.read_bytes()))
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


def test_deploy_from_a_subdirectory_and_call_output_json(local_subnet: Path) -> None:
    """deploy.bash @test "deploy from a subdirectory" (its setup's ``dfx_new_assets hello``
    makes the directory the test's own ``dfx_new hello`` is created in), and call.bash
    @test "call --output json"."""
    try:
        compile_motoko((ASSETS / "greet" / "greet.mo").read_text())  # skips without Node.js
    except NodeNotFound as exc:
        pytest.skip(str(exc))

    p = dfx_new(local_subnet, "call_json", "hello")
    install_asset(p, "method_signatures", None)
    dfx_start(local_subnet, p)
    assert_command(p, "deploy")

    def call_json(method: str, argument: str) -> str:
        return assert_command(
            p, "canister", "call", "hello_backend", method, argument, "--output", "json"
        ).stdout

    assert_eq('"Hello, you!"', call_json("returns_string", '("you")'))
    assert_eq("[]", call_json("returns_opt_string", "(null)"))
    assert_eq('[\n  "Hello, world!"\n]', call_json("returns_opt_string", '(opt "world")'))
    # int is unbounded, so formatted as a string
    assert_eq('"67"', call_json("returns_int", "(67)"))
    assert_eq(
        '"111_222_333_444_555_666_777_888_999"',
        call_json("returns_int", "(111222333444555666777888999 : int)"),
    )
    assert_eq("67", call_json("returns_int32", "(67)"))
    assert_eq(
        '"fg7gi-vyaaa-aaaal-qadca-cai"',
        call_json("returns_principal", '(principal "fg7gi-vyaaa-aaaal-qadca-cai")'),
    )
    # variant
    assert_eq('{\n  "foo": null\n}', call_json("returns_variant", "(0)"))
    assert_eq('{\n  "bar": "a bar"\n}', call_json("returns_variant", "(1)"))
    assert_eq('{\n  "baz": {\n    "a": 51\n  }\n}', call_json("returns_variant", "(2)"))
    assert_eq('[\n  "Hello, world!",\n  "Hello, Mars!"\n]', call_json("returns_strings", "()"))
    assert_eq('{\n  "bar": "42",\n  "foo": "baz"\n}', call_json("returns_object", "()"))
    assert_eq("[\n  97,\n  98,\n  100\n]", call_json("returns_blob", '("abd")'))
    assert_eq('"the first element"\n42\n"the third element"', call_json("returns_tuple", "()"))
    assert_eq('"the only element"', call_json("returns_single_elem_tuple", "()"))

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


WMP = ("canisters", "test", "wasm")


def wmp_project(root: Path, case: str) -> Path:
    """``dfx_new test; install_asset wasm_memory_persistence``. Its two modules are dfx's
    own, built by an older moc: moc.js cannot build classical persistence any more, and an
    enhanced module upgrading a classical one must be built with moc's explicit
    ``--enhanced-orthogonal-persistence`` flag (the pinned moc's default refuses that
    migration in its runtime), which moc.js does not take either."""
    p = dfx_new(root, case, "test")
    install_asset(p, "wasm_memory_persistence", None)
    dfx_start(root, p)
    return p


def test_reinstall_and_wasm_memory_persistence(local_subnet: Path) -> None:
    root = local_subnet
    try:
        compile_motoko("persistent actor {};")  # skips without Node.js
    except NodeNotFound as exc:
        pytest.skip(str(exc))

    # wasm_memory_persistence.bash
    # @test "migrate Motoko from classical persistence to classical persistence"
    p = wmp_project(root, "classical_classical")
    assert_command(p, "deploy")
    assert_command(p, "deploy", "--upgrade-unchanged")
    ran = assert_command(p, "canister", "call", "test", "getVersion", "()")
    assert_match("(2 : nat)", ran.stdout)

    # @test "migrate Motoko from classical persistence to enhanced orthogonal persistence"
    p = wmp_project(root, "classical_enhanced")
    assert_command(p, "deploy")
    jq_set(p, WMP, "enhanced-actor.wasm")
    assert_command(p, "deploy")
    ran = assert_command(p, "canister", "call", "test", "getVersion", "()")
    assert_match("(2 : nat)", ran.stdout)

    # @test "migrate Motoko from enhanced orthogonal persistence to enhanced orthogonal persistence"
    p = wmp_project(root, "enhanced_enhanced")
    jq_set(p, WMP, "enhanced-actor.wasm")
    assert_command(p, "deploy")
    jq_set(p, WMP, "enhanced-actor.wasm")
    assert_command(p, "deploy", "--upgrade-unchanged")
    ran = assert_command(p, "canister", "call", "test", "getVersion", "()")
    assert_match("(2 : nat)", ran.stdout)

    # @test "failing Motoko downgrade from enhanced orthogonal persistence to classical persistence"
    p = wmp_project(root, "enhanced_classical")
    jq_set(p, WMP, "enhanced-actor.wasm")
    assert_command(p, "deploy")
    jq_set(p, WMP, "classical-actor.wasm")
    ran = assert_command_fail(p, "deploy")
    assert_match(
        "The \\`wasm_memory_persistence: opt Keep\\` upgrade option requires that the new canister "
        "module supports enhanced orthogonal persistence.",
        ran.output,
    )

    # @test "re-install Motoko enhanced orthogonal persistence with classical persistence"
    p = wmp_project(root, "reinstall_classical")
    jq_set(p, WMP, "enhanced-actor.wasm")
    assert_command(p, "deploy")
    jq_set(p, WMP, "classical-actor.wasm")
    assert_command(p, "canister", "install", "test", "--mode=reinstall", stdin="yes\n")
    ran = assert_command(p, "canister", "call", "test", "getVersion", "()")
    assert_match("(1 : nat)", ran.stdout)

    # mode_reinstall.bash (setup: dfx_new_assets hello, here without its frontend)
    # @test "install --mode=reinstall --all fails"
    p = dfx_new(root, "reinstall_all", "hello")
    dfx_start(root, p)
    ran = assert_command_fail(p, "canister", "install", "--mode=reinstall", "--all")
    assert_match(
        "The --mode=reinstall is only valid when specifying a single canister, because reinstallation "
        "destroys all data in the canister.",
        ran.output,
    )

    # @test "deploy --mode=reinstall fails if no canister name specified"
    ran = assert_command_fail(p, "deploy", "--mode=reinstall")
    assert_match(
        "The --mode=reinstall is only valid when deploying a single canister, because reinstallation "
        "destroys all data in the canister.",
        ran.output,
    )

    # @test "reinstall succeeds when a canister name is provided"
    p = dfx_new(root, "reinstall_named", "hello")
    dfx_start(root, p)
    assert_command(p, "deploy")
    ran = assert_command(p, "canister", "install", "--mode=reinstall", "hello_backend", stdin="yes\n")
    assert_match("YOU WILL LOSE ALL DATA IN THE CANISTER", ran.output)
    assert_match("Reinstalled code for canister hello_backend", ran.output)

    # @test "install --mode=reinstall refused if not approved"
    ran = assert_command_fail(p, "canister", "install", "--mode=reinstall", "hello_backend", stdin="no\n")
    assert_match("YOU WILL LOSE ALL DATA IN THE CANISTER", ran.output)
    assert_not_match("Installed code for canister", ran.output)
    assert "Refusing to install canister without approval" in ran.output  # assert_contains
    assert "User declined consent" in ran.output

    # @test "deploy --mode=reinstall succeeds when a canister name is provided"
    ran = assert_command(p, "deploy", "--mode=reinstall", "hello_backend", stdin="yes\n")
    assert_match("YOU WILL LOSE ALL DATA IN THE CANISTER", ran.output)
    assert_match("Reinstalled code for canister hello_backend", ran.output)

    # @test "deploy --mode=reinstall refused if not approved"
    ran = assert_command_fail(p, "deploy", "--mode=reinstall", "hello_backend", stdin="no\n")
    assert_match("YOU WILL LOSE ALL DATA IN THE CANISTER", ran.output)
    assert_not_match("Installed code for canister", ran.output)
    assert "Refusing to install canister without approval" in ran.output
    assert "User declined consent" in ran.output

    # @test "confirmation dialogue accepts multiple forms of 'yes'"
    for answer in ("yes", "y", "YES", "YeS"):
        ran = assert_command(p, "deploy", "--mode=reinstall", "hello_backend", stdin=answer + "\n")
        assert_match("YOU WILL LOSE ALL DATA IN THE CANISTER", ran.output)
        assert_match("Reinstalled code for canister hello_backend", ran.output)


def with_candid_metadata(module: bytes, service: str) -> bytes:
    """The module with its ``candid:service`` metadata replaced (the call asset's README:
    "built from call.mo, and manually updating the metadata to be partial.did")."""
    out, previous = bytearray(module[:8]), 8
    for section_id, start, end in walk_sections(module):
        for name in (b"icp:public candid:service", b"icp:private candid:service"):
            prefix = encode_leb128(len(name)) + name
            if section_id == 0 and module[start:end].startswith(prefix):
                payload = prefix + service.encode()
                out += b"\x00" + encode_leb128(len(payload)) + payload
                break
        else:
            out += module[previous:end]
        previous = end
    assert out != module, "no candid:service metadata to replace"
    return bytes(out)


def greet_project(root: Path, case: str) -> Path:
    """``dfx_new hello; install_asset greet; dfx_start``."""
    p = dfx_new(root, case, "hello")
    install_asset(p, "greet", "greet.mo")
    dfx_start(root, p)
    return p


def test_call_bash(local_subnet: Path) -> None:
    """call.bash's cases that need neither a wallet, the ledger, random arguments, Rust
    canisters nor impersonation: "call --candid <path to candid file>", "call subcommand
    accepts canister identifier as canister name", "... accepts raw argument", "... accepts
    argument from a file", "... accepts argument from stdin", "error on empty arguments when
    the method requires some", "call a canister which is deployed then removed from dfx.json"."""
    root = local_subnet
    try:
        call_module = compile_motoko((ASSETS / "call" / "call.mo").read_text()).wasm
    except NodeNotFound as exc:
        pytest.skip(str(exc))

    # @test "call --candid <path to candid file>"
    p = dfx_new(root, "call_candid", "hello")
    install_asset(p, "call", None)
    (p / "call.wasm").write_bytes(with_candid_metadata(call_module, (p / "partial.did").read_text()))
    dfx_start(root, p)
    assert_command(p, "deploy")
    ran = assert_command(p, "canister", "call", "hello_backend", "make_struct", '("A", "B")')
    assert_eq('(record { c = "A"; d = "B" })', ran.stdout)
    canister_id = assert_command(p, "canister", "id", "hello_backend").stdout
    (p / "canister_ids.json").unlink()  # rm .dfx/local/canister_ids.json
    # if no candid method known, then no field names
    ran = assert_command(p, "canister", "call", canister_id, "make_struct2", '("A", "B")')
    assert_eq('(record { 99 = "A"; 100 = "B" })', ran.stdout)
    # if passing the candid file, field names available
    ran = assert_command(
        p, "canister", "call", "--candid", "full.did", canister_id, "make_struct2", '("A", "B")'
    )
    assert_eq('(record { c = "A"; d = "B" })', ran.stdout)
    # given a canister id, fetch the did file from metadata
    ran = assert_command(p, "canister", "call", canister_id, "make_struct", '("A", "B")')
    assert_eq('(record { c = "A"; d = "B" })', ran.stdout)

    # @test "call subcommand accepts canister identifier as canister name"
    p = greet_project(root, "call_by_id")
    assert_command(p, "canister", "create", "--all")
    assert_command(p, "build")
    assert_command(p, "canister", "install", "hello_backend")
    canister_id = assert_command(p, "canister", "id", "hello_backend").stdout
    ran = assert_command(p, "canister", "call", canister_id, "greet", '("Names are difficult")')
    assert_match('("Hello, Names are difficult!")', ran.stdout)

    # @test "call subcommand accepts raw argument"
    p = greet_project(root, "call_raw")
    assert_command(p, "canister", "create", "--all")
    assert_command(p, "build")
    assert_command(p, "canister", "install", "hello_backend")
    # The encoded raw argument was generated with `didc encode '("raw")'`
    ran = assert_command(
        p, "canister", "call", "hello_backend", "greet", "4449444c00017103726177", "--type", "raw"
    )
    assert_match('("Hello, raw!")', ran.stdout)

    # @test "call subcommand accepts argument from a file"
    p = greet_project(root, "call_file")
    assert_command(p, "canister", "create", "--all")
    assert_command(p, "build")
    assert_command(p, "canister", "install", "hello_backend")
    name_file = root / "call_file" / "name.txt"  # TMP_NAME_FILE="$(mktemp)"
    name_file.write_text('("Names can be very long")')
    ran = assert_command(p, "canister", "call", "--argument-file", str(name_file), "hello_backend", "greet")
    assert_match('("Hello, Names can be very long!")', ran.stdout)

    # @test "call subcommand accepts argument from stdin"
    p = greet_project(root, "call_stdin")
    assert_command(p, "canister", "create", "--all")
    assert_command(p, "build")
    assert_command(p, "canister", "install", "hello_backend")
    ran = assert_command(
        p, "canister", "call", "--argument-file", "-", "hello_backend", "greet", stdin='("stdin")'
    )
    assert_match('("Hello, stdin!")', ran.stdout)

    # @test "error on empty arguments when the method requires some"
    p = greet_project(root, "call_empty")
    assert_command(p, "deploy")
    assert_command_fail(p, "canister", "call", "hello_backend", "greet")

    # @test "call a canister which is deployed then removed from dfx.json"
    p = dfx_new(root, "call_removed", "hello")
    dfx_start(root, p)
    assert_command(p, "deploy")
    canister_id = assert_command(p, "canister", "id", "hello_backend").stdout
    config = json.loads((p / "dfx.json").read_text())
    del config["canisters"]["hello_backend"]  # jq 'del(.canisters.hello_backend)'
    (p / "dfx.json").write_text(json.dumps(config, indent=2))
    ran = assert_command(p, "canister", "call", "hello_backend", "greet", '("you")')
    assert_match('("Hello, you!")', ran.stdout)
    ran = assert_command(p, "canister", "call", canister_id, "greet", '("you")')
    assert_match('("Hello, you!")', ran.stdout)
