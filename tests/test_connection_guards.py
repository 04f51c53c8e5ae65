"""The guards as a `ServerConnection` applies them: fed through a fake transport, on a real loop.

What an attacker tried with raw sockets, replayed without sockets: deadlines
that bytes cannot push back, buffers released when the client goes, slices
that let other connections run. Timeouts are short and every wait is bounded.
"""

from __future__ import annotations

import asyncio
import gc
import weakref
from typing import Any

import h2.events
import h2.settings
import hpack
from h2.errors import ErrorCodes
from test_connection import Client, FakeTransport, run, settle

from gethy.app import Response
from gethy.connection import ServerConnection
from gethy.floods import RESET_BURST
from gethy.frames import CONNECTION_PREFACE, decode_frames, encode_frame
from gethy.intake import SLICE_FRAMES
from gethy.phase import Phase
from gethy.server import Server


def ok(request: Any) -> Response:
    return Response(200, (), b"ok")


def start(
    app: Any = ok, checks: list[float] | None = None, **options: Any
) -> tuple[ServerConnection, FakeTransport]:
    """A connection on a fake transport; `checks` collects the loop time of each idle check."""
    options.setdefault("idle_timeout", None)
    connection = ServerConnection(app, **options)
    if checks is not None:
        check = connection._check_idle

        def counted() -> None:
            checks.append(connection._loop.time())
            check()

        connection._check_idle = counted  # type: ignore[method-assign]
    transport = FakeTransport()
    connection.connection_made(transport)
    return connection, transport


