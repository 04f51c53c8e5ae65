"""HTTP/2 conformance of the gethy server, h2spec style, over a real socket.

h2spec (the usual HTTP/2 conformance suite) is a Go program with no Debian,
PyPI or npm package, so this module plays the same game in Python: a raw
client (`RawClient`, built on `gethy.frames`) sends exact bytes, broken on
purpose, and checks what the server answers. Each case cites the RFC 9113
section that says what the answer must be:

* a *connection error* (§5.4.1): GOAWAY with the right error code, then the
  server closes the connection;
* a *stream error* (§5.4.2): RST_STREAM with the right code; a server MAY
  instead treat it as a connection error (§5.4.1), and h2 does so for
  malformed header blocks, so GOAWAY with the same code is accepted too;
* *ignore* it (unknown frame types and settings, §4.1, §5.5, §6.5.2): the
  connection keeps working, which we check with a PING;
* or answer normally (valid but unusual input).

Run ``python tests/test_conformance.py`` to print the table of cases and
what the server answered.
"""

from __future__ import annotations

import struct
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import hpack
import pytest
from h2.errors import ErrorCodes

if __package__ in (None, ""):  # run as a script: make `conftest` importable
    sys.path.insert(0, str(Path(__file__).parent))

from conftest import PING_PAYLOAD, FrameClient, ServerThread

from gethy.events import ConnectionTerminatedEvent, RequestEvent
from gethy.frames import (
    CONNECTION_PREFACE,
    DataFrame,
    Frame,
    GoAwayFrame,
    HeadersFrame,
    decode_frames,
    encode_frame,
)
from gethy.protocol import HTTP2Protocol

MAX_FRAME_SIZE = 16_384  # SETTINGS_MAX_FRAME_SIZE's initial value, RFC 9113 §6.5.2
WAIT = 2.0  # seconds to wait for an answer


# ------------------------------------------------------------- the client side


def dummy_headers(count: int, size: int = 4000) -> list[tuple[str, str]]:
    """`count` large headers, like h2spec's DummyHeaders, to overflow frames."""
    return [(f"x-dummy{i}", "x" * size) for i in range(count)]


# ---------------------------------------------------------- the expectations


@dataclass(frozen=True)
class Expect:
    """What RFC 9113 requires the server to answer."""

    # "connection_error", "stream_error", "rst_stream", "ping", "frame", "response" or "close"
    kind: str
    codes: tuple[str, ...] = ()
    stream_id: int = 1
    frame: Callable[[Frame], bool] | None = None
    text: str = ""

    def describe(self) -> str:
        codes = "/".join(self.codes)
        return {
            "connection_error": f"GOAWAY {codes}, close",
            "stream_error": f"RST_STREAM {codes} (or GOAWAY {codes})",
            "rst_stream": f"RST_STREAM {codes}",
            "ping": "ignored (PING still answered)",
            "response": f"a response on stream {self.stream_id}",
            "close": "connection closed",
            "frame": self.text,
        }[self.kind]


def connection_error(*codes: str) -> Expect:
    return Expect("connection_error", codes)


def stream_error(*codes: str, stream_id: int = 1) -> Expect:
    return Expect("stream_error", codes, stream_id)


IGNORED = Expect("ping")
RESPONDS = Expect("response")


def a_frame(text: str, predicate: Callable[[Frame], bool]) -> Expect:
    return Expect("frame", frame=predicate, text=text)


def data_of_length(n: int) -> Expect:
    return a_frame(
        f"DATA of {n} byte(s) on stream 1",
        lambda f: isinstance(f, DataFrame) and f.stream_id == 1 and f.length == n,
    )


@dataclass(frozen=True)
class Case:
    section: str  # RFC 9113 section (hpack cases: RFC 7541)
    name: str
    send: Callable[[FrameClient], None]
    expect: Expect
    handshake: bool = True
    rfc: str = "9113"

    @property
    def id(self) -> str:
        words = "".join(c if c.isalnum() else "-" for c in self.name.lower()).strip("-")
        return f"{self.rfc}-{self.section}-{'-'.join(w for w in words.split('-') if w)}"


@dataclass
class Outcome:
    passed: bool
    observed: str
    notes: list[str] = field(default_factory=list)


def judge(client: FrameClient, expect: Expect) -> Outcome:
    """Watch the connection and compare what the server does with `expect`."""
    return _JUDGES[expect.kind](client, expect)


def _is_goaway(frame: Frame) -> bool:
    return isinstance(frame, GoAwayFrame)


def _judge_close(client: FrameClient, expect: Expect) -> Outcome:
    """The connection must close; a GOAWAY before it is reported, whatever its code."""
    goaway = client.expect(_is_goaway, WAIT)
    closed = client.wait_closed(WAIT)
    seen = f"GOAWAY {goaway.error_name}, " if isinstance(goaway, GoAwayFrame) else ""
    return Outcome(closed, f"{seen}{'closed' if closed else 'left open'}")


def _judge_connection_error(client: FrameClient, expect: Expect) -> Outcome:
    """§5.4.1: GOAWAY with one of the expected codes, then the connection closes."""
    goaway = client.expect(_is_goaway, WAIT)
    closed = client.wait_closed(WAIT)
    if not isinstance(goaway, GoAwayFrame):
        return Outcome(False, "closed without GOAWAY" if closed else _nothing(client))
    ok = goaway.error_name in expect.codes and closed
    return Outcome(ok, f"GOAWAY {goaway.error_name}, {'closed' if closed else 'left open'}")


def _judge_stream_error(client: FrameClient, expect: Expect) -> Outcome:
    """§5.4.2: RST_STREAM on the stream, the connection still working.

    For "stream_error" a connection error with the same code is accepted too
    (§5.4.1); "rst_stream" takes RST_STREAM only.
    """
    answer = client.expect(
        lambda f: _is_goaway(f) or (f.type == "RST_STREAM" and f.stream_id == expect.stream_id),
        WAIT,
    )
    if isinstance(answer, GoAwayFrame):
        closed = client.wait_closed(WAIT)
        ok = expect.kind == "stream_error" and answer.error_name in expect.codes and closed
        return Outcome(ok, f"GOAWAY {answer.error_name} (connection error), closed")
    if answer is None:
        return Outcome(False, _nothing(client))
    code = answer.error_name  # type: ignore[attr-defined]
    still_works = _ping_answered(client)
    observed = f"RST_STREAM {code}" + ("" if still_works else ", but the connection died")
    return Outcome(code in expect.codes and still_works, observed)


def _judge_ignored(client: FrameClient, expect: Expect) -> Outcome:
    """Ignored input (unknown frame types and settings: §4.1, §5.5, §6.5.2): PING still works."""
    works = _ping_answered(client)
    return Outcome(works, "ignored; PING answered" if works else _nothing(client))


