"""The Sui vocabulary (vocab.sui) against Sui's known answers (VECTORS.md) and its rules:
addresses, Base58, digests, intents, signatures, derived ids, owners, type tags,
TransactionData and the signed envelope, with every refusal named."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests import vectors
from tests.sui_transactions import build, generate, key
from vocab import bcs, crypto
from vocab.errors import AddressError, SuiError
from vocab.sui import base58, digests, ids, intent, pure, signature, type_tag
from vocab.sui.address import ObjectId, SuiAddress, normalize
from vocab.sui.builder import ProgrammableTransactionBuilder
from vocab.sui.digests import Digest
from vocab.sui.objects import (
    GAS_COIN_TYPE,
    MOVE_OBJECT_TYPE,
    OBJECT_REF,
    OWNER,
    STAKED_SUI_TYPE,
    AddressOwner,
    Immutable,
    MoveObject,
    Object,
    ObjectOwner,
    ObjectRef,
    Shared,
)
from vocab.sui.signed import SignedTransaction
from vocab.sui.transaction import (
    EpochExpiration,
    GasCoin,
    GasData,
    ImmOrOwnedObject,
    Input,
    MakeMoveVec,
    MergeCoins,
    MoveCall,
    NestedResult,
    ProgrammableTransaction,
    Publish,
    Pure,
    Receiving,
    Result,
    SharedObject,
    SplitCoins,
    TransactionData,
    TransferObjects,
    Upgrade,
)
from vocab.sui.type_tag import StructTag, VectorTag, parse_struct_tag, parse_type_tag

KEY1 = crypto.private_key_from_seed(vectors.RFC8032_KEY1_SEED)
SENDER = SuiAddress.from_text(vectors.SUI_KEY1_ADDRESS)


def counter_transaction() -> TransactionData:
    """VECTORS.md's transaction, built from its description."""
    return TransactionData(
        kind=ProgrammableTransaction(
            inputs=(SharedObject(ObjectId(b"\x33" * 32), initial_shared_version=3, mutable=True),),
            commands=(MoveCall(ObjectId(b"\x22" * 32), "counter", "increment", (), (Input(0),)),),
        ),
        sender=SENDER,
        gas_data=GasData(
            (ObjectRef(ObjectId(b"\x11" * 32), 7, Digest(b"\x01" * 32)),), SENDER, 1000, 10_000_000
        ),
    )


# -- VECTORS.md ---------------------------------------------------------------------------


def test_address_of_rfc8032_key1() -> None:
    assert (
        SuiAddress.from_ed25519_public_key(vectors.RFC8032_KEY1_PUBLIC).to_text() == vectors.SUI_KEY1_ADDRESS
    )
    assert crypto.raw_public_key(KEY1) == vectors.RFC8032_KEY1_PUBLIC


def test_transaction_data_bytes() -> None:
    data = counter_transaction().to_bcs()
    assert len(data) == 258
    assert data == vectors.SUI_COUNTER_TX_BCS


def test_transaction_data_decodes_to_its_description() -> None:
    assert TransactionData.from_bcs(vectors.SUI_COUNTER_TX_BCS) == counter_transaction()


def test_transaction_digest_in_base58_and_hex() -> None:
    digest = counter_transaction().digest()
    assert digest.to_text() == vectors.SUI_COUNTER_TX_DIGEST
    assert digest.raw.hex() == vectors.SUI_COUNTER_TX_DIGEST_HEX
    assert Digest.from_text(vectors.SUI_COUNTER_TX_DIGEST) == digest
    assert digests.transaction_digest(vectors.SUI_COUNTER_TX_BCS) == digest


def test_signed_intent_hash() -> None:
    assert counter_transaction().signing_digest().hex() == vectors.SUI_COUNTER_TX_SIGNED_HASH
    assert intent.signing_digest(intent.TRANSACTION, vectors.SUI_COUNTER_TX_BCS).hex() == (
        vectors.SUI_COUNTER_TX_SIGNED_HASH
    )
    assert intent.TRANSACTION.to_bytes() == b"\0\0\0"


