"""The management canister's interface (``aaaaa-aa``), as both sides need it.

A client encodes the arguments, a replica decodes them and encodes the replies, so the
Candid shapes live here, in the shared vocabulary. They are written once, as ``.did``
text (``IC_DID``: the part of the IC's ``ic.did`` this subnet serves, with the IC's type
names), parsed by ``vocab.candid.parse_did``. Reading the shapes as text keeps them
checkable against the specification line by line.

The codec is a table, not code per method: each record type of ``IC_DID`` has a frozen
dataclass with the record's field names (``RECORDS``, checked at import), and four
functions move any method's values to and from Candid at the types of the service::

    encode_args(STATUS, CanisterIdRecord(canister_id))    decode_args(STATUS, blob)
    encode_reply(STATUS, CanisterStatusResult(...))        decode_reply(STATUS, blob)

``opt T`` is ``T | None``, ``vec T`` a tuple (``blob`` is bytes), and a variant its case's
tag where the case carries no value (``"running"``, ``"install"``) or the dataclass of the
case where it carries a record (``UpgradeFlags``, ``FromUser``, ``CodeDeployment``...).

Decoding follows Candid's subtyping, as the IC's management canister does: fields the
type does not name are skipped (an agent may send a newer ``canister_settings``), a
missing ``opt`` field reads as null, and so does an ``opt`` field whose value does not fit
its type (the specification's rule for ``opt``). A blob that is not Candid, a missing
argument, or a required field that is absent or of the wrong type raises ``CandidError``.

Where this subnet differs from the IC, on purpose:

- ``canister_info`` is callable by ingress here. On the IC only canisters may call it,
  but this subnet performs no inter-canister calls, so no canister could; the
  information it returns (controllers, module hash, history) is public on the IC anyway
  through the certified state tree. Any caller may ask, through consensus.
- ``canister_metadata`` is not an IC method: it is this subnet's stand-in for the
  ``read_state`` path ``/canister/<id>/metadata/<name>``, which reads a module's
  ``icp:public``/``icp:private`` custom section (``candid:service``,
  ``motoko:stable-types``...). Like ``fetch_canister_logs`` (a query-only method on the
  IC) it is answered only on the query fast path.
- ``canister_status``'s reply carries the fields of ``canister_status_result`` this
  subnet tracks, not all of them; ``canister_settings`` reads the settings the execution
  layer implements and skips the others.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from vocab import candid
from vocab.candid import (
    OptType,
    RecordType,
    Some,
    Variant,
    VariantType,
    VarType,
    VecType,
    resolve,
    unwrap_opt,
)
from vocab.errors import CandidError, RejectCode, RejectError
from vocab.principal import CanisterId, Principal

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
CODE_METHODS = (
    INSTALL_CODE,
    UNINSTALL_CODE,
    UPLOAD_CHUNK,
    CLEAR_CHUNK_STORE,
    STORED_CHUNKS,
    INSTALL_CHUNKED_CODE,
)
CANISTER_INFO = "canister_info"
TAKE_SNAPSHOT = "take_canister_snapshot"
LOAD_SNAPSHOT = "load_canister_snapshot"
LIST_SNAPSHOTS = "list_canister_snapshots"
DELETE_SNAPSHOT = "delete_canister_snapshot"
SNAPSHOT_METHODS = (TAKE_SNAPSHOT, LOAD_SNAPSHOT, LIST_SNAPSHOTS, DELETE_SNAPSHOT)
FETCH_LOGS = "fetch_canister_logs"
CANISTER_METADATA = "canister_metadata"
QUERY_METHODS = (FETCH_LOGS, CANISTER_METADATA)
"""The only management methods answered on the query fast path (and only there)."""


def require_query_method(method: str) -> None:
    """Refuse (IC0302) a management method that is not answered as a query."""
    if method not in QUERY_METHODS:
        raise RejectError(
            RejectCode.DESTINATION_INVALID,
            f"Management canister method '{method}' cannot be called as a query: only {' and '.join(QUERY_METHODS)} can.",
            "IC0302",
        )


LOG_VISIBILITIES = ("controllers", "public")
"""The ``log_visibility`` cases this subnet implements (not ``allowed_viewers``)."""

IC_DID = """
type canister_id = principal;
type wasm_module = blob;
type snapshot_id = blob;

