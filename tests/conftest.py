"""Fixtures for the socket tests: a gethy server in a thread, small HTTP/2 clients, tools.

Everything here talks to 127.0.0.1 on ephemeral ports, and every wait has a
timeout, so a broken server fails a test instead of hanging the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h2.config
import h2.connection
import h2.events
import h2.settings
import hpack
import pytest

from gethy.frames import CONNECTION_PREFACE, Frame, FrameReader, HeadersFrame, encode_frame
from gethy.server import Server, serve
from gethy.tls import self_signed_certificate, server_context

TIMEOUT = 10.0  # upper bound for any single wait in these tests
PING_PAYLOAD = b"gethy!!!"


def require_tool(name: str) -> str:
    """The path of external tool `name`; skip the test when missing, but fail on CI.

    CI (``CI=true``, see ``.ci/run``) installs every tool, so a missing one
    there is a broken CI setup, not a reason to pass silently.
    """
    path = shutil.which(name)
    if path is None:
        message = f"{name!r} is not installed (apt-get install it; .ci/run does)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


# --------------------------------------------------------------- the server


class ServerThread:
    """A gethy server running on its own event loop in a background thread.

    Lets ordinary (blocking) test code use curl, nghttp, raw sockets and
    httpx against a real server. Exceptions that reach the loop's exception
    handler (unhandled errors in callbacks or tasks) are collected in
    `unhandled`; the fixtures assert that it stays empty.
    """

    def __init__(self, app: Any = None, *, tls: bool = False, **options: Any) -> None:
        self.app = app
        self.tls = tls
        self.options = options
        self.unhandled: list[dict[str, Any]] = []
        self.certfile: Path | None = None
        self.loop = asyncio.new_event_loop()
        self.loop.set_exception_handler(lambda loop, context: self.unhandled.append(context))
        self.server: Server
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._tmp: Path | None = None

    def __enter__(self) -> ServerThread:
        ssl_context = None
        if self.tls:
            certificate = self_signed_certificate()
            self._tmp = certificate.directory
            self.certfile = certificate.certfile
            ssl_context = server_context(certificate.certfile, certificate.keyfile)
        self._thread.start()
        self.server = self.call(serve(self.app, port=0, ssl_context=ssl_context, **self.options))
        return self

    def call(self, coroutine: Any, timeout: float = TIMEOUT) -> Any:
        """Run `coroutine` on the server's loop and return its result."""
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        return future.result(timeout)

    def run(self, function: Callable[[], Any], timeout: float = TIMEOUT) -> Any:
        """Run a plain function on the server's loop (to look inside safely)."""

        async def wrapper() -> Any:
            return function()

        return self.call(wrapper(), timeout)

    def close(self, grace_period: float = 2.0) -> None:
        """Graceful shutdown, with a short grace period so teardown stays quick."""
        if self.server.is_serving or self.server.connections:
            self.call(self.server.close(grace_period), timeout=TIMEOUT + grace_period)

    def __exit__(self, *exc_info: object) -> None:
        try:
            self.close()
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(TIMEOUT)
            if not self.loop.is_running():
                self.loop.close()
            if self._tmp is not None:
                shutil.rmtree(self._tmp, ignore_errors=True)

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def url(self) -> str:
        return self.server.url

    def connections(self) -> list[Any]:
        return self.run(lambda: list(self.server.connections))

    def wait_for(self, condition: Callable[[], bool], timeout: float = TIMEOUT) -> None:
        """Poll `condition` (run on the server's loop) until true, or fail the test."""
        deadline = time.monotonic() + timeout
        while not self.run(condition):
            if time.monotonic() > deadline:
                pytest.fail(f"condition not met within {timeout} s")
            time.sleep(0.02)

    def assert_clean(self) -> None:
        assert not self.unhandled, f"unhandled exceptions on the server loop: {self.unhandled}"