def test_serialized_signature() -> None:
    signed = signature.sign(KEY1, vectors.SUI_COUNTER_TX_BCS)
    assert signed.to_bytes() == vectors.SUI_COUNTER_TX_SIGNATURE
    parsed = signature.SerializedSignature.from_base64(
        base64.b64encode(vectors.SUI_COUNTER_TX_SIGNATURE).decode()
    )
    assert parsed == signed
    assert parsed.address == SENDER
    assert parsed.verifies(vectors.SUI_COUNTER_TX_BCS)
    assert not parsed.verifies(vectors.SUI_COUNTER_TX_BCS, intent.PERSONAL_MESSAGE)
    assert not parsed.verifies(vectors.SUI_COUNTER_TX_BCS[:-1] + b"\x01")


def test_created_object_ids() -> None:
    digest = Digest.from_text(vectors.SUI_COUNTER_TX_DIGEST)
    assert [ids.derive_object_id(digest, n).to_text() for n in (0, 1)] == vectors.SUI_COUNTER_TX_CREATED_IDS


# -- addresses and Base58 -----------------------------------------------------------------


def test_address_forms() -> None:
    assert normalize("0x2") == "0x" + "0" * 63 + "2"
    assert normalize("0x" + "AB" * 32) == "0x" + "ab" * 32
    assert SuiAddress.from_text("0x2").short_text() == "0x2"
    assert SuiAddress(bytes(32)).short_text() == "0x0"
    assert ObjectId.from_text("0x5").to_address() == SuiAddress.from_text("0x5")


@pytest.mark.parametrize(
    ("text", "words"),
    [("2", "starts with 0x"), ("0x", "hex digits after 0x"), ("0x" + "0" * 65, "too long"), ("0x2g", "'g'")],
)
def test_bad_addresses_are_named(text: str, words: str) -> None:
    with pytest.raises(AddressError, match=words):
        SuiAddress.from_text(text)


def test_address_needs_32_bytes() -> None:
    with pytest.raises(AddressError, match="32 bytes, not 31"):
        SuiAddress(bytes(31))


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        (b"", ""),
        (b"\0", "1"),
        (b"\0\0\x01", "112"),
        (b"hello world", "StV1DL6CwTryKyV"),
        (bytes.fromhex("0000287fb4cd"), "11233QC4"),
    ],
)
def test_base58_known_answers(raw: bytes, text: str) -> None:
    assert base58.encode(raw) == text
    if text:
        assert base58.decode(text) == raw


@given(st.binary(max_size=40))
def test_base58_round_trip(raw: bytes) -> None:
    if raw:
        assert base58.decode(base58.encode(raw)) == raw


def test_base58_errors() -> None:
    with pytest.raises(base58.Base58Error, match="'0' at position 2"):
        base58.decode("11022")
    with pytest.raises(base58.Base58Error, match="empty"):
        base58.decode("")
    with pytest.raises(base58.Base58Error, match="not 32"):
        Digest.from_text("StV1DL6CwTryKyV")


def test_salted_digests_differ_by_type_name() -> None:
    assert digests.salted("TransactionData", b"x") != digests.salted("Object", b"x")
    assert digests.salted("Object", b"x").raw == digests.blake2b256(b"Object::x")


def test_package_digest_sorts_its_parts() -> None:
    modules = [b"module a", b"module b"]
    deps = [bytes(31) + b"\x01", bytes(31) + b"\x02"]
    expected = digests.blake2b256(b"".join(sorted([digests.blake2b256(m) for m in modules] + deps)))
    assert digests.package_digest(modules, deps) == expected
    assert digests.package_digest(reversed(modules), reversed(deps)) == expected


# -- objects ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("owner", "expected"),
    [
        (AddressOwner(SENDER), "00" + SENDER.raw.hex()),
        (ObjectOwner(SENDER), "01" + SENDER.raw.hex()),
        (Shared(3), "02" + "0300000000000000"),
        (Immutable(), "03"),
    ],
)
def test_owner_variants(owner: Any, expected: str) -> None:
    assert OWNER.encode(owner).hex() == expected
    assert OWNER.decode(bytes.fromhex(expected)) == owner


def test_object_ref_digest_has_a_length() -> None:
    ref = ObjectRef(ObjectId(b"\x11" * 32), 7, Digest(b"\x01" * 32))
    assert OBJECT_REF.encode(ref).hex() == "11" * 32 + "0700000000000000" + "20" + "01" * 32
    with pytest.raises(bcs.BcsError, match="a digest has 32 bytes, not 31"):
        OBJECT_REF.decode(bytes.fromhex("11" * 32 + "0700000000000000" + "1f" + "01" * 31))