def _judge_response(client: FrameClient, expect: Expect) -> Outcome:
    """A complete response on the stream, with :status 200."""
    sid = expect.stream_id
    headers = client.expect(lambda f: isinstance(f, HeadersFrame) and f.stream_id == sid, WAIT)
    if headers is None:
        return Outcome(False, _nothing(client))
    client.expect(lambda f: f.stream_id == sid and "END_STREAM" in f.flags, WAIT)
    status = dict(client.responses.get(sid, [])).get(":status", "?")
    return Outcome(status == "200", f"response :status {status}")


def _judge_frame(client: FrameClient, expect: Expect) -> Outcome:
    """A frame matching `expect.frame` arrives before any GOAWAY."""
    assert expect.frame is not None
    frame = client.expect(lambda f: expect.frame(f) or _is_goaway(f), WAIT)  # type: ignore[misc]
    if frame is None or isinstance(frame, GoAwayFrame):
        return Outcome(False, _nothing(client))
    return Outcome(True, expect.text)


# One judge per `Expect.kind`.
_JUDGES: dict[str, Callable[[FrameClient, Expect], Outcome]] = {
    "close": _judge_close,
    "connection_error": _judge_connection_error,
    "stream_error": _judge_stream_error,
    "rst_stream": _judge_stream_error,
    "ping": _judge_ignored,
    "response": _judge_response,
    "frame": _judge_frame,
}


def _ping_answered(client: FrameClient) -> bool:
    client.ping()
    ack = client.expect(
        lambda f: f.type == "PING" and "ACK" in f.flags and f.opaque_data == PING_PAYLOAD,  # type: ignore[attr-defined]
        WAIT,
    )
    return ack is not None and not any(isinstance(f, GoAwayFrame) for f in client.frames)


def _nothing(client: FrameClient) -> str:
    goaways = [f for f in client.frames if isinstance(f, GoAwayFrame)]
    if goaways:
        return f"GOAWAY {goaways[0].error_name}"
    last = ", ".join(sorted({f.type for f in client.frames[2:]})) or "nothing"
    return f"{last}{' then closed' if client.closed else ''}"


# ----------------------------------------------------------------- the cases


def _post_headers(
    c: FrameClient, extra: list[tuple[str, str]] | None = None
) -> list[tuple[str, str]]:
    return c.request_headers("POST") + (extra or [])


def _without(c: FrameClient, name: str) -> list[tuple[str, str]]:
    return [(k, v) for k, v in c.request_headers() if k != name]


def _closed_stream_then(send_more: Callable[[FrameClient], None]) -> Callable[[FrameClient], None]:
    """Finish stream 1 both ways (request and response), then send more on it."""

    def send(c: FrameClient) -> None:
        c.headers(1)
        assert c.response_end(1) is not None, "no complete response on stream 1"
        send_more(c)

    return send


def _reset_stream_then(send_more: Callable[[FrameClient], None]) -> Callable[[FrameClient], None]:
    """Open stream 1, reset it ourselves (RST_STREAM), then send more on it."""

    def send(c: FrameClient) -> None:
        c.headers(1, end_stream=False)
        c.rst_stream(1)
        send_more(c)

    return send


def _concurrency(c: FrameClient) -> None:
    limit = c.server_settings.get(0x3, 100)
    c.settings((0x4, 0))  # windows of 0: responses cannot finish, streams stay open
    block = c.block(c.request_headers())
    for i in range(limit + 1):
        c.headers(1 + 2 * i, block=block)


def _settings_then_request(*pairs: tuple[int, int]) -> Callable[[FrameClient], None]:
    def send(c: FrameClient) -> None:
        c.settings(*pairs)
        c.expect(lambda f: f.type == "SETTINGS" and "ACK" in f.flags, WAIT)
        c.headers(1)

    return send


def _window_changes_after_headers(c: FrameClient) -> None:
    c.settings((0x4, 0))
    c.expect(lambda f: f.type == "SETTINGS" and "ACK" in f.flags, WAIT)
    c.headers(1)
    time.sleep(0.05)
    c.settings((0x4, 1))


def _negative_window(c: FrameClient) -> None:
    c.settings((0x4, 3))
    c.expect(lambda f: f.type == "SETTINGS" and "ACK" in f.flags, WAIT)
    c.headers(1)
    c.expect(lambda f: isinstance(f, DataFrame) and f.stream_id == 1, WAIT)
    c.frames.clear()
    c.settings((0x4, 2))  # the stream's window: 3 - 3 - 1 = -1 (RFC 9113 §6.9.2)
    c.expect(lambda f: f.type == "SETTINGS" and "ACK" in f.flags, WAIT)
    c.window_update(1, 2)  # back to 1


def _huffman_case(rep: bytes) -> Callable[[FrameClient], None]:
    return lambda c: c.headers(1, block=c.block(c.request_headers()) + rep)


def _table_size_too_large(c: FrameClient) -> None:
    size = c.server_settings.get(0x1, 4096) + 1
    rep = bytearray([0x20 | 31])  # dynamic table size update, 5-bit prefix (RFC 7541 §6.3)
    size -= 31
    while size >= 128:
        rep.append(0x80 | (size & 0x7F))
        size >>= 7
    rep.append(size)
    c.headers(1, block=bytes(rep) + c.block(c.request_headers()))


def _hpack_representations(c: FrameClient) -> None:
    # A hand-built block using every representation (RFC 7541 §6): indexed :method GET
    # (0x82), :scheme http (0x86), :path / (0x84); literal with incremental indexing,
    # indexed name :authority (0x41); without indexing, new name (0x00); never
    # indexed, new name (0x10); a dynamic table size update to 0 first (0x20).
    authority = b"127.0.0.1"
    block = b"\x20\x82\x86\x84\x41" + bytes([len(authority)]) + authority
    block += b"\x00\x06x-test\x02ok\x10\x06x-more\x03yes"
    c.headers(1, block=block)


