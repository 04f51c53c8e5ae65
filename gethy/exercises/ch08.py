"""The checks of notebook 08 (errors and attacks): four budgets in the learner's class.

Built in notebook 08: each check cell calls one ``check_*`` function (and,
hidden, one ``hidden_*``) on the learner's protocol class, which takes a
``clock`` (seconds, as a callable) and raises `gethy.floods.FloodError` when a
budget is spent; its `receive` turns that into GOAWAY ENHANCE_YOUR_CALM.

* Exercise 8.1, ``_stream_reset``: a token bucket of resets (rapid reset).
* Exercise 8.2, ``_header_fragment``: a cap on one header block's bytes
  (CONTINUATION flood).
* Exercise 8.3, ``_ack_queued``: a bound on ACKs queued for a client that does
  not read (PING flood).
* Exercise 8.4, ``_settings_received``: our HPACK encoder's table capped
  (SETTINGS_HEADER_TABLE_SIZE = 2^32-1).

The attacks are raw frames (`gethy.attackwire`), sent in memory; the answers
are read with `gethy.frames.decode_frames`.
"""

from __future__ import annotations

from typing import Any

from h2.settings import SettingCodes

from gethy.attacklab import FILLER, encoder_table_bytes, header_fragments_held
from gethy.attackwire import (
    CONTINUATION,
    DATA,
    PING,
    encode_frame,
    headers_frame,
    hpack_string,
    request_block,
    rst_stream,
    settings_frame,
    split_block,
)
from gethy.events import ConnectionTerminatedEvent, RequestEvent
from gethy.exercises import CheckFailed, attempt, expect
from gethy.frames import CONNECTION_PREFACE, decode_frames
from gethy.pair import InMemoryPair

__all__ = [
    "Clock",
    "check_ack_bound",
    "check_header_cap",
    "check_reset_budget",
    "check_table_cap",
    "hidden_ack_bound",
    "hidden_header_cap",
    "hidden_reset_budget",
    "hidden_table_cap",
]

CALM = "ENHANCE_YOUR_CALM"
_GET = request_block()


class Clock:
    """A clock the check moves by hand: ``clock()`` is the time now, in seconds."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class _Client:
    """The learner's server and a raw client: frames in, what came back read."""

    def __init__(self, cls: type, *, clock: Clock | None = None) -> None:
        self.clock = clock or Clock()
        self.name = cls.__name__
        self.server = attempt(f"{cls.__name__}(clock=...)", lambda: cls(clock=self.clock))
        self.events: list[Any] = []
        self.send(CONNECTION_PREFACE + settings_frame(), "the preface and an empty SETTINGS")
        self.read()

    def send(self, data: bytes, what: str) -> list[Any]:
        events = attempt(f"{what}: receive", lambda: self.server.receive(data))
        self.events += events
        return events

    def read(self) -> list[Any]:
        """The frames the server sends now (the client reads them)."""
        return decode_frames(attempt("data_to_send()", self.server.data_to_send))

    def ended(self, events: list[Any]) -> str | None:
        """The error code's name if `events` ends the connection, else None."""
        ends = [e for e in events if type(e) is ConnectionTerminatedEvent]
        return getattr(ends[0].error_code, "name", str(ends[0].error_code)) if ends else None

    def expect_open(self, events: list[Any], what: str) -> None:
        if self.ended(events) is not None:
            raise CheckFailed(
                f"{what}: the connection should stay open, but receive returned {events[-1]}"
            )

    def expect_calm(self, events: list[Any], what: str) -> None:
        """`events` end the connection, and the client reads GOAWAY ENHANCE_YOUR_CALM."""
        ended = self.ended(events)
        if ended != CALM:
            got = f"ended it with {ended}" if ended else f"returned {_short(events)}"
            raise CheckFailed(
                f"{what}: expected receive to end the connection with a ConnectionTerminatedEvent"
                f" for {CALM} (your budget is spent), but it {got}"
            )
        goaways = [f for f in self.read() if f.type == "GOAWAY"]
        expect(f"{what}: the GOAWAY the client reads", [CALM], [g.error_name for g in goaways])


def _short(events: list[Any]) -> str:
    """Events in a few words: ``2 events (RequestEvent on stream 201, StreamResetEvent ...)``."""
    named = [f"{type(e).__name__} on stream {_stream_of(e)}" for e in events[-3:]]
    more = "..., " if len(events) > 3 else ""
    return f"{len(events)} event(s) ({more}{', '.join(named)})" if events else "no events"


def _stream_of(event: Any) -> int | None:
    stream = getattr(event, "stream", None)
    return stream.stream_id if stream is not None else getattr(event, "stream_id", None)


