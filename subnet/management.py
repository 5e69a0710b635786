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
opt nat; memory_allocation : opt nat; freezing_threshold : opt nat }``, and code:

    install_code : (record { mode : canister_install_mode; canister_id : principal;
        wasm_module : blob; arg : blob; sender_canister_version : opt nat64 }) -> ()
    uninstall_code : (record { canister_id : principal; sender_canister_version : opt nat64 }) -> ()
    upload_chunk : (record { canister_id : principal; chunk : blob }) -> (record { hash : blob })
    clear_chunk_store : (record { canister_id : principal }) -> ()
    stored_chunks : (record { canister_id : principal }) -> (vec record { hash : blob })
    install_chunked_code : (record { mode : canister_install_mode; target_canister : principal;
        store_canister : opt principal; chunk_hashes_list : vec record { hash : blob };
        wasm_module_hash : blob; arg : blob; sender_canister_version : opt nat64 }) -> ()

with ``canister_install_mode = variant { install; reinstall; upgrade : opt record {
skip_pre_upgrade : opt bool; wasm_memory_persistence : opt variant { keep; replace } } }``.

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
INSTALL_CODE = "install_code"
UNINSTALL_CODE = "uninstall_code"
UPLOAD_CHUNK = "upload_chunk"
CLEAR_CHUNK_STORE = "clear_chunk_store"
STORED_CHUNKS = "stored_chunks"
INSTALL_CHUNKED_CODE = "install_chunked_code"
CODE_METHODS = (INSTALL_CODE, UNINSTALL_CODE, UPLOAD_CHUNK, CLEAR_CHUNK_STORE, STORED_CHUNKS, INSTALL_CHUNKED_CODE)
INSTALL_MODES = ("install", "reinstall", "upgrade")
PERSISTENCE = ("keep", "replace")

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
UPGRADE_OPTIONS = (
    "record",
    (
        ("skip_pre_upgrade", ("opt", "bool")),
        ("wasm_memory_persistence", ("opt", ("variant", (("keep", "null"), ("replace", "null"))))),
    ),
)
INSTALL_MODE = ("variant", (("install", "null"), ("reinstall", "null"), ("upgrade", ("opt", UPGRADE_OPTIONS))))
INSTALL_CODE_ARGS = (
    "record",
    (
        ("mode", INSTALL_MODE),
        ("canister_id", "principal"),
        ("wasm_module", "blob"),
        ("arg", "blob"),
        ("sender_canister_version", ("opt", "nat64")),
    ),
)
UNINSTALL_CODE_ARGS = ("record", (("canister_id", "principal"), ("sender_canister_version", ("opt", "nat64"))))
UPLOAD_CHUNK_ARGS = ("record", (("canister_id", "principal"), ("chunk", "blob")))
CHUNK_HASH = ("record", (("hash", "blob"),))
INSTALL_CHUNKED_CODE_ARGS = (
    "record",
    (
        ("mode", INSTALL_MODE),
        ("target_canister", "principal"),
        ("store_canister", ("opt", "principal")),
        ("chunk_hashes_list", ("vec", CHUNK_HASH)),
        ("wasm_module_hash", "blob"),
        ("arg", "blob"),
        ("sender_canister_version", ("opt", "nat64")),
    ),
)


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


