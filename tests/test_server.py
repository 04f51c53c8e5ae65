"""gethy.server and gethy.app over real sockets: real clients, bad clients, backpressure, shutdown.

Every server listens on 127.0.0.1 with an ephemeral port; every wait is bounded.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import logging
import os
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any

import h2.errors
import hpack
import httpx
import pytest
from conftest import (
    TIMEOUT,
    FrameClient,
    H2Client,
    RawClient,
    ServerThread,
    open_socket,
    require_tool,
)

from gethy.app import MAX_BYTES, Request, Response, default_app
from gethy.frames import CONNECTION_PREFACE, GoAwayFrame, encode_frame
from gethy.server import STREAM_HIGH_WATER, Server, serve

MiB = 1024 * 1024


def run(coroutine: Coroutine[Any, Any, Any], timeout: float = TIMEOUT) -> Any:
    """Run an async test body on a fresh loop, bounded in time, failing on loop errors."""
    errors: list[dict[str, Any]] = []

    async def main() -> Any:
        asyncio.get_running_loop().set_exception_handler(lambda loop, ctx: errors.append(ctx))
        return await asyncio.wait_for(coroutine, timeout)

    result = asyncio.run(main())
    assert not errors, f"unhandled exceptions on the loop: {errors}"
    return result


def h2c_client(**kwargs: Any) -> httpx.Client:
    # http1=False: speak HTTP/2 with prior knowledge on a cleartext URL (RFC 9113 §3.3).
    return httpx.Client(http1=False, http2=True, timeout=TIMEOUT, **kwargs)


def connection_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "gethy.server" and r.levelno == logging.INFO
    ]


def assert_no_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    assert "Traceback" not in caplog.text
    assert not [r for r in caplog.records if r.exc_info], "a log record carries a traceback"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


# ------------------------------------------------------------ real clients


def test_httpx_get(h2c_server: ServerThread) -> None:
    with h2c_client() as client:
        response = client.get(h2c_server.url + "hello?x=1", headers={"x-test": "yes"})
    assert response.http_version == "HTTP/2"
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    document = response.json()
    assert document["headers"][":path"] == "/hello?x=1"
    assert document["headers"][":method"] == "GET"
    assert document["headers"]["x-test"] == "yes"
    assert document["body"] == ""


def test_httpx_post_5_mib_echoes_the_body(h2c_server: ServerThread) -> None:
    body = os.urandom(5 * MiB)  # not UTF-8: the echo carries it base64-encoded
    with h2c_client() as client:
        response = client.post(h2c_server.url + "upload", content=body)
    assert response.status_code == 200
    echoed = base64.b64decode(response.json()["body_base64"])
    assert hashlib.sha256(echoed).hexdigest() == hashlib.sha256(body).hexdigest()


def test_httpx_50_concurrent_requests_on_one_connection(
    h2c_server: ServerThread, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="gethy.server")

    async def main() -> list[httpx.Response]:
        async with httpx.AsyncClient(http1=False, http2=True, timeout=TIMEOUT) as client:
            requests = [
                client.post(h2c_server.url + f"n/{i}", content=f"body {i}".encode())
                for i in range(50)
            ]
            return await asyncio.gather(*requests)

    responses = run(main())
    for i, response in enumerate(responses):
        assert response.http_version == "HTTP/2"
        assert response.json()["headers"][":path"] == f"/n/{i}"
        assert response.json()["body"] == f"body {i}"
    h2c_server.wait_for(lambda: not h2c_server.server.connections)
    lines = connection_lines(caplog)
    assert len(lines) == 1 and " h2c: 50 request(s)," in lines[0], lines


def test_bytes_route_streams_exactly_n_bytes(h2c_server: ServerThread) -> None:
    with h2c_client() as client:
        response = client.get(h2c_server.url + "bytes/3000000")
        empty = client.get(h2c_server.url + "bytes/0")
        bad = client.get(h2c_server.url + "bytes/lots")
    assert response.status_code == 200
    assert response.headers["content-length"] == "3000000"
    assert len(response.content) == 3_000_000
    assert (empty.status_code, empty.content) == (200, b"")
    assert bad.status_code == 400 and b"whole number" in bad.content


def test_head_gets_headers_only(h2c_server: ServerThread) -> None:
    with h2c_client() as client:
        get = client.get(h2c_server.url + "bytes/1234")
        head = client.head(h2c_server.url + "bytes/1234")
    assert head.status_code == 200
    assert head.headers["content-length"] == get.headers["content-length"] == "1234"
    assert head.content == b""


def test_curl_prior_knowledge(h2c_server: ServerThread) -> None:
    curl = require_tool("curl")
    result = subprocess.run(
        [
            curl,
            "-sS",
            "--http2-prior-knowledge",
            "--max-time",
            "10",
            "-w",
            "\n%{http_version}",
            "-d",
            "hi curl",
            h2c_server.url + "curl",
        ],
        capture_output=True,
        text=True,
        timeout=TIMEOUT + 5,
        check=True,
    )
    body, _, version = result.stdout.rpartition("\n")
    assert version == "2"
    assert json.loads(body)["body"] == "hi curl"


def test_curl_over_tls_negotiates_h2_with_alpn(tls_server: ServerThread) -> None:
    curl = require_tool("curl")
    result = subprocess.run(
        [curl, "-sS", "-k", "-v", "--max-time", "10", "-w", "\n%{http_version}", tls_server.url],
        capture_output=True,
        text=True,
        timeout=TIMEOUT + 5,
        check=True,
    )
    body, _, version = result.stdout.rpartition("\n")
    assert version == "2"
    assert "ALPN: server accepted h2" in result.stderr or "ALPN, server accepted to use h2" in (
        result.stderr
    )
    assert json.loads(body)["headers"][":scheme"] == "https"


def test_curl_over_tls_trusts_the_self_signed_certificate(tls_server: ServerThread) -> None:
    curl = require_tool("curl")
    url = tls_server.url.replace("127.0.0.1", "localhost")
    result = subprocess.run(
        [
            curl,
            "-sS",
            "--cacert",
            str(tls_server.certfile),
            "--max-time",
            "10",
            "-w",
            "\n%{http_version}",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=TIMEOUT + 5,
        check=True,
    )
    assert result.stdout.endswith("\n2")


def test_nghttp_sees_our_settings_headers_and_data(h2c_server: ServerThread) -> None:
    nghttp = require_tool("nghttp")
    result = subprocess.run(
        [nghttp, "-nv", "-t", "10", h2c_server.url],
        capture_output=True,
        text=True,
        timeout=TIMEOUT + 5,
        check=True,
    )
    out = result.stdout
    assert "recv SETTINGS frame <length=" in out
    assert "[SETTINGS_MAX_CONCURRENT_STREAMS(0x03):100]" in out  # our server preface
    assert "recv HEADERS frame" in out and ":status: 200" in out
    assert "recv DATA frame" in out and "END_STREAM" in out


def test_httpx_over_tls_with_alpn(tls_server: ServerThread) -> None:
    context = ssl.create_default_context(cafile=str(tls_server.certfile))
    with httpx.Client(http2=True, verify=context, timeout=TIMEOUT) as client:
        response = client.get(tls_server.url.replace("127.0.0.1", "localhost") + "tls")
        ssl_object = response.extensions["network_stream"].get_extra_info("ssl_object")
        alpn = ssl_object.selected_alpn_protocol()
    assert response.http_version == "HTTP/2"
    assert alpn == "h2"
    assert response.json()["headers"][":path"] == "/tls"


def test_chromium_over_tls_speaks_h2(
    tls_server: ServerThread, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    """A real browser (headless Chromium) loads a page over TLS with ALPN h2."""
    chromium = require_tool("chromium")
    caplog.set_level(logging.INFO, logger="gethy.server")
    result = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--ignore-certificate-errors",
            f"--user-data-dir={tmp_path}",
            "--dump-dom",
            tls_server.url + "browser",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert '"/browser"' in result.stdout, result.stderr[-2000:]
    assert "HeadlessChrome" in result.stdout
    tls_server.wait_for(lambda: not tls_server.server.connections)
    lines = connection_lines(caplog)
    assert any(
        " h2: " in line and "request(s)" in line and " 0 request" not in line for line in lines
    )
    assert_no_tracebacks(caplog)


# ------------------------------------------------------------ bad clients


def test_http11_on_the_h2c_port_gets_a_clear_answer(h2c_server: ServerThread) -> None:
    with open_socket(h2c_server.port) as sock:
        sock.sendall(b"GET /index.html HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        answer = _read_all(sock)
    assert answer.startswith(b"HTTP/1.1 505 ")
    assert b"prior knowledge" in answer
    assert f"curl --http2-prior-knowledge {h2c_server.url}index.html".encode() in answer
    with h2c_client() as client:  # everyone else is still served
        assert client.get(h2c_server.url).status_code == 200


def test_http11_with_curl_gets_the_hint(h2c_server: ServerThread) -> None:
    curl = require_tool("curl")
    result = subprocess.run(
        [curl, "-sS", "--http1.1", "--max-time", "10", "-w", "\n%{http_code}", h2c_server.url],
        capture_output=True,
        text=True,
        timeout=TIMEOUT + 5,
    )
    assert result.stdout.endswith("\n505")
    assert "curl --http2-prior-knowledge" in result.stdout


def test_http11_request_line_arriving_in_pieces(h2c_server: ServerThread) -> None:
    with open_socket(h2c_server.port) as sock:
        for piece in (b"GE", b"T / HTTP", b"/1.1\r\nHost: x\r\n\r\n"):
            sock.sendall(piece)
            time.sleep(0.02)
        assert _read_all(sock).startswith(b"HTTP/1.1 505 ")


def test_bad_preface_gets_goaway_and_close(h2c_server: ServerThread) -> None:
    client = RawClient(h2c_server.port)
    client.send(b"PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n")
    goaway = client.expect(lambda f: isinstance(f, GoAwayFrame))
    assert isinstance(goaway, GoAwayFrame) and goaway.error_name == "PROTOCOL_ERROR"
    assert client.wait_closed()
    client.close()


def test_client_disconnecting_mid_response(
    h2c_server: ServerThread, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="gethy")
    client = H2Client(h2c_server.port, settings={4: 2**31 - 1})
    client.conn.increment_flow_control_window(2**30)
    client.flush()
    stream_id = client.request("/bytes/200000000")
    client.wait(lambda: len(client.replies[stream_id].body) > 1_000_000)
    client.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    client.close()  # vanish: a TCP reset, mid-response
    h2c_server.wait_for(lambda: not h2c_server.server.connections)
    with h2c_client() as other:
        assert other.get(h2c_server.url).status_code == 200
    assert_no_tracebacks(caplog)
    line = next(line for line in connection_lines(caplog) if "1 stream(s) unfinished" in line)
    assert "connection lost" in line or "closed the connection" in line


def test_client_that_never_reads_keeps_server_memory_bounded(
    start_server: Callable[..., ServerThread],
) -> None:
    server = start_server(idle_timeout=30)
    # Huge windows: flow control will not stop the server, only TCP backpressure can.
    client = H2Client(server.port, settings={4: 2**31 - 1}, auto_ack=False, recv_buffer=65536)
    client.conn.increment_flow_control_window(2**31 - 1 - 65_535)
    client.flush()
    client.request(f"/bytes/{MAX_BYTES}")  # a 1 GiB answer that nobody reads

    def state() -> tuple[int, int, int, bool]:
        connections = list(server.server.connections)
        if not connections or connections[0].transport is None:
            return (0, 0, 0, False)
        (connection,) = connections
        return (
            connection.bytes_out,
            connection.protocol.buffered(),
            connection.transport.get_write_buffer_size(),
            connection.writing_paused,
        )

    server.wait_for(lambda: state()[3])  # asyncio paused us: the socket is full
    time.sleep(0.5)
    sent, buffered, in_transport, paused = server.run(state)
    time.sleep(0.5)
    sent_later = server.run(state)[0]
    assert paused
    assert sent == sent_later, "the server kept producing while the client did not read"
    assert buffered <= STREAM_HIGH_WATER + 64 * 1024
    assert in_transport <= 4 * MiB
    assert sent < 64 * MiB  # what left: socket buffers only, not the 1 GiB body
    client.close()
    server.wait_for(lambda: not server.server.connections)


def test_client_that_stopped_reading_is_cut_after_the_idle_timeout(
    start_server: Callable[..., ServerThread], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="gethy.server")
    server = start_server(idle_timeout=0.5)
    client = H2Client(server.port, settings={4: 2**31 - 1}, auto_ack=False, recv_buffer=65536)
    client.conn.increment_flow_control_window(2**31 - 1 - 65_535)
    client.flush()
    client.request(f"/bytes/{MAX_BYTES}")
    server.wait_for(lambda: bool(connection_lines(caplog)))
    (line,) = connection_lines(caplog)
    assert "the client stopped reading for 0.5 s" in line and "1 stream(s) unfinished" in line
    client.close()


def test_require_tool_fails_on_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="not installed"):
        require_tool("no-such-tool-gethy")
    monkeypatch.setenv("CI", "")
    with pytest.raises(pytest.skip.Exception):
        require_tool("no-such-tool-gethy")


def test_reset_stream_cancels_its_task_and_spares_the_others(
    start_server: Callable[..., ServerThread],
) -> None:
    finished: list[str] = []

    async def endless() -> AsyncIterator[bytes]:
        try:
            while True:
                yield b"x" * 1000
                await asyncio.sleep(0.01)
        finally:
            finished.append("endless closed")

    def app(request: Request) -> Response:
        if request.path == "/endless":
            return Response(200, [("content-type", "text/plain")], endless())
        return default_app(request)

    server = start_server(app)
    client = H2Client(server.port)
    endless_id = client.request("/endless")
    client.wait(lambda: len(client.replies[endless_id].body) >= 3000)
    client.reset(endless_id)
    server.wait_for(lambda: bool(finished))
    reply = client.get("/after")
    assert reply.status == 200 and json.loads(reply.body)["headers"][":path"] == "/after"
    client.close()


def test_slow_handler_does_not_block_other_streams(
    start_server: Callable[..., ServerThread],
) -> None:
    async def app(request: Request) -> Response:
        if request.path == "/slow":
            await asyncio.sleep(1.0)
        return Response(200, [("content-type", "text/plain")], request.path.encode())

    server = start_server(app)
    client = H2Client(server.port)
    slow = client.request("/slow")
    fast = client.request("/fast")
    client.wait(lambda: client.replies[fast].ended)
    assert bytes(client.replies[fast].body) == b"/fast"
    assert not client.replies[slow].ended
    client.wait(lambda: client.replies[slow].ended)
    assert bytes(client.replies[slow].body) == b"/slow"
    client.close()


def test_idle_connection_is_closed_with_goaway(
    start_server: Callable[..., ServerThread], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="gethy.server")
    server = start_server(idle_timeout=0.3)
    client = H2Client(server.port)
    assert client.get("/").status == 200
    started = time.monotonic()
    client.wait(lambda: client.goaway is not None, timeout=5)
    assert client.goaway is not None
    assert client.goaway.error_code == h2.errors.ErrorCodes.NO_ERROR
    assert client.goaway.last_stream_id == 1
    assert 0.2 < time.monotonic() - started < 3
    server.wait_for(lambda: not server.server.connections)
    assert any("idle for 0.3 s" in line for line in connection_lines(caplog))
    client.close()


def test_graceful_shutdown_finishes_the_response_in_flight(
    start_server: Callable[..., ServerThread], caplog: pytest.LogCaptureFixture
) -> None:
    """curl's request is answered although the server shuts down meanwhile (RFC 9113 §6.8).

    (curl, not httpx: httpcore fails every open stream on any GOAWAY, even a
    graceful one that promises to finish them.)
    """
    curl = require_tool("curl")
    caplog.set_level(logging.INFO, logger="gethy.server")
    started = threading.Event()

    async def app(request: Request) -> Response:
        started.set()
        await asyncio.sleep(0.5)
        return Response(200, [("content-type", "text/plain")], b"finished despite shutdown")

    server = start_server(app)
    command = [curl, "-sS", "--http2-prior-knowledge", "--max-time", "10", server.url + "slow"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        assert started.wait(TIMEOUT)
        server.close(grace_period=5)
        assert not server.server.is_serving
        out, err = process.communicate(timeout=TIMEOUT)
    assert process.returncode == 0, err
    assert out == b"finished despite shutdown"
    with pytest.raises(OSError):  # nobody listens any more
        socket.create_connection(("127.0.0.1", server.port), timeout=1).close()
    (line,) = connection_lines(caplog)
    assert "1 request(s)" in line and "server shutdown" in line and "unfinished" not in line


def test_graceful_shutdown_sends_goaway_with_last_stream_id(
    start_server: Callable[..., ServerThread],
) -> None:
    """GOAWAY(NO_ERROR, last stream 1), then stream 1's response, then the close (§6.8)."""

    async def app(request: Request) -> Response:
        await asyncio.sleep(0.3)
        return Response(200, (), b"done")

    server = start_server(app)
    client = FrameClient(server.port)
    client.handshake()
    client.headers(1)
    server.wait_for(lambda: any(c.requests for c in server.server.connections))
    closing = asyncio.run_coroutine_threadsafe(server.server.close(), server.loop)
    goaway = client.expect(lambda f: isinstance(f, GoAwayFrame))
    assert isinstance(goaway, GoAwayFrame)
    assert (goaway.last_stream_id, goaway.error_name) == (1, "NO_ERROR")
    client.headers(3)  # too late: opened after the GOAWAY, so refused (REFUSED_STREAM)
    end = client.response_end(1)
    assert end is not None and client.responses[1][0] == (":status", "200")
    refused = client.expect(lambda f: f.type == "RST_STREAM" and f.stream_id == 3)
    assert refused is not None and refused.error_name == "REFUSED_STREAM"  # type: ignore[attr-defined]
    assert client.wait_closed()
    types = [f.type for f in client.frames]
    assert types.index("GOAWAY") < types.index("DATA")  # GOAWAY first, the answer after
    closing.result(TIMEOUT)
    client.close()


