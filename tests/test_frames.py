"""Tests for gethy.frames, checked against hyperframe (the parser h2 itself uses)."""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

import h2.connection
import hyperframe.frame as hf
import pytest
from hyperframe.exceptions import InvalidPaddingError
from hypothesis import given, settings
from hypothesis import strategies as st

from gethy.frames import (
    CONNECTION_PREFACE,
    ContinuationFrame,
    DataFrame,
    Frame,
    FrameDecodeError,
    FrameHeader,
    FrameReader,
    GoAwayFrame,
    HeadersFrame,
    PingFrame,
    Preface,
    PriorityFrame,
    PushPromiseFrame,
    RstStreamFrame,
    SettingsFrame,
    UnknownFrame,
    WindowUpdateFrame,
    decode_frame_header,
    decode_frames,
    encode_frame,
)

EMPTY_SETTINGS = b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"
MAX_STREAM = 2**31 - 1

OUR_CLASS = {
    "DATA": DataFrame,
    "HEADERS": HeadersFrame,
    "PRIORITY": PriorityFrame,
    "RST_STREAM": RstStreamFrame,
    "SETTINGS": SettingsFrame,
    "PUSH_PROMISE": PushPromiseFrame,
    "PING": PingFrame,
    "GOAWAY": GoAwayFrame,
    "WINDOW_UPDATE": WindowUpdateFrame,
    "CONTINUATION": ContinuationFrame,
}
HYPER_NAME = {
    hf.DataFrame: "DATA",
    hf.HeadersFrame: "HEADERS",
    hf.PriorityFrame: "PRIORITY",
    hf.RstStreamFrame: "RST_STREAM",
    hf.SettingsFrame: "SETTINGS",
    hf.PushPromiseFrame: "PUSH_PROMISE",
    hf.PingFrame: "PING",
    hf.GoAwayFrame: "GOAWAY",
    hf.WindowUpdateFrame: "WINDOW_UPDATE",
    hf.ContinuationFrame: "CONTINUATION",
}


def hyper_parse(raw: bytes) -> tuple[hf.Frame, int]:
    """Parse one frame with hyperframe: header first, then body, as h2 does."""
    frame, length = hf.Frame.parse_frame_header(memoryview(raw[:9]))
    frame.parse_body(memoryview(raw[9 : 9 + length]))
    return frame, length


def decode_one(raw: bytes) -> Frame:
    (frame,) = decode_frames(raw)
    assert isinstance(frame, Frame)
    return frame


def assert_agrees(ours: Frame, theirs: hf.Frame, length: int, raw: bytes) -> None:
    """Every field of our frame matches hyperframe's parse of the same bytes."""
    name = HYPER_NAME[type(theirs)]
    assert type(ours) is OUR_CLASS[name]
    assert ours.type == name
    assert ours.type_code == theirs.type
    assert ours.length == length == len(raw) - 9
    assert ours.stream_id == theirs.stream_id
    assert ours.flag_bits == raw[4]
    assert set(ours.flags) == set(theirs.flags)  # hyperframe: an unordered set of names
    assert len(ours.flags) == len(set(ours.flags))

    agrees = _PAYLOAD_AGREES.get(type(ours))
    if agrees is None:  # pragma: no cover
        pytest.fail(f"no comparison for {ours!r}")
    agrees(ours, theirs, length)


def _hyper_pad(theirs: Any) -> int | None:
    """hyperframe says pad_length=0 when PADDED is absent; we say None."""
    return getattr(theirs, "pad_length", 0) if "PADDED" in theirs.flags else None


def _priority_fields(frame: Any) -> tuple[object, object, object]:
    """hyperframe's names for the priority fields, in our order."""
    return (frame.exclusive, frame.depends_on, frame.stream_weight)


def _data_agrees(ours: DataFrame, theirs: Any, length: int) -> None:
    assert (ours.data, ours.pad_length) == (theirs.data, _hyper_pad(theirs))


