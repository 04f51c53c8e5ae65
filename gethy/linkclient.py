"""The link simulator's client: h2's `H2Connection`, steered by a receive-window policy.

Built in notebook 05 (flow-control lab), as part of `gethy.link`.

The client downloads, so its *receive* windows are the ones that limit a
transfer (RFC 9113 §5.2). A `gethy.flowcontrol.WindowPolicy` decides them:

* its ``initial_window`` goes out as SETTINGS_INITIAL_WINDOW_SIZE (every
  stream's window starts there, §6.5.2, §6.9.2), and, since SETTINGS never
  changes the connection window, as a WINDOW_UPDATE on stream 0 growing the
  connection window from 65,535 to the same size, right after the preface;
* as DATA arrives it returns actions, carried out here on h2:
  `WindowUpdate` -> ``increment_flow_control_window`` (a WINDOW_UPDATE now),
  `Acknowledge` -> ``acknowledge_received_data`` (h2's own rule decides),
  `Ping` -> ``ping`` (a PING; its ACK goes back to the policy).

A WINDOW_UPDATE for a stream that has already closed is skipped (h2 refuses
it, and the window of a closed stream no longer matters, §6.9); the
connection's part of it is still sent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import h2.events
from h2.config import H2Configuration
from h2.connection import H2Connection
from h2.errors import ErrorCodes
from h2.exceptions import StreamClosedError
from h2.settings import SettingCodes, Settings

from gethy.flowcontrol import DEFAULT_WINDOW, Acknowledge, Action, Ping, WindowPolicy, WindowUpdate


@dataclass
class Response:
    """What the client received on one stream, with the virtual times it happened (s)."""

    stream_id: int
    path: str = "/"
    status: int | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytearray = field(default_factory=bytearray)
    ended: bool = False
    reset: ErrorCodes | int | None = None
    requested_at: float | None = None  # the request left the client
    first_byte_at: float | None = None  # the first DATA frame arrived
    ended_at: float | None = None  # END_STREAM arrived
    arrivals: list[tuple[float, int]] = field(default_factory=list)  # (time, DATA bytes)


class LinkClient:
    """An h2 client whose receive windows follow `policy`; time comes from `clock`."""

    def __init__(self, policy: WindowPolicy, clock: Callable[[], float]) -> None:
        self.policy = policy
        self.clock = clock
        self.conn = H2Connection(H2Configuration(client_side=True, header_encoding="utf-8"))
        window = policy.initial_window
        if window != DEFAULT_WINDOW:
            # Settings given at creation are in force at once and go out in the preface.
            self.conn.local_settings = Settings(
                client=True,
                initial_values={
                    SettingCodes.MAX_CONCURRENT_STREAMS: 100,
                    SettingCodes.INITIAL_WINDOW_SIZE: window,
                },
            )
        self.conn.initiate_connection()
        if window > DEFAULT_WINDOW:  # the connection window grows only by WINDOW_UPDATE
            self.conn.increment_flow_control_window(window - DEFAULT_WINDOW)
        self.responses: dict[int, Response] = {}
        self.windows: list[tuple[float, int, int]] = []  # (time, stream id, receive window)
        self.skipped_updates = 0  # WINDOW_UPDATEs for streams already closed
        self._next_stream_id = 1
        self._last_scheduled = 0.0
        self._sample(0)

    def reserve_stream(self, at: float = 0.0) -> int:
        """The stream id of the next request (client streams are odd, and rise, §5.1.1)."""
        if at < self._last_scheduled:
            raise ValueError("schedule requests in time order: stream ids must rise (§5.1.1)")
        self._last_scheduled = at
        stream_id, self._next_stream_id = self._next_stream_id, self._next_stream_id + 2
        return stream_id

    def request(self, stream_id: int, path: str, headers: Iterable[tuple[str, str]] = ()) -> None:
        """Send a GET for `path` on `stream_id` now."""
        fields = [(":method", "GET"), (":path", path), (":scheme", "http")]
        fields += [(":authority", "localhost"), *headers]
        self.conn.send_headers(stream_id, fields, end_stream=True)
        self.responses[stream_id] = Response(stream_id, path, requested_at=self.clock())

    def data_to_send(self) -> bytes:
        return self.conn.data_to_send()

    def receive(self, data: bytes) -> None:
        """Bytes from the server arrived: record what they carry, let the policy answer."""
        now = self.clock()
        actions: list[Action] = []
        touched = {0}
        for event in self.conn.receive_data(data):
            if isinstance(event, h2.events.DataReceived):
                response = self.responses[event.stream_id]
                response.body += event.data
                response.arrivals.append((now, len(event.data)))
                if response.first_byte_at is None:
                    response.first_byte_at = now
                touched.add(event.stream_id)
                length = event.flow_controlled_length
                actions += self.policy.data_received(event.stream_id, length, now)
            elif isinstance(event, h2.events.PingAckReceived):
                actions += self.policy.ping_acked(event.ping_data, now)
            else:
                self._other_event(event, now)
        for action in actions:
            self._apply(action)
        for stream_id in sorted(touched):
            self._sample(stream_id)

    def _other_event(self, event: h2.events.Event, now: float) -> None:
        response = self.responses.get(getattr(event, "stream_id", 0) or 0)
        if response is None:
            return
        if isinstance(event, h2.events.ResponseReceived):
            response.headers = list(event.headers)  # type: ignore[arg-type]
            response.status = int(dict(response.headers)[":status"])
        elif isinstance(event, h2.events.StreamEnded):
            response.ended, response.ended_at = True, now
        elif isinstance(event, h2.events.StreamReset):
            response.reset = event.error_code

    def _apply(self, action: Action) -> None:
        conn = self.conn
        if isinstance(action, WindowUpdate):
            if action.stream_id == 0:
                conn.increment_flow_control_window(action.increment)
                return
            try:
                conn.increment_flow_control_window(action.increment, action.stream_id)
            except StreamClosedError:
                self.skipped_updates += 1
        elif isinstance(action, Acknowledge):
            conn.acknowledge_received_data(action.length, action.stream_id)
        elif isinstance(action, Ping):
            conn.ping(action.data)
        else:
            raise TypeError(
                f"a policy returned {action!r}: not a WindowUpdate, Ping or Acknowledge"
            )

    def window(self, stream_id: int = 0) -> int:
        """How much more the server may send us now (0 = the connection window)."""
        if stream_id == 0:
            return self.conn.inbound_flow_control_window
        stream = self.conn.streams.get(stream_id)
        return stream.inbound_flow_control_window if stream is not None else 0

    def _sample(self, stream_id: int) -> None:
        self.windows.append((self.clock(), stream_id, self.window(stream_id)))