type log_visibility = variant {
    controllers;
    public;
    allowed_viewers : vec principal;
};

type canister_settings = record {
    controllers : opt vec principal;
    compute_allocation : opt nat;
    memory_allocation : opt nat;
    freezing_threshold : opt nat;
    log_visibility : opt log_visibility;
};

type definite_canister_settings = record {
    controllers : vec principal;
    compute_allocation : nat;
    memory_allocation : nat;
    freezing_threshold : nat;
    reserved_cycles_limit : nat;
    wasm_memory_limit : nat;
};

type change_origin = variant {
    from_user : record {
        user_id : principal;
    };
    from_canister : record {
        canister_id : principal;
        canister_version : opt nat64;
    };
};

type change_details = variant {
    creation : record {
        controllers : vec principal;
        environment_variables_hash : opt blob;
    };
    code_uninstall;
    code_deployment : record {
        mode : variant { install; reinstall; upgrade };
        module_hash : blob;
    };
    load_snapshot : record {
        canister_version : nat64;
        snapshot_id : snapshot_id;
        taken_at_timestamp : nat64;
        source : variant {
            taken_from_canister : reserved;
            metadata_upload : reserved;
        };
    };
    controllers_change : record {
        controllers : vec principal;
    };
};

type change = record {
    timestamp_nanos : nat64;
    canister_version : nat64;
    origin : change_origin;
    details : change_details;
};

type chunk_hash = record {
    hash : blob;
};

type canister_install_mode = variant {
    install;
    reinstall;
    upgrade : opt record {
        skip_pre_upgrade : opt bool;
        wasm_memory_persistence : opt variant {
            keep;
            replace;
        };
    };
};

type canister_id_record = record {
    canister_id : canister_id;
};

type provisional_create_canister_with_cycles_result = record {
    canister_id : canister_id;
};

type provisional_create_canister_with_cycles_args = record {
    amount : opt nat;
    settings : opt canister_settings;
    specified_id : opt canister_id;
    sender_canister_version : opt nat64;
};

type update_settings_args = record {
    canister_id : principal;
    settings : canister_settings;
    sender_canister_version : opt nat64;
};

type canister_status_result = record {
    status : variant { running; stopping; stopped };
    settings : definite_canister_settings;
    module_hash : opt blob;
    memory_size : nat;
    cycles : nat;
    reserved_cycles : nat;
    idle_cycles_burned_per_day : nat;
};

type install_code_args = record {
    mode : canister_install_mode;
    canister_id : canister_id;
    wasm_module : wasm_module;
    arg : blob;
    sender_canister_version : opt nat64;
};

type install_chunked_code_args = record {
    mode : canister_install_mode;
    target_canister : canister_id;
    store_canister : opt canister_id;
    chunk_hashes_list : vec chunk_hash;
    wasm_module_hash : blob;
    arg : blob;
    sender_canister_version : opt nat64;
};

type uninstall_code_args = record {
    canister_id : canister_id;
    sender_canister_version : opt nat64;
};

type upload_chunk_args = record {
    canister_id : principal;
    chunk : blob;
};

type canister_info_args = record {
    canister_id : canister_id;
    num_requested_changes : opt nat64;
};

type canister_info_result = record {
    total_num_changes : nat64;
    recent_changes : vec change;
    module_hash : opt blob;
    controllers : vec principal;
};

type snapshot = record {
    id : snapshot_id;
    taken_at_timestamp : nat64;
    total_size : nat64;
};

type take_canister_snapshot_args = record {
    canister_id : canister_id;
    replace_snapshot : opt snapshot_id;
};

type load_canister_snapshot_args = record {
    canister_id : canister_id;
    snapshot_id : snapshot_id;
    sender_canister_version : opt nat64;
};

type delete_canister_snapshot_args = record {
    canister_id : canister_id;
    snapshot_id : snapshot_id;
};