def test_dynamic_field_id_follows_sui_rule() -> None:
    parent = ObjectId.from_text("0x2")
    key = bcs.U64.encode(481316)
    expected = digests.blake2b256(b"\xf0" + parent.raw + (8).to_bytes(8, "little") + key + b"\x02")
    assert ids.dynamic_field_id(parent, type_tag.U64, key).raw == expected


# -- type tags ----------------------------------------------------------------------------

COIN_SUI = "0x2::coin::Coin<0x2::sui::SUI>"


def test_type_tag_text_forms() -> None:
    tag = parse_type_tag(COIN_SUI)
    assert str(tag) == COIN_SUI
    two = "0x" + "0" * 63 + "2"
    assert tag.canonical() == f"{two}::coin::Coin<{two}::sui::SUI>"
    assert tag.canonical(with_prefix=False) == f"{two[2:]}::coin::Coin<{two[2:]}::sui::SUI>"
    pair = parse_type_tag("0x2::m::Pair< u8 ,vector<bool> >")
    assert str(pair) == "0x2::m::Pair<u8, vector<bool>>"
    assert pair.canonical() == f"{two}::m::Pair<u8,vector<bool>>"
    assert parse_type_tag("sui::coin::Coin<sui::sui::SUI>") == tag
    assert parse_type_tag(tag.canonical()) == tag
    assert parse_type_tag("a::m::S", {"a": SENDER}) == StructTag(SENDER, "m", "S")
    assert parse_type_tag("vector<vector<u256>>") == VectorTag(VectorTag(type_tag.U256))


def test_type_tag_bcs() -> None:
    """TypeTag's variant order: bool u8 u64 u128 address signer vector struct u16 u32 u256."""
    expected = {
        "bool": 0,
        "u8": 1,
        "u64": 2,
        "u128": 3,
        "address": 4,
        "signer": 5,
        "u16": 8,
        "u32": 9,
        "u256": 10,
    }
    for name, index in expected.items():
        assert type_tag.TYPE_TAG.encode(parse_type_tag(name)) == bytes([index])
    coin = type_tag.TYPE_TAG.encode(parse_type_tag(COIN_SUI))
    two = "00" * 31 + "02"
    assert coin.hex() == f"07{two}04636f696e04436f696e0107{two}0373756903535549" + "00"
    assert type_tag.TYPE_TAG.decode(coin) == parse_type_tag(COIN_SUI)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "empty"),
        ("u7", "unknown type or named address 'u7' at column 1"),
        ("vector<u8", "expected '>', found the end at column 10"),
        ("0x2::coin", "expected '::'"),
        ("0x2::coin::Coin<>", "expected a type, found '>'"),
        ("u8 u8", "unexpected 'u8' after the type"),
        ("0x2::m::S<u8,>", "expected a type, found '>'"),
        ("0x2::m::1S", "unexpected character '1'"),
        ("foo::m::S", "unknown type or named address 'foo'"),
    ],
)
def test_bad_types_are_named(text: str, words: str) -> None:
    with pytest.raises(type_tag.TypeTagError, match=words.replace("(", r"\(")):
        parse_type_tag(text)


def test_identifiers_are_checked_when_decoding() -> None:
    bad = "07" + "00" * 32 + "02" + "2d31" + "01" + "53" + "00"  # module "-1"
    with pytest.raises(bcs.BcsError, match="not a Move identifier"):
        type_tag.TYPE_TAG.decode(bytes.fromhex(bad))


# -- transactions -------------------------------------------------------------------------


def every_command_transaction(expiration: Any = None) -> TransactionData:
    ref = ObjectRef(ObjectId(b"\x44" * 32), 2, Digest(b"\x02" * 32))
    return TransactionData(
        kind=ProgrammableTransaction(
            inputs=(
                Pure(bcs.U64.encode(5)),
                ImmOrOwnedObject(ref),
                Receiving(ref),
                SharedObject(ObjectId(b"\x33" * 32), 1, False),
            ),
            commands=(
                MoveCall(
                    ObjectId.from_text("0x2"), "coin", "value", (parse_type_tag(COIN_SUI),), (Input(1),)
                ),
                TransferObjects((Result(0), NestedResult(0, 1)), Input(0)),
                SplitCoins(GasCoin(), (Input(0),)),
                MergeCoins(GasCoin(), (Result(2),)),
                Publish((b"\x00asm", b""), (ObjectId.from_text("0x1"), ObjectId.from_text("0x2"))),
                MakeMoveVec(type_tag.U64, (Input(0),)),
                MakeMoveVec(None, ()),
                Upgrade((b"m",), (ObjectId.from_text("0x1"),), ObjectId(b"\x55" * 32), Result(4)),
            ),
        ),
        sender=SENDER,
        gas_data=GasData((), SENDER, 1, 2),
        expiration=expiration or EpochExpiration(9),
    )


