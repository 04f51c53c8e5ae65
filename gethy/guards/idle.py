"""The idle and stall deadlines: no connection stays open doing nothing.

Built in notebook 08 (errors and attacks).

A connection costs a socket and memory even when nothing happens on it, so
each one has a deadline, and one check at that deadline decides what to do
(`IdleGuard.check`):

* no HTTP/2 preface by ``min(timeout, PREFACE_TIMEOUT)`` seconds after the
  accept: close (nothing to say GOAWAY to). The deadline is absolute: a
  client that sends the 24-byte preface (RFC 9113 §3.4) one byte at a time
  gains nothing by it;
* no stream and no progress for ``timeout`` seconds: GOAWAY NO_ERROR and
  close, the graceful way (RFC 9113 §9.1 lets a server close idle
  connections, sending GOAWAY first, §6.8);
* open streams, none moving for ``timeout`` seconds, responses waiting and not
  a byte from the client all that time (not even a WINDOW_UPDATE): the client
  stopped reading; cut it (a GOAWAY would not get through);
* open streams, none moving for ``timeout`` seconds, though frames may arrive
  (PINGs, say): a client that keeps streams open for nothing (slowloris) or a
  handler that hangs. GOAWAY and close.

"Moving" is `HTTP2Protocol.progress`, a counter the protocol bumps when a
request or response makes headway: a whole request header block, request
body bytes, a response starting, response data leaving. Bytes alone are not
progress: PING, SETTINGS, WINDOW_UPDATE, and the pieces of a header block
still arriving in CONTINUATION frames (§6.10) move nothing until the block is
complete. So a client that dribbles a byte now and then never pushes a
deadline back; only progress does. The connection reports progress when it
sees the counter move (`IdleGuard.observe`, after each receive and each
write), so the stall clock starts at the last progress, not at some later
check.

The deadline is computed, not polled: `check` says WAIT with exactly the
time left, and a check that finds the deadline reached acts on it. A timer
therefore fires about once per ``timeout`` (more only when progress moved the
deadline meanwhile), never in a tight loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

__all__ = ["PREFACE_TIMEOUT", "IdleAction", "IdleGuard", "IdleVerdict"]

#: The client preface (RFC 9113 §3.4) must be in within this many seconds of the accept
#: (or the idle timeout, if shorter), however its bytes trickle in.
PREFACE_TIMEOUT = 10.0
#: A deadline this close (seconds) counts as reached: asyncio may run a timer a
#: hair early, and re-arming it for the last microsecond would only spin.
_SLACK = 0.001


class IdleAction(Enum):
    """What the connection should do after an idle check."""

    #: Nothing yet: check again after `IdleVerdict.delay` seconds.
    WAIT = "wait"
    #: No HTTP/2 preface arrived: close without a GOAWAY.
    CLOSE = "close"
    #: Idle with no open stream: graceful GOAWAY NO_ERROR, then close (§6.8).
    SHUTDOWN = "shutdown"
    #: The client stopped reading while responses wait: cut the connection now.
    ABORT = "abort"
    #: Open streams, none moving: GOAWAY NO_ERROR ending every stream, then close.
    CUT_STALLED = "cut stalled"


@dataclass(frozen=True)
class IdleVerdict:
    """An `IdleAction`, the close reason to log with it, and for WAIT the delay."""

    action: IdleAction
    reason: str = ""
    delay: float = 0.0


class IdleGuard:
    """The preface deadline, and when streams last progressed and the client was last heard.

    Call `heard` when bytes arrive, `observe` with `HTTP2Protocol.progress`
    after each receive and write, and `check` when the timer fires; the first
    timer is `first_delay` seconds after the accept. Times are plain numbers
    (the event loop's clock), so the guard can be tested without a loop.
    """

    def __init__(
        self,
        timeout: float,
        now: float,
        *,
        progress: int = 0,
        preface_timeout: float = PREFACE_TIMEOUT,
    ) -> None:
        self.timeout = timeout
        self.preface_within = min(timeout, preface_timeout)
        self.preface_deadline = now + self.preface_within
        self.last_heard = now  # the last byte from the client
        self.progress_mark = progress  # HTTP2Protocol.progress when last seen moving...
        self.progress_time = now  # ...and when: the connection's start counts as progress

    @property
    def first_delay(self) -> float:
        """Seconds from the accept to the first check: the preface deadline."""
        return self.preface_within

    def heard(self, now: float) -> None:
        """Bytes arrived: the client is there (though perhaps moving nothing)."""
        self.last_heard = now

    def observe(self, progress: int, now: float) -> None:
        """The protocol's progress counter as seen `now`; if it moved, the stall clock restarts."""
        if progress != self.progress_mark:
            self.progress_mark, self.progress_time = progress, now

    def check(
        self, now: float, *, progress: int, preface_seen: bool, streams: int, output_waiting: bool
    ) -> IdleVerdict:
        """Decide what the connection should do `now`: act on a deadline reached, or WAIT.

        `progress` is `HTTP2Protocol.progress`, `streams` its open streams,
        `output_waiting` whether response bytes wait for the client (in the
        protocol's buffer, or asyncio paused writing).
        """
        self.observe(progress, now)
        if not preface_seen:
            if now + _SLACK < self.preface_deadline:
                return IdleVerdict(IdleAction.WAIT, delay=self.preface_deadline - now)
            reason = f"no HTTP/2 preface within {self.preface_within:g} s"
            return IdleVerdict(IdleAction.CLOSE, reason)
        deadline = self.progress_time + self.timeout
        if now + _SLACK < deadline:
            return IdleVerdict(IdleAction.WAIT, delay=deadline - now)
        seconds = f"{self.timeout:g} s"
        if not streams:
            return IdleVerdict(IdleAction.SHUTDOWN, f"idle for {seconds}")
        if output_waiting and now + _SLACK >= self.last_heard + self.timeout:
            # Responses wait, yet not a byte came back: the client stopped reading.
            return IdleVerdict(IdleAction.ABORT, f"the client stopped reading for {seconds}")
        # Open streams, yet no request or response moved (PINGs do not count).
        reason = f"no stream moved for {seconds}, {streams} stream(s) unfinished"
        return IdleVerdict(IdleAction.CUT_STALLED, reason)