def _headers_agrees(ours: HeadersFrame, theirs: Any, length: int) -> None:
    assert (ours.header_block_fragment, ours.pad_length) == (theirs.data, _hyper_pad(theirs))
    ours_priority = (ours.exclusive, ours.stream_dependency, ours.weight)
    if "PRIORITY" in theirs.flags:
        assert ours_priority == _priority_fields(theirs)
    else:  # hyperframe leaves its defaults (False, 0, 0) in place
        assert ours_priority == (None, None, None)


def _priority_agrees(ours: PriorityFrame, theirs: Any, length: int) -> None:
    assert (ours.exclusive, ours.stream_dependency, ours.weight) == _priority_fields(theirs)


def _rst_stream_agrees(ours: RstStreamFrame, theirs: Any, length: int) -> None:
    assert ours.error_code == theirs.error_code


def _settings_agrees(ours: SettingsFrame, theirs: Any, length: int) -> None:
    assert dict(ours.settings) == theirs.settings
    assert len(ours.settings) == length // 6


def _push_promise_agrees(ours: PushPromiseFrame, theirs: Any, length: int) -> None:
    assert (ours.promised_stream_id, ours.header_block_fragment, ours.pad_length) == (
        theirs.promised_stream_id,
        theirs.data,
        _hyper_pad(theirs),
    )


def _ping_agrees(ours: PingFrame, theirs: Any, length: int) -> None:
    assert ours.opaque_data == theirs.opaque_data


def _goaway_agrees(ours: GoAwayFrame, theirs: Any, length: int) -> None:
    assert (ours.last_stream_id, ours.error_code, ours.additional_debug_data) == (
        theirs.last_stream_id,
        theirs.error_code,
        theirs.additional_data,
    )


def _window_update_agrees(ours: WindowUpdateFrame, theirs: Any, length: int) -> None:
    assert ours.window_size_increment == theirs.window_increment


def _continuation_agrees(ours: ContinuationFrame, theirs: Any, length: int) -> None:
    assert ours.header_block_fragment == theirs.data


# The payload fields of each frame type, compared with hyperframe's names for them.
_PAYLOAD_AGREES: dict[type[Frame], Callable[[Any, Any, int], None]] = {
    DataFrame: _data_agrees,
    HeadersFrame: _headers_agrees,
    PriorityFrame: _priority_agrees,
    RstStreamFrame: _rst_stream_agrees,
    SettingsFrame: _settings_agrees,
    PushPromiseFrame: _push_promise_agrees,
    PingFrame: _ping_agrees,
    GoAwayFrame: _goaway_agrees,
    WindowUpdateFrame: _window_update_agrees,
    ContinuationFrame: _continuation_agrees,
}


def check_against_hyperframe(frame: hf.Frame) -> Frame:
    raw = frame.serialize()
    theirs, length = hyper_parse(raw)
    ours = decode_one(raw)
    assert_agrees(ours, theirs, length, raw)
    return ours


# --- hand-picked frames of all ten types, with padding and flags ------------