def test_grace_period_bounds_the_shutdown(start_server: Callable[..., ServerThread]) -> None:
    async def app(request: Request) -> Response:
        await asyncio.sleep(60)
        return Response(200, (), b"never")

    server = start_server(app)
    client = H2Client(server.port)
    client.request("/")
    server.wait_for(lambda: any(c.requests for c in server.server.connections))
    started = time.monotonic()
    server.close(grace_period=0.3)
    assert time.monotonic() - started < 3
    assert not server.run(lambda: server.server.connections)
    client.close()


def test_bad_clients_leave_no_traceback(
    start_server: Callable[..., ServerThread], caplog: pytest.LogCaptureFixture
) -> None:
    """Broken clients of every kind: info lines only, and the server keeps serving."""
    caplog.set_level(logging.DEBUG)
    h2c = start_server()
    tls = start_server(tls=True)
    bad_inputs = [
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        b"garbage that is not a preface\r\n",
        CONNECTION_PREFACE + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00" + b"\xff" * 40,
        CONNECTION_PREFACE + encode_frame("SETTINGS") + encode_frame("DATA", 0, 1, b"x"),
        CONNECTION_PREFACE + encode_frame("SETTINGS") + encode_frame("HEADERS", 0x5, 1, b"\x80"),
        CONNECTION_PREFACE + encode_frame("SETTINGS") + encode_frame("PING", 0, 3, bytes(8)),
        CONNECTION_PREFACE[:10],  # then vanish
        b"",  # connect and vanish
    ]
    for data in bad_inputs:
        with open_socket(h2c.port) as sock:
            sock.sendall(data)
            time.sleep(0.02)
    with open_socket(tls.port) as sock:  # not TLS at all, on the TLS port
        sock.sendall(b"GET / HTTP/1.1\r\n\r\n")
        _read_all(sock)
    with open_socket(tls.port, tls=True) as sock:  # TLS, then garbage
        sock.sendall(b"\x00" * 100)
        _read_all(sock)
    # resets and disconnects in the middle of responses
    client = H2Client(h2c.port)
    ids = [client.request("/bytes/5000000") for _ in range(5)]
    client.receive_once()
    for stream_id in ids[:3]:
        client.reset(stream_id)
    client.close()
    client = H2Client(tls.port, tls=True)
    client.request("/bytes/5000000")
    client.receive_once()
    client.close()
    for server in (h2c, tls):
        server.wait_for(lambda server=server: not server.server.connections)
        with httpx.Client(http1=server is not h2c, http2=True, verify=False, timeout=TIMEOUT) as c:
            assert c.get(server.url).status_code == 200
    assert_no_tracebacks(caplog)
    # one line per connection that got past TLS (a failed handshake has no connection yet)
    assert len(connection_lines(caplog)) >= len(bad_inputs) + 3


