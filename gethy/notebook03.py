"""The class notebook 03 ends with, as its solved edition writes it.

Built in notebook 03 (receive), Exercise 3.2: ``MyHTTP2Protocol``, the receive
half of the learner's protocol, and ``ArrivingRequest``. Notebook 04 starts
from it (``from gethy.notebook03 import MyHTTP2Protocol as ReceiveProtocol``)
instead of repeating 85 lines in a cell; a learner whose class differs pastes
theirs there. A test keeps this module and the notebook's solution cell the
same code, so it is the learner's class, not gethy's grown-up version (that
one is `gethy.CoreProtocol`, whose handlers return their events instead of
collecting them in ``current_events``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import h2.events
from h2.config import H2Configuration
from h2.connection import H2Connection

import gethy
from gethy.events import H2Event, RequestEvent, StreamResetEvent

__all__ = ["ArrivingRequest", "MyHTTP2Protocol"]


@dataclass
class ArrivingRequest:
    """A request still arriving: its headers, the body so far, maybe trailers."""

    headers: tuple[tuple[str, str], ...]
    buffered_data: list[bytes] = field(default_factory=list)
    trailers: tuple[tuple[str, str], ...] | None = None


class MyHTTP2Protocol:
    """The server side of HTTP/2, receive half: bytes in, events out, no I/O."""

    def __init__(self) -> None:
        """Make the h2 connection and queue the server preface on it.

        Our SETTINGS frame must be the first frame the server sends (RFC 9113 §3.4):
        ask h2 to queue it now, so the first `data_to_send()` carries it.
        """
        config = H2Configuration(client_side=False, header_encoding="utf-8")
        self.http2_connection = H2Connection(config=config)
        self.http2_connection.initiate_connection()  # Fix 2: SETTINGS first (§3.4)
        self.request_buffer: dict[int, ArrivingRequest] = {}
        self.current_events: list[H2Event] = []

    def receive(self, data: bytes) -> list[H2Event]:
        """Feed the bytes a client sent; return what the application must act on."""
        for event in self.http2_connection.receive_data(data):
            self._handle_event(event)
        events, self.current_events = self.current_events, []
        return events

    def data_to_send(self) -> bytes:
        """The bytes to write to the client now (call after every receive)."""
        return self.http2_connection.data_to_send()

    def _handle_event(self, event: h2.events.Event) -> None:
        if isinstance(event, h2.events.RequestReceived):
            self._request_headers_received(event)
        elif isinstance(event, h2.events.DataReceived):
            self._data_received(event)
        elif isinstance(event, h2.events.TrailersReceived):  # NEW
            self._trailers_received(event)
        elif isinstance(event, h2.events.StreamReset):  # NEW
            self._stream_reset(event)

    def _request_headers_received(self, event: h2.events.RequestReceived) -> None:
        self.request_buffer[event.stream_id] = ArrivingRequest(tuple(event.headers))
        if event.stream_ended:
            self._stream_ended(event.stream_id)

    def _data_received(self, event: h2.events.DataReceived) -> None:
        """One DATA frame: acknowledge it, keep its body piece, end the request if it was last.

        Acknowledge what the client was charged, `event.flow_controlled_length` (the payload
        with its padding, RFC 9113 §6.1), so its windows open again (§6.9). Only
        `event.data` is body.
        """
        conn = self.http2_connection
        conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)  # Fix 3
        self.request_buffer[event.stream_id].buffered_data.append(event.data)
        if event.stream_ended:
            self._stream_ended(event.stream_id)

    def _trailers_received(self, event: h2.events.TrailersReceived) -> None:  # NEW
        """The request's trailers: a second HEADERS frame, after the body (RFC 9113 §8.1).

        Keep them, as a tuple, on the stream's `ArrivingRequest`; they always end the stream.
        """
        self.request_buffer[event.stream_id].trailers = tuple(event.headers)
        if event.stream_ended:
            self._stream_ended(event.stream_id)

    def _stream_reset(self, event: h2.events.StreamReset) -> None:  # NEW
        """The client reset a stream with RST_STREAM (RFC 9113 §6.4).

        If its request is still arriving, drop it from the buffer and tell the application
        with a `StreamResetEvent(stream_id, error_code)`; never a `RequestEvent` for it.
        """
        if self.request_buffer.pop(event.stream_id, None) is not None:
            self.current_events.append(StreamResetEvent(event.stream_id, event.error_code))

    def _stream_ended(self, stream_id: int) -> None:  # Fix 1: emit now, in order
        """The client ended the stream (END_STREAM, RFC 9113 §8.1): the request is complete.

        Take it out of the buffer and emit a `RequestEvent` carrying a `gethy.Stream`
        (stream id, headers, the joined body, trailers) now, in the order streams end.
        """
        request = self.request_buffer.pop(stream_id)
        body = b"".join(request.buffered_data)
        stream = gethy.Stream(stream_id, request.headers, body, request.trailers)
        self.current_events.append(RequestEvent(stream))
