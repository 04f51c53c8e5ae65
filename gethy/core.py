"""`CoreProtocol`: the server side of HTTP/2 that notebooks 03 and 04 build.

Built in notebooks 03 (receive) and 04 (send); priorities in 06 (multiplexing).
This is the learner's class, finished: the same names, the same steps.
`gethy.HTTP2Protocol` subclasses it and adds the hardening a real server needs
(limits, bad input, graceful close).

"Sans-IO": the class never touches a socket. Bytes go in with `receive`, which
returns events for the application; answers go in with `send` (or
`send_headers`, `send_data`, `send_trailers`); every byte to write comes out
of one door, `data_to_send()`, to be called after each of those calls.

h2 does the frame work (parsing, HPACK, stream states). This class adds what
h2 leaves to its user, and what the original gethy articles missed:

* the server connection preface: our SETTINGS, queued at construction (§3.4);
* each request handed over whole, the moment its stream ends (§8.1);
* every DATA frame acknowledged by its flow-controlled length, padding
  included (§6.1), so request bodies of any size arrive (§6.9);
* response bodies sent as the client's windows allow, fairly across streams
  (§5.2, §6.9), through the outbound buffer (`gethy.outbound`);
* response data scheduled by the priority each request asked for (RFC 9218,
  `gethy.scheduler`: notebook 06), round robin when it asked for none;
* one record per stream (`StreamState`) with an explicit `Phase`, and one
  place that forgets a stream (`_forget`), on reset or once its response left.

Section numbers are RFC 9113's unless said otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum

import h2.events
from h2.config import H2Configuration
from h2.connection import H2Connection
from h2.errors import ErrorCodes
from h2.exceptions import ProtocolError

from gethy.errors import SendError
from gethy.events import H2Event, RequestEvent, StreamResetEvent
from gethy.outbound import Flushed
from gethy.priority import request_priority
from gethy.scheduler import PriorityOutbound
from gethy.stream import Headers, Stream

Fields = Iterable[tuple[str, str]]

#: A body piece shorter than this takes the next DATA frame's bytes into itself:
#: a client sending 1-byte frames would otherwise cost ~70 bytes per body byte.
SMALL_PIECE = 1024


class Phase(Enum):
    """Where one stream is, seen from the server (§5.1 stream states, §8.1 messages)."""

    RECEIVING = "request arriving"  # HEADERS came; body pieces or trailers may follow
    RESPONSE_NOT_STARTED = "response not started"  # request complete, handed to the application
    HEADERS_SENT = "headers sent"  # response HEADERS sent; body and trailers may follow
    ENDED = "response ended"  # END_STREAM queued; the response is still leaving


#: Why a call that needs another phase is refused, in the application's words.
_NOT_NOW = {
    Phase.RECEIVING: "its request is still arriving",
    Phase.RESPONSE_NOT_STARTED: "send its response headers first",
    Phase.HEADERS_SENT: "its response headers were already sent",
    Phase.ENDED: "its response already ended",
}


@dataclass(eq=False)
class StreamState:
    """Everything we hold for one stream, from its request's HEADERS until we forget it."""

    stream_id: int
    headers: Headers
    phase: Phase = Phase.RECEIVING
    buffered_data: list[bytes] = field(default_factory=list)  # the body so far...
    received: int = 0  # ...and its length
    trailers: Headers | None = None


def with_content_length(status: int, headers: Fields, body: bytes) -> list[tuple[str, str]]:
    """`headers`, plus content-length where RFC 9110 §8.6 allows it and it is missing.

    Never on 1xx or 204 (RFC 9110 §8.6), nor on 304, where it would have to
    equal the length of a 200 response we do not know. A list that needs
    nothing added comes back as it is; one that does keeps its type.
    """
    fields = headers if isinstance(headers, list) else list(headers)
    if status < 200 or status in (204, 304):
        return fields
    for name, _ in fields:
        if name == "content-length":
            return fields
    return type(fields)([*fields, ("content-length", str(len(body)))])


