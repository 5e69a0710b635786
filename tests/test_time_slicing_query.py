"""Time slicing of replicated queries (``node.ic.slicing``), as the IC's
``PausedReplicatedQueryExecution``: a ``canister_query`` method called in update context
(by a user's update call or by another canister) that needs more than a slice pauses its
canister and completes in round ``s + ceil(I / SLICE) - 1``; its answer goes to its caller
then, and nothing it did to the heap, globals or stable memory is kept.

``qspin`` loops n times (8 instructions an iteration, as ``spin`` in
``tests/test_time_slicing.py``), then bumps a global counter, writes n to the heap and to
stable memory (which it grows) and replies with the counter and n: run as a replicated
query, its reply says 1 whatever ran before, and ``get`` afterwards sees none of it.
"""

from __future__ import annotations

import struct
from fractions import Fraction

import wasmtime

from node.checkpoint import encode_checkpoint, restore_checkpoint
from node.ic import ExecutionEnvironment, InstallMode
from node.ic.call_context import CANISTER, INGRESS
from node.ic.paused import decode_paused, encode_paused
from node.ic.state_hash import canister_hash
from subnet.sim.runner import SECOND, SimConfig, Simulation
from tests.test_canister_consensus import SimClient
from tests.test_time_slicing import SLICE, USER, Chain, config, count, n_arg
from vocab.principal import Principal

QSPIN = wasmtime.wat2wasm("""
(module
  (import "ic0" "msg_arg_data_copy" (func $arg (param i32 i32 i32)))
  (import "ic0" "msg_arg_data_size" (func $arg_size (result i32)))
  (import "ic0" "msg_reply_data_append" (func $append (param i32 i32)))
  (import "ic0" "msg_reply" (func $reply))
  (import "ic0" "msg_cycles_refunded128" (func $refunded (param i32)))
  (import "ic0" "stable64_grow" (func $grow (param i64) (result i64)))
  (import "ic0" "stable64_write" (func $swrite (param i64 i64 i64)))
  (import "ic0" "stable64_size" (func $ssize (result i64)))
  (import "ic0" "call_new" (func $call_new (param i32 i32 i32 i32 i32 i32 i32 i32)))
  (import "ic0" "call_data_append" (func $call_data (param i32 i32)))
  (import "ic0" "call_cycles_add128" (func $cycles_add (param i64 i64)))
  (import "ic0" "call_perform" (func $call_perform (result i32)))
  (memory (export "memory") 1)
  (table 2 funcref)
  (elem (i32.const 0) $answered $failed)
  (data (i32.const 200) "qspin")
  (global $count (mut i64) (i64.const 0))
  (func (export "canister_query qspin")
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
    (i64.store (i32.const 0) (global.get $count))
    (call $append (i32.const 0) (i32.const 8))
    (call $append (i32.const 16) (i32.const 8))
    (call $reply))
  (func (export "canister_update inc")
    (global.set $count (i64.add (global.get $count) (i64.const 1)))
    (i64.store (i32.const 0) (global.get $count))
    (call $append (i32.const 0) (i32.const 8))
    (call $reply))
  ;; "get": the counter, the heap word qspin writes, the stable memory's size in pages
  (func (export "canister_query get")
    (i64.store (i32.const 0) (global.get $count))
    (i64.store (i32.const 8) (i64.load (i32.const 4096)))
    (i64.store (i32.const 16) (call $ssize))
    (call $append (i32.const 0) (i32.const 24))
    (call $reply))
  ;; "ask": arg = n (8 bytes) then a canister id; calls its "qspin" with n and 1M cycles,
  ;; and answers with qspin's reply and the cycles refunded (16 bytes)
  (func (export "canister_update ask")
    (call $arg (i32.const 300) (i32.const 0) (call $arg_size))
    (call $call_new (i32.const 308) (i32.sub (call $arg_size) (i32.const 8)) (i32.const 200) (i32.const 5)
      (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 0))
    (call $call_data (i32.const 300) (i32.const 8))
    (call $cycles_add (i64.const 0) (i64.const 1000000))
    (drop (call $call_perform)))
  (func $answered (param i32)
    (call $arg (i32.const 400) (i32.const 0) (call $arg_size))
    (call $refunded (i32.const 416))
    (call $append (i32.const 400) (i32.const 32))
    (call $reply))
  (func $failed (param i32)
    (i64.store (i32.const 400) (i64.const -1))
    (call $append (i32.const 400) (i32.const 8))
    (call $reply)))
""")

N = 700_000


def unsliced(n: int) -> tuple[int, bytes]:
    """What ``qspin(n)`` uses and answers as a replicated query, run unsliced in a bare
    environment (its first run: the counter was 0)."""
    env = ExecutionEnvironment(config(0))
    cid = env.create_canister(USER, time=1)
    env.install_code(USER, cid, InstallMode("install"), QSPIN, b"DIDL\x00\x00", time=2)
    result = env.update(cid, "qspin", n_arg(n), caller=USER, time=3)
    assert result.reply is not None
    return result.instructions, result.reply


