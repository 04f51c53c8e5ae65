"""The asyncio adapter notebook 07 ends with, as its solved edition writes it.

Built in notebook 07 (asyncio server), Exercises 7.1 to 7.4: ``MyConnection``
(bytes in, bytes out), ``AppConnection`` (the application, every failure kept
to its stream), ``BackpressureConnection`` and ``MyServerConnection`` (clean
``connection_lost``), with the ``hello`` and ``echo`` applications. Notebook 10
(capstone) starts from it (``from gethy.notebook07 import MyServerConnection``)
instead of repeating 150 lines; a learner whose adapter differs pastes theirs
there. A test keeps this module and the notebook's cells the same code, so it
is the learner's adapter, not gethy's grown-up server (`gethy.connection`).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect

import h2.exceptions

from gethy import CoreProtocol, SendError
from gethy.app import Handler, Request, Response
from gethy.events import ConnectionTerminatedEvent, RequestEvent, StreamResetEvent

__all__ = [
    "SERVER_ERROR",
    "AppConnection",
    "BackpressureConnection",
    "MyConnection",
    "MyServerConnection",
    "echo",
    "hello",
]


def hello(request: Request) -> Response:
    """The application until Exercise 7.2: the same short answer to every request."""
    return Response(200, [("content-type", "text/plain")], b"hello over HTTP/2\n")


SERVER_ERROR = Response(500, [("content-type", "text/plain")], b"the application failed\n")


def echo(request: Request) -> Response:
    # An application: answers with what the request carried, like the seed's server.
    return Response(200, [("content-type", "text/plain")], b"got " + request.body)


class MyConnection(asyncio.Protocol):
    """One client connection: asyncio calls in, your protocol class in the middle, bytes out."""

    def __init__(self, app: Handler = hello, protocol_class: type = CoreProtocol) -> None:
        self.app = app
        self.protocol = protocol_class()  # your class from 04: it queues the server preface
        self.transport: asyncio.Transport | None = None
        self.writing_paused = False  # Exercise 7.3
        self.tasks: dict[int, asyncio.Task] = {}  # async handlers still running, by stream
        self.closed = asyncio.Event()  # set by connection_lost (Exercise 7.4)

    def connection_made(self, transport: asyncio.Transport) -> None:
        """Keep the transport, and write the server preface at once (§3.4)."""
        self.transport = transport
        self._flush()  # the server preface leaves first (§3.4)

    def data_received(self, data: bytes) -> None:
        """Feed `receive`, act on every event, then write once for the whole batch.

        RequestEvent → `self._request_received(event.stream)`; StreamResetEvent →
        `self._stream_reset(event.stream_id)`. If `receive` raises h2's ProtocolError
        (the client broke the protocol, §5.4.1), write what h2 queued (its GOAWAY) and
        close the transport: `self._hang_up()`. gethy's HTTP2Protocol returns a
        ConnectionTerminatedEvent instead of raising: hang up on that too.
        """
        try:
            events = self.protocol.receive(data)
        except h2.exceptions.ProtocolError:
            self._hang_up()
            return
        for event in events:
            if isinstance(event, RequestEvent):
                self._request_received(event.stream)
            elif isinstance(event, StreamResetEvent):
                self._stream_reset(event.stream_id)
            elif isinstance(event, ConnectionTerminatedEvent):
                self._hang_up()
                return
        self._flush()  # one write for the whole batch

    def _flush(self) -> None:
        """Write what the protocol has for the client (if anything), in one write."""
        if self.transport is None:
            return
        data = self.protocol.data_to_send()
        if data:
            self.transport.write(data)

    def _hang_up(self) -> None:
        """Write what is queued (h2's GOAWAY), then close the connection."""
        self._flush()
        self.transport.close()

    # Given for now: Exercise 7.2 replaces them.
    def _request_received(self, request: Request) -> None:
        self.protocol.send(request.stream_id, 200, [("content-type", "text/plain")], b"hello\n")

    def _stream_reset(self, stream_id: int) -> None:
        pass


class AppConnection(MyConnection):
    """Answers with the application: plain or async, every failure kept to its own stream."""

    def _request_received(self, request: Request) -> None:
        """Call `self.app(request)`. A Response: send it now (`self._send`). An awaitable
        (an `async def` application): run `self._respond_later(request, result)` in a task,
        kept in `self.tasks[request.stream_id]` until it is done. If the application raises,
        send SERVER_ERROR: one failing request must not take the connection down."""
        try:  # the application is not ours: it may raise
            result = self.app(request)
        except Exception:  # a bug in the application costs its stream only
            self._send(request, SERVER_ERROR)
            return
        if inspect.isawaitable(result):
            stream_id = request.stream_id
            task = asyncio.ensure_future(self._respond_later(request, result))
            self.tasks[stream_id] = task
            task.add_done_callback(lambda _: self.tasks.pop(stream_id, None))
        else:
            self._send(request, result)

    def _send(self, request: Request, response: Response) -> None:
        """Hand `response` to the protocol (`send`, trailers included). A SendError means the
        client reset the stream meanwhile (§6.4): nothing to answer, nothing broken."""
        with contextlib.suppress(SendError):  # reset meanwhile: the other streams carry on
            self.protocol.send(
                request.stream_id,
                response.status,
                response.headers,
                response.body,
                trailers=response.trailers,
            )

    async def _respond_later(self, request: Request, pending) -> None:
        """An async application's answer: await it, send it, write it."""
        try:
            response = await pending
        except Exception:
            response = SERVER_ERROR
        self._send(request, response)
        self._flush()

    def _stream_reset(self, stream_id: int) -> None:
        """The client cancelled the stream (§6.4): stop its handler, if one runs."""
        task = self.tasks.pop(stream_id, None)
        if task is not None:
            task.cancel()


class BackpressureConnection(AppConnection):
    """Stops writing, and reading, while the client does not read."""

    def pause_writing(self) -> None:
        """asyncio's write buffer went over its high-water mark: the client is not reading.
        Set `self.writing_paused` and stop reading its requests (`transport.pause_reading()`)."""
        self.writing_paused = True
        self.transport.pause_reading()

    def resume_writing(self) -> None:
        """The buffer drained below its low-water mark: read again, and write what waited."""
        self.writing_paused = False
        self.transport.resume_reading()
        self._flush()

    def _flush(self) -> None:
        """As before, but write nothing while writing is paused: the bytes wait in the protocol."""
        if not self.writing_paused:
            super()._flush()


class MyServerConnection(BackpressureConnection):
    """Your asyncio server's connection: cleans up when the connection ends."""

    def connection_lost(self, exc: Exception | None) -> None:
        """The connection is gone (`exc` is None after a clean close). Cancel every
        handler's task and empty `self.tasks`, forget the transport (`self.transport = None`,
        so `_flush` writes nowhere), and set `self.closed`."""
        for task in self.tasks.values():
            task.cancel()
        self.tasks.clear()
        self.transport = None
        self.closed.set()
