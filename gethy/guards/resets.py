"""The rapid-reset budget: a token bucket over the client's RST_STREAMs.

Built in notebook 08 (errors and attacks).

Opening a stream and resetting it at once costs the client two small frames
and the server a request's worth of work; the concurrency limit does not
help, because a reset stream no longer counts (RFC 9113 §5.1.2). Sent in a
flood, this is the "rapid reset" attack, CVE-2023-44487. So each connection
gets a bucket of `RESET_BURST` resets, refilled at `RESET_RATE` per second; a
client that empties it gets GOAWAY ENHANCE_YOUR_CALM (RFC 9113 §5.4.1, §7).
An ordinary client (a browser cancelling some requests) never comes close.
"""

from __future__ import annotations

__all__ = ["RESET_BURST", "RESET_RATE", "ResetBudget"]

#: A client may reset this many streams at once...
RESET_BURST = 1000
#: ...and this many more per second; beyond that, GOAWAY ENHANCE_YOUR_CALM.
RESET_RATE = 33.0


class ResetBudget:
    """A token bucket fed with the running count of resets the client sent.

    `seen` is the count last accounted for: the caller may skip `exceeded`
    while `HTTP2Protocol.resets_received` still equals it.
    """

    def __init__(self, now: float, *, burst: int = RESET_BURST, rate: float = RESET_RATE) -> None:
        self.burst = burst
        self.rate = rate
        self.seen = 0
        self._tokens = float(burst)
        self._clock = now

    def exceeded(self, resets_received: int, now: float) -> bool:
        """Account for the resets since the last call; True once the bucket is empty."""
        elapsed = now - self._clock
        self._tokens = min(self.burst, self._tokens + elapsed * self.rate)
        self._tokens -= resets_received - self.seen
        self.seen, self._clock = resets_received, now
        return self._tokens < 0
