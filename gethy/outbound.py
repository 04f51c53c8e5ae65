"""The outbound buffer: response bodies waiting for flow-control window.

HTTP/2 lets a receiver limit how much DATA it accepts (RFC 9113 §5.2, §6.9):
each stream has a send window and so does the whole connection, and a DATA
frame may carry at most min(stream window, connection window, the peer's
SETTINGS_MAX_FRAME_SIZE) bytes. An application, though, wants to hand over a
whole body at once. So the body waits here, per stream, and `flush` moves as
much of it into h2 as the windows allow, whenever they may have opened.

`flush` is fair: it goes round the streams one DATA frame at a time, and a
stream that was served moves to the back of the queue, so one large response
cannot starve a small one.
"""

from __future__ import annotations

import contextlib
from collections import deque
from dataclasses import dataclass, field

from h2.connection import H2Connection
from h2.errors import ErrorCodes
from h2.exceptions import StreamClosedError

from gethy.stream import Headers


@dataclass
class _Pending:
    """What one stream still has to send, in order: body chunks, then its end."""

    chunks: deque[bytes] = field(default_factory=deque)
    size: int = 0
    offset: int = 0  # bytes of chunks[0] already sent: never re-copy the rest of a big body
    end_stream: bool = False
    trailers: Headers | None = None
    reset_after_end: ErrorCodes | None = None

    def take(self, n: int) -> bytes:
        """Remove and return the first `n` buffered bytes (copying only those)."""
        parts = []
        wanted = n
        while wanted:
            chunk, start = self.chunks[0], self.offset
            end = min(start + wanted, len(chunk))
            parts.append(chunk if start == 0 and end == len(chunk) else chunk[start:end])
            wanted -= end - start
            if end == len(chunk):
                self.chunks.popleft()
                self.offset = 0
            else:
                self.offset = end
        self.size -= n
        return parts[0] if len(parts) == 1 else b"".join(parts)


class OutboundBuffer:
    """Per-stream queues of response data, drained into h2 as windows open."""

    def __init__(self) -> None:
        # Insertion order is the round-robin order: a served stream moves to the end.
        self._streams: dict[int, _Pending] = {}

    def push(
        self,
        stream_id: int,
        data: bytes = b"",
        *,
        end_stream: bool = False,
        trailers: Headers | None = None,
        reset_after_end: ErrorCodes | None = None,
    ) -> None:
        """Queue `data` for `stream_id`; `end_stream` closes it after the data."""
        pending = self._streams.get(stream_id)
        if pending is None:
            pending = self._streams[stream_id] = _Pending()
        if data:
            pending.chunks.append(bytes(data))
            pending.size += len(data)
        if end_stream:
            pending.end_stream = True
            pending.trailers = trailers
            pending.reset_after_end = reset_after_end

    def pending(self, stream_id: int) -> int:
        """How many body bytes of `stream_id` are still waiting."""
        pending = self._streams.get(stream_id)
        return pending.size if pending else 0

    def total(self) -> int:
        """How many body bytes are waiting on all streams."""
        return sum(p.size for p in self._streams.values())

    def __contains__(self, stream_id: int) -> bool:
        return stream_id in self._streams

    def __bool__(self) -> bool:
        return bool(self._streams)

    def stream_ids(self) -> set[int]:
        """Streams with output still queued (data, or just their end)."""
        return set(self._streams)

    def drop(self, stream_id: int) -> None:
        """Forget a stream's queued output (it was reset: never write it again)."""
        self._streams.pop(stream_id, None)

    def clear(self) -> None:
        self._streams.clear()

    def flush(self, conn: H2Connection) -> list[int]:
        """Move queued data into `conn` as far as the windows allow.

        Returns the ids of streams whose response has now been sent completely.
        A stream whose window is zero or negative (a SETTINGS change can make it
        negative, RFC 9113 §6.9.2) simply waits for a later flush.
        """
        finished: list[int] = []
        streams = self._streams
        progress = True
        while streams and progress:
            progress = False
            for stream_id in list(streams):
                pending = streams[stream_id]
                try:
                    if pending.size:
                        n = min(  # local_flow_control_window includes the connection's
                            conn.local_flow_control_window(stream_id),
                            conn.max_outbound_frame_size,
                            pending.size,
                        )
                        if n <= 0:
                            continue  # shut for now; an END_STREAM or trailers elsewhere still go
                        chunk = pending.take(n)
                        last = not pending.size and pending.end_stream and not pending.trailers
                        conn.send_data(stream_id, chunk, end_stream=last)
                    elif pending.end_stream:
                        if pending.trailers:
                            conn.send_headers(stream_id, pending.trailers, end_stream=True)
                        else:
                            conn.end_stream(stream_id)  # an empty DATA frame, only for END_STREAM
                        last = True
                    else:
                        continue  # everything sent so far; the application has more to come
                except StreamClosedError:
                    # h2 closed it (a reset reported separately): never write it again.
                    del streams[stream_id]
                    continue
                progress = True
                del streams[stream_id]
                if last:
                    finished.append(stream_id)
                    if pending.reset_after_end is not None:
                        _reset_if_open(conn, stream_id, pending.reset_after_end)
                else:
                    streams[stream_id] = pending  # to the back of the queue
        return finished


def _reset_if_open(conn: H2Connection, stream_id: int, error_code: ErrorCodes) -> None:
    """RST_STREAM a stream unless the client has already closed its side too."""
    # If both sides have ended, the stream is closed already and needs no reset.
    with contextlib.suppress(StreamClosedError):
        conn.reset_stream(stream_id, error_code)
