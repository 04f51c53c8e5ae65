"""From raw measurements to what a reader sees: the summary, the table, the JSON, the chart.

Every figure is a median over rounds with its range (min–max), so one
disturbed round shows as a wide range rather than a wrong number. Ratios
compare medians: "÷ gethy" is a server's requests/s divided by gethy's, and the
targets are stated the other way round, as the issue states them (gethy's
requests/s divided by the other server's).
"""

from __future__ import annotations

import json
import os
import statistics
from collections.abc import Iterable
from pathlib import Path
from typing import Any

TARGETS = (
    # (other server, minimum gethy/other on small GETs, what it means)
    ("bare-h2", 1.0, "gethy reaches the bare h2 server's requests/s"),
    ("hypercorn", 2.5, "gethy serves at least 2.5x hypercorn's requests/s"),
)
MICRO_TARGET = 1.15  # gethy's sans-IO core: at most 1.15x a bare H2Connection's CPU time


def _spread(values: list[float]) -> dict[str, float] | None:
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def summarise(
    measurements: list[dict[str, Any]], servers: list[str], workloads: list[str]
) -> list[dict[str, Any]]:
    """One row per workload x server: medians and ranges over the successful rounds."""
    rows = []
    for workload in workloads:
        medians: dict[str, float] = {}
        block = []
        for server in servers:
            runs = [m for m in measurements if m["workload"] == workload and m["server"] == server]
            good = [m for m in runs if m["ok"]]
            row = {
                "workload": workload,
                "server": server,
                "rounds": len(runs),
                "failed_rounds": len(runs) - len(good),
                "errors": sorted({m["error"] for m in runs if not m["ok"] and m.get("error")}),
                "requests_per_s": _spread([m["requests_per_s"] for m in good]),
                "mb_per_s": _spread([m["mb_per_s"] for m in good]),
            }
            if row["requests_per_s"]:
                medians[server] = row["requests_per_s"]["median"]
            block.append(row)
        for row in block:
            gethy = medians.get("gethy")
            mine = medians.get(row["server"])
            row["ratio_to_gethy"] = mine / gethy if gethy and mine else None
        rows.extend(block)
    return rows


def check_targets(
    summary: list[dict[str, Any]], micro: dict[str, Any] | None
) -> list[dict[str, Any]]:
    """Each target of the issue, per small-GET workload, with its measured ratio."""
    results = []
    small = [r for r in summary if r["workload"].startswith("small-get")]
    for workload in sorted({r["workload"] for r in small}, key=lambda w: int(w.split(":")[1])):
        by_server = {r["server"]: r for r in small if r["workload"] == workload}
        gethy = by_server.get("gethy")
        for other, minimum, meaning in TARGETS:
            row = by_server.get(other)
            if gethy is None or row is None:
                continue
            ratio = None
            if gethy["requests_per_s"] and row["requests_per_s"]:
                ratio = gethy["requests_per_s"]["median"] / row["requests_per_s"]["median"]
            results.append(
                {
                    "target": f"{workload}: gethy / {other} >= {minimum}",
                    "meaning": meaning,
                    "ratio": ratio,
                    "met": ratio is not None and ratio >= minimum,
                }
            )
    for case in (micro or {}).get("cases", []):
        if case["case"] != "small-get":
            continue
        results.append(
            {
                "target": f"micro {case['case']}: gethy CPU / bare CPU <= {MICRO_TARGET}",
                "meaning": "gethy's sans-IO core costs at most 1.15x a bare H2Connection",
                "ratio": case["ratio_min"],
                "met": case["ratio_min"] <= MICRO_TARGET,
            }
        )
    return results


# ------------------------------------------------------------------------ text


def _num(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _cell(spread: dict[str, float] | None) -> str:
    if spread is None:
        return "failed"
    return f"{_num(spread['median'])} [{_num(spread['min'])}–{_num(spread['max'])}]"


def _table(headers: list[str], rows: Iterable[list[str]], right: set[int]) -> list[str]:
    rows = list(rows)
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.rjust(widths[i]) if i in right else c.ljust(widths[i]) for i, c in enumerate(cells)
        ).rstrip()

    return [line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)]


