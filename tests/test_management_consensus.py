"""The management canister beyond the lifecycle, on the simulated backend: canister_info
and snapshots through consensus, fetch_canister_logs and canister_metadata on the query
fast path, with a real Motoko canister that logs with ``debugPrint``.

Every replica executes every request; the tests compare what each replica answers and
their state hashes. Virtual time only (``Simulation.step_until``).
"""

from __future__ import annotations

import hashlib

import pytest
import wasmtime

from client.motoko import MotokoCanister
from subnet.sim.runner import SECOND, Simulation
from tests.test_canister_consensus import KEEP, KEY, USER, SimClient, compiled, simulation
from tests.test_motoko import UNIT, nat
from vocab import candid, crypto, management
from vocab.certificate import RequestResult
from vocab.envelope import SignedEnvelope
from vocab.messages import QueryResponse
from vocab.principal import CanisterId, Principal
from vocab.request import RequestContent

OTHER_KEY = crypto.private_key_from_seed(b"\x09" * 32)
OTHER = Principal.from_ed25519_public_key(crypto.raw_public_key(OTHER_KEY))
MANAGEMENT = Principal.management()

LOGGER_V1 = """
import Prim "mo:⛔";
persistent actor Logger {
  var count : Nat = 0;
  public func inc() : async Nat {
    count += 1;
    Prim.debugPrint("count is " # debug_show count);
    count
  };
  public query func get() : async Nat { count };
};
"""
LOGGER_V2 = LOGGER_V1.replace(
    "public query func get()",
    "public query func double() : async Nat { 2 * count };\n  public query func get()",
)


class Client(SimClient):
    """``SimClient`` signing as any key, with queries to every replica."""

    def __init__(self, sim: Simulation, key: object = KEY) -> None:
        super().__init__(sim)
        self.key = key
        self.principal = Principal.from_ed25519_public_key(crypto.raw_public_key(key))  # type: ignore[arg-type]

    def envelope(
        self, canister: Principal, method: str, arg: bytes, request_type: str = "call"
    ) -> SignedEnvelope:
        self.nonce += 1
        content = RequestContent(
            request_type=request_type,
            sender=self.principal,
            canister_id=canister,
            method_name=method,
            arg=arg,
            ingress_expiry=self.sim.now + 60 * SECOND,
            nonce=self.nonce.to_bytes(8, "big"),
        )
        return SignedEnvelope.sign(content, self.key)  # type: ignore[arg-type]

    def query_all(self, canister: Principal, method: str, arg: bytes) -> QueryResponse:
        """Ask every replica, once each has certified what it executed; they must all
        give the same answer, which is returned."""
        self.ready()
        envelope = self.envelope(canister, method, arg, request_type="query")
        answers = [replica.query(envelope, self.sim.now) for replica in self.sim.replicas]
        assert len({answer.outcome() for answer in answers}) == 1, [answer.outcome() for answer in answers]
        return answers[0]

    def ready(self) -> None:
        """Step virtual time until every replica may answer queries (its state certified)."""
        deadline = self.sim.now + 10 * SECOND
        while not all(replica.query_ready() for replica in self.sim.replicas):
            assert self.sim.now < deadline, "the replicas did not certify their state"
            self.sim.step_until(self.sim.now + 10_000_000)

    def info(self, canister: Principal, changes: int | None = None) -> management.CanisterInfoResult:
        return self.management(management.CANISTER_INFO, management.CanisterInfoArgs(canister, changes))


def rejected(result: RequestResult | QueryResponse, code: int, error_code: str) -> str:
    """The reject message, after checking the reject's codes (certified or fast-path alike)."""
    outcome = (result.status, result.reject_code, result.error_code)
    assert outcome == ("rejected", code, error_code), (outcome, result.reject_message)
    return result.reject_message or ""


@pytest.fixture(scope="module")
def logger_v1() -> MotokoCanister:
    return compiled(LOGGER_V1)


@pytest.fixture(scope="module")
def logger_v2() -> MotokoCanister:
    return compiled(LOGGER_V2)


def installed(client: Client, wasm: bytes) -> Principal:
    canister = client.create()
    assert client.install(canister, wasm, "install").reply == UNIT
    return canister