type canister_log_record = record {
    idx : nat64;
    timestamp_nanos : nat64;
    content : blob;
};

type fetch_canister_logs_result = record {
    canister_log_records : vec canister_log_record;
};

type canister_metadata_args = record {
    canister_id : canister_id;
    name : text;
};

type canister_metadata_result = record {
    value : blob;
};

service ic : {
    provisional_create_canister_with_cycles : (provisional_create_canister_with_cycles_args)
        -> (provisional_create_canister_with_cycles_result);
    canister_status : (canister_id_record) -> (canister_status_result);
    stop_canister : (canister_id_record) -> ();
    start_canister : (canister_id_record) -> ();
    delete_canister : (canister_id_record) -> ();
    update_settings : (update_settings_args) -> ();
    install_code : (install_code_args) -> ();
    uninstall_code : (uninstall_code_args) -> ();
    upload_chunk : (upload_chunk_args) -> (chunk_hash);
    clear_chunk_store : (canister_id_record) -> ();
    stored_chunks : (canister_id_record) -> (vec chunk_hash);
    install_chunked_code : (install_chunked_code_args) -> ();
    canister_info : (canister_info_args) -> (canister_info_result);
    take_canister_snapshot : (take_canister_snapshot_args) -> (snapshot);
    load_canister_snapshot : (load_canister_snapshot_args) -> ();
    list_canister_snapshots : (canister_id_record) -> (vec snapshot);
    delete_canister_snapshot : (delete_canister_snapshot_args) -> ();
    fetch_canister_logs : (canister_id_record) -> (fetch_canister_logs_result) query;
    // Not an IC method: this subnet's stand-in for read_state /canister/<id>/metadata/<name>.
    canister_metadata : (canister_metadata_args) -> (canister_metadata_result) query;
};
"""

SERVICE = candid.parse_did(IC_DID)
"""``IC_DID`` parsed: ``SERVICE.method(name)`` gives a method's argument and result types."""


# -- the values: one frozen dataclass per Candid record --------------------------------------
#
# Field names are the Candid field names; ``opt T`` is ``T | None``; ``vec T`` a tuple
# (``blob`` is bytes); a variant is its tag (a ``str``) where the case carries no value, or
# the dataclass of the case where it carries a record (``RECORDS`` and ``CASES`` say which).


@dataclass(frozen=True)
class CanisterIdRecord:
    """``canister_id_record``: the argument of status, stop, start, delete, the chunk
    store's clear and list, list_canister_snapshots and fetch_canister_logs; also the
    reply of provisional_create_canister_with_cycles."""

    canister_id: Principal


@dataclass(frozen=True)
class Settings:
    """``canister_settings``: a field left None is not changed (or takes its default)."""

    controllers: tuple[Principal, ...] | None = None
    compute_allocation: int | None = None
    memory_allocation: int | None = None
    freezing_threshold: int | None = None
    log_visibility: str | None = None

    def __post_init__(self) -> None:
        if self.log_visibility not in (None, *LOG_VISIBILITIES):
            case = (
                self.log_visibility.tag if isinstance(self.log_visibility, Variant) else self.log_visibility
            )
            raise CandidError(
                f"log_visibility {case} is not supported on this subnet (use {' or '.join(LOG_VISIBILITIES)})"
            )


@dataclass(frozen=True)
class DefiniteSettings:
    """``definite_canister_settings``: the settings as they are, in a status reply."""

    controllers: tuple[Principal, ...]
    compute_allocation: int
    memory_allocation: int
    freezing_threshold: int
    reserved_cycles_limit: int
    wasm_memory_limit: int


@dataclass(frozen=True)
class CreateCanisterArgs:
    """``provisional_create_canister_with_cycles_args``."""

    amount: int | None = None
    settings: Settings | None = None
    specified_id: Principal | None = None
    sender_canister_version: int | None = None


@dataclass(frozen=True)
class UpdateSettingsArgs:
    canister_id: Principal
    settings: Settings
    sender_canister_version: int | None = None


