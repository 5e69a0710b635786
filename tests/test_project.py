import json
from pathlib import Path

import pytest

from client.canister_ids import CanisterIds, CanisterIdsError
from client.motoko import NodeNotFound
from client.network import LOCAL_DIR, local_root
from client.project import Project, ProjectError, project_root
from subnet.cli import main
from vocab.principal import CanisterId


def test_new_scaffolds_a_motoko_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["new", "hello"]) == 0
    project = Project.find(tmp_path / "hello" / "src")
    backend = project.canister("hello_backend")
    assert backend.type == "motoko"
    assert "greet" in backend.main.read_text()
    assert main(["new", "hello"]) == 1
    assert "already exists" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({}, "'canisters' must be an object"),
        ({"canisters": {"a": {"type": "rust"}}}, "canisters.a.type must be one of"),
        ({"canisters": {"a": {"type": "motoko"}}}, "canisters.a.main must be a path"),
        ({"canisters": {"a": {"type": "custom", "wasm": "a.wasm"}}}, "canisters.a.candid must be a path"),
    ],
)
def test_bad_project_files_name_the_field(tmp_path: Path, config: dict, message: str) -> None:
    (tmp_path / "subnet.json").write_text(json.dumps(config))
    with pytest.raises(ProjectError, match=message):
        Project.find(tmp_path)


def test_no_project_file(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="no subnet.json or dfx.json"):
        Project.find(tmp_path)


def test_canister_ids_json_in_dfx_format(tmp_path: Path) -> None:
    ids = CanisterIds.in_directory(tmp_path)
    ids.set("backend", "local", CanisterId(1).principal)
    assert json.loads((tmp_path / "canister_ids.json").read_text()) == {
        "backend": {"local": "rrkah-fqaaa-aaaaa-aaaaq-cai"}
    }
    again = CanisterIds.in_directory(tmp_path)
    assert again.resolve("backend", "local") == CanisterId(1).principal
    assert again.resolve("ryjl3-tyaaa-aaaaa-aaaba-cai", "local") == CanisterId(2).principal
    with pytest.raises(CanisterIdsError, match="unknown canister 'frontend'"):
        again.resolve("frontend", "local")
    with pytest.raises(CanisterIdsError, match="unknown canister 'backend' on network 'ic'"):
        again.resolve("backend", "ic")
    again.remove("backend", "local")
    assert CanisterIds.in_directory(tmp_path).names("local") == []


DFX_JSON = {
    "version": 1,
    "canisters": {"hello_backend": {"type": "motoko", "main": "src/hello_backend/main.mo"}},
    "defaults": {"build": {"packtool": "", "args": ""}},
    "output_env_file": ".env",
}


