"""An in-memory client/server pair: h2's client wired to an `HTTP2Protocol`.

Not built in a notebook: the helper notebooks 03 and 04 run the learner's class in.

No sockets, no threads, no clock: `step()` carries the client's bytes to the
server and the server's bytes back, once each, in that order. Everything is
deterministic, so tests and notebooks can make requests, decide when the
client acknowledges data (and so when the server's send windows reopen), and
look inside both sides between any two steps.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import h2.events
from h2.config import H2Configuration
from h2.connection import H2Connection
from h2.errors import ErrorCodes
from h2.exceptions import ProtocolError
from h2.settings import SettingCodes

from gethy.events import H2Event, RequestEvent
from gethy.frames import Frame, FrameReader
from gethy.protocol import HTTP2Protocol
from gethy.stream import Stream

# What an application callable may return for a request:
# (status, headers, body) or (status, headers, body, trailers).
App = Callable[[Stream], tuple[Any, ...]]


@dataclass
class Response:
    """What the client has received on one stream so far."""

    stream_id: int
    status: int | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytearray = field(default_factory=bytearray)
    trailers: list[tuple[str, str]] | None = None
    ended: bool = False
    reset: ErrorCodes | int | None = None

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k == name), None)


class InMemoryPair:
    """A client (h2's `H2Connection`) and a server protocol, joined by two byte queues.

    `server` is any object with the `HTTP2Protocol` interface (the notebooks
    pass the learner's own class); `app`, if given, answers every request with
    ``server.send`` as soon as it arrives. With ``auto_ack=False`` the client
    holds back its WINDOW_UPDATEs until you call `ack`, like a slow reader.
    """

    def __init__(
        self,
        server: Any | None = None,
        *,
        app: App | None = None,
        auto_ack: bool = True,
        client_settings: dict[SettingCodes, int] | None = None,
    ) -> None:
        self.server = server if server is not None else HTTP2Protocol()
        self.app = app
        self.auto_ack = auto_ack
        config = H2Configuration(client_side=True, header_encoding="utf-8")
        self.client = H2Connection(config)
        self.client.initiate_connection()
        if client_settings:
            # A second SETTINGS frame right after the preface; h2 applies it
            # on our side once the server acknowledges it, as the RFC says (§6.5.3).
            self.client.update_settings(client_settings)
        self.server_events: list[H2Event] = []
        self.client_events: list[h2.events.Event] = []
        self.responses: dict[int, Response] = {}
        self.server_frames: list[Frame] = []  # every frame the server sent, decoded
        self.client_error: ProtocolError | None = None
        self.unacked: dict[int, int] = {}  # flow-controlled bytes the client has not acknowledged
        self.steps = 0
        self._server_reader = FrameReader()
        self._bodies: dict[int, deque[bytes]] = {}
        self._end_after_body: dict[int, Iterable[tuple[str, str]] | bool] = {}

    # -------------------------------------------------------------- the client

    def request(
        self,
        method: str = "GET",
        path: str = "/",
        headers: Iterable[tuple[str, str]] = (),
        body: bytes = b"",
        *,
        trailers: Iterable[tuple[str, str]] | None = None,
    ) -> int:
        """Start a request and return its stream id; the body is sent as windows allow."""
        stream_id = self.client.get_next_available_stream_id()
        request_headers = [
            (":method", method),
            (":path", path),
            (":scheme", "http"),
            (":authority", "localhost"),
            *headers,
        ]
        end_now = not body and trailers is None
        self.client.send_headers(stream_id, request_headers, end_stream=end_now)
        self.responses[stream_id] = Response(stream_id)
        if not end_now:
            self._bodies[stream_id] = deque([body] if body else [])
            self._end_after_body[stream_id] = list(trailers) if trailers is not None else True
        return stream_id

    def reset(self, stream_id: int, error_code: ErrorCodes = ErrorCodes.CANCEL) -> None:
        """The client cancels a stream (RST_STREAM)."""
        self._bodies.pop(stream_id, None)
        self._end_after_body.pop(stream_id, None)
        self.client.reset_stream(stream_id, error_code)

    def change_settings(self, changes: dict[SettingCodes, int]) -> None:
        """The client sends new SETTINGS (e.g. a smaller INITIAL_WINDOW_SIZE)."""
        self.client.update_settings(changes)

    def ack(self, stream_id: int | None = None, nbytes: int | None = None) -> int:
        """The client acknowledges received data (all streams, or up to `nbytes` of one)."""
        acked = 0
        for sid in [stream_id] if stream_id is not None else list(self.unacked):
            owed = self.unacked.get(sid, 0)
            n = owed if nbytes is None else min(nbytes, owed)
            if n:
                self.client.acknowledge_received_data(n, sid)
                self.unacked[sid] = owed - n
                acked += n
        return acked

    def _send_client_bodies(self) -> None:
        """Send request bodies as windows allow, a frame per stream in turn, as real clients do."""
        progress = True
        while progress and self._bodies:
            progress = False
            for stream_id in list(self._bodies):
                chunks = self._bodies[stream_id]
                if chunks:
                    window = self.client.local_flow_control_window(stream_id)
                    n = min(window, self.client.max_outbound_frame_size, len(chunks[0]))
                    if n <= 0:
                        continue
                    chunk = chunks.popleft()
                    if n < len(chunk):
                        chunks.appendleft(chunk[n:])
                    self.client.send_data(stream_id, chunk[:n])
                    progress = True
                if not chunks:
                    end = self._end_after_body.pop(stream_id)
                    del self._bodies[stream_id]
                    if end is True:
                        self.client.end_stream(stream_id)
                    else:
                        self.client.send_headers(stream_id, list(end), end_stream=True)

    def _client_received(self, events: list[h2.events.Event]) -> None:
        for event in events:
            self.client_events.append(event)
            stream_id = getattr(event, "stream_id", None)
            response = self.responses.get(stream_id) if stream_id else None
            if response is None:
                continue
            if isinstance(event, h2.events.ResponseReceived):
                response.headers = list(event.headers)  # type: ignore[arg-type]
                response.status = int(dict(response.headers)[":status"])
            elif isinstance(event, h2.events.DataReceived):
                response.body += event.data
                if self.auto_ack:
                    self.client.acknowledge_received_data(event.flow_controlled_length, stream_id)
                else:
                    self.unacked[stream_id] = (
                        self.unacked.get(stream_id, 0) + event.flow_controlled_length
                    )
            elif isinstance(event, h2.events.TrailersReceived):
                response.trailers = list(event.headers)  # type: ignore[arg-type]
            elif isinstance(event, h2.events.StreamEnded):
                response.ended = True
            elif isinstance(event, h2.events.StreamReset):
                response.reset = event.error_code
                self._bodies.pop(stream_id, None)
                self._end_after_body.pop(stream_id, None)

    # ------------------------------------------------------------ the stepping

    def step(self) -> int:
        """Client bytes to the server, then server bytes to the client. Returns bytes moved."""
        self.steps += 1
        if self.client_error is None:
            self._send_client_bodies()
        moved = 0
        to_server = self.client.data_to_send()
        if to_server:
            moved += len(to_server)
            events = self.server.receive(to_server)
            self.server_events.extend(events)
            if self.app is not None:
                for event in events:
                    if isinstance(event, RequestEvent):
                        self._answer(event.stream)
        to_client = self.server.data_to_send()
        if to_client:
            moved += len(to_client)
            self.server_frames.extend(f for f in self._server_reader.feed(to_client))
            if self.client_error is None:
                try:
                    self._client_received(self.client.receive_data(to_client))
                except ProtocolError as exc:
                    self.client_error = exc
        return moved

    def run(self, max_steps: int = 10_000) -> int:
        """Step until no bytes move; return how many steps moved bytes.

        Bounded: raises RuntimeError after `max_steps`, so a protocol that
        ping-pongs forever fails a test instead of hanging it.
        """
        for taken in range(max_steps):
            if not self.step():
                return taken
        raise RuntimeError(f"still moving bytes after {max_steps} steps")

    def _answer(self, stream: Stream) -> None:
        assert self.app is not None
        status, headers, body, *rest = self.app(stream)
        trailers = rest[0] if rest else None
        if trailers is None:
            self.server.send(stream.stream_id, status, headers, body)
        else:
            self.server.send(stream.stream_id, status, headers, body, trailers=trailers)

    # -------------------------------------------------------------- reading it

    def server_frames_of(self, type: str, stream_id: int | None = None) -> list[Frame]:
        """The frames of one type the server sent, optionally on one stream."""
        return [
            f
            for f in self.server_frames
            if getattr(f, "type", None) == type and (stream_id is None or f.stream_id == stream_id)
        ]

    def client_window(self, stream_id: int = 0) -> int:
        """How much more the server may send before the client's window is exhausted."""
        if stream_id == 0:
            return self.client.inbound_flow_control_window
        return self.client.streams[stream_id].inbound_flow_control_window
