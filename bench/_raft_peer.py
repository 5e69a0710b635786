"""The Raft peer of `python -m bench consensus --peer pysyncobj`: PySyncObj, same machine, same run.

PySyncObj (the optional ``bench`` extra, pinned) replicates a Python object with Raft. As
in its own benchmark (``benchmarks/testobj.py``), every node process holds a replicated
counter and generates its share of the load itself, with callbacks: requests are split
evenly over the nodes (a follower forwards its commands to the leader). Loads are the
consensus benchmark's: ``in_flight`` requests kept outstanding in all (closed loop) or a
``rate`` of requests due at fixed times (open loop, latency from the due time), and the
same saturation search with the same latency bound.

The parent starts the nodes (``python -m bench._raft_peer NODE_ARGS``), waits for a
leader, then runs each load as a phase: it tells every node what to do on stdin, each
node answers with one JSON line (its acknowledged and failed commands, their latencies
and, once the cluster is quiet, its counter). A phase is checked: every node's counter
must equal the number of commands acknowledged so far, over all nodes.

What PySyncObj does per operation, for the comparison: no signatures (links are plain
TCP, no authentication), no disk (its default in-memory journal, as its benchmark runs
it), commands batched into append-entries messages (up to 64 KiB), the state machine a
Python counter. The load generator runs inside the node processes, so their CPU is the
service's and the client's together.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bench._load import Window, percentile

READY_TIMEOUT = 30.0
SETTLE_TIMEOUT = 20.0


# -- the node process ------------------------------------------------------------------------


def node_main(argv: list[str]) -> int:
    """One PySyncObj node with a replicated counter; phases come as JSON lines on stdin."""
    from pysyncobj import FAIL_REASON, SyncObj, replicated  # the optional bench extra

    parser = argparse.ArgumentParser(prog="python -m bench._raft_peer")
    parser.add_argument("self_address")
    parser.add_argument("partners", nargs="+")
    args = parser.parse_args(argv)

    class Counter(SyncObj):
        def __init__(self, address: str, partners: list[str]) -> None:
            super().__init__(address, partners)
            self.value = 0

        @replicated
        def increment(self) -> int:
            self.value += 1
            return self.value

    counter = Counter(args.self_address, args.partners)

    def say(message: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(message) + "\n")
        sys.stdout.flush()

    deadline = time.monotonic() + READY_TIMEOUT
    while counter._getLeader() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    say({"ready": counter._getLeader() is not None})

    for line in sys.stdin:
        phase = json.loads(line)
        if phase.get("stop"):
            break
        if phase.get("counter"):
            # The quiet cluster's value on this node, once it stops changing.
            stable_since, last = time.monotonic(), counter.value
            end = time.monotonic() + SETTLE_TIMEOUT
            while time.monotonic() < end:
                time.sleep(0.05)
                if counter.value != last:
                    stable_since, last = time.monotonic(), counter.value
                elif counter.value >= phase["expect"] or time.monotonic() - stable_since > 2.0:
                    break
            say({"counter": counter.value})
            continue
        run = _Phase(counter, float(phase["duration"]), FAIL_REASON.SUCCESS)
        if "in_flight" in phase:
            for _ in range(int(phase["in_flight"])):
                run.issue(time.monotonic(), True)
        else:
            run.paced(float(phase["rate"]), int(phase["count"]))
        say(run.result(float(phase.get("grace", 10.0))))
    counter.destroy()
    os._exit(0)  # PySyncObj's threads must not keep a node alive once its parent is done


class _Phase:
    """One load on one node: requests with callbacks, as PySyncObj's benchmark issues them."""

    def __init__(self, counter: Any, duration: float, success: int) -> None:
        self.counter = counter
        self.duration = duration
        self.success = success
        self.stop_at = time.monotonic() + duration
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.failures: dict[int, int] = {}
        self.outstanding = 0
        self.finished = threading.Event()

    def issue(self, started: float, again: bool) -> None:
        """Send one increment; ``again``: send the next when it is answered (closed loop)."""
        with self.lock:
            self.outstanding += 1
        self.counter.increment(callback=lambda _result, error: self._done(started, error, again))

    def _done(self, started: float, error: int, again: bool) -> None:
        with self.lock:
            if error == self.success:
                self.latencies.append(time.monotonic() - started)
            else:
                self.failures[error] = self.failures.get(error, 0) + 1
            self.outstanding -= 1
            more = again and time.monotonic() < self.stop_at
            if not more and self.outstanding == 0 and time.monotonic() >= self.stop_at:
                self.finished.set()
        if more:
            self.issue(time.monotonic(), True)

    def paced(self, rate: float, count: int) -> None:
        """Open loop: ``count`` requests due at fixed times, ``rate`` a second, each
        latency counted from its due time."""
        origin = time.monotonic()
        for number in range(count):
            due = origin + number / rate
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            self.issue(due, False)

    def result(self, grace: float) -> dict[str, Any]:
        with self.lock:
            if self.outstanding == 0 and time.monotonic() >= self.stop_at:
                self.finished.set()
        self.finished.wait(max(0.0, self.stop_at - time.monotonic()) + grace)
        with self.lock:
            return {
                "latencies": list(self.latencies),
                "failures": {str(key): value for key, value in sorted(self.failures.items())},
                "outstanding": self.outstanding,
            }


