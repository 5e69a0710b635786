"""The System API: the implementations of the ``ic0`` imports, and the host import tables
they are handed to the engine in.

Each call first checks the context it is made from (``canister_init``, an update, a query,
...) against the specification's table (:mod:`node.ic.ic0`) and traps with a message naming
both when the call is not allowed there, because a canister that relies on a forbidden call
would otherwise behave differently here and on the IC.

Effects of a message (reply, certified data, timer, cycles) are staged in an
:class:`ApiContext` and applied by the caller only when the message succeeds, which is what
makes a trapped message leave no trace.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from node.ic.errors import CanisterTrap, ContractViolation
from node.ic.ic0 import IC0_FUNCTIONS, Context, Ic0Function
from node.ic.stable_memory import StableMemory
from node.wasm.host import HostFunction, HostImports
from node.wasm.instance import WasmInstance

MAX_REPLY_SIZE_REPLICATED = 2 * 1024 * 1024
MAX_REPLY_SIZE_QUERY = 3 * 1024 * 1024
MAX_CALL_PAYLOAD = 2 * 1024 * 1024
MAX_CERTIFIED_DATA = 32
MAX_LOG_MESSAGE = 4096
MAX_PRINCIPAL_LENGTH = 29
MAX_ENV_VAR_NAME = 128
STABLE32_MAX_PAGES = 65536  # 4 GiB: the 32-bit stable API traps beyond this


# System API calls are charged on top of the Wasm instructions, as the IC charges them: a
# fixed overhead per call (``Ic0Function.overhead``) plus one instruction per byte copied.
# Charges gather in ``host_instructions`` and move into the store's fuel once they reach
# this many, so that a loop of System API calls runs out of fuel near its limit (fuel alone
# counts only the Wasm instructions) while each call need not touch the store's fuel.
_FUEL_SYNC_THRESHOLD = 65536

# Cost model of ic0.cost_* (a 13-node application subnet, in cycles).
_NODES = 13
_KEY_COSTS = {"key_1": 26_153_846_153, "test_key_1": 10_000_000_000, "dfx_test_key": 10_000_000_000}
_VETKD_COSTS = {"key_1": 26_153_846_153, "test_key_1": 10_000_000_000, "dfx_test_key": 10_000_000_000}


@dataclass
class PendingCall:
    """An inter-canister call under construction (between ``call_new`` and ``call_perform``)."""

    callee: bytes
    method: str
    reply: tuple[int, int]
    reject: tuple[int, int]
    payload: bytearray = field(default_factory=bytearray)
    cycles: int = 0
    cleanup: tuple[int, int] | None = None
    timeout: int | None = None


@dataclass(frozen=True)
class LogEntry:
    """What a message printed, staged until the message ends."""

    content: bytes


class ApiContext:
    """The state one message execution sees through the System API.

    Effects are staged here and read by the caller after the Wasm function returns: a
    trapped message simply drops its context.
    """

    def __init__(
        self,
        kind: Context,
        *,
        canister_id: bytes,
        caller: bytes,
        arg: bytes = b"",
        method_name: str = "",
        time: int,
        controllers: tuple[bytes, ...],
        status: int,
        canister_version: int,
        balance: int,
        stable: StableMemory,
        max_stable_pages: int,
        global_timer: int,
        subnet_id: bytes = b"",
        root_key: bytes = b"",
        cycles_available: int = 0,
        data_certificate: bytes | None = None,
        env_vars: tuple[tuple[str, str], ...] = (),
        certified_data: bytes = b"",
    ) -> None:
        self.kind = kind
        self.canister_id = canister_id
        self.caller = caller
        self.arg = arg
        self.method_name = method_name
        self.time_ns = time
        self.controllers = controllers
        self.status = status
        self.version = canister_version
        self.balance = balance
        self.stable = stable
        self.max_stable_pages = max_stable_pages
        self.global_timer = global_timer
        self.subnet_id = subnet_id
        self.root_key = root_key
        self.cycles_available = cycles_available
        self.cycles_accepted = 0
        self.cycles_burned = 0
        self.data_certificate = data_certificate
        self.env_vars = env_vars
        self.replicated = kind.replicated
        self.response_required = kind in (
            Context.UPDATE,
            Context.REPLICATED_QUERY,
            Context.NON_REPLICATED_QUERY,
            Context.TRANSFORM_QUERY,
            Context.COMPOSITE_QUERY,
        )
        self.replied = False
        self.reply_buffer = bytearray()
        self.reply: bytes | None = None
        self.reject_message: str | None = None
        self.new_certified_data: bytes | None = None
        self.new_global_timer: int | None = None
        self.logs: list[bytes] = []
        self.accepted_message = False
        self.pending_call: PendingCall | None = None
        self.failed_calls = 0
        self.host_instructions = 0
        self.instance: WasmInstance[Any] | None = None
        self.fuel_limit = 0
        self.reject_code = 0
        self.reject_text: str | None = None
        """In a reject callback: the reject message (``ic0.msg_reject_msg_*``)."""
        self.cycles_refunded = 0
        """In a callback: the cycles the callee gave back (``ic0.msg_cycles_refunded128``)."""
        self.refund = 0
        """Cycles still available when the message responded: they go back to its caller."""
        self.calls: list[PendingCall] = []
        """Calls performed (``ic0.call_perform``), enqueued only if the message commits."""
        self.certified_data = certified_data

    # -- plumbing ------------------------------------------------------------------------

    def instructions_used(self, caller: Any) -> int:
        assert self.instance is not None
        fuel = self.instance.store_fuel(caller)
        return self.fuel_limit - fuel + self.host_instructions

    def charge(self, caller: Any, amount: int) -> None:
        """Charge system instructions; once they add up to ``_FUEL_SYNC_THRESHOLD`` they
        come out of fuel (raising ``OutOfFuel`` if that runs out), a deterministic point."""
        pending = self.host_instructions + amount
        if pending >= _FUEL_SYNC_THRESHOLD and self.instance is not None:
            self.host_instructions = 0
            self.instance.consume_fuel(caller, pending)
        else:
            self.host_instructions = pending

    def read(self, caller: Any, ptr: int, size: int, what: str) -> bytes:
        assert self.instance is not None
        data = self.instance.read_heap(caller, ptr, size)
        if data is None:
            raise ContractViolation(f"{what}: heap out of bounds: src={ptr} size={size}")
        return data

    def write(self, caller: Any, ptr: int, data: bytes, what: str) -> None:
        assert self.instance is not None
        if not self.instance.write_heap(caller, ptr, data):
            raise ContractViolation(f"{what}: heap out of bounds: dst={ptr} size={len(data)}")

    def copy_out(self, caller: Any, source: bytes, dst: int, offset: int, size: int, what: str) -> None:
        """The ``*_copy`` idiom: ``source[offset:offset+size]`` to ``heap[dst:dst+size]``."""
        if offset + size > len(source):
            raise ContractViolation(
                f"{what}: src={offset} + length={size} exceeds the slice size={len(source)}"
            )
        self.charge(caller, size)
        self.write(caller, dst, source[offset : offset + size], what)

    def _log(self, content: bytes) -> None:
        if self.replicated:
            self.logs.append(content[:MAX_LOG_MESSAGE])

    def _liquid_balance(self) -> int:
        return max(0, self.balance)

    # -- message data ----------------------------------------------------------------------

    def msg_arg_data_size(self, caller: Any) -> int:
        return len(self.arg)

    def msg_arg_data_copy(self, caller: Any, dst: int, offset: int, size: int) -> None:
        self.copy_out(caller, self.arg, dst, offset, size, "ic0.msg_arg_data_copy")

    def msg_caller_size(self, caller: Any) -> int:
        return len(self.caller)

    def msg_caller_copy(self, caller: Any, dst: int, offset: int, size: int) -> None:
        self.copy_out(caller, self.caller, dst, offset, size, "ic0.msg_caller_copy")

    def msg_caller_info_data_size(self, caller: Any) -> int:
        return 0

    def msg_caller_info_data_copy(self, caller: Any, dst: int, offset: int, size: int) -> None:
        self.copy_out(caller, b"", dst, offset, size, "ic0.msg_caller_info_data_copy")

    def msg_caller_info_signer_size(self, caller: Any) -> int:
        return 0

    def msg_caller_info_signer_copy(self, caller: Any, dst: int, offset: int, size: int) -> None:
        self.copy_out(caller, b"", dst, offset, size, "ic0.msg_caller_info_signer_copy")

    def msg_reject_code(self, caller: Any) -> int:
        return self.reject_code

    def _reject_text(self) -> bytes:
        if self.reject_text is None:
            raise ContractViolation("ic0.msg_reject_msg_size: there is no reject message")
        return self.reject_text.encode("utf-8")

    def msg_reject_msg_size(self, caller: Any) -> int:
        return len(self._reject_text())

    def msg_reject_msg_copy(self, caller: Any, dst: int, offset: int, size: int) -> None:
        self.copy_out(caller, self._reject_text(), dst, offset, size, "ic0.msg_reject_msg_copy")

    def msg_deadline(self, caller: Any) -> int:
        return 0

    # -- responding --------------------------------------------------------------------------

    def _check_can_respond(self, what: str) -> None:
        if not self.response_required:
            raise ContractViolation(f"{what}: the call does not need a response")
        if self.replied:
            raise ContractViolation(f"{what}: the call has already been replied to")

    def msg_reply_data_append(self, caller: Any, src: int, size: int) -> None:
        self._check_can_respond("ic0.msg_reply_data_append")
        limit = MAX_REPLY_SIZE_REPLICATED if self.replicated else MAX_REPLY_SIZE_QUERY
        if len(self.reply_buffer) + size > limit:
            raise ContractViolation(
                f"ic0.msg_reply_data_append: application payload size "
                f"({len(self.reply_buffer) + size}) cannot be larger than {limit}"
            )
        self.charge(caller, size)
        self.reply_buffer += self.read(caller, src, size, "ic0.msg_reply_data_append")

    def msg_reply(self, caller: Any) -> None:
        self._check_can_respond("ic0.msg_reply")
        self.replied = True
        self.reply = bytes(self.reply_buffer)
        self.reply_buffer = bytearray()
        self._refund_available()

    def msg_reject(self, caller: Any, src: int, size: int) -> None:
        self._check_can_respond("ic0.msg_reject")
        if size > MAX_REPLY_SIZE_REPLICATED:
            raise ContractViolation(f"ic0.msg_reject: payload size ({size}) is too large")
        raw = self.read(caller, src, size, "ic0.msg_reject")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ContractViolation("ic0.msg_reject: the reject message is not valid UTF-8") from exc
        self.replied = True
        self.reject_message = text
        self.reply_buffer = bytearray()
        self._refund_available()

    def _refund_available(self) -> None:
        # Cycles still available when the call is answered go back to the caller.
        self.refund = self.cycles_available
        self.cycles_available = 0

    # -- cycles ------------------------------------------------------------------------------

    @staticmethod
    def _u128(value: int) -> bytes:
        return value.to_bytes(16, "little")

    def msg_cycles_available128(self, caller: Any, dst: int) -> None:
        self.write(caller, dst, self._u128(self.cycles_available), "ic0.msg_cycles_available128")

    def msg_cycles_refunded128(self, caller: Any, dst: int) -> None:
        self.write(caller, dst, self._u128(self.cycles_refunded), "ic0.msg_cycles_refunded128")

    def _accept(self, maximum: int) -> int:
        amount = min(maximum, self.cycles_available)
        self.cycles_available -= amount
        self.cycles_accepted += amount
        self.balance += amount
        return amount

    def msg_cycles_accept128(self, caller: Any, high: int, low: int, dst: int) -> None:
        amount = self._accept((high << 64) | low)
        self.write(caller, dst, self._u128(amount), "ic0.msg_cycles_accept128")

    def cycles_burn128(self, caller: Any, high: int, low: int, dst: int) -> None:
        amount = min((high << 64) | low, self._liquid_balance())
        self.balance -= amount
        self.cycles_burned += amount
        self.write(caller, dst, self._u128(amount), "ic0.cycles_burn128")

    def msg_cycles_available(self, caller: Any) -> int:
        if self.cycles_available >= 1 << 64:
            raise ContractViolation("ic0.msg_cycles_available: the amount does not fit in 64 bits")
        return self.cycles_available

    def msg_cycles_refunded(self, caller: Any) -> int:
        if self.cycles_refunded >= 1 << 64:
            raise ContractViolation("ic0.msg_cycles_refunded: the amount does not fit in 64 bits")
        return self.cycles_refunded

    def msg_cycles_accept(self, caller: Any, maximum: int) -> int:
        return self._accept(maximum)

    def canister_cycle_balance(self, caller: Any) -> int:
        if self.balance >= 1 << 64:
            raise ContractViolation("ic0.canister_cycle_balance: the balance does not fit in 64 bits")
        return self.balance

    # -- self ------------------------------------------------------------------------------

    def canister_self_size(self, caller: Any) -> int:
        return len(self.canister_id)

    def canister_self_copy(self, caller: Any, dst: int, offset: int, size: int) -> None:
        self.copy_out(caller, self.canister_id, dst, offset, size, "ic0.canister_self_copy")

    def canister_cycle_balance128(self, caller: Any, dst: int) -> None:
        self.write(caller, dst, self._u128(self.balance), "ic0.canister_cycle_balance128")

    def canister_liquid_cycle_balance128(self, caller: Any, dst: int) -> None:
        self.write(caller, dst, self._u128(self._liquid_balance()), "ic0.canister_liquid_cycle_balance128")

    def canister_status(self, caller: Any) -> int:
        return self.status

    def canister_version(self, caller: Any) -> int:
        return self.version

    def subnet_self_size(self, caller: Any) -> int:
        return len(self.subnet_id)

    def subnet_self_copy(self, caller: Any, dst: int, offset: int, size: int) -> None:
        self.copy_out(caller, self.subnet_id, dst, offset, size, "ic0.subnet_self_copy")

    # -- inspect message -----------------------------------------------------------------------

    def msg_method_name_size(self, caller: Any) -> int:
        return len(self.method_name.encode("utf-8"))

    def msg_method_name_copy(self, caller: Any, dst: int, offset: int, size: int) -> None:
        self.copy_out(caller, self.method_name.encode("utf-8"), dst, offset, size, "ic0.msg_method_name_copy")

    def accept_message(self, caller: Any) -> None:
        if self.accepted_message:
            raise ContractViolation("ic0.accept_message: the message was already accepted")
        self.accepted_message = True

    # -- inter-canister calls ----------------------------------------------------------------

    def _discard_pending_call(self) -> None:
        if self.pending_call is not None:
            self.balance += self.pending_call.cycles
            self.pending_call = None

    def _require_call(self, what: str) -> PendingCall:
        if self.pending_call is None:
            raise ContractViolation(f"{what}: there is no call under construction")
        return self.pending_call

    def call_new(
        self,
        caller: Any,
        callee_src: int,
        callee_size: int,
        name_src: int,
        name_size: int,
        reply_fun: int,
        reply_env: int,
        reject_fun: int,
        reject_env: int,
    ) -> None:
        self._discard_pending_call()
        if callee_size > MAX_PRINCIPAL_LENGTH:
            raise ContractViolation(f"ic0.call_new: callee id of {callee_size} bytes is too long")
        if name_size > 20_000:
            raise ContractViolation(f"ic0.call_new: method name of {name_size} bytes is too long")
        callee = self.read(caller, callee_src, callee_size, "ic0.call_new")
        raw_name = self.read(caller, name_src, name_size, "ic0.call_new")
        try:
            method = raw_name.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ContractViolation("ic0.call_new: method name is not valid UTF-8") from exc
        self.pending_call = PendingCall(callee, method, (reply_fun, reply_env), (reject_fun, reject_env))

    def call_on_cleanup(self, caller: Any, fun: int, env: int) -> None:
        call = self._require_call("ic0.call_on_cleanup")
        if call.cleanup is not None:
            raise ContractViolation("ic0.call_on_cleanup: the cleanup callback is already set")
        call.cleanup = (fun, env)

    def call_data_append(self, caller: Any, src: int, size: int) -> None:
        call = self._require_call("ic0.call_data_append")
        if len(call.payload) + size > MAX_CALL_PAYLOAD:
            raise ContractViolation(
                f"ic0.call_data_append: payload size ({len(call.payload) + size}) cannot be "
                f"larger than {MAX_CALL_PAYLOAD}"
            )
        self.charge(caller, size)
        call.payload += self.read(caller, src, size, "ic0.call_data_append")

    def call_with_best_effort_response(self, caller: Any, timeout_seconds: int) -> None:
        call = self._require_call("ic0.call_with_best_effort_response")
        if call.timeout is not None:
            raise ContractViolation("ic0.call_with_best_effort_response: the timeout is already set")
        call.timeout = min(timeout_seconds, 300)

    def _add_call_cycles(self, amount: int, what: str) -> None:
        call = self._require_call(what)
        if amount > self._liquid_balance():
            raise ContractViolation(
                f"{what}: cannot transfer {amount} cycles, the liquid balance is {self._liquid_balance()}"
            )
        self.balance -= amount
        call.cycles += amount

    def call_cycles_add128(self, caller: Any, high: int, low: int) -> None:
        self._add_call_cycles((high << 64) | low, "ic0.call_cycles_add128")

    def call_cycles_add(self, caller: Any, amount: int) -> None:
        self._add_call_cycles(amount, "ic0.call_cycles_add")

    def call_perform(self, caller: Any) -> int:
        """Stage the call: it is enqueued (its callback registered, its request put in the
        callee's input queue) only if this message commits; a trap drops it with everything
        else, and the cycles attached come back with the rolled-back balance.

        Returns 0, as the IC does for a call it accepted; whatever happens to the call
        afterwards (a missing callee, a full queue) comes back as a reject to the callback.
        """
        call = self._require_call("ic0.call_perform")
        self.pending_call = None
        self.calls.append(call)
        return 0

    # -- stable memory ---------------------------------------------------------------------

    def stable64_size(self, caller: Any) -> int:
        return self.stable.size_pages

    def stable64_grow(self, caller: Any, pages: int) -> int:
        return self.stable.grow(pages, self.max_stable_pages)

    def stable64_write(self, caller: Any, offset: int, src: int, size: int) -> None:
        if offset + size > self.stable.size_bytes:
            raise CanisterTrap(
                f"Canister trapped: stable memory out of bounds "
                f"(ic0.stable64_write offset={offset} size={size}, "
                f"stable memory size={self.stable.size_bytes})",
                "trap",
                "IC0502",
            )
        self.charge(caller, size)
        data = self.read(caller, src, size, "ic0.stable64_write")
        self.stable.write(offset, data)

    def stable64_read(self, caller: Any, dst: int, offset: int, size: int) -> None:
        if offset + size > self.stable.size_bytes:
            raise CanisterTrap(
                f"Canister trapped: stable memory out of bounds "
                f"(ic0.stable64_read offset={offset} size={size}, "
                f"stable memory size={self.stable.size_bytes})",
                "trap",
                "IC0502",
            )
        self.charge(caller, size)
        self.write(caller, dst, self.stable.read(offset, size), "ic0.stable64_read")

    def _check_stable32(self, what: str) -> None:
        if self.stable.size_pages > STABLE32_MAX_PAGES:
            raise ContractViolation(f"{what}: stable memory is larger than 4 GiB; use the 64-bit API")

    def stable_size(self, caller: Any) -> int:
        self._check_stable32("ic0.stable_size")
        return self.stable.size_pages

    def stable_grow(self, caller: Any, pages: int) -> int:
        self._check_stable32("ic0.stable_grow")
        return self.stable.grow(pages, min(self.max_stable_pages, STABLE32_MAX_PAGES))

    def stable_write(self, caller: Any, offset: int, src: int, size: int) -> None:
        self._check_stable32("ic0.stable_write")
        self.stable64_write(caller, offset, src, size)

    def stable_read(self, caller: Any, dst: int, offset: int, size: int) -> None:
        self._check_stable32("ic0.stable_read")
        self.stable64_read(caller, dst, offset, size)

    # -- certification, time, timers ----------------------------------------------------------

    def root_key_size(self, caller: Any) -> int:
        return len(self.root_key)

    def root_key_copy(self, caller: Any, dst: int, offset: int, size: int) -> None:
        self.copy_out(caller, self.root_key, dst, offset, size, "ic0.root_key_copy")

    def certified_data_set(self, caller: Any, src: int, size: int) -> None:
        if size > MAX_CERTIFIED_DATA:
            raise ContractViolation(
                f"ic0.certified_data_set: certified data size ({size}) cannot be larger than "
                f"{MAX_CERTIFIED_DATA}"
            )
        self.new_certified_data = self.read(caller, src, size, "ic0.certified_data_set")

    def data_certificate_present(self, caller: Any) -> int:
        return 1 if self.data_certificate is not None else 0

    def _certificate(self, what: str) -> bytes:
        if self.data_certificate is None:
            raise ContractViolation(f"{what}: no data certificate is present")
        return self.data_certificate

    def data_certificate_size(self, caller: Any) -> int:
        return len(self._certificate("ic0.data_certificate_size"))

    def data_certificate_copy(self, caller: Any, dst: int, offset: int, size: int) -> None:
        self.copy_out(
            caller,
            self._certificate("ic0.data_certificate_copy"),
            dst,
            offset,
            size,
            "ic0.data_certificate_copy",
        )

    def time(self, caller: Any) -> int:
        return self.time_ns

    def global_timer_set(self, caller: Any, timestamp: int) -> int:
        previous = self.new_global_timer if self.new_global_timer is not None else self.global_timer
        self.new_global_timer = timestamp
        return previous

    def performance_counter(self, caller: Any, counter_type: int) -> int:
        if counter_type not in (0, 1):
            raise ContractViolation(f"ic0.performance_counter: unknown counter type {counter_type}")
        return self.instructions_used(caller)

    def is_controller(self, caller: Any, src: int, size: int) -> int:
        if size > MAX_PRINCIPAL_LENGTH:
            raise ContractViolation(
                f"ic0.is_controller: {size} bytes is not a valid principal (at most 29 bytes)"
            )
        principal = self.read(caller, src, size, "ic0.is_controller")
        return 1 if principal in self.controllers else 0

    def in_replicated_execution(self, caller: Any) -> int:
        return 1 if self.replicated else 0

    # -- costs ------------------------------------------------------------------------------

    def cost_call(self, caller: Any, method_name_size: int, payload_size: int, dst: int) -> None:
        # base fee + per-byte transmission + the reservation for the largest response
        cost = (260_000 + 1_000 * (method_name_size + payload_size)) * _NODES // 13
        cost += MAX_REPLY_SIZE_REPLICATED * 1_000 * _NODES // 13
        self.write(caller, dst, self._u128(cost), "ic0.cost_call")

    def cost_create_canister(self, caller: Any, dst: int) -> None:
        self.write(caller, dst, self._u128(500_000_000_000 * _NODES // 13), "ic0.cost_create_canister")

    def cost_http_request(self, caller: Any, request_size: int, max_res_bytes: int, dst: int) -> None:
        cost = (3_000_000 + 60_000 * _NODES) * _NODES + 400 * request_size + 800 * max_res_bytes
        self.write(caller, dst, self._u128(cost * _NODES), "ic0.cost_http_request")

    def _key_cost(
        self,
        caller: Any,
        src: int,
        size: int,
        selector: int,
        valid: tuple[int, ...],
        dst: int,
        table: dict[str, int],
        what: str,
    ) -> int:
        name = self.read(caller, src, size, what)
        if selector not in valid:
            return 1
        try:
            cost = table.get(name.decode("utf-8"))
        except UnicodeDecodeError:
            cost = None
        if cost is None:
            return 2
        self.write(caller, dst, self._u128(cost), what)
        return 0

    def cost_sign_with_ecdsa(self, caller: Any, src: int, size: int, curve: int, dst: int) -> int:
        return self._key_cost(caller, src, size, curve, (0,), dst, _KEY_COSTS, "ic0.cost_sign_with_ecdsa")

    def cost_sign_with_schnorr(self, caller: Any, src: int, size: int, algorithm: int, dst: int) -> int:
        return self._key_cost(
            caller, src, size, algorithm, (0, 1), dst, _KEY_COSTS, "ic0.cost_sign_with_schnorr"
        )

    def cost_vetkd_derive_key(self, caller: Any, src: int, size: int, curve: int, dst: int) -> int:
        return self._key_cost(caller, src, size, curve, (0,), dst, _VETKD_COSTS, "ic0.cost_vetkd_derive_key")

    # -- environment variables ------------------------------------------------------------------

    def _env_name(self, index: int, what: str) -> bytes:
        if index >= len(self.env_vars):
            raise ContractViolation(f"{what}: index {index} out of bounds ({len(self.env_vars)} variables)")
        return self.env_vars[index][0].encode("utf-8")

    def _env_value(self, caller: Any, src: int, size: int, what: str) -> bytes:
        if size > MAX_ENV_VAR_NAME:
            raise ContractViolation(f"{what}: variable name of {size} bytes is too long")
        raw = self.read(caller, src, size, what)
        try:
            name = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ContractViolation(f"{what}: variable name is not valid UTF-8") from exc
        for key, value in self.env_vars:
            if key == name:
                return value.encode("utf-8")
        raise ContractViolation(f"{what}: no environment variable named {name!r}")

    def env_var_count(self, caller: Any) -> int:
        return len(self.env_vars)

    def env_var_name_size(self, caller: Any, index: int) -> int:
        return len(self._env_name(index, "ic0.env_var_name_size"))

    def env_var_name_copy(self, caller: Any, index: int, dst: int, offset: int, size: int) -> None:
        name = self._env_name(index, "ic0.env_var_name_copy")
        self.copy_out(caller, name, dst, offset, size, "ic0.env_var_name_copy")

    def env_var_name_exists(self, caller: Any, src: int, size: int) -> int:
        try:
            self._env_value(caller, src, size, "ic0.env_var_name_exists")
        except ContractViolation as exc:
            if "no environment variable" in exc.message:
                return 0
            raise
        return 1

    def env_var_value_size(self, caller: Any, src: int, size: int) -> int:
        return len(self._env_value(caller, src, size, "ic0.env_var_value_size"))

    def env_var_value_copy(
        self, caller: Any, src: int, size: int, dst: int, offset: int, length: int
    ) -> None:
        value = self._env_value(caller, src, size, "ic0.env_var_value_copy")
        self.copy_out(caller, value, dst, offset, length, "ic0.env_var_value_copy")

    # -- debugging -------------------------------------------------------------------------

    def debug_print(self, caller: Any, src: int, size: int) -> None:
        assert self.instance is not None
        data = self.instance.read_heap(caller, src, min(size, MAX_LOG_MESSAGE))
        if data is None:
            data = b"(debug_print message out of bounds)"
        self.charge(caller, len(data))
        self._log(data)

    def trap(self, caller: Any, src: int, size: int) -> None:
        assert self.instance is not None
        data = self.instance.read_heap(caller, src, min(size, MAX_LOG_MESSAGE))
        text = "(trap message out of bounds)" if data is None else data.decode("utf-8", "replace")
        raise CanisterTrap(f"Canister called `ic0.trap` with message: '{text}'", "explicit_trap", "IC0503")


def _mask(t: str, memory64: bool) -> int:
    if t == "i32" or (t == "I" and not memory64):
        return 0xFFFF_FFFF
    return 0xFFFF_FFFF_FFFF_FFFF


def _signed(value: int, bits: int) -> int:
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


class SystemApi:
    """Binds the ``ic0`` functions to whichever :class:`ApiContext` is current.

    Host functions are built once per pointer width, as the two import tables handed to the
    engine; the execution layer sets :attr:`current` around each call into Wasm. Execution
    is single-threaded and never re-entrant (``call_perform`` only stages a call; the
    scheduler of :mod:`node.ic.calls` runs the callee later), so one slot suffices.
    """

    def __init__(self) -> None:
        self.current: ApiContext | None = None
        self._tables: dict[bool, HostImports] = {}

    def imports(self, memory64: bool) -> HostImports:
        """The ``ic0`` import table for a 32-bit or a 64-bit module (built once)."""
        table = self._tables.get(memory64)
        if table is None:
            functions: dict[tuple[str, str], HostFunction] = {}
            for spec in IC0_FUNCTIONS:
                if spec.only32 and memory64:
                    continue
                params, results = spec.signature(memory64)
                functions[("ic0", spec.name)] = HostFunction(
                    params, results, self.host_function(spec, memory64)
                )
            table = HostImports(functions)
            self._tables[memory64] = table
        return table

    def host_function(self, spec: Ic0Function, memory64: bool) -> Callable[..., Any]:
        allowed = spec.contexts
        name = spec.name
        overhead = spec.overhead
        impl = getattr(ApiContext, name)
        masks = tuple(_mask(t, memory64) for t in spec.params)
        result_bits = 0
        if spec.results:
            r = spec.results[0]
            result_bits = 32 if r == "i32" or (r == "I" and not memory64) else 64
        api = self

        def host(caller: Any, *args: int) -> int | None:
            ctx = api.current
            if ctx is None:
                raise CanisterTrap(f"ic0.{name} called outside of a message execution")
            if ctx.kind not in allowed:
                raise ContractViolation(f'"ic0.{name}" cannot be executed in {ctx.kind.description} mode')
            ctx.charge(caller, overhead)
            result = impl(ctx, caller, *[a & m for a, m in zip(args, masks)])
            if result_bits:
                return _signed(result, result_bits)
            return None

        host.__name__ = f"ic0_{name}"
        return host


SYSTEM_API = SystemApi()
"""The process's one System API: its import tables are linked once per engine."""
