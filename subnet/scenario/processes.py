"""Running a scenario on replica processes (``backend = "processes"``).

The same file as on the simulator: a fresh subnet of ``[subnet] replicas`` processes
(``subnet.processes``) in a scratch folder, the scenario's faults applied in real time by
a nemesis, the register or counter clients (``subnet.processes.clients``) recording
their history, and the same checks afterwards:

- ``crash``: SIGKILL, and after ``duration`` a restart (the replica comes back from its
  SQLite store and catches up, as after a power cut);
- ``pause``: SIGSTOP, and after ``duration`` SIGCONT;
- ``disk-loss``: SIGKILL, the replica's database deleted (``replica.db`` and its SQLite
  journal files), and after ``duration`` a restart with nothing: it fetches the chain
  from its peers;
- ``partition`` (every shape): a link filter sent to each replica through its control
  channel (``subnet.processes.control``: signed with its own node key), dropping all
  traffic with the peers it must not reach; a heal sends empty filters;
- ``latency``, ``loss``, ``duplication`` (and ``[network] loss`` and ``duplication``
  from the start): link conditions through the same channel: each target holds the
  frames it sends ``delay`` longer, every replica loses or doubles each frame it sends
  with the probability, drawn from a generator seeded with the scenario's seed and its
  index (which frames are hit depends on real timing: not repeatable byte for byte);
- ``clock-skew``: the target's clock offset through the same channel (its events carry
  its own time, its timers fire on it);
- ``upgrade``: the clients' controller upgrades their canister under load to the
  module named (the simulator's variants), resubmitting to the next replica as the
  operations do; the upgrade check reads the module each honest replica's stored chain
  ends with;
- ``byzantine`` with ``behaviour = "silent"`` or ``"garbage"``: through the same channel,
  the target sends nothing, or random bytes for its own signatures (``node.byzantine``,
  what the simulator's behaviours of those names do); with ``"equivocator"`` or
  ``"double-voter"`` it runs ICC's attacks on the actions of its honest core
  (``node.consensus.icc.attacks``, the simulator's code); with ``"twins"`` a second
  process with the target's key starts from a copy of its database (SQLite's backup) on
  a port of its own; the original blocks the second half of its peers, the twin the
  first, and the second half dial the twin instead of the original (the control
  channel's redirect), so each half sees a different node under one identity, as the
  simulator's twins do; at the end of the fault the twin is killed and the links heal.
  A Byzantine target is left out of the checks.

Each replica's settings are the sum of the faults in force; a replica that restarts
meanwhile is given them again as soon as it answers. ``"block-maker"`` targets (the
nemesis cannot tell the leader of a round), bug switches and the lifecycle and Sui
workloads exist only on the simulator: such a file is refused before anything starts,
naming the key, its line and what the process backend supports.

When the run ends, paused replicas are resumed and all are stopped; the checks then read
what each replica persisted: agreement over the finalized chains in the stores,
convergence over the state hashes of each replica's own chain replayed from its store,
liveness over the heights polled every ``POLL_S`` during the run, durability and
linearizability over the history. Real time makes a run unrepeatable: there is no trace
hash, and the results folder keeps the replicas' logs, the nemesis log and the heights
instead of a trace.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import trio

from client.agent import Agent
from client.network import endpoints
from node.consensus.block import ChainBlock
from node.execution import SubnetStateMachine
from node.replica import Replica
from node.runtime import REPLICA_BEHAVIOURS
from node.storage import BlockStore
from subnet.processes import launcher
from subnet.processes.clients import ProcessClients
from subnet.processes.control import Controls, set_controls
from subnet.processes.layout import create_subnet, load_node_key, replica_dir
from subnet.processes.supervision import wait_for_replicas
from subnet.scenario.checks import (
    CheckResult,
    agreement,
    convergence,
    durability,
    honest,
    linearizable,
    liveness,
    module_hash,
    upgrade_outcomes,
    verdict_of,
)
from subnet.scenario.schedule import Schedule, compile_faults
from subnet.scenario.spec import KeyLines, Scenario, ScenarioError
from subnet.sim.clients import SUI_KINDS, ClientsConfig
from subnet.sim.faults import (
    ClockSkew,
    Crash,
    Cut,
    DiskLoss,
    Heal,
    NetworkChange,
    Partition,
    Pause,
    Restart,
    Resume,
    SetBehaviour,
    Upgrade,
)
from subnet.sim.runner import Disagreement
from vocab.errors import CodecError, SubnetError
from vocab.genesis import SECOND, Genesis
from vocab.messages import PPM
from vocab.principal import Principal

__all__ = ["PROCESS_FAULTS", "ProcessOutcome", "ProcessRecord", "check_supported", "run_on_processes"]

PROCESS_FAULTS = (
    "crash",
    "pause",
    "disk-loss",
    "partition",
    "latency",
    "loss",
    "duplication",
    "clock-skew",
    "byzantine",
    "upgrade",
)
PROCESS_BEHAVIOURS = (*(name for name in REPLICA_BEHAVIOURS if name != "honest"), "twins")
"""The Byzantine behaviours on the process backend: those a replica process can be
switched to (``node.runtime``), and twins (a second process with the replica's key)."""
POLL_S = 0.25
STATUS_TIMEOUT_S = 0.5


class UnsupportedOnProcesses(ScenarioError):
    """The scenario asks for something the process backend cannot do."""


def check_supported(scenario: Scenario, text: str | None = None) -> None:
    """Refuse, naming the key and its line, what only the simulator can run."""
    lines = KeyLines(text) if text is not None else None

    def fail(path: tuple[Any, ...], problem: str) -> None:
        line = lines.line(path) if lines is not None else None
        where = f"line {line}: " if line is not None else ""
        name = ".".join(str(part) for part in path if not isinstance(part, int))
        for part in path:
            if isinstance(part, int):
                head, _, tail = name.partition(".")
                name = f"{head}[{part}].{tail}" if tail else f"{head}[{part}]"
        raise UnsupportedOnProcesses(f"{where}{name}: {problem}")

    if scenario.subnet.bugs:
        fail(("subnet", "bugs"), 'bug switches exist only in the simulator (backend = "sim")')
    for index, workload in enumerate(scenario.workloads):
        if workload.kind in SUI_KINDS:
            fail(
                ("workload", index, "kind"),
                f'the {workload.kind} workload runs only on the simulator (backend = "sim"): its Sui '
                "clients, and the package upgrade and migrate, are not built for replica processes yet",
            )
        if not workload.records_history:
            fail(
                ("workload", index, "kind"),
                f"the {workload.kind} workload runs only on the simulator "
                "(the process backend runs register and counter)",
            )
    for index, fault in enumerate(scenario.faults):
        unsupported = [kind for kind in fault.kinds if kind not in PROCESS_FAULTS]
        if fault.kind == "random" and unsupported:
            fail(
                ("fault", index, "kinds"),
                f"a random nemesis on the process backend draws only {', '.join(PROCESS_FAULTS)}, "
                f"not {', '.join(unsupported)} (set kinds = {list(PROCESS_FAULTS)})",
            )
        elif fault.kind not in PROCESS_FAULTS and fault.kind != "random":
            fail(
                ("fault", index, "kind"),
                f"{'an' if fault.kind[0] in 'aeiou' else 'a'} {fault.kind} fault is not supported on the "
                "process backend: the replicas' control "
                f"channel has no hook for it yet (supported there: {', '.join(PROCESS_FAULTS)})",
            )
        if fault.kind == "byzantine" and fault.behaviour not in PROCESS_BEHAVIOURS:
            fail(
                ("fault", index, "behaviour"),
                f"the {fault.behaviour} behaviour is not supported on the process backend (there: "
                f"{', '.join(PROCESS_BEHAVIOURS)})",
            )
        if fault.target == "block-maker":
            fail(
                ("fault", index, "target"),
                '"block-maker" is not supported on the process backend (it cannot tell the leader of a round)',
            )


@dataclass
class ProcessRecord:
    """What a run on processes left behind, as the checks read it (``RunView``)."""

    genesis: Genesis
    chains: list[list[ChainBlock]]
    state_hashes: dict[int, dict[int, str]]
    persisted: list[tuple[int, int, int]]
    end_ns: int
    history: ProcessClients | None
    start_ns: int = 0
    byzantine: dict[int, None] = field(default_factory=dict)
    disagreements: list[Disagreement] = field(default_factory=list)
    finalized_hashes: dict[int, tuple[bytes, int]] = field(default_factory=dict)
    module_hashes: dict[int, str | None] = field(default_factory=dict)
    """The module the clients' canister runs at the end of each replica's stored chain."""

    def __post_init__(self) -> None:
        for node, chain in enumerate(self.chains):
            for block in chain:
                first_hash, first_node = self.finalized_hashes.setdefault(block.height, (block.hash, node))
                if first_hash != block.hash:
                    self.disagreements.append(
                        Disagreement(self.end_ns, block.height, node, block.hash, first_node, first_hash)
                    )

    @property
    def n(self) -> int:
        return len(self.chains)

    def chain(self, node: int) -> list[ChainBlock]:
        return self.chains[node]

    def executed_state_hashes(self) -> dict[int, dict[int, str]]:
        return self.state_hashes


@dataclass
class ProcessOutcome:
    scenario: Scenario
    schedule: Schedule
    record: ProcessRecord
    checks: list[CheckResult]
    verdict: str
    nemesis: list[dict[str, Any]]
    """What the nemesis did, when (seconds since the start)."""
    heights: list[dict[str, Any]]
    """Each replica's finalized height as polled (seconds since the start); None: no answer."""
    logs: dict[int, str]
    """Each replica's log."""
    twins: dict[int, dict[str, Any]] = field(default_factory=dict)
    """Each twin that ran, by the replica it doubled: its log and the height its own
    store finalized (it follows the chain through its half of the peers only)."""


def blocked_by_groups(groups: tuple[tuple[int, ...], ...], n: int) -> dict[int, list[int]]:
    """Each replica's blocked peers under a partition into groups (a replica in no group
    is alone)."""
    group_of = {node: index for index, group in enumerate(groups) for node in group}
    return {
        node: [
            peer
            for peer in range(n)
            if peer != node and (node not in group_of or group_of.get(peer) != group_of[node])
        ]
        for node in range(n)
    }


def blocked_by_links(links: tuple[tuple[int, int], ...], n: int) -> dict[int, list[int]]:
    """Each replica's blocked peers when these directed links are cut (a filter blocks
    both directions, so a one-way cut blocks both ways)."""
    blocked: dict[int, dict[int, None]] = {node: {} for node in range(n)}
    for src, dst in links:
        blocked[src][dst] = None
        blocked[dst][src] = None
    return {node: sorted(peers) for node, peers in blocked.items()}


@dataclass
class NetworkState:
    """The faults in force that the control channel carries, as the nemesis keeps them."""

    n: int
    seed: int
    blocked: dict[int, list[int]] = field(default_factory=dict)
    extra_delay_ns: dict[int, int] = field(default_factory=dict)
    loss: float = 0.0
    duplication: float = 0.0
    skew_ns: dict[int, int] = field(default_factory=dict)
    behaviour: dict[int, str] = field(default_factory=dict)
    twins: dict[int, str] = field(default_factory=dict)
    """The replicas with a twin running, and where the twin listens (``HOST:PORT``)."""

    def halves(self, node: int) -> tuple[list[int], list[int]]:
        """(the original's peers, the twin's peers) of ``node``: the others in index
        order, split as the simulator's twins split them (``subnet.sim.behaviour.Twins``)."""
        peers = [peer for peer in range(self.n) if peer != node]
        middle = (len(peers) + 1) // 2
        return peers[:middle], peers[middle:]

    def apply(self, change: dict[str, Any]) -> None:
        """A change from ``_faults``: new blocked peers, extra delays, loss, duplication, skew."""
        if "blocked" in change:
            self.blocked = change["blocked"]
        if change.get("extra_delay_ns") is not None:
            self.extra_delay_ns = dict(change["extra_delay_ns"])
        if change.get("loss") is not None:
            self.loss = change["loss"]
        if change.get("duplication") is not None:
            self.duplication = change["duplication"]
        if "skew" in change:
            node, offset = change["skew"]
            self.skew_ns[node] = offset
        if "behaviour" in change:
            node, name = change["behaviour"]
            self.behaviour[node] = name

    def controls(self, node: int) -> Controls:
        """What replica ``node`` is told. With twins: a replica with a twin blocks the
        twin's half of its peers; a peer in that half dials the twin instead of it."""
        blocked = set(self.blocked.get(node, ()))
        redirect_peer, redirect_address = -1, ""
        for twin, address in sorted(self.twins.items()):
            _, theirs = self.halves(twin)
            if node == twin:
                blocked.update(theirs)
            elif node in theirs:
                redirect_peer, redirect_address = twin, address
        behaviour = self.behaviour.get(node, "honest")
        return Controls(
            blocked=tuple(sorted(blocked)),
            delay_ns=self.extra_delay_ns.get(node, 0),
            loss_ppm=min(PPM - 1, round(self.loss * PPM)),
            duplication_ppm=min(PPM - 1, round(self.duplication * PPM)),
            clock_offset_ns=self.skew_ns.get(node, 0),
            seed=self.seed if self.loss or self.duplication or behaviour == "garbage" else 0,
            behaviour="honest" if behaviour == "twins" else behaviour,
            redirect_peer=redirect_peer,
            redirect_address=redirect_address,
        )

    def twin_controls(self, node: int) -> Controls:
        """What the twin of ``node`` is told: the original's settings, but it blocks the
        original's half of the peers instead of its own."""
        mine, _ = self.halves(node)
        blocked = set(self.blocked.get(node, ())) | set(mine)
        return replace(self.controls(node), blocked=tuple(sorted(blocked)))


def _twin_change(change: dict[str, Any], state: NetworkState) -> tuple[int, bool] | None:
    """Whether a change starts a twin of a replica (node, True) or ends one (node, False)."""
    if "behaviour" not in change:
        return None
    node, name = change["behaviour"]
    if name == "twins":
        return node, True
    return (node, False) if node in state.twins else None


def _faults(schedule: Schedule, n: int) -> list[tuple[int, str, int, dict[str, Any] | None]]:
    """(time, action, replica, change) of every process fault, in time order: a change
    (``NetworkState.apply``) for what the control channel carries (replica -1: all or
    several), None for signals and restarts."""
    actions: list[tuple[int, str, int, dict[str, Any] | None]] = []
    for fault in schedule.faults:
        if isinstance(fault, Partition):
            actions.append((fault.at_ns, "partition", -1, {"blocked": blocked_by_groups(fault.groups, n)}))
        elif isinstance(fault, Cut):
            actions.append((fault.at_ns, "partition", -1, {"blocked": blocked_by_links(fault.links, n)}))
        elif isinstance(fault, Heal):
            actions.append((fault.at_ns, "heal", -1, {"blocked": {}}))
        elif isinstance(fault, NetworkChange):
            kinds = [
                name
                for name, value in (
                    ("latency", fault.extra_delay_ns),
                    ("loss", fault.loss),
                    ("duplication", fault.duplication),
                )
                if value is not None
            ]
            change: dict[str, Any] = {
                "extra_delay_ns": fault.extra_delay_ns,
                "loss": fault.loss,
                "duplication": fault.duplication,
            }
            actions.append((fault.at_ns, "+".join(kinds), -1, change))
        elif isinstance(fault, ClockSkew):
            actions.append((fault.at_ns, "clock-skew", fault.node, {"skew": (fault.node, fault.offset_ns)}))
        elif isinstance(fault, SetBehaviour):
            behaviour: dict[str, Any] = {"behaviour": (fault.node, fault.behaviour)}
            actions.append((fault.at_ns, f"byzantine {fault.behaviour}", fault.node, behaviour))
        elif isinstance(fault, Crash):
            actions.append((fault.at_ns, "kill", fault.node, None))
        elif isinstance(fault, Restart):
            actions.append((fault.at_ns, "restart", fault.node, None))
        elif isinstance(fault, Pause):
            actions.append((fault.at_ns, "stop", fault.node, None))
        elif isinstance(fault, Resume):
            actions.append((fault.at_ns, "continue", fault.node, None))
        elif isinstance(fault, DiskLoss):
            actions.append((fault.at_ns, "wipe", fault.node, None))
        elif isinstance(fault, Upgrade):
            actions.append((fault.at_ns, "upgrade", -1, {"upgrade": fault.module}))
        else:  # check_supported refused it before anything started
            raise UnsupportedOnProcesses(f"{type(fault).__name__} is not supported on the process backend")
    return sorted(actions, key=lambda item: item[0])


def _pid(root: Path, node: int) -> int | None:
    pid = launcher.read_pids(root).get(node)
    return pid if pid is not None and launcher.is_replica_of(pid, root, node) else None


def _apply(root: Path, action: str, node: int, paused: dict[int, None]) -> str:
    pid = _pid(root, node)
    if action == "restart":
        if pid is not None:
            return "already running"
        return f"pid {launcher.spawn_replica(root, node)}"
    if action == "wipe":
        if pid is not None:
            paused.pop(node, None)
            launcher.kill_replica(root, node, signal.SIGKILL)
        removed = []
        for path in sorted(replica_dir(root, node).glob("replica.db*")):
            path.unlink()
            removed.append(path.name)
        return f"pid {pid} killed, removed {', '.join(removed) or 'nothing'}"
    if pid is None:
        return "not running"
    if action == "kill":
        paused.pop(node, None)
        launcher.kill_replica(root, node, signal.SIGKILL)
    elif action == "stop":
        paused[node] = None
        os.kill(pid, signal.SIGSTOP)
    else:
        paused.pop(node, None)
        os.kill(pid, signal.SIGCONT)
    return f"pid {pid}"


async def _run(
    scenario: Scenario, schedule: Schedule, root: Path, genesis: Genesis
) -> tuple[ProcessClients | None, list[dict[str, Any]], list[dict[str, Any]], list[tuple[int, int, int]]]:
    origin = trio.current_time()
    now_s = lambda: trio.current_time() - origin
    nemesis: list[dict[str, Any]] = []
    heights: list[dict[str, Any]] = []
    persisted: list[tuple[int, int, int]] = []
    paused: dict[int, None] = {}
    clients = None
    for workload in scenario.workloads:
        if workload.records_history:
            config = ClientsConfig(
                workload.kind,
                clients=workload.clients,
                rate_per_s=workload.rate,
                keys=workload.keys,
                retry_ns=workload.retry_ns,
                timeout_ns=workload.timeout_ns,
            )
            clients = ProcessClients(config, genesis, scenario.seed, origin)
    agent = Agent(endpoints(genesis), genesis.committee)

    n = len(genesis.nodes)
    state = NetworkState(
        n, scenario.seed, loss=scenario.network.loss, duplication=scenario.network.duplication
    )
    given: dict[int, tuple[int, Controls]] = {}
    """The controls each replica process (by pid) has applied."""
    keys = [load_node_key(root, node) for node in range(n)]
    faults = _faults(schedule, n)

    async def give_controls(node: int, report: dict[int, str] | None = None) -> None:
        pid = _pid(root, node)
        controls = state.controls(node)
        target = (pid or 0, controls)
        if pid is None or node in paused or given.get(node, (pid, Controls())) == target:
            if report is not None:
                report[node] = "down" if pid is None else "paused" if node in paused else "already"
            return
        reply = await set_controls(agent.endpoints[node], keys[node], controls, timeout=1.0)
        if isinstance(reply, str) or not reply.applied:
            if report is not None:
                report[node] = reply if isinstance(reply, str) else f"refused: {reply.reason}"
            return
        given[node] = target
        if report is not None:
            report[node] = controls.describe()

    twin_pids: dict[int, int] = {}
    twin_given: dict[int, tuple[int, Controls]] = {}

    async def give_twin_controls(node: int, report: dict[int, str] | None = None) -> None:
        pid, address = twin_pids.get(node), state.twins.get(node)
        if pid is None or address is None:
            return
        controls = state.twin_controls(node)
        if twin_given.get(node) == (pid, controls):
            return
        host, _, port = address.rpartition(":")
        endpoint = replace(agent.endpoints[node], host=host, port=int(port))
        reply = await set_controls(endpoint, keys[node], controls, timeout=1.0)
        if isinstance(reply, str) or not reply.applied:
            if report is not None:
                report[node] = (
                    report.get(node, "") + f"; its twin: {reply if isinstance(reply, str) else reply.reason}"
                )
            return
        twin_given[node] = (pid, controls)
        if report is not None:
            report[node] = report.get(node, "") + f"; its twin at {address}: {controls.describe()}"

    async def give_all(action: str) -> None:
        report: dict[int, str] = {}
        async with trio.open_nursery() as nursery:
            for index in range(n):
                nursery.start_soon(give_controls, index, report)
        async with trio.open_nursery() as nursery:
            for index in sorted(twin_pids):
                nursery.start_soon(give_twin_controls, index, report)
        detail = "; ".join(f"{index}: {text}" for index, text in sorted(report.items()))
        nemesis.append({"time_s": round(now_s(), 6), "action": action, "replica": -1, "detail": detail})

    async def controls_task() -> None:
        while True:
            await trio.sleep(0.3)
            async with trio.open_nursery() as nursery:
                for node in range(n):
                    nursery.start_soon(give_controls, node)
                for node in sorted(twin_pids):
                    nursery.start_soon(give_twin_controls, node)

    async def nemesis_task() -> None:
        if any(state.controls(node) != Controls() for node in range(n)):
            await give_all("network")  # [network] loss and duplication, from the start
        for at_ns, action, node, change in faults:
            await trio.sleep_until(origin + at_ns / SECOND)
            if change is not None and "upgrade" in change:
                # The clients' controller upgrades their canister; the schedule goes on.
                module = change["upgrade"]
                if clients is not None:
                    nursery.start_soon(clients.upgrade, module)
                detail = f"to {module}" if clients is not None else "no canister to upgrade"
                nemesis.append(
                    {"time_s": round(now_s(), 6), "action": action, "replica": -1, "detail": detail}
                )
            elif change is not None:
                twin = _twin_change(change, state)
                if twin is not None and twin[1]:
                    # A twin of the replica starts from a copy of its disk, as the
                    # simulator's does; until its filter arrives it may reach every peer.
                    pid, address = await trio.to_thread.run_sync(launcher.spawn_twin, root, twin[0])
                    twin_pids[twin[0]], state.twins[twin[0]] = pid, address
                elif twin is not None and twin[0] in twin_pids:
                    await trio.to_thread.run_sync(launcher.kill_twin, twin_pids.pop(twin[0]))
                    state.twins.pop(twin[0], None)
                state.apply(change)
                await give_all(action)
                nemesis[-1]["replica"] = node
            else:
                detail = await trio.to_thread.run_sync(_apply, root, action, node, paused)
                nemesis.append(
                    {"time_s": round(now_s(), 6), "action": action, "replica": node, "detail": detail}
                )

    async def ask(node: int, found: list[int | None]) -> None:
        if node in paused:
            return
        with trio.move_on_after(STATUS_TIMEOUT_S):
            try:
                reply = await agent.status(agent.endpoints[node], timeout=STATUS_TIMEOUT_S)
            except (OSError, trio.BrokenResourceError, trio.TooSlowError, CodecError):
                return
            found[node] = reply.finalized_height

    async def poll_task() -> None:
        best = [0] * len(genesis.nodes)
        while True:
            at = now_s()
            found: list[int | None] = [None] * len(genesis.nodes)
            async with trio.open_nursery() as nursery:
                for node in range(len(genesis.nodes)):
                    nursery.start_soon(ask, node, found)
            for node, height in enumerate(found):
                if height is not None and height > best[node]:
                    best[node] = height
                    persisted.append((int(now_s() * SECOND), node, height))
            heights.append({"time_s": round(at, 6), "heights": found})
            await trio.sleep(POLL_S)

    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(nemesis_task)
            nursery.start_soon(poll_task)
            if any(change is not None for _, _, _, change in faults) or any(
                state.controls(node) != Controls() for node in range(n)
            ):
                nursery.start_soon(controls_task)
            if clients is not None:
                nursery.start_soon(clients.run)
            await trio.sleep_until(origin + scenario.duration_ns / SECOND)
            nursery.cancel_scope.cancel()
    finally:
        for twin_pid in twin_pids.values():  # a twin is not in the pid file: nothing else stops it
            launcher.kill_twin(twin_pid)
    for node in sorted(paused):
        pid = _pid(root, node)
        if pid is not None:
            os.kill(pid, signal.SIGCONT)
    return clients, nemesis, heights, persisted


def _stored(
    root: Path, genesis: Genesis, canister: Principal | None = None
) -> tuple[list[list[ChainBlock]], dict[int, dict[int, str]], dict[int, str | None]]:
    """Each replica's finalized chain from its store, the state hash after each height of
    it, replayed from that store alone, and the module ``canister`` runs at its end."""
    chains: list[list[ChainBlock]] = []
    hashes: dict[int, dict[int, str]] = {}
    modules: dict[int, str | None] = {}
    for index in range(len(genesis.nodes)):
        store = BlockStore(replica_dir(root, index) / "replica.db")
        try:
            stored = list(store.finalized_blocks(1))
        finally:
            store.close()
        replica = Replica.restore(
            genesis,
            index,
            load_node_key(root, index),
            [item.block for item in stored],
            [item.proof for item in stored],
            checkpoint_interval=0,
        )
        blocks = [replica.finalized_block(height) for height in range(1, len(stored) + 1)]
        chains.append([block for block in blocks if block is not None])
        for height, state_hash in replica.state_hashes.items():
            hashes.setdefault(height, {})[index] = state_hash.hex()
        if canister is not None and isinstance(replica.state, SubnetStateMachine):
            modules[index] = module_hash(replica.state, canister)
    return chains, hashes, modules


def run_on_processes(
    scenario: Scenario, text: str | None = None, *, keep: Path | None = None
) -> ProcessOutcome:
    """Run ``scenario`` on fresh replica processes and check it; nothing is left running.
    ``keep``: a folder to keep the subnet's files in (default: a scratch folder, removed)."""
    check_supported(scenario, text)
    schedule = compile_faults(scenario)
    root = keep if keep is not None else Path(tempfile.mkdtemp(prefix="subnet-scenario-"))
    n = scenario.subnet.replicas
    try:
        port = launcher.free_port_range(n)
        epoch_ms = None if scenario.subnet.epoch_ns is None else max(1, scenario.subnet.epoch_ns // 1_000_000)
        genesis = create_subnet(
            root, n, port, max(1, scenario.subnet.block_time_ns // 1_000_000), epoch_duration_ms=epoch_ms
        )
        spawned = {index: launcher.spawn_replica(root, index) for index in range(n)}
        failures = trio.run(wait_for_replicas, root, genesis, spawned)
        if failures:
            raise SubnetError(
                "replicas did not come up: "
                + "; ".join(f"{index}: {why}" for index, why in sorted(failures.items()))
            )
        clients, nemesis, heights, persisted = trio.run(_run, scenario, schedule, root, genesis)
        launcher.stop_processes(root)
        chains, state_hashes, modules = _stored(root, genesis, clients.canister if clients else None)
        logs = {
            index: (replica_dir(root, index) / "replica.log").read_text(errors="replace")
            for index in range(n)
        }
        twins = {
            index: _twin_record(root / f"twin-{index}")
            for index in range(n)
            if (root / f"twin-{index}").is_dir()
        }
    finally:
        launcher.stop_processes(root)
        if keep is None:
            shutil.rmtree(root, ignore_errors=True)
    record = ProcessRecord(
        genesis,
        chains,
        state_hashes,
        persisted,
        scenario.duration_ns,
        clients,
        byzantine=dict(schedule.byzantine),
        module_hashes=modules,
    )
    results: list[CheckResult] = []
    if scenario.checks.agreement:
        results.append(agreement(record))
    if scenario.checks.convergence:
        results.append(convergence(record))
    if scenario.checks.liveness_ns is not None:
        results.append(liveness(record, scenario, scenario.checks.liveness_ns))
    if scenario.checks.durability:
        results.append(durability(record))
    if scenario.checks.linearizable:
        results.append(linearizable(record, scenario.checks.linearizable_steps))
    if any(fault.kind == "upgrade" for fault in scenario.faults):
        good = set(honest(record))
        results.append(
            upgrade_outcomes(
                clients.canister if clients else None,
                clients.upgrades if clients else [],
                {str(node): value for node, value in sorted(modules.items()) if node in good},
            )
        )
    return ProcessOutcome(
        scenario, schedule, record, results, verdict_of(results), nemesis, heights, logs, twins
    )


def _twin_record(directory: Path) -> dict[str, Any]:
    """What a twin left in ``directory``: its log and its store's finalized height."""
    store = BlockStore(directory / "replica.db")
    try:
        height = store.finalized_height()
    finally:
        store.close()
    return {"log": (directory / "replica.log").read_text(errors="replace"), "finalized_height": height}


def process_files(outcome: ProcessOutcome) -> dict[str, str]:
    """The files of a process run's results folder besides ``scenario.toml``, ``summary.json``
    and the history: the nemesis log, the polled heights, each replica's log."""
    files = {
        "nemesis.jsonl": "".join(json.dumps(item, sort_keys=True) + "\n" for item in outcome.nemesis),
        "heights.jsonl": "".join(json.dumps(item, sort_keys=True) + "\n" for item in outcome.heights),
    }
    for index, text in sorted(outcome.logs.items()):
        files[f"logs/replica-{index}.log"] = text
    for index, twin in sorted(outcome.twins.items()):
        files[f"logs/twin-{index}.log"] = twin["log"]
    return files
