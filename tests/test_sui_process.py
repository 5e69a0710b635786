"""Sui packages on four replica processes, the way a `sui client` user works: publish,
shared and owned calls, a transfer to another identity, another's object refused, a
frozen object refused as mutable, reads agreed by every replica, and after the subnet
stops every replica rebuilds the same state from its own disk.

Real processes in real time: waits are on certified replies, never fixed sleeps. The
`subnet` command runs in this process (``subnet.cli.main``) to spare a Python start per
command; the replicas are processes.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from client.network import LOCAL_DIR
from subnet.cli import main
from tests.processes import restored_state_hashes

EXAMPLES = Path(__file__).parent / "move_examples"

pytestmark = pytest.mark.processes


class Cli:
    """``subnet ARGV`` in this process, in the project directory; (exit code, out, err)."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys

    def __call__(self, *argv: str, check: bool = True) -> tuple[int, str, str]:
        self.capsys.readouterr()
        code = main(list(argv))
        out, err = self.capsys.readouterr()
        if check and code != 0:
            raise AssertionError(f"subnet {' '.join(argv)} failed: {out}\n{err}")
        return code, out, err

    def json(self, *argv: str, identity: str | None = None, check: bool = True) -> Any:
        prefix = ("--identity", identity) if identity else ()
        _, out, _ = self(*prefix, "client", *argv, "--output", "json", check=check)
        return json.loads(out)


def created(response: dict[str, Any], type_suffix: str) -> str:
    (change,) = [
        c
        for c in response["objectChanges"]
        if c["type"] == "created" and c["objectType"].endswith(type_suffix)
    ]
    return str(change["objectId"])


