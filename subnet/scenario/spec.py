"""The scenario file (TOML): its keys, parsed into typed, validated dataclasses.

A scenario names a subnet, a network, a workload, a schedule of faults and the checks to
run (DESIGN.md 7). Parsing is all or nothing: the first problem raises ``ScenarioError``
naming the key and its line in the file, and nothing runs. ``tomllib`` gives no lines
for keys, so ``KeyLines`` finds them in the source text (top-level keys, ``[table]`` keys
and the keys of each ``[[array]]`` table in order).

Durations are strings with a unit ("60s", "100ms", "250us"); a bare number is refused,
since its unit would be a guess.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, replace
from typing import Any, NoReturn

from subnet.sim.behaviour import GENERIC_BEHAVIOURS
from subnet.sim.bugs import BUGS
from subnet.sim.clients import (
    CLIENT_KINDS,
    KIND_ALIASES,
    MAX_KEYS,
    MOTOKO_KINDS,
    OWNED_KINDS,
    SUI_KINDS,
    UPGRADE_MODULES,
)
from subnet.sim.icc_behaviour import ICC_BEHAVIOURS
from subnet.sim.latency import LatencySpecError, Matrix, parse_duration_ns, parse_latency
from subnet.sim.owned_transfers import MAX_REGISTERS
from subnet.sim.versioned_counter import VERSIONED_UPGRADES

__all__ = [
    "BACKENDS",
    "FAULT_KINDS",
    "RANDOM_KINDS",
    "SHAPES",
    "Checks",
    "FaultSpec",
    "KeyLines",
    "NetworkSpec",
    "Scenario",
    "ScenarioError",
    "SubnetSpec",
    "WorkloadSpec",
    "format_duration",
    "parse_scenario",
]

BACKENDS = ("sim", "processes")
FAULT_KINDS = (
    "crash",
    "pause",
    "partition",
    "latency",
    "loss",
    "duplication",
    "byzantine",
    "clock-skew",
    "disk-loss",
    "upgrade",
    "migrate",
    "random",
)
RANDOM_KINDS = ("crash", "pause", "partition", "latency", "loss", "duplication")
"""What a ``random`` nemesis may draw (``subnet.scenario.nemesis``)."""
SHAPES = ("one", "minority", "majority", "ring", "bridge", "groups")
WORKLOAD_KINDS = ("lifecycle", *CLIENT_KINDS)
PLANNED_KINDS: tuple[str, ...] = ()
"""Workloads the scenario format names but the subnet does not run yet (refused by name)."""
HISTORY_KINDS = CLIENT_KINDS
"""Workloads whose clients record a history (at most one per scenario: one history, one model)."""
BYZANTINE = tuple(name for name in {**GENERIC_BEHAVIOURS, **ICC_BEHAVIOURS} if name != "honest")
MAX_REPLICAS = 64
MAX_DURATION_NS = 24 * 3600 * 1_000_000_000

TOP_KEYS = (
    "name",
    "description",
    "seed",
    "duration",
    "backend",
    "subnet",
    "network",
    "workload",
    "fault",
    "checks",
)
SUBNET_KEYS = ("replicas", "block_time", "bugs", "epoch")
NETWORK_KEYS = ("latency", "loss", "duplication")
WORKLOAD_KEYS = ("kind", "rate", "clients", "keys", "retry", "timeout", "equivocators")
FAULT_KEYS = (
    "at",
    "kind",
    "duration",
    "target",
    "shape",
    "groups",
    "behaviour",
    "delay",
    "probability",
    "count",
    "kinds",
    "max_faulty",
    "shortest",
    "longest",
    "offset",
    "module",
)
CHECK_KEYS = ("agreement", "convergence", "durability", "linearizable", "liveness", "linearizable_steps")
DEFAULT_LINEARIZABLE_STEPS = 2_000_000
"""The linearizability search's step budget: past it the check says unknown (deterministic,
unlike a time limit)."""


def format_duration(ns: int) -> str:
    """A duration as the file writes it, in the largest unit that keeps it exact."""
    for unit, size in (("s", 1_000_000_000), ("ms", 1_000_000), ("us", 1_000)):
        if ns % size == 0:
            return f"{ns // size}{unit}"
    return f"{ns}ns"


class ScenarioError(ValueError):
    """A scenario file that cannot run; the message names the key and its line."""


_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-\"' ]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*(\"[^\"]*\"|'[^']*'|[A-Za-z0-9_\-]+)\s*(?:\.[^=]*)?=")


class KeyLines:
    """Where each key of a TOML text is: ``line(("fault", 2, "kind"))`` is the line of the
    ``kind`` key of the third ``[[fault]]`` table; ``line(("fault", 2))`` its header."""

    def __init__(self, text: str) -> None:
        self.lines: dict[tuple[Any, ...], int] = {}
        table: tuple[Any, ...] = ()
        counts: dict[str, int] = {}
        depth = 0
        multiline: str | None = None
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw
            if multiline is not None:
                if multiline in line:
                    multiline = None
                continue
            if depth > 0:
                depth += _bracket_balance(line)
                continue
            header = _HEADER.match(line)
            if header:
                name = header.group(2).strip().strip("\"'")
                if header.group(1) == "[[":
                    index = counts.get(name, 0)
                    counts[name] = index + 1
                    table = (name, index)
                else:
                    table = (name,)
                self.lines.setdefault(table, number)
                continue
            key = _KEY.match(line)
            if key:
                self.lines.setdefault((*table, key.group(1).strip("\"'")), number)
                value = line[key.end() :]
                for quote in ('"""', "'''"):
                    if value.count(quote) % 2 == 1:
                        multiline = quote
                depth = max(0, _bracket_balance(value))

    def line(self, path: tuple[Any, ...]) -> int | None:
        """The line of the key (or, failing that, of the nearest enclosing table)."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return None


def _bracket_balance(text: str) -> int:
    """Opening minus closing brackets outside strings and comments."""
    balance, quote = 0, ""
    for char in text:
        if quote:
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == "#":
            break
        elif char == "[":
            balance += 1
        elif char == "]":
            balance -= 1
    return balance


@dataclass(frozen=True)
class SubnetSpec:
    replicas: int = 4
    block_time_ns: int = 200_000_000
    bugs: tuple[str, ...] = ()
    epoch_ns: int | None = None
    """The Sui epoch's length (locks reset at each change); None: the genesis default, a day."""


