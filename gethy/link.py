"""A deterministic link simulator: an h2 client and a server, a round trip apart.

Built in notebook 05 (flow-control lab); notebook 06 (multiplexing) uses it too.

Two endpoints joined by a link with a round-trip time and a bandwidth (the
same both ways), optionally losing or delaying segments, driven by a virtual
clock: no sleeping, no threads, the same result every run. The client is h2's
`H2Connection` steered by a receive-window policy (`gethy.flowcontrol`); the
server is any `HTTP2Protocol`-like object (``receive(bytes) -> events``,
``data_to_send() -> bytes``, answering with ``send``).

TCP is modelled simply but honestly. The bytes each side writes are cut into
segments of `Link.mss` bytes, serialised one after another at the bandwidth,
and arrive one-way delay (RTT / 2) later, **in order**: a lost segment arrives
one RTT late (its retransmission, as after TCP's fast retransmit), and nothing
behind it is delivered before it (TCP head-of-line blocking). Neither
congestion control nor TCP's own receive window is modelled: the link's
sender may always send, so what limits a transfer here is HTTP/2 flow
control (RFC 9113 §5.2, §6.9), the subject of the lab. A retransmission's own
serialisation time is ignored.

Events (deliveries, scheduled calls) sit in a heap ordered by time; the work
is per frame and per segment, never per byte, so a few MB simulate in a
fraction of a second. Every frame that crossed is recorded (`FrameRecord`).
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import count
from typing import Any

from gethy.flowcontrol import H2Default, WindowPolicy
from gethy.frame_header import CONNECTION_PREFACE, decode_frame_header
from gethy.linkclient import LinkClient, Response

UP = "up"  # client -> server
DOWN = "down"  # server -> client

#: An application: a request's `gethy.Stream` -> (status, headers, body[, trailers]),
#: or None to answer later through the server itself.
App = Callable[[Any], tuple[Any, ...] | None]


@dataclass(frozen=True)
class Link:
    """The path between client and server.

    `rtt` in seconds, `bandwidth` in bytes per second (each way), `loss` and
    `reorder` the probability that a segment is lost (it then arrives one
    `rtt` late) or delayed by `reorder_delay` seconds (RTT / 4 if None),
    drawn from a random generator seeded with `seed`.
    """

    rtt: float = 0.05
    bandwidth: float = 1_250_000.0  # 10 Mbit/s
    loss: float = 0.0
    reorder: float = 0.0
    reorder_delay: float | None = None
    seed: int = 0
    mss: int = 1460  # TCP payload bytes per segment on Ethernet

    @property
    def bdp(self) -> float:
        """The bandwidth-delay product: the bytes in flight that keep the link busy."""
        return self.bandwidth * self.rtt


@dataclass(frozen=True)
class FrameRecord:
    """One frame that crossed the link, for tables and plots.

    `time` is when the receiver got it (its last byte delivered in order),
    `sent` when its first byte went onto the wire, both in seconds.
    `direction` is `UP` (client to server) or `DOWN` (server to client).
    """

    time: float
    direction: str
    type: str
    stream_id: int
    length: int
    flags: tuple[str, ...]
    sent: float


class _FrameScanner:
    """Finds where frames end in a byte stream, reading headers only (RFC 9113 §4.1)."""

    def __init__(self, preface: bool) -> None:
        self.preface = len(CONNECTION_PREFACE) if preface else 0
        self.header = b""  # bytes of a header not yet complete
        self.remaining = 0  # payload bytes of the current frame still to come
        self.current: tuple[str, int, int, tuple[str, ...]] | None = None

    def scan(self, data: bytes) -> Iterator[tuple[int, str, int, int, tuple[str, ...]]]:
        """Yield (end offset, type, stream id, length, flags) for each frame ending in `data`."""
        pos, n = 0, len(data)
        while pos < n:
            if self.preface:
                take = min(self.preface, n - pos)
                pos, self.preface = pos + take, self.preface - take
                if not self.preface:
                    yield pos, "PREFACE", 0, len(CONNECTION_PREFACE), ()
            elif self.current is not None:
                take = min(self.remaining, n - pos)
                pos, self.remaining = pos + take, self.remaining - take
                if not self.remaining:
                    yield (pos, *self.current)
                    self.current = None
            else:
                take = min(9 - len(self.header), n - pos)
                self.header += data[pos : pos + take]
                pos += take
                if len(self.header) == 9:
                    h = decode_frame_header(self.header)
                    self.header, self.remaining = b"", h.length
                    self.current = (h.type, h.stream_id, h.length, h.flags)
                    if not h.length:
                        yield (pos, *self.current)
                        self.current = None


@dataclass
class _Pipe:
    """One direction of the link: a serialising sender and an in-order receiver."""

    direction: str
    scanner: _FrameScanner
    free_at: float = 0.0  # when the sender finishes serialising what it has
    delivered_at: float = 0.0  # the last in-order delivery: nothing is delivered before it
    segments: int = 0
    lost: int = 0
    bytes: int = 0


@dataclass(order=True)
class _Event:
    time: float
    seq: int
    action: Callable[[], None] = field(compare=False)


class Simulation:
    """An h2 client and a server joined by a `Link`, run on a virtual clock.

    The server is `server`, or ``server_factory(clock)`` (given the virtual
    clock), or by default gethy's `HTTP2Protocol` on the virtual clock. `app`
    answers each request (default `pattern_app`); `policy` steers the
    client's receive windows (default `H2Default()`: 65,535 bytes, returned
    by h2's own half-window rule).

    ``request(path, at=...)`` schedules requests; `run` plays the events in
    time order until none is left. Afterwards `records` holds every frame
    that crossed, `responses` what the client received per stream, and
    `windows` the client's receive windows over time ((time, stream id, size),
    0 = the connection).
    """

    def __init__(
        self,
        link: Link,
        server: Any | None = None,
        *,
        app: App | None = None,
        policy: WindowPolicy | None = None,
        server_factory: Callable[[Callable[[], float]], Any] | None = None,
    ) -> None:
        self.link = link
        self.now = 0.0
        if server is None:
            server = (server_factory or default_server)(
                self.clock
            )  # the server's clock is the virtual one
        self.server = server
        self.app = app if app is not None else pattern_app
        self.client = LinkClient(policy if policy is not None else H2Default(), self.clock)
        self.records: list[FrameRecord] = []
        self.server_events: list[Any] = []
        self._rng = random.Random(link.seed)
        self._pipes = {UP: _Pipe(UP, _FrameScanner(True)), DOWN: _Pipe(DOWN, _FrameScanner(False))}
        self._heap: list[_Event] = []
        self._seq = count()
        self._flush()  # both prefaces leave at time 0

    # ------------------------------------------------------------- the outside

    def clock(self) -> float:
        """The virtual time in seconds (pass it to anything that reads a clock)."""
        return self.now

    def at(self, time: float, action: Callable[[], None]) -> None:
        """Call `action` at virtual `time`; whatever it makes either side send then leaves."""
        heapq.heappush(self._heap, _Event(time, next(self._seq), action))

    def request(self, path: str = "/", *, at: float = 0.0, headers: Any = ()) -> int:
        """Schedule a GET of `path` at `at` seconds; return its stream id."""
        stream_id = self.client.reserve_stream(at)
        self.at(at, lambda: self.client.request(stream_id, path, headers))
        return stream_id

    @property
    def responses(self) -> dict[int, Response]:
        return self.client.responses

    @property
    def windows(self) -> list[tuple[float, int, int]]:
        return self.client.windows

    def run(self, until: float | None = None, max_events: int = 1_000_000) -> Simulation:
        """Play events in time order until none is left (or `until` seconds); bounded."""
        heap = self._heap
        for _ in range(max_events):
            if not heap or (until is not None and heap[0].time > until):
                return self
            event = heapq.heappop(heap)
            self.now = max(self.now, event.time)
            event.action()
            self._flush()
        raise RuntimeError(f"still busy after {max_events} events at t={self.now:.3f} s")

    def timeline(self, direction: str | None = None) -> list[FrameRecord]:
        """The records in the order they arrived (`records` is in the order they were sent)."""
        chosen = [r for r in self.records if direction is None or r.direction == direction]
        return sorted(chosen, key=lambda r: r.time)

    def stats(self, direction: str = DOWN) -> dict[str, int]:
        """Segments, lost segments and bytes sent in one direction."""
        pipe = self._pipes[direction]
        return {"segments": pipe.segments, "lost": pipe.lost, "bytes": pipe.bytes}

    # ------------------------------------------------------------- the inside

    def _flush(self) -> None:
        """Whatever either side has to send goes onto the link now."""
        self._transmit(self._pipes[UP], self.client.data_to_send())
        self._transmit(self._pipes[DOWN], self.server.data_to_send())

    def _deliver_to_server(self, data: bytes) -> None:
        events = self.server.receive(data)
        self.server_events.extend(events)
        for event in events:
            stream = getattr(event, "stream", None)
            answer = self.app(stream) if stream is not None else None  # a RequestEvent
            if answer is not None:  # None: the app answers later itself (e.g. with `at`)
                status, headers, body, *rest = answer
                extra = {"trailers": rest[0]} if rest and rest[0] is not None else {}
                self.server.send(stream.stream_id, status, headers, body, **extra)

    def _transmit(self, pipe: _Pipe, data: bytes) -> None:
        """Serialise `data` in segments; schedule each frame's in-order delivery."""
        if not data:
            return
        link, rng = self.link, self._rng
        start = max(self.now, pipe.free_at)
        byte_time, one_way = 1.0 / link.bandwidth, link.rtt / 2
        late = link.reorder_delay if link.reorder_delay is not None else link.rtt / 4
        ends: list[tuple[int, float]] = []  # (end offset, delivery time) per segment
        t, offset, n = start, 0, len(data)
        while offset < n:
            size = min(link.mss, n - offset)
            offset += size
            t += size * byte_time
            arrival = t + one_way
            if link.loss and rng.random() < link.loss:
                arrival += link.rtt  # retransmitted about one round trip later
                pipe.lost += 1
            if link.reorder and rng.random() < link.reorder:
                arrival += late
            pipe.delivered_at = max(arrival, pipe.delivered_at)  # TCP delivers in order
            ends.append((offset, pipe.delivered_at))
        pipe.free_at, pipe.segments, pipe.bytes = t, pipe.segments + len(ends), pipe.bytes + n
        self._schedule_frames(pipe, data, start, ends)

    def _schedule_frames(
        self, pipe: _Pipe, data: bytes, start: float, ends: list[tuple[int, float]]
    ) -> None:
        """Deliver `data` frame by frame: each when the segment holding its last byte arrives."""
        byte_time = 1.0 / self.link.bandwidth
        deliver = self._deliver_to_server if pipe.direction == UP else self.client.receive
        seg, chunk_start, frame_start = 0, 0, 0
        group_time: float | None = None  # frames arriving at the same moment go together
        for end, type_, stream_id, length, flags in pipe.scanner.scan(data):
            while ends[seg][0] < end:
                seg += 1
            when = ends[seg][1]
            if group_time is not None and when != group_time:
                self._deliver_at(group_time, deliver, data[chunk_start:frame_start])
                chunk_start = frame_start
            group_time = when
            sent = start + frame_start * byte_time
            self.records.append(
                FrameRecord(when, pipe.direction, type_, stream_id, length, flags, sent)
            )
            frame_start = end
        if group_time is not None:
            self._deliver_at(group_time, deliver, data[chunk_start:frame_start])
        if frame_start < len(data):  # a frame that continues in a later write
            self._deliver_at(ends[-1][1], deliver, data[frame_start:])

    def _deliver_at(self, when: float, deliver: Callable[[bytes], object], chunk: bytes) -> None:
        self.at(when, lambda: deliver(chunk))


