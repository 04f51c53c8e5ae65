"""The checks of notebook 05 (flow-control lab).

Not built in a notebook: its graded cells call these. The window-update
policies are graded the way the lab measures them: by a download on the
simulated link (`gethy.link`), its throughput, the WINDOW_UPDATE frames it
cost, and the windows it granted.
"""

from __future__ import annotations

from typing import Any

from gethy.exercises import CheckFailed, attempt, expect, passed
from gethy.flowcontrol import Ping, WindowUpdate
from gethy.link import UP, Download, Link, Simulation, download, pattern

MB = 1_000_000

#: Exercise 5.2: the memory a client may spend on one connection's window, and the link.
BUDGET = 196_608  # 192 KiB: one and a half times the link's BDP (125,000 bytes)
POLICY_LINK = Link(rtt=0.1, bandwidth=1_250_000)
POLICY_TARGET = 0.94  # of the link's bandwidth, request to last byte included
POLICY_MAX_UPDATES = 100  # WINDOW_UPDATE frames for a 3 MB download

#: Exercise 5.4: a long fat link, four times the default window.
BDP_LINK = Link(rtt=0.1, bandwidth=2_500_000)
BDP_TARGET = 0.8


def _download(what: str, size: int, link: Link, policy: Any) -> Download:
    result: Download = attempt(what, lambda: download(size, link, policy))
    if not result.intact:
        response = result.simulation.responses[1]
        raise CheckFailed(
            f"{what}: the download stalled: {len(response.body):,} of {size:,} bytes arrived, "
            f"then the server's windows stayed shut (no WINDOW_UPDATE gave the bytes back)"
        )
    return result


def _updates(policy: Any, stream_id: int, length: int) -> set[WindowUpdate]:
    what = f"data_received(stream_id={stream_id}, length={length:,}, now=0.0)"
    actions = attempt(what, lambda: policy.data_received(stream_id, length, 0.0))
    if not isinstance(actions, list):
        raise CheckFailed(f"{what} returned {actions!r}: expected a list of actions")
    return set(actions)


# ------------------------------------------------------------ Exercise 5.1


def check_every_frame(cls: type) -> None:
    """Each DATA frame's bytes go back at once, on its stream and on the connection."""
    policy = cls(65_535)
    for stream_id, length in [(1, 16_384), (1, 5), (3, 16_384)]:
        expect(
            f"{cls.__name__}(65_535).data_received({stream_id}, {length:,}, 0.0): the actions",
            {WindowUpdate(0, length), WindowUpdate(stream_id, length)},
            _updates(policy, stream_id, length),
        )
    result = _download(
        f"downloading 1 MB with {cls.__name__}(65_535)", MB, POLICY_LINK, cls(65_535)
    )
    frames = sum(r.type == "DATA" and r.length > 0 for r in result.simulation.records)
    expect(
        "WINDOW_UPDATE frames sent: two per non-empty DATA frame, less the last stream one",
        2 * frames - 1,
        result.window_updates,
    )
    passed("5.1")


def hidden_every_frame(cls: type) -> None:
    """Padding counts (§6.1); an empty DATA frame gives nothing back (an increment of 0 is an
    error, §6.9); two streams at once both complete."""
    policy = cls(65_535)
    expect(
        "data_received(5, 1_000, 0.0) (a padded frame's flow-controlled length)",
        {WindowUpdate(0, 1_000), WindowUpdate(5, 1_000)},
        _updates(policy, 5, 1_000),
    )
    expect(
        "data_received(1, 0, 0.0): an empty DATA frame (END_STREAM alone); a WINDOW_UPDATE "
        "of 0 is a PROTOCOL_ERROR (§6.9)",
        set(),
        _updates(policy, 1, 0),
    )
    sim = Simulation(POLICY_LINK, policy=cls(65_535))
    ids = [sim.request("/300000"), sim.request("/200000")]
    attempt("two downloads at once", sim.run)
    for stream_id, size in zip(ids, (300_000, 200_000), strict=True):
        got = len(sim.responses[stream_id].body)
        expect(f"bytes received on stream {stream_id} (two downloads at once)", size, got)


# ------------------------------------------------------------ Exercise 5.2


