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

import struct
from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar, Self

from h2.errors import ErrorCodes

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
]

#: What a client sends before its first frame (RFC 9113 §3.4).
CONNECTION_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

#: type code -> (name as RFC 9113 §6 spells it, {flag bit: flag name}).
FRAME_TYPES: dict[int, tuple[str, dict[int, str]]] = {
    0x0: ("DATA", {0x01: "END_STREAM", 0x08: "PADDED"}),
    0x1: ("HEADERS", {0x01: "END_STREAM", 0x04: "END_HEADERS", 0x08: "PADDED", 0x20: "PRIORITY"}),
    0x2: ("PRIORITY", {}),
    0x3: ("RST_STREAM", {}),
    0x4: ("SETTINGS", {0x01: "ACK"}),
    0x5: ("PUSH_PROMISE", {0x04: "END_HEADERS", 0x08: "PADDED"}),
    0x6: ("PING", {0x01: "ACK"}),
    0x7: ("GOAWAY", {}),
    0x8: ("WINDOW_UPDATE", {}),
    0x9: ("CONTINUATION", {0x04: "END_HEADERS"}),
}

#: frame type name -> code: ``FRAME_TYPE_CODES["SETTINGS"] == 0x4``.
FRAME_TYPE_CODES: dict[str, int] = {name: code for code, (name, _) in FRAME_TYPES.items()}

#: Frame types whose payload has one fixed length (code -> bytes): PRIORITY (§6.3),
#: RST_STREAM (§6.4), PING (§6.7), WINDOW_UPDATE (§6.9).
FIXED_LENGTHS: dict[int, int] = {0x2: 5, 0x3: 4, 0x6: 8, 0x8: 4}

#: Setting identifiers: RFC 9113 §6.5.2, plus RFC 8441 (0x8) and RFC 9218 (0x9).
SETTING_NAMES: dict[int, str] = {
    0x1: "SETTINGS_HEADER_TABLE_SIZE",
    0x2: "SETTINGS_ENABLE_PUSH",
    0x3: "SETTINGS_MAX_CONCURRENT_STREAMS",
    0x4: "SETTINGS_INITIAL_WINDOW_SIZE",
    0x5: "SETTINGS_MAX_FRAME_SIZE",
    0x6: "SETTINGS_MAX_HEADER_LIST_SIZE",
    0x8: "SETTINGS_ENABLE_CONNECT_PROTOCOL",
    0x9: "SETTINGS_NO_RFC7540_PRIORITIES",
}

_HEADER = struct.Struct(">HBBBI")  # see decode_frame_header
_STREAM_ID_MASK = 0x7FFF_FFFF  # 31 bits; the top bit is reserved (RFC 9113 §4.1)
_REPR_BYTES = 32  # longer payloads are cut short in reprs


class FrameDecodeError(ValueError):
    """The bytes are not a well-formed HTTP/2 frame (or are cut short).

    ``frames`` holds the frames that decoded fine before the problem, so a
    recorder can still log them.
    """

    def __init__(self, message: str, frames: list[Preface | Frame] | None = None) -> None:
        super().__init__(message)
        self.frames: list[Preface | Frame] = frames or []


@dataclass(frozen=True)
class Preface:
    """The connection preface, 24 fixed bytes (RFC 9113 §3.4).

    It looks like a request for method "PRI", chosen so that HTTP/1.x servers
    and proxies stop there instead of misreading the frames that follow.
    """

    type: ClassVar[str] = "PREFACE"

    def __repr__(self) -> str:
        return f"<PREFACE {CONNECTION_PREFACE!r}>"


@dataclass(frozen=True)
class FrameHeader:
    """The 9 bytes in front of every frame (RFC 9113 §4.1).

    The header alone tells a reader how many bytes to wait for and what they
    mean, which is why HTTP/2 needs no delimiters.
    """

    length: int  # payload bytes after the header
    type_code: int  # 8-bit frame type
    flag_bits: int  # 8 flag bits; their meaning depends on the type
    stream_id: int  # 31 bits; 0 means "the connection as a whole"

    @property
    def type(self) -> str:
        """The frame type's name, e.g. "SETTINGS" (or "UNKNOWN")."""
        return FRAME_TYPES[self.type_code][0] if self.type_code in FRAME_TYPES else "UNKNOWN"

    @property
    def flags(self) -> tuple[str, ...]:
        """Names of the defined flags that are set; other bits are ignored (§4.1)."""
        names = FRAME_TYPES.get(self.type_code, ("", {}))[1]
        return tuple(name for bit, name in names.items() if self.flag_bits & bit)


