import json
from pathlib import Path

import pytest

from client.canister_ids import CanisterIds, CanisterIdsError
from client.motoko import NodeNotFound
from client.project import Project, ProjectError
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