@dataclass(frozen=True)
class CanisterStatusResult:
    """``canister_status_result``, with the fields this subnet tracks; ``status`` is
    ``running``, ``stopping`` or ``stopped``."""

    status: str
    settings: DefiniteSettings
    module_hash: bytes | None
    memory_size: int
    cycles: int
    reserved_cycles: int = 0
    idle_cycles_burned_per_day: int = 0


@dataclass(frozen=True)
class UpgradeFlags:
    """The options of ``canister_install_mode``'s ``upgrade`` case (None: the IC's default).

    An install mode is ``"install"``, ``"reinstall"``, ``"upgrade"`` (no options) or an
    ``UpgradeFlags`` (an upgrade with options); ``wasm_memory_persistence`` is ``keep`` or
    ``replace``."""

    skip_pre_upgrade: bool | None = None
    wasm_memory_persistence: str | None = None


CanisterInstallMode = str | UpgradeFlags
"""``canister_install_mode``: a case's tag, or the upgrade case with its options."""


@dataclass(frozen=True)
class InstallCodeArgs:
    mode: CanisterInstallMode
    canister_id: Principal
    wasm_module: bytes
    arg: bytes = b""
    sender_canister_version: int | None = None


@dataclass(frozen=True)
class ChunkHash:
    """``chunk_hash``: the SHA-256 of a chunk in a canister's chunk store."""

    hash: bytes


@dataclass(frozen=True)
class InstallChunkedCodeArgs:
    mode: CanisterInstallMode
    target_canister: Principal
    chunk_hashes_list: tuple[ChunkHash, ...]
    wasm_module_hash: bytes
    arg: bytes = b""
    store_canister: Principal | None = None
    sender_canister_version: int | None = None


@dataclass(frozen=True)
class UninstallCodeArgs:
    canister_id: Principal
    sender_canister_version: int | None = None


@dataclass(frozen=True)
class UploadChunkArgs:
    canister_id: Principal
    chunk: bytes


# -- canister_info ----------------------------------------------------------------------------


@dataclass(frozen=True)
class FromUser:
    """``change_origin``'s ``from_user``: a user made the change."""

    user_id: Principal

    @property
    def principal(self) -> Principal:
        """Who made the change."""
        return self.user_id


@dataclass(frozen=True)
class FromCanister:
    """``change_origin``'s ``from_canister``: a canister (at a version, if known) made it."""

    canister_id: Principal
    canister_version: int | None = None

    @property
    def principal(self) -> Principal:
        """Who made the change."""
        return self.canister_id


ChangeOrigin = FromUser | FromCanister


def change_origin(principal: Principal) -> ChangeOrigin:
    """The origin of a change made by ``principal``: a canister if it is a canister id."""
    try:
        CanisterId.from_principal(principal)
    except ValueError:
        return FromUser(principal)
    return FromCanister(principal)


@dataclass(frozen=True)
class Creation:
    controllers: tuple[Principal, ...]
    environment_variables_hash: bytes | None = None


@dataclass(frozen=True)
class CodeDeployment:
    """``mode`` is ``install``, ``reinstall`` or ``upgrade``."""

    mode: str
    module_hash: bytes


@dataclass(frozen=True)
class LoadSnapshot:
    """``source`` is ``taken_from_canister`` or ``metadata_upload``."""

    canister_version: int
    snapshot_id: bytes
    taken_at_timestamp: int
    source: str = "taken_from_canister"


@dataclass(frozen=True)
class ControllersChange:
    controllers: tuple[Principal, ...]


ChangeDetails = str | Creation | CodeDeployment | LoadSnapshot | ControllersChange
"""``change_details``: ``"code_uninstall"`` or the record of the other cases."""


@dataclass(frozen=True)
class Change:
    """``change``: one entry of a canister's history, as ``canister_info`` reports it."""

    timestamp_nanos: int
    canister_version: int
    origin: ChangeOrigin
    details: ChangeDetails

    @property
    def kind(self) -> str:
        """The ``change_details`` case: ``creation``, ``code_uninstall``, ``code_deployment``,
        ``load_snapshot`` or ``controllers_change``."""
        if isinstance(self.details, str):
            return self.details
        return _CASE_TAGS[("change_details", type(self.details))]


