"""RFC 9218 priorities: the `priority` field parsed (`gethy.priority`) and honoured
(`gethy.scheduler.PriorityOutbound`, inside `HTTP2Protocol`)."""

from __future__ import annotations

import pytest
from h2.settings import SettingCodes

from gethy import HTTP2Protocol
from gethy.checks import pattern
from gethy.frames import encode_frame
from gethy.outbound import Pending
from gethy.pair import InMemoryPair
from gethy.priority import (
    DEFAULT_PRIORITY,
    Priority,
    StructuredFieldError,
    Token,
    parse_dictionary,
    parse_priority,
    request_priority,
)
from gethy.scheduler import UNSIGNALLED, PriorityOutbound

# ------------------------------------------------------------------ parsing


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("u=0", Priority(0, False)),  # RFC 9218 §4.1's example
        ("u=5, i", Priority(5, True)),  # §4.2's example
        ("i", Priority(3, True)),
        ("i=?0, u=7", Priority(7, False)),
        ("i=?1", Priority(3, True)),
        ("  u=2 ,\ti  ", Priority(2, True)),  # OWS around members, SP at the ends
        ("u=1, u=6", Priority(6, False)),  # a key given twice: the last wins (RFC 8941)
        ("u=4;x=1, foo=bar, i;q", Priority(4, True)),  # parameters and unknown keys ignored
        ('x="a,b", u=1', Priority(1, False)),  # a comma inside a string is not a separator
        ("u=01", Priority(1, False)),  # an sf-integer may have leading zeros
        # Out of range or of another type: that member is ignored (§4), the rest counts.
        ("u=8, i", Priority(3, True)),
        ("u=-1", DEFAULT_PRIORITY),
        ("u=2.0", DEFAULT_PRIORITY),
        ('u="2"', DEFAULT_PRIORITY),
        ("u=?1", DEFAULT_PRIORITY),  # a boolean is not an integer (though Python's bool is)
        ("u=(1 2), i", Priority(3, True)),
        ("i=1, u=0", Priority(0, False)),
        ("i=yes", DEFAULT_PRIORITY),
        # Not a Dictionary at all: the whole field is ignored (§5).
        ("u=1,", DEFAULT_PRIORITY),
        ("u=1,,i", DEFAULT_PRIORITY),
        ("u = 1", DEFAULT_PRIORITY),
        ("U=1", DEFAULT_PRIORITY),
        ("u=1, i=?2", DEFAULT_PRIORITY),
        ("u=", DEFAULT_PRIORITY),
        ("u=1 i", DEFAULT_PRIORITY),
        ('u=1, x="unterminated', DEFAULT_PRIORITY),
        ("u=1234567890123456", DEFAULT_PRIORITY),  # 16 digits: not an sf-integer
        ("", DEFAULT_PRIORITY),
        (None, DEFAULT_PRIORITY),
    ],
)
def test_parse_priority(value, expected):
    assert parse_priority(value) == expected


def test_parse_dictionary_keeps_each_type_apart():
    parsed = parse_dictionary('a=1, b=2.5, c="s\\"q", d=tok/en, e=:aGk=:, f=?0, g, h=(1 "x");p')
    assert parsed == {
        "a": 1,
        "b": 2.5,
        "c": 's"q',
        "d": "tok/en",
        "e": b"aGk=",
        "f": False,
        "g": True,
        "h": (1, "x"),
    }
    assert isinstance(parsed["d"], Token) and not isinstance(parsed["c"], Token)


@pytest.mark.parametrize("value", ["a=1.", "a=1.2345", 'a="\\x"', "a=(1,2)", "a=?", "a;B=1"])
def test_parse_dictionary_refuses_what_rfc_8941_refuses(value):
    with pytest.raises(StructuredFieldError):
        parse_dictionary(value)


def test_request_priority_joins_field_lines_and_says_none_when_absent():
    assert request_priority([(":path", "/"), ("accept", "*/*")]) is None
    both = [("priority", "u=1"), ("accept", "*/*"), ("priority", "i")]
    assert request_priority(both) == Priority(1, True)  # one list (RFC 9110 §5.3)
    assert request_priority([("priority", "!!")]) == DEFAULT_PRIORITY  # present, malformed


def test_a_priority_is_checked_on_construction():
    with pytest.raises(ValueError, match="0..7"):
        Priority(8)


# ------------------------------------------------------------ the scheduler


def _outbound(streams: dict[int, Priority | None]) -> PriorityOutbound:
    """A buffer with data waiting on each stream, in this order (no connection needed)."""
    outbound = PriorityOutbound(None)
    for stream_id, priority in streams.items():
        outbound.queues[stream_id] = Pending(size=1)
        outbound.prioritize(stream_id, priority)
    return outbound


