"""The frames an attacker sends, built by hand, once, as plain bytes.

Built in notebook 08 (errors and attacks); the attack suite in
``benchmarks/attacks`` sends the same frames to a real server.

An attack must cost the attacker little, so its frames are built once as
one ``bytes`` object (`gethy.frames.encode_frame`, RFC 9113 §4.1). A
request's header block names only static HPACK table entries and literals
that are never indexed (RFC 7541 §6.2.3), so the same block is valid on every
stream of every connection: it leaves no trace in the server's decoder.
"""

from __future__ import annotations

import struct

import hpack

from gethy.frames import encode_frame

__all__ = [
    "ACK",
    "CONTINUATION",
    "DATA",
    "END_HEADERS",
    "END_STREAM",
    "GOAWAY",
    "HEADERS",
    "HEADER_TABLE_SIZE",
    "INITIAL_WINDOW_SIZE",
    "MAX_WINDOW",
    "OPEN_WINDOWS",
    "PING",
    "PRIORITY",
    "PUSH_PROMISE",
    "RST_STREAM",
    "SETTINGS",
    "WINDOW_UPDATE",
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