# ---------------------------------------------------------- application errors


def test_handler_exception_becomes_500_and_is_logged_once(
    start_server: Callable[..., ServerThread], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="gethy.server")

    def app(request: Request) -> Response:
        if request.path == "/sync":
            raise RuntimeError("sync bug")
        return None  # type: ignore[return-value]

    async def async_app(request: Request) -> Response:
        raise ValueError("async bug")

    for handler, path, message in [(app, "/sync", "sync bug"), (async_app, "/", "async bug")]:
        caplog.clear()
        server = start_server(handler)
        with h2c_client() as client:
            response = client.get(server.url + path.lstrip("/"))
        assert response.status_code == 500
        errors = [r for r in caplog.records if r.levelno == logging.ERROR]
        assert len(errors) == 1 and errors[0].exc_info is not None
        assert message in caplog.text
    with h2c_client() as client:  # a handler returning None: a 500 too, no traceback to show
        server = start_server(app)
        assert client.get(server.url + "none").status_code == 500


def test_body_failing_after_headers_resets_the_stream(
    start_server: Callable[..., ServerThread], caplog: pytest.LogCaptureFixture
) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"first chunk"
        raise RuntimeError("body bug")

    async def failing_first() -> AsyncIterator[bytes]:
        raise RuntimeError("no chunk at all")
        yield b""  # pragma: no cover

    def app(request: Request) -> Response:
        return Response(200, (), broken() if request.path == "/late" else failing_first())

    server = start_server(app)
    client = H2Client(server.port)
    late = client.get("/late")
    assert late.status == 200 and late.reset == h2.errors.ErrorCodes.INTERNAL_ERROR
    early = client.get("/early")
    assert early.status == 500 and early.ended  # nothing was sent yet: a proper 500
    client.close()
    assert caplog.text.count("body bug") >= 1 and "no chunk at all" in caplog.text


