"""Deterministic time slicing of ``install_code`` (``node.ic.slicing``, ``node.ic.lifecycle``):
an install, reinstall or upgrade that needs more than one slice pauses its canister and
completes in round ``s + ceil(I / SLICE) - 1``, its reply coming then; a failing one leaves
the canister exactly as it was.

``WORKER`` is a WAT canister whose ``canister_init`` and ``canister_post_upgrade`` read an
argument of two u64s (n, mark): they loop n times (8 instructions per iteration, as
``tests/test_time_slicing.py``'s ``spin``), then trap if mark is 0xdead, else keep mark in
the heap (at 4096) and in stable memory (at 8). ``canister_pre_upgrade`` writes the update
counter to stable memory (at 0) and scribbles on the heap (at 4104), so that a rolled back
upgrade shows in both if it were not rolled back.
"""

from __future__ import annotations

import hashlib
import struct
from fractions import Fraction

import wasmtime

from node.checkpoint import encode_checkpoint, restore_checkpoint
from node.ic import ExecutionConfig, ExecutionEnvironment, InstallMode
from node.ic.call_context import CANISTER
from node.ic.state_hash import canister_hash
from subnet.sim.runner import SECOND, SimConfig, Simulation
from tests.test_calls import CALLEE, FACTORY, compiled
from tests.test_canister_consensus import KEEP, SimClient
from tests.test_motoko import COUNTER_V1, COUNTER_V2
from tests.test_time_slicing import SLICE, USER, Chain, config, count
from vocab import management
from vocab.candid import Some, decode, encode
from vocab.certificate import RequestResult
from vocab.envelope import SignedEnvelope
from vocab.principal import Principal

WORKER = bytes(
    wasmtime.wat2wasm("""
(module
  (import "ic0" "msg_arg_data_size" (func $arg_size (result i32)))
  (import "ic0" "msg_arg_data_copy" (func $arg (param i32 i32 i32)))
  (import "ic0" "msg_reply_data_append" (func $append (param i32 i32)))
  (import "ic0" "msg_reply" (func $reply))
  (import "ic0" "stable64_size" (func $ssize (result i64)))
  (import "ic0" "stable64_grow" (func $grow (param i64) (result i64)))
  (import "ic0" "stable64_write" (func $swrite (param i64 i64 i64)))
  (memory (export "memory") 1)
  (global $count (mut i64) (i64.const 0))
  (func $stable
    (if (i64.eqz (call $ssize)) (then (drop (call $grow (i64.const 1))))))
  (func $work
    (local $n i64)
    (if (i32.ge_u (call $arg_size) (i32.const 16)) (then
      (call $arg (i32.const 16) (i32.const 0) (i32.const 16))
      (local.set $n (i64.load (i32.const 16)))
      (block $done
        (br_if $done (i64.eqz (local.get $n)))
        (loop $again
          (local.set $n (i64.sub (local.get $n) (i64.const 1)))
          (br_if $again (i64.ne (local.get $n) (i64.const 0)))))
      (if (i64.eq (i64.load (i32.const 24)) (i64.const 0xdead)) (then unreachable))
      (i64.store (i32.const 4096) (i64.load (i32.const 24)))
      (call $stable)
      (call $swrite (i64.const 8) (i64.const 24) (i64.const 8)))))
  (func (export "canister_init") (call $work))
  (func (export "canister_post_upgrade") (call $work))
  (func (export "canister_pre_upgrade")
    (i64.store (i32.const 32) (global.get $count))
    (call $stable)
    (call $swrite (i64.const 0) (i64.const 32) (i64.const 8))
    (i64.store (i32.const 4104) (i64.const -1)))
  (func (export "canister_update inc")
    (global.set $count (i64.add (global.get $count) (i64.const 1)))
    (i64.store (i32.const 0) (global.get $count))
    (call $append (i32.const 0) (i32.const 8))
    (call $reply))
  ;; the counter and the mark the last init or post_upgrade kept
  (func (export "canister_query get")
    (i64.store (i32.const 0) (global.get $count))
    (i64.store (i32.const 8) (i64.load (i32.const 4096)))
    (call $append (i32.const 0) (i32.const 16))
    (call $reply)))
""")
)
DEAD = 0xDEAD


def work(n: int, mark: int) -> bytes:
    return struct.pack("<QQ", n, mark)


