"""gethy.connection and gethy.phase: the connection's state machine, driven without sockets.

A `ServerConnection` is fed bytes from an h2 client through a fake transport,
and the test watches its `phase` move (see `gethy.phase.TRANSITIONS`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import h2.config
import h2.connection
import h2.events
import pytest
from h2.errors import ErrorCodes

from gethy.app import Request, Response
from gethy.connection import ServerConnection
from gethy.frames import decode_frames, encode_frame
from gethy.phase import TRANSITIONS, Phase


class FakeTransport(asyncio.Transport):
    """Keeps what is written; remembers a half-close or an abort."""

    def __init__(self) -> None:
        super().__init__()
        self.written = bytearray()
        self.eof_written = False
        self.aborted = False
        self.reading = True

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written += data

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 40000), "sockname": ("127.0.0.1", 8000)}.get(
            name, default
        )

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        pass

    def get_write_buffer_size(self) -> int:
        return 0

    def pause_reading(self) -> None:
        self.reading = False

    def resume_reading(self) -> None:
        self.reading = True

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        self.eof_written = True

    def abort(self) -> None:
        self.aborted = True

    def close(self) -> None:
        self.aborted = True


class Client:
    """An h2 client whose bytes go to a `ServerConnection` and whose answers come back."""

    def __init__(self, connection: ServerConnection, transport: FakeTransport) -> None:
        self.connection = connection
        self.transport = transport
        self.h2 = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        self.h2.initiate_connection()
        self.events: list[h2.events.Event] = []

    def send(self) -> None:
        self.connection.data_received(self.h2.data_to_send())

    def request(self, path: str) -> int:
        stream_id = self.h2.get_next_available_stream_id()
        headers = [(":method", "GET"), (":path", path), (":scheme", "http"), (":authority", "x")]
        self.h2.send_headers(stream_id, headers, end_stream=True)
        self.send()
        return stream_id

    def receive(self) -> list[h2.events.Event]:
        data = bytes(self.transport.written)
        self.transport.written.clear()
        events = self.h2.receive_data(data) if data else []
        self.events += events
        return events

    def ended(self, stream_id: int) -> bool:
        return any(
            isinstance(e, h2.events.StreamEnded) and e.stream_id == stream_id for e in self.events
        )


def run(coroutine: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(asyncio.wait_for(coroutine, 5))


def connect(app: Any = None) -> tuple[ServerConnection, FakeTransport]:
    connection = ServerConnection(app or (lambda r: Response(200, (), b"ok")), idle_timeout=None)
    transport = FakeTransport()
    connection.connection_made(transport)
    return connection, transport


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


# ----------------------------------------------------------------- the table


def test_every_phase_can_end_and_closed_is_final() -> None:
    assert set(TRANSITIONS) == set(Phase)
    assert TRANSITIONS[Phase.CLOSED] == frozenset()
    for phase in set(Phase) - {Phase.CLOSED}:
        assert Phase.CLOSED in TRANSITIONS[phase]  # the client may vanish at any time
    assert Phase.OPEN not in TRANSITIONS[Phase.DRAINING]  # no way back to accepting streams


def test_a_move_the_table_does_not_list_is_refused() -> None:
    async def main() -> None:
        connection, _ = connect()
        with pytest.raises(RuntimeError, match="SNIFFING to DRAINING"):
            connection._enter(Phase.DRAINING)
        assert connection.phase is Phase.SNIFFING

    run(main())


# ----------------------------------------------------------------- the moves


def test_preface_opens_and_a_request_is_answered() -> None:
    async def main() -> None:
        connection, transport = connect()
        assert connection.phase is Phase.SNIFFING
        client = Client(connection, transport)
        client.send()
        assert connection.phase is Phase.OPEN
        stream_id = client.request("/")
        client.receive()
        assert client.ended(stream_id)
        connection.connection_lost(None)
        assert connection.phase is Phase.CLOSED and connection.closed.done()

    run(main())


def test_http1_is_answered_then_our_side_closes() -> None:
    async def main() -> None:
        connection, transport = connect()
        connection.data_received(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert connection.phase is Phase.CLOSING
        assert transport.written.startswith(b"HTTP/1.1 505 ") and transport.eof_written
        connection.data_received(b"more bytes are read and discarded")
        assert transport.written.startswith(b"HTTP/1.1 505 ")
        connection.connection_lost(None)
        assert connection.phase is Phase.CLOSED

    run(main())


def slow_app() -> tuple[asyncio.Event, Any]:
    """An application that answers only once the returned event is set."""
    go = asyncio.Event()

    async def slow(request: Request) -> Response:
        await go.wait()
        return Response(200, (), b"late")

    return go, slow


def frames(transport: FakeTransport) -> list[tuple[str, int, tuple[str, ...]]]:
    """What the server wrote, frame by frame (h2's client stops reading at a GOAWAY)."""
    return [(f.type, f.stream_id, f.flags) for f in decode_frames(bytes(transport.written))]


def test_shutdown_drains_the_open_stream_then_closes() -> None:
    async def main() -> None:
        go, slow = slow_app()
        connection, transport = connect(slow)
        client = Client(connection, transport)
        client.send()
        stream_id = client.request("/slow")
        connection.shutdown()
        assert connection.phase is Phase.DRAINING
        go.set()
        await settle()
        written = frames(transport)
        goaway = written.index(("GOAWAY", 0, ()))
        assert written.index(("DATA", stream_id, ("END_STREAM",))) > goaway
        assert connection.phase is Phase.CLOSING and transport.eof_written
        assert connection.close_reason == "server shutdown"

    run(main())


def test_half_close_drains_without_goaway() -> None:
    async def main() -> None:
        go, slow = slow_app()
        connection, transport = connect(slow)
        client = Client(connection, transport)
        client.send()
        stream_id = client.request("/slow")
        assert connection.eof_received() is True  # keep our side open for the answer
        assert connection.phase is Phase.DRAINING
        go.set()
        await settle()
        client.receive()
        assert client.ended(stream_id)
        assert not any(isinstance(e, h2.events.ConnectionTerminated) for e in client.events)
        assert connection.phase is Phase.CLOSING
        assert connection.close_reason == "the client closed its side"

    run(main())


def test_pause_writing_holds_output_back_in_any_phase() -> None:
    async def main() -> None:
        connection, transport = connect()
        client = Client(connection, transport)
        client.send()
        client.receive()
        connection.pause_writing()
        assert connection.writing_paused and not transport.reading
        client.request("/")
        assert not transport.written  # the answer waits in the protocol
        connection.resume_writing()
        assert transport.written and transport.reading

    run(main())


# ------------------------------------------------------- the client's GOAWAY


def test_client_goaway_with_an_error_closes_at_once() -> None:
    async def main() -> None:
        go, slow = slow_app()
        connection, transport = connect(slow)
        client = Client(connection, transport)
        client.send()
        client.request("/slow")
        client.h2.close_connection(error_code=ErrorCodes.INTERNAL_ERROR)
        client.send()
        assert connection.protocol.terminated
        assert connection.phase is Phase.CLOSING
        assert connection.close_reason == "the client sent GOAWAY (INTERNAL_ERROR)"
        assert not connection.responder._tasks  # the slow handler was cancelled

    run(main())


def test_client_goaway_no_error_lets_open_streams_finish() -> None:
    """RFC 9113 §6.8: the protocol reports the GOAWAY but is not terminated.

    It keeps answering the open streams, so the connection drains them and
    closes after the last, as at a graceful shutdown. (h2's client stops
    reading once it sends GOAWAY, so the frame is made by hand.)
    """

    async def main() -> None:
        go, slow = slow_app()
        connection, transport = connect(slow)
        client = Client(connection, transport)
        client.send()
        stream_id = client.request("/slow")
        connection.data_received(encode_frame("GOAWAY", 0, 0, bytes(8)))  # NO_ERROR
        assert connection.protocol.closing and not connection.protocol.terminated
        assert connection.phase is Phase.DRAINING
        go.set()
        await settle()
        client.receive()
        assert client.ended(stream_id)
        assert connection.phase is Phase.CLOSING
        assert connection.close_reason == "the client sent GOAWAY (NO_ERROR)"

    run(main())


# ------------------------------------------------------------ the application


class Body:
    """A streamed body that records whether it was closed (as a file or a lock would care)."""

    def __init__(self) -> None:
        self.closed = False

    def __aiter__(self) -> Body:
        return self

    async def __anext__(self) -> bytes:
        raise StopAsyncIteration

    async def aclose(self) -> None:
        self.closed = True


@pytest.mark.parametrize("handler", ["plain", "async"])
def test_a_streamed_body_that_head_never_reads_is_closed(handler: str) -> None:
    async def main() -> None:
        body = Body()

        def plain(request: Request) -> Response:
            return Response(200, (), body)

        async def later(request: Request) -> Response:
            await asyncio.sleep(0)
            return Response(200, (), body)

        connection, transport = connect(plain if handler == "plain" else later)
        client = Client(connection, transport)
        client.send()
        stream_id = client.h2.get_next_available_stream_id()
        headers = [(":method", "HEAD"), (":path", "/"), (":scheme", "http"), (":authority", "x")]
        client.h2.send_headers(stream_id, headers, end_stream=True)
        client.send()
        await settle()
        client.receive()
        assert client.ended(stream_id)
        assert body.closed, "the body's aclose() was never called"

    run(main())