# ----------------------------------------------------------------- Exercise 8.1


def _pairs(first: int, count: int) -> bytes:
    """`count` rapid resets from stream `first`: a whole GET, then RST_STREAM(CANCEL)."""
    return b"".join(
        headers_frame(i, _GET, end_stream=True) + rst_stream(i)
        for i in range(first, first + 2 * count, 2)
    )


def check_reset_budget(cls: type) -> None:
    """Exercise 8.1, visible: a burst is allowed, one more is not; time refills the budget."""
    burst, rate = cls.RESET_BURST, cls.RESET_RATE
    client = _Client(cls)
    what = f"at time 0, {burst} streams opened and reset (RESET_BURST = {burst})"
    client.expect_open(client.send(_pairs(1, burst), what), what)
    what = f"then one more reset, still at time 0 (reset number {burst + 1})"
    client.expect_calm(client.send(_pairs(2 * burst + 1, 1), what), what)

    client = _Client(cls)
    client.send(_pairs(1, burst), f"at time 0, {burst} resets")
    client.clock.now = 1.0
    refill = int(rate)
    what = f"{burst} resets at time 0, then {refill} more at time 1.0 (RESET_RATE = {rate})"
    client.expect_open(client.send(_pairs(2 * burst + 1, refill), what), what)
    what = f"{burst} resets at time 0, {refill} at time 1.0, then one more at time 1.0"
    client.expect_calm(client.send(_pairs(2 * (burst + refill) + 1, 1), what), what)


def hidden_reset_budget(cls: type) -> None:
    """Exercise 8.1, hidden: an idle hour banks no more than the burst; resets h2 sends count."""
    burst = cls.RESET_BURST
    client = _Client(cls)
    client.clock.now = 3600.0
    what = f"after an hour without resets, {burst + 1} at once (the bucket holds {burst} at most)"
    client.expect_calm(client.send(_pairs(1, burst + 1), what), what)

    # MadeYouReset (CVE-2025-8671): DATA on a stream the client has ended makes h2 reset it.
    client = _Client(cls)
    made = b"".join(
        headers_frame(i, _GET, end_stream=True) + encode_frame(DATA, 0, i, b"x")
        for i in range(1, 2 * (burst + 1), 2)
    )
    what = f"{burst + 1} whole GETs, each followed by DATA that h2 answers with RST_STREAM"
    client.expect_calm(client.send(made, what), what)


# ----------------------------------------------------------------- Exercise 8.2