@dataclass(frozen=True, repr=False)
class Frame(FrameHeader):
    """Base class of all decoded frames: the header fields plus a payload."""

    @classmethod
    def from_payload(cls, header: FrameHeader, payload: bytes) -> Self:
        """Build the frame from its header and exactly ``header.length`` payload bytes."""
        raise NotImplementedError

    def __repr__(self) -> str:
        details = "".join(f" {item}" for item in self._details())
        flags = ", ".join(self.flags)
        return (
            f"<{self.type} stream={self.stream_id} length={self.length} flags=({flags}){details}>"
        )

    def _details(self) -> list[str]:
        """The payload fields worth showing in the repr, as "name=value" strings."""
        return []


# Subclasses must repeat repr=False, or dataclass would write a __repr__ for each.
_frame = dataclass(frozen=True, repr=False)


@_frame
class DataFrame(Frame):
    """DATA (RFC 9113 §6.1): a piece of a request or response body.

    Padding (PADDED flag) lets a sender hide the real size of the data.
    """

    data: bytes
    pad_length: int | None  # None when the PADDED flag is not set

    @classmethod
    def from_payload(cls, header: FrameHeader, payload: bytes) -> Self:
        pad_length, data = _unpad(header, payload)
        return cls(**vars(header), data=data, pad_length=pad_length)

    def _details(self) -> list[str]:
        return [*_padding(self.pad_length), f"data={_short(self.data)}"]


@_frame
class HeadersFrame(Frame):
    """HEADERS (RFC 9113 §6.2): opens a stream with an HPACK-encoded header block.

    The block continues in CONTINUATION frames until END_HEADERS.  The priority
    fields (PRIORITY flag) come from RFC 7540's priority scheme, which RFC 9113
    deprecates; they must still be parsed to find where the block starts.
    """

    header_block_fragment: bytes
    pad_length: int | None  # None unless PADDED
    exclusive: bool | None  # the three priority fields are None unless PRIORITY
    stream_dependency: int | None
    weight: int | None  # the wire byte, 0-255 (RFC 7540 §5.3.2 adds one)

    @classmethod
    def from_payload(cls, header: FrameHeader, payload: bytes) -> Self:
        has_priority = bool(header.flag_bits & 0x20)
        pad_length, rest = _unpad(header, payload, fixed=5 if has_priority else 0)
        exclusive = dependency = weight = None
        if has_priority:
            exclusive, dependency, weight = _priority_fields(rest)
            rest = rest[5:]
        return cls(
            **vars(header),
            header_block_fragment=rest,
            pad_length=pad_length,
            exclusive=exclusive,
            stream_dependency=dependency,
            weight=weight,
        )

    def _details(self) -> list[str]:
        details = _padding(self.pad_length)
        if self.weight is not None:
            details += [
                f"depends_on={self.stream_dependency}",
                f"exclusive={self.exclusive}",
                f"weight={self.weight}",
            ]
        return [*details, f"header_block={_short(self.header_block_fragment)}"]


@_frame
class PriorityFrame(Frame):
    """PRIORITY (RFC 9113 §6.3): RFC 7540 stream priority, deprecated but still sent."""

    exclusive: bool
    stream_dependency: int
    weight: int  # the wire byte, 0-255

    @classmethod
    def from_payload(cls, header: FrameHeader, payload: bytes) -> Self:
        _expect_length(header, payload, FIXED_LENGTHS[0x2])
        exclusive, dependency, weight = _priority_fields(payload)
        return cls(**vars(header), exclusive=exclusive, stream_dependency=dependency, weight=weight)

    def _details(self) -> list[str]:
        return [
            f"depends_on={self.stream_dependency}",
            f"exclusive={self.exclusive}",
            f"weight={self.weight}",
        ]


@_frame
class RstStreamFrame(Frame):
    """RST_STREAM (RFC 9113 §6.4): ends one stream at once, with an error code (§7)."""

    error_code: int

    @classmethod
    def from_payload(cls, header: FrameHeader, payload: bytes) -> Self:
        _expect_length(header, payload, 4)
        (error_code,) = struct.unpack(">I", payload)
        return cls(**vars(header), error_code=error_code)

    @property
    def error_name(self) -> str:
        """The RFC 9113 §7 name, e.g. "CANCEL", or hex for codes we do not know."""
        return error_code_name(self.error_code)

    def _details(self) -> list[str]:
        return [f"error={self.error_name}"]


