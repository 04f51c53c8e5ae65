"""Driving h2load (Debian/Ubuntu package ``nghttp2-client``) and reading its report.

Used in notebook 10 (capstone), which measures the learner's server beside
gethy's and hypercorn, and by ``python -m benchmarks`` (`benchmarks.h2load`
re-exports this module): one parser for both, so they read h2load alike.

h2load speaks h2c with prior knowledge to an ``http://`` URL (RFC 9113 §3.3):
it sends the connection preface at once, with no HTTP/1.1 Upgrade. Every run
is bounded, by a request count (``-n``) or a duration (``-D``), and the
process itself by a timeout on top. h2load runs on one thread (``-t 1``): on
a 2-core machine the other core is the server's.

What we read from its report::

    finished in 2.50s, 10495.00 req/s, 1.73MB/s
    requests: 20990 total, 20990 started, 20990 done, 20990 succeeded, 0 failed, 0 errored, 0 ...
    status codes: 20990 2xx, 0 3xx, 0 4xx, 0 5xx
    ...
                         min         max         mean         sd        +/- sd
    time for request:     1.20ms      3.05ms      1.40ms       254us    89.10%

"time for request" is each request's latency, from its HEADERS sent to its
last byte received; we keep the mean and the maximum.

In timing mode ``finished in`` includes the warm-up, but req/s and B/s are
over the measured duration only. h2load's "MB" is 2**20 bytes; we convert to
bytes/s and report decimal MB/s (10**6 bytes). A run with any failed, errored,
timed-out or non-2xx request is a failed measurement, never a number.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

_FINISHED = re.compile(
    r"finished in (?P<secs>[\d.]+)(?P<unit>us|ms|s|m|h), (?P<rps>[\d.]+) req/s, "
    r"(?P<bps>[\d.]+)(?P<bunit>[KMG]?)B/s"
)
_REQUESTS = re.compile(
    r"requests: (?P<total>\d+) total, (?P<started>\d+) started, (?P<done>\d+) done, "
    r"(?P<succeeded>\d+) succeeded, (?P<failed>\d+) failed, (?P<errored>\d+) errored, "
    r"(?P<timeout>\d+) timeout"
)
_STATUS = re.compile(
    r"status codes: (?P<s2>\d+) 2xx, (?P<s3>\d+) 3xx, (?P<s4>\d+) 4xx, (?P<s5>\d+) 5xx"
)
_LATENCY = re.compile(
    r"time for request:\s+(?P<min>[\d.]+)(?P<min_unit>us|ms|s)\s+"
    r"(?P<max>[\d.]+)(?P<max_unit>us|ms|s)\s+(?P<mean>[\d.]+)(?P<mean_unit>us|ms|s)"
)
_BINARY_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30}
_TIME_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def h2load_path() -> str | None:
    """Where h2load is, or None (install the ``nghttp2-client`` package)."""
    return shutil.which("h2load")


def h2load_version() -> str | None:
    path = h2load_path()
    if path is None:
        return None
    out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10)
    return out.stdout.strip() or None


@dataclass
class LoadResult:
    """One h2load run. ``ok`` is False for any failure; ``error`` then says why."""

    ok: bool
    requests_per_s: float = 0.0
    mb_per_s: float = 0.0  # decimal megabytes (10**6 bytes) per second
    total: int = 0
    succeeded: int = 0
    failed: int = 0
    errored: int = 0
    timeout: int = 0
    non_2xx: int = 0
    elapsed_s: float = 0.0
    latency_mean_s: float = 0.0  # "time for request", mean over the run's requests
    latency_max_s: float = 0.0
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def parse_report(output: str) -> LoadResult:
    """Read h2load's report; a report with failures or missing lines is not ok."""
    finished = _FINISHED.search(output)
    requests = _REQUESTS.search(output)
    if finished is None or requests is None:
        last = output.strip().splitlines()[-3:]
        return LoadResult(ok=False, error="no h2load report: " + " | ".join(last))
    status = _STATUS.search(output)
    non_2xx = sum(int(status[k]) for k in ("s3", "s4", "s5")) if status else 0
    result = LoadResult(
        ok=True,
        requests_per_s=float(finished["rps"]),
        mb_per_s=float(finished["bps"]) * _BINARY_UNITS[finished["bunit"]] / 1e6,
        total=int(requests["total"]),
        succeeded=int(requests["succeeded"]),
        failed=int(requests["failed"]),
        errored=int(requests["errored"]),
        timeout=int(requests["timeout"]),
        non_2xx=non_2xx,
        elapsed_s=float(finished["secs"]) * _TIME_UNITS[finished["unit"]],
    )
    latency = _LATENCY.search(output)
    if latency is not None:
        result.latency_mean_s = float(latency["mean"]) * _TIME_UNITS[latency["mean_unit"]]
        result.latency_max_s = float(latency["max"]) * _TIME_UNITS[latency["max_unit"]]
    problems = [
        f"{n} {what}"
        for n, what in (
            (result.failed, "failed"),
            (result.errored, "errored"),
            (result.timeout, "timed out"),
            (result.non_2xx, "non-2xx"),
        )
        if n
    ]
    if result.succeeded == 0:
        problems.append("no request succeeded")
    if problems:
        result.ok = False
        result.error = ", ".join(problems)
    return result


