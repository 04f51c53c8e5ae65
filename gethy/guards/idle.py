"""The idle and stall timer: no connection stays open doing nothing.

Built in notebook 08 (errors and attacks).

A connection costs a socket and memory even when nothing happens on it, so
one check, run every ``timeout`` seconds or so, decides what to do with a
quiet one (`IdleGuard.check`):

* no HTTP/2 preface within the timeout: close (nothing to say GOAWAY to);
* no open stream and not a byte either way: GOAWAY NO_ERROR and close, the
  graceful way (RFC 9113 §9.1 lets a server close idle connections, sending
  GOAWAY first, §6.8);
* open streams with responses waiting, yet not a byte arrived (not even a
  WINDOW_UPDATE): the client stopped reading; cut it;
* open streams, but no request or response byte moved, though frames may
  arrive (PINGs, say): a client that keeps streams open for nothing
  (slowloris) or a handler that hangs. GOAWAY and close.

"Moved" is `HTTP2Protocol.progress`, a counter the protocol bumps when a
request or response makes headway; PING and SETTINGS do not count.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

__all__ = ["IdleAction", "IdleGuard", "IdleVerdict"]

#: Never re-check sooner than this (seconds): a timer due "now" is a busy loop.
_MIN_DELAY = 0.01


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
    """Remembers when bytes last moved and when streams last progressed.

    Call `touch` whenever bytes arrive or leave, and `check` when the timer
    fires. Times are plain numbers (the event loop's clock), so the guard can
    be tested without a loop.
    """

    def __init__(self, timeout: float, now: float) -> None:
        self.timeout = timeout
        self.last_activity = now  # the last byte in or out
        self._progress_mark = -1  # HTTP2Protocol.progress when last seen moving...
        self._progress_time = now  # ...and when

    def touch(self, now: float) -> None:
        """Bytes arrived or left: the connection is not idle."""
        self.last_activity = now

    def check(
        self, now: float, *, progress: int, preface_seen: bool, streams: int, output_waiting: bool
    ) -> IdleVerdict:
        """Decide what a connection quiet since `last_activity` should do.

        `progress` is `HTTP2Protocol.progress`, `streams` its open streams,
        `output_waiting` whether response bytes wait for the client (in the
        protocol's buffer, or asyncio paused writing).
        """
        if progress != self._progress_mark:
            self._progress_mark, self._progress_time = progress, now
        quiet = now - self.last_activity
        stalled = now - self._progress_time
        seconds = f"{self.timeout:g} s"
        if not preface_seen:
            streams = 0
        if quiet >= self.timeout and not preface_seen:
            return IdleVerdict(IdleAction.CLOSE, f"no HTTP/2 preface within {seconds}")
        if quiet >= self.timeout and not streams:
            return IdleVerdict(IdleAction.SHUTDOWN, f"idle for {seconds}")
        if streams and output_waiting and quiet >= self.timeout:
            # Responses wait, yet not a byte came back: the client stopped reading.
            return IdleVerdict(IdleAction.ABORT, f"the client stopped reading for {seconds}")
        if streams and stalled >= self.timeout:
            # Open streams, yet no request or response moved (PINGs do not count).
            reason = f"no stream moved for {seconds}, {streams} stream(s) unfinished"
            return IdleVerdict(IdleAction.CUT_STALLED, reason)
        left = self.timeout - (max(stalled, quiet) if streams else quiet)
        return IdleVerdict(IdleAction.WAIT, delay=max(left, _MIN_DELAY))