@dataclass(frozen=True)
class NetworkSpec:
    latency: str = "uniform:5ms:25ms"
    loss: float = 0.0
    duplication: float = 0.0


@dataclass(frozen=True)
class WorkloadSpec:
    kind: str = "lifecycle"
    rate: float | None = 2.0
    """Submissions per simulated second (Poisson arrivals, open loop); None: closed loop
    (register and counter only)."""
    clients: int = 4
    """Clients of a register or counter workload (history processes)."""
    keys: int = 1
    """Registers or counters the clients share."""
    retry_ns: int = 1_000_000_000
    """How long a client waits for a reply before asking again or resubmitting."""
    timeout_ns: int = 5_000_000_000
    """How long until a client records the outcome as unknown (info)."""
    equivocators: int = 0
    """``owned-transfer``: clients sharing another client's keys and registers (equivocation)."""

    @property
    def records_history(self) -> bool:
        return self.kind in HISTORY_KINDS


Target = int | tuple[int, ...] | str
"""A replica index, a list of them, ``"random"`` or ``"block-maker"``."""


@dataclass(frozen=True)
class FaultSpec:
    at_ns: int
    kind: str
    duration_ns: int | None = None
    """How long until healed, restarted, resumed or honest again; None: never."""
    target: Target | None = None
    shape: str | None = None
    groups: tuple[tuple[int, ...], ...] = ()
    behaviour: str | None = None
    delay_ns: int | None = None
    probability: float | None = None
    count: int | None = None
    """A random nemesis: how many faults to draw in its window (``at`` for ``duration``)."""
    kinds: tuple[str, ...] = ()
    """A random nemesis: the kinds it draws from."""
    max_faulty: int | None = None
    """A random nemesis: replicas faulty at once at most; None: f = (n - 1) // 3."""
    shortest_ns: int | None = None
    longest_ns: int | None = None
    """A random nemesis: the range of each drawn fault's duration."""
    offset_ns: int | None = None
    """A clock-skew fault: how far the target's clock runs ahead (negative: behind)."""
    module: str | None = None
    """An upgrade fault: which variant of the clients' canister is installed."""
    line: int | None = field(default=None, compare=False)
    """Where the fault's table starts in the file, for messages about it."""

    @property
    def end_ns(self) -> int | None:
        return None if self.duration_ns is None else self.at_ns + self.duration_ns


