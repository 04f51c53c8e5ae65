"""The link simulator (gethy.link) and the window policies (gethy.flowcontrol)."""

from __future__ import annotations

import pytest

from gethy.flowcontrol import BdpPolicy, EveryFrame, H2Default, Threshold, WindowPolicy
from gethy.frames import encode_frame
from gethy.link import DOWN, UP, Link, Simulation, _FrameScanner, download, pattern

FRAME = 16_384 + 9  # a full DATA frame on the wire: h2's default SETTINGS_MAX_FRAME_SIZE


def bound(link: Link, window: int) -> float:
    """What flow control allows: a window per loop; a loop is a round trip plus one whole frame.

    The client can return a frame's bytes only once the whole frame is in (h2 reports
    complete frames), so the loop is RTT + FRAME / bandwidth, not the bare RTT.
    """
    return min(link.bandwidth, window / (link.rtt + FRAME / link.bandwidth))


@pytest.mark.parametrize("rtt", [0.01, 0.04])
@pytest.mark.parametrize("window", [32_768, 131_072, 1_048_576])
def test_throughput_follows_window_over_round_trip(rtt: float, window: int) -> None:
    link = Link(rtt=rtt, bandwidth=5_000_000)
    size = 3_000_000
    result = download(size, link, EveryFrame(window))
    limit = bound(link, window)
    # One round trip is spent asking before any body byte can arrive.
    expected = limit * size / (size + limit * rtt)
    assert result.intact
    assert result.throughput <= limit * 1.001
    assert result.throughput >= 0.95 * expected, (result.throughput, expected)


def test_throughput_is_window_limited_below_the_bdp_and_link_limited_above() -> None:
    link = Link(rtt=0.05, bandwidth=2_000_000)  # BDP 100 kB
    small = download(1_000_000, link, EveryFrame(32_768)).throughput
    large = download(1_000_000, link, EveryFrame(1_048_576)).throughput
    assert small < 0.4 * link.bandwidth
    assert large > 0.9 * link.bandwidth


def timeline(sim: Simulation) -> list[tuple[float, str, str, int, int, float]]:
    return [(r.time, r.direction, r.type, r.stream_id, r.length, r.sent) for r in sim.records]


def test_same_link_and_seed_give_identical_timelines() -> None:
    link = Link(rtt=0.03, bandwidth=1_000_000, loss=0.03, reorder=0.03, seed=7)
    first = download(400_000, link, H2Default(65_535)).simulation
    again = download(400_000, link, H2Default(65_535)).simulation
    other = download(400_000, Link(**{**link.__dict__, "seed": 8}), H2Default(65_535))
    assert timeline(first) == timeline(again)
    assert first.stats() == again.stats() and first.stats()["lost"] > 0
    assert timeline(other.simulation) != timeline(first)


def test_loss_delays_everything_behind_the_lost_segment() -> None:
    link = Link(rtt=0.04, bandwidth=1_000_000, loss=0.02, seed=3)
    lossy = download(500_000, link, EveryFrame(1_048_576))
    clean = download(500_000, Link(rtt=0.04, bandwidth=1_000_000), EveryFrame(1_048_576))
    data = [r for r in lossy.simulation.records if r.direction == DOWN and r.type == "DATA"]
    in_sent_order = sorted(data, key=lambda r: r.sent)
    arrivals = [r.time for r in in_sent_order]
    assert arrivals == sorted(arrivals)  # TCP delivers in order, whatever was lost
    one_way_and_frame = link.rtt / 2 + FRAME / link.bandwidth
    late = [r for r in data if r.time - r.sent > one_way_and_frame + 0.9 * link.rtt]
    assert late, "no frame waited for a retransmission"
    first_late = min(late, key=lambda r: r.sent)
    behind = [r for r in in_sent_order if first_late.sent < r.sent < first_late.time - link.rtt]
    assert behind and all(r.time >= first_late.time for r in behind)  # head-of-line blocking
    # Without congestion control the sender never slows down: a loss delays what is
    # behind it (and so the total wait), not necessarily the end of the download.
    clean_data = [r for r in clean.simulation.records if r.direction == DOWN and r.type == "DATA"]
    waited = sum(r.time - r.sent for r in data)
    assert waited > sum(r.time - r.sent for r in clean_data) + len(behind) * 0.5 * link.rtt
    assert lossy.intact


def test_bytes_arrive_intact_through_loss_and_reordering() -> None:
    link = Link(rtt=0.02, bandwidth=3_000_000, loss=0.05, reorder=0.1, seed=11)
    sim = Simulation(link, policy=Threshold(200_000, 0.3))
    ids = [sim.request(f"/{n}") for n in (70_001, 250_000, 0)]
    sim.run()
    for stream_id, n in zip(ids, (70_001, 250_000, 0), strict=True):
        response = sim.responses[stream_id]
        assert response.ended and response.status == 200
        assert bytes(response.body) == pattern(n)


