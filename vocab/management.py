"""The management canister's interface (``aaaaa-aa``), as both sides need it.

A client encodes the arguments, a replica decodes them and encodes the replies, so the
Candid shapes live here, in the shared vocabulary. They are written once, as ``.did``
text (``IC_DID``: the part of the IC's ``ic.did`` this subnet serves, with the IC's type
names), parsed by ``vocab.candid.parse_did``, and every codec below encodes and decodes
at the types of that service's methods. Reading the shapes as text keeps them checkable
against the specification line by line.

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

from dataclasses import dataclass
from typing import Any

from vocab import candid
from vocab.candid import Some, Variant, unwrap_opt
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


INSTALL_MODES = ("install", "reinstall", "upgrade")
PERSISTENCE = ("keep", "replace")
STATUSES = ("running", "stopping", "stopped")
LOG_VISIBILITIES = ("controllers", "public")
"""The ``log_visibility`` cases this subnet implements (not ``allowed_viewers``)."""
CHANGE_KINDS = ("creation", "code_uninstall", "code_deployment", "load_snapshot", "controllers_change")
ORIGIN_KINDS = ("from_user", "from_canister")

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
        -> (record { canister_id : canister_id });
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

CANISTER_ID_RECORD = SERVICE.lookup("canister_id_record")
CANISTER_SETTINGS = SERVICE.lookup("canister_settings")
INSTALL_MODE = SERVICE.lookup("canister_install_mode")


def _args_types(method: str) -> list[candid.Type]:
    return list(SERVICE.method(method).args)


def _result_types(method: str) -> list[candid.Type]:
    return list(SERVICE.method(method).results)


def _decode(blob: bytes, types: list[candid.Type], what: str) -> list[Any]:
    """Decode at ``types``; the error names the method (or reply) it was for."""
    if not isinstance(blob, (bytes, bytearray)):
        raise CandidError(f"{what}: expected Candid bytes, not {type(blob).__name__}")
    try:
        return candid.decode(bytes(blob), types)
    except CandidError as exc:
        raise CandidError(f"{what}: {exc}") from exc


def _argument(arg: bytes, method: str) -> dict[str, Any]:
    """The single record argument of ``method``, decoded at its ic.did type."""
    return _decode(arg, _args_types(method), method)[0]


def _reply(reply: bytes, method: str) -> Any:
    return _decode(reply, _result_types(method), f"the reply of {method}")[0]


def _encode_args(method: str, value: Any) -> bytes:
    return candid.encode([value], _args_types(method))


def _encode_reply(method: str, *values: Any) -> bytes:
    return candid.encode(list(values), _result_types(method))


def _tag(value: Any, choices: tuple[str, ...], what: str) -> str:
    """The case name of a decoded variant, checked against the cases this module knows."""
    if not isinstance(value, Variant) or value.tag not in choices:
        raise CandidError(f"{what} must be one of {', '.join(choices)}")
    return str(value.tag)


# -- settings and status ------------------------------------------------------------------


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
            raise CandidError(
                f"log_visibility must be one of {', '.join(LOG_VISIBILITIES)}, not {self.log_visibility!r}"
            )

    def to_candid(self) -> dict[str, Any]:
        return {
            "controllers": None if self.controllers is None else list(self.controllers),
            "compute_allocation": self.compute_allocation,
            "memory_allocation": self.memory_allocation,
            "freezing_threshold": self.freezing_threshold,
            "log_visibility": None if self.log_visibility is None else Variant(self.log_visibility),
        }

    @classmethod
    def from_candid(cls, value: dict[str, Any]) -> Settings:
        """From a ``canister_settings`` record as ``vocab.candid`` decodes it."""
        controllers = unwrap_opt(value.get("controllers"))
        visibility = unwrap_opt(value.get("log_visibility"))
        if isinstance(visibility, Variant) and visibility.tag == "allowed_viewers":
            raise CandidError(
                "settings.log_visibility: allowed_viewers is not supported on this subnet (use controllers or public)"
            )
        return cls(
            controllers=None if controllers is None else tuple(controllers),
            compute_allocation=unwrap_opt(value.get("compute_allocation")),
            memory_allocation=unwrap_opt(value.get("memory_allocation")),
            freezing_threshold=unwrap_opt(value.get("freezing_threshold")),
            log_visibility=None
            if visibility is None
            else _tag(visibility, LOG_VISIBILITIES, "settings.log_visibility"),
        )


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


# -- arguments (client side encodes, replica decodes) -------------------------------------


def encode_create_args(
    amount: int | None = None, settings: Settings | None = None, specified_id: Principal | None = None
) -> bytes:
    return _encode_args(
        CREATE,
        {
            "amount": amount,
            "settings": None if settings is None else settings.to_candid(),
            "specified_id": specified_id,
        },
    )


def decode_create_args(arg: bytes) -> tuple[int | None, Settings | None, Principal | None]:
    record = _argument(arg, CREATE)
    settings = unwrap_opt(record["settings"])
    return (
        unwrap_opt(record["amount"]),
        None if settings is None else Settings.from_candid(settings),
        unwrap_opt(record["specified_id"]),
    )


def encode_canister_id_args(canister_id: Principal) -> bytes:
    """``record { canister_id }``: the argument of status, stop, start, delete, the chunk
    store's clear and list, list_canister_snapshots and fetch_canister_logs."""
    return candid.encode([{"canister_id": canister_id}], [CANISTER_ID_RECORD])