@dataclass(frozen=True)
class Checks:
    agreement: bool = True
    convergence: bool = True
    liveness_ns: int | None = None
    """Progress must resume within this long after the last heal; None: not checked."""
    durability: bool = False
    """Every acknowledged write executed, exactly once (needs a register or counter workload;
    on by default when there is one)."""
    linearizable: bool = False
    """The client history is linearizable (as ``durability``: on by default with a history)."""
    linearizable_steps: int = DEFAULT_LINEARIZABLE_STEPS


@dataclass(frozen=True)
class Scenario:
    name: str
    seed: int
    duration_ns: int
    description: str = ""
    backend: str = "sim"
    subnet: SubnetSpec = field(default_factory=SubnetSpec)
    network: NetworkSpec = field(default_factory=NetworkSpec)
    workloads: tuple[WorkloadSpec, ...] = ()
    faults: tuple[FaultSpec, ...] = ()
    checks: Checks = field(default_factory=Checks)


class _Reader:
    """Typed access to one table, with errors that name the key and its line."""

    def __init__(self, lines: KeyLines, path: tuple[Any, ...], table: Any, allowed: tuple[str, ...]) -> None:
        self.lines = lines
        self.path = path
        if not isinstance(table, dict):
            self.fail((), f"must be a table, not {_kind(table)}")
        self.table: dict[str, Any] = table
        unknown = [key for key in table if key not in allowed]
        if unknown:
            self.fail(
                (unknown[0],),
                f"unknown key{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} "
                f"(known: {', '.join(allowed)})",
            )

    def name(self, key: tuple[Any, ...]) -> str:
        parts: list[str] = []
        for part in (*self.path, *key):
            if isinstance(part, int):
                parts[-1] = f"{parts[-1]}[{part}]"
            else:
                parts.append(str(part))
        return ".".join(parts) or "the file"

    def fail(self, key: tuple[Any, ...], problem: str) -> NoReturn:
        line = self.lines.line((*self.path, *key))
        where = f"line {line}: " if line is not None else ""
        raise ScenarioError(f"{where}{self.name(key)}: {problem}")

    def has(self, key: str) -> bool:
        return key in self.table

    def string(self, key: str, default: str | None = None, choices: tuple[str, ...] = ()) -> str:
        if key not in self.table:
            if default is None:
                return self.fail((key,), "is required")
            return default
        value = self.table[key]
        if not isinstance(value, str):
            self.fail((key,), f"must be a string, not {_kind(value)}")
        if choices and value not in choices:
            self.fail((key,), f"{value!r} is not one of {', '.join(choices)}")
        return value

    def integer(self, key: str, default: int | None, low: int, high: int) -> int:
        if key not in self.table:
            if default is None:
                return self.fail((key,), "is required")
            return default
        value = self.table[key]
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail((key,), f"must be an integer, not {_kind(value)}")
        if not low <= value <= high:
            self.fail((key,), f"must be in [{low}, {high}], not {value}")
        return value

    def number(self, key: str, default: float, low: float, high: float, *, below: bool = False) -> float:
        if key not in self.table:
            return default
        value = self.table[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail((key,), f"must be a number, not {_kind(value)}")
        if not (low <= value < high if below else low <= value <= high):
            self.fail((key,), f"must be in [{low}, {high}{')' if below else ']'}, not {value}")
        return float(value)

    def boolean(self, key: str, default: bool) -> bool:
        if key not in self.table:
            return default
        value = self.table[key]
        if not isinstance(value, bool):
            self.fail((key,), f"must be true or false, not {_kind(value)}")
        return value

    def duration(self, key: str, default: int | None = None, *, required: bool = False) -> int | None:
        if key not in self.table:
            if required:
                self.fail((key,), "is required")
            return default
        value = self.table[key]
        if not isinstance(value, str):
            self.fail((key,), f'must be a duration with a unit such as "10s" or "100ms", not {_kind(value)}')
        if not re.search(r"[a-z]\s*$", value):
            self.fail((key,), f'{value!r} has no unit (write e.g. "{value}s" or "{value}ms")')
        try:
            return parse_duration_ns(value)
        except LatencySpecError as exc:
            return self.fail((key,), str(exc))


def _kind(value: Any) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "an array"}.get(
        type(value), "a table" if isinstance(value, dict) else type(value).__name__
    )


