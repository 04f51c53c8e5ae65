"""gethy over real sockets: a thin asyncio adapter around the sans-IO `HTTP2Protocol`.

The seed article's asyncio + h2 server did everything inside its
``asyncio.Protocol``. Here the HTTP/2 logic lives in `HTTP2Protocol` and the
socket code only moves bytes and runs the application::

    data_received(data)
        events = protocol.receive(data)        # RequestEvent, StreamResetEvent, ...
        ... run the application for each request ...
        transport.write(protocol.data_to_send())   # one write per batch of events

What the adapter adds, and the seed server lacked:

* **Backpressure, outbound.** asyncio calls `pause_writing` when the socket's
  buffer fills up (the client stopped reading). Then the adapter stops calling
  ``data_to_send()``: response data waits in gethy's own per-stream buffer,
  bounded by the client's flow-control windows (RFC 9113 §5.2), and streaming
  handlers wait before producing more. Reading is paused too, so a client that
  does not read cannot make the server pile up answers to new requests.
* **No head-of-line blocking between streams.** Each ``async`` handler and each
  streamed body runs in its own task; a slow one delays only its own stream
  (RFC 9113 §5: streams are independent). A reset stream's task is cancelled.
* **Graceful shutdown.** `Server.close` stops accepting connections and sends
  each connection a GOAWAY carrying the last stream id it will process
  (RFC 9113 §6.8); streams already open finish, then the connection closes.
* **Idle connections** (no open stream, no bytes for ``idle_timeout`` seconds)
  are closed with a GOAWAY, and a client that stopped reading while responses
  wait is disconnected after the same time.
* **Bad clients are not errors.** An HTTP/1.1 request on the cleartext port
  gets a readable HTTP/1.1 answer; protocol violations get a GOAWAY from
  `HTTP2Protocol` (RFC 9113 §5.4.1); a vanished peer just ends its connection.
  None of this produces a traceback; each connection logs one line at INFO.

Start a server with `serve` (``python -m gethy serve`` does it for you)::

    server = await serve(port=0)          # port 0: any free port
    print(server.url)
    ...
    await server.close()                  # graceful
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import ssl
import sys
from collections.abc import Awaitable, Iterable, Mapping
from typing import Any

from h2.errors import ErrorCodes

from gethy.app import Handler, Request, Response, default_app
from gethy.errors import SendError
from gethy.events import ConnectionTerminatedEvent, RequestEvent, StreamResetEvent
from gethy.guards.idle import IdleAction, IdleGuard
from gethy.guards.linger import LINGER, Linger, half_close
from gethy.guards.output import BUSY_BODY, BUSY_HEADERS, BUSY_STATUS, OutputBudget
from gethy.guards.resets import ResetBudget
from gethy.protocol import HTTP2Protocol
from gethy.sniff import Sniffed, Sniffer, refuse_http1

__all__ = [
    "DEFAULT_GRACE_PERIOD",
    "DEFAULT_IDLE_TIMEOUT",
    "STREAM_HIGH_WATER",
    "Server",
    "ServerConnection",
    "serve",
]

logger = logging.getLogger("gethy.server")

#: Seconds without an open stream and without a byte before a connection is closed.
DEFAULT_IDLE_TIMEOUT = 60.0
#: Seconds `Server.close` lets in-flight streams finish before it cuts connections.
DEFAULT_GRACE_PERIOD = 10.0
#: A streamed body waits while more than this many bytes of it are still unsent.
STREAM_HIGH_WATER = 128 * 1024
#: asyncio pauses us (`pause_writing`) when its socket buffer holds more than this.
TRANSPORT_HIGH_WATER = 128 * 1024


class ServerConnection(asyncio.Protocol):
    """One client connection: bytes in, `HTTP2Protocol`, application, bytes out.

    asyncio creates one per accepted connection and calls `connection_made`,
    `data_received`, `pause_writing`/`resume_writing`, `eof_received` and
    `connection_lost`. Read-only attributes tell what happened: `peer`,
    `kind` ("h2c", "h2" or "http/1.1"), `requests`, `bytes_in`, `bytes_out`,
    `close_reason`; `closed` is a future that completes with the connection.
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
        self.peer = "?"
        self.kind = "h2c"
        self.tls = False
        self.requests = 0
        self.bytes_in = 0
        self.bytes_out = 0
        self.close_reason: str | None = None
        self._loop = asyncio.get_running_loop()
        self.closed: asyncio.Future[None] = self._loop.create_future()
        self._started_at = self._loop.time()
        self._idle = IdleGuard(idle_timeout, self._started_at) if idle_timeout is not None else None
        self._speaking_h2 = False  # True once the client's bytes were taken for HTTP/2
        self._sniffer = Sniffer()  # first bytes, kept until we know whether they are HTTP/2
        self._paused = False  # asyncio asked us to stop writing
        self._closing = False  # we asked the transport to close
        self._lost = False  # connection_lost was called
        self._shutting_down = False  # graceful GOAWAY sent; close when streams are done
        self._linger: Linger | None = None
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._writers: dict[int, asyncio.Future[None]] = {}
        self._flush_handle: asyncio.Handle | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._resets = ResetBudget(self._started_at)
        self._output_budget = OutputBudget()

    # ------------------------------------------------------------ asyncio calls

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.peer = _address(transport.get_extra_info("peername"))
        transport.set_write_buffer_limits(high=TRANSPORT_HIGH_WATER)
        ssl_object = transport.get_extra_info("ssl_object")
        if ssl_object is not None:
            self.tls = True
            alpn = ssl_object.selected_alpn_protocol()
            if alpn == "h2":
                # ALPN chose HTTP/2 (RFC 9113 §3.2): our preface can go at once.
                self.kind = "h2"
                self._speaking_h2 = True
                self._flush()
            else:
                self.kind = "tls without ALPN h2"
        if self.server is not None:
            self.server._connections.add(self)
        if self.idle_timeout is not None:
            self._timer = self._loop.call_later(self.idle_timeout, self._check_idle)

    def data_received(self, data: bytes) -> None:
        self.bytes_in += len(data)
        if self._idle is not None:
            self._idle.touch(self._loop.time())
        if self._closing:
            return  # lingering after our last frames: read and forget
        try:
            if not self._speaking_h2:
                data = self._sniff(data)
                if not data:
                    return
            self._handle_events(self.protocol.receive(data))
            if self.protocol.resets_received != self._resets.seen:
                self._count_resets()
            self._flush()
        except Exception:  # a bug of ours: keep it to this one connection
            logger.exception("%s: internal error; closing the connection", self.peer)
            self._abort("internal server error")

    def eof_received(self) -> bool | None:
        # The client will send nothing more, but may still read: answer what it
        # asked, then close (a graceful GOAWAY, as at shutdown).
        self._set_reason("the client closed its side")
        if not self._speaking_h2 or self._closing or self.tls:
            return None  # let the transport close itself
        if self._paused or (self.protocol.buffered() and self.protocol.send_window(0) <= 0):
            # It can send no WINDOW_UPDATE any more, so what waits for window
            # would wait forever; and a client that closed completely is gone.
            return None
        # Perhaps only half-closed: answer what it asked, then close. No GOAWAY:
        # it can open nothing more, and h2-based clients drop responses after one.
        self._shutting_down = True
        self._flush()
        return True  # keep our side open while responses finish

    def pause_writing(self) -> None:
        # The client is not reading: stop producing, and stop reading its requests.
        self._paused = True
        if self.transport is not None and not self._closing:
            self.transport.pause_reading()

    def resume_writing(self) -> None:
        self._paused = False
        if self.transport is not None and not self._closing:
            self.transport.resume_reading()
        self._flush()

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost = True
        if exc is not None:
            self._set_reason(f"connection lost: {_describe(exc)}")
        else:
            self._set_reason("the client closed the connection")
        unfinished = self.protocol.active_streams if self._speaking_h2 else 0
        for handle in (self._timer, self._flush_handle):
            if handle is not None:
                handle.cancel()
        self._cancel_tasks()
        for waiter in self._writers.values():
            waiter.cancel()
        self._writers.clear()
        if self.server is not None:
            self.server._connections.discard(self)
        if not self.closed.done():
            self.closed.set_result(None)
        reason = self.close_reason
        if unfinished and not self.protocol.terminated:
            reason = f"{reason}, {unfinished} stream(s) unfinished"
        logger.info(
            "%s %s: %d request(s), %s in, %s out, %.2f s; %s",
            self.peer,
            self.kind,
            self.requests,
            _size(self.bytes_in),
            _size(self.bytes_out),
            self._loop.time() - self._started_at,
            reason,
        )
        self.transport = None

    # ------------------------------------------------------------ bytes arriving

    def _sniff(self, data: bytes) -> bytes:
        """Decide from the first bytes whether the client speaks HTTP/2.

        The server preface may wait until the client's preface arrived
        (RFC 9113 §3.4), so an HTTP/1.x client can be answered in HTTP/1.1.
        Returns the bytes to feed to the protocol, or b"" when there are none.
        """
        sniffed, head = self._sniffer.feed(data)
        if sniffed is Sniffed.MORE:
            return b""
        if sniffed is Sniffed.HTTP1:
            self._refuse_http1(head)
            return b""
        self._speaking_h2 = True  # from here on `HTTP2Protocol` judges the bytes
        if self.tls:
            self.kind = "h2 (TLS without ALPN)"
        return head

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
                self._stream_reset(event)
            elif kind is ConnectionTerminatedEvent:
                self._connection_terminated(event)

    def _request_received(self, request: Request) -> None:
        self.requests += 1
        if not self._output_budget.admits(self.protocol.buffered()):
            self.protocol.send(request.stream_id, BUSY_STATUS, BUSY_HEADERS, BUSY_BODY)
            return
        try:
            result = self.app(request)
        except Exception:
            self._application_error(request, "the handler raised")
            return
        if isinstance(result, Response):
            self._respond(request, result)
        elif inspect.isawaitable(result):
            self._start_task(request.stream_id, self._respond_later(request, result), result)
        else:
            self._application_error(
                request, f"the handler returned {type(result).__name__}, not a Response"
            )

    def _stream_reset(self, event: StreamResetEvent) -> None:
        # The client cancelled the stream (RFC 9113 §6.4): stop working on it.
        task = self._tasks.pop(event.stream_id, None)
        if task is not None:
            task.cancel()
        logger.debug("%s: stream %d reset by the client", self.peer, event.stream_id)

    def _connection_terminated(self, event: ConnectionTerminatedEvent) -> None:
        code = _error_name(event.error_code)
        if event.by_peer:
            reason = f"the client sent GOAWAY ({code})"
        else:
            reason = f"protocol error, sent GOAWAY {code}: {event.reason}"
        self._cancel_tasks()
        self._flush()  # the GOAWAY goes out even if the client is slow to read
        self._close(reason)

    # ---------------------------------------------------------------- responding

    def _respond(self, request: Request, response: Response) -> None:
        """Hand a response to the protocol, whole or as a streaming task."""
        stream_id = request.stream_id
        protocol = self.protocol
        try:
            if request.method == "HEAD":
                # A HEAD response has no content (RFC 9110 §9.3.2), only its headers.
                header_list = _header_list(response.headers)
                body = response.body
                declared = any(name.lower() == "content-length" for name, _ in header_list)
                has_content = response.status not in (204, 304)  # RFC 9110 §8.6
                if isinstance(body, bytes) and has_content and not declared:
                    header_list.append(("content-length", str(len(body))))
                protocol.send_headers(stream_id, response.status, header_list, end_stream=True)
            elif not response.streaming:
                assert isinstance(response.body, bytes)
                protocol.send(
                    stream_id,
                    response.status,
                    response.headers,
                    response.body,
                    trailers=response.trailers,
                )
            else:
                self._start_task(stream_id, self._stream_body(request, response))
        except SendError as exc:
            self._send_failed(request, exc)
        except Exception:  # e.g. headers that are not (name, value) pairs
            self._application_error(request, "the response could not be sent")

    async def _respond_later(self, request: Request, pending: Awaitable[Any]) -> None:
        """Await an async handler, then respond; runs in the stream's own task."""
        try:
            response = await pending
        except Exception:
            self._application_error(request, "the handler raised")
            return
        if not isinstance(response, Response):
            message = f"the handler returned {type(response).__name__}, not a Response"
            self._application_error(request, message)
            return
        if response.streaming and request.method != "HEAD":
            await self._stream_body(request, response)
        else:
            self._respond(request, response)
            self._schedule_flush()

    async def _stream_body(self, request: Request, response: Response) -> None:
        """Send a streamed body chunk by chunk, never far ahead of the client."""
        stream_id = request.stream_id
        protocol = self.protocol
        chunks = aiter(response.body)  # type: ignore[arg-type]
        headers_sent = False
        try:
            async for chunk in chunks:
                if not headers_sent:
                    # HEADERS waits for the first chunk: if producing it fails, we can still 500.
                    protocol.send_headers(stream_id, response.status, response.headers)
                    headers_sent = True
                if chunk:
                    protocol.send_data(stream_id, bytes(chunk))
                    self._schedule_flush()
                    await self._writable(stream_id)
                else:
                    await asyncio.sleep(0)  # let others run, even if the body only yields b""
            if not headers_sent:
                protocol.send_headers(stream_id, response.status, response.headers)
            if response.trailers is not None:
                protocol.send_trailers(stream_id, response.trailers)
            else:
                protocol.end_stream(stream_id)
            self._schedule_flush()
        except SendError as exc:
            self._send_failed(request, exc, headers_sent=headers_sent)
        except Exception:
            self._application_error(request, "the response body raised", headers_sent=headers_sent)
        finally:
            self._writers.pop(stream_id, None)
            close = getattr(chunks, "aclose", None)
            if close is not None:
                try:
                    await close()
                except Exception:
                    logger.exception(
                        "%s: closing the body of stream %d raised", self.peer, stream_id
                    )

    async def _writable(self, stream_id: int) -> None:
        """Wait until this stream may produce more: socket writable, little buffered.

        Without this a handler could generate a whole 1 GiB body into memory
        while the client reads nothing; with it, at most about
        `STREAM_HIGH_WATER` bytes per stream wait in gethy's buffer.
        """
        if not self._paused and self.protocol.buffered(stream_id) < STREAM_HIGH_WATER:
            return
        waiter: asyncio.Future[None] = self._loop.create_future()
        self._writers[stream_id] = waiter
        await waiter

    def _wake_writers(self) -> None:
        if self._paused:
            return
        buffered = self.protocol.buffered
        for stream_id, waiter in list(self._writers.items()):
            if buffered(stream_id) < STREAM_HIGH_WATER:
                del self._writers[stream_id]
                if not waiter.done():
                    waiter.set_result(None)

    def _start_task(self, stream_id: int, coroutine: Any, inner: Any = None) -> None:
        task = self._loop.create_task(coroutine)
        self._tasks[stream_id] = task
        task.add_done_callback(lambda done: self._task_done(stream_id, done, inner))

    def _task_done(self, stream_id: int, task: asyncio.Task[None], inner: Any = None) -> None:
        if self._tasks.get(stream_id) is task:
            del self._tasks[stream_id]
        if task.cancelled() and inspect.iscoroutine(inner):
            inner.close()  # cancelled before it ran: no "never awaited" warning
        if not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            logger.error("%s: stream %d task failed", self.peer, stream_id, exc_info=exc)
        if not self._lost:
            self._schedule_flush()

    def _cancel_tasks(self) -> None:
        tasks = list(self._tasks.values())
        self._tasks.clear()
        for task in tasks:
            task.cancel()

    def _application_error(
        self, request: Request, what: str, *, headers_sent: bool = False
    ) -> None:
        """A bug in the application: log it once, answer 500 or reset the stream.

        Called from inside an ``except`` block the log shows the traceback:
        it points at the application's code, which is where the fix goes.
        """
        stream_id = request.stream_id
        logger.error(
            "%s: application error on stream %d (%s %s): %s",
            self.peer,
            stream_id,
            request.method,
            request.path,
            what,
            exc_info=sys.exc_info()[0] is not None,
        )
        if self._lost or self.protocol.terminated:
            return
        try:
            if not headers_sent:
                body = b"500 Internal Server Error: the application failed; see the server log\n"
                headers = [("content-type", "text/plain; charset=utf-8")]
                self.protocol.send(stream_id, 500, headers, body)
            else:
                self.protocol.reset_stream(stream_id, ErrorCodes.INTERNAL_ERROR)
        except SendError:
            with contextlib.suppress(SendError):
                self.protocol.reset_stream(stream_id, ErrorCodes.INTERNAL_ERROR)
        self._schedule_flush()

    def _send_failed(self, request: Request, exc: SendError, *, headers_sent: bool = False) -> None:
        """A send was refused: either the stream is gone or the response was invalid."""
        open_ = self.protocol.stream_is_open(request.stream_id)
        if self._lost or self.protocol.terminated or not open_:
            # The client reset the stream (or the connection ended): nothing to answer.
            logger.debug("%s: stream %d: %s", self.peer, request.stream_id, exc)
            return
        # The stream is open, so the application asked for something invalid.
        self._application_error(request, str(exc), headers_sent=headers_sent)

    # ------------------------------------------------------------- bytes leaving

    def _schedule_flush(self) -> None:
        """Flush once the current burst of work is done: many sends, one write."""
        if self._flush_handle is None and not self._lost:
            self._flush_handle = self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        """Write what the protocol has for the client, in one `transport.write`."""
        self._flush_handle = None
        transport = self.transport
        if transport is None or self._closing or not self._speaking_h2:
            return
        if not self._paused or self.protocol.terminated:
            data = self.protocol.data_to_send()
            if data:
                self.bytes_out += len(data)
                if self._idle is not None:
                    self._idle.touch(self._loop.time())
                transport.write(data)
        if self._writers:
            self._wake_writers()
        if self._shutting_down and not self._closing and self.protocol.active_streams == 0:
            self._close(self.close_reason or "server shutdown")

    # ------------------------------------------------------------------- closing

    def shutdown(self, reason: str = "server shutdown") -> None:
        """Graceful close: GOAWAY with the last stream id we process (RFC 9113 §6.8).

        Streams the client already opened are answered; the connection closes
        when the last one is done (see `Server.close` for the time limit).
        """
        if self._closing or self._lost:
            return
        self._set_reason(reason)
        if not self._speaking_h2:
            self._close(reason)
            return
        self._shutting_down = True
        self.protocol.close()
        self._flush()

    def _close(self, reason: str) -> None:
        """Close our side: flush, half-close, read and discard for a moment, then cut.

        A plain close() while the client's bytes are still arriving would make
        the kernel answer with a TCP reset, which can destroy our last frames
        (the GOAWAY) before the client reads them. So we shut down writing
        only, and wait briefly for the client to close too (a lingering close).
        """
        self._set_reason(reason)
        if self._closing or self.transport is None:
            return
        self._closing = True
        self._cancel_tasks()
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
        if self._lost or self.transport is None or self._linger is None:
            return
        if self._linger.should_cut(self._loop.time(), self.transport.get_write_buffer_size()):
            self.transport.abort()
        else:
            self._timer = self._loop.call_later(self._linger.interval, self._check_closed)

    def _abort(self, reason: str) -> None:
        """Cut the connection at once (no more frames can get through anyway)."""
        self._set_reason(reason)
        self._closing = True
        self._cancel_tasks()
        if self.transport is not None:
            self.transport.abort()

    def _check_idle(self) -> None:
        """Close a connection that has been quiet for `idle_timeout` seconds."""
        self._timer = None
        if self._closing or self._lost or self._idle is None:
            return
        verdict = self._idle.check(
            self._loop.time(),
            progress=self.protocol.progress,
            preface_seen=self._speaking_h2,
            streams=self.protocol.active_streams,
            output_waiting=self._paused or bool(self.protocol.buffered()),
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
        else:  # IdleAction.CUT_STALLED
            self.protocol.close(ErrorCodes.NO_ERROR, graceful=False)
            self._flush()
            self._close(verdict.reason)

    def _count_resets(self) -> None:
        """Rapid reset (CVE-2023-44487): a token bucket over the client's RST_STREAMs."""
        if self._resets.exceeded(self.protocol.resets_received, self._loop.time()):
            self._cancel_tasks()
            self.protocol.close(ErrorCodes.ENHANCE_YOUR_CALM)
            self._flush()
            self._close("too many streams reset by the client (rapid reset)")

    def _set_reason(self, reason: str) -> None:
        if self.close_reason is None:
            self.close_reason = reason

    def _own_url(self) -> str:
        address = self.transport.get_extra_info("sockname") if self.transport else None
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{_address(address)}/"


class Server:
    """A listening gethy server; made by `serve`.

    ``port`` is the real port (useful after asking for port 0), ``url`` the
    address to give a client. `close` shuts down gracefully; the server also
    works as ``async with``, closing at the end of the block.
    """

    def __init__(
        self,
        app: Handler | None = None,
        host: str = "127.0.0.1",
        port: int = 8000,
        *,
        ssl_context: ssl.SSLContext | None = None,
        idle_timeout: float | None = DEFAULT_IDLE_TIMEOUT,
        grace_period: float = DEFAULT_GRACE_PERIOD,
        **protocol_options: Any,
    ) -> None:
        HTTP2Protocol(**protocol_options)  # unknown or bad options fail here, not per connection
        self.app: Handler = app if app is not None else default_app
        self.host = host
        self.requested_port = port
        self.ssl_context = ssl_context
        self.idle_timeout = idle_timeout
        self.grace_period = grace_period
        self.protocol_options = protocol_options
        self._connections: set[ServerConnection] = set()
        self._server: asyncio.base_events.Server | None = None
        self._closed = asyncio.Event()
        self._close_task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Listen; `serve` calls this for you."""
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self._new_connection, self.host, self.requested_port, ssl=self.ssl_context, backlog=1024
        )
        logger.debug("listening on %s", self.url)

    def _new_connection(self) -> ServerConnection:
        return ServerConnection(
            self.app,
            idle_timeout=self.idle_timeout,
            protocol_options=self.protocol_options,
            server=self,
        )

    @property
    def tls(self) -> bool:
        return self.ssl_context is not None

    @property
    def port(self) -> int:
        """The port we listen on (the real one when port 0 was asked for)."""
        if self._server is None or not self._server.sockets:
            return self.requested_port
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        """Where clients reach us, e.g. ``http://127.0.0.1:8000/``."""
        host = self.host if ":" not in self.host else f"[{self.host}]"
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}/"

    @property
    def connections(self) -> frozenset[ServerConnection]:
        """The connections open right now."""
        return frozenset(self._connections)

    @property
    def is_serving(self) -> bool:
        return self._server is not None and self._server.is_serving()

    async def close(self, grace_period: float | None = None) -> None:
        """Shut down gracefully: stop accepting, GOAWAY everyone, let streams finish.

        Each connection gets a GOAWAY with the last stream id it will process
        (RFC 9113 §6.8); those streams are answered, then the connection
        closes. Connections still busy after `grace_period` seconds are cut.
        Calling it again waits for the first call to finish.
        """
        if self._close_task is None:
            grace = self.grace_period if grace_period is None else grace_period
            self._close_task = asyncio.get_running_loop().create_task(self._close(grace))
        await asyncio.shield(self._close_task)

    async def _close(self, grace_period: float) -> None:
        if self._server is not None:
            self._server.close()  # stop accepting
        connections = list(self._connections)
        for connection in connections:
            connection.shutdown()
        pending = [c.closed for c in connections if not c.closed.done()]
        if pending:
            await asyncio.wait(pending, timeout=grace_period + LINGER)
        for connection in list(self._connections):
            connection._abort(f"still busy after the {grace_period:g} s grace period")
        pending = [c.closed for c in connections if not c.closed.done()]
        if pending:
            await asyncio.wait(pending, timeout=1.0)
        if self._server is not None:
            await self._server.wait_closed()
        self._closed.set()

    def abort(self) -> None:
        """Stop accepting and cut every connection now, without waiting for streams."""
        if self._server is not None:
            self._server.close()
        for connection in list(self._connections):
            connection._abort("server stopped at once")

    async def serve_forever(self) -> None:
        """Serve until `close` is called; if this task is cancelled, close gracefully."""
        try:
            await self._closed.wait()
        except asyncio.CancelledError:
            await self.close()
            raise

    async def __aenter__(self) -> Server:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def __repr__(self) -> str:
        state = "serving" if self.is_serving else "closed"
        return f"<gethy Server {self.url} {state}, {len(self._connections)} connection(s)>"