async def until(condition: Any, timeout: float = 3.0) -> float:
    """Wait (bounded) until `condition()`; return the loop time it took."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    while not condition():
        assert loop.time() - started < timeout, "the condition never came true"
        await asyncio.sleep(0.01)
    return loop.time() - started


def request_block(method: str = "POST", path: str = "/") -> bytes:
    headers = [(":method", method), (":scheme", "http"), (":path", path), (":authority", "x")]
    return hpack.Encoder().encode(headers)


def handshake() -> bytes:
    return CONNECTION_PREFACE + encode_frame("SETTINGS", 0, 0, b"")


# ------------------------------------------------------- item 1: the stall clock


def test_an_unfinished_upload_is_cut_one_timeout_after_its_last_progress() -> None:
    """It was cut after about twice the timeout, and the timer re-armed every 10 ms."""

    async def main() -> None:
        checks: list[float] = []
        connection, transport = start(checks=checks, idle_timeout=0.3)
        connection.data_received(handshake() + encode_frame("HEADERS", 0x4, 1, request_block()))
        await asyncio.sleep(0.05)
        connection.data_received(encode_frame("DATA", 0, 1, b"x" * 100))  # the last progress
        took = await until(lambda: connection.phase.shut)
        assert connection.close_reason == "no stream moved for 0.3 s, 1 stream(s) unfinished"
        assert 0.25 < took < 0.45  # not ~0.55: the clock starts at the progress, not the check
        assert len(checks) <= 3, f"{len(checks)} idle checks for one deadline"

    run(main())


def test_silent_connections_cost_no_timer_wakeups_between_deadlines() -> None:
    async def main() -> None:
        connections = []
        for _ in range(20):
            checks: list[float] = []
            connection, _ = start(checks=checks, idle_timeout=0.3)
            connection.data_received(handshake() + encode_frame("HEADERS", 0x4, 1, request_block()))
            connections.append((connection, checks))
        await until(lambda: all(c.phase.shut for c, _ in connections))
        wakeups = sum(len(checks) for _, checks in connections)
        assert wakeups <= 2 * len(connections)

    run(main())


# ------------------------------------------------ item 3: deadlines bytes cannot move


def test_a_preface_sent_byte_by_byte_meets_its_deadline() -> None:
    async def main() -> None:
        connection, transport = start(idle_timeout=0.3)
        for byte in CONNECTION_PREFACE:  # 24 bytes, one every 30 ms: 0.72 s in all
            if connection.phase.shut:
                break
            connection.data_received(bytes([byte]))
            await asyncio.sleep(0.03)
        assert connection.phase is Phase.CLOSING
        assert connection.close_reason == "no HTTP/2 preface within 0.3 s"

    run(main())


def test_a_header_block_sent_one_continuation_byte_at_a_time_meets_its_deadline() -> None:
    """h2 reports no request until END_HEADERS (RFC 9113 §6.10): no progress, no reprieve."""

    async def main() -> None:
        connection, transport = start(idle_timeout=0.3)
        connection.data_received(handshake() + encode_frame("SETTINGS", 0x1, 0, b""))
        block = request_block("GET")
        connection.data_received(encode_frame("HEADERS", 0x1, 1, block[:1]))
        loop = connection._loop
        began = loop.time()
        for byte in block[1:] * 10:  # bounded: at most ~0.3 s per 10 bytes
            if connection.phase.shut or loop.time() - began > 2:
                break
            connection.data_received(encode_frame("CONTINUATION", 0, 1, bytes([byte])))
            await asyncio.sleep(0.03)
        assert connection.phase.shut
        assert loop.time() - began < 0.6
        assert connection.close_reason == "idle for 0.3 s"

    run(main())


def test_pings_do_not_keep_an_idle_connection_open() -> None:
    async def main() -> None:
        connection, transport = start(idle_timeout=0.3)
        client = Client(connection, transport)
        client.send()
        client.receive()
        loop = connection._loop
        began = loop.time()
        while not connection.phase.shut and loop.time() - began < 2:
            client.h2.ping(b"12345678")
            client.send()
            await asyncio.sleep(0.03)
        assert loop.time() - began < 0.6
        assert connection.close_reason == "idle for 0.3 s"
        assert any(isinstance(e, h2.events.ConnectionTerminated) for e in client.receive())

    run(main())


# ------------------------------------------- item 2: the client's FIN, and the end


def open_client(connection: ServerConnection, transport: FakeTransport) -> Client:
    client = Client(connection, transport)
    client.send()
    client.receive()  # our SETTINGS (and window) reach the client
    client.send()  # its ACK
    return client


def upload(client: Client, stream_id: int, size: int, *, end: bool = False) -> None:
    """Send `size` body bytes on `stream_id`, frame by frame (each frame at most 16 KiB)."""
    if stream_id not in client.h2.streams:
        headers = [(":method", "POST"), (":path", "/"), (":scheme", "http"), (":authority", "x")]
        client.h2.send_headers(stream_id, headers)
    piece = client.h2.max_outbound_frame_size
    for start in range(0, size, piece):
        client.h2.send_data(stream_id, b"x" * min(piece, size - start))
    if end:
        client.h2.end_stream(stream_id)
    client.send()


BIG_WINDOWS = {"initial_window_size": 8 * 1024 * 1024}


def test_uploads_that_can_never_complete_are_dropped_at_the_clients_fin() -> None:
    async def main() -> None:
        server = Server(idle_timeout=None)
        connection, transport = start(protocol_options=BIG_WINDOWS, server=server)
        client = open_client(connection, transport)
        for stream_id in (1, 3, 5, 7):
            upload(client, stream_id, 256 * 1024)
        assert connection.protocol.request_bytes == server.uploads.total == 4 * 256 * 1024
        assert connection.eof_received() is None  # nothing left to answer: close now
        assert connection.protocol.request_bytes == 0 and server.uploads.total == 0
        assert connection.phase is Phase.CLOSING

    run(main())


def test_a_request_answered_after_the_fin_still_gets_its_answer() -> None:
    async def main() -> None:
        go = asyncio.Event()

        async def slow(request: Any) -> Response:
            await go.wait()
            return Response(200, (), b"late")

        connection, transport = start(slow, protocol_options=BIG_WINDOWS)
        client = open_client(connection, transport)
        answered = client.request("/")
        upload(client, 3, 1000)  # never finished
        assert connection.eof_received() is True  # half-closed: the answer is still wanted
        assert connection.protocol.request_bytes == 0  # the upload is gone, the request is not
        go.set()
        await until(lambda: connection.phase.shut)
        client.receive()
        assert client.ended(answered)

    run(main())


def test_the_fin_closes_when_a_response_waits_for_a_stream_window() -> None:
    """The connection window is open, the stream's is 0: it can never open now."""

    async def main() -> None:
        connection, transport = start()
        client = Client(connection, transport)
        client.h2.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 0})
        client.send()
        client.receive()
        client.request("/")
        assert connection.protocol.buffered() and connection.protocol.send_window(0) > 0
        assert connection.eof_received() is None

    run(main())


