"""Install, reinstall, upgrade, uninstall, status changes, controllers, history and
snapshots: every failing step leaves the canister exactly as it was."""

from __future__ import annotations

import gzip
import hashlib
import struct
from fractions import Fraction
from pathlib import Path

import pytest
import wasmtime

from node.ic import (
    CanisterTrap,
    ExecutionConfig,
    ExecutionEnvironment,
    ExecutionError,
    InstallMode,
    InvalidModule,
)
from vocab.errors import RejectCode, RejectError
from vocab.principal import Principal

CANISTERS = Path(__file__).parent / "canisters"
API32 = wasmtime.wat2wasm((CANISTERS / "api32.wat").read_text())
API64 = wasmtime.wat2wasm((CANISTERS / "api64.wat").read_text())
USER = Principal.from_ed25519_public_key(bytes(range(32)))
STRANGER = Principal.from_ed25519_public_key(bytes(range(2, 34)))
LOOPING_INIT = wasmtime.wat2wasm("""
(module (memory 1)
  (func (export "canister_init") (i32.store (i32.const 0) (i32.const 1)) (loop $l (br $l))))
""")


class Env:
    def __init__(self) -> None:
        self.env = ExecutionEnvironment(ExecutionConfig(instruction_scale=Fraction(1, 10_000)))
        self.now = 0
        self.cid = self.env.create_canister(USER, time=self.tick())

    def tick(self) -> int:
        self.now += 10
        return self.now

    def install(
        self, mode: InstallMode, wasm: bytes = API32, arg: bytes = b"", caller: Principal = USER
    ) -> None:
        self.env.install_code(caller, self.cid, mode, wasm, arg, time=self.tick())

    def update(self, method: str, arg: bytes = b""):
        return self.env.update(self.cid, method, arg, caller=USER, time=self.tick())

    def counter(self) -> int:
        return struct.unpack("<q", self.env.query(self.cid, "get", b"", caller=USER).unwrap())[0]

    @property
    def canister(self):
        return self.env.canister(self.cid)

    def fingerprint(self) -> tuple:
        c = self.canister
        return (
            c.module_hash,
            c.version,
            c.stable.to_bytes(),
            c.certified_data,
            c.global_timer,
            bytes(c.instance.committed_heap) if c.instance else None,
            c.instance.committed_globals if c.instance else None,
            # the live instance too: a failed upgrade must also undo pre_upgrade's writes
            hashlib.sha256(c.instance.live_heap()).digest() if c.instance else None,
            c.total_num_changes,
            c.status,
        )


@pytest.fixture
def e() -> Env:
    return Env()


def test_install_then_install_again_is_refused(e: Env) -> None:
    e.install(InstallMode.install())
    with pytest.raises(ExecutionError, match="not empty"):
        e.install(InstallMode.install())


def test_failing_init_leaves_the_canister_empty(e: Env) -> None:
    with pytest.raises(CanisterTrap, match="unreachable") as info:
        e.install(InstallMode.install(), arg=b"\xff")
    assert info.value.code == RejectCode.CANISTER_ERROR
    c = e.canister
    assert c.instance is None and c.module_hash is None and c.version == 0
    assert c.total_num_changes == 1  # only the creation
    e.install(InstallMode.install())
    assert e.canister.module_hash == hashlib.sha256(API32).digest()


def test_init_exceeding_the_install_limit_fails(e: Env) -> None:
    with pytest.raises(CanisterTrap, match="instruction limit"):
        e.install(InstallMode.install(), wasm=LOOPING_INIT)
    assert e.canister.instance is None


def test_reinstall_wipes_stable_memory_and_heap(e: Env) -> None:
    e.install(InstallMode.install())
    e.update("inc")
    e.update("stable_grow_write", b"keep me?")
    e.install(InstallMode.reinstall())
    assert e.counter() == 0
    assert e.canister.stable.size_pages == 0
    assert e.canister.logs[0].content == b"init ran" and len(e.canister.logs) == 1


def test_failing_reinstall_leaves_the_old_canister(e: Env) -> None:
    e.install(InstallMode.install())
    e.update("inc")
    e.update("stable_grow_write", b"data")
    before = e.fingerprint()
    with pytest.raises(CanisterTrap):
        e.install(InstallMode.reinstall(), arg=b"\xff")
    assert e.fingerprint() == before
    assert e.counter() == 1