def test_a_dfx_json_project_builds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A project as `dfx new` writes it: only a dfx.json, read with the same keys."""
    monkeypatch.chdir(tmp_path)
    assert main(["new", "hello"]) == 0
    root = tmp_path / "hello"
    (root / "subnet.json").unlink()
    (root / "dfx.json").write_text(json.dumps(DFX_JSON))
    project = Project.find(root / "src")
    assert project.file == root / "dfx.json" and project.notice() is None
    assert project.packtool is None and project.packages == {}
    monkeypatch.chdir(root)
    capsys.readouterr()
    try:
        assert main(["build"]) == 0
    except NodeNotFound as exc:
        pytest.skip(str(exc))
    out, err = capsys.readouterr()
    assert "hello_backend: built" in out and err == ""
    assert (root / ".subnet" / "local" / "canisters" / "hello_backend" / "hello_backend.wasm").is_file()


def test_subnet_json_wins_over_dfx_json_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "subnet.json").write_text(
        json.dumps({"canisters": {"a": {"type": "motoko", "main": "a.mo"}}})
    )
    (tmp_path / "dfx.json").write_text(json.dumps({"canisters": {"b": {"type": "motoko", "main": "b.mo"}}}))
    project = Project.find(tmp_path)
    assert list(project.canisters) == ["a"] and project.file == tmp_path / "subnet.json"
    assert project.notice() == (
        f"using {tmp_path / 'subnet.json'} (not {tmp_path / 'dfx.json'}: when both exist, subnet.json is used)"
    )
    monkeypatch.chdir(tmp_path)
    assert main(["build"]) == 1  # a.mo does not exist: the notice comes first all the same
    err = capsys.readouterr().err
    assert err.startswith(f"using {tmp_path / 'subnet.json'}") and "a.mo" in err


def test_dfx_json_canister_types_subnet_does_not_build_are_named(tmp_path: Path) -> None:
    (tmp_path / "dfx.json").write_text(
        json.dumps({"canisters": {"web": {"type": "assets", "source": ["dist"]}}})
    )
    with pytest.raises(ProjectError, match=r"dfx.json: canisters.web.type must be one of motoko, custom"):
        Project.find(tmp_path)


# -- dependencies (dfx.json's "dependencies", `import X "canister:x"`) ----------------------------


def _deps_project(tmp_path: Path, canisters: dict) -> Path:
    (tmp_path / "subnet.json").write_text(json.dumps({"canisters": canisters}))
    return tmp_path / "subnet.json"


def test_dependencies_give_the_build_order(tmp_path: Path) -> None:
    path = _deps_project(
        tmp_path,
        {
            "a": {"type": "motoko", "main": "a.mo", "dependencies": ["c", "b"]},
            "b": {"type": "motoko", "main": "b.mo", "dependencies": ["c"]},
            "c": {"type": "motoko", "main": "c.mo"},
            "d": {"type": "motoko", "main": "d.mo"},
        },
    )
    project = Project.load(path)
    assert project.canister("a").dependencies == ("c", "b")
    assert project.build_order(["a"]) == ["c", "b", "a"]
    assert project.build_order(["d", "a", "b"]) == ["d", "c", "b", "a"]


def test_a_dependency_cycle_or_an_unknown_dependency_is_refused(tmp_path: Path) -> None:
    path = _deps_project(
        tmp_path,
        {
            "a": {"type": "motoko", "main": "a.mo", "dependencies": ["b"]},
            "b": {"type": "motoko", "main": "b.mo", "dependencies": ["a"]},
        },
    )
    with pytest.raises(ProjectError, match="dependencies form a cycle: a -> b -> a"):
        Project.load(path)
    path = _deps_project(tmp_path, {"a": {"type": "motoko", "main": "a.mo", "dependencies": ["nope"]}})
    with pytest.raises(ProjectError, match="no canister 'nope' in the project"):
        Project.load(path)
    path = _deps_project(tmp_path, {"a": {"type": "motoko", "main": "a.mo", "dependencies": "b"}})
    with pytest.raises(ProjectError, match="must be a list of canister names"):
        Project.load(path)


def test_build_tells_moc_the_dependencys_id_and_candid(tmp_path: Path) -> None:
    from client.build import build_canister
    from client.motoko import MotokoError

    for name, text in (
        ("callee", "persistent actor { public func double(n : Nat) : async Nat { n * 2 } };\n"),
        (
            "caller",
            'import C "canister:callee";\npersistent actor { public func go(n : Nat) : async Nat { await C.double(n) } };\n',
        ),
    ):
        (tmp_path / name).mkdir()
        (tmp_path / name / "main.mo").write_text(text)
    project = Project.load(
        _deps_project(
            tmp_path,
            {
                "callee": {"type": "motoko", "main": "callee/main.mo"},
                "caller": {"type": "motoko", "main": "caller/main.mo", "dependencies": ["callee"]},
            },
        )
    )
    callee_id = CanisterId(7).principal
    ids = {"callee": callee_id}
    with pytest.raises(ProjectError, match="'callee' .* is missing: build 'callee' first"):
        build_canister(project, "caller", ids.get)
    try:
        build_canister(project, "callee", ids.get)
    except NodeNotFound as exc:
        pytest.skip(str(exc))
    with pytest.raises(ProjectError, match="dependency 'callee' has no canister id yet"):
        build_canister(project, "caller", {}.get)
    built = build_canister(project, "caller", ids.get)
    did = (project.output_dir("caller") / "caller.did").read_text()
    assert "go: (n: nat) -> (nat);" in did
    # the callee's id is compiled into the caller: its 10 raw bytes appear in the module
    assert callee_id.raw in built.wasm.read_bytes()
    # without the dependency listed, the import is an error that says what to add
    alone = Project.load(_deps_project(tmp_path, {"caller": {"type": "motoko", "main": "caller/main.mo"}}))
    with pytest.raises(MotokoError, match="needs 'callee' in this canister's 'dependencies'"):
        build_canister(alone, "caller", ids.get)


def test_commands_in_a_subdirectory_use_the_project_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """As dfx finds its project from any subdirectory (its e2e "deploy from a
    subdirectory"), canister_ids.json and the local subnet are the project root's."""
    (tmp_path / "outside").mkdir()
    monkeypatch.chdir(tmp_path / "outside")
    assert project_root() == tmp_path / "outside" and local_root() == tmp_path / "outside" / LOCAL_DIR

    monkeypatch.chdir(tmp_path)
    assert main(["new", "hello"]) == 0
    root = (tmp_path / "hello").resolve()
    CanisterIds.in_directory(root).set("hello_backend", "local", CanisterId(7).principal)
    (root / "src" / "deep").mkdir(parents=True)
    monkeypatch.chdir(root / "src" / "deep")
    assert project_root() == root
    assert local_root() == root / LOCAL_DIR
    assert CanisterIds.in_directory().path == root / "canister_ids.json"
    capsys.readouterr()
    assert main(["canister", "id", "hello_backend"]) == 0
    assert capsys.readouterr().out.strip() == CanisterId(7).principal.to_text()
    # no subnet running: the error names the project root's .subnet, not the subdirectory's
    assert main(["canister", "status", "hello_backend"]) == 1
    assert str(root / LOCAL_DIR / "genesis.json") in capsys.readouterr().err
    assert not (root / "src" / "deep" / ".subnet").exists()