def _policy_run(cls: type, link: Link, sizes: tuple[int, ...]) -> Simulation:
    policy = attempt(f"{cls.__name__}()", cls)
    if policy.initial_window > BUDGET:
        raise CheckFailed(
            f"{cls.__name__}().initial_window is {policy.initial_window:,}: the budget is "
            f"{BUDGET:,} bytes"
        )
    sim = Simulation(link, policy=policy)
    ids = [sim.request(f"/{size}") for size in sizes]
    attempt(f"downloading {' + '.join(f'{s:,}' for s in sizes)} bytes", sim.run)
    for stream_id, size in zip(ids, sizes, strict=True):
        response = sim.responses[stream_id]
        if not response.ended or bytes(response.body) != pattern(size):
            raise CheckFailed(
                f"stream {stream_id}: {len(response.body):,} of {size:,} bytes arrived, then the "
                f"windows stayed shut: every byte received must be given back some time"
            )
    largest = max(size for _, _, size in sim.windows)
    if largest > BUDGET:
        raise CheckFailed(
            f"a receive window reached {largest:,} bytes: over the budget of {BUDGET:,} (give "
            f"back only bytes you received)"
        )
    return sim


def check_window_policy(cls: type) -> None:
    """3 MB at >= 94% of the link's bandwidth, with at most 100 WINDOW_UPDATE frames."""
    print(_graded_policy(cls, POLICY_LINK))
    passed("5.2")


def _graded_policy(cls: type, link: Link) -> str:
    sim = _policy_run(cls, link, (3 * MB,))
    response = sim.responses[1]
    assert response.requested_at is not None and response.ended_at is not None
    throughput = 3 * MB / (response.ended_at - response.requested_at)
    updates = sum(r.direction == UP and r.type == "WINDOW_UPDATE" for r in sim.records)
    share = throughput / link.bandwidth
    report = (
        f"3 MB over a {link.rtt * 1000:.0f} ms, {link.bandwidth / MB:.2f} MB/s link with "
        f"{cls.__name__}: {throughput / MB:.3f} MB/s ({share:.0%} of the link), "
        f"{updates} WINDOW_UPDATE frames"
    )
    if share < POLICY_TARGET:
        raise CheckFailed(
            f"{report}; needed at least {POLICY_TARGET:.0%}: the sender waits for "
            f"window (give bytes back sooner)"
        )
    if updates > POLICY_MAX_UPDATES:
        raise CheckFailed(
            f"{report}; allowed at most {POLICY_MAX_UPDATES} frames (give bytes "
            f"back in larger batches)"
        )
    return report


def hidden_window_policy(cls: type) -> None:
    """The same BDP on another link; two downloads at once both complete within the budget."""
    _graded_policy(cls, Link(rtt=0.04, bandwidth=3_125_000))
    _policy_run(cls, POLICY_LINK, (1_500_000, 700_000))


# ------------------------------------------------------------ Exercise 5.3


def _estimator_step(est: Any, call: str, *args: Any) -> Any:
    return attempt(f"{type(est).__name__}.{call}{args}", lambda: getattr(est, call)(*args))


def check_bdp_estimator(cls: type) -> None:
    """One PING at a time; bytes counted until its ACK; grow to 2 x sample when it fills 2/3."""
    est = cls()
    ping = _estimator_step(est, "data_received", 1_000, 0.0)
    if not isinstance(ping, Ping) or len(ping.data) != 8:
        raise CheckFailed(
            f"the first data_received(1_000, 0.0) returned {ping!r}: expected a "
            f"Ping with 8 bytes of data (§6.7), to start measuring"
        )
    expect(
        "data_received(2_000, 0.01) while the PING is out",
        None,
        _estimator_step(est, "data_received", 2_000, 0.01),
    )
    expect("the sample: bytes received since the PING was sent", 3_000, est.sample)
    expect(
        "ping_acked(0.1, window=4_000): 3,000 >= 2/3 of 4,000, the best bandwidth yet: "
        "the new window",
        6_000,
        _estimator_step(est, "ping_acked", 0.1, 4_000),
    )
    expect("the round trip measured", 0.1, round(est.rtt, 9))
    again = _estimator_step(est, "data_received", 500, 0.2)
    if not isinstance(again, Ping) or again.data == ping.data:
        raise CheckFailed(
            f"data_received(500, 0.2) after the ACK returned {again!r}: expected a "
            f"new Ping, with other data than the first ({ping.data!r})"
        )
    expect(
        "ping_acked(0.3, window=6_000): 500 bytes is not 2/3 of 6,000",
        None,
        _estimator_step(est, "ping_acked", 0.3, 6_000),
    )
    passed("5.3")


