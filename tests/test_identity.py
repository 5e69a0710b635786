"""The identity commands, run through the real entry point against a temporary config dir."""

import json
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from subnet.cli import main
from tests import vectors
from vocab import crypto


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "config"
    monkeypatch.setenv("SUBNET_CONFIG_DIR", str(root))
    return root


@pytest.fixture
def rfc_pem(tmp_path: Path) -> Path:
    key = crypto.private_key_from_seed(vectors.RFC8032_KEY1_SEED)
    path = tmp_path / "rfc.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def snapshot(root: Path) -> dict[str, bytes]:
    if not root.exists():
        return {}
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_import_rfc8032_key_then_get_principal(
    config: Path, rfc_pem: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "identity", "import", "rfc", str(rfc_pem))[0] == 0
    code, out, _ = run(capsys, "identity", "get-principal")
    assert (code, out.strip()) == (0, vectors.RFC8032_KEY1_PRINCIPAL)
    pem = config / "identity" / "rfc" / "identity.pem"
    assert stat.S_IMODE(pem.stat().st_mode) == 0o600
    assert pem.read_bytes() == rfc_pem.read_bytes()


def test_default_identity_on_first_use(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "identity", "whoami")
    assert (code, out.strip()) == (0, "default")
    assert (config / "identity" / "default" / "identity.pem").is_file()
    code, out, _ = run(capsys, "identity", "list")
    assert out.splitlines() == ["default *"]


def test_new_use_list_whoami_export_remove(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "identity", "whoami")
    code, alice_principal, _ = run(capsys, "identity", "new", "alice")
    assert code == 0
    assert run(capsys, "identity", "use", "alice")[0] == 0
    assert run(capsys, "identity", "list")[1].splitlines() == ["alice *", "default"]
    assert json.loads(run(capsys, "identity", "list", "--output", "json")[1]) == {
        "current": "alice",
        "identities": ["alice", "default"],
    }
    assert run(capsys, "identity", "get-principal")[1] == alice_principal
    assert run(capsys, "--identity", "default", "identity", "whoami")[1].strip() == "default"
    assert run(capsys, "identity", "whoami", "--identity", "default")[1].strip() == "default"
    code, pem, _ = run(capsys, "identity", "export", "alice")
    assert code == 0 and pem.startswith("-----BEGIN PRIVATE KEY-----")
    address = run(capsys, "identity", "get-address")[1].strip()
    assert address.startswith("0x") and len(address) == 66
    assert run(capsys, "identity", "remove", "default")[0] == 0
    assert run(capsys, "identity", "list")[1].splitlines() == ["alice *"]


def test_new_with_force_replaces(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = run(capsys, "identity", "new", "bob")[1]
    second = run(capsys, "identity", "new", "bob", "--force")[1]
    assert first != second


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("identity", "use", "ghost"), "unknown identity 'ghost'"),
        (("identity", "export", "ghost"), "unknown identity 'ghost'"),
        (("identity", "remove", "ghost"), "unknown identity 'ghost'"),
        (("identity", "new", "alice"), "already exists"),
        (("identity", "remove", "alice"), "current identity"),
        (("identity", "new", "../evil"), "invalid identity name"),
        (("--identity", "ghost", "identity", "get-principal"), "unknown identity 'ghost'"),
    ],
)
def test_errors_exit_non_zero_and_write_nothing(
    config: Path, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], message: str
) -> None:
    run(capsys, "identity", "new", "alice")
    before = snapshot(config)
    code, _, err = run(capsys, *argv)
    assert code != 0
    assert message in err
    assert snapshot(config) == before


def test_importing_something_that_is_not_an_ed25519_key(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ecdsa = tmp_path / "ecdsa.pem"
    ecdsa.write_bytes(
        ec.generate_private_key(ec.SECP256K1()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("hello")
    for path, message in (
        (ecdsa, "not an Ed25519 private key"),
        (garbage, "not a PEM private key"),
        (tmp_path / "missing.pem", "cannot read"),
    ):
        code, _, err = run(capsys, "identity", "import", "x", str(path))
        assert code != 0 and message in err
    assert snapshot(config) == {}
