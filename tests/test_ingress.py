"""Ingress: what a replica lets in and what a block may carry, with IC reject codes and
per-reason counters; and the lifecycle operations as executed on finalized blocks."""

from __future__ import annotations

import dataclasses

import pytest

from node.actions import AcceptIngress, Broadcast, RejectIngress
from node.consensus.icc.artifacts import Block, genesis_block
from node.events import ClientSubmitted, Started
from node.ic.state_machine import WasmStateMachine
from node.ingress import Ingress, IngressGossip
from node.replica import Replica
from node.state_machine import Batch
from vocab import crypto, management
from vocab.certificate import RequestResult
from vocab.envelope import SignedEnvelope
from vocab.errors import RejectCode
from vocab.genesis import Genesis, local_genesis
from vocab.principal import CanisterId, Principal
from vocab.request import RequestContent

SECOND = 1_000_000_000
USER_KEY = crypto.private_key_from_seed(b"\x11" * 32)
OTHER_KEY = crypto.private_key_from_seed(b"\x22" * 32)


def principal_of(key) -> Principal:
    return Principal.self_authenticating(crypto.der_public_key(key))


def signed_request(
    now: int,
    *,
    method: str = management.CREATE,
    arg: bytes | None = None,
    key=USER_KEY,
    canister: Principal | None = None,
    expiry_offset: int = 60 * SECOND,
    nonce: bytes = b"n1",
) -> SignedEnvelope:
    content = RequestContent(
        request_type="call",
        sender=principal_of(key),
        canister_id=Principal.management() if canister is None else canister,
        method_name=method,
        arg=management.encode_args(management.CREATE, management.CreateCanisterArgs(amount=10**12))
        if arg is None
        else arg,
        ingress_expiry=now + expiry_offset,
        nonce=nonce,
    )
    return SignedEnvelope.sign(content, key)


@pytest.fixture(scope="module")
def genesis() -> tuple[Genesis, list]:
    return local_genesis(4, "ingress-tests", max_ingress_bytes=4096)


def fresh_replica(genesis) -> tuple[Replica, int]:
    config, keys = genesis
    replica = Replica(config, keys[0])
    now = config.genesis_time_ns
    replica.handle(Started(now))
    return replica, now


def rejection(actions) -> RejectIngress | None:
    found = [action for action in actions if isinstance(action, RejectIngress)]
    return found[0] if found else None


def test_a_good_request_is_accepted_and_gossiped(genesis) -> None:
    replica, now = fresh_replica(genesis)
    envelope = signed_request(now)
    actions = replica.handle(ClientSubmitted(envelope, now))
    assert AcceptIngress(envelope.request_id) in actions
    assert Broadcast(IngressGossip(envelope)) in actions
    assert rejection(actions) is None
    assert replica.ingress.known(envelope.request_id)


@pytest.mark.parametrize(
    ("case", "code", "reason"),
    [
        ("bad_signature", RejectCode.SYS_FATAL, "bad_signature"),
        ("expired", RejectCode.SYS_FATAL, "expired"),
        ("too_far", RejectCode.SYS_FATAL, "expiry_too_far"),
        ("oversized", RejectCode.SYS_FATAL, "oversized"),
        ("unsigned", RejectCode.SYS_FATAL, "unsigned"),
        ("wrong_subnet", RejectCode.DESTINATION_INVALID, "wrong_subnet"),
        ("query", RejectCode.SYS_FATAL, "not_a_call"),
    ],
)
def test_bad_requests_are_rejected_with_ic_codes_and_counted(
    genesis, case: str, code: RejectCode, reason: str
) -> None:
    replica, now = fresh_replica(genesis)
    envelope = signed_request(now)
    if case == "bad_signature":
        envelope = dataclasses.replace(envelope, sender_sig=bytes(64))
    elif case == "expired":
        envelope = signed_request(now, expiry_offset=-1)
    elif case == "too_far":
        envelope = signed_request(now, expiry_offset=3600 * SECOND)
    elif case == "oversized":
        envelope = signed_request(now, arg=b"\x00" * 5000)
    elif case == "unsigned":
        envelope = dataclasses.replace(envelope, sender_sig=None, sender_pubkey=None)
    elif case == "wrong_subnet":
        envelope = signed_request(now, canister=CanisterId(genesis[0].canister_range_end + 5).principal)
    elif case == "query":
        content = dataclasses.replace(envelope.content, request_type="query")
        envelope = SignedEnvelope.sign(content, USER_KEY)
    actions = replica.handle(ClientSubmitted(envelope, now))
    rejected = rejection(actions)
    assert rejected is not None, case
    assert rejected.code == int(code)
    assert rejected.reason == reason
    assert rejected.request_id == envelope.request_id
    assert replica.rejected[reason] == 1
    assert not any(isinstance(action, Broadcast) for action in actions)