def hidden_bdp_estimator(cls: type) -> None:
    """No growth when the bandwidth is not the best seen; never past the limit."""
    est = cls()
    _estimator_step(est, "data_received", 30_000, 0.0)
    expect(
        "a 30,000-byte sample in 0.1 s, window 40,000",
        60_000,
        _estimator_step(est, "ping_acked", 0.1, 40_000),
    )
    _estimator_step(est, "data_received", 40_000, 1.0)
    expect(
        "a 40,000-byte sample in 1 s (a slower link than before: the round trip grew, not "
        "the bandwidth), window 60,000",
        None,
        _estimator_step(est, "ping_acked", 2.0, 60_000),
    )
    est = cls()
    _estimator_step(est, "data_received", 12 << 20, 0.0)
    expect(
        "a 12 MiB sample, window 16 MiB - 1 (the limit is 16 MiB)",
        16 << 20,
        _estimator_step(est, "ping_acked", 0.1, (16 << 20) - 1),
    )


# ------------------------------------------------------------ Exercise 5.4


def check_bdp_policy(cls: type) -> None:
    """8 MB from a 65,535-byte window: the window grows past the BDP; >= 80% of the link."""
    print(_graded_bdp_policy(cls, BDP_LINK, 8 * MB))
    passed("5.4")


def _graded_bdp_policy(cls: type, link: Link, size: int) -> str:
    policy = attempt(f"{cls.__name__}()", cls)
    result = _download(f"downloading {size / MB:.0f} MB with {cls.__name__}", size, link, policy)
    share = result.throughput / link.bandwidth
    report = (
        f"{size / MB:.0f} MB over a {link.rtt * 1000:.0f} ms, {link.bandwidth / MB:.2f} MB/s link "
        f"(BDP {link.bdp:,.0f} bytes): window {policy.initial_window:,} bytes after "
        f"{result.pings} PINGs, {result.throughput / MB:.3f} MB/s ({share:.0%} of the link)"
    )
    largest = max((size for _, _, size in result.simulation.windows), default=0)
    if largest > policy.initial_window:
        raise CheckFailed(
            f"{report}; but a receive window reached {largest:,} bytes, more than the "
            "initial_window you announced: a WINDOW_UPDATE adds its increment (§6.9), so "
            "grow a window by the difference between the new size and the old one"
        )
    if policy.initial_window < link.bdp or share < BDP_TARGET:
        hint = (
            " (did ping_acked set self.initial_window to the new size?)"
            if policy.initial_window < link.bdp
            else " (every stream's window must grow too, not only the connection's)"
        )
        raise CheckFailed(
            f"{report}; expected a window of at least the BDP and at least "
            f"{BDP_TARGET:.0%} of the link{hint}"
        )
    return report


def hidden_bdp_policy(cls: type) -> None:
    """Another link; a second stream opened after the window grew gets the grown window too."""
    _graded_bdp_policy(cls, Link(rtt=0.2, bandwidth=1_250_000), 8 * MB)
    sim = Simulation(BDP_LINK, policy=cls())
    first, late = sim.request(f"/{4 * MB}"), sim.request(f"/{2 * MB}", at=2.5)
    attempt("a 4 MB download, then a 2 MB one starting at 2.5 s", sim.run)
    responses = sim.responses
    for stream_id in (first, late):
        expect(f"stream {stream_id} complete", True, responses[stream_id].ended)
    if (responses[first].ended_at or 0) > 2.5:
        raise CheckFailed(
            "the 4 MB download was still running at 2.5 s: the window grows too slowly"
        )
    r = responses[late]
    assert r.requested_at is not None and r.ended_at is not None
    share = 2 * MB / (r.ended_at - r.requested_at) / BDP_LINK.bandwidth
    if share < 0.7:
        raise CheckFailed(
            f"the 2 MB download started after the window grew reached only "
            f"{share:.0%} of the link: grow every stream's window, new ones too"
        )