def decode_canister_id_args(arg: bytes, method: str = "argument") -> Principal:
    """The ``canister_id`` of any record argument that has one (other fields skipped)."""
    return _decode(arg, [CANISTER_ID_RECORD], method)[0]["canister_id"]


def encode_update_settings_args(canister_id: Principal, settings: Settings) -> bytes:
    return _encode_args(UPDATE_SETTINGS, {"canister_id": canister_id, "settings": settings.to_candid()})


def decode_update_settings_args(arg: bytes) -> tuple[Principal, Settings]:
    record = _argument(arg, UPDATE_SETTINGS)
    return record["canister_id"], Settings.from_candid(record["settings"])


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
            raise CandidError(
                f"wasm_memory_persistence must be keep or replace, not {self.wasm_memory_persistence!r}"
            )
        if self.mode != "upgrade" and (
            self.skip_pre_upgrade is not None or self.wasm_memory_persistence is not None
        ):
            raise CandidError("upgrade options are only valid with mode upgrade")

    def to_candid(self) -> Variant:
        if self.mode != "upgrade":
            return Variant(self.mode)
        if self.skip_pre_upgrade is None and self.wasm_memory_persistence is None:
            return Variant("upgrade", None)
        persistence = None if self.wasm_memory_persistence is None else Variant(self.wasm_memory_persistence)
        return Variant(
            "upgrade",
            Some({"skip_pre_upgrade": self.skip_pre_upgrade, "wasm_memory_persistence": persistence}),
        )

    @classmethod
    def from_candid(cls, value: Any) -> Mode:
        """From a ``canister_install_mode`` variant as ``vocab.candid`` decodes it."""
        mode = _tag(value, INSTALL_MODES, "mode")
        options = unwrap_opt(value.value) if mode == "upgrade" else None
        if options is None:
            return cls(mode)
        persistence = unwrap_opt(options.get("wasm_memory_persistence"))
        return cls(
            mode,
            unwrap_opt(options.get("skip_pre_upgrade")),
            None if persistence is None else _tag(persistence, PERSISTENCE, "wasm_memory_persistence"),
        )


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


def encode_install_code_args(
    mode: Mode,
    canister_id: Principal,
    wasm_module: bytes,
    arg: bytes = b"",
    sender_canister_version: int | None = None,
) -> bytes:
    return _encode_args(
        INSTALL_CODE,
        {
            "mode": mode.to_candid(),
            "canister_id": canister_id,
            "wasm_module": wasm_module,
            "arg": arg,
            "sender_canister_version": sender_canister_version,
        },
    )


def decode_install_code_args(arg: bytes) -> InstallCode:
    record = _argument(arg, INSTALL_CODE)
    return InstallCode(
        mode=Mode.from_candid(record["mode"]),
        canister_id=record["canister_id"],
        wasm_module=record["wasm_module"],
        arg=record["arg"],
        sender_canister_version=unwrap_opt(record["sender_canister_version"]),
    )


def encode_uninstall_code_args(canister_id: Principal, sender_canister_version: int | None = None) -> bytes:
    return _encode_args(
        UNINSTALL_CODE, {"canister_id": canister_id, "sender_canister_version": sender_canister_version}
    )


def decode_uninstall_code_args(arg: bytes) -> Principal:
    return _argument(arg, UNINSTALL_CODE)["canister_id"]


def encode_upload_chunk_args(canister_id: Principal, chunk: bytes) -> bytes:
    return _encode_args(UPLOAD_CHUNK, {"canister_id": canister_id, "chunk": chunk})


def decode_upload_chunk_args(arg: bytes) -> tuple[Principal, bytes]:
    record = _argument(arg, UPLOAD_CHUNK)
    return record["canister_id"], record["chunk"]