def test_canister_info_tells_the_history_of_create_install_upgrade(
    logger_v1: MotokoCanister, logger_v2: MotokoCanister
) -> None:
    sim = simulation(21)
    owner, other = Client(sim), Client(sim, OTHER_KEY)
    canister = installed(owner, logger_v1.wasm)
    assert owner.ok(canister, "inc") == nat(1)
    assert owner.install(canister, logger_v2.wasm, KEEP).reply == UNIT

    info = other.info(canister, 10)  # ingress may ask, and not only controllers
    assert info.total_num_changes == 3
    assert info.module_hash == hashlib.sha256(logger_v2.wasm).digest()
    assert info.controllers == (USER,)
    creation, install, upgrade = info.recent_changes
    assert creation.details == management.Creation((USER,))
    assert install.details == management.CodeDeployment("install", hashlib.sha256(logger_v1.wasm).digest())
    assert upgrade.details == management.CodeDeployment("upgrade", hashlib.sha256(logger_v2.wasm).digest())
    assert {c.origin for c in info.recent_changes} == {management.FromUser(USER)}
    assert creation.canister_version < install.canister_version < upgrade.canister_version
    assert 0 < creation.timestamp_nanos < install.timestamp_nanos < upgrade.timestamp_nanos

    assert owner.info(canister) == management.CanisterInfoResult(
        3, (), info.module_hash, (USER,)
    )  # none asked for
    assert owner.info(canister, 1).recent_changes == (upgrade,)

    owner.management(
        management.UPDATE_SETTINGS,
        management.UpdateSettingsArgs(canister, management.Settings(controllers=(USER, OTHER))),
    )
    owner.management(management.UNINSTALL_CODE, management.UninstallCodeArgs(canister))
    later = owner.info(canister, 20)
    assert later.total_num_changes == 5 and later.module_hash is None and later.controllers == (USER, OTHER)
    assert later.recent_changes[:3] == info.recent_changes
    controllers_change, uninstall = later.recent_changes[3:]
    assert controllers_change.details == management.ControllersChange((USER, OTHER))
    assert uninstall.details == uninstall.kind == "code_uninstall"

    # every replica keeps the same history
    assert len({tuple(r.state.ic.env.canister(canister).history) for r in sim.replicas}) == 1
    assert len(owner.state_hashes()) == 1


def test_logs_are_read_as_a_query_by_controllers_unless_public(logger_v1: MotokoCanister) -> None:
    sim = simulation(22)
    owner, other = Client(sim), Client(sim, OTHER_KEY)
    canister = installed(owner, logger_v1.wasm)
    assert owner.ok(canister, "inc") == nat(1)
    assert owner.ok(canister, "inc") == nat(2)
    owner.ready()
    heights = [replica.executed_height for replica in sim.replicas]

    logs_arg = management.encode_args(management.FETCH_LOGS, management.CanisterIdRecord(canister))
    answer = owner.query_all(MANAGEMENT, management.FETCH_LOGS, logs_arg)
    assert answer.status == "replied"
    records = management.decode_reply(management.FETCH_LOGS, answer.reply).canister_log_records
    assert [record.content for record in records] == [b"count is 1", b"count is 2"]
    assert records[0].idx < records[1].idx and 0 < records[0].timestamp_nanos < records[1].timestamp_nanos
    assert [replica.executed_height for replica in sim.replicas] == heights  # no consensus involved

    refused = other.query_all(MANAGEMENT, management.FETCH_LOGS, logs_arg)
    assert "controllers" in rejected(refused, 5, "IC0512")

    owner.management(
        management.UPDATE_SETTINGS,
        management.UpdateSettingsArgs(canister, management.Settings(log_visibility="public")),
    )
    public = other.query_all(MANAGEMENT, management.FETCH_LOGS, logs_arg)
    assert management.decode_reply(management.FETCH_LOGS, public.reply).canister_log_records == records

    # query-only: as an update it is refused, and so is any other management method as a query
    as_update = owner.call(MANAGEMENT, management.FETCH_LOGS, logs_arg)
    assert "non-replicated" in rejected(as_update, 4, "IC0406")
    status_query = owner.query_all(
        MANAGEMENT,
        management.STATUS,
        management.encode_args(management.STATUS, management.CanisterIdRecord(canister)),
    )
    assert "cannot be called as a query" in rejected(status_query, 3, "IC0302")
    # only about canisters of this subnet
    foreign = CanisterId(sim.genesis.canister_range_end + 7).principal
    away = owner.query_all(
        MANAGEMENT,
        management.FETCH_LOGS,
        management.encode_args(management.FETCH_LOGS, management.CanisterIdRecord(foreign)),
    )
    assert "not on this subnet" in rejected(away, 3, "IC0301")
    assert len(owner.state_hashes()) == 1


