"""HTTP2Protocol against h2's real client, in memory.

The behaviour checks in `gethy.checks` are the core: every one runs here
against gethy's own class (the notebooks run the same checks against the
learner's class). The rest covers what the checks leave out: the checks
themselves catching broken protocols, limits, graceful close, the recorder,
and fuzzing the receive path.
"""

from __future__ import annotations

import h2.events
import pytest
from h2.errors import ErrorCodes
from h2.settings import SettingCodes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gethy import (
    ConnectionTerminatedEvent,
    HTTP2Protocol,
    Recorder,
    RequestEvent,
    SendError,
    StreamResetEvent,
)
from gethy.checks import CHECKS, pattern, run_checks
from gethy.frames import CONNECTION_PREFACE, decode_frame_header, decode_frames, encode_frame
from gethy.pair import InMemoryPair

EMPTY_SETTINGS = b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"


@pytest.mark.parametrize("check", CHECKS, ids=[c.name for c in CHECKS])
def test_behaviour_check(check):
    check.run(HTTP2Protocol)


# ----------------------------------------------- the checks can fail


class NeverAcknowledges(HTTP2Protocol):
    """The original gethy's flaw: received DATA is buffered but never handed back."""

    def _data_received(self, event):
        stream = self.streams.get(event.stream_id)
        if stream is None:
            return []
        stream.buffered_data.append(event.data)
        stream.received += len(event.data)
        return self._stream_ended(stream) if event.stream_ended else []


class IgnoresWindows(HTTP2Protocol):
    """Sends every body in one go, ignoring flow control (h2 itself would refuse,
    so this one writes its DATA frames past the outbound buffer and h2)."""

    def _send_body(self, stream, data, end_stream, trailers=None):
        for i in range(0, len(data), 16_384):
            self._extra_output += encode_frame("DATA", 0, stream.stream_id, data[i : i + 16_384])
        if end_stream:
            self._extra_output += encode_frame("DATA", "END_STREAM", stream.stream_id, b"")
            self._forget(stream.stream_id)


class NoPreface(HTTP2Protocol):
    """Like the original gethy: its SETTINGS never leave."""

    preface_dropped = False

    def data_to_send(self):
        data = super().data_to_send()
        if not self.preface_dropped:
            self.preface_dropped = True
            data = data[9 + decode_frame_header(data).length :]
        return data


def failing(factory):
    return {r.check.name for r in run_checks(factory).results if not r.passed}


def test_checks_catch_a_protocol_that_never_acknowledges():
    assert {"post_1mib_body", "two_uploads_interleaved"} <= failing(NeverAcknowledges)


def test_checks_catch_a_protocol_that_ignores_windows():
    assert "response_1mib_slow_ack" in failing(IgnoresWindows)


def test_checks_catch_a_protocol_without_server_preface():
    assert "server_preface" in failing(NoPreface)


def test_run_checks_reports_instead_of_raising():
    class Broken:
        def receive(self, data):
            raise ValueError("not written yet")

        def data_to_send(self):
            return b""

    report = run_checks(Broken, parts=["receive"])
    assert not report.passed
    assert all("not written yet" in r.message for r in report.results[1:])
    assert "FAIL" in str(report) and "<table>" in report._repr_html_()


# ------------------------------------------------------------------- receive


def test_server_preface_is_queued_at_construction():
    frames = decode_frames(HTTP2Protocol(max_concurrent_streams=128).data_to_send())
    assert [f.type for f in frames] == ["SETTINGS"]
    assert dict(frames[0].settings)[SettingCodes.MAX_CONCURRENT_STREAMS] == 128


