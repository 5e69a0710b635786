"""The memories that spare a replica repeated work give the same answers as the work.

Each is a pure function remembered: identical bytes decode to one shared immutable
message, an envelope equal to one decoded before is that envelope, equal request contents
share a request id, a Candid header read once is reused for messages that start with its
bytes. Each test pins the answer against the computation without the memory, and shows
that something different (other bytes, another content under the same signature, a
malformed message) is not taken for what was remembered.
"""

from __future__ import annotations

import dataclasses

import pytest

from node.consensus.icc.artifacts import Block, BlockProposal, NotarizationShare
from node.ingress import IngressGossip
from tests.test_ingress import USER_KEY, signed_request
from vocab import candid, crypto, management
from vocab.codec import HEADER_BYTES, SHARED, decode_frame, encode_message
from vocab.envelope import SignedEnvelope
from vocab.errors import CandidError, EnvelopeError
from vocab.hashing import hash_of_map
from vocab.principal import Principal

NOW = 1_700_000_000 * 10**9


def proposal(nonce: bytes, count: int = 8) -> BlockProposal:
    payload = tuple(signed_request(NOW, nonce=nonce + bytes([i])) for i in range(count))
    key = crypto.private_key_from_seed(b"\x05" * 32)
    me = Principal.from_ed25519_public_key(crypto.raw_public_key(key))
    return BlockProposal.create(key, Block(b"\x01" * 32, 3, 0, me, NOW, payload))


def test_identical_proposal_frames_decode_to_one_object_and_relay_as_received() -> None:
    frame = encode_message(proposal(b"a"))
    assert len(frame) > SHARED.MIN_BYTES
    first, again = decode_frame(frame), decode_frame(bytes(frame))
    assert first is again and first == proposal(b"a")
    assert first.block.hash == proposal(b"a").block.hash  # computed once, on the shared object
    assert encode_message(first) == frame  # relayed as received, not encoded again
    other = decode_frame(encode_message(proposal(b"b")))
    assert other is not first and other != first


def test_only_immutable_relayed_kinds_are_shared() -> None:
    envelope = signed_request(NOW, nonce=b"g", arg=b"DIDL\x00\x00" + b"\x00" * 2000)
    frame = encode_message(IngressGossip(envelope))
    assert len(frame) > SHARED.MIN_BYTES
    assert decode_frame(frame) is not decode_frame(frame)
    share = NotarizationShare(3, b"\x02" * 32, Principal.management(), b"\x03" * 64)
    assert decode_frame(encode_message(share)) is not decode_frame(encode_message(share))


def test_an_envelope_decoded_again_is_the_same_one_and_another_content_is_not_mistaken_for_it() -> None:
    envelope = signed_request(NOW, nonce=b"m")
    wire = envelope.to_wire()
    first = SignedEnvelope.from_wire(wire)
    assert SignedEnvelope.from_wire(envelope.to_wire()) is first
    assert first.request_id == hash_of_map(envelope.content.to_map())
    # The same signature over another content: decoded afresh, and it does not verify.
    forged_content = dataclasses.replace(envelope.content, method_name=management.STATUS)
    forged = SignedEnvelope.from_wire({**wire, "content": forged_content.to_map()})
    assert forged is not first and forged.content == forged_content
    assert forged.request_id == hash_of_map(forged_content.to_map()) != first.request_id
    with pytest.raises(EnvelopeError) as refused:
        forged.verify(NOW)
    assert refused.value.reason == "bad_signature"


def test_equal_contents_share_one_request_id_equal_to_the_hash() -> None:
    one = signed_request(NOW, nonce=b"r").content
    two = dataclasses.replace(one)
    assert one is not two and one.request_id == two.request_id == hash_of_map(one.to_map())
    # A content with a bytearray argument (not hashable) is computed, not remembered.
    three = dataclasses.replace(one, arg=bytearray(one.arg))
    assert three.request_id == one.request_id
    # The signed request id is what a fresh envelope verifies against.
    SignedEnvelope.sign(two, USER_KEY).verify(NOW)


def test_candid_messages_sharing_a_header_decode_to_their_own_values() -> None:
    a = management.encode_args(management.STATUS, management.CanisterIdRecord(Principal.management()))
    b = management.encode_args(
        management.STATUS, management.CanisterIdRecord(Principal.from_text("rwlgt-iiaaa-aaaaa-aaaaa-cai"))
    )
    assert a != b
    first = management.decode_args(management.STATUS, a)
    second = management.decode_args(management.STATUS, b)
    assert first.canister_id == Principal.management()
    assert second.canister_id == Principal.from_text("rwlgt-iiaaa-aaaaa-aaaaa-cai")
    # A malformed message with a remembered header is still refused, and poisons nothing.
    with pytest.raises(CandidError):
        management.decode_args(management.STATUS, a[:-1])
    assert management.decode_args(management.STATUS, b) == second
    # The same header bytes followed by other values of the same types.
    values = [candid.decode(candid.encode([n, "x" * n], "(nat, text)"), "(nat, text)") for n in (1, 300)]
    assert values == [[1, "x"], [300, "x" * 300]]


def test_frames_of_shared_kinds_are_still_checked_in_full() -> None:
    frame = encode_message(proposal(b"c"))
    decode_frame(frame)
    body = bytearray(frame[HEADER_BYTES:])
    body[-1] ^= 1  # another signature: other bytes, decoded (and later verified) afresh
    changed = decode_frame(len(body).to_bytes(HEADER_BYTES, "big") + bytes(body))
    assert isinstance(changed, BlockProposal) and changed.signature != proposal(b"c").signature
