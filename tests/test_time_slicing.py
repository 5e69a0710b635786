"""Deterministic time slicing (``node.ic.slicing``): a long update runs across rounds.

A WAT canister whose ``spin`` update loops n times (8 instructions per iteration, by
wasmtime's fuel rules: local.get, i64.const, i64.sub, local.set, local.get, i64.const,
i64.ne, br_if; ``loop`` costs nothing) is run through the replicated state machine with a
small slice. Its completion round is computed by hand from its instruction count and the
slice; meanwhile another canister's updates complete in every round and the paused
canister's hash and query answers are those before the message.
"""

from __future__ import annotations

import struct
from fractions import Fraction

import wasmtime

from node.checkpoint import encode_checkpoint, restore_checkpoint
from node.execution import SubnetStateMachine
from node.ic import ExecutionConfig, ExecutionEnvironment, InstallMode
from node.ic.state_hash import canister_hash
from node.ic.state_machine import WasmStateMachine
from node.state_machine import Batch
from vocab import crypto, management
from vocab.certificate import RequestResult
from vocab.envelope import SignedEnvelope
from vocab.principal import CanisterId, Principal
from vocab.request import RequestContent

SPIN = """
(module
  (import "ic0" "msg_arg_data_copy" (func $arg (param i32 i32 i32)))
  (import "ic0" "msg_reply_data_append" (func $append (param i32 i32)))
  (import "ic0" "msg_reply" (func $reply))
  (import "ic0" "stable64_grow" (func $grow (param i64) (result i64)))
  (import "ic0" "stable64_write" (func $swrite (param i64 i64 i64)))
  (import "ic0" "call_new" (func $call_new (param i32 i32 i32 i32 i32 i32 i32 i32)))
  (import "ic0" "call_perform" (func $call_perform (result i32)))
  (import "ic0" "canister_self_size" (func $self_size (result i32)))
  (import "ic0" "canister_self_copy" (func $self_copy (param i32 i32 i32)))
  (import "ic0" "time" (func $time (result i64)))
  (memory (export "memory") 1)
  (table 2 funcref)
  (elem (i32.const 0) $after $failed)
  (data (i32.const 200) "inc")
  (global $count (mut i64) (i64.const 0))
  (func $reply_count
    (i64.store (i32.const 0) (global.get $count))
    (call $append (i32.const 0) (i32.const 8))
    (call $reply))
  (func (export "canister_update spin")
    (local $n i64)
    (call $arg (i32.const 16) (i32.const 0) (i32.const 8))
    (local.set $n (i64.load (i32.const 16)))
    (block $done
      (br_if $done (i64.eqz (local.get $n)))
      (loop $again
        (local.set $n (i64.sub (local.get $n) (i64.const 1)))
        (br_if $again (i64.ne (local.get $n) (i64.const 0)))))
    (global.set $count (i64.add (global.get $count) (i64.const 1)))
    (i64.store (i32.const 4096) (i64.load (i32.const 16)))
    (drop (call $grow (i64.const 1)))
    (call $swrite (i64.const 0) (i64.const 16) (i64.const 8))
    (call $reply_count))
  (func (export "canister_update inc")
    (global.set $count (i64.add (global.get $count) (i64.const 1)))
    (call $reply_count))
  (func (export "canister_query get") (call $reply_count))
  ;; "tick": n System API calls (ic0.time), then as "inc"
  (func (export "canister_update tick")
    (local $n i64)
    (call $arg (i32.const 16) (i32.const 0) (i32.const 8))
    (local.set $n (i64.load (i32.const 16)))
    (block $done
      (br_if $done (i64.eqz (local.get $n)))
      (loop $again
        (drop (call $time))
        (local.set $n (i64.sub (local.get $n) (i64.const 1)))
        (br_if $again (i64.ne (local.get $n) (i64.const 0)))))
    (global.set $count (i64.add (global.get $count) (i64.const 1)))
    (call $reply_count))
  ;; "later": call itself ("inc"), then loop n times in the reply callback and answer
  (func (export "canister_update later")
    (call $arg (i32.const 32) (i32.const 0) (i32.const 8))
    (call $self_copy (i32.const 300) (i32.const 0) (call $self_size))
    (call $call_new (i32.const 300) (call $self_size) (i32.const 200) (i32.const 3)
      (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 0))
    (drop (call $call_perform)))
  (func $after (param i32)
    (local $n i64)
    (local.set $n (i64.load (i32.const 32)))
    (block $done
      (br_if $done (i64.eqz (local.get $n)))
      (loop $again
        (local.set $n (i64.sub (local.get $n) (i64.const 1)))
        (br_if $again (i64.ne (local.get $n) (i64.const 0)))))
    (global.set $count (i64.add (global.get $count) (i64.const 100)))
    (call $reply_count))
  (func $failed (param i32) (call $reply_count)))
"""
SPIN_WASM = WASM = wasmtime.wat2wasm(SPIN)
KEY = crypto.private_key_from_seed(b"\x07" * 32)
USER = Principal.from_ed25519_public_key(crypto.raw_public_key(KEY))
SLICE = 1_000_000


