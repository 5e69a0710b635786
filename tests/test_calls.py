"""Inter-canister calls with real moc output: a Motoko caller awaiting a callee, a trap in the
callee caught by the caller, cycles moving with calls and refunds, missing and stopped
callees, a full queue, a canister that stops only once its calls are answered, calls to the
management canister, work carried across batches, calls in flight in checkpoints and the
state hash, and four replicas agreeing on all of it.

Known answers come from outside this code: the reject codes and their Motoko names
(``Error.code``) are the IC Interface Specification's, the wording of traps is the IC's,
and the caller's view of each outcome is what the compiled Motoko program itself reports.
"""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path
from typing import Any

import pytest
import wasmtime

from client.motoko import MotokoCanister, NodeNotFound, compile_motoko
from node.checkpoint import encode_checkpoint, restore_checkpoint
from node.execution import SubnetStateMachine
from node.ic import CallResult, ExecutionConfig, ExecutionEnvironment, InstallMode
from node.ic.canister import CanisterStatus
from node.ic.state_machine import WasmStateMachine
from node.state_machine import Batch
from vocab import crypto, management
from vocab.candid import Some, decode, encode
from vocab.certificate import RequestResult
from vocab.envelope import SignedEnvelope
from vocab.errors import RejectCode
from vocab.principal import CanisterId, Principal
from vocab.request import RequestContent

KEY = crypto.private_key_from_seed(b"\x0c" * 32)
USER = Principal.from_ed25519_public_key(crypto.raw_public_key(KEY))
UNIT = b"DIDL\x00\x00"

CALLEE = """
import Cycles "mo:core/Cycles";
import Error "mo:core/Error";
persistent actor Callee {
  var received : Nat = 0;
  var calls : Nat = 0;
  public func double(n : Nat) : async Nat { calls += 1; n * 2 };
  public func boom() : async Nat { calls += 1; assert false; 0 };
  public func refuse() : async Nat { throw Error.reject("no thanks") };
  public func take() : async Nat {
    let got = Cycles.accept<system>(Cycles.available() / 2);
    received += got;
    got
  };
  public query func total() : async Nat { received };
  public query func count() : async Nat { calls };
}
"""

CALLER = """
import Principal "mo:core/Principal";
import Error "mo:core/Error";
import Cycles "mo:core/Cycles";
persistent actor Caller {
  type Callee = actor {
    double : Nat -> async Nat;
    boom : () -> async Nat;
    refuse : () -> async Nat;
    take : () -> async Nat;
  };
  func callee(p : Principal) : Callee = actor (Principal.toText(p));
  func describe(e : Error) : Text { debug_show (Error.code(e)) # ": " # Error.message(e) };
  var after : Nat = 0;

  public func viaDouble(p : Principal, n : Nat) : async Nat { await callee(p).double(n) };
  public func chain(p : Principal, n : Nat) : async Nat {
    let a = await callee(p).double(n);
    await callee(p).double(a)
  };
  public func viaBoom(p : Principal) : async Text {
    try { ignore await callee(p).boom(); "no error" } catch (e) { describe(e) }
  };
  public func viaRefuse(p : Principal) : async Text {
    try { ignore await callee(p).refuse(); "no error" } catch (e) { describe(e) }
  };
  public func give(p : Principal, amount : Nat) : async (Nat, Nat) {
    let got = await (with cycles = amount) callee(p).take();
    (got, Cycles.refunded())
  };
  public func twoAtOnce(p : Principal) : async Text {
    let a = callee(p).double(1);
    let b = callee(p).double(2);
    var out = "";
    try { out #= debug_show (await a) } catch (e) { out #= describe(e) };
    out #= " / ";
    try { out #= debug_show (await b) } catch (e) { out #= describe(e) };
    out
  };
  public func trapAfterAwait(p : Principal) : async Nat {
    after += 1;
    let r = await callee(p).double(1);
    after += 100;
    assert false;
    r
  };
  public query func afterCount() : async Nat { after };
}
"""

