"""Turning h2's view of bad or abandoned input into the application's events.

Not built in a notebook: notebook 08 (errors and attacks) shows why these are
needed; `HTTP2Protocol` uses them.
"""

from __future__ import annotations

import h2.events
from h2.connection import ConnectionState, H2Connection
from h2.errors import ErrorCodes
from h2.exceptions import ProtocolError
from hyperframe.frame import GoAwayFrame

from gethy.events import ConnectionTerminatedEvent, H2Event, RequestEvent, StreamResetEvent
from gethy.sniff import looks_like_http1


def protocol_error(
    conn: H2Connection, exc: ProtocolError, data: bytes
) -> ConnectionTerminatedEvent:
    """The client broke the protocol: GOAWAY is queued (RFC 9113 §5.4.1); the event says why."""
    error_code = getattr(exc, "error_code", ErrorCodes.PROTOCOL_ERROR)
    if conn.state_machine.state is not ConnectionState.CLOSED:
        # h2 queues GOAWAY itself for errors inside frames, not for a bad preface.
        conn.close_connection(error_code=error_code)
    reason = str(exc) or type(exc).__name__
    if looks_like_http1(data):
        reason += " (this looks like an HTTP/1.1 request; this server speaks HTTP/2)"
    last_stream_id = conn.goaway_last_stream_id  # type: ignore[attr-defined]
    return ConnectionTerminatedEvent(error_code, last_stream_id, reason, by_peer=False)


def graceful_goaway(conn: H2Connection) -> bytes:
    """A GOAWAY(NO_ERROR) naming the last stream we answer (§6.8), after h2's queued bytes.

    h2's close_connection() would stop every stream at once, so the frame is
    built here; later GOAWAYs never name a higher stream (`gethy.strict_h2`).
    """
    last_stream_id = conn.highest_inbound_stream_id
    conn.last_stream_id_cap = last_stream_id  # type: ignore[attr-defined]
    return conn.data_to_send() + GoAwayFrame(0, last_stream_id=last_stream_id).serialize()


def h2_stream_open(conn: H2Connection, stream_id: int) -> bool:
    """Whether h2 still has the stream open for sending.

    h2 handles every frame of one `receive` before we see its events, so a
    stream we are about to answer may already be closed (a RST_STREAM later
    in the same bytes), or even forgotten (a newer stream opened after it).
    """
    stream = conn.streams.get(stream_id)
    return stream is not None and not stream.closed


def goaway_received(event: h2.events.ConnectionTerminated) -> ConnectionTerminatedEvent:
    """The application's event for h2's: the client sent GOAWAY (RFC 9113 §6.8)."""
    reason = "the client sent GOAWAY"
    if event.additional_data:
        reason += f": {event.additional_data!r}"
    last = event.last_stream_id or 0
    return ConnectionTerminatedEvent(event.error_code, last, reason, by_peer=True)


def without_requests_reset_at_once(events: list[H2Event]) -> list[H2Event]:
    """Drop requests completed and reset in the same bytes: nobody waits for them.

    One pass, whatever the number of resets: a flood of HEADERS + RST_STREAM
    pairs (rapid reset, CVE-2023-44487) must not cost more than it carries.
    """
    reset = {e.stream_id for e in events if type(e) is StreamResetEvent}
    if not reset:
        return events
    gone = reset.intersection(e.stream.stream_id for e in events if type(e) is RequestEvent)
    if not gone:
        return events
    return [e for e in events if _stream_id_of(e) not in gone]


def _stream_id_of(event: H2Event) -> int | None:
    if isinstance(event, RequestEvent):
        return event.stream.stream_id
    return event.stream_id if isinstance(event, StreamResetEvent) else None
