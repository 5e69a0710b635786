"""dfx's rules for the install options of `deploy` and `canister install`, with its words.

The expected messages are dfx's (dfinity/sdk ``src/dfx/src/util/clap/install_mode.rs``,
``src/dfx/src/commands/deploy.rs`` and ``commands/canister/install.rs``), as its e2e tests
assert them (``e2e/tests-dfx/deploy.bash``: "specify upgrade options"). Each refusal comes
before anything is read or sent: these run in an empty directory, with no project and no
subnet, and leave it empty.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from client.deploy import InstallOptions
from subnet.cli import main
from vocab.errors import SubnetError

UPGRADE_ONLY = (
    "--skip-pre-upgrade and --wasm-memory-persistence can only be used with mode 'upgrade' or 'auto'."
)


@pytest.mark.parametrize(
    "argv",
    [
        ["deploy", "--mode", "install", "--skip-pre-upgrade"],
        ["deploy", "hello_backend", "--mode", "reinstall", "--wasm-memory-persistence", "keep"],
        ["canister", "install", "hello_backend", "--mode", "install", "--wasm-memory-persistence", "replace"],
        ["canister", "install", "hello_backend", "-m", "reinstall", "--skip-pre-upgrade"],
    ],
)
def test_upgrade_options_need_mode_upgrade_or_auto(
    argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 1
    assert capsys.readouterr().err == f"Error: {UPGRADE_ONLY}\n"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("argv", "what"),
    [
        (["deploy", "--mode", "reinstall", "--yes"], "deploying"),
        (["canister", "install", "--all", "--mode=reinstall"], "specifying"),
    ],
)
def test_a_reinstall_names_one_canister(
    argv: list[str],
    what: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 1
    assert capsys.readouterr().err == (
        f"Error: The --mode=reinstall is only valid when {what} a single canister, because "
        "reinstallation destroys all data in the canister.\n"
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "options",
    [
        InstallOptions(mode="auto", skip_pre_upgrade=True),  # a hint: ignored when the canister is empty
        InstallOptions(mode="auto", wasm_memory_persistence="keep"),
        InstallOptions(mode="upgrade", skip_pre_upgrade=True, wasm_memory_persistence="replace"),
        InstallOptions(mode="reinstall"),
        InstallOptions(mode="install"),
    ],
)
def test_what_dfx_accepts(options: InstallOptions) -> None:
    options.check(single_canister=True)


def test_an_unknown_mode_is_named() -> None:
    with pytest.raises(SubnetError, match="unknown install mode 'sideways'"):
        InstallOptions(mode="sideways").check(single_canister=True)