def parse_scenario(text: str) -> Scenario:
    """The scenario in ``text``; ``ScenarioError`` naming the key and line of the first problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"not valid TOML: {exc}") from None
    lines = KeyLines(text)
    top = _Reader(lines, (), data, TOP_KEYS)
    name = top.string("name")
    if not name.strip():
        top.fail(("name",), "must not be empty")
    description = top.string("description", "")
    seed = top.integer("seed", 0, 0, 2**63 - 1)
    duration_ns = top.duration("duration", required=True)
    assert duration_ns is not None
    if not 0 < duration_ns <= MAX_DURATION_NS:
        top.fail(("duration",), "must be positive and at most 24h")
    backend = top.string("backend", "sim", BACKENDS)

    subnet_table = _Reader(lines, ("subnet",), data.get("subnet", {}), SUBNET_KEYS)
    replicas = subnet_table.integer("replicas", 4, 1, MAX_REPLICAS)
    block_time_ns = subnet_table.duration("block_time", 200_000_000)
    assert block_time_ns is not None
    bugs = _bugs(subnet_table)
    epoch_ns = subnet_table.duration("epoch")
    if epoch_ns is not None and epoch_ns <= 0:
        subnet_table.fail(("epoch",), "must be positive")
    subnet = SubnetSpec(replicas, block_time_ns, bugs, epoch_ns)

    net = _Reader(lines, ("network",), data.get("network", {}), NETWORK_KEYS)
    latency = net.string("latency", NetworkSpec.latency)
    try:
        model = parse_latency(latency)
        if isinstance(model, Matrix):
            model.check_size(replicas)
    except (LatencySpecError, ValueError) as exc:
        net.fail(("latency",), str(exc))
    network = NetworkSpec(
        latency,
        net.number("loss", 0.0, 0.0, 1.0, below=True),
        net.number("duplication", 0.0, 0.0, 1.0, below=True),
    )

    workloads = tuple(
        _workload(lines, index, table) for index, table in enumerate(_array(top, data, "workload"))
    )
    history_indices = [index for index, item in enumerate(workloads) if item.records_history]
    if len(history_indices) > 1:
        second = history_indices[1]
        _Reader(lines, ("workload", second), data["workload"][second], WORKLOAD_KEYS).fail(
            ("kind",),
            f"a second history workload ({workloads[second].kind}; the first is workload"
            f"[{history_indices[0]}]): a run records one history, checked against one model",
        )
    faults = tuple(
        _fault(lines, index, table, replicas, duration_ns)
        for index, table in enumerate(_array(top, data, "fault"))
    )
    check_table = _Reader(lines, ("checks",), data.get("checks", {}), CHECK_KEYS)
    liveness_ns = check_table.duration("liveness")
    if liveness_ns is not None and liveness_ns <= 0:
        check_table.fail(("liveness",), "must be positive")
    history = [item for item in workloads if item.records_history]
    for index, item in enumerate(workloads):
        if item.kind in SUI_KINDS and backend != "sim":
            _Reader(lines, ("workload", index), data["workload"][index], WORKLOAD_KEYS).fail(
                ("kind",), f"the {item.kind} workload runs on the sim backend only (not yet on processes)"
            )
    for index, fault in enumerate(faults):
        if fault.kind == "upgrade" and history and history[0].kind in MOTOKO_KINDS:
            _Reader(lines, ("fault", index), data["fault"][index], FAULT_KEYS).fail(
                ("kind",),
                f"an upgrade installs versions of the register canister, not of the {history[0].kind} "
                "workload's Motoko counter: use a register or counter [[workload]]",
            )
        if fault.kind == "upgrade" and (not history or history[0].kind in ("sui-counter", *OWNED_KINDS)):
            _Reader(lines, ("fault", index), data["fault"][index], FAULT_KEYS).fail(
                ("kind",),
                "an upgrade upgrades the clients' canister (a register or counter [[workload]]) or the "
                "versioned-counter workload's package",
            )
    if history and history[0].kind == "versioned-counter":
        faults = _versioned_steps(lines, data, faults)
    else:
        _no_versioned_steps(lines, data, faults)
    for key in ("durability", "linearizable"):
        if check_table.boolean(key, False) and not history:
            check_table.fail(
                (key,), "needs a register or counter [[workload]], whose clients record a history"
            )
    checks = Checks(
        check_table.boolean("agreement", True),
        check_table.boolean("convergence", True),
        liveness_ns,
        check_table.boolean("durability", bool(history)),
        check_table.boolean("linearizable", bool(history)),
        check_table.integer("linearizable_steps", DEFAULT_LINEARIZABLE_STEPS, 1, 10**10),
    )
    return Scenario(name, seed, duration_ns, description, backend, subnet, network, workloads, faults, checks)


def _versioned_steps(
    lines: KeyLines, data: dict[str, Any], faults: tuple[FaultSpec, ...]
) -> tuple[FaultSpec, ...]:
    """The versioned-counter workload's package upgrade (``module`` one of
    ``VERSIONED_UPGRADES``, the default) and the migration after it: one of each at most,
    the migration later than the upgrade."""
    steps: dict[str, tuple[int, FaultSpec]] = {}
    resolved = list(faults)
    for index, fault in enumerate(faults):
        if fault.kind not in ("upgrade", "migrate"):
            continue
        reader = _Reader(lines, ("fault", index), data["fault"][index], FAULT_KEYS)
        if fault.kind in steps:
            reader.fail(
                ("kind",),
                f"a second {fault.kind} (the first is fault[{steps[fault.kind][0]}]): the versioned-counter "
                f"workload runs one upgrade (to version 2) and one migrate",
            )
        steps[fault.kind] = (index, fault)
        if fault.kind == "upgrade":
            if not reader.has("module"):
                resolved[index] = replace(fault, module=VERSIONED_UPGRADES[0])
            elif fault.module not in VERSIONED_UPGRADES:
                reader.fail(
                    ("module",),
                    f"{fault.module!r} is a version of the register canister; the versioned-counter "
                    f"workload's package upgrades to {', '.join(VERSIONED_UPGRADES)}",
                )
    if "migrate" in steps:
        index, migrate = steps["migrate"]
        reader = _Reader(lines, ("fault", index), data["fault"][index], FAULT_KEYS)
        if "upgrade" not in steps:
            reader.fail(
                ("kind",), 'a migrate follows a package upgrade: add a [[fault]] kind = "upgrade" before it'
            )
        upgrade = steps["upgrade"][1]
        if migrate.at_ns <= upgrade.at_ns:
            reader.fail(
                ("at",),
                f"the migrate at {format_duration(migrate.at_ns)} is not after the upgrade "
                f"(fault[{steps['upgrade'][0]}] at {format_duration(upgrade.at_ns)})",
            )
    return tuple(resolved)


def _no_versioned_steps(lines: KeyLines, data: dict[str, Any], faults: tuple[FaultSpec, ...]) -> None:
    """Without the versioned-counter workload: no migrate, no package upgrade."""
    for index, fault in enumerate(faults):
        reader = _Reader(lines, ("fault", index), data.get("fault", [])[index], FAULT_KEYS)
        if fault.kind == "migrate":
            reader.fail(
                ("kind",),
                "a migrate migrates the versioned-counter workload's counter: add that [[workload]]",
            )
        if fault.kind == "upgrade" and fault.module in VERSIONED_UPGRADES:
            reader.fail(
                ("module",),
                f"{fault.module!r} upgrades the versioned-counter workload's package; the canister's "
                f"versions are {', '.join(UPGRADE_MODULES)}",
            )


def _bugs(table: _Reader) -> tuple[str, ...]:
    if not table.has("bugs"):
        return ()
    value = table.table["bugs"]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        table.fail(("bugs",), "must be an array of bug names")
    for item in value:
        if item not in BUGS:
            table.fail(("bugs",), f"unknown bug {item!r} (known: {', '.join(BUGS)})")
    return tuple(value)


def _array(top: _Reader, data: dict[str, Any], key: str) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        top.fail((key,), f"must be an array of tables ([[{key}]]), not {_kind(value)}")
    return value


def _workload(lines: KeyLines, index: int, table: Any) -> WorkloadSpec:
    reader = _Reader(lines, ("workload", index), table, WORKLOAD_KEYS)
    kind = reader.string("kind", None, ("lifecycle", *CLIENT_KINDS, *KIND_ALIASES, *PLANNED_KINDS))
    kind = KIND_ALIASES.get(kind, kind)
    if kind not in WORKLOAD_KINDS:
        reader.fail(("kind",), f"the {kind!r} workload is not built yet (built: {', '.join(WORKLOAD_KINDS)})")
    if kind == "lifecycle":
        for key in ("clients", "keys", "retry", "timeout"):
            if reader.has(key):
                reader.fail((key,), "applies to register and counter workloads, not lifecycle")
        rate: float | None = reader.number("rate", 2.0, 0.0, 10_000.0)
    else:
        rate = reader.number("rate", 0.0, 0.0, 10_000.0) if reader.has("rate") else None
    if rate is not None and rate <= 0:
        reader.fail(("rate",), "must be positive")
    clients = reader.integer("clients", WorkloadSpec.clients, 1, 1000)
    keys = reader.integer("keys", WorkloadSpec.keys, 1, MAX_KEYS)
    if kind in MOTOKO_KINDS and keys != 1:
        reader.fail(("keys",), f"the {kind} workload's Motoko canister holds one counter: keys must be 1")
    if kind in OWNED_KINDS and clients * keys > MAX_REGISTERS:  # equivocators share theirs: a bound above
        reader.fail(
            ("keys",),
            f"the {kind} workload gives each client keys registers: clients x keys must be at most "
            f"{MAX_REGISTERS}, not {clients * keys}",
        )
    equivocators = 0
    if reader.has("equivocators"):
        if kind not in OWNED_KINDS:
            reader.fail(("equivocators",), f"applies to the owned-transfer workload, not {kind}")
        equivocators = reader.integer("equivocators", 0, 0, clients // 2)
    if kind == "versioned-counter" and keys != 1:
        reader.fail(("keys",), "the versioned-counter workload shares one counter: keys must be 1")
    if kind == "versioned-counter" and clients < 2:
        reader.fail(
            ("clients",), "the versioned-counter workload needs 2 clients at least (a caller per version)"
        )
    retry_ns = reader.duration("retry", WorkloadSpec.retry_ns)
    timeout_ns = reader.duration("timeout", WorkloadSpec.timeout_ns)
    assert retry_ns is not None and timeout_ns is not None
    if retry_ns <= 0:
        reader.fail(("retry",), "must be positive")
    if timeout_ns < retry_ns:
        reader.fail(("timeout",), f"must be at least the retry interval ({format_duration(retry_ns)})")
    return WorkloadSpec(kind, rate, clients, keys, retry_ns, timeout_ns, equivocators)


_KIND_KEYS = {
    "crash": ("target",),
    "pause": ("target",),
    "partition": ("shape", "target", "groups"),
    "latency": ("delay", "target"),
    "loss": ("probability",),
    "duplication": ("probability",),
    "byzantine": ("behaviour", "target"),
    "random": ("count", "kinds", "max_faulty", "shortest", "longest"),
    "clock-skew": ("target", "offset"),
    "disk-loss": ("target",),
    "upgrade": ("module",),
    "migrate": (),
}
RANDOM_SHORTEST_NS = 500_000_000
RANDOM_LONGEST_NS = 3_000_000_000


def _fault(lines: KeyLines, index: int, table: Any, replicas: int, run_ns: int) -> FaultSpec:
    reader = _Reader(lines, ("fault", index), table, FAULT_KEYS)
    at_ns = reader.duration("at", required=True)
    assert at_ns is not None
    if at_ns >= run_ns:
        reader.fail(("at",), "is not before the end of the run (duration)")
    kind = reader.string("kind", None, FAULT_KINDS)
    for key in table:
        if key not in ("at", "kind", "duration") and key not in _KIND_KEYS[kind]:
            reader.fail(
                (key,), f"does not apply to a {kind} fault (it takes {', '.join(_KIND_KEYS[kind]) or 'none'})"
            )
    duration_ns = reader.duration("duration")
    if duration_ns is not None and duration_ns <= 0:
        reader.fail(("duration",), "must be positive")
    if kind in ("latency", "loss", "duplication", "partition", "random", "disk-loss") and duration_ns is None:
        reader.fail((), f"a {kind} fault needs a duration (when it is healed)")
    target = _target(reader, replicas) if reader.has("target") else None
    shape = behaviour = None
    groups: tuple[tuple[int, ...], ...] = ()
    delay_ns = probability = None
    if kind in ("crash", "pause", "byzantine", "clock-skew", "disk-loss") and target is None:
        reader.fail((), f"a {kind} fault needs a target")
    if kind == "partition":
        shape = reader.string("shape", None, SHAPES)
        groups = _groups(reader, replicas, shape)
        if shape in ("ring", "groups", "majority") and target is not None:
            reader.fail(("target",), f"a {shape} partition takes no target")
        if target == "block-maker" and shape != "one":
            reader.fail(("target",), f'"block-maker" only targets a partition of shape "one", not {shape!r}')
        if shape == "one" and isinstance(target, tuple) and len(target) != 1:
            reader.fail(("target",), "a partition of shape one isolates one replica")
        if shape == "minority" and isinstance(target, tuple) and 2 * len(target) >= replicas:
            reader.fail(("target",), f"{len(target)} of {replicas} replicas are not a minority")
        if shape == "bridge" and isinstance(target, tuple) and len(target) != 1:
            reader.fail(("target",), "a bridge is one replica")
        if shape == "bridge" and replicas < 3:
            reader.fail(("shape",), "a bridge needs at least 3 replicas")
    elif kind == "latency":
        delay_ns = reader.duration("delay", required=True)
        if target == "block-maker":
            reader.fail(("target",), '"block-maker" is not a target of a latency fault')
    elif kind in ("loss", "duplication"):
        if not reader.has("probability"):
            reader.fail((), f"a {kind} fault needs a probability")
        probability = reader.number("probability", 0.0, 0.0, 1.0, below=True)
    elif kind == "byzantine":
        behaviour = reader.string("behaviour", None, BYZANTINE)
    elif kind == "random":
        assert duration_ns is not None
        return _random(reader, at_ns, duration_ns, replicas, lines.line(("fault", index)))
    elif kind in ("clock-skew", "disk-loss") and target == "block-maker":
        reader.fail(("target",), f'"block-maker" is not a target of a {kind} fault')
    elif kind == "upgrade":
        if duration_ns is not None:
            reader.fail(("duration",), "an upgrade is not undone: it takes no duration")
        module = reader.string("module", "keeps-state", (*UPGRADE_MODULES, *VERSIONED_UPGRADES))
        return FaultSpec(at_ns, kind, module=module, line=lines.line(("fault", index)))
    elif kind == "migrate":
        if duration_ns is not None:
            reader.fail(("duration",), "a migration is not undone: it takes no duration")
        return FaultSpec(at_ns, kind, line=lines.line(("fault", index)))
    offset_ns = None
    if kind == "clock-skew":
        offset_ns = _offset(reader)
    return FaultSpec(
        at_ns,
        kind,
        duration_ns,
        target,
        shape,
        groups,
        behaviour,
        delay_ns,
        probability,
        offset_ns=offset_ns,
        line=lines.line(("fault", index)),
    )


def _offset(reader: _Reader) -> int:
    """A clock offset: a duration with a unit, negative for a clock behind."""
    if not reader.has("offset"):
        return reader.fail((), 'a clock-skew fault needs an offset (e.g. offset = "2s" or "-500ms")')
    value = reader.table["offset"]
    if not isinstance(value, str):
        reader.fail(("offset",), f'must be a duration such as "2s" or "-500ms", not {_kind(value)}')
    sign = -1 if value.strip().startswith("-") else 1
    text = value.strip().lstrip("-")
    if not re.search(r"[a-z]\s*$", text):
        reader.fail(("offset",), f'{value!r} has no unit (write e.g. "{value}s" or "{value}ms")')
    try:
        magnitude = parse_duration_ns(text)
    except LatencySpecError as exc:
        return reader.fail(("offset",), str(exc))
    if magnitude == 0 or magnitude > 3600 * 1_000_000_000:
        reader.fail(("offset",), "must be non-zero and at most an hour either way")
    return sign * magnitude


def _random(reader: _Reader, at_ns: int, window_ns: int, replicas: int, line: int | None) -> FaultSpec:
    """A random nemesis: ``count`` faults of ``kinds`` drawn from the seed in the window."""
    count = reader.integer("count", None, 1, 10_000)
    kinds: tuple[str, ...] = RANDOM_KINDS
    if reader.has("kinds"):
        value = reader.table["kinds"]
        if not isinstance(value, list) or not value or not all(isinstance(item, str) for item in value):
            reader.fail(("kinds",), f"must be a non-empty array of fault kinds ({', '.join(RANDOM_KINDS)})")
        for item in value:
            if item not in RANDOM_KINDS:
                reader.fail(
                    ("kinds",), f"{item!r} is not a kind a random nemesis draws ({', '.join(RANDOM_KINDS)})"
                )
        if len(set(value)) != len(value):
            reader.fail(("kinds",), "names a kind twice")
        kinds = tuple(value)
    max_faulty = reader.integer("max_faulty", None, 0, replicas) if reader.has("max_faulty") else None
    shortest = reader.duration("shortest", RANDOM_SHORTEST_NS)
    longest = reader.duration("longest", max(RANDOM_LONGEST_NS, shortest or 0))
    assert shortest is not None and longest is not None
    if shortest <= 0:
        reader.fail(("shortest",), "must be positive")
    if longest < shortest:
        reader.fail(("longest",), f"must be at least shortest ({format_duration(shortest)})")
    if shortest > window_ns:
        reader.fail(("shortest",), f"is longer than the window (duration = {format_duration(window_ns)})")
    return FaultSpec(
        at_ns,
        "random",
        window_ns,
        count=count,
        kinds=kinds,
        max_faulty=max_faulty,
        shortest_ns=shortest,
        longest_ns=longest,
        line=line,
    )


def _target(reader: _Reader, replicas: int) -> Target:
    value = reader.table["target"]
    if isinstance(value, str):
        if value not in ("random", "block-maker"):
            reader.fail(("target",), f'{value!r}: a target is an index, a list, "random" or "block-maker"')
        return value
    items = value if isinstance(value, list) else [value]
    for item in items:
        if isinstance(item, bool) or not isinstance(item, int):
            reader.fail(
                ("target",),
                f'must be a replica index, a list of them, "random" or "block-maker", not {value!r}',
            )
        if not 0 <= item < replicas:
            reader.fail(
                ("target",), f"no replica {item} in a subnet of {replicas} (indices 0..{replicas - 1})"
            )
    if isinstance(value, list):
        if not value:
            reader.fail(("target",), "an empty list targets nobody")
        if len(set(value)) != len(value):
            reader.fail(("target",), "names a replica twice")
        return tuple(value)
    return value


def _groups(reader: _Reader, replicas: int, shape: str) -> tuple[tuple[int, ...], ...]:
    if shape != "groups":
        if reader.has("groups"):
            reader.fail(("groups",), 'applies only to shape = "groups"')
        return ()
    if not reader.has("groups"):
        return reader.fail((), 'a partition of shape "groups" needs groups = [[...], [...]]')
    value = reader.table["groups"]
    if not isinstance(value, list) or not value or not all(isinstance(group, list) for group in value):
        reader.fail(("groups",), "must be an array of arrays of replica indices")
    seen: dict[int, None] = {}
    for group in value:
        for item in group:
            if isinstance(item, bool) or not isinstance(item, int) or not 0 <= item < replicas:
                reader.fail(("groups",), f"{item!r} is not a replica index of a subnet of {replicas}")
            if item in seen:
                reader.fail(("groups",), f"replica {item} is in two groups")
            seen[item] = None
    return tuple(tuple(group) for group in value)