@dataclass(frozen=True)
class Mode:
    """``canister_install_mode``; the upgrade options are None when absent (IC defaults)."""

    mode: str
    skip_pre_upgrade: bool | None = None
    wasm_memory_persistence: str | None = None

    def __post_init__(self) -> None:
        if self.mode not in INSTALL_MODES:
            raise CandidError(f"unknown install mode {self.mode!r}")
        if self.wasm_memory_persistence not in (None, *PERSISTENCE):
            raise CandidError(f"wasm_memory_persistence must be keep or replace, not {self.wasm_memory_persistence!r}")
        if self.mode != "upgrade" and (self.skip_pre_upgrade is not None or self.wasm_memory_persistence is not None):
            raise CandidError("upgrade options are only valid with mode upgrade")

    def to_candid(self) -> tuple[str, Any]:
        if self.mode != "upgrade":
            return (self.mode, None)
        if self.skip_pre_upgrade is None and self.wasm_memory_persistence is None:
            return ("upgrade", None)
        persistence = None if self.wasm_memory_persistence is None else (self.wasm_memory_persistence, None)
        return ("upgrade", {"skip_pre_upgrade": self.skip_pre_upgrade, "wasm_memory_persistence": persistence})

    @classmethod
    def from_candid(cls, value: Any) -> Mode:
        names = {candid.idl_hash(name): name for name in INSTALL_MODES}
        if not isinstance(value, tuple) or len(value) != 2 or value[0] not in names:
            raise CandidError("mode must be one of install, reinstall, upgrade")
        mode = names[value[0]]
        if mode != "upgrade":
            return cls(mode)
        options = _opt(value[1])
        if options is None:
            return cls(mode)
        record = _record(options, "upgrade options")
        skip = _opt(record.get(candid.idl_hash("skip_pre_upgrade")))
        if skip is not None and not isinstance(skip, bool):
            raise CandidError("skip_pre_upgrade must be a bool")
        persistence = _opt(record.get(candid.idl_hash("wasm_memory_persistence")))
        kinds = {candid.idl_hash(name): name for name in PERSISTENCE}
        if persistence is not None:
            if not isinstance(persistence, tuple) or len(persistence) != 2 or persistence[0] not in kinds:
                raise CandidError("wasm_memory_persistence must be keep or replace")
            persistence = kinds[persistence[0]]
        return cls(mode, skip, persistence)


@dataclass(frozen=True)
class InstallCode:
    """The decoded ``install_code`` (or ``install_chunked_code`` once its chunks are joined)."""

    mode: Mode
    canister_id: Principal
    wasm_module: bytes
    arg: bytes = b""
    sender_canister_version: int | None = None


@dataclass(frozen=True)
class InstallChunkedCode:
    mode: Mode
    target_canister: Principal
    store_canister: Principal | None
    chunk_hashes: tuple[bytes, ...]
    wasm_module_hash: bytes
    arg: bytes = b""
    sender_canister_version: int | None = None


def _principal(record: dict[int, Any], name: str, method: str) -> Principal:
    value = record.get(candid.idl_hash(name))
    if not isinstance(value, Principal):
        raise CandidError(f"{method}: {name} must be a principal")
    return value


def _blob(record: dict[int, Any], name: str, method: str) -> bytes:
    value = record.get(candid.idl_hash(name))
    if isinstance(value, list) and not value:
        value = b""
    if not isinstance(value, (bytes, bytearray)):
        raise CandidError(f"{method}: {name} must be a blob")
    return bytes(value)


def _version(record: dict[int, Any], method: str) -> int | None:
    version = _opt(record.get(candid.idl_hash("sender_canister_version")))
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
        raise CandidError(f"{method}: sender_canister_version must be a nat64")
    return version


def encode_install_code_args(
    mode: Mode, canister_id: Principal, wasm_module: bytes, arg: bytes = b"", sender_canister_version: int | None = None
) -> bytes:
    return candid.encode(
        [INSTALL_CODE_ARGS],
        [
            {
                "mode": mode.to_candid(),
                "canister_id": canister_id,
                "wasm_module": wasm_module,
                "arg": arg,
                "sender_canister_version": sender_canister_version,
            }
        ],
    )


def decode_install_code_args(arg: bytes) -> InstallCode:
    record = _record(_single(arg, INSTALL_CODE), INSTALL_CODE)
    return InstallCode(
        mode=Mode.from_candid(record.get(candid.idl_hash("mode"))),
        canister_id=_principal(record, "canister_id", INSTALL_CODE),
        wasm_module=_blob(record, "wasm_module", INSTALL_CODE),
        arg=_blob(record, "arg", INSTALL_CODE),
        sender_canister_version=_version(record, INSTALL_CODE),
    )