PRIORITY_KW = {"depends_on": 3, "stream_weight": 200, "exclusive": True}
HYPER_EXAMPLES = [
    hf.DataFrame(1, data=b"hello"),
    hf.DataFrame(1, data=b"hello", flags=["END_STREAM"]),
    hf.DataFrame(3, data=b"x" * 100, pad_length=10, flags=["PADDED", "END_STREAM"]),
    hf.DataFrame(5, data=b"", pad_length=7, flags=["PADDED"]),
    hf.DataFrame(5, data=b"abc", pad_length=0, flags=["PADDED"]),
    hf.DataFrame(MAX_STREAM, data=b""),
    hf.HeadersFrame(1, data=b"\x82\x86\x84", flags=["END_STREAM", "END_HEADERS"]),
    hf.HeadersFrame(1, data=b"\x82", flags=["END_HEADERS", "PADDED"], pad_length=4),
    hf.HeadersFrame(1, data=b"\x82", flags=["PRIORITY"], **PRIORITY_KW),
    hf.HeadersFrame(
        7,
        data=b"\x82\x86",
        flags=["END_STREAM", "END_HEADERS", "PADDED", "PRIORITY"],
        pad_length=255,
        **PRIORITY_KW,
    ),
    hf.HeadersFrame(1, data=b"", flags=["PRIORITY", "PADDED"], pad_length=2, depends_on=0),
    hf.PriorityFrame(3, depends_on=1, stream_weight=15),
    hf.PriorityFrame(3, depends_on=MAX_STREAM, stream_weight=255, exclusive=True),
    hf.RstStreamFrame(1, error_code=8),
    hf.RstStreamFrame(1, error_code=0xFFFFFFFF),
    hf.SettingsFrame(0),
    hf.SettingsFrame(0, flags=["ACK"]),
    hf.SettingsFrame(0, settings={3: 100, 4: 65535}),
    hf.SettingsFrame(0, settings={1: 4096, 2: 0, 5: 16384, 6: 2**32 - 1, 8: 1, 0xFE: 7}),
    hf.PushPromiseFrame(1, promised_stream_id=2, data=b"\x82\x87", flags=["END_HEADERS"]),
    hf.PushPromiseFrame(
        1, promised_stream_id=2**31 - 2, data=b"\x82", pad_length=5, flags=["PADDED"]
    ),
    hf.PushPromiseFrame(3, promised_stream_id=4, data=b"", pad_length=9, flags=["PADDED"]),
    hf.PingFrame(0, opaque_data=b"12345678"),
    hf.PingFrame(0, opaque_data=b"\xff" * 8, flags=["ACK"]),
    hf.GoAwayFrame(0, last_stream_id=0, error_code=0),
    hf.GoAwayFrame(0, last_stream_id=MAX_STREAM, error_code=1, additional_data=b"bye now"),
    hf.WindowUpdateFrame(0, window_increment=65535),
    hf.WindowUpdateFrame(9, window_increment=MAX_STREAM),
    hf.ContinuationFrame(1, data=b"\x41\x01x"),
    hf.ContinuationFrame(1, data=b"\x41\x01x", flags=["END_HEADERS"]),
]


def _example_id(frame: hf.Frame) -> str:
    return f"{HYPER_NAME[type(frame)]}-{'+'.join(sorted(frame.flags)) or 'noflags'}"


@pytest.mark.parametrize("frame", HYPER_EXAMPLES, ids=_example_id)
def test_hyperframe_examples_decode_identically(frame: hf.Frame) -> None:
    check_against_hyperframe(frame)


def test_examples_cover_all_ten_types_with_every_flag() -> None:
    assert {HYPER_NAME[type(f)] for f in HYPER_EXAMPLES} == set(OUR_CLASS)
    for frame_class, name in HYPER_NAME.items():
        seen = set().union(*(f.flags for f in HYPER_EXAMPLES if type(f) is frame_class))
        assert seen == {flag.name for flag in frame_class.defined_flags}, name


@pytest.mark.parametrize("frame", HYPER_EXAMPLES, ids=_example_id)
def test_encode_frame_builds_what_hyperframe_builds(frame: hf.Frame) -> None:
    expected = frame.serialize()
    name, body = HYPER_NAME[type(frame)], frame.serialize_body()

    by_names = encode_frame(name, sorted(frame.flags), frame.stream_id, body)
    by_ints = encode_frame(frame.type, expected[4], frame.stream_id, body)
    assert by_names == by_ints == expected

    theirs, length = hyper_parse(by_names)
    original, _ = hyper_parse(expected)
    assert length == len(body)
    assert repr(theirs) == repr(original)  # hyperframe's repr shows every parsed field


