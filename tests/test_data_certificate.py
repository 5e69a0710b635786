"""Data certificates: a canister's certified data (``ic0.certified_data_set`` in an
update) comes back to its queries as an IC-format certificate (``ic0.data_certificate_*``:
a self-described CBOR map with the subnet's state tree pruned to
``/canister/<id>/certified_data`` and ``/time``, signed by a quorum), which a client checks
against the committee alone. The canister is Motoko compiled by the real ``moc``, using
``mo:core/CertifiedData``; the subnet runs in virtual time."""

from __future__ import annotations

import cbor2
import pytest

from client.motoko import MotokoCanister
from tests.test_canister_consensus import SimClient, compiled, simulation
from tests.test_motoko import UNIT
from vocab import candid
from vocab.candid.types import BLOB, OptType
from vocab.certificate import CertificateError, verify_data_certificate
from vocab.hash_tree import from_cbor_value, lookup

CERTIFIED = """
import CertifiedData "mo:core/CertifiedData";
import Blob "mo:core/Blob";

persistent actor {
  public func certify(data : Blob) : async () { CertifiedData.set(data) };
  public query func certificate() : async ?Blob { CertifiedData.getCertificate() };
};
"""


@pytest.fixture(scope="module")
def canister_wasm() -> MotokoCanister:
    return compiled(CERTIFIED)


def _certificate(reply: bytes) -> bytes | None:
    (value,) = candid.decode(reply, [OptType(BLOB)])
    return None if value is None else bytes(value.value)


def test_a_query_gets_a_certificate_of_the_canisters_certified_data(canister_wasm: MotokoCanister) -> None:
    sim = simulation(11)
    client = SimClient(sim)
    canister = client.create()
    assert client.install(canister, canister_wasm.wasm, "install").status == "replied"
    client.ok(canister, "certify", candid.encode([b"hello, certified"], [BLOB]))
    client.settle()
    committee = sim.genesis.committee
    roots = set()
    for node, replica in enumerate(sim.replicas):
        assert replica is not None
        answer = replica.query(client.envelope(canister, "certificate", UNIT, request_type="query"), sim.now)
        assert answer.status == "replied", answer
        blob = _certificate(answer.reply)
        assert blob is not None, f"replica {node} gave no data certificate"
        proven = verify_data_certificate(blob, committee, canister)
        assert proven.certified_data == b"hello, certified"
        assert proven.time_ns == answer.time_ns  # the certified height's block time
        roots.add(proven.root)
        # the IC's shape: a self-described CBOR map, the tree pruned to two paths
        assert blob[:3] == bytes.fromhex("d9d9f7")  # the self-described CBOR tag, 55799
        decoded = cbor2.loads(blob)
        assert set(decoded) == {"tree", "signature"}
        tree = from_cbor_value(decoded["tree"])
        assert lookup(tree, [b"state"]) == ("unknown", None)  # pruned
    assert len(roots) == 1  # every replica proves the same certified state

    # a certificate for one canister proves nothing about another, and tampering shows
    other = client.create()
    with pytest.raises(CertificateError, match="no certified data"):
        verify_data_certificate(blob, committee, other)
    forged = blob.replace(b"hello, certified", b"hello, forged!!!")
    with pytest.raises(CertificateError, match="signature is not valid"):
        verify_data_certificate(forged, committee, canister)
    with pytest.raises(CertificateError, match="not CBOR"):
        verify_data_certificate(b"\xff\x00", committee, canister)


def test_an_update_sees_no_certificate(canister_wasm: MotokoCanister) -> None:
    """As on the IC, only queries get a data certificate: the same method called as an
    update answers null."""
    sim = simulation(12)
    client = SimClient(sim)
    canister = client.create()
    client.install(canister, canister_wasm.wasm, "install")
    assert _certificate(client.ok(canister, "certificate")) is None
