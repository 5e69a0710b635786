"""Calling a canister method by name with a Candid text argument, as `dfx canister call`.

The argument is typed by the method's Candid signature when one is known
(``client.service``): an explicit ``.did``, else what the canister runs now (a newer
local build may not be deployed yet), else the project's build. The call is a query (the
fast path: one replica, or ``replicas_agree`` matching ones, answer signed) when asked or
when the method is a query and an update is not asked for; otherwise it goes through
consensus and its reply is certified. As in dfx, ``--query`` on a method known to be an
update is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from client.agent import Agent
from client.service import deployed_service, local_service
from vocab import candid
from vocab.errors import RejectCode, RejectError, SubnetError
from vocab.principal import Principal


@dataclass(frozen=True)
class CallOutcome:
    reply: bytes
    """The reply's Candid bytes."""
    method_type: candid.FuncType | None
    """The method's signature when it was known: the reply's types for decoding."""

    @property
    def result_types(self) -> list[candid.Type] | None:
        return list(self.method_type.results) if self.method_type is not None else None


async def call_method(
    agent: Agent,
    name: str,
    canister_id: Principal,
    method: str,
    argument: str | bytes,
    *,
    candid_file: Path | None = None,
    query: bool = False,
    update: bool = False,
    replicas_agree: int = 1,
) -> CallOutcome:
    """Call ``method`` of the canister ``name`` (``canister_id``) with ``argument``, Candid
    text or the message's bytes as they are (dfx's ``--type raw``); a reject raises
    ``RejectError``."""
    assert not (query and update), "a call is a query or an update, not both"
    service = None if candid_file is not None else await deployed_service(agent, canister_id)
    if service is None:
        service = local_service(name, candid_file)
    # a method the Candid does not name is called untyped, as dfx does (the canister may
    # have it; the Candid may be partial): the reply then prints with field ids
    method_type = service.methods.get(method) if service is not None else None
    if query and method_type is not None and not method_type.is_query:
        # dfx refuses this when it knows the method (src/dfx/src/commands/canister/call.rs)
        raise SubnetError(
            f"Not a query method: {method} is an update method, not a query method.\n"
            "Run the command without '--query'."
        )
    if isinstance(argument, bytes):
        arg = argument
    else:
        arg = candid.encode_text(argument, list(method_type.args) if method_type is not None else None)
    as_query = query or (not update and method_type is not None and method_type.is_query)
    if as_query:
        answer = await agent.query(canister_id, method, arg, replicas_agree=replicas_agree)
        if answer.status != "replied":
            raise RejectError(
                RejectCode(answer.reject_code), answer.reject_message, answer.error_code or None
            )
        return CallOutcome(answer.reply, method_type)
    result = await agent.call(canister_id, method, arg)
    return CallOutcome(result.raise_if_rejected(), method_type)
