"""hypercorn, the production-grade comparison: an ASGI app answering like gethy's default app.

hypercorn (from PyPI, the ``bench`` extra) is itself built on h2, with an ASGI
layer and a task per request on top. It is started through its module API
with a `Config` tuned so that it measures its steady state, not its limits:

* ``h2_max_concurrent_streams = 100``, as gethy and the bare server advertise
  (SETTINGS_MAX_CONCURRENT_STREAMS, RFC 9113 §6.5.2);
* ``keep_alive_max_requests`` raised from 1,000: otherwise hypercorn sends
  GOAWAY (RFC 9113 §6.8) after 1,000 requests on a connection, and h2load,
  which uses one connection for the whole run, would count failures;
* ``keep_alive_timeout`` and ``max_app_queue_size`` raised, the ``server``
  and ``date`` headers off, no access log: the same bytes on the wire as
  the other two servers, and no logging cost they do not pay.

Run it alone with ``python -m benchmarks.hypercorn_app --port 8000``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from benchmarks.answers import answer

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """The ASGI application: gather the body, answer with `benchmarks.answers.answer`."""
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    if scope["type"] != "http":
        return
    body = await _request_body(receive)
    if body is None:
        return
    path, headers = _request_headers(scope)
    status, response_headers, data = answer(scope["method"], path, headers, body)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(k.encode(), v.encode()) for k, v in response_headers],
        }
    )
    await send({"type": "http.response.body", "body": data})


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


def _request_headers(scope: Scope) -> tuple[str, list[tuple[str, str]]]:
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
    rest: list[tuple[str, str]] = []
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
    """hypercorn's Config for the benchmark (see the module docstring for why)."""
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


def main(argv: list[str] | None = None) -> None:
    from hypercorn.asyncio import serve

    parser = argparse.ArgumentParser(description="hypercorn serving the benchmark's ASGI app")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C when run by hand: exit quietly
        asyncio.run(serve(app, make_config(args.host, args.port)))  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
