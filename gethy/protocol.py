"""`HTTP2Protocol`: the course's `CoreProtocol`, hardened for real and hostile clients.

Not built in one notebook: `gethy.core.CoreProtocol` is the class notebooks 03
and 04 build; this subclass adds what a real server needs, one block per fix
(notebook 08 shows the attacks behind several). Each block's RFC section (RFC
9113 unless said otherwise) and the tests that require it:

* **Bad input answered on the wire** (§5.4), h2 corrected by `gethy.strict_h2`:
  ``tests/test_conformance.py``, the "errors" checks. A malformed request or
  trailer costs only its stream (§8.1.1): ``test_a_malformed_request_costs_*``,
  ``test_pseudo_headers_in_request_trailers_are_a_stream_error``; non-UTF-8
  values still arrive (RFC 9110 §5.5): ``test_header_values_that_are_not_utf8_*``.
* **Rapid reset** (CVE-2023-44487): requests completed and reset in the same
  bytes never reach the application, in one pass: ``test_requests_reset_in_*``; floods
  of resets and control frames end in GOAWAY ENHANCE_YOUR_CALM (`gethy.floods`, §5.4.1):
  ``tests/test_floods.py``.
* **SETTINGS** (§6.5.3, §6.9.3): ``test_stricter_limits_bind_only_once_*``.
* **Limits, 413 and 503** (§8.1): answered early, then reset with NO_ERROR:
  the ``body_over_limit`` check, ``test_body_limit_*``, ``test_connection_wide_*``.
* **The application's mistakes are `SendError`s** (RFC 9110 §15, §8.1, §8.2):
  ``test_application_misuse_is_a_send_error_not_a_broken_connection``; HEAD
  gets no content and no made-up length (RFC 9110 §9.3.2, §8.6): ``test_head_*``.
* **Graceful close both ways** (§6.8, §8.7): ``test_graceful_close_*``,
  ``test_client_goaway_lets_open_streams_finish``.
* **Counters** the asyncio server reads: `progress`, `resets_received`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import h2.events
from h2.connection import H2Connection
from h2.errors import ErrorCodes
from h2.exceptions import ProtocolError
from h2.settings import SettingCodes

from gethy import answers, settings
from gethy.core import CoreProtocol, Fields, Phase, StreamState, with_content_length
from gethy.errors import SendError
from gethy.events import ConnectionTerminatedEvent, H2Event
from gethy.fields import HeaderInput, content_length, decode_fields, header_list
from gethy.floods import FloodGuard
from gethy.inspection import Inspection
from gethy.messages import request_problem, trailers_problem
from gethy.outbound import Flushed
from gethy.stream import Headers
from gethy.strict_h2 import StrictH2Connection

if TYPE_CHECKING:
    from gethy.recorder import Recorder

DEFAULT_MAX_BODY_SIZE = 16 * 1024 * 1024
DEFAULT_MAX_REQUEST_BUFFER = 64 * 1024 * 1024
DEFAULT_MAX_CONCURRENT_STREAMS = 100
DEFAULT_MAX_HEADER_LIST_SIZE = 64 * 1024
DEFAULT_INITIAL_WINDOW_SIZE = settings.DEFAULT_INITIAL_WINDOW_SIZE


class HTTP2Protocol(Inspection, CoreProtocol):
    """The server side of one HTTP/2 connection, without any I/O, hardened.

    Limits: a request body over ``max_body_size`` (declared or arriving) gets
    ``413``, and the one that takes the connection's buffered request bytes
    over ``max_request_buffer`` gets ``503``; either way the stream is then
    reset with NO_ERROR and the application never sees the request.
    ``max_concurrent_streams``, ``max_header_list_size`` and
    ``initial_window_size`` are advertised in SETTINGS (§6.5.2). A
    `gethy.recorder.Recorder` as ``recorder`` logs every frame and window.
    """

    connection_class: type[H2Connection] = StrictH2Connection

    def __init__(
        self,
        *,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
        max_request_buffer: int = DEFAULT_MAX_REQUEST_BUFFER,
        max_concurrent_streams: int = DEFAULT_MAX_CONCURRENT_STREAMS,
        max_header_list_size: int = DEFAULT_MAX_HEADER_LIST_SIZE,
        initial_window_size: int = DEFAULT_INITIAL_WINDOW_SIZE,
        recorder: Recorder | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_body_size = max_body_size
        self.max_request_buffer = max_request_buffer
        self.recorder = recorder
        self._settings = {
            SettingCodes.MAX_CONCURRENT_STREAMS: max_concurrent_streams,
            SettingCodes.MAX_HEADER_LIST_SIZE: max_header_list_size,
            SettingCodes.INITIAL_WINDOW_SIZE: initial_window_size,
        }
        #: Grows whenever a request or response moves forward: request headers or
        #: body bytes arrive, a response starts, or queued response data leaves.
        #: PING, SETTINGS and WINDOW_UPDATE alone do not count, so a server can
        #: close connections whose streams are stuck (the asyncio server does).
        self.progress = 0
        #: How many streams the client has reset (RST_STREAM) on this connection.
        self.resets_received = 0
        self._request_bytes = 0  # body bytes of requests still arriving, all streams
        self._heads: set[int] = set()  # HEAD requests: their responses carry no content
        self._reset_when_sent: set[int] = set()  # answered 413/503: reset once sent
        self._terminated = False
        self._last_stream_id: int | None = None  # set once we sent a graceful GOAWAY
        self._peer_going_away = False  # the client sent GOAWAY(NO_ERROR)
        self._extra_output = b""  # bytes made outside h2 (our graceful GOAWAY)
        self._floods = FloodGuard(clock)  # budgets for resets and control frames
        super().__init__()
        settings.send_stricter(self.http2_connection, self._settings)

    # ------------------------------------------------------------ SETTINGS (§6.5)

    _h2_config = staticmethod(settings.h2_configuration)

    def _new_connection(self) -> H2Connection:
        conn = super()._new_connection()
        settings.advertise(conn, self._settings)
        conn.flood_guard = self._floods  # type: ignore[attr-defined]
        return conn

    def _settings_acknowledged(self, event: h2.events.SettingsAcknowledged) -> list[H2Event]:
        receiving = [i for i, s in self.streams.items() if s.phase is Phase.RECEIVING]
        settings.acknowledged(self.http2_connection, event.changed_settings, receiving)
        return []

    # ------------------------------------------------------------------ receive

    def receive(self, data: bytes) -> list[H2Event]:
        """Bytes from the client in, events out. Never raises for what a client sends: a
        violation queues GOAWAY and returns a `ConnectionTerminatedEvent` (then [])."""
        if self._terminated:
            return []
        if self.recorder is not None:
            self.recorder.record_bytes("in", data, self)
        try:
            events = answers.without_requests_reset_at_once(super().receive(data))
        except ProtocolError as exc:
            events = [self._protocol_error(exc, data)]
        if self.recorder is not None:
            self.recorder.record_windows(self)
        return events

    def _other_event(self, event: h2.events.Event) -> list[H2Event]:
        if self._terminated:
            return []  # these bytes came after the end
        kind = type(event)
        if kind is h2.events.SettingsAcknowledged:
            return self._settings_acknowledged(event)  # type: ignore[arg-type]
        if kind is h2.events.ConnectionTerminated:
            return self._connection_terminated(event)  # type: ignore[arg-type]
        return []

    def _fields(self, fields: Iterable[tuple[bytes, bytes]]) -> Headers:  # type: ignore[override]
        return decode_fields(fields)  # bytes from h2: its header_encoding is off

    def _request_headers_received(self, event: h2.events.RequestReceived) -> list[H2Event]:
        self.progress += 1
        stream_id = event.stream_id
        if self._terminated:
            return []  # these bytes came after the end
        if self.closing and stream_id > (self._last_stream_id or 0):
            # Opened after a GOAWAY: refused, so the client may retry it safely (§8.7).
            self._reset_if_open(stream_id, ErrorCodes.REFUSED_STREAM)
            return []
        events = super()._request_headers_received(event)
        stream = self.streams[stream_id]
        if request_problem(stream.headers) is not None:
            self._refuse_malformed(stream_id)
            return []
        if (":method", "HEAD") in stream.headers:
            self._heads.add(stream_id)
        declared = content_length(stream.headers)
        if declared is not None and declared > self.max_body_size:
            self._reject(stream, 413, f"request body larger than {self.max_body_size} bytes")
            return []
        return events

    def _data_received(self, event: h2.events.DataReceived) -> list[H2Event]:
        stream = self.streams.get(event.stream_id)
        if stream is not None and stream.phase is Phase.RECEIVING and event.data:
            self.progress += 1
            self._request_bytes += len(event.data)
        events = super()._data_received(event)
        if stream is None or stream.phase is not Phase.RECEIVING:
            return events
        if stream.received > self.max_body_size:
            self._reject(stream, 413, f"request body larger than {self.max_body_size} bytes")
        elif self._request_bytes > self.max_request_buffer:
            self._reject(stream, 503, "too many request bytes buffered here; try again later")
        return events

    def _trailers_received(self, event: h2.events.TrailersReceived) -> list[H2Event]:
        events = super()._trailers_received(event)
        stream = self.streams.get(event.stream_id)
        if events and stream is not None and trailers_problem(stream.trailers or ()):
            self._refuse_malformed(event.stream_id)
            return []
        return events

    def _stream_ended(self, stream: StreamState) -> list[H2Event]:
        self._release(stream)
        return super()._stream_ended(stream)

    def _stream_reset(self, event: h2.events.StreamReset) -> list[H2Event]:
        self.resets_received += 1
        self._reset_when_sent.discard(event.stream_id)
        return super()._stream_reset(event)

    def _forget(self, stream_id: int) -> bool:
        stream = self.streams.get(stream_id)
        if stream is not None:
            self._release(stream)
        self._heads.discard(stream_id)
        return super()._forget(stream_id)

    def _release(self, stream: StreamState) -> None:
        """The stream's request leaves the buffer (complete, rejected or forgotten)."""
        if stream.phase is Phase.RECEIVING:
            self._request_bytes -= stream.received

    # ------------------------------------------------- answers to bad input

    def _refuse_malformed(self, stream_id: int) -> None:
        """A malformed request is a stream error (§8.1.1): RST_STREAM, not GOAWAY."""
        self._floods.reset()  # one the client made us send (MadeYouReset)
        self._forget(stream_id)
        self._reset_if_open(stream_id, ErrorCodes.PROTOCOL_ERROR)

    def _reject(self, stream: StreamState, status: int, why: str) -> None:
        """Answer before the body is in, then ask the client to stop sending (§8.1)."""
        stream_id = stream.stream_id
        if not answers.h2_stream_open(self.http2_connection, stream_id):
            self._forget(stream_id)  # the client reset it in the same bytes
            return
        self._release(stream)
        stream.buffered_data = []
        stream.phase = Phase.RESPONSE_NOT_STARTED  # the application never sees it
        self.send(stream_id, status, [("content-type", "text/plain")], f"{why}\n".encode())
        if stream_id in self.streams:
            self._reset_when_sent.add(stream_id)  # once the answer has left: see _flush
        else:
            self._reset_if_open(stream_id, ErrorCodes.NO_ERROR)

    def _protocol_error(self, exc: ProtocolError, data: bytes) -> ConnectionTerminatedEvent:
        event = answers.protocol_error(self.http2_connection, exc, data)
        self._end_everything()
        return event

    def _connection_terminated(self, event: h2.events.ConnectionTerminated) -> list[H2Event]:
        """Client GOAWAY (§6.8): with NO_ERROR its open streams finish. One event only."""
        told = self._peer_going_away
        if event.error_code == ErrorCodes.NO_ERROR and self.streams:
            self._peer_going_away = True  # answer what it asked, refuse anything newer
        elif event.error_code != ErrorCodes.NO_ERROR or not told:
            self._end_everything()
        return [] if told else [answers.goaway_received(event)]

    def _end_everything(self) -> None:
        self._terminated = True
        self._reset_when_sent.clear()
        self._forget_all()
        self.outbound.clear()

    def _reset_if_open(self, stream_id: int, error_code: ErrorCodes) -> None:
        if answers.h2_stream_open(self.http2_connection, stream_id):
            self.http2_connection.reset_stream(stream_id, error_code)

    # --------------------------------------------------------------------- send

    def _why_not_open(self) -> str:
        return "the connection is terminated" if self._terminated else super()._why_not_open()

    def send(
        self,
        stream_id: int,
        status: int,
        headers: HeaderInput = (),
        body: bytes = b"",
        *,
        trailers: HeaderInput | None = None,
    ) -> None:
        """Answer a request whole: status, headers, body and optional trailers.

        ``content-length`` is added when the headers lack it (never on 1xx or 204,
        which RFC 9110 §8.6 forbids, nor on 304, where it would have to equal the
        length of a 200 response). A HEAD request's response carries no content
        (RFC 9110 §9.3.2): give the body a GET would get and only its length
        is sent; give none and no length is made up. The body leaves as the
        client's windows allow; call `data_to_send()`.
        """
        if status < 200:
            raise SendError("a 1xx response is informational: send it with send_headers()")
        fields = header_list(headers)
        trailer_fields = header_list(trailers) if trailers is not None else None  # checked first
        if stream_id in self._heads:  # no content; a length only if we know it
            fields = with_content_length(status, fields, body) if body else fields
            self.send_headers(stream_id, status, fields, end_stream=True)
            return
        super().send(stream_id, status, fields, body, trailers=trailer_fields)

    def _send_headers(
        self, stream: StreamState, status: int, headers: Fields, end_stream: bool
    ) -> None:
        if not 100 <= status <= 599:
            raise SendError(f"{status} is not an HTTP status code (RFC 9110 §15)")
        if status < 200 and end_stream:
            raise SendError("a 1xx response cannot end the stream: the final response follows")
        try:
            super()._send_headers(stream, status, header_list(headers), end_stream)
        except ProtocolError as exc:
            why = f"h2 refused the response headers of stream {stream.stream_id}: {exc}"
            raise SendError(why) from exc
        self.progress += 1  # a response started

    def send_data(self, stream_id: int, data: bytes, *, end_stream: bool = False) -> None:
        """Queue body bytes; for HEAD they are dropped (no content, RFC 9110 §9.3.2)."""
        super().send_data(
            stream_id, b"" if stream_id in self._heads else data, end_stream=end_stream
        )

    def send_trailers(self, stream_id: int, trailers: Fields) -> None:
        """End the response with trailing fields (§8.1), each checked first."""
        super().send_trailers(stream_id, header_list(trailers))

    def reset_stream(self, stream_id: int, error_code: ErrorCodes = ErrorCodes.CANCEL) -> None:
        """Abandon a stream with RST_STREAM (§6.4): its unsent output is dropped."""
        if not self._terminated:
            super().reset_stream(stream_id, error_code)

    def close(
        self, error_code: ErrorCodes = ErrorCodes.NO_ERROR, *, graceful: bool | None = None
    ) -> None:
        """GOAWAY (§6.8). With NO_ERROR, graceful: open streams are answered, newer ones
        refused; close the transport once `active_streams` is 0. Otherwise: the end, now."""
        if self._terminated:
            return
        conn = self.http2_connection
        if not (error_code == ErrorCodes.NO_ERROR if graceful is None else graceful):
            conn.close_connection(error_code=error_code, last_stream_id=self._last_stream_id)
            self._end_everything()
            return
        if self._last_stream_id is None:
            self._extra_output += answers.graceful_goaway(conn)
            self._last_stream_id = conn.highest_inbound_stream_id

    def data_to_send(self) -> bytes:
        """The bytes to write now: everything queued since the last call.

        Response data leaves the outbound buffer here, as far as the windows
        allow; the rest stays buffered until a later `receive` opens them.
        """
        if self._terminated:  # only the GOAWAY and what h2 queued before it
            self.outbound.collected()
            data = self.http2_connection.data_to_send()
        else:
            data = super().data_to_send()
        if self._extra_output:
            data, self._extra_output = self._extra_output + data, b""
        if self.recorder is not None:
            self.recorder.record_bytes("out", data, self)
            self.recorder.record_windows(self)
        return data

    def _flush(self) -> Flushed:
        flushed = super()._flush()
        if flushed.frames:
            self.progress += 1
            self._floods.data_sent(flushed.data)
        for stream_id in self._reset_when_sent.intersection(flushed.finished):
            self._reset_when_sent.discard(stream_id)  # our early answer has left:
            self._reset_if_open(stream_id, ErrorCodes.NO_ERROR)  # stop the upload (§8.1)
        return flushed

    @property
    def terminated(self) -> bool:
        """True once the connection is over: a GOAWAY for an error, sent or received."""
        return self._terminated

    @property
    def request_bytes(self) -> int:
        """Body bytes of requests still arriving, buffered on this connection."""
        return self._request_bytes

    def peer_closed(self) -> int:
        """The client's FIN: requests still arriving can never complete, so they are
        dropped (returns how many); responses underway stay, the client may read them."""
        arriving = [i for i, stream in self.streams.items() if stream.phase is Phase.RECEIVING]
        for stream_id in arriving:
            self._forget(stream_id)
        return len(arriving)

    @property
    def closing(self) -> bool:
        """True once a graceful GOAWAY went either way: no new streams are taken."""
        return self._last_stream_id is not None or self._peer_going_away