FACTORY = """
persistent actor Factory {
  type IC = actor {
    create_canister : { settings : ?{ controllers : ?[Principal] } } -> async { canister_id : Principal };
    install_code : {
      mode : { #install; #reinstall; #upgrade };
      canister_id : Principal;
      wasm_module : Blob;
      arg : Blob;
    } -> async ();
    canister_status : { canister_id : Principal } -> async {
      status : { #running; #stopping; #stopped };
      cycles : Nat;
      module_hash : ?Blob;
    };
  };
  transient let ic : IC = actor "aaaaa-aa";
  public func make(wasm : Blob, cycles : Nat) : async (Principal, Text, Nat, ?Blob) {
    let { canister_id } = await (with cycles) ic.create_canister({ settings = null });
    await ic.install_code({ mode = #install; canister_id; wasm_module = wasm; arg = "DIDL\\00\\00" });
    let s = await ic.canister_status({ canister_id });
    (canister_id, debug_show (s.status), s.cycles, s.module_hash)
  };
}
"""


def compiled(source: str) -> MotokoCanister:
    try:
        return compile_motoko(source)
    except NodeNotFound as exc:
        pytest.skip(str(exc))
    raise AssertionError("unreachable")


@pytest.fixture(scope="module")
def modules() -> dict[str, bytes]:
    return {name: compiled(source).wasm for name, source in (("callee", CALLEE), ("caller", CALLER))}


class Env:
    """An execution environment with the caller and callee installed, driven directly."""

    def __init__(self, modules: dict[str, bytes], config: ExecutionConfig | None = None) -> None:
        self.env = ExecutionEnvironment(config or ExecutionConfig(), time=1_000)
        self.now = 1_000
        self.callee = self.env.create_canister(USER, time=self.tick())
        self.caller = self.env.create_canister(USER, time=self.tick())
        for cid, name in ((self.callee, "callee"), (self.caller, "caller")):
            self.env.install_code(USER, cid, InstallMode.install(), modules[name], UNIT, time=self.tick())

    def tick(self) -> int:
        self.now += 1_000
        return self.now

    def call(self, method: str, arg: bytes) -> list:
        return decode(self.env.update(self.caller, method, arg, caller=USER, time=self.tick()).unwrap())

    def query(self, cid: CanisterId, method: str) -> list:
        return decode(self.env.query(cid, method, UNIT, caller=USER, time=self.now).unwrap())

    def idle(self) -> bool:
        state = self.env.state
        return not (state.call_contexts or state.callbacks or state.queues or state.stop_waiters)


def p_arg(cid: CanisterId | Principal, *nats: int) -> bytes:
    principal = cid.principal if isinstance(cid, CanisterId) else cid
    return encode([principal, *nats], "(principal" + ", nat" * len(nats) + ")")


def test_a_motoko_caller_awaits_its_callee(modules: dict[str, bytes]) -> None:
    e = Env(modules)
    assert e.call("viaDouble", p_arg(e.callee, 21)) == [42]
    assert e.call("chain", p_arg(e.callee, 5)) == [20]  # two awaits in a row: 5 -> 10 -> 20
    assert e.query(e.callee, "count") == [3]
    assert e.idle()  # every context closed, every callback consumed, every queue empty


def test_a_trap_in_the_callee_is_an_error_the_caller_catches(modules: dict[str, bytes]) -> None:
    e = Env(modules)
    [text] = e.call("viaBoom", p_arg(e.callee))
    # CANISTER_ERROR (5) is Motoko's #canister_error; the message names the callee and its trap
    assert text.startswith(f"#canister_error: Error from Canister {e.callee.to_text()}: ")
    assert "Canister called `ic0.trap` with message: 'assertion failed at" in text
    assert e.query(e.callee, "count") == [0]  # the callee's trapped message left no change
    [text] = e.call("viaRefuse", p_arg(e.callee))
    assert text == "#canister_reject: no thanks"  # CANISTER_REJECT (4) with the callee's own text
    assert e.idle()


def test_cycles_arrive_and_the_rest_is_refunded(modules: dict[str, bytes]) -> None:
    e = Env(modules)
    callee_before = e.env.canister(e.callee).cycles
    caller_before = e.env.canister(e.caller).cycles
    assert e.call("give", p_arg(e.callee, 1_000_000)) == [500_000, 500_000]
    assert e.query(e.callee, "total") == [500_000]
    caller_spent = caller_before - e.env.canister(e.caller).cycles
    callee_gain = e.env.canister(e.callee).cycles - callee_before
    fee = e.env.config.message_fee
    # the caller paid 500_000 net plus two executions; the callee gained 500_000 less one
    assert 500_000 + 2 * fee < caller_spent < 500_000 + 2 * fee + 10_000_000
    assert 500_000 - fee - 10_000_000 < callee_gain < 500_000 - fee
    assert e.idle()


