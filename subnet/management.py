"""The management canister's lifecycle interface (``aaaaa-aa``), as both sides need it.

A client encodes the arguments, a replica decodes them and encodes the replies, so the
Candid shapes live here, in the shared vocabulary, after the IC's ``ic.did``:

    provisional_create_canister_with_cycles : (record { amount : opt nat;
        settings : opt canister_settings; specified_id : opt principal })
        -> (record { canister_id : principal })
    canister_status : (record { canister_id : principal }) -> (canister_status_result)
    stop_canister, start_canister, delete_canister : (record { canister_id : principal }) -> ()
    update_settings : (record { canister_id : principal; settings : canister_settings }) -> ()

with ``canister_settings = record { controllers : opt vec principal; compute_allocation :
opt nat; memory_allocation : opt nat; freezing_threshold : opt nat }``.

The Candid codec underneath is ``subnet._candid_lite`` until ``subnet.candid`` is ready.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from subnet import _candid_lite as candid
from subnet.errors import CandidError
from subnet.principal import Principal

CREATE = "provisional_create_canister_with_cycles"
STATUS = "canister_status"
STOP = "stop_canister"
START = "start_canister"
DELETE = "delete_canister"
UPDATE_SETTINGS = "update_settings"
LIFECYCLE_METHODS = (CREATE, STATUS, STOP, START, DELETE, UPDATE_SETTINGS)

CANISTER_SETTINGS = (
    "record",
    (
        ("controllers", ("opt", ("vec", "principal"))),
        ("compute_allocation", ("opt", "nat")),
        ("memory_allocation", ("opt", "nat")),
        ("freezing_threshold", ("opt", "nat")),
    ),
)
CREATE_ARGS = (
    "record",
    (("amount", ("opt", "nat")), ("settings", ("opt", CANISTER_SETTINGS)), ("specified_id", ("opt", "principal"))),
)
CANISTER_ID_RECORD = ("record", (("canister_id", "principal"),))
UPDATE_SETTINGS_ARGS = ("record", (("canister_id", "principal"), ("settings", CANISTER_SETTINGS)))
STATUS_VARIANT = ("variant", (("running", "null"), ("stopping", "null"), ("stopped", "null")))
DEFINITE_SETTINGS = (
    "record",
    (
        ("controllers", ("vec", "principal")),
        ("compute_allocation", "nat"),
        ("memory_allocation", "nat"),
        ("freezing_threshold", "nat"),
        ("reserved_cycles_limit", "nat"),
        ("wasm_memory_limit", "nat"),
    ),
)
STATUS_RESULT = (
    "record",
    (
        ("status", STATUS_VARIANT),
        ("settings", DEFINITE_SETTINGS),
        ("module_hash", ("opt", "blob")),
        ("memory_size", "nat"),
        ("cycles", "nat"),
        ("reserved_cycles", "nat"),
        ("idle_cycles_burned_per_day", "nat"),
    ),
)
STATUSES = ("running", "stopping", "stopped")


@dataclass(frozen=True)
class Settings:
    """``canister_settings``: a field left None is not changed (or takes its default)."""

    controllers: tuple[Principal, ...] | None = None
    compute_allocation: int | None = None
    memory_allocation: int | None = None
    freezing_threshold: int | None = None

    def to_candid(self) -> dict[str, Any]:
        return {
            "controllers": None if self.controllers is None else list(self.controllers),
            "compute_allocation": self.compute_allocation,
            "memory_allocation": self.memory_allocation,
            "freezing_threshold": self.freezing_threshold,
        }

    @classmethod
    def from_candid(cls, value: Any) -> Settings:
        record = _record(value, "settings")
        controllers = _opt(record.get(candid.idl_hash("controllers")))
        if controllers is not None:
            if not isinstance(controllers, list) or not all(isinstance(item, Principal) for item in controllers):
                raise CandidError("settings.controllers must be a vec principal")
            controllers = tuple(controllers)
        numbers = {}
        for name in ("compute_allocation", "memory_allocation", "freezing_threshold"):
            number = _opt(record.get(candid.idl_hash(name)))
            if number is not None and (isinstance(number, bool) or not isinstance(number, int) or number < 0):
                raise CandidError(f"settings.{name} must be a nat")
            numbers[name] = number
        return cls(controllers, **numbers)


@dataclass(frozen=True)
class CanisterStatus:
    status: str
    controllers: tuple[Principal, ...]
    cycles: int
    module_hash: bytes | None = None
    memory_size: int = 0
    compute_allocation: int = 0
    memory_allocation: int = 0
    freezing_threshold: int = 2_592_000


def _record(value: Any, what: str) -> dict[int, Any]:
    if not isinstance(value, dict):
        raise CandidError(f"{what} must be a record")
    return value


def _opt(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, tuple) and len(value) == 1:
        return value[0]
    raise CandidError("expected an opt value")


def _single(arg: bytes, what: str) -> Any:
    values = candid.decode(arg)
    if not values:
        raise CandidError(f"{what}: missing argument")
    return values[0]


# -- arguments (client side encodes, replica decodes) -------------------------------------


def encode_create_args(amount: int | None = None, settings: Settings | None = None, specified_id: Principal | None = None) -> bytes:
    return candid.encode(
        [CREATE_ARGS],
        [{"amount": amount, "settings": None if settings is None else settings.to_candid(), "specified_id": specified_id}],
    )


def decode_create_args(arg: bytes) -> tuple[int | None, Settings | None, Principal | None]:
    record = _record(_single(arg, CREATE), CREATE)
    amount = _opt(record.get(candid.idl_hash("amount")))
    if amount is not None and (isinstance(amount, bool) or not isinstance(amount, int) or amount < 0):
        raise CandidError("amount must be a nat")
    settings_value = _opt(record.get(candid.idl_hash("settings")))
    settings = None if settings_value is None else Settings.from_candid(settings_value)
    specified = _opt(record.get(candid.idl_hash("specified_id")))
    if specified is not None and not isinstance(specified, Principal):
        raise CandidError("specified_id must be a principal")
    return amount, settings, specified


def encode_canister_id_args(canister_id: Principal) -> bytes:
    return candid.encode([CANISTER_ID_RECORD], [{"canister_id": canister_id}])


def decode_canister_id_args(arg: bytes, method: str = "argument") -> Principal:
    record = _record(_single(arg, method), method)
    canister_id = record.get(candid.idl_hash("canister_id"))
    if not isinstance(canister_id, Principal):
        raise CandidError(f"{method}: canister_id must be a principal")
    return canister_id


def encode_update_settings_args(canister_id: Principal, settings: Settings) -> bytes:
    return candid.encode([UPDATE_SETTINGS_ARGS], [{"canister_id": canister_id, "settings": settings.to_candid()}])


def decode_update_settings_args(arg: bytes) -> tuple[Principal, Settings]:
    record = _record(_single(arg, UPDATE_SETTINGS), UPDATE_SETTINGS)
    canister_id = record.get(candid.idl_hash("canister_id"))
    if not isinstance(canister_id, Principal):
        raise CandidError(f"{UPDATE_SETTINGS}: canister_id must be a principal")
    settings = record.get(candid.idl_hash("settings"))
    if settings is None:
        raise CandidError(f"{UPDATE_SETTINGS}: settings missing")
    return canister_id, Settings.from_candid(settings)


# -- replies (replica encodes, client decodes) --------------------------------------------


def encode_empty() -> bytes:
    return candid.encode([], [])


def encode_create_reply(canister_id: Principal) -> bytes:
    return candid.encode([CANISTER_ID_RECORD], [{"canister_id": canister_id}])


def decode_create_reply(reply: bytes) -> Principal:
    return decode_canister_id_args(reply, CREATE)


def encode_status_reply(status: CanisterStatus) -> bytes:
    return candid.encode(
        [STATUS_RESULT],
        [
            {
                "status": (status.status, None),
                "settings": {
                    "controllers": list(status.controllers),
                    "compute_allocation": status.compute_allocation,
                    "memory_allocation": status.memory_allocation,
                    "freezing_threshold": status.freezing_threshold,
                    "reserved_cycles_limit": 5_000_000_000_000,
                    "wasm_memory_limit": 0,
                },
                "module_hash": status.module_hash,
                "memory_size": status.memory_size,
                "cycles": status.cycles,
                "reserved_cycles": 0,
                "idle_cycles_burned_per_day": 0,
            }
        ],
    )


def decode_status_reply(reply: bytes) -> CanisterStatus:
    record = _record(_single(reply, STATUS), STATUS)
    variant = record.get(candid.idl_hash("status"))
    names = {candid.idl_hash(name): name for name in STATUSES}
    if not isinstance(variant, tuple) or variant[0] not in names:
        raise CandidError("canister_status: bad status")
    settings = _record(record.get(candid.idl_hash("settings")), "settings")
    controllers = settings.get(candid.idl_hash("controllers"))
    if not isinstance(controllers, list):
        raise CandidError("canister_status: bad controllers")
    module_hash = _opt(record.get(candid.idl_hash("module_hash")))
    return CanisterStatus(
        status=names[variant[0]],
        controllers=tuple(controllers),
        cycles=int(record.get(candid.idl_hash("cycles"), 0)),
        module_hash=module_hash,
        memory_size=int(record.get(candid.idl_hash("memory_size"), 0)),
        compute_allocation=int(settings.get(candid.idl_hash("compute_allocation"), 0)),
        memory_allocation=int(settings.get(candid.idl_hash("memory_allocation"), 0)),
        freezing_threshold=int(settings.get(candid.idl_hash("freezing_threshold"), 0)),
    )