def test_stricter_limits_bind_only_once_the_client_acknowledges_them():
    # RFC 9113 §6.5.3, §6.9.3: until the client has our SETTINGS it may use the defaults.
    limits = {"initial_window_size": 16_384, "max_concurrent_streams": 2}
    first, second = decode_frames(HTTP2Protocol(**limits).data_to_send())
    assert dict(first.settings)[SettingCodes.INITIAL_WINDOW_SIZE] == 65_535
    assert dict(second.settings) == {
        SettingCodes.INITIAL_WINDOW_SIZE: 16_384,
        SettingCodes.MAX_CONCURRENT_STREAMS: 2,
    }
    # Its client sends 3 uploads of 60,000 bytes at once, before it has seen our SETTINGS.
    protocol = HTTP2Protocol(**limits)
    pair = InMemoryPair(protocol, app=lambda s: (200, [], b"ok"))
    sids = [pair.request("POST", "/", body=pattern(60_000, i)) for i in range(3)]
    pair.step()
    assert not protocol.terminated and pair.client_error is None
    pair.run()
    bodies = {e.stream.stream_id: e.stream.body for e in pair.server_events}
    assert bodies == {sid: pattern(60_000, i) for i, sid in enumerate(sids)}
    settings = protocol.h2_connection.local_settings  # acknowledged: now they bind
    assert (settings.initial_window_size, settings.max_concurrent_streams) == (16_384, 2)


def test_empty_settings_without_preface_is_a_protocol_error():
    protocol = HTTP2Protocol()
    protocol.data_to_send()
    (event,) = protocol.receive(EMPTY_SETTINGS)
    assert isinstance(event, ConnectionTerminatedEvent)
    assert event.error_code == ErrorCodes.PROTOCOL_ERROR and not event.by_peer
    assert [f.type for f in decode_frames(protocol.data_to_send())] == ["GOAWAY"]


