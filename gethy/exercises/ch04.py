"""The checks of notebook 04 (send): chunk sizes, the outbound buffer, fair turns,
resets, the send-state errors and trailers.

Each exercise is graded on its own piece. The protocol classes of Exercises
4.4 to 4.6 send through an outbound buffer; their checks swap in gethy's
`Outbound` (same `push`, `send_one`, `flush`, `pending`, `drop`, `queues`), and
4.3's check runs the learner's `flush` on `ReferenceOutbound` (Exercise 4.2's
answer): a bug in 4.2 costs 4.2's points, not every exercise after it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from h2.connection import H2Connection
from h2.errors import ErrorCodes
from h2.settings import SettingCodes

from gethy.checkrun import CheckReport, run_checks
from gethy.checks import pattern
from gethy.errors import SendError
from gethy.events import StreamResetEvent
from gethy.exercises import CheckFailed, attempt, expect, passed
from gethy.exercises.h2wire import connected, exchange, open_windows, sent
from gethy.exercises.reference04 import ReferenceOutbound
from gethy.outbound import Outbound as GethyOutbound

Frames = list[tuple[str, int, int, bool]]

# ----------------------------------------------------------------- 4.1 chunk_sizes

CHUNK_CASES = [
    ((5, 65_535, 65_535, 16_384), [5]),
    ((100_000, 65_535, 65_535, 16_384), [16_384, 16_384, 16_384, 16_383]),
    ((100_000, 65_535, 20_000, 16_384), [16_384, 3_616]),
    ((40_000, 1_000_000, 1_000_000, 16_384), [16_384, 16_384, 7_232]),
    ((40_000, 1_000_000, 1_000_000, 32_768), [32_768, 7_232]),
    ((10, -49_151, 65_535, 16_384), []),
    ((0, 65_535, 65_535, 16_384), []),
]
# The stream window is the tighter limit here: every frame must lower it too.
HIDDEN_CHUNK_CASES = [((100_000, 20_000, 65_535, 16_384), [16_384, 3_616])]


def _chunks(chunk_sizes: Callable, cases: list) -> None:
    for (body_len, stream_window, conn_window, max_frame), expected in cases:
        call = (
            f"chunk_sizes(body_len={body_len:_}, stream_window={stream_window:_}, "
            f"conn_window={conn_window:_}, max_frame={max_frame:_})"
        )
        got = attempt(
            call, lambda a=(body_len, stream_window, conn_window, max_frame): chunk_sizes(*a)
        )
        expect(call, expected, got)


def check_chunk_sizes(chunk_sizes: Callable[[int, int, int, int], list[int]]) -> None:
    """Exercise 4.1: the DATA frame sizes that fit the three limits, for seven bodies."""
    _chunks(chunk_sizes, CHUNK_CASES)
    passed("4.1")


def hidden_chunk_sizes(chunk_sizes: Callable[[int, int, int, int], list[int]]) -> None:
    _chunks(chunk_sizes, HIDDEN_CHUNK_CASES)


# ------------------------------------------------------------ 4.2 the outbound buffer


def _send_one(buffer: Any, stream_id: int, what: str) -> bool:
    return attempt(f"{what}: send_one({stream_id})", lambda: buffer.send_one(stream_id))


def _flush(buffer: Any, server: H2Connection, what: str) -> Frames:
    attempt(f"{what}: flush()", buffer.flush)
    return sent(server)


def check_outbound(outbound_class: type) -> None:
    """Exercise 4.2: `push` queues; `send_one` sends one frame as large as the limits allow."""
    server, client = connected(1)
    buffer = outbound_class(server)
    attempt(
        "push(1, 100,000 bytes, end_stream=True)",
        lambda: buffer.push(1, pattern(100_000), end_stream=True),
    )
    expect("after push: frames sent (push only queues)", [], sent(server))
    expect("then pending(1)", 100_000, buffer.pending(1))
    what = "send_one(1) with both windows at 65,535: one frame of the maximum frame size"
    expect(what, True, _send_one(buffer, 1, what))
    expect(f"{what}, sent", [("DATA", 1, 16_384, False)], sent(server))
    what = "flush(): the rest of the windows, 49,151 bytes"
    expect(
        what,
        [("DATA", 1, n, False) for n in (16_384, 16_384, 16_383)],
        _flush(buffer, server, what),
    )
    expect("then pending(1)", 100_000 - 65_535, buffer.pending(1))
    what = "send_one(1) with both windows at 0"
    expect(what, False, _send_one(buffer, 1, what))
    open_windows(server, client, 100_000, 1)
    what = "after WINDOW_UPDATEs of 100,000, flush() sends the remaining 34,465 bytes"
    frames = [("DATA", 1, 16_384, False), ("DATA", 1, 16_384, False), ("DATA", 1, 1_697, True)]
    expect(what, frames, _flush(buffer, server, what))
    expect("then the queues (a finished stream leaves them)", {}, buffer.queues)
    _check_connection_window(outbound_class)
    _check_trailers_queued(outbound_class)
    passed("4.2")


def _check_connection_window(outbound_class: type) -> None:
    server, _ = connected(1, 3)
    buffer = outbound_class(server)
    buffer.push(1, pattern(40_000), end_stream=True)
    buffer.push(3, pattern(40_000), end_stream=True)
    for _ in range(3):
        _send_one(buffer, 1, "40,000 bytes on streams 1 and 3")
    what = "stream 1 sent its 40,000 bytes; the connection window has 25,535 left: send_one(3)"
    got = [_send_one(buffer, 3, what) for _ in range(3)]
    expect(f"{what}, three times: returns", [True, True, False], got)
    frames = [("DATA", 1, n, False) for n in (16_384, 16_384)] + [("DATA", 1, 7_232, True)]
    frames += [("DATA", 3, 16_384, False), ("DATA", 3, 9_151, False)]
    expect(f"{what}: the frames (the connection window limits stream 3)", frames, sent(server))


def _check_trailers_queued(outbound_class: type) -> None:
    server, _ = connected(1)
    buffer = outbound_class(server)
    buffer.push(1, b"body")
    buffer.push(1, end_stream=True, trailers=[("x-status", "done")])
    what = "push(1, b'body'), push(1, end_stream=True, trailers=...), send_one(1)"
    expect(what, True, _send_one(buffer, 1, what))
    expect(f"{what}: its frame", [("DATA", 1, 4, False)], sent(server))
    expect("send_one(1) again", True, _send_one(buffer, 1, "send_one(1) again"))
    expect("its frame: the trailers, with END_STREAM", [("HEADERS", 1, 12, True)], sent(server))
    expect("then the queues", {}, buffer.queues)
    server, _ = connected(1)
    buffer = outbound_class(server)
    buffer.push(1, end_stream=True)
    what = "push(1, end_stream=True) with no data, then send_one(1)"
    expect(what, True, _send_one(buffer, 1, what))
    expect(f"{what}: an empty DATA frame with END_STREAM", [("DATA", 1, 0, True)], sent(server))


def hidden_outbound(outbound_class: type) -> None:
    # SETTINGS lower INITIAL_WINDOW_SIZE after 65,535 bytes: stream 1's window is -49,151
    # (RFC 9113 §6.9.2) while the connection window reopens. Nothing may be sent, nor raised.
    server, client = connected(1)
    buffer = outbound_class(server)
    buffer.push(1, pattern(100_000), end_stream=True)
    buffer.flush()
    sent(server)
    client.update_settings({SettingCodes.INITIAL_WINDOW_SIZE: 16_384})
    client.increment_flow_control_window(100_000)
    exchange(server, client)
    expect(
        "stream 1's window (the check's own setup)", -49_151, server.local_flow_control_window(1)
    )
    what = "send_one(1) with stream 1's window at -49,151"
    expect(what, False, _send_one(buffer, 1, what))
    expect("then pending(1)", 100_000 - 65_535, buffer.pending(1))


# ------------------------------------------------------------------ 4.3 fair turns


def _graft_flush(fair_class: type) -> type:
    """The learner's `flush` on Exercise 4.2's answer: 4.3 is graded on its own."""
    flush = fair_class.__dict__.get("flush")
    if flush is None:
        raise CheckFailed(f"{fair_class.__name__} defines no flush of its own")
    return type(fair_class.__name__, (ReferenceOutbound,), {"flush": flush})


def _streams_of(frames: Frames) -> list[int]:
    return [stream_id for _, stream_id, _, _ in frames]


def check_fair_flush(fair_class: type) -> None:
    """Exercise 4.3: one frame per stream per turn; a served stream goes to the back."""
    outbound_class = _graft_flush(fair_class)
    server, _ = connected(1, 3)
    buffer = outbound_class(server)
    buffer.push(1, pattern(40_000), end_stream=True)
    buffer.push(3, pattern(40_000), end_stream=True)
    what = "40,000 bytes queued on streams 1 and 3, connection window 65,535, then flush()"
    frames = [("DATA", 1, 16_384, False), ("DATA", 3, 16_384, False)]
    frames += [("DATA", 1, 16_384, False), ("DATA", 3, 16_383, False)]
    got = attempt(f"{what}: flush()", buffer.flush)
    expect(f"{what}: frames sent", frames, sent(server))
    expect(f"{what}: flush() returns the number of frames it sent", 4, got)
    server, _ = connected(1, 3, 5)
    buffer = outbound_class(server)
    buffer.push(1, b"streamed, more to come")  # no end: the stream then waits, with nothing
    buffer.push(3, b"small", end_stream=True)
    buffer.push(5, b"small too", end_stream=True)
    what = "stream 1 sent its piece and waits for more; streams 3 and 5 are complete"
    attempt(f"{what}: flush()", buffer.flush)
    expect(what, [1, 3, 5], _streams_of(sent(server)))
    expect(f"{what}: then the queues (stream 1 may stay)", [], [s for s in buffer.queues if s != 1])
    passed("4.3")


def hidden_fair_flush(fair_class: type) -> None:
    # Fair across flushes, not only within one: the connection window opens one frame at a
    # time, and the streams must still alternate.
    server, client = connected(1, 3)
    buffer = _graft_flush(fair_class)(server)
    buffer.push(1, pattern(100_000), end_stream=True)
    buffer.push(3, pattern(100_000), end_stream=True)
    buffer.flush()
    order = _streams_of(sent(server))
    for _ in range(4):
        open_windows(server, client, 16_384, 1, 3)
        buffer.flush()
        order += _streams_of(sent(server))
    expect(
        "the stream of each DATA frame, windows opened 16,384 bytes at a time", [1, 3] * 4, order
    )


# ----------------------------------------------------- 4.4-4.6: the protocol classes


def with_gethy_outbound(protocol_class: type, **answers: object) -> type:
    """`protocol_class`, sending through gethy's `Outbound` instead of the learner's.

    `answers` replace more methods with their correct versions, for a check that
    must not depend on an earlier exercise.
    """
    extra = {"outbound_class": GethyOutbound, **answers}
    return type(protocol_class.__name__, (protocol_class,), extra)


def reference_forget(self: Any, stream_id: int) -> bool:
    """Exercise 4.4's answer, with 4.5's response state: for checking 4.5 and 4.6 alone."""
    started = getattr(self, "response_state", {}).pop(stream_id, None) is not None
    held = stream_id in self.request_buffer or stream_id in self.outbound.queues
    self.request_buffer.pop(stream_id, None)
    self.outbound.drop(stream_id)
    return held or started


def reference_stream_reset(self: Any, event: Any) -> None:
    """Exercise 4.4's answer: forget the stream; tell the application if anything was held."""
    if self._forget(event.stream_id):
        self.current_events.append(StreamResetEvent(event.stream_id, event.error_code))


