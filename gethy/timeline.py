"""Streams as lanes on a timeline: which stream's frames left (or arrived) when.

Not built in a notebook: the plots of notebook 06 (multiplexing).

HTTP/2 multiplexes: the frames of many streams share one connection, one after
another (RFC 9113 §5). Drawing each stream as a horizontal lane, and each of its
frames as a bar where it sits on the connection, shows at a glance how a
sender shared the connection: in turns (round robin), one stream after
another (first come, first served, or non-incremental priorities), or the
urgent stream first (RFC 9218).

The x axis is either *bytes*, the position of a frame in the server's output
(`spans_from_frames`: on a link of fixed bandwidth, time is bytes divided by
bandwidth, so the picture is the same), or *seconds* on a simulated link
(`spans_from_records`, with `gethy.link`'s records).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.axes import Axes

#: Bytes of one frame header (RFC 9113 §4.1): a frame takes this much more than its payload.
FRAME_HEADER = 9


@dataclass(frozen=True)
class Span:
    """One frame of one stream, from `start` to `end` (bytes or seconds)."""

    stream_id: int
    start: float
    end: float
    type: str = "DATA"


def spans_from_frames(frames: Iterable[Any], unit: float = 1.0) -> list[Span]:
    """The stream frames among `frames` (in sending order), placed by bytes sent before them.

    Each frame takes its payload plus the 9-byte header; connection frames
    (stream 0: SETTINGS, WINDOW_UPDATE...) take their place but get no span.
    Positions are divided by `unit` (1000 for kB).
    """
    spans = []
    offset = 0
    for frame in frames:
        size = FRAME_HEADER + frame.length
        if frame.stream_id and frame.type in ("DATA", "HEADERS"):
            spans.append(Span(frame.stream_id, offset / unit, (offset + size) / unit, frame.type))
        offset += size
    return spans


def spans_from_records(
    records: Iterable[Any],
    bandwidth: float,
    *,
    when: str = "sent",
    direction: str = "down",
    unit: float = 1.0,
) -> list[Span]:
    """Spans in seconds (divided by `unit`: 0.001 for ms) from a link's frame records.

    ``when="sent"``: each frame's bar starts when its first byte went onto the
    wire and lasts its serialisation time, (9 + length) / `bandwidth`.
    ``when="arrived"``: the bar ends when the client had the whole frame, in
    order (so frames held back behind a lost segment arrive together).
    """
    spans = []
    for record in records:
        if record.direction != direction or not record.stream_id:
            continue
        if record.type not in ("DATA", "HEADERS"):
            continue
        duration = (FRAME_HEADER + record.length) / bandwidth
        start = record.sent if when == "sent" else record.time - duration
        spans.append(Span(record.stream_id, start / unit, (start + duration) / unit, record.type))
    return spans


def first_and_last(spans: Iterable[Span], type: str = "DATA") -> dict[int, tuple[float, float]]:
    """Per stream: where its first frame of `type` starts and where its last one ends."""
    result: dict[int, tuple[float, float]] = {}
    for span in spans:
        if span.type != type:
            continue
        first, last = result.get(span.stream_id, (span.start, span.end))
        result[span.stream_id] = (min(first, span.start), max(last, span.end))
    return result


def plot_lanes(
    spans: Iterable[Span],
    *,
    ax: Axes | None = None,
    title: str = "Frames per stream",
    xlabel: str = "bytes sent on the connection",
    labels: Mapping[int, str] | None = None,
    mark_done: bool = True,
) -> Axes:
    """One lane per stream (lowest stream id on top), one bar per frame.

    DATA frames are solid bars, HEADERS frames hatched; with `mark_done` a dot
    marks where each stream's last DATA frame ends: when its response is complete.
    ``labels`` names the lanes (default: "stream N").
    """
    import matplotlib.pyplot as plt

    spans = list(spans)
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 3))
    streams = sorted({span.stream_id for span in spans})
    lane = {stream_id: i for i, stream_id in enumerate(reversed(streams))}
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for stream_id in streams:
        color = colors[streams.index(stream_id) % len(colors)]
        y = lane[stream_id]
        for span in (s for s in spans if s.stream_id == stream_id):
            hatch = "////" if span.type == "HEADERS" else None
            ax.broken_barh(
                [(span.start, span.end - span.start)],
                (y - 0.35, 0.7),
                facecolors="white" if hatch else color,
                edgecolors=color,
                hatch=hatch,
                linewidth=0.5,
            )
    if mark_done:
        for stream_id, (_, done) in first_and_last(spans).items():
            ax.plot(done, lane[stream_id], "o", color="black", markersize=4)
    names = labels or {}
    ax.set_yticks(range(len(streams)))
    ax.set_yticklabels([names.get(sid, f"stream {sid}") for sid in reversed(streams)])
    ax.set_ylim(-0.6, len(streams) - 0.4)
    ax.set_xlim(left=0)
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.grid(axis="x", alpha=0.3)
    return ax
