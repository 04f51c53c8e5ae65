"""The 9-byte frame header and the registry of frame types (RFC 9113 §4.1, §6).

Built in notebook 01 (frames by hand): the header the learner decodes with
`struct`, the names of the frame types and flags, and the base class every
decoded frame shares. `gethy.frames` builds the payload of each type on it,
and `gethy.strict_h2` reuses the same registry to judge a frame from its
header alone.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import ClassVar, Self

from h2.errors import ErrorCodes

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

HEADER = struct.Struct(">HBBBI")  # see decode_frame_header
STREAM_ID_MASK = 0x7FFF_FFFF  # 31 bits; the top bit is reserved (RFC 9113 §4.1)
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


def decode_frame_header(data: bytes) -> FrameHeader:
    """Decode the 9-byte frame header at the start of ``data`` (RFC 9113 §4.1).

    ``struct`` has no 3-byte integer, so ``">HBBBI"`` reads the 24-bit length
    as a 2-byte high part (H) and a 1-byte low part (B), then the type (B),
    the flags (B) and 4 bytes (I) holding a reserved bit and the 31-bit stream
    id.  ``>`` means big-endian, "network byte order", as on the wire.
    """
    if len(data) < 9:
        raise FrameDecodeError(f"truncated frame header: need 9 bytes, got {len(data)}")
    length_high, length_low, type_code, flag_bits, stream_id = HEADER.unpack_from(data)
    return FrameHeader(
        length=(length_high << 8) | length_low,
        type_code=type_code,
        flag_bits=flag_bits,
        stream_id=stream_id & STREAM_ID_MASK,  # receivers ignore the reserved bit
    )


def malformed(header: FrameHeader, problem: str) -> FrameDecodeError:
    return FrameDecodeError(f"malformed {header.type} frame: {problem}")


def expect_length(header: FrameHeader, payload: bytes, size: int) -> None:
    if len(payload) != size:
        raise malformed(header, f"length must be {size}, got {len(payload)}")


def unpad(header: FrameHeader, payload: bytes, fixed: int = 0) -> tuple[int | None, bytes]:
    """Strip the Pad Length byte and trailing padding (RFC 9113 §6.1).

    ``fixed`` is the size of the fields that must fit between them (priority
    fields, a promised stream id).  Returns (pad_length or None, the rest).
    """
    padded = bool(header.flag_bits & 0x08)
    if len(payload) < padded + fixed:
        raise malformed(header, f"length {len(payload)} is too short for its fixed fields")
    if not padded:
        return None, payload
    pad_length = payload[0]
    room = len(payload) - 1 - fixed
    if pad_length > room:
        raise malformed(header, f"padding of {pad_length} bytes is longer than the payload")
    return pad_length, payload[1 : len(payload) - pad_length]


def priority_fields(data: bytes) -> tuple[bool, int, int]:
    """Exclusive bit, 31-bit Stream Dependency and Weight byte (RFC 9113 §6.3)."""
    dependency, weight = struct.unpack(">IB", data[:5])
    return bool(dependency >> 31), dependency & STREAM_ID_MASK, weight


def error_code_name(code: int) -> str:
    try:
        return ErrorCodes(code).name
    except ValueError:  # not in h2's registry, e.g. a newer or private code
        return hex(code)


def padding_details(pad_length: int | None) -> list[str]:
    return [] if pad_length is None else [f"pad_length={pad_length}"]


def short_bytes(data: bytes) -> str:
    """repr of bytes, cut to the first 32 so a 16 KiB DATA frame stays readable."""
    if len(data) <= _REPR_BYTES:
        return repr(data)
    return f"{data[:_REPR_BYTES]!r}...+{len(data) - _REPR_BYTES} bytes"