def test_http1_request_reason_says_so():
    (event,) = HTTP2Protocol().receive(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert "HTTP/1.1" in event.reason


def test_preface_split_byte_by_byte_is_accepted():
    protocol = HTTP2Protocol()
    for i in range(len(CONNECTION_PREFACE)):
        assert protocol.receive(CONNECTION_PREFACE[i : i + 1]) == []
    assert protocol.receive(EMPTY_SETTINGS) == []
    assert not protocol.terminated


def test_oversized_frame_header_is_refused_at_once():
    protocol = HTTP2Protocol()
    header = (16_385).to_bytes(3, "big") + b"\x00\x00\x00\x00\x00\x01"
    (event,) = protocol.receive(CONNECTION_PREFACE + EMPTY_SETTINGS + header)
    assert event.error_code == ErrorCodes.FRAME_SIZE_ERROR
    assert decode_frames(protocol.data_to_send())[-1].type == "GOAWAY"


def test_body_limit_by_content_length_answers_before_the_body():
    pair = InMemoryPair(HTTP2Protocol(max_body_size=100))
    sid = pair.request("POST", "/", [("content-length", "200000")], body=b"x" * 200_000)
    pair.run()
    assert pair.responses[sid].status == 413
    assert b"larger than 100 bytes" in pair.responses[sid].body
    assert not [e for e in pair.server_events if isinstance(e, RequestEvent)]
    (reset,) = pair.server_frames_of("RST_STREAM", sid)
    assert reset.error_code == ErrorCodes.NO_ERROR


def test_connection_wide_request_buffer_is_bounded():
    # Five uploads of 30,000 bytes at once; at most 50,000 bytes may wait on the connection.
    protocol = HTTP2Protocol(max_request_buffer=50_000)
    pair = InMemoryPair(protocol)
    streams = [pair.request("POST", "/", body=pattern(30_000, i)) for i in range(5)]
    for _ in range(50):
        pair.step()
        assert protocol._request_bytes <= 50_000 + 16_384, "at most one frame over the bound"
    statuses = {pair.responses[s].status for s in streams}
    completed = [e.stream.body for e in pair.server_events if isinstance(e, RequestEvent)]
    assert 503 in statuses, statuses
    assert completed and all(b in [pattern(30_000, i) for i in range(5)] for b in completed)
    assert protocol._request_bytes == 0
    pair.app = lambda s: (200, [], b"ok")  # the connection still serves
    later = pair.request("POST", "/", body=pattern(30_000))
    pair.run()
    assert bytes(pair.responses[later].body) == b"ok"


def test_body_exactly_at_the_limit_is_accepted():
    pair = InMemoryPair(HTTP2Protocol(max_body_size=1000))
    pair.request("POST", "/", body=b"x" * 1000)
    pair.run()
    (event,) = [e for e in pair.server_events if isinstance(e, RequestEvent)]
    assert len(event.stream.body) == 1000


def test_padded_data_is_acknowledged_with_its_padding():
    protocol = HTTP2Protocol()
    client = h2.connection.H2Connection()
    client.initiate_connection()
    request = [(":method", "POST"), (":path", "/"), (":scheme", "http"), (":authority", "x")]
    client.send_headers(1, request)
    protocol.receive(client.data_to_send())
    protocol.data_to_send()
    # Three 16,384-byte DATA frames, each 1 + 16,128 data + 255 padding bytes.
    padded = encode_frame("DATA", ("PADDED",), 1, bytes([255]) + b"x" * 16_128 + b"\x00" * 255)
    protocol.receive(padded * 3)
    updates = [f for f in decode_frames(protocol.data_to_send()) if f.type == "WINDOW_UPDATE"]
    returned = {0: 0, 1: 0}
    for frame in updates:
        returned[frame.stream_id] += frame.window_size_increment
    # h2 batches WINDOW_UPDATEs; what it returns counts the padding too.
    assert returned[0] == returned[1] and returned[0] % 16_384 == 0 and returned[0] >= 32_768
    assert (
        protocol.receive_window(0)
        == protocol.receive_window(1)
        == 65_535 - 3 * 16_384 + returned[0]
    )


def test_larger_initial_window_is_advertised_and_opened():
    protocol = HTTP2Protocol(initial_window_size=1_048_576)
    frames = decode_frames(protocol.data_to_send())
    assert dict(frames[0].settings)[SettingCodes.INITIAL_WINDOW_SIZE] == 1_048_576
    assert (
        frames[1].type == "WINDOW_UPDATE" and frames[1].window_size_increment == 1_048_576 - 65_535
    )
    pair = InMemoryPair(HTTP2Protocol(initial_window_size=1_048_576))
    pair.request("POST", "/", body=pattern(900_000))
    pair.step()
    pair.step()
    assert [e for e in pair.server_events if isinstance(e, RequestEvent)], (
        "a big window needs few steps"
    )


# ---------------------------------------------------------------------- send


def test_send_adds_content_length_unless_given():
    pair = InMemoryPair(app=lambda s: (200, {"content-type": "text/plain"}, b"abc"))
    sid = pair.request()
    pair.run()
    assert pair.responses[sid].header("content-length") == "3"
    pair.app = lambda s: (200, [("content-length", "3")], b"abc")
    sid = pair.request()
    pair.run()
    assert [k for k, _ in pair.responses[sid].headers].count("content-length") == 1


@pytest.mark.parametrize("status", [204, 304])
def test_no_content_length_where_rfc_9110_forbids_it(status):
    pair = InMemoryPair(app=lambda s: (status, [], b""))
    sid = pair.request()
    pair.run()
    assert pair.responses[sid].status == status
    assert pair.responses[sid].header("content-length") is None


@pytest.mark.parametrize(
    "misuse, message",
    [
        (lambda p, s: p.send_data(s, b"x"), "send its response headers first"),
        (lambda p, s: (p.send_headers(s, 200), p.send_headers(s, 200)), "already sent"),
        (lambda p, s: (p.send(s, 200, [], b"x"), p.send_data(s, b"more")), "not open"),
        (lambda p, s: p.send(s + 2, 200), "not open"),
        (lambda p, s: (p.send_headers(s, 200), p.send_trailers(s, [(":status", "200")])), "pseudo"),
        (lambda p, s: p.send_headers(s, 200, [("Bad Name", "x")]), "invalid header name"),
        (lambda p, s: p.send_headers(s, 200, [("connection", "close")]), "connection-specific"),
        (lambda p, s: p.send_headers(s, 200, [(":path", "/")]), "pseudo-headers itself"),
        (lambda p, s: p.send(s, 200, [("x", "a\r\nb")]), "invalid header"),
        (lambda p, s: p.send(s, 200, [("x", " padded")]), "invalid header"),
    ],
)
def test_application_misuse_is_a_send_error_not_a_broken_connection(misuse, message):
    pair = InMemoryPair()
    sid = pair.request()
    pair.run()
    with pytest.raises(SendError, match=message):
        misuse(pair.server, sid)
    pair.run()
    assert not pair.server.terminated and pair.client_error is None
    pair.app = lambda s: (200, [], b"fine")
    other = pair.request()
    pair.run()
    assert bytes(pair.responses[other].body) == b"fine"


def test_frames_respect_a_larger_max_frame_size():
    pair = InMemoryPair(
        app=lambda s: (200, [], pattern(300_000)),
        client_settings={
            SettingCodes.MAX_FRAME_SIZE: 65_536,
            SettingCodes.INITIAL_WINDOW_SIZE: 2**20,
        },
    )
    pair.client.increment_flow_control_window(2**20)
    # Settle SETTINGS first: h2's client sizes its frame buffer once per
    # receive_data call, so it would refuse big frames arriving with the ACK.
    pair.run()
    sid = pair.request()
    pair.run()
    sizes = [f.length for f in pair.server_frames_of("DATA", sid)]
    assert bytes(pair.responses[sid].body) == pattern(300_000)
    assert max(sizes) == 65_536 and sum(sizes) == 300_000


def test_window_update_on_one_stream_wakes_only_that_stream():
    pair = InMemoryPair(
        app=lambda s: (200, [], pattern(100_000)),
        auto_ack=False,
        client_settings={SettingCodes.INITIAL_WINDOW_SIZE: 1000},
    )
    pair.client.increment_flow_control_window(1_000_000)  # the connection is not the limit
    a, b = pair.request(), pair.request()
    pair.run()
    assert pair.server.send_window(a) == pair.server.send_window(b) == 0
    pair.client.increment_flow_control_window(5000, stream_id=b)
    pair.run()
    assert pair.server.send_window(a) == 0 and pair.server.buffered(a) == 99_000
    assert len(pair.responses[b].body) == 6000 and pair.server.buffered(b) == 94_000


def test_reset_drops_buffered_output():
    pair = InMemoryPair(app=lambda s: (200, [], pattern(1_000_000)), auto_ack=False)
    sid = pair.request()
    pair.run()
    assert pair.server.buffered(sid) == 1_000_000 - 65_535
    pair.reset(sid)
    pair.run()
    assert pair.server.buffered() == 0 and pair.server.active_streams == 0
    assert isinstance(pair.server_events[-1], StreamResetEvent)


def test_server_reset_stream_cancels_the_response():
    pair = InMemoryPair(app=lambda s: (200, [], pattern(200_000)), auto_ack=False)
    sid = pair.request()
    pair.run()
    pair.server.reset_stream(sid)
    pair.run()
    assert pair.responses[sid].reset == ErrorCodes.CANCEL
    assert pair.server.buffered() == 0
    with pytest.raises(SendError):
        pair.server.send_data(sid, b"x")


# --------------------------------------------------------------- graceful close


def test_graceful_close_finishes_open_streams_and_refuses_new_ones():
    # h2's own client gives up at the first frame after a GOAWAY, so after
    # close() this test feeds the server by hand and reads what it sends.
    pair = InMemoryPair()
    first = pair.request()
    pair.run()
    server = pair.server
    server.close()
    assert server.closing and server.active_streams == 1
    late = pair.request()
    assert server.receive(pair.client.data_to_send()) == [], "the late request is refused"
    server.send(first, 200, [], pattern(50_000))
    frames = decode_frames(server.data_to_send())
    goaway = frames[0]
    assert goaway.type == "GOAWAY", "the GOAWAY goes out before anything queued after close()"
    assert goaway.last_stream_id == first and goaway.error_code == ErrorCodes.NO_ERROR
    refused = [f for f in frames if f.type == "RST_STREAM"]
    assert [(f.stream_id, f.error_code) for f in refused] == [(late, ErrorCodes.REFUSED_STREAM)]
    data = [f for f in frames if f.type == "DATA" and f.stream_id == first]
    assert b"".join(f.data for f in data) == pattern(50_000)
    assert "END_STREAM" in data[-1].flags
    assert server.active_streams == 0


def test_close_with_an_error_ends_everything_at_once():
    pair = InMemoryPair(app=lambda s: (200, [], pattern(300_000)), auto_ack=False)
    pair.request()
    pair.run()
    pair.server.close(ErrorCodes.INTERNAL_ERROR)
    pair.run()
    assert pair.server.terminated and pair.server.buffered() == 0
    assert pair.server_frames[-1].type == "GOAWAY"
    assert pair.server_frames[-1].error_code == ErrorCodes.INTERNAL_ERROR


# ------------------------------------------------------------------ recorder


def test_recorder_logs_frames_and_window_changes():
    recorder = Recorder()
    pair = InMemoryPair(
        HTTP2Protocol(recorder=recorder), app=lambda s: (200, [], pattern(100_000)), auto_ack=False
    )
    sid = pair.request()
    pair.run()
    types_in = [r.type for r in recorder.frames if r.direction == "in"]
    assert types_in[:3] == ["PREFACE", "SETTINGS", "HEADERS"]
    data_out = [r for r in recorder.frames if r.direction == "out" and r.type == "DATA"]
    assert sum(r.length for r in data_out) == 65_535
    steps, sizes = recorder.series("send", sid)
    assert sizes[0] == 65_535 and sizes[-1] == 0 and steps == sorted(steps)
    assert recorder.series("send", 0)[1][-1] == 0
    pair.ack()
    pair.run()
    assert recorder.series("send", 0)[1][-1] > 0, "WINDOW_UPDATE shows as a window change"
    table = recorder.frame_table(limit=3)
    assert table.splitlines()[1].split()[1:3] == ["in", "PREFACE"] and "more frames" in table
    assert recorder.count("out", "DATA") == len(
        [r for r in recorder.frames if r.direction == "out" and r.type == "DATA"]
    )


def test_recorder_survives_garbage():
    recorder = Recorder()
    protocol = HTTP2Protocol(recorder=recorder)
    protocol.receive(
        CONNECTION_PREFACE + EMPTY_SETTINGS + b"\x00\x00\x03\x06\x00\x00\x00\x00\x00abc"
    )
    protocol.data_to_send()
    assert [r.type for r in recorder.frames if r.direction == "in"] == ["PREFACE", "SETTINGS"]
    assert recorder.undecodable and "PING" in recorder.undecodable[0][2]
    assert [r.type for r in recorder.frames if r.direction == "out"][-1] == "GOAWAY"


def test_plot_windows_draws_one_line_per_window():
    import matplotlib

    matplotlib.use("Agg")
    from gethy import plot_windows

    recorder = Recorder()
    pair = InMemoryPair(HTTP2Protocol(recorder=recorder), app=lambda s: (200, [], pattern(200_000)))
    pair.request()
    pair.run()
    ax = plot_windows(recorder)
    assert [line.get_label() for line in ax.get_lines()][:2] == ["connection", "stream 1"]
    assert ax.get_ylabel() == "window size (bytes)" and ax.get_title()


# -------------------------------------------------------------------- fuzzing

VALID_START = CONNECTION_PREFACE + EMPTY_SETTINGS


def frames_strategy():
    """Mostly well-formed frame headers with random payloads: deeper than pure noise."""
    frame = st.builds(
        lambda t, f, s, p: encode_frame(t, f, s, p),
        st.integers(0, 12),
        st.integers(0, 255),
        st.sampled_from([0, 1, 2, 3, 5, 2**31 - 1]),
        st.binary(max_size=40),
    )
    return st.lists(st.one_of(frame, st.binary(max_size=30)), max_size=8).map(b"".join)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.one_of(st.binary(max_size=200), frames_strategy()), split=st.integers(1, 64))