def test_a_snapshot_restores_the_counter_on_every_replica(logger_v1: MotokoCanister) -> None:
    sim = simulation(23)
    owner, other = Client(sim), Client(sim, OTHER_KEY)
    canister = installed(owner, logger_v1.wasm)
    for expected in (1, 2):
        assert owner.ok(canister, "inc") == nat(expected)

    taken = owner.management(management.TAKE_SNAPSHOT, management.TakeCanisterSnapshotArgs(canister))
    assert taken.id[:10] == canister.raw and taken.total_size > len(logger_v1.wasm)
    for expected in (3, 4, 5):
        assert owner.ok(canister, "inc") == nat(expected)
    assert owner.query_all(canister, "get", UNIT).reply == nat(5)
    assert owner.management(management.LIST_SNAPSHOTS, management.CanisterIdRecord(canister)) == (taken,)

    # a non-controller can do none of it, and changes nothing
    for method, arg in (
        (
            management.TAKE_SNAPSHOT,
            management.encode_args(management.TAKE_SNAPSHOT, management.TakeCanisterSnapshotArgs(canister)),
        ),
        (
            management.LIST_SNAPSHOTS,
            management.encode_args(management.LIST_SNAPSHOTS, management.CanisterIdRecord(canister)),
        ),
        (
            management.LOAD_SNAPSHOT,
            management.encode_args(
                management.LOAD_SNAPSHOT, management.LoadCanisterSnapshotArgs(canister, taken.id)
            ),
        ),
        (
            management.DELETE_SNAPSHOT,
            management.encode_args(
                management.DELETE_SNAPSHOT, management.DeleteCanisterSnapshotArgs(canister, taken.id)
            ),
        ),
    ):
        rejected(other.call(MANAGEMENT, method, arg), 5, "IC0512")

    owner.management(management.LOAD_SNAPSHOT, management.LoadCanisterSnapshotArgs(canister, taken.id))
    owner.ready()
    for replica in sim.replicas:  # each replica answers from its own state
        answer = replica.query(owner.envelope(canister, "get", UNIT, request_type="query"), sim.now)
        assert answer.reply == nat(2)
    assert len(owner.state_hashes()) == 1
    loaded = owner.info(canister, 1).recent_changes[0]
    assert loaded.kind == "load_snapshot"
    assert (loaded.details.snapshot_id, loaded.details.taken_at_timestamp) == (
        taken.id,
        taken.taken_at_timestamp,
    )
    assert owner.ok(canister, "inc") == nat(3)  # it goes on from the snapshot

    owner.management(management.DELETE_SNAPSHOT, management.DeleteCanisterSnapshotArgs(canister, taken.id))
    assert owner.management(management.LIST_SNAPSHOTS, management.CanisterIdRecord(canister)) == ()
    again = owner.call(
        MANAGEMENT,
        management.DELETE_SNAPSHOT,
        management.encode_args(
            management.DELETE_SNAPSHOT, management.DeleteCanisterSnapshotArgs(canister, taken.id)
        ),
    )
    assert taken.id.hex() in rejected(again, 5, "IC0305")
    gone = owner.call(
        MANAGEMENT,
        management.LOAD_SNAPSHOT,
        management.encode_args(
            management.LOAD_SNAPSHOT, management.LoadCanisterSnapshotArgs(canister, taken.id)
        ),
    )
    rejected(gone, 5, "IC0305")
    assert owner.query_all(canister, "get", UNIT).reply == nat(3)
    assert len(owner.state_hashes()) == 1


