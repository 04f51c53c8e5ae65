"""Frames the attacker sends, built once, and a cheap reading of what the server answers.

An attack must cost the attacker little, or the machine it shares with the
server (2 cores) would measure the attacker. So the frames of a flood are
built once as one ``bytes`` object (`gethy.frames.encode_frame`, RFC 9113
§4.1), request header blocks use the static HPACK table and literals that are
never indexed (RFC 7541 §6.2.3), so the same block is valid on every stream
and every connection, and `FrameScanner` reads only the 9-byte frame headers
of the answer, plus the few payloads that say how it ended (GOAWAY,
RST_STREAM, and a response's ``:status`` when asked).
"""

from __future__ import annotations

import struct
from collections import Counter
from dataclasses import dataclass

import hpack

from gethy.frames import CONNECTION_PREFACE, encode_frame, error_code_name

__all__ = [
    "CONNECTION_PREFACE",
    "FrameScanner",
    "Goaway",
    "encode_frame",
    "headers_frame",
    "hpack_integer",
    "hpack_string",
    "request_block",
    "rst_stream",
    "settings_frame",
    "split_block",
    "window_update",
]

END_STREAM = 0x1
ACK = 0x1
END_HEADERS = 0x4

# Frame type codes (RFC 9113 §6).
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY = range(8)
WINDOW_UPDATE, CONTINUATION = 8, 9

# SETTINGS identifiers (RFC 9113 §6.5.2).
HEADER_TABLE_SIZE = 0x1
INITIAL_WINDOW_SIZE = 0x4
MAX_WINDOW = 2**31 - 1


def request_block(
    path: str = "/", method: str = "GET", extra: list[tuple[str, str]] | None = None
) -> bytes:
    """One request's header block that leaves no trace in the HPACK tables.

    A fresh encoder, and every field "never indexed": the block names only
    static table entries, so it can be sent again on any stream as is.
    """
    fields = [
        (":method", method),
        (":scheme", "http"),
        (":path", path),
        (":authority", "127.0.0.1"),
        *(extra or []),
    ]
    encoder = hpack.Encoder()
    return encoder.encode([hpack.NeverIndexedHeaderTuple(n, v) for n, v in fields], huffman=False)


def headers_frame(
    stream_id: int, block: bytes, *, end_stream: bool, end_headers: bool = True
) -> bytes:
    flags = (END_STREAM if end_stream else 0) | (END_HEADERS if end_headers else 0)
    return encode_frame(HEADERS, flags, stream_id, block)


def rst_stream(stream_id: int, code: int = 0x8) -> bytes:
    """RST_STREAM, CANCEL by default (RFC 9113 §6.4)."""
    return encode_frame(RST_STREAM, 0, stream_id, struct.pack(">I", code))


def window_update(stream_id: int, increment: int) -> bytes:
    return encode_frame(WINDOW_UPDATE, 0, stream_id, struct.pack(">I", increment))


def settings_frame(*pairs: tuple[int, int]) -> bytes:
    return encode_frame(SETTINGS, 0, 0, b"".join(struct.pack(">HI", k, v) for k, v in pairs))


#: A client that reads everything: stream windows and the connection window at their largest.
OPEN_WINDOWS = settings_frame((INITIAL_WINDOW_SIZE, MAX_WINDOW)) + window_update(
    0, MAX_WINDOW - 65_535
)


def hpack_integer(value: int, prefix_bits: int, first: int = 0) -> bytes:
    """An HPACK integer (RFC 7541 §5.1); `first` holds the bits above the prefix."""
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([first | value])
    out = bytearray([first | limit])
    value -= limit
    while value >= 128:
        out.append(value % 128 + 128)
        value //= 128
    out.append(value)
    return bytes(out)


def hpack_string(text: bytes) -> bytes:
    """An HPACK string literal without Huffman coding (RFC 7541 §5.2)."""
    return hpack_integer(len(text), 7) + text


