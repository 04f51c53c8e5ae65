"""`HTTP2Protocol`: the server side of an HTTP/2 connection, sans-IO.

"Sans-IO" means this class never touches a socket. You give it the bytes that
arrived (`receive`), it tells you what happened (a list of `H2Event`s); you
tell it what to answer (`send` and friends), and you collect the bytes to write
with `data_to_send()`. The same object therefore runs in a notebook cell, in a
test, or behind asyncio (`gethy.server`) without a change.

The frame-level protocol (HPACK, stream states, SETTINGS, PING) is h2's job.
This class adds what h2 leaves to its user, and what the original gethy
articles got wrong:

* the server connection preface (RFC 9113 §3.4) is queued at construction;
* every DATA frame received is acknowledged by its flow-controlled length,
  padding included (RFC 9113 §6.9.1), so request bodies of any size arrive;
* response bodies wait in an `OutboundBuffer` and go out as the peer's
  windows allow, fairly across streams (RFC 9113 §5.2, §6.9);
* a peer that breaks the protocol gets a GOAWAY (RFC 9113 §5.4.1) and the
  application gets a `ConnectionTerminatedEvent`, never an exception.

Outgoing bytes leave through one door: after each call to `receive` or to the
`send` methods, call `data_to_send()` and write what it returns (possibly
b""). Everything produced in between is coalesced into that one write.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING

import h2.events
from h2.config import H2Configuration
from h2.connection import ConnectionState, H2Connection
from h2.errors import ErrorCodes
from h2.exceptions import ProtocolError
from h2.settings import SettingCodes, Settings
from hyperframe.frame import GoAwayFrame

from gethy.errors import SendError
from gethy.events import (
    ConnectionTerminatedEvent,
    H2Event,
    RequestEvent,
    StreamResetEvent,
)
from gethy.messages import field_problem, request_problem, trailers_problem
from gethy.outbound import OutboundBuffer
from gethy.sniff import looks_like_http1
from gethy.stream import Headers, Stream
from gethy.strict_h2 import StrictH2Connection

if TYPE_CHECKING:
    from gethy.recorder import Recorder

DEFAULT_MAX_BODY_SIZE = 16 * 1024 * 1024
DEFAULT_MAX_REQUEST_BUFFER = 64 * 1024 * 1024
DEFAULT_MAX_CONCURRENT_STREAMS = 100
DEFAULT_MAX_HEADER_LIST_SIZE = 64 * 1024
DEFAULT_INITIAL_WINDOW_SIZE = 65_535  # RFC 9113 §6.9.2

HeaderInput = Iterable[tuple[str, str]] | Mapping[str, str]


class _Sending(Enum):
    """Where the response of one stream is (RFC 9113 §8.1: HEADERS, DATA*, trailers)."""

    NOT_STARTED = "not started"
    HEADERS_SENT = "headers sent"


@dataclass
class _Request:
    """A request still arriving: the request buffer of the original gethy."""

    headers: Headers
    chunks: list[bytes] = field(default_factory=list)
    size: int = 0
    trailers: Headers | None = None


class HTTP2Protocol:
    """The server side of one HTTP/2 connection, without any I/O.

    Limits (all configurable, sensible by default):

    * ``max_body_size``: a request body beyond it (by ``content-length`` or by
      the bytes that arrive) is answered with ``413 Content Too Large`` and the
      stream is then reset with NO_ERROR (RFC 9113 §8.1), asking the client to
      stop sending; the application never sees that request.
    * ``max_request_buffer``: request-body bytes buffered on the connection at
      once, all streams together. Acknowledging DATA at once keeps uploads
      moving, so without this bound a client could make one connection hold
      ``max_body_size`` times ``max_concurrent_streams`` bytes. The stream whose
      DATA goes over it gets ``503 Service Unavailable`` and a reset, like 413.
    * ``max_concurrent_streams``: advertised in SETTINGS (RFC 9113 §6.5.2). A
      client that opens more streams at once (after acknowledging our SETTINGS)
      breaks the protocol; h2 answers with GOAWAY, which RFC 9113 §5.4.1 allows.
    * ``max_header_list_size``: advertised in SETTINGS; a larger header list is
      a connection error (GOAWAY ENHANCE_YOUR_CALM).

    A malformed request (`gethy.messages`: bad fields, pseudo-headers,
    connection-specific fields) costs only its own stream: RST_STREAM with
    PROTOCOL_ERROR (RFC 9113 §8.1.1); the application never sees it.

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
        config = H2Configuration(
            client_side=False,
            # gethy checks headers itself: requests in `gethy.messages`, so that a
            # malformed one costs only its stream; responses in `_header_list`.
            validate_inbound_headers=False,
            validate_outbound_headers=False,
            normalize_outbound_headers=False,
        )
        conn = StrictH2Connection(config)
        # Until the client acknowledges our SETTINGS it may rely on the defaults
        # (RFC 9113 §6.5.3, §6.9.3): a limit stricter than h2's starting values
        # goes in a second SETTINGS frame, which h2 applies on its ACK.
        settings = {
            SettingCodes.MAX_CONCURRENT_STREAMS: max_concurrent_streams,
            SettingCodes.MAX_HEADER_LIST_SIZE: max_header_list_size,
            SettingCodes.INITIAL_WINDOW_SIZE: initial_window_size,
        }
        starting = {key: conn.local_settings[key] for key in settings}
        stricter = {key: v for key, v in settings.items() if v < starting[key]}
        conn.local_settings = Settings(
            client=False, initial_values={k: max(v, starting[k]) for k, v in settings.items()}
        )
        conn.decoder.max_header_list_size = conn.local_settings.max_header_list_size
        # The server preface: our SETTINGS, first thing on the wire (RFC 9113 §3.4).
        conn.initiate_connection()
        if stricter:
            conn.update_settings(stricter)
        if initial_window_size > DEFAULT_INITIAL_WINDOW_SIZE:
            # SETTINGS only sizes stream windows; the connection window grows by WINDOW_UPDATE.
            conn.increment_flow_control_window(initial_window_size - DEFAULT_INITIAL_WINDOW_SIZE)
        self._conn = conn
        #: Grows whenever a request or response moves forward: request headers or
        #: body bytes arrive, a response starts, or queued response data leaves.
        #: PING, SETTINGS and WINDOW_UPDATE alone do not count, so a server can
        #: close connections whose streams are stuck (the asyncio server does).
        self.progress = 0
        #: How many streams the client has reset (RST_STREAM) on this connection.
        self.resets_received = 0
        self._requests: dict[int, _Request] = {}
        self._request_bytes = 0  # body bytes in self._requests, all streams together
        self._sending: dict[int, _Sending] = {}
        self._outbound = OutboundBuffer()
        self._terminated = False
        self._last_stream_id: int | None = None  # set once we sent a graceful GOAWAY
        self._extra_output = b""  # bytes made outside h2 (the graceful GOAWAY)
        self._handlers: dict[type, Callable[[h2.events.Event, list[H2Event]], None]] = {
            h2.events.RequestReceived: self._request_received,
            h2.events.DataReceived: self._data_received,
            h2.events.TrailersReceived: self._trailers_received,
            h2.events.StreamEnded: self._stream_ended,
            h2.events.StreamReset: self._stream_reset,
            h2.events.ConnectionTerminated: self._connection_terminated,
            h2.events.SettingsAcknowledged: self._settings_acknowledged,
        }

    # ------------------------------------------------------------------ receive

    def receive(self, data: bytes) -> list[H2Event]:
        """Feed bytes from the client; return the events the application must handle.

        Never raises for anything the client sends: a protocol violation
        returns a `ConnectionTerminatedEvent` and queues a GOAWAY. After that
        event, write `data_to_send()` and close; later calls return [].
        """
        if self._terminated:
            return []
        if self.recorder is not None:
            self.recorder.record_bytes("in", data, self)
        try:
            h2_events = self._conn.receive_data(data)
        except ProtocolError as exc:
            terminated = self._protocol_error(exc, data)
            if self.recorder is not None:
                self.recorder.record_windows(self)
            return [terminated]
        events: list[H2Event] = []
        handlers = self._handlers
        for h2_event in h2_events:
            handler = handlers.get(type(h2_event))
            if handler is not None:
                handler(h2_event, events)
                if self._terminated:
                    break
        if self.recorder is not None:
            self.recorder.record_windows(self)
        return events

    def _request_received(self, event: h2.events.Event, events: list[H2Event]) -> None:
        assert isinstance(event, h2.events.RequestReceived)
        stream_id = event.stream_id
        self.progress += 1
        if self._last_stream_id is not None and stream_id > self._last_stream_id:
            # Opened after our GOAWAY: refused, so the client may safely retry it (§8.7).
            if self._h2_stream_open(stream_id):
                self._conn.reset_stream(stream_id, ErrorCodes.REFUSED_STREAM)
            return
        headers = _decode_fields(event.headers)
        if request_problem(headers) is not None:
            self._refuse_malformed(stream_id)
            return
        self._sending[stream_id] = _Sending.NOT_STARTED
        self._requests[stream_id] = _Request(headers)
        declared = _content_length(headers)
        if declared is not None and declared > self.max_body_size:
            self._reject(stream_id, 413, f"request body larger than {self.max_body_size} bytes")

    def _data_received(self, event: h2.events.Event, events: list[H2Event]) -> None:
        assert isinstance(event, h2.events.DataReceived)
        stream_id = event.stream_id
        # Hand the window back at once, padding included (§6.9.1): the body is
        # buffered here, and the two limits bound how much can pile up.
        self._conn.acknowledge_received_data(event.flow_controlled_length, stream_id)
        request = self._requests.get(stream_id)
        if request is None or not event.data:
            return  # a stream we already answered with 413 or 503: its data is dropped
        self.progress += 1
        request.chunks.append(event.data)
        request.size += len(event.data)
        self._request_bytes += len(event.data)
        if request.size > self.max_body_size:
            self._reject(stream_id, 413, f"request body larger than {self.max_body_size} bytes")
        elif self._request_bytes > self.max_request_buffer:
            self._reject(stream_id, 503, "too many request bytes buffered here; try again later")

    def _trailers_received(self, event: h2.events.Event, events: list[H2Event]) -> None:
        assert isinstance(event, h2.events.TrailersReceived)
        request = self._requests.get(event.stream_id)
        if request is not None:
            request.trailers = _decode_fields(event.headers)
            if trailers_problem(request.trailers) is not None:
                self._forget_request(event.stream_id)
                self._sending.pop(event.stream_id, None)
                self._refuse_malformed(event.stream_id)

    def _stream_ended(self, event: h2.events.Event, events: list[H2Event]) -> None:
        assert isinstance(event, h2.events.StreamEnded)
        request = self._forget_request(event.stream_id)
        if request is None:
            return
        body = b"".join(request.chunks)
        stream = Stream(event.stream_id, request.headers, body, request.trailers)
        events.append(RequestEvent(stream))

    def _stream_reset(self, event: h2.events.Event, events: list[H2Event]) -> None:
        assert isinstance(event, h2.events.StreamReset)
        stream_id = event.stream_id
        self.resets_received += 1
        known = stream_id in self._sending or stream_id in self._requests
        self._forget_request(stream_id)
        self._sending.pop(stream_id, None)
        known = self._drop_output(stream_id) or known
        for i, earlier in enumerate(events):
            if isinstance(earlier, RequestEvent) and earlier.stream.stream_id == stream_id:
                # Completed and reset in the same bytes: the application never sees it.
                del events[i]
                return
        if known:
            events.append(StreamResetEvent(stream_id, event.error_code))

    def _settings_acknowledged(self, event: h2.events.Event, events: list[H2Event]) -> None:
        assert isinstance(event, h2.events.SettingsAcknowledged)
        if SettingCodes.INITIAL_WINDOW_SIZE in event.changed_settings:
            # A smaller window now binds, and h2 may be sitting on data we have
            # acknowledged but not yet handed back (it waits for half a window).
            # Let it recheck, or a client with no window left would wait forever.
            for stream_id in list(self._requests):
                self._conn.acknowledge_received_data(0, stream_id)

    def _connection_terminated(self, event: h2.events.Event, events: list[H2Event]) -> None:
        assert isinstance(event, h2.events.ConnectionTerminated)
        self._end_everything()
        reason = "the client sent GOAWAY"
        if event.additional_data:
            reason += f": {event.additional_data!r}"
        events.append(
            ConnectionTerminatedEvent(
                error_code=event.error_code,
                last_stream_id=event.last_stream_id or 0,
                reason=reason,
                by_peer=True,
            )
        )

    def _protocol_error(self, exc: ProtocolError, data: bytes) -> ConnectionTerminatedEvent:
        """The client broke the protocol: queue GOAWAY and report why."""
        error_code = getattr(exc, "error_code", ErrorCodes.PROTOCOL_ERROR)
        if self._conn.state_machine.state is not ConnectionState.CLOSED:
            # h2 queues GOAWAY itself for errors inside frames, but not for a
            # bad connection preface: do it here.
            self._conn.close_connection(error_code=error_code)
        reason = str(exc) or type(exc).__name__
        if looks_like_http1(data):
            reason += " (this looks like an HTTP/1.1 request; this server speaks HTTP/2)"
        self._end_everything()
        return ConnectionTerminatedEvent(
            error_code=error_code,
            last_stream_id=self._conn.goaway_last_stream_id,
            reason=reason,
            by_peer=False,
        )

    def _end_everything(self) -> None:
        self._terminated = True
        self._requests.clear()
        self._request_bytes = 0
        self._sending.clear()
        self._outbound.clear()

    def _refuse_malformed(self, stream_id: int) -> None:
        """A malformed request is a stream error (RFC 9113 §8.1.1): RST_STREAM, not GOAWAY."""
        if self._h2_stream_open(stream_id):
            self._conn.reset_stream(stream_id, ErrorCodes.PROTOCOL_ERROR)

    def _h2_stream_open(self, stream_id: int) -> bool:
        """Whether h2 still has the stream open for sending.

        h2 handles every frame of one `receive` before we see its events, so a
        stream we are about to answer may already be closed (a RST_STREAM later
        in the same bytes), or even forgotten (a newer stream opened after it).
        """
        stream = self._conn.streams.get(stream_id)
        return stream is not None and not stream.closed

    def _forget_request(self, stream_id: int) -> _Request | None:
        request = self._requests.pop(stream_id, None)
        if request is not None:
            self._request_bytes -= request.size
        return request

    def _reject(self, stream_id: int, status: int, why: str) -> None:
        """Answer before the body is in, and ask the client to stop sending (RFC 9113 §8.1)."""
        self._forget_request(stream_id)
        if self._sending.pop(stream_id, None) is not _Sending.NOT_STARTED:
            return  # the application answered early: only stop buffering the body
        if not self._h2_stream_open(stream_id):
            return  # the client reset it in the same bytes: nothing left to answer
        body = f"{why}\n".encode()
        headers = [("content-type", "text/plain"), ("content-length", str(len(body)))]
        self._conn.send_headers(stream_id, [(":status", str(status)), *headers])
        self._outbound.push(stream_id, body, end_stream=True, reset_after_end=ErrorCodes.NO_ERROR)

    # --------------------------------------------------------------------- send

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

        ``content-length`` is added when the headers lack it (not on 1xx, 204,
        304). The body leaves as the client's flow-control windows allow; call
        `data_to_send()`.
        """
        if status < 200:
            raise SendError("a 1xx response is informational: send it with send_headers()")
        header_list = _header_list(headers)
        trailer_list = _header_list(trailers) if trailers is not None else None  # checked first
        # RFC 9110 §8.6: no content-length on 1xx, 204 and (unless the app says so) 304.
        may_have_length = status >= 200 and status not in (204, 304)
        if may_have_length and not any(name == "content-length" for name, _ in header_list):
            header_list.append(("content-length", str(len(body))))
        if not body and trailers is None:
            self._send_headers(stream_id, status, header_list, end_stream=True)
            return
        self._send_headers(stream_id, status, header_list, end_stream=False)
        conn = self._conn
        if (
            trailers is None
            and not self._outbound  # never overtake responses waiting for window
            and len(body) <= conn.max_outbound_frame_size
            and len(body) <= conn.local_flow_control_window(stream_id)
        ):
            # The common small response: one DATA frame fits now; skip the queue.
            conn.send_data(stream_id, body, end_stream=True)
            del self._sending[stream_id]
            return
        if trailer_list is None:
            self.send_data(stream_id, body, end_stream=True)
        else:
            self.send_data(stream_id, body)
            self.send_trailers(stream_id, trailer_list)

    def send_headers(
        self, stream_id: int, status: int, headers: HeaderInput = (), *, end_stream: bool = False
    ) -> None:
        """Start a streamed response: the HEADERS frame with ``:status`` (RFC 9113 §8.3.2)."""
        self._send_headers(stream_id, status, _header_list(headers), end_stream=end_stream)

    def _send_headers(
        self, stream_id: int, status: int, header_list: list[tuple[str, str]], end_stream: bool
    ) -> None:
        if self._sending.get(stream_id) is not _Sending.NOT_STARTED:
            raise SendError(self._why_not(stream_id, "send response headers on"))
        if not 100 <= status <= 599:
            raise SendError(f"{status} is not an HTTP status code (RFC 9110 §15)")
        informational = status < 200  # 1xx: interim, the final response follows (§8.1)
        if informational and end_stream:
            raise SendError("a 1xx response cannot end the stream: the final response follows")
        self.progress += 1
        try:
            self._conn.send_headers(
                stream_id, [(":status", str(status)), *header_list], end_stream=end_stream
            )
        except ProtocolError as exc:
            raise SendError(
                f"h2 refused the response headers of stream {stream_id}: {exc}"
            ) from exc
        if end_stream:
            del self._sending[stream_id]
        elif not informational:
            self._sending[stream_id] = _Sending.HEADERS_SENT

    def send_data(self, stream_id: int, data: bytes, *, end_stream: bool = False) -> None:
        """Queue a piece of the response body; `end_stream` makes it the last."""
        self._check_body_allowed(stream_id, "send data on")
        self._outbound.push(stream_id, data, end_stream=end_stream)
        if end_stream:
            del self._sending[stream_id]

    def send_trailers(self, stream_id: int, trailers: HeaderInput) -> None:
        """End the response with trailing headers (RFC 9113 §8.1), after the body."""
        self._check_body_allowed(stream_id, "send trailers on")
        trailer_list = _header_list(trailers)
        self._outbound.push(stream_id, end_stream=True, trailers=tuple(trailer_list))
        del self._sending[stream_id]

    def end_stream(self, stream_id: int) -> None:
        """End a streamed response with no more data (END_STREAM)."""
        self.send_data(stream_id, b"", end_stream=True)

    def _check_body_allowed(self, stream_id: int, action: str) -> None:
        if self._sending.get(stream_id) is not _Sending.HEADERS_SENT:
            raise SendError(self._why_not(stream_id, action))

    def _why_not(self, stream_id: int, action: str) -> str:
        state = self._sending.get(stream_id)
        if state is _Sending.NOT_STARTED:
            return f"cannot {action} stream {stream_id}: send its response headers first"
        if state is _Sending.HEADERS_SENT:
            return f"cannot {action} stream {stream_id}: its response headers were already sent"
        if self._terminated:
            return f"cannot {action} stream {stream_id}: the connection is terminated"
        return (
            f"cannot {action} stream {stream_id}: it is not open for a response "
            "(never opened by the client, reset by the client, or its response already ended)"
        )

    def reset_stream(self, stream_id: int, error_code: ErrorCodes = ErrorCodes.CANCEL) -> None:
        """Abandon a stream with RST_STREAM (RFC 9113 §6.4): its unsent output is dropped."""
        if self._terminated:
            return
        self._forget_request(stream_id)
        self._sending.pop(stream_id, None)
        self._drop_output(stream_id)
        try:
            self._conn.reset_stream(stream_id, error_code)
        except ProtocolError as exc:
            raise SendError(f"cannot reset stream {stream_id}: {exc}") from exc

    def _drop_output(self, stream_id: int) -> bool:
        queued = stream_id in self._outbound
        self._outbound.drop(stream_id)
        return queued

    def close(
        self, error_code: ErrorCodes = ErrorCodes.NO_ERROR, *, graceful: bool | None = None
    ) -> None:
        """Begin shutting the connection down with GOAWAY (RFC 9113 §6.8).

        Graceful by default with NO_ERROR: streams already opened are answered
        as usual, newer ones are refused; wait until `active_streams` is 0,
        then close the transport. Any other code, or ``graceful=False``, ends
        the connection at once.
        """
        if self._terminated:
            return
        if graceful is None:
            graceful = error_code == ErrorCodes.NO_ERROR
        if not graceful:
            self._conn.close_connection(error_code=error_code, last_stream_id=self._last_stream_id)
            self._end_everything()
            return
        if self._last_stream_id is not None:
            return
        # h2's close_connection() would stop every stream at once, so the
        # graceful GOAWAY is built here and sent after h2's own bytes.
        self._last_stream_id = self._conn.highest_inbound_stream_id
        self._conn.last_stream_id_cap = self._last_stream_id  # a later GOAWAY never says more
        goaway = GoAwayFrame(0)
        goaway.last_stream_id = self._last_stream_id
        goaway.error_code = ErrorCodes.NO_ERROR
        # Whatever h2 queued before goes first, then the GOAWAY, then anything later.
        self._extra_output += self._conn.data_to_send() + goaway.serialize()

    # ------------------------------------------------------------------- output

    def data_to_send(self) -> bytes:
        """The bytes to write now: everything queued since the last call.

        Response data leaves the outbound buffer here, as far as the windows
        allow; the rest stays buffered until a later `receive` opens them.
        """
        if not self._terminated and self._outbound:
            before = self._outbound.total()
            if self._outbound.flush(self._conn) or self._outbound.total() < before:
                self.progress += 1
        data = self._conn.data_to_send()
        if self._extra_output:
            data = self._extra_output + data
            self._extra_output = b""
        if self.recorder is not None:
            self.recorder.record_bytes("out", data, self)
            self.recorder.record_windows(self)
        return data

    # --------------------------------------------------------- what you can see

    @property
    def h2_connection(self) -> H2Connection:
        """The underlying h2 connection, for looking inside (not for sending)."""
        return self._conn

    @property
    def terminated(self) -> bool:
        """True once GOAWAY was received, or sent for a protocol error or by ``close(error)``."""
        return self._terminated

    @property
    def closing(self) -> bool:
        """True once `close()` sent a graceful GOAWAY."""
        return self._last_stream_id is not None

    @property
    def active_streams(self) -> int:
        """Streams whose request is still arriving or whose response is unfinished."""
        return len(self._sending.keys() | self._requests.keys() | self._outbound.stream_ids())

    def buffered(self, stream_id: int | None = None) -> int:
        """Response bytes waiting for window, on one stream or on all of them."""
        if stream_id is None:
            return self._outbound.total()
        return self._outbound.pending(stream_id)

    def send_window(self, stream_id: int = 0) -> int:
        """How many DATA bytes we may still send: on the connection (0) or one stream.

        Can be negative after the client lowers SETTINGS_INITIAL_WINDOW_SIZE
        (RFC 9113 §6.9.2). Raises KeyError for a stream h2 no longer tracks.
        """
        if stream_id == 0:
            return self._conn.outbound_flow_control_window
        return self._conn.streams[stream_id].outbound_flow_control_window

    def receive_window(self, stream_id: int = 0) -> int:
        """How many DATA bytes the client may still send us, on the connection (0) or a stream."""
        if stream_id == 0:
            return self._conn.inbound_flow_control_window
        return self._conn.streams[stream_id].inbound_flow_control_window

    def windows(self) -> dict[tuple[str, int], int]:
        """Every current window: ``{("send" | "receive", stream_id): size}``, 0 = connection."""
        conn = self._conn
        result = {
            ("send", 0): conn.outbound_flow_control_window,
            ("receive", 0): conn.inbound_flow_control_window,
        }
        for stream_id, stream in conn.streams.items():
            if not stream.closed:
                result["send", stream_id] = stream.outbound_flow_control_window
                result["receive", stream_id] = stream.inbound_flow_control_window
        return result

    def stream_is_open(self, stream_id: int) -> bool:
        """True while the stream can still carry our response.

        That is: the client has not reset it, and our response on it has not ended.
        """
        stream = self._conn.streams.get(stream_id)
        return stream is not None and not stream.closed


_FIELD_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9a-z]+")  # a token, lower case (RFC 9113 §8.2)


def _header_list(headers: HeaderInput) -> list[tuple[str, str]]:
    """Application headers or trailers as HTTP/2 wants them, checked once.

    h2's own outbound checks are switched off because `_checked_field`
    replaces them.
    """
    items = headers.items() if isinstance(headers, Mapping) else headers
    return [_checked_field(str(name), str(value)) for name, value in items]


@functools.lru_cache(maxsize=4096)
def _checked_field(name: str, value: str) -> tuple[str, str]:
    """One field, lower-cased and checked (cached: responses repeat their fields).

    Names are lower-cased (RFC 9113 §8.2.1). A name that is not a token, a
    pseudo-header (gethy sets ``:status`` itself, and trailers never carry
    one, §8.1), a connection-specific field (§8.2.2), or a value with CR, LF,
    NUL or surrounding white space is the application's mistake: SendError.
    """
    name = name.lower()
    if name.startswith(":"):
        raise SendError(f"{name!r}: gethy sets the response pseudo-headers itself (§8.3.2)")
    if not _FIELD_NAME.fullmatch(name):
        raise SendError(f"invalid header name {name!r} (RFC 9113 §8.2.1)")
    problem = field_problem(name, value)  # the same rules as for requests
    if problem is not None:
        raise SendError(f"invalid header {name!r}: {problem}")
    return name, value


def _decode_fields(fields: Iterable[tuple[bytes, bytes]]) -> Headers:
    """Header fields from h2 (bytes) as text.

    Values are UTF-8 when they are valid UTF-8, else ISO-8859-1: RFC 9110
    §5.5 still allows bytes 0x80-0xFF ("obs-text"), and a request carrying
    them is not an error. Names are tokens, so ASCII (h2 checked them).
    """
    result = []
    for name, value in fields:
        try:
            text = value.decode()
        except UnicodeDecodeError:
            text = value.decode("latin-1")
        result.append((name.decode("latin-1"), text))
    return tuple(result)


def _content_length(headers: Headers) -> int | None:
    for name, value in headers:
        if name == "content-length":
            return int(value) if value.isascii() and value.isdigit() else None  # 1*DIGIT
    return None