def n_arg(n: int) -> bytes:
    return struct.pack("<Q", n)


def count(reply: bytes) -> int:
    return int(struct.unpack("<Q", reply)[0])


class Chain:
    """A state machine fed batches, as consensus feeds it."""

    def __init__(self, config: ExecutionConfig) -> None:
        self.subnet = SubnetStateMachine(WasmStateMachine(0, 100, config))
        self.height = 0
        self.time = 1_000_000
        self.nonce = 0
        self.results: dict[bytes, tuple[int, RequestResult]] = {}

    def envelope(self, canister: Principal, method: str, arg: bytes) -> SignedEnvelope:
        self.nonce += 1
        content = RequestContent(
            request_type="call",
            sender=USER,
            canister_id=canister,
            method_name=method,
            arg=arg,
            ingress_expiry=10**18,
            nonce=self.nonce.to_bytes(8, "big"),
        )
        return SignedEnvelope.sign(content, KEY)

    def batch(self, *envelopes: SignedEnvelope) -> list[RequestResult]:
        self.height += 1
        self.time += 1_000_000_000
        results = self.subnet.execute(Batch(self.height, self.time, tuple(envelopes), b"\x00" * 32))
        for result in results:
            assert result.request_id not in self.results, "a request answered twice"
            self.results[result.request_id] = (self.height, result)
        return results

    def ok(self, canister: Principal, method: str, arg: bytes) -> bytes:
        envelope = self.envelope(canister, method, arg)
        self.batch(envelope)
        height, result = self.results[envelope.request_id]
        assert result.status == "replied", result
        return result.reply

    def install(self, wasm: bytes = WASM) -> CanisterId:
        reply = self.ok(
            Principal.management(),
            management.CREATE,
            management.encode_args(management.CREATE, management.CreateCanisterArgs()),
        )
        cid = CanisterId.from_principal(management.decode_reply(management.CREATE, reply).canister_id)
        self.ok(
            Principal.management(),
            management.INSTALL_CODE,
            management.encode_args(
                management.INSTALL_CODE,
                management.InstallCodeArgs("install", cid.principal, wasm, b"DIDL\x00\x00"),
            ),
        )
        return cid


def config(slice_: int = SLICE, scale: Fraction = Fraction(1)) -> ExecutionConfig:
    return ExecutionConfig(
        first_canister_index=0, last_canister_index=99, instructions_per_slice=slice_, instruction_scale=scale
    )


def instructions(n: int, scale: Fraction = Fraction(1)) -> int:
    """What ``spin(n)`` uses, run unsliced to its end in a bare environment."""
    env = ExecutionEnvironment(config(0, scale))
    cid = env.create_canister(USER, time=1)
    env.install_code(USER, cid, InstallMode("install"), WASM, b"DIDL\x00\x00", time=2)
    return env.update(cid, "spin", n_arg(n), caller=USER, time=3).instructions


def test_spin_costs_eight_instructions_per_iteration() -> None:
    base = instructions(0)
    assert instructions(1000) - instructions(1) == 8 * 999
    assert instructions(1) > base  # the first iteration costs the block's exit test too