class CoreProtocol:
    """The server side of one HTTP/2 connection, receive and send, without any I/O."""

    #: The h2 connection class underneath (a subclass may correct h2: `gethy.strict_h2`).
    connection_class: type[H2Connection] = H2Connection

    def __init__(self) -> None:
        self.http2_connection = self._new_connection()
        self.http2_connection.initiate_connection()  # the server preface: SETTINGS first (§3.4)
        self.streams: dict[int, StreamState] = {}
        self.outbound = PriorityOutbound(self.http2_connection)

    def _new_connection(self) -> H2Connection:
        """The h2 connection underneath: server side, header fields as text."""
        return self.connection_class(self._h2_config())

    def _h2_config(self) -> H2Configuration:
        return H2Configuration(client_side=False, header_encoding="utf-8")

    # ------------------------------------------------------------------ receive

    def receive(self, data: bytes) -> list[H2Event]:
        """Feed the bytes a client sent; return what the application must act on."""
        events: list[H2Event] = []
        for event in self.http2_connection.receive_data(data):
            events += self._handle_event(event)
        return events

    def _handle_event(self, event: h2.events.Event) -> list[H2Event]:
        """Turn one h2 event into the events for the application (often none)."""
        if isinstance(event, h2.events.RequestReceived):  # a request's HEADERS frame
            return self._request_headers_received(event)
        if isinstance(event, h2.events.DataReceived):  # one DATA frame of its body
            return self._data_received(event)
        if isinstance(event, h2.events.TrailersReceived):  # HEADERS after the body (§8.1)
            return self._trailers_received(event)
        if isinstance(event, h2.events.StreamReset):  # RST_STREAM (§6.4)
            return self._stream_reset(event)
        return self._other_event(event)

    def _other_event(self, event: h2.events.Event) -> list[H2Event]:
        """SETTINGS, PING, WINDOW_UPDATE...: h2 has dealt with them; nothing to do here.

        Except the client's GOAWAY (§6.8): plain h2 then closes the connection and
        refuses every later frame, so nothing queued can leave. Forgetting every
        stream makes a later `send` a `SendError` and keeps `data_to_send()` from
        raising h2's ProtocolError. (`HTTP2Protocol` lets the open streams finish.)
        """
        if isinstance(event, h2.events.ConnectionTerminated):
            self._forget_all()
        return []

    def _forget_all(self) -> None:
        """Forget every stream: the connection will carry no more of their frames."""
        for stream_id in list(self.streams):
            self._forget(stream_id)

    def _fields(self, fields: Iterable[tuple[str, str]]) -> Headers:
        """Header fields as h2 gave them, frozen."""
        return tuple(fields)

    def _request_headers_received(self, event: h2.events.RequestReceived) -> list[H2Event]:
        stream = StreamState(event.stream_id, self._fields(event.headers))
        self.streams[event.stream_id] = stream
        self._prioritize(stream)
        return self._stream_ended(stream) if event.stream_ended else []

    def _prioritize(self, stream: StreamState) -> None:
        """Schedule the stream's response by the priority its request asked for (RFC 9218 §5)."""
        priority = request_priority(stream.headers)  # None if it asked for none
        if priority is not None:
            self.outbound.prioritize(stream.stream_id, priority)

    def _data_received(self, event: h2.events.DataReceived) -> list[H2Event]:
        # Hand the window back at once, padding included (§6.1): the body is kept here.
        conn = self.http2_connection
        conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
        stream = self.streams.get(event.stream_id)
        if stream is None or stream.phase is not Phase.RECEIVING:
            return []  # a stream we forgot or already answered: its data is dropped
        pieces = stream.buffered_data
        if pieces and len(pieces[-1]) < SMALL_PIECE:
            pieces[-1] += event.data  # tiny DATA frames pile up in one piece, not one each
        else:
            pieces.append(event.data)
        stream.received += len(event.data)
        return self._stream_ended(stream) if event.stream_ended else []

    def _trailers_received(self, event: h2.events.TrailersReceived) -> list[H2Event]:
        stream = self.streams.get(event.stream_id)
        if stream is None or stream.phase is not Phase.RECEIVING:
            return []
        stream.trailers = self._fields(event.headers)
        return self._stream_ended(stream)  # trailers always end the stream (§8.1)

    def _stream_ended(self, stream: StreamState) -> list[H2Event]:
        """The client ended its side: the request is complete; hand it over now."""
        stream.phase = Phase.RESPONSE_NOT_STARTED
        body = b"".join(stream.buffered_data)
        stream.buffered_data = []
        return [RequestEvent(Stream(stream.stream_id, stream.headers, body, stream.trailers))]

    def _stream_reset(self, event: h2.events.StreamReset) -> list[H2Event]:
        if self._forget(event.stream_id):
            return [StreamResetEvent(event.stream_id, event.error_code)]
        return []

    def _forget(self, stream_id: int) -> bool:
        """Drop all we hold for `stream_id`; True if we held anything."""
        self.outbound.drop(stream_id)  # never send its data now
        return self.streams.pop(stream_id, None) is not None

    # --------------------------------------------------------------------- send

    def _expect(self, stream_id: int, phase: Phase, action: str) -> StreamState:
        """The stream's record if its response is in `phase`; else SendError saying why."""
        stream = self.streams.get(stream_id)
        if stream is None:
            raise SendError(f"cannot {action} stream {stream_id}: {self._why_not_open()}")
        if stream.phase is not phase:
            raise SendError(f"cannot {action} stream {stream_id}: {_NOT_NOW[stream.phase]}")
        return stream

    def _why_not_open(self) -> str:
        return (
            "it is not open for a response "
            "(never opened by the client, reset, or its response already ended)"
        )

    def send_headers(
        self, stream_id: int, status: int, headers: Fields = (), *, end_stream: bool = False
    ) -> None:
        """The response's HEADERS frame: ``:status`` first (§8.3.2), then the fields."""
        stream = self._expect(stream_id, Phase.RESPONSE_NOT_STARTED, "send response headers on")
        self._send_headers(stream, status, headers, end_stream)

    def send_data(self, stream_id: int, data: bytes, *, end_stream: bool = False) -> None:
        """Queue body bytes; they leave in `data_to_send()`, as the windows allow."""
        stream = self._expect(stream_id, Phase.HEADERS_SENT, "send data on")
        self._send_body(stream, data, end_stream)

    def send_trailers(self, stream_id: int, trailers: Fields) -> None:
        """End the response with trailing fields, after the body (§8.1)."""
        stream = self._expect(stream_id, Phase.HEADERS_SENT, "send trailers on")
        self._send_body(stream, b"", True, tuple(trailers))

    def end_stream(self, stream_id: int) -> None:
        """End a streamed response with no more data (END_STREAM)."""
        self.send_data(stream_id, b"", end_stream=True)

    def send(
        self,
        stream_id: int,
        status: int,
        headers: Fields = (),
        body: bytes = b"",
        *,
        trailers: Fields | None = None,
    ) -> None:
        """A whole response: HEADERS, then the body, then maybe trailers (§8.1)."""
        stream = self._expect(stream_id, Phase.RESPONSE_NOT_STARTED, "send a response on")
        headers = with_content_length(status, headers, body)
        if not body and trailers is None:
            self._send_headers(stream, status, headers, end_stream=True)
            return
        self._send_headers(stream, status, headers, end_stream=False)
        self._send_body(stream, body, True, None if trailers is None else tuple(trailers))

    def _send_headers(
        self, stream: StreamState, status: int, headers: Fields, end_stream: bool
    ) -> None:
        fields = [(":status", str(status)), *headers]
        self.http2_connection.send_headers(stream.stream_id, fields, end_stream=end_stream)
        if end_stream:
            self._forget(stream.stream_id)  # the whole response is in h2: done
        elif status >= 200:  # a 1xx is interim: the final response still follows (§8.1)
            stream.phase = Phase.HEADERS_SENT

    def _send_body(
        self, stream: StreamState, data: bytes, end_stream: bool, trailers: Headers | None = None
    ) -> None:
        """Body bytes (then the end, maybe with trailers) into the outbound buffer."""
        sent = self.outbound.push(stream.stream_id, data, end_stream=end_stream, trailers=trailers)
        if end_stream:
            stream.phase = Phase.ENDED  # the response is still leaving...
            if sent:
                self._forget(stream.stream_id)  # ...or already gone into h2: done

    def reset_stream(self, stream_id: int, error_code: ErrorCodes = ErrorCodes.CANCEL) -> None:
        """Abandon a stream with RST_STREAM (§6.4): its unsent output is dropped."""
        self._forget(stream_id)
        try:
            self.http2_connection.reset_stream(stream_id, error_code)
        except ProtocolError as exc:
            raise SendError(f"cannot reset stream {stream_id}: {exc}") from exc

    # ------------------------------------------------------------------- output

    def data_to_send(self) -> bytes:
        """The bytes to write now: what the windows let out of the buffer, and h2's own."""
        self._flush()
        self.outbound.collected()
        return self.http2_connection.data_to_send()

    def _flush(self) -> Flushed:
        flushed = self.outbound.flush()
        for stream_id in flushed.finished:
            self._forget(stream_id)  # its whole response is in h2: done
        return flushed
