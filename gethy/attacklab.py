"""Attacks run in memory against a server protocol, and what each one costs it.

Built in notebook 08 (errors and attacks). No sockets and no clock: the
attack's bytes (`gethy.attackwire`) go into ``protocol.receive`` one read at
a time, about 16 KiB each, as a TCP or TLS connection would hand them over;
after each read the requests go to a tiny application and (if the attacker
reads) the answers come out of ``data_to_send()``. After every read a
`Checkpoint` records what the attack has cost so far, in numbers that do not
depend on the machine: requests handed to the application ("handler calls"),
frames h2 parsed, and the bytes the attack makes the server hold, plus the CPU
time spent in the server (which does depend on the machine: plot it, never
compare it).

Each attack grows one thing:

* `rapid_reset` (CVE-2023-44487): requests opened and reset at once; the
  application is handed each one (RFC 9113 §6.4, §5.1.2).
* `continuation_flood` (CVE-2024-27316): a header block that never ends
  (§6.10); h2 holds its fragments until END_HEADERS.
* `ping_flood`: PINGs from a client that never reads; every PING ACK (§6.7)
  waits in the server's output.
* `table_growth`: SETTINGS_HEADER_TABLE_SIZE = 2^32-1 (§6.5.2), then
  responses with new header values: the server's HPACK encoder table grows
  (RFC 7541 §4.2) and every search of it gets slower.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from h2.connection import H2Connection
from h2.exceptions import ProtocolError
from h2.frame_buffer import FrameBuffer
from hyperframe.frame import ContinuationFrame, Frame, HeadersFrame

from gethy.attackwire import (
    CONTINUATION,
    HEADER_TABLE_SIZE,
    PING,
    encode_frame,
    headers_frame,
    hpack_string,
    request_block,
    rst_stream,
    settings_frame,
)
from gethy.events import ConnectionTerminatedEvent, RequestEvent, StreamResetEvent
from gethy.frames import CONNECTION_PREFACE, decode_frames

__all__ = [
    "READ_SIZE",
    "Attack",
    "AttackRun",
    "Checkpoint",
    "HeaderFragmentBuffer",
    "continuation_flood",
    "meter_header_fragments",
    "ping_flood",
    "rapid_reset",
    "run_attack",
    "table_growth",
]

#: About one read's worth of bytes (a TLS record is at most 16 KiB).
READ_SIZE = 16_384
#: The largest frame payload a server accepts unless it says more (RFC 9113 §4.2, §6.5.2).
FRAME_PAYLOAD = 16_384
#: A GET of / that leaves no trace in the server's HPACK decoder.
_GET = request_block()
#: GETs per read in `table_growth` (gethy's server allows 100 streams at once).
TABLE_BATCH = 50


# ------------------------------------------------------------------ the attacks


@dataclass(frozen=True)
class Attack:
    """One attack: the handshake, then reads; what it grows, and how that is measured."""

    name: str
    unit: str  # what `Checkpoint.sent` counts, e.g. "streams opened and reset"
    setup: bytes  # the preface and the client's SETTINGS (RFC 9113 §3.4)
    reads: tuple[tuple[bytes, int], ...]  # each read, and how many units it carries
    client_reads: bool  # False: the attacker never reads what the server sends
    held: Callable[[Any], int]  # what the attack makes the server hold now (see held_what)
    held_what: str  # e.g. "header block bytes held"; rapid reset counts streams, not bytes

    @property
    def size(self) -> int:
        return sum(units for _, units in self.reads)


def _handshake(*settings: tuple[int, int]) -> bytes:
    return CONNECTION_PREFACE + settings_frame(*settings)


def _in_reads(unit: bytes | Callable[[int], bytes], count: int) -> tuple[tuple[bytes, int], ...]:
    """`count` units cut into reads of about READ_SIZE bytes, whole units each."""
    make = unit if callable(unit) else (lambda i: unit)
    reads, piece, units = [], bytearray(), 0
    for i in range(count):
        piece += make(i)
        units += 1
        if len(piece) >= READ_SIZE:
            reads.append((bytes(piece), units))
            piece, units = bytearray(), 0
    if units:
        reads.append((bytes(piece), units))
    return tuple(reads)


def _streams_held(protocol: Any) -> int:
    """Streams the protocol holds a record for (rapid reset leaves none: each is reset)."""
    return len(getattr(protocol, "streams", ()))


def _opened_and_reset(i: int) -> bytes:
    """Stream 2i+1: a whole GET (HEADERS with END_STREAM), then RST_STREAM(CANCEL)."""
    return headers_frame(2 * i + 1, _GET, end_stream=True) + rst_stream(2 * i + 1)


def _get_etag(i: int) -> bytes:
    """GET /etag/i on stream 2i+1: its response carries a header value never sent before."""
    return headers_frame(2 * i + 1, request_block(f"/etag/{i}"), end_stream=True)


def rapid_reset(pairs: int = 4000) -> Attack:
    """HEADERS with END_STREAM, then RST_STREAM(CANCEL), on streams 1, 3, 5, ... (§6.4)."""
    reads = _in_reads(_opened_and_reset, pairs)
    return Attack("rapid reset", "streams opened and reset", _handshake(), reads,
                  client_reads=True, held=_streams_held, held_what="streams held")  # fmt: skip


#: One whole literal field, never indexed (RFC 7541 §6.2.3), filling one 16 KiB frame.
FILLER = b"\x10" + hpack_string(b"x-filler") + hpack_string(b"f" * (FRAME_PAYLOAD - 13))


def header_fragments_held(protocol: Any) -> int:
    """Bytes of an unfinished header block that h2 keeps, waiting for END_HEADERS."""
    buffer = protocol.http2_connection.incoming_buffer
    return sum(len(f.data) for f in buffer._headers_buffer)


def continuation_flood(frames: int = 200) -> Attack:
    """HEADERS without END_HEADERS, then CONTINUATION frames of 16 KiB, none ending it (§6.10)."""
    start = headers_frame(1, request_block(), end_stream=True, end_headers=False)
    more = encode_frame(CONTINUATION, 0, 1, FILLER)
    reads = ((start, len(start) - 9), *[(more, len(more) - 9)] * (frames - 1))
    return Attack("CONTINUATION flood", "header block bytes sent", _handshake(), reads,
                  client_reads=True, held=header_fragments_held,
                  held_what="header block bytes held")  # fmt: skip


def output_queued(protocol: Any) -> int:
    """Bytes h2 has queued for the client and nobody has taken with data_to_send()."""
    return len(protocol.http2_connection._data_to_send)


def ping_flood(pings: int = 20_000) -> Attack:
    """PING after PING (§6.7) from a client that never reads the PING ACKs."""
    ping = encode_frame(PING, 0, 0, b"attacker")
    return Attack("PING flood", "PINGs sent", _handshake(), _in_reads(ping, pings),
                  client_reads=False, held=output_queued,
                  held_what="output bytes queued")  # fmt: skip


def encoder_table_bytes(protocol: Any) -> int:
    """The size of the server's HPACK encoder table (RFC 7541 §4.1: 32 + name + value)."""
    table = protocol.http2_connection.encoder.header_table
    return sum(32 + len(name) + len(value) for name, value in table.dynamic_entries)