def test_a_call_to_a_missing_canister_is_destination_invalid(modules: dict[str, bytes]) -> None:
    e = Env(modules)
    missing = CanisterId(4242)
    [text] = e.call("viaBoom", p_arg(missing))
    assert text == f"#destination_invalid: Canister {missing.to_text()} not found."
    [text] = e.call("viaBoom", p_arg(Principal.from_ed25519_public_key(bytes(32))))  # not a canister at all
    assert text.startswith("#destination_invalid: Canister ")


def test_a_call_to_a_stopped_canister_is_a_canister_error(modules: dict[str, bytes]) -> None:
    e = Env(modules)
    assert e.env.stop_canister(USER, e.callee, time=e.tick())  # no open contexts: stopped at once
    [text] = e.call("viaBoom", p_arg(e.callee))
    # the IC's replica's words (IC0508)
    assert (
        text
        == f"#canister_error: Canister {e.callee.to_text()} is stopped and therefore does not have a CallContextManager"
    )


def test_a_full_queue_rejects_with_sys_transient(modules: dict[str, bytes]) -> None:
    e = Env(modules, ExecutionConfig(queue_capacity=1))
    [text] = e.call("twoAtOnce", p_arg(e.callee))
    # the first request fills the callee's queue of one; the second is rejected at once
    assert text == f"2 / #system_transient: Canister {e.callee.to_text()}'s input queue is full (1 requests)."
    assert e.idle()


def test_a_trap_after_an_await_keeps_what_ran_before_it(modules: dict[str, bytes]) -> None:
    e = Env(modules)
    result = e.env.update(e.caller, "trapAfterAwait", p_arg(e.callee), caller=USER, time=e.tick())
    assert result.reject is not None
    assert result.reject.message.startswith(f"Error from Canister {e.caller.to_text()}: ")
    assert "assertion failed" in result.reject.message
    # the message before the await committed (after += 1), the trapped callback did not (+100)
    assert e.query(e.caller, "afterCount") == [1]
    assert e.idle()


# -- through the replicated state machine ---------------------------------------------------------


class Chain:
    """A ``WasmStateMachine`` fed batches of signed requests, as consensus feeds it."""

    def __init__(self, config: ExecutionConfig | None = None) -> None:
        # the subnet's state machine as replicas run it: canisters beside the Sui ledger
        self.subnet = SubnetStateMachine(WasmStateMachine(0, 100, config))
        self.machine = self.subnet.ic
        self.height = 0
        self.time = 1_000_000
        self.nonce = 0
        self.results: dict[bytes, RequestResult] = {}

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
            self.results[result.request_id] = result
        return results

    def ok(self, canister: Principal, method: str, arg: bytes) -> bytes:
        envelope = self.envelope(canister, method, arg)
        self.batch(envelope)
        result = self.results[envelope.request_id]
        assert result.status == "replied", result
        return result.reply

    def install(self, wasm: bytes) -> CanisterId:
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
                management.INSTALL_CODE, management.InstallCodeArgs("install", cid.principal, wasm, UNIT)
            ),
        )
        return cid


def stop_arg(cid: CanisterId) -> bytes:
    return management.encode_args(management.STOP, management.CanisterIdRecord(cid.principal))


def test_a_canister_stays_stopping_until_its_calls_are_answered(modules: dict[str, bytes]) -> None:
    # one inter-canister message per batch, to watch the canister between them
    chain = Chain(ExecutionConfig(first_canister_index=0, last_canister_index=99, round_message_limit=1))
    callee = chain.install(modules["callee"])
    caller = chain.install(modules["caller"])
    call = chain.envelope(caller.principal, "chain", p_arg(callee, 3))
    stop = chain.envelope(Principal.management(), management.STOP, stop_arg(caller))
    late = chain.envelope(caller.principal, "viaDouble", p_arg(callee, 1))
    env = chain.machine.env
    results = chain.batch(call, stop, late)
    assert [r.request_id for r in results] == [late.request_id]  # call and stop wait
    assert results[0].error_code == "IC0509"  # a new call to a stopping canister is refused
    assert results[0].reject_message == f"Canister {caller.to_text()} is stopping"
    answered = []
    while stop.request_id not in chain.results:
        assert env.canister(caller).status is CanisterStatus.STOPPING
        assert chain.height < 20
        results = chain.batch()  # empty batches run the carried-over messages
        assert not chain.subnet.EMPTY_BATCH_UNCHANGED
        answered += [r.request_id for r in results]
    assert answered == [call.request_id, stop.request_id]  # the call first, then the stop
    assert decode(chain.results[call.request_id].reply) == [12]  # 3 -> 6 -> 12: both calls finished
    assert chain.results[stop.request_id].status == "replied"
    assert env.canister(caller).status is CanisterStatus.STOPPED
    assert not env.state.call_contexts and not env.state.stop_waiters and not env.state.queues
    chain.batch()
    assert chain.subnet.EMPTY_BATCH_UNCHANGED