def test_encode_frame_accepts_a_single_flag_name_and_rejects_nonsense() -> None:
    assert encode_frame("DATA", "END_STREAM", 1, b"hi") == encode_frame(0, 1, 1, b"hi")
    with pytest.raises(ValueError, match="ACK"):
        encode_frame("DATA", ["ACK"], 1)
    with pytest.raises(ValueError, match="BOGUS"):
        encode_frame("BOGUS")
    with pytest.raises(ValueError, match="31 bits"):
        encode_frame("DATA", 0, 2**31)
    with pytest.raises(ValueError, match="8 bits"):
        encode_frame("DATA", 0x100, 1)
    with pytest.raises(ValueError, match="8 bits"):
        encode_frame(0x100)


# --- basics and reprs --------------------------------------------------------


def test_empty_settings_frame() -> None:
    (frame,) = decode_frames(EMPTY_SETTINGS)
    assert isinstance(frame, SettingsFrame)
    assert frame.type == "SETTINGS"
    assert (frame.stream_id, frame.length, frame.flags, frame.flag_bits) == (0, 0, (), 0)
    assert frame.settings == ()
    assert repr(frame) == "<SETTINGS stream=0 length=0 flags=()>"


def test_decode_frame_header() -> None:
    header = decode_frame_header(EMPTY_SETTINGS + b"ignored")
    assert header == FrameHeader(length=0, type_code=4, flag_bits=0, stream_id=0)
    assert header.type == "SETTINGS"
    big = decode_frame_header(b"\x01\x02\x03\x00\x09\x80\x00\x00\x05")
    assert (big.length, big.type, big.flags, big.stream_id) == (
        0x010203,
        "DATA",
        ("END_STREAM", "PADDED"),
        5,  # the reserved bit is ignored
    )
    with pytest.raises(FrameDecodeError, match="9 bytes"):
        decode_frame_header(EMPTY_SETTINGS[:8])


def test_reprs() -> None:
    settings_frame = hf.SettingsFrame(0, settings={3: 100, 4: 65535}).serialize()
    assert repr(decode_one(settings_frame)) == (
        "<SETTINGS stream=0 length=12 flags=() settings=[SETTINGS_MAX_CONCURRENT_STREAMS=100,"
        " SETTINGS_INITIAL_WINDOW_SIZE=65535]>"
    )
    hello = encode_frame("DATA", ["END_STREAM"], 1, b"hello")
    assert repr(decode_one(hello)) == "<DATA stream=1 length=5 flags=(END_STREAM) data=b'hello'>"
    window = hf.WindowUpdateFrame(0, window_increment=65535).serialize()
    assert repr(decode_one(window)) == "<WINDOW_UPDATE stream=0 length=4 flags=() increment=65535>"
    long = decode_one(encode_frame("DATA", 0, 1, b"a" * 32 + b"b" * 68))
    assert repr(long) == f"<DATA stream=1 length=100 flags=() data={b'a' * 32!r}...+68 bytes>"
    reset = decode_one(hf.RstStreamFrame(1, error_code=8).serialize())
    assert reset.error_name == "CANCEL"
    assert repr(reset) == "<RST_STREAM stream=1 length=4 flags=() error=CANCEL>"
    goaway = decode_one(hf.GoAwayFrame(0, error_code=0x1234).serialize())
    assert repr(goaway) == "<GOAWAY stream=0 length=8 flags=() last_stream=0 error=0x1234>"
    assert repr(Preface()) == f"<PREFACE {CONNECTION_PREFACE!r}>"


def test_frames_are_frozen() -> None:
    frame = decode_one(EMPTY_SETTINGS)
    with pytest.raises(AttributeError):
        frame.stream_id = 1  # type: ignore[misc]


def test_preface_then_frames() -> None:
    data = CONNECTION_PREFACE + EMPTY_SETTINGS + encode_frame("PING", 0, 0, b"12345678")
    frames = decode_frames(data)
    assert [f.type for f in frames] == ["PREFACE", "SETTINGS", "PING"]
    assert frames[0] == Preface()
    assert isinstance(frames[2], PingFrame)
    assert frames[2].opaque_data == b"12345678"


