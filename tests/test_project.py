import json
from pathlib import Path

import pytest

from client.canister_ids import CanisterIds, CanisterIdsError
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
    with pytest.raises(ProjectError, match="no subnet.json"):
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