def test_a_round_budget_carries_messages_across_batches(modules: dict[str, bytes]) -> None:
    chain = Chain(ExecutionConfig(first_canister_index=0, last_canister_index=99, round_message_limit=1))
    callee = chain.install(modules["callee"])
    caller = chain.install(modules["caller"])
    call = chain.envelope(caller.principal, "chain", p_arg(callee, 3))
    heights = []
    chain.batch(call)
    while call.request_id not in chain.results:
        heights.append(chain.height)
        assert chain.height < 20
        before = chain.subnet.state_hash()
        chain.batch()
        assert chain.subnet.state_hash() != before  # each batch ran one message
    # request, response, request, response: one message per batch, the first in the
    # call's own batch, the other three in the three batches after it
    assert len(heights) == 3
    assert decode(chain.results[call.request_id].reply) == [12]
    assert chain.results[call.request_id].height == chain.height


def test_calls_in_flight_survive_a_checkpoint(modules: dict[str, bytes]) -> None:
    config = ExecutionConfig(first_canister_index=0, last_canister_index=99, round_message_limit=1)
    chain = Chain(config)
    callee = chain.install(modules["callee"])
    caller = chain.install(modules["caller"])
    call = chain.envelope(caller.principal, "chain", p_arg(callee, 3))
    chain.batch(call)
    state = chain.machine.env.state
    assert state.call_contexts and state.callbacks and state.queues
    digest = chain.subnet.state_hash()
    blob = encode_checkpoint(
        chain.subnet,
        height=chain.height,
        block_hash=b"\x01" * 32,
        state_hash=digest,
        results_root=b"\x02" * 32,
    )
    twin = Chain(config)
    restore_checkpoint(twin.subnet, blob, height=chain.height, state_hash=digest)
    assert twin.subnet.state_hash() == digest
    twin.height, twin.time = chain.height, chain.time
    for _ in range(4):
        assert chain.batch() == twin.batch()
        assert chain.subnet.state_hash() == twin.subnet.state_hash()
    assert decode(twin.results[call.request_id].reply) == [12]


def test_a_checkpoint_of_format_2_is_still_read() -> None:
    import msgpack

    from node.checkpoint import MAGIC

    subnet = SubnetStateMachine(WasmStateMachine(0, 100))
    subnet.ic.env.create_canister(USER, time=5)
    digest = subnet.state_hash()
    blob = encode_checkpoint(
        subnet, height=3, block_hash=b"\x01" * 32, state_hash=digest, results_root=b"\x02" * 32
    )
    body = msgpack.unpackb(blob[len(MAGIC) + 34 :], raw=False)
    del body["env"]["calls"]  # format 2, from before calls
    packed = msgpack.packb(body, use_bin_type=True)
    old = MAGIC + (2).to_bytes(2, "big") + hashlib.sha256(packed).digest() + packed
    twin = SubnetStateMachine(WasmStateMachine(0, 100))
    assert restore_checkpoint(twin, old).version == 2
    assert twin.state_hash() == digest


def test_a_motoko_canister_creates_installs_and_inspects_another(modules: dict[str, bytes]) -> None:
    chain = Chain()
    factory = chain.install(compiled(FACTORY).wasm)
    env = chain.machine.env
    balance = env.canister(factory).cycles
    reply = chain.ok(factory.principal, "make", encode([modules["callee"], 2_000_000_000_000], "(blob, nat)"))
    created, status, cycles, module_hash = decode(reply)
    made = CanisterId.from_principal(created)
    assert status == "#running"
    assert module_hash == Some(hashlib.sha256(modules["callee"]).digest())
    assert env.canister(made).controllers == [factory.principal]  # the creator controls it
    # the attached cycles became the new canister's balance (less what its install cost),
    # which canister_status reported as it is now
    assert 0 < 2_000_000_000_000 - cycles < 1_000_000_000
    assert cycles == env.canister(made).cycles
    spent = balance - env.canister(factory).cycles
    assert 2_000_000_000_000 < spent < 2_000_000_000_000 + 1_000_000_000
    # the new canister works
    assert decode(chain.ok(made.principal, "double", encode([4], "(nat)"))) == [8]