def test_a_request_id_is_accepted_once(genesis) -> None:
    replica, now = fresh_replica(genesis)
    envelope = signed_request(now, nonce=b"once")
    assert rejection(replica.handle(ClientSubmitted(envelope, now))) is None
    again = rejection(replica.handle(ClientSubmitted(envelope, now + 1)))
    assert again is not None and again.reason == "replayed" and again.code == int(RejectCode.SYS_FATAL)
    assert replica.rejected["replayed"] == 1


def test_payload_rules_refuse_expired_replayed_duplicated_and_forged_messages(genesis) -> None:
    config, _ = genesis
    ingress = Ingress(config)
    now = config.genesis_time_ns
    parent = genesis_block(config)
    maker = config.node_ids[0]
    good = signed_request(now, nonce=b"a")
    other = signed_request(now, nonce=b"b")

    def block(*payload: SignedEnvelope, timestamp: int = now + 1) -> Block:
        return Block(parent.hash, 1, 0, maker, timestamp, payload)

    assert ingress.payload_error(block(good, other), []) is None
    assert "twice" in ingress.payload_error(block(good, good), [])
    assert "expired" in ingress.payload_error(block(good, timestamp=now + 61 * SECOND), [])
    forged = dataclasses.replace(other, sender_sig=crypto.sign(OTHER_KEY, "ic-request", other.request_id))
    assert "bad_signature" in ingress.payload_error(block(forged), [])
    ancestor = Block(parent.hash, 1, 0, maker, now + 1, (good,))
    assert "replay" in ingress.payload_error(Block(ancestor.hash, 2, 0, maker, now + 2, (good,)), [ancestor])
    ingress.on_finalized(ancestor)
    assert "replay" in ingress.payload_error(Block(ancestor.hash, 2, 0, maker, now + 2, (good,)), [])


def test_payloads_respect_count_and_byte_limits(genesis) -> None:
    config, _ = genesis
    small = Genesis.from_dict({**config.to_dict(), "max_block_messages": 2})
    ingress = Ingress(small)
    now = config.genesis_time_ns
    for index in range(5):
        assert ingress.admit(signed_request(now, nonce=bytes([index])), now) is None
    payload = ingress.build_payload([], now + 1)
    assert len(payload) == 2
    tight = Genesis.from_dict({**config.to_dict(), "max_block_bytes": 600})
    ingress = Ingress(tight)
    for index in range(5):
        assert ingress.admit(signed_request(now, nonce=bytes([index])), now) is None
    payload = ingress.build_payload([], now + 1)
    assert 1 <= len(payload) < 5


def test_the_ingress_pool_is_bounded(genesis) -> None:
    config, _ = genesis
    tiny = Genesis.from_dict({**config.to_dict(), "ingress_pool_max_messages": 2})
    ingress = Ingress(tiny)
    now = config.genesis_time_ns
    assert ingress.admit(signed_request(now, nonce=b"1"), now) is None
    assert ingress.admit(signed_request(now, nonce=b"2"), now) is None
    full = ingress.admit(signed_request(now, nonce=b"3"), now)
    assert full is not None and full.code == RejectCode.SYS_TRANSIENT
    assert ingress.rejections["pool_full"] == 1


# -- lifecycle operations on the replicated state machine ---------------------------------------------------------------


def execute(machine: WasmStateMachine, *envelopes: SignedEnvelope, height: int = 1) -> list[RequestResult]:
    return machine.execute(Batch(height, 1_000 + height, tuple(envelopes), b"\x00" * 32))


