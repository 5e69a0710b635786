"""kill -9 of replicas while a Motoko counter is being upgraded again and again, on four
replica processes: the upgrades keep landing with 3 of 4 replicas, the killed replicas
come back and catch up, and every replica ends with the same state hash and count.

Real processes in real time: waits are on conditions with a bound, never fixed sleeps.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
import trio

from client.agent import Agent
from client.identity import IdentityStore
from client.motoko import NodeNotFound, compile_motoko
from client.network import LOCAL_DIR, endpoints
from subnet.processes import launcher
from subnet.processes.status import wait_for_heights
from subnet.samples import source
from tests.processes import restored_state_hashes, subnet_cli
from vocab import candid, management
from vocab.genesis import Genesis
from vocab.principal import Principal

pytestmark = pytest.mark.slow  # replica processes: the slow tier (tests/README.md)

UNIT = candid.encode([], [])
MANAGEMENT = Principal.management()
ROUNDS = 6


def test_kill_9_during_upgrades_then_restart_gives_equal_state_everywhere(local_subnet: Path) -> None:
    try:
        modules = [compile_motoko(source("counter_v1")).wasm, compile_motoko(source("counter_v2")).wasm]
    except NodeNotFound as exc:
        pytest.skip(str(exc))
    root = local_subnet / LOCAL_DIR
    genesis = Genesis.from_json((root / "genesis.json").read_text())
    agent = Agent(endpoints(genesis), genesis.committee, IdentityStore().current())
    upgraded = [trio.Event() for _ in range(ROUNDS)]

    async def ok(canister: object, method: str, arg: bytes) -> bytes:
        return (await agent.call(canister, method, arg, timeout=60)).raise_if_rejected()  # type: ignore[arg-type]

    async def upgrades(canister: object) -> None:
        for round_ in range(ROUNDS):
            module = modules[(round_ + 1) % 2]
            mode = management.UpgradeFlags(None, "keep")
            await ok(
                MANAGEMENT,
                management.INSTALL_CODE,
                management.encode_args(
                    management.INSTALL_CODE, management.InstallCodeArgs(mode, canister, module, UNIT)
                ),
            )
            upgraded[round_].set()
            count = candid.decode(await ok(canister, "increment", UNIT), [candid.NAT])
            assert count == [round_ + 2]

    async def faults() -> None:
        # Kill a replica while the next upgrade is in flight, bring it back two rounds later.
        for victim, kill_after, restart_after in ((1, 0, 2), (2, 3, 5)):
            await upgraded[kill_after].wait()
            launcher.kill_replica(root, victim, signal.SIGKILL)
            await upgraded[restart_after].wait()
            await trio.to_thread.run_sync(lambda: subnet_cli(local_subnet, "start", "--background"))

    async def scenario() -> int:
        created = await ok(
            MANAGEMENT,
            management.CREATE,
            management.encode_args(management.CREATE, management.CreateCanisterArgs(10**13)),
        )
        canister = management.decode_reply(management.CREATE, created).canister_id
        await ok(
            MANAGEMENT,
            management.INSTALL_CODE,
            management.encode_args(
                management.INSTALL_CODE, management.InstallCodeArgs("install", canister, modules[0], UNIT)
            ),
        )
        assert candid.decode(await ok(canister, "increment", UNIT), [candid.NAT]) == [1]
        # The agent keeps these four connections; those to the replicas killed below go
        # stale, and the final query must replace them rather than fail.
        assert (await agent.query(canister, "get", UNIT, replicas_agree=4)).reply == candid.encode(
            [1], [candid.NAT]
        )
        with trio.fail_after(240):
            async with trio.open_nursery() as nursery:
                nursery.start_soon(upgrades, canister)
                nursery.start_soon(faults)
            # every replica, including the two that were killed, catches up
            await wait_for_heights(genesis, within=0)
            answers = await agent.query(canister, "get", UNIT, replicas_agree=4)
        return candid.decode(answers.reply, [candid.NAT])[0]

    assert trio.run(scenario) == ROUNDS + 1
    subnet_cli(local_subnet, "stop")
    assert len(restored_state_hashes(root)) == 1
