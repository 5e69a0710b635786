"""Client-side checks of certified replies: what a real reply proves, and forgeries that
must fail. Only the shared vocabulary (vocab.certificate, vocab.committee) is needed."""

from __future__ import annotations

import dataclasses
import hashlib

import pytest

from subnet.sim.runner import SECOND, SimConfig, Simulation
from tests.test_ingress import signed_request
from vocab import crypto, management
from vocab.certificate import (
    CERTIFICATION_DOMAIN,
    EMPTY_ROOT,
    Certificate,
    CertificateError,
    CertificationShare,
    CertifiedReply,
    RequestResult,
    certification_message,
    results_paths,
    results_root,
    root_from_path,
    verify_certificate,
    verify_certified_reply,
)
from vocab.codec import decode_frame, encode_message
from vocab.committee import Committee
from vocab.errors import RejectCode, RejectError

KEYS = [crypto.private_key_from_seed(hashlib.sha256(bytes([i])).digest()) for i in range(4)]
COMMITTEE = Committee.from_public_keys([crypto.raw_public_key(key) for key in KEYS])


def result(i: int, height: int = 5) -> RequestResult:
    return RequestResult.replied(hashlib.sha256(bytes([i])).digest(), height, bytes([i]) * 3)


def certificate_for(
    height: int, root: bytes, signers: range = range(3), state: bytes = b"\x05" * 32
) -> Certificate:
    members = COMMITTEE.members
    shares = [CertificationShare.create(KEYS[i], members[i], height, state, root) for i in signers]
    return Certificate(
        height, state, root, tuple(s.signer for s in shares), tuple(s.signature for s in shares)
    )


def certified(results: list[RequestResult], which: int = 0, **kwargs) -> CertifiedReply:
    root = results_root(results)
    cert = certificate_for(results[0].height, root, **kwargs)
    paths = results_paths(results)
    item, index, path = paths[which]
    return CertifiedReply(item, cert, index, len(paths), path)


@pytest.mark.parametrize("count", [1, 2, 3, 5, 8, 13])
def test_every_result_has_a_path_to_the_root(count: int) -> None:
    results = [result(i) for i in range(count)]
    root = results_root(results)
    for item, index, path in results_paths(results):
        assert root_from_path(item.leaf, index, count, path) == root
    assert results_root([]) == EMPTY_ROOT
    assert results_root(list(reversed(results))) == root


def test_a_genuine_reply_verifies_and_survives_the_wire() -> None:
    reply = certified([result(i) for i in range(5)], which=3)
    again = decode_frame(encode_message(reply))
    assert again == reply
    checked = verify_certified_reply(again, COMMITTEE, request_id=reply.result.request_id)
    assert checked == reply.result
    assert checked.raise_if_rejected() == reply.result.reply


def test_a_certified_reject_raises_the_ic_reject() -> None:
    rejected = RequestResult.rejected(b"\x01" * 32, 5, RejectCode.CANISTER_ERROR, "nope", "IC0512")
    with pytest.raises(RejectError) as caught:
        rejected.raise_if_rejected()
    assert caught.value.code == RejectCode.CANISTER_ERROR and caught.value.error_code == "IC0512"


def test_forged_replies_are_rejected() -> None:
    results = [result(i) for i in range(4)]
    reply = certified(results, which=1)

    altered = dataclasses.replace(reply, result=dataclasses.replace(reply.result, reply=b"forged"))
    with pytest.raises(CertificateError, match="not part"):
        verify_certified_reply(altered, COMMITTEE)

    with pytest.raises(CertificateError, match="another request"):
        verify_certified_reply(reply, COMMITTEE, request_id=b"\x00" * 32)

    wrong_root = dataclasses.replace(reply, certificate=certificate_for(5, b"\x09" * 32))
    with pytest.raises(CertificateError, match="not part"):
        verify_certified_reply(wrong_root, COMMITTEE)

    wrong_height = dataclasses.replace(reply, certificate=certificate_for(6, reply.certificate.results_root))
    with pytest.raises(CertificateError, match="height"):
        verify_certified_reply(wrong_height, COMMITTEE)

    with pytest.raises(CertificateError):
        verify_certified_reply(dataclasses.replace(reply, path=reply.path[:-1]), COMMITTEE)
    with pytest.raises(CertificateError):
        verify_certified_reply(dataclasses.replace(reply, index=7), COMMITTEE)


def test_under_signed_and_forged_certificates_are_rejected() -> None:
    root = results_root([result(0)])
    verify_certificate(certificate_for(5, root), COMMITTEE)

    with pytest.raises(CertificateError, match="quorum"):
        verify_certificate(certificate_for(5, root, signers=range(2)), COMMITTEE)

    good = certificate_for(5, root)
    twice = dataclasses.replace(good, signers=(good.signers[0],) * 3, signatures=(good.signatures[0],) * 3)
    with pytest.raises(CertificateError, match="twice"):
        verify_certificate(twice, COMMITTEE)

    swapped = dataclasses.replace(
        good, signatures=(good.signatures[1], good.signatures[0], good.signatures[2])
    )
    with pytest.raises(CertificateError, match="bad signature"):
        verify_certificate(swapped, COMMITTEE)

    outsider = crypto.private_key_from_seed(b"\x77" * 32)
    stranger = Committee.from_public_keys([crypto.raw_public_key(outsider)]).members[0]
    foreign = dataclasses.replace(
        good,
        signers=good.signers[:2] + (stranger,),
        signatures=good.signatures[:2]
        + (crypto.sign(outsider, CERTIFICATION_DOMAIN, certification_message(5, good.state_hash, root)),),
    )
    with pytest.raises(CertificateError, match="not a committee member"):
        verify_certificate(foreign, COMMITTEE)

    # A signature made for another purpose (a notarization share) does not count.
    other_purpose = dataclasses.replace(
        good,
        signatures=good.signatures[:2]
        + (crypto.sign(KEYS[2], "subnet-notarization", certification_message(5, good.state_hash, root)),),
    )
    with pytest.raises(CertificateError, match="bad signature"):
        verify_certificate(other_purpose, COMMITTEE)

    # One replica alone cannot certify, whatever it signs.
    lonely = certificate_for(5, b"\x01" * 32, signers=range(1))
    with pytest.raises(CertificateError):
        verify_certificate(lonely, COMMITTEE)


def test_replies_from_a_simulated_subnet_verify_against_the_genesis_committee() -> None:
    sim = Simulation(SimConfig(replicas=4, seed=5, duration_ns=4 * SECOND, workload=None))
    envelope = signed_request(sim.start_ns + SECOND, nonce=b"cert-test")
    sim.call_at(1 * SECOND, lambda s: s.submit(envelope, 2))
    sim.run()
    reply = sim.replies[envelope.request_id]
    committee = Committee.from_json(sim.genesis.to_dict()["nodes"])
    checked = verify_certified_reply(reply, committee, request_id=envelope.request_id)
    assert checked.status == "replied"
    assert (
        management.decode_reply(management.CREATE, checked.reply).canister_id.to_text()
        == "rwlgt-iiaaa-aaaaa-aaaaa-cai"
    )
    # Every replica certified the same state at that height.
    height = checked.height
    assert len({replica.state_hashes[height] for replica in sim.replicas}) == 1
    assert reply.certificate.state_hash == sim.replicas[0].state_hashes[height]
