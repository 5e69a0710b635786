import base64

import pytest

from tests import vectors
from vocab.errors import AddressError
from vocab.sui.address import ObjectId, SuiAddress


@pytest.mark.parametrize(("public_b64", "address"), vectors.SUI_CLI_ADDRESSES)
def test_sui_address_matches_the_sui_cli(public_b64: str, address: str) -> None:
    assert SuiAddress.from_ed25519_public_key(base64.b64decode(public_b64)).to_text() == address


def test_short_forms_are_left_padded() -> None:
    assert ObjectId.from_text("0x2").to_text() == "0x" + "0" * 63 + "2"
    assert SuiAddress.from_text("0x" + "A" * 64).to_text() == "0x" + "a" * 64


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2a", "starts with 0x"),
        ("0x", "hex digits"),
        ("0x" + "1" * 65, "too long"),
        ("0xg1", "bad character 'g'"),
    ],
)
def test_bad_ids_name_the_problem(text: str, message: str) -> None:
    with pytest.raises(AddressError, match=message):
        ObjectId.from_text(text)
