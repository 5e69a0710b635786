"""The management canister (``aaaaa-aa``) as a client calls it: one typed function per
operation, so that commands, the demo and the benchmarks never handle Candid bytes
(``vocab.management``'s table encodes the argument dataclasses and decodes the replies).

Updates go through consensus and count only with a certified reply (the agent checks
the certificate); the query-only methods (``fetch_canister_logs``) take the fast path.
A reject is raised as ``RejectError`` with the IC's codes.
"""

from __future__ import annotations

from typing import Any

from client.agent import Agent
from vocab import management
from vocab.errors import RejectCode, RejectError, SubnetError
from vocab.principal import Principal

CANISTER_ID_OPERATIONS = (management.STOP, management.START, management.DELETE)
"""The methods whose only argument is a canister id and whose reply is empty."""


async def update(agent: Agent, method: str, argument: object) -> Any:
    """A management method called through consensus with its argument (a
    ``vocab.management`` dataclass); the certified reply, decoded."""
    result = await agent.call(Principal.management(), method, management.encode_args(method, argument))
    return management.decode_reply(method, result.raise_if_rejected())


async def query(agent: Agent, method: str, argument: object) -> Any:
    """A query-only management method, answered by one replica and signed; its reply, decoded."""
    answer = await agent.query(Principal.management(), method, management.encode_args(method, argument))
    if answer.status != "replied":
        code = answer.reject_code if answer.reject_code in tuple(RejectCode) else RejectCode.SYS_UNKNOWN
        raise RejectError(RejectCode(code), answer.reject_message, answer.error_code or None)
    return management.decode_reply(method, answer.reply)


async def create_canister(
    agent: Agent, cycles: int, controllers: tuple[Principal, ...] | None = None
) -> Principal:
    """A new empty canister with ``cycles``; its controllers are the caller unless given."""
    settings = management.Settings(controllers=controllers) if controllers else None
    created = await update(agent, management.CREATE, management.CreateCanisterArgs(cycles, settings))
    return created.canister_id


async def canister_status(agent: Agent, canister_id: Principal) -> management.CanisterStatusResult:
    return await update(agent, management.STATUS, management.CanisterIdRecord(canister_id))


async def canister_operation(agent: Agent, method: str, canister_id: Principal) -> None:
    """``stop_canister``, ``start_canister`` or ``delete_canister``."""
    assert method in CANISTER_ID_OPERATIONS, method
    await update(agent, method, management.CanisterIdRecord(canister_id))


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
        current = list((await canister_status(agent, canister_id)).settings.controllers)
        for principal in add:
            if principal not in current:
                current.append(principal)
        for principal in remove:
            if principal not in current:
                raise SubnetError(f"{principal} is not a controller of {name or canister_id}")
            current.remove(principal)
        controllers = tuple(current)
    settings = management.Settings(controllers=controllers)
    await update(agent, management.UPDATE_SETTINGS, management.UpdateSettingsArgs(canister_id, settings))
    return controllers


async def canister_info(agent: Agent, canister_id: Principal, changes: int) -> management.CanisterInfoResult:
    """Controllers, module hash and up to ``changes`` recent entries of the history."""
    return await update(agent, management.CANISTER_INFO, management.CanisterInfoArgs(canister_id, changes))


async def canister_logs(agent: Agent, canister_id: Principal) -> tuple[management.CanisterLogRecord, ...]:
    """The canister's log, oldest first; who may read it follows its log_visibility."""
    logs = await query(agent, management.FETCH_LOGS, management.CanisterIdRecord(canister_id))
    return logs.canister_log_records


async def take_snapshot(
    agent: Agent, canister_id: Principal, replace: bytes | None = None
) -> management.Snapshot:
    return await update(
        agent, management.TAKE_SNAPSHOT, management.TakeCanisterSnapshotArgs(canister_id, replace)
    )


async def load_snapshot(agent: Agent, canister_id: Principal, snapshot_id: bytes) -> None:
    await update(
        agent, management.LOAD_SNAPSHOT, management.LoadCanisterSnapshotArgs(canister_id, snapshot_id)
    )


async def delete_snapshot(agent: Agent, canister_id: Principal, snapshot_id: bytes) -> None:
    await update(
        agent, management.DELETE_SNAPSHOT, management.DeleteCanisterSnapshotArgs(canister_id, snapshot_id)
    )


async def list_snapshots(agent: Agent, canister_id: Principal) -> tuple[management.Snapshot, ...]:
    return await update(agent, management.LIST_SNAPSHOTS, management.CanisterIdRecord(canister_id))
