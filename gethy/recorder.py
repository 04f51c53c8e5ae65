"""A recorder for the life of a connection: every frame and every window change.

Not built in a notebook: notebooks 03 and 04 plot what it records.

Attach one to `HTTP2Protocol(recorder=Recorder())` and it logs, with a step
counter (one step per `receive` or `data_to_send` call that moved bytes):

* each frame in and out: direction, type, stream, length, flags;
* each change of a flow-control window (RFC 9113 §5.2): which window
  ("send" = what we may still send, "receive" = what the client may still
  send us), which stream (0 = the connection), and its new size.

Notebooks print `frame_table()` and draw `plot_windows()` from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from gethy.frames import FrameDecodeError, FrameReader, Preface

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from gethy.protocol import HTTP2Protocol


@dataclass(frozen=True)
class FrameRecord:
    """One frame that crossed the connection."""

    step: int
    direction: str  # "in" (from the client) or "out" (to the client)
    type: str
    stream_id: int
    length: int
    flags: tuple[str, ...]


@dataclass(frozen=True)
class WindowRecord:
    """A flow-control window that changed size."""

    step: int
    window: str  # "send" or "receive"
    stream_id: int  # 0 is the connection window
    size: int


class Recorder:
    """Collects `FrameRecord`s and `WindowRecord`s as a protocol runs."""

    def __init__(self) -> None:
        self.step = 0
        self.frames: list[FrameRecord] = []
        self.windows: list[WindowRecord] = []
        self.undecodable: list[tuple[int, str, str]] = []  # (step, direction, why)
        self._readers = {"in": FrameReader(expect_preface=True), "out": FrameReader()}
        self._last_windows: dict[tuple[str, int], int] = {}

    def record_bytes(self, direction: str, data: bytes, protocol: HTTP2Protocol) -> None:
        """Log the frames in `data` ("in" or "out"); called by the protocol."""
        if not data:
            return
        self.step += 1
        reader = self._readers.get(direction)
        if reader is None:
            return  # this direction stopped decoding after garbage
        try:
            decoded = reader.feed(data)
        except FrameDecodeError as exc:
            # Garbage from a misbehaving client: keep the frames before it,
            # note it, decode this direction no further.
            decoded = exc.frames
            self.undecodable.append((self.step, direction, str(exc)))
            del self._readers[direction]
        for frame in decoded:
            if isinstance(frame, Preface):
                record = FrameRecord(self.step, direction, "PREFACE", 0, 24, ())
            else:
                record = FrameRecord(
                    self.step, direction, frame.type, frame.stream_id, frame.length, frame.flags
                )
            self.frames.append(record)

    def record_windows(self, protocol: HTTP2Protocol) -> None:
        """Log every window whose size differs from the last reading."""
        current = protocol.windows()
        last = self._last_windows
        for key, size in current.items():
            if last.get(key) != size:
                self.windows.append(WindowRecord(self.step, key[0], key[1], size))
        self._last_windows = current

    # ------------------------------------------------------------ reading it

    def series(self, window: str = "send", stream_id: int = 0) -> tuple[list[int], list[int]]:
        """(steps, sizes) of one window, ready for `plt.step`."""
        points = [
            (r.step, r.size)
            for r in self.windows
            if r.window == window and r.stream_id == stream_id
        ]
        return [p[0] for p in points], [p[1] for p in points]

    def frame_table(self, limit: int | None = None) -> str:
        """The frames as an aligned text table, one line per frame."""
        lines = [f"{'step':>4}  {'dir':<3}  {'type':<13}  {'stream':>6}  {'length':>6}  flags"]
        for r in self.frames[:limit]:
            flags = ",".join(r.flags)
            where = f"{r.step:>4}  {r.direction:<3}  {r.type:<13}"
            lines.append(f"{where}  {r.stream_id:>6}  {r.length:>6}  {flags}")
        if limit is not None and len(self.frames) > limit:
            lines.append(f"... {len(self.frames) - limit} more frames")
        return "\n".join(lines)

    def count(self, direction: str | None = None, type: str | None = None) -> int:
        """How many frames match a direction and/or a type."""
        return sum(
            1
            for r in self.frames
            if (direction is None or r.direction == direction) and (type is None or r.type == type)
        )


def plot_windows(
    recorder: Recorder,
    *,
    window: str = "send",
    streams: list[int] | None = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Draw the size of flow-control windows over the steps of a connection.

    `streams` picks which to draw (0 = the connection); by default the
    connection and every stream that has a record.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.5))
    if streams is None:
        streams = sorted({r.stream_id for r in recorder.windows if r.window == window})
    for stream_id in streams:
        steps, sizes = recorder.series(window, stream_id)
        if stream_id == 0:
            # Wide and pale, so a stream's line drawn over it stays visible:
            # with one stream the two often coincide.
            ax.step(steps, sizes, where="post", label="connection", linewidth=5, alpha=0.35)
        else:
            ax.step(steps, sizes, where="post", label=f"stream {stream_id}")
    ax.axhline(0, color="grey", linewidth=0.8)
    what = "send (server → client)" if window == "send" else "receive (client → server)"
    ax.set_title(title or f"{what} flow-control windows")
    ax.set_xlabel("step (receive / data_to_send call)")
    ax.set_ylabel("window size (bytes)")
    ax.legend(loc="best")
    return ax