def test_canister_metadata_reads_sections_as_read_state_would(logger_v1: MotokoCanister) -> None:
    sim = simulation(24)
    owner, other = Client(sim), Client(sim, OTHER_KEY)
    canister = installed(owner, logger_v1.wasm)

    def metadata(client: Client, target: Principal, name: str) -> QueryResponse:
        return client.query_all(
            MANAGEMENT,
            management.CANISTER_METADATA,
            management.encode_args(
                management.CANISTER_METADATA, management.CanisterMetadataArgs(target, name)
            ),
        )

    # moc marks candid:service and motoko:stable-types icp:private: controllers only
    service = metadata(owner, canister, "candid:service")
    assert (
        management.decode_reply(management.CANISTER_METADATA, service.reply).value.decode()
        == logger_v1.candid
    )
    stable = metadata(owner, canister, "motoko:stable-types")
    assert (
        management.decode_reply(management.CANISTER_METADATA, stable.reply).value.decode()
        == logger_v1.stable_types
    )
    rejected(metadata(other, canister, "candid:service"), 5, "IC0512")
    assert "no:such" in rejected(metadata(owner, canister, "no:such"), 5, "IC0536")

    empty = owner.create()
    rejected(metadata(owner, empty, "candid:service"), 5, "IC0537")

    # an icp:public section is anyone's to read
    module = wasmtime.wat2wasm(
        '(module (memory 1) (@custom "icp:public candid:service" "service : {}")'
        ' (@custom "icp:private secret" "s3cret"))'
    )
    assert owner.install(empty, module, "install").reply == UNIT
    assert (
        management.decode_reply(
            management.CANISTER_METADATA, metadata(other, empty, "candid:service").reply
        ).value
        == b"service : {}"
    )
    rejected(metadata(other, empty, "secret"), 5, "IC0512")
    assert (
        management.decode_reply(management.CANISTER_METADATA, metadata(owner, empty, "secret").reply).value
        == b"s3cret"
    )

    as_update = owner.call(
        MANAGEMENT,
        management.CANISTER_METADATA,
        management.encode_args(
            management.CANISTER_METADATA, management.CanisterMetadataArgs(canister, "candid:service")
        ),
    )
    rejected(as_update, 4, "IC0406")
    assert len(owner.state_hashes()) == 1


def test_bad_arguments_are_rejected_with_candid_errors_and_change_nothing(logger_v1: MotokoCanister) -> None:
    sim = simulation(25)
    owner = Client(sim)
    canister = installed(owner, logger_v1.wasm)
    before = owner.info(canister, 20)
    truncated = b"DIDL\x00\x01\x7d"
    for method in (*management.SNAPSHOT_METHODS, management.CANISTER_INFO):
        message = rejected(owner.call(MANAGEMENT, method, truncated), 4, "IC0408")
        assert f"Error decoding candid for the management method {method}" in message
    as_text = candid.encode([{"canister_id": canister.to_text()}], "(record { canister_id : text })")
    rejected(owner.call(MANAGEMENT, management.CANISTER_INFO, as_text), 4, "IC0408")
    text_id = candid.encode(
        [{"canister_id": canister, "snapshot_id": "00"}],
        "(record { canister_id : principal; snapshot_id : text })",
    )
    rejected(owner.call(MANAGEMENT, management.LOAD_SNAPSHOT, text_id), 4, "IC0408")
    for method in management.QUERY_METHODS:
        rejected(owner.query_all(MANAGEMENT, method, truncated), 4, "IC0408")
    no_name = management.encode_args(management.STATUS, management.CanisterIdRecord(canister))  # no name
    assert "name" in rejected(owner.query_all(MANAGEMENT, management.CANISTER_METADATA, no_name), 4, "IC0408")

    # Candid subtyping as on the IC: an opt field of the wrong type reads as null
    lenient = candid.encode(
        [{"canister_id": canister, "num_requested_changes": "all"}],
        "(record { canister_id : principal; num_requested_changes : opt text })",
    )
    reply = owner.ok(MANAGEMENT, management.CANISTER_INFO, lenient)
    assert management.decode_reply(management.CANISTER_INFO, reply).recent_changes == ()

    assert owner.info(canister, 20) == before
    listed = owner.ok(MANAGEMENT, management.LIST_SNAPSHOTS, no_name)
    assert listed == management.encode_reply(management.LIST_SNAPSHOTS, ())
    assert len(owner.state_hashes()) == 1