def test_a_long_update_completes_in_the_round_its_instructions_say() -> None:
    n = 700_000
    used = instructions(n)
    rounds = -(-used // SLICE)  # ceil(I / SLICE): 6 for 5.6M instructions
    assert rounds == 6
    chain = Chain(config())
    spinner = chain.install()
    other = chain.install()
    paused_hash = canister_hash(chain.subnet.ic.env.state.canisters[spinner.principal.raw])
    spin = chain.envelope(spinner.principal, "spin", n_arg(n))
    start = chain.height + 1
    chain.batch(spin)
    assert spin.request_id not in chain.results
    state = chain.subnet.ic.env.state
    assert spinner.principal.raw in state.paused
    waiting = chain.envelope(spinner.principal, "inc", b"")
    hashes = set()
    for k in range(1, rounds):
        envelopes = [chain.envelope(other.principal, "inc", b"")]
        if k == 1:
            envelopes.append(waiting)
        results = chain.batch(*envelopes)
        # the other canister's update completes in the round it is in
        assert [count(r.reply) for r in results if r.request_id == envelopes[0].request_id] == [k]
        if chain.height < start + rounds - 1:
            # paused: its state is the state before the message, and its queries say so
            assert spinner.principal.raw in state.paused
            assert canister_hash(state.canisters[spinner.principal.raw]) == paused_hash
            assert (
                count(
                    chain.subnet.query(spinner.principal, "get", b"", caller=USER, time=chain.time).unwrap()
                )
                == 0
            )
            hashes.add(chain.subnet.state_hash())
    height, result = chain.results[spin.request_id]
    assert height == start + rounds - 1
    assert count(result.reply) == 1
    # the update that waited behind it ran right after it, in the same round
    waited_height, waited = chain.results[waiting.request_id]
    assert (waited_height, count(waited.reply)) == (height, 2)
    canister = state.canisters[spinner.principal.raw]
    assert canister.stable.read(0, 8) == n_arg(n)
    assert not state.paused
    assert len(hashes) == rounds - 2  # other canister changed each round


def test_a_long_update_that_runs_out_of_instructions_changes_nothing_but_its_fee() -> None:
    scale = Fraction(1, 4000)  # the update limit becomes 10M instructions
    chain = Chain(config(2_000_000, scale))
    spinner = chain.install()
    before = canister_hash(chain.subnet.ic.env.state.canisters[spinner.principal.raw])
    cycles = chain.subnet.ic.env.state.canisters[spinner.principal.raw].cycles
    spin = chain.envelope(spinner.principal, "spin", n_arg(10_000_000))
    start = chain.height + 1
    chain.batch(spin)
    while spin.request_id not in chain.results:
        chain.batch()
    height, result = chain.results[spin.request_id]
    assert height == start + 5 - 1  # ceil(10M / 2M) rounds
    assert result.status == "rejected" and result.error_code == "IC0522"
    canister = chain.subnet.ic.env.state.canisters[spinner.principal.raw]
    fee = ExecutionConfig().execution_fee(10_000_000)
    assert canister.cycles == cycles - fee
    assert (
        count(chain.subnet.query(spinner.principal, "get", b"", caller=USER, time=chain.time).unwrap()) == 0
    )
    assert canister_hash(canister) != before  # fee, logs


def test_a_checkpoint_taken_mid_pause_restores_to_the_same_completion() -> None:
    chain = Chain(config())
    spinner = chain.install()
    spin = chain.envelope(spinner.principal, "spin", n_arg(700_000))
    chain.batch(spin)
    chain.batch(chain.envelope(spinner.principal, "inc", b""))
    assert chain.subnet.ic.env.state.paused
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
    twin.height, twin.time, twin.nonce = chain.height, chain.time, chain.nonce
    for _ in range(6):
        assert chain.batch() == twin.batch()
        assert chain.subnet.state_hash() == twin.subnet.state_hash()
    # started at height 3 (two heights to create and install): ceil(5.6M / 1M) = 6 rounds
    assert chain.results[spin.request_id][0] == twin.results[spin.request_id][0] == 3 + 6 - 1


def test_management_calls_for_a_paused_canister_wait_for_its_long_message() -> None:
    """As on the IC: a subnet message whose canister has a paused execution runs once it
    completes (here: a status query and a reinstall, answered in that round, in order)."""
    chain = Chain(config())
    spinner = chain.install()
    spin = chain.envelope(spinner.principal, "spin", n_arg(700_000))
    chain.batch(spin)
    record = management.CanisterIdRecord(spinner.principal)
    status = chain.envelope(
        Principal.management(), management.STATUS, management.encode_args(management.STATUS, record)
    )
    reinstall = chain.envelope(
        Principal.management(),
        management.INSTALL_CODE,
        management.encode_args(
            management.INSTALL_CODE,
            management.InstallCodeArgs("reinstall", spinner.principal, WASM, b"DIDL\x00\x00"),
        ),
    )
    chain.batch(status, reinstall)
    assert status.request_id not in chain.results and reinstall.request_id not in chain.results
    while spin.request_id not in chain.results:
        chain.batch()
    done = chain.results[spin.request_id][0]
    assert chain.results[status.request_id][0] == chain.results[reinstall.request_id][0] == done
    assert chain.results[reinstall.request_id][1].status == "replied"
    answer = management.decode_reply(management.STATUS, chain.results[status.request_id][1].reply)
    assert answer.module_hash is not None
    # the reinstall ran after the long message: the counter it left is gone
    assert (
        count(chain.subnet.query(spinner.principal, "get", b"", caller=USER, time=chain.time).unwrap()) == 0
    )
    assert chain.subnet.ic.env.state.canisters[spinner.principal.raw].stable.size_pages == 0


def test_a_sliced_update_leaves_the_canister_as_the_same_update_unsliced() -> None:
    """Same instructions charged, same heap, globals, stable memory and version: slicing
    changes when the effects apply, not what they are."""
    hashes = []
    for slice_ in (SLICE, 0):
        chain = Chain(config(slice_))
        spinner = chain.install()
        spin = chain.envelope(spinner.principal, "spin", n_arg(700_000))
        chain.batch(spin)
        while spin.request_id not in chain.results:
            chain.batch()
        hashes.append(canister_hash(chain.subnet.ic.env.state.canisters[spinner.principal.raw]))
    assert hashes[0] == hashes[1]


def test_a_long_reply_callback_is_sliced_too() -> None:
    """A callback (what follows an ``await``) that loops runs across rounds like an update,
    and survives a checkpoint taken while it is paused."""
    chain = Chain(config())
    canister = chain.install()
    later = chain.envelope(canister.principal, "later", n_arg(700_000))
    start = chain.height + 1
    chain.batch(later)
    paused = chain.subnet.ic.env.state.paused[canister.principal.raw]
    assert paused.function == (0, 0) and paused.start_round == start
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
    twin.height, twin.time = chain.height, chain.time
    while later.request_id not in chain.results:
        assert chain.batch() == twin.batch()
        assert chain.subnet.state_hash() == twin.subnet.state_hash()
    height, result = chain.results[later.request_id]
    assert height == start + 6 - 1  # the loop's 5.6M instructions, and a few more: 6 slices
    assert count(result.reply) == 101  # inc, then the callback's 100


HEARTBEAT = wasmtime.wat2wasm("""
(module
  (import "ic0" "msg_arg_data_copy" (func $arg (param i32 i32 i32)))
  (import "ic0" "msg_reply_data_append" (func $append (param i32 i32)))
  (import "ic0" "msg_reply" (func $reply))
  (memory (export "memory") 1)
  (global $beats (mut i64) (i64.const 0))
  ;; "arm": the next heartbeat loops n times
  (func (export "canister_update arm")
    (call $arg (i32.const 64) (i32.const 0) (i32.const 8))
    (call $append (i32.const 64) (i32.const 8))
    (call $reply))
  (func (export "canister_heartbeat")
    (local $n i64)
    (local.set $n (i64.load (i32.const 64)))
    (i64.store (i32.const 64) (i64.const 0))
    (block $done
      (br_if $done (i64.eqz (local.get $n)))
      (loop $again
        (local.set $n (i64.sub (local.get $n) (i64.const 1)))
        (br_if $again (i64.ne (local.get $n) (i64.const 0)))))
    (global.set $beats (i64.add (global.get $beats) (i64.const 1))))
  (func (export "canister_query beats")
    (i64.store (i32.const 0) (global.get $beats))
    (call $append (i32.const 0) (i32.const 8))
    (call $reply)))
""")


def test_a_long_heartbeat_is_sliced_and_the_next_ones_wait() -> None:
    chain = Chain(config())
    canister = chain.install(HEARTBEAT)
    state = chain.subnet.ic.env.state

    def beats() -> int:
        return count(
            chain.subnet.query(canister.principal, "beats", b"", caller=USER, time=chain.time).unwrap()
        )

    before = beats()
    chain.batch(chain.envelope(canister.principal, "arm", n_arg(700_000)))
    # the arming round's heartbeat (after its ingress) loops: ~5.6M instructions, 6 slices,
    # and no other beat runs meanwhile
    start = chain.height
    assert canister.principal.raw in state.paused and state.paused[canister.principal.raw].context is None
    while canister.principal.raw in state.paused:
        assert beats() == before
        chain.batch()
    assert chain.height == start + 6 - 1
    assert beats() == before + 1
    chain.batch()
    assert beats() == before + 2  # one short beat per round again


def test_a_loop_of_system_api_calls_completes_in_the_round_its_instructions_say() -> None:
    """The observed run's reports (after each System API call) decide the rounds here. A
    System API call costs the IC's 500-instruction overhead and here a Python call (~10-30
    us): 5,000 calls are ~2.5M instructions."""
    slice_ = 600_000
    env = ExecutionEnvironment(config(0))
    cid = env.create_canister(USER, time=1)
    env.install_code(USER, cid, InstallMode("install"), WASM, b"DIDL\x00\x00", time=2)
    used = env.update(cid, "tick", n_arg(5_000), caller=USER, time=3).instructions
    rounds = -(-used // slice_)
    assert rounds == 5
    chain = Chain(config(slice_))
    ticker = chain.install()
    tick = chain.envelope(ticker.principal, "tick", n_arg(5_000))
    start = chain.height + 1
    chain.batch(tick)
    while tick.request_id not in chain.results:
        chain.batch()
    height, result = chain.results[tick.request_id]
    assert height == start + rounds - 1
    assert count(result.reply) == 1