def test_a_half_closed_client_is_let_go_once_its_response_outgrows_the_window() -> None:
    async def main() -> None:
        async def body() -> Any:
            for _ in range(8):
                yield b"x" * 16384  # 128 KiB: twice the client's 64 KiB window
                await asyncio.sleep(0)

        connection, transport = start(lambda r: Response(200, (), body()))
        client = open_client(connection, transport)
        client.request("/")
        assert connection.eof_received() is True  # the first chunks fit
        await until(lambda: connection.phase.shut)  # no WINDOW_UPDATE can come: close
        assert not connection.responder._tasks

    run(main())


def test_everything_is_released_when_the_connection_is_lost() -> None:
    async def main() -> None:
        server = Server(idle_timeout=None)
        connection, transport = start(protocol_options=BIG_WINDOWS, server=server)
        client = open_client(connection, transport)
        upload(client, 1, 512 * 1024)
        client.h2.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 0})
        client.send()
        client.request("/")  # its answer waits for a window that never opens
        protocol = connection.protocol
        assert protocol.request_bytes and protocol.buffered()
        connection.connection_lost(ConnectionResetError())
        assert protocol.request_bytes == 0 and protocol.buffered() == 0
        assert protocol.active_streams == 0 and server.uploads.total == 0
        gone = weakref.ref(protocol)
        del protocol, connection, client
        await settle()
        gc.collect()
        assert gone() is None, "something still holds the connection's protocol"

    run(main())


class TLSTransport(FakeTransport):
    """A fake transport that says TLS negotiated ALPN "h2" (RFC 9113 §3.2)."""

    class SSLObject:
        def selected_alpn_protocol(self) -> str:
            return "h2"

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        if name == "ssl_object":
            return self.SSLObject()
        return super().get_extra_info(name, default)


def test_tls_close_notify_writes_what_is_ready_and_drops_the_rest() -> None:
    """asyncio's TLS transport closes after close_notify whatever eof_received returns."""

    async def main() -> None:
        go = asyncio.Event()

        async def app(request: Any) -> Response:
            if request.path == "/slow":
                await go.wait()
            return Response(200, (), b"ready")

        connection = ServerConnection(app, idle_timeout=None, protocol_options=BIG_WINDOWS)
        transport = TLSTransport()
        connection.connection_made(transport)
        assert connection.phase is Phase.OPEN and connection.tls
        client = open_client(connection, transport)
        ready = client.request("/ready")  # answered in its own task: its write is scheduled
        client.request("/slow")
        upload(client, 5, 4096)
        await asyncio.sleep(0)  # /ready is answered; the write is scheduled, not yet done
        assert connection._flush_handle is not None
        assert connection.eof_received() is None
        assert connection.protocol.request_bytes == 0
        client.receive()
        assert client.ended(ready)  # written before asyncio closes the TLS connection

    run(main())


# ---------------------------------------------- item 5: the server's upload budget