def table_growth(requests: int = 2000) -> Attack:
    """SETTINGS_HEADER_TABLE_SIZE = 2^32-1, then GET /etag/0, /etag/1, ... 50 per read."""
    reads = tuple(
        (b"".join(_get_etag(i) for i in range(first, min(first + TABLE_BATCH, requests))),
         min(TABLE_BATCH, requests - first))
        for first in range(0, requests, TABLE_BATCH)
    )  # fmt: skip
    setup = _handshake((HEADER_TABLE_SIZE, 2**32 - 1))
    return Attack("HPACK table of 2^32-1", "responses sent", setup, reads,
                  client_reads=True, held=encoder_table_bytes,
                  held_what="encoder table bytes")  # fmt: skip


# -------------------------------------------------------------- measuring one run


@dataclass(frozen=True)
class Checkpoint:
    """What the attack has cost the server after one more read."""

    sent: int  # units of the attack sent so far
    handler_calls: int  # requests handed to the application so far
    frames: int  # frames h2 parsed so far
    held: int  # what the attack makes the server hold now (see `Attack.held_what`)
    cpu: float  # CPU seconds spent in the server so far: plot it, never compare it


@dataclass(frozen=True)
class AttackRun:
    """One attack against one server: its checkpoints and how the connection ended."""

    attack: Attack
    server: str
    checkpoints: tuple[Checkpoint, ...]
    ended: str  # "GOAWAY ENHANCE_YOUR_CALM", "receive raised ProtocolError", or "still open"

    @property
    def last(self) -> Checkpoint:
        return self.checkpoints[-1]

    @property
    def peak_held(self) -> int:
        return max(c.held for c in self.checkpoints)

    def row(self) -> str:
        """One line of numbers that do not depend on the machine."""
        c = self.last
        return (
            f"{self.server:<22} {self.attack.size:>8,} {c.handler_calls:>9,} {c.frames:>8,}"
            f" {self.peak_held:>11,}  {self.ended}"
        )


