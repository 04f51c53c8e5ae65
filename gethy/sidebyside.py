"""Three HTTP/2 servers side by side on loopback, measured with h2load.

Used in notebook 10 (capstone): the learner's asyncio server (notebook 07's
adapter around their protocol class), gethy's server and hypercorn, each
answering ``GET /`` with gethy's default application, all three on the
notebook's own event loop while h2load, a C program in a child process,
loads them over one connection with 1, 10 and 100 streams at a time
(RFC 9113 §5.1.2: the client keeps at most that many streams open).

Every run is bounded (a request count, and a timeout on top) and every server
listens on 127.0.0.1 only, on a port the OS picks, and is closed when its
block ends. Where h2load is not installed (``apt-get install nghttp2-client``)
or hypercorn is not, `measure_side_by_side` falls back to the committed
figures in ``gethy/data/capstone-figures.json`` (measured by
``python -m gethy.sidebyside``), so a notebook prints the same lines on every
machine; `Figures.measured_here` says which.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import socket
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from gethy.h2load import LoadResult, h2load_async, h2load_path

__all__ = [
    "COMMITTED",
    "CONCURRENCIES",
    "Figures",
    "Point",
    "gethy_server",
    "hypercorn_server",
    "learner_server",
    "measure_side_by_side",
]

#: Streams at a time, over one connection.
CONCURRENCIES = (1, 10, 100)
#: Requests per h2load run, by streams at a time: few enough for a notebook (runs of
#: 40-150 ms), so a rate varies by 20% or more between runs; the notebook says so.
#: A count (-n), not a duration (-D): at the end of a duration h2load sends GOAWAY
#: with streams still open, and a streamed answer would then fail in h2 (no frame
#: may follow the peer's GOAWAY in h2's model).
REQUESTS = {1: 200, 10: 600, 100: 1000}
#: The committed figures, for machines without h2load or hypercorn.
COMMITTED = Path(__file__).parent / "data" / "capstone-figures.json"
HOST = "127.0.0.1"


@dataclass(frozen=True)
class Point:
    """One h2load run: a server at one concurrency."""

    server: str
    streams: int
    requests_per_s: float
    latency_mean_ms: float


@dataclass
class Figures:
    """Every run's point, and whether they were measured on this machine."""

    points: list[Point] = field(default_factory=list)
    measured_here: bool = True

    def of(self, server: str) -> list[Point]:
        return [p for p in self.points if p.server == server]

    def servers(self) -> list[str]:
        return list(dict.fromkeys(p.server for p in self.points))

    def to_json(self) -> list[dict[str, object]]:
        return [vars(p) for p in self.points]

    @classmethod
    def committed(cls, section: str) -> Figures:
        """The figures of `section` ("side_by_side" or "variants") from the committed file."""
        rows = json.loads(COMMITTED.read_text(encoding="utf-8"))[section]
        return cls([Point(**row) for row in rows], measured_here=False)


def hypercorn_installed() -> bool:
    return importlib.util.find_spec("hypercorn") is not None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def learner_server(factory: Callable[[], asyncio.Protocol]) -> AsyncIterator[str]:
    """The learner's adapter (one instance per connection) listening; yields the URL."""
    from gethy.serving import serving

    async with serving(factory) as served:
        yield served.url


@asynccontextmanager
async def gethy_server() -> AsyncIterator[str]:
    """gethy's own server with its default application; yields the URL."""
    from gethy.server import serve

    server = await serve(port=0, host=HOST)
    try:
        yield server.url
    finally:
        await server.close(grace_period=1.0)


@asynccontextmanager
async def hypercorn_server() -> AsyncIterator[str]:
    """hypercorn serving gethy's default application over ASGI; yields the URL."""
    from hypercorn.asyncio import serve

    from gethy.asgi_side import asgi_app, gethy_answer, make_config

    port = _free_port()
    stop = asyncio.Event()
    task = asyncio.ensure_future(
        serve(asgi_app(gethy_answer), make_config(HOST, port), shutdown_trigger=stop.wait)
    )
    try:
        await _until_listening(port, task)
        yield f"http://{HOST}:{port}/"
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=5)


async def _until_listening(port: int, task: asyncio.Future[None], timeout: float = 5.0) -> None:
    """Wait (bounded) until `port` accepts a connection; fail if the server task ended."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if task.done():
            task.result()  # raises what the server raised
            raise RuntimeError("the server stopped before it listened")
        with contextlib.suppress(OSError):
            _, writer = await asyncio.open_connection(HOST, port)
            writer.close()
            await writer.wait_closed()
            return
        await asyncio.sleep(0.02)
    raise TimeoutError(f"nothing listened on port {port} within {timeout:.0f} s")


async def measure(url: str, server: str, streams: int, requests: int | None = None) -> Point:
    """One bounded h2load run against `url`; a failed run raises, saying why."""
    count = requests if requests is not None else REQUESTS.get(streams, 1000)
    result: LoadResult = await h2load_async(url, streams=streams, requests=count)
    if not result.ok:
        raise RuntimeError(f"h2load against {server} with {streams} streams: {result.error}")
    return Point(
        server, streams, round(result.requests_per_s, 1), round(result.latency_mean_s * 1000, 3)
    )


async def measure_side_by_side(
    learner_factory: Callable[[], asyncio.Protocol],
    concurrencies: Sequence[int] = CONCURRENCIES,
) -> Figures:
    """Each server at each concurrency; committed figures where a tool is missing."""
    committed = Figures.committed("side_by_side")
    if h2load_path() is None:
        return committed
    figures = Figures()
    servers = {"yours": lambda: learner_server(learner_factory), "gethy": gethy_server}
    if hypercorn_installed():
        servers["hypercorn"] = hypercorn_server
    for name, start in servers.items():
        async with start() as url:
            for streams in concurrencies:
                figures.points.append(await measure(url, name, streams))
    if not hypercorn_installed():
        figures.points += committed.of("hypercorn")
        figures.measured_here = False
    return figures


async def measure_variants(
    variants: dict[str, Callable[[], asyncio.Protocol]],
    path: str,
    streams: int = 100,
    requests: int = 500,
) -> Figures:
    """Versions of the learner's adapter under the same load (before and after a change)."""
    if h2load_path() is None:
        return Figures.committed("variants")
    figures = Figures()
    for name, factory in variants.items():
        async with learner_server(factory) as url:
            point = await measure(url + path.lstrip("/"), name, streams, requests)
            figures.points.append(point)
    return figures


def _record() -> None:
    """Measure here and write the committed figures (run on an idle machine)."""
    from gethy.app import default_app
    from gethy.notebook07 import MyServerConnection
    from gethy.notebook10 import CoalescingConnection, StreamingConnection, capstone_app

    async def both() -> tuple[Figures, Figures]:
        side = await measure_side_by_side(lambda: MyServerConnection(default_app))
        variants = await measure_variants(
            {
                "flush per chunk": lambda: StreamingConnection(capstone_app),
                "coalesced": lambda: CoalescingConnection(capstone_app),
            },
            "/progress?steps=10",
        )
        return side, variants

    side, variants = asyncio.run(both())
    if not (side.measured_here and variants.measured_here):
        raise SystemExit("h2load and hypercorn are needed to record figures")
    document = {"side_by_side": side.to_json(), "variants": variants.to_json()}
    COMMITTED.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    for point in side.points + variants.points:
        print(point)


if __name__ == "__main__":
    _record()
