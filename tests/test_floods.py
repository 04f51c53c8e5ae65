"""Floods and other hostile clients, in memory: each is cut off or bounded by the protocol.

The clock is a fake one (`Clock`): time moves only when a test says so, so
the budgets of `gethy.floods` are exercised exactly, without sleeping.
"""

from __future__ import annotations

import sys

import pytest
from h2.errors import ErrorCodes
from h2.settings import SettingCodes
from hpack import Encoder

from gethy import ConnectionTerminatedEvent, HTTP2Protocol, RequestEvent
from gethy.checks import pattern
from gethy.floods import CONTROL_BURST, RESET_BURST, RESET_RATE, FloodGuard, TokenBucket
from gethy.frames import CONNECTION_PREFACE, decode_frames, encode_frame
from gethy.pair import InMemoryPair
from gethy.strict_h2 import ENCODER_TABLE_CAP

EMPTY_SETTINGS = encode_frame("SETTINGS", 0, 0, b"")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def started(**options) -> tuple[HTTP2Protocol, InMemoryPair, Clock]:
    clock = Clock()
    protocol = HTTP2Protocol(clock=clock, **options)
    pair = InMemoryPair(protocol)
    pair.run()
    return protocol, pair, clock


def raw_request(encoder: Encoder, stream_id: int, extra=(), *, end_stream=True, path="/"):
    """A HEADERS frame made by hand (no h2 client, so no client-side limits or checks)."""
    fields = [(":method", "GET"), (":path", path), (":scheme", "http"), (":authority", "a")]
    flags = ["END_HEADERS", "END_STREAM"] if end_stream else ["END_HEADERS"]
    return encode_frame("HEADERS", flags, stream_id, encoder.encode([*fields, *extra]))


def goaways(protocol: HTTP2Protocol) -> list:
    return [f for f in decode_frames(protocol.data_to_send()) if f.type == "GOAWAY"]


def assert_calmed(events: list, protocol: HTTP2Protocol) -> None:
    (event,) = [e for e in events if isinstance(e, ConnectionTerminatedEvent)]
    assert event.error_code == ErrorCodes.ENHANCE_YOUR_CALM and not event.by_peer, event
    assert protocol.terminated
    (goaway,) = goaways(protocol)
    assert goaway.error_code == ErrorCodes.ENHANCE_YOUR_CALM


# ------------------------------------------------------------------- resets


@pytest.mark.parametrize("end_stream", [False, True])
def test_rapid_reset_is_cut_off_inside_one_read(end_stream):
    protocol, pair, _ = started(max_concurrent_streams=100)
    for _ in range(3 * RESET_BURST):
        sid = pair.request("GET", "/", body=b"" if end_stream else b"x")
        pair.client.reset_stream(sid)
    events = protocol.receive(pair.client.data_to_send())
    assert_calmed(events, protocol)
    assert not any(isinstance(e, RequestEvent) for e in events)
    # The rest of the bytes never ran: about one burst of resets was processed.
    assert protocol.resets_received <= RESET_BURST + 1


def test_resets_at_a_steady_pace_are_fine():
    protocol, pair, clock = started()
    for _ in range(3 * RESET_BURST):
        sid = pair.request("GET", "/")
        pair.client.reset_stream(sid)
        pair.run()
        clock.now += 1.5 / RESET_RATE  # a little slower than the refill
    assert not protocol.terminated and protocol.resets_received == 3 * RESET_BURST


def test_made_you_reset_counts_the_resets_the_client_causes():
    # CVE-2025-8671: malformed requests (here: a connection-specific field) make *us* reset.
    protocol, _, _ = started()
    encoder = Encoder()
    wire = b"".join(
        raw_request(encoder, 2 * i + 1, [("connection", "close")]) for i in range(RESET_BURST + 50)
    )
    assert_calmed(protocol.receive(wire), protocol)


def test_made_you_reset_by_stream_errors_h2_answers():
    # DATA after the client's END_STREAM: h2 resets that stream (§5.1, half-closed).
    protocol, _, _ = started()
    encoder = Encoder()
    wire = b"".join(
        raw_request(encoder, 2 * i + 1) + encode_frame("DATA", 0, 2 * i + 1, b"x")
        for i in range(RESET_BURST + 50)
    )
    events = protocol.receive(wire)
    assert_calmed(events, protocol)
    assert not any(isinstance(e, RequestEvent) for e in events)


# ----------------------------------------------------------- control frames

FLOODS = {
    "PING": encode_frame("PING", 0, 0, bytes(8)),
    "SETTINGS": EMPTY_SETTINGS,
    "WINDOW_UPDATE": encode_frame("WINDOW_UPDATE", 0, 0, (1).to_bytes(4, "big")),
    "PRIORITY": encode_frame("PRIORITY", 0, 1, bytes(5)),
    "unknown type": encode_frame(0xEE, 0, 0, b"x"),
}


@pytest.mark.parametrize("kind", FLOODS)
def test_control_frame_floods_get_goaway_enhance_your_calm(kind):
    protocol, _, _ = started()
    events = protocol.receive(FLOODS[kind] * (CONTROL_BURST + 200))
    assert_calmed(events, protocol)


def test_empty_data_frames_flood_gets_goaway():
    protocol, pair, _ = started()
    sid = pair.request("POST", "/", body=b"x")  # a stream left open
    wire = pair.client.data_to_send() + encode_frame("DATA", 0, sid, b"") * (CONTROL_BURST + 200)
    assert_calmed(protocol.receive(wire), protocol)


