"""`ValidatingProtocol`: bad input answered on the wire, bad calls refused with `SendError`.

Not built in one notebook: notebook 08 (errors and attacks) shows why each
piece is here. It is the first layer of hardening over `gethy.core.CoreProtocol`
(`HTTP2Protocol` adds limits and graceful close on top). Each block names its
RFC section (RFC 9113 unless said otherwise) and the test that requires it:

* **h2's answers to bad input corrected** (`gethy.strict_h2`), and a broken
  protocol answered with GOAWAY and a `ConnectionTerminatedEvent`, never an
  exception (§5.4.1): ``tests/test_conformance.py``, the "errors" checks.
* **A malformed request costs only its stream** (§8.1.1): h2's own header
  checks would GOAWAY, so they are off and `gethy.messages` judges each request
  and its trailers: ``test_malformed_request_is_a_stream_error``.
* **Header values that are not UTF-8** still arrive (RFC 9110 §5.5 obs-text):
  ``test_non_utf8_header_value_is_accepted``.
* **A request reset in the bytes that completed it** never reaches the
  application, in one pass however many there are (rapid reset,
  CVE-2023-44487): ``test_request_completed_and_reset_in_one_read``.
* **The application's mistakes** are `SendError`s: a status outside 100-599
  (RFC 9110 §15), a 1xx ending the stream (§8.1), a bad field (§8.2), anything
  on a terminated connection: ``test_application_misuse_is_a_send_error_*``.
* **HEAD responses carry no content** (RFC 9110 §9.3.2) and no made-up
  content-length (RFC 9110 §8.6): ``test_head_*``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import h2.events
from h2.config import H2Configuration
from h2.connection import ConnectionState, H2Connection
from h2.errors import ErrorCodes
from h2.exceptions import ProtocolError

from gethy.core import CoreProtocol, Fields, Phase, StreamState, with_content_length
from gethy.errors import SendError
from gethy.events import ConnectionTerminatedEvent, H2Event, RequestEvent, StreamResetEvent
from gethy.fields import decode_fields, header_list
from gethy.messages import request_problem, trailers_problem
from gethy.sniff import looks_like_http1
from gethy.stream import Headers
from gethy.strict_h2 import StrictH2Connection

HeaderInput = Iterable[tuple[str, str]] | Mapping[str, str]


class ValidatingProtocol(CoreProtocol):
    """`CoreProtocol` that answers bad input on the wire and refuses bad calls."""

    connection_class: type[H2Connection] = StrictH2Connection

    def __init__(self) -> None:
        self._terminated = False
        self._heads: set[int] = set()  # HEAD requests: their responses carry no content
        super().__init__()

    def _h2_config(self) -> H2Configuration:
        return H2Configuration(
            client_side=False,
            # Requests are judged by gethy.messages, so that a malformed one costs
            # only its stream (§8.1.1); responses by gethy.fields.header_list.
            validate_inbound_headers=False,
            validate_outbound_headers=False,
            normalize_outbound_headers=False,
        )

    # ------------------------------------------------------------------ receive

    def receive(self, data: bytes) -> list[H2Event]:
        """Feed bytes from the client; return the events the application must handle.

        Never raises for anything the client sends: a protocol violation
        returns a `ConnectionTerminatedEvent` and queues a GOAWAY. After that
        event, write `data_to_send()` and close; later calls return [].
        """
        if self._terminated:
            return []
        try:
            return _without_requests_reset_at_once(super().receive(data))
        except ProtocolError as exc:
            return [self._protocol_error(exc, data)]

    def _handle_event(self, event: h2.events.Event) -> list[H2Event]:
        if self._terminated:
            return []  # the rest of the bytes came after the end
        if isinstance(event, h2.events.ConnectionTerminated):
            return self._connection_terminated(event)
        return super()._handle_event(event)

    def _fields(self, fields: Iterable[tuple[bytes, bytes]]) -> Headers:  # type: ignore[override]
        return decode_fields(fields)  # bytes from h2: its header_encoding is off

    def _request_headers_received(self, event: h2.events.RequestReceived) -> list[H2Event]:
        events = super()._request_headers_received(event)
        stream = self.streams[event.stream_id]
        if request_problem(stream.headers) is not None:
            self._refuse_malformed(event.stream_id)
            return []
        if (":method", "HEAD") in stream.headers:
            self._heads.add(event.stream_id)
        return events

    def _trailers_received(self, event: h2.events.TrailersReceived) -> list[H2Event]:
        events = super()._trailers_received(event)
        stream = self.streams.get(event.stream_id)
        if events and stream is not None and trailers_problem(stream.trailers or ()):
            self._refuse_malformed(event.stream_id)
            return []
        return events

    def _forget(self, stream_id: int) -> bool:
        self._heads.discard(stream_id)
        return super()._forget(stream_id)

    def _refuse_malformed(self, stream_id: int) -> None:
        """A malformed request is a stream error (§8.1.1): RST_STREAM, not GOAWAY."""
        self._forget(stream_id)
        self._reset_if_open(stream_id, ErrorCodes.PROTOCOL_ERROR)

    def _protocol_error(self, exc: ProtocolError, data: bytes) -> ConnectionTerminatedEvent:
        """The client broke the protocol: queue GOAWAY (§5.4.1) and report why."""
        conn = self.http2_connection
        error_code = getattr(exc, "error_code", ErrorCodes.PROTOCOL_ERROR)
        if conn.state_machine.state is not ConnectionState.CLOSED:
            # h2 queues GOAWAY itself for errors inside frames, not for a bad preface.
            conn.close_connection(error_code=error_code)
        reason = str(exc) or type(exc).__name__
        if looks_like_http1(data):
            reason += " (this looks like an HTTP/1.1 request; this server speaks HTTP/2)"
        self._end_everything()
        last_stream_id = conn.goaway_last_stream_id  # type: ignore[attr-defined]
        return ConnectionTerminatedEvent(error_code, last_stream_id, reason, by_peer=False)

    def _connection_terminated(self, event: h2.events.ConnectionTerminated) -> list[H2Event]:
        """The client sent GOAWAY (§6.8): the connection is over."""
        self._end_everything()
        return [goaway_received(event)]

    def _end_everything(self) -> None:
        self._terminated = True
        for stream_id in list(self.streams):
            self._forget(stream_id)
        self.outbound.queues.clear()

    def _reset_if_open(self, stream_id: int, error_code: ErrorCodes) -> None:
        if self._h2_stream_open(stream_id):
            self.http2_connection.reset_stream(stream_id, error_code)

    def _h2_stream_open(self, stream_id: int) -> bool:
        """Whether h2 still has the stream open for sending.

        h2 handles every frame of one `receive` before we see its events, so a
        stream we are about to answer may already be closed (a RST_STREAM later
        in the same bytes), or even forgotten (a newer stream opened after it).
        """
        stream = self.http2_connection.streams.get(stream_id)
        return stream is not None and not stream.closed

    # --------------------------------------------------------------------- send

    def _expect(self, stream_id: int, phase: Phase, action: str) -> StreamState:
        if self._terminated:
            raise SendError(f"cannot {action} stream {stream_id}: the connection is terminated")
        return super()._expect(stream_id, phase, action)

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
        304: RFC 9110 §8.6). A HEAD request's response carries no content
        (RFC 9110 §9.3.2): give the body a GET would get and only its length
        is sent; give none and no length is made up. The body leaves as the
        client's windows allow; call `data_to_send()`.
        """
        if status < 200:
            raise SendError("a 1xx response is informational: send it with send_headers()")
        fields = header_list(headers)
        trailer_fields = header_list(trailers) if trailers is not None else None  # checked first
        if stream_id in self._heads:
            fields = with_content_length(status, fields, body) if body else fields
            self.send_headers(stream_id, status, fields, end_stream=True)
            return
        super().send(stream_id, status, fields, body, trailers=trailer_fields)

    def send_headers(
        self, stream_id: int, status: int, headers: HeaderInput = (), *, end_stream: bool = False
    ) -> None:
        """Start a response: the HEADERS frame with ``:status`` (§8.3.2)."""
        if not 100 <= status <= 599:
            raise SendError(f"{status} is not an HTTP status code (RFC 9110 §15)")
        if status < 200 and end_stream:
            raise SendError("a 1xx response cannot end the stream: the final response follows")
        fields = header_list(headers)
        try:
            super().send_headers(stream_id, status, fields, end_stream=end_stream)
        except ProtocolError as exc:
            why = f"h2 refused the response headers of stream {stream_id}: {exc}"
            raise SendError(why) from exc

    def send_data(self, stream_id: int, data: bytes, *, end_stream: bool = False) -> None:
        """Queue a piece of the response body; `end_stream` makes it the last."""
        if stream_id in self._heads:
            data = b""  # a HEAD response has no content (RFC 9110 §9.3.2)
        super().send_data(stream_id, data, end_stream=end_stream)

    def send_trailers(self, stream_id: int, trailers: Fields) -> None:
        """End the response with trailing fields (§8.1), after the body."""
        super().send_trailers(stream_id, header_list(trailers))

    def reset_stream(self, stream_id: int, error_code: ErrorCodes = ErrorCodes.CANCEL) -> None:
        """Abandon a stream with RST_STREAM (§6.4): its unsent output is dropped."""
        if not self._terminated:
            super().reset_stream(stream_id, error_code)

    def data_to_send(self) -> bytes:
        """The bytes to write now (after termination: only the GOAWAY and what preceded it)."""
        if self._terminated:
            self.outbound.collected()
            return self.http2_connection.data_to_send()
        return super().data_to_send()

    @property
    def terminated(self) -> bool:
        """True once the connection is over: a GOAWAY for an error, sent or received."""
        return self._terminated

    def stream_is_open(self, stream_id: int) -> bool:
        """True while the stream can still carry our response (not reset, not ended)."""
        stream = self.streams.get(stream_id)
        return not self._terminated and stream is not None and stream.phase is not Phase.ENDED


def goaway_received(event: h2.events.ConnectionTerminated) -> ConnectionTerminatedEvent:
    """The application's event for h2's: the client sent GOAWAY."""
    reason = "the client sent GOAWAY"
    if event.additional_data:
        reason += f": {event.additional_data!r}"
    last = event.last_stream_id or 0
    return ConnectionTerminatedEvent(event.error_code, last, reason, by_peer=True)


def _without_requests_reset_at_once(events: list[H2Event]) -> list[H2Event]:
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
    if type(event) is RequestEvent:
        return event.stream.stream_id
    return event.stream_id if type(event) is StreamResetEvent else None