def test_invalid_response_header_is_an_application_error(
    start_server: Callable[..., ServerThread],
) -> None:
    server = start_server(lambda request: Response(200, [("Bad Name", "x")], b"x"))
    with h2c_client() as client:
        assert client.get(server.url).status_code == 500


def test_trailers_both_ways(start_server: Callable[..., ServerThread]) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"a"
        yield b"b"

    def app(request: Request) -> Response:
        trailers = [("x-request-trailers", str(request.trailers))]
        body = chunks() if request.path == "/stream" else b"ab"
        return Response(200, [("trailer", "x-request-trailers")], body, trailers=trailers)

    server = start_server(app)
    client = H2Client(server.port)
    reply = client.get("/", method="POST", body=b"body", trailers=[("x-checksum", "abc")])
    assert bytes(reply.body) == b"ab"
    assert reply.trailers == [("x-request-trailers", "(('x-checksum', 'abc'),)")]
    streamed = client.get("/stream")
    assert bytes(streamed.body) == b"ab" and streamed.trailers is not None
    client.close()


# -------------------------------------------------------------- the API


def test_serve_port_zero_url_and_async_with() -> None:
    async def main() -> None:
        async with await serve(port=0) as server:
            assert isinstance(server, Server)
            assert server.port != 0
            assert server.url == f"http://127.0.0.1:{server.port}/"
            assert server.is_serving
            async with httpx.AsyncClient(http1=False, http2=True) as client:
                assert (await client.get(server.url)).status_code == 200
        assert not server.is_serving
        await server.close()  # closing twice is fine

    run(main())


