"""The outbound buffer: response data waiting for flow-control window.

Built in notebook 04 (send): `Outbound`, with `push`, `send_one` and `flush`.

HTTP/2 lets a receiver limit how much DATA it accepts (RFC 9113 §5.2, §6.9):
each stream has a send window and so does the whole connection, and a DATA
frame may carry at most min(stream window, connection window, the peer's
SETTINGS_MAX_FRAME_SIZE) bytes. An application, though, wants to hand over a
whole body at once. So the body waits here, one queue per stream, and moves
into h2 as the windows allow.

The buffer owns one rule: **send at once when nothing waits and the window
allows, else queue.** A response pushed while no other stream waits sends
its first frame straight into h2 (so the common small response never
queues); anything else waits its turn in `flush`, which goes round the
streams one DATA frame at a time and sends a served stream to the back of the
line, so one large response cannot starve a small one.

"At once" is bounded: bytes handed to h2 sit in h2's own buffer until the
next `data_to_send()`, where nobody sees them. A server that stops collecting
(its client does not read) must see its responses wait *here*, where they are
counted; so at most `HANDOVER_LIMIT` bytes go at once between two collections.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from h2.connection import H2Connection
from h2.exceptions import FlowControlError, FrameTooLargeError, StreamClosedError

from gethy.stream import Headers

#: Bytes `push` may hand to h2 at once before the next `data_to_send()` collects them.
HANDOVER_LIMIT = 64 * 1024


@dataclass
class Pending:
    """What one stream still has to send, in order: body pieces, then maybe its end."""

    pieces: deque[bytes] = field(default_factory=deque)
    size: int = 0
    offset: int = 0  # bytes of pieces[0] already sent: a big body is never re-copied
    end_stream: bool = False  # end the stream once the pieces are sent...
    trailers: Headers | None = None  # ...with these trailers, if any (RFC 9113 §8.1)

    def take(self, n: int) -> bytes:
        """Remove and return the first `n` waiting bytes (copying only those)."""
        parts = []
        wanted = n
        while wanted:
            piece, start = self.pieces[0], self.offset
            end = min(start + wanted, len(piece))
            parts.append(piece if start == 0 and end == len(piece) else piece[start:end])
            wanted -= end - start
            if end == len(piece):
                self.pieces.popleft()
                self.offset = 0
            else:
                self.offset = end
        self.size -= n
        return parts[0] if len(parts) == 1 else b"".join(parts)


@dataclass(frozen=True)
class Flushed:
    """What one `flush` moved into h2: frames, DATA bytes, and the responses it finished."""

    frames: int = 0
    data: int = 0
    finished: tuple[int, ...] = ()


class Outbound:
    """Response data waiting for window: one queue per stream, served round robin."""

    def __init__(self, conn: H2Connection) -> None:
        self.conn = conn
        self.queues: dict[int, Pending] = {}  # insertion order = whose turn is next
        self.handed_over = 0  # DATA bytes given to h2 since `collected()`

    def push(
        self,
        stream_id: int,
        data: bytes = b"",
        *,
        end_stream: bool = False,
        trailers: Headers | None = None,
    ) -> bool:
        """Queue `data` for `stream_id` (then its end, with `trailers` if any).

        If nothing waits, one frame goes into h2 at once (and the end of the
        stream, if that frame was its last data). Returns True when the
        stream's response has now gone into h2 entirely.
        """
        nothing_waits = not self.queues and self.handed_over < HANDOVER_LIMIT
        if nothing_waits and not trailers and (data or end_stream):
            # The common small response: one frame, straight into h2. h2 checks the
            # window and the frame size before it changes anything, so asking it is
            # the cheapest test; what does not fit waits in the queue below.
            try:
                self.conn.send_data(stream_id, data, end_stream=end_stream)
            except (FlowControlError, FrameTooLargeError):
                pass
            except StreamClosedError:
                return end_stream  # h2 closed it (a reset, reported separately)
            else:
                self.handed_over += len(data)
                return end_stream
        pending = self.queues.get(stream_id)
        if pending is None:
            pending = self.queues[stream_id] = Pending()
        if data:
            pending.pieces.append(bytes(data))
            pending.size += len(data)
        if end_stream:
            pending.end_stream = True
            pending.trailers = trailers
        if not nothing_waits:
            return False  # never overtake streams already waiting for window
        # One frame at once: a stream answered later in the same batch still gets its turn.
        if self.send_one(stream_id) and stream_id in self.queues and not pending.size:
            self.send_one(stream_id)  # all its data went: its end (or trailers) follows
        return end_stream and stream_id not in self.queues

    def send_one(self, stream_id: int) -> bool:
        """Send one frame of `stream_id` if its windows allow; True if a frame went out.

        A stream that is done leaves the line; one that was served goes to the
        back. A window may be zero or negative (a SETTINGS change can make it
        negative, RFC 9113 §6.9.2): then the stream waits for WINDOW_UPDATE.
        """
        pending = self.queues[stream_id]
        conn = self.conn
        try:
            if pending.size:
                # local_flow_control_window is min(stream window, connection window).
                n = min(conn.local_flow_control_window(stream_id), conn.max_outbound_frame_size)
                if n <= 0:
                    return False
                data = pending.take(min(n, pending.size))
                last = not pending.size and pending.end_stream and not pending.trailers
                conn.send_data(stream_id, data, end_stream=last)
                self.handed_over += len(data)
            elif pending.end_stream:
                if pending.trailers:
                    conn.send_headers(stream_id, pending.trailers, end_stream=True)
                else:
                    conn.end_stream(stream_id)  # an empty DATA frame with END_STREAM
                last = True
            else:
                del self.queues[stream_id]  # all sent so far; a later push queues it again
                return False
        except StreamClosedError:
            del self.queues[stream_id]  # h2 closed it (a reset, reported separately)
            return False
        del self.queues[stream_id]
        if not last:
            self.queues[stream_id] = pending  # served: to the back of the line
        return True

    def flush(self) -> Flushed:
        """Move queued data into h2, as far as the windows allow, one frame per turn.

        Round after round: `turn_order` says which streams take a turn, each
        sends at most one frame; a stream that could not send sits out the
        rest of this flush (its window stays shut until the next `receive`).
        """
        frames = 0
        finished = []
        conn, queues = self.conn, self.queues
        handed_before = self.handed_over
        blocked: set[int] = set()
        while queues and (order := self.turn_order(blocked)):
            for stream_id in order:
                if stream_id not in queues:
                    blocked.add(stream_id)  # it left in this round (dropped, closed)
                elif queues[stream_id].size and conn.outbound_flow_control_window <= 0:
                    blocked.add(stream_id)  # the connection window is shut: ends may still go
                elif self.send_one(stream_id):
                    frames += 1
                    if stream_id not in queues:
                        finished.append(stream_id)
                else:
                    blocked.add(stream_id)
        return Flushed(frames, self.handed_over - handed_before, tuple(finished))

    def prioritize(self, stream_id: int, priority: object) -> None:
        """Round robin gives every stream the same turns: a priority changes nothing here."""

    def turn_order(self, blocked: set[int]) -> list[int]:
        """The streams that take a turn in the next round of `flush`, in order.

        Round robin: every waiting stream that is not `blocked`, in line order
        (`send_one` sends a served stream to the back). `gethy.scheduler`
        overrides this to honour RFC 9218 priorities.
        """
        return [stream_id for stream_id in self.queues if stream_id not in blocked]

    def collected(self) -> None:
        """h2's bytes were collected (`data_to_send`): pushes may go at once again."""
        self.handed_over = 0

    def pending(self, stream_id: int) -> int:
        """Body bytes of `stream_id` still waiting."""
        pending = self.queues.get(stream_id)
        return pending.size if pending else 0

    def total(self) -> int:
        """Body bytes waiting on all streams together."""
        return sum(pending.size for pending in self.queues.values())

    def drop(self, stream_id: int) -> None:
        """Forget a stream's queued output (it was reset: never send it now)."""
        self.queues.pop(stream_id, None)

    def clear(self) -> None:
        """Forget everything queued (the connection is over)."""
        self.queues.clear()