# ------------------------------------------------------------------ helpers


def default_server(clock: Callable[[], float]) -> Any:
    """gethy's `HTTP2Protocol`, its flood guard timed by `clock`."""
    from gethy.protocol import HTTP2Protocol

    return HTTP2Protocol(clock=clock)


@lru_cache(maxsize=4)
def pattern(n: int) -> bytes:
    """`n` bytes of a fixed pattern (period 251, a prime): a body whose damage shows."""
    block = bytes(range(251))
    return (block * (n // 251 + 1))[:n]


def pattern_app(stream: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    """Answer ``GET /<n>`` with `n` pattern bytes (any other path: 0 bytes)."""
    tail = stream.path.rsplit("/", 1)[-1]
    size = int(tail) if tail.isdigit() else 0
    return 200, [("content-type", "application/octet-stream")], pattern(size)


@dataclass(frozen=True)
class Download:
    """What one download measured: sizes in bytes, times in seconds."""

    size: int
    started: float  # the request left the client
    finished: float  # the last byte of the body arrived
    window_updates: int  # WINDOW_UPDATE frames the client sent
    pings: int  # PING frames the client sent
    intact: bool  # the body arrived complete and unchanged
    simulation: Simulation

    @property
    def duration(self) -> float:
        return self.finished - self.started

    @property
    def throughput(self) -> float:
        """Body bytes per second, from the request leaving to the last byte arriving."""
        return self.size / self.duration if self.duration > 0 else 0.0


def download(size: int, link: Link, policy: WindowPolicy | None = None, **kw: Any) -> Download:
    """Fetch `size` bytes over `link` with a fresh client and server; measure it."""
    sim = Simulation(link, policy=policy, **kw)
    stream_id = sim.request(f"/{size}")
    sim.run()
    response = sim.responses[stream_id]
    up = [r for r in sim.records if r.direction == UP]
    return Download(
        size=size,
        started=response.requested_at if response.requested_at is not None else 0.0,
        finished=response.ended_at if response.ended_at is not None else sim.now,
        window_updates=sum(r.type == "WINDOW_UPDATE" for r in up),
        pings=sum(r.type == "PING" and "ACK" not in r.flags for r in up),
        intact=response.ended and bytes(response.body) == pattern(size),
        simulation=sim,
    )