# -- the parent --------------------------------------------------------------------------------


class Cluster:
    """N PySyncObj node processes on this machine, driven phase by phase."""

    def __init__(self, nodes: int, base_port: int) -> None:
        self.addresses = [f"127.0.0.1:{base_port + i}" for i in range(nodes)]
        self.processes: list[subprocess.Popen[str]] = []
        self.acknowledged = 0

    def start(self) -> None:
        for index, address in enumerate(self.addresses):
            partners = [other for other in self.addresses if other != address]
            self.processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "bench._raft_peer", address, *partners],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                    bufsize=1,
                )
            )
            del index
        answers = self._collect()
        if not all(answer.get("ready") for answer in answers):
            raise RuntimeError("PySyncObj elected no leader in time")

    @property
    def pids(self) -> list[int]:
        return [process.pid for process in self.processes]

    def _send(self, messages: list[dict[str, Any]]) -> None:
        for process, message in zip(self.processes, messages):
            assert process.stdin is not None
            process.stdin.write(json.dumps(message) + "\n")
            process.stdin.flush()

    def _collect(self) -> list[dict[str, Any]]:
        answers = []
        for process in self.processes:
            assert process.stdout is not None
            line = process.stdout.readline()
            if not line:
                raise RuntimeError(f"PySyncObj node {process.pid} exited (code {process.poll()})")
            answers.append(json.loads(line))
        return answers

    def phase(self, label: str, load: dict[str, Any], duration: float, grace: float) -> Window:
        """One load, split over the nodes; its window, with the counter check."""
        nodes = len(self.processes)
        messages = []
        for index in range(nodes):
            message: dict[str, Any] = {"duration": duration, "grace": grace}
            if "in_flight" in load:
                share = load["in_flight"] // nodes + (1 if index < load["in_flight"] % nodes else 0)
                message["in_flight"] = share
            else:
                total = int(load["rate"] * duration)
                message["rate"] = load["rate"] / nodes
                message["count"] = total // nodes + (1 if index < total % nodes else 0)
            messages.append(message)
        window = Window(label, self.pids)
        window.start()
        self._send(messages)
        answers = self._collect()
        window.stop()
        if "rate" in load:
            window.wall = duration
        for answer in answers:
            window.latencies.extend(answer["latencies"])
            window.failures += sum(answer["failures"].values()) + answer["outstanding"]
        window.offered = len(window.latencies) + window.failures
        self.acknowledged += len(window.latencies)
        return window

    def counters(self) -> list[int]:
        self._send([{"counter": True, "expect": self.acknowledged}] * len(self.processes))
        return [answer["counter"] for answer in self._collect()]

    def stop(self) -> None:
        for process in self.processes:
            try:
                if process.stdin is not None:
                    process.stdin.write(json.dumps({"stop": True}) + "\n")
                    process.stdin.close()
            except (BrokenPipeError, OSError):
                pass
        for process in self.processes:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextmanager
