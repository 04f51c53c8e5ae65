"""Plots for the flow-control lab: progress, throughput sweeps, policies, window growth.

Built in notebook 05 (flow-control lab): its plot cells call these so that each
cell shows the experiment, not thirty lines of matplotlib.

Units throughout: time in seconds, throughput in MB/s (10^6 bytes per second),
windows in KiB (1,024 bytes), as the notebook's prose uses them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from gethy.link import Download, Link, Simulation

if TYPE_CHECKING:
    from matplotlib.axes import Axes

MB = 1_000_000
KIB = 1024


def progress(sim: Simulation, stream_id: int = 1) -> tuple[list[float], list[float]]:
    """(times, MB received so far) of one stream's body, one point per DATA frame."""
    times, total, received = [0.0], 0, [0.0]
    for time, length in sim.responses[stream_id].arrivals:
        total += length
        times.append(time)
        received.append(total / MB)
    return times, received


def throughput_series(
    sim: Simulation, stream_id: int = 1, bin: float = 0.1
) -> tuple[list[float], list[float]]:
    """(bin middles, MB/s) of one stream's body, in bins of `bin` seconds.

    A frame's bytes are spread over the time they took to arrive (length /
    bandwidth before it was complete), so a frame that straddles two bins
    counts in both. A bin may still show a few percent more than the link
    carries: a frame is complete only with the whole TCP segment holding its
    last byte, so frames arrive slightly bunched.
    """
    arrivals = sim.responses[stream_id].arrivals
    if not arrivals:
        return [], []
    byte_time = 1.0 / sim.link.bandwidth
    bins = [0.0] * (int(arrivals[-1][0] / bin) + 1)
    for time, length in arrivals:
        start = max(0.0, time - length * byte_time)
        first, last = int(start / bin), int(time / bin)
        if first == last or not length:
            bins[last] += length
            continue
        for i in range(first, last + 1):  # the share of [start, time] inside bin i
            overlap = min(time, (i + 1) * bin) - max(start, i * bin)
            bins[i] += length * overlap / (time - start)
    return [(i + 0.5) * bin for i in range(len(bins))], [b / bin / MB for b in bins]


def window_axis(ax: Axes, windows: Sequence[int]) -> None:
    """A log-2 x axis with one readable tick per window, labelled in KiB."""
    ax.set_xscale("log", base=2)
    ax.set_xticks(list(windows))
    ax.set_xticklabels([f"{w / KIB:,.0f}" for w in windows])
    ax.minorticks_off()
    ax.set_xlabel("receive window (KiB)")


def plot_progress(ax: Axes, runs: dict[str, Download], until: float | None = None) -> None:
    """MB received over time, one line per labelled download."""
    for label, run in runs.items():
        times, received = progress(run.simulation)
        ax.step(times, received, where="post", label=label)
    if until is not None:
        ax.set_xlim(0, until)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("body received (MB)")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left")


def plot_sweep(
    ax: Axes, sweep: dict[float, list[tuple[int, float]]], bandwidth: float, windows: Sequence[int]
) -> None:
    """Measured throughput against the window, per RTT, with the bound min(bandwidth, W / RTT)."""
    fine = [windows[0] * 2 ** (i / 8) for i in range(8 * (len(windows) - 1) + 1)]
    for rtt, points in sweep.items():
        label = f"RTT {rtt * 1000:.0f} ms"
        (line,) = ax.plot([w for w, _ in points], [t / MB for _, t in points], "o-", label=label)
        bound = [min(bandwidth, w / rtt) / MB for w in fine]
        ax.plot(fine, bound, "--", color=line.get_color(), alpha=0.6)
    ax.axhline(bandwidth / MB, color="grey", linewidth=0.8)
    window_axis(ax, windows)
    ax.set_ylabel("throughput (MB/s)")
    ax.set_ylim(0, bandwidth / MB * 1.1)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", title="measured (dashed: window / RTT)")


def plot_policies(
    ax: Axes,
    points: Iterable[tuple[str, int, float]],
    target: float,
    max_updates: int,
) -> None:
    """WINDOW_UPDATE frames against share of the link, one labelled point per policy."""
    ax.axhspan(target * 100, 100, xmin=0, xmax=1, color="green", alpha=0.08)
    ax.axvline(max_updates, color="green", linestyle=":", label=f"at most {max_updates} frames")
    ax.axhline(target * 100, color="green", linestyle="--", label=f"at least {target:.0%}")
    merged: dict[tuple[int, float], list[str]] = {}  # policies that land on the same point
    for label, updates, share in points:
        merged.setdefault((updates, round(share * 100, 1)), []).append(label)
    for (updates, percent), labels in merged.items():
        ax.plot(updates, percent, "o", color="tab:blue")
        ax.annotate(
            " = ".join(labels), (updates, percent), textcoords="offset points", xytext=(5, 4)
        )
    ax.set_xscale("log")
    ticks = [25, 50, 100, 200, 400]
    ax.set_xticks(ticks)
    ax.set_xticklabels([str(t) for t in ticks])
    ax.minorticks_off()
    ax.set_xlim(20, 600)
    ax.set_xlabel("WINDOW_UPDATE frames sent by the client (log scale)")
    ax.set_ylabel("throughput (% of the link)")
    ax.set_ylim(50, 100)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")


def plot_growth(
    axes: Sequence[Axes],
    runs: dict[str, tuple[Download, list[tuple[float, int]]]],
    link: Link,
    until: float | None = None,
) -> None:
    """Top: throughput over time against the link's capacity. Bottom: the window's size."""
    top, bottom = axes
    end = until if until is not None else max(run.finished for run, _ in runs.values())
    for label, (run, history) in runs.items():
        mids, rates = throughput_series(run.simulation, bin=link.rtt)
        top.step(mids, rates, where="mid", label=label)
        times = [t for t, _ in history] + [end]
        sizes = [w / KIB for _, w in history] + [history[-1][1] / KIB]
        bottom.step(times, sizes, where="post", label=label)
    top.axhline(link.bandwidth / MB, color="grey", linestyle="--", label="link capacity")
    top.set_ylabel("throughput (MB/s)")
    top.legend(loc="center right")
    bottom.axhline(link.bdp / KIB, color="grey", linestyle="--", label="BDP")
    bottom.set_yscale("log", base=2)
    sizes_kib = [w / KIB for _, history in runs.values() for _, w in history] + [link.bdp / KIB]
    ticks = [2**i for i in range(4, 15) if min(sizes_kib) / 2 <= 2**i <= max(sizes_kib) * 2]
    bottom.set_yticks(ticks)
    bottom.set_yticklabels([f"{t:,}" for t in ticks])
    bottom.minorticks_off()
    bottom.set_ylabel("window (KiB, log scale)")
    bottom.set_xlabel("time (s)")
    bottom.legend(loc="center right")
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.set_xlim(0, end)
