"""Running the application for each request of one connection, stream by stream.

Built in notebook 07 (asyncio server).

The connection (`gethy.connection`) moves bytes; this module turns each
complete request into a response through the application (`gethy.app`):

* **A plain handler** answers in the same step that received the request, with
  no task at all (the cheap, common case).
* **An async handler, or a streamed body**, runs in a task of its own, so a
  slow stream delays only itself (RFC 9113 §5: streams are independent). When
  the client resets the stream (RFC 9113 §6.4), its task is cancelled.
* **Backpressure:** a streamed body produces its next chunk only when less than
  `STREAM_HIGH_WATER` bytes of it wait unsent and asyncio is not holding our
  writes back, so a 1 GiB body never sits in memory for a client that does not
  read (flow control alone, RFC 9113 §5.2, would only stop it at the client's
  window, which the client may make huge).
* **Every streamed body is closed** (``aclose``) when it ends, fails, is
  cancelled, or is never read at all: a HEAD request (RFC 9110 §9.3.2) gets
  the headers only, and the body's cleanup still runs.
* **Application errors** are the application's: logged once with the
  traceback, answered ``500`` when no header has left yet, else the stream is
  reset with INTERNAL_ERROR (RFC 9113 §8.1: a response cut short must not look
  complete). The connection and the other streams are unharmed.

A send refused because the client reset the stream meanwhile is not an error:
`HTTP2Protocol.stream_is_open` tells the two apart.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from h2.errors import ErrorCodes

from gethy.app import Handler, Request, Response
from gethy.errors import SendError
from gethy.protocol import HTTP2Protocol

__all__ = ["STREAM_HIGH_WATER", "Responder"]

# One logger for the whole server: `logging.getLogger("gethy.server")` configures all of it.
logger = logging.getLogger("gethy.server")

#: A streamed body waits while more than this many bytes of it are still unsent.
STREAM_HIGH_WATER = 128 * 1024

_ERROR_BODY = b"500 Internal Server Error: the application failed; see the server log\n"
_ERROR_HEADERS = (("content-type", "text/plain; charset=utf-8"),)


class Responder:
    """The application's side of one connection: tasks, streamed bodies, errors.

    The connection gives it each request (`start`), tells it about resets
    (`cancel`), wakes streamed bodies when bytes have left (`wake_writers`) and
    stops it when the connection is gone (`stop`). In return the responder
    calls `schedule_flush` after queueing response bytes, and asks
    `writing_paused` whether asyncio holds our writes back.
    """

    def __init__(
        self,
        protocol: HTTP2Protocol,
        app: Handler,
        *,
        loop: asyncio.AbstractEventLoop,
        schedule_flush: Callable[[], None],
        writing_paused: Callable[[], bool],
    ) -> None:
        self.protocol = protocol
        self.app = app
        self.peer = "?"  # for log lines; the connection sets it once it knows
        self._loop = loop
        self._schedule_flush = schedule_flush
        self._writing_paused = writing_paused
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._writers: dict[int, asyncio.Future[None]] = {}
        self._stopped = False  # the connection is gone: answer nothing more

    # ------------------------------------------------------- what the connection calls

    def start(self, request: Request) -> None:
        """Run the application for `request`: answer now, or start the stream's task."""
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

    def cancel(self, stream_id: int) -> None:
        """The stream was reset (RFC 9113 §6.4): stop working on it."""
        task = self._tasks.pop(stream_id, None)
        if task is not None:
            task.cancel()

    def cancel_all(self) -> None:
        """Cancel every stream's task (the connection is closing)."""
        tasks = list(self._tasks.values())
        self._tasks.clear()
        for task in tasks:
            task.cancel()

    def stop(self) -> None:
        """The connection is gone: cancel everything, and answer nothing from now on."""
        self._stopped = True
        self.cancel_all()
        for waiter in self._writers.values():
            waiter.cancel()
        self._writers.clear()

    def wake_writers(self) -> None:
        """Bytes have left: let the streamed bodies that are now below the mark go on."""
        if not self._writers or self._writing_paused():
            return
        buffered = self.protocol.buffered
        for stream_id, waiter in list(self._writers.items()):
            if buffered(stream_id) < STREAM_HIGH_WATER:
                del self._writers[stream_id]
                if not waiter.done():
                    waiter.set_result(None)

    # ------------------------------------------------------------------ responding

    def _respond(self, request: Request, response: Response) -> None:
        """Hand a response to the protocol, whole or as a streaming task."""
        stream_id = request.stream_id
        protocol = self.protocol
        try:
            if not response.streaming:
                assert isinstance(response.body, bytes)
                # For HEAD the protocol sends the headers only (RFC 9110 §9.3.2).
                protocol.send(
                    stream_id,
                    response.status,
                    response.headers,
                    response.body,
                    trailers=response.trailers,
                )
            elif request.method == "HEAD":
                # No content to produce: the headers, as the handler gave them, end it.
                try:
                    protocol.send_headers(
                        stream_id, response.status, response.headers, end_stream=True
                    )
                finally:  # the body is never read: close it, so its cleanup runs now
                    if hasattr(response.body, "aclose"):
                        self._start_task(stream_id, self._close_body(stream_id, response.body))
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
            await self._close_body(stream_id, chunks)

    async def _close_body(self, stream_id: int, chunks: Any) -> None:
        """Close the body's async generator, so that its ``finally`` blocks run now."""
        close = getattr(chunks, "aclose", None)
        if close is None:
            return
        try:
            await close()
        except Exception:
            logger.exception("%s: closing the body of stream %d raised", self.peer, stream_id)

    async def _writable(self, stream_id: int) -> None:
        """Wait until this stream may produce more: socket writable, little buffered.

        Without this a handler could generate a whole 1 GiB body into memory
        while the client reads nothing; with it, at most about
        `STREAM_HIGH_WATER` bytes per stream wait in gethy's buffer.
        """
        if not self._writing_paused() and self.protocol.buffered(stream_id) < STREAM_HIGH_WATER:
            return
        waiter: asyncio.Future[None] = self._loop.create_future()
        self._writers[stream_id] = waiter
        await waiter

    # ------------------------------------------------------------------- tasks

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
        if not self._stopped:
            self._schedule_flush()

    # ------------------------------------------------------------------ errors

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
        if self._stopped or self.protocol.terminated:
            return
        try:
            if not headers_sent:
                self.protocol.send(stream_id, 500, _ERROR_HEADERS, _ERROR_BODY)
            else:
                self.protocol.reset_stream(stream_id, ErrorCodes.INTERNAL_ERROR)
        except SendError:
            with contextlib.suppress(SendError):
                self.protocol.reset_stream(stream_id, ErrorCodes.INTERNAL_ERROR)
        self._schedule_flush()

    def _send_failed(self, request: Request, exc: SendError, *, headers_sent: bool = False) -> None:
        """A send was refused: either the stream is gone or the response was invalid."""
        protocol = self.protocol
        if self._stopped or protocol.terminated or not protocol.stream_is_open(request.stream_id):
            # The client reset the stream (or the connection ended): nothing to answer.
            logger.debug("%s: stream %d: %s", self.peer, request.stream_id, exc)
            return
        # The stream is open, so the application asked for something invalid.
        self._application_error(request, str(exc), headers_sent=headers_sent)
