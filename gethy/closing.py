"""How a server connection ends: graceful GOAWAY, lingering close, cut, and what is released.

Built in notebook 07 (asyncio server).

A mixin of `gethy.connection.ServerConnection`, over its attributes (as
`gethy.inspection` is over the protocol's): the connection's phases move to
CLOSING here (`gethy.phase`), and the idle guard's verdicts
(`gethy.guards.idle`) become one of these ways to end:

* `shutdown`: GOAWAY with the last stream id we process (RFC 9113 §6.8); the
  open streams finish, then `_close`;
* `_close`: flush, half-close, read and discard for a moment, then cut
  (`gethy.guards.linger`);
* `_abort`: cut at once, when no more frames could get through anyway.

Whichever way, `_release` drops what can no longer be used the moment it
cannot: the unparsed backlog, request bodies that can never complete (and
their share of the server's budget, `gethy.guards.uploads`), and at
`connection_lost` every stream and all queued output, so that the memory goes
even if something still holds on to the connection object.
"""

from __future__ import annotations

import asyncio

from h2.errors import ErrorCodes

from gethy.guards.idle import IdleAction, IdleGuard
from gethy.guards.linger import Linger, half_close
from gethy.guards.uploads import UploadMeter
from gethy.intake import Intake, ReadGate
from gethy.phase import Phase
from gethy.protocol import HTTP2Protocol
from gethy.responder import Responder

__all__ = ["Closing"]


class Closing:
    """The ways a `ServerConnection` ends (a mixin over its attributes)."""

    phase: Phase
    protocol: HTTP2Protocol
    responder: Responder
    transport: asyncio.Transport | None
    close_reason: str | None
    writing_paused: bool
    _loop: asyncio.AbstractEventLoop
    _idle: IdleGuard | None
    _intake: Intake
    _gate: ReadGate
    _uploads: UploadMeter
    _linger: Linger | None
    _timer: asyncio.TimerHandle | None

    def _enter(self, phase: Phase) -> None:
        raise NotImplementedError

    def _drain(self) -> None:
        raise NotImplementedError

    def _flush(self) -> None:
        raise NotImplementedError

    def shutdown(self, reason: str = "server shutdown") -> None:
        """Graceful close: GOAWAY with the last stream id we process (RFC 9113 §6.8).

        Streams the client already opened are answered; the connection closes
        when the last one is done (see `Server.close` for the time limit).
        """
        if self.phase.shut:
            return
        self._set_reason(reason)
        if self.phase is Phase.SNIFFING:
            self._close(reason)
            return
        self._drain()
        self.protocol.close()
        self._flush()

    def _release(self) -> None:
        """Nothing more will be read: drop the backlog and every request still arriving.

        At `connection_lost`, drop all the protocol holds too (streams, queued
        output), so the memory goes even if something still refers to us.
        """
        self._intake.drop()
        self._gate.detach()
        protocol = self.protocol
        protocol.peer_closed()
        if self.phase is Phase.CLOSED and not protocol.terminated:
            protocol.close(ErrorCodes.CANCEL, graceful=False)  # nothing is sent: the socket is gone
            protocol.data_to_send()
        self._uploads.update(protocol.request_bytes)
        self._uploads.leave()

    def _close(self, reason: str) -> None:
        """Close our side: flush, half-close, read and discard for a moment, then cut.

        A plain close() while the client's bytes are still arriving would make
        the kernel answer with a TCP reset, which can destroy our last frames
        (the GOAWAY) before the client reads them: see `gethy.guards.linger`.
        """
        self._set_reason(reason)
        if self.phase.shut or self.transport is None:
            return
        self._enter(Phase.CLOSING)
        self.responder.cancel_all()
        self._release()
        self._linger = Linger(self._loop.time())
        transport = self.transport
        if not half_close(transport):
            transport.abort()
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self._loop.call_later(self._linger.first_check, self._check_closed)

    def _check_closed(self) -> None:
        self._timer = None
        if self.phase is Phase.CLOSED or self.transport is None or self._linger is None:
            return
        if self._linger.should_cut(self._loop.time(), self.transport.get_write_buffer_size()):
            self.transport.abort()
        else:
            self._timer = self._loop.call_later(self._linger.interval, self._check_closed)

    def _abort(self, reason: str) -> None:
        """Cut the connection at once (no more frames can get through anyway)."""
        self._set_reason(reason)
        if not self.phase.shut:
            self._enter(Phase.CLOSING)
        self.responder.cancel_all()
        self._release()
        if self.transport is not None:
            self.transport.abort()

    def _check_idle(self) -> None:
        """Ask the idle guard (`gethy.guards.idle`) what a quiet connection should do."""
        self._timer = None
        if self.phase.shut or self._idle is None:
            return
        verdict = self._idle.check(
            self._loop.time(),
            progress=self.protocol.progress,
            preface_seen=self.phase.speaks_h2,
            streams=self.protocol.active_streams,
            output_waiting=self.writing_paused or bool(self.protocol.buffered()),
        )
        action = verdict.action
        if action is IdleAction.WAIT:
            self._timer = self._loop.call_later(verdict.delay, self._check_idle)
        elif action is IdleAction.CLOSE:
            self._close(verdict.reason)
        elif action is IdleAction.SHUTDOWN:
            self.shutdown(verdict.reason)
        elif action is IdleAction.ABORT:
            self._abort(verdict.reason)
        else:  # IdleAction.CUT_STALLED: GOAWAY NO_ERROR that ends every stream, then close
            self.protocol.close(ErrorCodes.NO_ERROR, graceful=False)
            self._flush()
            self._close(verdict.reason)

    def _set_reason(self, reason: str) -> None:
        if self.close_reason is None:
            self.close_reason = reason