def encode_chunk_hash_reply(digest: bytes) -> bytes:
    return _encode_reply(UPLOAD_CHUNK, {"hash": digest})


def decode_chunk_hash_reply(reply: bytes) -> bytes:
    return _reply(reply, UPLOAD_CHUNK)["hash"]


def encode_stored_chunks_reply(digests: list[bytes]) -> bytes:
    return _encode_reply(STORED_CHUNKS, [{"hash": digest} for digest in digests])


def decode_stored_chunks_reply(reply: bytes) -> list[bytes]:
    return [item["hash"] for item in _reply(reply, STORED_CHUNKS)]


def encode_install_chunked_code_args(
    mode: Mode,
    target_canister: Principal,
    chunk_hashes: list[bytes],
    wasm_module_hash: bytes,
    arg: bytes = b"",
    store_canister: Principal | None = None,
    sender_canister_version: int | None = None,
) -> bytes:
    return _encode_args(
        INSTALL_CHUNKED_CODE,
        {
            "mode": mode.to_candid(),
            "target_canister": target_canister,
            "store_canister": store_canister,
            "chunk_hashes_list": [{"hash": digest} for digest in chunk_hashes],
            "wasm_module_hash": wasm_module_hash,
            "arg": arg,
            "sender_canister_version": sender_canister_version,
        },
    )


def decode_install_chunked_code_args(arg: bytes) -> InstallChunkedCode:
    record = _argument(arg, INSTALL_CHUNKED_CODE)
    return InstallChunkedCode(
        mode=Mode.from_candid(record["mode"]),
        target_canister=record["target_canister"],
        store_canister=unwrap_opt(record["store_canister"]),
        chunk_hashes=tuple(item["hash"] for item in record["chunk_hashes_list"]),
        wasm_module_hash=record["wasm_module_hash"],
        arg=record["arg"],
        sender_canister_version=unwrap_opt(record["sender_canister_version"]),
    )


# -- replies (replica encodes, client decodes) --------------------------------------------


def encode_empty() -> bytes:
    return candid.encode([], [])


def encode_create_reply(canister_id: Principal) -> bytes:
    return _encode_reply(CREATE, {"canister_id": canister_id})


def decode_create_reply(reply: bytes) -> Principal:
    return _reply(reply, CREATE)["canister_id"]


def encode_status_reply(status: CanisterStatus) -> bytes:
    return _encode_reply(
        STATUS,
        {
            "status": Variant(status.status),
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
        },
    )


def decode_status_reply(reply: bytes) -> CanisterStatus:
    record = _reply(reply, STATUS)
    settings = record["settings"]
    return CanisterStatus(
        status=_tag(record["status"], STATUSES, "canister_status: status"),
        controllers=tuple(settings["controllers"]),
        cycles=record["cycles"],
        module_hash=unwrap_opt(record["module_hash"]),
        memory_size=record["memory_size"],
        compute_allocation=settings["compute_allocation"],
        memory_allocation=settings["memory_allocation"],
        freezing_threshold=settings["freezing_threshold"],
    )


# -- canister_info --------------------------------------------------------------------------


