"""The course's core (`CoreProtocol`, `Outbound`) and what `HTTP2Protocol` layers on it.

`CoreProtocol` is the class notebooks 03 and 04 build: it must pass every
"receive" and "send" behaviour check by itself. The hardening checks ("errors")
are `HTTP2Protocol`'s job, so the core fails them, and that is asserted too:
it shows where the layers split.
"""

from __future__ import annotations

import h2.events
import pytest
from h2.config import H2Configuration
from h2.connection import H2Connection
from h2.errors import ErrorCodes

from gethy import CoreProtocol, HTTP2Protocol, RequestEvent, StreamResetEvent
from gethy.checks import CHECKS, pattern, run_checks
from gethy.core import Phase
from gethy.events import ConnectionTerminatedEvent
from gethy.frames import decode_frames, encode_frame
from gethy.outbound import HANDOVER_LIMIT, Outbound
from gethy.pair import InMemoryPair

CORE_CHECKS = [c for c in CHECKS if c.part in ("receive", "send")]


@pytest.mark.parametrize("check", CORE_CHECKS, ids=[c.name for c in CORE_CHECKS])
def test_the_core_passes_every_receive_and_send_check(check):
    check.run(CoreProtocol)


def test_the_core_leaves_bad_input_to_the_hardening():
    report = run_checks(CoreProtocol, parts=["errors"])
    assert not report.passed
    assert run_checks(HTTP2Protocol, parts=["errors"]).passed


# ------------------------------------------------------- one record per stream


def test_a_stream_moves_through_its_phases_and_is_forgotten_once_sent():
    protocol = CoreProtocol()
    pair = InMemoryPair(protocol, auto_ack=False)
    sid = pair.request("POST", "/", body=b"x" * 10)
    pair.client.send_headers(3, [(":method", "GET"), (":path", "/"), (":scheme", "http"),
                                 (":authority", "a")])  # fmt: skip
    protocol.receive(pair.client.data_to_send())
    assert protocol.streams[3].phase is Phase.RECEIVING  # no END_STREAM yet
    pair.run()
    assert protocol.streams[sid].phase is Phase.RESPONSE_NOT_STARTED
    protocol.send_headers(sid, 200)
    assert protocol.streams[sid].phase is Phase.HEADERS_SENT
    protocol.send_data(sid, pattern(100_000), end_stream=True)
    assert protocol.streams[sid].phase is Phase.ENDED  # more than the window: still leaving
    pair.run()
    assert sid in protocol.streams
    for _ in range(10):
        pair.ack()
        pair.run()
    assert sid not in protocol.streams and pair.responses[sid].ended
    assert list(protocol.streams) == [3]


def test_handlers_return_their_events():
    protocol = CoreProtocol()
    client = H2Connection(H2Configuration(client_side=True, header_encoding="utf-8"))
    client.initiate_connection()
    client.send_headers(1, [(":method", "GET"), (":path", "/"), (":scheme", "http"),
                            (":authority", "a")], end_stream=True)  # fmt: skip
    h2_events = protocol.http2_connection.receive_data(client.data_to_send())
    returned = [protocol._handle_event(event) for event in h2_events]
    assert [type(e) for events in returned for e in events] == [RequestEvent]
    assert all(isinstance(events, list) for events in returned)


def test_reset_forgets_the_stream_in_one_place():
    protocol = CoreProtocol()
    pair = InMemoryPair(protocol, auto_ack=False)
    sid = pair.request("GET", "/")
    pair.run()
    protocol.send(sid, 200, [], pattern(200_000))
    pair.run()
    assert protocol.outbound.pending(sid) > 0
    pair.reset(sid)
    pair.run()
    assert sid not in protocol.streams and protocol.outbound.pending(sid) == 0
    assert StreamResetEvent(sid, ErrorCodes.CANCEL) in pair.server_events


# ------------------------------------------------------------------ Outbound


def _open_stream(stream_id: int = 1) -> tuple[H2Connection, Outbound]:
    """A server h2 connection with request `stream_id` open, and an Outbound on it."""
    server = H2Connection(H2Configuration(client_side=False))
    client = H2Connection(H2Configuration(client_side=True))
    client.initiate_connection()
    for sid in range(1, stream_id + 1, 2):
        client.send_headers(sid, [(":method", "GET"), (":path", "/"), (":scheme", "http"),
                                  (":authority", "a")], end_stream=True)  # fmt: skip
    server.initiate_connection()
    server.receive_data(client.data_to_send())
    for sid in range(1, stream_id + 1, 2):
        server.send_headers(sid, [(":status", "200")])
    server.data_to_send()
    return server, Outbound(server)


def _data_frames(conn: H2Connection) -> list[tuple[int, int]]:
    return [(f.stream_id, f.length) for f in decode_frames(conn.data_to_send()) if f.type == "DATA"]


def test_push_sends_at_once_when_nothing_waits():
    conn, outbound = _open_stream()
    assert outbound.push(1, b"hello", end_stream=True) is True  # gone into h2 entirely
    assert not outbound.queues and _data_frames(conn) == [(1, 5)]