CASES: list[Case] = [
    # §3.4 (RFC 7540 §3.5): the connection preface
    Case(
        "3.4",
        "Sends client connection preface",
        lambda c: c.send(CONNECTION_PREFACE + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"),
        a_frame("SETTINGS (server preface)", lambda f: f.type == "SETTINGS" and not f.flags),
        handshake=False,
    ),
    Case(
        "3.4",
        "Sends invalid connection preface",
        lambda c: c.send(b"INVALID CONNECTION PREFACE\r\n\r\n"),
        Expect("close"),
        handshake=False,
    ),
    # §4.1 Frame format
    Case(
        "4.1", "Sends a frame with unknown type", lambda c: c.frame(0x16, 0, 0, bytes(8)), IGNORED
    ),
    Case(
        "4.1",
        "Sends a frame with undefined flag",
        lambda c: c.frame("PING", 0x16, 0, PING_PAYLOAD),
        a_frame("PING ACK", lambda f: f.type == "PING" and "ACK" in f.flags and f.stream_id == 0),
    ),
    Case(
        "4.1",
        "Sends a frame with reserved field bit",
        lambda c: c.send(b"\x00\x00\x08\x06\x00\x80\x00\x00\x00" + PING_PAYLOAD),
        a_frame("PING ACK", lambda f: f.type == "PING" and "ACK" in f.flags),
    ),
    # §4.2 Frame size
    Case(
        "4.2",
        "Sends a DATA frame with 2^14 octets in length",
        lambda c: (
            c.headers(1, _post_headers(c), end_stream=False),
            c.data(1, b"x" * MAX_FRAME_SIZE),
        ),
        RESPONDS,
    ),
    Case(
        "4.2",
        "Sends a large size DATA frame that exceeds the SETTINGS_MAX_FRAME_SIZE",
        lambda c: (
            c.headers(1, _post_headers(c), end_stream=False),
            c.data(1, b"x" * (MAX_FRAME_SIZE + 1)),
        ),
        stream_error("FRAME_SIZE_ERROR"),
    ),
    Case(
        "4.2",
        "Sends a large size HEADERS frame that exceeds the SETTINGS_MAX_FRAME_SIZE",
        lambda c: c.headers(1, c.request_headers() + dummy_headers(5)),
        connection_error("FRAME_SIZE_ERROR"),
    ),
    # §4.3 Field section compression and decompression
    Case(
        "4.3",
        "Sends invalid header block fragment",
        lambda c: c.send(b"\x00\x00\x01\x01\x05\x00\x00\x00\x01\x40"),
        connection_error("COMPRESSION_ERROR"),
    ),
    Case(
        "4.3",
        "Sends a PRIORITY frame while sending the header blocks",
        lambda c: (
            c.headers(1, end_stream=False, end_headers=False),
            c.priority(1, 0, 255),
            c.continuation(1, c.block(dummy_headers(1))),
        ),
        connection_error("PROTOCOL_ERROR"),
    ),
    Case(
        "4.3",
        "Sends a HEADERS frame to another stream while sending the header blocks",
        lambda c: (
            c.headers(1, end_stream=False, end_headers=False),
            c.headers(3),
            c.continuation(1, c.block(dummy_headers(1))),
        ),
        connection_error("PROTOCOL_ERROR"),
    ),
    # §5.1 Stream states
    Case(
        "5.1",
        "idle: Sends a DATA frame",
        lambda c: c.data(1, b"test"),
        connection_error("PROTOCOL_ERROR"),
    ),
    Case(
        "5.1",
        "idle: Sends a RST_STREAM frame",
        lambda c: c.rst_stream(1),
        connection_error("PROTOCOL_ERROR"),
    ),
    Case(
        "5.1",
        "idle: Sends a WINDOW_UPDATE frame",
        lambda c: c.window_update(1, 100),
        connection_error("PROTOCOL_ERROR"),
    ),
    Case(
        "5.1",
        "idle: Sends a CONTINUATION frame",
        lambda c: c.continuation(1, c.block(c.request_headers())),
        connection_error("PROTOCOL_ERROR"),
    ),
    Case(
        "5.1",
        "half closed (remote): Sends a DATA frame",
        lambda c: (c.headers(1), c.data(1, b"test")),
        stream_error("STREAM_CLOSED"),
    ),
    Case(
        "5.1",
        "half closed (remote): Sends a HEADERS frame",
        lambda c: (c.headers(1), c.headers(1)),
        stream_error("STREAM_CLOSED"),
    ),
    Case(
        "5.1",
        "half closed (remote): Sends a CONTINUATION frame",
        lambda c: (c.headers(1), c.continuation(1, c.block(dummy_headers(1)))),
        stream_error("STREAM_CLOSED", "PROTOCOL_ERROR"),
    ),
    Case(
        "5.1",
        "closed: Sends a DATA frame after sending RST_STREAM frame",
        _reset_stream_then(lambda c: c.data(1, b"test")),
        stream_error("STREAM_CLOSED"),
    ),
    Case(
        "5.1",
        "closed: Sends a HEADERS frame after sending RST_STREAM frame",
        _reset_stream_then(lambda c: c.headers(1)),
        stream_error("STREAM_CLOSED"),
    ),
    Case(
        "5.1",
        "closed: Sends a CONTINUATION frame after sending RST_STREAM frame",
        _reset_stream_then(lambda c: c.continuation(1, c.block(dummy_headers(1)))),
        stream_error("STREAM_CLOSED", "PROTOCOL_ERROR"),
    ),
    Case(
        "5.1",
        "closed: Sends a DATA frame",
        _closed_stream_then(lambda c: c.data(1, b"test")),
        connection_error("STREAM_CLOSED"),
    ),
    Case(
        "5.1",
        "closed: Sends a HEADERS frame",
        _closed_stream_then(lambda c: c.headers(1)),
        connection_error("STREAM_CLOSED"),
    ),
    Case(
        "5.1",
        "closed: Sends a CONTINUATION frame",
        _closed_stream_then(lambda c: c.continuation(1, c.block(dummy_headers(1)))),
        connection_error("STREAM_CLOSED", "PROTOCOL_ERROR"),
    ),
    # §5.1.1 Stream identifiers
    Case(
        "5.1.1",
        "Sends even-numbered stream identifier",
        lambda c: c.headers(2),
        connection_error("PROTOCOL_ERROR"),
    ),
    Case(
        "5.1.1",
        "Sends stream identifier that is numerically smaller than previous",
        lambda c: (c.headers(5), c.headers(3)),
        connection_error("PROTOCOL_ERROR"),
    ),
    Case(
        "5.1.1",
        "Sends HEADERS frame with the stream which is in half-closed (remote) state",
        lambda c: (c.headers(5), c.headers(5)),
        stream_error("STREAM_CLOSED", stream_id=5),
    ),
    # §5.1.2 Stream concurrency
    Case(
        "5.1.2",
        "Sends HEADERS frames that causes their advertised concurrent stream limit to be exceeded",
        _concurrency,
        stream_error("PROTOCOL_ERROR", "REFUSED_STREAM", stream_id=201),
    ),
    # §5.3.1 (RFC 7540): stream dependencies
    Case(
        "5.3.1",
        "Sends HEADERS frame that depends on itself",
        lambda c: c.headers(3, priority=(3, 15, False)),
        stream_error("PROTOCOL_ERROR", stream_id=3),
        rfc="7540",
    ),
    Case(
        "5.3.1",
        "Sends PRIORITY frame that depend on itself",
        lambda c: c.priority(2 + 1, 3),
        stream_error("PROTOCOL_ERROR", stream_id=3),
        rfc="7540",
    ),
    # §5.4.1 Connection error handling
    Case(
        "5.4.1",
        "Sends an invalid PING frame for connection close",
        lambda c: c.send(b"\x00\x00\x08\x06\x00\x00\x00\x00\x03" + bytes(8)),
        connection_error("PROTOCOL_ERROR"),
    ),
    # §5.5 Extending HTTP/2
    Case(
        "5.5", "Sends an unknown extension frame", lambda c: c.frame(0x16, 0, 0, bytes(8)), IGNORED
    ),
    Case(
        "5.5",
        "Sends an unknown extension frame in the middle of a header block",
        lambda c: (c.headers(1, end_headers=False), c.frame(0x16, 0, 0, bytes(8))),
        connection_error("PROTOCOL_ERROR"),
    ),
    # §6.1 DATA
    Case(
        "6.1",
        "Sends a DATA frame with 0x0 stream identifier",
        lambda c: c.data(0, b"test"),
        connection_error("PROTOCOL_ERROR"),
    ),
    Case(
        "6.1",
        'Sends a DATA frame on the stream that is not in "open" or "half-closed (local)" state',
        lambda c: (c.headers(1, _post_headers(c)), c.data(1, b"test")),
        stream_error("STREAM_CLOSED"),
    ),
    Case(
        "6.1",
        "Sends a DATA frame with invalid pad length",
        lambda c: (
            c.headers(1, _post_headers(c, [("content-length", "4")]), end_stream=False),
            c.send(b"\x00\x00\x05\x00\x09\x00\x00\x00\x01\x06Test"),
        ),
        connection_error("PROTOCOL_ERROR"),
    ),
    # §6.2 HEADERS
    Case(
        "6.2",
        "Sends a HEADERS frame without the END_HEADERS flag, and a PRIORITY frame",
        lambda c: (
            c.headers(1, end_stream=False, end_headers=False),
            c.priority(1, 0, 255),
            c.continuation(1, c.block(dummy_headers(1))),
        ),
        connection_error("PROTOCOL_ERROR"),
    ),
    Case(
        "6.2",
        "Sends a HEADERS frame to another stream while sending a HEADERS frame",
        lambda c: (
            c.headers(1, end_stream=False, end_headers=False),
            c.headers(3),
            c.continuation(1, c.block(dummy_headers(1))),
        ),
        connection_error("PROTOCOL_ERROR"),
    ),
    Case(
        "6.2",
        "Sends a HEADERS frame with 0x0 stream identifier",
        lambda c: c.headers(0),
        connection_error("PROTOCOL_ERROR"),
    ),
    Case(
        "6.2",
        "Sends a HEADERS frame with invalid pad length",
        lambda c: (
            lambda block: c.frame(
                "HEADERS", 0x0D, 1, bytes([len(block) + 2]) + block
            )  # pad length > payload
        )(c.block(c.request_headers())),
        stream_error("PROTOCOL_ERROR"),
    ),
    # §6.3 PRIORITY
    Case(
        "6.3",
        "Sends a PRIORITY frame with 0x0 stream identifier",
        lambda c: c.priority(0, 1),
        connection_error("PROTOCOL_ERROR"),
    ),
    Case(
        "6.3",
        "Sends a PRIORITY frame with a length other than 5 octets",
        lambda c: (c.headers(1, end_stream=False), c.frame("PRIORITY", 0, 1, b"\x80\x00\x00\x01")),
        stream_error("FRAME_SIZE_ERROR"),
    ),
    # §6.4 RST_STREAM
    Case(
        "6.4",
        "Sends a RST_STREAM frame with 0x0 stream identifier",
        lambda c: c.rst_stream(0),
        connection_error("PROTOCOL_ERROR"),
    ),
    Case(
        "6.4",
        "Sends a RST_STREAM frame on a idle stream",
        lambda c: c.rst_stream(1),
        connection_error("PROTOCOL_ERROR"),
    ),
    Case(
        "6.4",
        "Sends a RST_STREAM frame with a length other than 4 octets",
        lambda c: (c.headers(1, end_stream=False), c.frame("RST_STREAM", 0, 1, b"\x00\x00\x08")),
        connection_error("FRAME_SIZE_ERROR"),
    ),
    # §6.5 SETTINGS
    Case(
        "6.5",
        "Sends a SETTINGS frame with ACK flag and payload",
        lambda c: c.send(b"\x00\x00\x01\x04\x01\x00\x00\x00\x00\x00"),
        connection_error("FRAME_SIZE_ERROR"),
    ),
    Case(
        "6.5",
        "Sends a SETTINGS frame with a stream identifier other than 0x0",
        lambda c: c.send(b"\x00\x00\x06\x04\x00\x00\x00\x00\x01\x00\x03\x00\x00\x00\x64"),
        connection_error("PROTOCOL_ERROR"),
    ),
    Case(
        "6.5",
        "Sends a SETTINGS frame with a length other than a multiple of 6 octets",
        lambda c: c.send(b"\x00\x00\x09\x04\x00\x00\x00\x00\x00\x00\x03\x00\x00\x00\x64\x00\x02"),
        connection_error("FRAME_SIZE_ERROR"),
    ),
    # §6.5.2 Defined settings
    Case(
        "6.5.2",
        "SETTINGS_ENABLE_PUSH (0x2): Sends the value other than 0 or 1",
        lambda c: c.settings((0x2, 2)),
        connection_error("PROTOCOL_ERROR"),
    ),
    Case(
        "6.5.2",
        "SETTINGS_INITIAL_WINDOW_SIZE (0x4): "
        "Sends the value above the maximum flow control window size",
        lambda c: c.settings((0x4, 2**31)),
        connection_error("FLOW_CONTROL_ERROR"),
    ),
    Case(
        "6.5.2",
        "SETTINGS_MAX_FRAME_SIZE (0x5): Sends the value below the initial value",
        lambda c: c.settings((0x5, 16_383)),
        connection_error("PROTOCOL_ERROR"),
    ),
    Case(
        "6.5.2",
        "SETTINGS_MAX_FRAME_SIZE (0x5): Sends the value above the maximum allowed frame size",
        lambda c: c.settings((0x5, 2**24)),
        connection_error("PROTOCOL_ERROR"),
    ),
    Case(
        "6.5.2",
        "Sends a SETTINGS frame with unknown identifier",
        lambda c: c.settings((0xFF, 1)),
        IGNORED,
    ),
    # §6.5.3 Settings synchronization
    Case(
        "6.5.3",
        "Sends multiple values of SETTINGS_INITIAL_WINDOW_SIZE",
        _settings_then_request((0x4, 100), (0x4, 1)),
        data_of_length(1),
    ),
    Case(
        "6.5.3",
        "Sends a SETTINGS frame without ACK flag",
        lambda c: c.settings((0x2, 0)),
        a_frame("SETTINGS ACK", lambda f: f.type == "SETTINGS" and "ACK" in f.flags),
    ),
    # §6.7 PING
    Case(
        "6.7",
        "Sends a PING frame",
        lambda c: c.ping(b"h2spec!!"),
        a_frame(
            "PING ACK, same payload",
            lambda f: f.type == "PING" and "ACK" in f.flags and f.opaque_data == b"h2spec!!",  # type: ignore[attr-defined]
        ),
    ),
    Case(
        "6.7",
        "Sends a PING frame with ACK",
        lambda c: (c.ping(b"invalid!", ack=True), c.ping(b"h2spec!!")),
        a_frame(
            "no answer to the ACK; PING answered",
            lambda f: f.type == "PING" and "ACK" in f.flags and f.opaque_data == b"h2spec!!",  # type: ignore[attr-defined]
        ),
    ),
    Case(
        "6.7",
        "Sends a PING frame with a stream identifier field value other than 0x0",
        lambda c: c.frame("PING", 0, 1, PING_PAYLOAD),
        connection_error("PROTOCOL_ERROR"),
    ),
    Case(
        "6.7",
        "Sends a PING frame with a length field value other than 8",
        lambda c: c.frame("PING", 0, 0, b"\x00" * 6),
        connection_error("FRAME_SIZE_ERROR"),
    ),
    # §6.8 GOAWAY
    Case(
        "6.8",
        "Sends a GOAWAY frame with a stream identifier other than 0x0",
        lambda c: c.frame("GOAWAY", 0, 1, bytes(8)),
        connection_error("PROTOCOL_ERROR"),
    ),
    # §6.9 WINDOW_UPDATE
    Case(
        "6.9",
        "Sends a WINDOW_UPDATE frame with a flow control window increment of 0",
        lambda c: c.window_update(0, 0),
        connection_error("PROTOCOL_ERROR"),
    ),
    Case(
        "6.9",
        "Sends a WINDOW_UPDATE frame with a flow control window increment of 0 on a stream",
        lambda c: (c.headers(1, end_stream=False), c.window_update(1, 0)),
        stream_error("PROTOCOL_ERROR"),
    ),
    Case(
        "6.9",
        "Sends a WINDOW_UPDATE frame with a length other than 4 octets",
        lambda c: c.frame("WINDOW_UPDATE", 0, 0, b"\x00\x00\x01"),
        connection_error("FRAME_SIZE_ERROR"),
    ),
    # §6.9.1 The flow-control window
    Case(
        "6.9.1",
        "Sends SETTINGS frame to set the initial window size to 1 and sends HEADERS frame",
        _settings_then_request((0x4, 1)),
        data_of_length(1),
    ),
    Case(
        "6.9.1",
        "Sends multiple WINDOW_UPDATE frames increasing the flow control window to above 2^31-1",
        lambda c: (c.window_update(0, 2**31 - 1), c.window_update(0, 2**31 - 1)),
        connection_error("FLOW_CONTROL_ERROR"),
    ),
    Case(
        "6.9.1",
        "Sends multiple WINDOW_UPDATE frames increasing the flow control window "
        "to above 2^31-1 on a stream",
        lambda c: (
            c.headers(1, end_stream=False),
            c.window_update(1, 2**31 - 1),
            c.window_update(1, 2**31 - 1),
        ),
        Expect("rst_stream", ("FLOW_CONTROL_ERROR",)),
    ),
    # §6.9.2 Initial flow-control window size
    Case(
        "6.9.2",
        "Changes SETTINGS_INITIAL_WINDOW_SIZE after sending HEADERS frame",
        _window_changes_after_headers,
        data_of_length(1),
    ),
    Case(
        "6.9.2",
        "Sends a SETTINGS frame for window size to be negative",
        _negative_window,
        data_of_length(1),
    ),
    Case(
        "6.9.2",
        "Sends a SETTINGS_INITIAL_WINDOW_SIZE settings with an exceeded maximum window size value",
        lambda c: c.send(b"\x00\x00\x06\x04\x00\x00\x00\x00\x00\x00\x04\x80\x00\x00\x00"),
        connection_error("FLOW_CONTROL_ERROR"),
    ),
    # §6.10 CONTINUATION
    Case(
        "6.10",
        "Sends multiple CONTINUATION frames preceded by a HEADERS frame",
        lambda c: (
            c.headers(1, end_headers=False),
            c.continuation(1, c.block(dummy_headers(1)), end_headers=False),
            c.continuation(1, c.block([("x-dummy1", "y" * 4000)])),
        ),
        RESPONDS,
    ),
    Case(
        "6.10",
        "Sends a CONTINUATION frame followed by any frame other than CONTINUATION",
        lambda c: (
            c.headers(1, _post_headers(c), end_stream=False, end_headers=False),
            c.continuation(1, c.block(dummy_headers(1)), end_headers=False),
            c.data(1, b"test"),
        ),
        connection_error("PROTOCOL_ERROR"),
    ),
    Case(
        "6.10",
        "Sends a CONTINUATION frame with 0x0 stream identifier",
        lambda c: (c.headers(1, end_headers=False), c.continuation(0, c.block(dummy_headers(1)))),
        connection_error("PROTOCOL_ERROR"),
    ),
    Case(
        "6.10",
        "Sends a CONTINUATION frame preceded by a HEADERS frame with END_HEADERS flag",
        lambda c: (c.headers(1), c.continuation(1, c.block(dummy_headers(1)))),
        connection_error("PROTOCOL_ERROR", "STREAM_CLOSED"),
    ),
    Case(
        "6.10",
        "Sends a CONTINUATION frame preceded by a CONTINUATION frame with END_HEADERS flag",
        lambda c: (
            c.headers(1, end_headers=False),
            c.continuation(1, c.block(dummy_headers(1))),
            c.continuation(1, c.block([("x-dummy1", "z" * 4000)])),
        ),
        connection_error("PROTOCOL_ERROR", "STREAM_CLOSED"),
    ),
    Case(
        "6.10",
        "Sends a CONTINUATION frame preceded by a DATA frame",
        lambda c: (
            c.headers(1, _post_headers(c), end_stream=False),
            c.data(1, b"test"),
            c.continuation(1, c.block(dummy_headers(1))),
        ),
        connection_error("PROTOCOL_ERROR", "STREAM_CLOSED"),
    ),
    # §8.1 HTTP message framing
    Case(
        "8.1",
        "Sends a second HEADERS frame without the END_STREAM flag",
        lambda c: (
            c.headers(1, _post_headers(c), end_stream=False),
            c.data(1, b"test", end_stream=False),
            c.headers(1, [("x-test", "ok")], end_stream=False),
        ),
        stream_error("PROTOCOL_ERROR"),
    ),
    # §8.1.1 Malformed messages; §8.2 fields
    Case(
        "8.2",
        "Sends a HEADERS frame that contains the header field name in uppercase letters",
        lambda c: c.headers(1, c.request_headers() + [("X-TEST", "ok")]),
        stream_error("PROTOCOL_ERROR"),
    ),
    Case(
        "8.3",
        "Sends a HEADERS frame that contains a unknown pseudo-header field",
        lambda c: c.headers(1, c.request_headers() + [(":test", "ok")]),
        stream_error("PROTOCOL_ERROR"),
    ),
    Case(
        "8.3",
        "Sends a HEADERS frame that contains the pseudo-header field defined for response",
        lambda c: c.headers(1, c.request_headers() + [(":status", "200")]),
        stream_error("PROTOCOL_ERROR"),
    ),
    Case(
        "8.1",
        "Sends a HEADERS frame that contains a pseudo-header field as trailers",
        lambda c: (
            c.headers(1, _post_headers(c), end_stream=False),
            c.data(1, b"test", end_stream=False),
            c.headers(1, [(":method", "POST")]),
        ),
        stream_error("PROTOCOL_ERROR"),
    ),
    Case(
        "8.3",
        "Sends a HEADERS frame that contains a pseudo-header field that appears "
        "in a header block after a regular header field",
        lambda c: c.headers(1, [("x-test", "ok"), *c.request_headers()]),
        stream_error("PROTOCOL_ERROR"),
    ),
    Case(
        "8.2.2",
        "Sends a HEADERS frame that contains the connection-specific header field",
        lambda c: c.headers(1, c.request_headers() + [("connection", "keep-alive")]),
        stream_error("PROTOCOL_ERROR"),
    ),
    Case(
        "8.2.2",
        "Sends a HEADERS frame that contains the TE header field "
        'with any value other than "trailers"',
        lambda c: c.headers(
            1, c.request_headers() + [("trailers", "test"), ("te", "trailers, deflate")]
        ),
        stream_error("PROTOCOL_ERROR"),
    ),
    Case(
        "8.3.1",
        'Sends a HEADERS frame with empty ":path" pseudo-header field',
        lambda c: c.headers(1, [(k, "" if k == ":path" else v) for k, v in c.request_headers()]),
        stream_error("PROTOCOL_ERROR"),
    ),
    Case(
        "8.3.1",
        'Sends a HEADERS frame that omits ":method" pseudo-header field',
        lambda c: c.headers(1, _without(c, ":method")),
        stream_error("PROTOCOL_ERROR"),
    ),
    Case(
        "8.3.1",
        'Sends a HEADERS frame that omits ":scheme" pseudo-header field',
        lambda c: c.headers(1, _without(c, ":scheme")),
        stream_error("PROTOCOL_ERROR"),
    ),
    Case(
        "8.3.1",
        'Sends a HEADERS frame that omits ":path" pseudo-header field',
        lambda c: c.headers(1, _without(c, ":path")),
        stream_error("PROTOCOL_ERROR"),
    ),
    Case(
        "8.3.1",
        'Sends a HEADERS frame with duplicated ":method" pseudo-header field',
        lambda c: c.headers(1, c.request_headers() + [(":method", "GET")]),
        stream_error("PROTOCOL_ERROR"),
    ),
    Case(
        "8.3.1",
        'Sends a HEADERS frame with duplicated ":scheme" pseudo-header field',
        lambda c: c.headers(1, c.request_headers() + [(":scheme", "http")]),
        stream_error("PROTOCOL_ERROR"),
    ),
    Case(
        "8.3.1",
        'Sends a HEADERS frame with duplicated ":path" pseudo-header field',
        lambda c: c.headers(1, c.request_headers() + [(":path", "/")]),
        stream_error("PROTOCOL_ERROR"),
    ),
    Case(
        "8.1.1",
        'Sends a HEADERS frame with the "content-length" header field '
        "which does not equal the DATA frame payload length",
        lambda c: (
            c.headers(1, _post_headers(c, [("content-length", "1")]), end_stream=False),
            c.data(1, b"test"),
        ),
        stream_error("PROTOCOL_ERROR"),
    ),
    Case(
        "8.1.1",
        'Sends a HEADERS frame with the "content-length" header field '
        "which does not equal the sum of the multiple DATA frames payload length",
        lambda c: (
            c.headers(1, _post_headers(c, [("content-length", "1")]), end_stream=False),
            c.data(1, b"test", end_stream=False),
            c.data(1, b"test"),
        ),
        stream_error("PROTOCOL_ERROR"),
    ),
    # §8.4 Server push: clients cannot push
    Case(
        "8.4",
        "Sends a PUSH_PROMISE frame",
        lambda c: (
            c.headers(1, end_stream=False),
            c.frame("PUSH_PROMISE", 0x4, 1, b"\x00\x00\x00\x02" + c.block(c.request_headers())),
        ),
        connection_error("PROTOCOL_ERROR"),
    ),
    # RFC 7541 (HPACK) decoding errors: connection errors of type COMPRESSION_ERROR (§4.3)
    Case(
        "2.3.3",
        "Sends a header field representation with invalid index",
        _huffman_case(b"\xfe"),
        connection_error("COMPRESSION_ERROR"),
        rfc="7541",
    ),
    Case(
        "4.2",
        "Sends a dynamic table size update at the end of header block",
        _huffman_case(b"\x21"),
        connection_error("COMPRESSION_ERROR"),
        rfc="7541",
    ),
    Case(
        "5.2",
        "Sends a Huffman-encoded string literal representation with padding longer than 7 bits",
        _huffman_case(b"\x00\x85\xf2\xb2\x4a\x84\xff\x84\x49\x50\x9f\xff"),
        connection_error("COMPRESSION_ERROR"),
        rfc="7541",
    ),
    Case(
        "5.2",
        "Sends a Huffman-encoded string literal representation padded by zero",
        _huffman_case(b"\x00\x85\xf2\xb2\x4a\x84\xff\x83\x49\x50\x90"),
        connection_error("COMPRESSION_ERROR"),
        rfc="7541",
    ),
    Case(
        "5.2",
        "Sends a Huffman-encoded string literal representation containing the EOS symbol",
        _huffman_case(b"\x00\x85\xf2\xb2\x4a\x87\xff\xff\xff\xfd\x25\x42\x7f"),
        connection_error("COMPRESSION_ERROR"),
        rfc="7541",
    ),
    Case(
        "6.1",
        "Sends a indexed header field representation with index 0",
        _huffman_case(b"\x80"),
        connection_error("COMPRESSION_ERROR"),
        rfc="7541",
    ),
    Case(
        "6.3",
        "Sends a dynamic table size update larger than the value of SETTINGS_HEADER_TABLE_SIZE",
        _table_size_too_large,
        connection_error("COMPRESSION_ERROR"),
        rfc="7541",
    ),
]

# Valid but unusual input: the server must simply work (h2spec's "generic" group).
GENERIC: list[Case] = [
    Case(
        "5.1",
        "Sends a PRIORITY frame on idle stream",
        lambda c: (c.priority(5), c.headers(1)),
        RESPONDS,
    ),
    Case(
        "5.1",
        "Sends a WINDOW_UPDATE frame on half-closed (remote) stream",
        lambda c: (c.headers(1), c.window_update(1, 1)),
        RESPONDS,
    ),
    Case(
        "5.1",
        "Sends a PRIORITY frame on half-closed (remote) stream",
        lambda c: (c.headers(1), c.priority(1)),
        RESPONDS,
    ),
    Case(
        "5.1",
        "Sends a RST_STREAM frame on half-closed (remote) stream",
        lambda c: (c.headers(1), c.rst_stream(1)),
        IGNORED,
    ),
    Case(
        "5.1",
        "Sends a PRIORITY frame on closed stream",
        _closed_stream_then(lambda c: c.priority(1)),
        IGNORED,
    ),
    Case(
        "6.1",
        "Sends a DATA frame",
        lambda c: (c.headers(1, _post_headers(c), end_stream=False), c.data(1, b"test")),
        RESPONDS,
    ),
    Case(
        "6.1",
        "Sends multiple DATA frames",
        lambda c: (
            c.headers(1, _post_headers(c), end_stream=False),
            c.data(1, b"test", end_stream=False),
            c.data(1, b"test"),
        ),
        RESPONDS,
    ),
    Case(
        "6.1",
        "Sends a DATA frame with padding",
        lambda c: (
            c.headers(1, _post_headers(c), end_stream=False),
            c.frame("DATA", 0x9, 1, b"\x08test" + bytes(8)),
        ),
        RESPONDS,
    ),
    Case("6.2", "Sends a HEADERS frame", lambda c: c.headers(1), RESPONDS),
    Case("6.2", "Sends a HEADERS frame with padding", lambda c: c.headers(1, pad=8), RESPONDS),
    Case(
        "6.2",
        "Sends a HEADERS frame with priority",
        lambda c: c.headers(1, priority=(0, 255, False)),
        RESPONDS,
    ),
    Case(
        "6.3",
        "Sends a PRIORITY frame with priority 1",
        lambda c: (c.priority(1, 0, 0), c.headers(1)),
        RESPONDS,
    ),
    Case(
        "6.3",
        "Sends a PRIORITY frame with priority 256",
        lambda c: (c.priority(1, 0, 255), c.headers(1)),
        RESPONDS,
    ),
    Case(
        "6.3",
        "Sends a PRIORITY frame with stream dependency",
        lambda c: (c.priority(3, 0, 15), c.priority(1, 3, 15), c.headers(1)),
        RESPONDS,
    ),
    Case(
        "6.3",
        "Sends a PRIORITY frame with exclusive",
        lambda c: (
            c.priority(3, 0, 15),
            c.frame("PRIORITY", 0, 1, struct.pack(">IB", 3 | 1 << 31, 15)),
            c.headers(1),
        ),
        RESPONDS,
    ),
    Case(
        "6.3",
        "Sends a PRIORITY frame for an idle stream, then send a HEADER frame for a lower stream ID",
        lambda c: (c.priority(3), c.headers(1)),
        RESPONDS,
    ),
    Case(
        "6.4",
        "Sends a RST_STREAM frame",
        lambda c: (c.headers(1, end_stream=False), c.rst_stream(1)),
        IGNORED,
    ),
    *(
        Case(
            "6.5",
            f"Sends a SETTINGS frame with {name}",
            (lambda p: lambda c: c.settings(p))(pair),
            a_frame("SETTINGS ACK", lambda f: f.type == "SETTINGS" and "ACK" in f.flags),
        )
        for name, pair in [
            ("SETTINGS_HEADER_TABLE_SIZE", (0x1, 4096)),
            ("SETTINGS_ENABLE_PUSH", (0x2, 0)),
            ("SETTINGS_MAX_CONCURRENT_STREAMS", (0x3, 100)),
            ("SETTINGS_INITIAL_WINDOW_SIZE", (0x4, 65_535)),
            ("SETTINGS_MAX_FRAME_SIZE", (0x5, 16_384)),
            ("SETTINGS_MAX_HEADER_LIST_SIZE", (0x6, 65_535)),
        ]
    ),
    Case(
        "6.5",
        "Sends a SETTINGS frame with multiple values",
        lambda c: c.settings((0x1, 4096), (0x3, 100), (0x4, 65_535)),
        a_frame("SETTINGS ACK", lambda f: f.type == "SETTINGS" and "ACK" in f.flags),
    ),
    Case(
        "6.8",
        "Sends a GOAWAY frame",
        lambda c: c.frame("GOAWAY", 0, 0, bytes(8) + b"h2spec"),
        Expect("close"),
    ),
    Case(
        "6.9",
        "Sends a WINDOW_UPDATE frame on the connection",
        lambda c: c.window_update(0, 1),
        IGNORED,
    ),
    Case(
        "6.9",
        "Sends a WINDOW_UPDATE frame on a stream",
        lambda c: (c.headers(1, end_stream=False), c.window_update(1, 1)),
        IGNORED,
    ),
    Case(
        "6.10",
        "Sends a CONTINUATION frame",
        lambda c: (c.headers(1, end_headers=False), c.continuation(1, c.block(dummy_headers(1)))),
        RESPONDS,
    ),
    Case("8.1", "Sends a GET request", lambda c: c.headers(1), RESPONDS),
    Case(
        "8.1",
        "Sends a HEAD request",
        lambda c: c.headers(1, c.request_headers("HEAD")),
        RESPONDS,
    ),
    Case(
        "8.1",
        "Sends a POST request",
        lambda c: (c.headers(1, _post_headers(c), end_stream=False), c.data(1, b"test")),
        RESPONDS,
    ),
    Case(
        "8.1",
        "Sends a POST request with trailers",
        lambda c: (
            c.headers(1, _post_headers(c, [("trailer", "x-test")]), end_stream=False),
            c.data(1, b"test", end_stream=False),
            c.headers(1, [("x-test", "ok")]),
        ),
        RESPONDS,
    ),
    Case(
        "6",
        "Sends every kind of header field representation and a dynamic table size update",
        _hpack_representations,
        RESPONDS,
        rfc="7541",
    ),
    Case(
        "6.3",
        "Sends multiple dynamic table size updates",
        lambda c: c.headers(1, block=b"\x20\x3f\xe1\x1f" + c.block(c.request_headers())),
        RESPONDS,
        rfc="7541",
    ),
]

ALL_CASES = CASES + GENERIC


# ------------------------------------------------------------------ running


@pytest.fixture(scope="module")
def server() -> Iterator[ServerThread]:
    with ServerThread() as thread:
        yield thread
    thread.assert_clean()


def run_case(port: int, case: Case) -> Outcome:
    client = FrameClient(port)
    try:
        if case.handshake:
            client.handshake()
            client.frames.clear()
        case.send(client)
        return judge(client, case.expect)
    finally:
        client.close()


@pytest.mark.parametrize("case", ALL_CASES, ids=[case.id for case in ALL_CASES])
def test_conformance(server: ServerThread, case: Case) -> None:
    outcome = run_case(server.port, case)
    assert outcome.passed, (
        f"RFC {case.rfc} §{case.section} {case.name}: expected {case.expect.describe()},"
        f" got {outcome.observed}"
    )


def test_server_survives_the_whole_table(server: ServerThread) -> None:
    """After every broken client above, the same server still answers a good one."""
    outcome = run_case(server.port, Case("8.1", "GET", lambda c: c.headers(1), RESPONDS))
    assert outcome.passed, outcome.observed


# ------------------------------------------- the same fixes, sans-IO (strict_h2.py)
#
# Some answers of h2 4.4.1 differ from RFC 9113; `gethy.strict_h2` corrects them
# (`HeaderCheckedFrameBuffer`, `CompressionErrorDecoder`, `StrictH2Connection`).
# These tests pin each correction without sockets.


def _connected_protocol() -> HTTP2Protocol:
    protocol = HTTP2Protocol()
    protocol.receive(CONNECTION_PREFACE + encode_frame("SETTINGS"))
    protocol.data_to_send()
    return protocol


def _goaway_sent(protocol: HTTP2Protocol) -> str:
    frames = [f for f in decode_frames(protocol.data_to_send()) if isinstance(f, GoAwayFrame)]
    assert frames, "no GOAWAY"
    return frames[-1].error_name


@pytest.mark.parametrize(
    "header",
    [
        b"\x00\x00\x09\x04\x00\x00\x00\x00\x00",  # SETTINGS of 9 bytes: not a multiple of 6
        b"\x00\x00\x06\x04\x01\x00\x00\x00\x00",  # SETTINGS ACK with a payload
        b"\x00\x00\x06\x06\x00\x00\x00\x00\x00",  # PING of 6 bytes
        b"\x00\x00\x05\x08\x00\x00\x00\x00\x00",  # WINDOW_UPDATE of 5 bytes
        b"\x00\x00\x03\x03\x00\x00\x00\x00\x01",  # RST_STREAM of 3 bytes
    ],
    ids=["settings-9", "settings-ack-6", "ping-6", "window-update-5", "rst-stream-3"],
)
def test_wrong_length_is_a_frame_size_error_from_the_header_alone(header: bytes) -> None:
    """RFC 9113 §4.2, §6.5, §6.7, §6.9, §6.4: answered before the payload arrives."""
    protocol = _connected_protocol()
    events = protocol.receive(header + b"\x00\x00")  # payload cut short on purpose
    assert [type(e) for e in events] == [ConnectionTerminatedEvent]
    assert events[0].error_code == ErrorCodes.FRAME_SIZE_ERROR
    assert _goaway_sent(protocol) == "FRAME_SIZE_ERROR"


def test_hpack_decoding_error_is_a_compression_error() -> None:
    """RFC 9113 §4.3: a field block that cannot be decoded is a COMPRESSION_ERROR."""
    protocol = _connected_protocol()
    events = protocol.receive(encode_frame("HEADERS", ["END_STREAM", "END_HEADERS"], 1, b"\x80"))
    assert events[0].error_code == ErrorCodes.COMPRESSION_ERROR  # type: ignore[attr-defined]
    assert _goaway_sent(protocol) == "COMPRESSION_ERROR"


def test_oversized_header_list_is_still_enhance_your_calm() -> None:
    protocol = HTTP2Protocol(max_header_list_size=100)
    # The smaller limit binds once the client has acknowledged both our SETTINGS
    # frames (the default one, then the stricter one; RFC 9113 §6.5.3).
    ack = encode_frame("SETTINGS", "ACK")
    protocol.receive(CONNECTION_PREFACE + encode_frame("SETTINGS") + ack + ack)
    protocol.data_to_send()
    block = hpack.Encoder().encode([(":method", "GET"), (":path", "/"), ("x-big", "y" * 200)])
    events = protocol.receive(encode_frame("HEADERS", ["END_STREAM", "END_HEADERS"], 1, block))
    assert events[0].error_code == ErrorCodes.ENHANCE_YOUR_CALM  # type: ignore[attr-defined]


def _answered_stream(protocol: HTTP2Protocol, encoder: hpack.Encoder, *, end: bool) -> None:
    headers = [(":method", "POST"), (":scheme", "http"), (":path", "/"), (":authority", "x")]
    flags = ["END_HEADERS", "END_STREAM"] if end else ["END_HEADERS"]
    events = protocol.receive(encode_frame("HEADERS", flags, 1, encoder.encode(headers)))
    if end:
        assert isinstance(events[0], RequestEvent)
        protocol.send(1, 200, body=b"ok")
        protocol.data_to_send()


def test_data_after_end_stream_both_ways_is_a_connection_error() -> None:
    """RFC 9113 §5.1 "closed": DATA on a stream both sides ended -> STREAM_CLOSED."""
    protocol, encoder = _connected_protocol(), hpack.Encoder()
    _answered_stream(protocol, encoder, end=True)
    events = protocol.receive(encode_frame("DATA", ["END_STREAM"], 1, b"late"))
    assert events[0].error_code == ErrorCodes.STREAM_CLOSED  # type: ignore[attr-defined]
    assert _goaway_sent(protocol) == "STREAM_CLOSED"


def test_data_after_the_client_reset_stays_a_stream_error() -> None:
    """RFC 9113 §5.1: after RST_STREAM, late DATA gets RST_STREAM, not GOAWAY."""
    protocol, encoder = _connected_protocol(), hpack.Encoder()
    _answered_stream(protocol, encoder, end=False)
    protocol.receive(encode_frame("RST_STREAM", 0, 1, b"\x00\x00\x00\x08"))
    events = protocol.receive(encode_frame("DATA", ["END_STREAM"], 1, b"late"))
    assert events == []
    frames = decode_frames(protocol.data_to_send())
    assert [(f.type, f.error_name) for f in frames if f.type == "RST_STREAM"] == [  # type: ignore[attr-defined]
        ("RST_STREAM", "STREAM_CLOSED")
    ]
    assert not protocol.terminated


def main() -> None:
    """Print the conformance table (``python tests/test_conformance.py``)."""
    with ServerThread() as thread:
        print("| RFC | § | case | required | gethy answers | ok |")
        print("|---|---|---|---|---|---|")
        failures = 0
        for case in ALL_CASES:
            outcome = run_case(thread.port, case)
            failures += not outcome.passed
            print(
                f"| {case.rfc} | {case.section} | {case.name} | {case.expect.describe()} |"
                f" {outcome.observed} | {'yes' if outcome.passed else '**NO**'} |"
            )
        print(f"\n{len(ALL_CASES) - failures}/{len(ALL_CASES)} cases pass")


if __name__ == "__main__":
    main()
