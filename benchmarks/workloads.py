"""What each server is asked to do: three kinds of request at three levels of multiplexing.

* ``small-get``: GET of the JSON echo (a few hundred bytes each way): what a
  server's per-request cost looks like, HPACK and stream bookkeeping included.
* ``post-100k``: POST of 100 KiB, echoed back as JSON: request bodies larger
  than the 65,535-byte initial window, so the server's WINDOW_UPDATEs pace the
  client (RFC 9113 §6.9.1).
* ``get-1m``: GET ``/bytes/1048576``: response bodies, DATA frames and send
  flow control (RFC 9113 §6.9).

Each runs with 1, 10 and 100 concurrent streams on one connection
(h2load ``-m``; 100 is the SETTINGS_MAX_CONCURRENT_STREAMS all servers
advertise, RFC 9113 §5.1.2).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

KIB = 1024
MIB = 1024 * KIB


@dataclass(frozen=True)
class Kind:
    """One kind of request."""

    name: str
    title: str
    method: str
    path: str
    body_size: int = 0


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind("small-get", "small GET (JSON echo)", "GET", "/echo"),
        Kind("post-100k", "POST 100 KiB, echoed", "POST", "/echo", 100 * KIB),
        Kind("get-1m", "GET 1 MiB (/bytes/1048576)", "GET", f"/bytes/{MIB}"),
    )
}
STREAM_COUNTS = (1, 10, 100)


@dataclass(frozen=True)
class Workload:
    """A kind of request at a number of concurrent streams per connection."""

    kind: Kind
    streams: int

    @property
    def name(self) -> str:
        return f"{self.kind.name}:{self.streams}"

    @property
    def title(self) -> str:
        return f"{self.kind.title}, {self.streams} stream{'s' if self.streams > 1 else ''}"


ALL_WORKLOADS = tuple(Workload(kind, m) for kind in KINDS.values() for m in STREAM_COUNTS)


def parse_workloads(text: str) -> list[Workload]:
    """``"small-get:10,get-1m"`` -> workloads; a kind without ``:N`` means all stream counts."""
    result: list[Workload] = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, _, streams = item.partition(":")
        if name not in KINDS:
            raise ValueError(f"unknown workload kind {name!r} (known: {', '.join(KINDS)})")
        counts = [int(streams)] if streams else list(STREAM_COUNTS)
        for count in counts:
            if not 1 <= count <= 100:
                raise ValueError(f"{item!r}: streams must be 1..100 (the servers' limit)")
            result.append(Workload(KINDS[name], count))
    if not result:
        raise ValueError("no workloads given")
    return result


def body_file(directory: Path, size: int) -> Path:
    """A request body of `size` ASCII bytes (echoed in JSON without escaping)."""
    path = directory / f"body-{size}.bin"
    if not path.exists():
        path.write_bytes(b"x" * size)
    return path