def test_turn_order_serves_the_most_urgent_level_only():
    outbound = _outbound({1: Priority(7), 3: Priority(0, True), 5: Priority(0, True), 7: None})
    assert outbound.turn_order(set()) == [3, 5]
    assert outbound.turn_order({3, 5}) == [7]  # urgency 3 next: unsignalled is u=3
    assert outbound.turn_order({3, 5, 7}) == [1]
    assert outbound.turn_order({1, 3, 5, 7}) == []


def test_non_incremental_streams_go_one_at_a_time_in_stream_order():
    outbound = _outbound({9: Priority(2), 5: Priority(2), 7: Priority(2)})
    assert outbound.turn_order(set()) == [5]
    assert outbound.turn_order({5}) == [7]  # 5 waits for window: the next one may go


def test_mixed_level_the_first_non_incremental_takes_turns_with_the_incremental_ones():
    outbound = _outbound(
        {3: Priority(1, True), 5: Priority(1), 7: Priority(1), 9: Priority(1, True)}
    )
    assert outbound.turn_order(set()) == [3, 5, 9]


def test_without_priorities_it_is_round_robin_in_line_order():
    outbound = _outbound({5: None, 1: None, 3: None})
    assert outbound.turn_order(set()) == [5, 1, 3]
    assert outbound.priority(1) == UNSIGNALLED


def test_drop_forgets_the_priority():
    outbound = _outbound({1: Priority(0)})
    outbound.drop(1)
    assert not outbound.queues and not outbound.priorities


# ------------------------------------------------- HTTP2Protocol honours it


def _data_order(requests: list[tuple[str, int, str | None]], **pair_options) -> list[int]:
    """Request each (path, size, priority field) at once; the stream of every DATA frame."""
    sizes = {path: size for path, size, _ in requests}
    pair = InMemoryPair(
        HTTP2Protocol(), app=lambda request: (200, [], pattern(sizes[request.path])), **pair_options
    )
    for path, _, priority in requests:
        pair.request("GET", path, [("priority", priority)] if priority else [])
    pair.run()
    return [frame.stream_id for frame in pair.server_frames_of("DATA")]


def test_an_urgent_response_overtakes_a_background_download():
    order = _data_order([("/update", 200_000, "u=7"), ("/style.css", 40_000, "u=0")])
    # Stream 1 was answered while nothing waited: its first frame went at once (notebook 04).
    # From then on stream 3, more urgent, sends every frame before stream 1 sends another.
    assert order[:4] == [1, 3, 3, 3] and set(order[4:]) == {1}


def test_same_urgency_incremental_round_robin_non_incremental_in_stream_order():
    images = _data_order([("/a", 40_000, "u=5, i"), ("/b", 40_000, "u=5, i")])
    assert images == [1, 1, 3, 1, 3, 3]  # 1's first frame at once, then turns
    scripts = _data_order([("/a", 40_000, "u=2"), ("/b", 40_000, "u=2"), ("/c", 40_000, "u=2")])
    assert scripts == [1, 1, 1, 3, 3, 3, 5, 5, 5]


def test_requests_without_priority_still_take_turns():
    assert _data_order([("/a", 40_000, None), ("/b", 40_000, None)]) == [1, 1, 3, 1, 3, 3]


def test_a_blocked_urgent_stream_lets_a_less_urgent_one_send():
    # The client's stream windows are 16,384: each stream sends one frame, then waits for
    # WINDOW_UPDATE. The urgent stream's wait must not hold the connection idle.
    settings = {SettingCodes.INITIAL_WINDOW_SIZE: 16_384}
    order = _data_order([("/bg", 40_000, "u=7"), ("/css", 40_000, "u=0")], client_settings=settings)
    assert sorted(order) == [1, 1, 1, 3, 3, 3]


def test_priority_update_frames_are_ignored_as_an_unknown_type():
    # RFC 9218 §7.1 PRIORITY_UPDATE (type 0x10) is unknown to h2; RFC 9113 §5.5: discard it.
    protocol = HTTP2Protocol()
    pair = InMemoryPair(protocol, app=lambda request: (200, [], b"ok"))
    stream_id = pair.request("GET", "/")
    pair.run()
    update = encode_frame(0x10, 0, 0, (stream_id).to_bytes(4, "big") + b"u=0")
    assert protocol.receive(update) == []
    assert not protocol.terminated and pair.responses[stream_id].body == b"ok"
