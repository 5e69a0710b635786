"""The ``ic0`` System API as the specification defines it: names, signatures, contexts.

Every function exists in a 32-bit and a 64-bit pointer variant (``I`` in the specification);
a module's memory width selects which one it must import. Each function lists the contexts
(``canister_init``, an update, a query, ...) it may be called from, in the letters of the
specification's table; the implementations live in :mod:`node.ic.system_api`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from vocab.wasm import F32, F64, I32, I64


class Context(enum.Enum):
    """Where a System API call is made from (the letters of the specification's table)."""

    START = "s"
    INIT = "I"
    PRE_UPGRADE = "G"
    UPDATE = "U"
    REPLICATED_QUERY = "RQ"
    NON_REPLICATED_QUERY = "NRQ"
    TRANSFORM_QUERY = "TQ"
    COMPOSITE_QUERY = "CQ"
    REPLY = "Ry"
    REJECT = "Rt"
    COMPOSITE_REPLY = "CRy"
    COMPOSITE_REJECT = "CRt"
    CLEANUP = "C"
    COMPOSITE_CLEANUP = "CC"
    INSPECT_MESSAGE = "F"
    SYSTEM_TASK = "T"

    @property
    def description(self) -> str:
        return _CONTEXT_DESCRIPTIONS[self]

    @property
    def replicated(self) -> bool:
        return self not in _NON_REPLICATED


_CONTEXT_DESCRIPTIONS = {
    Context.START: "start (module initialization)",
    Context.INIT: "init",
    Context.PRE_UPGRADE: "pre_upgrade",
    Context.UPDATE: "update",
    Context.REPLICATED_QUERY: "replicated query",
    Context.NON_REPLICATED_QUERY: "non-replicated query",
    Context.TRANSFORM_QUERY: "transform query",
    Context.COMPOSITE_QUERY: "composite query",
    Context.REPLY: "reply callback",
    Context.REJECT: "reject callback",
    Context.COMPOSITE_REPLY: "composite query reply callback",
    Context.COMPOSITE_REJECT: "composite query reject callback",
    Context.CLEANUP: "cleanup callback",
    Context.COMPOSITE_CLEANUP: "composite query cleanup callback",
    Context.INSPECT_MESSAGE: "inspect message",
    Context.SYSTEM_TASK: "system task",
}
_NON_REPLICATED = frozenset(
    {
        Context.NON_REPLICATED_QUERY,
        Context.TRANSFORM_QUERY,
        Context.COMPOSITE_QUERY,
        Context.COMPOSITE_REPLY,
        Context.COMPOSITE_REJECT,
        Context.COMPOSITE_CLEANUP,
        Context.INSPECT_MESSAGE,
    }
)


def _contexts(spec: str) -> frozenset[Context]:
    """Parse the specification's context letters; ``*`` is every context except start."""
    out: set[Context] = set()
    for token in spec.split():
        if token == "*":
            out |= {c for c in Context if c is not Context.START}
        else:
            out.add(Context(token))
    return frozenset(out)


@dataclass(frozen=True)
class Ic0Function:
    """One ``ic0`` import: parameter and result types (``I`` = pointer width) and contexts."""

    name: str
    params: tuple[str, ...]
    results: tuple[str, ...]
    contexts: frozenset[Context]
    only32: bool = False
    overhead: int = 500
    """Instructions charged for the call itself, before its bytes: the IC's fixed System
    API overhead (``system_api_complexity::overhead``, its default ``MeteringType::New``)."""

    def signature(self, memory64: bool) -> tuple[tuple[int, ...], tuple[int, ...]]:
        def resolve(t: str) -> int:
            if t == "I":
                return I64 if memory64 else I32
            return {"i32": I32, "i64": I64, "f32": F32, "f64": F64}[t]

        return tuple(resolve(t) for t in self.params), tuple(resolve(t) for t in self.results)


def _f(name: str, params: str, results: str, contexts: str, only32: bool = False) -> Ic0Function:
    return Ic0Function(
        name, tuple(params.split()), tuple(results.split()), _contexts(contexts), only32, _overhead(name)
    )


def _overhead(name: str) -> int:
    """The IC's fixed overhead of a call (rs/embedders/src/wasmtime_embedder/
    system_api_complexity.rs, ``overhead``): 500 instructions, except those listed."""
    if name.startswith(("stable_", "stable64_")):
        return _STABLE_OVERHEADS[name.split("_", 1)[1]]
    return _OVERHEADS.get(name, 500)


_OVERHEADS = {
    "call_new": 1_500,
    "call_perform": 5_000,
    "debug_print": 100,
    "is_controller": 1_000,
    "performance_counter": 200,
}
_STABLE_OVERHEADS = {"read": 20, "write": 20, "size": 20, "grow": 500}
"""Stable memory's, the same for both widths (its reads and writes also pay per byte)."""


_ARG = "I U RQ NRQ TQ CQ Ry CRy F"
_RESPOND = "U RQ NRQ TQ CQ Ry Rt CRy CRt"
_CALLS = "U CQ Ry Rt CRy CRt T"
_CALLER_INFO = "U RQ NRQ CQ Ry Rt CRy CRt C CC F"

IC0_FUNCTIONS: tuple[Ic0Function, ...] = (
    _f("msg_arg_data_size", "", "I", _ARG),
    _f("msg_arg_data_copy", "I I I", "", _ARG),
    _f("msg_caller_size", "", "I", "*"),
    _f("msg_caller_copy", "I I I", "", "*"),
    _f("msg_caller_info_data_size", "", "I", _CALLER_INFO),
    _f("msg_caller_info_data_copy", "I I I", "", _CALLER_INFO),
    _f("msg_caller_info_signer_size", "", "I", _CALLER_INFO),
    _f("msg_caller_info_signer_copy", "I I I", "", _CALLER_INFO),
    _f("msg_reject_code", "", "i32", "Ry Rt CRy CRt C"),
    _f("msg_reject_msg_size", "", "I", "Rt CRt"),
    _f("msg_reject_msg_copy", "I I I", "", "Rt CRt"),
    _f("msg_deadline", "", "i64", "U RQ NRQ TQ CQ Ry Rt CRy CRt"),
    _f("msg_reply_data_append", "I I", "", _RESPOND),
    _f("msg_reply", "", "", _RESPOND),
    _f("msg_reject", "I I", "", _RESPOND),
    _f("msg_cycles_available128", "I", "", "U RQ Rt Ry"),
    _f("msg_cycles_refunded128", "I", "", "Rt Ry"),
    _f("msg_cycles_accept128", "i64 i64 I", "", "U RQ Rt Ry"),
    _f("cycles_burn128", "i64 i64 I", "", "I G U RQ Ry Rt C T"),
    _f("canister_self_size", "", "I", "*"),
    _f("canister_self_copy", "I I I", "", "*"),
    _f("canister_cycle_balance128", "I", "", "*"),
    _f("canister_liquid_cycle_balance128", "I", "", "*"),
    _f("canister_status", "", "i32", "*"),
    _f("canister_version", "", "i64", "*"),
    _f("subnet_self_size", "", "I", "*"),
    _f("subnet_self_copy", "I I I", "", "*"),
    _f("msg_method_name_size", "", "I", "F"),
    _f("msg_method_name_copy", "I I I", "", "F"),
    _f("accept_message", "", "", "F"),
    _f("call_new", "I I I I I I I I", "", _CALLS),
    _f("call_on_cleanup", "I I", "", _CALLS),
    _f("call_data_append", "I I", "", _CALLS),
    _f("call_with_best_effort_response", "i32", "", _CALLS),
    _f("call_cycles_add128", "i64 i64", "", "U Ry Rt T"),
    _f("call_perform", "", "i32", _CALLS),
    _f("stable64_size", "", "i64", "* s"),
    _f("stable64_grow", "i64", "i64", "* s"),
    _f("stable64_write", "i64 i64 i64", "", "* s"),
    _f("stable64_read", "i64 i64 i64", "", "* s"),
    _f("root_key_size", "", "I", "I G U RQ Ry Rt C T"),
    _f("root_key_copy", "I I I", "", "I G U RQ Ry Rt C T"),
    _f("certified_data_set", "I I", "", "I G U Ry Rt T"),
    _f("data_certificate_present", "", "i32", "*"),
    _f("data_certificate_size", "", "I", "NRQ CQ"),
    _f("data_certificate_copy", "I I I", "", "NRQ CQ"),
    _f("time", "", "i64", "*"),
    _f("global_timer_set", "i64", "i64", "I G U Ry Rt C T"),
    _f("performance_counter", "i32", "i64", "* s"),
    _f("is_controller", "I I", "i32", "* s"),
    _f("in_replicated_execution", "", "i32", "* s"),
    _f("cost_call", "i64 i64 I", "", "* s"),
    _f("cost_create_canister", "I", "", "* s"),
    _f("cost_http_request", "i64 i64 I", "", "* s"),
    _f("cost_sign_with_ecdsa", "I I i32 I", "i32", "* s"),
    _f("cost_sign_with_schnorr", "I I i32 I", "i32", "* s"),
    _f("cost_vetkd_derive_key", "I I i32 I", "i32", "* s"),
    _f("env_var_count", "", "I", "*"),
    _f("env_var_name_size", "I", "I", "*"),
    _f("env_var_name_copy", "I I I I", "", "*"),
    _f("env_var_name_exists", "I I", "i32", "*"),
    _f("env_var_value_size", "I I", "I", "*"),
    _f("env_var_value_copy", "I I I I I", "", "*"),
    _f("debug_print", "I I", "", "* s"),
    _f("trap", "I I", "", "* s"),
    # only with 32-bit memories
    _f("msg_cycles_available", "", "i64", "U RQ Rt Ry", only32=True),
    _f("msg_cycles_refunded", "", "i64", "Rt Ry", only32=True),
    _f("msg_cycles_accept", "i64", "i64", "U RQ Rt Ry", only32=True),
    _f("canister_cycle_balance", "", "i64", "*", only32=True),
    _f("call_cycles_add", "i64", "", "U Ry Rt T", only32=True),
    _f("stable_size", "", "i32", "* s", only32=True),
    _f("stable_grow", "i32", "i32", "* s", only32=True),
    _f("stable_write", "i32 i32 i32", "", "* s", only32=True),
    _f("stable_read", "i32 i32 i32", "", "* s", only32=True),
)
IC0_BY_NAME: dict[str, Ic0Function] = {f.name: f for f in IC0_FUNCTIONS}
