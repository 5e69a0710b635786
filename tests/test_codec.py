import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from node.consensus.icc.artifacts import Block, BlockProposal
from tests import vectors
from vocab import crypto
from vocab.certificate import Certificate, CertifiedReply, RequestResult
from vocab.codec import (
    HEADER_BYTES,
    PROTOCOL_VERSION,
    SHARED,
    FrameDecoder,
    Message,
    decode_frame,
    encode_message,
)
from vocab.envelope import SignedEnvelope
from vocab.errors import CodecError
from vocab.messages import RequestRejected, SubmitRequest
from vocab.principal import Principal
from vocab.request import RequestContent


def submit() -> SubmitRequest:
    key = crypto.private_key_from_seed(vectors.RFC8032_KEY1_SEED)
    content = RequestContent(
        "call",
        Principal.from_text(vectors.RFC8032_KEY1_PRINCIPAL),
        Principal.management(),
        "canister_status",
        b"DIDL\x00\x00",
        10**18,
        b"nonce",
    )
    return SubmitRequest(SignedEnvelope.sign(content, key))


def frame(body: object) -> bytes:
    packed = msgpack.packb(body, use_bin_type=True)
    return len(packed).to_bytes(4, "big") + packed


def test_round_trip() -> None:
    message = submit()
    decoded = decode_frame(encode_message(message))
    assert decoded == message
    assert decoded.envelope.request_id == message.envelope.request_id


def test_stream_decoder_reassembles_split_frames() -> None:
    messages = [submit(), RequestRejected(b"\x01" * 32, 1, "expired", "too late")]
    stream = b"".join(encode_message(m) for m in messages)
    decoder = FrameDecoder()
    out = []
    for i in range(0, len(stream), 7):
        out.extend(decoder.feed(stream[i : i + 7]))
    assert out == messages
    assert decoder.pending == 0


def test_truncated_frame() -> None:
    data = encode_message(submit())
    with pytest.raises(CodecError, match="truncated"):
        decode_frame(data[:-1])
    with pytest.raises(CodecError, match="truncated"):
        decode_frame(data[:2])


def test_oversized_frame_is_refused_before_reading_it() -> None:
    with pytest.raises(CodecError, match="oversized"):
        decode_frame((1 << 30).to_bytes(4, "big"))
    decoder = FrameDecoder(max_frame=100)
    with pytest.raises(CodecError, match="oversized"):
        list(decoder.feed((101).to_bytes(4, "big")))
    with pytest.raises(CodecError, match="failed"):
        list(decoder.feed(b"x"))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([PROTOCOL_VERSION + 1, "submit", {}], "protocol version"),
        ([PROTOCOL_VERSION, "nonsense", {}], "unknown message tag"),
        (
            [PROTOCOL_VERSION, "rejected", {"request_id": b"x", "code": "1", "reason": "r", "message": "m"}],
            "expected an integer",
        ),
        (
            [PROTOCOL_VERSION, "rejected", {"request_id": b"x", "code": 1, "reason": "r"}],
            "missing field message",
        ),
        (
            [
                PROTOCOL_VERSION,
                "rejected",
                {"request_id": b"x", "code": 1, "reason": "r", "message": "m", "x": 1},
            ],
            "unknown fields x",
        ),
        (
            [PROTOCOL_VERSION, "submit", {"envelope": {"content": {"request_type": "call"}}}],
            "missing request fields",
        ),
        ([PROTOCOL_VERSION, "submit"], r"\[version, tag, fields\]"),
        ({"a": 1}, r"\[version, tag, fields\]"),
    ],
)
def test_wrong_shapes_name_the_problem(body: object, message: str) -> None:
    with pytest.raises(CodecError, match=message):
        decode_frame(frame(body))


def test_trailing_bytes() -> None:
    with pytest.raises(CodecError, match="after the end"):
        decode_frame(encode_message(submit()) + b"\x00")


@settings(max_examples=300)
@given(st.binary(max_size=200))
def test_garbage_frames_raise_only_codec_errors(data: bytes) -> None:
    try:
        decode_frame(len(data).to_bytes(HEADER_BYTES, "big") + data)
    except CodecError:
        pass


@settings(max_examples=300)
@given(st.binary(max_size=300))
def test_garbage_streams_raise_only_codec_errors(data: bytes) -> None:
    decoder = FrameDecoder(max_frame=1024)
    try:
        list(decoder.feed(data))
    except CodecError:
        pass


def _containers(children: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    return st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)


msgpack_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.text(max_size=10)
    | st.binary(max_size=10),
    _containers,
    max_leaves=20,
)


@settings(max_examples=300)
@given(st.sampled_from(["submit", "rejected"]), msgpack_values)
def test_well_formed_msgpack_with_wrong_fields_raises_only_codec_errors(tag: str, fields: object) -> None:
    try:
        decode_frame(frame([PROTOCOL_VERSION, tag, fields]))
    except CodecError:
        pass


@settings(max_examples=300)
@given(
    st.fixed_dictionaries(
        {
            key: msgpack_values
            for key in ("request_type", "sender", "canister_id", "method_name", "arg", "ingress_expiry")
        },
        optional={"nonce": msgpack_values},
    ),
    st.fixed_dictionaries({}, optional={"sender_pubkey": msgpack_values, "sender_sig": msgpack_values}),
)
def test_envelopes_with_wrong_field_types_raise_only_codec_errors(content: dict, extra: dict) -> None:
    try:
        decode_frame(frame([PROTOCOL_VERSION, "submit", {"envelope": {"content": content, **extra}}]))
    except CodecError:
        pass


def _nested_messages() -> list[Message]:
    """A certified reply (a result and a certificate inside) and a block proposal (a
    block holding envelopes): the nesting the compiled readers must see through."""
    signer = Principal.from_text(vectors.RFC8032_KEY1_PRINCIPAL)
    result = RequestResult.replied(b"\x01" * 32, 7, b"DIDL\x00\x00")
    certificate = Certificate(7, b"\x02" * 32, b"\x03" * 32, (signer,), (b"\x04" * 64,), 5)
    reply = CertifiedReply(result, certificate, 0, 1, (b"\x05" * 32,))
    block = Block(b"\x06" * 32, 3, 0, signer, 11, (submit().envelope,))
    return [reply, BlockProposal(block, b"\x08" * 64)]


def test_well_formed_nested_messages_take_the_compiled_readers(monkeypatch: pytest.MonkeyPatch) -> None:
    def checked(cls: type, fields: object) -> None:
        raise AssertionError(f"{cls.__name__} was read by the checked reader")

    frames = [encode_message(message) for message in _nested_messages()]
    monkeypatch.setattr(Message, "_checked_from_wire", classmethod(checked))
    for message, data in zip(_nested_messages(), frames):
        SHARED._by_digest.clear()
        assert decode_frame(data) == message


def test_a_nested_fault_is_named_as_by_the_checked_reader() -> None:
    reply = _nested_messages()[0].to_wire()
    reply["result"]["height"] = "seven"
    with pytest.raises(CodecError, match=r"^RequestResult.height: expected an integer, got str$"):
        decode_frame(frame([PROTOCOL_VERSION, "certified-reply", reply]))
    reply = _nested_messages()[0].to_wire()
    reply["certificate"]["signers"] = [b"\x01" * 40]
    with pytest.raises(CodecError, match=r"Certificate.signers\[0\]"):
        decode_frame(frame([PROTOCOL_VERSION, "certified-reply", reply]))