def test_push_sends_one_frame_at_once_and_queues_the_rest():
    conn, outbound = _open_stream()
    assert outbound.push(1, pattern(40_000), end_stream=True) is False
    assert _data_frames(conn) == [(1, 16_384)]
    assert outbound.pending(1) == 40_000 - 16_384


def test_push_never_overtakes_a_stream_that_waits():
    conn, outbound = _open_stream(3)
    outbound.push(1, pattern(40_000))
    conn.data_to_send()
    assert outbound.push(3, b"small", end_stream=True) is False  # stream 1 waits: queue
    assert _data_frames(conn) == []
    flushed = outbound.flush()
    assert flushed.finished == (3,)
    assert _data_frames(conn) == [(1, 16_384), (3, 5), (1, 7_232)]


def test_push_stops_sending_at_once_until_h2s_bytes_are_collected():
    conn, outbound = _open_stream(7)
    conn.max_outbound_frame_size = HANDOVER_LIMIT  # one frame fills the allowance
    conn.outbound_flow_control_window = conn.streams[1].outbound_flow_control_window = 1 << 20
    outbound.push(1, pattern(HANDOVER_LIMIT), end_stream=True)
    assert outbound.push(3, b"x", end_stream=True) is False  # uncollected: it waits here
    assert outbound.pending(3) == 1
    outbound.collected()
    assert outbound.push(5, b"y", end_stream=True) is False  # 3 waits: 5 queues behind
    assert outbound.flush().finished == (3, 5)


def test_flush_goes_round_the_streams_one_frame_each():
    conn, outbound = _open_stream(5)
    outbound.push(1, pattern(30_000), end_stream=True)  # one frame at once
    outbound.push(3, pattern(30_000), end_stream=True)
    outbound.push(5, pattern(5_000), end_stream=True)
    flushed = outbound.flush()
    assert flushed.frames == 4 and flushed.finished == (1, 5, 3)
    order = [sid for sid, _ in _data_frames(conn)]
    assert order == [1, 1, 3, 5, 3]  # stream 1's first frame went at once, then turns


def test_a_stream_h2_closed_leaves_the_line():
    conn, outbound = _open_stream()
    outbound.push(1, pattern(100_000))  # a frame at once, the rest waits for window
    conn.reset_stream(1)
    conn.data_to_send()
    conn.outbound_flow_control_window = 1 << 20
    assert outbound.flush().frames == 0 and not outbound.queues


# ------------------------------------------------ HTTP2Protocol on top of it


def _goaway(error_code: int, last_stream_id: int = 0) -> bytes:
    payload = last_stream_id.to_bytes(4, "big") + error_code.to_bytes(4, "big")
    return encode_frame("GOAWAY", 0, 0, payload)


def test_client_goaway_lets_open_streams_finish():
    # RFC 9113 §6.8: a GOAWAY(NO_ERROR) from the client ends nothing it already opened.
    # (h2's own client stops reading after it sends GOAWAY, so the frame is made by hand.)
    protocol = HTTP2Protocol()
    pair = InMemoryPair(protocol, auto_ack=False)
    sid = pair.request("GET", "/big")
    pair.run()
    protocol.send(sid, 200, [], pattern(300_000))
    pair.run()
    events = protocol.receive(_goaway(ErrorCodes.NO_ERROR))
    assert [type(e) for e in events] == [ConnectionTerminatedEvent] and events[0].by_peer
    assert protocol.closing and not protocol.terminated and protocol.active_streams == 1
    for _ in range(20):
        pair.ack()
        pair.run()
    assert bytes(pair.responses[sid].body) == pattern(300_000) and pair.responses[sid].ended
    assert protocol.active_streams == 0
    # A stream the client opens after its own GOAWAY is refused: safe to retry (§8.7).
    late = pair.request("GET", "/late")
    pair.run()
    assert pair.responses[late].reset == ErrorCodes.REFUSED_STREAM
    assert not any(isinstance(e, RequestEvent) and e.stream.stream_id == late
                   for e in pair.server_events)  # fmt: skip


def test_client_goaway_with_an_error_ends_everything_at_once():
    protocol = HTTP2Protocol()
    pair = InMemoryPair(protocol, auto_ack=False)
    sid = pair.request("GET", "/big")
    pair.run()
    protocol.send(sid, 200, [], pattern(300_000))
    (event,) = protocol.receive(_goaway(ErrorCodes.INTERNAL_ERROR))
    assert event.by_peer and event.error_code == ErrorCodes.INTERNAL_ERROR
    assert protocol.terminated and protocol.active_streams == 0 and protocol.buffered() == 0


def test_client_goaway_with_nothing_open_ends_the_connection():
    protocol = HTTP2Protocol()
    pair = InMemoryPair(protocol)
    pair.run()
    protocol.receive(_goaway(ErrorCodes.NO_ERROR))
    assert protocol.terminated