async def serve(
    app: Handler | None = None,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    ssl_context: ssl.SSLContext | None = None,
    idle_timeout: float | None = DEFAULT_IDLE_TIMEOUT,
    grace_period: float = DEFAULT_GRACE_PERIOD,
    **protocol_options: Any,
) -> Server:
    """Start serving `app` (default: `gethy.app.default_app`) and return the `Server`.

    Cleartext HTTP/2 with prior knowledge (h2c, RFC 9113 §3.3) unless an
    `ssl_context` is given (see `gethy.tls.server_context`; ALPN must offer
    ``h2``). ``port=0`` picks a free port: read it back from `Server.port`.
    `protocol_options` go to every connection's `HTTP2Protocol`
    (``max_body_size``, ``max_concurrent_streams``, ...).
    """
    server = Server(
        app,
        host,
        port,
        ssl_context=ssl_context,
        idle_timeout=idle_timeout,
        grace_period=grace_period,
        **protocol_options,
    )
    await server.start()
    return server


# ------------------------------------------------------------------- helpers


def _header_list(headers: Iterable[tuple[str, str]] | Mapping[str, str]) -> list[tuple[str, str]]:
    items = headers.items() if isinstance(headers, Mapping) else headers
    return [(str(name), str(value)) for name, value in items]


def _address(address: Any) -> str:
    if isinstance(address, tuple) and len(address) >= 2:
        host, port = address[0], address[1]
        return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"
    return str(address)


def _error_name(code: ErrorCodes | int) -> str:
    try:
        return ErrorCodes(code).name
    except ValueError:
        return f"error {int(code):#x}"


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _size(n: int) -> str:
    if n < 1000:
        return f"{n} B"
    if n < 1_000_000:
        return f"{n / 1000:.1f} kB"
    return f"{n / 1_000_000:.1f} MB"