def reference_expect(self: Any, stream_id: int, state: str, action: str) -> None:
    """Exercise 4.5's answer: the trailers check (4.6) calls it instead of the learner's."""
    actual = self.response_state.get(stream_id)
    if actual is None:
        raise SendError(f"cannot {action} stream {stream_id}: it is reset, finished or unknown")
    if actual != state:
        raise SendError(f"cannot {action} stream {stream_id}: its response is {actual!r}")


def _report(
    protocol_class: type, names: list[str], exercise: str, **answers: object
) -> CheckReport:
    report = run_checks(with_gethy_outbound(protocol_class, **answers), names=names)
    if not report.passed:
        raise CheckFailed(f"{protocol_class.__name__} fails gethy's checks:\n{report}")
    passed(exercise)
    return report


def check_resets(protocol_class: type) -> CheckReport:
    """Exercise 4.4: a reset drops the stream's queued output and reaches the application."""
    return _report(protocol_class, ["reset_by_client", "reset_mid_response"], "4.4")


def hidden_resets(protocol_class: type) -> None:
    # A reset while the request still arrives: nothing is queued, yet the application must
    # hear of it exactly once, and the request is forgotten.
    server = with_gethy_outbound(protocol_class)()
    client = H2Connection()
    client.initiate_connection()
    post = [(":method", "POST"), (":path", "/up"), (":scheme", "http"), (":authority", "x")]
    client.send_headers(1, post)
    server.receive(client.data_to_send())
    client.reset_stream(1, ErrorCodes.CANCEL)
    events = attempt("RST_STREAM on stream 1", lambda: server.receive(client.data_to_send()))
    what = "HEADERS of a POST on stream 1 without END_STREAM, then RST_STREAM: the events"
    expect(what, [StreamResetEvent(1, ErrorCodes.CANCEL)], events)
    expect("then stream 1 in request_buffer", False, 1 in server.request_buffer)


