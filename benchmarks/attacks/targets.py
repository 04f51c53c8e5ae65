"""What a hardened server should achieve against every attack, judged row by row.

The targets are fixed here, not tuned to today's server: a row that misses
one is a finding. Each is `met`, `MISSED`, or does not apply (None).

* **bounded**: no attack costs more than `CPU_PER_CONNECTION` s of server CPU
  per attacking connection. A flood that the server let run to the end (no
  GOAWAY, no close, it kept reading) costs in proportion to its size, so its
  cost is projected to the full size (``CPU x full / sent``): a quick run
  then judges a flood as the full one would, instead of passing it for being
  small. A flood ended with GOAWAY ENHANCE_YOUR_CALM (RFC 9113 §5.4.1) costs
  what it cost until then.
* **memory**: one idle timeout after the attackers left, the server's
  resident set is back within `MEMORY_SLACK_MIB` of what it was before.
* **latency**: during a single-connection attack, the healthy client's worst
  GET takes under `LATENCY` s, and none fails.
* **tracebacks**: none in the server's log.
* **answers**: a new connection still gets ``200`` for a GET afterwards.
* **cut** (slow attacks only): the server ends a connection that trickles or
  does not read within `CUT_FACTOR` idle timeouts.
* **refused** (the 101st stream only): RFC 9113 §5.1.2 makes a stream over
  SETTINGS_MAX_CONCURRENT_STREAMS a *stream* error, PROTOCOL_ERROR or
  REFUSED_STREAM: the stream is refused, the connection and its other streams
  go on.

``cut`` and ``refused`` are this suite's own additions to the brief's four
targets (bounded, memory, latency, tracebacks) and the "still answers" check.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from benchmarks.attacks.model import Attack, Kind

__all__ = ["TARGETS", "Verdict", "applicable", "judge"]

CPU_PER_CONNECTION = 1.0
MEMORY_SLACK_MIB = 5.0
LATENCY = 0.25
CUT_FACTOR = 2.0

#: Target name -> what it asks, as printed under the table.
TARGETS = {
    "bounded": f"server CPU <= {CPU_PER_CONNECTION:g} s per attacking connection"
    " (a flood the server let run: projected to its full size)",
    "memory": f"RSS one idle timeout after the attack <= RSS before + {MEMORY_SLACK_MIB:g} MiB",
    "latency": f"healthy client's worst GET < {LATENCY * 1000:.0f} ms, none failed"
    " (single-connection attacks)",
    "tracebacks": "no traceback in the server's log",
    "answers": "a new connection still gets 200 for a GET afterwards",
    "cut": f"slow attacks: the server ends the connection within {CUT_FACTOR:g} x idle timeout",
    "refused": "101 concurrent streams: the 101st alone gets RST_STREAM REFUSED_STREAM or"
    " PROTOCOL_ERROR (RFC 9113 §5.1.2), the connection goes on",
}
REFUSALS = ("REFUSED_STREAM", "PROTOCOL_ERROR")


@dataclass(frozen=True)
class Verdict:
    target: str
    met: bool
    value: str  # the measured value, in words

    def as_dict(self) -> dict[str, Any]:
        return {"target": self.target, "met": self.met, "value": self.value}


def projected_cpu(attack: Attack, row: dict[str, Any]) -> float | None:
    """The CPU a flood the server let run would cost at its full size (None: no projection)."""
    sent = row["sent"]
    if attack.kind is not Kind.FLOOD or row["stopped"] or not 0 < sent < attack.full:
        return None
    return row["cpu_s"] * attack.full / sent


def applicable(attack: Attack) -> list[str]:
    """The targets that judge `attack`, in the order of `TARGETS`."""
    wanted = {"bounded", "memory", "tracebacks", "answers", *attack.extra_targets}
    if not attack.parallel:
        wanted.add("latency")
    if attack.kind is Kind.SLOW:
        wanted.add("cut")
    return [name for name in TARGETS if name in wanted]


def judge(attack: Attack, row: dict[str, Any]) -> list[Verdict]:
    """The verdicts of one measured row (see `benchmarks.attacks.measure` for its keys)."""
    checks = {
        "bounded": lambda: _bounded(attack, row),
        "memory": lambda: _memory(row),
        "latency": lambda: _latency(row),
        "tracebacks": lambda: Verdict("tracebacks", row["tracebacks"] == 0, str(row["tracebacks"])),
        "answers": lambda: Verdict("answers", row["get_after"] == "200", row["get_after"]),
        "cut": lambda: _cut(row),
        "refused": lambda: _refused(row["details"]),
    }
    return [checks[name]() for name in applicable(attack)]


def _latency(row: dict[str, Any]) -> Verdict:
    worst, failed = row["worst_latency_s"], row["healthy_failed"]
    value = f"{worst * 1000:,.0f} ms" + (f", {failed} failed" if failed else "")
    return Verdict("latency", worst < LATENCY and not failed, value)


def _bounded(attack: Attack, row: dict[str, Any]) -> Verdict:
    connections = max(row["connections"], 1)
    cpu = row["cpu_s"]
    projected = projected_cpu(attack, row)
    per_connection = (projected if projected is not None else cpu) / connections
    value = f"{cpu:.2f} s"
    if projected is not None:
        value += f" (~{projected:.1f} s at {attack.full:,} {attack.unit})"
    if connections > 1:
        value += f" / {connections} connections"
    return Verdict("bounded", per_connection <= CPU_PER_CONNECTION, value)


def _memory(row: dict[str, Any]) -> Verdict:
    grown = (row["rss_later_kib"] - row["rss_idle_kib"]) / 1024
    return Verdict("memory", grown <= MEMORY_SLACK_MIB, f"{grown:+.1f} MiB")


def _refused(details: dict[str, Any]) -> Verdict:
    refused, survived = details["refused"], details["connection_survived"]
    value = f"RST_STREAM {refused}" if refused else "no RST_STREAM"
    value += ", connection went on" if survived else ", connection lost"
    return Verdict("refused", refused in REFUSALS and survived, value)


def _cut(row: dict[str, Any]) -> Verdict:
    held, limit = row["held_s"], CUT_FACTOR * row["idle_timeout_s"]
    if held is None:
        return Verdict("cut", False, f"still open after {row['attack_s']:.1f} s")
    return Verdict("cut", held <= limit, f"ended after {held:.1f} s")