def test_a_ping_flood_leaves_at_most_one_burst_of_acknowledgements():
    protocol, _, _ = started()
    protocol.receive(FLOODS["PING"] * 100_000)
    acks = [f for f in decode_frames(protocol.data_to_send()) if f.type == "PING"]
    assert len(acks) <= CONTROL_BURST


def test_a_fast_download_with_many_window_updates_is_not_a_flood():
    # No time passes, so only the bytes that leave pay for the WINDOW_UPDATEs.
    body = pattern(24 * 1024 * 1024)
    protocol, pair, _ = started()
    pair.app = lambda stream: (200, [], body)
    sid = pair.request("GET", "/big")
    pair.run(max_steps=100_000)
    assert not protocol.terminated and bytes(pair.responses[sid].body) == body


def test_the_budgets_refill_with_time():
    protocol, _, clock = started()
    for _ in range(20):
        assert protocol.receive(FLOODS["PING"] * (CONTROL_BURST // 2)) == []
        protocol.data_to_send()
        clock.now += 10  # 100 a second: plenty for the next half burst
    assert not protocol.terminated


def test_token_bucket_arithmetic():
    bucket = TokenBucket(burst=2, rate=1.0, tokens=2, clock=0.0)
    assert bucket.take(0.0) and bucket.take(0.0) and not bucket.take(0.0)
    assert not bucket.take(1.5)  # in debt by one, 1.5 back, one more taken: -0.5
    assert bucket.take(3.0)  # -0.5 + 1.5 = 1, minus one: 0
    bucket.give(10)
    assert bucket.tokens == 2  # never beyond the burst
    guard = FloodGuard(lambda: 0.0)
    assert guard.resets.tokens == RESET_BURST


# --------------------------------------------------------------- other abuse


def test_the_stream_over_the_limit_is_refused_alone():
    # RFC 9113 §5.1.2, §8.7: REFUSED_STREAM, so the client may retry it; others go on.
    protocol, pair, _ = started(max_concurrent_streams=2)
    pair.run()  # our SETTINGS are acknowledged: the limit binds
    encoder, big = Encoder(), [("x-big", "a" * 200)]
    wire = raw_request(encoder, 1, end_stream=False) + raw_request(encoder, 3, end_stream=False)
    wire += raw_request(encoder, 5, big)  # the third: one too many
    assert protocol.receive(wire) == []
    (reset,) = [f for f in decode_frames(protocol.data_to_send()) if f.type == "RST_STREAM"]
    assert (reset.stream_id, reset.error_code) == (5, ErrorCodes.REFUSED_STREAM)
    assert not protocol.terminated and protocol.active_streams == 2
    # Stream 5's block went through HPACK: the next request, indexed against it, decodes.
    protocol.reset_stream(1)
    (event,) = protocol.receive(raw_request(encoder, 7, big, path="/again"))
    assert event.stream.stream_id == 7 and ("x-big", "a" * 200) in event.stream.headers
    assert protocol.receive(encode_frame("DATA", "END_STREAM", 5, b"late")) == []
    assert not protocol.terminated


def test_the_client_cannot_make_our_hpack_table_huge():
    # RFC 7541 §4.2: the encoder may use any size up to the client's maximum.
    protocol, pair, _ = started()
    pair.change_settings({SettingCodes.HEADER_TABLE_SIZE: 2**32 - 1})
    pair.app = lambda stream: (200, [("x-value", stream.path)], b"")
    sids = [pair.request("GET", f"/{i}") for i in range(50)]
    pair.run()
    assert protocol.h2_connection.encoder.header_table_size == ENCODER_TABLE_CAP
    assert [pair.responses[s].header("x-value") for s in sids] == [f"/{i}" for i in range(50)]


def test_one_byte_data_frames_cost_about_one_byte_each():
    protocol, pair, _ = started()
    sid = 1
    wire = raw_request(Encoder(), sid, end_stream=False)
    wire += b"".join(encode_frame("DATA", 0, sid, b"z") for _ in range(50_000))
    protocol.receive(wire)
    held = protocol.streams[sid].buffered_data
    assert sum(map(len, held)) == 50_000
    assert sum(map(sys.getsizeof, held)) + sys.getsizeof(held) < 1.2 * 50_000
    assert protocol.request_bytes == 50_000


def test_the_preface_alone_is_not_a_flood():
    protocol = HTTP2Protocol(clock=Clock())
    assert protocol.receive(CONNECTION_PREFACE + EMPTY_SETTINGS) == []


def test_a_continuation_flood_is_cut_at_128_kib_with_enhance_your_calm():
    """h2 counts CONTINUATION frames (64: 1 MiB of 16 KiB frames); gethy counts bytes too."""
    from gethy.attacklab import continuation_flood, run_attack
    from gethy.strict_h2 import MAX_HEADER_BLOCK

    run = run_attack(HTTP2Protocol(clock=lambda: 0.0), continuation_flood(150))
    assert run.ended == "GOAWAY ENHANCE_YOUR_CALM"
    assert max(point.held for point in run.checkpoints) <= MAX_HEADER_BLOCK


def test_a_large_honest_header_block_in_continuations_still_arrives():
    import h2.config
    import h2.connection

    client = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    client.initiate_connection()
    client.max_outbound_frame_size = 16_384
    filler = [(f"x-filler-{i}", "v" * 1_000) for i in range(50)]  # about 51 kB of fields
    get = [(":method", "GET"), (":path", "/"), (":scheme", "http"), (":authority", "a")]
    client.send_headers(1, [*get, *filler], end_stream=True)
    server = HTTP2Protocol()
    events = server.receive(client.data_to_send())
    assert [type(event) for event in events] == [RequestEvent]
