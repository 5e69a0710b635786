"""The management canister (``aaaaa-aa``) as a client calls it: one typed function per
operation, so that commands, the demo and the benchmarks never handle Candid bytes.

Updates go through consensus and count only with a certified reply (the agent checks
the certificate); the query-only methods (``fetch_canister_logs``) take the fast path.
A reject is raised as ``RejectError`` with the IC's codes.
"""

from __future__ import annotations

from client.agent import Agent
from vocab import management
from vocab.errors import RejectCode, RejectError, SubnetError
from vocab.principal import Principal

CANISTER_ID_OPERATIONS = (management.STOP, management.START, management.DELETE)
"""The methods whose only argument is a canister id and whose reply is empty."""


async def update(agent: Agent, method: str, arg: bytes) -> bytes:
    """A management method called through consensus; the certified reply's bytes."""
    result = await agent.call(Principal.management(), method, arg)
    return result.raise_if_rejected()


async def query(agent: Agent, method: str, arg: bytes) -> bytes:
    """A query-only management method, answered by one replica and signed."""
    answer = await agent.query(Principal.management(), method, arg)
    if answer.status != "replied":
        code = answer.reject_code if answer.reject_code in tuple(RejectCode) else RejectCode.SYS_UNKNOWN
        raise RejectError(RejectCode(code), answer.reject_message, answer.error_code or None)
    return answer.reply


async def create_canister(
    agent: Agent, cycles: int, controllers: tuple[Principal, ...] | None = None
) -> Principal:
    """A new empty canister with ``cycles``; its controllers are the caller unless given."""
    settings = management.Settings(controllers=controllers) if controllers else None
    reply = await update(agent, management.CREATE, management.encode_create_args(cycles, settings))
    return management.decode_create_reply(reply)


async def canister_status(agent: Agent, canister_id: Principal) -> management.CanisterStatus:
    reply = await update(agent, management.STATUS, management.encode_canister_id_args(canister_id))
    return management.decode_status_reply(reply)


async def canister_operation(agent: Agent, method: str, canister_id: Principal) -> None:
    """``stop_canister``, ``start_canister`` or ``delete_canister``."""
    assert method in CANISTER_ID_OPERATIONS, method
    await update(agent, method, management.encode_canister_id_args(canister_id))


async def change_controllers(
    agent: Agent,
    canister_id: Principal,
    *,
    set_to: tuple[Principal, ...] | None = None,
    add: tuple[Principal, ...] = (),
    remove: tuple[Principal, ...] = (),
    name: str | None = None,
) -> tuple[Principal, ...]:
    """Set the controllers to ``set_to``, or add and remove some of the current ones (read
    first with ``canister_status``); returns the controllers now in place. ``name`` is how
    errors call the canister (default: its id)."""
    if set_to is not None:
        controllers = set_to
    else:
        current = list((await canister_status(agent, canister_id)).controllers)
        for principal in add:
            if principal not in current:
                current.append(principal)
        for principal in remove:
            if principal not in current:
                raise SubnetError(f"{principal} is not a controller of {name or canister_id}")
            current.remove(principal)
        controllers = tuple(current)
    arg = management.encode_update_settings_args(canister_id, management.Settings(controllers=controllers))
    await update(agent, management.UPDATE_SETTINGS, arg)
    return controllers


async def canister_info(agent: Agent, canister_id: Principal, changes: int) -> management.CanisterInfo:
    """Controllers, module hash and up to ``changes`` recent entries of the history."""
    arg = management.encode_canister_info_args(canister_id, changes)
    return management.decode_canister_info_reply(await update(agent, management.CANISTER_INFO, arg))


async def canister_logs(agent: Agent, canister_id: Principal) -> list[management.CanisterLogRecord]:
    """The canister's log, oldest first; who may read it follows its log_visibility."""
    arg = management.encode_canister_id_args(canister_id)
    return management.decode_logs_reply(await query(agent, management.FETCH_LOGS, arg))


async def take_snapshot(
    agent: Agent, canister_id: Principal, replace: bytes | None = None
) -> management.Snapshot:
    arg = management.encode_take_canister_snapshot_args(canister_id, replace)
    return management.decode_snapshot_reply(await update(agent, management.TAKE_SNAPSHOT, arg))


async def load_snapshot(agent: Agent, canister_id: Principal, snapshot_id: bytes) -> None:
    arg = management.encode_load_canister_snapshot_args(canister_id, snapshot_id)
    await update(agent, management.LOAD_SNAPSHOT, arg)


async def delete_snapshot(agent: Agent, canister_id: Principal, snapshot_id: bytes) -> None:
    arg = management.encode_delete_canister_snapshot_args(canister_id, snapshot_id)
    await update(agent, management.DELETE_SNAPSHOT, arg)


async def list_snapshots(agent: Agent, canister_id: Principal) -> list[management.Snapshot]:
    reply = await update(agent, management.LIST_SNAPSHOTS, management.encode_canister_id_args(canister_id))
    return management.decode_snapshots_reply(reply)