def test_serve_forever_returns_after_close() -> None:
    async def main() -> None:
        server = await serve(port=0)
        forever = asyncio.create_task(server.serve_forever())
        await asyncio.sleep(0.05)
        assert not forever.done()
        await server.close()
        await asyncio.wait_for(forever, 2)

    run(main())


def test_serve_rejects_unknown_protocol_options() -> None:
    async def main() -> None:
        with pytest.raises(TypeError):
            await serve(port=0, max_bodysize=10)

    run(main())


def test_protocol_options_reach_each_connection(start_server: Callable[..., ServerThread]) -> None:
    server = start_server(max_body_size=1000)
    with h2c_client() as client:
        response = client.post(server.url, content=b"x" * 5000)
    assert response.status_code == 413


def test_response_checks_what_a_handler_builds() -> None:
    with pytest.raises(TypeError, match="encode it"):
        Response(200, (), "text")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Response(200, (), 42)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Response(99)
    assert Response(body=bytearray(b"ok")).body == b"ok"
    assert not Response().streaming


def test_default_app_bytes_limits() -> None:
    def status(path: str) -> int:
        return default_app(Request(1, ((":method", "GET"), (":path", path)))).status

    assert status("/bytes/0") == 200
    assert status(f"/bytes/{MAX_BYTES}") == 200
    for bad in (
        f"/bytes/{MAX_BYTES + 1}",
        "/bytes/-1",
        "/bytes/1e3",
        "/bytes/²",
        "/bytes/" + "9" * 50,
    ):
        assert status(bad) == 400, bad


