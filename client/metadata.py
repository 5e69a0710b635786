"""Read a deployed module's metadata (``candid:service``, ``motoko:stable-types``...).

On the IC a client reads ``/canister/<id>/metadata/<name>`` with ``read_state``; this
subnet has no state tree to read, so the management canister's ``canister_metadata``
query stands in for it (see ``vocab.management``). The upgrade checks use this to learn
what is deployed before they compare it with what is about to be installed.
"""

from __future__ import annotations

from client import manage
from client.agent import Agent
from vocab import management
from vocab.errors import RejectError, SubnetError
from vocab.principal import Principal

ABSENT = ("IC0536", "IC0537")
"""The error codes that mean "no such section" and "no module installed"."""


async def fetch_metadata(agent: Agent, canister_id: Principal, name: str) -> bytes | None:
    """The custom section ``name`` of the module installed in ``canister_id``.

    None when the canister has no module or its module has no such section; any other
    reject (not a controller for an ``icp:private`` section, no such canister, a replica
    that does not answer) raises ``RejectError``.
    """
    if not isinstance(name, str) or not name:
        raise SubnetError(f"a metadata section name is a non-empty text, not {name!r}")
    try:
        found = await manage.query(
            agent, management.CANISTER_METADATA, management.CanisterMetadataArgs(canister_id, name)
        )
    except RejectError as exc:
        if exc.error_code in ABSENT:
            return None
        raise
    return found.value
