"""Receive-window policies: when a client hands flow-control window back.

Built in notebook 05 (flow-control lab): `EveryFrame`, `Threshold`,
`BdpEstimator` and `BdpPolicy` are the classes its exercises build.

A receiver limits what its peer may send with two windows, one per stream and
one for the whole connection (RFC 9113 §5.2, §6.9). Every DATA frame shrinks
both by its flow-controlled length; only WINDOW_UPDATE frames grow them again
(§6.9). SETTINGS_INITIAL_WINDOW_SIZE sets where every *stream* window starts;
the connection window always starts at 65,535 and only a WINDOW_UPDATE on
stream 0 can grow it (§6.9.2).

A policy decides, as DATA arrives, which WINDOW_UPDATEs to send and when. It
is sans-IO like the rest of gethy: it returns *actions* (`WindowUpdate`,
`Ping`, `Acknowledge`) and the link simulator's client (`gethy.link`) carries
them out on h2's `H2Connection`. A throughput bound follows from the windows:
at most one window of data can be in flight per round trip, so
throughput <= window / RTT.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Where every window starts unless SETTINGS says otherwise (RFC 9113 §6.9.2).
DEFAULT_WINDOW = 65_535
#: The largest window HTTP/2 allows (§6.9.1): a bigger one is a FLOW_CONTROL_ERROR.
MAX_WINDOW = 2**31 - 1


@dataclass(frozen=True)
class WindowUpdate:
    """Send WINDOW_UPDATE: `stream_id` 0 is the connection window (§6.9)."""

    stream_id: int
    increment: int


@dataclass(frozen=True)
class Ping:
    """Send a PING with these 8 opaque bytes; its ACK comes back one round trip later (§6.7)."""

    data: bytes


@dataclass(frozen=True)
class Acknowledge:
    """Tell h2 these bytes were consumed; h2's own rule decides when to send WINDOW_UPDATE."""

    stream_id: int
    length: int


Action = WindowUpdate | Ping | Acknowledge


class WindowPolicy:
    """The base policy: advertise `initial_window`, never hand anything back.

    Subclasses override `data_received` (and `ping_acked` if they send PINGs).
    The client advertises `initial_window` as SETTINGS_INITIAL_WINDOW_SIZE and
    grows the connection window to the same size with a WINDOW_UPDATE on
    stream 0 right after its preface, as browsers do.
    """

    def __init__(self, initial_window: int = DEFAULT_WINDOW) -> None:
        self.initial_window = initial_window

    def data_received(self, stream_id: int, length: int, now: float) -> list[Action]:
        """A DATA frame of `length` flow-controlled bytes arrived on `stream_id` at `now` (s)."""
        return []

    def ping_acked(self, data: bytes, now: float) -> list[Action]:
        """The ACK of our PING carrying `data` arrived at `now` (s)."""
        return []


class H2Default(WindowPolicy):
    """Hand every byte to h2's `acknowledge_received_data`, as most h2 users do.

    h2's `WindowManager` then sends a WINDOW_UPDATE once half of the window's
    maximum size has been processed (or, with the window at zero, after 1,024
    bytes): few frames, but up to half a window held back at any moment.
    """

    def data_received(self, stream_id: int, length: int, now: float) -> list[Action]:
        return [Acknowledge(stream_id, length)]


class EveryFrame(WindowPolicy):
    """Give back every DATA frame's bytes at once, on its stream and on the connection."""

    def data_received(self, stream_id: int, length: int, now: float) -> list[Action]:
        if not length:  # an empty DATA frame (END_STREAM alone): an increment of 0 is an error
            return []
        return [WindowUpdate(0, length), WindowUpdate(stream_id, length)]