def test_preface_is_only_recognised_at_the_start() -> None:
    with pytest.raises(FrameDecodeError):
        decode_frames(EMPTY_SETTINGS + CONNECTION_PREFACE)


def test_unknown_frame_type() -> None:
    raw = encode_frame(0xFA, 0x05, 3, b"extension")
    frame = decode_one(raw)
    assert isinstance(frame, UnknownFrame)
    assert (frame.type, frame.type_code, frame.flag_bits, frame.flags) == ("UNKNOWN", 0xFA, 5, ())
    assert (frame.stream_id, frame.length, frame.payload) == (3, 9, b"extension")
    assert repr(frame) == (
        "<UNKNOWN type=0xfa stream=3 length=9 flag_bits=0x05 payload=b'extension'>"
    )
    theirs, _ = hyper_parse(raw)  # hyperframe agrees: an ExtensionFrame, not an error
    assert isinstance(theirs, hf.ExtensionFrame)
    assert (theirs.type, theirs.flag_byte, theirs.body) == (0xFA, 5, b"extension")


def test_undefined_flag_bits_are_kept_but_not_named() -> None:
    frame = decode_one(encode_frame("PING", 0xFF, 0, b"12345678"))
    assert frame.flag_bits == 0xFF
    assert frame.flags == ("ACK",)


def test_real_h2_client_traffic() -> None:
    conn = h2.connection.H2Connection()  # client side by default
    conn.initiate_connection()
    request = [(":method", "GET"), (":path", "/"), (":scheme", "http"), (":authority", "x")]
    conn.send_headers(1, request, end_stream=True)
    frames = decode_frames(conn.data_to_send())

    assert frames[0] == Preface()
    assert isinstance(frames[1], SettingsFrame)
    assert frames[1].stream_id == 0
    assert "ACK" not in frames[1].flags
    assert dict(frames[1].settings)[4] == conn.local_settings.initial_window_size
    rest = frames[2:]
    if isinstance(rest[0], WindowUpdateFrame):
        rest = rest[1:]
    (headers,) = rest
    assert isinstance(headers, HeadersFrame)
    assert headers.stream_id == 1
    assert set(headers.flags) == {"END_STREAM", "END_HEADERS"}
    assert headers.header_block_fragment  # HPACK bytes, decoded elsewhere


def test_settings_keep_order_duplicates_and_16_bit_identifiers() -> None:
    body = struct.pack(">HIHIHI", 4, 100, 0x1234, 7, 4, 200)
    frame = decode_one(encode_frame("SETTINGS", 0, 0, body))
    assert isinstance(frame, SettingsFrame)
    assert frame.settings == ((4, 100), (0x1234, 7), (4, 200))
    assert "0x1234=7" in repr(frame)
    theirs, _ = hyper_parse(encode_frame("SETTINGS", 0, 0, body))
    assert theirs.settings == {4: 200, 0x1234: 7}  # a dict: the duplicate is lost


def test_reserved_bits_are_ignored() -> None:
    frame = decode_one(encode_frame("WINDOW_UPDATE", 0, 1, b"\x80\x00\x00\x0a"))
    assert frame.window_size_increment == 10
    goaway = decode_one(encode_frame("GOAWAY", 0, 0, b"\x80\x00\x00\x03\x00\x00\x00\x00"))
    assert goaway.last_stream_id == 3
    push = decode_one(encode_frame("PUSH_PROMISE", 0, 1, b"\x80\x00\x00\x02"))
    assert push.promised_stream_id == 2


def test_protocol_errors_still_decode() -> None:
    # DATA on stream 0 breaks RFC 9113 §6.1 but is well framed; h2 rejects it, not us.
    frame = decode_one(encode_frame("DATA", 0, 0, b"x"))
    assert (frame.type, frame.stream_id) == ("DATA", 0)
    zero_window = decode_one(encode_frame("WINDOW_UPDATE", 0, 0, bytes(4)))
    assert zero_window.window_size_increment == 0


