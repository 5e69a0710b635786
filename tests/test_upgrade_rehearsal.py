"""Canister upgrades rehearsed on a copy (issue 12's rehearsal, for canisters).

The prediction is checked against the real thing: the same upgrade is then run for real
with ``install_code`` on the same state, and it succeeds or fails as predicted, with the
same error and the same memory afterwards. A canister whose ``pre_upgrade`` walks its
whole heap (as a canister serializing its state does) upgrades with a small heap and runs
out of instructions once it has grown: the rehearsal says so before the real upgrade
fails, and names the hook. On simulated replicas the rehearsal is a signed read, the same
on every replica, and changes no state hash.
"""

from __future__ import annotations

import json
import re
from fractions import Fraction

import pytest
import wasmtime

from client.rehearse import CanisterRehearsal
from client.upgrade_check import UpgradeProblem
from node.ic.config import INSTALL_INSTRUCTIONS, ExecutionConfig
from node.ic.lifecycle import InstallMode
from node.ic.state_machine import WasmStateMachine
from subnet.commands.canister.output import rehearsal_text
from subnet.sim.runner import SECOND
from tests.test_canister_consensus import USER, SimClient, simulation
from vocab import management
from vocab.errors import RejectError
from vocab.messages import RehearseUpgradeRequest
from vocab.principal import Principal

SCALE = Fraction(1, 10_000)  # the install limit becomes 30 million instructions

# `grow` adds 16 pages (1 MiB) of heap; `pre_upgrade` reads every byte of
# the heap and writes their sum to stable memory: work proportional to the state.
WALKER = wasmtime.wat2wasm("""
(module
  (import "ic0" "msg_reply" (func $reply))
  (import "ic0" "stable_grow" (func $stable_grow (param i32) (result i32)))
  (import "ic0" "stable_write" (func $stable_write (param i32 i32 i32)))
  (memory 1)
  (global $sum (mut i32) (i32.const 0))
  (func (export "canister_update grow")
    (drop (memory.grow (i32.const 16)))
    (call $reply))
  (func (export "canister_pre_upgrade")
    (local $at i32) (local $end i32)
    (local.set $end (i32.mul (memory.size) (i32.const 65536)))
    (block $done (loop $walk
      (br_if $done (i32.ge_u (local.get $at) (local.get $end)))
      (global.set $sum (i32.add (global.get $sum) (i32.load8_u (local.get $at))))
      (local.set $at (i32.add (local.get $at) (i32.const 1)))
      (br $walk)))
    (drop (call $stable_grow (i32.const 1)))
    (i32.store (i32.const 0) (global.get $sum))
    (call $stable_write (i32.const 0) (i32.const 0) (i32.const 4))))
""")

# post_upgrade traps with a message: the upgrade can never go through.
TRAPPING = wasmtime.wat2wasm("""
(module
  (import "ic0" "trap" (func $trap (param i32 i32)))
  (memory 1)
  (data (i32.const 0) "migration failed: field 'owner' missing")
  (func (export "canister_post_upgrade") (call $trap (i32.const 0) (i32.const 39))))
""")

FINE = wasmtime.wat2wasm("""
(module
  (import "ic0" "stable_grow" (func $stable_grow (param i32) (result i32)))
  (memory 2)
  (func (export "canister_post_upgrade") (drop (call $stable_grow (i32.const 3)))))
""")

UPGRADE = management.UpgradeFlags()


class Machine:
    """A replica's canister state machine with one canister of USER's."""

    def __init__(self, wasm: bytes) -> None:
        self.sm = WasmStateMachine(0, 100, ExecutionConfig(instruction_scale=SCALE))
        env = self.sm.env
        self.time = 10
        self.canister = env.create_canister(USER, time=self.tick())
        env.install_code(USER, self.canister, InstallMode("install"), wasm, b"", time=self.tick())

    def tick(self) -> int:
        self.time += 10
        return self.time

    def arg(self, wasm: bytes) -> bytes:
        return management.encode_args(
            management.INSTALL_CODE,
            management.InstallCodeArgs(UPGRADE, self.canister.principal, wasm, b""),
        )

    def rehearse(self, wasm: bytes, caller: Principal = USER) -> dict:
        return self.sm.rehearse_upgrade(caller, self.arg(wasm), time=self.tick()).to_json()

    def grow(self):
        return self.sm.env.update(self.canister, "grow", b"", caller=USER, time=self.tick())

    def upgrade(self, wasm: bytes) -> RejectError | None:
        try:
            self.sm.env.install_code(USER, self.canister, InstallMode("upgrade"), wasm, b"", time=self.tick())
        except RejectError as error:
            return error
        return None


