"""Real Motoko canisters, compiled in the test run by the pinned ``motoko`` npm package.

Compilation results are cached by source hash under ``.cache/motoko``, so only the first run
on a machine pays for Node.js. Replies are checked against hand-encoded Candid bytes.
"""

from __future__ import annotations

import hashlib
from fractions import Fraction

import pytest

from client.motoko import MotokoCanister, MotokoError, NodeNotFound, compile_motoko
from node.ic import CanisterTrap, ExecutionConfig, ExecutionEnvironment, InstallMode
from vocab.leb128 import encode_leb128 as uleb
from vocab.principal import Principal

COUNTER_V1 = """
persistent actor Counter {
  var count : Nat = 0;
  transient var calls : Nat = 0;

  public func inc() : async Nat { count += 1; calls += 1; count };
  public query func get() : async Nat { count };
  public query func getCalls() : async Nat { calls };
  public query func greet(name : Text) : async Text { "Hello, " # name # "!" };

  // allocates a lot and changes a variable: as a query, none of it may stay
  public query func churn(n : Nat) : async Nat {
    var i = 0;
    var text = "";
    while (i < n) { text #= "abcdefghabcdefghabcdefghabcdefghabcdefghabcdefghabcdefghabcdefgh"; i += 1 };
    count += 1000;
    text.size()
  };
}
"""

COUNTER_V2 = COUNTER_V1.replace(
    "transient var calls : Nat = 0;",
    "transient var calls : Nat = 0;\n  var added : Nat = 7;\n  public query func getAdded() : async Nat { added };",
)

# `count` changes type from Nat to Text: Motoko's runtime refuses this upgrade.
COUNTER_INCOMPATIBLE = (
    COUNTER_V1.replace("var count : Nat = 0;", 'var count : Text = "";')
    .replace("count += 1; calls += 1; count", 'count #= "x"; calls += 1; calls')
    .replace(
        "public query func get() : async Nat { count };", "public query func get() : async Text { count };"
    )
    .replace("count += 1000;", "")
)

UNIT = b"DIDL\x00\x00"
USER = Principal.from_ed25519_public_key(bytes(range(32)))
KEEP = InstallMode.upgrade(wasm_memory_persistence="keep")


def nat(value: int) -> bytes:
    return b"DIDL\x00\x01\x7d" + uleb(value)


def compiled(source: str) -> MotokoCanister:
    try:
        return compile_motoko(source)
    except NodeNotFound as exc:
        pytest.skip(str(exc))
    raise AssertionError("unreachable")


@pytest.fixture(scope="module")
def v1() -> MotokoCanister:
    return compiled(COUNTER_V1)


class Subnet:
    def __init__(self, wasm: bytes) -> None:
        self.env = ExecutionEnvironment(ExecutionConfig(instruction_scale=Fraction(1, 100)))
        self.now = 1_000
        self.cid = self.env.create_canister(USER, time=self.tick())
        self.env.install_code(USER, self.cid, InstallMode.install(), wasm, UNIT, time=self.tick())

    def tick(self) -> int:
        self.now += 1_000
        return self.now

    def update(self, method: str, arg: bytes = UNIT) -> bytes:
        return self.env.update(self.cid, method, arg, caller=USER, time=self.tick()).unwrap()

    def query(self, method: str, arg: bytes = UNIT) -> bytes:
        return self.env.query(self.cid, method, arg, caller=USER, time=self.now).unwrap()

    def upgrade(self, wasm: bytes, mode: InstallMode = KEEP) -> None:
        self.env.install_code(USER, self.cid, mode, wasm, UNIT, time=self.tick())


def test_compiler_output_and_cache(v1: MotokoCanister) -> None:
    assert v1.wasm.startswith(b"\x00asm")
    assert "greet: (name: text) -> (text) query" in v1.candid
    again = compile_motoko(COUNTER_V1)
    assert again == v1  # served from the cache by source hash
    with pytest.raises(MotokoError, match="failed"):
        compile_motoko('actor { public func f() : async Nat { "not a number" } }')


def test_greet_replies_the_known_candid_bytes(v1: MotokoCanister) -> None:
    s = Subnet(v1.wasm)
    reply = s.query("greet", b"DIDL\x00\x01\x71\x03Sam")
    assert reply == b"DIDL\x00\x01\x71\x0bHello, Sam!"


def test_persistent_variables_survive_an_upgrade_and_transient_ones_reset(v1: MotokoCanister) -> None:
    s = Subnet(v1.wasm)
    for expected in (1, 2, 3):
        assert s.update("inc") == nat(expected)
    assert s.query("getCalls") == nat(3)
    v2 = compiled(COUNTER_V2)
    s.upgrade(v2.wasm)
    assert s.query("get") == nat(3)
    assert s.query("getCalls") == nat(0)
    assert s.query("getAdded") == nat(7)
    assert s.update("inc") == nat(4)
    canister = s.env.canister(s.cid)
    assert canister.module_hash == hashlib.sha256(v2.wasm).digest()


def test_enhanced_persistence_demands_the_persistence_option(v1: MotokoCanister) -> None:
    s = Subnet(v1.wasm)
    with pytest.raises(Exception, match="Missing upgrade option"):
        s.upgrade(v1.wasm, InstallMode.upgrade())


def test_incompatible_stable_types_trap_and_leave_the_canister_unchanged(v1: MotokoCanister) -> None:
    s = Subnet(v1.wasm)
    s.update("inc")
    s.update("inc")
    before_hash = s.env.state_hash()
    canister = s.env.canister(s.cid)
    before = (
        canister.module_hash,
        canister.version,
        bytes(canister.instance.committed_heap),
        canister.instance.committed_globals,
        canister.stable.to_bytes(),
    )
    incompatible = compiled(COUNTER_INCOMPATIBLE)
    with pytest.raises(CanisterTrap) as info:
        s.upgrade(incompatible.wasm)
    assert info.value.code == 5
    canister = s.env.canister(s.cid)
    after = (
        canister.module_hash,
        canister.version,
        bytes(canister.instance.committed_heap),
        canister.instance.committed_globals,
        canister.stable.to_bytes(),
    )
    assert after == before
    # only the failed attempt's cycles and its trap log entry differ
    assert s.env.state_hash() != before_hash
    assert canister.logs[-1].content.startswith(b"[TRAP]")
    assert s.query("get") == nat(2)
    assert s.update("inc") == nat(3)


def test_a_query_that_allocates_changes_nothing(v1: MotokoCanister) -> None:
    s = Subnet(v1.wasm)
    s.update("inc")
    state = s.env.state_hash()
    instance = s.env.canister(s.cid).instance
    heap = bytes(instance.live_heap())
    assert s.query("churn", nat(3_000)) == nat(192_000)
    assert s.env.state_hash() == state
    assert bytes(instance.live_heap()) == heap
    assert s.query("get") == nat(1)
    # the same method run in replicated mode is still a query: discarded as well
    assert s.update("churn", nat(10)) == nat(640)
    assert s.query("get") == nat(1)