class _Meter:
    """Counts the bytes handed to h2, to know how many frames it has parsed."""

    def __init__(self, conn: H2Connection, data: bytes) -> None:
        self.buffer = conn.incoming_buffer
        self.added = 0
        self.ends = _frame_ends(data)
        add = self.buffer.add_data

        def counting(chunk: Any) -> None:
            self.added += len(chunk)
            add(chunk)

        self.buffer.add_data = counting  # type: ignore[method-assign]

    def frames(self) -> int:
        return bisect.bisect_right(self.ends, self.added - len(self.buffer._data))


def _frame_ends(data: bytes) -> list[int]:
    """Where each frame of `data` ends (the preface counts as no frame)."""
    at = 24 if data.startswith(CONNECTION_PREFACE) else 0
    ends = []
    while at + 9 <= len(data):
        at += 9 + int.from_bytes(data[at : at + 3], "big")
        ends.append(at)
    return ends


def _app(protocol: Any, events: list[Any]) -> int:
    """The application: every request handed over counts; those not reset get a 200."""
    reset = {e.stream_id for e in events if type(e) is StreamResetEvent}
    requests = [e.stream for e in events if type(e) is RequestEvent]
    for stream in requests:
        if stream.stream_id not in reset:
            tag = dict(stream.headers).get(":path", "/")
            protocol.send(stream.stream_id, 200, [("etag", f'"{tag}"')])
    return len(requests)


def run_attack(protocol: Any, attack: Attack) -> AttackRun:
    """Feed `attack` to `protocol` read by read; a `Checkpoint` after each read.

    Once the server has ended the connection (a GOAWAY, or `receive` raising),
    the rest of the attack never arrives: the costs stay where they are.
    """
    run = _Run(protocol, attack)
    run.read(attack.setup, reply=True)
    checkpoints = []
    for data, units in attack.reads:
        run.sent += units
        if not run.ended:
            run.read(data, reply=attack.client_reads)
        checkpoints.append(run.checkpoint())
    run.output += protocol.data_to_send()  # the last look: what the server had queued
    goaways = [f for f in decode_frames(bytes(run.output)) if f.type == "GOAWAY"]
    ended = run.ended or "still open"
    if goaways:
        goaway = f"GOAWAY {goaways[0].error_name}"
        ended = f"{run.ended}; {goaway} queued" if run.ended.startswith("receive") else goaway
    return AttackRun(attack, type(protocol).__name__, tuple(checkpoints), ended)


class _Run:
    """The state of one `run_attack`: what was sent, handed over, spent and answered."""

    def __init__(self, protocol: Any, attack: Attack) -> None:
        self.protocol = protocol
        self.attack = attack
        self.meter = _Meter(protocol.http2_connection, attack.setup + b"".join(
            data for data, _ in attack.reads))  # fmt: skip
        self.output = bytearray(protocol.data_to_send())
        self.sent = self.calls = 0
        self.cpu = 0.0
        self.ended = ""

    def read(self, data: bytes, *, reply: bool) -> None:
        """One read: `receive`, the application, and `data_to_send` if the client reads."""
        protocol = self.protocol
        began = time.process_time()
        try:
            events = protocol.receive(data)
            self.calls += _app(protocol, events)
            if reply:
                self.output += protocol.data_to_send()
        except ProtocolError as exc:
            self.ended = f"receive raised {type(exc).__name__}"
        else:
            if any(type(e) is ConnectionTerminatedEvent for e in events):
                self.ended = "ended without GOAWAY"
        self.cpu += time.process_time() - began

    def checkpoint(self) -> Checkpoint:
        held = self.attack.held(self.protocol)
        return Checkpoint(self.sent, self.calls, self.meter.frames(), held, self.cpu)


# ------------------------------------------------------- the hook for header bytes


class HeaderFragmentBuffer(FrameBuffer):
    """h2's frame buffer, telling `on_fragment` of each piece of a header block.

    h2 keeps HEADERS and CONTINUATION frames to itself until END_HEADERS, so
    no event shows a header block that never ends (RFC 9113 §6.10). This
    buffer calls ``on_fragment(stream_id, length, end_headers)`` for each one
    first; a `ProtocolError` raised there ends the connection at that frame,
    and the rest of the bytes are never parsed.
    """

    def __init__(self, on_fragment: Callable[[int, int, bool], None]) -> None:
        super().__init__(server=True)
        self.on_fragment = on_fragment

    def _update_header_buffer(self, f: Frame | None) -> Frame | None:
        if isinstance(f, HeadersFrame | ContinuationFrame):
            self.on_fragment(f.stream_id, len(f.data), "END_HEADERS" in f.flags)
        return super()._update_header_buffer(f)


def meter_header_fragments(
    conn: H2Connection, on_fragment: Callable[[int, int, bool], None]
) -> None:
    """Give a fresh server `conn` a `HeaderFragmentBuffer` (before it has read anything)."""
    conn.incoming_buffer = HeaderFragmentBuffer(on_fragment)
