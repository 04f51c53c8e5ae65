"""The whole server without sockets: gethy's asyncio adapter against the bare one, in CPU time.

h2load's requests/s on a 2-core machine move with everything else the machine
does; this measures the same thing without the noise. The server side of
each benchmarked server is its ``asyncio.Protocol``: `gethy.server.ServerConnection`
with gethy's default application, and `benchmarks.bare_h2.BareH2Protocol`
with the same answers. Both are fed the same recorded client bytes (see
`benchmarks.micro`, recorded here with the real answers so the client's
WINDOW_UPDATEs fit them, RFC 9113 §6.9) through a transport that only counts
what is written. What is left out is only the kernel's part: syscalls and
copies on loopback, alike for both.

The outputs must carry the same bytes on every stream (checked before timing).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from benchmarks.answers import answer
from benchmarks.bare_h2 import BareH2Protocol
from benchmarks.micro import (
    MicroCase,
    frame_summary,
    ratios,
    record_client_bytes,
    time_alternately,
)
from benchmarks.workloads import KIB


class NullTransport(asyncio.Transport):
    """A transport that keeps what is written and never pushes back."""

    def __init__(self) -> None:
        super().__init__()
        self.written: list[bytes] = []
        self.closing = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written.append(bytes(data))

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 40000), "sockname": ("127.0.0.1", 8000)}.get(
            name, default
        )

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    def abort(self) -> None:
        self.closing = True

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        pass

    def get_write_buffer_size(self) -> int:
        return 0

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        self.closing = True


async def _feed(make: Callable[[], asyncio.Protocol], chunks: list[bytes]) -> list[bytes]:
    protocol = make()
    transport = NullTransport()
    protocol.connection_made(transport)
    for chunk in chunks:
        protocol.data_received(chunk)  # type: ignore[attr-defined]
    for _ in range(3):
        await asyncio.sleep(0)  # let callbacks the adapter scheduled (flushes) run
    return transport.written


def _gethy_connection() -> asyncio.Protocol:
    from gethy.server import ServerConnection

    return ServerConnection(idle_timeout=None)


def run_inprocess(
    requests: int = 2000, repeats: int = 9, progress: Callable[[str], None] | None = None
) -> dict[str, Any]:
    """Time gethy's ServerConnection and BareH2Protocol on the same bytes."""
    cases = [
        MicroCase("small-get", "GET", "/echo", 0, requests),
        MicroCase("post-100k", "POST", "/echo", 100 * KIB, max(10, requests // 20)),
    ]
    results = []
    loop = asyncio.new_event_loop()
    try:
        for case in cases:
            if progress:
                progress(f"in-process servers {case.name}: {case.requests} requests x {repeats}")
            chunks = record_client_bytes(case, answer)
            gethy_out = frame_summary(loop.run_until_complete(_feed(_gethy_connection, chunks)))
            bare_out = frame_summary(loop.run_until_complete(_feed(BareH2Protocol, chunks)))
            same = {k: v[1:] for k, v in gethy_out.items()} == {
                k: v[1:] for k, v in bare_out.items()
            }
            if not same:
                raise AssertionError(
                    f"in-process {case.name}: gethy and bare h2 wrote different bytes"
                )
            gethy_times, bare_times = time_alternately(
                lambda c=chunks: loop.run_until_complete(_feed(_gethy_connection, c)),
                lambda c=chunks: loop.run_until_complete(_feed(BareH2Protocol, c)),
                repeats,
            )
            results.append(
                {
                    "case": case.name,
                    "requests": case.requests,
                    "concurrency": case.concurrency,
                    "client_chunks": len(chunks),
                }
                | ratios(case, gethy_times, bare_times)
            )
    finally:
        loop.close()
    return {"cases": results}
