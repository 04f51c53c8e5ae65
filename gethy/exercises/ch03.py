"""The checks of notebook 03 (receive): the learner's receive class and its body limit."""

from __future__ import annotations

from collections.abc import Callable

from h2.config import H2Configuration
from h2.connection import H2Connection
from h2.errors import ErrorCodes

from gethy.checkrun import CheckReport, run_checks
from gethy.checks import pattern
from gethy.events import RequestEvent
from gethy.exercises import CheckFailed, attempt, expect, passed
from gethy.exercises.h2wire import new_client, request_headers
from gethy.pair import InMemoryPair

LIMIT = 10_000
HALF_WINDOW = 65_535 // 2  # h2 holds back less than this before it sends WINDOW_UPDATE


def _requests(events: list) -> list:
    return [e for e in events if isinstance(e, RequestEvent)]


def _data_events(client: H2Connection) -> list:
    server = H2Connection(H2Configuration(client_side=False))
    server.initiate_connection()
    return server.receive_data(client.data_to_send())


def _count(data_bytes_per_stream: Callable, sent: str, events: list, expected: dict) -> None:
    got = attempt(f"data_bytes_per_stream of {sent}", lambda: data_bytes_per_stream(events))
    expect(f"sent: {sent}", expected, got)


def check_data_bytes_per_stream(data_bytes_per_stream: Callable) -> None:
    """Exercise 3.1: body bytes per stream, counted from h2's DataReceived events."""
    client = new_client()
    client.send_headers(1, request_headers("POST", "/a"))
    client.send_data(1, b"x" * 100, pad_length=20)  # 100 body bytes + 21 of padding
    client.send_headers(3, request_headers("POST", "/b"))
    client.send_data(3, b"y" * 7, end_stream=True)
    client.send_headers(5, request_headers("GET", "/c"), end_stream=True)
    client.send_data(1, b"z" * 5, end_stream=True)
    sent = (
        "stream 1: 100 + 5 body bytes (the first DATA frame padded with 20 bytes), "
        "stream 3: 7 bytes, stream 5: no DATA frame"
    )
    _count(data_bytes_per_stream, sent, _data_events(client), {1: 105, 3: 7})
    _count(data_bytes_per_stream, "no events", [], {})
    passed("3.1")


def hidden_data_bytes_per_stream(data_bytes_per_stream: Callable) -> None:
    # A stream whose only DATA frame is empty (it carries just END_STREAM) did send DATA: 0.
    client = new_client()
    client.send_headers(1, request_headers("POST", "/empty"))
    client.send_data(1, b"", end_stream=True)
    sent = "one empty DATA frame on stream 1"
    _count(data_bytes_per_stream, sent, _data_events(client), {1: 0})


def check_my_receive(protocol_class: type) -> CheckReport:
    """Exercise 3.2: gethy's "receive" checks on the learner's class."""
    report = run_checks(protocol_class, parts=["receive"])
    if not report.passed:
        raise CheckFailed(f"{protocol_class.__name__} fails gethy's receive checks:\n{report}")
    passed("3.2")
    return report


def hidden_my_receive(protocol_class: type) -> None:
    # Padding is charged too (§6.1): acknowledge flow_controlled_length, not len(event.data).
    # 200 DATA frames of 1 body byte padded with 255 bytes: 51,400 flow-controlled bytes.
    server, client = protocol_class(), new_client()
    client.send_headers(1, request_headers("POST", "/padded"))
    for i in range(200):
        client.send_data(1, b"x", pad_length=255, end_stream=i == 199)
    sent = "200 DATA frames of 1 body byte, each padded with 255 bytes"
    events = attempt(sent, lambda: server.receive(client.data_to_send()))
    expect(f"{sent}: the bodies", [b"x" * 200], [e.stream.body for e in _requests(events)])
    window = server.http2_connection.inbound_flow_control_window
    if window <= HALF_WINDOW:
        raise CheckFailed(
            f"{sent} (51,400 flow-controlled bytes): the connection's receive window is down "
            f"to {window:,} bytes: was the padding acknowledged too?"
        )


def _run_uploads(pair: InMemoryPair) -> None:
    try:
        pair.run()
    except KeyError as exc:
        raise CheckFailed(
            f"200,000 bytes on one stream, 15 on another: raised KeyError: {exc}. Did a later "
            "DATA frame of the same batch name a stream you had already reset (the second trap)?"
        ) from None


def check_limited_protocol(protocol_class: type) -> None:
    """Exercise 3.3: an upload over the limit is reset with CANCEL; the others are untouched."""
    limited = protocol_class(max_body_size=LIMIT)
    pair = InMemoryPair(limited)
    too_big = pair.request("POST", "/upload", body=pattern(200_000))
    note = pair.request("POST", "/note", body=b"short and sweet")
    attempt("200,000 bytes on one stream, 15 on another", lambda: _run_uploads(pair))
    sent = f"200,000 bytes on stream {too_big}, 15 on stream {note}, limit 10,000"
    arrived = [e.stream.stream_id for e in _requests(pair.server_events)]
    expect(f"{sent}: the streams of the requests emitted", [note], arrived)
    expect(
        f"{sent}: how the client saw stream {too_big} end",
        ErrorCodes.CANCEL,
        pair.responses[too_big].reset,
    )
    expect(f"then stream {too_big} in request_buffer", False, too_big in limited.request_buffer)
    for _ in range(3):  # more oversized uploads, one after another: a leak would add up
        again = pair.request("POST", "/upload", body=pattern(50_000))
        attempt("another 50,000-byte upload", pair.run)
        what = (
            f"another 50,000-byte upload on stream {again}: a reset with CANCEL (None: it "
            "stalled; was the data of every frame acknowledged, the one that crossed the limit "
            "included?)"
        )
        expect(what, ErrorCodes.CANCEL, pair.responses[again].reset)
    exact = pair.request("POST", "/exact", body=pattern(LIMIT))
    attempt("exactly 10,000 bytes", pair.run)
    last = pair.server_events[-1] if pair.server_events else None
    body = last.stream.body if isinstance(last, RequestEvent) else last
    expect(f"exactly 10,000 bytes on stream {exact}: the request's body", pattern(LIMIT), body)
    window = limited.http2_connection.inbound_flow_control_window
    if window <= HALF_WINDOW:
        raise CheckFailed(
            f"the connection's receive window is down to {window:,} bytes: was all data "
            "acknowledged, including the data of reset streams?"
        )
    passed("3.3")


def hidden_limited_protocol(protocol_class: type) -> None:
    # Padding is not body (§6.1): 10,000 body bytes in two DATA frames padded with 200 bytes
    # each (10,402 flow-controlled bytes) are within a 10,000-byte limit.
    server, client = protocol_class(max_body_size=LIMIT), new_client()
    client.send_headers(1, request_headers("POST", "/padded"))
    client.send_data(1, pattern(6_000), pad_length=200)
    client.send_data(1, pattern(4_000, 1), pad_length=200, end_stream=True)
    sent = "10,000 body bytes in two DATA frames padded with 200 bytes each, limit 10,000"
    events = attempt(sent, lambda: server.receive(client.data_to_send()))
    expect(
        f"{sent}: the body sizes of the requests",
        [LIMIT],
        [len(e.stream.body) for e in _requests(events)],
    )