# Earlier exercises' answers, so that 4.5 and 4.6 are graded on their own pieces.
_ANSWERS_4_4 = {"_stream_reset": reference_stream_reset, "_forget": reference_forget}
_ANSWERS_4_6 = {**_ANSWERS_4_4, "_expect": reference_expect}


def _refused(what: str, action: Callable[[], object], *, show: bool = True) -> None:
    try:
        action()
    except SendError as exc:
        if show:
            print(f"{what:<20} SendError: {exc}")
    except NotImplementedError:
        raise CheckFailed(f"{what}: not written yet (it raised NotImplementedError)") from None
    except Exception as exc:  # h2's own refusal, or the learner's code failing
        raise CheckFailed(
            f"{what}: raised {type(exc).__name__}: {exc}; expected SendError, so the "
            "application hears what it did wrong and the connection carries on"
        ) from exc
    else:
        raise CheckFailed(f"{what}: nothing was raised; expected SendError")


def check_send_errors(protocol_class: type) -> CheckReport:
    """Exercise 4.5: three mistakes on one stream, each refused with SendError."""
    from gethy.pair import InMemoryPair

    server = with_gethy_outbound(protocol_class, **_ANSWERS_4_4)()
    pair = InMemoryPair(server)
    sid = pair.request("GET", "/")
    pair.run()
    _refused("data before headers", lambda: server.send_data(sid, b"body"))
    server.send_headers(sid, 200)
    _refused("headers twice", lambda: server.send_headers(sid, 200))
    server.send_data(sid, b"the body", end_stream=True)
    _refused("data after the end", lambda: server.send_data(sid, b"more"))
    pair.run()
    expect("then the client got the body", b"the body", bytes(pair.responses[sid].body))
    return _report(protocol_class, ["send_after_reset"], "4.5", **_ANSWERS_4_4)


