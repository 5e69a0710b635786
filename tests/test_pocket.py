"""The PocketIC-like API: canisters without consensus, in simulated time."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import pytest
import wasmtime

from subnet.pocket import DEFAULT_START_TIME, PocketIC
from vocab.errors import RejectCode, RejectError
from vocab.principal import Principal

API32 = wasmtime.wat2wasm((Path(__file__).parent / "canisters" / "api32.wat").read_text())
ALICE = Principal.from_ed25519_public_key(b"\x01" * 32)


@pytest.fixture
def pic() -> PocketIC:
    return PocketIC(instruction_scale=1)


def test_create_install_call(pic: PocketIC) -> None:
    canister = pic.create_canister()
    assert pic.check_canister_exists(canister)
    pic.install_code(canister, API32, b"")
    assert pic.update_call(canister, "inc", b"") == struct.pack("<q", 1)
    assert pic.query_call(canister, "get", b"") == struct.pack("<q", 1)


def test_errors_carry_reject_codes(pic: PocketIC) -> None:
    canister = pic.create_and_install_canister(API32, b"")
    with pytest.raises(RejectError) as info:
        pic.update_call(canister, "change_all_then_trap", b"")
    assert info.value.code == RejectCode.CANISTER_ERROR == 5
    with pytest.raises(RejectError) as info:
        pic.update_call(canister, "rejected_by_inspect", b"")
    assert info.value.code == RejectCode.CANISTER_REJECT
    with pytest.raises(RejectError) as info:
        pic.update_call(None, "install_code", b"DIDL\x00\x00")
    assert "typed methods" in info.value.message


def test_time_is_simulated(pic: PocketIC) -> None:
    assert pic.get_time() == {"nanos_since_epoch": DEFAULT_START_TIME}
    canister = pic.create_and_install_canister(API32, b"")
    pic.set_time(DEFAULT_START_TIME + 10**9)
    assert struct.unpack("<q", pic.query_call(canister, "time", b""))[0] == DEFAULT_START_TIME + 10**9
    pic.advance_time(5)
    assert pic.get_time()["nanos_since_epoch"] == DEFAULT_START_TIME + 10**9 + 5
    with pytest.raises(ValueError):
        pic.set_time(0)


def test_tick_runs_due_timers(pic: PocketIC) -> None:
    canister = pic.create_and_install_canister(API32, b"")
    due = pic.get_time()["nanos_since_epoch"] + 1_000_000
    pic.update_call(canister, "set_timer", struct.pack("<q", due))
    pic.tick()
    assert pic.query_call(canister, "timer_runs", b"") == struct.pack("<i", 0)
    pic.advance_time(2_000_000)
    pic.tick()
    assert pic.query_call(canister, "timer_runs", b"") == struct.pack("<i", 1)


def test_cycles(pic: PocketIC) -> None:
    canister = pic.create_canister(cycles=1_000_000_000_000)
    assert pic.get_cycles_balance(canister) == 1_000_000_000_000
    assert pic.add_cycles(canister, 5) == 1_000_000_000_005
    assert pic.get_cycles(canister) == 1_000_000_000_005


def test_stable_memory_get_and_set(pic: PocketIC) -> None:
    canister = pic.create_and_install_canister(API32, b"")
    pic.update_call(canister, "stable_grow_write", b"hello")
    assert pic.get_stable_memory(canister)[:5] == b"hello"
    pic.set_stable_memory(canister, gzip.compress(b"world", mtime=0), compression="gzip")
    assert pic.query_call(canister, "stable_read", struct.pack("<i", 5)) == b"world"
    assert len(pic.get_stable_memory(canister)) == 65536


def test_upgrade_reinstall_status_and_sender(pic: PocketIC) -> None:
    canister = pic.create_and_install_canister(API32, b"")
    pic.update_call(canister, "inc", b"")
    pic.upgrade_canister(canister, API32, b"")
    assert pic.query_call(canister, "get", b"") == struct.pack("<q", 1)
    pic.reinstall_code(canister, API32, b"")
    assert pic.query_call(canister, "get", b"") == struct.pack("<q", 0)
    status = pic.canister_status(canister)
    assert status.status == "running" and status.controllers == (Principal.anonymous(),)
    pic.set_sender(ALICE)
    assert pic.query_call(canister, "whoami", b"") == ALICE.raw
    with pytest.raises(RejectError, match="Only the controllers"):
        pic.stop_canister(canister)
    pic.set_anonymous_sender()
    pic.set_controllers(canister, [ALICE])
    pic.set_sender(ALICE)
    pic.stop_canister(canister)
    with pytest.raises(RejectError):
        pic.update_call(canister, "inc", b"")
    pic.start_canister(canister)
    assert pic.update_call(canister, "inc", b"") == struct.pack("<q", 1)


def test_snapshots_and_logs(pic: PocketIC) -> None:
    canister = pic.create_and_install_canister(API32, b"")
    pic.update_call(canister, "inc", b"")
    snapshot = pic.take_canister_snapshot(canister)
    pic.update_call(canister, "inc", b"")
    pic.load_canister_snapshot(canister, snapshot.id)
    assert pic.query_call(canister, "get", b"") == struct.pack("<q", 1)
    assert [s.id for s in pic.list_canister_snapshots(canister)] == [snapshot.id]
    pic.delete_canister_snapshot(canister, snapshot.id)
    assert pic.list_canister_snapshots(canister) == []
    pic.update_call(canister, "print", b"logged")
    assert pic.fetch_canister_logs(canister)[-1].content == b"logged"


def test_state_hash_follows_the_state(pic: PocketIC) -> None:
    canister = pic.create_and_install_canister(API32, b"")
    first = pic.state_hash()
    assert pic.state_hash() == first
    pic.query_call(canister, "mutate", b"")
    assert pic.state_hash() == first
    pic.update_call(canister, "inc", b"")
    assert pic.state_hash() != first


def test_delete_canister(pic: PocketIC) -> None:
    canister = pic.create_and_install_canister(API32, b"")
    pic.stop_canister(canister)
    pic.delete_canister(canister)
    assert not pic.check_canister_exists(canister)