@_frame
class SettingsFrame(Frame):
    """SETTINGS (RFC 9113 §6.5): a peer announces its limits; ACK confirms receipt.

    Kept as ordered (identifier, value) pairs, not a dict: the RFC says they
    are processed in order and an identifier may repeat.
    """

    settings: tuple[tuple[int, int], ...]

    @classmethod
    def from_payload(cls, header: FrameHeader, payload: bytes) -> Self:
        if header.flag_bits & 0x01 and payload:
            raise _malformed(header, f"an ACK must be empty, got {len(payload)} bytes")
        if len(payload) % 6:
            raise _malformed(header, f"length {len(payload)} is not a multiple of 6")
        return cls(**vars(header), settings=tuple(struct.iter_unpack(">HI", payload)))

    def _details(self) -> list[str]:
        if not self.settings:
            return []
        pairs = (f"{SETTING_NAMES.get(i, hex(i))}={value}" for i, value in self.settings)
        return [f"settings=[{', '.join(pairs)}]"]


@_frame
class PushPromiseFrame(Frame):
    """PUSH_PROMISE (RFC 9113 §6.6): a server announces a stream it will push."""

    pad_length: int | None  # None unless PADDED
    promised_stream_id: int
    header_block_fragment: bytes

    @classmethod
    def from_payload(cls, header: FrameHeader, payload: bytes) -> Self:
        pad_length, rest = _unpad(header, payload, fixed=4)
        (promised,) = struct.unpack(">I", rest[:4])
        return cls(
            **vars(header),
            pad_length=pad_length,
            promised_stream_id=promised & _STREAM_ID_MASK,
            header_block_fragment=rest[4:],
        )

    def _details(self) -> list[str]:
        return [
            *_padding(self.pad_length),
            f"promised_stream={self.promised_stream_id}",
            f"header_block={_short(self.header_block_fragment)}",
        ]


@_frame
class PingFrame(Frame):
    """PING (RFC 9113 §6.7): 8 opaque bytes the peer echoes back with ACK (liveness, RTT)."""

    opaque_data: bytes

    @classmethod
    def from_payload(cls, header: FrameHeader, payload: bytes) -> Self:
        _expect_length(header, payload, FIXED_LENGTHS[0x6])
        return cls(**vars(header), opaque_data=payload)

    def _details(self) -> list[str]:
        return [f"opaque_data={self.opaque_data!r}"]


@_frame
class GoAwayFrame(Frame):
    """GOAWAY (RFC 9113 §6.8): shut the connection down, saying which streams were handled."""

    last_stream_id: int
    error_code: int
    additional_debug_data: bytes

    @classmethod
    def from_payload(cls, header: FrameHeader, payload: bytes) -> Self:
        if len(payload) < 8:
            raise _malformed(header, f"length must be at least 8, got {len(payload)}")
        last_stream_id, error_code = struct.unpack(">II", payload[:8])
        return cls(
            **vars(header),
            last_stream_id=last_stream_id & _STREAM_ID_MASK,
            error_code=error_code,
            additional_debug_data=payload[8:],
        )

    @property
    def error_name(self) -> str:
        """The RFC 9113 §7 name, e.g. "NO_ERROR", or hex for codes we do not know."""
        return error_code_name(self.error_code)

    def _details(self) -> list[str]:
        details = [f"last_stream={self.last_stream_id}", f"error={self.error_name}"]
        if self.additional_debug_data:
            details.append(f"debug={_short(self.additional_debug_data)}")
        return details


@_frame
class WindowUpdateFrame(Frame):
    """WINDOW_UPDATE (RFC 9113 §6.9): flow control; "you may send this many more bytes"."""

    window_size_increment: int

    @classmethod
    def from_payload(cls, header: FrameHeader, payload: bytes) -> Self:
        _expect_length(header, payload, 4)
        (increment,) = struct.unpack(">I", payload)
        return cls(**vars(header), window_size_increment=increment & _STREAM_ID_MASK)

    def _details(self) -> list[str]:
        return [f"increment={self.window_size_increment}"]


@_frame
class ContinuationFrame(Frame):
    """CONTINUATION (RFC 9113 §6.10): more of a header block that did not fit in one frame."""

    header_block_fragment: bytes

    @classmethod
    def from_payload(cls, header: FrameHeader, payload: bytes) -> Self:
        return cls(**vars(header), header_block_fragment=payload)

    def _details(self) -> list[str]:
        return [f"header_block={_short(self.header_block_fragment)}"]