def test_headers_padding_that_exactly_fills_the_payload() -> None:
    """RFC 9113 §6.2 allows an empty fragment plus padding; hyperframe rejects it."""
    raw = hf.HeadersFrame(1, data=b"", pad_length=3, flags=["PADDED"]).serialize()
    frame = decode_one(raw)
    assert (frame.pad_length, frame.header_block_fragment) == (3, b"")
    with pytest.raises(InvalidPaddingError):
        hyper_parse(raw)


# --- malformed and truncated input -------------------------------------------

MALFORMED = [
    ("SETTINGS", 0, 0, b"\x00" * 7, "multiple of 6"),
    ("SETTINGS", ["ACK"], 0, b"\x00" * 6, "ACK"),
    ("PING", 0, 0, b"1234567", "8"),
    ("PING", 0, 0, b"123456789", "8"),
    ("WINDOW_UPDATE", 0, 0, b"\x00\x00\x01", "4"),
    ("WINDOW_UPDATE", 0, 0, b"\x00\x00\x00\x01\x00", "4"),
    ("RST_STREAM", 0, 1, b"\x00\x00\x08", "4"),
    ("PRIORITY", 0, 1, b"\x00\x00\x00\x01", "5"),
    ("PRIORITY", 0, 1, b"\x00\x00\x00\x01\x10\x00", "5"),
    ("GOAWAY", 0, 0, b"\x00" * 7, "8"),
    ("DATA", ["PADDED"], 1, b"\x05abc", "padding"),
    ("DATA", ["PADDED"], 1, b"\x01", "padding"),
    ("DATA", ["PADDED"], 1, b"", "too short"),
    ("HEADERS", ["PADDED"], 1, b"\x04abc", "padding"),
    ("HEADERS", ["PRIORITY"], 1, b"\x00\x00\x00", "too short"),
    ("HEADERS", ["PADDED", "PRIORITY"], 1, b"\x01\x00\x00\x00\x03\x10", "padding"),
    ("PUSH_PROMISE", 0, 1, b"\x00\x00\x02", "too short"),
    ("PUSH_PROMISE", ["PADDED"], 1, b"\x02\x00\x00\x00\x02\x00", "padding"),
]


@pytest.mark.parametrize(("name", "flags", "stream", "payload", "detail"), MALFORMED)
def test_malformed_frames_raise(
    name: str, flags: int | list[str], stream: int, payload: bytes, detail: str
) -> None:
    raw = encode_frame(name, flags, stream, payload)
    with pytest.raises(FrameDecodeError, match=f"{name}.*{detail}") as info:
        decode_frames(raw)
    assert isinstance(info.value, ValueError)
    with pytest.raises(FrameDecodeError, match=name):
        FrameReader().feed(raw)


def test_malformed_frame_message_says_where_and_keeps_earlier_frames() -> None:
    data = CONNECTION_PREFACE + EMPTY_SETTINGS + encode_frame("PING", 0, 0, b"short")
    with pytest.raises(FrameDecodeError, match="PING.*byte 33") as info:
        decode_frames(data)
    assert [f.type for f in info.value.frames] == ["PREFACE", "SETTINGS"]


@pytest.mark.parametrize(
    ("data", "pattern"),
    [
        (EMPTY_SETTINGS[:5], "frame header"),
        (EMPTY_SETTINGS + EMPTY_SETTINGS[:8], "frame header at byte 9"),
        (encode_frame("SETTINGS", 0, 0, bytes(12))[:-1], "SETTINGS.*length 12.*11"),
        (encode_frame("DATA", 0, 1, b"hello")[:10], "DATA"),
        (CONNECTION_PREFACE[:10], "preface"),
    ],
)
def test_truncated_input_raises(data: bytes, pattern: str) -> None:
    with pytest.raises(FrameDecodeError, match=pattern):
        decode_frames(data)


