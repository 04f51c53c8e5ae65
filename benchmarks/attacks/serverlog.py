"""Reading the server's log: how and when it let go of each attacking connection.

At ``--log-level info`` gethy logs one line per connection when it ends
(`gethy.logline`), e.g.::

    2026-11-29 14:05:04,060 INFO gethy.server: 127.0.0.1:36424 h2c: 20 request(s),
    850 B in, 5.4 MB out, 0.52 s; the client stopped reading for 0.5 s, ...

The client's port names the connection, so the runner can tell the attacker's
lines from the healthy client's. The seconds are the server's own view of
how long it kept the connection: the only one that counts when the kernel
keeps an aborted socket alive for a client that does not read.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["ConnectionLine", "connection_lines"]

#: Reasons that say the client ended the connection, not the server (`gethy.connection`).
_CLIENT_ENDED = ("the client closed", "the client sent GOAWAY", "connection lost")

_LINE = re.compile(
    r"^(?P<when>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) INFO"
    r" gethy\.server: \S+:(?P<port>\d+) (?P<kind>.+?): (?P<requests>\d+) request\(s\),"
    r" (?P<bytes_in>.+?) in, (?P<bytes_out>.+?) out, (?P<seconds>[\d.]+) s; (?P<reason>.*)$"
)


@dataclass(frozen=True)
class ConnectionLine:
    """One connection's end, as the server logged it."""

    port: int
    kind: str
    requests: int
    bytes_in: str
    bytes_out: str
    seconds: float
    reason: str
    ended_at: float  # when it was logged, as a Unix time (the log's local time)

    @property
    def by_server(self) -> bool:
        """True when the server ended the connection (a timer, a GOAWAY, an abort)."""
        return not self.reason.startswith(_CLIENT_ENDED)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "by_server": self.by_server}


def connection_lines(log: str, ports: list[int]) -> list[ConnectionLine]:
    """The end-of-connection lines of the connections from `ports`, in log order."""
    wanted = set(ports)
    found = []
    for line in log.splitlines():
        match = _LINE.search(line)
        if match is not None and int(match["port"]) in wanted:
            found.append(
                ConnectionLine(
                    int(match["port"]),
                    match["kind"],
                    int(match["requests"]),
                    match["bytes_in"],
                    match["bytes_out"],
                    float(match["seconds"]),
                    match["reason"],
                    _unix_time(match["when"]),
                )
            )
    return found


def _unix_time(when: str) -> float:
    """``2026-11-29 14:05:04,060`` (logging's asctime, local time) as a Unix time."""
    return dt.datetime.strptime(when, "%Y-%m-%d %H:%M:%S,%f").timestamp()
