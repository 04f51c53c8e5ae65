"""The benchmark run: preflight, rounds of h2load against every server, memory, micro-benchmark.

Rounds alternate the servers: in round r the server order is rotated by r, and
within a round every server runs every workload, so whatever drifts on the
machine (another process, thermal limits, caches) hits all servers alike.
Every server runs for the whole throughput phase, each on its own loopback
port; the memory phase starts each one fresh, so its peak is its own.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from importlib import metadata
from pathlib import Path
from typing import Any

from benchmarks import preflight, report
from benchmarks.h2load import LoadResult, h2load_path, h2load_version, run_h2load
from benchmarks.inprocess import run_inprocess
from benchmarks.memory import measure_peak_memory
from benchmarks.micro import run_micro
from benchmarks.servers import SERVERS, RunningServer, ServerError, ServerSpec
from benchmarks.workloads import KINDS, MIB, Workload, body_file, parse_workloads

DEFAULT_OUTPUT = Path(__file__).resolve().parent / "results"


class Progress:
    """Progress lines on stderr: count, elapsed time and an estimate of what is left."""

    def __init__(self, total: int, quiet: bool = False) -> None:
        self.total = total
        self.done = 0
        self.quiet = quiet
        self.start = time.monotonic()

    def note(self, text: str) -> None:
        if not self.quiet:
            print(
                f"[{self._clock(time.monotonic() - self.start)}] {text}",
                file=sys.stderr,
                flush=True,
            )

    def step(self, text: str) -> None:
        self.done += 1
        elapsed = time.monotonic() - self.start
        left = elapsed / self.done * (self.total - self.done)
        self.note(
            f"{self.done:>{len(str(self.total))}}/{self.total} (~{self._clock(left)} left) {text}"
        )

    @staticmethod
    def _clock(seconds: float) -> str:
        minutes, secs = divmod(int(seconds), 60)
        return f"{minutes}:{secs:02d}"


def package_versions(*packages: str) -> dict[str, str | None]:
    """The installed version of each package, None where it is not installed."""
    versions: dict[str, str | None] = {}
    for package in packages:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return versions


def machine_info() -> dict[str, Any]:
    """What the figures were measured on."""
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass

    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "packages": package_versions("gethy", "h2", "hyperframe", "hpack", "hypercorn"),
        "h2load": h2load_version(),
        "loadavg_start": list(os.getloadavg()),
    }


def _measure(
    server: RunningServer, workload: Workload, args: argparse.Namespace, bodies: dict[int, Path]
) -> LoadResult:
    if not server.alive:
        log = server.log_tail(5)
        server.restart()
        return LoadResult(ok=False, error=f"server had died (restarted): {log}")
    kind = workload.kind
    result = run_h2load(
        server.url + kind.path,
        clients=args.clients,
        streams=workload.streams,
        requests=args.requests,
        duration=None if args.requests else args.duration,
        warm_up=0.0 if args.requests else args.warm_up,
        data_file=bodies.get(kind.body_size) if kind.body_size else None,
    )
    if not server.alive:
        result.ok = False
        result.error = f"server died during the run: {server.log_tail(5)}"
    return result


def run(args: argparse.Namespace) -> dict[str, Any]:
    """The whole benchmark; returns the result document (also written as JSON)."""
    specs: list[ServerSpec] = [SERVERS[name] for name in args.servers]
    workloads: list[Workload] = args.workloads
    kinds = list(dict.fromkeys(w.kind for w in workloads))
    total = args.rounds * len(workloads) * len(specs)
    progress = Progress(total + (len(specs) if args.memory_clients else 0), quiet=args.quiet)
    result: dict[str, Any] = {
        "schema": 1,
        "date": dt.datetime.now(dt.UTC).astimezone().isoformat(timespec="seconds"),
        "machine": machine_info(),
        "options": {
            "rounds": args.rounds,
            "duration": None if args.requests else args.duration,
            "warm_up": None if args.requests else args.warm_up,
            "requests": args.requests,
            "clients": args.clients,
            "servers": args.servers,
            "workloads": [w.name for w in workloads],
            "memory_clients": args.memory_clients,
            "memory_body_size": args.memory_body_size,
            "micro_requests": args.micro_requests,
            "micro_repeats": args.micro_repeats,
        },
        "servers": {s.name: {"description": s.description, "argv": list(s.argv)} for s in specs},
        "workloads": [
            {
                "name": w.name,
                "title": w.title,
                "method": w.kind.method,
                "path": w.kind.path,
                "body_size": w.kind.body_size,
                "streams": w.streams,
                "clients": args.clients,
            }
            for w in workloads
        ],
        "measurements": [],
    }
    measurements: list[dict[str, Any]] = result["measurements"]
    with tempfile.TemporaryDirectory(prefix="gethy-bench-") as tmp:
        bodies = {k.body_size: body_file(Path(tmp), k.body_size) for k in kinds if k.body_size}
        with ExitStack() as stack:
            running: list[RunningServer] = []
            for spec in specs:
                server = stack.enter_context(RunningServer(spec))
                progress.note(f"{spec.name} listening on {server.url} (pid {server.pid})")
                running.append(server)
            progress.note("preflight: every server must give the same answers")
            result["preflight"] = preflight.check_same_answers(
                {s.name: (s.host, s.port) for s in running}, kinds
            )
            for round_index in range(args.rounds):
                shift = round_index % len(running)
                order = running[shift:] + running[:shift]
                for workload in workloads:
                    for server in order:
                        load = _measure(server, workload, args, bodies)
                        measurements.append(
                            {
                                "round": round_index + 1,
                                "server": server.name,
                                "workload": workload.name,
                            }
                            | load.to_json()
                        )
                        shown = (
                            f"{load.requests_per_s:,.0f} req/s, {load.mb_per_s:,.1f} MB/s"
                            if load.ok
                            else f"FAILED: {load.error}"
                        )
                        progress.step(
                            f"round {round_index + 1}/{args.rounds} {workload.name:<13} "
                            f"{server.name:<9} {shown}"
                        )
        if args.memory_clients:
            body = body_file(Path(tmp), args.memory_body_size)
            result["memory"] = []
            for spec in specs:
                record = measure_peak_memory(spec, body, args.memory_clients)
                result["memory"].append(record)
                if record["ok"]:
                    peak, idle = record["peak_kib"] / 1024, record["baseline_kib"] / 1024
                    shown = f"peak {peak:.1f} MiB (idle {idle:.1f} MiB)"
                else:
                    shown = f"FAILED: {record['error']}"

                progress.step(
                    f"memory {spec.name}: {args.memory_clients} x "
                    f"{args.memory_body_size // 1024} KiB uploads: {shown}"
                )
    if args.micro_requests and args.micro_repeats:
        result["micro"] = run_micro(args.micro_requests, args.micro_repeats, progress=progress.note)
        if "gethy" in args.servers:
            result["inprocess"] = run_inprocess(
                args.micro_requests, args.micro_repeats, progress=progress.note
            )
    result["machine"]["loadavg_end"] = list(os.getloadavg())
    result["summary"] = report.summarise(
        measurements, [s.name for s in specs], [w.name for w in workloads]
    )
    result["targets"] = report.check_targets(result["summary"], result.get("micro"))
    return result


def _size(text: str) -> int:
    """``1MiB``, ``100KiB``, ``65536`` -> bytes."""
    units = {"kib": 1024, "k": 1024, "mib": MIB, "m": MIB}
    lower = text.strip().lower()
    for suffix, factor in units.items():
        if lower.endswith(suffix):
            return int(float(lower[: -len(suffix)]) * factor)
    return int(lower)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Benchmark gethy's server against a bare h2 server and hypercorn with h2load.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="2 rounds of 1 s: a first look in ~2 min"
    )
    parser.add_argument(
        "--rounds", type=int, help="rounds over all servers and workloads (default 5)"
    )
    parser.add_argument(
        "--duration", type=float, help="seconds measured per h2load run (default 2)"
    )
    parser.add_argument(
        "--warm-up", type=float, help="h2load warm-up seconds per run (default 0.5)"
    )
    parser.add_argument(
        "--requests",
        type=int,
        help="count-based runs (h2load -n) instead of timed ones, no warm-up",
    )
    parser.add_argument("--clients", type=int, default=1, help="h2load connections (-c, default 1)")
    parser.add_argument(
        "--servers",
        default=",".join(SERVERS),
        help=f"comma-separated, from {', '.join(SERVERS)} (default: all)",
    )
    parser.add_argument(
        "--workloads",
        default=",".join(KINDS),
        help="comma-separated kind[:streams], kinds: "
        + ", ".join(KINDS)
        + "; streams 1..100; a bare kind means 1, 10 and 100 (default: all 9)",
    )
    parser.add_argument(
        "--memory-clients",
        type=int,
        default=100,
        help="simultaneous uploads (0 skips; default 100)",
    )
    parser.add_argument(
        "--memory-body-size", type=_size, default=MIB, help="bytes per upload (default 1MiB)"
    )
    parser.add_argument(
        "--micro-requests", type=int, help="requests in the micro-benchmark (0 skips; default 2000)"
    )
    parser.add_argument("--micro-repeats", type=int, help="timed repeats per side (default 9)")
    parser.add_argument(
        "--output", type=Path, default=DEFAULT_OUTPUT, help="where results.json and results.png go"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    args = parser.parse_args(argv)
    defaults = {
        "rounds": 5,
        "duration": 2.0,
        "warm_up": 0.5,
        "micro_requests": 2000,
        "micro_repeats": 9,
    }
    if args.quick:
        defaults = {
            "rounds": 2,
            "duration": 1.0,
            "warm_up": 0.25,
            "micro_requests": 1000,
            "micro_repeats": 5,
        }
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    args.servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    unknown = [s for s in args.servers if s not in SERVERS]
    if unknown or not args.servers:
        parser.error(f"unknown servers {unknown}; known: {', '.join(SERVERS)}")
    try:
        args.workloads = parse_workloads(args.workloads)
    except ValueError as exc:
        parser.error(str(exc))
    if args.rounds < 1 or args.duration <= 0 or args.warm_up < 0 or args.clients < 1:
        parser.error("--rounds and --clients must be >= 1, --duration > 0, --warm-up >= 0")
    return args


def preconditions(args: argparse.Namespace) -> list[str]:
    """What is missing for this run, as messages that say how to fix it."""
    problems = []
    if h2load_path() is None:
        problems.append("h2load is not installed: sudo apt-get install nghttp2-client")
    if "hypercorn" in args.servers:
        try:
            metadata.version("hypercorn")
        except metadata.PackageNotFoundError:
            problems.append("hypercorn is not installed: pip install -e '.[bench]'")
    if "gethy" in args.servers:
        check = subprocess.run(
            [sys.executable, "-m", "gethy", "serve", "--help"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        if check.returncode != 0:
            problems.append(
                "`python -m gethy serve` does not work here "
                f"({check.stderr.strip().splitlines()[-1:] or check.returncode}); "
                "install gethy (pip install -e .) or leave it out with --servers bare-h2,hypercorn"
            )
    return problems


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # unwinds through the finally blocks that stop the servers


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    problems = preconditions(args)
    if problems:
        for problem in problems:
            print(f"error: {problem}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _terminate)
    try:
        result = run(args)
    except KeyboardInterrupt:
        print("\ninterrupted: servers stopped, nothing written", file=sys.stderr)
        return 130
    except (ServerError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    args.output.mkdir(parents=True, exist_ok=True)
    report.write_json(result, args.output / "results.json")
    report.write_chart(result, args.output / "results.png")
    print(report.format_report(result))
    print(
        f"\nwrote {args.output / 'results.json'} and {args.output / 'results.png'}", file=sys.stderr
    )
    failed = [m for m in result["measurements"] if not m["ok"]]
    failed += [m for m in result.get("memory", []) if not m["ok"]]
    return 1 if failed else 0