@dataclass(frozen=True)
class CanisterChange:
    """One entry of a canister's history (``change`` in ic.did), flattened.

    ``kind`` is the ``change_details`` case; ``controllers`` belongs to ``creation`` and
    ``controllers_change``, ``mode`` and ``module_hash`` to ``code_deployment``, the
    ``snapshot_*`` fields and ``taken_at_timestamp`` to ``load_snapshot``. ``origin`` is
    the user (``origin_kind`` ``from_user``) or canister (``from_canister``, with its
    version if known) that made the change.
    """

    timestamp_nanos: int
    canister_version: int
    origin: Principal
    kind: str
    origin_kind: str = "from_user"
    origin_canister_version: int | None = None
    controllers: tuple[Principal, ...] = ()
    mode: str | None = None
    module_hash: bytes | None = None
    snapshot_id: bytes | None = None
    taken_at_timestamp: int | None = None
    snapshot_canister_version: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in CHANGE_KINDS:
            raise CandidError(f"unknown change kind {self.kind!r}")
        if self.origin_kind not in ORIGIN_KINDS:
            raise CandidError(f"unknown change origin {self.origin_kind!r}")
        if self.kind == "code_deployment" and (self.mode not in INSTALL_MODES or self.module_hash is None):
            raise CandidError(
                "a code_deployment change needs a mode (install, reinstall or upgrade) and a module hash"
            )
        if self.kind == "load_snapshot" and (
            self.snapshot_id is None
            or self.taken_at_timestamp is None
            or self.snapshot_canister_version is None
        ):
            raise CandidError(
                "a load_snapshot change needs the snapshot id, its time and its canister version"
            )

    @staticmethod
    def origin_kind_of(principal: Principal) -> str:
        """``from_canister`` for a canister id, else ``from_user``."""
        try:
            CanisterId.from_principal(principal)
        except ValueError:
            return "from_user"
        return "from_canister"

    def to_candid(self) -> dict[str, Any]:
        if self.origin_kind == "from_user":
            origin = Variant("from_user", {"user_id": self.origin})
        else:
            origin = Variant(
                "from_canister",
                {"canister_id": self.origin, "canister_version": self.origin_canister_version},
            )
        details: Variant
        if self.kind == "creation":
            details = Variant(
                "creation", {"controllers": list(self.controllers), "environment_variables_hash": None}
            )
        elif self.kind == "code_uninstall":
            details = Variant("code_uninstall")
        elif self.kind == "code_deployment":
            details = Variant(
                "code_deployment", {"mode": Variant(self.mode), "module_hash": self.module_hash}
            )
        elif self.kind == "load_snapshot":
            details = Variant(
                "load_snapshot",
                {
                    "canister_version": self.snapshot_canister_version,
                    "snapshot_id": self.snapshot_id,
                    "taken_at_timestamp": self.taken_at_timestamp,
                    "source": Variant("taken_from_canister"),
                },
            )
        else:
            details = Variant("controllers_change", {"controllers": list(self.controllers)})
        return {
            "timestamp_nanos": self.timestamp_nanos,
            "canister_version": self.canister_version,
            "origin": origin,
            "details": details,
        }

    @classmethod
    def from_candid(cls, value: dict[str, Any]) -> CanisterChange:
        origin = value["origin"]
        origin_kind = _tag(origin, ORIGIN_KINDS, "change origin")
        details = value["details"]
        kind = _tag(details, CHANGE_KINDS, "change details")
        fields: dict[str, Any] = {}
        body = details.value
        if kind in ("creation", "controllers_change"):
            fields["controllers"] = tuple(body["controllers"])
        elif kind == "code_deployment":
            fields["mode"] = _tag(body["mode"], INSTALL_MODES, "code_deployment mode")
            fields["module_hash"] = body["module_hash"]
        elif kind == "load_snapshot":
            fields["snapshot_id"] = body["snapshot_id"]
            fields["taken_at_timestamp"] = body["taken_at_timestamp"]
            fields["snapshot_canister_version"] = body["canister_version"]
        if origin_kind == "from_user":
            principal, origin_version = origin.value["user_id"], None
        else:
            principal, origin_version = (
                origin.value["canister_id"],
                unwrap_opt(origin.value["canister_version"]),
            )
        return cls(
            value["timestamp_nanos"],
            value["canister_version"],
            principal,
            kind,
            origin_kind=origin_kind,
            origin_canister_version=origin_version,
            **fields,
        )


@dataclass(frozen=True)
class CanisterInfo:
    """``canister_info_result``: the total number of changes, the most recent ones
    (oldest first), the module hash and the controllers."""

    total_num_changes: int
    recent_changes: tuple[CanisterChange, ...]
    module_hash: bytes | None
    controllers: tuple[Principal, ...]


def encode_canister_info_args(canister_id: Principal, num_requested_changes: int | None = None) -> bytes:
    return _encode_args(
        CANISTER_INFO, {"canister_id": canister_id, "num_requested_changes": num_requested_changes}
    )


def decode_canister_info_args(arg: bytes) -> tuple[Principal, int | None]:
    record = _argument(arg, CANISTER_INFO)
    return record["canister_id"], unwrap_opt(record["num_requested_changes"])


def encode_canister_info_reply(info: CanisterInfo) -> bytes:
    return _encode_reply(
        CANISTER_INFO,
        {
            "total_num_changes": info.total_num_changes,
            "recent_changes": [change.to_candid() for change in info.recent_changes],
            "module_hash": info.module_hash,
            "controllers": list(info.controllers),
        },
    )


def decode_canister_info_reply(reply: bytes) -> CanisterInfo:
    record = _reply(reply, CANISTER_INFO)
    return CanisterInfo(
        total_num_changes=record["total_num_changes"],
        recent_changes=tuple(CanisterChange.from_candid(change) for change in record["recent_changes"]),
        module_hash=unwrap_opt(record["module_hash"]),
        controllers=tuple(record["controllers"]),
    )