def test_arbitrary_bytes_after_the_preface_never_raise(data, split):
    protocol = HTTP2Protocol(recorder=Recorder())
    events = protocol.receive(VALID_START)
    for i in range(0, len(data), split):
        events += protocol.receive(data[i : i + split])
        out = protocol.data_to_send()
        decode_frames(out)  # whatever we send is well-formed
    for event in events:
        assert isinstance(event, RequestEvent | StreamResetEvent | ConnectionTerminatedEvent)
    terminated = [e for e in events if isinstance(e, ConnectionTerminatedEvent)]
    assert len(terminated) <= 1
    if terminated:
        assert protocol.terminated and events[-1] is terminated[0]
        assert protocol.receive(b"\x00" * 9) == []


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=100))
def test_arbitrary_bytes_instead_of_the_preface_never_raise(data):
    protocol = HTTP2Protocol()
    events = protocol.receive(data)
    if CONNECTION_PREFACE.startswith(data[:24]) and len(data) <= 24:
        assert events == []
    elif events:
        assert isinstance(events[0], ConnectionTerminatedEvent)
        assert [f.type for f in decode_frames(protocol.data_to_send())][-1] == "GOAWAY"


# ------------------------------------------------ resets racing our own answers


def _raw_client():
    import h2.connection

    client = h2.connection.H2Connection()
    client.initiate_connection()
    return client


