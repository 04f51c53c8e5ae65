"""Behaviour checks: what any `HTTP2Protocol` must do, run against any class.

Not built in a notebook: notebooks 03 and 04 run these checks after each piece
the learner writes, and notebook 09 shows how a check is made.

Each check drives a protocol with h2's real client through an `InMemoryPair`
and asserts what a client would see. gethy's own tests run every check
against `gethy.HTTP2Protocol`; the notebooks run the same checks against the
learner's class and show a pass/fail table:

    >>> from gethy.checks import run_checks
    >>> report = run_checks(HTTP2Protocol, parts=["receive"])   # doctest: +SKIP

A check takes a *factory*: anything that, called with no arguments (or with
``max_body_size=`` for the limits check), returns a fresh protocol object.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from h2.errors import ErrorCodes
from h2.settings import SettingCodes

from gethy.checkrun import CHECKS, Check, CheckReport, CheckResult, Factory, check, run_checks
from gethy.errors import SendError
from gethy.events import ConnectionTerminatedEvent, RequestEvent, StreamResetEvent
from gethy.frames import decode_frames
from gethy.pair import InMemoryPair

__all__ = ["CHECKS", "Check", "CheckReport", "CheckResult", "check", "pattern", "run_checks"]

MIB = 1024 * 1024
MAX_FRAME_SIZE = 16_384  # SETTINGS_MAX_FRAME_SIZE default (RFC 9113 §6.5.2)


def pattern(size: int, seed: int = 0) -> bytes:
    """`size` bytes that are not all alike, so a lost or reordered chunk shows."""
    block = bytes((i * 7 + seed) % 251 for i in range(251))
    return (block * (size // len(block) + 1))[:size]


def _requests(pair: InMemoryPair) -> list[RequestEvent]:
    return [e for e in pair.server_events if isinstance(e, RequestEvent)]


def _assert_frames_sane(pair: InMemoryPair) -> None:
    """No DATA frame over the frame size limit, no empty DATA but a needed END_STREAM."""
    assert pair.client_error is None, (
        f"the h2 client rejected the server's bytes: {pair.client_error}"
    )
    for frame in pair.server_frames_of("DATA"):
        assert frame.length <= MAX_FRAME_SIZE, f"DATA frame of {frame.length} bytes is too large"
        if frame.length == 0:
            assert "END_STREAM" in frame.flags, "an empty DATA frame without END_STREAM was sent"


def _run_slowly(
    pair: InMemoryPair, stream_ids: Iterable[int], ack: int, limit: int = 5_000
) -> None:
    """Step while acknowledging `ack` bytes per stream per round, until all responses end."""
    stream_ids = list(stream_ids)
    for _ in range(limit):
        pair.run()
        if all(pair.responses[s].ended or pair.responses[s].reset for s in stream_ids):
            return
        if not pair.ack(nbytes=ack) and not pair.run():
            raise AssertionError("the transfer stalled: nothing to acknowledge and nothing moving")
    raise AssertionError(f"responses unfinished after {limit} rounds")


# ---------------------------------------------------------------------- receive


@check("receive", "the server sends its SETTINGS first (the server connection preface)")
def server_preface(factory: Factory) -> None:
    frames = decode_frames(factory().data_to_send())
    assert frames, "nothing to send: the server preface (a SETTINGS frame) is missing"
    first = frames[0]
    assert first.type == "SETTINGS" and "ACK" not in first.flags, (
        f"the first frame must be our SETTINGS (§3.4), not {first!r}"
    )


@check("receive", "a GET without body becomes one RequestEvent")
def get_without_body(factory: Factory) -> None:
    pair = InMemoryPair(factory())
    sid = pair.request("GET", "/hello", [("user-agent", "checks")])
    pair.run()
    events = _requests(pair)
    assert len(events) == 1, f"expected 1 RequestEvent, got {pair.server_events}"
    stream = events[0].stream
    assert stream.stream_id == sid, (
        f"GET on stream {sid}: the event names stream {stream.stream_id}"
    )
    headers = list(stream.headers)
    for pair_ in [(":method", "GET"), (":path", "/hello"), ("user-agent", "checks")]:
        assert pair_ in headers, f"{pair_} missing from {headers}"
    assert stream.body == b"", f"body should be empty, got {len(stream.body)} bytes"


@check("receive", "a POST with a 1 MiB body arrives whole (received data is acknowledged)")
def post_1mib_body(factory: Factory) -> None:
    pair = InMemoryPair(factory())
    body = pattern(MIB)
    pair.request("POST", "/upload", body=body)
    pair.run()
    events = _requests(pair)
    assert len(events) == 1, "the request never completed: is received data acknowledged?"
    assert events[0].stream.body == body, "the body arrived changed"


@check("receive", "two uploads at once each arrive whole, on their own stream")
def two_uploads_interleaved(factory: Factory) -> None:
    pair = InMemoryPair(factory())
    first, second = pattern(200_000, 1), pattern(150_000, 2)
    a = pair.request("POST", "/a", body=first)
    b = pair.request("POST", "/b", body=second)
    pair.run()
    bodies = {e.stream.stream_id: e.stream.body for e in _requests(pair)}
    assert bodies.get(a) == first and bodies.get(b) == second, "bodies mixed up or incomplete"


@check("receive", "request trailers reach the application")
def request_trailers(factory: Factory) -> None:
    pair = InMemoryPair(factory())
    pair.request("POST", "/t", body=b"data", trailers=[("x-checksum", "abc")])
    pair.run()
    events = _requests(pair)
    assert len(events) == 1, f"expected 1 RequestEvent, got {pair.server_events}"
    assert events[0].stream.body == b"data", f"body b'data' became {events[0].stream.body!r}"
    trailers = list(events[0].stream.trailers or ())
    assert trailers == [("x-checksum", "abc")], (
        f"trailers [('x-checksum', 'abc')] became {trailers}"
    )


@check("receive", "a request the client resets gives StreamResetEvent, never a RequestEvent")
def reset_by_client(factory: Factory) -> None:
    pair = InMemoryPair(factory())
    sid = pair.request("POST", "/big", body=pattern(300_000))
    pair.step()
    pair.reset(sid)
    pair.run()
    assert not _requests(pair), "a reset request must not reach the application"
    resets = [e for e in pair.server_events if isinstance(e, StreamResetEvent)]
    assert [(e.stream_id, e.error_code) for e in resets] == [(sid, ErrorCodes.CANCEL)], (
        f"expected one StreamResetEvent for stream {sid} (CANCEL); got {resets}"
    )


# ------------------------------------------------------------------------- send


def _echo_app(size: int) -> Callable:
    return lambda stream: (200, [("content-type", "application/octet-stream")], pattern(size))


@check("send", "a small response arrives with status, headers and body")
def get_response(factory: Factory) -> None:
    pair = InMemoryPair(factory(), app=lambda s: (200, [("content-type", "text/plain")], b"hello"))
    sid = pair.request("GET", "/")
    pair.run()
    response = pair.responses[sid]
    assert response.status == 200 and response.ended, response
    got = response.header("content-type")
    assert got == "text/plain", f"content-type text/plain became {got!r}"
    assert bytes(response.body) == b"hello", f"body b'hello' became {bytes(response.body)!r}"
    _assert_frames_sane(pair)


@check("send", "a response without body is one HEADERS frame with END_STREAM")
def headers_only_response(factory: Factory) -> None:
    pair = InMemoryPair(factory(), app=lambda s: (204, [], b""))
    sid = pair.request("GET", "/")
    pair.run()
    assert pair.responses[sid].status == 204 and pair.responses[sid].ended, (
        f"expected a complete 204 response, the client got {pair.responses[sid]}"
    )
    assert not pair.server_frames_of("DATA", sid), "a body-less response sent DATA frames"
    (headers,) = pair.server_frames_of("HEADERS", sid)
    assert "END_STREAM" in headers.flags, f"the HEADERS frame must end the stream: {headers!r}"


@check("send", "1 MiB to a slow reader: windows reach 0, recover, body intact")
def response_1mib_slow_ack(factory: Factory) -> None:
    body = pattern(MIB)
    pair = InMemoryPair(factory(), app=lambda s: (200, [], body), auto_ack=False)
    sid = pair.request("GET", "/big")
    pair.run()
    assert pair.client_window(0) == 0, "the server should fill the client's window, then wait"
    got = len(pair.responses[sid].body)
    assert got == 65_535, f"the client's windows allow 65,535 bytes; it got {got:,}"
    _run_slowly(pair, [sid], ack=16_384)
    assert bytes(pair.responses[sid].body) == body, "body changed on the way"
    _assert_frames_sane(pair)


@check("send", "INITIAL_WINDOW_SIZE lowered mid-response (window < 0), then raised")
def window_goes_negative(factory: Factory) -> None:
    body = pattern(MIB)
    pair = InMemoryPair(factory(), app=lambda s: (200, [], body), auto_ack=False)
    sid = pair.request("GET", "/big")
    pair.run()  # 65,535 bytes sent: stream and connection windows are 0
    pair.change_settings({SettingCodes.INITIAL_WINDOW_SIZE: 16_384})
    pair.run()
    assert pair.client_window(sid) == 16_384 - 65_535, "the stream window should be negative"
    # Give back connection window only: the stream window stays negative.
    pair.client.increment_flow_control_window(65_535)
    frames_before = len(pair.server_frames_of("DATA", sid))
    pair.run()
    assert len(pair.server_frames_of("DATA", sid)) == frames_before, (
        "DATA sent on a stream whose window is negative"
    )
    pair.change_settings({SettingCodes.INITIAL_WINDOW_SIZE: 1_000_000})
    pair.run()
    assert len(pair.server_frames_of("DATA", sid)) > frames_before, (
        "raising the window woke nothing"
    )
    _run_slowly(pair, [sid], ack=65_535)
    assert bytes(pair.responses[sid].body) == body, "the 1 MiB body did not arrive intact"
    _assert_frames_sane(pair)


@check("send", "two large responses progress together (their DATA frames interleave)")
def two_responses_interleave(factory: Factory) -> None:
    sizes = {"/a": 300_000, "/b": 300_000}
    pair = InMemoryPair(factory(), app=lambda s: (200, [], pattern(sizes[s.path], len(s.path))))
    a, b = pair.request("GET", "/a"), pair.request("GET", "/b")
    pair.run()
    assert bytes(pair.responses[a].body) == pattern(300_000, 2)
    assert bytes(pair.responses[b].body) == pattern(300_000, 2)
    order = [f.stream_id for f in pair.server_frames_of("DATA")]
    switches = sum(1 for x, y in zip(order, order[1:], strict=False) if x != y)
    assert switches >= 4, f"DATA frames did not interleave: {order}"
    _assert_frames_sane(pair)


@check("send", "a stream reset mid-response gets no more DATA; the other stream completes")
def reset_mid_response(factory: Factory) -> None:
    pair = InMemoryPair(factory(), app=lambda s: (200, [], pattern(500_000)), auto_ack=False)
    a, b = pair.request("GET", "/a"), pair.request("GET", "/b")
    pair.run()
    pair.reset(a)
    pair.run()
    sent_on_a = len(pair.server_frames_of("DATA", a))
    _run_slowly(pair, [b], ack=65_535)
    assert len(pair.server_frames_of("DATA", a)) == sent_on_a, "DATA sent after RST_STREAM"
    got = len(pair.responses[b].body)
    assert bytes(pair.responses[b].body) == pattern(500_000), (
        f"stream {b} (not reset) must get all its 500,000 bytes; it got {got:,}"
    )
    resets = [e for e in pair.server_events if isinstance(e, StreamResetEvent)]
    assert [e.stream_id for e in resets] == [a], (
        f"expected one StreamResetEvent, for stream {a}; got {resets}"
    )
    _assert_frames_sane(pair)


@check("send", "sending on a reset stream raises SendError; the connection lives on")
def send_after_reset(factory: Factory) -> None:
    pair = InMemoryPair(factory())
    sid = pair.request("GET", "/")
    pair.run()
    pair.reset(sid)
    pair.run()
    try:
        pair.server.send(sid, 200, [], b"too late")
    except SendError:
        pass
    else:
        raise AssertionError("send on a reset stream should raise SendError")
    pair.app = lambda s: (200, [], b"still here")
    other = pair.request("GET", "/")
    pair.run()
    assert bytes(pair.responses[other].body) == b"still here", "a new stream after the reset failed"


@check("send", "response trailers follow the body")
def response_trailers(factory: Factory) -> None:
    pair = InMemoryPair(factory(), app=lambda s: (200, [], b"body", [("x-status", "done")]))
    sid = pair.request("GET", "/")
    pair.run()
    response = pair.responses[sid]
    assert bytes(response.body) == b"body" and response.ended, f"the client got {response}"
    assert response.trailers == [("x-status", "done")], (
        f"trailers: the client got {response.trailers}"
    )
    _assert_frames_sane(pair)


@check("send", "a streamed response: headers first, body pieces later, then the end")
def streamed_response(factory: Factory) -> None:
    pair = InMemoryPair(factory())
    sid = pair.request("GET", "/stream")
    pair.run()
    server = pair.server
    server.send_headers(sid, 200, [("content-type", "text/plain")])
    pair.run()
    response = pair.responses[sid]
    assert response.status == 200 and not response.ended and not response.body, (
        f"after send_headers alone: expected status 200, no body, stream open; got {response}"
    )
    server.send_data(sid, b"first ")
    pair.run()
    assert bytes(response.body) == b"first " and not response.ended, (
        f"after send_data(b'first '): expected that body, stream open; got {response}"
    )
    server.send_data(sid, b"second", end_stream=True)
    pair.run()
    assert bytes(response.body) == b"first second" and response.ended, (
        f"after send_data(b'second', end_stream=True): got {response}"
    )
    _assert_frames_sane(pair)


# ----------------------------------------------------------------------- errors


def _assert_goaway(protocol: Any, error_code: ErrorCodes | None = None) -> None:
    frames = decode_frames(protocol.data_to_send())
    goaways = [f for f in frames if f.type == "GOAWAY"]
    assert goaways, f"no GOAWAY queued; frames were {frames}"
    if error_code is not None:
        assert goaways[-1].error_code == error_code, goaways[-1]


def _assert_terminated(events: list, protocol: Any) -> None:
    assert len(events) == 1 and isinstance(events[0], ConnectionTerminatedEvent), events
    assert events[0].by_peer is False, "the server ended this connection, not the peer"
    assert protocol.receive(b"more bytes") == [], "receive after termination must return []"


@check("errors", "garbage instead of the preface: GOAWAY(PROTOCOL_ERROR), terminated event")
def garbage_preface(factory: Factory) -> None:
    protocol = factory()
    events = protocol.receive(b"\x16\x03\x01\x02\x00 this is not HTTP/2 at all")
    _assert_goaway(protocol, ErrorCodes.PROTOCOL_ERROR)
    _assert_terminated(events, protocol)


@check("errors", "an HTTP/1.1 request instead of the preface: GOAWAY, terminated event")
def http1_request(factory: Factory) -> None:
    protocol = factory()
    events = protocol.receive(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
    _assert_goaway(protocol, ErrorCodes.PROTOCOL_ERROR)
    _assert_terminated(events, protocol)


@check("errors", "garbage after a valid preface: GOAWAY with an error, terminated event")
def garbage_after_preface(factory: Factory) -> None:
    pair = InMemoryPair(factory())
    pair.run()
    protocol = pair.server
    events = protocol.receive(b"\xff" * 64)
    _assert_goaway(protocol)
    _assert_terminated(events, protocol)


@check("errors", "a client GOAWAY gives a ConnectionTerminatedEvent from the peer")
def client_goaway(factory: Factory) -> None:
    pair = InMemoryPair(factory())
    pair.run()
    pair.client.close_connection()
    pair.run()
    (event,) = pair.server_events
    assert isinstance(event, ConnectionTerminatedEvent) and event.by_peer, event
    assert event.error_code == ErrorCodes.NO_ERROR, f"the client's GOAWAY said NO_ERROR: {event}"


@check("errors", "a body over max_body_size gets 413 and a reset; the connection lives on")
def body_over_limit(factory: Factory) -> None:
    pair = InMemoryPair(factory(max_body_size=10_000))
    sid = pair.request("POST", "/upload", body=pattern(200_000))
    pair.run()
    assert not _requests(pair), "an over-limit request must not reach the application"
    assert pair.responses[sid].status == 413, pair.responses[sid]
    pair.app = lambda s: (200, [], b"ok")
    other = pair.request("GET", "/")
    pair.run()
    assert bytes(pair.responses[other].body) == b"ok", (
        "a request after the 413 failed: is the connection still usable?"
    )