@dataclass(frozen=True)
class CanisterInfoArgs:
    canister_id: Principal
    num_requested_changes: int | None = None


@dataclass(frozen=True)
class CanisterInfoResult:
    """``canister_info_result``: the total number of changes, the most recent ones
    (oldest first), the module hash and the controllers."""

    total_num_changes: int
    recent_changes: tuple[Change, ...]
    module_hash: bytes | None
    controllers: tuple[Principal, ...]


# -- snapshots --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    """``snapshot``: a snapshot's id, when it was taken, and its size in bytes."""

    id: bytes
    taken_at_timestamp: int
    total_size: int


@dataclass(frozen=True)
class TakeCanisterSnapshotArgs:
    canister_id: Principal
    replace_snapshot: bytes | None = None


@dataclass(frozen=True)
class LoadCanisterSnapshotArgs:
    canister_id: Principal
    snapshot_id: bytes
    sender_canister_version: int | None = None


@dataclass(frozen=True)
class DeleteCanisterSnapshotArgs:
    canister_id: Principal
    snapshot_id: bytes


# -- logs and metadata (query fast path only) -------------------------------------------------


@dataclass(frozen=True)
class CanisterLogRecord:
    """``canister_log_record``: a canister's ``debug_print`` (or trap message) output."""

    idx: int
    timestamp_nanos: int
    content: bytes


@dataclass(frozen=True)
class FetchCanisterLogsResult:
    canister_log_records: tuple[CanisterLogRecord, ...]


@dataclass(frozen=True)
class CanisterMetadataArgs:
    canister_id: Principal
    name: str


@dataclass(frozen=True)
class CanisterMetadataResult:
    value: bytes


# -- the table ----------------------------------------------------------------------------------

RECORDS: dict[str, type] = {
    "canister_id_record": CanisterIdRecord,
    "provisional_create_canister_with_cycles_result": CanisterIdRecord,
    "canister_settings": Settings,
    "definite_canister_settings": DefiniteSettings,
    "provisional_create_canister_with_cycles_args": CreateCanisterArgs,
    "update_settings_args": UpdateSettingsArgs,
    "canister_status_result": CanisterStatusResult,
    "install_code_args": InstallCodeArgs,
    "chunk_hash": ChunkHash,
    "install_chunked_code_args": InstallChunkedCodeArgs,
    "uninstall_code_args": UninstallCodeArgs,
    "upload_chunk_args": UploadChunkArgs,
    "change": Change,
    "canister_info_args": CanisterInfoArgs,
    "canister_info_result": CanisterInfoResult,
    "snapshot": Snapshot,
    "take_canister_snapshot_args": TakeCanisterSnapshotArgs,
    "load_canister_snapshot_args": LoadCanisterSnapshotArgs,
    "delete_canister_snapshot_args": DeleteCanisterSnapshotArgs,
    "canister_log_record": CanisterLogRecord,
    "fetch_canister_logs_result": FetchCanisterLogsResult,
    "canister_metadata_args": CanisterMetadataArgs,
    "canister_metadata_result": CanisterMetadataResult,
}
"""The dataclass of each named record type of ``IC_DID``."""

CASES: dict[tuple[str, str], type] = {
    ("canister_install_mode", "upgrade"): UpgradeFlags,
    ("change_origin", "from_user"): FromUser,
    ("change_origin", "from_canister"): FromCanister,
    ("change_details", "creation"): Creation,
    ("change_details", "code_deployment"): CodeDeployment,
    ("change_details", "load_snapshot"): LoadSnapshot,
    ("change_details", "controllers_change"): ControllersChange,
}
"""The dataclass of each (named variant type, case) whose value is a record."""

_CASE_TAGS: dict[tuple[str, type], str] = {(variant, cls): case for (variant, case), cls in CASES.items()}

Case = tuple[str, str] | None
"""The (variant type, case) a record is the value of, if it is one."""


def _name(item: candid.Field) -> str:
    assert item.name is not None, "every field of IC_DID has a name"
    return item.name


