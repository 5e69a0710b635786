"""What the replicas of a running local subnet say about themselves.

Every replica answers a status request (height, finalized and certified heights, peers,
rejections, its last error); these helpers ask all of them, shape the answers into
records for `subnet status`, and wait until a restarted replica has caught up.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import trio

from client.agent import Agent, Endpoint
from client.network import endpoints
from subnet.processes import launcher
from vocab.errors import CodecError
from vocab.genesis import Genesis
from vocab.messages import StatusReply


async def collect_status(genesis: Genesis) -> list[tuple[Endpoint, StatusReply | None, str]]:
    """Each replica's status reply, or None and why it did not answer."""
    agent = Agent(endpoints(genesis), genesis.committee)
    rows: list[tuple[Endpoint, StatusReply | None, str]] = []
    for endpoint in agent.endpoints:
        try:
            rows.append((endpoint, await agent.status(endpoint, timeout=2.0), ""))
        except (OSError, trio.TooSlowError, trio.BrokenResourceError, CodecError) as exc:
            rows.append((endpoint, None, f"{type(exc).__name__}: {exc}".rstrip(": ")))
    return rows


async def wait_for_heights(
    genesis: Genesis, *, within: int | None = 0, at_least: int = 1, timeout: float = 60.0
) -> int:
    """Wait until every replica answers, has finalized ``at_least`` heights and is within
    ``within`` heights of the others (a restarted replica has caught up; None: any spread).
    Returns the lowest finalized height; raises ``trio.TooSlowError`` after ``timeout`` s."""
    with trio.fail_after(timeout):
        while True:
            rows = await collect_status(genesis)
            heights = [reply.finalized_height for _, reply, _ in rows if reply is not None]
            if (
                len(heights) == len(rows)
                and min(heights) >= at_least
                and (within is None or max(heights) - min(heights) <= within)
            ):
                return min(heights)
            await trio.sleep(0.2)


def status_records(root: Path, genesis: Genesis) -> list[dict[str, Any]]:
    """One record per replica, as `subnet status --output json` prints them: a replica that
    does not answer is shown with its pid (if its process lives) and why it is silent."""
    pids = launcher.read_pids(root)
    rows = trio.run(collect_status, genesis)
    records = []
    for endpoint, answer, error in rows:
        reply = answer
        if reply is not None and not launcher.is_replica_of(reply.pid, root, endpoint.index):
            # Another subnet (another project, or one started with --clean elsewhere)
            # answers at this address: its pid and heights are not this replica's.
            error = f"not running; pid {reply.pid} of another subnet answers at {endpoint.address}"
            reply = None
        pid = pids.get(endpoint.index)
        records.append(
            {
                "replica": endpoint.index,
                "pid": reply.pid
                if reply
                else (pid if pid and launcher.is_replica_of(pid, root, endpoint.index) else None),
                "address": endpoint.address,
                "up": reply is not None,
                "height": reply.height if reply else None,
                "finalized_height": reply.finalized_height if reply else None,
                "certified_height": reply.certified_height if reply else None,
                "sui_epoch": reply.sui_epoch if reply else None,
                "peers": sorted(set(reply.peers_out) & set(reply.peers_in)) if reply else [],
                "last_error": reply.last_error if reply else error,
                "rejected": reply.rejected if reply else {},
                "checkpoint_height": reply.checkpoint_height if reply else None,
                "replayed_heights": reply.replayed_heights if reply else None,
            }
        )
    return records