def install_envelope(
    chain: Chain,
    mode: management.CanisterInstallMode,
    canister: Principal,
    arg: bytes,
    module: bytes = WORKER,
) -> SignedEnvelope:
    return chain.envelope(
        Principal.management(),
        management.INSTALL_CODE,
        management.encode_args(
            management.INSTALL_CODE, management.InstallCodeArgs(mode, canister, module, arg)
        ),
    )


def create(chain: Chain) -> Principal:
    reply = chain.ok(
        Principal.management(),
        management.CREATE,
        management.encode_args(management.CREATE, management.CreateCanisterArgs()),
    )
    return management.decode_reply(management.CREATE, reply).canister_id


def get(chain: Chain, canister: Principal) -> tuple[int, int]:
    reply = chain.subnet.query(canister, "get", b"", caller=USER, time=chain.time).unwrap()
    return struct.unpack("<QQ", reply)  # type: ignore[return-value]


def run_to(chain: Chain, envelope: SignedEnvelope, limit: int = 50) -> tuple[int, RequestResult]:
    """Batches until ``envelope`` is answered: (the height it was answered at, its result)."""
    for _ in range(limit):
        if envelope.request_id in chain.results:
            return chain.results[envelope.request_id]
        chain.batch()
    raise AssertionError("never answered")


def install_instructions(n: int) -> int:
    """What an install running ``work(n, 1)`` uses, unsliced, read from the fee it is charged
    (``message_fee + I * 4 // 10`` cycles: I to within the rounding of one division)."""
    env = ExecutionEnvironment(config(0))
    cid = env.create_canister(USER, time=1)
    before = env.canister(cid).cycles
    env.install_code(USER, cid, InstallMode("install"), WORKER, work(n, 1), time=2)
    fee = before - env.canister(cid).cycles - env.config.message_fee
    return fee * 10 // env.config.instruction_fee_per_ten