def h2load_argv(
    url: str,
    *,
    clients: int = 1,
    streams: int = 1,
    requests: int | None = None,
    duration: float | None = None,
    warm_up: float = 0.0,
    data_file: Path | None = None,
) -> tuple[list[str], float]:
    """h2load's command line for one run, and the seconds after which to give up on it."""
    path = h2load_path()
    if path is None:
        raise FileNotFoundError(MISSING)
    argv = [path, "-t", "1", "-c", str(clients), "-m", str(streams)]
    if duration is not None:
        argv += ["-D", f"{max(1, round(duration * 1000))}ms"]
        if warm_up > 0:
            argv += ["--warm-up-time", f"{max(1, round(warm_up * 1000))}ms"]
        limit = duration + warm_up + 30.0
    elif requests is not None:
        argv += ["-n", str(max(requests, clients))]
        limit = 120.0
    else:
        raise ValueError("give requests or duration")
    if data_file is not None:
        argv += ["-d", str(data_file)]
    argv.append(url)
    return argv, limit


#: What to do when h2load is not installed.
MISSING = "h2load not found (apt-get install nghttp2-client)"


def run_h2load(
    url: str,
    *,
    clients: int = 1,
    streams: int = 1,
    requests: int | None = None,
    duration: float | None = None,
    warm_up: float = 0.0,
    data_file: Path | None = None,
    timeout: float | None = None,
) -> LoadResult:
    """Run h2load once against `url`: ``requests`` (-n) or ``duration`` (-D), bounded.

    This blocks: the server must run in another process (or thread). A server
    on this process's event loop needs `h2load_async`.
    """
    if h2load_path() is None:
        return LoadResult(ok=False, error=MISSING)
    argv, limit = h2load_argv(
        url,
        clients=clients,
        streams=streams,
        requests=requests,
        duration=duration,
        warm_up=warm_up,
        data_file=data_file,
    )
    limit = timeout if timeout is not None else limit
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=limit, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired:
        return LoadResult(ok=False, error=f"h2load did not finish within {limit:.0f} s")
    return _finish(parse_report(done.stdout), done.returncode, done.stderr)


async def h2load_async(
    url: str,
    *,
    streams: int = 1,
    requests: int | None = None,
    duration: float | None = None,
    timeout: float = 30.0,
) -> LoadResult:
    """One h2load run (one connection, `streams` at a time) while this event loop serves.

    For a server in the same process, a notebook's kernel for instance: the
    loop goes on serving while h2load runs as a child process. The run is
    bounded by ``requests`` (-n) or ``duration`` (-D, seconds), and the child
    is killed if it has not finished within `timeout` seconds.
    """
    if h2load_path() is None:
        return LoadResult(ok=False, error=MISSING)
    argv, _ = h2load_argv(url, streams=streams, requests=requests, duration=duration)
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        process.kill()
        await process.wait()
        return LoadResult(ok=False, error=f"h2load did not finish within {timeout:.0f} s")
    text = out.decode("utf-8", "replace")
    return _finish(parse_report(text), process.returncode, err.decode("utf-8", "replace"))


def _finish(result: LoadResult, returncode: int | None, stderr: str) -> LoadResult:
    if returncode != 0 and result.ok:
        result.ok = False
        result.error = f"h2load exited with {returncode}: {stderr.strip()[-200:]}"
    return result