def _record_class(name: str | None, case: Case, t: candid.Type) -> type:
    cls = RECORDS.get(name) if name is not None else None
    if cls is None and case is not None:
        cls = CASES.get(case)
    assert cls is not None, f"vocab.management has no dataclass for {name or case or t}"
    return cls


def _to_python(value: Any, t: candid.Type, case: Case = None) -> Any:
    """A value as ``vocab.candid`` decodes it at ``t``, as this module's dataclasses."""
    name = t.name if isinstance(t, VarType) else None
    t = resolve(t)
    if isinstance(t, OptType):
        return None if value is None else _to_python(unwrap_opt(value), t.inner, case)
    if isinstance(t, VecType):
        return value if isinstance(value, bytes) else tuple(_to_python(item, t.inner) for item in value)
    if isinstance(t, RecordType):
        cls = _record_class(name, case, t)
        return cls(**{_name(item): _to_python(value[item.key], item.type) for item in t.fields})
    if isinstance(t, VariantType):
        tag, payload = value.tag, value.value
        if payload is None:
            return tag
        field = t.field(tag)
        assert field is not None
        if name is not None and (name, tag) in CASES:
            return _to_python(payload, field.type, (name, tag))
        return Variant(tag, _to_python(payload, field.type))
    return value


def _to_candid(value: Any, t: candid.Type, case: Case = None) -> Any:
    """This module's dataclasses as the value ``vocab.candid`` encodes at ``t``."""
    name = t.name if isinstance(t, VarType) else None
    t = resolve(t)
    if isinstance(t, OptType):
        return None if value is None else Some(_to_candid(value, t.inner, case))
    if isinstance(t, VecType):
        if isinstance(value, (bytes, bytearray)):
            return value
        if not isinstance(value, (tuple, list)):
            raise CandidError(f"{t} takes a tuple, not {type(value).__name__}")
        return [_to_candid(item, t.inner) for item in value]
    if isinstance(t, RecordType):
        cls = _record_class(name, case, t)
        if not isinstance(value, cls):
            raise CandidError(f"{name or t} takes a {cls.__name__}, not {type(value).__name__}")
        return {item.key: _to_candid(getattr(value, _name(item)), item.type) for item in t.fields}
    if isinstance(t, VariantType):
        if isinstance(value, str):
            return Variant(value)
        if isinstance(value, Variant):
            field = t.field(value.tag)
            return Variant(value.tag, value.value if field is None else _to_candid(value.value, field.type))
        tag = _CASE_TAGS.get((name, type(value))) if name is not None else None
        if name is None or tag is None:
            raise CandidError(f"{name or t} has no case for a {type(value).__name__}")
        field = t.field(tag)
        assert field is not None
        return Variant(tag, _to_candid(value, field.type, (name, tag)))
    return value


def _check_table() -> None:
    """Every record of ``IC_DID`` has its dataclass, with the record's fields as its fields."""
    for name, t in SERVICE.types.items():
        target = resolve(t)
        if isinstance(target, RecordType):
            _check_fields(RECORDS[name], target, name)
    for (variant, case), cls in CASES.items():
        target = resolve(SERVICE.lookup(variant))
        assert isinstance(target, VariantType), variant
        found = target.field(case)
        assert found is not None, (variant, case)
        payload = resolve(found.type)
        if isinstance(payload, OptType):
            payload = resolve(payload.inner)
        assert isinstance(payload, RecordType), (variant, case)
        _check_fields(cls, payload, f"{variant}.{case}")
    for method, signature in SERVICE.methods.items():
        assert len(signature.args) == 1 and len(signature.results) <= 1, method
        for value_type in (*signature.args, *signature.results):
            _check_reachable(value_type, None)


def _check_reachable(t: candid.Type, case: Case) -> None:
    """Every record a method's values may hold has its dataclass (``_record_class``)."""
    name = t.name if isinstance(t, VarType) else None
    t = resolve(t)
    if isinstance(t, (OptType, VecType)):
        _check_reachable(t.inner, case)
    elif isinstance(t, RecordType):
        _record_class(name, case, t)
        for item in t.fields:
            _check_reachable(item.type, None)
    elif isinstance(t, VariantType):
        for item in t.fields:
            _check_reachable(item.type, None if name is None else (name, _name(item)))


