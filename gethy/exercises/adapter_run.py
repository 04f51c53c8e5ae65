"""Driving a learner's streaming adapter in memory, for the checks of notebook 10.

Built for notebook 10 (capstone): `AdapterRun` is one connection of the
learner's class on a `FakeTransport`, with h2's client (`ScriptedClient`) on
the other side, and a loop that runs the streaming tasks until they are done
(bounded), catching what asyncio would report. `gethy.exercises.ch10` uses it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

from gethy.app import Request, Response
from gethy.capstone import EVENT_STREAM_HEADERS
from gethy.exercises import CheckFailed, attempt
from gethy.fake_transport import FakeTransport, ScriptedClient

__all__ = ["TICKS", "AdapterRun", "complete", "last_frame", "streamed"]

#: How many times a check lets the event loop run before it gives up waiting.
TICKS = 200


class AdapterRun:
    """One connection of the learner's class, a client, and what asyncio would have reported."""

    def __init__(self, cls: type, app: Callable[[Request], Response]) -> None:
        self.connection = attempt(f"{cls.__name__}(app)", lambda: cls(app))
        self.transport = FakeTransport()
        self.client = ScriptedClient()
        self.problems: list[BaseException] = []
        self.taken = b""
        attempt(
            "connection_made(transport)", lambda: self.connection.connection_made(self.transport)
        )

    def deliver(self, what: str) -> None:
        attempt(f"data_received({what})", lambda: self.connection.data_received(self.client.send()))

    def written(self) -> bytes:
        """Every byte written so far, read by the client or not."""
        return self.taken + b"".join(self.transport.writes)

    def writes(self) -> int:
        """How many times `transport.write` was called so far."""
        return self.transport.calls.count("write")

    async def settle(self) -> None:
        """Let the loop run until no body is streaming any more (bounded), then read it all."""
        loop = asyncio.get_running_loop()
        previous = loop.get_exception_handler()
        loop.set_exception_handler(lambda _loop, context: self._report(context))
        try:
            for _ in range(TICKS):
                await asyncio.sleep(0)
                if not getattr(self.connection, "streaming", None):
                    break
            await asyncio.sleep(0)  # a flush scheduled by the last chunk runs now
        finally:
            loop.set_exception_handler(previous)
        data = self.transport.take()
        self.taken += data
        self.client.receive(data)
        for problem in self.problems:
            if isinstance(problem, NotImplementedError):
                raise CheckFailed("not written yet (it raised NotImplementedError)")
            raise CheckFailed(
                f"while the event loop ran your code (a streaming task or a scheduled "
                f"flush), it raised {type(problem).__name__}: {problem}"
            )

    def _report(self, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if exc is not None:
            self.problems.append(exc)


def streamed(
    chunks: list[bytes], trailers: list[tuple[str, str]] | None = None
) -> Callable[[Request], Response]:
    async def body() -> AsyncIterator[bytes]:
        for chunk in chunks:
            await asyncio.sleep(0)
            yield chunk

    def app(request: Request) -> Response:
        return Response(200, EVENT_STREAM_HEADERS, body(), trailers=trailers)

    return app


def complete(run: AdapterRun, stream_id: int, what: str) -> tuple[int | None, bytes]:
    response = run.client.responses[stream_id]
    if not response.ended:
        got = "nothing" if response.status is None else f"{len(response.body)} bytes, no end"
        raise CheckFailed(
            f"{what}: the client expected the whole response on stream {stream_id} "
            f"(HEADERS, DATA, END_STREAM), got {got}"
        )
    return response.status, bytes(response.body)


def last_frame(run: AdapterRun, stream_id: int) -> str:
    frames = [f for f in run.client.frames if getattr(f, "stream_id", 0) == stream_id]
    last = frames[-1]
    return f"{last.type} {'+'.join(last.flags) or 'no flags'}"