def _large_request(stream_id: int, size: int) -> bytes:
    """A GET whose header block is about `size` bytes, in HEADERS + CONTINUATION frames."""
    fields = b"".join(
        b"\x10" + hpack_string(f"x-big-{n}".encode()) + hpack_string(b"v" * 12_000)
        for n in range(size // 12_000)
    )
    return split_block(stream_id, _GET + fields, end_stream=True)


def _flood(frames: int) -> tuple[bytes, bytes]:
    """HEADERS without END_HEADERS, and `frames` CONTINUATIONs of 16 KiB that never end it."""
    start = headers_frame(1, _GET, end_stream=True, end_headers=False)
    return start, encode_frame(CONTINUATION, 0, 1, FILLER) * frames


def _held_at_most(client: _Client, limit: int, what: str) -> None:
    held = header_fragments_held(client.server)
    if held > limit:
        raise CheckFailed(f"{what}: the server still holds {held:,} bytes (at most {limit:,})")


def check_header_cap(cls: type) -> None:
    """Exercise 8.2, visible: two large requests pass; a block that never ends is stopped."""
    cap = cls.MAX_HEADER_BLOCK
    client = _Client(cls)
    for stream_id in (1, 3):
        what = f"a GET on stream {stream_id} with a 36 kB header block in 3 frames"
        events = client.send(_large_request(stream_id, 36_000), what)
        got = [e.stream.stream_id for e in events if type(e) is RequestEvent]
        expect(f"{what}: the requests handed over", [stream_id], got)

    client = _Client(cls)
    start, more = _flood(100)
    what = f"HEADERS, no END_HEADERS, then 100 CONTINUATIONs of 16 KiB (MAX_HEADER_BLOCK {cap:,})"
    client.expect_calm(client.send(start + more, what), what)
    _held_at_most(client, cap + 16_384, what)


def hidden_header_cap(cls: type) -> None:
    """Exercise 8.2, hidden: the count goes on across reads, one frame per read."""
    cap = cls.MAX_HEADER_BLOCK
    client = _Client(cls)
    start, more = _flood(100)
    client.send(start, "HEADERS without END_HEADERS")
    one = more[: len(more) // 100]
    for n in range(1, 101):
        events = client.send(one, f"CONTINUATION number {n}, one per read")
        if client.ended(events):
            break
    what = f"CONTINUATIONs of 16 KiB, one per receive (MAX_HEADER_BLOCK {cap:,})"
    client.expect_calm(events, what)
    _held_at_most(client, cap + 16_384, what)


# ----------------------------------------------------------------- Exercise 8.3


def _pings(count: int) -> bytes:
    return encode_frame(PING, 0, 0, b"attacker") * count


def check_ack_bound(cls: type) -> None:
    """Exercise 8.3, visible: a client that reads may PING on; one that does not is stopped."""
    bound = cls.MAX_QUEUED_ACKS
    client = _Client(cls)
    what = f"{bound} PINGs (MAX_QUEUED_ACKS = {bound}), the client reading nothing"
    client.expect_open(client.send(_pings(bound), what), what)
    what = f"{bound} PINGs, then one more, the client still reading nothing"
    client.expect_calm(client.send(_pings(1), what), what)

    client = _Client(cls)
    half = bound // 2
    acks = 0
    for n in range(1, 7):
        what = f"{half} PINGs at a time, the client reading the ACKs after each (round {n})"
        client.expect_open(client.send(_pings(half), what), what)
        acks += sum(1 for f in client.read() if f.type == "PING")
    expect(f"PING ACKs read by a client sending {6 * half} PINGs, {half} at a time", 6 * half, acks)


def hidden_ack_bound(cls: type) -> None:
    """Exercise 8.3, hidden: SETTINGS ACKs count as much as PING ACKs."""
    bound = cls.MAX_QUEUED_ACKS
    client = _Client(cls)
    half = bound // 2
    what = f"{half} PINGs and {half} empty SETTINGS, the client reading nothing"
    client.expect_open(client.send(_pings(half) + settings_frame() * half, what), what)
    what = f"{bound} ACKs queued, then one more SETTINGS, the client reading nothing"
    client.expect_calm(client.send(settings_frame(), what), what)


# ----------------------------------------------------------------- Exercise 8.4


def _etag_app(stream: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    return 200, [("etag", f'"{stream.path}"')], b""


def _table_run(cls: type, table_size: int, requests: int) -> InMemoryPair:
    """A client allowing `table_size`, then `requests` GETs whose responses are all new."""
    server = attempt(f"{cls.__name__}(clock=...)", lambda: cls(clock=Clock()))
    settings = {SettingCodes.HEADER_TABLE_SIZE: table_size}
    pair = InMemoryPair(server, app=_etag_app, client_settings=settings)
    for n in range(requests):
        pair.request("GET", f"/etag/{n}")
        if n % 50 == 49:
            attempt(f"{n + 1} GETs", pair.run)
    attempt(f"{requests} GETs", pair.run)
    what = f"{requests} responses to a client allowing a table of {table_size:,} bytes"
    if pair.client_error is not None:
        raise CheckFailed(f"{what}: the client could not read them: {pair.client_error}")
    statuses = {r.status for r in pair.responses.values()}
    expect(f"{what}: their statuses", {200}, statuses)
    return pair


def check_table_cap(cls: type) -> None:
    """Exercise 8.4, visible: a client allowing 2^32-1 bytes gets a table of at most the cap."""
    cap = cls.ENCODER_TABLE_CAP
    pair = _table_run(cls, 2**32 - 1, 200)
    encoder = pair.server.http2_connection.encoder
    what = f"SETTINGS_HEADER_TABLE_SIZE = 2^32-1, then 200 responses (ENCODER_TABLE_CAP {cap:,})"
    expect(f"{what}: the encoder's header_table_size", cap, encoder.header_table_size)
    size = encoder_table_bytes(pair.server)
    if size > cap:
        raise CheckFailed(f"{what}: the encoder's table holds {size:,} bytes")


def hidden_table_cap(cls: type) -> None:
    """Exercise 8.4, hidden: a client's smaller table is kept, never raised to the cap."""
    cap = cls.ENCODER_TABLE_CAP
    pair = _table_run(cls, 1024, 100)
    encoder = pair.server.http2_connection.encoder
    what = f"a client allowing a table of 1,024 bytes (ENCODER_TABLE_CAP {cap:,})"
    expect(f"{what}: the encoder's header_table_size", 1024, encoder.header_table_size)
    pair.change_settings({SettingCodes.HEADER_TABLE_SIZE: 1 << 20})
    attempt("the client's new SETTINGS", pair.run)
    what = "the same client, then SETTINGS_HEADER_TABLE_SIZE = 1 MiB"
    expect(f"{what}: the encoder's header_table_size", cap, encoder.header_table_size)