def test_every_command_round_trips() -> None:
    tx = every_command_transaction()
    assert TransactionData.from_bcs(tx.to_bcs()) == tx


@pytest.mark.parametrize(
    ("patch", "error", "words"),
    [
        (lambda b: b[:-1], bcs.Truncated, "in V1.expiration.Epoch"),
        (lambda b: b + b"\x00", bcs.TrailingBytes, "1 bytes left"),
        (lambda b: b"\x01" + b[1:], bcs.UnknownVariant, "TransactionData has 1 variants"),
        (lambda b: b"\x00\x01" + b[2:], bcs.Unsupported, "TransactionKind::ChangeEpoch is not supported"),
        (lambda b: b"\x00\x00\x01\x02" + b[4:], bcs.Unsupported, "CallArg::FundsWithdrawal"),
        (lambda b: b"\x00\x00\x01\x00\x80\x00" + b[6:], bcs.NonCanonicalUleb128, "superfluous zero"),
    ],
)
def test_transaction_decoding_errors(patch: Any, error: type[bcs.BcsError], words: str) -> None:
    data = every_command_transaction().to_bcs()
    with pytest.raises(error, match=words):
        TransactionData.from_bcs(patch(data))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_transaction_decoding_never_crashes(garbage: bytes) -> None:
    try:
        tx = TransactionData.from_bcs(garbage)
    except bcs.BcsError:
        return
    assert tx.to_bcs() == garbage


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 10_000), st.integers(0, 255))
def test_mutated_transactions_decode_or_fail_cleanly(position: int, byte: int) -> None:
    data = bytearray(every_command_transaction().to_bcs())
    data[position % len(data)] = byte
    try:
        tx = TransactionData.from_bcs(bytes(data))
    except bcs.BcsError:
        return
    assert tx.to_bcs() == bytes(data)


def test_encoding_a_wrong_value_names_the_field() -> None:
    tx = counter_transaction()
    broken = TransactionData(tx.kind, tx.sender, GasData((), SENDER, -1, 0))
    with pytest.raises(bcs.BcsEncodeError, match="does not fit u64 at V1.gas_data.price"):
        broken.to_bcs()


# -- the signed envelope ------------------------------------------------------------------

KEY2 = crypto.private_key_from_seed(bytes(range(32)))
SPONSOR = SuiAddress.from_ed25519_public_key(crypto.raw_public_key(KEY2))


def sponsored() -> TransactionData:
    tx = counter_transaction()
    return TransactionData(tx.kind, tx.sender, GasData(tx.gas_data.payment, SPONSOR, 1000, 5))


def test_signed_transaction_verifies() -> None:
    signed = SignedTransaction.sign(counter_transaction(), [KEY1])
    assert signed.signatures == (vectors.SUI_COUNTER_TX_SIGNATURE,)
    assert signed.verify() == counter_transaction()
    assert signed.digest.to_text() == vectors.SUI_COUNTER_TX_DIGEST
    again = SignedTransaction.from_base64(
        base64.b64encode(signed.tx_bytes).decode(), [base64.b64encode(s).decode() for s in signed.signatures]
    )
    assert again == signed
    assert SignedTransaction.from_bcs(signed.to_bcs()) == signed
    assert SignedTransaction.sign(sponsored(), [KEY2, KEY1]).verify() == sponsored()