POST = [(":method", "POST"), (":path", "/"), (":scheme", "http"), (":authority", "x")]


@pytest.mark.parametrize("why", ["content-length over the limit", "refused after GOAWAY"])
def test_a_reset_in_the_same_bytes_as_our_answer_is_quietly_dropped(why):
    protocol = HTTP2Protocol(max_body_size=100)
    client = _raw_client()
    if why == "refused after GOAWAY":
        protocol.close()
    client.send_headers(1, [*POST, ("content-length", "999999")])
    client.reset_stream(1)
    events = protocol.receive(client.data_to_send())
    assert not protocol.terminated and not [e for e in events if isinstance(e, RequestEvent)]
    frames = decode_frames(protocol.data_to_send())
    assert "HEADERS" not in [f.type for f in frames], "nothing is answered on a reset stream"
    assert protocol.active_streams == 0


def test_a_request_completed_and_reset_in_the_same_bytes_never_reaches_the_app():
    protocol = HTTP2Protocol()
    client = _raw_client()
    client.send_headers(1, POST, end_stream=True)
    client.send_headers(3, POST, end_stream=True)
    client.reset_stream(1)
    events = protocol.receive(client.data_to_send())
    assert [
        (type(e).__name__, getattr(e, "stream", None) and e.stream.stream_id) for e in events
    ] == [("RequestEvent", 3)]
    assert protocol.resets_received == 1


