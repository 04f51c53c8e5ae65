"""The checks of notebook 10 (capstone): streaming, byte ranges, coalesced writes.

Built for notebook 10: each exercise's check cell calls one ``check_*`` here
(and its hidden tests one ``hidden_*``). The adapter is driven as asyncio
drives it, with a `FakeTransport` and h2's client (`ScriptedClient`): no
socket, no timer, the same result every run. The range exercises call the
learner's application class directly with `Stream` requests.

The learner's adapter classes take ``cls(app)`` as notebook 07's do; the file
application takes ``cls(files)``, a dict from path to bytes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from gethy.app import Request, Response
from gethy.capstone import EVENT_STREAM_HEADERS, RangeNotSatisfiable
from gethy.exercises import CheckFailed, attempt, expect, passed
from gethy.exercises.adapter_run import AdapterRun, complete, last_frame, streamed
from gethy.stream import Stream

__all__ = [
    "check_coalescing",
    "check_range_answers",
    "check_byte_range",
    "check_streaming",
    "hidden_coalescing",
    "hidden_range_answers",
    "hidden_byte_range",
    "hidden_streaming",
]

# --------------------------------------------------------------- Exercise 10.1

EVENTS = [b"data: one\n\n", b"data: two\n\n", b"data: three\n\n"]


async def check_streaming(cls: type) -> None:
    """HEADERS, one DATA per chunk as it comes, END_STREAM; each chunk leaves before the next."""
    seen_before: list[bool] = []
    run_ref: list[AdapterRun] = []

    async def watched() -> AsyncIterator[bytes]:
        for i, chunk in enumerate(EVENTS):
            if i:
                for _ in range(3):
                    await asyncio.sleep(0)
                seen_before.append(EVENTS[i - 1] in run_ref[0].written())
            yield chunk

    run = AdapterRun(cls, lambda request: Response(200, EVENT_STREAM_HEADERS, watched()))
    run_ref.append(run)
    stream_id = run.client.request("GET", "/progress")
    run.deliver("a GET whose answer is an event stream")
    await run.settle()
    status, body = complete(run, stream_id, "a streamed response of three events")
    expect("status of the streamed response", 200, status)
    response = run.client.responses[stream_id]
    expect("its content-type header", "text/event-stream", response.header("content-type"))
    expect("the body the client received (the three events, in order)", b"".join(EVENTS), body)
    expect(
        "was each event written to the transport before the next one was produced?",
        [True, True],
        seen_before,
    )
    await _streaming_trailers(cls)
    await _streaming_reset_meanwhile(cls)
    passed("10.1")


async def _streaming_trailers(cls: type) -> None:
    run = AdapterRun(cls, streamed([b"data: x\n\n"], trailers=[("x-events", "1")]))
    stream_id = run.client.request("GET", "/progress")
    run.deliver("a GET answered with a streamed body and trailers")
    await run.settle()
    complete(run, stream_id, "a streamed response with trailers")
    expect(
        "the last frame on a stream whose response has trailers (trailers end it, §8.1)",
        "HEADERS END_STREAM+END_HEADERS",
        last_frame(run, stream_id),
    )


async def _streaming_reset_meanwhile(cls: type) -> None:
    """The stream is reset between two chunks: SendError must end the body quietly."""
    run_ref: list[AdapterRun] = []

    async def body() -> AsyncIterator[bytes]:
        yield b"data: first\n\n"
        await asyncio.sleep(0)
        run_ref[0].connection.protocol.reset_stream(1)  # as if reset while we waited
        yield b"data: too late\n\n"

    others = streamed([b"data: fine\n\n"])

    def app(request: Request) -> Response:
        if request.path == "/reset-me":
            return Response(200, EVENT_STREAM_HEADERS, body())
        return others(request)

    run = AdapterRun(cls, app)
    run_ref.append(run)
    run.client.request("GET", "/reset-me")
    second = run.client.request("GET", "/other")
    run.deliver("two GETs; the first one's stream is reset between its two events")
    await run.settle()
    status, _ = complete(run, second, "the other stream, after the first one was reset")
    expect("status on the other stream", 200, status)


async def hidden_streaming(cls: type) -> None:
    run = AdapterRun(cls, streamed([]))
    stream_id = run.client.request("GET", "/progress")
    run.deliver("a GET answered with a streamed body of no chunks")
    await run.settle()
    status, body = complete(run, stream_id, "an empty streamed response")
    expect("status and body of an empty streamed response", (200, b""), (status, body))

    big = [bytes([65 + i]) * 40_000 for i in range(3)]  # 120,000 bytes: more than the window
    run = AdapterRun(cls, streamed(big))
    stream_id = run.client.request("GET", "/big")
    run.deliver("a GET answered with 120,000 streamed bytes")
    for _ in range(5):  # the client hands the window back (WINDOW_UPDATE), the rest follows
        await run.settle()
        run.deliver("the client's WINDOW_UPDATE frames")
    await run.settle()
    _, body = complete(run, stream_id, "120,000 streamed bytes, more than the 65,535 window")
    expect("bytes received of 120,000 streamed", len(b"".join(big)), len(body))


# --------------------------------------------------------------- Exercise 10.2

SIZE = 1000
RANGE_CASES: list[tuple[str, object]] = [
    ("bytes=0-99", (0, 99)),
    ("bytes=100-", (100, 999)),
    ("bytes=-100", (900, 999)),
    ("bytes=900-5000", (900, 999)),
    ("bytes=-5000", (0, 999)),
    ("bytes=1000-", RangeNotSatisfiable),
    ("bytes=5-2", None),
    ("items=0-5", None),
    ("bytes=abc", None),
    ("bytes=0-1,5-6", None),
]
HIDDEN_RANGE_CASES: list[tuple[str, int, object]] = [
    ("Bytes=0-0", SIZE, (0, 0)),
    ("bytes=999-999", SIZE, (999, 999)),
    ("bytes=-0", SIZE, RangeNotSatisfiable),
    ("bytes=0-", 0, RangeNotSatisfiable),
    ("bytes=-", SIZE, None),
    ("bytes=1-2-3", SIZE, None),
    ("bytes=", SIZE, None),
    ("bytes=+1-2", SIZE, None),
    ("bytes=-5", 0, None),
]


def _range_outcome(files: Any, value: str, size: int) -> object:
    try:
        return files.byte_range(value, size)
    except RangeNotSatisfiable:
        return RangeNotSatisfiable
    except NotImplementedError:
        raise CheckFailed("byte_range: not written yet (it raised NotImplementedError)") from None
    except Exception as exc:
        raise CheckFailed(
            f"byte_range({value!r}, {size}) raised {type(exc).__name__}: {exc}; "
            "an invalid Range header is ignored (return None), never an error"
        ) from exc


def _words(outcome: object) -> str:
    if outcome is RangeNotSatisfiable:
        return "raise RangeNotSatisfiable (answer 416)"
    if outcome is None:
        return "None (ignore the header: answer 200 with the whole file)"
    return repr(outcome)


def _range_cases(cls: type, cases: list[tuple[str, int, object]]) -> None:
    files = attempt(f"{cls.__name__}({{}})", lambda: cls({}))
    for value, size, expected in cases:
        got = _range_outcome(files, value, size)
        if got != expected:
            raise CheckFailed(
                f"byte_range({value!r}, size={size}):\n  expected {_words(expected)}\n"
                f"  got      {_words(got)}"
            )


def check_byte_range(cls: type) -> None:
    _range_cases(cls, [(value, SIZE, expected) for value, expected in RANGE_CASES])
    passed("10.2")


def hidden_byte_range(cls: type) -> None:
    _range_cases(cls, HIDDEN_RANGE_CASES)


# --------------------------------------------------------------- Exercise 10.3

CONTENT = bytes(range(256)) * 4  # 1,024 bytes


def _get(path: str, *headers: tuple[str, str], method: str = "GET") -> Stream:
    fields = ((":method", method), (":path", path), (":scheme", "http"), (":authority", "x"))
    return Stream(1, fields + headers)


def _answer(files: Any, request: Stream, what: str) -> Response:
    response = attempt(what, lambda: files(request))
    if not isinstance(response, Response):
        raise CheckFailed(f"{what}: expected a Response, got {response!r}")
    return response


def _field(response: Response, name: str) -> str | None:
    headers = response.headers.items() if isinstance(response.headers, dict) else response.headers
    return next((v for k, v in headers if k == name), None)


def _expect_answer(
    files: Any, request: Stream, what: str, status: int, body: bytes, fields: dict[str, str]
) -> None:
    response = _answer(files, request, what)
    expect(f"{what}: status", status, response.status)
    for name, value in fields.items():
        expect(f"{what}: the {name} header", value, _field(response, name))
    expect(f"{what}: body length", len(body), len(response.body))
    expect(f"{what}: body", body, response.body)


def check_range_answers(cls: type) -> None:
    files = attempt(f"{cls.__name__}(files)", lambda: cls({"/files/data.bin": CONTENT}))
    path = "/files/data.bin"
    _expect_answer(files, _get(path), "GET without Range", 200, CONTENT, {"accept-ranges": "bytes"})
    _expect_answer(
        files,
        _get(path, ("range", "bytes=10-19")),
        "GET with range: bytes=10-19",
        206,
        CONTENT[10:20],
        {"content-range": "bytes 10-19/1024"},
    )
    _expect_answer(
        files,
        _get(path, ("range", "bytes=-24")),
        "GET with range: bytes=-24",
        206,
        CONTENT[-24:],
        {"content-range": "bytes 1000-1023/1024"},
    )
    response = _answer(files, _get(path, ("range", "bytes=2000-")), "GET with range: bytes=2000-")
    expect("GET with range: bytes=2000- (past the end): status", 416, response.status)
    expect(
        "GET with range: bytes=2000-: the content-range header (§14.4: unsatisfied-range)",
        "bytes */1024",
        _field(response, "content-range"),
    )
    _expect_answer(
        files,
        _get(path, ("range", "bytes=5-2")),
        "GET with range: bytes=5-2 (invalid)",
        200,
        CONTENT,
        {},
    )
    response = _answer(files, _get("/files/missing"), "GET /files/missing")
    expect("GET /files/missing: status", 404, response.status)
    passed("10.3")


def hidden_range_answers(cls: type) -> None:
    files = attempt(f"{cls.__name__}(files)", lambda: cls({"/a": b"abc", "/empty": b""}))
    _expect_answer(
        files,
        _get("/a", ("range", "bytes=0-0")),
        "range bytes=0-0 of 3 bytes",
        206,
        b"a",
        {"content-range": "bytes 0-0/3"},
    )
    _expect_answer(
        files,
        _get("/a", ("range", "bytes=1-1"), method="POST"),
        "POST with a Range header (ranges are defined for GET only, §14.2)",
        200,
        b"abc",
        {},
    )
    response = _answer(files, _get("/empty", ("range", "bytes=0-")), "range bytes=0- of 0 bytes")
    expect("range bytes=0- of an empty file: status", 416, response.status)


# --------------------------------------------------------------- Exercise 10.4


async def check_coalescing(cls: type) -> None:
    """Many `_flush_soon` calls in one turn of the loop: one write, at the end of the turn."""
    run = AdapterRun(cls, lambda request: Response(200, [], b"whole"))
    stream_id = run.client.request("GET", "/")
    run.deliver("a GET")  # answered through data_received's own _flush
    h2 = run.connection.protocol.http2_connection
    before = run.writes()
    for i in range(5):
        h2.ping(b"%08d" % i)  # something to write: a PING frame
        attempt("_flush_soon()", run.connection._flush_soon)
    expect(
        "writes made by five _flush_soon() calls, before the loop runs",
        0,
        run.writes() - before,
    )
    await run.settle()
    expect("writes made once the loop ran (one, for all five)", 1, run.writes() - before)
    h2.ping(b"87654321")
    attempt("_flush_soon() after that write", run.connection._flush_soon)
    await run.settle()
    expect(
        "writes after one more _flush_soon() and a turn of the loop (it must write again)",
        2,
        run.writes() - before,
    )
    complete(run, stream_id, "the GET")
    await _many_streams(cls)
    passed("10.4")


async def _many_streams(cls: type) -> None:
    chunks = [b"data: %d\n\n" % i for i in range(4)]
    run = AdapterRun(cls, streamed(chunks))
    ids = [run.client.request("GET", f"/progress/{i}") for i in range(10)]
    run.deliver("ten GETs, each answered with four streamed events")
    before = run.writes()
    await run.settle()
    for stream_id in ids:
        _, body = complete(run, stream_id, "ten streams of four events")
        expect(f"body on stream {stream_id}", b"".join(chunks), body)
    writes = run.writes() - before
    if writes > 6:
        raise CheckFailed(
            f"ten streams produced their 4 events in the same turns of the loop: expected "
            f"one write per turn (about 5), got {writes} writes"
        )


async def hidden_coalescing(cls: type) -> None:
    run = AdapterRun(cls, lambda request: Response(200, [], b"whole"))
    run.connection.protocol.http2_connection.ping(b"12345678")
    attempt("_flush_soon()", run.connection._flush_soon)
    attempt(
        "connection_lost(None) before the flush ran", lambda: run.connection.connection_lost(None)
    )
    await run.settle()  # the scheduled flush runs on a lost connection: it must not fail
