import dataclasses
import hashlib

import pytest

from tests import vectors
from vocab import crypto
from vocab.envelope import MAX_ARG_BYTES, SignedEnvelope
from vocab.errors import EnvelopeError, RejectCode
from vocab.leb128 import encode_leb128
from vocab.principal import Principal
from vocab.request import RequestContent

NOW = 1_700_000_000_000_000_000
KEY = crypto.private_key_from_seed(vectors.RFC8032_KEY1_SEED)
SENDER = Principal.from_text(vectors.RFC8032_KEY1_PRINCIPAL)


def content(**changes: object) -> RequestContent:
    base = RequestContent(
        request_type="call",
        sender=SENDER,
        canister_id=Principal.from_text("rwlgt-iiaaa-aaaaa-aaaaa-cai"),
        method_name="greet",
        arg=b"DIDL\x00\x01\x71\x03Sam",
        ingress_expiry=NOW + 60_000_000_000,
    )
    return dataclasses.replace(base, **changes)


def test_request_id_known_answer() -> None:
    example = RequestContent(
        request_type="call",
        sender=Principal(b"\x04"),
        canister_id=Principal.from_hex("00000000000004d2"),
        method_name="hello",
        arg=b"DIDL\x00\xfd*",
        ingress_expiry=1685570400000000000,
    )
    assert example.request_id.hex() == vectors.REQUEST_ID_EXAMPLE
    assert hashlib.sha256(encode_leb128(1685570400000000000)).hexdigest() == vectors.LEB128_EXPIRY_SHA256
    assert hashlib.sha256(b"DIDL\x00\xfd*").hexdigest() == vectors.ARG_SHA256


def test_nonce_changes_the_request_id() -> None:
    assert content(nonce=b"\x01").request_id != content().request_id


def test_signature_covers_the_domain_separated_request_id() -> None:
    envelope = SignedEnvelope.sign(content(), KEY)
    message = b"\x0aic-request" + envelope.request_id
    KEY.public_key().verify(envelope.sender_sig, message)  # raises if not
    assert envelope.sender_pubkey == bytes.fromhex("302a300506032b6570032100") + vectors.RFC8032_KEY1_PUBLIC
    envelope.verify(NOW)


def test_altered_content_is_rejected() -> None:
    envelope = SignedEnvelope.sign(content(), KEY)
    altered = dataclasses.replace(envelope, content=content(arg=b"DIDL\x00\x01\x71\x03Bob"))
    with pytest.raises(EnvelopeError) as caught:
        altered.verify(NOW)
    assert caught.value.reason == "bad_signature"
    assert caught.value.code is RejectCode.SYS_FATAL


def test_wrong_key_is_rejected() -> None:
    other = crypto.private_key_from_seed(bytes(32))
    envelope = SignedEnvelope.sign(content(), KEY)
    forged = dataclasses.replace(envelope, sender_pubkey=crypto.der_public_key(other))
    with pytest.raises(EnvelopeError) as caught:
        forged.verify(NOW)
    assert caught.value.reason == "sender_mismatch"
    signed_by_other = dataclasses.replace(
        envelope, sender_sig=crypto.sign(other, "ic-request", envelope.request_id)
    )
    with pytest.raises(EnvelopeError) as caught:
        signed_by_other.verify(NOW)
    assert caught.value.reason == "bad_signature"


def test_signing_for_someone_else_is_refused() -> None:
    with pytest.raises(EnvelopeError, match="not the principal"):
        SignedEnvelope.sign(content(sender=Principal.anonymous()), KEY)


def test_expired_and_not_yet_valid() -> None:
    expired = SignedEnvelope.sign(content(ingress_expiry=NOW - 1), KEY)
    with pytest.raises(EnvelopeError) as caught:
        expired.verify(NOW)
    assert caught.value.reason == "expired"
    too_far = SignedEnvelope.sign(content(ingress_expiry=NOW + 7 * 60 * 1_000_000_000), KEY)
    with pytest.raises(EnvelopeError) as caught:
        too_far.verify(NOW)
    assert caught.value.reason == "expiry_too_far"
    too_far.verify(NOW + 2 * 60 * 1_000_000_000)


def test_unsigned_and_anonymous() -> None:
    with pytest.raises(EnvelopeError) as caught:
        SignedEnvelope(content()).verify(NOW)
    assert caught.value.reason == "unsigned"
    SignedEnvelope.anonymous(content(sender=Principal.anonymous())).verify(NOW)
    with pytest.raises(EnvelopeError):
        SignedEnvelope(content(sender=Principal.anonymous()), b"x", b"y").verify(NOW)


def test_oversized_arg() -> None:
    envelope = SignedEnvelope.sign(content(arg=bytes(MAX_ARG_BYTES + 1)), KEY)
    with pytest.raises(EnvelopeError) as caught:
        envelope.verify(NOW)
    assert caught.value.reason == "oversized"


def test_malformed_content_is_rejected() -> None:
    with pytest.raises(EnvelopeError, match="request_type"):
        content(request_type="install")
    with pytest.raises(EnvelopeError, match="ingress_expiry"):
        content(ingress_expiry=-1)
    with pytest.raises(EnvelopeError, match="missing"):
        RequestContent.from_map({"request_type": "call"})


def test_wire_round_trip_keeps_the_request_id() -> None:
    envelope = SignedEnvelope.sign(content(nonce=b"n"), KEY)
    again = SignedEnvelope.from_wire(envelope.to_wire())
    assert again == envelope
    again.verify(NOW)
