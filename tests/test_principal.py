import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests import vectors
from vocab.errors import PrincipalError
from vocab.principal import CanisterId, Principal, PrincipalClass


@pytest.mark.parametrize(("raw_hex", "text"), vectors.TEXTUAL_PRINCIPALS)
def test_textual_form_matches_the_specification(raw_hex: str, text: str) -> None:
    principal = Principal.from_hex(raw_hex)
    assert principal.to_text() == text
    assert Principal.from_text(text) == principal


def test_canister_ids_are_index_then_01_01() -> None:
    assert CanisterId(0).to_text() == "rwlgt-iiaaa-aaaaa-aaaaa-cai"
    assert CanisterId(3).principal.raw.hex() == "00000000000000030101"
    assert CanisterId.from_text("rrkah-fqaaa-aaaaa-aaaaq-cai") == CanisterId(1)
    with pytest.raises(PrincipalError, match="not a canister id"):
        CanisterId.from_text("2vxsx-fae")


def test_self_authenticating_principal_of_rfc8032_key1() -> None:
    principal = Principal.from_ed25519_public_key(vectors.RFC8032_KEY1_PUBLIC)
    assert principal.to_text() == vectors.RFC8032_KEY1_PRINCIPAL
    assert principal.kind is PrincipalClass.SELF_AUTHENTICATING


def test_classes() -> None:
    assert Principal.management().kind is PrincipalClass.MANAGEMENT
    assert Principal.anonymous().kind is PrincipalClass.ANONYMOUS
    assert CanisterId(7).principal.kind is PrincipalClass.OPAQUE


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("aaaaa-aflzu-aq", "bad checksum"),
        ("aaaaa-ab", "non-canonical"),
        ("2vxsx-faE", "bad character 'E'"),
        ("2vxsx-fa1", "bad character '1'"),
        ("2vxs-xfae", "wrong grouping"),
        ("2vxsxfae", "wrong grouping"),
        ("2vxsx--fae", "wrong grouping"),
        ("", "empty"),
        ("aaaaa-" * 12 + "a", "too long"),
    ],
)
def test_parsing_names_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(PrincipalError, match=message):
        Principal.from_text(text)


def test_over_long_bytes_are_rejected() -> None:
    with pytest.raises(PrincipalError, match="at most 29"):
        Principal(bytes(30))


@given(st.binary(min_size=0, max_size=29))
def test_text_round_trip_for_every_length(raw: bytes) -> None:
    assert Principal.from_text(Principal(raw).to_text()).raw == raw


@settings(max_examples=60)
@given(st.binary(min_size=0, max_size=29), st.data())
def test_any_single_character_change_is_rejected(raw: bytes, data: st.DataObject) -> None:
    text = Principal(raw).to_text()
    positions = [i for i, char in enumerate(text) if char != "-"]
    position = data.draw(st.sampled_from(positions))
    alphabet = string.ascii_lowercase + "234567"
    replacement = data.draw(st.sampled_from([c for c in alphabet if c != text[position]]))
    changed = text[:position] + replacement + text[position + 1 :]
    with pytest.raises(PrincipalError):
        Principal.from_text(changed)