def test_uploads_beyond_the_server_cap_wait_until_the_total_drops() -> None:
    async def main() -> None:
        server = Server(idle_timeout=None, max_server_request_buffer=1024 * 1024)
        first, first_transport = start(protocol_options=BIG_WINDOWS, server=server)
        second, second_transport = start(protocol_options=BIG_WINDOWS, server=server)
        one, two = open_client(first, first_transport), open_client(second, second_transport)
        upload(one, 1, 600 * 1024)
        assert first_transport.reading and server.uploads.total == 600 * 1024
        upload(two, 1, 600 * 1024)  # over the cap: the one that pushed it there waits
        assert not second_transport.reading and first_transport.reading
        upload(one, 3, 1024)  # still over: any upload that grows waits
        assert not first_transport.reading
        upload(one, 1, 0, end=True)  # (bytes in flight still arrive) a request completes...
        assert server.uploads.total == 600 * 1024 + 1024 <= server.uploads.limit
        assert first_transport.reading and second_transport.reading  # ...both may go on
        first.connection_lost(None)
        second.connection_lost(None)
        assert server.uploads.total == 0 and server.uploads.held == 0

    run(main())


# ------------------------------------------------- items 6 and 7: slices and turns


def test_a_long_read_is_fed_in_slices_and_other_connections_run_between() -> None:
    async def main() -> None:
        answered_while: list[int] = []
        busy, busy_transport = start(protocol_options=BIG_WINDOWS)
        busy_client = open_client(busy, busy_transport)
        other, other_transport = start()
        other_client = open_client(other, other_transport)

        headers = [(":method", "POST"), (":path", "/"), (":scheme", "http"), (":authority", "x")]
        busy_client.h2.send_headers(1, headers)
        for _ in range(1000):  # a thousand tiny DATA frames in one read
            busy_client.h2.send_data(1, b"x" * 10)
        busy_client.h2.end_stream(1)
        flood = busy_client.h2.data_to_send()
        assert len(flood) > 16 * 1024
        busy.data_received(flood)
        assert busy.protocol.request_bytes < 2000  # one slice so far
        assert not busy_transport.reading  # the rest waits; so does the socket

        def other_request() -> None:
            other_client.request("/")
            answered_while.append(busy._intake.pending)

        asyncio.get_running_loop().call_soon(other_request)
        await until(lambda: busy.requests == 1)
        assert answered_while and answered_while[0] > 0  # served while the flood waited
        assert other_client.receive() and busy_transport.reading

    run(main())


def test_the_reset_budget_is_checked_between_slices() -> None:
    """3,000 requests each reset at once, in one read: cut after about RESET_BURST."""

    async def main() -> None:
        connection, transport = start()
        open_client(connection, transport)
        encoder = hpack.Encoder()
        headers = [(":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "x")]
        flood = b"".join(
            encode_frame("HEADERS", 0x5, stream_id, encoder.encode(headers))
            + encode_frame("RST_STREAM", 0, stream_id, (8).to_bytes(4, "big"))
            for stream_id in range(1, 6000, 2)
        )
        transport.written.clear()
        connection.data_received(flood)
        await until(lambda: connection.phase.shut)
        assert connection.protocol.resets_received <= RESET_BURST + SLICE_FRAMES
        goaways = [f for f in decode_frames(bytes(transport.written)) if f.type == "GOAWAY"]
        assert goaways and goaways[-1].error_code == ErrorCodes.ENHANCE_YOUR_CALM  # type: ignore[attr-defined]

    run(main())


def test_nothing_after_a_connection_error_is_parsed() -> None:
    async def main() -> None:
        connection, transport = start()
        open_client(connection, transport)
        calls: list[int] = []
        receive = connection.protocol.receive

        def counted(data: bytes) -> Any:
            calls.append(len(data))
            return receive(data)

        connection.protocol.receive = counted  # type: ignore[method-assign]
        bad = encode_frame("DATA", 0, 0, b"x")  # DATA on stream 0: PROTOCOL_ERROR (§6.1)
        connection.data_received(bad + encode_frame("PING", 0, 0, bytes(8)) * 1000)
        await settle()
        assert connection.phase.shut and len(calls) == 1

    run(main())
