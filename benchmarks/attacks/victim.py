"""The server under attack: a fresh ``python -m gethy serve`` and what /proc says about it.

One process per attack, so each row's CPU time, peak memory and log are its
own. CPU is ``utime + stime`` from ``/proc/PID/stat`` (clock ticks, 10 ms on
Linux); memory is ``VmRSS`` (resident now) and ``VmHWM`` (the peak resident
set so far) from ``/proc/PID/status``. The log is the server's stdout and
stderr at ``--log-level info``: one line per connection, and any traceback.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

from benchmarks.servers import RunningServer, ServerSpec

__all__ = ["GRACE", "TRACEBACK", "Victim", "gethy_spec"]

TRACEBACK = "Traceback (most recent call last)"
_TICK = os.sysconf("SC_CLK_TCK")

#: Seconds a graceful shutdown waits for open streams (``--grace``): short, the rows are over.
GRACE = 0.5


def gethy_spec(*, idle_timeout: float, tls: bool = False) -> ServerSpec:
    """``python -m gethy serve`` on loopback, logging each connection, with `idle_timeout`."""
    argv = [
        "-m",
        "gethy",
        "serve",
        "--host",
        "{host}",
        "--port",
        "{port}",
        "--log-level",
        "info",
        "--idle-timeout",
        f"{idle_timeout:g}",
        "--grace",
        f"{GRACE:g}",
    ]
    if tls:
        argv.append("--tls")
    name = "gethy (TLS)" if tls else "gethy"
    return ServerSpec(name, "python -m gethy serve " + " ".join(argv[3:]), tuple(argv))


class Victim(RunningServer):
    """A `RunningServer` that can also tell its CPU time and memory, and count tracebacks.

    The readings stay available after the process died: the last one is kept.
    """

    def __init__(self, spec: ServerSpec) -> None:
        super().__init__(spec)
        self._cpu = 0.0
        self._memory = {"VmRSS": 0, "VmHWM": 0}

    def cpu_seconds(self) -> float:
        """User + system CPU time the server used so far, in seconds."""
        if self.process is not None:
            try:
                stat = Path(f"/proc/{self.process.pid}/stat").read_text()
            except OSError:
                return self._cpu
            fields = stat.rpartition(")")[2].split()  # after "pid (comm)": state is fields[0]
            self._cpu = (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime
        return self._cpu

    def memory(self) -> dict[str, int]:
        """VmRSS and VmHWM in KiB (the last reading if the process is gone)."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(OSError, ValueError):
                self._memory = self.memory_kib()
        return dict(self._memory)

    def settle(self, *, quiet: float = 0.1, limit: float = 3.0) -> float:
        """Wait until the server's CPU time stops growing (at most `limit` s); return its time.

        Quiet means at most one clock tick in `quiet` seconds: the healthy
        client's GETs alone cost less than that.
        """
        deadline = time.monotonic() + limit
        before = self.cpu_seconds()
        while time.monotonic() < deadline:
            time.sleep(quiet)
            now = self.cpu_seconds()
            if now - before <= 1.0 / _TICK or not self.alive:
                return now
            before = now
        return self.cpu_seconds()

    def tracebacks(self) -> int:
        return self.log_text().count(TRACEBACK)