def test_reader_waits_for_partial_frames_and_rejects_a_wrong_preface() -> None:
    reader = FrameReader(expect_preface=True)
    assert reader.feed(CONNECTION_PREFACE[:5]) == []
    assert reader.feed(CONNECTION_PREFACE[5:] + EMPTY_SETTINGS[:4]) == [Preface()]
    assert reader.pending == 4
    assert reader.feed(EMPTY_SETTINGS[4:]) == [decode_one(EMPTY_SETTINGS)]
    assert reader.pending == 0
    reader.finish()

    with pytest.raises(FrameDecodeError, match="preface"):
        FrameReader(expect_preface=True).feed(b"GET / HTTP/1.1\r\n")
    with pytest.raises(FrameDecodeError, match="SETTINGS"):
        truncated = FrameReader()
        truncated.feed(encode_frame("SETTINGS", 0, 0, bytes(6))[:-2])
        truncated.finish()


# --- property tests: random frames, random chunking ---------------------------

stream_ids = st.integers(1, MAX_STREAM)
payloads = st.binary(max_size=300)
pads = st.one_of(st.none(), st.integers(0, 255))
priorities = st.fixed_dictionaries(
    {
        "depends_on": st.integers(0, MAX_STREAM),
        "stream_weight": st.integers(0, 255),
        "exclusive": st.booleans(),
    }
)


def _flags(*names: str) -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(names), unique=True)


def _padded(flags: list[str], pad: int | None) -> dict[str, object]:
    if pad is None:
        return {"flags": flags}
    return {"flags": [*flags, "PADDED"], "pad_length": pad}


@st.composite
def hyper_frames(draw: st.DrawFn) -> hf.Frame:
    """Any of the ten frame types, built and serialised by hyperframe."""
    kind = draw(st.sampled_from(sorted(OUR_CLASS)))
    return _HYPER_BUILDERS[kind](draw)


def _draw_data(draw: st.DrawFn) -> hf.Frame:
    flags = _padded(draw(_flags("END_STREAM")), draw(pads))
    return hf.DataFrame(draw(stream_ids), data=draw(payloads), **flags)


def _draw_headers(draw: st.DrawFn) -> hf.Frame:
    kwargs = _padded(draw(_flags("END_STREAM", "END_HEADERS")), draw(pads))
    if draw(st.booleans()):
        kwargs["flags"] = [*kwargs["flags"], "PRIORITY"]
        kwargs.update(draw(priorities))
    return hf.HeadersFrame(draw(stream_ids), data=draw(payloads), **kwargs)


def _draw_priority(draw: st.DrawFn) -> hf.Frame:
    return hf.PriorityFrame(draw(stream_ids), **draw(priorities))


def _draw_rst_stream(draw: st.DrawFn) -> hf.Frame:
    return hf.RstStreamFrame(draw(stream_ids), error_code=draw(st.integers(0, 2**32 - 1)))


def _draw_settings(draw: st.DrawFn) -> hf.Frame:
    if draw(st.booleans()):
        return hf.SettingsFrame(0, flags=["ACK"])
    # hyperframe serialises identifiers as `id & 0xFF`, so stay below 256 here.
    values = st.dictionaries(st.integers(0, 255), st.integers(0, 2**32 - 1), max_size=10)
    return hf.SettingsFrame(0, settings=draw(values))


