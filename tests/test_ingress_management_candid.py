"""The management canister's Candid (vocab.management over vocab.candid): known bytes
from the IC's own traces, round trips, subtyping as the IC accepts it, and malformed
input refused with CandidError."""

from __future__ import annotations

import pytest

from vocab import candid, management
from vocab.errors import CandidError
from vocab.principal import CanisterId, Principal


def test_the_canister_id_record_as_ic_agents_send_it() -> None:
    # record { canister_id = principal "rrkah-fqaaa-aaaaa-aaaaq-cai" }
    expected = bytes.fromhex("4449444c016c01b3c4b1f204680100010a00000000000000010101")
    assert management.encode_canister_id_args(CanisterId(1).principal) == expected
    assert management.decode_canister_id_args(expected) == CanisterId(1).principal


def test_management_arguments_round_trip() -> None:
    owner = Principal(b"\x01" * 29)
    settings = management.Settings(controllers=(owner,), freezing_threshold=7)
    amount, decoded, specified = management.decode_create_args(management.encode_create_args(5, settings))
    assert (amount, decoded, specified) == (5, settings, None)
    assert management.decode_create_args(management.encode_create_args()) == (None, None, None)
    canister, changed = management.decode_update_settings_args(
        management.encode_update_settings_args(CanisterId(3).principal, settings)
    )
    assert canister == CanisterId(3).principal and changed == settings
    public = management.Settings(log_visibility="public")
    assert (
        management.decode_update_settings_args(
            management.encode_update_settings_args(CanisterId(3).principal, public)
        )[1]
        == public
    )
    status = management.CanisterStatus("stopped", (owner,), 99)
    assert management.decode_status_reply(management.encode_status_reply(status)) == status


def test_install_modes_round_trip() -> None:
    target = CanisterId(2).principal
    for mode in (
        management.Mode("install"),
        management.Mode("reinstall"),
        management.Mode("upgrade"),
        management.Mode("upgrade", skip_pre_upgrade=True),
        management.Mode("upgrade", wasm_memory_persistence="keep"),
    ):
        decoded = management.decode_install_code_args(
            management.encode_install_code_args(mode, target, b"\0asm", b"x", 3)
        )
        assert decoded == management.InstallCode(mode, target, b"\0asm", b"x", 3)


def test_extra_fields_and_newer_settings_are_accepted_as_the_ic_does() -> None:
    # An agent with a newer ic.did sends fields this subnet does not know: they are skipped.
    arg = candid.encode_text(
        '(record { canister_id = principal "rrkah-fqaaa-aaaaa-aaaaq-cai"; settings = record {'
        ' controllers = opt vec { principal "aaaaa-aa" }; wasm_memory_limit = opt (5 : nat);'
        " reserved_cycles_limit = opt (1 : nat) }; sender_canister_version = opt (4 : nat64) })"
    )
    canister, settings = management.decode_update_settings_args(arg)
    assert canister == CanisterId(1).principal
    assert settings == management.Settings(controllers=(Principal.management(),))
    # an opt field of the wrong type reads as null (Candid's opt rule), not as an error
    wrong_opt = candid.encode([{"amount": "lots"}], "(record { amount : opt text })")
    assert management.decode_create_args(wrong_opt) == (None, None, None)


@pytest.mark.parametrize(
    "bad",
    [
        b"",
        b"DADL\x00\x00",
        b"DIDL\x00\x00",  # no argument at all
        b"DIDL\x00\x01\x7d",
        b"DIDL\x00\x01\x7e\x02",
        b"DIDL\x01\x6e\x05\x01\x00\x00",
        b"DIDL\x00\x01\x68\x01\x1e" + b"\x00" * 30,
    ],
)
def test_malformed_arguments_are_candid_errors(bad: bytes) -> None:
    with pytest.raises(CandidError):
        management.decode_canister_id_args(bad)
    with pytest.raises(CandidError):
        management.decode_create_args(bad)


def test_wrong_shapes_are_candid_errors() -> None:
    with pytest.raises(CandidError, match="canister_status"):
        management.decode_canister_id_args(candid.encode([5], "(nat)"), management.STATUS)
    with pytest.raises(CandidError):  # a required field of the wrong type
        management.decode_canister_id_args(
            candid.encode([{"canister_id": "x"}], "(record { canister_id : text })")
        )
    with pytest.raises(CandidError):  # the mode variant has no such case
        management.decode_install_code_args(
            candid.encode(
                [{"mode": "replace_all", "canister_id": "aaaaa-aa", "wasm_module": b"", "arg": b""}],
                "(record { mode : variant { replace_all }; canister_id : principal; wasm_module : blob; arg : blob })",
            )
        )
    with pytest.raises(CandidError, match="allowed_viewers"):
        management.decode_update_settings_args(
            candid.encode_text(
                '(record { canister_id = principal "aaaaa-aa"; settings = record {'
                " log_visibility = opt variant { allowed_viewers = vec {} } } })"
            )
        )