def test_only_the_subset_of_state_in_flight_is_hashed(modules: dict[str, bytes]) -> None:
    """A state with nothing in flight hashes as it did before calls existed; anything in
    flight changes the hash."""
    e = Env(modules)
    idle = e.env.state_hash()
    e.env.state.stop_waiters[b"\x01"] = []
    assert e.env.state_hash() != idle
    del e.env.state.stop_waiters[b"\x01"]
    assert e.env.state_hash() == idle


def _sim_install(client: Any, modules: dict[str, bytes]) -> dict[str, Principal]:
    cid = {}
    for name in ("callee", "caller"):
        created = client.ok(
            Principal.management(),
            management.CREATE,
            management.encode_args(management.CREATE, management.CreateCanisterArgs()),
        )
        cid[name] = management.decode_reply(management.CREATE, created).canister_id
        client.ok(
            Principal.management(),
            management.INSTALL_CODE,
            management.encode_args(
                management.INSTALL_CODE, management.InstallCodeArgs("install", cid[name], modules[name], UNIT)
            ),
        )
    return cid


def _agree(sim: Any) -> None:
    """Every replica computed the same state hash at every height they all still remember."""
    replicas = [replica for replica in sim.replicas if replica is not None]
    assert len(replicas) == 4
    common = min(replica.executed_height for replica in replicas)
    assert common > 10
    for height in range(common - 5, common + 1):
        assert len({replica.state_hashes[height] for replica in replicas}) == 1, height


def test_four_replicas_agree_on_calls_across_a_crash_and_a_restart(modules: dict[str, bytes]) -> None:
    """Four simulated replicas execute calls (a caught trap, cycles) with one message per
    batch, so that calls span blocks; one replica crashes while calls are in flight and
    restarts from a checkpoint that holds some; all end with the same state hashes."""
    import msgpack

    from node.checkpoint import MAGIC
    from subnet.sim.runner import SECOND, SimConfig, Simulation
    from tests.test_canister_consensus import SimClient

    config = SimConfig(
        replicas=4,
        seed=8,
        duration_ns=600 * SECOND,
        workload=None,
        checkpoint_interval=2,
        genesis_params={"extra": {"round_message_limit": 1}},
    )
    sim = Simulation(config)
    client = SimClient(sim)
    cid = _sim_install(client, modules)
    calls = [client.envelope(cid["caller"], "chain", p_arg(cid["callee"], n)) for n in (1, 2, 3)]
    for envelope in calls:
        sim.submit(envelope, 0)

    def in_flight(blob: bytes) -> bool:
        body = msgpack.unpackb(blob[len(MAGIC) + 34 :], raw=False)
        return any(body["env"]["calls"])

    deadline = sim.now + 20 * SECOND
    while not any(in_flight(checkpoint.state) for checkpoint in sim.disks[2].checkpoints):
        assert sim.now < deadline, "no checkpoint with calls in flight"
        sim.step_until(sim.now + 20_000_000)
    sim.crash(2)
    sim.step_until(sim.now + 1 * SECOND)
    sim.restart(2)
    while not all(envelope.request_id in sim.replies for envelope in calls):
        assert sim.now < deadline + 20 * SECOND, "the calls were not answered"
        sim.step_until(sim.now + 50_000_000)
    assert [decode(sim.replies[e.request_id].result.reply) for e in calls] == [[4], [8], [12]]
    assert decode(client.ok(cid["caller"], "chain", p_arg(cid["callee"], 5))) == [20]
    [text] = decode(client.ok(cid["caller"], "viaBoom", p_arg(cid["callee"])))
    assert text.startswith("#canister_error: ")
    assert decode(client.ok(cid["caller"], "give", p_arg(cid["callee"], 1_000))) == [500, 500]
    sim.step_until(sim.now + 2 * SECOND)
    assert sim.replicas[2].restored_checkpoint_height > 0
    _agree(sim)


# -- the System API level: callbacks, env, cleanup, reject codes, refunds (WAT) ----------------

CALLS32 = wasmtime.wat2wasm((Path(__file__).parent / "canisters" / "calls32.wat").read_text())


