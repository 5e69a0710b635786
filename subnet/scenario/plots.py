"""Plots of a scenario run, for its results folder (matplotlib, the optional ``plots`` extra):

- ``timeline.png``: three panels over the run's time, each with the fault windows
  shaded: completed operations per second (ok, fail, info), the latency of each
  operation (from its invocation to its outcome; an unknown outcome is drawn at the
  timeout it waited), and each replica's finalized height;
- ``latency-cdf.png``: the distribution of ok latencies, one curve per function.

Without matplotlib nothing is drawn and ``write_plots`` says why, so that a run never
fails for want of pictures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from subnet.checks.history import Event
from subnet.scenario.nemesis import concrete_faults
from subnet.scenario.spec import Scenario
from vocab.genesis import SECOND

__all__ = ["PlotData", "plot_data", "write_plots"]

COLOURS = {"crash": "tab:red", "pause": "tab:orange", "partition": "tab:purple", "byzantine": "tab:brown"}


@dataclass(frozen=True)
class PlotData:
    duration_s: float
    windows: list[tuple[float, float, str]]
    """(start, end, kind) of each fault, in seconds since the start."""
    operations: list[tuple[float, float, str, str]]
    """(completed at, latency in ms, outcome type, function) of each operation."""
    heights: list[tuple[float, int, int]]
    """(time, replica, finalized height), in time order."""
    replicas: int


def plot_data(
    scenario: Scenario, events: Sequence[Event], persisted: Sequence[tuple[int, int, int]], start_ns: int
) -> PlotData:
    """What the plots show, from a run's scenario, history (times since the start) and the
    heights replicas reached (absolute times, minus ``start_ns``)."""
    end_s = scenario.duration_ns / SECOND
    windows = []
    for item in concrete_faults(scenario):
        fault = item.fault
        end = fault.end_ns / SECOND if fault.end_ns is not None else end_s
        windows.append((fault.at_ns / SECOND, min(end, end_s), fault.kind))
    invoked: dict[object, Event] = {}
    operations = []
    for event in events:
        if event.type == "invoke":
            invoked[event.process] = event
            continue
        start = invoked.pop(event.process, None)
        if start is not None:
            operations.append((event.time / SECOND, (event.time - start.time) / 1e6, event.type, event.f))
    heights = [((time - start_ns) / SECOND, node, height) for time, node, height in persisted]
    return PlotData(end_s, windows, operations, heights, scenario.subnet.replicas)


def _shade(axes: object, data: PlotData) -> None:
    seen: dict[str, None] = {}
    for start, end, kind in data.windows:
        label = kind if kind not in seen else None
        seen[kind] = None
        axes.axvspan(start, end, color=COLOURS.get(kind, "tab:gray"), alpha=0.15, label=label)  # type: ignore[attr-defined]


def write_plots(folder: Path, data: PlotData, title: str) -> list[str] | str:
    """Draw ``timeline.png`` and ``latency-cdf.png`` into ``folder``; their names, or why
    nothing was drawn."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed (pip install 'subnet[plots]')"
    figure, (ops_axes, latency_axes, height_axes) = plt.subplots(3, 1, figsize=(10, 8), sharex=True)
    figure.suptitle(title)
    bins = max(1, int(data.duration_s + 0.999))
    for outcome, colour in (("ok", "tab:green"), ("fail", "tab:red"), ("info", "tab:gray")):
        times = [time for time, _, kind, _ in data.operations if kind == outcome]
        if times:
            ops_axes.hist(times, bins=bins, range=(0, bins), histtype="step", color=colour, label=outcome)
        points = [(time, latency) for time, latency, kind, _ in data.operations if kind == outcome]
        if points:
            latency_axes.scatter(
                [p[0] for p in points], [p[1] for p in points], s=4, color=colour, label=outcome
            )
    ops_axes.set_ylabel("operations / s")
    latency_axes.set_ylabel("latency (ms)")
    for node in range(data.replicas):
        points = [(time, height) for time, replica, height in data.heights if replica == node]
        if points:
            height_axes.step(
                [p[0] for p in points], [p[1] for p in points], where="post", label=f"replica {node}"
            )
    height_axes.set_ylabel("finalized height")
    height_axes.set_xlabel("seconds since the start")
    height_axes.set_xlim(0, data.duration_s)
    for axes in (ops_axes, latency_axes, height_axes):
        _shade(axes, data)
        handles, _ = axes.get_legend_handles_labels()
        if handles:
            axes.legend(loc="upper right", fontsize="small")
    figure.tight_layout()
    figure.savefig(folder / "timeline.png", dpi=100)
    plt.close(figure)

    figure, axes = plt.subplots(figsize=(6, 4))
    for function in sorted({f for _, _, kind, f in data.operations if kind == "ok"}):
        latencies = sorted(
            latency for _, latency, kind, f in data.operations if kind == "ok" and f == function
        )
        axes.step(
            latencies, [(i + 1) / len(latencies) for i in range(len(latencies))], where="post", label=function
        )
    axes.set_xlabel("latency (ms)")
    axes.set_ylabel("fraction of ok operations")
    axes.set_title(f"{title}: latency CDF")
    if data.operations:
        axes.legend(loc="lower right")
    figure.tight_layout()
    figure.savefig(folder / "latency-cdf.png", dpi=100)
    plt.close(figure)
    return ["timeline.png", "latency-cdf.png"]
