"""What a protocol object lets you look at: windows and buffers, for plots and tests.

Not built in a notebook: notebook 04 plots what these return (through
`gethy.recorder`), and the asyncio server reads `buffered` for backpressure.
A mixin over `CoreProtocol`'s attributes: ``http2_connection`` (h2),
``streams`` and ``outbound``.
"""

from __future__ import annotations

from h2.connection import H2Connection

from gethy.core import Phase, StreamState
from gethy.outbound import Outbound


class Inspection:
    """Read-only views of the streams, the windows (RFC 9113 §6.9) and the outbound buffer."""

    http2_connection: H2Connection
    outbound: Outbound
    streams: dict[int, StreamState]

    @property
    def active_streams(self) -> int:
        """Streams whose request is still arriving or whose response is unfinished."""
        return len(self.streams)

    def stream_is_open(self, stream_id: int) -> bool:
        """True while the stream can still carry our response (not reset, not ended)."""
        stream = self.streams.get(stream_id)
        return stream is not None and stream.phase is not Phase.ENDED

    @property
    def h2_connection(self) -> H2Connection:
        """The underlying h2 connection, for looking inside (not for sending)."""
        return self.http2_connection

    def buffered(self, stream_id: int | None = None) -> int:
        """Response bytes waiting for window, on one stream or on all of them."""
        return self.outbound.total() if stream_id is None else self.outbound.pending(stream_id)

    def waiting_for_window(self) -> bool:
        """True if some queued response data cannot leave until the client opens a window."""
        conn = self.http2_connection
        return any(
            pending.size > conn.local_flow_control_window(stream_id)
            for stream_id, pending in self.outbound.queues.items()
            if stream_id in conn.streams
        )

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