def test_upgrade_keeps_stable_memory_and_replaces_the_heap(e: Env) -> None:
    e.install(InstallMode.install())
    e.update("inc")
    e.update("inc")
    e.update("certify", b"certified")
    e.install(InstallMode.upgrade())
    # pre_upgrade saved the counter to stable memory, post_upgrade restored it
    assert e.counter() == 2
    c = e.canister
    assert c.stable.read(0, 8) == struct.pack("<q", 2)
    # the heap was replaced: pre_upgrade's write at address 8 is gone in the new instance
    assert bytes(c.instance.committed_heap[8:16]) == bytes(8)
    assert c.certified_data == b"certified"
    info = e.env.canister_info(e.cid, 10)
    assert [ch.kind for ch in info.recent_changes] == ["creation", "code_deployment", "code_deployment"]
    assert info.recent_changes[-1].details.mode == "upgrade"


def test_trapping_pre_upgrade_leaves_the_canister_unchanged(e: Env) -> None:
    e.install(InstallMode.install())
    e.update("inc")
    e.update("set_pre_upgrade_trap")
    before = e.fingerprint()
    with pytest.raises(CanisterTrap, match="explicit trap"):
        e.install(InstallMode.upgrade(), wasm=API32 + b"")
    assert e.fingerprint() == before
    # the old instance still runs, with its heap as before pre_upgrade wrote to it
    assert e.update("inc").unwrap() == struct.pack("<q", 2)


def test_trapping_post_upgrade_leaves_the_canister_unchanged(e: Env) -> None:
    e.install(InstallMode.install())
    e.update("inc")
    e.update("stable_grow_write", b"\x00" * 16)
    before = e.fingerprint()
    with pytest.raises(CanisterTrap, match="unreachable"):
        e.install(InstallMode.upgrade(), arg=b"\x01")
    after = e.fingerprint()
    assert after == before
    assert e.counter() == 1
    assert e.canister.stable.read(0, 16) == b"\x00" * 16


def test_skip_pre_upgrade(e: Env) -> None:
    e.install(InstallMode.install())
    e.update("inc")
    e.update("set_pre_upgrade_trap")
    with pytest.raises(CanisterTrap):
        e.install(InstallMode.upgrade())
    e.install(InstallMode.upgrade(skip_pre_upgrade=True))
    # pre_upgrade did not run, so the counter was never saved: post_upgrade reads zeros
    assert e.counter() == 0


def test_keep_requires_enhanced_orthogonal_persistence(e: Env) -> None:
    e.install(InstallMode.install())
    with pytest.raises(ExecutionError, match="Invalid upgrade option"):
        e.install(InstallMode.upgrade(wasm_memory_persistence="keep"))
    e.install(InstallMode.upgrade(wasm_memory_persistence="replace"))


def test_upgrade_of_an_empty_canister_is_refused(e: Env) -> None:
    with pytest.raises(ExecutionError, match="no Wasm module"):
        e.install(InstallMode.upgrade())


def test_only_controllers_manage(e: Env) -> None:
    with pytest.raises(ExecutionError, match="Only the controllers") as info:
        e.install(InstallMode.install(), caller=STRANGER)
    assert info.value.error_code == "IC0512"
    e.install(InstallMode.install())
    with pytest.raises(ExecutionError, match="Only the controllers"):
        e.env.stop_canister(STRANGER, e.cid, time=e.tick())
    e.env.update_settings(USER, e.cid, time=e.tick(), controllers=[USER, STRANGER])
    e.env.stop_canister(STRANGER, e.cid, time=e.tick())
    info = e.env.canister_info(e.cid, 20)
    assert info.recent_changes[-1].kind == "controllers_change"
    assert info.controllers == (USER, STRANGER)
    with pytest.raises(ExecutionError, match="exceeds maximum size allowed of 10"):
        e.env.update_settings(
            USER,
            e.cid,
            time=e.tick(),
            controllers=[Principal.from_ed25519_public_key(bytes([i]) * 32) for i in range(11)],
        )


def test_stop_start_delete(e: Env) -> None:
    e.install(InstallMode.install())
    e.env.stop_canister(USER, e.cid, time=e.tick())
    assert e.env.canister_status(USER, e.cid).status == "stopped"
    result = e.update("inc")
    assert result.reject is not None and result.reject.error_code == "IC0508"
    e.env.start_canister(USER, e.cid, time=e.tick())
    assert e.update("inc").ok
    with pytest.raises(ExecutionError, match="must be stopped"):
        e.env.delete_canister(USER, e.cid, time=e.tick())
    e.env.stop_canister(USER, e.cid, time=e.tick())
    e.env.delete_canister(USER, e.cid, time=e.tick())
    with pytest.raises(RejectError) as info:
        e.env.canister(e.cid)
    assert info.value.code == RejectCode.DESTINATION_INVALID
    new = e.env.create_canister(USER, time=e.tick())
    assert new != e.cid  # ids are never reused