def test_header_values_that_are_not_utf8_are_accepted_as_latin1():
    protocol = HTTP2Protocol()
    client = _raw_client()
    client.send_headers(1, [*POST, (b"x-name", "café".encode("latin-1"))], end_stream=True)
    (event,) = protocol.receive(client.data_to_send())
    assert event.stream.header("x-name") == "café"


def test_progress_counts_requests_and_responses_but_not_pings():
    pair = InMemoryPair(app=lambda s: (200, [], pattern(100_000)), auto_ack=False)
    pair.run()
    before = pair.server.progress
    pair.client.ping(b"12345678")
    pair.run()
    assert pair.server.progress == before, "a PING is not progress"
    pair.request()
    pair.run()
    moved = pair.server.progress
    assert moved > before
    pair.run()
    assert pair.server.progress == moved, "a stalled response makes no progress"
    pair.ack()
    pair.run()
    assert pair.server.progress > moved


# ------------------------------------------------ from the correctness review


def test_end_stream_and_trailers_leave_while_the_connection_window_is_shut():
    # RFC 9113 §6.9.1: an empty END_STREAM DATA frame, and HEADERS, need no window.
    pair = InMemoryPair(app=None, auto_ack=False)
    big, small, trailed = pair.request(), pair.request(), pair.request()
    pair.run()
    server = pair.server
    server.send(big, 200, [], pattern(100_000))  # uses the whole connection window
    server.send_headers(small, 200)
    server.send_headers(trailed, 200)
    pair.run()
    assert server.send_window(0) == 0
    server.end_stream(small)
    server.send_trailers(trailed, [("x-done", "yes")])
    pair.run()
    assert pair.responses[small].ended and pair.responses[trailed].ended


def test_a_later_goaway_never_announces_a_higher_stream():
    pair = InMemoryPair()
    first = pair.request()
    pair.run()
    server = pair.server
    server.close()
    pair.request()  # refused: opened after the graceful GOAWAY
    server.receive(pair.client.data_to_send())
    server.close(ErrorCodes.INTERNAL_ERROR)
    goaways = [f for f in decode_frames(server.data_to_send()) if f.type == "GOAWAY"]
    assert [g.last_stream_id for g in goaways] == [first, first]


