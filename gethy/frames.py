"""Decode raw HTTP/2 bytes into plain Python objects you can look at.

Built in notebook 01 (frames by hand).

h2 hides the wire format on purpose; this module shows it.  Give it the bytes
a peer sent and you get one object per frame, with a short repr::

    >>> decode_frames(b"\\x00\\x00\\x00\\x04\\x00\\x00\\x00\\x00\\x00")
    [<SETTINGS stream=0 length=0 flags=()>]

Every frame is a 9-byte header (RFC 9113 §4.1) followed by ``length`` bytes of
payload whose layout depends on the frame type (RFC 9113 §6).  A client also
starts its byte stream with a fixed preface (RFC 9113 §3.4).

We only check *framing*: that each payload has the size and padding its type
requires.  Protocol rules ("DATA is never sent on stream 0", "a window
increment of 0 is an error") are h2's job, so such frames decode here and you
can see them.
"""

from __future__ import annotations

from collections.abc import Iterable

from gethy.frame_header import (
    CONNECTION_PREFACE,
    FIXED_LENGTHS,
    FRAME_TYPE_CODES,
    FRAME_TYPES,
    HEADER,
    STREAM_ID_MASK,
    Frame,
    FrameDecodeError,
    FrameHeader,
    Preface,
    decode_frame_header,
    error_code_name,
)
from gethy.frame_types import (
    _FRAME_CLASSES,
    ContinuationFrame,
    DataFrame,
    GoAwayFrame,
    HeadersFrame,
    PingFrame,
    PriorityFrame,
    PushPromiseFrame,
    RstStreamFrame,
    SettingsFrame,
    UnknownFrame,
    WindowUpdateFrame,
)

__all__ = [
    "CONNECTION_PREFACE",
    "FIXED_LENGTHS",
    "FRAME_TYPES",
    "FRAME_TYPE_CODES",
    "ContinuationFrame",
    "DataFrame",
    "Frame",
    "FrameDecodeError",
    "FrameHeader",
    "FrameReader",
    "GoAwayFrame",
    "HeadersFrame",
    "PingFrame",
    "Preface",
    "PriorityFrame",
    "PushPromiseFrame",
    "RstStreamFrame",
    "SettingsFrame",
    "UnknownFrame",
    "WindowUpdateFrame",
    "decode_frame_header",
    "decode_frames",
    "encode_frame",
    "error_code_name",
]


def decode_frames(data: bytes) -> list[Preface | Frame]:
    """Decode all of ``data``: an optional preface at the start, then whole frames.

    Raises FrameDecodeError if the data ends mid-frame or a frame is malformed.
    """
    data = bytes(data)
    starts_with_preface = data[:24] == CONNECTION_PREFACE[: len(data)]
    reader = FrameReader(expect_preface=starts_with_preface)
    frames = reader.feed(data)
    try:
        reader.finish()
    except FrameDecodeError as error:
        error.frames = frames
        raise
    return frames


class FrameReader:
    """Turn a byte stream arriving in arbitrary chunks into frames.

    TCP delivers bytes, not frames: one read may hold half a frame or three.
    The reader keeps the incomplete rest in a bytearray and drops consumed
    bytes once per ``feed``, so cost stays linear in the bytes fed.
    """

    def __init__(self, expect_preface: bool = False) -> None:
        """``expect_preface``: True for the bytes a client sends (RFC 9113 §3.4)."""
        self._buffer = bytearray()
        self._awaiting_preface = expect_preface
        self._stream_offset = 0  # how many bytes before _buffer[0]; for error messages

    @property
    def pending(self) -> int:
        """Bytes received that do not yet form a complete frame."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[Preface | Frame]:
        """Add bytes; return every frame (or preface) they complete, in order."""
        self._buffer += data
        buffer, position = self._buffer, 0
        frames: list[Preface | Frame] = []
        try:
            if self._awaiting_preface:
                if buffer[:24] != CONNECTION_PREFACE[: len(buffer)]:
                    raise FrameDecodeError(
                        f"expected the connection preface {CONNECTION_PREFACE!r},"
                        f" got {bytes(buffer[:24])!r}"
                    )
                if len(buffer) < 24:
                    return frames
                frames.append(Preface())
                position, self._awaiting_preface = 24, False
            while len(buffer) - position >= 9:
                header = decode_frame_header(buffer[position : position + 9])
                end = position + 9 + header.length
                if len(buffer) < end:
                    break
                payload = bytes(buffer[position + 9 : end])
                frame_class = _FRAME_CLASSES.get(header.type_code, UnknownFrame)
                try:
                    frames.append(frame_class.from_payload(header, payload))
                except FrameDecodeError as error:
                    where = self._stream_offset + position
                    raise FrameDecodeError(f"{error} (frame at byte {where})") from None
                position = end
        except FrameDecodeError as error:
            error.frames = frames
            raise
        finally:
            del buffer[:position]  # keep only the unfinished frame
            self._stream_offset += position
        return frames

    def finish(self) -> None:
        """Call when the stream has ended: raise FrameDecodeError if a frame was cut short."""
        left, where = bytes(self._buffer), self._stream_offset
        if not left:
            return
        if self._awaiting_preface:
            msg = f"truncated connection preface: got {len(left)} of 24 bytes"
        elif len(left) < 9:
            msg = f"truncated frame header at byte {where}: got {len(left)} of 9 bytes"
        else:
            header = decode_frame_header(left)
            msg = (
                f"truncated {header.type} frame at byte {where}: header says length"
                f" {header.length}, but only {len(left) - 9} payload bytes follow"
            )
        raise FrameDecodeError(msg)


def encode_frame(
    type: str | int,
    flags: int | str | Iterable[str] = 0,
    stream_id: int = 0,
    payload: bytes = b"",
) -> bytes:
    """Build one frame by hand, e.g. ``encode_frame("DATA", ["END_STREAM"], 1, b"hi")``.

    ``type`` is a name or code; ``flags`` an int or flag name(s).  No payload
    checks: making broken frames on purpose is part of the fun.
    """
    codes = FRAME_TYPE_CODES
    if isinstance(type, str):
        if type not in codes:
            raise ValueError(f"unknown frame type {type!r}; known: {', '.join(codes)}")
        type = codes[type]
    if not 0 <= type <= 0xFF:
        raise ValueError(f"frame type must fit in 8 bits, got {type}")
    if not isinstance(flags, int):
        defined = {name: bit for bit, name in FRAME_TYPES.get(type, ("", {}))[1].items()}
        bits = 0
        for name in [flags] if isinstance(flags, str) else flags:
            if name not in defined:
                raise ValueError(f"frame type {type:#x} has no flag {name!r}")
            bits |= defined[name]
        flags = bits
    if not 0 <= flags <= 0xFF:
        raise ValueError(f"flags must fit in 8 bits, got {flags}")
    if not 0 <= stream_id <= STREAM_ID_MASK:
        raise ValueError(f"stream id must fit in 31 bits, got {stream_id}")
    if len(payload) >= 1 << 24:
        raise ValueError(f"payload of {len(payload)} bytes does not fit the 24-bit length")
    length = len(payload)
    return HEADER.pack(length >> 8, length & 0xFF, type, flags, stream_id) + bytes(payload)


# --- small helpers ----------------------------------------------------------
