"""The simulator's short cuts (issue 16) give what the general code gives: trace lines
byte for byte what the JSON encoder writes, the memo verifier's verdicts what
libsodium's verification says, remembered signatures what OpenSSL signs, and ICC's
remembered wake-up what it computes afresh."""

from __future__ import annotations

import hashlib
import json

from node.consensus.icc import Icc
from node.ingress import Ingress, envelope_size
from subnet.sim.runner import MemoVerifier
from subnet.sim.trace import Trace, quote
from vocab import crypto
from vocab.genesis import MS, local_genesis

ENCODE = json.JSONEncoder(separators=(",", ":"), sort_keys=True).encode

RECORDS: list[tuple[int, str, int, tuple[object, ...]]] = [
    (1_700_000_000_000_000_000, "finalized", 2, (17, {"block": "ab12", "proposer": "2vxsx-fae"})),
    (5, "executed", 0, (3, {"state_hash": "00ff", "messages": 2})),
    (5, "notice", 1, (3, {"z": 1, "a": '\u00e9\n"x"', "m": -7})),
    (5, "notice", 1, (3, {})),
    (5, "equivocation", 1, (3, {"proposer": "p", "blocks": ["a", "b"]})),
    (5, "flags", 1, (3, {"ok": True, "ratio": 0.5, "none": None})),
    (5, "partition", -1, ([[0, 1], [2, 3]],)),
    (5, "network", -1, ([(1, 300)], "0.1", "0.0")),
    (5, "submit", 3, ("0a1b2c", "canister_status \u2603")),
    (5, "bool", 3, (True, False, 2**70)),
]


def test_trace_lines_are_the_json_encoders_bytes() -> None:
    trace = Trace(keep=True)
    expected = []
    for time_ns, kind, node, details in RECORDS:
        trace.record(time_ns, kind, node, *details)
        expected.append(ENCODE([time_ns, kind, node, *details]))
        if len(details) == 2 and isinstance(details[0], int):
            trace.record_notice(time_ns, kind, node, details[0], details[1])
            expected.append(ENCODE([time_ns, kind, node, *details]))
    label = "proposal h3 r0 \u00e9ab 0011"
    trace.record_link(9, "send", 1, 2, quote(label), 12_345_678)
    trace.record_link(9, "deliver", 2, 1, quote(label))
    expected += [ENCODE([9, "send", 1, 2, label, 12_345_678]), ENCODE([9, "deliver", 2, 1, label])]
    assert trace.lines == expected
    assert trace.count == len(expected)
    joined = "".join(line + "\n" for line in expected).encode()
    assert trace.trace_hash == hashlib.sha256(joined).hexdigest()


def test_trace_hash_is_the_same_across_flushes() -> None:
    """Lines are hashed in batches: the hash is that of all lines, however many."""
    many, one_by_one = Trace(), hashlib.sha256()
    for index in range(2_000):
        many.record_link(index, "send", 0, 1, quote(f"m{index}"), index)
        one_by_one.update(ENCODE([index, "send", 0, 1, f"m{index}", index]).encode() + b"\n")
        if index in (0, 511, 512, 1_000):
            assert many.trace_hash == one_by_one.hexdigest()
    assert many.trace_hash == one_by_one.hexdigest()
    assert many.count == 2_000


def test_memo_verifier_verdicts_are_libsodiums() -> None:
    ours = crypto.private_key_from_seed(b"\x07" * 32)
    other = crypto.private_key_from_seed(b"\x08" * 32)
    verifier = MemoVerifier(signers=[ours])
    public, other_public = crypto.raw_public_key(ours), crypto.raw_public_key(other)
    good = crypto.sign(ours, "test-domain", b"message")
    bad = bytes([good[0] ^ 1]) + good[1:]
    cases = [
        (public, good, "test-domain", b"message"),  # its own, as it signs it
        (public, bad, "test-domain", b"message"),  # a garbled copy
        (public, good, "other-domain", b"message"),  # another domain
        (public, good, "test-domain", b"other"),  # another message
        (public, b"\x00" * 64, "test-domain", b"message"),
        (public, good[:10], "test-domain", b"message"),  # malformed
        (other_public, crypto.sign(other, "test-domain", b"m"), "test-domain", b"m"),  # not a sim key
        (other_public, good, "test-domain", b"message"),
    ]
    for case in cases:
        assert verifier(*case) == crypto.verify(*case), case
        assert verifier(*case) == crypto.verify(*case), case  # remembered
    assert [verifier(*case) for case in cases] == [True, False, False, False, False, False, True, False]
    assert verifier.verified == len(cases)


def test_remembered_signatures_are_the_ones_openssl_makes() -> None:
    """``crypto.sign`` remembers what it signed: the same bytes as the key's own
    (OpenSSL's) Ed25519 signature, for short and long messages, under any key."""
    keys = [crypto.private_key_from_seed(bytes([seed]) * 32) for seed in (1, 2)]
    for key in keys:
        for message in (b"", b"m" * 40, b"m" * 300):
            for _ in range(2):
                assert crypto.sign(key, "ic-request", message) == key.sign(
                    crypto.domain("ic-request") + message
                )
    assert crypto.sign(keys[0], "a", b"x") != crypto.sign(keys[1], "a", b"x")


def test_remembered_wakeup_is_the_computed_one() -> None:
    """ICC's next wake-up, asked at many times with unchanged fields, is what it computes
    afresh at each of them."""
    genesis, keys = local_genesis(4, "wakeup")
    icc = Icc(genesis, keys[1], Ingress(genesis), size_of=envelope_size)
    start = genesis.genesis_time_ns
    icc.start(start)
    for now in range(start, start + 3_000 * MS, 7 * MS):
        expected = icc._next_wakeup(now)
        assert icc.next_wakeup(now) == expected
        if expected is not None and expected <= now + 7 * MS:
            icc.on_timer(expected)