def test_uninstall_drops_code_and_state(e: Env) -> None:
    e.install(InstallMode.install())
    e.update("stable_grow_write", b"abc")
    version = e.canister.version
    e.env.uninstall_code(USER, e.cid, time=e.tick())
    c = e.canister
    assert c.instance is None and c.stable.size_pages == 0 and c.logs == []
    assert c.version == version + 1
    result = e.update("inc")
    assert result.reject is not None and result.reject.code == RejectCode.DESTINATION_INVALID
    status = e.env.canister_status(USER, e.cid)
    assert status.module_hash is None and status.controllers == (USER,)


def test_status_reports_sizes_hash_and_cycles(e: Env) -> None:
    e.install(InstallMode.install())
    e.update("stable_grow_write", b"abc")
    status = e.env.canister_status(USER, e.cid)
    assert status.status == "running"
    assert status.module_hash == hashlib.sha256(API32).digest()
    assert status.stable_memory_size == 65536
    assert status.wasm_memory_size == 65536
    assert status.cycles == e.canister.cycles
    with pytest.raises(ExecutionError):
        e.env.canister_status(STRANGER, e.cid)


def test_gzip_module_is_accepted_and_hashed_as_sent(e: Env) -> None:
    compressed = gzip.compress(API32, mtime=0)
    e.install(InstallMode.install(), wasm=compressed)
    assert e.canister.module_hash == hashlib.sha256(compressed).digest()
    assert e.update("inc").ok


def test_install_charges_cycles(e: Env) -> None:
    before = e.canister.cycles
    e.install(InstallMode.install())
    assert e.canister.cycles < before


def test_invalid_module_is_refused_with_the_rule(e: Env) -> None:
    bad = wasmtime.wat2wasm('(module (import "env" "f" (func)))')
    with pytest.raises(InvalidModule) as info:
        e.install(InstallMode.install(), wasm=bad)
    assert info.value.rule == "import-module"
    assert e.canister.instance is None


# -- snapshots ------------------------------------------------------------------------------


def test_snapshot_take_load_list_delete(e: Env) -> None:
    e.install(InstallMode.install())
    e.update("inc")
    e.update("stable_grow_write", b"v1")
    e.update("certify", b"one")
    snap = e.env.take_canister_snapshot(USER, e.cid, time=e.tick())
    e.update("inc")
    e.update("stable_grow_write", b"v2")
    e.update("certify", b"two")
    assert e.counter() == 2
    e.env.load_canister_snapshot(USER, e.cid, snap.id, time=e.tick())
    assert e.counter() == 1
    assert e.canister.stable.read(0, 2) == b"v1"
    assert e.canister.certified_data == b"one"
    assert e.canister.history[-1].kind == "load_snapshot"
    assert [s.id for s in e.env.list_canister_snapshots(USER, e.cid)] == [snap.id]
    # loading a snapshot also restores the module
    e.install(InstallMode.reinstall(), wasm=API64)
    e.env.load_canister_snapshot(USER, e.cid, snap.id, time=e.tick())
    assert e.canister.module_hash == hashlib.sha256(API32).digest()
    assert e.counter() == 1
    e.env.delete_canister_snapshot(USER, e.cid, snap.id, time=e.tick())
    assert e.env.list_canister_snapshots(USER, e.cid) == []
    with pytest.raises(ExecutionError, match="Could not find the snapshot"):
        e.env.load_canister_snapshot(USER, e.cid, snap.id, time=e.tick())


def test_snapshot_limit_and_replace(e: Env) -> None:
    e.install(InstallMode.install())
    ids = [e.env.take_canister_snapshot(USER, e.cid, time=e.tick()).id for _ in range(10)]
    with pytest.raises(ExecutionError, match="maximum of 10 snapshots"):
        e.env.take_canister_snapshot(USER, e.cid, time=e.tick())
    new = e.env.take_canister_snapshot(USER, e.cid, time=e.tick(), replace_snapshot=ids[0])
    listed = [s.id for s in e.env.list_canister_snapshots(USER, e.cid)]
    assert ids[0] not in listed and new.id in listed and len(listed) == 10


