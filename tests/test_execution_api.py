"""The System API against hand-written WAT canisters: each ic0 call and its edge cases,
and the atomicity of messages that trap, run out of instructions or misbehave."""

from __future__ import annotations

import struct
from fractions import Fraction
from pathlib import Path

import pytest
import wasmtime

from node.ic import CallResult, ExecutionConfig, ExecutionEnvironment, InstallMode
from vocab.errors import RejectCode
from vocab.principal import CanisterId, Principal

CANISTERS = Path(__file__).parent / "canisters"
API32 = wasmtime.wat2wasm((CANISTERS / "api32.wat").read_text())
API64 = wasmtime.wat2wasm((CANISTERS / "api64.wat").read_text())
USER = Principal.from_ed25519_public_key(bytes(range(32)))
OTHER = Principal.from_ed25519_public_key(bytes(range(1, 33)))
SCALE = Fraction(1, 10_000)  # update limit 4M instructions: loops fail fast


class Harness:
    """An environment with one installed canister and a clock that moves forward."""

    def __init__(self, wasm: bytes = API32, arg: bytes = b"") -> None:
        self.env = ExecutionEnvironment(ExecutionConfig(instruction_scale=SCALE), time=1_000)
        self.now = 1_000
        self.cid = self.env.create_canister(USER, time=self.tick())
        self.env.install_code(USER, self.cid, InstallMode.install(), wasm, arg, time=self.tick())

    def tick(self) -> int:
        self.now += 1_000
        return self.now

    def update(self, method: str, arg: bytes = b"", caller: Principal = USER, cycles: int = 0) -> CallResult:
        return self.env.update(self.cid, method, arg, caller=caller, time=self.tick(), cycles=cycles)

    def query(self, method: str, arg: bytes = b"", caller: Principal = USER) -> CallResult:
        return self.env.query(self.cid, method, arg, caller=caller, time=self.now)

    def counter(self) -> int:
        return struct.unpack("<q", self.query("get").unwrap())[0]

    def heap_counter(self) -> int:
        return struct.unpack("<q", self.query("heap_counter").unwrap())[0]

    def read(self, address: int) -> bytes:
        return self.query("read", struct.pack("<i", address)).unwrap()

    @property
    def canister(self):
        return self.env.canister(self.cid)


@pytest.fixture
def h() -> Harness:
    return Harness()


def u64(result: CallResult) -> int:
    return struct.unpack("<q", result.unwrap())[0]


def assert_trap(result: CallResult, text: str) -> None:
    assert result.reject is not None, result
    assert result.reject.code == RejectCode.CANISTER_ERROR
    assert text in result.reject.message, result.reject.message


# -- replies, arguments, identity -----------------------------------------------------------


def test_update_increments_and_query_reads(h: Harness) -> None:
    assert u64(h.update("inc")) == 1
    assert u64(h.update("inc")) == 2
    assert h.counter() == 2
    assert h.heap_counter() == 2


def test_echo_returns_the_argument(h: Harness) -> None:
    assert h.update("echo", b"DIDL\x00\x01\x71\x03Sam").unwrap() == b"DIDL\x00\x01\x71\x03Sam"


def test_caller_and_self(h: Harness) -> None:
    assert h.query("whoami", caller=OTHER).unwrap() == OTHER.raw
    assert h.query("self").unwrap() == h.cid.principal.raw


def test_reject_gives_canister_reject_and_keeps_state(h: Harness) -> None:
    result = h.update("reject")
    assert result.reject is not None and result.reject.code == RejectCode.CANISTER_REJECT
    assert result.reject.message == "nope"
    assert h.counter() == 1  # a reject is a response: the message's changes stay


def test_no_reply_is_an_error_but_state_is_kept(h: Harness) -> None:
    result = h.update("no_reply")
    assert_trap(result, "did not reply")
    assert h.counter() == 1


def test_unknown_method_and_missing_canister(h: Harness) -> None:
    result = h.update("does_not_exist")
    assert result.reject is not None and result.reject.code == RejectCode.DESTINATION_INVALID
    result = h.env.update(CanisterId(999), "inc", b"", caller=USER, time=h.tick())
    assert result.reject is not None and result.reject.code == RejectCode.DESTINATION_INVALID
    # an update method cannot be called as a query
    assert h.query("inc").reject is not None


def test_time_status_version_and_replication(h: Harness) -> None:
    h.update("inc")
    assert u64(h.query("time")) == h.now
    status, version, replicated, cert = struct.unpack("<iqii", h.query("status").unwrap())
    assert (status, replicated, cert) == (1, 0, 0)
    assert version == h.canister.version
    # a replicated query (query method called as update) sees in_replicated_execution = 1
    status, _version, replicated, _cert = struct.unpack("<iqii", h.update("status").unwrap())
    assert replicated == 1


def test_data_certificate_when_given(h: Harness) -> None:
    result = h.env.query(h.cid, "status", b"", caller=USER, time=h.now, data_certificate=b"cert")
    assert struct.unpack("<iqii", result.unwrap())[3] == 1


