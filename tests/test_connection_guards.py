"""The guards as a `ServerConnection` applies them: fed through a fake transport, on a real loop.

What an attacker tried with raw sockets, replayed without sockets: deadlines
that bytes cannot push back, buffers released when the client goes, slices
that let other connections run. Timeouts are short and every wait is bounded.
"""

from __future__ import annotations

import asyncio
from typing import Any

import h2.events
import hpack
import pytest
from test_connection import Client, FakeTransport, run

from gethy.app import Response
from gethy.connection import ServerConnection
from gethy.frames import CONNECTION_PREFACE, encode_frame
from gethy.phase import Phase


def ok(request: Any) -> Response:
    return Response(200, (), b"ok")


def start(
    app: Any = ok, checks: list[float] | None = None, **options: Any
) -> tuple[ServerConnection, FakeTransport]:
    """A connection on a fake transport; `checks` collects the loop time of each idle check."""
    options.setdefault("idle_timeout", None)
    connection = ServerConnection(app, **options)
    if checks is not None:
        check = connection._check_idle

        def counted() -> None:
            checks.append(connection._loop.time())
            check()

        connection._check_idle = counted  # type: ignore[method-assign]
    transport = FakeTransport()
    connection.connection_made(transport)
    return connection, transport


async def until(condition: Any, timeout: float = 3.0) -> float:
    """Wait (bounded) until `condition()`; return the loop time it took."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    while not condition():
        assert loop.time() - started < timeout, "the condition never came true"
        await asyncio.sleep(0.01)
    return loop.time() - started


def request_block(method: str = "POST", path: str = "/") -> bytes:
    headers = [(":method", method), (":scheme", "http"), (":path", path), (":authority", "x")]
    return hpack.Encoder().encode(headers)


def handshake() -> bytes:
    return CONNECTION_PREFACE + encode_frame("SETTINGS", 0, 0, b"")


# ------------------------------------------------------- item 1: the stall clock


def test_an_unfinished_upload_is_cut_one_timeout_after_its_last_progress() -> None:
    """It was cut after about twice the timeout, and the timer re-armed every 10 ms."""

    async def main() -> None:
        checks: list[float] = []
        connection, transport = start(checks=checks, idle_timeout=0.2)
        connection.data_received(handshake() + encode_frame("HEADERS", 0x4, 1, request_block()))
        await asyncio.sleep(0.05)
        connection.data_received(encode_frame("DATA", 0, 1, b"x" * 100))  # the last progress
        took = await until(lambda: connection.phase.shut)
        assert connection.close_reason == "no stream moved for 0.2 s, 1 stream(s) unfinished"
        assert took == pytest.approx(0.2, abs=0.06)  # not 0.35: the clock starts at the progress
        assert len(checks) <= 3, f"{len(checks)} idle checks for one deadline"

    run(main())


def test_silent_connections_cost_no_timer_wakeups_between_deadlines() -> None:
    async def main() -> None:
        connections = []
        for _ in range(20):
            checks: list[float] = []
            connection, _ = start(checks=checks, idle_timeout=0.3)
            connection.data_received(handshake() + encode_frame("HEADERS", 0x4, 1, request_block()))
            connections.append((connection, checks))
        await until(lambda: all(c.phase.shut for c, _ in connections))
        wakeups = sum(len(checks) for _, checks in connections)
        assert wakeups <= 2 * len(connections)

    run(main())


# ------------------------------------------------ item 3: deadlines bytes cannot move


def test_a_preface_sent_byte_by_byte_meets_its_deadline() -> None:
    async def main() -> None:
        connection, transport = start(idle_timeout=0.3)
        for byte in CONNECTION_PREFACE:  # 24 bytes, one every 30 ms: 0.72 s in all
            if connection.phase.shut:
                break
            connection.data_received(bytes([byte]))
            await asyncio.sleep(0.03)
        assert connection.phase is Phase.CLOSING
        assert connection.close_reason == "no HTTP/2 preface within 0.3 s"

    run(main())


def test_a_header_block_sent_one_continuation_byte_at_a_time_meets_its_deadline() -> None:
    """h2 reports no request until END_HEADERS (RFC 9113 §6.10): no progress, no reprieve."""

    async def main() -> None:
        connection, transport = start(idle_timeout=0.3)
        connection.data_received(handshake() + encode_frame("SETTINGS", 0x1, 0, b""))
        block = request_block("GET")
        connection.data_received(encode_frame("HEADERS", 0x1, 1, block[:1]))
        loop = connection._loop
        began = loop.time()
        for byte in block[1:] * 10:  # bounded: at most ~0.3 s per 10 bytes
            if connection.phase.shut or loop.time() - began > 2:
                break
            connection.data_received(encode_frame("CONTINUATION", 0, 1, bytes([byte])))
            await asyncio.sleep(0.03)
        assert connection.phase.shut
        assert loop.time() - began < 0.6
        assert connection.close_reason == "idle for 0.3 s"

    run(main())


def test_pings_do_not_keep_an_idle_connection_open() -> None:
    async def main() -> None:
        connection, transport = start(idle_timeout=0.3)
        client = Client(connection, transport)
        client.send()
        client.receive()
        loop = connection._loop
        began = loop.time()
        while not connection.phase.shut and loop.time() - began < 2:
            client.h2.ping(b"12345678")
            client.send()
            await asyncio.sleep(0.03)
        assert loop.time() - began < 0.6
        assert connection.close_reason == "idle for 0.3 s"
        assert any(isinstance(e, h2.events.ConnectionTerminated) for e in client.receive())

    run(main())