def cluster(nodes: int) -> Iterator[Cluster]:
    from subnet.processes import launcher

    running = Cluster(nodes, launcher.free_port_range(nodes))
    try:
        running.start()
        yield running
    finally:
        running.stop()


class PeerMissing(RuntimeError):
    """PySyncObj is not installed."""


def require() -> None:
    if importlib.util.find_spec("pysyncobj") is None:
        raise PeerMissing(
            "PySyncObj is not installed: it is the optional `bench` extra "
            "(pip install -e '.[bench]', pysyncobj==0.3.17)"
        )


def run(nodes: int, args: argparse.Namespace, interval_ms: float) -> dict[str, Any]:
    """The consensus benchmark's loads against PySyncObj: the same in-flight counts, the
    same open-loop rates, and its own saturation under the same latency bound."""
    require()
    grace = max(2.0, 10 * interval_ms / 1000)
    bound = 10 * interval_ms / 1000
    loads: list[dict[str, Any]] = []
    out: dict[str, Any] = {"nodes": nodes, "loads": loads}
    with cluster(nodes) as peer:

        def measure(label: str, load: dict[str, Any]) -> Window:
            window = peer.phase(label, load, args.duration, grace)
            report = window.report(interval_ms)
            counters = peer.counters()
            report["counters"] = counters
            report["acknowledged_total"] = peer.acknowledged
            report["check_counters_equal_acknowledged"] = all(
                value == peer.acknowledged for value in counters
            )
            loads.append(report)
            return window

        for clients in args.clients or []:
            measure(f"closed {clients}", {"in_flight": clients})
        for rate in args.rate or []:
            measure(f"open {rate}/s", {"rate": rate})
        if args.sweep:
            good, bad = 0.0, None
            rate = float(max(args.sweep_start, 500))
            while rate <= args.sweep_max * 4:
                window = measure(f"open {rate:g}/s", {"rate": rate})
                if _holds(window, bound):
                    good, rate = rate, rate * 2
                else:
                    bad = rate
                    break
            if bad is not None and good:
                for _ in range(3):
                    middle = round((good + bad) / 2)
                    if _holds(measure(f"open {middle:g}/s", {"rate": middle}), bound):
                        good = middle
                    else:
                        bad = middle
            out["saturation_rate"] = good
            out["saturation"] = next((w for w in loads if w["load"] == f"open {good:g}/s"), None)
    out["check_all_counters_equal_acknowledged"] = all(
        load["check_counters_equal_acknowledged"] for load in loads
    )
    return out


def _holds(window: Window, bound: float) -> bool:
    answered = len(window.latencies)
    return bool(answered and answered >= 0.99 * window.offered and percentile(window.latencies, 99) < bound)


def compare(subnet: dict[str, Any], peer: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of the side-by-side table: the same load on both, and the ratio subnet/peer."""
    rows = []
    by_load = {load["load"]: load for load in peer["loads"]}
    pairs = [
        (load, by_load.get(load["load"])) for load in subnet["loads"] if load["load"].startswith("closed")
    ]
    if subnet.get("saturation") and peer.get("saturation"):
        pairs.append((subnet["saturation"], peer["saturation"]))
    for ours, theirs in pairs:
        if theirs is None:
            continue
        rows.append(
            {
                "load": ours["load"]
                if ours["load"] == theirs["load"]
                else f"saturation ({ours['load']} vs {theirs['load']})",
                "subnet_ops_per_s": ours["ops_per_s"],
                "pysyncobj_ops_per_s": theirs["ops_per_s"],
                "ratio": round(ours["ops_per_s"] / theirs["ops_per_s"], 2) if theirs["ops_per_s"] else None,
                "subnet_p50_ms": ours["latency_p50_ms"],
                "pysyncobj_p50_ms": theirs["latency_p50_ms"],
                "subnet_cpu_ms_per_op": _total_cpu(ours),
                "pysyncobj_cpu_ms_per_op": _total_cpu(theirs),
            }
        )
    return rows


def _total_cpu(report: dict[str, Any]) -> float | None:
    service, client = report.get("cpu_ms_per_op_service"), report.get("cpu_ms_per_op_client")
    if service is None:
        return None
    return round(service + (client or 0.0), 3)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(node_main(sys.argv[1:]))
