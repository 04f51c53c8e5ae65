"""Frames the attacker sends, built once, and a cheap reading of what the server answers.

An attack must cost the attacker little, or the machine it shares with the
server (2 cores) would measure the attacker. So the frames of a flood are
built once as one ``bytes`` object by `gethy.attackwire` (shared with notebook
08, which runs the same attacks in memory), and `FrameScanner` reads only the 9-byte frame headers
of the answer, plus the few payloads that say how it ended (GOAWAY,
RST_STREAM, and a response's ``:status`` when asked).
"""

from __future__ import annotations

import struct
from collections import Counter
from dataclasses import dataclass

import hpack

from gethy.attackwire import (
    ACK,
    CONTINUATION,
    DATA,
    END_HEADERS,
    END_STREAM,
    GOAWAY,
    HEADER_TABLE_SIZE,
    HEADERS,
    INITIAL_WINDOW_SIZE,
    MAX_WINDOW,
    OPEN_WINDOWS,
    PING,
    PRIORITY,
    PUSH_PROMISE,
    RST_STREAM,
    SETTINGS,
    WINDOW_UPDATE,
    headers_frame,
    hpack_integer,
    hpack_string,
    request_block,
    rst_stream,
    settings_frame,
    split_block,
    window_update,
)
from gethy.frames import CONNECTION_PREFACE, encode_frame, error_code_name

__all__ = [
    "ACK",
    "CONNECTION_PREFACE",
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