def test_default_app_echo_document() -> None:
    request = Request(1, ((":method", "POST"), ("a", "1")), b"\xff\x00", (("t", "v"),))
    document = json.loads(default_app(request).body)  # type: ignore[arg-type]
    assert document["headers"] == {":method": "POST", "a": "1"}
    assert base64.b64decode(document["body_base64"]) == b"\xff\x00"
    assert document["trailers"] == {"t": "v"}


def _read_all(sock: socket.socket, limit: float = 5.0) -> bytes:
    sock.settimeout(limit)
    chunks = []
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except (TimeoutError, ConnectionResetError, OSError):
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


# ------------------------------------------- what an adversarial review found


def test_a_stream_open_but_silent_is_closed_although_the_client_pings(
    start_server: Callable[..., ServerThread], caplog: pytest.LogCaptureFixture
) -> None:
    # Slowloris: HEADERS without END_STREAM, then only PINGs (they are not progress).
    caplog.set_level(logging.INFO, logger="gethy.server")
    server = start_server(idle_timeout=0.5)
    client = FrameClient(server.port)
    client.handshake()
    client.headers(1, client.request_headers("POST", "/"), end_stream=False)
    deadline = time.monotonic() + 5
    while not client.wait_closed(timeout=0.2) and time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            client.ping()
    assert time.monotonic() < deadline, "the connection stayed open"
    server.wait_for(lambda: bool(connection_lines(caplog)))
    (line,) = connection_lines(caplog)
    assert "no stream moved for 0.5 s" in line
    server.assert_clean()


