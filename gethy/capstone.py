"""The capstone application's given pieces: server-sent events and a range error.

Built in notebook 10 (capstone), where the learner's server streams progress
as server-sent events and serves files by byte range. The learner writes the
streaming adapter, the range parser and the answers; these are the small
pieces the notebook gives.

Server-sent events (the HTML standard, "Server-sent events", §9.2) are a
response of type ``text/event-stream`` that never declares its length: the
server sends each event when it happens, and a browser's ``EventSource``
hands each one to the page as it arrives. An event is a few ``field: value``
lines ending with a blank line::

    event: progress
    id: 3
    data: {"step": 3, "of": 10}

Over HTTP/1.1 every open event stream holds a whole connection (and browsers
allow about six per site); over HTTP/2 each is one stream of the one
connection (RFC 9113 §5), with its own flow control.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

__all__ = ["EVENT_STREAM_HEADERS", "RangeNotSatisfiable", "progress", "sse_event"]

#: The response headers of an event stream: its media type, and no caching of it.
EVENT_STREAM_HEADERS = (("content-type", "text/event-stream"), ("cache-control", "no-cache"))


def sse_event(data: str, *, event: str | None = None, event_id: str | None = None) -> bytes:
    """One event in the ``text/event-stream`` format, ending with its blank line.

    Each line of `data` becomes its own ``data:`` line (the client joins them
    with newlines again); ``event:`` names the event type, ``id:`` lets a
    reconnecting client say where it stopped (``Last-Event-ID``).

    >>> sse_event("50%", event="progress", event_id="5")
    b'event: progress\\nid: 5\\ndata: 50%\\n\\n'
    """
    lines = [] if event is None else [f"event: {event}"]
    if event_id is not None:
        lines.append(f"id: {event_id}")
    lines += [f"data: {line}" for line in data.split("\n")]
    return ("\n".join(lines) + "\n\n").encode("utf-8")


async def progress(steps: int, pause: float = 0.0) -> AsyncIterator[bytes]:
    """`steps` progress events, one every `pause` seconds: a job reporting as it goes.

    With ``pause=0`` the job still gives the event loop a turn between events
    (``await asyncio.sleep(0)``), as a real job waiting for its work would.
    """
    for step in range(1, steps + 1):
        await asyncio.sleep(pause)
        data = json.dumps({"step": step, "of": steps})
        yield sse_event(data, event="progress", event_id=str(step))


class RangeNotSatisfiable(Exception):  # noqa: N818 (named as RFC 9110 §15.5.17 names the status)
    """No range of a valid Range header overlaps the representation: answer 416."""