class SelfCaller:
    """The WAT canister that calls itself, and what its callbacks recorded."""

    def __init__(self) -> None:
        # executions are free here, so that the balance shows the cycles that moved
        self.env = ExecutionEnvironment(ExecutionConfig(message_fee=0, instruction_fee_per_ten=0), time=1_000)
        self.now = 1_000
        self.cid = self.env.create_canister(USER, time=self.tick())
        self.env.install_code(USER, self.cid, InstallMode.install(), CALLS32, b"", time=self.tick())

    def tick(self) -> int:
        self.now += 1_000
        return self.now

    def update(self, method: str) -> CallResult:
        return self.env.update(self.cid, method, b"", caller=USER, time=self.tick())

    def seen(self) -> tuple[int, int, int, int, int]:
        raw = self.env.query(self.cid, "read", b"", caller=USER, time=self.now).unwrap()
        reply_env, replies, reject_code, cleanup_env = struct.unpack("<4i", raw[:16])
        return reply_env, replies, reject_code, cleanup_env, struct.unpack("<Q", raw[16:24])[0]


def test_the_reply_callback_gets_its_env_the_reply_and_the_refund() -> None:
    c = SelfCaller()
    before = c.env.canister(c.cid).cycles
    assert c.update("call_echo").unwrap() == b"echo"  # the callback replied what the callee replied
    assert c.seen() == (7, 1, 0, 0, 700)  # env 7, one reply, no reject, no cleanup, 700 of 1000 back
    # it sent itself 1000, accepted 300 of them and got 700 back: nothing was lost
    assert c.env.canister(c.cid).cycles == before


def test_the_reject_callback_sees_the_ic_reject_code_and_message() -> None:
    c = SelfCaller()
    raw = c.update("call_boom").unwrap()
    code, message = struct.unpack("<i", raw[:4])[0], raw[4:].decode()
    assert code == 5  # CANISTER_ERROR: the callee trapped
    assert (
        message == f"Error from Canister {c.cid.to_text()}: Canister called `ic0.trap` with message: 'boom'"
    )
    raw = c.update("call_missing").unwrap()
    assert struct.unpack("<i", raw[:4])[0] == 3  # DESTINATION_INVALID: no such method
    assert raw[4:].decode() == f"Canister {c.cid.to_text()} has no update or query method 'take'."


def test_a_trapping_callback_is_rolled_back_and_its_cleanup_runs() -> None:
    c = SelfCaller()
    c.update("arm").unwrap()
    balance = c.env.canister(c.cid).cycles
    result = c.update("call_echo")
    assert result.reject is not None and result.reject.code == RejectCode.CANISTER_ERROR
    assert result.reject.message == (
        f"Error from Canister {c.cid.to_text()}: Canister called `ic0.trap` with message: 'broke'"
    )
    # the callback's writes are gone; the cleanup's (env 9) are kept
    assert c.seen() == (0, 0, 0, 9, 0)
    # the refund (700) was credited before the callback ran and stays though it trapped
    assert c.env.canister(c.cid).cycles == balance
    assert not c.env.state.call_contexts and not c.env.state.callbacks


def test_pocketic_runs_calls_and_serves_management_calls_from_canisters(modules: dict[str, bytes]) -> None:
    from subnet.pocket import PocketIC

    pic = PocketIC()
    callee = pic.create_canister()
    caller = pic.create_canister()
    pic.install_code(callee, modules["callee"])
    pic.install_code(caller, modules["caller"])
    assert decode(pic.update_call(caller, "chain", p_arg(callee, 2))) == [8]
    assert decode(pic.update_call(caller, "chain", p_arg(callee, 3))) == [12]  # time moved on past the calls
    factory = pic.create_canister()
    pic.install_code(factory, compiled(FACTORY).wasm)
    made, status, _cycles, module_hash = decode(
        pic.update_call(factory, "make", encode([modules["callee"], 10**12], "(blob, nat)"))
    )
    assert status == "#running" and module_hash == Some(hashlib.sha256(modules["callee"]).digest())
    assert decode(pic.update_call(made, "double", encode([5], "(nat)"))) == [10]


RANDOM = """
persistent actor {
  transient let ic = actor "aaaaa-aa" : actor { raw_rand : () -> async Blob };
  public func two() : async (Blob, Blob) { (await ic.raw_rand(), await ic.raw_rand()) };
}
"""


def test_raw_rand_draws_from_the_batch_the_same_on_every_replica() -> None:
    wasm = compiled(RANDOM).wasm
    draws = []
    for _replica in range(2):
        chain = Chain()
        cid = chain.install(wasm)
        draws.append(decode(chain.ok(cid.principal, "two", UNIT)))
    assert draws[0] == draws[1]  # two replicas, the same batches: the same bytes
    first, second = draws[0]
    assert len(first) == len(second) == 32 and first != second