def get(chain: Chain, canister: bytes) -> tuple[int, int, int]:
    reply = chain.subnet.query(Principal(canister), "get", b"", caller=USER, time=chain.time).unwrap()
    return struct.unpack("<QQQ", reply)


def test_a_long_replicated_query_completes_in_the_round_its_instructions_say() -> None:
    used, answer = unsliced(N)
    rounds = -(-used // SLICE)  # ceil(I / SLICE): 6 for 5.6M instructions and a few more
    assert rounds == 6
    assert answer == struct.pack("<QQ", 1, N)
    chain = Chain(config())
    spinner = chain.install(QSPIN)
    other = chain.install(QSPIN)
    state = chain.subnet.ic.env.state
    chain.ok(spinner.principal, "inc", b"")  # the counter is 1 before the query
    before = canister_hash(state.canisters[spinner.principal.raw])
    query = chain.envelope(spinner.principal, "qspin", n_arg(N))
    start = chain.height + 1
    chain.batch(query)
    paused = state.paused[spinner.principal.raw]
    assert paused.query is not None and paused.query.origin.kind == INGRESS
    assert paused.start_round == start and paused.context is None
    for k in range(1, rounds):
        inc = chain.envelope(other.principal, "inc", b"")
        results = chain.batch(inc)
        # the other canister's update completes in the round it is in
        assert [count(r.reply) for r in results if r.request_id == inc.request_id] == [k]
        if chain.height < start + rounds - 1:
            assert query.request_id not in chain.results
            assert canister_hash(state.canisters[spinner.principal.raw]) == before
    height, result = chain.results[query.request_id]
    assert height == start + rounds - 1
    assert result.status == "replied" and result.reply == struct.pack("<QQ", 2, N)
    # nothing of the query was kept: counter, heap word, stable memory as before it
    assert not state.paused
    assert get(chain, spinner.principal.raw) == (1, 0, 0)


def test_a_sliced_replicated_query_answers_and_leaves_the_canister_as_unsliced() -> None:
    """Same reply, same fee, logs, version, heap and stable memory: slicing changes when
    the answer comes, not what it is or what it leaves."""
    seen = []
    for slice_ in (SLICE, 0):
        chain = Chain(config(slice_))
        spinner = chain.install(QSPIN)
        query = chain.envelope(spinner.principal, "qspin", n_arg(N))
        chain.batch(query)
        assert bool(chain.subnet.ic.env.state.paused) == bool(slice_)
        while query.request_id not in chain.results:
            chain.batch()
        canister = chain.subnet.ic.env.state.canisters[spinner.principal.raw]
        seen.append((chain.results[query.request_id][1].reply, canister.cycles, canister_hash(canister)))
        assert get(chain, spinner.principal.raw) == (0, 0, 0)
    assert seen[0] == seen[1]
    assert seen[0][0] == struct.pack("<QQ", 1, N)


def test_a_checkpoint_taken_mid_query_restores_and_completes_in_the_same_round() -> None:
    chain = Chain(config())
    spinner = chain.install(QSPIN)
    query = chain.envelope(spinner.principal, "qspin", n_arg(N))
    chain.batch(query)
    waiting = chain.envelope(spinner.principal, "inc", b"")
    chain.batch(waiting)
    paused = chain.subnet.ic.env.state.paused
    assert paused and decode_paused(encode_paused(paused)) == paused
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
    # started at height 3 (two to create and install): ceil(I / 1M) = 6 rounds
    assert chain.results[query.request_id][0] == twin.results[query.request_id][0] == 3 + 6 - 1
    assert twin.results[query.request_id][1].reply == struct.pack("<QQ", 1, N)
    # the update that waited behind it ran after it, on a counter the query did not touch
    assert twin.results[waiting.request_id] == (3 + 6 - 1, twin.results[waiting.request_id][1])
    assert count(twin.results[waiting.request_id][1].reply) == 1


def test_a_canister_calling_a_looping_query_method_gets_its_answer_when_it_completes() -> None:
    """An inter-canister call to a ``canister_query`` method runs it as a replicated query:
    sliced, its reply goes to the caller's callback when it completes (the next round runs
    the callback), with the 1M cycles the caller attached refunded, as unsliced."""
    answers = []
    for slice_ in (SLICE, 0):
        chain = Chain(config(slice_))
        spinner = chain.install(QSPIN)
        asker = chain.install(QSPIN)
        state = chain.subnet.ic.env.state
        ask = chain.envelope(asker.principal, "ask", n_arg(N) + spinner.principal.raw)
        start = chain.height + 1
        chain.batch(ask)
        if slice_:
            paused = state.paused[spinner.principal.raw]
            assert paused.query is not None and paused.query.origin.kind == CANISTER
            assert paused.query.refund == 1_000_000
            assert ask.request_id not in chain.results
        while ask.request_id not in chain.results:
            chain.batch()
        height, result = chain.results[ask.request_id]
        assert result.status == "replied", result
        assert height == (start + 6 if slice_ else start)  # completes at start + 5, answered at + 6
        cycles = {raw: state.canisters[raw].cycles for raw in (spinner.principal.raw, asker.principal.raw)}
        answers.append((result.reply, cycles))
        assert get(chain, spinner.principal.raw) == (0, 0, 0)
    assert answers[0] == answers[1]  # the same answer, refund and fees
    assert answers[0][0] == struct.pack("<QQ", 1, N) + (1_000_000).to_bytes(16, "little")


def test_a_checkpoint_taken_while_a_canister_awaits_a_looping_query_restores_its_caller() -> None:
    """The paused query's caller is a callback of the asking canister: restored from a
    checkpoint taken mid-pause, the twin answers the ask in the same round, equally."""
    chain = Chain(config())
    spinner = chain.install(QSPIN)
    asker = chain.install(QSPIN)
    ask = chain.envelope(asker.principal, "ask", n_arg(N) + spinner.principal.raw)
    chain.batch(ask)
    chain.batch()
    assert spinner.principal.raw in chain.subnet.ic.env.state.paused
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
    twin.height, twin.time, twin.nonce = chain.height, chain.time, chain.nonce
    while ask.request_id not in chain.results:
        assert chain.batch() == twin.batch()
        assert chain.subnet.state_hash() == twin.subnet.state_hash()
    assert chain.results[ask.request_id] == twin.results[ask.request_id]


def test_a_paused_replicated_query_decodes_only_as_one() -> None:
    """Its checkpoint encoding names its caller; a query's encoding with an update's kind
    is refused, as is one with a call context."""
    chain = Chain(config())
    spinner = chain.install(QSPIN)
    chain.batch(chain.envelope(spinner.principal, "qspin", n_arg(N)))
    encoded = encode_paused(chain.subnet.ic.env.state.paused)
    assert len(encoded[0]) == 11
    wrong_kind = [list(encoded[0])]
    wrong_kind[0][5] = list(wrong_kind[0][5])
    wrong_kind[0][5][11] = "UPDATE"
    with_context = [list(encoded[0])]
    with_context[0][1] = 0
    for bad in (wrong_kind, with_context):
        try:
            decode_paused(bad)
        except ValueError:
            continue
        raise AssertionError(f"accepted {bad!r}")


def test_a_replicated_query_out_of_its_limit_is_rejected_as_unsliced() -> None:
    """At a scale where the message limit is 10M instructions, ``qspin(10M)`` runs out of
    it: sliced, the reject (IC0522) comes after ceil(10M / 2M) = 5 rounds, with the same
    fee as unsliced, and the canister as it was."""
    seen = []
    for slice_ in (2_000_000, 0):
        chain = Chain(config(slice_, Fraction(1, 4000)))
        spinner = chain.install(QSPIN)
        query = chain.envelope(spinner.principal, "qspin", n_arg(10_000_000))
        start = chain.height + 1
        chain.batch(query)
        while query.request_id not in chain.results:
            chain.batch()
        height, result = chain.results[query.request_id]
        assert height == (start + 5 - 1 if slice_ else start)
        assert result.status == "rejected" and result.error_code == "IC0522", result
        canister = chain.subnet.ic.env.state.canisters[spinner.principal.raw]
        seen.append((result.reject_message, canister.cycles, canister_hash(canister)))
        assert get(chain, spinner.principal.raw) == (0, 0, 0)
    assert seen[0] == seen[1]


def test_four_simulated_replicas_agree_while_a_replicated_query_is_paused() -> None:
    """Through consensus: every replica pauses the query in the same round, completes it
    in round s + 6 - 1, and certifies the same state hashes meanwhile, while another
    canister's updates keep completing."""
    sim = Simulation(
        SimConfig(
            replicas=4,
            seed=11,
            duration_ns=600 * SECOND,
            workload=None,
            genesis_params={"extra": {"instructions_per_slice": SLICE}},
        )
    )
    client = SimClient(sim)
    spinner, other = client.create(), client.create()
    assert client.install(spinner, QSPIN, "install").status == "replied"
    assert client.install(other, QSPIN, "install").status == "replied"
    query = client.envelope(spinner, "qspin", n_arg(N))
    sim.submit(query, 0)
    replicas = [replica for replica in sim.replicas if replica is not None]
    while not all(spinner.raw in r.state.ic.env.state.paused for r in replicas):
        assert query.request_id not in sim.replies
        sim.step_until(sim.now + 50_000_000)
    starts = {r.state.ic.env.state.paused[spinner.raw].start_round for r in replicas}
    assert len(starts) == 1
    start = starts.pop()
    incs = 0
    while query.request_id not in sim.replies:
        assert count(client.ok(other, "inc")) == incs + 1
        incs += 1
        assert incs < 20, "the query never completed"
    result = sim.replies[query.request_id].result
    assert result.status == "replied" and result.reply == struct.pack("<QQ", 1, N)
    assert result.height == start + 6 - 1
    assert incs >= 2
    client.settle()
    top = min(r.executed_height for r in replicas)
    for height in range(start, top + 1):
        assert len({r.state_hashes[height] for r in replicas if height in r.state_hashes}) == 1, height
