"""The sans-IO micro-benchmark: what does gethy's layer cost on top of h2, in CPU time?

No sockets and no event loop: the client's bytes for N requests are recorded
once, then fed, chunk by chunk, to

* gethy's `HTTP2Protocol`, answering each `RequestEvent` with ``send()`` and
  collecting ``data_to_send()`` after each chunk; and
* `benchmarks.bare_h2.BareH2Connection`: a bare `H2Connection` doing the
  minimum (``receive_data``, ``acknowledge_received_data``, ``send_headers``,
  ``send_data`` within the windows, ``data_to_send``).

Both give the same answers, which are precomputed, so the application costs
nothing and the ratio is the protocol layer's alone. Before timing, the two
outputs are decoded and must hold the same frames (type, stream, length,
flags; RFC 9113 §4.1): equal work, not just equal input.

The recording is a real exchange: an h2 client starts ``concurrency`` requests
at a time (as h2load ``-m`` does), sends request bodies as the server's windows
allow, acknowledges response data (its WINDOW_UPDATEs, RFC 9113 §6.9, are part
of the recording) and writes once per round trip. Timing is
``time.process_time`` over the whole feed, repeated, gethy and bare
alternating; the ratio of the minima is the figure (the least disturbed run of
each), medians are reported beside it.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import h2.events
from h2.config import H2Configuration
from h2.connection import H2Connection

from benchmarks.answers import answer
from benchmarks.bare_h2 import BareH2Connection
from benchmarks.workloads import KIB

Respond = Callable[[str, str, Any, bytes], tuple[int, list[tuple[str, str]], bytes]]


@dataclass(frozen=True)
class MicroCase:
    """One recorded exchange: N requests of one kind, `concurrency` at a time."""

    name: str
    method: str
    path: str
    body_size: int
    requests: int
    concurrency: int = 10


def fixed_answers(case: MicroCase) -> Respond:
    """The answer to every request of `case`, computed once (the app then costs nothing)."""
    request_headers = [(":method", case.method), (":path", case.path), (":scheme", "http")]
    status, headers, body = answer(case.method, case.path, request_headers, b"x" * case.body_size)

    def respond(method: str, path: str, headers_in: Any, body_in: bytes) -> Any:
        return status, headers, body

    return respond


def record_client_bytes(case: MicroCase, respond: Respond | None = None) -> list[bytes]:
    """What a client writes for `case`, one bytes object per round trip.

    The client's WINDOW_UPDATEs depend on the answers' sizes: replay the
    recording only to servers giving the same answers (`respond`, by default
    `fixed_answers`), or the server's windows run dry and the replay stalls.
    """
    client = _RecordingClient(case)
    server = BareH2Connection(respond or fixed_answers(case))
    server_out = server.conn.data_to_send()
    chunks: list[bytes] = []
    for _ in range(100 * case.requests + 1000):  # bounded: a stuck exchange raises below
        data = client.round_trip(server_out)
        if not data and client.done:
            return chunks
        if not data:
            raise RuntimeError(f"recording {case.name}: the exchange is stuck")
        chunks.append(data)
        server.receive(data)
        server_out = server.conn.data_to_send()
    raise RuntimeError(f"recording {case.name}: did not finish")


class _RecordingClient:
    """The h2 client of a recording: `concurrency` requests open at a time, as h2load ``-m``."""

    def __init__(self, case: MicroCase) -> None:
        self.case = case
        self.conn = H2Connection(H2Configuration(client_side=True, header_encoding="utf-8"))
        self.conn.initiate_connection()
        self.body = b"x" * case.body_size
        self.headers = [
            (":method", case.method),
            (":path", case.path),
            (":scheme", "http"),
            (":authority", "127.0.0.1"),
            ("user-agent", "gethy-micro-benchmark"),
        ]
        if self.body:
            self.headers.append(("content-length", str(len(self.body))))
        self.to_start = case.requests
        self.open_streams: set[int] = set()
        self.uploads: dict[int, int] = {}  # stream id -> request body bytes sent

    @property
    def done(self) -> bool:
        """Every request started and answered."""
        return not self.open_streams and not self.to_start

    def round_trip(self, server_out: bytes) -> bytes:
        """Read what the server wrote, then return what the client writes in one go."""
        if server_out:
            self.read(server_out)
        self.start_requests()
        self.upload()
        return self.conn.data_to_send()

    def read(self, server_out: bytes) -> None:
        """Acknowledge response data (the WINDOW_UPDATEs, RFC 9113 §6.9) and note ended streams."""
        for event in self.conn.receive_data(server_out):
            if isinstance(event, h2.events.DataReceived):
                self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            elif isinstance(event, h2.events.StreamEnded):
                self.open_streams.discard(event.stream_id)
            elif isinstance(event, (h2.events.StreamReset, h2.events.ConnectionTerminated)):
                raise RuntimeError(f"recording {self.case.name}: server sent {event}")

    def start_requests(self) -> None:
        """Open requests until `concurrency` are in flight or all have been started."""
        while self.to_start and len(self.open_streams) < self.case.concurrency:
            stream_id = self.conn.get_next_available_stream_id()
            self.conn.send_headers(stream_id, self.headers, end_stream=not self.body)
            self.open_streams.add(stream_id)
            self.to_start -= 1
            if self.body:
                self.uploads[stream_id] = 0

    def upload(self) -> None:
        """Send request bodies as far as the server's windows allow (RFC 9113 §6.9)."""
        body = self.body
        for stream_id in list(self.uploads):
            sent = self.uploads[stream_id]
            while sent < len(body):
                size = min(
                    self.conn.local_flow_control_window(stream_id),
                    self.conn.max_outbound_frame_size,
                    len(body) - sent,
                )
                if size <= 0:
                    break
                self.conn.send_data(
                    stream_id, body[sent : sent + size], end_stream=sent + size == len(body)
                )
                sent += size
            if sent == len(body):
                del self.uploads[stream_id]
            else:
                self.uploads[stream_id] = sent