# -- snapshots ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    """``snapshot`` in ic.did: a snapshot's id, when it was taken, and its size in bytes."""

    id: bytes
    taken_at_timestamp: int
    total_size: int

    def to_candid(self) -> dict[str, Any]:
        return {"id": self.id, "taken_at_timestamp": self.taken_at_timestamp, "total_size": self.total_size}

    @classmethod
    def from_candid(cls, value: dict[str, Any]) -> Snapshot:
        return cls(value["id"], value["taken_at_timestamp"], value["total_size"])


def encode_take_canister_snapshot_args(
    canister_id: Principal, replace_snapshot: bytes | None = None
) -> bytes:
    return _encode_args(TAKE_SNAPSHOT, {"canister_id": canister_id, "replace_snapshot": replace_snapshot})


def decode_take_canister_snapshot_args(arg: bytes) -> tuple[Principal, bytes | None]:
    record = _argument(arg, TAKE_SNAPSHOT)
    return record["canister_id"], unwrap_opt(record["replace_snapshot"])


def encode_snapshot_reply(snapshot: Snapshot) -> bytes:
    """The reply of ``take_canister_snapshot``."""
    return _encode_reply(TAKE_SNAPSHOT, snapshot.to_candid())


def decode_snapshot_reply(reply: bytes) -> Snapshot:
    return Snapshot.from_candid(_reply(reply, TAKE_SNAPSHOT))


def encode_load_canister_snapshot_args(
    canister_id: Principal, snapshot_id: bytes, sender_canister_version: int | None = None
) -> bytes:
    return _encode_args(
        LOAD_SNAPSHOT,
        {
            "canister_id": canister_id,
            "snapshot_id": snapshot_id,
            "sender_canister_version": sender_canister_version,
        },
    )


def decode_load_canister_snapshot_args(arg: bytes) -> tuple[Principal, bytes, int | None]:
    record = _argument(arg, LOAD_SNAPSHOT)
    return record["canister_id"], record["snapshot_id"], unwrap_opt(record["sender_canister_version"])


def encode_snapshots_reply(snapshots: list[Snapshot]) -> bytes:
    """The reply of ``list_canister_snapshots`` (its argument is ``encode_canister_id_args``)."""
    return _encode_reply(LIST_SNAPSHOTS, [snapshot.to_candid() for snapshot in snapshots])


def decode_snapshots_reply(reply: bytes) -> list[Snapshot]:
    return [Snapshot.from_candid(item) for item in _reply(reply, LIST_SNAPSHOTS)]


def encode_delete_canister_snapshot_args(canister_id: Principal, snapshot_id: bytes) -> bytes:
    return _encode_args(DELETE_SNAPSHOT, {"canister_id": canister_id, "snapshot_id": snapshot_id})


def decode_delete_canister_snapshot_args(arg: bytes) -> tuple[Principal, bytes]:
    record = _argument(arg, DELETE_SNAPSHOT)
    return record["canister_id"], record["snapshot_id"]


# -- logs and metadata (query fast path only) -------------------------------------------------


@dataclass(frozen=True)
class CanisterLogRecord:
    """``canister_log_record``: a canister's ``debug_print`` (or trap message) output."""

    idx: int
    timestamp_nanos: int
    content: bytes


def encode_logs_reply(records: list[CanisterLogRecord]) -> bytes:
    """The reply of ``fetch_canister_logs`` (its argument is ``encode_canister_id_args``)."""
    return _encode_reply(
        FETCH_LOGS,
        {
            "canister_log_records": [
                {"idx": r.idx, "timestamp_nanos": r.timestamp_nanos, "content": r.content} for r in records
            ]
        },
    )


def decode_logs_reply(reply: bytes) -> list[CanisterLogRecord]:
    return [
        CanisterLogRecord(item["idx"], item["timestamp_nanos"], item["content"])
        for item in _reply(reply, FETCH_LOGS)["canister_log_records"]
    ]


def encode_canister_metadata_args(canister_id: Principal, name: str) -> bytes:
    return _encode_args(CANISTER_METADATA, {"canister_id": canister_id, "name": name})


def decode_canister_metadata_args(arg: bytes) -> tuple[Principal, str]:
    record = _argument(arg, CANISTER_METADATA)
    return record["canister_id"], record["name"]


def encode_metadata_reply(value: bytes) -> bytes:
    return _encode_reply(CANISTER_METADATA, {"value": value})


def decode_metadata_reply(reply: bytes) -> bytes:
    return _reply(reply, CANISTER_METADATA)["value"]
