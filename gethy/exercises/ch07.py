"""The checks of notebook 07 (asyncio server): the learner's `asyncio.Protocol` adapter.

Built for notebook 07: each exercise's check cell calls one ``check_*`` here
(and its hidden tests one ``hidden_*``). The adapter is driven the way asyncio
drives it, by calling its methods, but with a `FakeTransport` instead of a
socket and h2's client (`ScriptedClient`) making the bytes: no port, no
timer, the same result every run. The notebook's real-socket cells and
``tests/test_ch07_server.py`` then show the same class serving real clients.

A check takes the learner's class and builds a connection with
``cls(app=...)`` (or ``cls()``), as ``loop.create_server`` would through a
factory.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from gethy.app import Request, Response
from gethy.exercises import CheckFailed, attempt, expect, passed
from gethy.fake_transport import FakeTransport, ScriptedClient

__all__ = [
    "check_application",
    "check_backpressure",
    "check_bytes",
    "check_connection_lost",
    "hidden_application",
    "hidden_backpressure",
    "hidden_bytes",
    "hidden_connection_lost",
]

#: A PING frame on stream 1: PING belongs to stream 0 (RFC 9113 §6.7), so h2 answers GOAWAY.
BAD_PING = b"\x00\x00\x08\x06\x00\x00\x00\x00\x01" + b"12345678"
#: How many times a check lets the event loop run, waiting for an async handler.
TICKS = 20


def _text(body: str) -> Callable[[Request], Response]:
    def app(request: Request) -> Response:
        return Response(200, [("content-type", "text/plain")], f"{body} {request.path}".encode())

    return app


def _failing(request: Request) -> Response:
    raise RuntimeError("a bug in the application")


def _connect(cls: type, app: Any = None) -> tuple[Any, FakeTransport, ScriptedClient]:
    """A connection of `cls` with `connection_made` done, and a client that read the preface."""
    connection = attempt(f"{cls.__name__}(...)", lambda: cls() if app is None else cls(app=app))
    transport = FakeTransport()
    attempt("connection_made(transport)", lambda: connection.connection_made(transport))
    client = ScriptedClient()
    client.receive(transport.take())
    return connection, transport, client


def _deliver(connection: Any, transport: FakeTransport, client: ScriptedClient, what: str) -> int:
    """Hand the client's queued bytes to ``data_received``; return how many writes it made."""
    before = len(transport.writes)
    attempt(f"data_received({what})", lambda: connection.data_received(client.send()))
    writes = len(transport.writes) - before
    client.receive(transport.take())
    return writes


def _answered(client: ScriptedClient, stream_id: int, what: str) -> tuple[int | None, bytes]:
    response = client.responses[stream_id]
    if not response.ended:
        raise CheckFailed(
            f"{what}: the client expected a complete response on stream {stream_id}, "
            f"got {'nothing' if response.status is None else 'an unfinished one'}"
        )
    return response.status, bytes(response.body)


async def _ticks(until: Callable[[], bool]) -> None:
    """Let the event loop run (async handlers, cancellations) until `until()` or TICKS turns."""
    for _ in range(TICKS):
        if until():
            return
        await asyncio.sleep(0)


# --------------------------------------------------------------- Exercise 7.1


def check_bytes(cls: type) -> None:
    """The preface on connection_made; one write per data_received; bad input closes."""
    connection = attempt(f"{cls.__name__}()", cls)
    transport = FakeTransport()
    attempt("connection_made(transport)", lambda: connection.connection_made(transport))
    expect("writes made by connection_made (the server preface)", 1, len(transport.writes))
    client = ScriptedClient()
    client.receive(transport.take())
    first = client.frame_types()[:1]
    expect(
        "the first frame the server wrote (its preface is a SETTINGS frame, §3.4)",
        ["SETTINGS"],
        first,
    )
    stream_id = client.request("GET", "/")
    writes = _deliver(connection, transport, client, "the client preface and a GET")
    expect(
        "transport.write calls for one data_received with a GET (one write per batch)", 1, writes
    )
    status, _ = _answered(client, stream_id, "after a GET")
    expect("status of the response to the GET", 200, status)

    connection, transport, client = _connect(cls)
    attempt(
        "data_received(client preface + a PING frame on stream 1, a protocol error)",
        lambda: connection.data_received(client.send() + BAD_PING),
    )
    client.receive(transport.take())
    expect("GOAWAY written after a protocol error (§5.4.1)", True, "GOAWAY" in client.frame_types())
    expect("transport closed after a protocol error", True, transport.closed)
    passed("7.1")


def hidden_bytes(cls: type) -> None:
    """Three requests in one read: three answers, still one write."""
    connection, transport, client = _connect(cls)
    streams = [client.request("GET", f"/{n}") for n in range(3)]
    writes = _deliver(connection, transport, client, "three GETs in one read")
    expect("transport.write calls for three GETs in one data_received", 1, writes)
    for stream_id in streams:
        _answered(client, stream_id, "three GETs in one read")
    expect("transport closed after good requests", False, transport.closed)


# --------------------------------------------------------------- Exercise 7.2


