"""Motoko packages: ``mo:core`` and ``mo:base`` by default, a project's ``packages`` map and
dfx's ``defaults.build.packtool``, compiled by the real ``moc`` and run in PocketIC.

One project compiles once (module fixture) and exercises every source of packages; the
missing-package test fails inside moc before code generation, so it is quick. A ledger on
``mo:core`` (Map, Text, Debug, Runtime) is then upgraded to a version that also uses
``mo:base`` (Int, Debug), through moc's stable-compatibility check and dfx's Candid check.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from client.build import build_canister
from client.motoko import MissingPackage, MotokoCanister, NodeNotFound, compile_motoko
from client.packages import default_libraries, package_directories
from client.project import Project, ProjectError
from client.upgrade_check import check_upgrade, upgrade_metadata
from subnet.pocket import PocketIC
from vocab import candid
from vocab.errors import RejectCode, RejectError
from vocab.principal import Principal

MAIN = """
import Debug "mo:core/Debug";
import Map "mo:core/Map";
import Nat "mo:core/Nat";
import Int "mo:base/Int";
import Greeting "mo:mylib/Greeting";

persistent actor {
  let names = Map.empty<Nat, Text>();

  public func put(key : Nat, name : Text) : async Nat {
    Map.add(names, Nat.compare, key, name);
    Debug.print("stored " # Nat.toText(key));
    Map.size(names)
  };
  public query func get(key : Nat) : async ?Text { Map.get(names, Nat.compare, key) };
  public query func negate(i : Int) : async Text { Int.toText(Int.neg(i)) };
  public query func greet(name : Text) : async Text { Greeting.hello(name) };
};
"""

GREETING = """module {
  public func hello(name : Text) : Text { "Hello, " # name };
};
"""

# Under a packtool only its packages and the project's map are defined (no mo:core).
TOOL_MAIN = """
import Greeting "mo:mylib/Greeting";
import Shout "mo:tool/Shout";

persistent actor {
  public query func greet(name : Text) : async Text { Shout.shout(Greeting.hello(name)) };
};
"""

SHOUT = """module {
  public func shout(text : Text) : Text { text # "!" };
};
"""

PACKTOOL = """import sys
print("--package tool vendor/tool/src")
"""


def make_project(root: Path, main: str, config: dict | None = None) -> Project:
    (root / "src").mkdir(parents=True)
    (root / "src" / "main.mo").write_text(main)
    (root / "subnet.json").write_text(
        json.dumps({"canisters": {"app": {"type": "motoko", "main": "src/main.mo"}}, **(config or {})})
    )
    return Project.find(root)


def with_mylib(root: Path) -> Path:
    (root / "lib" / "mylib").mkdir(parents=True)
    (root / "lib" / "mylib" / "Greeting.mo").write_text(GREETING)
    return root


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """The default libraries and the project's ``packages`` map."""
    root = with_mylib(tmp_path_factory.mktemp("packages"))
    return make_project(root, MAIN, {"packages": {"mylib": "lib/mylib"}})


def tool_project(root: Path, main: str = TOOL_MAIN) -> Project:
    """A packtool's packages and the project's ``packages`` map."""
    with_mylib(root)
    (root / "vendor" / "tool" / "src").mkdir(parents=True)
    (root / "vendor" / "tool" / "src" / "Shout.mo").write_text(SHOUT)
    (root / "packtool.py").write_text(PACKTOOL)
    config = {
        "packages": {"mylib": "lib/mylib"},
        "defaults": {"build": {"packtool": f"{sys.executable} packtool.py"}},
    }
    return make_project(root, main, config)


@pytest.fixture(scope="module")
def pic(project: Project) -> tuple[PocketIC, object]:
    try:
        built = build_canister(project, "app")
    except NodeNotFound as exc:
        pytest.skip(str(exc))
    pic = PocketIC()
    canister = pic.create_canister()
    pic.install_code(canister, built.wasm.read_bytes(), b"DIDL\x00\x00")
    return pic, canister


def test_packtool_and_packages_map_name_the_directories(tmp_path: Path) -> None:
    project = tool_project(tmp_path)
    directories = package_directories(project)
    assert directories == {"mylib": project.root / "lib/mylib", "tool": project.root / "vendor/tool/src"}
    assert default_libraries(project) == ()


def test_packtool_packages_compile_and_run(tmp_path: Path) -> None:
    project = tool_project(tmp_path)
    try:
        built = build_canister(project, "app")
    except NodeNotFound as exc:
        pytest.skip(str(exc))
    machine = PocketIC()
    canister = machine.create_and_install_canister(built.wasm.read_bytes())
    greet = candid.encode_text('("Sam")')
    assert candid.decode(machine.query_call(canister, "greet", greet)) == ["Hello, Sam!"]


@pytest.mark.parametrize("library", ["core", "base"])
def test_a_packtool_replaces_the_default_libraries(library: str, tmp_path: Path) -> None:
    """dfx's e2e base.bash/core.bash: "does not provide base (core) library if there is a
    packtool"; moc's own message is in the error, as dfx shows it."""
    project = tool_project(tmp_path, f'import X "mo:{library}/Int";\npersistent actor {{}};\n')
    try:
        with pytest.raises(MissingPackage) as error:
            build_canister(project, "app")
    except NodeNotFound as exc:
        pytest.skip(str(exc))
    assert error.value.package == library
    assert re.search(f'import error \\[M0010\\], package "{library}" not defined', str(error.value))
    assert "Defined: mylib, tool;" in str(error.value)


def test_core_base_and_project_packages_compile_and_run(pic: tuple[PocketIC, object]) -> None:
    machine, canister = pic
    assert machine.update_call(
        canister, "put", candid.encode_text('(7 : nat, "seven")')
    ) == candid.encode_text("(1 : nat)")
    machine.update_call(canister, "put", candid.encode_text('(3 : nat, "three")'))
    assert candid.decode(machine.query_call(canister, "get", candid.encode_text("(7 : nat)"))) == [
        candid.Some("seven")
    ]
    assert candid.decode(machine.query_call(canister, "get", candid.encode_text("(8 : nat)"))) == [None]
    negate = candid.encode_text("(42 : int)")
    assert candid.decode(machine.query_call(canister, "negate", negate)) == ["-42"]
    greet = candid.encode_text('("Sam")')
    assert candid.decode(machine.query_call(canister, "greet", greet)) == ["Hello, Sam"]


def test_missing_package_is_a_build_error_naming_it(tmp_path: Path) -> None:
    project = make_project(tmp_path, 'import X "mo:nope/X";\npersistent actor {};\n')
    try:
        with pytest.raises(MissingPackage, match="package 'nope' is not defined") as error:
            build_canister(project, "app")
    except NodeNotFound as exc:
        pytest.skip(str(exc))
    assert error.value.package == "nope"
    assert not project.output_dir("app").exists()


@pytest.mark.parametrize(
    ("script", "message"),
    [
        ("print('--package tool')", "expected '--package NAME PATH' pairs"),
        ("print('--flag x y')", "printed '--flag x y'"),
        # dfx's words (packtool.bash: "failure in execution reports the command line and exit code")
        ("import sys; sys.exit(3)", "The command '.*tool.py\"' failed with exit status 'exit status: 3'"),
    ],
)
def test_bad_packtool_output_is_refused(tmp_path: Path, script: str, message: str) -> None:
    (tmp_path / "tool.py").write_text(script)
    config = {"defaults": {"build": {"packtool": f"{sys.executable} tool.py"}}}
    project = make_project(tmp_path, "persistent actor {};\n", config)
    with pytest.raises(ProjectError, match=message):
        package_directories(project)


def test_a_packtool_that_cannot_run_is_named_in_dfx_words(tmp_path: Path) -> None:
    """packtool.bash: "failure to invoke the package tool reports the command line and
    reason", its three patterns."""
    config = {"defaults": {"build": {"packtool": "./no-such-command that command cannot be invoked"}}}
    project = make_project(tmp_path, "persistent actor {};\n", config)
    with pytest.raises(ProjectError) as error:
        package_directories(project)
    for pattern in (
        "Failed to invoke the package tool",
        "no-such-command.*that.*command.*cannot.*be.*invoked",
        r"No such file or directory \(os error 2\)",
    ):
        assert re.search(pattern, str(error.value)), (pattern, str(error.value))


def test_packages_map_must_name_directories(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="'packages' must be an object"):
        make_project(tmp_path, "persistent actor {};\n", {"packages": ["a"]})


# The interface of counter_idl, the canister behind dfx's e2e test "basic-project.bash"
# (`dfx canister call hello_backend inc '(...)' --output idl`); this body is written here.
INC = """
import Array "mo:base/Array";
import Char "mo:base/Char";
import Text "mo:base/Text";

persistent actor {
  public type List<T> = ?{ head : T; tail : List<T> };
  public type List2<T> = { #nil; #cons : (T, List2<T>) };

  func up(l : List<Int>) : List<Int> {
    switch l { case null null; case (?cell) ?{ head = cell.head + 1; tail = up(cell.tail) } }
  };
  func up2(l : List2<Int>) : List2<Int> {
    switch l { case (#nil) #nil; case (#cons(h, rest)) #cons(h + 1, up2 rest) }
  };
  public func inc(i : Int, b : Bool, s : Text, v : [Nat], l : List<Int>, l2 : List2<Int>)
    : async (Int, Bool, Text, [Nat], List<Int>, List2<Int>) {
    let next = Text.translate(s, func(c : Char) : Text { Char.toText(Char.fromNat32(Char.toNat32(c) + 1)) });
    (i + 1, not b, next, Array.map<Nat, Nat>(v, func(n : Nat) : Nat { n + 1 }), up l, up2 l2)
  };
};
"""


def test_dfx_e2e_inc_prints_as_dfx_printed_it(tmp_path: Path) -> None:
    """Real moc with mo:base, called with the e2e test's argument; the reply printed in
    dfx's ``--output idl`` form equals what the e2e test asserts dfx printed."""
    project = make_project(tmp_path, INC)
    try:
        built = build_canister(project, "app")
    except NodeNotFound as exc:
        pytest.skip(str(exc))
    service = candid.load_did(str(project.output_dir("app") / "app.did"))
    method = service.method("inc")
    machine = PocketIC()
    canister = machine.create_canister()
    machine.install_code(canister, built.wasm.read_bytes(), b"DIDL\x00\x00")
    argument = (
        '(42,false,"testzZ",vec{1;2;3},opt record{head=42; tail=opt record{head=+43; tail=null}}, '
        "variant { cons=record{ 42; variant { cons=record{43; variant { nil }} } } })"
    )
    reply = machine.update_call(canister, "inc", candid.encode_text(argument, list(method.args)))
    assert candid.decode_to_text(reply, list(method.results), dfx="idl") == (
        '(43 : int, true, "uftu{[", vec { 2 : nat; 3 : nat; 4 : nat;}, opt record { head = 43 : int; '
        "tail = opt record { head = 44 : int; tail = null;};}, variant { cons = record { 43 : int; "
        "variant { cons = record { 44 : int; variant { nil };} };} })"
    )


def test_a_project_package_replaces_a_default_library(tmp_path: Path) -> None:
    """As with mops, a project may bring its own `base`: its files, not the default's."""
    (tmp_path / "mybase").mkdir()
    (tmp_path / "mybase" / "Int.mo").write_text("module { public func answer() : Nat { 42 } };\n")
    source = 'import Int "mo:base/Int";\npersistent actor { public query func q() : async Nat { Int.answer() } };\n'
    project = make_project(tmp_path / "p", source, {"packages": {"base": "../mybase"}})
    try:
        built = build_canister(project, "app")
    except NodeNotFound as exc:
        pytest.skip(str(exc))
    machine = PocketIC()
    canister = machine.create_canister()
    machine.install_code(canister, built.wasm.read_bytes(), b"DIDL\x00\x00")
    assert candid.decode(machine.query_call(canister, "q", b"DIDL\x00\x00")) == [42]


# A ledger as a dfx user writes it against mo:core (Map, Text, Debug, Runtime), then its
# next version, which also brings mo:core/Timer, mo:base (Int, Debug) and new stable variables.
LEDGER_V1 = """
import Map "mo:core/Map";
import Text "mo:core/Text";
import Debug "mo:core/Debug";
import Runtime "mo:core/Runtime";

persistent actor {
  let balances = Map.empty<Text, Nat>();

  public func deposit(who : Text, amount : Nat) : async Nat {
    if (amount == 0) Runtime.trap("deposit of zero for " # who);
    let next = switch (Map.get(balances, Text.compare, who)) { case null amount; case (?b) b + amount };
    Map.add(balances, Text.compare, who, next);
    Debug.print("core: deposit " # who);
    next
  };
  public query func balance(who : Text) : async ?Nat { Map.get(balances, Text.compare, who) };
};
"""

LEDGER_V2 = LEDGER_V1.replace(
    'import Runtime "mo:core/Runtime";',
    'import Runtime "mo:core/Runtime";\nimport Timer "mo:core/Timer";\n'
    'import Int "mo:base/Int";\nimport BaseDebug "mo:base/Debug";',
).replace(
    "  public query func balance",
    """  var spent : Int = 0;
  var interest_paid : Nat = 0;
  public func spend(who : Text, amount : Nat) : async Text {
    spent += amount;
    BaseDebug.print("base: spend " # who);
    let left : Int = switch (Map.get(balances, Text.compare, who)) { case null 0; case (?b) b };
    Int.toText(left - spent)
  };
  public func payInterestIn(seconds : Nat, who : Text) : async () {
    ignore Timer.setTimer<system>(#seconds seconds, func() : async () {
      interest_paid += 1;
      let b = switch (Map.get(balances, Text.compare, who)) { case null 0; case (?b) b };
      Map.add(balances, Text.compare, who, b + 1);
    });
  };
  public query func interestPaid() : async Nat { interest_paid };
  public query func balance""",
)


@pytest.fixture(scope="module")
def ledger_v1() -> MotokoCanister:
    try:
        return compile_motoko(LEDGER_V1)
    except NodeNotFound as exc:
        pytest.skip(str(exc))


def logs(machine: PocketIC, canister: Principal) -> list[str]:
    return [record.content.decode() for record in machine.fetch_canister_logs(canister)]


def test_core_runtime_trap_and_debug_print(ledger_v1: MotokoCanister) -> None:
    machine = PocketIC()
    canister = machine.create_and_install_canister(ledger_v1.wasm)
    deposit = candid.encode_text('("ada", 5 : nat)')
    assert candid.decode(machine.update_call(canister, "deposit", deposit)) == [5]
    with pytest.raises(RejectError, match="deposit of zero for bob") as trapped:
        machine.update_call(canister, "deposit", candid.encode_text('("bob", 0 : nat)'))
    assert trapped.value.code == RejectCode.CANISTER_ERROR
    assert candid.decode(machine.query_call(canister, "balance", candid.encode_text('("bob")'))) == [None]
    assert logs(machine, canister)[0] == "core: deposit ada"


def test_core_to_base_upgrade_keeps_state(ledger_v1: MotokoCanister) -> None:
    """v1 (mo:core) upgraded to v2 (mo:core and mo:base): moc's own stable-compatibility
    check passes (a stable variable added), dfx's Candid check passes (a method added), and
    the Map built by v1 is there after the upgrade, which keeps the Wasm memory (EOP)."""
    v2 = compile_motoko(LEDGER_V2)
    assert ledger_v1.stable_types != v2.stable_types and "spent : Int" in v2.stable_types
    assert check_upgrade(upgrade_metadata(ledger_v1.wasm), upgrade_metadata(v2.wasm)) == []
    machine = PocketIC()
    canister = machine.create_and_install_canister(ledger_v1.wasm)
    machine.update_call(canister, "deposit", candid.encode_text('("ada", 7 : nat)'))
    with pytest.raises(RejectError, match="Enhanced orthogonal persistence requires"):
        machine.upgrade_canister(canister, v2.wasm)  # without `keep`, as the IC refuses it
    machine.upgrade_canister(canister, v2.wasm, wasm_memory_persistence="keep")
    assert candid.decode(machine.query_call(canister, "balance", candid.encode_text('("ada")'))) == [
        candid.Some(7)
    ]
    spend = candid.encode_text('("ada", 10 : nat)')
    assert candid.decode(machine.update_call(canister, "spend", spend)) == ["-3"]
    assert logs(machine, canister)[-1] == "base: spend ada"

    # mo:core/Timer: a one-shot timer runs on the round after its time, not before
    machine.update_call(canister, "payInterestIn", candid.encode_text('(60 : nat, "ada")'))
    machine.advance_time(59 * 10**9)
    machine.tick()
    assert candid.decode(machine.query_call(canister, "interestPaid", b"DIDL\x00\x00")) == [0]
    machine.advance_time(2 * 10**9)
    machine.tick()
    assert candid.decode(machine.query_call(canister, "interestPaid", b"DIDL\x00\x00")) == [1]
    ada = candid.encode_text('("ada")')
    assert candid.decode(machine.query_call(canister, "balance", ada)) == [candid.Some(8)]
