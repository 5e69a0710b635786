"""A seeded workload of signed lifecycle operations, submitted during a simulated run.

A few identities (Ed25519 keys drawn from the simulation's generator) create canisters,
query their status, stop, start and delete them, change their controllers, and now and
then try to manage somebody else's canister (which must be refused with IC0512). The
workload learns canister ids from certified replies, as a real client would, so what it
does next depends on what the subnet did: a divergence between runs shows up at once in
the trace.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from vocab import crypto, management
from vocab.certificate import RequestResult
from vocab.envelope import SignedEnvelope
from vocab.genesis import SECOND
from vocab.principal import Principal
from vocab.request import RequestContent


@dataclass(frozen=True)
class WorkloadConfig:
    rate_per_s: float = 2.0
    """Mean submissions per simulated second (Poisson arrivals)."""
    identities: int = 3
    start_ns: int = 0
    """When the first submission may happen, relative to the start of the run."""
    expiry_ns: int = 120 * SECOND


@dataclass
class _Pending:
    identity: int
    method: str
    canister: Principal | None
    extra: Principal | None = None


class Workload:
    def __init__(self, config: WorkloadConfig, rng: random.Random) -> None:
        if config.rate_per_s <= 0 or config.identities < 1:
            raise ValueError("a workload needs a positive rate and at least one identity")
        self.config = config
        self.rng = rng
        self.keys: list[Ed25519PrivateKey] = [
            crypto.private_key_from_seed(rng.randbytes(32)) for _ in range(config.identities)
        ]
        self.principals = [Principal.self_authenticating(crypto.der_public_key(key)) for key in self.keys]
        self.owned: list[dict[Principal, str]] = [{} for _ in self.keys]
        self.pending: dict[bytes, _Pending] = {}
        self.stats: Counter[str] = Counter()

    def next_delay_ns(self) -> int:
        return max(1, int(self.rng.expovariate(self.config.rate_per_s) * SECOND))

    def _envelope(self, identity: int, method: str, arg: bytes, now: int) -> SignedEnvelope:
        content = RequestContent(
            request_type="call",
            sender=self.principals[identity],
            canister_id=Principal.management(),
            method_name=method,
            arg=arg,
            ingress_expiry=now + self.config.expiry_ns,
            nonce=self.rng.randbytes(8),
        )
        return SignedEnvelope.sign(content, self.keys[identity])

    def next_request(self, now: int) -> SignedEnvelope:
        identity = self.rng.randrange(len(self.keys))
        mine = self.owned[identity]
        if not mine or self.rng.random() < 0.2:
            amount = self.rng.randrange(1, 10**12)
            envelope = self._envelope(
                identity,
                management.CREATE,
                management.encode_args(management.CREATE, management.CreateCanisterArgs(amount=amount)),
                now,
            )
            self.pending[envelope.request_id] = _Pending(identity, management.CREATE, None)
            return envelope
        canister = self.rng.choice(list(mine))
        status = mine[canister]
        roll = self.rng.random()
        actor, method, extra = identity, management.STATUS, None
        if roll < 0.1 and len(self.keys) > 1:
            actor = (identity + 1 + self.rng.randrange(len(self.keys) - 1)) % len(self.keys)
            if canister in self.owned[actor]:
                actor = identity
        elif roll < 0.35:
            method = management.STATUS
        elif roll < 0.55:
            method = management.STOP
        elif roll < 0.7:
            method = management.START
        elif roll < 0.85:
            method = management.UPDATE_SETTINGS
            extra = self.principals[self.rng.randrange(len(self.keys))]
        else:
            method = management.DELETE if status == "stopped" else management.STOP
        if method == management.UPDATE_SETTINGS:
            assert extra is not None
            controllers = tuple(dict.fromkeys([self.principals[identity], extra]))
            arg = management.encode_args(
                method, management.UpdateSettingsArgs(canister, management.Settings(controllers=controllers))
            )
        else:
            arg = management.encode_args(method, management.CanisterIdRecord(canister))
        envelope = self._envelope(actor, method, arg, now)
        self.pending[envelope.request_id] = _Pending(actor, method, canister, extra)
        return envelope

    def on_rejected_at_ingress(self, request_id: bytes, reason: str) -> None:
        if self.pending.pop(request_id, None) is not None:
            self.stats[f"ingress_rejected:{reason}"] += 1

    def on_result(self, result: RequestResult) -> None:
        pending = self.pending.pop(result.request_id, None)
        if pending is None:
            return
        self.stats[f"{pending.method}:{result.status}"] += 1
        if result.status != "replied":
            self.stats[f"reject:{result.error_code or result.reject_code}"] += 1
            return
        if pending.method == management.CREATE:
            self.owned[pending.identity][
                management.decode_reply(management.CREATE, result.reply).canister_id
            ] = "running"
        elif pending.canister is not None:
            if pending.method == management.STOP:
                self._set_status(pending.canister, "stopped")
            elif pending.method == management.START:
                self._set_status(pending.canister, "running")
            elif pending.method == management.DELETE:
                for owned in self.owned:
                    owned.pop(pending.canister, None)
            elif pending.method == management.UPDATE_SETTINGS and pending.extra is not None:
                status = self.owned[pending.identity].get(pending.canister, "running")
                for index, principal in enumerate(self.principals):
                    if principal == pending.extra:
                        self.owned[index][pending.canister] = status

    def _set_status(self, canister: Principal, status: str) -> None:
        for owned in self.owned:
            if canister in owned:
                owned[canister] = status
