"""The management canister's Candid (vocab.management over vocab.candid): known bytes
from the IC's own traces, round trips through the table of dataclasses, subtyping as the
IC accepts it, and malformed input refused with CandidError."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import pytest

from vocab import candid, management
from vocab.errors import CandidError
from vocab.principal import CanisterId, Principal

OWNER = Principal(b"\x01" * 29)
TARGET = CanisterId(3).principal


def test_the_canister_id_record_as_ic_agents_send_it() -> None:
    # record { canister_id = principal "rrkah-fqaaa-aaaaa-aaaaq-cai" }
    expected = bytes.fromhex("4449444c016c01b3c4b1f204680100010a00000000000000010101")
    record = management.CanisterIdRecord(CanisterId(1).principal)
    assert management.encode_args(management.STATUS, record) == expected
    assert management.decode_args(management.STATUS, expected) == record


def test_every_record_of_the_did_has_its_dataclass_with_its_field_names() -> None:
    for name, cls in management.RECORDS.items():
        record = candid.resolve(management.SERVICE.lookup(name))
        assert isinstance(record, candid.RecordType), name
        assert {f.name for f in fields(cls)} == {f.name for f in record.fields}, name
    served = set(management.SERVICE.methods)
    constants = {value for key, value in vars(management).items() if key.isupper() and isinstance(value, str)}
    assert served <= constants, served - constants


SETTINGS = management.Settings(controllers=(OWNER,), freezing_threshold=7)
CHANGES = (
    management.Change(1, 0, management.FromUser(OWNER), management.Creation((OWNER,))),
    management.Change(
        2, 1, management.FromCanister(TARGET, 4), management.CodeDeployment("install", b"m" * 32)
    ),
    management.Change(3, 2, management.FromCanister(TARGET), "code_uninstall"),
    management.Change(4, 3, management.FromUser(OWNER), management.LoadSnapshot(2, b"s" * 18, 77)),
    management.Change(5, 4, management.FromUser(OWNER), management.ControllersChange((OWNER, TARGET))),
)
ARGS: list[tuple[str, Any]] = [
    (management.CREATE, management.CreateCanisterArgs()),
    (management.CREATE, management.CreateCanisterArgs(5, SETTINGS, TARGET, 1)),
    (management.UPDATE_SETTINGS, management.UpdateSettingsArgs(TARGET, SETTINGS)),
    (
        management.UPDATE_SETTINGS,
        management.UpdateSettingsArgs(TARGET, management.Settings(log_visibility="public")),
    ),
    (management.INSTALL_CODE, management.InstallCodeArgs("install", TARGET, b"\0asm", b"x", 3)),
    (management.INSTALL_CODE, management.InstallCodeArgs("reinstall", TARGET, b"\0asm")),
    (management.INSTALL_CODE, management.InstallCodeArgs("upgrade", TARGET, b"\0asm")),
    (management.INSTALL_CODE, management.InstallCodeArgs(management.UpgradeFlags(True), TARGET, b"\0asm")),
    (management.INSTALL_CODE, management.InstallCodeArgs(management.UpgradeFlags(None, "keep"), TARGET, b"")),
    (
        management.INSTALL_CHUNKED_CODE,
        management.InstallChunkedCodeArgs("install", TARGET, (management.ChunkHash(b"a" * 32),), b"h" * 32),
    ),
    (management.UNINSTALL_CODE, management.UninstallCodeArgs(TARGET, 9)),
    (management.UPLOAD_CHUNK, management.UploadChunkArgs(TARGET, b"chunk")),
    (management.CANISTER_INFO, management.CanisterInfoArgs(TARGET, 20)),
    (management.TAKE_SNAPSHOT, management.TakeCanisterSnapshotArgs(TARGET, b"s" * 18)),
    (management.LOAD_SNAPSHOT, management.LoadCanisterSnapshotArgs(TARGET, b"s" * 18)),
    (management.DELETE_SNAPSHOT, management.DeleteCanisterSnapshotArgs(TARGET, b"s" * 18)),
    (management.CANISTER_METADATA, management.CanisterMetadataArgs(TARGET, "candid:service")),
]
REPLIES: list[tuple[str, Any]] = [
    (management.CREATE, management.CanisterIdRecord(TARGET)),
    (
        management.STATUS,
        management.CanisterStatusResult(
            "stopped", management.DefiniteSettings((OWNER,), 1, 2, 3, 4, 5), b"m" * 32, 6, 99
        ),
    ),
    (management.STOP, None),
    (management.UPLOAD_CHUNK, management.ChunkHash(b"z" * 32)),
    (management.STORED_CHUNKS, (management.ChunkHash(b"a" * 32), management.ChunkHash(b"b" * 32))),
    (management.CANISTER_INFO, management.CanisterInfoResult(5, CHANGES, None, (OWNER,))),
    (management.TAKE_SNAPSHOT, management.Snapshot(b"s" * 18, 5, 100)),
    (management.LIST_SNAPSHOTS, ()),
    (
        management.FETCH_LOGS,
        management.FetchCanisterLogsResult((management.CanisterLogRecord(0, 5, b"hi"),)),
    ),
    (management.CANISTER_METADATA, management.CanisterMetadataResult(b"service : {}")),
]


@pytest.mark.parametrize(("method", "value"), ARGS)
def test_arguments_round_trip(method: str, value: Any) -> None:
    assert management.decode_args(method, management.encode_args(method, value)) == value


@pytest.mark.parametrize(("method", "value"), REPLIES)
def test_replies_round_trip(method: str, value: Any) -> None:
    assert management.decode_reply(method, management.encode_reply(method, value)) == value


def test_a_change_names_its_kind_and_origin() -> None:
    assert [change.kind for change in CHANGES] == [
        "creation",
        "code_deployment",
        "code_uninstall",
        "load_snapshot",
        "controllers_change",
    ]
    assert management.change_origin(OWNER) == management.FromUser(OWNER)
    assert management.change_origin(TARGET) == management.FromCanister(TARGET)


def test_values_of_the_wrong_shape_are_refused_when_encoding() -> None:
    with pytest.raises(CandidError, match="CreateCanisterArgs"):
        management.encode_args(management.CREATE, management.CanisterIdRecord(TARGET))
    with pytest.raises(CandidError, match="no case"):
        management.encode_args(
            management.INSTALL_CODE, management.InstallCodeArgs("replace_all", TARGET, b"")
        )
    with pytest.raises(CandidError, match="no value"):
        management.encode_reply(management.STOP, management.CanisterIdRecord(TARGET))
    with pytest.raises(CandidError, match="not supported"):
        management.Settings(log_visibility="allowed_viewers")


def test_extra_fields_and_newer_settings_are_accepted_as_the_ic_does() -> None:
    # An agent with a newer ic.did sends fields this subnet does not know: they are skipped.
    arg = candid.encode_text(
        '(record { canister_id = principal "rrkah-fqaaa-aaaaa-aaaaq-cai"; settings = record {'
        ' controllers = opt vec { principal "aaaaa-aa" }; wasm_memory_limit = opt (5 : nat);'
        " reserved_cycles_limit = opt (1 : nat) }; sender_canister_version = opt (4 : nat64) })"
    )
    update = management.decode_args(management.UPDATE_SETTINGS, arg)
    assert update == management.UpdateSettingsArgs(
        CanisterId(1).principal, management.Settings(controllers=(Principal.management(),)), 4
    )
    # an opt field of the wrong type reads as null (Candid's opt rule), not as an error
    wrong_opt = candid.encode([{"amount": "lots"}], "(record { amount : opt text })")
    assert management.decode_args(management.CREATE, wrong_opt) == management.CreateCanisterArgs()


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
        management.decode_args(management.STATUS, bad)
    with pytest.raises(CandidError):
        management.decode_args(management.CREATE, bad)


def test_wrong_shapes_are_candid_errors() -> None:
    with pytest.raises(CandidError, match="canister_status"):
        management.decode_args(management.STATUS, candid.encode([5], "(nat)"))
    with pytest.raises(CandidError, match="canister_id"):  # a required field missing
        management.decode_args(management.STATUS, candid.encode([{"other": 1}], "(record { other : nat })"))
    with pytest.raises(CandidError):  # a required field of the wrong type
        management.decode_args(
            management.STATUS, candid.encode([{"canister_id": "x"}], "(record { canister_id : text })")
        )
    with pytest.raises(CandidError):  # the mode variant has no such case
        management.decode_args(
            management.INSTALL_CODE,
            candid.encode(
                [{"mode": "replace_all", "canister_id": "aaaaa-aa", "wasm_module": b"", "arg": b""}],
                "(record { mode : variant { replace_all }; canister_id : principal; wasm_module : blob; arg : blob })",
            ),
        )
    with pytest.raises(CandidError, match="allowed_viewers"):
        management.decode_args(
            management.UPDATE_SETTINGS,
            candid.encode_text(
                '(record { canister_id = principal "aaaaa-aa"; settings = record {'
                " log_visibility = opt variant { allowed_viewers = vec {} } } })"
            ),
        )
    with pytest.raises(CandidError, match="no method"):
        management.decode_args("raw_rand", b"DIDL\x00\x00")
