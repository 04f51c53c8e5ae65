"""The checks of notebook 01 (frames by hand): the learner's `FrameHeader` (parse and
build), `parse_settings` and `window_update`.

Each check tries the learner's code on frames whose bytes are written out in
the check, and says which bytes were tried when an answer is wrong.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

from gethy.checkrun import exception_name
from gethy.exercises import CheckFailed, attempt, expect, passed
from gethy.frames import CONNECTION_PREFACE
from gethy.protocol import HTTP2Protocol

EMPTY_SETTINGS = b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"
BUSY = bytes.fromhex("00 01 2c  01  05  80 00 00 05")  # HEADERS, 300 bytes, flags 0x05, stream 5


def header_fields(header: object) -> tuple:
    """(length, type_code, flag_bits, stream_id) of any header-like object."""
    return tuple(
        getattr(header, name, None) for name in ("length", "type_code", "flag_bits", "stream_id")
    )


def _parses(frame_header: type, data: bytes, expected: tuple[int, int, int, int]) -> None:
    call = f"FrameHeader.parse({data[:9].hex(' ')}{' ...' if len(data) > 9 else ''})"
    got = attempt(call, lambda: frame_header.parse(data))
    expect(f"{call}: (length, type_code, flag_bits, stream_id)", expected, header_fields(got))


def _refuses(what: str, action: Callable[[], object], why: str) -> None:
    try:
        got = action()
    except ValueError:
        return
    except Exception as exc:
        raise CheckFailed(
            f"{what}: raised {exception_name(exc)} ({exc}); expected ValueError: {why}"
        ) from None
    raise CheckFailed(f"{what}: returned {got!r}; expected ValueError: {why}")


def check_parse(frame_header: type) -> None:
    """Exercise 1.1: `FrameHeader.parse` reads the four fields of a 9-byte header."""
    _parses(frame_header, EMPTY_SETTINGS, (0, 4, 0, 0))
    _parses(frame_header, BUSY, (300, 1, 0x05, 5))
    _parses(frame_header, b"\xff" * 9 + b"payload follows", (2**24 - 1, 255, 255, 2**31 - 1))
    short = EMPTY_SETTINGS[:8]
    _refuses(
        f"FrameHeader.parse of 8 bytes ({short.hex(' ')})",
        lambda: frame_header.parse(short),
        "a header is 9 bytes",
    )
    passed("1.1")


def hidden_parse(frame_header: type) -> None:
    # A DATA frame header (flag PADDED) on the largest stream id, exactly 9 bytes.
    _parses(frame_header, bytes.fromhex("00 40 00 00 08 7f ff ff ff"), (16_384, 0, 0x08, 2**31 - 1))
    # The reserved bit set on stream 0 must not leak into the stream id.
    _parses(frame_header, bytes.fromhex("00 00 08 06 01 80 00 00 00") + b"12345678", (8, 6, 1, 0))
    _refuses("FrameHeader.parse(b'')", lambda: frame_header.parse(b""), "a header is 9 bytes")


def _builds(frame_header: type, fields: tuple[int, int, int, int], expected: bytes) -> None:
    call = f"FrameHeader{fields}.build()"
    got = attempt(call, lambda: frame_header(*fields).build())
    if got != expected:
        shown = got.hex(" ") if isinstance(got, bytes | bytearray) else repr(got)
        raise CheckFailed(f"{call}:\n  expected {expected.hex(' ')}\n  got      {shown}")


def check_build(frame_header: type) -> None:
    """Exercise 1.2: `FrameHeader.build` writes the 9 bytes back; impossible fields refused."""
    _builds(frame_header, (0, 4, 0, 0), EMPTY_SETTINGS)
    _builds(frame_header, (300, 1, 0x05, 5), bytes.fromhex("00 01 2c 01 05 00 00 00 05"))
    _builds(
        frame_header, (2**24 - 1, 0, 0x08, 2**31 - 1), bytes.fromhex("ff ff ff 00 08 7f ff ff ff")
    )
    _refuses(
        "FrameHeader(2**24, 0, 0, 1).build()",
        lambda: frame_header(2**24, 0, 0, 1).build(),
        "the length field has 24 bits",
    )
    passed("1.2")


def hidden_build(frame_header: type) -> None:
    for fields, why in [
        ((0, 0, 0, 2**31), "a stream id has 31 bits; the reserved bit is never sent set"),
        ((0, 256, 0, 1), "the type is one byte"),
        ((0, 0, 256, 1), "the flags are one byte"),
        ((-1, 0, 0, 1), "a length is never negative"),
    ]:
        _refuses(f"FrameHeader{fields}.build()", lambda f=fields: frame_header(*f).build(), why)


def _settings(parse_settings: Callable, data: bytes, expected: dict[int, int]) -> None:
    call = f"parse_settings({data.hex(' ')})"
    expect(call, expected, attempt(call, lambda: parse_settings(data)))


def check_parse_settings(parse_settings: Callable[[bytes], dict[int, int]]) -> None:
    """Exercise 1.3: a SETTINGS payload as {identifier: value}; a broken one refused."""
    three = struct.pack(">HIHIHI", 0x3, 100, 0x4, 1_048_576, 0x5, 32_768)
    _settings(parse_settings, three, {0x3: 100, 0x4: 1_048_576, 0x5: 32_768})
    _settings(parse_settings, b"", {})
    _settings(parse_settings, struct.pack(">HIHI", 0x4, 1, 0x4, 2), {0x4: 2})
    preface = HTTP2Protocol().data_to_send()[9:]
    got = attempt("parse_settings(gethy's preface payload)", lambda: parse_settings(preface))
    expect("gethy's preface: MAX_CONCURRENT_STREAMS (id 0x3)", 100, got.get(0x3))
    broken = three[:-1]
    _refuses(
        f"parse_settings of {len(broken)} bytes",
        lambda: parse_settings(broken),
        "not whole 6-byte settings (§6.5)",
    )
    passed("1.3")


def hidden_parse_settings(parse_settings: Callable[[bytes], dict[int, int]]) -> None:
    # Unknown identifiers are reported too, and a value uses all 32 bits.
    _settings(
        parse_settings, struct.pack(">HIHI", 0x99, 7, 0x4, 2**31 - 1), {0x99: 7, 0x4: 2**31 - 1}
    )
    _settings(parse_settings, struct.pack(">HI", 0x6, 2**32 - 1), {0x6: 2**32 - 1})
    for size in (5, 7, 13):
        _refuses(
            f"parse_settings of {size} bytes",
            lambda n=size: parse_settings(bytes(n)),
            "not whole settings",
        )


def _window_frame(window_update: Callable, stream_id: int, increment: int, expected: bytes) -> None:
    call = f"window_update({stream_id}, {increment:_})"
    got = attempt(call, lambda: window_update(stream_id, increment))
    if got != expected:
        shown = got.hex(" ") if isinstance(got, bytes | bytearray) else repr(got)
        raise CheckFailed(f"{call}:\n  expected {expected.hex(' ')}\n  got      {shown}")


def _bad_increment(window_update: Callable, increment: int) -> None:
    why = "the increment must be 1 to 2**31 - 1 (RFC 9113 §6.9); check it before packing"
    _refuses(f"window_update(1, {increment:_})", lambda: window_update(1, increment), why)


def check_window_update(window_update: Callable[[int, int], bytes]) -> None:
    """Exercise 1.4: the 13 bytes of a WINDOW_UPDATE frame; a bad increment refused."""
    _window_frame(window_update, 0, 100_000, bytes.fromhex("000004 08 00 00000000 000186a0"))
    _window_frame(window_update, 3, 1, bytes.fromhex("000004 08 00 00000003 00000001"))
    server = HTTP2Protocol()
    server.receive(CONNECTION_PREFACE + EMPTY_SETTINGS)
    frame = attempt("window_update(0, 1_000)", lambda: window_update(0, 1_000))
    server.receive(frame)
    expect(
        "gethy's send window after your window_update(0, 1_000)",
        65_535 + 1_000,
        server.send_window(),
    )
    expect("and the connection still open", False, server.terminated)
    for bad in (0, 2**31):
        _bad_increment(window_update, bad)
    passed("1.4")


def hidden_window_update(window_update: Callable[[int, int], bytes]) -> None:
    _window_frame(window_update, 0, 2**31 - 1, bytes.fromhex("000004 08 00 00000000 7fffffff"))
    # Negative increments: packed with ">i" they become bytes such as ff ff ff fb.
    for bad in (-1, -5, -(2**31)):
        _bad_increment(window_update, bad)