def _check_fields(cls: type, t: RecordType, what: str) -> None:
    names = {item.name for item in fields(cls)}
    expected = {_name(item) for item in t.fields}
    assert names == expected, f"{cls.__name__} has fields {sorted(names)}; {what} has {sorted(expected)}"


_check_table()


# -- the codec ----------------------------------------------------------------------------------


def _decode(blob: bytes, types: tuple[candid.Type, ...], what: str) -> Any:
    """Decode at ``types`` as dataclasses (None for no value); errors name ``what``."""
    if not isinstance(blob, (bytes, bytearray)):
        raise CandidError(f"{what}: expected Candid bytes, not {type(blob).__name__}")
    try:
        values = candid.decode(bytes(blob), list(types))
        return _to_python(values[0], types[0]) if types else None
    except CandidError as exc:
        raise CandidError(f"{what}: {exc}") from exc


def _encode(value: Any, types: tuple[candid.Type, ...], what: str) -> bytes:
    if not types:
        if value is not None:
            raise CandidError(f"{what} carries no value, not a {type(value).__name__}")
        return candid.encode([], [])
    try:
        return candid.encode([_to_candid(value, types[0])], list(types))
    except CandidError as exc:
        raise CandidError(f"{what}: {exc}") from exc


_MEMO_LIMIT = 1024
"""Entries of each codec memo below; beyond it the oldest goes."""
_MEMO_MAX_BYTES = 1024
"""Only small blobs are remembered (a status call's argument, not a Wasm module)."""
_DECODED: dict[tuple[str, bytes], Any] = {}
"""Arguments decoded lately, by method and bytes: the values are frozen dataclasses (vecs as
tuples), so equal bytes may share one. A replica decodes the same small argument for every
status or settings call naming a canister (a Candid parse per call otherwise)."""
_ENCODED: dict[tuple[str, Any], bytes] = {}
"""Replies encoded lately, by method and value (frozen dataclasses compare by their fields,
and Candid's bytes are a function of the value at the method's types)."""


def _remember(memo: dict[Any, Any], key: Any, value: Any) -> None:
    if len(memo) >= _MEMO_LIMIT:
        memo.pop(next(iter(memo)))
    memo[key] = value


def encode_args(method: str, value: Any) -> bytes:
    """``method``'s argument (its dataclass, e.g. ``CanisterIdRecord(id)``) as Candid."""
    return _encode(value, SERVICE.method(method).args, method)


def decode_args(method: str, blob: bytes) -> Any:
    """``method``'s argument as its dataclass, read with Candid's subtyping; small
    arguments decoded lately are remembered (``_DECODED``)."""
    if type(blob) is not bytes or len(blob) > _MEMO_MAX_BYTES:
        return _decode(blob, SERVICE.method(method).args, method)
    key = (method, blob)
    found = _DECODED.get(key, _DECODED)
    if found is _DECODED:
        found = _decode(blob, SERVICE.method(method).args, method)
        _remember(_DECODED, key, found)
    return found


def encode_reply(method: str, value: Any = None) -> bytes:
    """``method``'s reply as Candid (``None`` for the methods that reply with nothing);
    replies encoded lately are remembered by value (``_ENCODED``)."""
    key = (method, value)
    try:
        found = _ENCODED.get(key)
    except TypeError:  # a value holding something unhashable: encoded every time
        return _encode(value, SERVICE.method(method).results, f"the reply of {method}")
    if found is None:
        found = _encode(value, SERVICE.method(method).results, f"the reply of {method}")
        if len(found) <= _MEMO_MAX_BYTES:
            _remember(_ENCODED, key, found)
    return found


def decode_reply(method: str, blob: bytes) -> Any:
    """``method``'s reply as its dataclass (a tuple for a vec, ``None`` for no value)."""
    return _decode(blob, SERVICE.method(method).results, f"the reply of {method}")