def feed_gethy(chunks: list[bytes], respond: Respond) -> list[bytes]:
    """gethy's `HTTP2Protocol`, used as the course teaches: receive, send, data_to_send."""
    from gethy import HTTP2Protocol, RequestEvent

    protocol = HTTP2Protocol()
    output = [protocol.data_to_send()]
    for chunk in chunks:
        for event in protocol.receive(chunk):
            if type(event) is RequestEvent:
                stream = event.stream
                status, headers, body = respond(
                    stream.method, stream.path, stream.headers, stream.body
                )
                protocol.send(stream.stream_id, status, headers, body)
        output.append(protocol.data_to_send())
    return output


def feed_bare(chunks: list[bytes], respond: Respond) -> list[bytes]:
    """The bare H2Connection doing the minimum with the same answers."""
    server = BareH2Connection(respond)
    output = [server.conn.data_to_send()]
    for chunk in chunks:
        server.receive(chunk)
        output.append(server.conn.data_to_send())
    return output


def frame_summary(output: list[bytes]) -> dict[tuple[str, int], list[int]]:
    """Per (frame type, stream): [frames, payload bytes, END_STREAM flags] in a server's output.

    Compared per stream, not frame by frame: gethy sends bodies round robin,
    one frame per stream per turn, while the bare server sends each stream's
    body in order, so the same bytes may be cut into DATA frames differently.
    """
    from gethy.frames import decode_frames

    summary: dict[tuple[str, int], list[int]] = {}
    for frame in decode_frames(b"".join(output)):
        entry = summary.setdefault((frame.type, frame.stream_id), [0, 0, 0])
        entry[0] += 1
        entry[1] += frame.length
        entry[2] += "END_STREAM" in frame.flags
    return summary


