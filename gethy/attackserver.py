"""One attack against gethy's real server, over loopback: its GOAWAY and its log line.

Built in notebook 08 (errors and attacks), to compare the learner's class
with the finished server (`gethy.server`) under the same bytes. The server
logs one line when a connection ends (`gethy.logline`), at INFO on the
``gethy.server`` logger; this catches it. Loopback only, one connection,
bounded in time.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from gethy.frames import FrameReader
from gethy.server import serve

__all__ = ["ServerAnswer", "attack_server"]


@dataclass(frozen=True)
class ServerAnswer:
    """What the attacker read, and what the server logged about the connection."""

    frames: tuple[str, ...]  # the frame types the attacker read, in order
    goaway: str | None  # the error code of the server's GOAWAY, if it sent one
    log_line: str | None  # the server's line for this connection

    @property
    def reason(self) -> str | None:
        """The log line's reason: what follows the numbers (they vary from run to run)."""
        return self.log_line.split("; ", 1)[1] if self.log_line else None


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


async def attack_server(data: bytes, *, seconds: float = 5.0) -> ServerAnswer:
    """Start gethy's server on 127.0.0.1, send `data` at once, read until it closes."""
    logger = logging.getLogger("gethy.server")
    lines, level = _Lines(), logger.level
    logger.addHandler(lines)
    logger.setLevel(logging.INFO)
    try:
        server = await serve(host="127.0.0.1", port=0)
        try:
            frames = await _send_and_read(server.port, data, seconds)
        finally:
            await server.close()
    finally:
        logger.removeHandler(lines)
        logger.setLevel(level)
    goaways = [f for f in frames if f.type == "GOAWAY"]
    goaway = goaways[0].error_name if goaways else None
    line = next((line for line in lines.lines if " request(s), " in line), None)
    return ServerAnswer(tuple(f.type for f in frames), goaway, line)


async def _send_and_read(port: int, data: bytes, seconds: float) -> list:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    frames, decoder = [], FrameReader()
    try:
        writer.write(data)
        async with asyncio.timeout(seconds):
            while chunk := await reader.read(65_536):
                frames += decoder.feed(chunk)
    except (TimeoutError, ConnectionError):
        pass  # the server cut the connection, or we stop waiting
    finally:
        writer.close()
    return frames
