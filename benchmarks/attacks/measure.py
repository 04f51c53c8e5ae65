"""One row of the table: a fresh server, a healthy client, one attack, and the readings.

The steps are the same for every attack:

1. start ``python -m gethy serve`` and the healthy client; wait for its first answer;
2. read the server's resident set (idle) and CPU time, note the time;
3. attack (the attack closes its connections when done: "the attackers left");
4. wait until the server's CPU time stops growing (it may still be chewing on
   bytes it has read), read its CPU time, peak (VmHWM) and resident set;
5. stop the healthy client: its worst GET between steps 2 and 4 is the row's
   latency; then one GET on a new connection;
6. one idle timeout (plus `MARGIN`: the server's timers fire at the timeout,
   not before) after the attackers left, read the resident set again;
7. stop the server; read its log: tracebacks, and how and when it let go of
   the attacker's connections (`benchmarks.attacks.serverlog`).

Step 6 only waits, so it runs on a timer thread while the runner goes on with
the next row's steps 1-5 (`Measurement.finish` then joins it and does step 7):
the old server sits idle, with no connection, while the next one is attacked.
"""

from __future__ import annotations

import threading
import time
import traceback
from typing import Any

from benchmarks.attacks.healthy import HealthyClient, get_once, worst_during
from benchmarks.attacks.model import Attack, Context, Kind, Outcome
from benchmarks.attacks.serverlog import connection_lines
from benchmarks.attacks.targets import judge
from benchmarks.attacks.victim import TRACEBACK, Victim, gethy_spec

__all__ = ["Measurement", "idle_timeout"]

WARM_UP = 0.1  # seconds of healthy GETs before the idle reading
MARGIN = 0.25  # seconds after the idle timeout before the last memory reading
LOG_LINES = 40  # the last lines of the server's log kept in the JSON


def idle_timeout(attack: Attack, quick: bool) -> float:
    """The server's --idle-timeout for this row: short, so memory is judged soon after.

    Attacks that trickle a byte every 0.5 s get a timeout well above that, or
    whether the server notices would depend on timing luck.
    """
    if attack.slow_idle_timeout:
        return 1.0 if quick else 2.0
    return 0.5 if quick else 2.0


class Measurement:
    """One attack against one fresh server: `run` (steps 1-5), then `finish` (6-7)."""

    def __init__(self, attack: Attack, quick: bool) -> None:
        self.attack = attack
        self.quick = quick
        self.timeout = idle_timeout(attack, quick)
        self.victim = Victim(gethy_spec(idle_timeout=self.timeout, tls=attack.tls))
        self.context: Context | None = None
        self.row: dict[str, Any] = {
            "attack": attack.name,
            "title": attack.title,
            "cve": attack.cve,
            "kind": attack.kind.value,
            "unit": attack.unit,
            "size": attack.size(quick),
            "full_size": attack.full,
            "idle_timeout_s": self.timeout,
            "tls": attack.tls,
            "error": None,
        }
        self._later: threading.Timer | None = None
        self._left_wall = 0.0  # time.time() when the attackers left, to compare with the log

    def run(self) -> None:
        """Steps 1-5; an error is recorded in the row, never raised (but Ctrl-C is)."""
        try:
            self.victim.start()
            with HealthyClient(self.victim.port, tls=self.attack.tls) as healthy:
                if not healthy.wait_ready():
                    raise RuntimeError("the healthy client got no answer before the attack")
                left = self._attack(healthy)
            alive = self.victim.alive
            self.row["get_after"] = (
                get_once(self.victim.port, tls=self.attack.tls) if alive else "server died"
            )
            self._later = threading.Timer(
                max(left + self.timeout + MARGIN - time.monotonic(), 0), self._read_later
            )
            self._later.start()
        except Exception as exc:  # one broken row must not lose the others
            self.row["error"] = f"{type(exc).__name__}: {exc}"
            self.row["error_traceback"] = traceback.format_exc()

    def finish(self) -> dict[str, Any]:
        """Steps 6-7: wait for the last reading, stop the server, read its log, judge."""
        try:
            if self._later is not None:
                self._later.join()
        finally:
            self.victim.stop()
            self._read_log()
            self.victim.__exit__(None, None, None)
        if self.row["error"] is None:
            self.row["verdicts"] = [v.as_dict() for v in judge(self.attack, self.row)]
        return self.row

    def abort(self) -> None:
        """Stop everything now (Ctrl-C)."""
        if self._later is not None:
            self._later.cancel()
        self.victim.__exit__(None, None, None)

    # ------------------------------------------------------------------ steps

    def _attack(self, healthy: HealthyClient) -> float:
        """Steps 2-5; returns when the attackers left (monotonic time)."""
        time.sleep(WARM_UP)
        attack, victim = self.attack, self.victim
        self.context = Context(
            victim.port,
            attack.size(self.quick),
            attack.seconds(self.quick),
            self.timeout,
            self.quick,
            attack.tls,
            server_cpu=victim.cpu_seconds,
        )
        self.row["rss_idle_kib"] = victim.memory()["VmRSS"]
        cpu_before = victim.cpu_seconds()
        started = time.monotonic()
        outcome = attack.run(self.context)
        left = time.monotonic()
        self._left_wall = time.time()
        cpu_after = victim.settle(limit=3.0 if self.quick else 10.0)
        settled = time.monotonic()
        memory = victim.memory()
        worst, gets, failed = worst_during(healthy.stop(), started, settled)
        cpu = cpu_after - cpu_before
        self.row.update(_outcome(outcome))
        self.row.update(
            attack_s=round(left - started, 3),
            settle_s=round(settled - left, 3),
            cpu_s=round(cpu, 3),
            cpu_per_unit_us=round(cpu / outcome.sent * 1e6, 1) if outcome.sent else None,
            peak_kib=memory["VmHWM"],
            rss_after_kib=memory["VmRSS"],
            worst_latency_s=round(worst, 4),
            healthy_gets=gets,
            healthy_failed=failed,
        )
        return left

    def _read_later(self) -> None:
        self.row["rss_later_kib"] = self.victim.memory()["VmRSS"]

    def _read_log(self) -> None:
        text = self.victim.log_text()
        row = self.row
        row["tracebacks"] = text.count(TRACEBACK)
        lines = text.splitlines()
        row["log_tail"] = lines[-LOG_LINES:]
        first = next((i for i, line in enumerate(lines) if TRACEBACK in line), None)
        if first is not None:
            row["first_traceback"] = lines[max(first - 1, 0) : first + 30]
        ports = self.context.client_ports if self.context is not None else []
        ended = connection_lines(text, ports)
        row["server_ended"] = [line.as_dict() for line in ended]
        if ended and self._left_wall:
            # When the server let go of the attackers' last connection, after they left
            # (negative: it had closed them before): what the memory reading waited for.
            row["released_s"] = round(max(line.ended_at for line in ended) - self._left_wall, 3)
        cut = [line.seconds for line in ended if line.by_server]
        if self.attack.kind is Kind.SLOW and cut and row.get("held_s") is None:
            row["held_s"] = min(cut)  # the server let go; the kernel may still hold the socket


def _outcome(outcome: Outcome) -> dict[str, Any]:
    return {
        "received": outcome.received,
        "sent": outcome.sent,
        "connections": outcome.connections,
        "stopped": outcome.stopped,
        "held_s": None if outcome.held is None else round(outcome.held, 2),
        "details": outcome.details,
    }
