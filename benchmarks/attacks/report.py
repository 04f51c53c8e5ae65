"""The report: one row per attack, what the server's log says, the targets and every miss."""

from __future__ import annotations

import re
from typing import Any

from benchmarks.attacks.targets import TARGETS

__all__ = ["format_report"]

_RESET = "connection lost: ConnectionResetError: [Errno 104] Connection reset by peer"

COLUMNS = (
    ("attack", "<"),
    ("CPU s", ">"),
    ("peak MiB", ">"),
    ("RSS MiB idle/after/+T", ">"),
    ("worst ms", ">"),
    ("GET after", ">"),
    ("tracebacks", ">"),
    ("targets", "<"),
    ("the attacker received", "<"),
)


def _mib(kib: int) -> str:
    return f"{kib / 1024:.1f}"


def _cells(row: dict[str, Any]) -> list[str]:
    if row.get("error"):
        return [row["attack"], "", "", "", "", "", str(row.get("tracebacks", "")), "ERROR",
                row["error"]]  # fmt: skip
    missed = [v["target"] for v in row["verdicts"] if not v["met"]]
    rss = "/".join(_mib(row[k]) for k in ("rss_idle_kib", "rss_after_kib", "rss_later_kib"))
    latency = f"{row['worst_latency_s'] * 1000:,.0f}"
    if row["healthy_failed"]:
        latency += f" ({row['healthy_failed']} failed)"
    return [
        row["attack"],
        f"{row['cpu_s']:.2f}",
        _mib(row["peak_kib"]),
        rss,
        latency,
        row["get_after"] if len(row["get_after"]) < 12 else "no",
        str(row["tracebacks"]),
        "MISSED " + ",".join(missed) if missed else "met",
        row["received"],
    ]


def format_table(rows: list[dict[str, Any]]) -> str:
    table = [[name for name, _ in COLUMNS]] + [_cells(row) for row in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(COLUMNS))]
    lines = []
    for n, line in enumerate(table):
        cells = [
            f"{cell:{align}{width}}"
            for cell, (_, align), width in zip(line, COLUMNS, widths, strict=True)
        ]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def format_targets(rows: list[dict[str, Any]]) -> str:
    lines = ["Targets:"]
    lines += [f"  {name:<10}  {text}" for name, text in TARGETS.items()]
    missed = [
        f"  [MISSED] {row['attack']}: {v['target']}: {v['value']}"
        for row in rows
        for v in row.get("verdicts", [])
        if not v["met"]
    ]
    judged = [row for row in rows if "verdicts" in row]
    met = sum(1 for row in judged if all(v["met"] for v in row["verdicts"]))
    lines.append(f"{met} of {len(judged)} rows meet every target that applies to them.")
    if missed:
        lines += ["Missed:", *missed]
    errors = [f"  [ERROR] {row['attack']}: {row['error']}" for row in rows if row.get("error")]
    if errors:
        lines += ["Errors (no measurement):", *errors]
    return "\n".join(lines)


def _reason(text: str) -> str:
    """A close reason, short, with its large numbers as N so that alike reasons group."""
    text = re.sub(r"\d{4,}", "N", text.replace(_RESET, "reset by the client"))
    return text if len(text) <= 90 else text[:87] + "..."


def _ended(row: dict[str, Any]) -> str:
    """How the server ended the attacker's connections: reasons, times, bytes it read."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for line in row.get("server_ended", []):
        groups.setdefault(_reason(line["reason"]), []).append(line)
    parts = []
    for reason, lines in groups.items():
        times = sorted(line["seconds"] for line in lines)
        span = f"{times[0]:.2f} s" if times[0] == times[-1] else f"{times[0]:.2f}-{times[-1]:.2f} s"
        read = f", {lines[0]['bytes_in']} read" if len(lines) == 1 else ""
        parts.append(f"{len(lines)} x after {span}{read}: {reason}")
    released = row.get("released_s")
    if released is not None and released >= 0.05:  # it held on after the attackers left
        parts.append(f"the last one {released:.2f} s after the attackers left")
    return "; ".join(parts) or "no line for the attacker's connections"


def format_log(rows: list[dict[str, Any]]) -> str:
    width = max((len(row["attack"]) for row in rows), default=0)
    lines = ["How the server ended the attackers' connections (its log, one line per connection):"]
    lines += [f"  {row['attack']:<{width}}  {_ended(row)}" for row in rows]
    return "\n".join(lines)


def format_report(document: dict[str, Any]) -> str:
    """The whole text report of a run (the document `benchmarks.attacks.runner` writes)."""
    timeouts = "/".join(f"{t:g}" for t in sorted({r["idle_timeout_s"] for r in document["rows"]}))
    head = (
        f"gethy attack suite, {document['started']}: {document['mode']} mode,"
        f" {len(document['rows'])} attack(s), each on a fresh server (--idle-timeout"
        f" {timeouts} s), a healthy GET every 20 ms on its own connection; +T is the"
        " resident set one idle timeout (+0.25 s) after the attackers left"
    )
    rows = document["rows"]
    return "\n\n".join([head, format_table(rows), format_log(rows), format_targets(rows)])
