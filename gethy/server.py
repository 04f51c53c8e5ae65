"""gethy over real sockets: a thin asyncio adapter around the sans-IO `HTTP2Protocol`.

Built in notebook 07 (asyncio server).

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
* **Idle connections** (no request or response moving for ``idle_timeout``
  seconds; PINGs and stray bytes do not count) are closed with a GOAWAY, and
  a client that stopped reading while responses wait is disconnected after
  the same time. The client preface must be in within
  ``min(idle_timeout, 10)`` seconds of the accept, however it trickles in.
* **Fairness and memory.** Each read is fed to the protocol 128 frames at a
  time with other connections served in between (`gethy.intake`), and the
  request bodies buffered across all connections are capped
  (``max_server_request_buffer``, `gethy.guards.uploads`).
* **Out of file descriptors** (`gethy.guards.accept`): failed accepts are
  counted and reported in one WARNING every few seconds, not a traceback each.
* **Bad clients are not errors.** An HTTP/1.1 request on the cleartext port
  gets a readable HTTP/1.1 answer; protocol violations get a GOAWAY from
  `HTTP2Protocol` (RFC 9113 §5.4.1); a vanished peer just ends its connection.
  None of this produces a traceback; each connection logs one line at INFO.

The parts, one concern per module: `gethy.connection` (one connection, an
explicit state machine over the phases of `gethy.phase`), `gethy.sniff`
(HTTP/2 or HTTP/1.x?), `gethy.responder` (running the application per
stream), `gethy.guards` (idle and stall timer, rapid-reset budget, output
budget, lingering close) and `gethy.logline`; this module keeps `Server`.

Start a server with `serve` (``python -m gethy serve`` does it for you)::

    server = await serve(port=0)          # port 0: any free port
    print(server.url)
    ...
    await server.close()                  # graceful
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from typing import Any

from gethy.app import Handler, default_app
from gethy.connection import DEFAULT_IDLE_TIMEOUT, TRANSPORT_HIGH_WATER, ServerConnection
from gethy.floods import RESET_BURST, RESET_RATE
from gethy.guards.accept import AcceptGuard
from gethy.guards.idle import PREFACE_TIMEOUT
from gethy.guards.linger import CLOSE_TIMEOUT, LINGER
from gethy.guards.memory import TRIM_DELAY, TRIM_INTERVAL, MemoryReturn
from gethy.guards.output import OUTPUT_BUDGET
from gethy.guards.uploads import MAX_SERVER_REQUEST_BUFFER, UploadBudget
from gethy.protocol import HTTP2Protocol
from gethy.responder import STREAM_HIGH_WATER

__all__ = [
    "DEFAULT_GRACE_PERIOD",
    "DEFAULT_IDLE_TIMEOUT",
    "STREAM_HIGH_WATER",
    "Server",
    "ServerConnection",
    "serve",
    # The limits of the server's parts, defined beside the code that applies
    # them and importable from here as before:
    "CLOSE_TIMEOUT",
    "LINGER",
    "MAX_SERVER_REQUEST_BUFFER",
    "OUTPUT_BUDGET",
    "RESET_BURST",
    "RESET_RATE",
    "TRANSPORT_HIGH_WATER",
]

logger = logging.getLogger("gethy.server")

#: Seconds `Server.close` lets in-flight streams finish before it cuts connections.
DEFAULT_GRACE_PERIOD = 10.0


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
        max_server_request_buffer: int = MAX_SERVER_REQUEST_BUFFER,
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
        #: Request-body bytes buffered across all connections, and their cap.
        self.uploads = UploadBudget(max_server_request_buffer)
        #: Gives freed memory back to the system after a big connection closes.
        self.memory = MemoryReturn()
        self._trim_handle: asyncio.TimerHandle | None = None
        self._connections: set[ServerConnection] = set()
        self._server: asyncio.base_events.Server | None = None
        self._accept_guard: AcceptGuard | None = None
        self._closed = asyncio.Event()
        self._close_task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Listen; `serve` calls this for you."""
        loop = asyncio.get_running_loop()
        tls: dict[str, Any] = {}
        if self.ssl_context is not None:
            # The TLS handshake comes before the preface and gets the preface's deadline
            # (gethy.guards.idle), not asyncio's 60 s: a trickled ClientHello gains nothing.
            tls = {"ssl": self.ssl_context, "ssl_handshake_timeout": self._preface_timeout()}
        self._server = await loop.create_server(
            self._new_connection, self.host, self.requested_port, backlog=1024, **tls
        )
        # Out of file descriptors: one warning now and then, not a traceback per accept.
        self._accept_guard = AcceptGuard(loop, self._server.sockets)
        self._accept_guard.install()
        logger.debug("listening on %s", self.url)

    def _preface_timeout(self) -> float:
        idle = self.idle_timeout
        return PREFACE_TIMEOUT if idle is None else min(idle, PREFACE_TIMEOUT)

    def _new_connection(self) -> ServerConnection:
        return ServerConnection(
            self.app,
            idle_timeout=self.idle_timeout,
            protocol_options=self.protocol_options,
            server=self,
        )

    def _connection_gone(self, connection: ServerConnection) -> None:
        """A connection ended (its buffers are released): maybe trim memory soon after."""
        self._connections.discard(connection)
        self.memory.connection_closed(connection.bytes_in + connection.bytes_out)
        if self._trim_handle is None:
            loop = asyncio.get_running_loop()
            self._trim_handle = loop.call_later(TRIM_DELAY, self._trim_memory)

    def _trim_memory(self) -> None:
        self._trim_handle = None
        if not self.memory.trim_if_due(asyncio.get_running_loop().time()) and self.memory.due:
            loop = asyncio.get_running_loop()
            self._trim_handle = loop.call_later(TRIM_INTERVAL, self._trim_memory)

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
        if self._trim_handle is not None:
            self._trim_handle.cancel()
        if self._server is not None:
            await self._server.wait_closed()
        if self._accept_guard is not None:
            self._accept_guard.uninstall()
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
    max_server_request_buffer: int = MAX_SERVER_REQUEST_BUFFER,
    **protocol_options: Any,
) -> Server:
    """Start serving `app` (default: `gethy.app.default_app`) and return the `Server`.

    Cleartext HTTP/2 with prior knowledge (h2c, RFC 9113 §3.3) unless an
    `ssl_context` is given (see `gethy.tls.server_context`; ALPN must offer
    ``h2``). ``port=0`` picks a free port: read it back from `Server.port`.
    `protocol_options` go to every connection's `HTTP2Protocol`
    (``max_body_size``, ``max_concurrent_streams``, ...).

    ``max_server_request_buffer`` caps the request-body bytes buffered across
    all connections (`gethy.guards.uploads`). Beyond it, connections that are
    receiving request bodies are not read until the total drops: an upload
    waits (TCP flow control holds the client back); one that does not move
    for ``idle_timeout`` seconds gets GOAWAY, which frees its share.
    """
    server = Server(
        app,
        host,
        port,
        ssl_context=ssl_context,
        idle_timeout=idle_timeout,
        grace_period=grace_period,
        max_server_request_buffer=max_server_request_buffer,
        **protocol_options,
    )
    await server.start()
    return server