async def check_application(cls: type) -> None:
    """The application answers; a request reset in the same read, or a failing app, harms nobody."""
    connection, transport, client = _connect(cls, _text("you asked for"))
    stream_id = client.request("GET", "/a")
    _deliver(connection, transport, client, "a GET of /a")
    expect(
        "body of the response to GET /a",
        (200, b"you asked for /a"),
        _answered(client, stream_id, "GET /a"),
    )

    kept = client.request("GET", "/kept")
    cancelled = client.request("GET", "/cancelled")
    client.reset(cancelled)  # the seed article's crash: request and RST_STREAM in one read
    _deliver(
        connection,
        transport,
        client,
        "GET /kept, then GET /cancelled and its RST_STREAM, in one read",
    )
    expect(
        "response to GET /kept", (200, b"you asked for /kept"), _answered(client, kept, "GET /kept")
    )
    expect(
        "status sent on the stream the client reset (none: §6.4)",
        None,
        client.responses[cancelled].status,
    )

    connection, transport, client = _connect(cls, _failing)
    stream_id = client.request("GET", "/")
    _deliver(connection, transport, client, "a GET to an application that raises")
    status, _ = _answered(client, stream_id, "an application that raises")
    expect("status when the application raises", 500, status)
    expect("transport closed because the application raised", False, transport.closed)

    async def later(request: Request) -> Response:
        await asyncio.sleep(0)
        return Response(200, [], b"worth the wait")

    connection, transport, client = _connect(cls, later)
    stream_id = client.request("GET", "/")
    _deliver(connection, transport, client, "a GET to an async application")
    await _ticks(lambda: bool(transport.writes))
    client.receive(transport.take())
    expect(
        "response from an async application, after its task ran",
        (200, b"worth the wait"),
        _answered(client, stream_id, "an async application"),
    )
    passed("7.2")


async def hidden_application(cls: type) -> None:
    """An async application that raises gets 500; its task is in ``tasks`` until it is done."""

    async def broken(request: Request) -> Response:
        await asyncio.sleep(0)
        raise RuntimeError("a bug after an await")

    connection, transport, client = _connect(cls, broken)
    stream_id = client.request("GET", "/")
    _deliver(connection, transport, client, "a GET to an async application that raises")
    expect(
        "tasks of the connection while an async handler runs", [stream_id], list(connection.tasks)
    )
    await _ticks(lambda: bool(transport.writes))
    client.receive(transport.take())
    status, _ = _answered(client, stream_id, "an async application that raises")
    expect("status when an async application raises", 500, status)
    await _ticks(lambda: not connection.tasks)
    expect("tasks left once the response is sent", [], list(connection.tasks))


# --------------------------------------------------------------- Exercise 7.3


async def check_backpressure(cls: type) -> None:
    """pause_writing stops writing and reading; resume_writing restarts both, writes what waited."""
    connection, transport, client = _connect(cls, _text("hello"))
    attempt("pause_writing()", connection.pause_writing)
    expect(
        "reading paused by pause_writing (the client is not reading)",
        True,
        transport.reading_paused,
    )
    stream_id = client.request("GET", "/")
    writes = _deliver(connection, transport, client, "a GET while writing is paused")
    expect("transport.write calls while writing is paused", 0, writes)
    attempt("resume_writing()", connection.resume_writing)
    expect("reading resumed by resume_writing", False, transport.reading_paused)
    expect(
        "transport.write calls made by resume_writing (what waited, at once)",
        1,
        len(transport.writes),
    )
    client.receive(transport.take())
    expect(
        "response written after resume_writing",
        (200, b"hello /"),
        _answered(client, stream_id, "resume"),
    )
    passed("7.3")


async def hidden_backpressure(cls: type) -> None:
    """An async response that completes while paused waits for resume_writing."""

    answered: list[int] = []

    async def later(request: Request) -> Response:
        await asyncio.sleep(0)
        answered.append(request.stream_id)  # the adapter sends this in the same step
        return Response(200, [], b"later")

    connection, transport, client = _connect(cls, later)
    stream_id = client.request("GET", "/")
    _deliver(connection, transport, client, "a GET to an async application")
    attempt("pause_writing()", connection.pause_writing)
    await _ticks(lambda: bool(answered))
    expect(
        "transport.write calls while paused, after the async response was ready",
        0,
        len(transport.writes),
    )
    attempt("resume_writing()", connection.resume_writing)
    client.receive(transport.take())
    expect("response after resume_writing", (200, b"later"), _answered(client, stream_id, "resume"))


# --------------------------------------------------------------- Exercise 7.4


async def _lose(cls: type, exc: Exception | None, streams: int) -> None:
    """`streams` handlers still running (kept in ``tasks`` as Exercise 7.2 does), then the end."""
    started: list[int] = []

    async def slow_handler(stream_id: int) -> None:
        started.append(stream_id)
        await asyncio.sleep(3600)  # waiting for something, for a client that is about to go

    connection, transport, client = _connect(cls)
    tasks = {}
    for stream_id in range(1, 2 * streams, 2):
        tasks[stream_id] = asyncio.ensure_future(slow_handler(stream_id))
    connection.tasks.update(tasks)
    await _ticks(lambda: len(started) == streams)
    attempt(f"connection_lost({exc!r})", lambda: connection.connection_lost(exc))
    await _ticks(lambda: all(task.done() for task in tasks.values()))
    try:
        expect(
            f"handlers' tasks (streams {list(tasks)}) cancelled by connection_lost",
            [True] * streams,
            [task.cancelled() for task in tasks.values()],
        )
    finally:
        for task in tasks.values():
            task.cancel()  # never leave a check's task running, whatever the learner did
    expect("tasks left in connection.tasks", {}, connection.tasks)
    expect("connection.transport after connection_lost", None, connection.transport)
    expect("connection.closed is set", True, connection.closed.is_set())
    attempt("_flush() after connection_lost (must write nothing, raise nothing)", connection._flush)
    expect("writes after connection_lost", [], transport.writes)


async def check_connection_lost(cls: type) -> None:
    """connection_lost cancels the handlers' tasks, forgets the transport and sets ``closed``."""
    await _lose(cls, None, 1)
    passed("7.4")


async def hidden_connection_lost(cls: type) -> None:
    """The same when the peer vanished (an exception), with two handlers running."""
    await _lose(cls, ConnectionResetError("connection reset by peer"), 2)
