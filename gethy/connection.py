"""One client connection of the asyncio server: bytes in, protocol, application, bytes out.

Built in notebook 07 (asyncio server).

`ServerConnection` is the `asyncio.Protocol` of one accepted connection. It
moves bytes between the socket and the sans-IO `HTTP2Protocol`, and it is an
explicit state machine: what it does with each of asyncio's calls depends on
its `gethy.phase.Phase`, and `_enter` is the one place the phase changes.
Everything else lives next door, one concern per module: telling HTTP/2
from HTTP/1.x (`gethy.sniff`), feeding the protocol a slice at a time and
pausing reading (`gethy.intake`), running the application
(`gethy.responder`), the guards against costly clients (`gethy.guards`), and
the log line (`gethy.logline`).

Two trade-offs, on purpose:

* **Reading pauses while writing is paused.** A client that does not read
  could otherwise keep sending requests and PINGs whose answers (and PING
  ACKs, RFC 9113 §6.7) would pile up unsent. The price: its RST_STREAM or
  GOAWAY is not read either, until it reads again or the idle guard cuts it
  (``idle_timeout`` seconds without progress).
* **TLS has no half-close here.** asyncio's TLS transport shuts down once the
  client's close_notify arrives, whatever `eof_received` returns, so what is
  ready is written first and requests still in flight go unanswered. On
  cleartext a FIN is a half-close: the client may still read, and is answered.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from gethy.app import Handler, Request, default_app
from gethy.closing import Closing
from gethy.events import ConnectionTerminatedEvent, RequestEvent, StreamResetEvent
from gethy.frames import error_code_name
from gethy.guards.idle import IdleGuard
from gethy.guards.linger import Linger
from gethy.guards.output import BUSY_BODY, BUSY_HEADERS, BUSY_STATUS, OutputBudget
from gethy.guards.uploads import UploadMeter
from gethy.intake import Intake, ReadGate
from gethy.logline import describe, format_address, summary
from gethy.phase import TRANSITIONS, Phase
from gethy.protocol import HTTP2Protocol
from gethy.responder import Responder
from gethy.sniff import Sniffed, Sniffer, refuse_http1

if TYPE_CHECKING:
    from gethy.server import Server

__all__ = ["DEFAULT_IDLE_TIMEOUT", "TRANSPORT_HIGH_WATER", "ServerConnection"]

# One logger for the whole server: `logging.getLogger("gethy.server")` configures all of it.
logger = logging.getLogger("gethy.server")

#: Seconds without progress (no request or response moving) before a connection is closed.
DEFAULT_IDLE_TIMEOUT = 60.0
#: asyncio pauses us (`pause_writing`) when its socket buffer holds more than this.
TRANSPORT_HIGH_WATER = 128 * 1024


class ServerConnection(Closing, asyncio.Protocol):
    """One client connection: bytes in, `HTTP2Protocol`, application, bytes out.

    asyncio creates one per accepted connection and calls `connection_made`,
    `data_received`, `pause_writing`/`resume_writing`, `eof_received` and
    `connection_lost`. Read-only attributes tell what happened: `phase`,
    `peer`, `kind` ("h2c", "h2" or "http/1.1"), `requests`, `bytes_in`,
    `bytes_out`, `close_reason`, `writing_paused`; `closed` is a future that
    completes with the connection. How it ends (`shutdown` and the rest) is
    `gethy.closing`'s.
    """

    def __init__(
        self,
        app: Handler = default_app,
        *,
        idle_timeout: float | None = DEFAULT_IDLE_TIMEOUT,
        protocol_options: Mapping[str, Any] | None = None,
        server: Server | None = None,
    ) -> None:
        self.app = app
        self.idle_timeout = idle_timeout
        self.server = server
        self.protocol = HTTP2Protocol(**(protocol_options or {}))
        self.transport: asyncio.Transport | None = None
        self.phase = Phase.SNIFFING
        #: Backpressure, not a phase: asyncio asked us to stop writing (the client is not reading).
        self.writing_paused = False
        self.peer = "?"
        self.kind = "h2c"
        self.tls = False
        self.requests = 0
        self.bytes_in = 0
        self.bytes_out = 0
        self.close_reason: str | None = None
        self._loop = asyncio.get_running_loop()
        self.closed: asyncio.Future[None] = self._loop.create_future()
        self._started_at = now = self._loop.time()
        self.responder = Responder(
            self.protocol,
            app,
            loop=self._loop,
            schedule_flush=self._schedule_flush,
            writing_paused=lambda: self.writing_paused,
        )
        self._sniffer = Sniffer()
        self._idle: IdleGuard | None = None
        if idle_timeout is not None:
            self._idle = IdleGuard(idle_timeout, now, progress=self.protocol.progress)
        self._output_budget = OutputBudget()
        self._gate = gate = ReadGate()
        self._uploads = UploadMeter(
            server.uploads if server is not None else None,
            pause=lambda: gate.pause("uploads"),
            resume=lambda: gate.resume("uploads"),
        )
        self._intake = Intake(self._loop, self._feed, self._gate)
        self._peer_finished = False  # the client sent its FIN: it can open no window any more
        self._linger: Linger | None = None
        self._flush_handle: asyncio.Handle | None = None
        self._timer: asyncio.TimerHandle | None = None  # the idle check, then the linger check

    def _enter(self, phase: Phase) -> None:
        """Move to `phase`: the only place the phase changes (see `TRANSITIONS`)."""
        if phase not in TRANSITIONS[self.phase]:
            raise RuntimeError(f"{self.peer}: no transition from {self.phase.name} to {phase.name}")
        self.phase = phase

    def _drain(self) -> None:
        """Finish the open streams, then close: OPEN → DRAINING (already DRAINING: stay)."""
        if self.phase is Phase.OPEN:
            self._enter(Phase.DRAINING)

    # ------------------------------------------------------------ asyncio calls

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = self._gate.transport = transport
        self.peer = self.responder.peer = format_address(transport.get_extra_info("peername"))
        transport.set_write_buffer_limits(high=TRANSPORT_HIGH_WATER)
        ssl_object = transport.get_extra_info("ssl_object")
        if ssl_object is not None:
            self.tls = True
            if ssl_object.selected_alpn_protocol() == "h2":
                # ALPN chose HTTP/2 (RFC 9113 §3.2): no sniffing, our preface can go at once.
                self.kind = "h2"
                self._enter(Phase.OPEN)
                self._flush()
            else:
                self.kind = "tls without ALPN h2"
        if self.server is not None:
            self.server._connections.add(self)
        if self._idle is not None:
            self._timer = self._loop.call_later(self._idle.first_delay, self._check_idle)

    def data_received(self, data: bytes) -> None:
        self.bytes_in += len(data)
        if self._idle is not None:
            self._idle.heard(self._loop.time())
        if self.phase.shut:
            return  # lingering after our last frames: read and forget
        if self.phase is Phase.SNIFFING:
            try:
                data = self._sniff(data)
            except Exception:  # a bug of ours: keep it to this one connection
                logger.exception("%s: internal error; closing the connection", self.peer)
                self._abort("internal server error")
                return
            if not data:
                return
        self._intake.take(data)  # at most a slice now; the rest after others had a turn

    def eof_received(self) -> bool | None:
        # The client will send nothing more. (TLS: bytes decrypted before its
        # close_notify may still wait in the backlog; they come first.)
        self._intake.catch_up()
        self._set_reason("the client closed its side")
        if not self.phase.speaks_h2:
            return None  # let the transport close itself
        # Requests still arriving can never complete: drop them and their bodies.
        self._peer_finished = True
        self.protocol.peer_closed()
        if self.tls or self.writing_paused:
            # TLS closes now whatever we return (see the module docstring): write
            # what is ready. A client that does not read is gone, or as good as.
            self._flush()
            return None
        # Perhaps only half-closed: answer what it asked, then close. No GOAWAY:
        # it can open nothing more, and h2-based clients drop responses after one.
        self._drain()
        self._flush()  # closes at once if nothing is left, or if output waits for window
        return None if self.phase.shut else True  # keep our side open while responses finish

    def pause_writing(self) -> None:
        # The client is not reading: stop producing, and stop reading its
        # requests (a trade-off: see the module docstring).
        self.writing_paused = True
        if not self.phase.shut:
            self._gate.pause("writing")

    def resume_writing(self) -> None:
        self.writing_paused = False
        if not self.phase.shut:
            self._gate.resume("writing")
        self._flush()

    def connection_lost(self, exc: Exception | None) -> None:
        if exc is not None:
            self._set_reason(f"connection lost: {describe(exc)}")
        else:
            self._set_reason("the client closed the connection")
        self._enter(Phase.CLOSED)
        reason = self.close_reason
        unfinished = self.protocol.active_streams
        if unfinished and not self.protocol.terminated:
            reason = f"{reason}, {unfinished} stream(s) unfinished"
        for handle in (self._timer, self._flush_handle):
            if handle is not None:
                handle.cancel()
        self.responder.stop()
        self._release()  # every buffer goes now (gethy.closing)
        if self.server is not None:
            self.server._connection_gone(self)
        if not self.closed.done():
            self.closed.set_result(None)
        seconds = self._loop.time() - self._started_at
        numbers = (self.peer, self.kind, self.requests, self.bytes_in, self.bytes_out, seconds)
        logger.info("%s; %s", summary(*numbers), reason)
        self.transport = None

    # ------------------------------------------------------------ bytes arriving

    def _feed(self, data: bytes) -> None:
        """One slice for the protocol (`gethy.intake`): events, budgets, then one write."""
        try:
            self._handle_events(self.protocol.receive(data))
            self._flush()
        except Exception:  # a bug of ours: keep it to this one connection
            logger.exception("%s: internal error; closing the connection", self.peer)
            self._abort("internal server error")

    def _sniff(self, data: bytes) -> bytes:
        """Tell HTTP/2 from HTTP/1.x (`gethy.sniff`); return the bytes for the protocol."""
        sniffed, head = self._sniffer.feed(data)
        if sniffed is Sniffed.HTTP1:
            self._refuse_http1(head)
        elif sniffed is Sniffed.HTTP2:
            self._enter(Phase.OPEN)  # from here on `HTTP2Protocol` judges the bytes
            if self.tls:
                self.kind = "h2 (TLS without ALPN)"
            return head
        return b""

    def _refuse_http1(self, head: bytes) -> None:
        """Answer an HTTP/1.x request in HTTP/1.1: this port speaks HTTP/2 only."""
        self.kind = "http/1.1"
        refusal = refuse_http1(head, self._own_url(), tls=self.tls)
        assert self.transport is not None
        self.transport.write(refusal.response)
        self.bytes_out += len(refusal.response)
        logger.debug("%s: HTTP/1.x request %r refused with 505", self.peer, refusal.request_line)
        self._close(refusal.reason)

    def _handle_events(self, events: list[Any]) -> None:
        for event in events:
            kind = type(event)
            if kind is RequestEvent:
                self._request_received(event.stream)
            elif kind is StreamResetEvent:
                # The client cancelled the stream (RFC 9113 §6.4): stop working on it.
                self.responder.cancel(event.stream_id)
                logger.debug("%s: stream %d reset by the client", self.peer, event.stream_id)
            elif kind is ConnectionTerminatedEvent:
                self._connection_terminated(event)

    def _request_received(self, request: Request) -> None:
        self.requests += 1
        if not self._output_budget.admits(self.protocol.buffered()):
            self.protocol.send(request.stream_id, BUSY_STATUS, BUSY_HEADERS, BUSY_BODY)
            return
        self.responder.start(request)

    def _connection_terminated(self, event: ConnectionTerminatedEvent) -> None:
        code = error_code_name(event.error_code)
        if event.by_peer and not self.protocol.terminated:
            # The client's GOAWAY NO_ERROR (RFC 9113 §6.8): it opens no more
            # streams, but the protocol still answers the open ones. Finish them
            # and close, as at our own graceful shutdown.
            self._set_reason(f"the client sent GOAWAY ({code})")
            self._drain()
            return
        if event.by_peer:
            reason = f"the client sent GOAWAY ({code})"
        else:
            reason = f"protocol error, sent GOAWAY {code}: {event.reason}"
        self.responder.cancel_all()
        self._flush()  # the GOAWAY goes out even if the client is slow to read
        self._close(reason)

    # ------------------------------------------------------------- bytes leaving

    def _schedule_flush(self) -> None:
        """Flush once the current burst of work is done: many sends, one write."""
        if self._flush_handle is None and self.phase is not Phase.CLOSED:
            self._flush_handle = self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        """Write what the protocol has for the client, in one `transport.write`."""
        self._flush_handle = None
        transport = self.transport
        if transport is None or not self.phase.speaks_h2:
            return
        if not self.writing_paused or self.protocol.terminated:
            data = self.protocol.data_to_send()
            if data:
                self.bytes_out += len(data)
                transport.write(data)
        idle = self._idle
        if idle is not None and idle.progress_mark != self.protocol.progress:
            idle.observe(self.protocol.progress, self._loop.time())  # the stall clock restarts
        if self.protocol.request_bytes != self._uploads.counted:
            self._uploads.update(self.protocol.request_bytes)  # the server-wide budget
        self.responder.wake_writers()
        if self.phase is Phase.DRAINING and self.protocol.active_streams == 0:
            self._close(self.close_reason or "server shutdown")
        elif self._peer_finished and self.protocol.waiting_for_window():
            # After its FIN the client can send no WINDOW_UPDATE: this would wait forever.
            self._close("the client closed its side; responses wait for window it cannot open")

    def _own_url(self) -> str:
        address = self.transport.get_extra_info("sockname") if self.transport else None
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{format_address(address)}/"