def test_is_controller(h: Harness) -> None:
    assert struct.unpack("<i", h.query("is_controller", USER.raw).unwrap())[0] == 1
    assert struct.unpack("<i", h.query("is_controller", OTHER.raw).unwrap())[0] == 0
    assert_trap(h.query("is_controller", bytes(30)), "not a valid principal")


def test_performance_counter_grows_with_work(h: Harness) -> None:
    small = u64(h.query("perf"))
    assert 0 < small < 1_000
    assert h.query("deep").instructions > 100_000


# -- cycles -------------------------------------------------------------------------------------


def test_cycles_balance_accept_and_burn(h: Harness) -> None:
    before = h.canister.cycles
    raw = h.query("balance").unwrap()
    assert int.from_bytes(raw[:16], "little") == before == struct.unpack("<q", raw[16:])[0]
    burned = int.from_bytes(h.update("burn").unwrap(), "little")
    assert burned == 1_000_000
    assert h.canister.cycles < before - burned
    reply = h.update("accept_cycles", cycles=800).unwrap()
    assert int.from_bytes(reply[:16], "little") == 500
    assert int.from_bytes(reply[16:], "little") == 300


def test_updates_are_charged_and_queries_free(h: Harness) -> None:
    before = h.canister.cycles
    result = h.update("inc")
    assert result.cycles_charged > 0
    assert h.canister.cycles == before - result.cycles_charged
    h.query("deep")
    assert h.canister.cycles == before - result.cycles_charged


def test_call_perform_enqueues_the_call_and_unaccepted_cycles_come_back(h: Harness) -> None:
    before = h.canister.cycles
    version = h.canister.version
    counter = h.counter()
    result = h.update("call_other")
    assert struct.unpack("<i", result.unwrap())[0] == 0  # accepted, as the IC answers
    # the self-call ran "inc" and its (empty) reply callback ran: three executions
    assert h.counter() == counter + 1
    assert h.canister.version == version + 3
    # the 1000 cycles attached were not accepted by "inc": they came back with the reply,
    # so the balance lost only the three execution fees and their instructions (a few
    # thousand cycles: call_new and call_perform alone are 6,500 instructions, as the IC
    # charges them)
    fees = 3 * h.env.config.message_fee
    assert before - fees - 10_000 < h.canister.cycles <= before - fees
    assert not h.env.state.call_contexts and not h.env.state.callbacks and not h.env.state.queues


# -- atomicity ----------------------------------------------------------------------------------


def snapshot(h: Harness) -> tuple:
    c = h.canister
    return (
        h.counter(),
        h.read(60000),
        h.query("flag").unwrap(),
        c.stable.to_bytes(),
        c.certified_data,
        c.global_timer,
        c.version,
        h.env.state_hash(),
    )


def test_trap_rolls_back_heap_globals_stable_certified_data_and_timer(h: Harness) -> None:
    h.update("inc")
    before = snapshot(h)
    result = h.update("change_all_then_trap")
    assert_trap(result, "Canister trapped: unreachable")
    after = snapshot(h)
    # everything but the state hash (the trap is logged and the cycles charged) is unchanged
    assert before[:-1] == after[:-1]
    assert h.canister.logs[-1].content.startswith(b"[TRAP]")


def test_explicit_trap_rolls_back_bulk_memory_writes(h: Harness) -> None:
    h.update("inc")
    result = h.update("change_then_explicit_trap")
    assert_trap(result, "Canister called `ic0.trap` with message: 'explicit trap'")
    assert result.reject.error_code == "IC0503"
    assert h.read(30000) == b"\x00\x00\x00\x00"
    assert h.read(34996) == b"\x00\x00\x00\x00"
    assert h.counter() == 1


def test_fuel_exhaustion_rolls_back(h: Harness) -> None:
    h.update("inc")
    result = h.update("change_then_loop")
    assert_trap(result, "instruction limit")
    assert result.reject.error_code == "IC0522"
    assert result.instructions == h.env.config.update_limit
    assert h.counter() == 1
    assert h.read(50000) == b"\x00\x00\x00\x00"


def test_trap_after_memory_grow_restores_the_smaller_memory(h: Harness) -> None:
    h.update("inc")
    size_before = h.canister.instance.heap_size
    assert_trap(h.update("grow_then_trap"), "unreachable")
    assert h.canister.instance.heap_size == size_before
    assert h.canister.instance.heap_len() == size_before
    assert h.counter() == 1
    # the rebuilt instance keeps working and can grow for real
    assert struct.unpack("<i", h.update("grow").unwrap())[0] == 2
    assert h.read(70000) == b"\x09\x00\x00\x00"
    assert u64(h.update("inc")) == 2


def test_reply_twice_traps_and_rolls_back(h: Harness) -> None:
    result = h.update("reply_twice")
    assert_trap(result, "already been replied")
    assert result.reply is None
    assert h.counter() == 0
    assert_trap(h.update("append_after_reply"), "already been replied")