def test_snapshot_of_an_empty_canister_is_refused(e: Env) -> None:
    with pytest.raises(ExecutionError, match="no Wasm module"):
        e.env.take_canister_snapshot(USER, e.cid, time=e.tick())


def test_a_declared_memory_above_the_wasm_memory_limit_is_refused_before_instantiation(e: Env) -> None:
    """A 162-byte module declaring 4 GiB used to be instantiated (8 GiB of copies) before
    anything failed. Now the IC's default limit, 3 GiB, refuses it by its declaration."""
    assert e.canister.settings.wasm_memory_limit == 3 << 30  # the IC's default
    four_gib = wasmtime.wat2wasm("(module (memory 65536))")
    assert len(four_gib) < 20
    with pytest.raises(CanisterTrap) as info:
        e.install(InstallMode.install(), four_gib)
    assert info.value.error_code == "IC0539"
    assert "limit of 3221225472 bytes" in str(info.value)
    assert "initial Wasm memory of 4294967296 bytes (65536 pages of 64 KiB)" in str(info.value)
    assert e.canister.module_hash is None
    # the limit is the canister's setting: 1 MiB admits 16 pages, not 17, for install and upgrade
    e.env.update_settings(USER, e.cid, time=e.tick(), wasm_memory_limit=1 << 20)
    e.install(InstallMode.install(), wasmtime.wat2wasm("(module (memory 16))"))
    before = e.fingerprint()
    with pytest.raises(CanisterTrap, match="initial Wasm memory of 1114112 bytes"):
        e.install(InstallMode.upgrade(), wasmtime.wat2wasm("(module (memory 17))"))
    assert e.fingerprint()[:2] == before[:2]


GROWER = wasmtime.wat2wasm("""
(module
  (import "ic0" "msg_reply" (func $reply))
  (memory 16)
  (func (export "canister_update grow") (drop (memory.grow (i32.const 16))) (call $reply)))
""")


def test_the_subnet_memory_capacity_bounds_all_canisters_together() -> None:
    from node.ic.config import DEFAULT_SUBNET_MEMORY_CAPACITY

    assert ExecutionConfig().subnet_memory_capacity == DEFAULT_SUBNET_MEMORY_CAPACITY == 2 << 30
    env = ExecutionEnvironment(ExecutionConfig(subnet_memory_capacity=(5 << 20) // 2))  # 2.5 MiB
    first = env.create_canister(USER, time=1)
    env.install_code(USER, first, InstallMode.install(), GROWER, b"", time=2)  # 1 MiB heap
    second = env.create_canister(USER, time=3)
    env.install_code(USER, second, InstallMode.install(), GROWER, b"", time=4)  # 2 MiB together
    third = env.create_canister(USER, time=5)
    with pytest.raises(CanisterTrap) as info:
        env.install_code(USER, third, InstallMode.install(), GROWER, b"", time=6)
    assert info.value.error_code == "IC0501"
    assert "the subnet's memory capacity of 2621440 bytes would be exceeded" in str(info.value)
    assert env.canister(third).module_hash is None
    # growing past the capacity fails the message and keeps the heap as it was
    before = env.canister(first).instance.heap_size
    result = env.update(first, "grow", b"", caller=USER, time=7)
    assert result.reject is not None and result.reject.error_code == "IC0501"
    assert "cannot grow its memory usage to" in result.reject.message
    assert env.canister(first).instance.heap_size == before == 1 << 20
    # with room again (a canister uninstalled), the same message goes through
    env.uninstall_code(USER, second, time=8)
    env.update(first, "grow", b"", caller=USER, time=9).unwrap()
    assert env.canister(first).instance.heap_size == 2 << 20


def test_the_memory_capacity_comes_from_genesis() -> None:
    from node.ic.state_machine import WasmStateMachine, execution_config
    from vocab.genesis import Genesis, GenesisError, NodeEntry

    node = NodeEntry(node_id=USER.to_text(), public_key=bytes(range(32)).hex(), address="127.0.0.1:1")
    genesis = Genesis(nodes=(node,), extra={"subnet_memory_capacity": 123 << 20})
    assert execution_config(genesis).subnet_memory_capacity == 123 << 20
    assert WasmStateMachine.from_genesis(genesis).env.state.config.subnet_memory_capacity == 123 << 20
    for bad in (-1, "2 GiB", True):
        with pytest.raises(GenesisError, match="extra.subnet_memory_capacity must be a number of bytes"):
            execution_config(Genesis(nodes=(node,), extra={"subnet_memory_capacity": bad}))
