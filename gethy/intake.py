"""Bytes arriving: fed to the protocol a slice of frames at a time, and why reading is paused.

Built in notebook 07 (asyncio server).

asyncio hands `data_received` up to 256 KiB at once (a TLS transport can hand
more). What that costs h2 depends on the number of frames, not of bytes: 256
KiB of 16 KiB DATA frames takes under a millisecond, 256 KiB of 17-byte PINGs
some 150 ms, of HEADERS and RST_STREAM pairs more than half a second. All
that time the event loop serves no one else: one client's flood would stall
every other client. So `Intake` feeds the protocol at most `SLICE_FRAMES`
frames at a time (about 2 to 16 KiB of small frames). What is left waits in a
backlog, reading pauses (TCP flow control then holds the client back), and
the next slice runs from ``loop.call_soon``, after whatever else was ready:
other connections, handlers, timers. A read of fewer frames, the common case,
goes straight through as before, in one piece; so does a read of large DATA
frames (an upload), which h2 handles cheaply and whose WINDOW_UPDATEs stay as
they were.

To cut between frames, `FrameBoundaries` follows where each frame begins
(RFC 9113 §4.1: a 24-bit length, then 6 more header bytes and the payload)
across reads that cut frames anywhere; it reads three bytes per frame and
judges nothing: a wrong guess only moves a cut, the bytes reach the protocol
all the same and in order.

The protocol cuts a flood off inside a slice (`gethy.floods`); when the
connection ends in between (a GOAWAY either way, RFC 9113 §6.8, or any close)
it calls `Intake.drop`: the rest is never parsed.

`ReadGate` keeps *why* reading is paused, since there can be several reasons
at once (a backlog; asyncio paused our writes; the server's request-body
budget, `gethy.guards.uploads`): reading resumes when the last one is gone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from gethy.frames import CONNECTION_PREFACE

__all__ = ["SLICE_FRAMES", "FrameBoundaries", "Intake", "ReadGate"]

#: The most frames handed to the protocol in one go; the rest waits for the loop's next turn.
SLICE_FRAMES = 128
_HEADER = 9  # bytes of a frame header (RFC 9113 §4.1); its first 3 are the payload length


class FrameBoundaries:
    """Where frames begin in the client's bytes, however the reads cut them.

    The stream starts with the 24-byte client preface (RFC 9113 §3.4), which
    is not a frame; `split` is then given every byte, in order, exactly once.
    """

    def __init__(self, skip: int = len(CONNECTION_PREFACE)) -> None:
        self._skip = skip  # bytes until the next frame header begins
        self._head = b""  # a frame header's first bytes (fewer than 3), cut off by a read

    def split(self, data: bytes, start: int, limit: int) -> int:
        """Where to cut ``data[start:]``: before the frame after the `limit`-th that begins in it.

        Returns ``len(data)`` if the rest holds no more than `limit` frame
        beginnings; frames then carry on into the next read.
        """
        size = len(data)
        pos = start + self._skip
        if self._head:  # pos == start: the length field continues here
            head = self._head + data[start : start + 3 - len(self._head)]
            if len(head) < 3:
                self._head = head
                return size
            pos = start + _HEADER + int.from_bytes(head, "big") - len(self._head)
            self._head = b""
        frames = 0
        while pos < size:
            if frames == limit:
                self._skip = 0
                return pos
            frames += 1
            if pos + 3 > size:
                self._skip, self._head = 0, data[pos:]
                return size
            pos += _HEADER + (data[pos] << 16 | data[pos + 1] << 8 | data[pos + 2])
        self._skip = pos - size
        return size


class ReadGate:
    """Pauses a transport's reading while any reason holds, resumes it when none does."""

    def __init__(self) -> None:
        self.reasons: set[str] = set()
        self.transport: asyncio.Transport | None = None

    @property
    def paused(self) -> bool:
        return bool(self.reasons)

    def pause(self, reason: str) -> None:
        if not self.reasons and self.transport is not None:
            self.transport.pause_reading()
        self.reasons.add(reason)

    def resume(self, reason: str) -> None:
        if reason not in self.reasons:
            return
        self.reasons.discard(reason)
        if not self.reasons and self.transport is not None:
            self.transport.resume_reading()

    def detach(self) -> None:
        """Our side is shut: what still arrives is read and discarded, unconditionally."""
        self.transport = None
        self.reasons.clear()


class Intake:
    """One connection's bytes on their way to the protocol, `slice_frames` frames at a time.

    `feed` is the connection's: it hands one slice to the protocol and deals
    with the outcome. It never raises (the connection catches its own bugs).
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        feed: Callable[[bytes], None],
        gate: ReadGate,
        *,
        slice_frames: int = SLICE_FRAMES,
    ) -> None:
        self._loop = loop
        self._feed = feed
        self._gate = gate
        self.slice_frames = slice_frames
        self._frames = FrameBoundaries()
        self._backlog = b""
        self._offset = 0  # where the next slice of the backlog starts
        self._handle: asyncio.Handle | None = None

    @property
    def pending(self) -> int:
        """Bytes read but not yet given to the protocol."""
        return len(self._backlog) - self._offset

    def take(self, data: bytes) -> None:
        """Bytes from the socket: feed them now, or the first slice now and the rest later."""
        if self._backlog:
            # More arrived though reading is paused: a transport that ignores
            # pause_reading (asyncio's own do not). Slicing cannot hold it
            # back, so rather than let a backlog grow, catch up at once.
            self._backlog += data
            self.catch_up()
            return
        cut = self._frames.split(data, 0, self.slice_frames)
        if cut == len(data):
            self._feed(data)  # the common case: one read, one slice
            return
        self._backlog, self._offset = data, cut
        self._gate.pause("backlog")
        self._handle = self._loop.call_soon(self._next)
        self._feed(data[:cut])

    def catch_up(self) -> None:
        """Feed the whole backlog now (say, before handling the client's EOF)."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        while self._backlog and self._step():
            pass

    def drop(self) -> None:
        """The connection ended: forget the backlog; nothing more is fed."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        self._backlog, self._offset = b"", 0

    def _next(self) -> None:
        self._handle = None
        if self._step():
            self._handle = self._loop.call_soon(self._next)

    def _step(self) -> bool:
        """Feed the next slice of the backlog; True if some is left for later."""
        backlog, start = self._backlog, self._offset
        end = self._frames.split(backlog, start, self.slice_frames)
        if end == len(backlog):
            self._backlog, self._offset = b"", 0
            self._gate.resume("backlog")
        else:
            self._offset = end
        self._feed(backlog[start:end])
        return bool(self._backlog)  # False too if the feed dropped the rest
