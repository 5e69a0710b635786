"""`make demo`: a walkthrough of what the subnet can do today, using its own commands.

It runs against a throwaway config directory under `.subnet/demo/`, so it never touches
the user's identities. Each step prints the command it runs, the way a user would type it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os
import shutil
import sys
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from client.identity import IdentityStore
from subnet import crypto
from subnet.cli import main as subnet_main
from subnet.codec import decode_frame, encode_message
from subnet.envelope import SignedEnvelope
from subnet.errors import EnvelopeError
from subnet.messages import SubmitRequest
from subnet.principal import CanisterId, Principal
from subnet.request import RequestContent

DEMO_TIME_NS = 1_700_000_000_000_000_000
"""The demo's fixed 'now': nothing here reads a clock."""


def run(*argv: str) -> str:
    print(f"$ subnet {' '.join(argv)}")
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = subnet_main(list(argv))
    output = buffer.getvalue()
    print(output.rstrip("\n") if output.strip() else "", end="\n" if output.strip() else "")
    if code != 0:
        raise SystemExit(f"demo step failed with exit code {code}: subnet {' '.join(argv)}")
    return output


def main() -> int:
    root = Path(".subnet") / "demo"
    shutil.rmtree(root, ignore_errors=True)
    os.environ["SUBNET_CONFIG_DIR"] = str(root / "config")

    print("== Identities: Ed25519 keys, an IC principal and a Sui address each ==")
    key_file = root / "rfc8032-key1.pem"
    key_file.parent.mkdir(parents=True, exist_ok=True)
    rfc_key = crypto.private_key_from_seed(bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"))
    key_file.write_bytes(
        rfc_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    run("identity", "import", "rfc8032", str(key_file))
    run("identity", "get-principal")
    run("identity", "new", "alice")
    run("identity", "use", "alice")
    run("identity", "list")
    run("identity", "get-address")

    print("\n== A signed request, as a replica's ingress would check it ==")
    alice = IdentityStore().load("alice")
    content = RequestContent(
        request_type="call",
        sender=alice.principal,
        canister_id=CanisterId(0).principal,
        method_name="greet",
        arg=b"DIDL\x00\x01\x71\x03Sam",
        ingress_expiry=DEMO_TIME_NS + 120 * 10**9,
    )
    envelope = SignedEnvelope.sign(content, alice.key)
    frame = encode_message(SubmitRequest(envelope))
    print(f"request id        {envelope.request_id.hex()}")
    print(f"sender            {content.sender}")
    print(f"canister          {content.canister_id}")
    print(f"wire frame        {len(frame)} bytes (msgpack, length-prefixed)")
    received = decode_frame(frame)
    assert isinstance(received, SubmitRequest)
    received.envelope.verify(DEMO_TIME_NS)
    print("verification      ok: key matches sender, signature valid, expiry within 5 minutes")

    tampered = dataclasses.replace(envelope, content=dataclasses.replace(content, arg=b"DIDL\x00\x01\x71\x03Bob"))
    impostor = dataclasses.replace(envelope, content=dataclasses.replace(content, sender=Principal.anonymous()))
    for label, candidate, now in (
        ("tampered arg", tampered, DEMO_TIME_NS),
        ("10 minutes later", envelope, DEMO_TIME_NS + 600 * 10**9),
        ("claims anonymous", impostor, DEMO_TIME_NS),
    ):
        try:
            candidate.verify(now)
        except EnvelopeError as exc:
            print(f"{label:<18}rejected ({exc.reason}): {exc.message}")
        else:
            raise SystemExit(f"demo: {label} was accepted, which is a bug")
    print("\nDone. Identities for this demo live in", root / "config")
    return 0


if __name__ == "__main__":
    sys.exit(main())