def check_equal_work(chunks: list[bytes], respond: Respond, case: MicroCase) -> dict[str, int]:
    """Both servers must send every stream the same bytes and end it; raise if not."""
    gethy_frames = frame_summary(feed_gethy(chunks, respond))
    bare_frames = frame_summary(feed_bare(chunks, respond))

    def payload(
        summary: dict[tuple[str, int], list[int]],
    ) -> dict[tuple[str, int], tuple[int, int]]:
        return {key: (nbytes, ends) for key, (_, nbytes, ends) in summary.items()}

    if payload(gethy_frames) != payload(bare_frames):
        differ = sorted(
            key
            for key in gethy_frames.keys() | bare_frames.keys()
            if payload(gethy_frames).get(key) != payload(bare_frames).get(key)
        )
        raise AssertionError(
            f"{case.name}: gethy and bare h2 sent different bytes on {differ[:10]}"
        )
    ended = sum(ends for (_, stream_id), (_, _, ends) in gethy_frames.items() if stream_id)
    if ended != case.requests:
        raise AssertionError(f"{case.name}: {ended} responses ended, expected {case.requests}")
    return {
        "gethy_frames": sum(n for n, _, _ in gethy_frames.values()),
        "bare_frames": sum(n for n, _, _ in bare_frames.values()),
        "bytes": sum(nbytes + 9 * n for n, nbytes, _ in gethy_frames.values()),
    }


def time_alternately(
    first: Callable[[], object], second: Callable[[], object], repeats: int
) -> tuple[list[float], list[float]]:
    """CPU seconds of `first()` and `second()`, `repeats` each, alternating who goes first."""
    first(), second()  # warm both paths (imports, caches)
    times: tuple[list[float], list[float]] = ([], [])
    for i in range(repeats):
        order = [(first, times[0]), (second, times[1])]
        for run, bucket in order if i % 2 == 0 else reversed(order):
            gc.collect()
            start = time.process_time()
            run()
            bucket.append(time.process_time() - start)
    return times


def ratios(case: MicroCase, gethy_times: list[float], bare_times: list[float]) -> dict[str, Any]:
    """The timing part of a result: raw times, per-request costs, ratios of minima and medians."""
    gethy_min, bare_min = min(gethy_times), min(bare_times)
    return {
        "repeats": len(gethy_times),
        "gethy_s": gethy_times,
        "bare_s": bare_times,
        "gethy_min_s": gethy_min,
        "bare_min_s": bare_min,
        "gethy_us_per_request": gethy_min / case.requests * 1e6,
        "bare_us_per_request": bare_min / case.requests * 1e6,
        "ratio_min": gethy_min / bare_min,
        "ratio_median": statistics.median(gethy_times) / statistics.median(bare_times),
    }


def run_case(case: MicroCase, repeats: int) -> dict[str, Any]:
    """Record, check, then time gethy and bare alternately `repeats` times each."""
    chunks = record_client_bytes(case)
    respond = fixed_answers(case)
    work = check_equal_work(chunks, respond, case)
    gethy_times, bare_times = time_alternately(
        lambda: feed_gethy(chunks, respond), lambda: feed_bare(chunks, respond), repeats
    )
    return {
        "case": case.name,
        "method": case.method,
        "path": case.path,
        "body_size": case.body_size,
        "requests": case.requests,
        "concurrency": case.concurrency,
        "client_chunks": len(chunks),
        "client_bytes": sum(map(len, chunks)),
        "gethy_frames": work["gethy_frames"],
        "bare_frames": work["bare_frames"],
        "server_bytes": work["bytes"],
    } | ratios(case, gethy_times, bare_times)


def default_cases(requests: int) -> list[MicroCase]:
    """Small GETs (the target's case) and 100 KiB POSTs (bodies and windows both ways)."""
    return [
        MicroCase("small-get", "GET", "/echo", 0, requests),
        MicroCase("post-100k", "POST", "/echo", 100 * KIB, max(10, requests // 20)),
    ]


def run_micro(
    requests: int = 2000, repeats: int = 9, progress: Callable[[str], None] | None = None
) -> dict[str, Any]:
    results = []
    for case in default_cases(requests):
        if progress:
            progress(f"micro-benchmark {case.name}: {case.requests} requests x {repeats} repeats")
        results.append(run_case(case, repeats))
    return {"cases": results}


if __name__ == "__main__":
    import json
    import sys

    count = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    report = run_micro(count, progress=lambda s: print(s, file=sys.stderr))
    for case in report["cases"]:
        summary = {k: v for k, v in case.items() if not k.endswith("_s")}
        print(json.dumps(summary, indent=2))