def _draw_push_promise(draw: st.DrawFn) -> hf.Frame:
    flags = _padded(draw(_flags("END_HEADERS")), draw(pads))
    promised = 2 * draw(st.integers(1, MAX_STREAM // 2))  # hyperframe insists on even
    return hf.PushPromiseFrame(
        draw(stream_ids), promised_stream_id=promised, data=draw(payloads), **flags
    )


def _draw_ping(draw: st.DrawFn) -> hf.Frame:
    return hf.PingFrame(
        0, opaque_data=draw(st.binary(min_size=8, max_size=8)), flags=draw(_flags("ACK"))
    )


def _draw_goaway(draw: st.DrawFn) -> hf.Frame:
    return hf.GoAwayFrame(
        0,
        last_stream_id=draw(st.integers(0, MAX_STREAM)),
        error_code=draw(st.integers(0, 2**32 - 1)),
        additional_data=draw(payloads),
    )


def _draw_window_update(draw: st.DrawFn) -> hf.Frame:
    return hf.WindowUpdateFrame(
        draw(st.integers(0, MAX_STREAM)), window_increment=draw(st.integers(1, MAX_STREAM))
    )


def _draw_continuation(draw: st.DrawFn) -> hf.Frame:
    return hf.ContinuationFrame(
        draw(stream_ids), data=draw(payloads), flags=draw(_flags("END_HEADERS"))
    )


# One builder per frame type, by the names `OUR_CLASS` uses.
_HYPER_BUILDERS: dict[str, Callable[[st.DrawFn], hf.Frame]] = {
    "DATA": _draw_data,
    "HEADERS": _draw_headers,
    "PRIORITY": _draw_priority,
    "RST_STREAM": _draw_rst_stream,
    "SETTINGS": _draw_settings,
    "PUSH_PROMISE": _draw_push_promise,
    "PING": _draw_ping,
    "GOAWAY": _draw_goaway,
    "WINDOW_UPDATE": _draw_window_update,
    "CONTINUATION": _draw_continuation,
}


def _hyperframe_rejects_own_padding(frame: hf.Frame) -> bool:
    """hyperframe cannot parse a padded HEADERS frame with an empty block (see above)."""
    return (
        isinstance(frame, hf.HeadersFrame)
        and "PADDED" in frame.flags
        and "PRIORITY" not in frame.flags
        and frame.pad_length > 0
        and not frame.data
    )


@settings(deadline=None)
@given(hyper_frames())
def test_random_frames_agree_with_hyperframe(frame: hf.Frame) -> None:
    if _hyperframe_rejects_own_padding(frame):
        ours = decode_one(frame.serialize())
        assert (ours.header_block_fragment, ours.pad_length) == (b"", frame.pad_length)
        return
    check_against_hyperframe(frame)


@settings(deadline=None)
@given(
    preface=st.booleans(),
    frames=st.lists(hyper_frames(), max_size=8),
    unknown=st.lists(st.tuples(st.integers(0x0A, 0xFF), st.integers(0, 255), payloads)),
    data=st.data(),
)
def test_reader_in_random_chunks_matches_decode_frames(
    preface: bool,
    frames: list[hf.Frame],
    unknown: list[tuple[int, int, bytes]],
    data: st.DataObject,
) -> None:
    pieces = [f.serialize() for f in frames] + [encode_frame(t, b, 0, p) for t, b, p in unknown]
    pieces = data.draw(st.permutations(pieces))
    stream = (CONNECTION_PREFACE if preface else b"") + b"".join(pieces)

    whole = decode_frames(stream)
    assert len(whole) == len(pieces) + preface
    for ours, piece in zip(whole[preface:], pieces, strict=True):
        assert ours.length == len(piece) - 9
        assert (ours.type_code, ours.flag_bits) == (piece[3], piece[4])

    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=20)))
    reader = FrameReader(expect_preface=preface)
    chunked: list[Preface | Frame] = []
    for start, end in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        chunked += reader.feed(stream[start:end])
        consumed = sum(24 if isinstance(f, Preface) else 9 + f.length for f in chunked)
        assert reader.pending == end - consumed  # only the unfinished frame is kept
    reader.finish()
    assert chunked == whole


@settings(deadline=None)
@given(st.lists(hyper_frames(), min_size=1, max_size=5))
def test_reader_fed_one_byte_at_a_time(frames: list[hf.Frame]) -> None:
    stream = b"".join(f.serialize() for f in frames)
    reader = FrameReader()
    decoded = []
    for i in range(len(stream)):
        decoded += reader.feed(stream[i : i + 1])
    assert decoded == decode_frames(stream)
    assert [f.type for f in decoded] == [HYPER_NAME[type(f)] for f in frames]