@pytest.mark.parametrize(
    ("make", "name", "words"),
    [
        (lambda: SignedTransaction(vectors.SUI_COUNTER_TX_BCS, ()), "SignerSignatureAbsent", "not signed"),
        (
            lambda: SignedTransaction.sign(counter_transaction(), [KEY2]),
            "IncorrectSigner",
            "neither the sender",
        ),
        (
            lambda: SignedTransaction.sign(counter_transaction(), [KEY1, KEY1]),
            "SignerSignatureNumberMismatch",
            "2 signatures for 1",
        ),
        (
            lambda: SignedTransaction.sign(sponsored(), [KEY1]),
            "SignerSignatureAbsent",
            f"no signature by {SPONSOR}",
        ),
        (
            lambda: SignedTransaction(
                vectors.SUI_COUNTER_TX_BCS,
                (signature.sign(KEY1, vectors.SUI_COUNTER_TX_BCS, intent.PERSONAL_MESSAGE).to_bytes(),),
            ),
            "InvalidSignature",
            "does not verify",
        ),
        (
            lambda: SignedTransaction(vectors.SUI_COUNTER_TX_BCS, (b"\x00" * 96,)),
            "InvalidSignature",
            "97 bytes, not 96",
        ),
        (
            lambda: SignedTransaction(vectors.SUI_COUNTER_TX_BCS, (b"\x01" + bytes(96),)),
            "UnsupportedFeatureError",
            "Secp256k1",
        ),
        (
            lambda: SignedTransaction(vectors.SUI_COUNTER_TX_BCS, (b"\x09" + bytes(96),)),
            "InvalidSignature",
            "flag 0x09",
        ),
        (
            lambda: SignedTransaction(b"\x00\x01", (vectors.SUI_COUNTER_TX_SIGNATURE,)),
            "InvalidTransaction",
            "do not decode",
        ),
        (lambda: SignedTransaction.from_base64("not base64!", []), "InvalidBase64", "transaction bytes"),
    ],
)
def test_signed_transaction_refusals(make: Any, name: str, words: str) -> None:
    with pytest.raises(SuiError) as caught:
        make().verify()
    assert caught.value.name == name
    assert words in str(caught.value)


# -- pure arguments -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("type_text", "value", "expected"),
    [
        ("u64", 7, "0700000000000000"),
        ("vector<u8>", b"hi", "026869"),
        ("0x1::string::String", "hé", "0368c3a9"),
        ("0x1::ascii::String", "ok", "026f6b"),
        ("0x2::object::ID", ObjectId.from_text("0x5"), "00" * 31 + "05"),
        ("0x1::option::Option<u8>", None, "00"),
        ("0x1::option::Option<u8>", 9, "0109"),
        ("vector<0x1::option::Option<bool>>", [True, None], "02010100"),
    ],
)
def test_pure_values(type_text: str, value: Any, expected: str) -> None:
    tag = parse_type_tag(type_text)
    assert pure.encode_pure(tag, value).hex() == expected
    assert pure.decode_pure(tag, bytes.fromhex(expected)) == value


@pytest.mark.parametrize(
    "type_text",
    ["signer", "0x2::coin::Coin<0x2::sui::SUI>", "vector<0x2::m::S>", "0x1::option::Option<u8, u8>"],
)
def test_types_that_cannot_be_pure(type_text: str) -> None:
    with pytest.raises(type_tag.TypeTagError, match="cannot be a pure argument"):
        pure.pure_schema(parse_type_tag(type_text))


@pytest.mark.parametrize(
    ("type_text", "data", "words"),
    [
        ("0x1::option::Option<u8>", "020102", "not 0 (None) or 1 (Some)"),
        ("0x1::ascii::String", "01ff", "not UTF-8"),
        ("0x1::ascii::String", "02c3a9", "not ASCII"),
        ("0x1::string::String", "02c328", "not UTF-8"),
        ("bool", "07", "bool byte is 0x07"),
    ],
)
def test_bad_pure_bytes_are_refused(type_text: str, data: str, words: str) -> None:
    with pytest.raises(bcs.BcsError) as caught:
        pure.decode_pure(parse_type_tag(type_text), bytes.fromhex(data))
    assert words in str(caught.value)


# -- objects as stored --------------------------------------------------------------------


def test_object_type_uses_sui_compact_forms() -> None:
    usd = parse_type_tag("0x2::coin::Coin<0x7::usd::USD>")
    assert MOVE_OBJECT_TYPE.encode(GAS_COIN_TYPE) == b"\x01"
    assert MOVE_OBJECT_TYPE.encode(STAKED_SUI_TYPE) == b"\x02"
    assert MOVE_OBJECT_TYPE.encode(usd)[:1] == b"\x03"
    assert MOVE_OBJECT_TYPE.decode(MOVE_OBJECT_TYPE.encode(usd)) == usd
    counter = parse_type_tag("0x7::counter::Counter")
    assert MOVE_OBJECT_TYPE.encode(counter) == b"\x00" + type_tag.STRUCT_TAG.encode(counter)
    with pytest.raises(bcs.Unsupported, match="AccumulatorBalanceWrapper"):
        MOVE_OBJECT_TYPE.decode(b"\x04")