@pytest.fixture
def start_server() -> Iterator[Callable[..., ServerThread]]:
    """Factory: ``start_server(app=None, tls=False, **options)`` -> running `ServerThread`."""
    started: list[ServerThread] = []

    def start(app: Any = None, *, tls: bool = False, **options: Any) -> ServerThread:
        thread = ServerThread(app, tls=tls, **options)
        started.append(thread.__enter__())
        return thread

    yield start
    for thread in started:
        thread.__exit__(None, None, None)
    for thread in started:
        thread.assert_clean()


@pytest.fixture
def h2c_server(start_server: Callable[..., ServerThread]) -> ServerThread:
    """A cleartext (h2c, prior knowledge) server with the default application."""
    return start_server()


@pytest.fixture
def tls_server(start_server: Callable[..., ServerThread]) -> ServerThread:
    """A TLS server (ALPN h2, self-signed certificate in `certfile`)."""
    return start_server(tls=True)


# --------------------------------------------------------------- clients


def client_ssl_context(certfile: Path | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(certfile) if certfile else None)
    if certfile is None:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(["h2"])
    return context


def open_socket(port: int, *, tls_certfile: Path | None = None, tls: bool = False) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if tls or tls_certfile is not None:
        context = client_ssl_context(tls_certfile)
        sock = context.wrap_socket(sock, server_hostname="127.0.0.1")
    return sock


@dataclass
class Reply:
    """What an `H2Client` received on one stream."""

    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytearray = field(default_factory=bytearray)
    trailers: list[tuple[str, str]] | None = None
    ended: bool = False
    reset: int | None = None

    @property
    def status(self) -> int | None:
        value = dict(self.headers).get(":status")
        return int(value) if value else None


class H2Client:
    """A small blocking HTTP/2 client: h2's client `H2Connection` on a socket.

    Unlike httpx it lets a test misbehave on purpose: stop reading, reset a
    stream, vanish mid-response, or hold back window updates.
    """

    def __init__(
        self,
        port: int,
        *,
        tls: bool = False,
        settings: dict[int, int] | None = None,
        auto_ack: bool = True,
        recv_buffer: int | None = None,
    ) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        if recv_buffer is not None:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, recv_buffer)
        if tls:
            self.sock = client_ssl_context().wrap_socket(self.sock, server_hostname="127.0.0.1")
        config = h2.config.H2Configuration(client_side=True, header_encoding="utf-8")
        self.conn = h2.connection.H2Connection(config)
        if settings:
            self.conn.local_settings = h2.settings.Settings(client=True, initial_values=settings)
        self.conn.initiate_connection()
        self.auto_ack = auto_ack
        self.replies: dict[int, Reply] = {}
        self.events: list[h2.events.Event] = []
        self.goaway: h2.events.ConnectionTerminated | None = None
        self.closed = False
        self.flush()

    def flush(self) -> None:
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def request(
        self,
        path: str = "/",
        method: str = "GET",
        body: bytes = b"",
        headers: list[tuple[str, str]] | None = None,
        trailers: list[tuple[str, str]] | None = None,
    ) -> int:
        stream_id = self.conn.get_next_available_stream_id()
        request_headers = [
            (":method", method),
            (":path", path),
            (":scheme", "http"),
            (":authority", "127.0.0.1"),
            *(headers or []),
        ]
        self.conn.send_headers(stream_id, request_headers, end_stream=not body and not trailers)
        if body:
            self.conn.send_data(stream_id, body, end_stream=not trailers)
        if trailers:
            self.conn.send_headers(stream_id, trailers, end_stream=True)
        self.replies[stream_id] = Reply()
        self.flush()
        return stream_id

    def reset(self, stream_id: int) -> None:
        self.conn.reset_stream(stream_id)
        self.flush()

    def receive_once(self, timeout: float = TIMEOUT) -> bool:
        """Read once and process; False when the server closed the connection."""
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except (ConnectionResetError, ssl.SSLError):
            data = b""
        if not data:
            self.closed = True
            return False
        for event in self.conn.receive_data(data):
            self._handle(event)
        self.flush()
        return True

    def _handle(self, event: h2.events.Event) -> None:
        self.events.append(event)
        stream_id = getattr(event, "stream_id", None)
        reply = self.replies.get(stream_id) if stream_id else None
        if isinstance(event, h2.events.ResponseReceived) and reply:
            reply.headers = list(event.headers)  # type: ignore[arg-type]
        elif isinstance(event, h2.events.DataReceived):
            if reply is not None:
                reply.body += event.data
            if self.auto_ack and event.stream_id in self.conn.streams:
                self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            elif self.auto_ack:
                self.conn.acknowledge_received_data(event.flow_controlled_length, 0)
        elif isinstance(event, h2.events.TrailersReceived) and reply:
            reply.trailers = list(event.headers)  # type: ignore[arg-type]
        elif isinstance(event, h2.events.StreamEnded) and reply:
            reply.ended = True
        elif isinstance(event, h2.events.StreamReset) and reply:
            reply.reset = event.error_code
        elif isinstance(event, h2.events.ConnectionTerminated):
            self.goaway = event

    def wait(self, condition: Callable[[], bool], timeout: float = TIMEOUT) -> None:
        """Read until `condition()` holds; fail if it does not within `timeout`."""
        deadline = time.monotonic() + timeout
        while not condition():
            left = deadline - time.monotonic()
            if left <= 0:
                pytest.fail(f"condition not met within {timeout} s")
            try:
                if not self.receive_once(left):
                    if condition():
                        return
                    pytest.fail("the server closed the connection first")
            except TimeoutError:
                continue

    def get(self, path: str = "/", **kwargs: Any) -> Reply:
        stream_id = self.request(path, **kwargs)
        reply = self.replies[stream_id]
        self.wait(lambda: reply.ended or reply.reset is not None)
        return reply

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


