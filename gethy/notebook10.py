"""The capstone's server and application, as notebook 10's solved edition writes them.

Built in notebook 10 (capstone), Exercises 10.1 to 10.4: ``StreamingAdapter``
and ``StreamingConnection`` (streamed bodies on notebook 07's adapter),
``Files`` and ``RangeFiles`` (byte ranges, RFC 9110 §14), ``CoalescingConnection``
(one write per turn of the event loop) and ``capstone_app``. Kept here for
``python -m gethy.sidebyside``, which records the figures the notebook shows
where h2load is missing, and for the tests of the chapter's checks. A test
keeps this module and the notebook's cells the same code.
"""

from __future__ import annotations

import asyncio
import contextlib
from functools import partial
from urllib.parse import parse_qs, urlsplit

from h2.errors import ErrorCodes

from gethy import SendError
from gethy.app import Request, Response, default_app
from gethy.capstone import EVENT_STREAM_HEADERS, RangeNotSatisfiable, progress
from gethy.notebook07 import MyServerConnection

__all__ = [
    "NOTES",
    "CoalescingConnection",
    "Files",
    "RangeFiles",
    "StreamingAdapter",
    "StreamingConnection",
    "capstone_app",
    "files",
    "progress_app",
]


class StreamingAdapter(MyServerConnection):
    # Your 07 server, plus bodies that are async iterables of bytes, each sent from a task.

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.streaming: dict[int, asyncio.Task] = {}  # bodies still being sent, by stream

    def _send(self, request: Request, response: Response) -> None:
        if not response.streaming:
            super()._send(request, response)  # a whole body: as in 07
            return
        task = asyncio.ensure_future(self._stream_body(request, response))
        self.streaming[request.stream_id] = task
        task.add_done_callback(partial(self._body_done, request.stream_id))

    def _body_done(self, stream_id: int, task: asyncio.Task) -> None:
        self.streaming.pop(stream_id, None)
        if task.cancelled() or task.exception() is None:
            return
        with contextlib.suppress(SendError):  # a bug while streaming costs its stream only
            self.protocol.reset_stream(stream_id, ErrorCodes.INTERNAL_ERROR)
        self._flush()
        report = {"message": "streaming a body failed", "exception": task.exception()}
        asyncio.get_running_loop().call_exception_handler(report)

    def _flush_soon(self) -> None:
        self._flush()  # at once, for now: Exercise 10.4 comes back to this

    def _stream_reset(self, stream_id: int) -> None:
        super()._stream_reset(stream_id)
        if (task := self.streaming.pop(stream_id, None)) is not None:
            task.cancel()  # the client does not want the rest (§6.4)

    def connection_lost(self, exc: Exception | None) -> None:
        for task in self.streaming.values():
            task.cancel()
        self.streaming.clear()
        super().connection_lost(exc)


class StreamingConnection(StreamingAdapter):
    """Your server, streaming: HEADERS at once, then each chunk as the application makes it."""

    async def _stream_body(self, request: Request, response: Response) -> None:
        """Send `response`, whose body is an async iterable of bytes, as it is produced:
        HEADERS, then `send_data` + `_flush_soon()` per chunk, then trailers or END_STREAM
        (§8.1). A SendError means the client reset the stream meanwhile: stop quietly."""
        stream_id = request.stream_id
        with contextlib.suppress(SendError):  # reset meanwhile (§6.4): nothing more to send
            self.protocol.send_headers(stream_id, response.status, response.headers)
            self._flush_soon()
            async for chunk in response.body:
                self.protocol.send_data(stream_id, chunk)
                self._flush_soon()  # this event leaves before the next one is made
            if response.trailers is not None:
                self.protocol.send_trailers(stream_id, response.trailers)
            else:
                self.protocol.end_stream(stream_id)
            self._flush_soon()


def progress_app(request: Request) -> Response:
    # /progress?steps=N&pause=S: a job reporting its progress as server-sent events
    query = parse_qs(urlsplit(request.path).query)
    steps, pause = int(query.get("steps", ["10"])[0]), float(query.get("pause", ["0"])[0])
    return Response(200, EVENT_STREAM_HEADERS, progress(steps, pause))


class Files:
    """A file server, the files in memory: path → bytes. Ranges come in Exercise 10.3."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files

    def __call__(self, request: Request) -> Response:
        content = self.files.get(urlsplit(request.path).path)
        if content is None:
            return Response(404, [("content-type", "text/plain")], b"no such file\n")
        return self.answer(request, content)

    def answer(self, request: Request, content: bytes) -> Response:
        return Response(200, [("content-type", "application/octet-stream")], content)

    def byte_range(self, value: str, size: int) -> tuple[int, int] | None:
        """The `(first, last)` byte positions (both included) that the Range header `value`
        asks of `size` bytes; None to ignore the header (another unit, several ranges,
        invalid); RangeNotSatisfiable if no byte of the range exists (RFC 9110 §14.1.2)."""
        unit, _, spec = value.partition("=")
        if unit.strip().lower() != "bytes" or "," in spec:
            return None  # another unit, or several ranges: serve the whole file (§14.2)
        first, dash, last = spec.strip().partition("-")
        digits = all(p == "" or (p.isascii() and p.isdigit()) for p in (first, last))
        if not dash or not digits or not (first or last):
            return None  # not a range at all: ignore the header
        if not first:  # a suffix range: the last N bytes
            if int(last) == 0:
                raise RangeNotSatisfiable(value)
            return (max(0, size - int(last)), size - 1) if size else None
        start = int(first)
        if last and int(last) < start:
            return None  # invalid (§14.1.1): ignored
        if start >= size:
            raise RangeNotSatisfiable(value)
        end = size - 1 if not last else min(int(last), size - 1)  # cut at the end (§14.1.2)
        return start, end


class RangeFiles(Files):
    """The file server, answering Range requests with 206 and 416 (RFC 9110 §14)."""

    def fields(self) -> list[tuple[str, str]]:
        return [("content-type", "application/octet-stream"), ("accept-ranges", "bytes")]

    def answer(self, request: Request, content: bytes) -> Response:
        """200 with everything, 206 with the range and its content-range, or 416 with
        `content-range: bytes */size`. The Range header counts on GET only (§14.2)."""
        size = len(content)
        value = request.header("range")
        try:
            chosen = (
                None if value is None or request.method != "GET" else self.byte_range(value, size)
            )
        except RangeNotSatisfiable:
            return Response(416, [*self.fields(), ("content-range", f"bytes */{size}")])
        if chosen is None:
            return Response(200, self.fields(), content)
        first, last = chosen
        fields = [*self.fields(), ("content-range", f"bytes {first}-{last}/{size}")]
        return Response(206, fields, content[first : last + 1])


NOTES = b"".join(b"line %05d of the capstone notes\n" % i for i in range(3000))


files = RangeFiles({"/files/notes.txt": NOTES})


def capstone_app(request: Request) -> Response:
    if request.path.startswith("/progress"):
        return progress_app(request)
    if request.path.startswith("/files/"):
        return files(request)
    return default_app(request)


class CoalescingConnection(StreamingConnection):
    """Your streaming server, writing at most once per turn of the event loop."""

    flush_scheduled = False

    def _flush_soon(self) -> None:
        """Schedule `self._scheduled_flush` with `loop.call_soon`, once per turn: if a flush
        is already scheduled, do nothing; else set `self.flush_scheduled` and schedule it."""
        if not self.flush_scheduled:
            self.flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._scheduled_flush)

    def _scheduled_flush(self) -> None:
        self.flush_scheduled = False
        self._flush()
