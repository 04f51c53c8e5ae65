"""`HTTP2Protocol`: gethy's server protocol, the course's core hardened for real clients.

Not built in one notebook. `gethy.core.CoreProtocol` is what notebooks 03 and
04 build; `gethy.validation.ValidatingProtocol` answers bad input and refuses
bad calls; this last layer adds what a server facing real and hostile clients
needs on top (notebook 08 shows the attacks behind it). Each block names its
RFC section (RFC 9113 unless said otherwise) and the tests that require it:

* **SETTINGS**: our limits are advertised, and stricter ones bind only once
  the client acknowledges them (§6.5.3, §6.9.3):
  ``test_stricter_limits_bind_only_once_the_client_acknowledges_them``.
* **Limits, 413 and 503**: request bodies are buffered, so they are bounded
  per request and per connection; an over-limit request is answered early
  and its stream reset with NO_ERROR (§8.1): the ``body_over_limit`` check,
  ``test_body_limit_*``, ``test_request_buffer_*``.
* **Graceful close both ways** (§6.8): our `close()` answers the streams
  already open and refuses newer ones (§8.7); a client's GOAWAY(NO_ERROR)
  lets the streams it opened finish: ``test_graceful_*``,
  ``test_client_goaway_lets_open_streams_finish``.
* **Counters** the asyncio server reads: `progress`, `resets_received`.
* **A recorder** for the notebooks' frame tables and window plots.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import h2.events
from h2.connection import H2Connection
from h2.errors import ErrorCodes
from h2.settings import SettingCodes, Settings
from hyperframe.frame import GoAwayFrame

from gethy.core import Phase, StreamState
from gethy.events import H2Event
from gethy.fields import content_length
from gethy.outbound import Flushed
from gethy.validation import HeaderInput, ValidatingProtocol, goaway_received

if TYPE_CHECKING:
    from gethy.recorder import Recorder

__all__ = ["HTTP2Protocol", "HeaderInput"]

DEFAULT_MAX_BODY_SIZE = 16 * 1024 * 1024
DEFAULT_MAX_REQUEST_BUFFER = 64 * 1024 * 1024
DEFAULT_MAX_CONCURRENT_STREAMS = 100
DEFAULT_MAX_HEADER_LIST_SIZE = 64 * 1024
DEFAULT_INITIAL_WINDOW_SIZE = 65_535  # §6.9.2


class HTTP2Protocol(ValidatingProtocol):
    """The server side of one HTTP/2 connection, without any I/O, hardened.

    Limits (all configurable, sensible by default):

    * ``max_body_size``: a request body beyond it (by ``content-length`` or by
      the bytes that arrive) is answered with ``413 Content Too Large``, then
      the stream is reset with NO_ERROR (§8.1) to stop the upload; the
      application never sees that request.
    * ``max_request_buffer``: request-body bytes buffered on the connection,
      all streams together. Acknowledging DATA at once keeps uploads moving,
      so without it one connection could hold ``max_body_size`` times
      ``max_concurrent_streams`` bytes. The stream whose DATA goes over it
      gets ``503 Service Unavailable`` and a reset, as with 413.
    * ``max_concurrent_streams``, ``max_header_list_size``,
      ``initial_window_size``: advertised in SETTINGS (§6.5.2). A larger
      header list is a connection error (GOAWAY ENHANCE_YOUR_CALM).

    Pass a `gethy.recorder.Recorder` as ``recorder`` to log every frame and
    every window change, for printing and plotting.
    """

    def __init__(
        self,
        *,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
        max_request_buffer: int = DEFAULT_MAX_REQUEST_BUFFER,
        max_concurrent_streams: int = DEFAULT_MAX_CONCURRENT_STREAMS,
        max_header_list_size: int = DEFAULT_MAX_HEADER_LIST_SIZE,
        initial_window_size: int = DEFAULT_INITIAL_WINDOW_SIZE,
        recorder: Recorder | None = None,
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
        self._reset_when_sent: set[int] = set()  # answered 413/503: reset once sent
        self._last_stream_id: int | None = None  # set once we sent a graceful GOAWAY
        self._peer_going_away = False  # the client sent GOAWAY(NO_ERROR)
        self._extra_output = b""  # bytes made outside h2 (our graceful GOAWAY)
        super().__init__()
        self._send_stricter_settings()

    # ------------------------------------------------------------ SETTINGS (§6.5)

    def _new_connection(self) -> H2Connection:
        conn = super()._new_connection()
        # Until the client acknowledges our SETTINGS it may rely on the defaults
        # (§6.5.3, §6.9.3): the first SETTINGS frame is never stricter than them.
        starting = {k: max(v, conn.local_settings[k]) for k, v in self._settings.items()}
        conn.local_settings = Settings(client=False, initial_values=starting)
        conn.decoder.max_header_list_size = conn.local_settings.max_header_list_size
        return conn

    def _send_stricter_settings(self) -> None:
        """Stricter limits go in a second SETTINGS frame; h2 applies them on its ACK."""
        conn = self.http2_connection
        stricter = {k: v for k, v in self._settings.items() if v < conn.local_settings[k]}
        if stricter:
            conn.update_settings(stricter)
        grow = self._settings[SettingCodes.INITIAL_WINDOW_SIZE] - DEFAULT_INITIAL_WINDOW_SIZE
        if grow > 0:  # SETTINGS sizes stream windows; the connection's grows by WINDOW_UPDATE
            conn.increment_flow_control_window(grow)

    def _handle_event(self, event: h2.events.Event) -> list[H2Event]:
        if type(event) is h2.events.SettingsAcknowledged and not self._terminated:
            self._settings_acknowledged(event)
        return super()._handle_event(event)

    def _settings_acknowledged(self, event: h2.events.SettingsAcknowledged) -> None:
        if SettingCodes.INITIAL_WINDOW_SIZE in event.changed_settings:
            # A smaller window now binds, and h2 may sit on acknowledged bytes it has
            # not handed back (it waits for half a window): let it recheck, or a
            # client with no window left would wait forever.
            for stream_id, stream in self.streams.items():
                if stream.phase is Phase.RECEIVING:
                    self.http2_connection.acknowledge_received_data(0, stream_id)

    # ------------------------------------------------------------------ receive

    def receive(self, data: bytes) -> list[H2Event]:
        if self.recorder is not None and not self._terminated:
            self.recorder.record_bytes("in", data, self)
        events = super().receive(data)
        if self.recorder is not None:
            self.recorder.record_windows(self)
        return events

    receive.__doc__ = ValidatingProtocol.receive.__doc__

    def _request_headers_received(self, event: h2.events.RequestReceived) -> list[H2Event]:
        self.progress += 1
        if self.closing and event.stream_id > (self._last_stream_id or 0):
            # Opened after a GOAWAY: refused, so the client may retry it safely (§8.7).
            self._reset_if_open(event.stream_id, ErrorCodes.REFUSED_STREAM)
            return []
        events = super()._request_headers_received(event)
        stream = self.streams.get(event.stream_id)
        declared = content_length(stream.headers) if stream is not None else None
        if stream is not None and declared is not None and declared > self.max_body_size:
            self._reject(stream, 413, f"request body larger than {self.max_body_size} bytes")
            return []
        return events

    def _data_received(self, event: h2.events.DataReceived) -> list[H2Event]:
        stream = self.streams.get(event.stream_id)
        arriving = stream is not None and stream.phase is Phase.RECEIVING
        if arriving and event.data:
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

    def _stream_ended(self, stream: StreamState) -> list[H2Event]:
        self._release(stream)
        return super()._stream_ended(stream)

    def _stream_reset(self, event: h2.events.StreamReset) -> list[H2Event]:
        self.resets_received += 1
        return super()._stream_reset(event)

    def _forget(self, stream_id: int) -> bool:
        stream = self.streams.get(stream_id)
        if stream is not None:
            self._release(stream)
        self._reset_when_sent.discard(stream_id)
        return super()._forget(stream_id)

    def _release(self, stream: StreamState) -> None:
        """The stream's request leaves the buffer (complete, rejected or forgotten)."""
        if stream.phase is Phase.RECEIVING:
            self._request_bytes -= stream.received

    def _reject(self, stream: StreamState, status: int, why: str) -> None:
        """Answer before the body is in, then ask the client to stop sending (§8.1)."""
        stream_id = stream.stream_id
        if not self._h2_stream_open(stream_id):
            self._forget(stream_id)  # the client reset it in the same bytes
            return
        self._release(stream)
        stream.buffered_data = []
        stream.phase = Phase.RESPONSE_NOT_STARTED  # the application never sees it
        self._reset_when_sent.add(stream_id)
        self.send(stream_id, status, [("content-type", "text/plain")], f"{why}\n".encode())

    def _response_sent(self, stream_id: int) -> None:
        reset = stream_id in self._reset_when_sent
        super()._response_sent(stream_id)
        if reset:
            self._reset_if_open(stream_id, ErrorCodes.NO_ERROR)

    def _connection_terminated(self, event: h2.events.ConnectionTerminated) -> list[H2Event]:
        """With NO_ERROR the client's GOAWAY is graceful: its open streams may finish (§6.8)."""
        if event.error_code != ErrorCodes.NO_ERROR or not self.streams:
            return super()._connection_terminated(event)
        self._peer_going_away = True  # answer what it asked, refuse anything newer
        return [goaway_received(event)]

    # --------------------------------------------------------------------- send

    def send_headers(
        self, stream_id: int, status: int, headers: HeaderInput = (), *, end_stream: bool = False
    ) -> None:
        super().send_headers(stream_id, status, headers, end_stream=end_stream)
        self.progress += 1

    send_headers.__doc__ = ValidatingProtocol.send_headers.__doc__

    def close(
        self, error_code: ErrorCodes = ErrorCodes.NO_ERROR, *, graceful: bool | None = None
    ) -> None:
        """Begin shutting the connection down with GOAWAY (§6.8).

        Graceful by default with NO_ERROR: streams already opened are answered
        as usual, newer ones are refused; wait until `active_streams` is 0,
        then close the transport. Any other code, or ``graceful=False``, ends
        the connection at once.
        """
        if self._terminated:
            return
        conn = self.http2_connection
        if not (error_code == ErrorCodes.NO_ERROR if graceful is None else graceful):
            conn.close_connection(error_code=error_code, last_stream_id=self._last_stream_id)
            self._end_everything()
            return
        if self._last_stream_id is not None:
            return
        # h2's close_connection() would stop every stream at once, so the
        # graceful GOAWAY is built here and sent after what h2 queued before it.
        self._last_stream_id = conn.highest_inbound_stream_id
        conn.last_stream_id_cap = self._last_stream_id  # type: ignore[attr-defined]
        goaway = GoAwayFrame(0, last_stream_id=self._last_stream_id)
        self._extra_output += conn.data_to_send() + goaway.serialize()

    # ------------------------------------------------------------------- output

    def data_to_send(self) -> bytes:
        """The bytes to write now: everything queued since the last call.

        Response data leaves the outbound buffer here, as far as the windows
        allow; the rest stays buffered until a later `receive` opens them.
        """
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
        return flushed

    # --------------------------------------------------------- what you can see

    @property
    def h2_connection(self) -> H2Connection:
        """The underlying h2 connection, for looking inside (not for sending)."""
        return self.http2_connection

    @property
    def closing(self) -> bool:
        """True once a graceful GOAWAY went either way: no new streams are taken."""
        return self._last_stream_id is not None or self._peer_going_away

    @property
    def active_streams(self) -> int:
        """Streams whose request is still arriving or whose response is unfinished."""
        return len(self.streams)

    def buffered(self, stream_id: int | None = None) -> int:
        """Response bytes waiting for window, on one stream or on all of them."""
        return self.outbound.total() if stream_id is None else self.outbound.pending(stream_id)

    def send_window(self, stream_id: int = 0) -> int:
        """How many DATA bytes we may still send: on the connection (0) or one stream.

        Can be negative after the client lowers SETTINGS_INITIAL_WINDOW_SIZE
        (§6.9.2). Raises KeyError for a stream h2 no longer tracks.
        """
        conn = self.http2_connection
        if stream_id == 0:
            return conn.outbound_flow_control_window
        return conn.streams[stream_id].outbound_flow_control_window

    def receive_window(self, stream_id: int = 0) -> int:
        """How many DATA bytes the client may still send us, on the connection (0) or a stream."""
        conn = self.http2_connection
        if stream_id == 0:
            return conn.inbound_flow_control_window
        return conn.streams[stream_id].inbound_flow_control_window

    def windows(self) -> dict[tuple[str, int], int]:
        """Every current window: ``{("send" | "receive", stream_id): size}``, 0 = connection."""
        conn = self.http2_connection
        result = {
            ("send", 0): conn.outbound_flow_control_window,
            ("receive", 0): conn.inbound_flow_control_window,
        }
        for stream_id, stream in conn.streams.items():
            if not stream.closed:
                result["send", stream_id] = stream.outbound_flow_control_window
                result["receive", stream_id] = stream.inbound_flow_control_window
        return result
