"""One class per frame type: each payload decoded as RFC 9113 §6 lays it out.

Built in notebook 01 (frames by hand): after the 9-byte header
(`gethy.frame_header`), the payload of each type, checked only for framing
(sizes and padding); protocol rules are h2's job.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Self

from gethy.frame_header import (
    FIXED_LENGTHS,
    SETTING_NAMES,
    STREAM_ID_MASK,
    Frame,
    FrameHeader,
    error_code_name,
    expect_length,
    malformed,
    padding_details,
    priority_fields,
    short_bytes,
    unpad,
)

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
        pad_length, data = unpad(header, payload)
        return cls(**vars(header), data=data, pad_length=pad_length)

    def _details(self) -> list[str]:
        return [*padding_details(self.pad_length), f"data={short_bytes(self.data)}"]


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
        pad_length, rest = unpad(header, payload, fixed=5 if has_priority else 0)
        exclusive = dependency = weight = None
        if has_priority:
            exclusive, dependency, weight = priority_fields(rest)
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
        details = padding_details(self.pad_length)
        if self.weight is not None:
            details += [
                f"depends_on={self.stream_dependency}",
                f"exclusive={self.exclusive}",
                f"weight={self.weight}",
            ]
        return [*details, f"header_block={short_bytes(self.header_block_fragment)}"]


@_frame
class PriorityFrame(Frame):
    """PRIORITY (RFC 9113 §6.3): RFC 7540 stream priority, deprecated but still sent."""

    exclusive: bool
    stream_dependency: int
    weight: int  # the wire byte, 0-255

    @classmethod
    def from_payload(cls, header: FrameHeader, payload: bytes) -> Self:
        expect_length(header, payload, FIXED_LENGTHS[0x2])
        exclusive, dependency, weight = priority_fields(payload)
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
        expect_length(header, payload, 4)
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
            raise malformed(header, f"an ACK must be empty, got {len(payload)} bytes")
        if len(payload) % 6:
            raise malformed(header, f"length {len(payload)} is not a multiple of 6")
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
        pad_length, rest = unpad(header, payload, fixed=4)
        (promised,) = struct.unpack(">I", rest[:4])
        return cls(
            **vars(header),
            pad_length=pad_length,
            promised_stream_id=promised & STREAM_ID_MASK,
            header_block_fragment=rest[4:],
        )

    def _details(self) -> list[str]:
        return [
            *padding_details(self.pad_length),
            f"promised_stream={self.promised_stream_id}",
            f"header_block={short_bytes(self.header_block_fragment)}",
        ]


@_frame
class PingFrame(Frame):
    """PING (RFC 9113 §6.7): 8 opaque bytes the peer echoes back with ACK (liveness, RTT)."""

    opaque_data: bytes

    @classmethod
    def from_payload(cls, header: FrameHeader, payload: bytes) -> Self:
        expect_length(header, payload, FIXED_LENGTHS[0x6])
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
            raise malformed(header, f"length must be at least 8, got {len(payload)}")
        last_stream_id, error_code = struct.unpack(">II", payload[:8])
        return cls(
            **vars(header),
            last_stream_id=last_stream_id & STREAM_ID_MASK,
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
            details.append(f"debug={short_bytes(self.additional_debug_data)}")
        return details


@_frame
class WindowUpdateFrame(Frame):
    """WINDOW_UPDATE (RFC 9113 §6.9): flow control; "you may send this many more bytes"."""

    window_size_increment: int

    @classmethod
    def from_payload(cls, header: FrameHeader, payload: bytes) -> Self:
        expect_length(header, payload, 4)
        (increment,) = struct.unpack(">I", payload)
        return cls(**vars(header), window_size_increment=increment & STREAM_ID_MASK)

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
        return [f"header_block={short_bytes(self.header_block_fragment)}"]


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
            f" flag_bits={self.flag_bits:#04x} payload={short_bytes(self.payload)}>"
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