def test_a_long_install_completes_in_the_round_its_instructions_say() -> None:
    """8 instructions per iteration and about 1,600 around the loop (System API calls cost
    the IC's overhead, 500 most): 625,000 iterations are just over 5M instructions (6
    slices of 1M), 624,700 just under (5 slices)."""
    overhead = install_instructions(0)  # the install without its loop
    assert 0 < overhead < 2_000
    assert install_instructions(1000) - install_instructions(100) in range(8 * 900 - 2, 8 * 900 + 3)
    for n, rounds in ((625_000, 6), (624_700, 5)):
        assert -(-(8 * n + overhead) // SLICE) == rounds  # ceil(I / SLICE), by hand
        chain = Chain(config())
        canister = create(chain)
        other = chain.install()
        install = install_envelope(chain, "install", canister, work(n, 42))
        start = chain.height + 1
        chain.batch(install)
        state = chain.subnet.ic.env.state
        assert canister.raw in state.paused and state.paused[canister.raw].install is not None
        # blocks keep coming and another canister's updates complete meanwhile
        for k in range(1, rounds):
            inc = chain.envelope(other.principal, "inc", b"")
            chain.batch(inc)
            assert count(chain.results[inc.request_id][1].reply) == k
        height, result = chain.results[install.request_id]
        assert height == start + rounds - 1, (n, height - start + 1)
        assert result.status == "replied" and result.reply == management.encode_reply(management.INSTALL_CODE)
        assert get(chain, canister) == (0, 42)
        assert state.canisters[canister.raw].stable.read(8, 8) == struct.pack("<Q", 42)
        assert not state.paused


def upgraded(
    slice_: int, mark: int, n: int = 700_000, mode: management.CanisterInstallMode = "upgrade"
) -> tuple[Chain, Principal, SignedEnvelope, int]:
    """A canister installed with mark 7 and its counter at 3, then an upgrade (or ``mode``)
    of work(n, mark) sent: (the chain, the canister, the upgrade's envelope, the height it
    started at)."""
    chain = Chain(config(slice_))
    canister = create(chain)
    chain.ok(
        Principal.management(),
        management.INSTALL_CODE,
        management.encode_args(
            management.INSTALL_CODE, management.InstallCodeArgs("install", canister, WORKER, work(1, 7))
        ),
    )
    for _ in range(3):
        chain.ok(canister, "inc", b"")
    upgrade = install_envelope(chain, mode, canister, work(n, mark))
    chain.batch(upgrade)
    return chain, canister, upgrade, chain.height


def test_a_sliced_upgrade_leaves_the_canister_as_the_same_upgrade_unsliced() -> None:
    """Same heap, globals, stable memory, module, version, history, logs and cycles, byte
    for byte: slicing changes when an upgrade applies, not what it leaves."""
    finished = []
    for slice_ in (SLICE, 0, 10 * SLICE):  # sliced; not sliced; one slice holds it all
        chain, canister, upgrade, start = upgraded(slice_, 9)
        height, result = run_to(chain, upgrade)
        assert result.status == "replied", result
        assert height == (start + 6 - 1 if slice_ == SLICE else start)
        state = chain.subnet.ic.env.state
        finished.append((chain, state.canisters[canister.raw]))
        assert get(chain, canister) == (0, 9)
    (_, sliced), (_, unsliced), (_, whole) = finished
    assert canister_hash(sliced) == canister_hash(unsliced) == canister_hash(whole)
    assert sliced.instance is not None and unsliced.instance is not None
    assert sliced.instance.snapshot() == unsliced.instance.snapshot()
    assert sliced.stable.to_bytes() == unsliced.stable.to_bytes()
    assert sliced.stable.read(0, 16) == struct.pack("<QQ", 3, 9)  # pre_upgrade's count, the mark
    assert (sliced.raw_module, sliced.version, sliced.cycles) == (
        unsliced.raw_module,
        unsliced.version,
        unsliced.cycles,
    )
    assert sliced.history == unsliced.history and sliced.logs == unsliced.logs


def test_a_sliced_reinstall_leaves_the_canister_as_the_same_reinstall_unsliced() -> None:
    ended = []
    for slice_ in (SLICE, 0):
        chain, canister, reinstall, start = upgraded(slice_, 9, mode="reinstall")
        height, result = run_to(chain, reinstall)
        assert result.status == "replied" and height == (start + 6 - 1 if slice_ else start)
        assert get(chain, canister) == (0, 9)
        canister_state = chain.subnet.ic.env.state.canisters[canister.raw]
        assert canister_state.stable.read(0, 16) == struct.pack("<QQ", 0, 9)  # fresh, no pre_upgrade
        ended.append(canister_hash(canister_state))
    assert ended[0] == ended[1]


def test_a_post_upgrade_trapping_after_several_slices_leaves_the_old_canister() -> None:
    chain, canister, upgrade, start = upgraded(SLICE, DEAD)
    state = chain.subnet.ic.env.state
    old = state.canisters[canister.raw]
    assert old.instance is not None
    heap, stable, module = old.instance.snapshot(), old.stable.to_bytes(), old.raw_module
    version, history, settings = old.version, list(old.history), old.settings
    height, result = run_to(chain, upgrade)
    assert height == start + 6 - 1  # the trap comes after the loop's 5.6M instructions
    assert result.status == "rejected" and result.error_code == "IC0502", result
    assert "unreachable" in result.reject_message
    after = state.canisters[canister.raw]
    assert after.instance is not None
    assert after.instance.snapshot() == heap
    assert after.stable.to_bytes() == stable and stable[:8] == b"\x00" * 8  # pre_upgrade's write undone
    assert after.raw_module == module and after.version == version
    assert after.history == history and after.settings is settings
    # the old code goes on from its old state
    assert get(chain, canister) == (3, 7)
    assert count(chain.ok(canister, "inc", b"")) == 4


def test_an_upgrade_out_of_its_limit_fails_at_its_limit_and_changes_nothing() -> None:
    scale = Fraction(1, 60_000)  # the install limit becomes 5M instructions: 5 slices of 1M
    chain = Chain(config(SLICE, scale))
    canister = create(chain)
    chain.ok(
        Principal.management(),
        management.INSTALL_CODE,
        management.encode_args(
            management.INSTALL_CODE, management.InstallCodeArgs("install", canister, WORKER, work(1, 7))
        ),
    )
    state = chain.subnet.ic.env.state
    before = state.canisters[canister.raw]
    assert before.instance is not None
    heap, stable, cycles = before.instance.snapshot(), before.stable.to_bytes(), before.cycles
    upgrade = install_envelope(chain, "upgrade", canister, work(10_000_000, 1))
    chain.batch(upgrade)
    start = chain.height
    height, result = run_to(chain, upgrade)
    assert height == start + 5 - 1
    assert result.status == "rejected" and result.error_code == "IC0522", result
    after = state.canisters[canister.raw]
    assert after.instance is not None and after.instance.snapshot() == heap
    assert after.stable.to_bytes() == stable
    assert after.cycles == cycles - ExecutionConfig().execution_fee(5_000_000)


def test_management_calls_and_other_installs_wait_for_a_paused_install() -> None:
    """As the IC's scheduler: a call naming the paused canister (status, update_settings,
    stop) waits for its install, and so does an install of another canister (one long
    install at a time); all run, in order, in the round it completes."""
    chain, canister, upgrade, start = upgraded(SLICE, 5)
    other = create(chain)
    record = management.CanisterIdRecord(canister)
    status = chain.envelope(
        Principal.management(), management.STATUS, management.encode_args(management.STATUS, record)
    )
    settings = chain.envelope(
        Principal.management(),
        management.UPDATE_SETTINGS,
        management.encode_args(
            management.UPDATE_SETTINGS,
            management.UpdateSettingsArgs(canister, management.Settings(freezing_threshold=1234)),
        ),
    )
    elsewhere = install_envelope(chain, "install", other, work(1, 11))
    chain.batch(status, settings, elsewhere)
    assert not {status.request_id, settings.request_id, elsewhere.request_id} & set(chain.results)
    height, result = run_to(chain, upgrade)
    assert result.status == "replied" and height == start + 6 - 1
    for waited in (status, settings, elsewhere):
        assert chain.results[waited.request_id][0] == height
        assert chain.results[waited.request_id][1].status == "replied"
    answer = management.decode_reply(management.STATUS, chain.results[status.request_id][1].reply)
    assert (
        answer.module_hash is not None and answer.settings.freezing_threshold != 1234
    )  # before the settings
    assert chain.subnet.ic.env.state.canisters[canister.raw].settings.freezing_threshold == 1234
    assert get(chain, other) == (0, 11)


def test_a_checkpoint_taken_mid_install_restores_and_completes_in_the_same_round() -> None:
    chain, canister, upgrade, start = upgraded(SLICE, 9)
    chain.batch()
    state = chain.subnet.ic.env.state
    assert state.paused[canister.raw].install is not None
    digest = chain.subnet.state_hash()
    blob = encode_checkpoint(
        chain.subnet,
        height=chain.height,
        block_hash=b"\x01" * 32,
        state_hash=digest,
        results_root=b"\x02" * 32,
    )
    twin = Chain(config())
    restore_checkpoint(twin.subnet, blob, height=chain.height, state_hash=digest)
    assert twin.subnet.state_hash() == digest
    assert twin.subnet.ic.env.state.paused[canister.raw].install == state.paused[canister.raw].install
    twin.height, twin.time, twin.nonce = chain.height, chain.time, chain.nonce
    while upgrade.request_id not in chain.results:
        assert chain.batch() == twin.batch()
        assert chain.subnet.state_hash() == twin.subnet.state_hash()
    assert chain.results[upgrade.request_id][0] == twin.results[upgrade.request_id][0] == start + 6 - 1
    assert get(twin, canister) == (0, 9)


def test_four_simulated_replicas_agree_while_an_upgrade_is_paused() -> None:
    sim = Simulation(
        SimConfig(
            replicas=4,
            seed=7,
            duration_ns=600 * SECOND,
            workload=None,
            genesis_params={"extra": {"instructions_per_slice": SLICE}},
        )
    )
    client = SimClient(sim)
    canister, other = client.create(), client.create()
    assert client.install(canister, WORKER, "install").status == "replied"
    assert client.install(other, WORKER, "install").status == "replied"
    upgrade = client.envelope(
        Principal.management(),
        management.INSTALL_CODE,
        management.encode_args(
            management.INSTALL_CODE,
            management.InstallCodeArgs("upgrade", canister, WORKER, work(2_500_000, 3)),
        ),
    )
    sim.submit(upgrade, 0)
    replicas = [replica for replica in sim.replicas if replica is not None]
    while not all(canister.raw in r.state.ic.env.state.paused for r in replicas):
        sim.step_until(sim.now + 50_000_000)
    starts = {r.state.ic.env.state.paused[canister.raw].start_round for r in replicas}
    assert len(starts) == 1
    start = starts.pop()
    incs = 0
    while upgrade.request_id not in sim.replies:
        assert count(client.ok(other, "inc")) == incs + 1
        incs += 1
        assert incs < 40, "the upgrade never completed"
    result = sim.replies[upgrade.request_id].result
    assert result.status == "replied", result
    assert result.height == start + 21 - 1  # 20M instructions and a few hundred: 21 slices
    print(f"upgrade paused from height {start} to {result.height}; {incs} updates of another canister")
    assert incs >= 5
    client.settle()
    top = min(r.executed_height for r in replicas)
    for height in range(start, top + 1):
        assert len({r.state_hashes[height] for r in replicas if height in r.state_hashes}) == 1, height
    assert len(client.state_hashes()) == 1


def test_a_motoko_canister_installing_another_gets_the_answer_when_the_install_completes() -> None:
    """Real Motoko installs (~100k instructions: the runtime's initialization) with a
    30k-instruction slice: the factory's own install and the one it calls
    ``install_code`` for (an inter-canister call to the management canister) are both
    paused across rounds; the factory's ``await`` resumes when the second completes."""
    factory, callee = compiled(FACTORY).wasm, compiled(CALLEE).wasm
    chain = Chain(config(30_000))
    state = chain.subnet.ic.env.state
    maker = create(chain)
    install = chain.envelope(
        Principal.management(),
        management.INSTALL_CODE,
        management.encode_args(
            management.INSTALL_CODE, management.InstallCodeArgs("install", maker, factory, b"DIDL\x00\x00")
        ),
    )
    chain.batch(install)
    assert maker.raw in state.paused
    assert run_to(chain, install)[1].status == "replied"
    make = chain.envelope(maker, "make", encode([callee, 2_000_000_000_000], "(blob, nat)"))
    chain.batch(make)
    paused_installs = []
    while make.request_id not in chain.results:
        paused_installs += [p.install for p in state.paused.values() if p.install is not None]
        chain.batch()
    assert paused_installs and {i.origin.kind for i in paused_installs} == {CANISTER}
    result = chain.results[make.request_id][1]
    assert result.status == "replied", result
    created, status, _, module_hash = decode(result.reply)
    assert status == "#running" and module_hash == Some(hashlib.sha256(callee).digest())
    double = chain.envelope(created, "double", encode([4], "(nat)"))
    chain.batch(double)
    assert decode(run_to(chain, double)[1].reply) == [8]


def test_a_sliced_motoko_upgrade_keeps_its_state_as_the_unsliced_one() -> None:
    """A real Motoko counter (enhanced orthogonal persistence: the heap is kept) upgraded
    with a 30k-instruction slice ends byte for byte as the same upgrade unsliced: the same
    batches are fed to both chains, each message given 12 rounds."""
    v1, v2 = compiled(COUNTER_V1).wasm, compiled(COUNTER_V2).wasm
    ended = []
    for slice_ in (30_000, 0):
        chain = Chain(config(slice_))
        state = chain.subnet.ic.env.state
        counter = create(chain)
        sliced = []
        for envelope in (
            install_envelope(chain, "install", counter, b"DIDL\x00\x00", v1),
            *(chain.envelope(counter, "inc", b"DIDL\x00\x00") for _ in range(3)),
            install_envelope(chain, KEEP, counter, b"DIDL\x00\x00", v2),
        ):
            chain.batch(envelope)
            sliced.append(counter.raw in state.paused)
            for _ in range(12):
                chain.batch()
            assert chain.results[envelope.request_id][1].status == "replied"
        assert sliced[0] == sliced[-1] == bool(slice_)  # the install and the upgrade were paused
        for method, value in (("get", 3), ("getAdded", 7)):
            reply = chain.subnet.query(
                counter, method, b"DIDL\x00\x00", caller=USER, time=chain.time
            ).unwrap()
            assert decode(reply) == [value]
        ended.append(state.canisters[counter.raw])
    assert canister_hash(ended[0]) == canister_hash(ended[1])


CLEANER = bytes(
    wasmtime.wat2wasm("""
(module
  (import "ic0" "msg_arg_data_copy" (func $arg (param i32 i32 i32)))
  (import "ic0" "msg_reply_data_append" (func $append (param i32 i32)))
  (import "ic0" "msg_reply" (func $reply))
  (import "ic0" "call_new" (func $call_new (param i32 i32 i32 i32 i32 i32 i32 i32)))
  (import "ic0" "call_on_cleanup" (func $on_cleanup (param i32 i32)))
  (import "ic0" "call_perform" (func $call_perform (result i32)))
  (import "ic0" "canister_self_size" (func $self_size (result i32)))
  (import "ic0" "canister_self_copy" (func $self_copy (param i32 i32 i32)))
  (import "ic0" "stable64_size" (func $ssize (result i64)))
  (import "ic0" "stable64_grow" (func $grow (param i64) (result i64)))
  (import "ic0" "stable64_write" (func $swrite (param i64 i64 i64)))
  (memory (export "memory") 1)
  (table 2 funcref)
  (elem (i32.const 0) $after $cleanup)
  (data (i32.const 200) "inc")
  (global $count (mut i64) (i64.const 0))
  (global $cleaned (mut i64) (i64.const 0))
  ;; "later": calls its own "inc"; the reply callback traps, and its cleanup loops n times
  (func (export "canister_update later")
    (call $arg (i32.const 32) (i32.const 0) (i32.const 8))
    (call $self_copy (i32.const 300) (i32.const 0) (call $self_size))
    (call $call_new (i32.const 300) (call $self_size) (i32.const 200) (i32.const 3)
      (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0))
    (call $on_cleanup (i32.const 1) (i32.const 0))
    (drop (call $call_perform)))
  (func $after (param i32) unreachable)
  (func $cleanup (param i32)
    (local $n i64)
    (local.set $n (i64.load (i32.const 32)))
    (block $done
      (br_if $done (i64.eqz (local.get $n)))
      (loop $again
        (local.set $n (i64.sub (local.get $n) (i64.const 1)))
        (br_if $again (i64.ne (local.get $n) (i64.const 0)))))
    (global.set $cleaned (i64.add (global.get $cleaned) (i64.const 1)))
    (i64.store (i32.const 40) (global.get $cleaned))
    (if (i64.eqz (call $ssize)) (then (drop (call $grow (i64.const 1)))))
    (call $swrite (i64.const 0) (i64.const 40) (i64.const 8)))
  (func (export "canister_update inc")
    (global.set $count (i64.add (global.get $count) (i64.const 1)))
    (i64.store (i32.const 0) (global.get $count))
    (call $append (i32.const 0) (i32.const 8))
    (call $reply))
  (func (export "canister_query get")
    (i64.store (i32.const 0) (global.get $count))
    (i64.store (i32.const 8) (global.get $cleaned))
    (call $append (i32.const 0) (i32.const 16))
    (call $reply)))
""")
)


def test_a_long_cleanup_callback_is_sliced_as_on_the_ic() -> None:
    """A reply callback traps and its cleanup loops 700,000 times (5.6M instructions, 6
    slices): the canister stays paused until the cleanup completes, the call's reject (the
    callback's trap) comes then, a checkpoint taken meanwhile restores to the same end,
    and the canister ends as with the same cleanup unsliced."""
    ended = []
    for slice_ in (SLICE, 0):
        chain = Chain(config(slice_))
        state = chain.subnet.ic.env.state
        cleaner = chain.install(CLEANER).principal
        later = chain.envelope(cleaner, "later", struct.pack("<Q", 700_000))
        chain.batch(later)
        start = chain.height
        if slice_:
            paused = state.paused[cleaner.raw]
            assert paused.inputs.kind.name == "CLEANUP" and paused.start_round == start
            assert later.request_id not in chain.results
            assert get(chain, cleaner) == (1, 0)  # inc ran; the cleanup's effects not yet
            digest = chain.subnet.state_hash()
            blob = encode_checkpoint(
                chain.subnet,
                height=start,
                block_hash=b"\x01" * 32,
                state_hash=digest,
                results_root=b"\x02" * 32,
            )
            twin = Chain(config(slice_))
            restore_checkpoint(twin.subnet, blob, height=start, state_hash=digest)
            twin.height, twin.time, twin.nonce = chain.height, chain.time, chain.nonce
            for _ in range(6):
                assert chain.batch() == twin.batch()
                assert chain.subnet.state_hash() == twin.subnet.state_hash()
        else:
            for _ in range(6):
                chain.batch()
        height, result = chain.results[later.request_id]
        assert height == (start + 6 - 1 if slice_ else start)
        assert result.status == "rejected" and result.error_code == "IC0502", result
        assert get(chain, cleaner) == (1, 1)
        assert state.canisters[cleaner.raw].stable.read(0, 8) == struct.pack("<Q", 1)
        ended.append(state.canisters[cleaner.raw])
    assert canister_hash(ended[0]) == canister_hash(ended[1])