def test_object_reference_uses_its_digest() -> None:
    object_id = ids.derive_object_id(counter_transaction().digest(), 0)
    obj = Object(
        MoveObject(parse_struct_tag("0x2::counter::Counter"), False, 4, object_id.raw + bcs.U64.encode(1)),
        Shared(2),
        counter_transaction().digest(),
    )
    assert obj.object_id == object_id
    assert obj.reference() == ObjectRef(object_id, 4, digests.salted("Object", obj.to_bcs()))
    assert Object.from_bcs(obj.to_bcs()) == obj


@settings(max_examples=60, deadline=None)
@given(st.randoms(use_true_random=False))
def test_generated_transactions_round_trip_and_verify(rng: Any) -> None:
    spec = generate(rng)
    tx = build(spec)
    assert TransactionData.from_bcs(tx.to_bcs()) == tx
    keys = [key(spec["seed"])] + ([key(spec["sponsorSeed"])] if spec["sponsorSeed"] else [])
    signed = SignedTransaction.sign(tx, keys)
    assert signed.verify() == tx
    assert SignedTransaction.from_bcs(signed.to_bcs()) == signed


# -- the builder --------------------------------------------------------------------------


def test_builder_makes_the_known_transaction() -> None:
    builder = ProgrammableTransactionBuilder()
    counter = builder.object(SharedObject(ObjectId(b"\x33" * 32), 3, True))
    builder.move_call(ObjectId(b"\x22" * 32), "counter", "increment", (), [counter])
    tx = counter_transaction()
    assert TransactionData(builder.finish(), tx.sender, tx.gas_data).to_bcs() == vectors.SUI_COUNTER_TX_BCS


def test_builder_shares_inputs_and_passes_results() -> None:
    builder = ProgrammableTransactionBuilder()
    five = builder.pure(type_tag.U64, 5)
    assert builder.pure(type_tag.U64, 5) == five
    shared = builder.object(SharedObject(ObjectId(b"\x33" * 32), 3, False))
    assert builder.object(SharedObject(ObjectId(b"\x33" * 32), 3, True)) == shared
    cap = builder.publish([b"\x00asm"], [ObjectId.from_text("0x1")])
    builder.transfer_objects([cap], SENDER)
    made = builder.make_move_vec(type_tag.U64, [five, five])
    ptb = builder.finish()
    assert ptb.inputs == (
        Pure(bcs.U64.encode(5)),
        SharedObject(ObjectId(b"\x33" * 32), 3, True),
        Pure(SENDER.raw),
    )
    assert ptb.commands[1] == TransferObjects((Result(0),), Input(2))
    assert made == Result(2)
    ref = ObjectRef(ObjectId(b"\x44" * 32), 1, Digest(bytes(32)))
    builder.object(ImmOrOwnedObject(ref))
    with pytest.raises(ValueError, match="passed twice"):
        builder.object(Receiving(ref))
    with pytest.raises(type_tag.TypeTagError, match="not a Move function name"):
        builder.move_call(ObjectId.from_text("0x2"), "m", "bad-name")


def test_sender_signed_data_refusals() -> None:
    signed = SignedTransaction.sign(counter_transaction(), [KEY1])
    data = signed.to_bcs()
    assert data[:4] == b"\x01\x00\x00\x00"  # one transaction, intent 00 00 00
    for broken, words in [
        (b"\x00", "holds 0 transactions"),
        (b"\x01\x03" + data[2:], "not the transaction intent"),
        (data[:-3], "does not decode"),
    ]:
        with pytest.raises(SuiError, match=words) as caught:
            SignedTransaction.from_bcs(broken)
        assert caught.value.name == "InvalidTransaction"


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=400))
def test_signed_envelope_never_crashes(garbage: bytes) -> None:
    try:
        SignedTransaction.from_bcs(garbage).verify()
    except SuiError:
        pass
    try:
        SignedTransaction(garbage, (garbage,)).verify()
    except SuiError:
        pass
