"""Reading a cProfile run the way notebook 10 does: call counts, and time by package.

Used in notebook 10 (capstone). A profile's *times* change from run to run
(and more on a busy machine); its *call counts* do not, for the same
in-memory workload: so a notebook prints counts, which strict nbval can
compare, and plots times, which it does not.
"""

from __future__ import annotations

import pstats
from collections import defaultdict
from pathlib import Path

__all__ = ["PACKAGES", "calls_of", "most_called", "package_of", "time_by_package"]

#: The packages a server's time is split between, in the notebook's words.
PACKAGES = ("gethy", "h2", "hpack", "hyperframe")


def package_of(filename: str) -> str:
    """'h2', 'gethy', ... for a profiled function's file; 'your notebook' or 'Python'."""
    parts = Path(filename).parts
    for package in PACKAGES:
        if package in parts[:-1]:
            return package
    if filename.startswith("/tmp/ipykernel") or "ipykernel_" in filename:
        return "your notebook"
    return "Python"


def _where(key: tuple[str, int, str]) -> str:
    filename, _, name = key
    parts = Path(filename).parts
    package = package_of(filename)
    if package in PACKAGES:
        return "/".join(parts[parts.index(package) :]) + f" {name}"
    return f"{package}: {name}"


def most_called(stats: pstats.Stats, top: int = 8) -> list[tuple[int, str]]:
    """The `top` functions of gethy, h2, hpack and hyperframe by calls: (count, where).

    Ties are broken by name, so the list is the same for the same workload.
    """
    rows = [
        (counts[1], _where(key))
        for key, counts in stats.stats.items()  # type: ignore[attr-defined]
        if package_of(key[0]) in PACKAGES
    ]
    rows.sort(key=lambda row: (-row[0], row[1]))
    return rows[:top]


def calls_of(stats: pstats.Stats, where: str) -> int:
    """Calls of the function named ``"h2/connection.py data_to_send"`` (0 if never called)."""
    return sum(
        counts[1]
        for key, counts in stats.stats.items()  # type: ignore[attr-defined]
        if _where(key) == where
    )


def time_by_package(stats: pstats.Stats) -> dict[str, float]:
    """Seconds spent inside each package's own code (not counting what it called)."""
    seconds: dict[str, float] = defaultdict(float)
    for key, counts in stats.stats.items():  # type: ignore[attr-defined]
        seconds[package_of(key[0])] += counts[2]
    return dict(seconds)
