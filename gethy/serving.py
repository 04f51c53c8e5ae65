"""Serve an `asyncio.Protocol` on loopback for one notebook cell, and hear what went wrong.

Built in notebook 07 (asyncio server), where the learner's adapter first
meets real clients (httpx, curl, nghttp) on 127.0.0.1.

An exception raised inside a protocol's callback (``connection_made``,
``data_received``, ...) never reaches the code that started the server:
asyncio catches it, hands it to the loop's *exception handler* (which logs
"Fatal error: protocol.data_received() call failed." with a traceback) and
closes that connection. `serving` installs its own handler for the duration
of the block, so a notebook cell can print what asyncio reported (the seed
article's crash) or, when nothing was expected to go wrong, fail with the
adapter's own exception instead of a client's "server disconnected".

`fetch_with` runs curl or nghttp against the server when they are installed
and falls back to httpx otherwise, printing the same summary either way, so a
notebook's output does not depend on the machine's tools.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import ssl
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Served", "fetch_with", "serving"]

#: Seconds a tool (or the httpx fallback) may take before the cell gives up.
TOOL_TIMEOUT = 5.0


@dataclass
class Served:
    """A server started by `serving`: where it listens, its connections, what asyncio reported."""

    host: str
    port: int
    tls: bool
    connections: list[asyncio.Protocol] = field(default_factory=list)
    #: The contexts asyncio handed to the loop's exception handler, in order.
    problems: list[dict[str, Any]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}/"

    def reported(self) -> list[str]:
        """What asyncio reported, one line each: its message, then the exception's type and text."""
        lines = []
        for context in self.problems:
            exc = context.get("exception")
            what = f"{type(exc).__name__}: {exc}" if exc is not None else "no exception"
            lines.append(f"{context.get('message', '?')} [{what}]")
        return lines

    def first_exception(self) -> BaseException | None:
        for context in self.problems:
            if context.get("exception") is not None:
                return context["exception"]
        return None


@asynccontextmanager
async def serving(
    protocol_factory: Callable[[], asyncio.Protocol],
    *,
    ssl_context: ssl.SSLContext | None = None,
    host: str = "127.0.0.1",
    problems_expected: bool = False,
) -> AsyncIterator[Served]:
    """Listen on `host`, a free port, for the block; then stop listening.

    Unless `problems_expected`, an exception that a protocol callback raised
    is raised again when the block ends (even if the block failed first,
    typically with a client's "server disconnected"): a notebook cell then
    fails with the adapter's own error, NotImplementedError in a blank copy.
    """
    loop = asyncio.get_running_loop()
    served = Served(host, 0, ssl_context is not None)

    def factory() -> asyncio.Protocol:
        protocol = protocol_factory()
        served.connections.append(protocol)
        return protocol

    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: served.problems.append(context))
    server = await loop.create_server(factory, host, 0, ssl=ssl_context)
    served.port = server.sockets[0].getsockname()[1]
    try:
        try:
            yield served
        except Exception as exc:
            adapter_error = served.first_exception()
            if adapter_error is not None and not problems_expected:
                raise adapter_error from exc
            raise
        await asyncio.sleep(0)  # callbacks already scheduled (a last data_received) run now
    finally:
        server.close()
        await server.wait_closed()
        loop.set_exception_handler(previous)
    adapter_error = served.first_exception()
    if adapter_error is not None and not problems_expected:
        raise adapter_error


async def fetch_with(tool: str, url: str, *, cafile: str | None = None) -> str:
    """GET `url` with ``curl`` or ``nghttp`` (httpx if the tool is missing): a one-line summary.

    The summary is the same whichever program made the request: the HTTP
    version, the status and the body.
    """
    if shutil.which(tool) is None:
        return await _fetch_with_httpx(tool, url, cafile=cafile)
    if tool == "curl":
        argv = ["curl", "-sS", "-w", "\n%{http_version} %{response_code}"]
        argv += ["--cacert", cafile, "--http2"] if cafile else ["--http2-prior-knowledge"]
    elif tool == "nghttp":
        argv = ["nghttp", "-v"]  # nghttp does not verify certificates: nothing to pass
    else:
        raise ValueError(f"fetch_with knows curl and nghttp, not {tool!r}")
    process = await asyncio.create_subprocess_exec(
        *argv,
        url,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), TOOL_TIMEOUT)
    text = out.decode("utf-8", "replace")
    if process.returncode != 0:
        return f"{tool}: failed ({process.returncode}): {err.decode('utf-8', 'replace').strip()}"
    if tool == "curl":
        body, _, tail = text.rpartition("\n")
        version, status = tail.split()
        return _summary(tool, version, int(status), body.encode())
    return _summary(tool, "2", *_nghttp_status_and_body(text))


def _nghttp_status_and_body(verbose: str) -> tuple[int, bytes]:
    """``nghttp -v`` output: the response's ``:status`` and the body lines between the frames."""
    match = re.search(r"recv \(stream_id=\d+\) :status: (\d+)", verbose)
    status = int(match.group(1)) if match else 0
    body = [
        line
        for line in verbose.splitlines(keepends=True)
        if line[:1] not in ("[", " ", "") and not line.startswith("The negotiated protocol:")
    ]
    return status, "".join(body).encode()


async def _fetch_with_httpx(tool: str, url: str, *, cafile: str | None) -> str:
    import httpx

    verify: ssl.SSLContext | bool = True
    if cafile is not None:
        verify = ssl.create_default_context(cafile=cafile)
    async with httpx.AsyncClient(
        http1=False, http2=True, verify=verify, timeout=TOOL_TIMEOUT
    ) as client:
        response = await client.get(url)
    return _summary(
        tool, response.http_version.removeprefix("HTTP/"), response.status_code, response.content
    )


def _summary(tool: str, version: str, status: int, body: bytes) -> str:
    return f"{tool}: HTTP/{version} {status}, body {body!r}"