def test_publish_call_transfer_and_ownership_on_four_processes(
    local_subnet: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    workdir = local_subnet
    monkeypatch.chdir(workdir)
    cli = Cli(capsys)
    client_json = cli.json
    for name in ("owned", "counter"):
        shutil.copytree(EXAMPLES / name, workdir / name)
    alice = cli.json("active-address")
    cli("identity", "new", "bob")
    bob = cli("--identity", "bob", "client", "active-address")[1].strip()
    assert alice.startswith("0x") and len(alice) == 66 and bob != alice

    published = client_json("publish", "owned")
    assert published["effects"]["status"] == {"status": "success"}
    package = next(c["packageId"] for c in published["objectChanges"] if c["type"] == "published")
    admin = created(published, "::transfer_to_sender::AdminCap")  # made by init for the sender
    assert "upgrade-capability" in (workdir / "owned" / "Published.toml").read_text()

    def call(function: str, *args: str, identity: str | None = None, check: bool = True) -> Any:
        argv = ["call", "--package", package, "--module", "transfer_to_sender", "--function", function]
        return client_json(*argv, "--args", *args, identity=identity, check=check)

    gift = created(call("mint_and_transfer", admin, "@" + alice), "::Gift")
    sent = client_json("transfer", "--object-id", gift, "--to", bob)
    assert sent["effects"]["status"]["status"] == "success"
    # Owned objects and publishing take the fast path (certificates, no waiting for a block).
    assert published["path"] == sent["path"] == "fast" and sent["latencyMs"] > 0
    read = client_json("object", gift, "--replicas-agree", "4")
    assert read["owner"] == {"AddressOwner": bob} and read["type"].endswith("::Gift")
    assert gift in [o["objectId"] for o in client_json("objects", bob, "--replicas-agree", "4")]

    # alice no longer owns the gift: refused before it runs, with Sui's name
    code, _, err = cli("client", "transfer", "--object-id", gift, "--to", alice, check=False)
    assert code == 1 and "[IncorrectUserSignature]" in err, err
    # bob can freeze his gift; a frozen object cannot be taken by value afterwards
    frozen = call("freeze_gift", gift, identity="bob")
    assert frozen["effects"]["status"]["status"] == "success"
    assert client_json("object", gift)["owner"] == "Immutable"
    config = created(call("create_and_freeze", admin, "hello"), "::Config")
    code, out, err = cli(
        "client", "call", "--package", package, "--module", "transfer_to_sender",
        "--function", "delete_config", "--args", config,
        check=False,
    )  # fmt: skip
    assert code == 1, out + err
    assert client_json("object", config)["content"]["fields"]["message"] == "hello"

    # freeze then mutate: a Note (examples/sui/owned) frozen by its owner refuses `update`
    shutil.copytree(Path(__file__).resolve().parents[1] / "examples" / "sui" / "owned", workdir / "notes")
    notes = next(
        c["packageId"] for c in client_json("publish", "notes")["objectChanges"] if c["type"] == "published"
    )
    note_call = ["call", "--package", notes, "--module", "note", "--function"]
    note = created(client_json(*note_call, "create", "--args", "hello"), "::note::Note")
    assert (
        client_json(*note_call, "update", "--args", note, "edited")["effects"]["status"]["status"]
        == "success"
    )
    client_json(*note_call, "freeze", "--args", note)
    code, _, err = cli("client", *note_call, "update", "--args", note, "again", check=False)
    assert code == 1 and "InvalidObjectByMutRef" in err, err
    assert client_json("object", note)["content"]["fields"]["text"] == "edited"

    # a shared counter, used by both identities
    counter_pkg = next(
        c["packageId"] for c in client_json("publish", "counter")["objectChanges"] if c["type"] == "published"
    )

    def counter(function: str, *args: str, identity: str | None = None, check: bool = True) -> Any:
        argv = ["call", "--package", counter_pkg, "--module", "counter", "--function", function]
        return client_json(*argv, *(("--args", *args) if args else ()), identity=identity, check=check)

    shared = created(counter("create"), "::Counter")
    assert counter("increment", shared)["path"] == "consensus"  # a shared object: consensus
    counter("increment", shared, identity="bob")
    failed = counter("set_value", shared, "9", identity="bob", check=False)  # only the owner may
    assert (
        failed["effects"]["status"]["status"] == "failure"
        and "set_value" in failed["effects"]["status"]["error"]
    )
    counter("set_value", shared, "40")
    counter("increment", shared, identity="bob")
    assert client_json("object", shared, "--replicas-agree", "4")["content"]["fields"]["value"] == "41"

    cli("stop")
    assert len(restored_state_hashes(workdir / LOCAL_DIR)) == 1


def test_upgrade_a_package_on_four_processes(
    local_subnet: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`subnet client upgrade` as `sui client upgrade`: the capability from Published.toml,
    an incompatible build refused before sending with Sui's problem names, a compatible one
    upgraded in place; the old version keeps its id and still runs, objects carry on."""
    workdir = local_subnet
    monkeypatch.chdir(workdir)
    cli = Cli(capsys)
    package_dir = workdir / "counter"
    shutil.copytree(Path(__file__).resolve().parents[1] / "examples" / "sui" / "counter", package_dir)
    source = package_dir / "sources" / "counter.move"
    v1 = source.read_text()
    published = cli.json("publish", str(package_dir))
    old = next(c["packageId"] for c in published["objectChanges"] if c["type"] == "published")
    counter = created(
        cli.json("call", "--package", old, "--module", "counter", "--function", "create"),
        "::counter::Counter",
    )

    # dropping a public function is refused here, before anything is sent
    source.write_text(
        v1.replace(
            "public fun owner(counter: &Counter): address {", "fun owner(counter: &Counter): address {"
        )
    )
    code, _, err = cli("client", "upgrade", str(package_dir), check=False)
    assert code == 1 and "FunctionLostPublicVisibility in counter::owner" in err, err
    assert "--skip-verify-compatibility" in err

    source.write_text(v1.replace("const VERSION: u64 = 1;", "const VERSION: u64 = 2;"))
    upgraded = cli.json("upgrade", str(package_dir))
    assert upgraded["effects"]["status"] == {"status": "success"}
    new = next(c["packageId"] for c in upgraded["objectChanges"] if c["type"] == "published")
    assert new != old and "version = 2" in (package_dir / "Published.toml").read_text()
    assert f'original-id = "{old}"' in (package_dir / "Published.toml").read_text()

    def increment(package: str) -> Any:
        argv = [
            "call",
            "--package",
            package,
            "--module",
            "counter",
            "--function",
            "increment",
            "--args",
            counter,
        ]
        return cli.json(*argv, check=False)

    assert increment(old)["effects"]["status"]["status"] == "success"  # v1 stays callable
    refused = increment(new)["effects"]["status"]  # the counter is still at version 1
    assert refused["status"] == "failure" and "increment" in refused["error"] and "code 1" in refused["error"]
    assert cli.json("object", counter, "--replicas-agree", "4")["content"]["fields"]["value"] == "1"
