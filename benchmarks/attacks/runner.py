"""``python -m benchmarks.attacks``: every attack against a fresh server, and the table.

Progress goes to stderr, the report to stdout, the whole result (rows,
verdicts, log excerpts) to ``--json PATH``. The exit status is 1 when a row
could not be measured at all (the server did not start, an attack crashed);
a missed target is a result, not an error. Ctrl-C or SIGTERM stops the
server of the current row before the runner exits.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import signal
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any

from benchmarks.attacks.catalog import ATTACKS, by_name
from benchmarks.attacks.measure import Measurement, idle_timeout
from benchmarks.attacks.report import format_report
from benchmarks.attacks.targets import TARGETS
from benchmarks.runner import package_versions

__all__ = ["main", "run"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.attacks",
        description="HTTP/2 attacks against fresh gethy servers on 127.0.0.1, measured.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="small sizes and short waits (~30 s in all)"
    )
    parser.add_argument("--json", metavar="PATH", type=Path, help="save the results as JSON")
    parser.add_argument(
        "--attacks", metavar="A,B", help="run only these attacks (see --list), in suite order"
    )
    parser.add_argument("--list", action="store_true", help="list the attacks and exit")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    return parser


def _listing() -> str:
    lines = []
    for a in ATTACKS:
        sizes = (
            f"{a.quick:,}/{a.full:,} {a.unit}"
            if a.full
            else f"{a.quick_seconds:g}/{a.full_seconds:g} s"
        )
        lines.append(f"{a.name:<22} {a.cve or '-':<15} {sizes:<24} {a.title}")
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    return {
        "nproc": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "packages": package_versions("gethy", "h2", "hpack", "hyperframe"),
        "loadavg_start": list(os.getloadavg()),
    }


def run(names: list[str] | None, *, quick: bool, quiet: bool = False) -> dict[str, Any]:
    """Every attack (or those named), each against a fresh server; the result document."""
    attacks = by_name(names) if names else list(ATTACKS)
    document: dict[str, Any] = {
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "mode": "quick" if quick else "full",
        "machine": machine(),
        "targets": TARGETS,
        "rows": [],
    }
    start = time.monotonic()
    previous: Measurement | None = None
    current: Measurement | None = None
    try:
        for n, attack in enumerate(attacks, 1):
            if not quiet:
                size = f"{attack.size(quick):,} {attack.unit}" if attack.full else "timed"
                print(
                    f"[{time.monotonic() - start:5.1f} s] {n}/{len(attacks)} {attack.name}"
                    f" ({size}, at most {attack.seconds(quick):g} s, idle timeout"
                    f" {idle_timeout(attack, quick):g} s)",
                    file=sys.stderr,
                    flush=True,
                )
            current = Measurement(attack, quick)
            current.run()
            if previous is not None:  # its last reading was taken meanwhile (see measure)
                document["rows"].append(previous.finish())
            previous, current = current, None
        if previous is not None:
            document["rows"].append(previous.finish())
            previous = None
    finally:  # Ctrl-C: no server outlives the runner
        for left_over in (previous, current):
            if left_over is not None:
                left_over.abort()
    document["seconds"] = round(time.monotonic() - start, 1)
    document["machine"]["loadavg_end"] = list(os.getloadavg())
    return document


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # unwinds like Ctrl-C: the current row stops its server


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.list:
        print(_listing())
        return 0
    names = [n.strip() for n in args.attacks.split(",") if n.strip()] if args.attacks else None
    try:
        by_name(names or [])
    except ValueError as exc:
        build_parser().error(str(exc))
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        document = run(names, quick=args.quick, quiet=args.quiet)
    except KeyboardInterrupt:
        print("interrupted.", file=sys.stderr)
        return 130
    print(format_report(document))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(document, indent=1) + "\n")
    return 1 if any(row.get("error") for row in document["rows"]) else 0
