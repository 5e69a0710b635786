"""dfx's own asset canister (``src/distributed/assetstorage.wasm.gz`` in dfinity/sdk, the
module ``dfx deploy`` installs for frontend canisters) on the subnet: a file stored through
``store`` comes back from the ``http_request`` query with its ``IC-Certificate`` header,
and the certificate proves the body: the subnet's data certificate vouches for the
canister's certified data, which is the root of the header's tree, in which
``/http_assets/<path>`` is the body's SHA-256 (the response certification v1 that HTTP
gateways check).

The module is not a committed fixture: the test runs where it is on the machine, named by
``SUBNET_ASSETSTORAGE_WASM`` or in dfx's cache (``~/.cache/dfinity/versions/*/``), and is
skipped otherwise, saying so."""

from __future__ import annotations

import base64
import hashlib
import os
import re
from pathlib import Path

import cbor2
import pytest

from tests.test_canister_consensus import SimClient, simulation
from vocab import candid
from vocab.certificate import verify_data_certificate
from vocab.hash_tree import from_cbor_value, lookup, reconstruct

# The two methods' types, from assetstorage.did (dfinity/sdk, src/distributed/).
STORE = candid.parse_types(
    "(record { key: text; content_type: text; content_encoding: text; content: blob; sha256: opt blob })"
)
HTTP_REQUEST = candid.parse_types(
    "(record { method: text; url: text; headers: vec record { text; text }; body: blob;"
    " certificate_version: opt nat16 })"
)
HTTP_RESPONSE = candid.parse_types(
    "(record { status_code: nat16; headers: vec record { text; text }; body: blob;"
    " streaming_strategy: opt variant { Callback: record { callback: func (record {}) -> () query;"
    " token: record { key: text; content_encoding: text; index: nat; sha256: opt blob } } };"
    " upgrade: opt bool })"
)


def _asset_canister() -> bytes:
    named = os.environ.get("SUBNET_ASSETSTORAGE_WASM")
    candidates = (
        [Path(named)] if named else sorted(Path.home().glob(".cache/dfinity/versions/*/assetstorage.wasm.gz"))
    )
    for path in candidates:
        if path.is_file():
            return path.read_bytes()
    pytest.skip(
        "dfx's asset canister is not on this machine: set SUBNET_ASSETSTORAGE_WASM to its "
        "assetstorage.wasm.gz (dfinity/sdk src/distributed/) or install dfx"
    )


def test_the_asset_canister_serves_a_file_with_a_certificate_that_proves_it() -> None:
    wasm = _asset_canister()
    sim = simulation(21)
    client = SimClient(sim)
    canister = client.create()
    assert client.install(canister, wasm, "install").status == "replied"
    body = b"hello from dfx's asset canister\n"
    store = {
        "key": "/hello.txt",
        "content_type": "text/plain",
        "content_encoding": "identity",
        "content": body,
    }
    client.ok(canister, "store", candid.encode([{**store, "sha256": None}], STORE))
    client.settle()

    request = {"method": "GET", "url": "/hello.txt", "headers": [], "body": b"", "certificate_version": None}
    query = client.envelope(
        canister, "http_request", candid.encode([request], HTTP_REQUEST), request_type="query"
    )
    answer = sim.replicas[2].query(query, sim.now)
    assert answer.status == "replied", answer
    (response,) = candid.decode(answer.reply, HTTP_RESPONSE)
    assert response["status_code"] == 200 and bytes(response["body"]) == body
    headers = {name.lower(): value for name, value in ((h[0], h[1]) for h in response["headers"])}
    assert headers["content-type"] == "text/plain"
    found = re.fullmatch(r"certificate=:([^:]*):, tree=:([^:]*):", headers["ic-certificate"])
    assert found is not None, headers["ic-certificate"]
    certificate, tree_blob = (base64.b64decode(part) for part in found.groups())

    proven = verify_data_certificate(certificate, sim.genesis.committee, canister)
    tree = from_cbor_value(cbor2.loads(tree_blob))
    assert reconstruct(tree) == proven.certified_data  # the canister certified this tree
    assert lookup(tree, [b"http_assets", b"/hello.txt"]) == ("found", hashlib.sha256(body).digest())
