"""Budgets for frames that cost the server work but move no request or response.

Not built in a notebook yet: notebook 08 (errors and attacks) runs these
floods against the learner's class and builds the same defence.

Every frame costs CPU to parse and answer, and some cost an answer too (a PING
or SETTINGS is acknowledged). Frames that carry a request or a response are
bounded by the limits already in place (concurrent streams, header list and
body sizes, flow control). The others are not, so a client can send them
without end:

* **resets**: HEADERS then RST_STREAM at once, "rapid reset" (CVE-2023-44487),
  or frames that make *us* reset streams, "MadeYouReset" (CVE-2025-8671; a
  malformed request, a WINDOW_UPDATE of 0 on a stream...);
* **control frames**: PING (CVE-2019-9512), SETTINGS (CVE-2019-9515), empty
  DATA frames (CVE-2019-9518), WINDOW_UPDATE, PRIORITY, unknown frame types.

Each kind gets a token bucket, as nghttp2 does for resets (a burst of 1,000,
then 33 a second): every such frame takes a token, time puts them back, and
response data leaving puts control tokens back too (a client downloading
fast sends many WINDOW_UPDATEs, each of which lets data out). A client that
empties a bucket gets GOAWAY ENHANCE_YOUR_CALM (RFC 9113 §5.4.1, §7) in the
middle of the bytes it sent: the rest is never processed.

The guard takes time as plain numbers from a clock it is given, so tests and
notebooks drive it without waiting.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from h2.errors import ErrorCodes
from h2.exceptions import ProtocolError
from hyperframe.frame import (
    DataFrame,
    ExtensionFrame,
    Frame,
    GoAwayFrame,
    PingFrame,
    PriorityFrame,
    RstStreamFrame,
    SettingsFrame,
    WindowUpdateFrame,
)

#: Resets a client may cause at once, then per second (nghttp2's defaults).
RESET_BURST, RESET_RATE = 1000, 33.0
#: Control frames a client may send at once, then per second...
CONTROL_BURST, CONTROL_RATE = 1000, 100.0
#: ...and one more for every this many response bytes that leave.
BYTES_PER_CONTROL_FRAME = 4096

#: Frames that move no request or response (ExtensionFrame: types we do not know, §5.5).
_CONTROL_FRAMES = frozenset(
    {PingFrame, SettingsFrame, WindowUpdateFrame, PriorityFrame, GoAwayFrame, ExtensionFrame}
)
#: The frame types `FloodGuard.frame_received` may count: HEADERS and CONTINUATION never are.
COUNTED_FRAMES = _CONTROL_FRAMES | {RstStreamFrame, DataFrame}


class FloodError(ProtocolError):
    """A client spent a budget: the connection ends with GOAWAY ENHANCE_YOUR_CALM."""

    error_code = ErrorCodes.ENHANCE_YOUR_CALM


@dataclass
class TokenBucket:
    """`burst` tokens at most, `rate` more per second; `take` spends them."""

    burst: float
    rate: float
    tokens: float
    clock: float  # when tokens was last brought up to date

    def take(self, now: float, n: float = 1.0) -> bool:
        """Spend `n` tokens; False once the bucket is empty (it stays in debt)."""
        self.tokens = min(self.burst, self.tokens + (now - self.clock) * self.rate) - n
        self.clock = now
        return self.tokens >= 0

    def give(self, n: float) -> None:
        self.tokens = min(self.burst, self.tokens + n)


class FloodGuard:
    """Counts resets and control frames per connection; `FloodError` once a budget is spent."""

    def __init__(self, clock: Callable[[], float]) -> None:
        now = clock()
        self.clock = clock
        self.resets = TokenBucket(RESET_BURST, RESET_RATE, RESET_BURST, now)
        self.control = TokenBucket(CONTROL_BURST, CONTROL_RATE, CONTROL_BURST, now)

    def frame_received(self, frame: Frame) -> None:
        """Account for one frame from the client, before h2 handles it."""
        kind = type(frame)
        if kind is RstStreamFrame:
            self.reset()
        elif kind in _CONTROL_FRAMES or (
            kind is DataFrame and not frame.data and "END_STREAM" not in frame.flags
        ):
            self._control(frame)  # the last: an empty DATA frame moves nothing (CVE-2019-9518)

    def reset(self) -> None:
        """A stream was reset, by the client or by us because of the client."""
        if not self.resets.take(self.clock()):
            raise FloodError("too many streams reset (rapid reset, CVE-2023-44487)")

    def data_sent(self, nbytes: int) -> None:
        """Response bytes left: the control frames that opened windows did real work."""
        self.control.give(nbytes / BYTES_PER_CONTROL_FRAME)

    def _control(self, frame: Frame) -> None:
        if not self.control.take(self.clock()):
            kind = type(frame).__name__.removesuffix("Frame").upper() or "unknown"
            raise FloodError(f"too many {kind} and other control frames (a frame flood)")