def test_query_changes_are_thrown_away(h: Harness) -> None:
    h.update("stable_grow_write", b"abcd")
    h.update("inc")
    before = snapshot(h)
    heap = h.canister.instance.heap_size
    assert u64(h.query("mutate")) == 2
    assert snapshot(h) == before
    assert h.canister.instance.heap_size == heap
    # a query method called as an update (replicated query) does not persist either
    assert u64(h.update("mutate")) == 2
    assert h.counter() == 1


def test_heap_out_of_bounds_in_a_system_call_traps(h: Harness) -> None:
    assert_trap(h.update("heap_oob_arg_copy", b"0123"), "heap out of bounds")


# -- stable memory --------------------------------------------------------------------------


def test_stable_memory_grow_write_read(h: Harness) -> None:
    assert struct.unpack("<i", h.update("stable_grow_write", b"hello").unwrap())[0] == 0
    assert h.query("stable_read", struct.pack("<i", 5)).unwrap() == b"hello"
    assert struct.unpack("<i", h.query("stable_size").unwrap())[0] == 1
    assert h.env.get_stable_memory(h.cid)[:5] == b"hello"


def test_stable_out_of_bounds_traps_and_rolls_back(h: Harness) -> None:
    h.update("stable_grow_write", b"x")
    result = h.update("stable_oob_write")
    assert_trap(result, "stable memory out of bounds")
    assert h.counter() == 0
    assert_trap(h.query("stable_read", struct.pack("<i", 65537)), "stable memory out of bounds")


def test_stable_grow_beyond_the_limit_returns_minus_one(h: Harness) -> None:
    assert u64(h.update("stable_grow_too_much")) == -1


# -- contexts -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, call, mode",
    [
        ("accept_message_in_update", "accept_message", "update"),
        ("timer_set_in_query", "global_timer_set", "non-replicated query"),
        ("certify_in_query", "certified_data_set", "non-replicated query"),
        ("call_in_query", "call_new", "non-replicated query"),
    ],
)
def test_forbidden_context_traps_naming_call_and_context(
    h: Harness, method: str, call: str, mode: str
) -> None:
    runner = h.update if method == "accept_message_in_update" else h.query
    result = runner(method)
    assert_trap(result, f'"ic0.{call}" cannot be executed in {mode} mode')
    assert result.reject.error_code == "IC0504"


# -- certified data, timers, logs, inspect message ----------------------------------------------


def test_certified_data_set_and_limit(h: Harness) -> None:
    h.update("certify", b"\x01" * 32)
    assert h.canister.certified_data == b"\x01" * 32
    assert_trap(h.update("certify", b"\x01" * 33), "cannot be larger than 32")
    assert h.canister.certified_data == b"\x01" * 32


def test_global_timer_runs_once_when_due(h: Harness) -> None:
    due = h.now + 10_000
    assert u64(h.update("set_timer", struct.pack("<q", due))) == 0
    assert u64(h.update("set_timer", struct.pack("<q", due))) == due  # returns the previous
    h.env.run_system_tasks(h.tick())
    assert struct.unpack("<i", h.query("timer_runs").unwrap())[0] == 0
    h.now = due
    results = h.env.run_system_tasks(h.tick())
    assert [r.task for r in results] == ["canister_global_timer"]
    assert struct.unpack("<i", h.query("timer_runs").unwrap())[0] == 1
    assert h.canister.global_timer == 0
    h.env.run_system_tasks(h.tick())
    assert struct.unpack("<i", h.query("timer_runs").unwrap())[0] == 1


def test_debug_print_goes_to_the_log(h: Harness) -> None:
    assert h.canister.logs[0].content == b"init ran"
    h.update("print", b"hello log")
    assert h.canister.logs[-1].content == b"hello log"
    assert h.canister.logs[-1].timestamp_nanos == h.now
    h.query("print", b"not logged")  # non-replicated: no logs
    assert h.canister.logs[-1].content == b"hello log"


def test_inspect_message_accepts_and_rejects(h: Harness) -> None:
    assert h.env.inspect_message(h.cid, "inc", b"", caller=USER) is None
    refused = h.env.inspect_message(h.cid, "rejected_by_inspect", b"", caller=USER)
    assert refused is not None and refused.code == RejectCode.CANISTER_REJECT


# -- the 64-bit variant -------------------------------------------------------------------------


def test_64bit_canister_round_trip_and_rollback() -> None:
    h = Harness(API64)
    assert h.canister.instance.compiled.info.memory64
    assert u64(h.update("inc")) == 1
    assert h.update("echo", b"\x00" * 3 + b"sixty-four").unwrap() == b"\x00" * 3 + b"sixty-four"
    assert h.query("whoami", caller=OTHER).unwrap() == OTHER.raw
    h.update("stable_store", b"12345678")
    assert h.query("stable_get").unwrap() == b"12345678"
    before = h.env.get_stable_memory(h.cid)
    result = h.update("inc_then_trap")
    assert_trap(result, "trap64")
    assert h.counter() == 1 and h.heap_counter() == 1
    assert h.env.get_stable_memory(h.cid) == before
    assert_trap(h.update("stable_oob_read"), "stable memory out of bounds")
    assert int.from_bytes(h.query("balance").unwrap(), "little") == h.canister.cycles
