"""gethy.intake: frame boundaries across any cut, slices, the backlog and the read gate.

No socket and no event loop: a fake loop keeps what `call_soon` was given,
and the test runs it turn by turn.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from gethy.frames import CONNECTION_PREFACE, encode_frame
from gethy.intake import SLICE_FRAMES, FrameBoundaries, Intake, ReadGate


class Handle:
    def __init__(self, callback: Callable[[], None]) -> None:
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class FakeLoop:
    """`call_soon` only; `turn` runs what was ready, as one pass of a real loop does."""

    def __init__(self) -> None:
        self.ready: list[Handle] = []

    def call_soon(self, callback: Callable[[], None]) -> Handle:
        handle = Handle(callback)
        self.ready.append(handle)
        return handle

    def turn(self) -> None:
        ready, self.ready = self.ready, []
        for handle in ready:
            if not handle.cancelled:
                handle.callback()


class Transport:
    def __init__(self) -> None:
        self.reading = True
        self.calls: list[str] = []

    def pause_reading(self) -> None:
        self.reading = False
        self.calls.append("pause")

    def resume_reading(self) -> None:
        self.reading = True
        self.calls.append("resume")


def frames(count: int, payload: bytes = b"12345678") -> bytes:
    return b"".join(encode_frame("PING", 0, 0, payload) for _ in range(count))


def make(slice_frames: int = SLICE_FRAMES) -> tuple[Intake, FakeLoop, Transport, list[bytes]]:
    fed: list[bytes] = []
    loop = FakeLoop()
    gate = ReadGate()
    transport = Transport()
    gate.transport = transport  # type: ignore[assignment]
    intake = Intake(loop, fed.append, gate, slice_frames=slice_frames)  # type: ignore[arg-type]
    return intake, loop, transport, fed


# ------------------------------------------------------------ frame boundaries


def frame_starts(stream: bytes) -> set[int]:
    """Offsets where a frame header begins, after the preface."""
    starts, pos = set(), len(CONNECTION_PREFACE)
    while pos < len(stream):
        starts.add(pos)
        pos += 9 + int.from_bytes(stream[pos : pos + 3], "big")
    return starts


@given(
    sizes=st.lists(st.integers(min_value=0, max_value=300), min_size=1, max_size=40),
    cuts=st.lists(st.integers(min_value=1, max_value=200), min_size=1, max_size=60),
    limit=st.integers(min_value=1, max_value=5),
)
def test_cuts_fall_between_frames_however_the_reads_cut_them(
    sizes: list[int], cuts: list[int], limit: int
) -> None:
    stream = CONNECTION_PREFACE + b"".join(encode_frame("DATA", 0, 1, bytes(n)) for n in sizes)
    starts = frame_starts(stream)
    boundaries = FrameBoundaries()
    offset = 0
    reads = []
    for cut in cuts:  # the reads, as the socket happens to cut them
        reads.append(stream[offset : offset + cut])
        offset += cut
    reads.append(stream[offset:])
    consumed = 0
    for read in reads:
        position = 0
        while position < len(read):
            end = boundaries.split(read, position, limit)
            assert end > position
            begun = [s for s in starts if consumed + position <= s < consumed + end]
            assert len(begun) <= limit
            if end < len(read):
                assert consumed + end in starts  # a cut inside a read is a frame boundary
                assert len(begun) == limit  # and only once the slice is full
            position = end
        consumed += len(read)


def test_a_read_of_few_large_frames_is_not_cut() -> None:
    boundaries = FrameBoundaries()
    upload = CONNECTION_PREFACE + b"".join(
        encode_frame("DATA", 0, 1, bytes(16384)) for _ in range(16)
    )
    assert boundaries.split(upload, 0, SLICE_FRAMES) == len(upload)  # 256 KiB, one slice


# -------------------------------------------------------------------- slices


def test_a_read_within_one_slice_is_fed_at_once_and_reading_goes_on() -> None:
    intake, loop, transport, fed = make()
    data = CONNECTION_PREFACE + frames(SLICE_FRAMES)
    intake.take(data)
    assert fed == [data] and not loop.ready and transport.calls == []


def test_a_long_read_is_fed_a_slice_per_turn_with_reading_paused() -> None:
    intake, loop, transport, fed = make(slice_frames=10)
    data = CONNECTION_PREFACE + frames(35)
    intake.take(data)
    assert len(fed) == 1 and not transport.reading
    assert fed[0] == CONNECTION_PREFACE + frames(10)
    turns = 0
    while loop.ready:
        loop.turn()
        turns += 1
    assert turns == 3 and len(fed) == 4
    assert b"".join(fed) == data  # every byte, in order, once
    assert transport.calls == ["pause", "resume"]


def test_dropping_stops_the_rest() -> None:
    intake, loop, transport, fed = make(slice_frames=10)
    intake.take(CONNECTION_PREFACE + frames(35))
    intake.drop()  # the connection ended (a GOAWAY in the first slice, say)
    loop.turn()
    assert len(fed) == 1 and intake.pending == 0


def test_catch_up_feeds_the_whole_backlog_now() -> None:
    intake, loop, transport, fed = make(slice_frames=10)
    data = CONNECTION_PREFACE + frames(35)
    intake.take(data)
    intake.catch_up()
    assert b"".join(fed) == data and len(fed) == 4 and transport.reading
    loop.turn()
    assert len(fed) == 4  # the scheduled slice was cancelled


def test_bytes_arriving_despite_the_pause_do_not_pile_up() -> None:
    intake, loop, transport, fed = make(slice_frames=10)
    first = CONNECTION_PREFACE + frames(35)
    intake.take(first)
    intake.take(frames(5))  # a transport that ignores pause_reading
    assert b"".join(fed) == first + frames(5) and intake.pending == 0


def test_the_gate_resumes_only_when_no_reason_is_left() -> None:
    gate = ReadGate()
    transport: Any = Transport()
    gate.transport = transport
    gate.pause("writing")
    gate.pause("backlog")
    gate.resume("backlog")
    assert not transport.reading and gate.paused
    gate.resume("uploads")  # not a reason it held: nothing happens
    gate.resume("writing")
    assert transport.reading and transport.calls == ["pause", "resume"]
    gate.pause("writing")
    gate.detach()
    gate.resume("writing")
    assert not gate.paused and transport.calls == ["pause", "resume", "pause"]