def _head(protocol: HTTP2Protocol, respond) -> tuple:
    pair = InMemoryPair(protocol)
    sid = pair.request("HEAD", "/file")
    pair.run()
    respond(protocol, sid)
    pair.run()
    response = pair.responses[sid]
    return response, pair.server_frames_of("DATA", sid), pair.server_frames_of("HEADERS", sid)


def test_head_response_carries_the_length_a_get_would_get_but_no_content():
    # RFC 9110 §9.3.2: no content; §8.6: content-length, if sent, is what GET would send.
    response, data, headers = _head(HTTP2Protocol(), lambda p, s: p.send(s, 200, [], b"hello"))
    assert response.ended and bytes(response.body) == b"" and not data
    assert response.header("content-length") == "5"
    assert "END_STREAM" in headers[0].flags


def test_head_response_without_a_body_gets_no_made_up_length():
    response, data, _ = _head(HTTP2Protocol(), lambda p, s: p.send(s, 200, [("x", "1")]))
    assert response.ended and not data
    assert response.header("content-length") is None


def test_head_response_streamed_sends_no_content():
    def stream(protocol, sid):
        protocol.send_headers(sid, 200, [("content-length", "11")])
        protocol.send_data(sid, b"hello ")
        protocol.send_data(sid, b"world", end_stream=True)

    response, data, _ = _head(HTTP2Protocol(), stream)
    assert response.ended and bytes(response.body) == b""
    assert all(frame.length == 0 for frame in data)
    assert response.header("content-length") == "11"  # the application's own, kept


@pytest.mark.parametrize("status", [204, 304])
def test_no_content_length_is_made_up_for_204_and_304(status):
    pair = InMemoryPair(HTTP2Protocol(), app=lambda s: (status, [], b""))
    sid = pair.request("GET", "/")
    pair.run()
    assert pair.responses[sid].status == status
    assert pair.responses[sid].header("content-length") is None


def test_requests_reset_in_the_same_read_never_reach_the_app_however_many():
    protocol = HTTP2Protocol(max_concurrent_streams=10_000)
    pair = InMemoryPair(protocol)
    pair.run()
    for _ in range(500):
        sid = pair.request("GET", "/")
        pair.client.reset_stream(sid)
    kept = pair.request("GET", "/kept")
    events = protocol.receive(pair.client.data_to_send())
    assert [e.stream.stream_id for e in events if isinstance(e, RequestEvent)] == [kept]
    assert not any(isinstance(e, StreamResetEvent) for e in events)
    assert protocol.resets_received == 500 and protocol.active_streams == 1


def test_h2_events_the_core_ignores_give_no_events():
    protocol = CoreProtocol()
    assert protocol._handle_event(h2.events.PingReceived(ping_data=b"12345678")) == []


def test_a_second_client_goaway_is_not_a_second_event():
    protocol = HTTP2Protocol()
    pair = InMemoryPair(protocol, auto_ack=False)
    sid = pair.request("GET", "/big")
    pair.run()
    protocol.send(sid, 200, [], pattern(300_000))
    events = protocol.receive(_goaway(ErrorCodes.NO_ERROR) + _goaway(ErrorCodes.NO_ERROR))
    assert len(events) == 1 and protocol.closing and not protocol.terminated
    assert protocol.receive(_goaway(ErrorCodes.PROTOCOL_ERROR)) == []
    assert protocol.terminated and protocol.active_streams == 0


def test_peer_closed_drops_requests_that_can_never_complete():
    protocol = HTTP2Protocol()
    pair = InMemoryPair(protocol, auto_ack=False)
    answered = pair.request("GET", "/")
    uploading = pair.client.get_next_available_stream_id()
    pair.client.send_headers(uploading, [(":method", "POST"), (":path", "/up"),
                                         (":scheme", "http"), (":authority", "a")])  # fmt: skip
    pair.client.send_data(uploading, pattern(10_000))  # and then the client's FIN
    pair.run()
    protocol.send(answered, 200, [], pattern(100_000))
    assert protocol.request_bytes > 0
    assert protocol.peer_closed() == 1
    assert protocol.request_bytes == 0 and uploading not in protocol.streams
    assert answered in protocol.streams  # its response may still be read
    assert protocol.waiting_for_window()  # 100,000 bytes, a 65,535-byte window
    pair.ack()
    pair.run()
    pair.ack()
    pair.run()
    assert not protocol.waiting_for_window() and answered not in protocol.streams


def test_after_the_clients_goaway_a_send_is_a_send_error_and_nothing_raises():
    """Plain h2 closes on a client GOAWAY: the queue is dropped, not sent into a closed h2."""
    from gethy import SendError

    pair = InMemoryPair(CoreProtocol(), auto_ack=False)
    sid = pair.request("GET", "/")
    pair.run()
    server = pair.server
    server.send_headers(sid, 200)
    server.send_data(sid, pattern(100_000))  # more than the windows: most of it queues
    pair.run()
    pair.client.close_connection()
    assert server.receive(pair.client.data_to_send()) == []
    assert server.data_to_send() == b""  # h2 would raise ProtocolError on the queued data
    with pytest.raises(SendError, match=f"stream {sid}"):
        server.send_data(sid, b"more")