def test_rapid_reset_gets_goaway_enhance_your_calm(
    start_server: Callable[..., ServerThread], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="gethy.server")
    server = start_server()
    client = FrameClient(server.port)
    client.handshake()
    flood = b"".join(  # 1,200 requests, each reset at once, sent in one go
        encode_frame("HEADERS", 0x5, stream_id, client.block(client.request_headers()))
        + encode_frame("RST_STREAM", 0, stream_id, (8).to_bytes(4, "big"))
        for stream_id in range(1, 2 * 1200, 2)
    )
    client.send(flood)
    goaway = client.expect(lambda f: f.type == "GOAWAY", timeout=5)
    assert goaway is not None and goaway.error_code == h2.errors.ErrorCodes.ENHANCE_YOUR_CALM
    assert client.wait_closed()
    server.wait_for(lambda: bool(connection_lines(caplog)))
    assert "rapid reset" in connection_lines(caplog)[0]
    assert not [r for r in caplog.records if r.exc_info], "no traceback for a misbehaving client"
    server.assert_clean()


@pytest.mark.parametrize("case", ["413 then reset", "non-UTF-8 header value"])
def test_awkward_requests_get_answers_not_tracebacks(
    start_server: Callable[..., ServerThread], caplog: pytest.LogCaptureFixture, case: str
) -> None:
    caplog.set_level(logging.INFO, logger="gethy.server")
    server = start_server()
    client = FrameClient(server.port)
    client.handshake()
    if case == "413 then reset":
        headers = [*client.request_headers("POST", "/"), ("content-length", "999999999")]
        client.headers(1, headers, end_stream=False)
        client.rst_stream(1)
    else:
        block = hpack.Encoder().encode(
            [*client.request_headers(), (b"x-name", "café".encode("latin-1"))]
        )
        client.frame("HEADERS", 0x5, 1, block)
    client.headers(3)  # the connection goes on serving
    assert client.response_end(3) is not None
    client.close()
    server.wait_for(lambda: bool(connection_lines(caplog)))
    assert not [r for r in caplog.records if r.exc_info], "no traceback for a misbehaving client"
    server.assert_clean()