def test_every_frame_policy_returns_each_frame_on_both_windows() -> None:
    result = download(200_000, Link(rtt=0.02), EveryFrame())
    sim = result.simulation
    data = [r for r in sim.records if r.direction == DOWN and r.type == "DATA" and r.length]
    updates = [r for r in sim.records if r.direction == UP and r.type == "WINDOW_UPDATE"]
    on_connection = [r for r in updates if r.stream_id == 0]
    assert len(on_connection) == len(data)
    # The last frame closes the stream: its stream-level update is skipped, not sent.
    assert len(updates) - len(on_connection) == len(data) - sim.client.skipped_updates
    assert sim.client.skipped_updates == 1


def test_h2s_own_rule_is_a_half_window_threshold() -> None:
    link = Link(rtt=0.02, bandwidth=2_000_000)
    h2s = download(1_000_000, link, H2Default(131_072))
    half = download(1_000_000, link, Threshold(131_072, 0.5))
    assert h2s.window_updates == pytest.approx(half.window_updates, abs=2)
    assert h2s.throughput == pytest.approx(half.throughput, rel=0.02)


def test_a_policy_that_never_returns_window_stalls_at_the_initial_window() -> None:
    sim = Simulation(Link(rtt=0.02), policy=WindowPolicy(40_000))
    stream_id = sim.request("/100000")
    sim.run()
    response = sim.responses[stream_id]
    assert len(response.body) == 40_000 and not response.ended
    assert sim.client.window(stream_id) == 0


def test_bdp_policy_grows_the_window_and_beats_a_fixed_one() -> None:
    link = Link(rtt=0.1, bandwidth=2_000_000)  # BDP 200 kB, three times the default window
    fixed = download(2_000_000, link, Threshold(65_535, 0.5))
    policy = BdpPolicy(65_535)
    grown = download(2_000_000, link, policy)
    assert policy.initial_window >= link.bdp
    assert grown.pings > 0 and grown.intact
    assert grown.throughput > 1.5 * fixed.throughput


def test_scanner_finds_frames_split_across_writes() -> None:
    stream = encode_frame(0x4, 0, 0, b"") + encode_frame(0x0, 0x1, 1, b"x" * 20)
    scanner = _FrameScanner(preface=False)
    found = []
    for i in range(0, len(stream), 4):
        found += [(end + i, t, s, n, f) for end, t, s, n, f in scanner.scan(stream[i : i + 4])]
    assert found == [(9, "SETTINGS", 0, 0, ()), (38, "DATA", 1, 20, ("END_STREAM",))]


def test_requests_must_be_scheduled_in_time_order() -> None:
    sim = Simulation(Link())
    assert sim.request("/1", at=0.5) == 1
    with pytest.raises(ValueError, match="time order"):
        sim.request("/1", at=0.1)


def test_any_server_class_on_the_virtual_clock_and_a_late_answer() -> None:
    from gethy.core import CoreProtocol

    sim = Simulation(
        Link(rtt=0.02), server_factory=lambda clock: CoreProtocol(), app=lambda s: None
    )
    stream_id = sim.request("/5000")
    sim.at(0.5, lambda: sim.server.send(stream_id, 200, [], pattern(5000)))
    sim.run()
    response = sim.responses[stream_id]
    assert bytes(response.body) == pattern(5000)
    assert response.first_byte_at == pytest.approx(0.5 + 0.01, abs=0.005)


def test_throughput_series_spreads_frames_and_keeps_every_byte() -> None:
    from gethy.labplots import throughput_series

    link = Link(rtt=0.05, bandwidth=1_000_000)
    sim = download(600_000, link, EveryFrame(1 << 20)).simulation
    mids, rates = throughput_series(sim, bin=0.05)
    assert sum(rate * 0.05 for rate in rates) == pytest.approx(0.6, rel=1e-9)  # MB
    # Frames complete with whole segments, so bins may show a segment more than the link.
    assert max(rates) <= (link.bandwidth * 0.05 + link.mss) / 0.05 / 1e6
    assert mids[0] == pytest.approx(0.025)


def test_the_default_policy_is_h2s_own_and_never_stalls() -> None:
    sim = Simulation(Link(rtt=0.02))
    stream_id = sim.request("/300000")
    sim.run()
    assert bytes(sim.responses[stream_id].body) == pattern(300_000)
    assert isinstance(sim.client.policy, H2Default)