def test_a_pre_upgrade_that_outgrows_the_limit_is_caught_before_the_real_upgrade() -> None:
    m = Machine(WALKER)
    assert m.grow().reply is not None  # 1 MiB: fits
    before = m.sm.state_hash()
    small = m.rehearse(WALKER)
    assert m.sm.state_hash() == before
    assert small["ok"] and small["instruction_limit"] == 30_000_000
    assert small["ic_instruction_limit"] == INSTALL_INSTRUCTIONS == 300_000_000_000
    assert 10_000_000 < small["instructions"]["pre_upgrade"] < 30_000_000
    assert small["headroom_basis_points"] == (30_000_000 - small["instructions_total"]) * 10_000 // 30_000_000
    assert small["heap_before"] == 17 * 65536 and small["stable_before"] == 0
    assert small["stable_after"] == 65536  # pre_upgrade's stable page

    for _ in range(3):  # 4 MiB: pre_upgrade walks four times as much
        assert m.grow().reply is not None
    before = m.sm.state_hash()
    big = m.rehearse(WALKER)
    assert m.sm.state_hash() == before
    assert not big["ok"] and big["error"]["during"] == "pre_upgrade"
    assert big["error"]["error_code"] == "IC0522" and "instruction limit" in big["error"]["message"]
    assert big["instructions_total"] == 30_000_000 and big["headroom_basis_points"] == 0
    assert big["heap_after"] is None

    real = m.upgrade(WALKER)  # the prediction holds
    assert real is not None and real.error_code == big["error"]["error_code"]
    assert real.message == big["error"]["message"]


def test_a_trapping_post_upgrade_is_predicted_with_its_message() -> None:
    m = Machine(FINE)
    report = m.rehearse(TRAPPING)
    assert not report["ok"] and report["error"]["during"] == "post_upgrade"
    assert "migration failed: field 'owner' missing" in report["error"]["message"]
    real = m.upgrade(TRAPPING)
    assert real is not None and real.message == report["error"]["message"]


def test_a_fine_upgrade_reports_memory_as_the_real_one_leaves_it() -> None:
    m = Machine(WALKER)
    report = m.rehearse(FINE)
    assert report["ok"] and report["module_hash_after"] is not None
    assert m.upgrade(FINE) is None
    canister = m.sm.env.canister(m.canister)
    assert canister.module_hash is not None and canister.module_hash.hex() == report["module_hash_after"]
    assert report["heap_after"] == canister.instance.heap_size == 2 * 65536  # type: ignore[union-attr]
    assert report["stable_after"] == canister.stable.size_bytes == 4 * 65536  # pre (1) + post (3)


def test_only_a_controller_can_rehearse_and_only_an_upgrade() -> None:
    m = Machine(FINE)
    stranger = Principal.from_ed25519_public_key(bytes(range(3, 35)))
    report = m.rehearse(FINE, caller=stranger)
    assert not report["ok"] and report["error"]["during"] == "install_code"
    assert "controller" in report["error"]["message"]
    install = management.encode_args(
        management.INSTALL_CODE, management.InstallCodeArgs("reinstall", m.canister.principal, FINE, b"")
    )
    with pytest.raises(RejectError, match="only an upgrade"):
        m.sm.rehearse_upgrade(USER, install, time=m.tick())


def test_replicas_rehearse_alike_sign_it_and_change_nothing() -> None:
    sim = simulation(seed=8)
    client = SimClient(sim)
    sim.step_until(2 * SECOND)
    canister = client.create()
    assert client.install(canister, FINE, "install").status == "replied"
    client.settle()
    arg = management.encode_args(
        management.INSTALL_CODE, management.InstallCodeArgs(UPGRADE, canister, TRAPPING, b"")
    )
    envelope = client.envelope(Principal.management(), management.INSTALL_CODE, arg, request_type="query")
    hashes = client.state_hashes()
    answers = [
        replica.rehearse_upgrade(RehearseUpgradeRequest(envelope), sim.now) for replica in sim.replicas
    ]
    assert client.state_hashes() == hashes
    assert len({a.outcome() for a in answers}) == 1 and answers[0].status == "replied"
    report = json.loads(answers[0].reply)
    assert report["error"]["during"] == "post_upgrade" and "migration failed" in report["error"]["message"]
    # a call envelope is never rehearsed: it could be submitted as the real upgrade
    as_call = client.envelope(Principal.management(), management.INSTALL_CODE, arg)
    refused = sim.replicas[1].rehearse_upgrade(RehearseUpgradeRequest(as_call), sim.now)
    assert refused.status == "rejected" and refused.error_code == "IC0201"


def test_the_report_reads_as_the_command_prints_it() -> None:
    m = Machine(FINE)
    canister = m.canister.principal
    fine = CanisterRehearsal("fine", canister, [], m.rehearse(FINE))
    text = rehearsal_text(fine)
    assert fine.failure() is None and text.endswith("Result: the upgrade would succeed.")
    assert (
        "Instructions (limit 30,000,000 for one install_code; this subnet's, scaled from the IC's 300,000,000,000):"
        in text
    )
    assert re.search(r"  stable +0 -> 196,608\n", text), text  # post_upgrade grew 3 pages
    # a stable_grow (the IC's 500-instruction overhead) and the Wasm around it
    assert re.search(r"  total +503   headroom 99\.99%\n", text), text
    trapped = CanisterRehearsal("fine", canister, [], m.rehearse(TRAPPING))
    assert (trapped.failure() or "").startswith("post_upgrade failed: ")
    assert "Trap in post_upgrade: " in rehearsal_text(
        trapped
    ) and "(unchanged: the upgrade failed)" in rehearsal_text(trapped)
    warning = UpgradeProblem("stable-types", "a warning", severity="warning")
    error = UpgradeProblem("stable-types", "an error", severity="error")
    assert "unless --yes" in (CanisterRehearsal("fine", canister, [warning], fine.report).failure() or "")
    assert "even with --yes" in (
        CanisterRehearsal("fine", canister, [warning, error], fine.report).failure() or ""
    )
    assert CanisterRehearsal("fine", canister, [warning], fine.report).to_json()["would_succeed"] is False