def test_a_client_that_half_closes_still_gets_its_response(
    start_server: Callable[..., ServerThread],
) -> None:
    server = start_server()
    client = FrameClient(server.port)
    client.handshake()
    client.headers(1, client.request_headers("GET", "/bytes/30000"))
    client.sock.shutdown(socket.SHUT_WR)  # nothing more from the client, not even an ACK
    end = client.expect(lambda f: f.type == "DATA" and "END_STREAM" in f.flags, timeout=5)
    assert end is not None, "the response was dropped when the client half-closed"
    assert client.wait_closed(), "the server closes once the response is done"
    server.assert_clean()


_FD_LIMITED_SERVER = """
import asyncio, logging, resource, sys
from gethy.server import serve

logging.basicConfig(level=logging.WARNING, stream=sys.stderr)


async def main():
    server = await serve(port=0)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (int(sys.argv[1]), hard))
    print(server.port, flush=True)
    await asyncio.sleep(float(sys.argv[2]))  # asyncio retries a failed accept every second
    server.abort()


asyncio.run(main())
"""


def test_out_of_file_descriptors_is_one_warning_not_a_traceback_flood() -> None:
    """A real server under a real file-descriptor limit, flooded with connections."""
    server = subprocess.Popen(
        [sys.executable, "-c", _FD_LIMITED_SERVER, "40", "3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    clients: list[socket.socket] = []
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        for _ in range(80):  # twice the limit: the kernel queues what cannot be accepted
            clients.append(socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT))
        _, errors = server.communicate(timeout=TIMEOUT)
    finally:
        for client in clients:
            client.close()
        if server.poll() is None:
            server.kill()
            server.wait(TIMEOUT)
    assert "Traceback" not in errors
    warnings = [line for line in errors.splitlines() if "cannot accept connections" in line]
    assert len(warnings) == 1, errors[-2000:]
    assert "Too many open files (EMFILE)" in warnings[0]


def test_a_tls_handshake_that_never_comes_meets_the_preface_deadline(
    start_server: Callable[..., ServerThread],
) -> None:
    server = start_server(tls=True, idle_timeout=0.5)
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT)
    sock.sendall(b"\x16\x03\x01")  # the first bytes of a ClientHello, and no more
    started = time.monotonic()
    try:
        assert sock.recv(1024) == b""  # closed by the server, not by our timeout
    except ConnectionResetError:
        pass
    finally:
        sock.close()
    assert time.monotonic() - started < 3  # not asyncio's 60 s
    server.wait_for(lambda: not server.server.connections)
