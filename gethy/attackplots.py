"""Plots of what an attack cost, against its size: before and after a mitigation.

Built in notebook 08 (errors and attacks), over `gethy.attacklab`'s runs. The
left panel is a cost that does not depend on the machine (handler calls,
frames parsed, bytes held); the right one is CPU time, which does: read its
shape, not its numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
from matplotlib.ticker import FuncFormatter

from gethy.attacklab import AttackRun

__all__ = ["plot_attack", "plot_cost"]

#: Labels and styles: the learner's unguarded class grey, theirs blue, gethy's green.
_STYLE = {
    "CoreProtocol": ("your class from 04 (CoreProtocol)", "tab:gray", "-"),
    "HTTP2Protocol": ("gethy's HTTP2Protocol", "tab:green", ":"),
}
_COSTS = {
    "handler_calls": "requests handed to the application",
    "frames": "frames parsed by h2",
    "held": None,  # the attack's own `held_what`
}
_THOUSANDS = FuncFormatter(lambda value, _: f"{value:,.0f}")


def _style(run: AttackRun) -> tuple[str, str, str]:
    return _STYLE.get(run.server, (f"{run.server} (mitigated)", "tab:blue", "-"))


def plot_cost(runs: Sequence[AttackRun], cost: str, ax: Any, title: str | None = None) -> None:
    """One deterministic cost (`handler_calls`, `frames` or `held`) against attack size."""
    attack = runs[0].attack
    label = _COSTS[cost] or attack.held_what
    for run in runs:
        name, color, line = _style(run)
        xs = [c.sent for c in run.checkpoints]
        ys = [getattr(c, cost) for c in run.checkpoints]
        ax.plot(xs, ys, line, color=color, label=name, linewidth=2)
    ax.set_title(title or f"{attack.name}: {label}")
    ax.set_xlabel(attack.unit)
    ax.set_ylabel(label if cost != "held" else f"{label} (bytes)")
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_formatter(_THOUSANDS)
    _zero_visible(ax)
    ax.grid(alpha=0.3)


def _zero_visible(ax: Any) -> None:
    """Start the y axis a little below 0, so that a line at 0 is not hidden by the axis."""
    top = ax.get_ylim()[1]
    ax.set_ylim(-0.02 * top, top)


def _cpu(run: AttackRun, per_unit: bool) -> tuple[list[int], list[float]]:
    """CPU in ms so far; or, per unit, µs per unit over each read."""
    points = run.checkpoints
    if not per_unit:
        return [c.sent for c in points], [c.cpu * 1e3 for c in points]
    xs, ys, before = [], [], (0, 0.0)
    for c in points:
        if c.sent > before[0] and c.cpu > before[1]:  # only reads the server worked on
            xs.append(c.sent)
            ys.append((c.cpu - before[1]) * 1e6 / (c.sent - before[0]))
        before = (c.sent, c.cpu)
    return xs, ys


def plot_attack(runs: Sequence[AttackRun], cost: str, *, cpu_per_unit: bool = False) -> plt.Figure:
    """Two panels: a deterministic `cost`, then CPU time, both against the attack's size."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8))
    plot_cost(runs, cost, left)
    attack = runs[0].attack
    for run in runs:
        name, color, line = _style(run)
        xs, ys = _cpu(run, cpu_per_unit)
        right.plot(xs, ys, line, color=color, label=name, marker="." if cpu_per_unit else None)
    unit = attack.unit.split()[0].rstrip("s")
    if cpu_per_unit:
        right.set_ylabel(f"server CPU per {unit} (µs)")
        right.set_title(f"{attack.name}: CPU per {unit}, read by read")
    else:
        right.set_ylabel("server CPU so far (ms)")
        right.set_title(f"{attack.name}: server CPU time")
    right.set_xlabel(attack.unit)
    right.xaxis.set_major_formatter(_THOUSANDS)
    _zero_visible(right)
    right.grid(alpha=0.3)
    left.legend(loc="upper left", fontsize="small")
    fig.tight_layout()
    return fig
