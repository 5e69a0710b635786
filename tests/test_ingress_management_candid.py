"""Known answers for the small private Candid codec behind subnet.management (until
subnet.candid replaces it), from ../shared/conformance/candid and the IC's own traces."""

from __future__ import annotations

import re

import pytest

from subnet import _candid_lite as candid
from subnet import management
from subnet.errors import CandidError
from subnet.principal import CanisterId, Principal


def blob(text: str) -> bytes:
    """The conformance files' notation: text with backslash-hex escapes (``\\7d``)."""
    return re.sub(rb"\\([0-9a-fA-F]{2})", lambda m: bytes.fromhex(m.group(1).decode()), text.encode("latin-1"))


@pytest.mark.parametrize(
    ("encoded", "types", "values"),
    [
        (r"DIDL\00\00", [], []),
        (r"DIDL\00\01\7d\80\01", ["nat"], [128]),
        (r"DIDL\00\01\7c\7f", ["int"], [-1]),
        (r"DIDL\00\01\68\01\03\ca\ff\ee", ["principal"], [Principal(bytes.fromhex("caffee"))]),
        (r"DIDL\00\01\68\01\00", ["principal"], [Principal.management()]),
        (r"DIDL\01\6e\7c\01\00\01\2a", [("opt", "int")], [42]),
        (r"DIDL\01\6e\7c\01\00\00", [("opt", "int")], [None]),
        (r"DIDL\01\6c\02\d3\e3\aa\02\7e\86\8e\b7\02\7c\01\00\01\2a", [("record", (("foo", "int"), ("bar", "bool")))], [{"foo": 42, "bar": True}]),
        (r"DIDL\01\6b\01\00\7f\01\00\00", [("variant", ((0, "null"),))], [(0, None)]),
    ],
)
def test_known_encodings(encoded: str, types: list, values: list) -> None:
    assert candid.encode(types, values) == blob(encoded)
    decoded = candid.decode(blob(encoded))
    assert len(decoded) == len(values)


def test_field_ids_and_the_canister_id_record() -> None:
    assert candid.idl_hash("foo") == 5097222
    assert candid.idl_hash("bar") == 4895187
    # record { canister_id = principal "rrkah-fqaaa-aaaaa-aaaaq-cai" }, as IC agents send it.
    expected = bytes.fromhex("4449444c016c01b3c4b1f204680100010a00000000000000010101")
    assert management.encode_canister_id_args(CanisterId(1).principal) == expected
    assert management.decode_canister_id_args(expected) == CanisterId(1).principal


def test_management_arguments_round_trip() -> None:
    owner = Principal(b"\x01" * 29)
    settings = management.Settings(controllers=(owner,), freezing_threshold=7)
    amount, decoded, specified = management.decode_create_args(management.encode_create_args(5, settings))
    assert (amount, decoded, specified) == (5, settings, None)
    assert management.decode_create_args(management.encode_create_args()) == (None, None, None)
    canister, changed = management.decode_update_settings_args(management.encode_update_settings_args(CanisterId(3).principal, settings))
    assert canister == CanisterId(3).principal and changed == settings
    status = management.CanisterStatus("stopped", (owner,), 99)
    assert management.decode_status_reply(management.encode_status_reply(status)) == status


@pytest.mark.parametrize(
    "bad",
    [b"", b"DADL\x00\x00", b"DIDL\x00\x01\x7d", b"DIDL\x00\x01\x7e\x02", b"DIDL\x00\x00\x00", b"DIDL\x01\x6e\x05\x01\x00\x00", b"DIDL\x00\x01\x68\x01\x1e" + b"\x00" * 30],
)
def test_malformed_candid_is_a_candid_error(bad: bytes) -> None:
    with pytest.raises(CandidError):
        candid.decode(bad)


def test_wrong_shapes_are_candid_errors() -> None:
    with pytest.raises(CandidError):
        management.decode_canister_id_args(candid.encode(["nat"], [5]))
    with pytest.raises(CandidError):
        management.decode_create_args(candid.encode([("record", (("amount", ("opt", "text")),))], [{"amount": "lots"}]))