class RawClient:
    """Raw frames over a socket, for conformance tests: send bytes, read frames back.

    Built on `gethy.frames`: `encode_frame` for what we send, `FrameReader`
    for what the server answers. `handshake` does what h2spec does first:
    client preface + SETTINGS, then waits for the server's SETTINGS and ACK.
    """

    def __init__(self, port: int, *, tls: bool = False) -> None:
        self.sock = open_socket(port, tls=tls)
        self.reader = FrameReader()
        self.frames: list[Frame] = []
        self.closed = False
        self.server_settings: dict[int, int] = {}

    def send(self, data: bytes) -> None:
        try:
            self.sock.sendall(data)
        except OSError:
            self.closed = True

    def frame(
        self, type: str | int, flags: Any = 0, stream_id: int = 0, payload: bytes = b""
    ) -> None:
        self.send(encode_frame(type, flags, stream_id, payload))

    def handshake(self, settings: bytes = b"") -> None:
        self.send(CONNECTION_PREFACE + encode_frame("SETTINGS", 0, 0, settings))
        self.expect(lambda f: f.type == "SETTINGS" and "ACK" not in f.flags)
        server_settings = next(f for f in self.frames if f.type == "SETTINGS")
        self.server_settings = dict(server_settings.settings)  # type: ignore[attr-defined]
        self.frame("SETTINGS", "ACK")
        self.expect(lambda f: f.type == "SETTINGS" and "ACK" in f.flags)

    def read(self, timeout: float) -> list[Frame]:
        """Frames that arrive within `timeout` seconds (stops early on close)."""
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except TimeoutError:
            return []
        except (ConnectionResetError, ssl.SSLError, OSError):
            data = b""
        if not data:
            self.closed = True
            return []
        new = [f for f in self.reader.feed(data) if isinstance(f, Frame)]
        self.frames.extend(new)
        return new

    def expect(self, predicate: Callable[[Frame], bool], timeout: float = 3.0) -> Frame | None:
        """The first frame (already received or arriving) matching `predicate`, else None."""
        for frame in self.frames:
            if predicate(frame):
                return frame
        deadline = time.monotonic() + timeout
        while not self.closed:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            for frame in self.read(left):
                if predicate(frame):
                    return frame
        return None

    def wait_closed(self, timeout: float = 3.0) -> bool:
        """True if the server closes the connection within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while not self.closed:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.read(left)
        return True

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


class FrameClient(RawClient):
    """`RawClient` plus HPACK: build request header blocks, decode response headers."""

    def __init__(self, port: int, *, tls: bool = False) -> None:
        super().__init__(port, tls=tls)
        self.encoder = hpack.Encoder()
        self.decoder = hpack.Decoder()
        self.responses: dict[int, list[tuple[str, str]]] = {}

    def read(self, timeout: float) -> list[Frame]:
        frames = super().read(timeout)
        for frame in frames:
            # Decode every header block in order: HPACK state is shared by the connection.
            if isinstance(frame, HeadersFrame) and "END_HEADERS" in frame.flags:
                headers = self.decoder.decode(frame.header_block_fragment)
                self.responses[frame.stream_id] = [(str(k), str(v)) for k, v in headers]
        return frames

    def block(self, headers: list[tuple[str, str]]) -> bytes:
        return self.encoder.encode(headers)

    def request_headers(self, method: str = "GET", path: str = "/") -> list[tuple[str, str]]:
        return [
            (":method", method),
            (":scheme", "http"),
            (":path", path),
            (":authority", f"127.0.0.1:{self.sock.getpeername()[1]}"),
        ]

    def headers(
        self,
        stream_id: int,
        headers: list[tuple[str, str]] | None = None,
        *,
        end_stream: bool = True,
        end_headers: bool = True,
        block: bytes | None = None,
        priority: tuple[int, int, bool] | None = None,
        pad: int | None = None,
    ) -> None:
        """Send HEADERS; `priority` is (depends_on, weight - 1, exclusive) (RFC 9113 §6.2)."""
        if block is None:
            block = self.block(headers if headers is not None else self.request_headers())
        flags = (0x1 if end_stream else 0) | (0x4 if end_headers else 0)
        payload = block
        if priority is not None:
            depends_on, weight, exclusive = priority
            payload = struct.pack(">IB", depends_on | (exclusive << 31), weight) + payload
            flags |= 0x20
        if pad is not None:
            payload = bytes([pad]) + payload + bytes(pad)
            flags |= 0x8
        self.frame("HEADERS", flags, stream_id, payload)

    def data(self, stream_id: int, data: bytes, *, end_stream: bool = True) -> None:
        self.frame("DATA", 0x1 if end_stream else 0, stream_id, data)

    def continuation(self, stream_id: int, block: bytes, *, end_headers: bool = True) -> None:
        self.frame("CONTINUATION", 0x4 if end_headers else 0, stream_id, block)

    def settings(self, *pairs: tuple[int, int]) -> None:
        self.frame("SETTINGS", 0, 0, b"".join(struct.pack(">HI", i, v) for i, v in pairs))

    def window_update(self, stream_id: int, increment: int) -> None:
        self.frame("WINDOW_UPDATE", 0, stream_id, struct.pack(">I", increment))

    def rst_stream(self, stream_id: int, code: int = 0x8) -> None:
        self.frame("RST_STREAM", 0, stream_id, struct.pack(">I", code))

    def priority(self, stream_id: int, depends_on: int = 0, weight: int = 15) -> None:
        self.frame("PRIORITY", 0, stream_id, struct.pack(">IB", depends_on, weight))

    def ping(self, payload: bytes = PING_PAYLOAD, *, ack: bool = False) -> None:
        self.frame("PING", 0x1 if ack else 0, 0, payload)

    def response_end(self, stream_id: int, timeout: float = 3.0) -> Frame | None:
        """Wait for the end of the response on `stream_id` (a frame with END_STREAM)."""
        return self.expect(lambda f: f.stream_id == stream_id and "END_STREAM" in f.flags, timeout)
