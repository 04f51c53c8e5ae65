"""The events `HTTP2Protocol.receive` returns: what an application must act on.

Built in notebook 03 (receive).

h2 reports every frame-level happening (settings acknowledged, a ping, a
window update...). An application serving requests needs only three things,
so gethy reduces h2's events to these small frozen dataclasses, in the style
of h11's events.
"""

from __future__ import annotations

from dataclasses import dataclass

from h2.errors import ErrorCodes

from gethy.stream import Stream


@dataclass(frozen=True)
class H2Event:
    """Base class of everything `HTTP2Protocol.receive` returns."""


@dataclass(frozen=True)
class RequestEvent(H2Event):
    """A client finished sending a request: answer it with `HTTP2Protocol.send`."""

    stream: Stream


@dataclass(frozen=True)
class StreamResetEvent(H2Event):
    """A stream the application knows was reset (RFC 9113 §6.4).

    Usually the client cancelled it with RST_STREAM; h2 also resets a stream
    itself when the client breaks a stream-level rule (a window overflow,
    FLOW_CONTROL_ERROR, say). Its buffered request and any unsent response are
    already dropped; stop producing a response for it. Sending on it now
    raises `SendError`.
    """

    stream_id: int
    error_code: ErrorCodes | int


@dataclass(frozen=True)
class ConnectionTerminatedEvent(H2Event):
    """The connection is over (RFC 9113 §6.8, §5.4.1).

    `by_peer` is True when the client sent GOAWAY, False when the client broke
    the protocol and gethy queued a GOAWAY of its own. Either way the caller
    writes `data_to_send()` one last time and closes the connection; further
    calls to `receive` return no events.
    """

    error_code: ErrorCodes | int
    last_stream_id: int
    reason: str
    by_peer: bool