def test_lifecycle_of_an_empty_canister() -> None:
    machine = WasmStateMachine(5, 100)
    now = 0
    [created] = execute(machine, signed_request(now, nonce=b"c1"))
    assert created.status == "replied"
    canister = management.decode_reply(management.CREATE, created.reply).canister_id
    assert canister == CanisterId(5).principal
    id_arg = management.encode_args(management.STATUS, management.CanisterIdRecord(canister))  # all take it

    [status] = execute(
        machine, signed_request(now, method=management.STATUS, arg=id_arg, nonce=b"s1"), height=2
    )
    decoded = management.decode_reply(management.STATUS, status.reply)
    assert (
        decoded.status == "running"
        and decoded.settings.controllers == (principal_of(USER_KEY),)
        and decoded.cycles == 10**12
    )

    [refused] = execute(
        machine, signed_request(now, method=management.DELETE, arg=id_arg, nonce=b"d1"), height=3
    )
    assert (refused.status, refused.reject_code, refused.error_code) == (
        "rejected",
        RejectCode.CANISTER_ERROR,
        "IC0510",
    )

    [stopped] = execute(
        machine, signed_request(now, method=management.STOP, arg=id_arg, nonce=b"x1"), height=4
    )
    assert stopped.status == "replied"
    [call] = execute(
        machine,
        signed_request(now, method="greet", arg=b"DIDL\x00\x00", canister=canister, nonce=b"g"),
        height=5,
    )
    # The execution layer finds no module before it looks at the status.
    assert (call.reject_code, call.error_code) == (RejectCode.DESTINATION_INVALID, "IC0537")
    [started] = execute(
        machine, signed_request(now, method=management.START, arg=id_arg, nonce=b"x2"), height=6
    )
    assert started.status == "replied"
    execute(machine, signed_request(now, method=management.STOP, arg=id_arg, nonce=b"x3"), height=7)
    [deleted] = execute(
        machine, signed_request(now, method=management.DELETE, arg=id_arg, nonce=b"d2"), height=8
    )
    assert deleted.status == "replied"
    [gone] = execute(
        machine, signed_request(now, method=management.STATUS, arg=id_arg, nonce=b"s2"), height=9
    )
    assert (gone.reject_code, gone.error_code) == (RejectCode.DESTINATION_INVALID, "IC0301")
    [next_one] = execute(machine, signed_request(now, nonce=b"c2"), height=10)
    assert (
        management.decode_reply(management.CREATE, next_one.reply).canister_id == CanisterId(6).principal
    ), "ids are never reused"


def test_only_controllers_manage_a_canister() -> None:
    machine = WasmStateMachine(0, 100)
    [created] = execute(machine, signed_request(0, nonce=b"c"))
    canister = management.decode_reply(management.CREATE, created.reply).canister_id
    id_arg = management.encode_args(management.STATUS, management.CanisterIdRecord(canister))  # all take it
    for method in (management.STATUS, management.STOP, management.START, management.DELETE):
        [result] = execute(
            machine, signed_request(0, method=method, arg=id_arg, key=OTHER_KEY, nonce=method.encode()[:8])
        )
        assert (result.status, result.reject_code, result.error_code) == (
            "rejected",
            RejectCode.CANISTER_ERROR,
            "IC0512",
        ), method
    settings = management.Settings(controllers=(principal_of(USER_KEY), principal_of(OTHER_KEY)))
    update = management.encode_args(
        management.UPDATE_SETTINGS, management.UpdateSettingsArgs(canister, settings)
    )
    [denied] = execute(
        machine, signed_request(0, method=management.UPDATE_SETTINGS, arg=update, key=OTHER_KEY, nonce=b"u0")
    )
    assert denied.error_code == "IC0512"
    [granted] = execute(
        machine, signed_request(0, method=management.UPDATE_SETTINGS, arg=update, nonce=b"u1")
    )
    assert granted.status == "replied"
    [now_allowed] = execute(
        machine, signed_request(0, method=management.STATUS, arg=id_arg, key=OTHER_KEY, nonce=b"s")
    )
    assert now_allowed.status == "replied"
    assert set(management.decode_reply(management.STATUS, now_allowed.reply).settings.controllers) == set(
        settings.controllers
    )


def test_bad_management_calls_are_rejected() -> None:
    machine = WasmStateMachine(0, 1)
    [unknown] = execute(machine, signed_request(0, method="no_such_method", arg=b"DIDL\x00\x00", nonce=b"u"))
    assert (unknown.reject_code, unknown.error_code) == (RejectCode.CANISTER_REJECT, "IC0407")
    [garbage] = execute(machine, signed_request(0, method=management.STOP, arg=b"not candid", nonce=b"g"))
    assert (garbage.reject_code, garbage.error_code) == (RejectCode.CANISTER_REJECT, "IC0408")
    [first] = execute(machine, signed_request(0, nonce=b"1"))
    assert first.status == "replied"
    [exhausted] = execute(machine, signed_request(0, nonce=b"2"))
    assert exhausted.reject_code == RejectCode.SYS_TRANSIENT


def test_state_hash_is_canonical() -> None:
    one, two = WasmStateMachine(0, 100), WasmStateMachine(0, 100)
    requests = [signed_request(0, nonce=bytes([i])) for i in range(3)]
    execute(one, *requests)
    execute(two, *requests)
    assert one.state_hash() == two.state_hash()
    execute(two, signed_request(0, nonce=b"more"), height=2)
    assert one.state_hash() != two.state_hash()