def split_block(stream_id: int, block: bytes, *, end_stream: bool, size: int = 16_384) -> bytes:
    """A header block as HEADERS and as many CONTINUATION frames as needed (§4.3)."""
    pieces = [block[i : i + size] for i in range(0, len(block), size)] or [b""]
    out = [headers_frame(stream_id, pieces[0], end_stream=end_stream, end_headers=len(pieces) == 1)]
    for n, piece in enumerate(pieces[1:], start=2):
        out.append(
            encode_frame(CONTINUATION, END_HEADERS if n == len(pieces) else 0, stream_id, piece)
        )
    return b"".join(out)


@dataclass(frozen=True)
class Goaway:
    """The GOAWAY the server sent (RFC 9113 §6.8)."""

    error_code: int
    last_stream_id: int
    debug: bytes

    @property
    def name(self) -> str:
        return error_code_name(self.error_code)


class FrameScanner:
    """Counts the server's frames by type from their headers; keeps what ends things.

    `feed` takes bytes as they arrive. Kept: the first GOAWAY, the error code of
    each RST_STREAM by stream, and with ``statuses=True`` each response's
    ``:status`` (that needs every header block decoded in order: HPACK state is
    per connection, RFC 7541 §2.2).
    """

    def __init__(self, *, statuses: bool = False, table_size: int = 4096) -> None:
        self.counts: Counter[int] = Counter()
        self.frames = 0
        self.bytes = 0
        self.goaway: Goaway | None = None
        self.resets: dict[int, int] = {}
        self.statuses: dict[int, int] = {}
        self.ended: set[int] = set()  # streams whose response ended (END_STREAM)
        self.decoder: hpack.Decoder | None = None
        if statuses:
            self.decoder = hpack.Decoder(max_header_list_size=2**31)
            self.decoder.max_allowed_table_size = table_size
        self._buffer = bytearray()

    def feed(self, data: bytes) -> None:
        self.bytes += len(data)
        buffer = self._buffer
        buffer += data
        at = 0
        end = len(buffer)
        while end - at >= 9:
            length = int.from_bytes(buffer[at : at + 3], "big")
            if end - at < 9 + length:
                break
            kind, flags = buffer[at + 3], buffer[at + 4]
            stream_id = int.from_bytes(buffer[at + 5 : at + 9], "big") & 0x7FFF_FFFF
            self.counts[kind] += 1
            self.frames += 1
            if kind in (GOAWAY, RST_STREAM, HEADERS) or (kind == DATA and flags & END_STREAM):
                self._keep(kind, flags, stream_id, bytes(buffer[at + 9 : at + 9 + length]))
            at += 9 + length
        del buffer[:at]

    def _keep(self, kind: int, flags: int, stream_id: int, payload: bytes) -> None:
        if kind == GOAWAY and self.goaway is None:
            last, code = struct.unpack_from(">II", payload)
            self.goaway = Goaway(code, last & 0x7FFF_FFFF, payload[8:])
        elif kind == RST_STREAM:
            self.resets[stream_id] = struct.unpack(">I", payload)[0]
        elif kind == HEADERS and self.decoder is not None:
            # gethy never pads or prioritises its HEADERS, nor splits them.
            fields = dict(self.decoder.decode(payload, raw=True))
            if b":status" in fields:
                self.statuses[stream_id] = int(fields[b":status"])
        if flags & END_STREAM and kind in (DATA, HEADERS):
            self.ended.add(stream_id)

    def count(self, kind: int) -> int:
        return self.counts[kind]

    def reset_summary(self) -> str:
        """The RST_STREAMs received, e.g. ``RST_STREAM REFUSED_STREAM x3``; "" if none."""
        codes = Counter(self.resets.values())
        return ", ".join(
            f"RST_STREAM {error_code_name(code)} x{n:,}" for code, n in codes.most_common()
        )