def encode_uninstall_code_args(canister_id: Principal, sender_canister_version: int | None = None) -> bytes:
    return candid.encode([UNINSTALL_CODE_ARGS], [{"canister_id": canister_id, "sender_canister_version": sender_canister_version}])


def decode_uninstall_code_args(arg: bytes) -> Principal:
    record = _record(_single(arg, UNINSTALL_CODE), UNINSTALL_CODE)
    _version(record, UNINSTALL_CODE)
    return _principal(record, "canister_id", UNINSTALL_CODE)


def encode_upload_chunk_args(canister_id: Principal, chunk: bytes) -> bytes:
    return candid.encode([UPLOAD_CHUNK_ARGS], [{"canister_id": canister_id, "chunk": chunk}])


def decode_upload_chunk_args(arg: bytes) -> tuple[Principal, bytes]:
    record = _record(_single(arg, UPLOAD_CHUNK), UPLOAD_CHUNK)
    return _principal(record, "canister_id", UPLOAD_CHUNK), _blob(record, "chunk", UPLOAD_CHUNK)


def encode_chunk_hash_reply(digest: bytes) -> bytes:
    return candid.encode([CHUNK_HASH], [{"hash": digest}])


def decode_chunk_hash_reply(reply: bytes) -> bytes:
    return _blob(_record(_single(reply, UPLOAD_CHUNK), UPLOAD_CHUNK), "hash", UPLOAD_CHUNK)


def encode_stored_chunks_reply(digests: list[bytes]) -> bytes:
    return candid.encode([("vec", CHUNK_HASH)], [[{"hash": digest} for digest in digests]])


def decode_stored_chunks_reply(reply: bytes) -> list[bytes]:
    values = _single(reply, STORED_CHUNKS)
    if not isinstance(values, list):
        raise CandidError(f"{STORED_CHUNKS}: expected a vec")
    return [_blob(_record(item, "chunk hash"), "hash", STORED_CHUNKS) for item in values]


def encode_install_chunked_code_args(
    mode: Mode,
    target_canister: Principal,
    chunk_hashes: list[bytes],
    wasm_module_hash: bytes,
    arg: bytes = b"",
    store_canister: Principal | None = None,
    sender_canister_version: int | None = None,
) -> bytes:
    return candid.encode(
        [INSTALL_CHUNKED_CODE_ARGS],
        [
            {
                "mode": mode.to_candid(),
                "target_canister": target_canister,
                "store_canister": store_canister,
                "chunk_hashes_list": [{"hash": digest} for digest in chunk_hashes],
                "wasm_module_hash": wasm_module_hash,
                "arg": arg,
                "sender_canister_version": sender_canister_version,
            }
        ],
    )


def decode_install_chunked_code_args(arg: bytes) -> InstallChunkedCode:
    method = INSTALL_CHUNKED_CODE
    record = _record(_single(arg, method), method)
    store = _opt(record.get(candid.idl_hash("store_canister")))
    if store is not None and not isinstance(store, Principal):
        raise CandidError(f"{method}: store_canister must be a principal")
    hashes = record.get(candid.idl_hash("chunk_hashes_list"))
    if not isinstance(hashes, list):
        raise CandidError(f"{method}: chunk_hashes_list must be a vec")
    return InstallChunkedCode(
        mode=Mode.from_candid(record.get(candid.idl_hash("mode"))),
        target_canister=_principal(record, "target_canister", method),
        store_canister=store,
        chunk_hashes=tuple(_blob(_record(item, "chunk hash"), "hash", method) for item in hashes),
        wasm_module_hash=_blob(record, "wasm_module_hash", method),
        arg=_blob(record, "arg", method),
        sender_canister_version=_version(record, method),
    )


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
