"""hypercorn beside gethy: an ASGI application that answers like a gethy handler.

Used in notebook 10 (capstone), where hypercorn (a production server, itself
built on h2, with an ASGI layer and a task per request on top) is measured
beside the learner's server and gethy's; ``python -m benchmarks`` runs the
same glue in `benchmarks.hypercorn_app`.

`asgi_app(answer)` wraps an ``answer(method, path, headers, body)`` function
returning ``(status, headers, body)``; `gethy_answer` is gethy's default
application in that shape, so all three servers send the same bytes.
`make_config` tunes hypercorn to measure its steady state, not its limits:

* ``h2_max_concurrent_streams = 100``, as gethy advertises
  (SETTINGS_MAX_CONCURRENT_STREAMS, RFC 9113 §6.5.2);
* ``keep_alive_max_requests`` raised from 1,000: otherwise hypercorn sends
  GOAWAY (RFC 9113 §6.8) after 1,000 requests on a connection, and h2load,
  which uses one connection for the whole run, would count failures;
* ``keep_alive_timeout`` and ``max_app_queue_size`` raised, the ``server``
  and ``date`` headers off, no access log: the same bytes on the wire as
  gethy, and no logging cost it does not pay.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from gethy.app import default_app
from gethy.core import with_content_length
from gethy.stream import Stream

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Fields = list[tuple[str, str]]
Answer = Callable[[str, str, Fields, bytes], tuple[int, Fields, bytes]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def asgi_app(answer: Answer) -> ASGIApp:
    """The ASGI application: gather the body, answer with `answer`."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        body = await _request_body(receive)
        if body is None:
            return
        path, headers = request_headers(scope)
        status, response_headers, data = answer(scope["method"], path, headers, body)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(k.encode(), v.encode()) for k, v in response_headers],
            }
        )
        await send({"type": "http.response.body", "body": data})

    return app


def gethy_answer(method: str, path: str, headers: Fields, body: bytes) -> tuple[int, Fields, bytes]:
    """`gethy.app.default_app`'s answer, with the content-length gethy's `send` adds."""
    response = default_app(Stream(1, tuple(headers), body))
    assert isinstance(response.body, bytes), "only whole bodies here (no /bytes/N)"
    fields = with_content_length(response.status, list(response.headers), response.body)
    return response.status, list(fields), response.body


async def _lifespan(receive: Receive, send: Send) -> None:
    """Acknowledge startup and shutdown: there is nothing to set up or tear down."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _request_body(receive: Receive) -> bytes | None:
    """The whole request body, or None if the client went away before its end."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def request_headers(scope: Scope) -> tuple[str, Fields]:
    """The path and header list as gethy sees them.

    ASGI gives the pseudo-headers as scope fields: rebuild them, in front.
    """
    path = scope["raw_path"].decode("latin-1")
    if scope.get("query_string"):
        path += "?" + scope["query_string"].decode("latin-1")
    headers = [
        (":method", scope["method"]),
        (":path", path),
        (":scheme", scope["scheme"]),
    ]
    authority = None
    rest: Fields = []
    for name, value in scope["headers"]:
        key, text = name.decode("latin-1"), value.decode("utf-8", "replace")
        if key == "host" and authority is None:
            authority = text  # hypercorn turns :authority into a host header
        else:
            rest.append((key, text))
    if authority is not None:
        headers.append((":authority", authority))
    headers.extend(rest)
    return path, headers


def make_config(host: str, port: int) -> Any:
    """hypercorn's Config for a measurement (see the module docstring for why)."""
    from hypercorn.config import Config

    config = Config()
    config.bind = [f"{host}:{port}"]
    config.h2_max_concurrent_streams = 100
    config.keep_alive_max_requests = 1_000_000_000
    config.keep_alive_timeout = 600
    config.max_app_queue_size = 100
    config.include_server_header = False
    config.include_date_header = False
    config.accesslog = None
    config.errorlog = "-"
    config.loglevel = "WARNING"
    return config
