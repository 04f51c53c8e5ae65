"""Exercise 4.2's answer, the first-come outbound buffer, for grading Exercise 4.3 alone.

Built in notebook 04 (send), Exercise 4.2: the learner's `Outbound` as the
solved notebook writes it. The check of Exercise 4.3 runs the learner's fair
`flush` on this class instead of on their own `Outbound`, so a bug in `push`
or `send_one` costs Exercise 4.2's points only. (gethy's grown-up buffer is
`gethy.outbound.Outbound`: it also sends at once when nothing waits, and its
`send_one` moves a served stream to the back itself.)
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from h2.connection import H2Connection


@dataclass
class _Pending:
    pieces: deque[memoryview] = field(default_factory=deque)
    end_stream: bool = False
    trailers: list[tuple[str, str]] | None = None


class ReferenceOutbound:
    """Exercise 4.2's answer (first come, first served), for grading 4.3's `flush` alone."""

    def __init__(self, conn: H2Connection) -> None:
        self.conn = conn
        self.queues: dict[int, _Pending] = {}

    def pending(self, stream_id: int) -> int:
        pending = self.queues.get(stream_id)
        return sum(len(piece) for piece in pending.pieces) if pending else 0

    def drop(self, stream_id: int) -> None:
        self.queues.pop(stream_id, None)

    def push(
        self, stream_id: int, data: bytes = b"", *, end_stream: bool = False, trailers=None
    ) -> None:
        pending = self.queues.setdefault(stream_id, _Pending())
        if data:
            pending.pieces.append(memoryview(data))
        if end_stream:
            pending.end_stream, pending.trailers = True, trailers

    def send_one(self, stream_id: int) -> bool:
        pending, conn = self.queues[stream_id], self.conn
        if pending.pieces:
            n = min(conn.local_flow_control_window(stream_id), conn.max_outbound_frame_size)
            if n <= 0:
                return False
            piece = pending.pieces.popleft()
            if len(piece) > n:
                pending.pieces.appendleft(piece[n:])
                piece = piece[:n]
            last = not pending.pieces and pending.end_stream and pending.trailers is None
            conn.send_data(stream_id, bytes(piece), end_stream=last)
        elif pending.end_stream:
            if pending.trailers is None:
                conn.end_stream(stream_id)
            else:
                conn.send_headers(stream_id, pending.trailers, end_stream=True)
            last = True
        else:
            return False
        if last:
            del self.queues[stream_id]
        return True

    def flush(self) -> int:
        frames = 0
        for stream_id in list(self.queues):
            while stream_id in self.queues and self.send_one(stream_id):
                frames += 1
        return frames
