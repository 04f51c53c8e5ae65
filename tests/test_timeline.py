"""Streams as lanes (`gethy.timeline`): where each frame sits, and the plot drawn from it."""

from __future__ import annotations

from dataclasses import dataclass

from gethy.frames import decode_frames, encode_frame
from gethy.timeline import Span, first_and_last, plot_lanes, spans_from_frames, spans_from_records


def test_spans_sit_where_the_frames_are_in_the_output():
    wire = (
        encode_frame("SETTINGS")  # 9 bytes, no span: stream 0
        + encode_frame("HEADERS", "END_HEADERS", 1, b"\x88")  # 10 bytes
        + encode_frame("DATA", 0, 1, b"x" * 100)  # 109 bytes
        + encode_frame("DATA", "END_STREAM", 3, b"y" * 50)  # 59 bytes
    )
    spans = spans_from_frames(decode_frames(wire))
    assert spans == [
        Span(1, 9, 19, "HEADERS"),
        Span(1, 19, 128, "DATA"),
        Span(3, 128, 187, "DATA"),
    ]
    assert first_and_last(spans) == {1: (19, 128), 3: (128, 187)}
    assert spans_from_frames(decode_frames(wire), unit=1000)[0] == Span(1, 0.009, 0.019, "HEADERS")


@dataclass(frozen=True)
class _Record:  # what gethy.link records for each frame that crossed
    time: float
    direction: str
    type: str
    stream_id: int
    length: int
    flags: tuple[str, ...]
    sent: float


def test_spans_from_link_records_by_departure_or_arrival():
    records = [
        _Record(0.030, "down", "DATA", 1, 991, (), 0.005),
        _Record(0.090, "down", "DATA", 3, 991, (), 0.006),  # held back behind a lost segment
        _Record(0.031, "up", "WINDOW_UPDATE", 0, 4, (), 0.020),
    ]
    sent = spans_from_records(records, bandwidth=1_000_000, unit=0.001)
    assert [(s.stream_id, round(s.start, 3), round(s.end, 3)) for s in sent] == [
        (1, 5.0, 6.0),
        (3, 6.0, 7.0),
    ]
    arrived = spans_from_records(records, bandwidth=1_000_000, when="arrived", unit=0.001)
    assert [(s.stream_id, round(s.end, 3)) for s in arrived] == [(1, 30.0), (3, 90.0)]


def test_plot_lanes_draws_one_lane_per_stream_lowest_on_top():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    spans = [Span(3, 0, 10), Span(1, 10, 20), Span(1, 20, 30, "HEADERS")]
    ax = plot_lanes(spans, labels={1: "one"}, title="t")
    assert [label.get_text() for label in ax.get_yticklabels()] == ["stream 3", "one"]
    assert ax.get_title() == "t" and len(ax.collections) == 3  # one bar per frame
    plt.close(ax.figure)