@_frame
class UnknownFrame(Frame):
    """A frame type we do not know.  RFC 9113 §4.1 says to ignore it, not fail.

    Unknown types are how HTTP/2 is extended (RFC 9113 §5.5).
    """

    payload: bytes

    @classmethod
    def from_payload(cls, header: FrameHeader, payload: bytes) -> Self:
        return cls(**vars(header), payload=payload)

    def __repr__(self) -> str:
        return (
            f"<UNKNOWN type={self.type_code:#04x} stream={self.stream_id} length={self.length}"
            f" flag_bits={self.flag_bits:#04x} payload={_short(self.payload)}>"
        )


_FRAME_CLASSES: dict[int, type[Frame]] = {
    0x0: DataFrame,
    0x1: HeadersFrame,
    0x2: PriorityFrame,
    0x3: RstStreamFrame,
    0x4: SettingsFrame,
    0x5: PushPromiseFrame,
    0x6: PingFrame,
    0x7: GoAwayFrame,
    0x8: WindowUpdateFrame,
    0x9: ContinuationFrame,
}


def decode_frame_header(data: bytes) -> FrameHeader:
    """Decode the 9-byte frame header at the start of ``data`` (RFC 9113 §4.1).

    ``struct`` has no 3-byte integer, so ``">HBBBI"`` reads the 24-bit length
    as a 2-byte high part (H) and a 1-byte low part (B), then the type (B),
    the flags (B) and 4 bytes (I) holding a reserved bit and the 31-bit stream
    id.  ``>`` means big-endian, "network byte order", as on the wire.
    """
    if len(data) < 9:
        raise FrameDecodeError(f"truncated frame header: need 9 bytes, got {len(data)}")
    length_high, length_low, type_code, flag_bits, stream_id = _HEADER.unpack_from(data)
    return FrameHeader(
        length=(length_high << 8) | length_low,
        type_code=type_code,
        flag_bits=flag_bits,
        stream_id=stream_id & _STREAM_ID_MASK,  # receivers ignore the reserved bit
    )


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
    if not 0 <= stream_id <= _STREAM_ID_MASK:
        raise ValueError(f"stream id must fit in 31 bits, got {stream_id}")
    if len(payload) >= 1 << 24:
        raise ValueError(f"payload of {len(payload)} bytes does not fit the 24-bit length")
    length = len(payload)
    return _HEADER.pack(length >> 8, length & 0xFF, type, flags, stream_id) + bytes(payload)


# --- small helpers ----------------------------------------------------------


def _malformed(header: FrameHeader, problem: str) -> FrameDecodeError:
    return FrameDecodeError(f"malformed {header.type} frame: {problem}")


def _expect_length(header: FrameHeader, payload: bytes, size: int) -> None:
    if len(payload) != size:
        raise _malformed(header, f"length must be {size}, got {len(payload)}")


def _unpad(header: FrameHeader, payload: bytes, fixed: int = 0) -> tuple[int | None, bytes]:
    """Strip the Pad Length byte and trailing padding (RFC 9113 §6.1).

    ``fixed`` is the size of the fields that must fit between them (priority
    fields, a promised stream id).  Returns (pad_length or None, the rest).
    """
    padded = bool(header.flag_bits & 0x08)
    if len(payload) < padded + fixed:
        raise _malformed(header, f"length {len(payload)} is too short for its fixed fields")
    if not padded:
        return None, payload
    pad_length = payload[0]
    room = len(payload) - 1 - fixed
    if pad_length > room:
        raise _malformed(header, f"padding of {pad_length} bytes is longer than the payload")
    return pad_length, payload[1 : len(payload) - pad_length]


def _priority_fields(data: bytes) -> tuple[bool, int, int]:
    """Exclusive bit, 31-bit Stream Dependency and Weight byte (RFC 9113 §6.3)."""
    dependency, weight = struct.unpack(">IB", data[:5])
    return bool(dependency >> 31), dependency & _STREAM_ID_MASK, weight


def error_code_name(code: int) -> str:
    try:
        return ErrorCodes(code).name
    except ValueError:  # not in h2's registry, e.g. a newer or private code
        return hex(code)


def _padding(pad_length: int | None) -> list[str]:
    return [] if pad_length is None else [f"pad_length={pad_length}"]


def _short(data: bytes) -> str:
    """repr of bytes, cut to the first 32 so a 16 KiB DATA frame stays readable."""
    if len(data) <= _REPR_BYTES:
        return repr(data)
    return f"{data[:_REPR_BYTES]!r}...+{len(data) - _REPR_BYTES} bytes"