class Threshold(WindowPolicy):
    """Hold bytes back and give them back once `fraction` of the window has been consumed.

    ``Threshold(window, 0.5)`` is h2's rule; a small fraction costs more
    WINDOW_UPDATE frames, a large one leaves the sender idle waiting for them.
    """

    def __init__(self, initial_window: int = DEFAULT_WINDOW, fraction: float = 0.5) -> None:
        super().__init__(initial_window)
        self.fraction = fraction
        self.unacked: dict[int, int] = {}  # stream id (0 = connection) -> bytes not yet returned

    def data_received(self, stream_id: int, length: int, now: float) -> list[Action]:
        actions: list[Action] = []
        for sid in (0, stream_id):
            owed = self.unacked.get(sid, 0) + length
            if owed and owed >= int(self.fraction * self.initial_window):
                actions.append(WindowUpdate(sid, owed))
                owed = 0
            self.unacked[sid] = owed
        return actions


class BdpEstimator:
    """Estimate the bandwidth-delay product from PING round trips, as gRPC does.

    Send a PING and count the DATA bytes that arrive until its ACK: about one
    round trip's worth of data, the bytes the link held "in flight". If that
    sample fills most of the window (>= `beta`) and sample / round trip is the
    best bandwidth seen so far, the window is what limits throughput: grow it
    to `gamma` times the sample. The bandwidth test stops the growth once the
    link is full: a bigger window then only queues bytes, which lengthens the
    round trip and the sample together. One PING at a time.
    """

    def __init__(self, beta: float = 2 / 3, gamma: float = 2.0, limit: int = 16 << 20) -> None:
        self.beta, self.gamma, self.limit = beta, gamma, limit
        self.sample = 0  # bytes received since the outstanding PING was sent
        self.pinging = False
        self.sent_at = 0.0
        self.rtt: float | None = None  # the last PING round trip measured (s)
        self.best_bandwidth = 0.0  # the largest sample / rtt seen (bytes/s)
        self.pings = 0

    def data_received(self, length: int, now: float) -> Ping | None:
        """Count `length` bytes; start a PING if none is outstanding (then return it)."""
        if self.pinging:
            self.sample += length
            return None
        self.pinging, self.sample, self.sent_at = True, length, now
        self.pings += 1
        return Ping(self.pings.to_bytes(8, "big"))

    def ping_acked(self, now: float, window: int) -> int | None:
        """The PING came back: the new window size if the sample says grow, else None."""
        self.pinging = False
        self.rtt = now - self.sent_at
        bandwidth = self.sample / self.rtt if self.rtt > 0 else 0.0
        best = bandwidth > self.best_bandwidth
        self.best_bandwidth = max(bandwidth, self.best_bandwidth)
        if best and self.sample >= self.beta * window and window < self.limit:
            return min(self.limit, int(self.gamma * self.sample))
        return None


class BdpPolicy(Threshold):
    """`Threshold`, with a window that grows to the estimated bandwidth-delay product.

    When the estimator asks for a bigger window, both windows (the stream's
    and the connection's) grow by the difference at once with WINDOW_UPDATE;
    from then on the threshold is a fraction of the new size.
    """

    def __init__(self, initial_window: int = DEFAULT_WINDOW, fraction: float = 0.5) -> None:
        super().__init__(initial_window, fraction)
        self.estimator = BdpEstimator()
        self.advertised = initial_window  # what SETTINGS_INITIAL_WINDOW_SIZE said: new streams
        self.streams: set[int] = set()
        self.history: list[tuple[float, int]] = [(0.0, initial_window)]  # (time, window)

    def data_received(self, stream_id: int, length: int, now: float) -> list[Action]:
        actions: list[Action] = []
        if stream_id not in self.streams and self.initial_window > self.advertised:
            # A stream opened after the window grew starts at the advertised size: grow it too.
            actions.append(WindowUpdate(stream_id, self.initial_window - self.advertised))
        self.streams.add(stream_id)
        actions += super().data_received(stream_id, length, now)
        ping = self.estimator.data_received(length, now)
        return actions if ping is None else [*actions, ping]

    def ping_acked(self, data: bytes, now: float) -> list[Action]:
        new_window = self.estimator.ping_acked(now, self.initial_window)
        if new_window is None or new_window <= self.initial_window:
            return []
        grow = new_window - self.initial_window
        self.initial_window = new_window
        self.history.append((now, new_window))
        return [WindowUpdate(sid, grow) for sid in (0, *sorted(self.streams))]