def test_small_responses_do_not_overtake_one_waiting_for_window():
    # Big stream windows: only the connection window holds the large response back.
    pair = InMemoryPair(auto_ack=False, client_settings={SettingCodes.INITIAL_WINDOW_SIZE: 2**20})
    pair.run()
    big = pair.request()
    pair.run()
    pair.server.send(big, 200, [], pattern(200_000))
    pair.run()  # the connection window is now shut, the rest of big waits
    got_before = len(pair.responses[big].body)
    pair.app = lambda s: (200, [], pattern(4096))
    for _ in range(5):  # each round: 16 KiB more window, and four 4 KiB responses asked for
        pair.client.increment_flow_control_window(16_384)
        for _ in range(4):
            pair.request()
        pair.run()
    assert len(pair.responses[big].body) > got_before, "the waiting response got its turn"


def test_an_interim_103_then_the_final_response():
    pair = InMemoryPair()
    sid = pair.request()
    pair.run()
    pair.server.send_headers(sid, 103, [("link", "</style.css>; rel=preload")])
    pair.server.send(sid, 200, [], b"final")
    pair.run()
    assert pair.client_error is None
    assert pair.responses[sid].status == 200 and bytes(pair.responses[sid].body) == b"final"
    with pytest.raises(SendError, match="informational"):
        pair.server.send(pair.request(), 100)


def test_bad_trailers_are_refused_before_anything_is_sent():
    pair = InMemoryPair()
    sid = pair.request()
    pair.run()
    with pytest.raises(SendError, match="pseudo"):
        pair.server.send(sid, 200, [], b"body", trailers=[(":status", "500")])
    pair.server.send(sid, 200, [], b"body")  # the stream is still ours to answer
    pair.run()
    assert bytes(pair.responses[sid].body) == b"body"


def test_late_data_on_a_stream_we_reset_gets_no_rst_storm():
    protocol = HTTP2Protocol(max_body_size=10)
    client = _raw_client()
    client.send_headers(1, [*POST, ("content-length", "20")])
    protocol.receive(client.data_to_send())
    decode_frames(protocol.data_to_send())  # 413, then RST_STREAM(NO_ERROR)
    late = b"".join(encode_frame("DATA", 0, 1, b"x" * 4) for _ in range(5))
    assert protocol.receive(late) == []
    assert [f.type for f in decode_frames(protocol.data_to_send())].count("RST_STREAM") == 0


@pytest.mark.parametrize(
    "extra",
    [
        [("te", "gzip")],
        [("connection", "keep-alive")],
        [("Upper", "case")],
        [(":unknown", "x")],
        [("x", " padded ")],
    ],
)
def test_a_malformed_request_costs_only_its_own_stream(extra):
    # RFC 9113 §8.1.1: a stream error (RST_STREAM PROTOCOL_ERROR), not GOAWAY.
    import hpack

    pair = InMemoryPair(app=lambda s: (200, [], pattern(200_000)), auto_ack=False)
    first = pair.request()
    pair.run()  # stream 1 is mid-response, waiting for window
    fields = [(":method", "GET"), (":scheme", "http"), (":authority", "x"), (":path", "/")]
    block = hpack.Encoder().encode(fields + extra if extra[0][0][0] != ":" else extra + fields)
    server = pair.server
    assert server.receive(encode_frame("HEADERS", ["END_STREAM", "END_HEADERS"], 3, block)) == []
    (reset,) = [f for f in decode_frames(server.data_to_send()) if f.type == "RST_STREAM"]
    assert (reset.stream_id, reset.error_code) == (3, ErrorCodes.PROTOCOL_ERROR)
    assert not server.terminated
    for _ in range(200):
        pair.ack()
        if not pair.run() and pair.responses[first].ended:
            break
    assert bytes(pair.responses[first].body) == pattern(200_000), "stream 1 lives on"


def test_pseudo_headers_in_request_trailers_are_a_stream_error():
    protocol = HTTP2Protocol()
    client = _raw_client()
    client.send_headers(1, POST)
    protocol.receive(client.data_to_send())
    encoder = client.encoder  # the client's HPACK state, so the block decodes
    block = encoder.encode([(":path", "/sneaky")])
    events = protocol.receive(encode_frame("HEADERS", ["END_STREAM", "END_HEADERS"], 1, block))
    assert events == [] and not protocol.terminated
    frames = decode_frames(protocol.data_to_send())
    assert [(f.type, f.error_code) for f in frames if f.type == "RST_STREAM"] == [
        ("RST_STREAM", ErrorCodes.PROTOCOL_ERROR)
    ]