def hidden_send_errors(protocol_class: type) -> None:
    # A stream the client never opened is unknown: refused, and the message names the stream.
    server = with_gethy_outbound(protocol_class, **_ANSWERS_4_4)()
    try:
        server._expect(99, "not started", "send headers on")
    except SendError as exc:
        if "99" not in str(exc):
            raise CheckFailed(
                f"_expect on stream 99, never opened: SendError without the id: {exc}"
            ) from None
    else:
        raise CheckFailed("_expect on stream 99, never opened: expected SendError, got none")


def check_trailers(protocol_class: type) -> CheckReport:
    """Exercise 4.6: trailers follow the body, as the stream's last HEADERS frame."""
    from gethy.pair import InMemoryPair

    body = pattern(100_000)  # more than the windows: most of it waits in the buffer
    app = lambda request: (200, [], body, [("x-checksum", "abc")])  # noqa: E731
    pair = InMemoryPair(with_gethy_outbound(protocol_class, **_ANSWERS_4_6)(), app=app)
    sid = pair.request("GET", "/")
    attempt("a 100,000-byte response with trailers", pair.run)
    response = pair.responses[sid]
    what = "a 100,000-byte response with trailers: body bytes the client got"
    expect(what, len(body), len(response.body))
    expect("and its trailers, after the body", [("x-checksum", "abc")], response.trailers)
    names = ["response_trailers", "streamed_response"]
    return _report(protocol_class, names, "4.6", **_ANSWERS_4_6)


def hidden_trailers(protocol_class: type) -> None:
    from gethy.pair import InMemoryPair

    server = with_gethy_outbound(protocol_class, **_ANSWERS_4_6)()
    pair = InMemoryPair(server)
    sid = pair.request("GET", "/")
    pair.run()
    _refused(
        "trailers before headers", lambda: server.send_trailers(sid, [("x-a", "1")]), show=False
    )
    server.send_headers(sid, 200)
    server.send_trailers(sid, [("x-a", "1")])
    _refused("trailers twice", lambda: server.send_trailers(sid, [("x-a", "2")]), show=False)
    pair.run()
    response = pair.responses[sid]
    expect(
        "headers then trailers at once: the client's trailers", [("x-a", "1")], response.trailers
    )
    expect("and the response ended", True, response.ended)