def format_report(result: dict[str, Any]) -> str:
    """The table the runner prints (and the README quotes)."""
    out: list[str] = []
    options = result["options"]
    mode = (
        f"{options['requests']} requests per run"
        if options.get("requests")
        else f"{options['duration']} s per run after {options['warm_up']} s warm-up"
    )
    out.append(
        f"gethy benchmarks, {result['date']}: {options['rounds']} round(s), {mode}, "
        f"{options['clients']} connection(s), h2load -t 1"
    )
    out.append("")
    rows = []
    previous = None
    for row in result["summary"]:
        name = row["workload"] if row["workload"] != previous else ""
        previous = row["workload"]
        ratio = row["ratio_to_gethy"]
        rows.append(
            [
                name,
                row["server"],
                _cell(row["requests_per_s"]),
                _cell(row["mb_per_s"]),
                f"{ratio:.2f}" if ratio is not None else "-",
                f"{row['failed_rounds']}/{row['rounds']}",
            ]
        )
    out += _table(
        [
            "workload:streams",
            "server",
            "req/s median [min–max]",
            "MB/s median [min–max]",
            "÷ gethy",
            "failed",
        ],
        rows,
        right={4, 5},
    )
    errors = [(r["workload"], r["server"], e) for r in result["summary"] for e in r["errors"]]
    if errors:
        out.append("")
        out.append("Failed measurements:")
        out += [f"  {w} {s}: {e}" for w, s, e in errors]
    if result.get("memory"):
        out.append("")
        first = result["memory"][0]
        out.append(
            f"Peak memory (VmHWM) while {first['clients']} clients each POST "
            f"{first['body_size'] // 1024} KiB at once:"
        )
        mem_rows = []
        for m in result["memory"]:
            mem_rows.append(
                [
                    m["server"],
                    f"{m['baseline_kib'] / 1024:.1f}" if m.get("baseline_kib") else "-",
                    f"{m['peak_kib'] / 1024:.1f}" if m.get("peak_kib") else "-",
                    f"{(m['peak_kib'] - m['baseline_kib']) / 1024:.1f}"
                    if m.get("peak_kib")
                    else "-",
                    "ok" if m["ok"] else f"FAILED: {m.get('error')}",
                ]
            )
        out += _table(
            ["server", "idle MiB", "peak MiB", "growth MiB", "h2load"], mem_rows, right={1, 2, 3}
        )
    micro = result.get("micro")
    if micro:
        out.append("")
        out.append("Sans-IO micro-benchmark (CPU time, same client bytes, same answers):")
        micro_rows = [
            [
                f"{c['case']} x{c['requests']}",
                f"{c['gethy_us_per_request']:.1f}",
                f"{c['bare_us_per_request']:.1f}",
                f"{c['ratio_min']:.3f}",
                f"{c['ratio_median']:.3f}",
            ]
            for c in micro["cases"]
        ]
        out += _table(
            ["case", "gethy µs/req", "bare µs/req", "ratio (min)", "ratio (median)"],
            micro_rows,
            right={1, 2, 3, 4},
        )
    inprocess = result.get("inprocess")
    if inprocess:
        out.append("")
        out.append(
            "Whole servers in-process (CPU time; gethy's ServerConnection + default app vs "
            "BareH2Protocol, same bytes, no sockets):"
        )
        out += _table(
            ["case", "gethy µs/req", "bare µs/req", "ratio (min)", "ratio (median)"],
            [
                [
                    f"{c['case']} x{c['requests']}",
                    f"{c['gethy_us_per_request']:.1f}",
                    f"{c['bare_us_per_request']:.1f}",
                    f"{c['ratio_min']:.3f}",
                    f"{c['ratio_median']:.3f}",
                ]
                for c in inprocess["cases"]
            ],
            right={1, 2, 3, 4},
        )
    if result.get("targets"):
        out.append("")
        out.append("Targets:")
        for t in result["targets"]:
            ratio = f"{t['ratio']:.2f}" if t["ratio"] is not None else "n/a"
            out.append(f"  [{'met' if t['met'] else 'MISSED'}] {t['target']}: {ratio}")
    return "\n".join(out)


# ------------------------------------------------------------------ JSON, PNG


def write_json(result: dict[str, Any], path: Path) -> None:
    """Write atomically (a ``.tmp`` beside it, then rename): never a half-written file."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    os.replace(tmp, path)


def write_chart(result: dict[str, Any], path: Path) -> None:
    """Bar charts: median requests/s per kind of request (range as error bars), and memory."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    summary = result["summary"]
    servers = list(dict.fromkeys(r["server"] for r in summary))
    kinds = list(dict.fromkeys(r["workload"].split(":")[0] for r in summary))
    panels = len(kinds) + (1 if result.get("memory") else 0)
    fig, axes = plt.subplots(1, panels, figsize=(4.2 * panels, 4.2), squeeze=False)
    colors = {"gethy": "#2a9d8f", "bare-h2": "#8d99ae", "hypercorn": "#e76f51"}
    width = 0.8 / max(1, len(servers))
    for ax, kind in zip(axes[0], kinds, strict=False):
        workloads = list(
            dict.fromkeys(r["workload"] for r in summary if r["workload"].startswith(kind + ":"))
        )
        for i, server in enumerate(servers):
            medians, low, high = [], [], []
            for workload in workloads:
                row = next(
                    r for r in summary if r["workload"] == workload and r["server"] == server
                )
                spread = row["requests_per_s"] or {"median": 0.0, "min": 0.0, "max": 0.0}
                medians.append(spread["median"])
                low.append(spread["median"] - spread["min"])
                high.append(spread["max"] - spread["median"])
            xs = [x + (i - (len(servers) - 1) / 2) * width for x in range(len(workloads))]
            ax.bar(
                xs,
                medians,
                width,
                yerr=[low, high],
                capsize=3,
                label=server,
                color=colors.get(server),
            )
        ax.set_xticks(range(len(workloads)), [w.split(":")[1] for w in workloads])
        ax.set_xlabel("concurrent streams on one connection")
        ax.set_ylabel("requests/s (median, range over rounds)")
        ax.set_title(kind)
        ax.grid(axis="y", alpha=0.3)
    axes[0][0].legend()
    if result.get("memory"):
        ax = axes[0][-1]
        memory = result["memory"]
        names = [m["server"] for m in memory]
        ax.bar(
            names,
            [(m.get("peak_kib") or 0) / 1024 for m in memory],
            color=[colors.get(n) for n in names],
        )
        first = memory[0]
        ax.set_title(f"peak RSS, {first['clients']} x {first['body_size'] // 1024} KiB uploads")
        ax.set_ylabel("MiB (VmHWM)")
        ax.grid(axis="y", alpha=0.3)
    machine = result["machine"]
    fig.suptitle(
        f"gethy benchmarks, {result['date'][:10]} ({machine['cpu']}, {machine['nproc']} cores)"
    )
    fig.tight_layout()
    tmp = path.with_name(path.name + ".tmp")
    fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
    os.replace(tmp, path)
